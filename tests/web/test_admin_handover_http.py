"""业务管理员交接 over HTTP: the generic JSON API end to end with the bearer tokens of the outgoing admin, the
successor, the unit leader and the superior admin; the process's own checks in front of the generic endpoints;
the pages (list, report form, handover page, task page additions) and the menu entry."""
import re
import subprocess

import pytest
from sqlalchemy import select

from models import Session
from models.accounts import Role, User, UserType
from models.audit import AuditEvent
from tests.conftest import DEMO_PASSWORD
from workflows import accounts, auth, handovers

SUCCESSOR = "bj-ja-jieren"
CHECKED = {"account_info": True, "password": True, "user_info": True, "documents": True, "decision": "confirm"}


def planned():
    return handovers.today_in_china().isoformat()


@pytest.fixture
def successor(ready):
    ready("jaadmin01", "whadmin01", "wcadmin01", "jaleader01", "jahosp001", verified=True)
    admin = Session().scalars(select(User).where(User.username == "sysadmin01")).one()
    org_id = Session().scalars(select(User.org_id).where(User.username == "jaadmin01")).one()
    role = Session().scalars(select(Role).where(Role.code == "same_level_2")).one()
    user, _ = accounts.create_user(admin, user_type=UserType.SAME_LEVEL_2, org_id=org_id, display_name="接任人甲",
                                   username=SUCCESSOR, role_ids=[role.id])
    auth.set_password(user, DEMO_PASSWORD)
    user.real_name_verified = True
    Session.commit()
    return user


@pytest.fixture
def tokens(successor, api_login):
    return {name: api_login(name) for name in ("jaadmin01", SUCCESSOR, "jaleader01", "whadmin01", "wcadmin01")}


def complete(client, headers, task_id, data):
    return client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=headers)


def start(client, headers, successor_id, **extra):
    data = {"successor_id": successor_id, "reason": "工作调动", "planned_date": planned(), **extra}
    return client.post("/api/v1/processes/admin_handover/instances", json={"data": data}, headers=headers)


def test_the_whole_handover_through_the_generic_api(client, tokens, successor):
    outgoing, incoming, leader, superior = (tokens["jaadmin01"], tokens[SUCCESSOR], tokens["jaleader01"],
                                            tokens["whadmin01"])
    choices = client.get("/api/v1/handovers/successors", headers=outgoing).json
    assert [c["username"] for c in choices["items"]] == [SUCCESSOR] and choices["start_refusal"] is None

    started = start(client, outgoing, successor.id)
    assert started.status_code == 201, started.json
    instance_id = started.json["id"]
    assert {(t["name"], t["lane"], t["assignee"]) for t in started.json["tasks"]} == {
        ("confirm_outgoing", "applicant", "jaadmin01"), ("confirm_incoming", "successor", SUCCESSOR)}

    # the successor finds its named task among its own, never among the claimable ones of others
    (mine,) = client.get("/api/v1/tasks?view=assigned&process=admin_handover", headers=incoming).json["items"]
    assert (mine["name"], mine["lane_label"]) == ("confirm_incoming", "接任业务管理员")
    assert client.get("/api/v1/tasks?view=claimable", headers=leader).json["total"] == 0
    form = client.get(f"/api/v1/tasks/{mine['id']}", headers=incoming).json["form"]
    assert form["schema"]["properties"]["documents"]["title"] == "文档"
    unticked = complete(client, incoming, mine["id"], {**CHECKED, "documents": False})
    assert unticked.status_code == 422 and unticked.json["fields"] == {"documents": "请勾选“文档”"}
    assert complete(client, incoming, mine["id"], {**CHECKED, "user_info_note": "用户清单共38人"}).status_code == 200

    (own,) = client.get("/api/v1/tasks?view=assigned&process=admin_handover", headers=outgoing).json["items"]
    answered = complete(client, outgoing, own["id"], CHECKED)
    assert answered.status_code == 200 and [t["name"] for t in answered.json["tasks"]] == ["leader_signoff"]

    (signoff,) = client.get("/api/v1/tasks?view=claimable", headers=leader).json["items"]
    assert client.post(f"/api/v1/tasks/{signoff['id']}/claim", headers=leader).status_code == 200
    signed = complete(client, leader, signoff["id"], {"decision": "approve", "comment": "同意"})
    assert [t["name"] for t in signed.json["tasks"]] == ["superior_approval"]

    (approval,) = client.get("/api/v1/tasks?view=claimable", headers=superior).json["items"]
    assert client.post(f"/api/v1/tasks/{approval['id']}/claim", headers=superior).status_code == 200
    assert complete(client, superior, approval["id"], {"decision": "approve"}).status_code == 422   # no opinion
    done = complete(client, superior, approval["id"], {"decision": "approve", "comment": "批准交接"})
    assert done.status_code == 200 and done.json["status"] == "completed"

    body = client.get(f"/api/v1/handovers/{instance_id}", headers=superior).json
    handover = body["handover"]
    assert handover["status_label"] == "已完成交接" and handover["leader"]["by"] == "jaleader01"
    assert handover["sides"]["incoming"]["last"]["items"][2] == {"key": "user_info", "label": "用户信息",
                                                                  "checked": True, "note": "用户清单共38人"}
    assert handover["approval"]["comment"] == "批准交接"
    kinds = [e["kind"] for e in body["history"]]
    assert kinds[-2:] == ["handover_done", "completed"] and "handover_reported" in kinds
    report = client.get(f"/api/v1/files/{handover['report_file']['id']}", headers=superior)
    assert report.status_code == 200 and report.mimetype == "application/pdf"
    data = report.get_data()
    report.close()
    text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    for expected in ("江岸区卫生健康局", "jaadmin01", "接任人甲", SUCCESSOR, "工作调动", "用户清单共38人", "jaleader01",
                     "whadmin01", "批准交接"):
        assert expected in text, expected

    # the outgoing admin's token died with its account; the successor signs in again as the business admin
    assert client.get("/api/v1/me", headers=outgoing).status_code == 401
    assert client.get("/api/v1/me", headers=incoming).status_code == 401
    again = client.post("/api/v1/auth/login", json={"username": SUCCESSOR, "password": DEMO_PASSWORD})
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {again.json['token']}"}).json
    assert me["user_type"] == "business_admin" and "sys.handover" in me["permissions"]
    locked = client.post("/api/v1/auth/login", json={"username": "jaadmin01", "password": DEMO_PASSWORD})
    assert locked.status_code == 423
    listed = client.get("/api/v1/handovers", headers=superior).json
    assert [h["instance_id"] for h in listed["items"]] == [instance_id]
    assert client.get("/api/v1/handovers", headers=tokens["wcadmin01"]).json["total"] == 0
    assert client.get(f"/api/v1/handovers/{instance_id}", headers=tokens["wcadmin01"]).status_code == 404


