"""Role pages and role rules through the browser endpoints (workflows/roles.py, web/roles/views.py).

A creator grants only function points it holds; parents of a granted point are stored with it; nobody edits
or deletes a role it holds; a role still assigned cannot be deleted; what a sub-account may reach follows its
roles on every request.
"""
import re

import pytest
from sqlalchemy import func, select

from models import Session
from models.accounts import Role, User, UserType
from models.audit import AuditEvent
from tests.conftest import DEMO_PASSWORD
from workflows import accounts, auth, roles

NAV = re.compile(r'<nav class="sidebar"[^>]*>(.*?)</nav>', re.S)
LINK = re.compile(r"<a\b[^>]*>(.*?)</a>", re.S)


# --- helpers ---------------------------------------------------------------------------------------------

def user_named(username):
    return Session().scalars(select(User).where(User.username == username)).one()


def role_named(name):
    return Session().scalars(select(Role).where(Role.name == name)).one_or_none()


def system_role(code):
    return Session().scalars(select(Role).where(Role.code == code)).one()


def codes_of(role_id):
    Session().expire_all()
    return Session().get(Role, role_id).permission_codes


def last_event_id():
    return Session().scalar(select(func.max(AuditEvent.id))) or 0


def events_since(mark, **filters):
    return Session().scalars(select(AuditEvent).where(AuditEvent.id > mark).filter_by(**filters)
                             .order_by(AuditEvent.id)).all()


def menu_labels(html):
    nav = NAV.search(html)
    return {text.strip() for text in LINK.findall(nav.group(1))} - {"工作台"} if nav else set()


def make_role(owner, name, codes):
    role = roles.create_role(user_named(owner), name=name, permission_codes=codes)
    Session.commit()
    return role.id


def make_sub_account(username, role_ids=(), master="jahosp001"):
    """A usable sub-account of the master's institution (password set, real name verified)."""
    actor = user_named(master)
    user, _ = accounts.create_user(actor, user_type=UserType.SUB_ACCOUNT, org_id=actor.org_id,
                                   display_name=username, username=username, role_ids=list(role_ids))
    auth.set_password(user, DEMO_PASSWORD)
    user.real_name_verified = True
    Session.commit()
    return user.id


def login(client, username):
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303


@pytest.fixture
def master(ready, client):
    """jahosp001, the master account of 测试医院, logged in through the browser client."""
    ready("jahosp001", "wchosp001", verified=True)
    login(client, "jahosp001")
    return user_named("jahosp001").id


def form(name, codes, status="normal"):
    return {"name": name, "status": status, "permissions": list(codes)}


# --- creating roles --------------------------------------------------------------------------------------

@pytest.mark.parametrize("posted, stored", [
    (["hr.staff.edit"], {"hr", "hr.staff", "hr.staff.edit"}),
    (["hr.staff.edit", "hr.staff.import"], {"hr", "hr.staff", "hr.staff.edit", "hr.staff.import"}),
    (["hr.staff"], {"hr", "hr.staff"}),
    (["sys.accounts.lock", "org.dept"], {"sys", "sys.accounts", "sys.accounts.lock", "org", "org.dept"}),
])
def test_master_creates_role_with_parents_added(client, master, posted, stored):
    mark = last_event_id()
    response = client.post("/roles/new", data=form("人事录入员", posted))

    assert response.status_code == 303
    role = role_named("人事录入员")
    assert response.headers["Location"] == f"/roles/{role.id}"
    assert role.org_id == user_named("jahosp001").org_id
    assert role.permission_codes == stored
    event, = events_since(mark, action="role_create")
    assert (event.actor_id, event.target_id, event.detail["permissions"]) == (master, str(role.id), sorted(stored))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "角色已创建" in page
    for code in stored:
        assert f'value="{code}" checked' in page


@pytest.mark.parametrize("actor, posted, messages", [
    ("jahosp001", ["sys.codes"], ["不能授予您自己没有的功能点：码表维护"]),
    ("jahosp001", ["hr.staff", "sys.audit.export"], ["不能授予您自己没有的功能点", "系统日志", "导出日志"]),
    ("jahosp001", ["sys.regions"], ["不能授予您自己没有的功能点：行政区域代码维护"]),
    ("jaadmin01", ["stats", "sys.codes"], ["不能授予您自己没有的功能点：码表维护"]),
    ("jahosp001", ["hr.staff", "no.such.point"], ["包含未知的功能点"]),
])
def test_granting_a_function_point_one_lacks_is_refused(client, ready, actor, posted, messages):
    ready(actor, verified=True)
    login(client, actor)
    mark = last_event_id()

    response = client.post("/roles/new", data=form("越权角色", posted))

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for message in messages:
        assert message in page
    assert role_named("越权角色") is None
    assert events_since(mark, action="role_create") == []


