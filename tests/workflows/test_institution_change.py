"""机构信息修改 (institution_change) through the services, on the real BPMN file: approval with its effect and
audit rows, return and resubmission, the stale-request conflict, one open request per institution, the credit
code kept unique, and who may (not) act."""
import io
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from models import Session
from models.accounts import User
from models.audit import AuditEvent
from models.orgs import Organization
from models.scheduling import Notification
from models.workflow import HumanTask, ProcessEvent
from workflows import accounts, engine, files, inbox, institutions, processes, roles
from workflows.errors import Conflict, FormInvalid, InvalidInput, NotAuthorized, NotFound

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
NEW_NAME = "武汉市江岸区测试医院"
NEW_USCC = "12420102MB1234568X"       # valid check character, used by no organization


@pytest.fixture
def people(ready, users):
    ready("jahosp001", "jaadmin01", "wcadmin01", "whadmin01", verified=True)
    return users


def hospital():
    """测试医院, whatever its name is now."""
    return Session().scalars(select(Organization).join(User, User.org_id == Organization.id)
                             .where(User.username == "jahosp001")).one()


def other_hospital():
    return Session().scalars(select(Organization).where(Organization.uscc == "12420106MB7654321H")).one()


def upload(user, data=PDF, name="更名批复.pdf"):
    return files.store_upload(user, name, io.BytesIO(data)).id


def proposal(user, **changes):
    org = user.org
    return {"name": org.name, "uscc": org.uscc, "licence_no": org.licence_no, "category": org.category,
            "reason": "经区卫生健康局批复同意更名", "evidence": upload(user), **changes}


def open_task(instance):
    return Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.state == "ready")).one()


def change_audits():
    return Session().scalars(select(AuditEvent).where(AuditEvent.action == "institution_change")
                             .order_by(AuditEvent.id)).all()


def test_the_bpmn_file_parses_with_its_lanes_forms_and_handlers():
    definition, = engine.parse_file(engine.os.path.join(engine.BPMN_DIR, "institution_change.bpmn"))
    assert (definition.key, definition.name, definition.startable) == ("institution_change", "机构信息修改", True)
    assert set(definition.forms) == {"institution_change_submit.schema.json", "institution_change_submit.uischema.json",
                                     "institution_change_review.schema.json", "institution_change_review.uischema.json"}
    assert 'bpmndi:BPMNShape id="review_reminder_di"' in definition.bpmn_xml
    first = engine.first_user_task(definition.spec_json)
    assert (first.bpmn_id, first.lane) == ("submit", "applicant")


def test_approval_applies_the_change_with_one_audit_row_per_field(people):
    applicant, reviewer = people("jahosp001"), people("jaadmin01")
    org = hospital()
    version = org.version
    instance = institutions.start_change(applicant, proposal(applicant, name=NEW_NAME, category="专科医院"))
    review = open_task(instance)
    assert (review.bpmn_id, review.lane, review.candidate_org_id) == ("review", "supervising_admin", org.supervisor_id)
    assert review.due_at is not None and instance.title == "机构信息修改：测试医院"
    snapshot = processes.load_flow(instance).task_data(review.task_guid)["snapshot"]
    assert snapshot == {"name": "测试医院", "uscc": org.uscc, "licence_no": org.licence_no, "category": "综合医院",
                        "supervisor_id": org.supervisor_id, "supervisor": "江岸区卫生健康局", "version": version}
    assert [t.id for t in inbox.page(reviewer, "claimable")[0]] == [review.id]

    view = institutions.change_view(instance, review)
    assert [(r["field"], r["old"], r["new"], r["changed"]) for r in view["rows"]] == [
        ("name", "测试医院", NEW_NAME, True), ("uscc", org.uscc, org.uscc, False),
        ("licence_no", org.licence_no, org.licence_no, False), ("supervisor", "江岸区卫生健康局", "江岸区卫生健康局", False),
        ("category", "综合医院", "专科医院", True)]
    assert view["stale"] == [] and [a.original_name for a in view["evidence"]] == ["更名批复.pdf"]

    institutions.complete(reviewer, review.id, {"decision": "approve", "comment": "同意"})
    Session().refresh(instance)
    org = hospital()
    assert (org.name, org.category, org.version) == (NEW_NAME, "专科医院", version + 1)
    assert instance.status == "completed" and instance.next_timer_at is None
    rows = change_audits()
    assert [(e.actor_name, e.target_type, e.target_id, e.detail["field"], e.detail["old"], e.detail["new"])
            for e in rows] == [("jaadmin01", "organization", str(org.id), "name", "测试医院", NEW_NAME),
                               ("jaadmin01", "organization", str(org.id), "category", "综合医院", "专科医院")]
    assert all(e.detail["instance_id"] == instance.id and e.detail["version"] == version + 1 for e in rows)
    assert all(e.org_id == org.id for e in rows)
    outcome = Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id,
                                                           ProcessEvent.kind == "outcome")).one()
    assert (outcome.actor_name, outcome.outcome, len(outcome.detail["changes"])) == ("jaadmin01", "approved", 2)
    assert institutions.open_request(org) is None
    assert institutions.institution_view(applicant)["can_request_change"]


