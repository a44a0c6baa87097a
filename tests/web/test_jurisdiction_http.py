"""Jurisdiction through the JSON API: who may read, list and manage which account (workflows/jurisdiction.py).

The matrix runs every account action for an actor of each level against three targets: one inside the set the
actor manages, one it sees but whose type its level does not manage, and one outside its region subtree.
Reading outside answers 404, writing outside 403; every refusal leaves an ``access_denied`` event naming the
actor, and the refused change is gone.
"""
import itertools

import pytest
from sqlalchemy import func, select
from stdnum.cn import uscc

from models import Session
from models.accounts import Role, User, UserType
from models.audit import AuditEvent
from models.orgs import OrgKind, Organization
from models.regions import Region, RegionLevel
from tests.conftest import DEMO_PASSWORD
from workflows import accounts, auth, roles, settings
from workflows.passwords import check_password

_serial = itertools.count(1)


# --- data helpers ----------------------------------------------------------------------------------------

def add_region(code, name, level, parent_code):
    region = Region(code, name, level, Session().get(Region, parent_code))
    Session().add(region)
    Session().flush()
    return region


def add_org(name, region_code, kind=OrgKind.HEALTH_COMMISSION, supervisor=None):
    first17 = f"11{region_code}{next(_serial):09d}"
    org = Organization(kind=kind, name=name, uscc=first17 + uscc.calc_check_digit(first17),
                       category="卫生行政部门" if kind == OrgKind.HEALTH_COMMISSION else "综合医院",
                       region_code=region_code, supervisor_id=supervisor)
    Session().add(org)
    Session().flush()
    return org.id


def org_id_of(username):
    return Session().scalars(select(User.org_id).where(User.username == username)).one()


def add_user(username, user_type, org_id, role_codes=(), role_ids=(), creator="sysadmin01"):
    """An account created through the service, with the demo password and no pending gates."""
    actor = Session().scalars(select(User).where(User.username == creator)).one()
    ids = list(role_ids) + list(Session().scalars(select(Role.id).where(Role.code.in_(role_codes))))
    user, _ = accounts.create_user(actor, user_type=user_type, org_id=org_id, display_name=username,
                                   username=username, role_ids=ids)
    auth.set_password(user, DEMO_PASSWORD)
    user.real_name_verified = True
    Session().flush()
    return user


def account(username):
    """Plain facts about an account (safe to keep across requests)."""
    user = Session().scalars(select(User).where(User.username == username)).one()
    return {"id": user.id, "username": user.username, "user_type": user.user_type, "org_id": user.org_id}


def state(user_id):
    """What a refused write must leave untouched."""
    Session().expire_all()
    user = Session().get(User, user_id)
    return (user.status, user.lock_reason, user.password_hash, user.session_token, user.department)


def last_event_id():
    return Session().scalar(select(func.max(AuditEvent.id))) or 0


def events_since(mark, **filters):
    Session().expire_all()
    return Session().scalars(select(AuditEvent).where(AuditEvent.id > mark).filter_by(**filters)
                             .order_by(AuditEvent.id)).all()


# --- the world of the matrix -----------------------------------------------------------------------------

@pytest.fixture
def world(ready):
    """Demo accounts made usable, plus the accounts the matrix needs:

    - njadmin01: city admin of 南京市 (江苏省): outside everything in 湖北省;
    - hsadmin01: city admin of 黄石市, a second city of 湖北省;
    - jaadmin02: a second business admin of 江岸区, a peer the county admin sees but does not manage;
    - jasub0001 / jadirect01: a sub-account and a direct-report user of 测试医院 (江岸区);
    - wcsub0001: a sub-account of 武昌测试医院 (武昌区).
    """
    ready("sysadmin01", "hbadmin01", "whadmin01", "jaadmin01", "wcadmin01")
    ready("jahosp001", "wchosp001", verified=True)
    add_user("njadmin01", UserType.BUSINESS_ADMIN, add_org("南京市卫生健康委员会", "320100"), ["city_admin"])
    add_region("420200", "黄石市", RegionLevel.CITY, "420000")
    hs_org = add_org("黄石市卫生健康委员会", "420200", supervisor=org_id_of("hbadmin01"))
    add_user("hsadmin01", UserType.BUSINESS_ADMIN, hs_org, ["city_admin"])
    add_user("jaadmin02", UserType.BUSINESS_ADMIN, org_id_of("jaadmin01"), ["county_admin"])
    add_user("jasub0001", UserType.SUB_ACCOUNT, org_id_of("jahosp001"))
    add_user("jadirect01", UserType.DIRECT_REPORT, org_id_of("jahosp001"), ["direct_report"])
    add_user("wcsub0001", UserType.SUB_ACCOUNT, org_id_of("wchosp001"))
    Session.commit()
    names = ["sysadmin01", "hbadmin01", "whadmin01", "jaadmin01", "wcadmin01", "jahosp001", "wchosp001",
             "njadmin01", "hsadmin01", "jaadmin02", "jasub0001", "jadirect01", "wcsub0001"]
    return {name: account(name) for name in names}


