"""用户申请 over HTTP: the JSON API end to end with bearer tokens (the generic process endpoints, the initial
password returned once, the receipt), the refusals, and the pages (list, form, leader's task page, the admin's
decision page, the password shown once, the receipt download)."""
import re
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from stdnum.cn import ric

from models import Session
from models.accounts import Permission, Role, User
from models.audit import AuditEvent
from tests.conftest import DEMO_PASSWORD
from workflows import accounts, auth, permissions

CST = timezone(timedelta(hours=8))
NEW_PASSWORD = "Yh#5207tkW"
ID_NUMBER = "42010219900101003" + ric.calc_check_digit("42010219900101003" + "0")
KEY = "account_application"


def today(days=0):
    return (datetime.now(CST).date() + timedelta(days=days)).isoformat()


def role_id(code):
    return Session().scalars(select(Role.id).where(Role.code == code)).one()


def application(**changes):
    values = {"applicant_name": "张三", "department": "办公室", "id_number": ID_NUMBER, "gender": "男",
              "mobile": "13800138000", "email": "zhangsan@example.cn", "unit_nature": "卫生行政部门",
              "mh_center": "no", "user_type": "business_admin", "purpose": "manage",
              "role_ids": [role_id("county_admin")], "valid_from": today(), "valid_until": today(365)}
    values.update(changes)
    return values


@pytest.fixture
def tokens(ready, api_login):
    names = ("jaadmin01", "jaleader01", "whadmin01", "wcadmin01", "sysadmin01")
    ready(*names, verified=True)
    return {name: api_login(name) for name in names}


def tasks(client, headers, view="claimable"):
    return client.get(f"/api/v1/tasks?view={view}&process={KEY}", headers=headers).json["items"]


def complete(client, headers, task_id, data):
    return client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=headers)


def start(client, headers, data):
    return client.post(f"/api/v1/processes/{KEY}/instances", json={"data": data}, headers=headers)


def to_decision(client, tokens, **changes):
    started = start(client, tokens["jaadmin01"], application(**changes))
    assert started.status_code == 201, started.json
    (leader,) = tasks(client, tokens["jaleader01"])
    signed = complete(client, tokens["jaleader01"], leader["id"], {"decision": "approve"})
    assert signed.status_code == 200, signed.json
    return started.json["id"], signed.json["tasks"][0]


