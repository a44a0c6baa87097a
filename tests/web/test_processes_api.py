"""The process and task API end to end on the sample process."""
import io

import pytest

from tests.conftest import DEMO_PASSWORD

SUBMIT = {"title": "申请开通互联网访问", "description": "基层医疗机构需要通过互联网访问系统"}


@pytest.fixture
def tokens(ready, api_login):
    ready("jahosp001", "jaadmin01", "wcadmin01", verified=True)
    return {name: api_login(name) for name in ("jahosp001", "jaadmin01", "wcadmin01")}


def test_processes_are_listed(client, tokens):
    body = client.get("/api/v1/processes", headers=tokens["jahosp001"]).json
    assert {"key": "generic_request", "name": "通用申请", "version": 1} in body


def test_full_cycle_through_the_api(client, tokens):
    applicant, reviewer = tokens["jahosp001"], tokens["jaadmin01"]
    started = client.post("/api/v1/processes/generic_request/instances", json={"data": SUBMIT}, headers=applicant)
    assert started.status_code == 201, started.json
    instance_id = started.json["id"]
    assert [t["name"] for t in started.json["tasks"]] == ["review"]

    claimable = client.get("/api/v1/tasks?view=claimable", headers=reviewer).json
    assert claimable["total"] == 1
    task_id = claimable["items"][0]["id"]
    assert set(claimable["items"][0]) >= {"id", "instance_id", "process_key", "name", "title", "lane", "assignee",
                                          "created_at", "due_at"}
    assert client.get("/api/v1/tasks?view=claimable", headers=tokens["wcadmin01"]).json["total"] == 0
    assert client.get(f"/api/v1/tasks/{task_id}", headers=tokens["wcadmin01"]).status_code == 404

    detail = client.get(f"/api/v1/tasks/{task_id}", headers=reviewer).json
    assert detail["form"]["schema"]["properties"]["decision"]["title"] == "审核意见"
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=reviewer).json["assignee"] == "jaadmin01"

    invalid = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "reject"}},
                          headers=reviewer)
    assert invalid.status_code == 422
    assert invalid.json["error"] == "validation" and set(invalid.json["fields"]) == {"comment"}
    done = client.post(f"/api/v1/tasks/{task_id}/complete",
                       json={"data": {"decision": "reject", "comment": "请补充说明"}}, headers=reviewer)
    assert done.status_code == 200 and done.json["tasks"][0]["name"] == "submit"
    again = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "approve"}},
                        headers=reviewer)
    assert again.status_code == 409
    assert again.json["error"] == "task_not_ready" and again.json["completed_by"] == "jaadmin01"
    assert again.json["completed_at"]

    resubmit = client.get("/api/v1/tasks?view=assigned", headers=applicant).json["items"][0]
    prefilled = client.get(f"/api/v1/tasks/{resubmit['id']}", headers=applicant).json
    assert prefilled["data"]["title"] == SUBMIT["title"]
    client.post(f"/api/v1/tasks/{resubmit['id']}/complete", json={"data": SUBMIT}, headers=applicant)
    second = client.get("/api/v1/tasks?view=claimable", headers=reviewer).json["items"][0]
    final = client.post(f"/api/v1/tasks/{second['id']}/complete", json={"data": {"decision": "approve"}},
                        headers=reviewer)
    assert final.json["status"] == "completed"

    instance = client.get(f"/api/v1/instances/{instance_id}", headers=applicant).json
    opinions = [(e["actor"], e["outcome"], e["comment"]) for e in instance["history"] if e["kind"] == "task_completed"]
    assert ("jaadmin01", "reject", "请补充说明") in opinions
    svg = client.get(f"/api/v1/instances/{instance_id}/diagram.svg", headers=applicant)
    assert svg.mimetype == "image/svg+xml" and b'id="shape-review"' in svg.data
    assert client.get(f"/api/v1/instances/{instance_id}", headers=tokens["wcadmin01"]).status_code == 404
    requests = client.get("/api/v1/tasks?view=requests", headers=applicant).json
    assert requests["items"][0]["status"] == "completed"
    assert client.get("/api/v1/tasks?view=done", headers=reviewer).json["total"] == 2


def test_the_initiator_cannot_review_its_own_request(client, tokens):
    reviewer = tokens["jaadmin01"]
    started = client.post("/api/v1/processes/generic_request/instances", json={"data": SUBMIT}, headers=reviewer)
    # the county admin's own organization is supervised by the city: the task is not in its inbox
    assert started.status_code == 201
    assert client.get("/api/v1/tasks?view=claimable", headers=reviewer).json["total"] == 0


def test_files_are_uploaded_referenced_and_served_only_to_those_who_may_see(client, tokens):
    applicant = tokens["jahosp001"]
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    uploaded = client.post("/api/v1/files", data={"file": (io.BytesIO(png), "scan.png")}, headers=applicant,
                           content_type="multipart/form-data")
    assert uploaded.status_code == 201
    file_id = uploaded.json["id"]
    refused = client.post("/api/v1/files", data={"file": (io.BytesIO(b"MZ\x90\x00"), "x.png")}, headers=applicant,
                          content_type="multipart/form-data")
    assert refused.status_code == 422
    assert client.get(f"/api/v1/files/{file_id}", headers=tokens["jaadmin01"]).status_code == 404
    started = client.post("/api/v1/processes/generic_request/instances",
                          json={"data": {**SUBMIT, "attachment": file_id}}, headers=applicant)
    assert started.status_code == 201, started.json
    with client.get(f"/api/v1/files/{file_id}", headers=tokens["jaadmin01"]) as response:
        assert response.data == png
    assert client.get(f"/api/v1/files/{file_id}", headers=tokens["wcadmin01"]).status_code == 404
    other = client.post("/api/v1/processes/generic_request/instances",
                        json={"data": {**SUBMIT, "attachment": file_id}}, headers=applicant)
    assert other.status_code == 422 and "attachment" in other.json["fields"]


def test_unknown_process_and_bad_view(client, tokens):
    assert client.post("/api/v1/processes/nope/instances", json={}, headers=tokens["jahosp001"]).status_code == 404
    assert client.get("/api/v1/tasks?view=everything", headers=tokens["jahosp001"]).status_code == 422


def test_openapi_describes_every_process_endpoint(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/processes", "/processes/{key}/instances", "/instances/{instance_id}",
                 "/instances/{instance_id}/diagram.svg", "/tasks", "/tasks/{task_id}", "/tasks/{task_id}/claim",
                 "/tasks/{task_id}/complete", "/files", "/files/{file_id}"):
        assert path in paths, path


def test_browser_pages(client, ready):
    ready("jahosp001", "jaadmin01", verified=True)
    client.post("/login", data={"username": "jahosp001", "password": DEMO_PASSWORD})
    form = client.get("/processes/generic_request/start").get_data(as_text=True)
    assert "申请事项" in form and 'type="file"' in form
    bad = client.post("/processes/generic_request/start", data={"title": "x"})
    assert bad.status_code == 422 and "请填写" in bad.get_data(as_text=True)
    made = client.post("/processes/generic_request/start", data=SUBMIT)
    assert made.status_code == 303
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert 'id="diagram"' in page and "审核" in page and "jahosp001" in page
    client.post("/logout")
    client.post("/login", data={"username": "jaadmin01", "password": DEMO_PASSWORD})
    inbox = client.get("/inbox/?view=claimable").get_data(as_text=True)
    assert SUBMIT["title"] in inbox
    assert 'class="badge"' in client.get("/").get_data(as_text=True)