# --- performing an action --------------------------------------------------------------------------------

ACTIONS = ["read", "list", "lock", "unlock", "reset", "update", "delete", "create"]
WRITE_AUDIT = {"lock": "account_lock", "unlock": "account_unlock", "reset": "password_reset",
               "update": "account_update", "delete": "account_delete", "create": "account_create"}


def create_payload(target):
    """An account like ``target`` (a second master of one institution is refused for other reasons, so a
    direct-report user stands in for it: every level manages the two alike)."""
    user_type = UserType.DIRECT_REPORT if target["user_type"] == UserType.MASTER else target["user_type"]
    return {"user_type": user_type, "org_id": target["org_id"], "display_name": "新建账号",
            "username": "created0001"}


def perform(client, headers, action, target):
    url = f"/api/v1/users/{target['id']}"
    if action == "read":
        return client.get(url, headers=headers)
    if action == "list":
        return client.get("/api/v1/users", query_string={"q": target["username"], "per_page": 100},
                          headers=headers)
    if action == "lock":
        return client.post(f"{url}/lock", json={"note": "测试锁定"}, headers=headers)
    if action == "unlock":
        return client.post(f"{url}/unlock", headers=headers)
    if action == "reset":
        return client.post(f"{url}/reset-password", headers=headers)
    if action == "update":
        return client.patch(url, json={"department": "信息科"}, headers=headers)
    if action == "delete":
        return client.delete(url, headers=headers)
    if action == "create":
        return client.post("/api/v1/users", json=create_payload(target), headers=headers)
    raise AssertionError(action)


# --- the matrix ------------------------------------------------------------------------------------------

ACTORS = {  # level: (actor, {place: target})
    "province": ("hbadmin01", {"inside": "whadmin01", "visible": "jaadmin01", "outside": "njadmin01"}),
    "city": ("whadmin01", {"inside": "jaadmin01", "visible": "jahosp001", "outside": "hsadmin01"}),
    "county": ("jaadmin01", {"inside": "jahosp001", "visible": "jaadmin02", "outside": "wchosp001"}),
    "master": ("jahosp001", {"inside": "jasub0001", "visible": "jadirect01", "outside": "wcsub0001"}),
    "sysadmin": ("sysadmin01", {"inside": "njadmin01"}),
}
EXPECTED = {  # action: {place: status}
    "read": {"inside": 200, "visible": 200, "outside": 404},
    "list": {"inside": 200, "visible": 200, "outside": 200},
    "lock": {"inside": 200, "visible": 403, "outside": 403},
    "unlock": {"inside": 200, "visible": 403, "outside": 403},
    "reset": {"inside": 200, "visible": 403, "outside": 403},
    "update": {"inside": 200, "visible": 403, "outside": 403},
    "delete": {"inside": 204, "visible": 403, "outside": 403},
    "create": {"inside": 201, "visible": 403, "outside": 403},
}
CASES = [(level, place) for level, (_, targets) in ACTORS.items() for place in targets]


