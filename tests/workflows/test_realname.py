"""实名认证 (real_name_verification) through the services, on the real BPMN file: the master account reviewed by
the supervising admin, a sub-account reviewed by its master account, rejection and resubmission, correction and
approval, the refusals, the effect with its audit rows, the frozen identity, the generated PDF, the reminder."""
import io
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import time_machine
from lxml import etree
from sqlalchemy import select

from models import Session
from models.accounts import Role, User, UserType
from models.audit import AuditEvent
from models.scheduling import Notification
from models.workflow import Attachment, HumanTask, ProcessEvent, ProcessInstance
from web import security
from workflows import accounts, auth, files, identity, inbox, processes, realname
from workflows.errors import Conflict, FormInvalid, InvalidInput, NotAuthorized, NotFound

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)        # 2026-03-02 16:00 in China
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
JPG = b"\xff\xd8\xff\xe0" + bytes(64)
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
RESIDENT_ID = "42010219800101001X"
BPMN = Path(__file__).resolve().parents[2] / "bpmn" / "real_name_verification.bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}


@pytest.fixture
def people(ready, users):
    ready("jahosp001", "wchosp001")                              # password changed, not verified
    ready("jaadmin01", "wcadmin01", "whadmin01", verified=True)
    return users


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def upload(user, data=PNG, name="正面.png"):
    return files.store_upload(user, name, io.BytesIO(data)).id


def identity_data(user, **changes):
    return {"real_name": "张伟", "id_type": "resident_id", "id_number": RESIDENT_ID, "phone": "13800138000",
            "id_front": upload(user), "id_back": upload(user, name="反面.png"), **changes}


def open_tasks(instance):
    return Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.state == "ready")).all()


def the_task(instance, bpmn_id=None):
    [task] = [t for t in open_tasks(instance) if bpmn_id is None or t.bpmn_id == bpmn_id]
    return task


def events(instance, kind=None):
    return Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id)
                             .where(True if kind is None else ProcessEvent.kind == kind)
                             .order_by(ProcessEvent.id)).all()


def audits(action):
    return Session().scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def pdf_text(attachment):
    with open(files.attachment_path(attachment), "rb") as fh:
        data = fh.read()
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return "".join(out.split())


def submit_to_review(user, **changes):
    """Steps 1 and 2 through the services; returns the instance waiting for review."""
    instance = realname.submit_identity(user, identity_data(user, **changes))
    scan = upload(user, PDF, "盖章申请表.pdf")
    realname.submit_scan(user, {"stamped_form": scan})
    return instance


def make_sub_account(master, username="jahosp_sub01", with_permissions=(), verified=False):
    """A sub-account of ``master``'s institution with a role of its own (without the approval centre)."""
    from models.accounts import Permission
    role = Role(name=f"{username} 角色", org_id=master.org_id, role_type="医疗机构",
                permissions=Session().scalars(select(Permission).where(
                    Permission.code.in_(["hr", "hr.staff", *with_permissions]))).all())
    user = User(username=username, display_name="人事科", org_id=master.org_id, user_type=UserType.SUB_ACCOUNT,
                password_hash="x", session_token=auth.new_session_token(), real_name_verified=verified,
                roles=[role])
    Session().add_all([role, user])
    Session().flush()
    return user


# --- the BPMN file ---------------------------------------------------------------------------------------------

def test_the_process_is_parsed_validated_and_started_by_the_system_only():
    definition = processes.definition(realname.KEY)
    assert (definition.name, definition.startable) == ("实名认证", False)
    assert realname.KEY not in {d.key for d in processes.startable_processes()}
    assert set(definition.forms) == {f"real_name_{n}.{k}.json" for n in ("identity", "upload", "review")
                                     for k in ("schema", "uischema")}