def test_the_whole_application_through_the_api(client, tokens):
    applicant, leader, city = tokens["jaadmin01"], tokens["jaleader01"], tokens["whadmin01"]
    options = client.get("/api/v1/account-applications/options", headers=applicant).json
    assert options["can_apply"] is True and options["org"]["name"] == "江岸区卫生健康局"
    assert [t["value"] for t in options["user_types"]] == ["business_admin", "same_level_1", "same_level_2"]
    assert role_id("county_admin") in [r["id"] for r in options["roles"]]
    assert role_id("system_admin") not in [r["id"] for r in options["roles"]]

    refused = start(client, applicant, application(gender="女"))
    assert refused.status_code == 422 and set(refused.json["fields"]) == {"gender"}
    assert start(client, tokens["sysadmin01"], application()).status_code == 403      # no unit

    started = start(client, applicant, application())
    assert started.status_code == 201, started.json
    instance_id = started.json["id"]
    assert started.json["title"] == "用户申请：张三（业务管理员）"
    assert [t["name"] for t in started.json["tasks"]] == ["leader_review"]

    (task,) = tasks(client, leader)
    assert (task["lane"], task["lane_label"]) == ("unit_leader", "单位主管领导")
    assert tasks(client, city) == [] and tasks(client, tokens["wcadmin01"]) == []
    form = client.get(f"/api/v1/tasks/{task['id']}", headers=leader).json["form"]
    assert form["schema"]["properties"]["decision"]["title"] == "审批意见"
    signed = complete(client, leader, task["id"], {"decision": "approve"})
    assert signed.status_code == 200 and [t["name"] for t in signed.json["tasks"]] == ["decide_superior"]

    assert client.get(f"/api/v1/account-applications/{instance_id}", headers=tokens["wcadmin01"]).status_code == 404
    (decide,) = tasks(client, city)
    assert decide["lane_label"] == "上级业务管理员"
    no_reason = complete(client, city, decide["id"], {"decision": "refuse"})
    assert no_reason.status_code == 422 and set(no_reason.json["fields"]) == {"comment"}
    granted = complete(client, city, decide["id"], {"decision": "grant"})
    assert granted.status_code == 200, granted.json
    password = granted.json["initial_password"]
    assert granted.json["account"] == "gly-ja-zhangsan" and granted.json["must_change_password"] is True
    assert granted.json["status"] == "completed" and granted.json["application"]["status"] == "granted"
    again = complete(client, city, decide["id"], {"decision": "grant"})
    assert again.status_code == 409 and "initial_password" not in again.json

    detail = client.get(f"/api/v1/account-applications/{instance_id}", headers=applicant)
    assert detail.status_code == 200 and password not in detail.get_data(as_text=True)
    view = detail.json["application"]
    assert view["account"]["username"] == "gly-ja-zhangsan" and view["decision"]["label"] == "批准"
    assert view["application"]["id_number"] == ID_NUMBER
    receipt = client.get(f"/api/v1/account-applications/{instance_id}/receipt", headers=applicant)
    assert receipt.status_code == 200 and receipt.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=receipt.data, capture_output=True,
                          check=True).stdout.decode()
    assert "gly-ja-zhangsan" in text and "由业务管理员单独告知用户本人" in text and password not in text
    assert "http://localhost/login" in text                              # this server's login page
    same = client.get(f"/api/v1/files/{view['receipt']['file_id']}", headers=applicant)
    assert same.status_code == 200 and same.data == receipt.data
    receipt.close()
    same.close()
    listed = client.get("/api/v1/account-applications", headers=applicant).json
    assert listed["total"] == 1 and listed["items"][0]["status_label"] == "已批准"
    assert "/account-applications" in client.get("/api/v1/openapi.json").json["paths"]

    # the new account: the initial password once, a forced change, then the real-name gate
    login = client.post("/api/v1/auth/login", json={"username": "gly-ja-zhangsan", "password": password})
    assert login.status_code == 200 and login.json["must_change_password"] is True
    fresh = {"Authorization": f"Bearer {login.json['token']}"}
    assert client.get("/api/v1/tasks", headers=fresh).json["error"] == "password_change_required"
    changed = client.post("/api/v1/me/password", json={"current_password": password, "new_password": NEW_PASSWORD},
                          headers=fresh)
    assert changed.status_code == 204
    assert client.get("/api/v1/tasks", headers=fresh).json["error"] == "real_name_required"


def test_a_return_resubmission_and_withdrawal_through_the_generic_task_api(client, tokens):
    applicant, leader = tokens["jaadmin01"], tokens["jaleader01"]
    instance_id = start(client, applicant, application()).json["id"]
    (task,) = tasks(client, leader)
    returned = complete(client, leader, task["id"], {"decision": "reject", "comment": "请补充所在部门全称"})
    assert returned.status_code == 200 and [t["name"] for t in returned.json["tasks"]] == ["fill"]
    (fill,) = tasks(client, applicant, "assigned")
    data = {k: v for k, v in client.get(f"/api/v1/tasks/{fill['id']}", headers=applicant).json["data"].items()
            if v is not None}                                           # the previous answers
    assert data["applicant_name"] == "张三" and data["role_ids"] == [role_id("county_admin")]
    bad = complete(client, applicant, fill["id"], {**data, "gender": "女"})
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"gender"}
    again = complete(client, applicant, fill["id"], {**data, "department": "办公室（综合科）"})
    assert again.status_code == 200 and [t["name"] for t in again.json["tasks"]] == ["leader_review"]
    (task,) = tasks(client, leader)
    complete(client, leader, task["id"], {"decision": "reject", "comment": "暂不开通"})
    (fill,) = tasks(client, applicant, "assigned")
    withdrawn = complete(client, applicant, fill["id"], {"action": "withdraw"})
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "completed"
    view = client.get(f"/api/v1/account-applications/{instance_id}", headers=applicant).json["application"]
    assert view["status"] == "withdrawn" and view["receipt"] is None