def test_return_keeps_the_values_and_resubmission_takes_a_fresh_snapshot(people):
    applicant, reviewer = people("jahosp001"), people("jaadmin01")
    data = proposal(applicant, name=NEW_NAME)
    instance = institutions.start_change(applicant, data)
    review = open_task(instance)
    with pytest.raises(FormInvalid) as exc:
        institutions.complete(reviewer, review.id, {"decision": "reject"})
    assert set(exc.value.fields) == {"comment"}
    institutions.complete(reviewer, review.id, {"decision": "reject", "comment": "请上传区卫健局的批复文件"})
    resubmit = open_task(instance)
    assert (resubmit.bpmn_id, resubmit.assignee_id) == ("submit", applicant.id)
    previous = processes.task_data(resubmit)
    kept = ("name", "reason", "evidence")
    assert {k: previous[k] for k in kept} == {k: data[k] for k in kept}
    assert institutions.last_return(instance)["comment"] == "请上传区卫健局的批复文件"
    assert hospital().name == "测试医院" and change_audits() == []

    org = hospital()
    org.licence_no = "PDY00001142010217A1009"     # the record moves while the request is with the applicant
    Session.flush()
    moved = org.version
    institutions.complete(applicant, resubmit.id, {**previous, "licence_no": org.licence_no})
    second = open_task(instance)
    assert processes.load_flow(instance).task_data(second.task_guid)["snapshot"]["version"] == moved
    institutions.complete(reviewer, second.id, {"decision": "approve"})
    org = hospital()
    assert (org.name, org.licence_no, org.version) == (NEW_NAME, "PDY00001142010217A1009", moved + 1)
    outcomes = [(t.bpmn_id, t.outcome) for t in Session().scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id).order_by(HumanTask.id))]
    assert outcomes == [("submit", "submitted"), ("review", "reject"), ("submit", "submitted"), ("review", "approve")]


def test_an_approval_of_stale_values_is_refused_and_nothing_changes(people):
    applicant, reviewer = people("jahosp001"), people("jaadmin01")
    instance = institutions.start_change(applicant, proposal(applicant, name=NEW_NAME))
    review = open_task(instance)
    org = hospital()
    org.category = "中医医院"                 # another change applied meanwhile
    Session.flush()
    version = org.version

    assert institutions.change_view(instance, review)["stale"] == ["申请单位所属类别"]
    with pytest.raises(institutions.StaleRequest) as exc:
        institutions.complete(reviewer, review.id, {"decision": "approve"})
    assert (exc.value.status, exc.value.code, exc.value.detail) == (409, "stale_request", {"fields": ["申请单位所属类别"]})
    assert "退回" in exc.value.message
    Session().refresh(review)
    assert review.state == "ready" and (hospital().name, hospital().version) == ("测试医院", version)
    assert change_audits() == []

    # The reviewer returns it; the applicant resubmits on the current values, and the approval then applies.
    institutions.complete(reviewer, review.id, {"decision": "reject", "comment": "主体信息已变更，请按当前信息重新提交"})
    resubmit = open_task(instance)
    institutions.complete(applicant, resubmit.id, {**processes.task_data(resubmit), "category": "中医医院"})
    institutions.complete(reviewer, open_task(instance).id, {"decision": "approve"})
    assert (hospital().name, hospital().category, hospital().version) == (NEW_NAME, "中医医院", version + 1)