def test_the_generic_start_runs_the_handover_checks_first(client, tokens, successor):
    outgoing = tokens["jaadmin01"]
    empty = client.post("/api/v1/processes/admin_handover/instances", json={}, headers=outgoing)
    assert empty.status_code == 422 and empty.json["error"] == "invalid_input"
    leader_id = Session().scalars(select(User.id).where(User.username == "jaleader01")).one()
    wrong = start(client, outgoing, leader_id)
    assert wrong.status_code == 422
    assert wrong.json["fields"] == {"successor_id": ["单位负责人须为交接签字确认，不能同时作为接任人"]}
    refused = start(client, tokens["jaleader01"], successor.id)
    assert refused.status_code == 403
    denied = Session().scalars(select(AuditEvent).where(AuditEvent.action == "access_denied")
                               .order_by(AuditEvent.id.desc())).first()
    assert denied.actor_name == "jaleader01" and denied.detail["attempted"] == "admin_handover_start"
    assert client.get("/api/v1/handovers/successors", headers=tokens["jaleader01"]).status_code == 403
    assert start(client, outgoing, successor.id).status_code == 201
    twice = start(client, outgoing, successor.id)
    assert twice.status_code == 409 and twice.json["error"] == "handover_open"
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/handovers", "/handovers/successors", "/handovers/{instance_id}"} <= set(paths)
    assert "successor_unavailable" in paths["/handovers"]["get"]["description"]


def test_the_named_task_and_the_approval_recheck_over_the_api(client, tokens, successor):
    outgoing, incoming, leader, superior = (tokens["jaadmin01"], tokens[SUCCESSOR], tokens["jaleader01"],
                                            tokens["whadmin01"])
    tasks = {t["name"]: t for t in start(client, outgoing, successor.id).json["tasks"]}
    named = tasks["confirm_incoming"]["id"]
    taken = client.post(f"/api/v1/tasks/{named}/claim", headers=outgoing)
    assert taken.status_code == 409 and taken.json["assignee"] == SUCCESSOR
    assert complete(client, outgoing, named, CHECKED).status_code == 403
    assert client.post(f"/api/v1/tasks/{named}/release", headers=incoming).status_code == 403
    handed = client.post(f"/api/v1/tasks/{named}/reassign", json={"username": "jaleader01"}, headers=incoming)
    assert handed.status_code == 403 and handed.json["message"] == "该任务指定由本人办理，不能放回或转办"
    assert client.get(f"/api/v1/tasks/{named}", headers=leader).status_code == 404

    complete(client, incoming, named, CHECKED)
    complete(client, outgoing, tasks["confirm_outgoing"]["id"], CHECKED)
    (signoff,) = client.get("/api/v1/tasks?view=claimable", headers=leader).json["items"]
    approval = complete(client, leader, signoff["id"], {"decision": "approve"}).json["tasks"][0]
    accounts.lock_user(Session().scalars(select(User).where(User.username == "sysadmin01")).one(),
                       Session().get(User, successor.id))
    Session.commit()
    refused = complete(client, superior, approval["id"], {"decision": "approve", "comment": "同意"})
    assert refused.status_code == 409 and refused.json["error"] == "successor_unavailable"
    assert Session().scalars(select(User.user_type).where(User.username == "jaadmin01")).one() == "business_admin"
    rejected = complete(client, superior, approval["id"], {"decision": "refuse", "comment": "接任人账号已锁定"})
    assert rejected.status_code == 200 and rejected.json["status"] == "completed"


