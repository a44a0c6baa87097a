"""The resignation process 员工离职 through its services, on the real BPMN file and the demo institution 测试医院.

Covers the draft (save, edit, submit), the pass path with its effects (staff left, linked account locked and
signed out, audit rows), the fail path (withdrawn, the employee stays, the opinion reaches the applicant), one
open resignation per employee, the users outside the lane, the initiator who never reviews its own request,
the check that runs inside the submitting step, the reminder and the due date, and the BPMN file itself.
"""
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest
import time_machine
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from sqlalchemy import select

from models import Session
from models.accounts import ApiToken, UserType
from models.audit import AuditEvent
from models.orgs import Staff
from models.scheduling import Notification
from models.workflow import HumanTask, ProcessEvent
from tests.conftest import DEMO_PASSWORD, user
from workflows import accounts, auth, hashing, inbox, processes, roles
from workflows import staff as staff_service
from workflows.effects import resignation
from workflows.errors import Conflict, FormInvalid, InvalidInput, NotAuthorized, NotFound

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
BPMN_FILE = BPMN_DIR / "resignation.bpmn"
FORMS = BPMN_DIR / "forms"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}
LEAVE = {"staff_no": "JA0002", "resignation_type": "辞职", "leave_date": "2026-03-31", "note": "个人原因"}
RESIGN, REVIEW = "hr.personnel.resign", "hr.personnel.resign_review"


def member(username, *codes, staff_no=None, org_master="jahosp001"):
    """A sub-account of the master's institution holding a role with ``codes``, usable at once (verified, its
    password the demo password), optionally linked to a staff record."""
    master = user(org_master)
    role = roles.create_role(master, name=f"角色{username}", permission_codes=list(codes))
    account, _ = accounts.create_user(master, user_type=UserType.SUB_ACCOUNT, org_id=master.org_id,
                                      display_name=f"子账号{username}", username=username, role_ids=[role.id])
    account.password_hash = hashing.hash_password(DEMO_PASSWORD)
    account.password_change_reason = None
    account.real_name_verified = True
    if staff_no:
        account.staff_id = staff(staff_no).id
    Session().flush()
    return account


def staff(staff_no):
    return Session().scalars(select(Staff).where(Staff.staff_no == staff_no)).one()


def open_task(instance):
    return Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.state == "ready")).one()


def audit_rows(action):
    return Session().scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def timeline(instance):
    return [(e.kind, e.actor_name, e.outcome, e.comment) for e in Session().scalars(
        select(ProcessEvent).where(ProcessEvent.instance_id == instance.id).order_by(ProcessEvent.id))]


@pytest.fixture
def people(ready):
    """The hospital's master account and a personnel officer (员工离职 only) — the master reviews."""
    ready("jahosp001", "wchosp001", "jaadmin01", verified=True)
    member("jahr00001", RESIGN, "approval.requests")
    return user


def filed(officer="jahr00001", values=LEAVE):
    """A resignation saved and submitted by ``officer``; returns the instance."""
    instance = resignation.create_draft(user(officer), {"staff_no": values["staff_no"]})
    return resignation.submit(user(officer), instance.id, values)


# --- drafts ---------------------------------------------------------------------------------------------------

def test_save_edit_and_submit_a_draft(people):
    officer = people("jahr00001")
    instance = resignation.create_draft(officer, {"staff_no": "JA0001", "resignation_type": "调出"})
    rec = resignation.get_record(officer, instance.id)
    assert (rec.status, rec.status_label, rec.staff.name) == ("draft", "草稿", "张伟")
    assert rec.values == {**rec.values, "staff_no": "JA0001", "resignation_type": "调出", "leave_date": None}
    assert instance.title == "张伟（JA0001）离职" and instance.business_key == f"staff-{staff('JA0001').id}"
    draft = open_task(instance)
    assert (draft.lane, draft.assignee_id, draft.bpmn_id) == ("applicant", officer.id, "fill")

    # Edit: another employee, a date and a note; then remove the note again.
    resignation.update_draft(officer, instance.id, {**LEAVE, "note": "家庭原因"})
    assert resignation.get_record(officer, instance.id).values["note"] == "家庭原因"
    resignation.update_draft(officer, instance.id, {**LEAVE, "note": ""})
    rec = resignation.get_record(officer, instance.id)
    assert rec.values["note"] is None and rec.staff.staff_no == "JA0002"
    assert instance.title == "李娜（JA0002）离职" and instance.business_key == f"staff-{staff('JA0002').id}"
    assert open_task(instance).id == draft.id                   # still the same draft, nothing moved on

    with time_machine.travel(T0, tick=False):
        resignation.submit(officer, instance.id)
    rec = resignation.get_record(officer, instance.id)
    assert (rec.status, rec.status_label) == ("pending", "待审核")
    review = open_task(instance)
    assert (review.bpmn_id, review.name, review.lane, review.candidate_org_id) == (
        "review", "离职审核", "institution_reviewer", officer.org_id)
    assert review.due_at == T0 + timedelta(days=5)              # dueIn P5D
    assert instance.next_timer_at == T0 + timedelta(days=3)     # the reminder
    with pytest.raises(Conflict):
        resignation.update_draft(officer, instance.id, LEAVE)
    with pytest.raises(Conflict):
        resignation.submit(officer, instance.id)


