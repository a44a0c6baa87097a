"""账号泄露处置 over HTTP: the JSON API end to end with bearer tokens, and the pages (report, case list and page,
the task page additions, the password shown once)."""
import html as markup
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from models import Session
from models.accounts import User
from models.audit import AuditEvent
from tests.conftest import DEMO_PASSWORD

CST = timezone(timedelta(hours=8))
NEW_PASSWORD = "Lk#5207tkW"
DESCRIPTION = "发现他人使用本账号登录"


def discovered(hours_ago=2):
    return (datetime.now(CST) - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def tokens(ready, api_login):
    ready("jahosp001", "jaadmin01", "wcadmin01", "whadmin01", verified=True)
    return {name: api_login(name) for name in ("jahosp001", "jaadmin01", "wcadmin01", "whadmin01")}


def claimable(client, headers):
    return client.get("/api/v1/tasks?view=claimable&process=credential_leak", headers=headers).json["items"]


def test_the_whole_case_through_the_api(client, tokens):
    admin, hospital = tokens["jaadmin01"], tokens["jahosp001"]
    reported = client.post("/api/v1/leaks", json={"account": "jahosp001", "discovered_at": discovered(),
                                                   "description": DESCRIPTION}, headers=admin)
    assert reported.status_code == 201, reported.json
    instance_id = reported.json["id"]
    assert reported.json["warnings"] == [] and reported.json["case"]["locked"] is True
    assert reported.json["started_by"] == "jahosp001" and reported.json["org"] == "江岸区卫生健康局"
    assert [t["name"] for t in reported.json["tasks"]] == ["check_admin"]

    # suspended at once: the account's token is dead and its password no longer logs in
    assert client.get("/api/v1/me", headers=hospital).status_code == 401
    locked = client.post("/api/v1/auth/login", json={"username": "jahosp001", "password": DEMO_PASSWORD})
    assert locked.status_code == 423 and locked.json["error"] == "account_locked"

    # another county sees nothing, and may not report the account
    assert client.get(f"/api/v1/leaks/{instance_id}", headers=tokens["wcadmin01"]).status_code == 404
    assert claimable(client, tokens["wcadmin01"]) == []
    outsider = client.post("/api/v1/leaks", json={"account": "jahosp001", "discovered_at": discovered(),
                                                  "description": DESCRIPTION}, headers=tokens["whadmin01"])
    assert outsider.status_code == 403

    # the data check
    (task,) = claimable(client, admin)
    assert (task["name"], task["lane"], task["lane_label"]) == ("check_admin", "leak_admin", "本单位业务管理员")
    form = client.get(f"/api/v1/tasks/{task['id']}", headers=admin).json["form"]
    assert form["schema"]["properties"]["result"]["title"] == "核查结果"
    refused = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"result": "abnormal"}},
                          headers=admin)
    assert refused.status_code == 422 and set(refused.json["fields"]) == {"comment"}
    checked = client.post(f"/api/v1/tasks/{task['id']}/complete",
                          json={"data": {"result": "normal", "comment": "未发现异常"}}, headers=admin)
    assert checked.status_code == 200 and [t["name"] for t in checked.json["tasks"]] == ["reset_restore"]

    # reset and restore: the temporary password comes back once, in this answer only
    reset = checked.json["tasks"][0]
    unconfirmed = client.post(f"/api/v1/tasks/{reset['id']}/complete", json={"data": {}}, headers=admin)
    assert unconfirmed.status_code == 422 and set(unconfirmed.json["fields"]) == {"confirm"}
    restored = client.post(f"/api/v1/tasks/{reset['id']}/complete", json={"data": {"confirm": True}},
                           headers=admin)
    assert restored.status_code == 200, restored.json
    password = restored.json["temporary_password"]
    assert restored.json["account"] == "jahosp001" and restored.json["must_change_password"] is True
    assert [t["name"] for t in restored.json["tasks"]] == ["record"]
    again = client.post(f"/api/v1/tasks/{reset['id']}/complete", json={"data": {"confirm": True}}, headers=admin)
    assert again.status_code == 409 and "temporary_password" not in again.json

    detail = client.get(f"/api/v1/leaks/{instance_id}", headers=admin)
    assert password not in detail.get_data(as_text=True)
    record = detail.json["tasks"][0]
    assert password not in client.get(f"/api/v1/tasks/{record['id']}", headers=admin).get_data(as_text=True)

    # the account logs in with the temporary password and must change it first
    login = client.post("/api/v1/auth/login", json={"username": "jahosp001", "password": password})
    assert login.status_code == 200
    fresh = {"Authorization": f"Bearer {login.json['token']}"}
    assert client.get("/api/v1/tasks", headers=fresh).json["error"] == "password_change_required"
    changed = client.post("/api/v1/me/password", json={"current_password": password, "new_password": NEW_PASSWORD},
                          headers=fresh)
    assert changed.status_code == 204

    closed = client.post(f"/api/v1/tasks/{record['id']}/complete",
                         json={"data": {"record": "已核查处置并恢复使用。"}}, headers=admin)
    assert closed.status_code == 200 and closed.json["status"] == "completed"
    case = client.get(f"/api/v1/leaks/{instance_id}", headers=admin).json["case"]
    assert case["check"]["result"] == "normal" and case["password_reset"]["by"] == "jaadmin01"
    assert case["restored"]["by"] == "jaadmin01" and case["record"]["record"] == "已核查处置并恢复使用。"
    kinds = [e["kind"] for e in client.get(f"/api/v1/instances/{instance_id}", headers=admin).json["history"]]
    assert kinds[-3:] == ["task_completed", "leak_closed", "completed"]
    listed = client.get("/api/v1/leaks", headers=admin).json
    assert [c["instance_id"] for c in listed["items"]] == [instance_id] and listed["total"] == 1
    assert client.get("/api/v1/leaks", headers=tokens["jahosp001"]).status_code == 401   # that token was ended


