"""The lock list page (用户锁定一览表) and its Excel download: jurisdiction, filters, permission checks, audit."""
import re
from datetime import date, timedelta
from io import BytesIO
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import Session, utcnow
from models.accounts import Role, User
from models.audit import AuditEvent
from models.orgs import Organization
from tests.conftest import DEMO_PASSWORD
from workflows import accounts, auth, hashing, maintenance
from workflows.errors import NotAuthorized

HEADERS = ["序号", "账号", "姓名", "单位", "用户类型", "锁定原因", "锁定时间", "操作人"]


def account(username):
    return Session().scalars(select(User).where(User.username == username)).one()


def add(username, org_name, **fields):
    org = Session().scalars(select(Organization).where(Organization.name == org_name)).one()
    user = User(username=username, display_name=f"{username}姓名", org_id=org.id, user_type="direct_report",
                password_hash=hashing.hash_password(DEMO_PASSWORD), session_token=auth.new_session_token(),
                real_name_verified=True, **fields)
    Session().add(user)
    Session().flush()
    return user


@pytest.fixture
def locked(ready):
    """Two stale accounts in 江岸区, one in 武昌区 locked by the yearly review; one locked by the 江岸 admin."""
    ready("sysadmin01", "hbadmin01", "whadmin01", "jaadmin01", "wcadmin01", "jahosp001", verified=True)
    long_ago = utcnow() - timedelta(days=400)
    for user in Session().scalars(select(User)):
        user.last_login_at = utcnow()
    add("jastale01", "测试医院", last_login_at=long_ago)
    add("jastale02", "测试医院", last_login_at=None, created_at=long_ago)
    add("wcstale01", "武昌测试医院", last_login_at=long_ago)
    add("jaexpire1", "测试医院", valid_until=date(2020, 1, 1))
    assert maintenance.yearly_review(utcnow()) == 4
    accounts.lock_user(account("jaadmin01"), add("jamanual1", "测试医院"), note="调离岗位")
    Session.commit()


def login(client, username):
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303


def listed(html):
    return re.findall(r'<tr data-username="([^"]+)">', html)


def workbook(response):
    sheet = load_workbook(BytesIO(response.data)).active
    return sheet.title, [[c.value for c in row] for row in sheet.iter_rows()]


def test_county_admin_sees_its_county_only(client, locked):
    login(client, "jaadmin01")
    response = client.get("/locklist/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert sorted(listed(page)) == ["jaexpire1", "jamanual1", "jastale01", "jastale02"]
    assert "年度审核锁定：180天未登录" in page and "年度审核锁定：账号有效期已过" in page
    assert "系统（年度审核）" in page and "江岸区业务管理员（jaadmin01）" in page
    assert 'href="/locklist/" class="active"' in page   # the menu entry under 系统管理


def test_county_admin_downloads_only_its_county(client, locked):
    login(client, "jaadmin01")
    response = client.get("/locklist/export")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "用户锁定一览表.xlsx" in unquote(disposition)
    title, rows = workbook(response)
    assert title == "用户锁定一览表" and rows[0] == HEADERS
    assert sorted(r[1] for r in rows[1:]) == ["jaexpire1", "jamanual1", "jastale01", "jastale02"]
    assert {r[3] for r in rows[1:]} == {"测试医院"} and [r[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    [event] = Session().scalars(select(AuditEvent).where(AuditEvent.action == "locklist_export")).all()
    assert event.actor_name == "jaadmin01" and event.detail["rows"] == 4


@pytest.mark.parametrize("username, expected", [
    ("wcadmin01", ["wcstale01"]),
    ("whadmin01", ["jaexpire1", "jamanual1", "jastale01", "jastale02", "wcstale01"]),
    ("hbadmin01", ["jaexpire1", "jamanual1", "jastale01", "jastale02", "wcstale01"]),
    ("sysadmin01", ["jaexpire1", "jamanual1", "jastale01", "jastale02", "wcstale01"]),
])
def test_each_admin_gets_its_region(client, locked, username, expected):
    login(client, username)
    assert sorted(listed(client.get("/locklist/").get_data(as_text=True))) == expected
    assert sorted(r[1] for r in workbook(client.get("/locklist/export"))[1][1:]) == expected


@pytest.mark.parametrize("path", ["/locklist/", "/locklist/export"])
def test_a_master_account_is_refused(client, locked, path):
    login(client, "jahosp001")   # holds sys.accounts, but not the lock list
    response = client.get(path)
    assert response.status_code == 403
    assert 'href="/locklist/"' not in client.get("/").get_data(as_text=True)
    denied = Session().scalars(select(AuditEvent).where(AuditEvent.action == "access_denied",
                                                        AuditEvent.actor_name == "jahosp001")).all()
    assert len(denied) == 1 and denied[0].detail["path"] == path
    assert not Session().scalars(select(AuditEvent).where(AuditEvent.action == "locklist_export")).all()


def test_only_administrators_get_a_list_even_with_the_function_point(client, locked):
    master = account("jahosp001")
    master.roles.append(Session().scalars(select(Role).where(Role.code == "county_admin")).one())
    Session.commit()
    login(client, "jahosp001")
    assert client.get("/locklist/").status_code == 403
    assert client.get("/locklist/export").status_code == 403
    with pytest.raises(NotAuthorized):
        maintenance.lock_list(account("jahosp001"))


def test_filters_by_reason_and_period(client, locked):
    login(client, "jaadmin01")
    assert listed(client.get("/locklist/?reason=admin").get_data(as_text=True)) == ["jamanual1"]
    today = utcnow().astimezone(maintenance.CST).date()
    assert len(listed(client.get(f"/locklist/?since={today}&until={today}").get_data(as_text=True))) == 4
    assert listed(client.get(f"/locklist/?since={today + timedelta(days=1)}").get_data(as_text=True)) == []
    assert listed(client.get(f"/locklist/?until={today - timedelta(days=1)}").get_data(as_text=True)) == []
    assert len(listed(client.get("/locklist/?reason=nonsense&since=bad").get_data(as_text=True))) == 4
    rows = workbook(client.get("/locklist/export?reason=yearly_review"))[1]
    assert sorted(r[1] for r in rows[1:]) == ["jaexpire1", "jastale01", "jastale02"]
    page = client.get("/locklist/?reason=admin").get_data(as_text=True)
    assert 'href="/locklist/export?reason=admin"' in page


def test_unlocking_takes_an_account_off_the_list(client, locked):
    accounts.unlock_user(account("jaadmin01"), account("jastale01"))
    Session.commit()
    login(client, "jaadmin01")
    assert "jastale01" not in listed(client.get("/locklist/").get_data(as_text=True))