def test_the_engine_step_itself_never_applies_stale_values(people):
    """Completing through the generic service (no prior check): the handler finds the conflict under the row
    lock, applies nothing, and the request goes back to review with a note on the timeline."""
    applicant, reviewer = people("jahosp001"), people("jaadmin01")
    instance = institutions.start_change(applicant, proposal(applicant, name=NEW_NAME))
    review = open_task(instance)
    org = hospital()
    org.name = "江岸测试医院"
    Session.flush()
    processes.complete_task(reviewer, review.id, {"decision": "approve"})
    Session().refresh(instance)
    again = open_task(instance)
    assert instance.status == "running" and again.bpmn_id == "review" and again.id != review.id
    assert hospital().name == "江岸测试医院" and change_audits() == []
    note = Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id,
                                                        ProcessEvent.kind == "outcome")).one()
    assert note.actor_name is None and "单位名称" in note.comment and note.detail["reason"] == "stale"
    assert institutions.change_view(instance, again)["stale"] == ["单位名称"]


def test_an_update_that_leaves_the_core_fields_alone_is_no_conflict(people):
    applicant, reviewer = people("jahosp001"), people("jaadmin01")
    instance = institutions.start_change(applicant, proposal(applicant, name=NEW_NAME))
    org = hospital()
    org.updated_at = T0                       # bumps the version, core fields unchanged
    Session.flush()
    version = org.version
    institutions.complete(reviewer, open_task(instance).id, {"decision": "approve"})
    assert (hospital().name, hospital().version) == (NEW_NAME, version + 1)


def test_one_open_request_per_institution(people, users):
    applicant, reviewer = people("jahosp001"), people("jaadmin01")
    first = institutions.start_change(applicant, proposal(applicant, name=NEW_NAME))
    with pytest.raises(institutions.RequestOpen) as exc:
        institutions.start_change(applicant, proposal(applicant, category="专科医院"))
    assert (exc.value.status, exc.value.code, exc.value.detail["instance_id"]) == (409, "request_open", first.id)
    with pytest.raises(institutions.RequestOpen):
        institutions.check_start(applicant)                       # an empty draft counts too
    view = institutions.institution_view(applicant)
    assert view["open_request"]["id"] == first.id and not view["can_request_change"]
    assert institutions.change_refusal(applicant, hospital()) == institutions.RequestOpen.message
    # Another institution is not affected.
    other = people("wchosp001")
    other.password_change_reason, other.real_name_verified = None, True
    assert institutions.start_change(other, proposal(other, category="专科医院")).org_id == other.org_id

    institutions.complete(reviewer, open_task(first).id, {"decision": "approve"})
    again = institutions.start_change(applicant, proposal(applicant, category="专科医院"))
    assert again.status == "running"


def test_credit_code_of_another_organization_is_refused(people):
    applicant = people("jahosp001")
    with pytest.raises(InvalidInput) as exc:
        institutions.start_change(applicant, proposal(applicant, uscc=other_hospital().uscc))
    assert exc.value.code == "uscc_taken" and set(exc.value.fields) == {"uscc"}
    with pytest.raises(FormInvalid) as exc:
        institutions.start_change(applicant, proposal(applicant, uscc="12420102MB1234567X"))
    assert exc.value.fields == {"uscc": "统一社会信用代码不正确"}
    assert institutions.open_request(hospital()) is None


def test_a_credit_code_taken_after_submission_blocks_the_approval(people):
    applicant, reviewer = people("jahosp001"), people("jaadmin01")
    instance = institutions.start_change(applicant, proposal(applicant, uscc=NEW_USCC.lower()))
    review = open_task(instance)
    assert processes.load_flow(instance).task_data(review.task_guid)["uscc"] == NEW_USCC   # normalised
    other_hospital().uscc = NEW_USCC
    Session.flush()
    with pytest.raises(Conflict) as exc:
        institutions.complete(reviewer, review.id, {"decision": "approve"})
    assert exc.value.code == "uscc_taken"
    processes.complete_task(reviewer, review.id, {"decision": "approve"})      # the step refuses it too
    assert hospital().uscc == "12420102MB1234567T" and open_task(instance).bpmn_id == "review"


def test_a_request_must_change_something_and_carry_pdf_or_jpg_evidence(people):
    applicant = people("jahosp001")
    with pytest.raises(InvalidInput) as exc:
        institutions.start_change(applicant, proposal(applicant))
    assert exc.value.code == "no_change"
    with pytest.raises(InvalidInput) as exc:
        institutions.start_change(applicant, proposal(applicant, name=NEW_NAME,
                                                      evidence=upload(applicant, PNG, "a.png")))
    assert exc.value.code == "evidence_type" and set(exc.value.fields) == {"evidence"}
    data = proposal(applicant, name=NEW_NAME)
    del data["reason"], data["evidence"]
    with pytest.raises(FormInvalid) as exc:
        institutions.start_change(applicant, data)
    assert set(exc.value.fields) == {"reason", "evidence"}
    assert institutions.open_request(hospital()) is None