def test_every_element_has_diagram_interchange_and_lies_in_a_lane():
    root = etree.parse(str(BPMN)).getroot()
    process = root.find("bpmn:process", NS)
    nodes = {el.get("id") for el in process if el.get("id") and not el.tag.endswith(("laneSet", "sequenceFlow",
                                                                                      "extensionElements"))}
    flows = {el.get("id") for el in process.iterfind("bpmn:sequenceFlow", NS)}
    lanes = {lane.get("name"): {ref.text for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
             for lane in process.iterfind("bpmn:laneSet/bpmn:lane", NS)}
    assert set(lanes) == {"applicant", "supervising_admin", "institution_master"}
    assert set().union(*lanes.values()) == nodes
    shapes = {el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    assert nodes <= shapes and flows == edges
    assert {"participant_real_name_verification", "lane_applicant", "lane_supervising_admin",
            "lane_institution_master"} <= shapes


@pytest.mark.parametrize("id_type, valid, invalid", [
    ("passport", ["E12345678", "g1234567"], ["E123", "E12345678901234567X", "Ｅ1234567", "E1234-567"]),
    ("hk_macau_permit", ["H12345678", "M1234567890"], ["H1234567", "A12345678"]),
    ("taiwan_permit", ["12345678", "AB12345678"], ["1234567", "ABC1234567X"]),
    ("foreign_permanent", ["USA310012345678", "911234567890123456"], ["US3100123456789", "81123456789012345X"]),
])
def test_the_form_patterns_agree_with_the_identity_validators(id_type, valid, invalid):
    """The schema (what the API's generic validation applies) and identity.validate_other_id (the wizard's
    precise messages) accept and refuse the same numbers."""
    form = processes.start_form(realname.KEY)
    base = {"real_name": "张伟", "id_type": id_type, "phone": "13800138000", "id_front": 1, "id_back": 2}
    from workflows import forms
    for number in valid:
        forms.validate(form, {**base, "id_number": number})
        identity.validate_other_id(id_type, number)
    for number in invalid:
        with pytest.raises(FormInvalid) as refused:
            forms.validate(form, {**base, "id_number": number})
        assert set(refused.value.fields) == {"id_number"}
        with pytest.raises(InvalidInput):
            identity.validate_other_id(id_type, number)


# --- master account, reviewed by the supervising admin ---------------------------------------------------------

def test_master_account_verified_by_the_supervising_admin(people):
    applicant, admin = people("jahosp001"), people("jaadmin01")
    assert security.gate_for(applicant, "auth.home") == "real_name"

    instance = realname.submit_identity(applicant, identity_data(applicant, id_number=RESIDENT_ID.lower()))
    assert instance.title == "实名认证：测试医院（jahosp001）"
    assert instance.business_key == f"real_name:{applicant.id}"
    upload_task = the_task(instance)
    assert (upload_task.bpmn_id, upload_task.assignee_id) == ("upload_form", applicant.id)
    st = realname.status(applicant)
    assert st.step == "upload" and st.task.id == upload_task.id
    generated = st.submitted.form_file
    assert generated.instance_id == instance.id and generated.owner_id == applicant.id
    assert generated.content_type == "application/pdf"
    assert generated.original_name == "单位注册及人事管理账号授权申请表（张伟）.pdf"

    realname.submit_scan(applicant, {"stamped_form": upload(applicant, JPG, "盖章.jpg")})
    review = the_task(instance)
    assert (review.bpmn_id, review.lane, review.assignee_id) == ("review_by_supervisor", "supervising_admin", None)
    assert review.candidate_org_id == applicant.org.supervisor_id
    assert review.due_at == T0 + timedelta(days=5)
    assert realname.status(applicant).step == "review"
    assert [t.id for t in inbox.page(admin, "claimable")[0]] == [review.id]
    assert realname.review_prefill(instance) == {"corrected_real_name": "张伟", "corrected_id_type": "resident_id",
                                                 "corrected_id_number": RESIDENT_ID,
                                                 "corrected_phone": "13800138000"}

    realname.review(admin, review.id, {"decision": "approve", "comment": "材料齐全"})
    Session().refresh(instance)
    Session().refresh(applicant)
    assert instance.status == "completed"
    assert (applicant.real_name_verified, applicant.real_name, applicant.id_type, applicant.id_number,
            applicant.phone) == (True, "张伟", "resident_id", RESIDENT_ID, "13800138000")
    assert realname.status(applicant).step == "verified"
    assert security.gate_for(applicant, "auth.home") is None        # the gate lifts at the next request

    [approved] = audits("real_name_approve")
    assert (approved.actor_name, approved.target_name, approved.outcome) == ("jaadmin01", "jahosp001", "success")
    assert approved.detail == {"instance": instance.id, "id_type": "resident_id",
                               "id_number": "420102********001X", "corrections": []}
    assert [(e.kind, e.actor_name, e.outcome) for e in events(instance)] == [
        ("started", "jahosp001", None), ("task_completed", "jahosp001", "submitted"),
        ("task_completed", "jahosp001", "submitted"), ("task_completed", "jaadmin01", "approve"),
        ("outcome", "jaadmin01", "approved"), ("completed", None, None)]
    note = Session().scalars(select(Notification).where(Notification.user_id == applicant.id)).one()
    assert note.title == "实名认证已通过"


def test_the_generated_form_holds_the_institution_the_person_and_the_date(people):
    applicant = people("jahosp001")
    realname.submit_identity(applicant, identity_data(applicant, real_name="张伟"))
    text = pdf_text(realname.status(applicant).submitted.form_file)
    for expected in ("卫生人力基础资源管理系统", "单位注册及人事管理账号授权申请表", "单位名称（第一名称）", "测试医院",
                     "统一社会信用代码", "12420102MB1234567T", "医疗机构许可证", "PDY00001142010217A1001",
                     "单位业务主管部门", "江岸区卫生健康局", "申请单位所属类别", "综合医院", "申请单位人事部门意见",
                     "本单位同意授权张伟(证件号码:42010219800101001X)办理卫生人力资源管理系统单位用户注册申请,"
                     "并授予张伟在系统中管理账号权限。", "人事部门盖章2026年03月02日", "备注：人事管理账号具有"):
        assert expected in text, expected


def test_the_pdf_embeds_its_font():
    from workflows import pdf
    data = pdf.build([pdf.paragraph("实名认证", "title"), pdf.form_table([("姓名", "张伟")])])
    fonts = subprocess.run(["pdffonts", "-"], input=data, capture_output=True, check=True).stdout.decode()
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert len(rows) == 1 and rows[0][0].endswith("+WenQuanYiZenHei-0"), fonts   # one font, a subset
    assert rows[0][3:6] == ["yes", "yes", "yes"], fonts                          # embedded, with Unicode map
    assert data == pdf.build([pdf.paragraph("实名认证", "title"), pdf.form_table([("姓名", "张伟")])])


# --- sub-account, reviewed by the institution's master account ------------------------------------------------

def test_sub_account_verified_by_its_master_account(people, ready):
    master, admin = people("jahosp001"), people("jaadmin01")
    ready("jahosp001", verified=True)
    sub = make_sub_account(master)
    reviewer_sub = make_sub_account(master, "jahosp_sub02", ["sys", "sys.realname"], verified=True)
    plain_sub = make_sub_account(master, "jahosp_sub03", verified=True)
    assert realname.review_route(sub) == "institution" and realname.reviewer_org(sub) == master.org

    instance = submit_to_review(sub, real_name="李娜", id_number="420102198503150020")
    review = the_task(instance)
    assert (review.bpmn_id, review.lane, review.candidate_org_id) == ("review_by_master", "institution_master",
                                                                      master.org_id)
    assert inbox.can_claim(master, review) and inbox.can_claim(reviewer_sub, review)
    assert not inbox.can_claim(plain_sub, review) and not inbox.can_claim(admin, review)
    assert not inbox.can_claim(sub, review)                          # never one's own request
    with pytest.raises(NotAuthorized):
        realname.review(admin, review.id, {"decision": "approve"})   # sees it (region admin), may not act
    with pytest.raises(NotFound):
        realname.review(people("wcadmin01"), review.id, {"decision": "approve"})
    with pytest.raises(NotFound):
        realname.review(plain_sub, review.id, {"decision": "approve"})

    realname.review(master, review.id, {"decision": "approve"})
    Session().refresh(sub)
    assert (sub.real_name_verified, sub.real_name, sub.id_number) == (True, "李娜", "420102198503150020")
    assert audits("real_name_approve")[-1].actor_name == "jahosp001"


def test_same_level_users_are_reviewed_in_their_own_unit_and_others_by_the_supervisor(people):
    admin = people("jaadmin01")
    assert realname.review_route(people("jahosp001")) == "supervisor"
    admin.user_type = UserType.SAME_LEVEL_1
    assert realname.review_route(admin) == "institution" and realname.reviewer_org(admin).name == "江岸区卫生健康局"
    admin.user_type = UserType.BUSINESS_ADMIN
    assert realname.reviewer_org(admin).name == "武汉市卫生健康委员会"


# --- return, resubmission, correction --------------------------------------------------------------------------

def test_rejected_with_an_opinion_then_resubmitted_and_approved(people, clock):
    applicant, admin = people("jahosp001"), people("jaadmin01")
    instance = submit_to_review(applicant)
    first_form = realname.status(applicant).submitted.form_file
    review = the_task(instance)
    with pytest.raises(FormInvalid) as no_opinion:
        realname.review(admin, review.id, {"decision": "reject"})
    assert no_opinion.value.fields == {"comment": "请填写“审核意见”"}
    realname.review(admin, review.id, {"decision": "reject", "comment": "身份证照片不清晰，请重新上传"})

    st = realname.status(applicant)
    assert st.step == "identity" and st.task.bpmn_id == "fill_identity"
    assert {k: st.values[k] for k in ("real_name", "id_type", "id_number", "phone")} == {
        "real_name": "张伟", "id_type": "resident_id", "id_number": RESIDENT_ID, "phone": "13800138000"}
    assert st.values["id_front"] and st.values["id_back"]
    assert (st.returned["actor"], st.returned["comment"]) == ("jaadmin01", "身份证照片不清晰，请重新上传")
    [rejected] = audits("real_name_reject")
    assert (rejected.actor_name, rejected.target_name, rejected.detail["comment"]) == (
        "jaadmin01", "jahosp001", "身份证照片不清晰，请重新上传")
    note = Session().scalars(select(Notification).where(Notification.user_id == applicant.id)).one()
    assert note.title == "实名认证未通过" and "身份证照片不清晰" in note.body
    assert not Session().get(User, applicant.id).real_name_verified

    # Resubmitted with a new photo: same data the same day, so the same form; the scan is still on file.
    clock.shift(timedelta(hours=1))
    realname.submit_identity(applicant, {**st.values, "id_front": upload(applicant, JPG, "新正面.jpg")})
    st = realname.status(applicant)
    assert st.step == "upload" and st.submitted.form_file.id == first_form.id
    assert st.values["stamped_form"] is not None
    realname.submit_scan(applicant, {"stamped_form": st.values["stamped_form"]})
    second = the_task(instance)
    assert second.id != review.id and second.bpmn_id == "review_by_supervisor"
    realname.review(admin, second.id, {"decision": "approve"})
    assert Session().get(User, applicant.id).real_name_verified
    assert [(e.actor_name, e.outcome, e.comment) for e in events(instance, "task_completed")
            if e.bpmn_id == "review_by_supervisor"] == [("jaadmin01", "reject", "身份证照片不清晰，请重新上传"),
                                                        ("jaadmin01", "approve", None)]


def test_changed_data_generates_a_new_form_and_going_back_keeps_the_values(people):
    applicant = people("jahosp001")
    realname.submit_identity(applicant, identity_data(applicant))
    first = realname.status(applicant).submitted.form_file
    realname.back_to_identity(applicant)
    st = realname.status(applicant)
    assert st.step == "identity" and st.values["real_name"] == "张伟" and st.returned is None
    realname.submit_identity(applicant, {**st.values, "real_name": "张伟强"})
    second = realname.status(applicant).submitted.form_file
    assert second.id != first.id and "张伟强" in pdf_text(second)
    attached = Session().scalars(select(Attachment).where(Attachment.instance_id == second.instance_id,
                                                          Attachment.content_type == "application/pdf")).all()
    assert {a.id for a in attached} == {first.id, second.id}   # both forms stay attached to the instance


def test_reviewer_corrects_fields_and_approves(people):
    applicant, admin = people("jahosp001"), people("jaadmin01")
    instance = submit_to_review(applicant, real_name="张卫", phone="13800138000")
    review = the_task(instance)
    prefill = realname.review_prefill(instance)
    realname.review(admin, review.id, {**prefill, "decision": "approve", "corrected_real_name": "张伟",
                                       "corrected_id_type": "resident_id",
                                       "corrected_id_number": "420102198503150020",
                                       "corrected_phone": "139 0013 9000"})
    applicant = Session().get(User, applicant.id)
    assert (applicant.real_name, applicant.id_number, applicant.phone) == ("张伟", "420102198503150020",
                                                                          "13900139000")
    [corrected] = events(instance, "corrected")
    assert corrected.actor_name == "jaadmin01"
    assert corrected.detail["corrections"] == [
        {"field": "real_name", "label": "姓名", "old": "张卫", "new": "张伟"},
        {"field": "id_number", "label": "证件号码", "old": RESIDENT_ID, "new": "420102198503150020"},
        {"field": "phone", "label": "手机号码", "old": "13800138000", "new": "13900139000"}]
    assert corrected.comment == ("姓名：张卫 → 张伟；证件号码：42010219800101001X → 420102198503150020；"
                                 "手机号码：13800138000 → 13900139000")
    history = processes.history(instance)
    assert [e["kind"] for e in history][-3:] == ["corrected", "outcome", "completed"]
    [approved] = audits("real_name_approve")
    assert approved.detail["corrections"][1] == {"field": "id_number", "label": "证件号码",
                                                 "old": "420102********001X", "new": "420102********0020"}


def test_corrections_are_validated_by_type(people):
    applicant, admin = people("jahosp001"), people("jaadmin01")
    review = the_task(submit_to_review(applicant))
    with pytest.raises(FormInvalid) as without_type:
        realname.review(admin, review.id, {"decision": "approve", "corrected_id_number": "420102198503150020"})
    assert without_type.value.fields == {"corrected_id_type": "请填写“证件类别（更正）”"}
    with pytest.raises(FormInvalid) as bad_number:
        realname.review(admin, review.id, {"decision": "approve", "corrected_id_type": "resident_id",
                                           "corrected_id_number": "420102198503150021"})
    assert "校验位" in bad_number.value.fields["corrected_id_number"]
    realname.review(admin, review.id, {"decision": "approve", "corrected_id_type": "passport",
                                       "corrected_id_number": "e12345678"})
    applicant = Session().get(User, applicant.id)
    assert (applicant.id_type, applicant.id_number) == ("passport", "E12345678")


def test_unchanged_prefilled_values_are_no_correction(people):
    applicant, admin = people("jahosp001"), people("jaadmin01")
    instance = submit_to_review(applicant, id_number=RESIDENT_ID.lower(), phone="+86 138-0013-8000")
    realname.review(admin, the_task(instance).id, {**realname.review_prefill(instance), "decision": "approve"})
    assert events(instance, "corrected") == []
    assert audits("real_name_approve")[0].detail["corrections"] == []


# --- checks and refusals ---------------------------------------------------------------------------------------

def test_step_one_refuses_bad_numbers_and_photos_by_content_with_every_message(people):
    applicant = people("jahosp001")
    pdf_photo = upload(applicant, PDF, "正面.png")                  # named .png, a PDF inside
    with pytest.raises(FormInvalid) as refused:
        realname.submit_identity(applicant, identity_data(applicant, id_number="42010219800101001１",
                                                          phone="1380013800", id_front=pdf_photo))
    assert refused.value.fields == {
        "id_number": "居民身份证号码中含有全角字符（如“１”“Ｘ”），请切换到半角（英文）输入后重新填写",
        "phone": "手机号码不正确", "id_front": "身份证正面只接受 JPG 或 PNG 文件"}
    Session.rollback()
    assert realname.open_verification(applicant) is None            # nothing started
    with pytest.raises(FormInvalid) as passport:
        realname.submit_identity(applicant, identity_data(applicant, id_type="passport", id_number="E12"))
    assert passport.value.fields == {"id_number": "护照号码应为 5–17 位字母或数字"}
    with pytest.raises(FormInvalid) as missing:
        realname.submit_identity(applicant, {"id_type": "resident_id"})
    assert set(missing.value.fields) == {"real_name", "id_number", "phone", "id_front", "id_back"}
    assert missing.value.fields["id_front"] == "请上传“身份证正面”"


def test_a_photo_over_three_megabytes_is_refused(people, monkeypatch):
    applicant = people("jahosp001")
    big = upload(applicant)
    Session().get(Attachment, big).size = realname.MAX_BYTES + 1    # as if stored under a larger limit
    with pytest.raises(FormInvalid) as refused:
        realname.submit_identity(applicant, identity_data(applicant, id_back=big))
    assert refused.value.fields == {"id_back": "身份证反面不能超过 3 MB"}


def test_someone_elses_file_cannot_be_used(people):
    applicant, other = people("jahosp001"), people("wchosp001")
    with pytest.raises(FormInvalid) as refused:
        realname.submit_identity(applicant, identity_data(applicant, id_front=upload(other)))
    assert refused.value.fields == {"id_front": "附件不存在或无权使用"}


def test_the_scan_must_be_pdf_or_jpg_and_not_the_unstamped_form(people):
    applicant = people("jahosp001")
    realname.submit_identity(applicant, identity_data(applicant))
    generated = realname.status(applicant).submitted.form_file
    with pytest.raises(FormInvalid) as png:
        realname.submit_scan(applicant, {"stamped_form": upload(applicant, PNG, "scan.png")})
    assert png.value.fields == {"stamped_form": "盖章后的授权申请表只接受 PDF 或 JPG 文件"}
    with pytest.raises(FormInvalid) as unstamped:
        realname.submit_scan(applicant, {"stamped_form": generated.id})
    assert "而不是系统生成的原始申请表" in unstamped.value.fields["stamped_form"]
    with pytest.raises(FormInvalid) as missing:
        realname.submit_scan(applicant, {})
    assert missing.value.fields == {"stamped_form": "请上传“盖章后的授权申请表”"}


def test_the_process_checks_again_when_the_generic_task_api_skips_the_wizard(people):
    """processes.complete_task knows no process rules: the handlers send bad material back to the applicant."""
    applicant = people("jahosp001")
    instance, _created = realname.start(applicant)
    fill = the_task(instance)
    processes.complete_task(applicant, fill.id, identity_data(applicant, id_front=upload(applicant, PDF, "x.pdf")))
    back = the_task(instance)
    assert back.bpmn_id == "fill_identity" and back.id != fill.id
    [refusal] = events(instance, "outcome")
    assert (refusal.outcome, refusal.comment) == ("reject", "身份证正面只接受 JPG 或 PNG 文件")
    assert realname.status(applicant).returned["comment"] == "身份证正面只接受 JPG 或 PNG 文件"

    processes.complete_task(applicant, back.id, identity_data(applicant))
    upload_task = the_task(instance)
    generated = realname.status(applicant).submitted.form_file
    processes.complete_task(applicant, upload_task.id, {"stamped_form": generated.id})
    again = the_task(instance)
    assert again.bpmn_id == "upload_form" and again.id != upload_task.id
    assert "原始申请表" in events(instance, "outcome")[-1].comment
    with pytest.raises(FormInvalid):
        realname.precheck(applicant, again.id, {"stamped_form": generated.id})


def test_one_open_verification_per_account_and_none_once_verified(people):
    applicant = people("jahosp001")
    first, created = realname.start(applicant)
    again, created_again = realname.start(applicant)
    assert created and not created_again and again.id == first.id
    with pytest.raises(Conflict) as wrong_step:
        realname.submit_scan(applicant, {"stamped_form": upload(applicant, PDF, "s.pdf")})
    assert wrong_step.value.code == "wrong_step"
    with pytest.raises(NotAuthorized):
        processes.start_instance(applicant, realname.KEY)             # people never start it directly
    verified = people("jaadmin01")
    with pytest.raises(Conflict) as already:
        realname.start(verified)
    assert already.value.code == "already_verified"


def test_an_account_without_a_reviewer_is_told_so(people, ready):
    province = people("hbadmin01")
    ready("hbadmin01", verified=False)
    with pytest.raises(InvalidInput) as refused:
        realname.start(province)                                      # 湖北省卫健委 has no supervisor
    assert refused.value.code == "no_reviewer"


def test_the_applicant_and_outsiders_cannot_review(people):
    applicant = people("jahosp001")
    review = the_task(submit_to_review(applicant))
    with pytest.raises(NotAuthorized):
        realname.review(applicant, review.id, {"decision": "approve"})
    with pytest.raises(NotFound):
        realname.review(people("wcadmin01"), review.id, {"decision": "approve"})
    with pytest.raises(NotFound):
        realname.review(people("wchosp001"), review.id, {"decision": "approve"})
    with pytest.raises(NotAuthorized):
        realname.review(people("whadmin01"), review.id, {"decision": "approve"})   # the city sees, cannot act
    assert not Session().get(User, applicant.id).real_name_verified


# --- after approval ---------------------------------------------------------------------------------------------

def test_identity_fields_are_frozen_after_approval(people):
    applicant, admin = people("jahosp001"), people("jaadmin01")
    realname.review(admin, the_task(submit_to_review(applicant)).id, {"decision": "approve"})
    Session.commit()
    applicant = Session().get(User, applicant.id)
    assert realname.identity_frozen(applicant)

    with pytest.raises(realname.IdentityFrozen) as frozen:
        accounts.update_user(admin, applicant, phone="13900139000")
    assert frozen.value.fields == {"phone": ["实名认证通过后手机号码不能修改"]}
    Session.rollback()
    applicant = Session().get(User, applicant.id)
    for name, value in (("real_name", "王五"), ("id_type", "passport"), ("id_number", "E12345678")):
        setattr(applicant, name, value)
        with pytest.raises(realname.IdentityFrozen):
            Session.flush()
        Session.rollback()
        applicant = Session().get(User, applicant.id)
    # the same values, and the other fields, can still be saved
    accounts.update_user(admin, applicant, phone="13800138000", email="hr@example.cn")
    Session.flush()
    assert Session().get(User, applicant.id).email == "hr@example.cn"


def test_before_verification_the_phone_may_still_change(people):
    applicant, admin = people("jahosp001"), people("jaadmin01")
    accounts.update_user(admin, applicant, phone="13900139000")
    Session.flush()
    assert Session().get(User, applicant.id).phone == "13900139000"
    assert not realname.identity_frozen(applicant)
    assert realname.status(applicant).values == {"phone": "13900139000"}   # the wizard starts from it


# --- reviewers' list, reminder ---------------------------------------------------------------------------------

def test_review_list_by_status_and_scope(people, ready):
    admin, master = people("jaadmin01"), people("jahosp001")
    pending = submit_to_review(master)
    other = submit_to_review(people("wchosp001"))
    rows, total, counts = realname.review_list(admin, "pending")
    assert [r.instance.id for r in rows] == [pending.id] and total == 1
    assert rows[0].status_label == "待审核" and rows[0].task.bpmn_id == "review_by_supervisor"
    assert counts == {"pending": 1, "returned": 0, "approved": 0, "filling": 0, "all": 1}
    assert [r.instance.id for r in realname.review_list(people("wcadmin01"), "all")[0]] == [other.id]
    assert realname.review_list(people("whadmin01"), "all")[1] == 0   # the city reviews the counties' admins

    realname.review(admin, rows[0].task.id, {"decision": "reject", "comment": "请补充"})
    rows, _total, counts = realname.review_list(admin, "returned")
    assert [r.status for r in rows] == ["returned"] and counts["pending"] == 0
    realname.submit_identity(master, realname.status(master).values)
    assert realname.review_list(admin, "returned")[1] == 1            # until it is submitted again
    realname.submit_scan(master, {"stamped_form": realname.status(master).values["stamped_form"]})
    assert realname.review_list(admin, "returned")[1] == 0
    realname.review(admin, realname.review_list(admin, "pending")[0][0].task.id, {"decision": "approve"})
    assert [r.status for r in realname.review_list(admin, "approved")[0]] == ["approved"]

    ready("jahosp001", verified=True)
    sub = make_sub_account(Session().get(User, master.id))
    realname.start(sub)
    rows, _total, counts = realname.review_list(Session().get(User, master.id), "filling")
    assert [r.applicant.username for r in rows] == ["jahosp_sub01"] and counts["all"] == 1
    assert not rows[0].viewable and rows[0].task is None        # nothing to see before the first submission
    assert realname.review_list(admin, "approved")[0][0].viewable
    assert realname.review_list(admin, "filling")[1] == 0              # sub-accounts are the master's
    with pytest.raises(InvalidInput):
        realname.review_list(admin, "everything")


def test_the_review_reminds_the_candidates_after_three_days(people, clock):
    applicant = people("jahosp001")
    instance = submit_to_review(applicant)
    assert instance.next_timer_at == T0 + timedelta(days=3)
    clock.shift(timedelta(days=3, seconds=1))
    assert processes.fire_due_timers() == 1
    [reminder] = events(instance, "reminder")
    assert reminder.detail == {"notified": ["jaadmin01"]}
    note = Session().scalars(select(Notification).where(Notification.kind == "reminder")).one()
    assert note.user_id == people("jaadmin01").id
    assert the_task(instance).bpmn_id == "review_by_supervisor"        # non-interrupting


def test_the_diagram_renders_with_the_current_review_highlighted(people):
    instance = submit_to_review(people("jahosp001"))
    svg = processes.diagram_svg(instance)
    assert 'id="shape-review_by_supervisor"' in svg and "实名认证审核" in svg
    assert "本单位总账号/实名审核人" in svg and "主管部门业务管理员" in svg
    done, current = processes.load_flow(instance).highlights()
    assert current == {"review_by_supervisor"} and {"fill_identity", "upload_form"} <= done


def test_instances_are_listed_for_the_applicant(people):
    applicant = people("jahosp001")
    instance = submit_to_review(applicant)
    assert inbox.page(applicant, "requests")[0] == [instance]
    assert Session().get(ProcessInstance, instance.id).org_id == applicant.org_id