def test_a_role_the_admin_cannot_grant_is_refused_and_the_task_stays_open(client, tokens, users):
    own = Role(name="码表维护员", org_id=users("jaadmin01").org_id)
    own.permissions = list(Session().scalars(select(Permission).where(
        Permission.code.in_(permissions.with_ancestors({"sys.codes"})))))
    Session().add(own)
    Session().commit()
    _instance_id, decide = to_decision(client, tokens, role_ids=[role_id("county_admin"), own.id])
    city = tokens["whadmin01"]
    refused = complete(client, city, decide["id"], {"decision": "grant"})
    assert refused.status_code == 403 and refused.json["error"] == "cannot_grant"
    assert "码表维护员" in refused.json["message"]
    assert client.get(f"/api/v1/tasks/{decide['id']}", headers=city).json["state"] == "ready"
    denied = Session().scalars(select(AuditEvent).where(AuditEvent.action == "access_denied")
                               .order_by(AuditEvent.id.desc())).first()
    assert denied.actor_name == "whadmin01" and denied.detail["attempted"] == "account_application_decide"
    changed = complete(client, city, decide["id"], {"decision": "grant_changed", "comment": "码表维护不在本级授权范围",
                                                    "new_role_ids": [role_id("county_admin")]})
    assert changed.status_code == 200 and changed.json["account"] == "gly-ja-zhangsan"


def test_outsiders_cannot_decide(client, tokens):
    instance_id, decide = to_decision(client, tokens)
    assert complete(client, tokens["wcadmin01"], decide["id"], {"decision": "grant"}).status_code == 404
    own = complete(client, tokens["jaadmin01"], decide["id"], {"decision": "grant"})
    assert own.status_code == 403                                           # the applicant never decides
    assert Session().scalars(select(User).where(User.username == "gly-ja-zhangsan")).first() is None
    assert client.get(f"/api/v1/account-applications/{instance_id}/receipt",
                      headers=tokens["jaadmin01"]).status_code == 404       # no receipt yet


# --- pages ---------------------------------------------------------------------------------------------------------

def login(app, username):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303
    return client


def posted(**changes):
    values = application(**changes)
    return {**{k: v for k, v in values.items() if k != "role_ids"}, "role_ids": [str(i) for i in values["role_ids"]]}


def add_colleague(username="bj-ja-colleague"):
    """A same-level user of 江岸区卫生健康局 holding 我的申请, not involved in the application."""
    admin = Session().scalars(select(User).where(User.username == "sysadmin01")).one()
    org_id = Session().scalars(select(User.org_id).where(User.username == "jaadmin01")).one()
    user, _ = accounts.create_user(admin, user_type="same_level_2", org_id=org_id, display_name="同事",
                                   username=username, role_ids=[role_id("same_level_2")])
    auth.set_password(user, DEMO_PASSWORD)
    user.password_change_reason, user.real_name_verified = None, True
    Session.commit()
    return username