@pytest.mark.parametrize("level, place", CASES, ids=[f"{lvl}-{place}" for lvl, place in CASES])
@pytest.mark.parametrize("action", ACTIONS)
def test_jurisdiction_matrix(client, api_login, world, action, level, place):
    actor_name, targets = ACTORS[level]
    actor, target = world[actor_name], world[targets[place]]
    headers = api_login(actor_name)
    before = state(target["id"])
    mark = last_event_id()

    response = perform(client, headers, action, target)

    expected = EXPECTED[action][place]
    assert response.status_code == expected, response.get_json()
    denials = events_since(mark, action="access_denied")
    if expected in (403, 404):
        assert response.json["error"] == ("not_found" if expected == 404 else "forbidden")
        assert len(denials) == 1
        assert (denials[0].actor_id, denials[0].actor_name, denials[0].outcome) == (
            actor["id"], actor_name, "denied")
        if action == "create":
            assert (denials[0].target_type, denials[0].target_id) == ("organization", str(target["org_id"]))
        else:
            assert (denials[0].target_type, denials[0].target_id) == ("user", str(target["id"]))
        assert denials[0].detail["status"] == expected
        assert state(target["id"]) == before
        assert events_since(mark, action=WRITE_AUDIT.get(action, "-"), outcome="success") == []
        return
    assert denials == []
    if action == "read":
        assert response.json["id"] == target["id"]
    elif action == "list":
        listed = {item["username"] for item in response.json["items"]}
        assert (target["username"] in listed) == (place != "outside")
    elif action == "create":
        created = response.json["user"]
        assert (created["username"], created["org"]["id"]) == ("created0001", target["org_id"])
        assert response.json["initial_password"]
    if action in WRITE_AUDIT:
        done = events_since(mark, action=WRITE_AUDIT[action], actor_id=actor["id"])
        assert len(done) == 1
        if action != "create":
            assert done[0].target_id == str(target["id"])
            assert state(target["id"]) != before or action == "unlock"


# --- listing ---------------------------------------------------------------------------------------------

WUHAN = {"whadmin01", "jaadmin01", "wcadmin01", "jahosp001", "wchosp001", "jaadmin02", "jasub0001",
         "jadirect01", "wcsub0001", "jaleader01"}


@pytest.mark.parametrize("actor, expected", [
    ("whadmin01", WUHAN),
    ("hsadmin01", {"hsadmin01"}),
    ("jaadmin01", {"jaadmin01", "jaadmin02", "jahosp001", "jasub0001", "jadirect01", "jaleader01"}),
    ("wcadmin01", {"wcadmin01", "wchosp001", "wcsub0001"}),
    ("jahosp001", {"jahosp001", "jasub0001", "jadirect01"}),
    ("hbadmin01", WUHAN | {"hbadmin01", "hsadmin01"}),
    ("njadmin01", {"njadmin01"}),
])
def test_list_shows_the_region_subtree_only(client, api_login, world, actor, expected):
    response = client.get("/api/v1/users", query_string={"per_page": 100}, headers=api_login(actor))
    assert response.status_code == 200
    assert {item["username"] for item in response.json["items"]} == expected
    assert response.json["total"] == len(expected)


def test_another_city_admin_neither_lists_nor_reads_wuhan(client, api_login, world):
    headers = api_login("hsadmin01")
    listed = client.get("/api/v1/users", query_string={"q": "wc", "per_page": 100}, headers=headers)
    assert listed.status_code == 200 and listed.json["items"] == [] and listed.json["total"] == 0
    mark = last_event_id()
    response = client.get(f"/api/v1/users/{world['wchosp001']['id']}", headers=headers)
    assert response.status_code == 404
    denial, = events_since(mark, action="access_denied")
    assert (denial.actor_id, denial.target_id) == (world["hsadmin01"]["id"], str(world["wchosp001"]["id"]))


# --- single rules ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("actor, target, action, expected", [
    # a county admin manages neither its city admin nor anyone above
    ("jaadmin01", "whadmin01", "read", 404),
    ("jaadmin01", "whadmin01", "lock", 403),
    ("jaadmin01", "whadmin01", "reset", 403),
    ("jaadmin01", "whadmin01", "update", 403),
    ("jaadmin01", "whadmin01", "delete", 403),
    ("jaadmin01", "hbadmin01", "lock", 403),
    # a city admin does not manage the province admin, nor county institutions
    ("whadmin01", "hbadmin01", "reset", 403),
    ("whadmin01", "jasub0001", "lock", 403),
    # a province admin does not manage county admins or institutions below the cities
    ("hbadmin01", "jaadmin01", "lock", 403),
    ("hbadmin01", "jahosp001", "reset", 403),
    # a master account manages its own sub-accounts, never itself nor other kinds of account
    ("jahosp001", "jahosp001", "lock", 403),
    ("jahosp001", "jahosp001", "reset", 403),
    ("jahosp001", "jahosp001", "update", 403),
    ("jahosp001", "jahosp001", "delete", 403),
    ("jahosp001", "jahosp001", "read", 200),
    ("jahosp001", "jaadmin01", "read", 404),
    ("jahosp001", "wchosp001", "lock", 403),
    ("jahosp001", "jasub0001", "reset", 200),
    # nobody manages itself, not even the system administrator
    ("sysadmin01", "sysadmin01", "lock", 403),
    ("hbadmin01", "hbadmin01", "reset", 403),
    ("sysadmin01", "hbadmin01", "lock", 200),
])
def test_single_rules(client, api_login, world, actor, target, action, expected):
    mark = last_event_id()
    response = perform(client, api_login(actor), action, world[target])
    assert response.status_code == expected, response.get_json()
    denials = events_since(mark, action="access_denied", actor_id=world[actor]["id"])
    assert len(denials) == (1 if expected >= 400 else 0)


