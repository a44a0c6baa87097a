"""员工离职 over HTTP: the JSON API end to end with bearer tokens (the personnel endpoints for the record, the task
endpoints for the review), its refusals, and the pages (list, new with the staff search, edit, submit, record,
the reviewer's task page with the employee, the status shown afterwards).

Requests end by removing the session, so tests keep ids and usernames, never ORM objects, across requests.
"""
import re

import pytest
from sqlalchemy import select

from models import Session
from models.orgs import Staff
from tests.conftest import DEMO_PASSWORD
from tests.workflows.test_resignation import RESIGN, member

LEAVE = {"staff_no": "JA0002", "resignation_type": "辞职", "leave_date": "2026-03-31", "note": "个人原因"}


@pytest.fixture
def people(ready):
    """The demo hospital accounts, a personnel officer (员工离职), an account without 员工离职, and 李娜's own
    account (linked to staff JA0002)."""
    ready("jahosp001", "wchosp001", "jaadmin01", verified=True)
    member("jahr00001", RESIGN, "approval.requests")
    member("jasub0001", "approval.requests")
    member("jahr00003", "approval.requests", staff_no="JA0002")
    Session.commit()


@pytest.fixture
def token(people, api_login):
    cache = {}

    def get(username):
        if username not in cache:
            cache[username] = api_login(username)
        return cache[username]
    return get


def staff_status(staff_no):
    Session.remove()
    return Session().scalars(select(Staff.employment_status).where(Staff.staff_no == staff_no)).one()


def test_the_api_end_to_end(client, token):
    officer, master = token("jahr00001"), token("jahosp001")
    linked = token("jahr00003")
    base = "/api/v1/personnel"
    assert client.get("/api/v1/me", headers=linked).status_code == 200

    found = client.get(f"{base}/staff?q=李", headers=officer)
    assert found.status_code == 200
    assert [(s["staff_no"], s["name"], s["department"], s["post"]) for s in found.json["items"]] == [
        ("JA0002", "李娜", "外科", "护士")]
    assert "id_number" not in found.json["items"][0]

    made = client.post(f"{base}/resignations", json={"data": {"staff_no": "JA0002"}}, headers=officer)
    assert made.status_code == 201, made.json
    record_id = made.json["id"]
    assert (made.json["status"], made.json["status_label"], made.json["title"]) == ("draft", "草稿", "李娜（JA0002）离职")
    assert made.json["draft_task_id"] and made.json["review_task_id"] is None

    twice = client.post(f"{base}/resignations", json={"data": {"staff_no": "JA0002"}}, headers=officer)
    assert twice.status_code == 422 and twice.json["error"] == "resignation_open"
    assert "已有一条未办结的离职记录" in twice.json["fields"]["staff_no"][0]
    unknown = client.post(f"{base}/resignations", json={"data": {"staff_no": "WC0001"}}, headers=officer)
    assert unknown.status_code == 422 and unknown.json["error"] == "staff_not_found"

    early = client.post(f"{base}/resignations/{record_id}/submit", headers=officer)
    assert early.status_code == 422 and early.json["error"] == "validation"
    assert set(early.json["fields"]) == {"resignation_type", "leave_date"}
    edited = client.put(f"{base}/resignations/{record_id}", json={"data": LEAVE}, headers=officer)
    assert edited.status_code == 200 and edited.json["leave_date"] == "2026-03-31"
    submitted = client.post(f"{base}/resignations/{record_id}/submit", headers=officer)
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["status"] == "pending" and submitted.json["review_task_id"]
    assert client.put(f"{base}/resignations/{record_id}", json={"data": LEAVE}, headers=officer).status_code == 409

    # The review, through the task API: the master account is the candidate.
    claimable = client.get("/api/v1/tasks?view=claimable", headers=master).json
    assert claimable["total"] == 1
    task = claimable["items"][0]
    assert (task["id"], task["name"], task["lane"], task["instance_title"]) == (
        submitted.json["review_task_id"], "review", "institution_reviewer", "李娜（JA0002）离职")
    assert client.get("/api/v1/tasks?view=claimable", headers=officer).json["total"] == 0
    detail = client.get(f"/api/v1/tasks/{task['id']}", headers=master).json
    assert [o["title"] for o in detail["form"]["schema"]["properties"]["decision"]["oneOf"]] == ["审核通过", "审核不通过"]
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=master).json["assignee"] == "jahosp001"
    refused = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"decision": "reject"}},
                          headers=master)
    assert refused.status_code == 422 and set(refused.json["fields"]) == {"comment"}
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"decision": "approve"}},
                       headers=master)
    assert done.status_code == 200 and done.json["status"] == "completed"

    passed = client.get(f"{base}/resignations/{record_id}", headers=officer).json
    assert (passed["status"], passed["decision"], passed["decided_by"]) == ("passed", "approve", "jahosp001")
    assert passed["staff"]["employment_status_label"] == "已离职" and passed["staff"]["left_on"] == "2026-03-31"
    assert staff_status("JA0002") == "left"
    assert client.get("/api/v1/me", headers=linked).status_code == 401   # 李娜's account: locked, signed out
    assert client.get(f"{base}/staff?q=李", headers=officer).json["items"] == []
    listed = client.get(f"{base}/resignations?status=passed", headers=officer).json
    assert listed["total"] == 1 and listed["items"][0]["id"] == record_id


