"""机构信息修改 over HTTP: the JSON API end to end with bearer tokens (start, one open request, claim, approve,
the stale-request refusal, return and resubmission, the credit-code check) and the pages (机构信息维护, the
prefilled request form, the reviewer's side-by-side view, the refusal of a stale approval)."""
import io
import re

import pytest
from sqlalchemy import select

from models import Session
from models.accounts import User
from models.audit import AuditEvent
from models.orgs import Organization
from tests.conftest import DEMO_PASSWORD
from workflows import accounts, auth, roles

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
HOSPITAL_USCC = "12420102MB1234567T"
NEW_NAME = "武汉市江岸区测试医院"


@pytest.fixture
def tokens(ready, api_login):
    ready("jahosp001", "jaadmin01", "wcadmin01", verified=True)
    return {name: api_login(name) for name in ("jahosp001", "jaadmin01", "wcadmin01")}


def hospital():
    return Session().scalars(select(Organization).join(User, User.org_id == Organization.id)
                             .where(User.username == "jahosp001")).one()


def upload(client, headers, data=PDF, name="更名批复.pdf"):
    response = client.post("/api/v1/files", data={"file": (io.BytesIO(data), name)}, headers=headers,
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    return response.json["id"]


def submission(client, headers, **changes):
    current = client.get("/api/v1/institution", headers=headers).json
    return {"name": current["name"], "uscc": current["uscc"], "licence_no": current["licence_no"],
            "category": current["category"], "reason": "经批准更名", "evidence": upload(client, headers), **changes}


def claimable(client, headers):
    return client.get("/api/v1/tasks?view=claimable&process=institution_change", headers=headers).json


def test_a_change_end_to_end_through_the_api(client, tokens):
    applicant, reviewer, other = tokens["jahosp001"], tokens["jaadmin01"], tokens["wcadmin01"]
    before = client.get("/api/v1/institution", headers=applicant).json
    assert (before["name"], before["uscc"], before["supervisor"]["name"], before["can_request_change"]) == (
        "测试医院", HOSPITAL_USCC, "江岸区卫生健康局", True)
    assert "institution_change" in {p["key"] for p in client.get("/api/v1/processes", headers=applicant).json}

    started = client.post("/api/v1/processes/institution_change/instances",
                          json={"data": submission(client, applicant, name=NEW_NAME, category="专科医院")},
                          headers=applicant)
    assert started.status_code == 201, started.json
    instance_id = started.json["id"]
    assert [t["name"] for t in started.json["tasks"]] == ["review"]
    assert started.json["title"] == "机构信息修改：测试医院"
    second = client.post("/api/v1/processes/institution_change/instances",
                         json={"data": submission(client, applicant, category="中医医院")}, headers=applicant)
    assert second.status_code == 409 and second.json["error"] == "request_open"
    assert second.json["instance_id"] == instance_id and "正在办理" in second.json["message"]
    assert client.get("/api/v1/institution", headers=applicant).json["open_request"]["id"] == instance_id

    assert claimable(client, other)["total"] == 0
    task_id = claimable(client, reviewer)["items"][0]["id"]
    assert client.get(f"/api/v1/tasks/{task_id}", headers=other).status_code == 404
    assert client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve"}},
                       headers=other).status_code == 404
    own = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve"}}, headers=applicant)
    assert own.status_code == 403
    detail = client.get(f"/api/v1/tasks/{task_id}", headers=reviewer).json
    assert detail["form"]["schema"]["properties"]["decision"]["title"] == "审核结论" and detail["can_complete"]
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=reviewer).json["assignee"] == "jaadmin01"
    done = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve", "comment": "同意"}},
                       headers=reviewer)
    assert done.status_code == 200 and done.json["status"] == "completed"

    after = client.get("/api/v1/institution", headers=applicant).json
    assert (after["name"], after["category"], after["version"]) == (NEW_NAME, "专科医院", before["version"] + 1)
    assert after["open_request"] is None and after["requests"][0]["status"] == "completed"
    history = client.get(f"/api/v1/instances/{instance_id}", headers=applicant).json["history"]
    assert ("jaadmin01", "approved") in [(e["actor"], e["outcome"]) for e in history if e["kind"] == "outcome"]
    audited = Session().scalars(select(AuditEvent).where(AuditEvent.action == "institution_change")).all()
    assert sorted((e.detail["field"], e.detail["old"], e.detail["new"]) for e in audited) == [
        ("category", "综合医院", "专科医院"), ("name", "测试医院", NEW_NAME)]