@pytest.fixture
def sub_admin(world, client):
    """jasub0001 given a role of its institution with every account function point its master holds."""
    master = Session().scalars(select(User).where(User.username == "jahosp001")).one()
    role = roles.create_role(master, name="账号管理员", permission_codes=["sys.accounts.edit", "sys.accounts.lock",
                                                                      "sys.accounts.reset"])
    sub = Session().get(User, world["jasub0001"]["id"])
    sub.roles = [role]
    add_user("jasub0002", UserType.SUB_ACCOUNT, org_id_of("jahosp001"))
    Session.commit()
    return world | {"jasub0002": account("jasub0002")}


@pytest.mark.parametrize("target, action, expected", [
    ("jahosp001", "lock", 403),
    ("jahosp001", "reset", 403),
    ("jahosp001", "update", 403),
    ("jahosp001", "delete", 403),
    ("jahosp001", "read", 404),
    ("jasub0002", "lock", 403),
    ("jasub0001", "reset", 403),
])
def test_sub_account_with_account_functions_cannot_change_its_master(client, api_login, sub_admin, target,
                                                                     action, expected):
    """Account function points alone give no jurisdiction: a sub-account manages nobody, least of all the
    master account of its institution."""
    mark = last_event_id()
    before = state(sub_admin[target]["id"])
    response = perform(client, api_login("jasub0001"), action, sub_admin[target])
    assert response.status_code == expected
    assert state(sub_admin[target]["id"]) == before
    denial, = events_since(mark, action="access_denied")
    assert denial.actor_id == sub_admin["jasub0001"]["id"]


def lock_by_failed_logins(client, username):
    for _ in range(settings.current().lockout_threshold):
        client.post("/api/v1/auth/login", json={"username": username, "password": "Wrong@pass9"})
    response = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 423


def test_county_admin_unlocks_inside_only(client, api_login, world):
    lock_by_failed_logins(client, "jahosp001")
    lock_by_failed_logins(client, "wchosp001")
    headers = api_login("jaadmin01")
    mark = last_event_id()

    refused = client.post(f"/api/v1/users/{world['wchosp001']['id']}/unlock", headers=headers)
    assert refused.status_code == 403
    denial, = events_since(mark, action="access_denied")
    assert (denial.actor_id, denial.target_id, denial.outcome) == (
        world["jaadmin01"]["id"], str(world["wchosp001"]["id"]), "denied")
    assert denial.detail["attempted"] == "account_unlock"
    assert events_since(mark, action="account_unlock") == []
    assert client.post("/api/v1/auth/login", json={"username": "wchosp001", "password": DEMO_PASSWORD}
                       ).status_code == 423

    unlocked = client.post(f"/api/v1/users/{world['jahosp001']['id']}/unlock", headers=headers)
    assert unlocked.status_code == 200
    assert unlocked.json["locked"] is False
    event, = events_since(mark, action="account_unlock")
    assert (event.actor_id, event.target_id, event.outcome) == (
        world["jaadmin01"]["id"], str(world["jahosp001"]["id"]), "success")
    assert event.detail["previous_reason"] == "failed_logins"
    api_login("jahosp001")


# --- regions from the tree, never from code prefixes -----------------------------------------------------

