"""Roles: grant only what you hold, never edit your own role, parent codes kept with their children."""
import pytest
from sqlalchemy import select

from models import Session
from models.accounts import Role
from workflows import accounts, permissions, roles
from workflows.errors import InvalidInput, NotAuthorized


def test_parent_codes_are_added_to_children(users):
    role = roles.create_role(users("jahosp001"), name="人事科", permission_codes=["hr.staff.edit"])
    assert role.permission_codes == {"hr", "hr.staff", "hr.staff.edit"}
    assert role.org_id == users("jahosp001").org_id


def test_granting_a_function_point_you_lack_is_refused(users):
    with pytest.raises(InvalidInput) as exc:
        roles.create_role(users("jahosp001"), name="越权角色", permission_codes=["sys.codes"])
    assert "码表维护" in exc.value.fields["permissions"][0]


def test_unknown_function_point_is_refused(users):
    with pytest.raises(InvalidInput):
        roles.create_role(users("jahosp001"), name="x", permission_codes=["no.such.code"])


def test_nobody_edits_a_role_it_holds(users):
    master = users("jahosp001")
    master_role = master.roles[0]
    with pytest.raises(NotAuthorized):
        roles.update_role(master, master_role, name="x", permission_codes=[])
    own = roles.create_role(master, name="自用", permission_codes=["org"])
    master.roles.append(own)
    with pytest.raises(NotAuthorized):
        roles.update_role(master, own, name="自用", permission_codes=["org", "hr"])


def test_system_roles_are_edited_by_the_system_admin_only(users):
    direct = Session().scalars(select(Role).where(Role.code == "direct_report")).one()
    with pytest.raises(NotAuthorized):
        roles.update_role(users("jaadmin01"), direct, name=direct.name, permission_codes=["org"])
    roles.update_role(users("sysadmin01"), direct, name=direct.name, permission_codes=["org"])
    assert direct.permission_codes == {"org"}


def test_other_organizations_roles_are_invisible(users):
    role = roles.create_role(users("jahosp001"), name="测试医院角色", permission_codes=["org"])
    visible = Session().scalars(roles.visible_roles_query(users("wchosp001"))).all()
    assert role not in visible


def test_a_role_in_use_cannot_be_deleted(users):
    master = users("jahosp001")
    role = roles.create_role(master, name="科室", permission_codes=["org.info"])
    accounts.create_user(master, user_type="sub_account", org_id=master.org_id, display_name="内科",
                         username="neikeuser", role_ids=[role.id])
    with pytest.raises(InvalidInput) as exc:
        roles.delete_role(master, role)
    assert "1 个账号" in exc.value.message
    unused = roles.create_role(master, name="未用", permission_codes=["org.info"])
    roles.delete_role(master, unused)
    Session.flush()
    assert Session().get(Role, unused.id) is None


def test_disabled_role_grants_nothing(users):
    master = users("jahosp001")
    role = roles.create_role(master, name="临时", permission_codes=["org.info"], status="disabled")
    user, _ = accounts.create_user(master, user_type="sub_account", org_id=master.org_id, display_name="x",
                                   username="tempuser1")
    user.roles.append(role)
    assert roles.permissions_of(user) == set()


def test_default_roles_are_consistent_with_the_tree():
    codes = permissions.all_codes()
    for code, _name, _type, grants in permissions.DEFAULT_ROLES:
        assert grants <= codes, code
        assert permissions.with_ancestors(grants) == grants, code   # every stored code has its parent