def test_a_stale_approval_is_refused_then_returned_and_resubmitted(client, tokens):
    applicant, reviewer = tokens["jahosp001"], tokens["jaadmin01"]
    started = client.post("/api/v1/processes/institution_change/instances",
                          json={"data": submission(client, applicant, name=NEW_NAME)}, headers=applicant)
    instance_id = started.json["id"]
    org = hospital()
    org.licence_no = "PDY00001142010217A1009"      # another change applied meanwhile
    Session.commit()
    version = org.version

    task_id = claimable(client, reviewer)["items"][0]["id"]
    refused = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve"}},
                          headers=reviewer)
    assert refused.status_code == 409
    assert refused.json["error"] == "stale_request" and refused.json["fields"] == ["医疗机构执业许可证登记号"]
    assert "不能按原申请通过" in refused.json["message"]
    assert (hospital().name, hospital().version) == ("测试医院", version)
    assert client.get(f"/api/v1/tasks/{task_id}", headers=reviewer).json["state"] == "ready"

    returned = client.post(f"/api/v1/tasks/{task_id}/complete",
                           json={"data": {"decision": "reject", "comment": "执业许可证登记号已变更，请重新提交"}},
                           headers=reviewer)
    assert returned.status_code == 200 and returned.json["tasks"][0]["name"] == "submit"
    mine = client.get("/api/v1/tasks?view=assigned", headers=applicant).json["items"][0]
    prefilled = client.get(f"/api/v1/tasks/{mine['id']}", headers=applicant).json["data"]
    assert prefilled["name"] == NEW_NAME and prefilled["licence_no"] == "PDY00001142010217A1001"
    taken = client.post(f"/api/v1/tasks/{mine['id']}/complete",
                        json={"data": {**prefilled, "uscc": "12420106MB7654321H"}}, headers=applicant)
    assert taken.status_code == 422 and taken.json["error"] == "uscc_taken" and "uscc" in taken.json["fields"]
    resubmitted = client.post(f"/api/v1/tasks/{mine['id']}/complete",
                              json={"data": {**prefilled, "licence_no": "PDY00001142010217A1009"}}, headers=applicant)
    assert resubmitted.status_code == 200, resubmitted.json

    task_id = claimable(client, reviewer)["items"][0]["id"]
    approved = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve"}},
                           headers=reviewer)
    assert approved.status_code == 200 and approved.json["status"] == "completed"
    assert (hospital().name, hospital().version) == (NEW_NAME, version + 1)
    opinions = [(e["actor"], e["outcome"], e["comment"]) for e in approved.json["history"]
                if e["kind"] == "task_completed"]
    assert ("jaadmin01", "reject", "执业许可证登记号已变更，请重新提交") in opinions
    assert client.get(f"/api/v1/instances/{instance_id}", headers=tokens["wcadmin01"]).status_code == 404


def test_the_api_refuses_a_taken_credit_code_and_other_files(client, tokens):
    applicant = tokens["jahosp001"]
    taken = client.post("/api/v1/processes/institution_change/instances",
                        json={"data": submission(client, applicant, uscc="12420106MB7654321H")}, headers=applicant)
    assert taken.status_code == 422 and taken.json["error"] == "uscc_taken"
    png = client.post("/api/v1/processes/institution_change/instances",
                      json={"data": submission(client, applicant, name=NEW_NAME,
                                               evidence=upload(client, applicant, PNG, "a.png"))}, headers=applicant)
    assert png.status_code == 422 and png.json["error"] == "evidence_type"
    same = client.post("/api/v1/processes/institution_change/instances",
                       json={"data": submission(client, applicant)}, headers=applicant)
    assert same.status_code == 422 and same.json["error"] == "no_change"
    invalid = client.post("/api/v1/processes/institution_change/instances",
                          json={"data": {"name": NEW_NAME}}, headers=applicant)
    assert invalid.status_code == 422 and invalid.json["error"] == "validation"
    assert set(invalid.json["fields"]) == {"uscc", "category", "reason", "evidence"}
    assert client.get("/api/v1/institution", headers=applicant).json["open_request"] is None
    assert client.get("/api/v1/institution").status_code == 401
    assert "/institution" in client.get("/api/v1/openapi.json").json["paths"]


# --- pages -------------------------------------------------------------------------------------------------

def login(client, username):
    client.post("/logout")
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303


