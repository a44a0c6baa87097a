"""权限变更申请 over HTTP: the JSON API end to end with bearer tokens (options, start, the unit leader, the granting
administrator, the refusals, the detail and the printed form), and the pages (the request page and form, the task
pages with 附表4, the return and the resubmission)."""
import re

import pytest
from sqlalchemy import select

from models import Session
from models.accounts import Role, User
from tests.conftest import DEMO_PASSWORD
from workflows import accounts, permissions, roles

REASON = "调任数据质控岗位，需要核查本辖区上报数据"


@pytest.fixture
def tokens(ready, api_login):
    ready("jaadmin01", "jaleader01", "whadmin01", "wcadmin01", verified=True)
    return {name: api_login(name) for name in ("jaadmin01", "jaleader01", "whadmin01", "wcadmin01")}


def role_id(code):
    return Session().scalars(select(Role.id).where(Role.code == code)).one()


def claimable(client, headers):
    return client.get("/api/v1/tasks?view=claimable&process=permission_change", headers=headers).json["items"]


def complete(client, headers, task_id, **data):
    return client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=headers)


def start(client, headers, *codes, **extra):
    data = {"requested_roles": [role_id(c) for c in codes], "reason": REASON, **extra}
    return client.post("/api/v1/processes/permission_change/instances", json={"data": data}, headers=headers)


def login(client, username):
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303
    return response


def restrict(username, *without):
    """Give a business admin a role without the function points ``without``."""
    sysadmin = Session().scalars(select(User).where(User.username == "sysadmin01")).one()
    admin = Session().scalars(select(User).where(User.username == username)).one()
    codes = permissions.all_codes() - permissions.SYSTEM_ONLY - {c for w in without
                                                                 for c in {w} | permissions.descendants(w)}
    limited = roles.create_role(sysadmin, name="业务管理员（受限）", permission_codes=codes)
    accounts.update_user(sysadmin, admin, role_ids=[limited.id])
    Session.commit()


# --- the JSON API -----------------------------------------------------------------------------------------------

def test_a_request_end_to_end_through_the_api(client, tokens):
    applicant, leader, superior, outsider = (tokens[n] for n in ("jaadmin01", "jaleader01", "whadmin01", "wcadmin01"))
    options = client.get("/api/v1/permission-changes/options", headers=applicant).json
    assert options["current"] == [{"id": role_id("county_admin"), "name": "县级业务管理员", "temporary_until": None}]
    assert (options["route"], options["route_label"], options["refusal"], options["open_request"]) == (
        "superior", "上级业务管理员", None, None)
    offered = {c["name"]: c for c in options["choices"]}
    assert offered["县级业务管理员"]["held"] and offered["本级用户1(数据质控员)"]["scope"] == "system"
    assert "系统管理员" not in offered

    started = start(client, applicant, "county_admin", "same_level_1", valid_until="2099-12-31")
    assert started.status_code == 201, started.json
    instance_id = started.json["id"]
    assert [t["name"] for t in started.json["tasks"]] == ["leader_review"]
    assert started.json["title"] == "权限变更申请：江岸区业务管理员（jaadmin01）"
    again = start(client, applicant, "county_admin", "same_level_2")
    assert again.status_code == 409 and again.json["error"] == "request_open"
    assert again.json["instance_id"] == instance_id

    # the unit leader: never the applicant, never another county
    assert claimable(client, outsider) == [] and claimable(client, applicant) == []
    (task,) = claimable(client, leader)
    assert (task["name"], task["lane_label"]) == ("leader_review", "单位主管领导")
    assert complete(client, applicant, task["id"], decision="approve").status_code == 403
    assert complete(client, outsider, task["id"], decision="approve").status_code == 404
    assert complete(client, leader, task["id"], decision="reject").status_code == 422      # an opinion is required
    assert complete(client, leader, task["id"], decision="approve", comment="同意").status_code == 200

    # the superior admin grants
    (task,) = claimable(client, superior)
    assert (task["name"], task["lane"], task["lane_label"]) == ("grant_superior", "superior_admin", "上级业务管理员")
    form = client.get(f"/api/v1/tasks/{task['id']}", headers=superior).json["form"]
    assert [o["title"] for o in form["schema"]["properties"]["decision"]["oneOf"]] == ["批准", "驳回"]
    detail = client.get(f"/api/v1/permission-changes/{instance_id}", headers=superior).json["change"]
    assert detail["added"] == ["本级用户1(数据质控员)"] and detail["removed"] == []
    assert detail["opinions"]["leader"]["by"] == "jaleader01" and detail["valid_until"] == "2099-12-31"
    done = complete(client, superior, task["id"], decision="approve", comment="准予临时使用")
    assert done.status_code == 200 and done.json["status"] == "completed"
    completed = [(h["actor"], h["outcome"], h["comment"]) for h in done.json["history"]
                 if h["kind"] == "task_completed"]
    assert completed == [("jaadmin01", "submitted", None), ("jaleader01", "approve", "同意"),
                         ("whadmin01", "approve", "准予临时使用")]

    # at once, on the same token: permissions are read per request
    me = client.get("/api/v1/me", headers=applicant).json
    assert [r["name"] for r in me["roles"]] == ["县级业务管理员", "本级用户1(数据质控员)"]
    after = client.get(f"/api/v1/permission-changes/{instance_id}", headers=applicant).json["change"]
    assert after["applied"] and after["temporary_until"] == "2099-12-31T16:00:00Z"
    pdf = client.get(f"/api/v1/files/{after['form_file']['id']}", headers=applicant)
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    pdf.close()
    assert client.get(f"/api/v1/permission-changes/{instance_id}", headers=outsider).status_code == 404
    assert client.get("/api/v1/permission-changes/options", headers=applicant).json["current"][1]["temporary_until"] \
        == "2099-12-31T16:00:00Z"