def test_a_self_report_through_the_api_ends_the_reporters_own_token(client, tokens):
    hospital = tokens["jahosp001"]
    reported = client.post("/api/v1/leaks", json={"discovered_at": discovered(30), "description": DESCRIPTION},
                           headers=hospital)
    assert reported.status_code == 201
    assert [w["code"] for w in reported.json["warnings"]] == ["late_report"]
    assert reported.json["case"]["self_report"] is True and reported.json["case"]["late"] is True
    assert client.get("/api/v1/me", headers=hospital).status_code == 401
    assert [t["name"] for t in claimable(client, tokens["jaadmin01"])] == ["check_admin"]


def test_the_generic_start_checks_the_report_first(client, tokens):
    admin = tokens["jaadmin01"]
    future = (datetime.now(CST) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    refused = client.post("/api/v1/processes/credential_leak/instances",
                          json={"data": {"account": "jahosp001", "discovered_at": future, "description": "x"}},
                          headers=admin)
    assert refused.status_code == 422 and refused.json["fields"] == {"discovered_at": ["发现时间不能晚于当前时间"]}
    outsider = client.post("/api/v1/processes/credential_leak/instances",
                           json={"data": {"account": "jahosp001", "discovered_at": discovered(),
                                          "description": "x"}}, headers=tokens["whadmin01"])
    assert outsider.status_code == 403
    denied = Session().scalars(select(AuditEvent).where(AuditEvent.action == "access_denied")
                               .order_by(AuditEvent.id.desc())).first()
    assert denied.actor_name == "whadmin01" and denied.detail["attempted"] == "leak_report"
    assert Session().scalars(select(User).where(User.username == "jahosp001")).one().lock_reason is None
    started = client.post("/api/v1/processes/credential_leak/instances",
                          json={"data": {"account": "jahosp001", "discovered_at": discovered(),
                                         "description": DESCRIPTION}}, headers=admin)
    assert started.status_code == 201 and started.json["tasks"][0]["name"] == "check_admin"


def test_bad_report_bodies(client, tokens):
    admin = tokens["jaadmin01"]
    assert client.post("/api/v1/leaks", data="x", headers=admin).status_code == 422
    wrong = client.post("/api/v1/leaks", json={"account": 5, "discovered_at": discovered(), "description": "x"},
                        headers=admin)
    assert wrong.status_code == 422 and wrong.json["fields"] == {"account": ["应为字符串"]}
    missing = client.post("/api/v1/leaks", json={"account": "jahosp001"}, headers=admin)
    assert set(missing.json["fields"]) == {"discovered_at", "description"}
    assert client.get("/api/v1/leaks", headers=tokens["jahosp001"]).status_code == 403   # no lock-list point


def test_openapi_describes_the_leak_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/leaks", "/leaks/{instance_id}"} <= set(paths)


# --- pages ---------------------------------------------------------------------------------------------------------

def login(client, username, password=DEMO_PASSWORD):
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 303
    return response


def test_an_admin_reports_and_works_the_case_on_the_pages(client, ready):
    ready("jaadmin01", "jahosp001", verified=True)
    login(client, "jaadmin01")
    page = client.get("/leaks/report").get_data(as_text=True)
    assert 'name="account"' in page and '<option value="jahosp001">' in page and 'type="datetime-local"' in page
    assert "报告账号泄露" in client.get("/").get_data(as_text=True)          # in the menu
    error = client.post("/leaks/report", data={"account": "jahosp001", "discovered_at": "", "description": ""})
    assert error.status_code == 422
    text = error.get_data(as_text=True)
    assert "请填写发现时间" in text and "请填写情况说明" in text and 'value="jahosp001"' in text

    done = client.post("/leaks/report", data={"account": "jahosp001", "discovered_at": discovered(26),
                                              "description": DESCRIPTION})
    assert done.status_code == 303 and re.fullmatch(r"/leaks/\d+", done.location)
    instance_id = int(done.location.rsplit("/", 1)[1])
    case = client.get(done.location).get_data(as_text=True)
    assert "已暂停使用并强制下线" in case and "超过24小时才报告" in case             # the flash and the late warning
    assert "暂停账号使用并强制下线" in case and "已暂停（账号密码泄露）" in case
    listing = client.get("/leaks/").get_data(as_text=True)
    assert f"/leaks/{instance_id}" in listing and "逾期报告" in listing
    assert client.get("/processes/credential_leak/start").location.endswith("/leaks/report")

    task_url = re.search(r'href="(/tasks/\d+)">办理「业务管理员核查所报数据」', case).group(1)
    task_page = client.get(task_url).get_data(as_text=True)
    assert 'id="credential-leak"' in task_page and "jahosp001" in task_page
    assert client.post(f"{task_url}/claim").status_code == 303
    assert client.post(task_url, data={"result": "normal", "comment": "未发现异常"}).status_code == 303
    reset_url = re.search(r'href="(/tasks/\d+)">办理「重置密码并恢复账号」',
                          client.get(done.location).get_data(as_text=True)).group(1)
    assert client.post(f"{reset_url}/claim").status_code == 303
    reset_page = client.get(reset_url).get_data(as_text=True)
    assert 'id="reset-notice"' in reset_page
    unconfirmed = client.post(reset_url, data={})
    assert unconfirmed.status_code == 422 and "请勾选" in unconfirmed.get_data(as_text=True)
    assert Session().scalars(select(User).where(User.username == "jahosp001")).one().password_change_reason is None
    shown = client.post(reset_url, data={"confirm": "true"})
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    html = shown.get_data(as_text=True)
    password = markup.unescape(re.search(r'id="one-time-password" class="secret">([^<]+)<', html).group(1))
    assert "密码已重置，账号已恢复" in html and "下一步：填写处置记录" in html
    assert password not in client.get(reset_url).get_data(as_text=True)
    assert password not in client.get(f"/instances/{instance_id}").get_data(as_text=True)

    record_url = re.search(r'href="(/tasks/\d+)">下一步', html).group(1)
    assert client.post(record_url, data={"record": "已处置"}).status_code == 303
    final = client.get(f"/leaks/{instance_id}").get_data(as_text=True)
    assert "已办结" in final and "处置办结" in final and "正常使用" in final

    client.post("/logout")
    login(client, "jahosp001", password)
    assert client.get("/").location.endswith("/password")                   # the change comes first


def test_a_self_report_on_the_page_ends_the_session(client, ready):
    ready("jahosp001", "jaadmin01", verified=True)
    login(client, "jahosp001")
    form = client.get("/leaks/report").get_data(as_text=True)
    assert 'name="account"' not in form and 'id="leak-own-account">jahosp001<' in form
    answer = client.post("/leaks/report", data={"discovered_at": discovered(1), "description": DESCRIPTION})
    assert answer.status_code == 200 and "已暂停使用，所有登录已结束" in answer.get_data(as_text=True)
    assert client.get("/").status_code == 302                                 # logged out
    assert client.get("/leaks/").status_code == 302
    login(client, "jaadmin01")
    assert "jahosp001" in client.get("/leaks/").get_data(as_text=True)


def test_the_system_administrator_is_pointed_to_the_account_pages(client, ready):
    ready("sysadmin01", verified=True)
    login(client, "sysadmin01")
    page = client.get("/leaks/report").get_data(as_text=True)
    assert 'id="leak-no-org"' in page and 'id="leak-report-form"' not in page
    refused = client.post("/leaks/report", data={"account": "jahosp001", "discovered_at": discovered(),
                                                 "description": DESCRIPTION})
    assert refused.status_code == 403 and "人员账号管理" in refused.get_data(as_text=True)
    assert client.get("/leaks/").status_code == 200


def test_the_case_list_is_for_administrators(client, ready):
    ready("jahosp001", verified=True)
    login(client, "jahosp001")
    assert client.get("/leaks/").status_code == 403
    assert "账号泄露处置" not in client.get("/").get_data(as_text=True)
