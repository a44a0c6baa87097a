"""The audit log page and its Excel export (web/audit/views.py, workflows/audit.py, workflows/excel.py).

A business admin sees the events of its region subtree, anyone else those of its own organization; the
filters narrow the list; the chain check reports; the export neutralises formulas and is itself audited.
"""
import re
from datetime import datetime, timedelta, timezone
from io import BytesIO

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import func, select

from models import Session
from models.accounts import Role, User, UserType
from models.audit import AuditEvent
from tests.conftest import DEMO_PASSWORD
from workflows import accounts, auth, roles

ROW = re.compile(r'<tr data-action="([^"]*)">\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td>[^<]*</td>'
                 r'\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>', re.S)
TRIGGERS = ("=", "+", "-", "@")
CST = timezone(timedelta(hours=8))   # China Standard Time, no daylight saving
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- helpers ---------------------------------------------------------------------------------------------

def user_named(username):
    return Session().scalars(select(User).where(User.username == username)).one()


def last_event_id():
    return Session().scalar(select(func.max(AuditEvent.id))) or 0


def events_since(mark, **filters):
    return Session().scalars(select(AuditEvent).where(AuditEvent.id > mark).filter_by(**filters)
                             .order_by(AuditEvent.id)).all()


def rows(page):
    """``[{action, time, actor, outcome, target}]`` of the audit table."""
    return [dict(zip(("action", "time", "actor", "outcome", "target"), m)) for m in ROW.findall(page)]


def api_logins(client, *usernames, password=DEMO_PASSWORD):
    for name in usernames:
        client.post("/api/v1/auth/login", json={"username": name, "password": password})


def login(client, username):
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303


def audit_page(client, **args):
    response = client.get("/audit/", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def add_user(username, user_type, org_of, role_code):
    actor = user_named("sysadmin01")
    role_id = Session().scalars(select(Role.id).where(Role.code == role_code)).one()
    user, _ = accounts.create_user(actor, user_type=user_type, org_id=user_named(org_of).org_id,
                                   display_name=username, username=username, role_ids=[role_id])
    auth.set_password(user, DEMO_PASSWORD)
    user.real_name_verified = True
    Session.commit()


HUBEI = ["hbadmin01", "whadmin01", "jaadmin01", "wcadmin01", "jahosp001", "wchosp001"]


@pytest.fixture
def everyone(ready):
    """Every demo account usable, and a 本级用户1 (数据质控员) of 江岸区卫生健康局, who holds 系统日志 but not its export."""
    ready("sysadmin01", *HUBEI, verified=True)
    add_user("jabj00001", UserType.SAME_LEVEL_1, "jaadmin01", "same_level_1")


# --- scope -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("viewer, visible", [
    ("jaadmin01", {"jaadmin01", "jahosp001"}),
    ("wcadmin01", {"wcadmin01", "wchosp001"}),
    ("whadmin01", {"whadmin01", "jaadmin01", "wcadmin01", "jahosp001", "wchosp001"}),
    ("hbadmin01", set(HUBEI)),
    ("sysadmin01", set(HUBEI)),
    ("jabj00001", {"jaadmin01"}),   # not a business admin: its own organization only
])
def test_viewer_sees_logins_of_its_scope_only(client, everyone, viewer, visible):
    api_logins(client, *HUBEI)
    login(client, viewer)
    for name in HUBEI:
        found = rows(audit_page(client, action="login", actor=name))
        shown = any(r["actor"] == name for r in found)
        assert shown == (name in visible), name


def test_county_admin_does_not_see_a_neighbours_login(client, everyone):
    api_logins(client, "wcadmin01")
    login(client, "jaadmin01")
    page = audit_page(client)
    actors = {r["actor"] for r in rows(page)}
    assert "jaadmin01" in actors
    assert "wcadmin01" not in actors
    assert "共 0 条" in audit_page(client, actor="wcadmin01")


# --- filters -----------------------------------------------------------------------------------------------