def test_a_failed_resignation_over_the_api(client, token):
    officer, master = token("jahr00001"), token("jahosp001")
    made = client.post("/api/v1/personnel/resignations", json={"data": LEAVE}, headers=officer).json
    submitted = client.post(f"/api/v1/personnel/resignations/{made['id']}/submit", json={"data": {"note": "调往外院"}},
                            headers=officer).json
    assert submitted["note"] == "调往外院"
    task_id = submitted["review_task_id"]
    done = client.post(f"/api/v1/tasks/{task_id}/complete",
                       json={"data": {"decision": "reject", "comment": "请先完成交接"}}, headers=master)
    assert done.status_code == 200
    record = client.get(f"/api/v1/personnel/resignations/{made['id']}", headers=officer).json
    assert (record["status_label"], record["opinion"]) == ("未通过", "请先完成交接")
    assert staff_status("JA0002") == "active"


def test_api_refusals(client, token):
    officer = token("jahr00001")
    made = client.post("/api/v1/personnel/resignations", json={"data": LEAVE}, headers=officer).json
    outsider, other = token("jasub0001"), token("wchosp001")
    assert client.get("/api/v1/personnel/staff", headers=outsider).status_code == 403
    assert client.get("/api/v1/personnel/resignations", headers=outsider).status_code == 403
    assert client.post("/api/v1/personnel/resignations", json={"data": LEAVE}, headers=outsider).status_code == 403
    assert client.get(f"/api/v1/personnel/resignations/{made['id']}", headers=other).status_code == 404
    assert client.get("/api/v1/personnel/resignations", headers=other).json["total"] == 0
    # wchosp001 holds 员工离职 too, for its own staff only
    assert {s["staff_no"][:2] for s in client.get("/api/v1/personnel/staff", headers=other).json["items"]} == {"WC"}
    assert client.put(f"/api/v1/personnel/resignations/{made['id']}", json={"data": LEAVE},
                      headers=token("jahosp001")).status_code == 403            # not its own draft
    assert client.get("/api/v1/personnel/resignations?status=nope", headers=officer).status_code == 422
    assert client.post("/api/v1/personnel/resignations", json={"data": []}, headers=officer).status_code == 422
    assert client.get("/api/v1/personnel/resignations").status_code == 401


def test_the_generic_process_api_is_checked_too(client, token):
    officer = token("jahr00001")
    started = client.post("/api/v1/processes/resignation/instances",
                          json={"data": {**LEAVE, "staff_no": "JA9999"}}, headers=officer)
    assert started.status_code == 201
    assert [t["name"] for t in started.json["tasks"]] == ["fill"]           # back to the applicant
    record = client.get(f"/api/v1/personnel/resignations/{started.json['id']}", headers=officer).json
    assert record["status"] == "draft" and record["problem"] == "本机构没有工号为“JA9999”的人员"


# --- pages -----------------------------------------------------------------------------------------------------

def login(client, username):
    client.post("/logout")
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303
    return response


def record_id(response):
    return int(re.search(r"/personnel/resignations/(\d+)$", response.headers["Location"]).group(1))