def test_the_institution_page_the_request_form_and_the_review(client, ready):
    ready("jahosp001", "jaadmin01", verified=True)
    login(client, "jahosp001")
    home = client.get("/").get_data(as_text=True)
    assert "机构信息维护" in home
    page = client.get("/institution/").get_data(as_text=True)
    for text in ("测试医院", HOSPITAL_USCC, "PDY00001142010217A1001", "江岸区卫生健康局", "综合医院", "机构信息修改",
                 "暂无修改申请"):
        assert text in page
    assert client.get("/processes/institution_change/start").headers["Location"].endswith("/institution/change")
    form = client.get("/institution/change").get_data(as_text=True)
    assert 'name="name" value="测试医院"' in form and f'name="uscc" value="{HOSPITAL_USCC}"' in form
    assert '<option value="综合医院" selected>' in form

    bad = client.post("/institution/change", data={"name": NEW_NAME, "uscc": HOSPITAL_USCC, "category": "专科医院",
                                                    "reason": "经批准更名",
                                                    "evidence": (io.BytesIO(PNG), "scan.png")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "只接受 PDF 或 JPG 文件" in bad.get_data(as_text=True)
    assert f'value="{NEW_NAME}"' in bad.get_data(as_text=True)     # what was typed is kept
    made = client.post("/institution/change", data={"name": NEW_NAME, "uscc": HOSPITAL_USCC, "category": "专科医院",
                                                     "licence_no": "PDY00001142010217A1001", "reason": "经批准更名",
                                                     "evidence": (io.BytesIO(PDF), "批复.pdf")},
                       content_type="multipart/form-data")
    assert made.status_code == 303 and re.search(r"/instances/\d+$", made.headers["Location"])
    page = client.get("/institution/").get_data(as_text=True)
    assert 'id="open-request"' in page and 'id="request-change"' not in page
    assert client.get("/institution/change").status_code == 303      # one open request: back to the page

    login(client, "jaadmin01")
    claim = client.get("/inbox/?view=claimable").get_data(as_text=True)
    task_id = int(re.search(r"/tasks/(\d+)/claim", claim).group(1))
    client.post(f"/tasks/{task_id}/claim")
    review = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="change-compare"' in review and f"<mark>{NEW_NAME}</mark>" in review
    assert review.count('class="changed"') == 2 and 'id="stale-notice"' not in review

    org = hospital()
    org.category = "中医医院"
    Session.commit()
    stale = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="stale-notice"' in stale and "申请单位所属类别" in stale
    refused = client.post(f"/tasks/{task_id}", data={"decision": "approve"}, headers={"Referer": f"/tasks/{task_id}"})
    assert refused.status_code == 303 and refused.headers["Location"].endswith(f"/tasks/{task_id}")
    assert "不能按原申请通过" in client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert hospital().name == "测试医院"
    returned = client.post(f"/tasks/{task_id}", data={"decision": "reject", "comment": "类别已变更，请重新提交"})
    assert returned.status_code == 303

    login(client, "jahosp001")
    assigned = client.get("/inbox/?view=assigned").get_data(as_text=True)
    resubmit_id = int(re.search(r"/tasks/(\d+)\"", assigned).group(1))
    moved = client.get(f"/tasks/{resubmit_id}")
    assert moved.status_code == 303 and moved.headers["Location"].endswith(f"/institution/change/tasks/{resubmit_id}")
    again = client.get(moved.headers["Location"]).get_data(as_text=True)
    assert "类别已变更，请重新提交" in again and f'value="{NEW_NAME}"' in again and "中医医院" in again


def test_who_sees_the_institution_page(client, ready, users):
    ready("sysadmin01", "jahosp001", verified=True)
    login(client, "sysadmin01")
    page = client.get("/institution/")
    assert page.status_code == 200 and 'id="no-org"' in page.get_data(as_text=True)
    master = users("jahosp001")
    role = roles.create_role(master, name="人事", permission_codes=["hr.staff"])
    user, _ = accounts.create_user(master, user_type="sub_account", org_id=master.org_id, display_name="人事科",
                                   username="jahosprs01", role_ids=[role.id])
    auth.set_password(user, DEMO_PASSWORD)
    user.real_name_verified = True
    Session.commit()
    login(client, "jahosprs01")
    assert client.get("/institution/").status_code == 403
    assert "机构信息维护" not in client.get("/").get_data(as_text=True)


def test_a_draft_started_over_the_api_is_finished_on_the_page(client, tokens):
    applicant = tokens["jahosp001"]
    draft = client.post("/api/v1/processes/institution_change/instances", headers=applicant)
    assert draft.status_code == 201 and [t["name"] for t in draft.json["tasks"]] == ["submit"]
    again = client.post("/api/v1/processes/institution_change/instances", headers=applicant)
    assert again.status_code == 409 and again.json["error"] == "request_open"
    task_id = draft.json["tasks"][0]["id"]

    login(client, "jahosp001")
    moved = client.get(f"/tasks/{task_id}")
    assert moved.headers["Location"].endswith(f"/institution/change/tasks/{task_id}")
    page = client.get(f"/institution/change/tasks/{task_id}").get_data(as_text=True)
    assert 'name="name" value="测试医院"' in page and 'id="return-opinion"' not in page
    done = client.post(f"/institution/change/tasks/{task_id}",
                       data={"name": NEW_NAME, "uscc": HOSPITAL_USCC, "category": "综合医院", "reason": "更名",
                             "evidence": (io.BytesIO(PDF), "批复.pdf")}, content_type="multipart/form-data")
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/instances/{draft.json['id']}")
    assert claimable(client, tokens["jaadmin01"])["total"] == 1
    assert client.get(f"/institution/change/tasks/{task_id}").status_code == 303   # no longer open