def test_draft_and_submit_refusals(people):
    officer = people("jahr00001")
    with pytest.raises(FormInvalid) as exc:
        resignation.create_draft(officer, {"resignation_type": "辞职"})
    assert set(exc.value.fields) == {"staff_no"}
    with pytest.raises(FormInvalid) as exc:
        resignation.create_draft(officer, {"staff_no": "JA0001", "resignation_type": "跳槽", "leave_date": "3/31"})
    assert set(exc.value.fields) == {"resignation_type", "leave_date"}
    with pytest.raises(InvalidInput) as exc:
        resignation.create_draft(officer, {"staff_no": "WC0001"})           # another institution's employee
    assert exc.value.code == "staff_not_found" and "WC0001" in exc.value.fields["staff_no"][0]
    staff_service.mark_left(staff("JA0001"), date(2026, 1, 31))
    with pytest.raises(InvalidInput) as exc:                                 # already left
        resignation.create_draft(officer, {"staff_no": "JA0001"})
    assert exc.value.fields == {"staff_no": ["张伟（JA0001）已离职，不能再办理离职"]}

    instance = resignation.create_draft(officer, {"staff_no": "JA0003"})
    with pytest.raises(FormInvalid) as exc:                                  # submitting needs type and date
        resignation.submit(officer, instance.id)
    assert set(exc.value.fields) == {"resignation_type", "leave_date"}
    assert resignation.get_record(officer, instance.id).status == "draft"

    colleague = member("jahr00002", RESIGN, "approval.requests")
    with pytest.raises(NotAuthorized):                                       # only one's own draft
        resignation.update_draft(colleague, instance.id, LEAVE)
    with pytest.raises(NotAuthorized):
        resignation.submit(colleague, instance.id)
    outsider = member("jasub0001", "approval.requests")
    with pytest.raises(NotAuthorized):                                       # no 员工离职
        resignation.create_draft(outsider, {"staff_no": "JA0001"})
    with pytest.raises(NotFound):
        resignation.get_record(outsider, instance.id)
    with pytest.raises(NotFound):
        resignation.get_record(people("wchosp001"), instance.id)


def test_one_open_resignation_per_employee(people):
    officer = people("jahr00001")
    first = resignation.create_draft(officer, {"staff_no": "JA0002"})
    with pytest.raises(InvalidInput) as exc:
        resignation.create_draft(officer, {"staff_no": "JA0002"})
    assert exc.value.code == "resignation_open"
    assert exc.value.fields["staff_no"] == ["李娜（JA0002）已有一条未办结的离职记录（草稿），同一员工同时只能有一条离职记录，"
                                            "请在原记录上继续办理"]
    other = resignation.create_draft(officer, {"staff_no": "JA0001"})
    with pytest.raises(InvalidInput) as exc:                                 # nor by editing another draft
        resignation.update_draft(officer, other.id, {"staff_no": "JA0002"})
    assert exc.value.code == "resignation_open"

    resignation.submit(officer, first.id, LEAVE)
    with pytest.raises(InvalidInput) as exc:
        resignation.create_draft(member("jahr00002", RESIGN), {"staff_no": "JA0002"})
    assert "（待审核）" in exc.value.message

    review = open_task(first)
    processes.complete_task(people("jahosp001"), review.id, {"decision": "reject", "comment": "手续不全"})
    again = resignation.create_draft(officer, {"staff_no": "JA0002"})        # a failed one is closed
    assert resignation.get_record(officer, again.id).status == "draft"