@pytest.fixture
def xiantao(world):
    """仙桃市 (429004), a 省直辖县 directly under 湖北省, with a county admin and a hospital; and a city hospital
    placed directly under 武汉市."""
    add_region("429004", "仙桃市", RegionLevel.COUNTY, "420000")
    xt_org = add_org("仙桃市卫生健康委员会", "429004", supervisor=org_id_of("hbadmin01"))
    add_user("xtadmin01", UserType.BUSINESS_ADMIN, xt_org, ["county_admin"])
    xt_hosp = add_org("仙桃市第一人民医院", "429004", OrgKind.MEDICAL_INSTITUTION, supervisor=xt_org)
    add_user("xthosp001", UserType.MASTER, xt_hosp, ["master"])
    wh_hosp = add_org("武汉市第一医院", "420100", OrgKind.MEDICAL_INSTITUTION, supervisor=org_id_of("whadmin01"))
    add_user("whhosp001", UserType.MASTER, wh_hosp, ["master"])
    Session.commit()
    return world | {name: account(name) for name in ("xtadmin01", "xthosp001", "whhosp001")}


@pytest.mark.parametrize("actor, target, action, expected", [
    ("hbadmin01", "xtadmin01", "lock", 200),      # the province manages the admin of its 省直辖县
    ("hbadmin01", "xtadmin01", "reset", 200),
    ("hbadmin01", "xtadmin01", "read", 200),
    ("hbadmin01", "xthosp001", "lock", 403),      # but not the institutions there: their county admin does
    ("xtadmin01", "xthosp001", "lock", 200),
    ("xtadmin01", "jahosp001", "read", 404),
    ("xtadmin01", "hbadmin01", "lock", 403),
    ("whadmin01", "xtadmin01", "read", 404),      # 仙桃 is not part of 武汉市
    ("whadmin01", "xtadmin01", "lock", 403),
    ("whadmin01", "whhosp001", "lock", 200),      # a city manages institutions placed directly under it
    ("hbadmin01", "whhosp001", "lock", 403),
    ("jaadmin01", "whhosp001", "read", 404),
    ("jaadmin01", "whhosp001", "lock", 403),
])
def test_province_directed_county(client, api_login, xiantao, actor, target, action, expected):
    mark = last_event_id()
    response = perform(client, api_login(actor), action, xiantao[target])
    assert response.status_code == expected, response.get_json()
    assert len(events_since(mark, action="access_denied")) == (1 if expected >= 400 else 0)


@pytest.mark.parametrize("actor, present, absent", [
    ("hbadmin01", {"xtadmin01", "xthosp001", "whhosp001"}, set()),
    ("xtadmin01", {"xtadmin01", "xthosp001"}, {"whhosp001", "jahosp001", "hbadmin01"}),
    ("whadmin01", {"whhosp001"}, {"xtadmin01", "xthosp001"}),
])
def test_province_directed_county_listing(client, api_login, xiantao, actor, present, absent):
    response = client.get("/api/v1/users", query_string={"per_page": 100}, headers=api_login(actor))
    listed = {item["username"] for item in response.json["items"]}
    assert present <= listed
    assert not absent & listed


# --- password reset ----------------------------------------------------------------------------------------

def test_reset_password_forces_change_and_ends_sessions(app, client, api_login, browser_login, world):
    target = world["jahosp001"]
    user_token = api_login("jahosp001")
    browser = app.test_client()
    assert browser.post("/login", data={"username": "jahosp001", "password": DEMO_PASSWORD}).status_code == 303
    assert browser.get("/").status_code == 200
    assert client.get("/api/v1/me", headers=user_token).status_code == 200

    response = client.post(f"/api/v1/users/{target['id']}/reset-password", headers=api_login("jaadmin01"))

    assert response.status_code == 200
    temporary = response.json["temporary_password"]
    assert temporary != DEMO_PASSWORD
    assert check_password(settings.current().policy, temporary, username="jahosp001") == []
    assert response.json["user"]["must_change_password"] is True
    Session().expire_all()
    assert Session().get(User, target["id"]).password_change_reason == "reset"

    assert client.get("/api/v1/me", headers=user_token).status_code == 401
    logged_out = browser.get("/")
    assert logged_out.status_code == 302
    assert logged_out.headers["Location"].startswith("/login")

    assert client.post("/api/v1/auth/login", json={"username": "jahosp001", "password": DEMO_PASSWORD}
                       ).status_code == 401
    relogin = client.post("/api/v1/auth/login", json={"username": "jahosp001", "password": temporary})
    assert relogin.status_code == 200 and relogin.json["must_change_password"] is True
    new_token = {"Authorization": f"Bearer {relogin.json['token']}"}
    blocked = client.get("/api/v1/users", headers=new_token)
    assert blocked.status_code == 403 and blocked.json["error"] == "password_change_required"