def test_role_form_offers_only_held_function_points(client, master):
    page = client.get("/roles/new").get_data(as_text=True)
    assert re.search(r'value="sys\.codes"[^>]*disabled', page)
    assert re.search(r'value="sys\.audit"[^>]*disabled', page)
    assert not re.search(r'value="hr\.staff\.edit"[^>]*disabled', page)


# --- roles one holds, other institutions' roles ------------------------------------------------------------

def held_system_role(actor):
    return system_role({"jahosp001": "master", "jaadmin01": "county_admin"}[actor]).id


def held_own_role(actor):
    """A role of the actor's own institution that the actor itself holds."""
    role_id = make_role(actor, "本人角色", ["hr.staff"])
    holder = user_named(actor)
    holder.roles.append(Session().get(Role, role_id))
    Session.commit()
    return role_id


@pytest.mark.parametrize("actor", ["jahosp001", "jaadmin01"])
@pytest.mark.parametrize("which", [held_system_role, held_own_role], ids=["system-role", "own-role"])
@pytest.mark.parametrize("change", ["edit", "delete"])
def test_a_role_one_holds_cannot_be_changed(client, ready, actor, which, change):
    ready(actor, verified=True)
    role_id = which(actor)
    before = (Session().get(Role, role_id).name, codes_of(role_id))
    login(client, actor)
    assert "只能查看" in client.get(f"/roles/{role_id}").get_data(as_text=True)
    mark = last_event_id()

    if change == "edit":
        response = client.post(f"/roles/{role_id}", data=form("改名后的角色", ["hr.staff"]))
    else:
        response = client.post(f"/roles/{role_id}/delete")

    assert response.status_code == 403
    Session().expire_all()
    role = Session().get(Role, role_id)
    assert role is not None and (role.name, role.permission_codes) == before
    denial, = events_since(mark, action="access_denied")
    assert (denial.actor_id, denial.target_type, denial.target_id, denial.detail["attempted"]) == (
        user_named(actor).id, "role", str(role_id), f"role_{'update' if change == 'edit' else 'delete'}")


@pytest.mark.parametrize("call", [("get", ""), ("post", ""), ("post", "/delete")], ids=["view", "edit", "delete"])
def test_another_institutions_role_is_not_found(client, master, call):
    role_id = make_role("wchosp001", "武昌角色", ["hr.staff"])
    method, suffix = call
    response = getattr(client, method)(f"/roles/{role_id}{suffix}", data=form("武昌角色", ["hr"]))
    assert response.status_code == 404
    assert codes_of(role_id) == {"hr", "hr.staff"}


def test_roles_list_shows_own_and_system_roles_only(client, master):
    make_role("jahosp001", "测试医院角色", ["hr.staff"])
    make_role("wchosp001", "武昌角色", ["hr.staff"])
    page = client.get("/roles/").get_data(as_text=True)
    assert 'data-role="测试医院角色"' in page
    assert 'data-role="机构总账号"' in page
    assert 'data-role="武昌角色"' not in page


# --- deleting roles ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("holders, deleted, shown", [(1, 0, 1), (2, 0, 2), (2, 1, 1)])
def test_a_role_still_assigned_cannot_be_deleted(client, master, holders, deleted, shown):
    role_id = make_role("jahosp001", "临时角色", ["hr.staff"])
    subs = [make_sub_account(f"jasub000{i}", [role_id]) for i in range(1, holders + 1)]
    for sub_id in subs[:deleted]:
        accounts.delete_user(user_named("jahosp001"), Session().get(User, sub_id))
    Session.commit()
    mark = last_event_id()

    response = client.post(f"/roles/{role_id}/delete", headers={"Referer": "http://localhost/roles/"})

    assert response.status_code == 303
    assert response.headers["Location"] == "http://localhost/roles/"
    page = client.get("/roles/").get_data(as_text=True)
    assert f"该角色已分配给 {shown} 个账号，请先取消分配后再删除" in page
    assert Session().get(Role, role_id) is not None
    assert events_since(mark, action="role_delete") == []