def test_the_api_refuses_what_the_admin_may_not_grant_and_keeps_the_task(client, tokens, api_login):
    restrict("whadmin01", "sys.audit")                 # 本级用户1(数据质控员) holds 系统日志
    superior = api_login("whadmin01")                  # the role change ended its earlier token
    instance_id = start(client, tokens["jaadmin01"], "county_admin", "same_level_1").json["id"]
    (task,) = claimable(client, tokens["jaleader01"])
    assert complete(client, tokens["jaleader01"], task["id"], decision="approve").status_code == 200
    (task,) = claimable(client, superior)
    refused = complete(client, superior, task["id"], decision="approve")
    assert refused.status_code == 422 and refused.json["error"] == "cannot_grant"
    assert "本级用户1(数据质控员)" in refused.json["message"]
    assert [t["id"] for t in claimable(client, superior)] == [task["id"]]            # still open
    rejected = complete(client, superior, task["id"], decision="reject", comment="请向市卫健委其他管理员申请")
    assert rejected.status_code == 200 and [t["name"] for t in rejected.json["tasks"]] == ["submit"]

    # back to the applicant with its values; a resubmission is checked like a start
    (mine,) = client.get("/api/v1/tasks?view=assigned", headers=tokens["jaadmin01"]).json["items"]
    values = client.get(f"/api/v1/tasks/{mine['id']}", headers=tokens["jaadmin01"]).json["data"]
    assert values["requested_roles"] == [role_id("county_admin"), role_id("same_level_1")]
    unchanged = complete(client, tokens["jaadmin01"], mine["id"], requested_roles=[role_id("county_admin")],
                         reason=REASON)
    assert unchanged.status_code == 422 and "与当前角色相同" in unchanged.json["fields"]["requested_roles"][0]
    resubmitted = complete(client, tokens["jaadmin01"], mine["id"], reason="改为申请本级用户2",
                           requested_roles=[role_id("county_admin"), role_id("same_level_2")])
    assert resubmitted.status_code == 200 and [t["name"] for t in resubmitted.json["tasks"]] == ["leader_review"]
    assert resubmitted.json["id"] == instance_id