def test_filter_by_actor_and_action(client, api_login, everyone):
    api_logins(client, "jahosp001")
    api_logins(client, "jahosp001", password="Wrong@pass9")
    headers = api_login("jaadmin01")
    client.post(f"/api/v1/users/{user_named('jahosp001').id}/lock", headers=headers)
    login(client, "jaadmin01")

    by_actor = rows(audit_page(client, actor="jahosp"))
    assert by_actor and {r["actor"] for r in by_actor} == {"jahosp001"}
    assert {r["action"] for r in by_actor} == {"login"}
    assert {r["outcome"] for r in by_actor} == {"成功", "失败"}

    locks = rows(audit_page(client, action="account_lock"))
    assert [(r["actor"], r["target"]) for r in locks] == [("jaadmin01", "jahosp001")]

    both = rows(audit_page(client, actor="jaadmin01", action="login"))
    assert both and all((r["actor"], r["action"]) == ("jaadmin01", "login") for r in both)

    assert rows(audit_page(client, actor="jahosp001", action="account_lock")) == []
    assert rows(audit_page(client, target="jahosp001", action="account_lock")) == locks


def at_cst(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=CST).astimezone(timezone.utc)


@pytest.mark.parametrize("since, until, expected", [
    ("2024-03-01", "2024-03-01", {"2024-03-01 23:30"}),
    ("2024-03-02", "2024-03-02", {"2024-03-02 00:30"}),
    ("2024-03-01", "2024-03-02", {"2024-03-01 23:30", "2024-03-02 00:30"}),
    ("2024-03-02", "", {"2024-03-02 00:30"}),
    ("", "2024-03-01", {"2024-03-01 23:30"}),
    ("2024-03-03", "2024-03-05", set()),
    ("2024-02-01", "2024-02-29", set()),
])
def test_filter_by_date_in_china_time(client, everyone, since, until, expected):
    """Dates are calendar days in China Standard Time; ``until`` includes its whole day."""
    for moment in ("2024-03-01 23:30", "2024-03-02 00:30"):   # one UTC day, two CST days
        with time_machine.travel(at_cst(moment), tick=False):
            api_logins(client, "jahosp001", password="Wrong@pass9")
    login(client, "jaadmin01")
    found = rows(audit_page(client, actor="jahosp001", since=since, until=until))
    assert {r["time"][:16] for r in found} == expected


def test_invalid_dates_are_ignored(client, everyone):
    api_logins(client, "jahosp001")
    login(client, "jaadmin01")
    assert rows(audit_page(client, actor="jahosp001", since="2024-13-45"))


# --- chain check -------------------------------------------------------------------------------------------

def test_verify_reports_an_intact_chain(client, everyone):
    api_logins(client, "jahosp001", "wcadmin01")
    login(client, "jaadmin01")
    page = audit_page(client, verify="1")
    assert "日志链校验通过" in page
    checked = int(re.search(r"共 (\d+) 条记录未被篡改", page).group(1))
    assert checked == Session().scalar(select(func.count()).select_from(AuditEvent))
    assert 'id="chain-status"' not in audit_page(client)


def test_verify_reports_a_forged_event(client, everyone):
    login(client, "jaadmin01")
    forged = AuditEvent(at=datetime.now(timezone.utc), actor_name="intruder", action="login", outcome="success",
                        detail={}, prev_hash="0" * 64, hash="f" * 64)
    Session().add(forged)
    Session.commit()
    forged_id = forged.id
    api_logins(client, "jahosp001")   # a genuine event after the forged one, linked to the real head
    page = audit_page(client, verify="1")
    assert f"日志链校验失败：第 {forged_id} 条记录起被篡改或缺失" in page
    assert "日志链校验通过" not in page


# --- export ------------------------------------------------------------------------------------------------

HOSTILE_USERNAMES = ['=HYPERLINK("http://x")', "+cmd|' /c calc'!A0", "-2+3+cmd|' /c calc'!A0", "@SUM(1+1)*cmd"]


def workbook(response):
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    return load_workbook(BytesIO(response.data)).active