def test_a_role_no_longer_assigned_can_be_deleted(client, master):
    role_id = make_role("jahosp001", "临时角色", ["hr.staff"])
    sub_id = make_sub_account("jasub0001", [role_id])
    accounts.update_user(user_named("jahosp001"), Session().get(User, sub_id), role_ids=[])
    Session.commit()
    mark = last_event_id()

    response = client.post(f"/roles/{role_id}/delete")

    assert response.status_code == 303 and response.headers["Location"] == "/roles/"
    Session().expire_all()
    assert Session().get(Role, role_id) is None
    event, = events_since(mark, action="role_delete")
    assert (event.actor_id, event.target_id) == (master, str(role_id))


# --- what a sub-account reaches ------------------------------------------------------------------------------

@pytest.mark.parametrize("codes, menu, pages", [
    (["sys.accounts"], {"人员账号管理"}, {"/accounts/": 200, "/accounts/new": 403, "/roles/": 403, "/audit/": 403}),
    (["hr.staff"], {"人员信息管理"}, {"/personnel/staff/": 200, "/accounts/": 403, "/roles/": 403, "/audit/": 403}),
    (["sys.roles"], {"角色管理"}, {"/accounts/": 403, "/roles/": 200, "/roles/new": 403}),
    (["sys.accounts.edit", "sys.roles.edit"], {"人员账号管理", "角色管理"},
     {"/accounts/": 200, "/roles/new": 200, "/audit/": 403}),
])
def test_sub_account_reaches_what_its_role_allows(app, client, master, codes, menu, pages):
    role_id = make_role("jahosp001", "子账号角色", codes)
    make_sub_account("jasub0001", [role_id])
    sub = app.test_client()
    login(sub, "jasub0001")

    assert menu_labels(sub.get("/").get_data(as_text=True)) == menu
    for path, status in pages.items():
        assert sub.get(path).status_code == status, path


def test_sub_account_without_a_role_reaches_nothing(app, client, master):
    make_sub_account("jasub0001")
    sub = app.test_client()
    login(sub, "jasub0001")
    home = sub.get("/")
    assert home.status_code == 200 and menu_labels(home.get_data(as_text=True)) == set()
    for path in ("/accounts/", "/roles/", "/audit/", "/audit/export"):
        assert sub.get(path).status_code == 403, path


def revoke_by_unassigning(master_client, role_id, sub_id):
    token = master_client.post("/api/v1/auth/login", json={"username": "jahosp001", "password": DEMO_PASSWORD})
    return master_client.patch(f"/api/v1/users/{sub_id}", json={"role_ids": []},
                               headers={"Authorization": f"Bearer {token.json['token']}"})


def revoke_by_disabling(master_client, role_id, sub_id):
    return master_client.post(f"/roles/{role_id}", data=form("子账号角色", ["sys.accounts"], status="disabled"))


def revoke_by_dropping_the_point(master_client, role_id, sub_id):
    return master_client.post(f"/roles/{role_id}", data=form("子账号角色", ["hr.staff"]))


@pytest.mark.parametrize("revoke", [revoke_by_unassigning, revoke_by_disabling, revoke_by_dropping_the_point],
                         ids=["unassign", "disable-role", "drop-function-point"])
def test_revoking_mid_session_refuses_the_next_request(app, client, master, revoke):
    role_id = make_role("jahosp001", "子账号角色", ["sys.accounts"])
    sub_id = make_sub_account("jasub0001", [role_id])
    sub = app.test_client()
    login(sub, "jasub0001")
    assert sub.get("/accounts/").status_code == 200

    assert revoke(client, role_id, sub_id).status_code in (200, 303)

    mark = last_event_id()
    response = sub.get("/accounts/")
    refused_page = response.status_code == 403
    logged_out = response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert refused_page or logged_out, response.status_code
    if refused_page:
        denial, = events_since(mark, action="access_denied")
        assert denial.actor_id == sub_id
        assert "人员账号管理" not in menu_labels(sub.get("/").get_data(as_text=True))


def test_changing_an_accounts_roles_ends_its_sessions(app, client, api_login, master):
    """NOTES-SECURITY (session row): a reset, a lock or a role change ends the user's other sessions."""
    role_id = make_role("jahosp001", "子账号角色", ["sys.accounts"])
    sub_id = make_sub_account("jasub0001", [role_id])
    sub_token = api_login("jasub0001")
    sub = app.test_client()
    login(sub, "jasub0001")

    response = client.patch(f"/api/v1/users/{sub_id}", json={"role_ids": []}, headers=api_login("jahosp001"))

    assert response.status_code == 200 and response.json["roles"] == []
    assert client.get("/api/v1/me", headers=sub_token).status_code == 401
    assert sub.get("/").status_code == 302