def test_the_application_on_the_pages(app, ready):
    ready("jaadmin01", "jaleader01", "whadmin01", "wcadmin01", "sysadmin01", verified=True)
    applicant = login(app, "jaadmin01")
    assert ">用户申请</a>" in applicant.get("/").get_data(as_text=True)              # in the menu
    assert applicant.get(f"/processes/{KEY}/start").location.endswith("/account-applications/new")
    page = applicant.get("/account-applications/new").get_data(as_text=True)
    assert "江岸区卫生健康局" in page and 'name="role_ids"' in page and 'value="business_admin"' in page
    assert 'value="direct_report"' not in page                                   # not for a health commission
    empty = applicant.post("/account-applications/new", data={"action": "submit"})
    assert empty.status_code == 422
    text = empty.get_data(as_text=True)
    assert "请填写“申请人姓名”" in text and "请填写“身份证号”" in text
    wrong = applicant.post("/account-applications/new", data=posted(gender="女"))
    assert wrong.status_code == 422 and "性别与身份证号码不符" in wrong.get_data(as_text=True)
    assert 'value="张三"' in wrong.get_data(as_text=True)                          # the values stay
    done = applicant.post("/account-applications/new", data=posted())
    assert done.status_code == 303 and re.fullmatch(r"/account-applications/\d+", done.location)
    instance_id = int(done.location.rsplit("/", 1)[1])
    detail = applicant.get(done.location).get_data(as_text=True)
    assert "用户申请已提交" in detail and "待单位主管领导审批" in detail and ID_NUMBER in detail
    assert f"/account-applications/{instance_id}" in applicant.get("/account-applications/").get_data(as_text=True)

    leader = login(app, "jaleader01")
    task_url = re.search(r'href="(/tasks/\d+)">', leader.get("/inbox/?view=claimable").get_data(as_text=True)).group(1)
    task_page = leader.get(task_url).get_data(as_text=True)
    assert 'id="account-application"' in task_page and "张三" in task_page
    assert leader.post(f"{task_url}/claim").status_code == 303
    assert leader.post(task_url, data={"decision": "approve"}).status_code == 303

    city = login(app, "whadmin01")
    decide_task = re.search(r'href="/tasks/(\d+)">', city.get("/inbox/?view=claimable").get_data(as_text=True)).group(1)
    redirected = city.get(f"/tasks/{decide_task}")
    assert redirected.status_code == 303
    assert redirected.location.endswith(f"/account-applications/tasks/{decide_task}/decide")
    decide_page = city.get(redirected.location).get_data(as_text=True)
    assert 'id="decide-form"' in decide_page and "县级业务管理员" in decide_page and ID_NUMBER in decide_page
    missing = city.post(redirected.location, data={"decision": "other"})
    assert missing.status_code == 422 and "请填写“理由”" in missing.get_data(as_text=True)
    shown = city.post(redirected.location, data={"decision": "grant"})
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    html = shown.get_data(as_text=True)
    password = re.search(r'id="one-time-password" class="secret">([^<]+)<', html).group(1)
    assert "gly-ja-zhangsan" in html and len(password) >= 8
    after = city.get(redirected.location).get_data(as_text=True)
    assert 'id="task-done"' in after and password not in after

    detail = applicant.get(f"/account-applications/{instance_id}").get_data(as_text=True)
    assert "已批准" in detail and "gly-ja-zhangsan" in detail and password not in detail
    assert 'id="receipt-link"' in detail
    receipt = applicant.get(f"/account-applications/{instance_id}/receipt")
    assert receipt.status_code == 200 and receipt.mimetype == "application/pdf"
    receipt.close()
    listing = applicant.get("/account-applications/").get_data(as_text=True)
    assert "已批准" in listing and "gly-ja-zhangsan" in listing
    diagram = applicant.get(f"/instances/{instance_id}").get_data(as_text=True)     # the BPMN diagram renders
    for done in ("fill", "check", "leader_review", "decide_superior", "create_account", "issue_receipt"):
        assert re.search(rf'id="shape-{done}" class="[^"]*\bcompleted\b', diagram), done

    # a colleague of the unit sees the application and its outcome, not the full ID number nor the receipt
    colleague = add_colleague()
    seen = login(app, colleague).get(f"/account-applications/{instance_id}")
    assert seen.status_code == 200
    text = seen.get_data(as_text=True)
    assert "gly-ja-zhangsan" in text and ID_NUMBER not in text and "420102********003" in text
    assert 'id="receipt-link"' not in text
    assert login(app, colleague).get(f"/account-applications/{instance_id}/receipt").status_code == 404
    assert login(app, "wcadmin01").get(f"/account-applications/{instance_id}").status_code == 404

    admin = login(app, "sysadmin01")
    own = admin.get("/account-applications/")
    assert own.status_code == 200 and 'id="application-no-org"' in own.get_data(as_text=True)
    assert admin.get("/account-applications/new").status_code == 303


def test_a_returned_application_is_corrected_or_withdrawn_on_its_page(app, ready):
    ready("jaadmin01", "jaleader01", verified=True)
    applicant = login(app, "jaadmin01")
    instance_id = int(applicant.post("/account-applications/new", data=posted()).location.rsplit("/", 1)[1])
    leader = login(app, "jaleader01")
    task_url = re.search(r'href="(/tasks/\d+)">', leader.get("/inbox/?view=claimable").get_data(as_text=True)).group(1)
    leader.post(task_url, data={"decision": "reject", "comment": "请填写正确的部门"})
    mine = re.search(r'href="(/tasks/\d+)">', applicant.get("/inbox/?view=assigned").get_data(as_text=True)).group(1)
    assert applicant.get(mine).location.endswith(f"/account-applications/{instance_id}/edit")
    edit = applicant.get(f"/account-applications/{instance_id}/edit").get_data(as_text=True)
    assert "请填写正确的部门" in edit and 'value="张三"' in edit and 'id="withdraw"' in edit
    assert applicant.post(f"/account-applications/{instance_id}/withdraw").status_code == 303
    detail = applicant.get(f"/account-applications/{instance_id}").get_data(as_text=True)
    assert "用户申请已撤回" in detail and "已撤回" in detail