# --- pages ---------------------------------------------------------------------------------------------------

def page_client(app, username):
    browser = app.test_client()
    response = browser.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303
    return browser


def test_the_pages_from_the_report_to_the_archived_report(app, client, successor):
    admin = page_client(app, "jaadmin01")
    home = admin.get("/").get_data(as_text=True)
    assert 'href="/handovers/"' in home and "业务管理员交接" in home
    assert admin.get("/processes/admin_handover/start").headers["Location"].endswith("/handovers/new")
    form = admin.get("/handovers/new").get_data(as_text=True)
    assert f'<option value="{successor.id}">接任人甲（{SUCCESSOR}，本级用户2）</option>' in form
    assert "jaleader01" not in form
    bad = admin.post("/handovers/new", data={"successor_id": str(successor.id), "planned_date": "2020-01-01"})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "请填写“交接原因”" in page and 'id="f-reason-error"' in page
    posted = admin.post("/handovers/new", data={"successor_id": str(successor.id), "reason": "工作调动",
                                                "planned_date": planned()})
    assert posted.status_code == 303
    detail_path = posted.headers["Location"]
    instance_id = int(re.search(r"/handovers/(\d+)$", detail_path).group(1))
    detail = admin.get(detail_path).get_data(as_text=True)
    assert "已报告上级业务管理员" in detail and 'id="handover-checklist"' in detail
    assert "办理「原业务管理员核对交接清单」" in detail
    listing = admin.get("/handovers/").get_data(as_text=True)
    assert f'data-id="{instance_id}"' in listing and "发起交接</a>" not in listing   # one open per unit

    # the successor's task page carries the handover's facts; the checklist is posted there
    incoming = page_client(app, SUCCESSOR)
    inbox = incoming.get("/inbox/?view=assigned").get_data(as_text=True)
    task_id = int(re.search(r'href="/tasks/(\d+)"', inbox).group(1))
    task_page = incoming.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="admin-handover"' in task_page and 'id="checklist-notice"' in task_page
    assert incoming.post(f"/tasks/{task_id}", data={"decision": "confirm", "account_info": "true"}).status_code == 422
    ticked = {"account_info": "true", "password": "true", "user_info": "true", "documents": "true",
              "decision": "confirm"}
    assert incoming.post(f"/tasks/{task_id}", data=ticked).status_code == 303
    own_task = int(re.search(r'href="/tasks/(\d+)"', admin.get(detail_path).get_data(as_text=True)).group(1))
    assert admin.post(f"/tasks/{own_task}", data=ticked).status_code == 303

    leader = page_client(app, "jaleader01")
    signoff = int(re.search(r'href="/tasks/(\d+)"', leader.get("/inbox/?view=claimable").get_data(as_text=True))
                  .group(1))
    leader.post(f"/tasks/{signoff}/claim")
    assert leader.post(f"/tasks/{signoff}", data={"decision": "approve"}).status_code == 303
    superior = page_client(app, "whadmin01")
    approval = int(re.search(r'href="/tasks/(\d+)"', superior.get("/inbox/?view=claimable").get_data(as_text=True))
                   .group(1))
    superior.post(f"/tasks/{approval}/claim")
    assert 'id="approval-notice"' in superior.get(f"/tasks/{approval}").get_data(as_text=True)
    assert superior.post(f"/tasks/{approval}", data={"decision": "approve", "comment": "批准"}).status_code == 303
    done = superior.get(detail_path).get_data(as_text=True)
    assert 'id="handover-report"' in done and "已完成交接" in done and "完成交接" in done
    file_id = int(re.search(r'id="handover-report" href="/files/(\d+)"', done).group(1))
    download = superior.get(f"/files/{file_id}")
    assert download.mimetype == "application/pdf" and download.get_data().startswith(b"%PDF-")
    download.close()
    assert admin.get(detail_path).status_code == 302        # the outgoing account was locked: its session ended


def test_pages_refuse_outsiders_and_the_approval_recheck_is_a_message(app, client, successor):
    assert page_client(app, "jaleader01").get("/handovers/").status_code == 403
    assert page_client(app, "jahosp001").get("/handovers/new").status_code == 403
    admin = page_client(app, "jaadmin01")
    posted = admin.post("/handovers/new", data={"successor_id": str(successor.id), "reason": "工作调动",
                                                "planned_date": planned()})
    detail_path = posted.headers["Location"]
    assert page_client(app, "wcadmin01").get(detail_path).status_code == 404
    again = admin.get("/handovers/new", follow_redirects=True).get_data(as_text=True)
    assert "本单位已有一项业务管理员交接正在办理" in again