# --- the decision ---------------------------------------------------------------------------------------------

def test_pass_marks_the_staff_left_and_locks_the_linked_account(people):
    officer, master = people("jahr00001"), people("jahosp001")
    leaving = member("jahr00003", "approval.requests", staff_no="JA0002")     # 李娜's own account
    token = auth.issue_token(leaving)
    old_session = leaving.session_token
    instance = filed()
    review = open_task(instance)
    assert [u.username for u in inbox.candidates(review)] == ["jahosp001"]
    processes.claim_task(master, review.id)
    processes.complete_task(master, review.id, {"decision": "approve"})

    Session().refresh(instance)
    assert instance.status == "completed"
    li = staff("JA0002")
    assert (li.employment_status, li.left_on) == ("left", date(2026, 3, 31))
    assert (leaving.lock_reason, leaving.locked_until) == ("resigned", None) and leaving.is_locked(T0)
    assert leaving.lock_detail == "李娜（JA0002）离职，离职日期 2026-03-31"
    assert leaving.session_token != old_session                             # signed out everywhere
    api_token = Session().scalars(select(ApiToken).where(ApiToken.user_id == leaving.id)).one()
    assert api_token.revoked_at is not None and auth.resolve_token(token) is None
    assert staff("JA0001").employment_status == "active"                   # nobody else touched

    rec = resignation.get_record(officer, instance.id)
    assert (rec.status, rec.status_label, rec.opinion) == ("passed", "已通过", None)
    [left] = audit_rows("staff_left")
    assert (left.actor_name, left.target_type, left.target_name, left.org_id) == ("jahosp001", "staff", "李娜",
                                                                                  officer.org_id)
    assert left.detail == {"staff_no": "JA0002", "left_on": "2026-03-31", "reason": "辞职", "instance": instance.id}
    [lock] = audit_rows("account_lock")
    assert (lock.actor_name, lock.target_name, lock.detail["reason"]) == ("jahosp001", "jahr00003", "resigned")
    [passed] = audit_rows("resignation_pass")
    assert passed.detail["locked_accounts"] == ["jahr00003"] and passed.detail["type"] == "辞职"
    assert [e.detail["outcome"] for e in audit_rows("task_complete")] == ["submitted", "approve"]
    assert timeline(instance)[-2:] == [("outcome", "jahosp001", "approved", None), ("completed", None, None, None)]
    [note] = Session().scalars(select(Notification).where(Notification.kind == "resignation")).all()
    assert (note.user_id, note.link) == (officer.id, f"/personnel/resignations/{instance.id}")
    assert "已审核通过" in note.title and "jahr00003" in note.body
    assert staff_service.search(officer, "JA0002") == []                   # no longer offered


def test_fail_withdraws_and_the_applicant_sees_the_opinion(people):
    officer, master = people("jahr00001"), people("jahosp001")
    leaving = member("jahr00003", "approval.requests", staff_no="JA0002")
    instance = filed()
    review = open_task(instance)
    with pytest.raises(FormInvalid) as exc:                                 # an opinion is required
        processes.complete_task(master, review.id, {"decision": "reject"})
    assert set(exc.value.fields) == {"comment"}
    processes.complete_task(master, review.id, {"decision": "reject", "comment": "离职交接手续未完成"})

    Session().refresh(instance)
    assert instance.status == "completed"
    assert (staff("JA0002").employment_status, staff("JA0002").left_on) == ("active", None)
    assert leaving.lock_reason is None
    rec = resignation.get_record(officer, instance.id)
    assert (rec.status, rec.status_label, rec.opinion) == ("failed", "未通过", "离职交接手续未完成")
    assert resignation.as_dict(rec)["opinion"] == "离职交接手续未完成"
    assert ("task_completed", "jahosp001", "reject", "离职交接手续未完成") in timeline(instance)
    assert audit_rows("staff_left") == [] and audit_rows("account_lock") == []
    [failed] = audit_rows("resignation_fail")
    assert (failed.actor_name, failed.target_name, failed.detail["opinion"]) == ("jahosp001", "李娜", "离职交接手续未完成")
    [note] = Session().scalars(select(Notification).where(Notification.kind == "resignation")).all()
    assert note.user_id == officer.id and "离职交接手续未完成" in note.body