def _sub_account(master, username, codes):
    role = roles.create_role(master, name=f"角色{username}", permission_codes=codes)
    user, _ = accounts.create_user(master, user_type="sub_account", org_id=master.org_id, display_name=username,
                                   username=username, role_ids=[role.id])
    user.real_name_verified = True
    Session.flush()
    return user


def test_users_outside_the_lane_or_jurisdiction_are_refused(people):
    applicant, reviewer = people("jahosp001"), people("jaadmin01")
    instance = institutions.start_change(applicant, proposal(applicant, name=NEW_NAME))
    review = open_task(instance)
    approve = {"decision": "approve"}

    # another county's admin: the task does not exist for it
    with pytest.raises(NotFound):
        institutions.complete(people("wcadmin01"), review.id, approve)
    with pytest.raises(NotFound):
        processes.claim_task(people("wcadmin01"), review.id)
    assert inbox.page(people("wcadmin01"), "claimable")[1] == 0
    # the institution's own accounts: the master account (the initiator) and a sub-account with every right
    with pytest.raises(NotAuthorized):
        institutions.complete(applicant, review.id, approve)
    sub = _sub_account(applicant, "jahospsub01", ["org", "approval"])
    with pytest.raises(NotFound):
        institutions.complete(sub, review.id, approve)
    assert inbox.page(sub, "claimable")[1] == 0
    # the city admin supervises the region (sees the request) but is not in the lane
    with pytest.raises(NotAuthorized):
        institutions.complete(people("whadmin01"), review.id, approve)
    assert hospital().name == "测试医院"
    institutions.complete(reviewer, review.id, approve)
    assert hospital().name == NEW_NAME


def test_only_holders_of_the_change_permission_may_request(people):
    master = people("jahosp001")
    viewer = _sub_account(master, "jahospview1", ["org.info"])
    view = institutions.institution_view(viewer)
    assert view["name"] == "测试医院" and not view["can_request_change"]
    assert view["change_refusal"] == "您没有“机构信息修改申请”权限"
    with pytest.raises(NotAuthorized):
        institutions.start_change(viewer, proposal(viewer, name=NEW_NAME))
    clerk = _sub_account(master, "jahospclerk", ["org.info.change", "approval.requests"])
    instance = institutions.start_change(clerk, proposal(clerk, name=NEW_NAME))
    assert instance.started_by_id == clerk.id and instance.org_id == master.org_id
    with pytest.raises(NotAuthorized):
        institutions.institution_view(_sub_account(master, "jahospnone1", ["hr.staff"]))


def test_the_province_commission_has_no_supervisor_to_ask(people, ready):
    province, = ready("hbadmin01", verified=True)
    assert institutions.change_refusal(province, province.org) == "本单位没有上级主管部门，主体信息由系统管理员维护"
    with pytest.raises(NotAuthorized):
        institutions.check_start(province)


def test_the_institution_view_shows_the_core_fields(people):
    view = institutions.institution_view(people("jahosp001"))
    assert [(key, value) for key, _label, value in view["core"]] == [
        ("name", "测试医院"), ("uscc", "12420102MB1234567T"), ("licence_no", "PDY00001142010217A1001"),
        ("supervisor", "江岸区卫生健康局"), ("category", "综合医院")]
    assert (view["region"]["name"], view["kind_label"], view["can_request_change"]) == ("湖北省武汉市江岸区", "医疗机构", True)
    with pytest.raises(NotFound):
        institutions.institution_view(people("sysadmin01"))


def test_the_review_reminds_the_candidates_after_three_days(people):
    applicant = people("jahosp001")
    with time_machine.travel(T0, tick=False) as clock:
        instance = institutions.start_change(applicant, proposal(applicant, name=NEW_NAME))
        review = open_task(instance)
        assert instance.next_timer_at == T0 + timedelta(days=3) and review.due_at == T0 + timedelta(days=5)
        clock.shift(timedelta(days=3, seconds=1))
        assert processes.fire_due_timers() == 1
    notes = Session().scalars(select(Notification).where(Notification.kind == "reminder")).all()
    assert [(n.user.username, n.link) for n in notes] == [("jaadmin01", f"/tasks/{review.id}")]
    assert open_task(instance).id == review.id      # non-interrupting
