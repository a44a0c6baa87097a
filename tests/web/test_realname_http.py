"""实名认证 over HTTP: the wizard pages behind the real-name gate, the reviewers' list and review page, the task
page additions, and the JSON API end to end with bearer tokens (files through POST /api/v1/files), with what an
unverified account may and may not reach."""
import io
import re
import subprocess

import pytest
from sqlalchemy import select

from models import Session
from models.accounts import Permission, Role, User, UserType
from models.audit import AuditEvent
from models.workflow import HumanTask
from tests.conftest import DEMO_PASSWORD
from workflows import auth, files, realname

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
JPG = b"\xff\xd8\xff\xe0" + bytes(64)
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
RESIDENT_ID = "42010219800101001X"
IDENTITY = {"real_name": "张伟", "id_type": "resident_id", "id_number": RESIDENT_ID, "phone": "13800138000"}


@pytest.fixture
def accounts_ready(ready):
    ready("jahosp001", "wchosp001")
    ready("jaadmin01", "wcadmin01", verified=True)


def login(app, username):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303, response.data.decode()
    return client


def html(response):
    return response.get_data(as_text=True)


def value_of(page, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    return match.group(1) if match else None


def pdf_text(data):
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return "".join(out.split())


def fill_step_one(client, **changes):
    data = {**IDENTITY, "id_front": (io.BytesIO(PNG), "正面.png"), "id_back": (io.BytesIO(PNG), "反面.png"),
            **changes}
    return client.post("/realname/identity", data=data, content_type="multipart/form-data")


# --- the wizard --------------------------------------------------------------------------------------------------

def test_the_wizard_then_the_review_page_then_the_gate_lifts(app, accounts_ready, users):
    applicant = login(app, "jahosp001")
    assert applicant.get("/").headers["Location"] == "/realname"
    page = html(applicant.get("/realname"))
    assert 'id="real-name-required"' in page and 'id="identity-form"' in page
    assert '<span class="tag warn" id="real-name-status">待填写实名信息</span>' in page
    assert "江岸区卫生健康局（主管部门业务管理员）" in page
    assert 'class="sidebar"' not in page

    saved = fill_step_one(applicant)
    assert saved.status_code == 303 and saved.headers["Location"] == "/realname"
    page = html(applicant.get("/realname"))
    assert "待上传盖章申请表" in page and 'id="upload-form"' in page
    form_link = re.search(r'id="authorization-form" href="(/files/\d+)"', page).group(1)
    with applicant.get(form_link) as download:
        assert download.status_code == 200 and download.mimetype == "application/pdf"
        text = pdf_text(download.data)
    assert "本单位同意授权张伟(证件号码:42010219800101001X)" in text and "12420102MB1234567T" in text
    photo_link = re.search(r'id="id-front-link" href="(/files/\d+)"', page).group(1)
    with applicant.get(photo_link) as photo:
        assert photo.data == PNG

    submitted = applicant.post("/realname/upload", data={"stamped_form": (io.BytesIO(PDF), "盖章.pdf")},
                               content_type="multipart/form-data")
    assert submitted.status_code == 303
    page = html(applicant.get("/realname"))
    assert "待审核" in page and 'id="real-name-waiting"' in page
    assert applicant.get("/").headers["Location"] == "/realname"    # still gated until approved

    reviewer = login(app, "jaadmin01")
    listing = html(reviewer.get("/realname/reviews"))
    assert "jahosp001" in listing and "待审核" in listing
    review_link = re.search(r'href="(/realname/reviews/\d+)"', listing).group(1)
    review = html(reviewer.get(review_link))
    assert value_of(review, "corrected_real_name") == "张伟"
    assert value_of(review, "corrected_id_number") == RESIDENT_ID
    assert value_of(review, "corrected_phone") == "13800138000"
    assert '<option value="resident_id" selected>居民身份证</option>' in review
    assert 'id="form-file-link"' in review and 'id="stamped-form-link"' in review
    done = reviewer.post(review_link, data={"decision": "approve", "corrected_real_name": "张伟",
                                            "corrected_id_type": "resident_id", "corrected_id_number": RESIDENT_ID,
                                            "corrected_phone": "13900139000"})
    assert done.status_code == 303 and done.headers["Location"] == "/realname/reviews"
    assert "审核通过，该账号已完成实名认证" in html(reviewer.get("/realname/reviews"))

    home = applicant.get("/")
    assert home.status_code == 200 and 'class="sidebar"' in html(home)
    page = html(applicant.get("/realname"))
    assert 'id="real-name-verified"' in page and "420102********001X" in page and "13900139000" in page
    assert "审核人更正信息" in page and "手机号码：13800138000 → 13900139000" in page
    account = users("jahosp001")
    Session().refresh(account)
    assert (account.real_name_verified, account.phone) == (True, "13900139000")


def test_a_refused_photo_keeps_the_other_values_and_files(app, accounts_ready):
    applicant = login(app, "jahosp001")
    refused = fill_step_one(applicant, id_front=(io.BytesIO(PDF), "正面.png"), id_number="42010219800101001")
    assert refused.status_code == 422
    page = html(refused)
    assert "身份证正面：只接受 JPG 或 PNG 文件" in page
    assert "居民身份证号码应为 18 位" in page
    assert value_of(page, "real_name") == "张伟" and value_of(page, "phone") == "13800138000"
    kept = value_of(page, "id_back__current")
    assert kept and kept.isdigit()
    assert realname.open_verification(Session().get(User, refused_user_id(app))) is None

    again = applicant.post("/realname/identity", data={**IDENTITY, "id_back__current": kept,
                                                       "id_front": (io.BytesIO(JPG), "正面.jpg")},
                           content_type="multipart/form-data")
    assert again.status_code == 303


def refused_user_id(_app):
    return Session().scalars(select(User.id).where(User.username == "jahosp001")).one()


def test_going_back_from_step_two_and_the_scan_checks(app, accounts_ready):
    applicant = login(app, "jahosp001")
    fill_step_one(applicant)
    wrong = applicant.post("/realname/upload", data={"stamped_form": (io.BytesIO(PNG), "盖章.png")},
                           content_type="multipart/form-data")
    assert wrong.status_code == 422 and "只接受 PDF 或 JPG 文件" in html(wrong)
    back = applicant.post("/realname/back")
    assert back.status_code == 303
    page = html(applicant.get("/realname"))
    assert 'id="identity-form"' in page and value_of(page, "real_name") == "张伟"
    assert applicant.post("/realname/upload").headers["Location"] == "/realname"   # not at step 2 now


def test_an_unverified_account_reaches_only_its_own_verification(app, accounts_ready, users):
    applicant = login(app, "jahosp001")
    for path in ("/", "/inbox/", "/realname/reviews", "/accounts/", "/processes/"):
        assert applicant.get(path).headers["Location"] == "/realname", path
    other = files.store_upload(users("wchosp001"), "x.png", io.BytesIO(PNG))
    Session.commit()
    assert applicant.get(f"/files/{other.id}").headers["Location"] == "/realname"


def test_the_task_page_shows_the_submission_and_links_the_review_page(app, accounts_ready, users):
    applicant = users("jahosp001")
    realname.submit_identity(applicant, {**IDENTITY, "id_front": _upload(applicant), "id_back": _upload(applicant)})
    realname.submit_scan(applicant, {"stamped_form": _upload(applicant, PDF)})
    Session.commit()
    task = Session().scalars(select(HumanTask).where(HumanTask.bpmn_id == "review_by_supervisor")).one()
    reviewer = login(app, "jaadmin01")
    page = html(reviewer.get(f"/tasks/{task.id}"))
    assert 'id="real-name-task-extras"' in page
    for link in ("id-front-link", "id-back-link", "form-file-link", "stamped-form-link"):
        assert f'id="{link}" href="/files/' in page, link
    assert f'id="real-name-review-link" href="/realname/reviews/{task.id}"' in page
    outsider = login(app, "wcadmin01")
    assert outsider.get(f"/realname/reviews/{task.id}").status_code == 404
    assert outsider.get(f"/tasks/{task.id}").status_code == 404


def _upload(user, data=PNG):
    return files.store_upload(user, "f", io.BytesIO(data)).id


def test_the_review_page_refuses_an_opinionless_rejection(app, accounts_ready, users):
    applicant = users("jahosp001")
    realname.submit_identity(applicant, {**IDENTITY, "id_front": _upload(applicant), "id_back": _upload(applicant)})
    realname.submit_scan(applicant, {"stamped_form": _upload(applicant, PDF)})
    Session.commit()
    task = Session().scalars(select(HumanTask).where(HumanTask.bpmn_id == "review_by_supervisor")).one()
    reviewer = login(app, "jaadmin01")
    refused = reviewer.post(f"/realname/reviews/{task.id}", data={"decision": "reject"})
    assert refused.status_code == 422 and "请填写“审核意见”" in html(refused)
    done = reviewer.post(f"/realname/reviews/{task.id}", data={"decision": "reject", "comment": "照片模糊"})
    assert done.status_code == 303
    page = html(login(app, "jahosp001").get("/realname"))
    assert 'id="real-name-returned"' in page and "意见：照片模糊" in page
    assert 'id="identity-form"' in page and value_of(page, "real_name") == "张伟"


# --- menus, account pages ----------------------------------------------------------------------------------------

def test_the_review_list_is_in_the_system_menu_for_admins_and_masters(app, accounts_ready, ready):
    ready("jahosp001", verified=True)
    for username in ("jaadmin01", "jahosp001"):
        client = login(app, username)
        home = html(client.get("/"))
        assert '<a href="/realname/reviews">实名认证审核</a>' in home, username
        assert 'href="/realname/reviews" class="active"' in html(client.get("/realname/reviews"))
    assert "暂无记录" in html(login(app, "jahosp001").get("/realname/reviews?status=all"))   # no sub-accounts yet


def test_the_account_page_cannot_change_a_frozen_phone(app, accounts_ready, users):
    applicant = users("jahosp001")
    realname.submit_identity(applicant, {**IDENTITY, "id_front": _upload(applicant), "id_back": _upload(applicant)})
    realname.submit_scan(applicant, {"stamped_form": _upload(applicant, PDF)})
    task = Session().scalars(select(HumanTask).where(HumanTask.bpmn_id == "review_by_supervisor")).one()
    realname.review(users("jaadmin01"), task.id, {"decision": "approve"})
    Session.commit()
    admin = login(app, "jaadmin01")
    detail = html(admin.get(f"/accounts/{applicant.id}"))
    roles = re.findall(r'name="roles" value="(\d+)"[^>]* checked', detail)
    response = admin.post(f"/accounts/{applicant.id}", data={"roles": roles, "phone": "13900139000"})
    assert response.status_code == 422 and "实名认证通过后手机号码不能修改" in html(response)
    assert Session().get(User, applicant.id).phone == "13800138000"


# --- the JSON API ------------------------------------------------------------------------------------------------

def upload_api(client, headers, data, name):
    response = client.post("/api/v1/files", data={"file": (io.BytesIO(data), name)}, headers=headers,
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_end_to_end_over_the_api(client, accounts_ready, api_login):
    applicant, reviewer = api_login("jahosp001"), api_login("jaadmin01")
    assert client.get("/api/v1/users", headers=applicant).json["error"] == "real_name_required"
    status = client.get("/api/v1/realname", headers=applicant).json
    assert (status["verified"], status["step"], status["instance_id"]) == (False, "identity", None)
    assert status["reviewer"] == {"lane": "supervising_admin", "lane_label": "主管部门业务管理员", "org": "江岸区卫生健康局"}

    started = client.post("/api/v1/realname", headers=applicant)
    assert started.status_code == 201
    instance_id, task_id = started.json["instance_id"], started.json["task"]["id"]
    assert started.json["task"]["name"] == "fill_identity"
    assert client.post("/api/v1/realname", headers=applicant).json["instance_id"] == instance_id   # 200, the same
    mine = client.get("/api/v1/tasks?view=assigned&process=real_name_verification", headers=applicant).json
    assert [t["id"] for t in mine["items"]] == [task_id]
    form = client.get(f"/api/v1/tasks/{task_id}", headers=applicant).json["form"]
    assert form["schema"]["properties"]["id_type"]["oneOf"][0] == {"const": "resident_id", "title": "居民身份证"}

    front, back = upload_api(client, applicant, PNG, "正面.png"), upload_api(client, applicant, PNG, "反面.png")
    pdf_photo = upload_api(client, applicant, PDF, "照片.png")
    refused = client.post(f"/api/v1/tasks/{task_id}/complete", headers=applicant,
                          json={"data": {**IDENTITY, "id_front": pdf_photo, "id_back": back,
                                         "id_type": "passport", "id_number": "E12"}})
    assert refused.status_code == 422
    assert refused.json["fields"] == {"id_front": "身份证正面只接受 JPG 或 PNG 文件",
                                      "id_number": "护照号码应为 5–17 位字母或数字"}
    saved = client.post(f"/api/v1/tasks/{task_id}/draft", headers=applicant, json={"data": {"real_name": "张伟"}})
    assert saved.status_code == 200
    done = client.post(f"/api/v1/tasks/{task_id}/complete", headers=applicant,
                       json={"data": {**IDENTITY, "id_front": front, "id_back": back}})
    assert done.status_code == 200, done.json

    status = client.get("/api/v1/realname", headers=applicant).json
    assert status["step"] == "upload" and status["submitted"]["id_number"] == RESIDENT_ID
    form_file = status["form_file"]
    assert form_file["content_type"] == "application/pdf"
    with client.get(f"/api/v1/files/{form_file['id']}", headers=applicant) as pdf:
        assert pdf.status_code == 200 and "测试医院" in pdf_text(pdf.data) and "江岸区卫生健康局" in pdf_text(pdf.data)
    scan = upload_api(client, applicant, JPG, "盖章.jpg")
    submitted = client.post(f"/api/v1/tasks/{status['task']['id']}/complete", headers=applicant,
                            json={"data": {"stamped_form": scan}})
    assert submitted.status_code == 200 and submitted.json["tasks"][0]["name"] == "review_by_supervisor"
    assert client.get("/api/v1/realname", headers=applicant).json["step"] == "review"

    # The reviewer: the inbox and the review list, a rejection with an opinion.
    claimable = client.get("/api/v1/tasks?view=claimable&process=real_name_verification", headers=reviewer).json
    [review] = claimable["items"]
    listed = client.get("/api/v1/realname/reviews", headers=reviewer).json
    assert [(i["username"], i["status"], i["task_id"]) for i in listed["items"]] == [
        ("jahosp001", "pending", review["id"])]
    assert client.post(f"/api/v1/tasks/{review['id']}/claim", headers=reviewer).status_code == 200
    rejected = client.post(f"/api/v1/tasks/{review['id']}/complete", headers=reviewer,
                           json={"data": {"decision": "reject", "comment": "请上传清晰的身份证照片"}})
    assert rejected.status_code == 200

    status = client.get("/api/v1/realname", headers=applicant).json
    assert status["step"] == "identity"
    assert (status["returned"]["by"], status["returned"]["comment"]) == ("jaadmin01", "请上传清晰的身份证照片")
    again = status["task"]["id"]
    prefilled = client.get(f"/api/v1/tasks/{again}", headers=applicant).json["data"]
    assert {k: prefilled[k] for k in IDENTITY} == IDENTITY and prefilled["id_back"] == back
    new_front = upload_api(client, applicant, JPG, "正面.jpg")
    assert client.post(f"/api/v1/tasks/{again}/complete", headers=applicant,
                       json={"data": {**prefilled, "id_front": new_front}}).status_code == 200
    status = client.get("/api/v1/realname", headers=applicant).json
    assert client.post(f"/api/v1/tasks/{status['task']['id']}/complete", headers=applicant,
                       json={"data": {"stamped_form": scan}}).status_code == 200

    # Correct the name and approve.
    [second] = client.get("/api/v1/tasks?view=claimable", headers=reviewer).json["items"]
    approved = client.post(f"/api/v1/tasks/{second['id']}/complete", headers=reviewer,
                           json={"data": {"decision": "approve", "corrected_real_name": "张伟强"}})
    assert approved.status_code == 200 and approved.json["status"] == "completed"
    history = approved.json["history"]
    [corrected] = [e for e in history if e["kind"] == "corrected"]
    assert corrected["detail"]["corrections"] == [{"field": "real_name", "label": "姓名", "old": "张伟",
                                                   "new": "张伟强"}]
    assert [(e["actor"], e["outcome"], e["comment"]) for e in history
            if e["kind"] == "task_completed" and e["bpmn_id"] == "review_by_supervisor"] == [
        ("jaadmin01", "reject", "请上传清晰的身份证照片"), ("jaadmin01", "approve", None)]

    me = client.get("/api/v1/me", headers=applicant).json
    assert me["real_name_verified"] is True
    status = client.get("/api/v1/realname", headers=applicant).json
    assert status["identity"] == {"real_name": "张伟强", "id_type": "resident_id", "id_type_label": "居民身份证",
                                  "id_number": "420102********001X", "phone": "13800138000"}
    assert client.get("/api/v1/users", headers=applicant).status_code == 200      # the gate has lifted
    assert client.post("/api/v1/realname", headers=applicant).json["error"] == "already_verified"
    actions = Session().scalars(select(AuditEvent.action).where(AuditEvent.action.like("real_name%"))
                                .order_by(AuditEvent.id)).all()
    assert actions == ["real_name_reject", "real_name_approve"]


def test_what_an_unverified_account_may_not_reach_over_the_api(client, accounts_ready, api_login, users):
    jahosp, wchosp = api_login("jahosp001"), api_login("wchosp001")
    task_id = client.post("/api/v1/realname", headers=jahosp).json["task"]["id"]
    instance_id = client.get("/api/v1/realname", headers=jahosp).json["instance_id"]
    own_file = upload_api(client, jahosp, PNG, "a.png")
    for method, path in (("get", f"/api/v1/tasks/{task_id}"), ("post", f"/api/v1/tasks/{task_id}/complete"),
                         ("post", f"/api/v1/tasks/{task_id}/draft"), ("get", f"/api/v1/instances/{instance_id}"),
                         ("get", f"/api/v1/files/{own_file}"), ("get", "/api/v1/tasks?view=claimable"),
                         ("get", "/api/v1/tasks?view=assigned"), ("get", "/api/v1/realname/reviews"),
                         ("get", "/api/v1/processes"), ("post", "/api/v1/processes/generic_request/instances")):
        response = getattr(client, method)(path, headers=wchosp, json={"data": {}})
        assert (response.status_code, response.json["error"]) == (403, "real_name_required"), path
    with client.get(f"/api/v1/files/{own_file}", headers=jahosp) as own:
        assert own.status_code == 200
    assert client.get(f"/api/v1/instances/{instance_id}", headers=jahosp).status_code == 200
    assert client.get(f"/api/v1/instances/{instance_id}/diagram.svg", headers=jahosp).status_code == 200


def test_people_cannot_start_it_from_the_process_list(client, accounts_ready, api_login):
    admin = api_login("jaadmin01")
    assert "real_name_verification" not in {p["key"] for p in client.get("/api/v1/processes", headers=admin).json}
    refused = client.post("/api/v1/processes/real_name_verification/instances", headers=admin, json={})
    assert refused.status_code == 403
    assert client.post("/api/v1/realname", headers=admin).status_code == 409


def test_a_sub_account_is_reviewed_by_its_master_over_the_api(client, accounts_ready, ready, api_login, users):
    ready("jahosp001", verified=True)
    master = users("jahosp001")
    role = Role(name="人事科", org_id=master.org_id, role_type="医疗机构",
                permissions=Session().scalars(select(Permission).where(Permission.code.in_(["hr", "hr.staff"]))).all())
    sub = User(username="jahospsub1", display_name="人事科", org_id=master.org_id, user_type=UserType.SUB_ACCOUNT,
               password_hash="", session_token=auth.new_session_token(), roles=[role])
    Session().add_all([role, sub])
    Session().flush()
    auth.set_password(sub, "Hg#5207tkW")
    sub.password_change_reason = None
    Session.commit()
    token = api_login("jahospsub1", "Hg#5207tkW")
    status = client.post("/api/v1/realname", headers=token).json
    assert status["reviewer"] == {"lane": "institution_master", "lane_label": "本单位总账号/实名审核人",
                                  "org": "测试医院"}
    front, back = upload_api(client, token, PNG, "1.png"), upload_api(client, token, PNG, "2.png")
    client.post(f"/api/v1/tasks/{status['task']['id']}/complete", headers=token,
                json={"data": {**IDENTITY, "real_name": "王强", "id_number": "420102199211110056",
                               "id_front": front, "id_back": back}})
    step2 = client.get("/api/v1/realname", headers=token).json["task"]["id"]
    client.post(f"/api/v1/tasks/{step2}/complete", headers=token,
                json={"data": {"stamped_form": upload_api(client, token, PDF, "s.pdf")}})
    assert client.get("/api/v1/tasks?view=claimable", headers=api_login("jaadmin01")).json["total"] == 0
    master_token = api_login("jahosp001")
    [task] = client.get("/api/v1/tasks?view=claimable", headers=master_token).json["items"]
    assert (task["name"], task["lane_label"]) == ("review_by_master", "本单位总账号/实名审核人")
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=master_token,
                       json={"data": {"decision": "approve"}})
    assert done.json["status"] == "completed"
    assert client.get("/api/v1/me", headers=token).json["real_name_verified"] is True


def test_openapi_describes_the_realname_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/realname"]) == {"get", "post"} and "get" in paths["/realname/reviews"]