def test_users_outside_the_lane_cannot_review(people):
    officer = people("jahr00001")
    instance = filed()
    review = open_task(instance)
    no_review = member("jasub0001", RESIGN, "approval.inbox", "approval.requests")   # no 离职审核
    for outsider in (no_review, people("wchosp001")):                        # and another institution's master
        with pytest.raises(NotFound):
            processes.get_task(outsider, review.id)
        with pytest.raises(NotFound):
            processes.claim_task(outsider, review.id)
        with pytest.raises(NotFound):
            processes.complete_task(outsider, review.id, {"decision": "approve"})
        assert inbox.page(outsider, "claimable")[1] == 0
    admin = people("jaadmin01")        # the supervising business admin sees the instance, but is not in the lane
    assert processes.get_task(admin, review.id).id == review.id
    with pytest.raises(NotAuthorized):
        processes.claim_task(admin, review.id)
    with pytest.raises(NotAuthorized):
        processes.complete_task(admin, review.id, {"decision": "approve"})
    with pytest.raises(NotAuthorized):                                      # nor is the applicant
        processes.complete_task(officer, review.id, {"decision": "approve"})
    assert staff("JA0002").employment_status == "active"

    reviewer = member("jahr00004", REVIEW, "approval.inbox", "approval.requests")   # holds 离职审核
    assert inbox.can_claim(reviewer, review)
    processes.complete_task(reviewer, review.id, {"decision": "approve"})
    assert staff("JA0002").employment_status == "left"


def test_the_master_initiating_is_reviewed_by_a_sub_account_holding_resign_review(people):
    master = people("jahosp001")
    with pytest.raises(InvalidInput) as exc:
        resignation.create_draft(master, {"staff_no": "JA0003"})
    assert exc.value.code == "no_reviewer" and "子账号" in exc.value.message and "离职审核" in exc.value.message
    reviewer = member("jahr00004", REVIEW, "approval.inbox", "approval.requests")
    instance = resignation.create_draft(master, {"staff_no": "JA0003"})
    reviewer.lock_reason, reviewer.locked_at = "admin", T0                   # the only reviewer is locked:
    with pytest.raises(InvalidInput) as exc:                                 # refused again at submission
        resignation.submit(master, instance.id, {**LEAVE, "staff_no": "JA0003"})
    assert exc.value.code == "no_reviewer"
    reviewer.lock_reason = reviewer.locked_at = None
    resignation.submit(master, instance.id, {**LEAVE, "staff_no": "JA0003"})
    review = open_task(instance)
    assert [u.username for u in inbox.candidates(review)] == ["jahr00004"]
    with pytest.raises(NotAuthorized):
        processes.claim_task(master, review.id)
    with pytest.raises(NotAuthorized):
        processes.complete_task(master, review.id, {"decision": "approve"})
    processes.complete_task(reviewer, review.id, {"decision": "approve"})
    assert staff("JA0003").employment_status == "left"


def test_the_check_runs_inside_the_step_for_the_generic_task_path(people):
    """Submitted through the generic services, a wrong staff number or a second open resignation comes back to
    the applicant with the reason instead of reaching the reviewer."""
    officer = people("jahr00001")
    instance = processes.start_instance(officer, "resignation", {**LEAVE, "staff_no": "JA9999"})
    back = open_task(instance)
    assert back.bpmn_id == "fill" and back.lane == "applicant"
    rec = resignation.get_record(officer, instance.id)
    assert rec.status == "draft" and rec.problem == "本机构没有工号为“JA9999”的人员"
    assert processes.task_data(back)["staff_no"] == "JA9999"                # the values are kept
    processes.complete_task(officer, back.id, LEAVE)
    assert open_task(instance).bpmn_id == "review"
    assert instance.title == "李娜（JA0002）离职"

    second = processes.start_instance(officer, "resignation", LEAVE)
    rec = resignation.get_record(officer, second.id)
    assert rec.status == "draft" and "已有一条未办结的离职记录（待审核）" in rec.problem
    assert second.business_key is None                                     # it holds nobody
    outsider = member("jasub0001", "approval.requests")                      # no 员工离职
    third = processes.start_instance(outsider, "resignation", {**LEAVE, "staff_no": "JA0001"})
    assert "没有“员工离职”权限" in resignation.get_record(people("jahosp001"), third.id).problem