def test_export_neutralises_formulas(client, everyone):
    for name in HOSTILE_USERNAMES:
        api_logins(client, name, password="Wrong@pass9")
    master = user_named("jahosp001")
    for name in ("=1+2", "@角色", "+角色", "-角色"):
        roles.create_role(master, name=name, permission_codes=["hr.staff"])
    Session.commit()
    login(client, "sysadmin01")

    sheet = workbook(client.get("/audit/export"))

    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert not [t for t in texts if t.startswith(TRIGGERS)]
    for name in HOSTILE_USERNAMES:
        assert "'" + name.lower() in texts, name   # the failed username is kept as typed, lower-cased
    for name in ("=1+2", "@角色", "+角色", "-角色"):
        assert "'" + name in texts, name


def test_export_follows_scope_and_filters(client, everyone):
    api_logins(client, "jahosp001", "wcadmin01")
    login(client, "jaadmin01")
    sheet = workbook(client.get("/audit/export", query_string={"action": "login"}))
    header, *body = [[c.value for c in row] for row in sheet.iter_rows()]
    assert header == ["序号", "时间", "操作人", "操作", "结果", "对象类型", "对象", "IP", "详情"]
    actors = {row[2] for row in body}
    assert "jahosp001" in actors and "jaadmin01" in actors
    assert "wcadmin01" not in actors
    assert {row[3] for row in body} == {"登录"}
    assert [row[0] for row in body] == [str(i) for i in range(1, len(body) + 1)]


def test_export_is_audited(client, everyone):
    login(client, "jaadmin01")
    mark = last_event_id()
    workbook(client.get("/audit/export", query_string={"actor": "jahosp001", "action": "login"}))
    event, = events_since(mark, action="audit_export")
    assert (event.actor_id, event.actor_name, event.outcome) == (user_named("jaadmin01").id, "jaadmin01", "success")
    assert event.detail["filter"] == {"actor": "jahosp001", "action": "login"}
    assert "导出日志" in audit_page(client, action="audit_export")


# --- who may see the log -----------------------------------------------------------------------------------

@pytest.mark.parametrize("viewer, page_status, export_status", [
    ("sysadmin01", 200, 200),
    ("hbadmin01", 200, 200),
    ("jaadmin01", 200, 200),
    ("jabj00001", 200, 403),      # 系统日志 without 导出日志
    ("jahosp001", 403, 403),      # a master account holds no 系统日志
])
def test_log_needs_its_function_point(client, everyone, viewer, page_status, export_status):
    login(client, viewer)
    mark = last_event_id()
    assert client.get("/audit/").status_code == page_status
    assert client.get("/audit/export").status_code == export_status
    denials = events_since(mark, action="access_denied")
    assert [d.target_id for d in denials] == (["audit.index"] if page_status == 403 else []) + (
        ["audit.export"] if export_status == 403 else [])
    assert all(d.actor_id == user_named(viewer).id for d in denials)


def test_sub_account_without_log_role_is_refused(client, everyone):
    master = user_named("jahosp001")
    role = roles.create_role(master, name="人事", permission_codes=["hr.staff"])
    user, _ = accounts.create_user(master, user_type=UserType.SUB_ACCOUNT, org_id=master.org_id,
                                   display_name="子账号", username="jasub0001", role_ids=[role.id])
    auth.set_password(user, DEMO_PASSWORD)
    user.real_name_verified = True
    Session.commit()
    login(client, "jasub0001")
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export").status_code == 403
    assert client.get("/audit/", query_string={"verify": "1"}).status_code == 403


def test_date_window_matches_local_day(client, everyone):
    """Today's events carry today's date in China time and fall inside a window of today."""
    api_logins(client, "jahosp001")
    login(client, "jaadmin01")
    today = datetime.now(CST).date()
    found = rows(audit_page(client, actor="jahosp001", since=str(today), until=str(today)))
    assert found and all(r["time"].startswith(str(today)) for r in found)
    assert rows(audit_page(client, actor="jahosp001", since=str(today + timedelta(days=1)))) == []
    assert rows(audit_page(client, actor="jahosp001", until=str(today - timedelta(days=1)))) == []
