"""Account administration services: creation rules, naming, role grants, lock/unlock/reset, jurisdiction."""
import pytest
from sqlalchemy import select

from models import Session, utcnow
from models.accounts import Role, UserType
from models.audit import AuditEvent
from models.orgs import Organization
from workflows import accounts, auth, jurisdiction, settings
from workflows.errors import InvalidInput, NotAuthorized, NotFound
from workflows.passwords import check_password


def org(name):
    return Session().scalars(select(Organization).where(Organization.name == name)).one()


def role(code):
    return Session().scalars(select(Role).where(Role.code == code)).one()


def audited(action, target):
    return Session().scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                      AuditEvent.target_name == target)).all()


def test_master_creates_a_sub_account_with_a_one_time_password(users):
    master = users("jahosp001")
    user, password = accounts.create_user(master, user_type="sub_account", org_id=master.org_id,
                                          display_name="药品管理部", username="xyyyypglb")
    assert user.username == "xyyyypglb" and user.must_change_password
    assert check_password(settings.current().policy, password, username=user.username) == []
    assert auth.authenticate("xyyyypglb", password).ok
    assert audited("account_create", "xyyyypglb")[0].actor_name == "jahosp001"


@pytest.mark.parametrize("username, ok", [
    ("abcdefgh", True), ("abcdefg", False), ("1abcdefgh", False), ("_abcdefgh", False), ("abc defgh", False),
    ("ABCDEFGH", True),   # stored lower-case
])
def test_username_rules(users, username, ok):
    master = users("jahosp001")
    create = lambda: accounts.create_user(master, user_type="sub_account", org_id=master.org_id,  # noqa: E731
                                          display_name="部门", username=username)
    if ok:
        assert create()[0].username == username.lower()
    else:
        with pytest.raises(InvalidInput) as exc:
            create()
        assert "username" in exc.value.fields


def test_username_is_unique(users):
    master = users("jahosp001")
    with pytest.raises(InvalidInput) as exc:
        accounts.create_user(master, user_type="sub_account", org_id=master.org_id, display_name="x",
                             username="JAADMIN01")
    assert exc.value.fields["username"] == ["该账号已存在"]


def test_jiangsu_naming_with_suffix_on_collision(users):
    county = users("jaadmin01")
    first, _ = accounts.create_user(county, user_type="direct_report", org_id=org("测试医院").id, display_name="李四")
    second, _ = accounts.create_user(county, user_type="direct_report", org_id=org("测试医院").id, display_name="李四")
    same, _ = accounts.create_user(county, user_type="same_level_1", org_id=county.org_id, display_name="王五")
    assert (first.username, second.username, same.username) == ("zb-ja-lisi", "zb-ja-lisi1", "bj-ja-wangwu")


def test_one_master_account_per_institution(users):
    with pytest.raises(InvalidInput) as exc:
        accounts.create_user(users("jaadmin01"), user_type="master", org_id=org("测试医院").id,
                             display_name="第二个总账号", username="jahosp002")
    assert "user_type" in exc.value.fields


def test_a_creator_grants_only_roles_within_its_own_function_points(users):
    master = users("jahosp001")
    with pytest.raises(InvalidInput) as exc:
        accounts.create_user(master, user_type="sub_account", org_id=master.org_id, display_name="x",
                             username="subacct01", role_ids=[role("county_admin").id])
    assert "roles" in exc.value.fields
    user, _ = accounts.create_user(master, user_type="sub_account", org_id=master.org_id, display_name="x",
                                   username="subacct01", role_ids=[role("direct_report").id])
    assert [r.code for r in user.roles] == ["direct_report"]


def test_bad_phone_and_email_are_reported_together(users):
    master = users("jahosp001")
    with pytest.raises(InvalidInput) as exc:
        accounts.create_user(master, user_type="sub_account", org_id=master.org_id, display_name="x",
                             username="subacct01", phone="12345", email="not-an-email")
    assert set(exc.value.fields) == {"phone", "email"}


def test_update_changes_profile_and_roles_but_never_username(users):
    master = users("jahosp001")
    user, _ = accounts.create_user(master, user_type="sub_account", org_id=master.org_id,
                                   display_name="人事科", username="subacct01")
    accounts.update_user(master, user, role_ids=[role("direct_report").id], phone="+86 138-0013-8000",
                         email="hr@example.cn", department="人事科")
    assert (user.username, user.display_name, user.phone) == ("subacct01", "人事科", "13800138000")
    detail = audited("account_update", "subacct01")[0].detail
    assert detail["changed"]["phone"] == [None, "13800138000"]


def test_master_account_cannot_be_changed_by_its_institution(users):
    master = users("jahosp001")
    with pytest.raises(NotAuthorized):
        accounts.update_user(master, master, phone="13800138000")
    with pytest.raises(NotAuthorized):
        accounts.reset_password(master, master)