def test_the_reviewers_are_reminded_after_three_days(people):
    with time_machine.travel(T0, tick=False) as clock:
        instance = filed()
        clock.shift(timedelta(days=3, seconds=1))
        assert processes.fire_due_timers() == 1
    notes = Session().scalars(select(Notification).where(Notification.kind == "reminder")).all()
    assert [(n.user.username, n.link) for n in notes] == [("jahosp001", f"/tasks/{open_task(instance).id}")]
    assert open_task(instance).bpmn_id == "review"                        # non-interrupting
    rec = resignation.get_record(people("jahr00001"), instance.id)
    assert (rec.status, rec.values["leave_date"], rec.staff.staff_no) == ("pending", "2026-03-31", "JA0002")


def test_the_id_number_is_free_elsewhere_only_after_the_pass(people):
    li = staff("JA0002")
    other = people("wchosp001")
    details = {"staff_no": "WC0100", "name": "李娜", "id_number": li.id_number}
    with pytest.raises(InvalidInput) as exc:
        staff_service.register_staff(other, other.org, **details)
    assert exc.value.code == "id_number_active_elsewhere" and "测试医院" not in exc.value.message
    instance = filed()
    with pytest.raises(InvalidInput):                                     # pending is not enough
        staff_service.register_staff(other, other.org, **details)
    processes.complete_task(people("jahosp001"), open_task(instance).id, {"decision": "approve"})
    moved = staff_service.register_staff(other, other.org, **details)
    assert (moved.org_id, moved.employment_status, moved.gender) == (other.org_id, "active", "女")


# --- listing --------------------------------------------------------------------------------------------------

def test_the_list_by_status(people):
    officer, master = people("jahr00001"), people("jahosp001")
    draft = resignation.create_draft(officer, {"staff_no": "JA0001"})
    passed = filed()
    processes.complete_task(master, open_task(passed).id, {"decision": "approve"})
    failed = filed(values={**LEAVE, "staff_no": "JA0003"})
    processes.complete_task(master, open_task(failed).id, {"decision": "reject", "comment": "不同意"})
    pending = resignation.create_draft(officer, {"staff_no": "JA0003"})
    resignation.submit(officer, pending.id, {**LEAVE, "staff_no": "JA0003"})

    records, total = resignation.list_records(officer)
    assert total == 4 and [r.id for r in records] == [pending.id, failed.id, passed.id, draft.id]
    assert [r.status for r in records] == ["pending", "failed", "passed", "draft"]
    assert resignation.counts(officer) == {"draft": 1, "pending": 1, "passed": 1, "failed": 1}
    for status, instance in (("draft", draft), ("pending", pending), ("passed", passed), ("failed", failed)):
        assert [r.id for r in resignation.list_records(officer, status=status)[0]] == [instance.id]
    assert [r.id for r in resignation.list_records(master, q="王强")[0]] == [pending.id, failed.id]
    assert resignation.list_records(member("jahr00004", REVIEW), status="pending")[1] == 1   # reviewers see them
    with pytest.raises(NotAuthorized):
        resignation.list_records(member("jasub0001", "approval.requests"))
    assert resignation.list_records(people("wchosp001"))[1] == 0             # its own institution only
    body = resignation.as_dict(records[0])
    assert body == {**body, "status": "pending", "status_label": "待审核", "staff_no": "JA0003",
                    "resignation_type": "辞职", "leave_date": "2026-03-31", "started_by": "jahr00001",
                    "review_task_id": open_task(pending).id, "draft_task_id": None, "decision": None}
    assert body["staff"] == {**body["staff"], "name": "王强", "department": "人事科", "post": "人事专员",
                             "employment_status": "active", "employment_status_label": "在职"}


# --- the BPMN file --------------------------------------------------------------------------------------------

FLOW_NODES = {"start", "fill", "check", "check_gateway", "review", "review_reminder", "remind", "reminder_end",
              "decision_gateway", "apply", "passed_end", "withdraw", "failed_end"}


def test_the_bpmn_file_parses_with_the_validating_parser():
    parser = SpiffBpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN_FILE))
    spec = parser.get_spec("resignation")
    tasks = spec.task_specs
    assert spec.description == "员工离职"
    assert (tasks["fill"].bpmn_name, tasks["fill"].lane) == ("填写离职申请", "applicant")
    assert (tasks["review"].bpmn_name, tasks["review"].lane) == ("离职审核", "institution_reviewer")
    assert tasks["review"].extensions["properties"]["dueIn"] == "P5D"
    assert {name: tasks[name].operation_name for name in ("check", "apply", "withdraw", "remind")} == {
        "check": "resignation_check", "apply": "resignation_apply", "withdraw": "resignation_withdraw",
        "remind": "notify_candidates"}
    assert processes.definition("resignation").startable