def test_the_pages_from_new_to_passed(client, people):
    login(client, "jahr00001")
    home = client.get("/").get_data(as_text=True)
    assert "员工离职" in home and "离职审核" not in home
    listing = client.get("/personnel/resignations/").get_data(as_text=True)
    assert "机构人力资源 / 机构人事管理 / 人事调动 / 员工离职" in listing and "暂无离职记录" in listing
    assert 'href="/personnel/resignations/new"' in listing

    everyone = client.get("/personnel/resignations/new").get_data(as_text=True)
    assert all(no in everyone for no in ("JA0001", "JA0002", "JA0003")) and "WC0001" not in everyone
    search = client.get("/personnel/resignations/new?q=李").get_data(as_text=True)
    assert "李娜" in search and "张伟" not in search and "?q=%E6%9D%8E&amp;staff_no=JA0002" in search
    chosen = client.get("/personnel/resignations/new?q=李&staff_no=JA0002").get_data(as_text=True)
    assert re.search(r'id="chosen-staff">.*李娜.*外科.*护士', chosen, re.S)
    assert 'name="staff_no" value="JA0002"' in chosen

    wrong = client.post("/personnel/resignations/new", data={"staff_no": "JA9999"})
    assert wrong.status_code == 422 and "本机构没有工号为“JA9999”的人员" in wrong.get_data(as_text=True)
    saved = client.post("/personnel/resignations/new", data={"staff_no": "JA0002", "resignation_type": "辞职"})
    assert saved.status_code == 303
    rid = record_id(saved)
    page = client.get(f"/personnel/resignations/{rid}").get_data(as_text=True)
    assert 'id="resignation-status" class="tag ">草稿' in page and "编辑" in page and "离职记录：李娜（JA0002）" in page

    edit = client.get(f"/personnel/resignations/{rid}/edit").get_data(as_text=True)
    assert '<option value="辞职" selected>' in edit
    assert client.post(f"/personnel/resignations/{rid}/edit",
                       data={**LEAVE, "action": "save"}).status_code == 303
    submitted = client.post(f"/personnel/resignations/{rid}/submit")
    assert submitted.status_code == 303
    page = client.get(f"/personnel/resignations/{rid}").get_data(as_text=True)
    assert "待审核" in page and "2026-03-31" in page and "个人原因" in page

    login(client, "jahosp001")
    home = client.get("/").get_data(as_text=True)
    assert "员工离职" in home and "离职审核" in home
    review_list = client.get("/personnel/resignations/review").get_data(as_text=True)
    task_link = re.search(r'href="/tasks/(\d+)">审核</a>', review_list)
    assert task_link, review_list
    task_id = int(task_link.group(1))
    claimed = client.post(f"/tasks/{task_id}/claim")
    assert claimed.status_code == 303
    task_page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    staff_card = re.search(r'<dl class="facts" id="resignation-staff">(.*?)</dl>', task_page, re.S).group(1)
    assert [re.sub(r"<[^>]+>", "", dd) for dd in re.findall(r"<dd>(.*?)</dd>", staff_card)] == [
        "李娜", "JA0002", "外科", "护士", "在职"]
    assert "辞职" in task_page and "2026-03-31" in task_page and "审核不通过" in task_page
    decided = client.post(f"/tasks/{task_id}", data={"decision": "approve"})
    assert decided.status_code == 303

    page = client.get(f"/personnel/resignations/{rid}").get_data(as_text=True)
    assert "已通过" in page and re.search(r'id="staff-status">已离职（2026-03-31）', page)
    assert "审核通过" in page and staff_status("JA0002") == "left"


def test_the_pages_refuse_without_the_function_points(client, people):
    login(client, "jasub0001")
    for path in ("/personnel/resignations/", "/personnel/resignations/review", "/personnel/resignations/new"):
        assert client.get(path).status_code == 403, path
    login(client, "jahosp001")   # the master holds 员工离职 but has no reviewer besides itself
    refused = client.post("/personnel/resignations/new", data={"staff_no": "JA0001"})
    assert refused.status_code == 422 and "子账号" in refused.get_data(as_text=True)


def test_a_failed_record_shows_the_opinion_and_can_be_filed_again(client, people):
    login(client, "jahr00001")
    rid = record_id(client.post("/personnel/resignations/new", data=LEAVE))
    client.post(f"/personnel/resignations/{rid}/submit")
    login(client, "jahosp001")
    review_list = client.get("/personnel/resignations/review").get_data(as_text=True)
    task_id = int(re.search(r'href="/tasks/(\d+)">审核</a>', review_list).group(1))
    client.post(f"/tasks/{task_id}/claim")
    assert client.post(f"/tasks/{task_id}", data={"decision": "reject"}).status_code == 422
    assert client.post(f"/tasks/{task_id}", data={"decision": "reject", "comment": "请补充交接清单"}).status_code == 303
    login(client, "jahr00001")
    page = client.get(f"/personnel/resignations/{rid}").get_data(as_text=True)
    assert "未通过" in page and "请补充交接清单" in page and "该人员保持在职" in page
    assert f'href="/personnel/resignations/new?from={rid}"' in page
    again = client.get(f"/personnel/resignations/new?from={rid}").get_data(as_text=True)
    assert 'name="staff_no" value="JA0002"' in again and "个人原因" in again
    assert staff_status("JA0002") == "active"