def test_lock_ends_sessions_and_tokens_reset_forces_change(users, ready):
    ready("jaadmin01")
    admin, target = users("jaadmin01"), users("jahosp001")
    raw = auth.issue_token(target)
    session_token = target.session_token
    accounts.lock_user(admin, target)
    assert target.is_locked(utcnow()) and target.session_token != session_token
    assert auth.resolve_token(raw) is None
    accounts.unlock_user(admin, target)
    assert not target.is_locked(utcnow()) and target.failed_attempts == 0
    raw = auth.issue_token(target)
    password = accounts.reset_password(admin, target)
    assert target.password_change_reason == "reset" and auth.resolve_token(raw) is None
    assert auth.authenticate("jahosp001", password).ok
    for action in ("account_lock", "account_unlock", "password_reset"):
        assert audited(action, "jahosp001")[0].actor_name == "jaadmin01"


def test_reset_clears_a_failed_login_lock_but_not_an_admin_lock(users):
    admin, target = users("jaadmin01"), users("jahosp001")
    for _ in range(5):
        auth.authenticate("jahosp001", "Wrong#Pass1")
    Session.commit()
    accounts.reset_password(admin, target)
    assert target.lock_reason is None
    accounts.lock_user(admin, target)
    accounts.reset_password(admin, target)
    assert target.lock_reason == "admin"


def test_default_initial_password_mode(users):
    master = users("jahosp001")
    settings.configure({"INITIAL_PASSWORD_MODE": "default", "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024})
    try:
        _, password = accounts.create_user(master, user_type="sub_account", org_id=master.org_id,
                                           display_name="x", username="subacct01")
    finally:
        settings.configure({"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024})
    assert password == "Zjrj@-2007"


def test_delete_is_soft_and_hides_the_account(users):
    master = users("jahosp001")
    user, password = accounts.create_user(master, user_type="sub_account", org_id=master.org_id,
                                          display_name="x", username="subacct01")
    accounts.delete_user(master, user)
    assert auth.authenticate("subacct01", password).outcome == "invalid"
    with pytest.raises(NotFound):
        accounts.get_user(master, user.id)
    rows, total = accounts.search_users(master)
    assert "subacct01" not in [u.username for u in rows]


# --- jurisdiction (service level; the HTTP matrix lives in tests/web) ---------------------------------

@pytest.mark.parametrize("actor, user_type, org_name, allowed", [
    ("hbadmin01", "business_admin", "武汉市卫生健康委员会", True),     # subordinate admin
    ("hbadmin01", "business_admin", "江岸区卫生健康局", False),       # two levels down
    ("hbadmin01", "same_level_1", "湖北省卫生健康委员会", True),
    ("hbadmin01", "direct_report", "测试医院", False),
    ("whadmin01", "business_admin", "江岸区卫生健康局", True),
    ("whadmin01", "same_level_2", "武汉市卫生健康委员会", True),
    ("whadmin01", "master", "测试医院", False),
    ("jaadmin01", "direct_report", "测试医院", True),
    ("jaadmin01", "master", "测试医院", True),
    ("jaadmin01", "same_level_1", "江岸区卫生健康局", True),
    ("jaadmin01", "direct_report", "武昌测试医院", False),
    ("jaadmin01", "business_admin", "江岸区卫生健康局", False),
    ("jahosp001", "sub_account", "测试医院", True),
    ("jahosp001", "sub_account", "武昌测试医院", False),
    ("jahosp001", "direct_report", "测试医院", False),
    ("sysadmin01", "business_admin", "湖北省卫生健康委员会", True),
])
def test_who_manages_which_user_types(users, actor, user_type, org_name, allowed):
    assert jurisdiction.can_manage(users(actor), UserType(user_type), org(org_name)) is allowed


def test_read_outside_the_subtree_is_not_found_and_audited_by_the_web_layer(users):
    with pytest.raises(NotFound) as exc:
        accounts.get_user(users("jaadmin01"), users("wchosp001").id)
    assert exc.value.audit == ("read", "user", users("wchosp001").id)


def test_write_outside_jurisdiction_is_not_authorized(users):
    with pytest.raises(NotAuthorized) as exc:
        accounts.unlock_user(users("jaadmin01"), users("wchosp001"))
    assert exc.value.audit[0] == "account_unlock"


def test_visible_users_follow_the_region_tree(users):
    names = lambda actor: {u.username for u in accounts.search_users(users(actor), per_page=100)[0]}  # noqa: E731
    assert names("jaadmin01") == {"jaadmin01", "jaleader01", "jahosp001"}
    assert names("whadmin01") == {"whadmin01", "jaadmin01", "jaleader01", "wcadmin01", "jahosp001", "wchosp001"}
    assert names("jahosp001") == {"jahosp001"}
    assert "sysadmin01" in names("sysadmin01")


def test_scope_follows_the_tree_not_the_code_prefix(users):
    """A county re-parented to another city keeps its old code: the tree decides, never the prefix."""
    from models.regions import Region
    from stdnum.cn import uscc
    province = Session().get(Region, "420000")
    huangshi = Region("420200", "黄石市", "city", province)
    moved = Region("420199", "划转区", "county", huangshi)
    Session().add_all([huangshi, moved])
    body = "12420199MB0000001"
    hospital = Organization(kind="medical_institution", name="划转医院", uscc=body + uscc.calc_check_digit(body),
                            category="综合医院", region_code="420199")
    Session().add(hospital)
    Session.flush()
    assert not jurisdiction.can_see_org(users("whadmin01"), hospital)
    assert jurisdiction.can_see_org(users("hbadmin01"), hospital)