def test_the_diagram_interchange_covers_every_node_and_flow():
    root = etree.parse(str(BPMN_FILE)).getroot()
    process = root.find("bpmn:process", NS)
    nodes = {el.get("id") for el in process if etree.QName(el).localname.endswith(("Event", "Task", "Gateway"))}
    flows = {el.get("id") for el in process.iterfind("bpmn:sequenceFlow", NS)}
    assert nodes == FLOW_NODES
    [plane] = root.findall("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    assert plane.get("bpmnElement") == "collaboration_resignation"
    shapes = {s.get("bpmnElement"): s for s in plane.iterfind("bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in plane.iterfind("bpmndi:BPMNEdge", NS)}
    assert set(shapes) == FLOW_NODES | {"participant_resignation", "lane_applicant", "lane_institution_reviewer"}
    assert set(edges) == flows

    def box(element_id):
        b = shapes[element_id].find("dc:Bounds", NS)
        x, y, w, h = (float(b.get(k)) for k in ("x", "y", "width", "height"))
        return x, y, x + w, y + h

    pool = box("participant_resignation")
    placed = []
    for element_id in FLOW_NODES:
        x1, y1, x2, y2 = box(element_id)
        assert pool[0] < x1 and x2 < pool[2] and pool[1] < y1 and y2 < pool[3], element_id
        if element_id != "review_reminder":
            placed.append((element_id, (x1, y1, x2, y2)))
    for (a, (ax1, ay1, ax2, ay2)), (b, (bx1, by1, bx2, by2)) in ((p, q) for i, p in enumerate(placed)
                                                                 for q in placed[i + 1:]):
        assert ax2 <= bx1 or bx2 <= ax1 or ay2 <= by1 or by2 <= ay1, (a, b)     # no two shapes overlap
    for lane in process.iterfind("bpmn:laneSet/bpmn:lane", NS):
        lx1, ly1, lx2, ly2 = box(lane.get("id"))
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            x1, y1, x2, y2 = box(ref.text)
            assert lx1 <= x1 and x2 <= lx2 and ly1 <= (y1 + y2) / 2 <= ly2, ref.text
    for flow_id, edge in edges.items():
        flow = process.find(f"bpmn:sequenceFlow[@id='{flow_id}']", NS)
        points = [(float(p.get("x")), float(p.get("y"))) for p in edge.iterfind("di:waypoint", NS)]
        for (px, py), ref in ((points[0], flow.get("sourceRef")), (points[-1], flow.get("targetRef"))):
            x1, y1, x2, y2 = box(ref)
            assert x1 <= px <= x2 and y1 <= py <= y2, (flow_id, ref)
        for (ax, ay), (bx, by) in zip(points, points[1:]):
            assert ax == bx or ay == by, flow_id
    rx1, ry1, rx2, ry2 = box("review_reminder")
    tx1, ty1, tx2, ty2 = box("review")
    assert tx1 <= (rx1 + rx2) / 2 <= tx2 and ry1 < ty2 < ry2               # on the review task's border
    for gateway, default in (("check_gateway", "flow_check_failed"), ("decision_gateway", "flow_fail")):
        assert process.find(f"bpmn:exclusiveGateway[@id='{gateway}']", NS).get("default") == default


def test_the_diagram_renders_with_its_labels(people):
    instance = filed()
    svg = processes.diagram_svg(instance)
    for text in ("本机构审核人", "申请人", "离职审核", "办理离职", "撤销离职", "校验离职申请", "审核通过", "审核不通过"):
        assert text in svg, text


@pytest.mark.parametrize("name", ["resignation_submit.schema.json", "resignation_review.schema.json"])
def test_the_form_schemas_are_valid(name):
    import json
    jsonschema.Draft202012Validator.check_schema(json.loads((FORMS / name).read_text(encoding="utf-8")))


def test_the_submit_form_offers_the_six_types():
    form = resignation.submit_form()
    assert tuple(form.schema["properties"]["resignation_type"]["enum"]) == resignation.TYPES
    assert resignation.TYPES == ("辞职", "辞退", "调出", "退休", "死亡", "其他")