def test_the_generic_start_checks_the_request_first(client, tokens):
    applicant = tokens["jaadmin01"]
    same = start(client, applicant, "county_admin")
    assert same.status_code == 422 and "与当前角色相同" in same.json["fields"]["requested_roles"][0]
    past = start(client, applicant, "county_admin", "same_level_1", valid_until="2020-01-01")
    assert past.status_code == 422 and past.json["fields"]["valid_until"] == ["临时使用截止日期须晚于今天"]
    bad = start(client, applicant, "county_admin", "system_admin")
    assert bad.status_code == 422 and "不能申请编号为" in bad.json["fields"]["requested_roles"][0]
    leader = start(client, tokens["jaleader01"], "unit_leader", "same_level_2")
    assert leader.status_code == 422 and leader.json["error"] == "no_approver"
    assert client.get("/api/v1/tasks?view=requests", headers=applicant).json["total"] == 0
    draft = client.post("/api/v1/processes/permission_change/instances", json={}, headers=applicant)
    assert draft.status_code == 201 and [t["name"] for t in draft.json["tasks"]] == ["submit"]
    assert start(client, applicant, "county_admin", "same_level_1").status_code == 409


def test_openapi_describes_the_permission_change_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/permission-changes/options" in paths and "/permission-changes/{instance_id}" in paths
    assert "cannot_grant" in paths["/permission-changes/options"]["get"]["description"]


# --- the pages --------------------------------------------------------------------------------------------------

def test_apply_approve_and_grant_on_the_pages(client, ready):
    ready("jaadmin01", "jaleader01", "whadmin01", verified=True)
    login(client, "jaadmin01")
    assert "权限变更申请" in client.get("/").get_data(as_text=True)              # in the menu
    assert client.get("/processes/permission_change/start").location.endswith("/permission-changes/new")
    index = client.get("/permission-changes/").get_data(as_text=True)
    assert 'id="current-roles"' in index and "县级业务管理员" in index and "由上级业务管理员审批授权" in index
    form = client.get("/permission-changes/new").get_data(as_text=True)
    county, quality = role_id("county_admin"), role_id("same_level_1")
    assert f'id="role-{county}" name="requested_roles" value="{county}" checked' in form
    assert f'id="role-{quality}" name="requested_roles" value="{quality}">' in form
    assert 'name="valid_until"' in form and 'name="reason"' in form

    error = client.post("/permission-changes/new", data={"requested_roles": [str(county), str(quality)], "reason": ""})
    assert error.status_code == 422
    text = error.get_data(as_text=True)
    assert "请填写“变更原因”" in text and f'value="{quality}" checked' in text
    same = client.post("/permission-changes/new", data={"requested_roles": [str(county)], "reason": REASON})
    assert same.status_code == 422 and "申请的角色与当前角色相同" in same.get_data(as_text=True)
    done = client.post("/permission-changes/new", data={"requested_roles": [str(county), str(quality)],
                                                        "reason": REASON, "valid_until": ""})
    assert done.status_code == 303 and re.fullmatch(r"/instances/\d+", done.location)
    instance_id = int(done.location.rsplit("/", 1)[1])
    assert "权限变更申请已提交" in client.get(done.location).get_data(as_text=True)
    assert f"/instances/{instance_id}" in client.get("/permission-changes/").get_data(as_text=True)
    again = client.get("/permission-changes/new")
    assert again.status_code == 303 and again.location.endswith("/permission-changes/")

    client.post("/logout")
    login(client, "jaleader01")
    listing = client.get("/inbox/?view=claimable").get_data(as_text=True)
    task_id = int(re.search(r'/tasks/(\d+)', listing).group(1))
    generic = client.get(f"/tasks/{task_id}")
    assert generic.status_code == 303 and generic.location.endswith(f"/permission-changes/tasks/{task_id}")
    page = client.get(generic.location).get_data(as_text=True)
    assert 'id="permission-change"' in page and 'id="request-summary"' not in page
    assert 'data-role="本级用户1(数据质控员)" data-state="added"' in page and REASON in page
    assert "认领任务" in page and 'value="approve"' not in page
    claimed = client.post(f"/tasks/{task_id}/claim", follow_redirects=True).get_data(as_text=True)
    assert 'value="approve"' in claimed and ">同意<" in claimed and ">退回<" in claimed and "放回待认领" in claimed
    answer = client.post(f"/permission-changes/tasks/{task_id}", data={"decision": "approve", "comment": "同意"})
    assert answer.status_code == 303 and answer.location.endswith(f"/instances/{instance_id}")

    client.post("/logout")
    login(client, "whadmin01")
    task_id = int(re.search(r'/tasks/(\d+)', client.get("/inbox/?view=claimable").get_data(as_text=True)).group(1))
    client.post(f"/tasks/{task_id}/claim")
    page = client.get(f"/permission-changes/tasks/{task_id}").get_data(as_text=True)
    assert 'id="leader-opinion"' in page and "jaleader01" in page and ">批准<" in page and ">驳回<" in page
    answer = client.post(f"/permission-changes/tasks/{task_id}", data={"decision": "approve"})
    assert answer.status_code == 303
    final = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "已办结" in final and "权限变更生效" in final and "新增角色：本级用户1(数据质控员)" in final
    assert "权限变更申请表（江岸区业务管理员" in final                                   # the attached PDF
    done_page = client.get(f"/permission-changes/tasks/{task_id}").get_data(as_text=True)
    assert 'id="task-done"' in done_page and "变更后" in done_page and 'id="change-form-file"' in done_page


def test_a_returned_request_is_resubmitted_on_its_form(client, ready):
    ready("jaadmin01", "jaleader01", "whadmin01", verified=True)
    login(client, "jaadmin01")
    county, quality, clerk = role_id("county_admin"), role_id("same_level_1"), role_id("same_level_2")
    client.post("/permission-changes/new", data={"requested_roles": [str(county), str(quality)], "reason": REASON,
                                                 "valid_until": "2099-06-30"})
    client.post("/logout")
    login(client, "jaleader01")
    task_id = int(re.search(r'/tasks/(\d+)', client.get("/inbox/?view=claimable").get_data(as_text=True)).group(1))
    assert client.post(f"/tasks/{task_id}/claim").status_code == 303
    refused = client.post(f"/permission-changes/tasks/{task_id}", data={"decision": "reject"})
    assert refused.status_code == 422 and "请填写“审批意见”" in refused.get_data(as_text=True)
    client.post(f"/permission-changes/tasks/{task_id}", data={"decision": "reject", "comment": "请改为本级用户2"})

    client.post("/logout")
    login(client, "jaadmin01")
    index = client.get("/permission-changes/").get_data(as_text=True)
    resubmit = re.search(r'href="(/permission-changes/tasks/\d+)">填写权限变更申请表', index).group(1)
    page = client.get(resubmit).get_data(as_text=True)
    assert 'id="return-opinion">请改为本级用户2<' in page and "退回意见" in page
    assert f'value="{quality}" checked' in page and 'value="2099-06-30"' in page and REASON in page
    assert client.get(resubmit.replace("/permission-changes", "")).location.endswith(resubmit)
    done = client.post(resubmit, data={"requested_roles": [str(county), str(clerk)], "reason": "改为本级用户2",
                                       "valid_until": "2099-06-30"})
    assert done.status_code == 303
    assert "等待单位主管领导审批" in client.get(done.location).get_data(as_text=True)


def test_who_reaches_the_request_pages(client, ready, users):
    ready("jaleader01", "wcadmin01", "sysadmin01", verified=True)
    login(client, "sysadmin01")
    page = client.get("/permission-changes/").get_data(as_text=True)
    assert "系统管理员账号不属于任何单位" in page and "申请权限变更</a>" not in page
    assert client.post("/permission-changes/new", data={"reason": REASON}).status_code == 403
    client.post("/logout")
    login(client, "jaleader01")
    page = client.get("/permission-changes/").get_data(as_text=True)
    assert 'id="apply-refusal"' in page and "单位主管领导" in page             # its unit has no other leader
    assert client.get("/permission-changes/new").status_code == 303
    client.post("/logout")
    login(client, "wcadmin01")
    assert client.get("/permission-changes/tasks/999999").status_code == 404
