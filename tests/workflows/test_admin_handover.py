"""业务管理员交接 (admin_handover) through the services, on the real BPMN file: the main path with its effect on
both accounts, the audit rows and the written report (checked with pdftotext); disputes, the leader's return and
the superior's rejection; the re-check of the successor at approval; and who is refused."""
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from models import Session
from models.accounts import LockReason, Role, User, UserType
from models.audit import AuditEvent
from models.scheduling import Notification
from models.workflow import Attachment, HumanTask, ProcessEvent, ProcessInstance
from workflows import accounts, auth, files, handovers, inbox, processes, roles
from workflows.errors import Conflict, FormInvalid, InvalidInput, NotAuthorized, NotFound

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)           # 2026-03-02 10:00 in Beijing
SUCCESSOR = "bj-ja-jieren"
REASON = "原业务管理员调任区卫健局办公室，工作交接"
ALL_TICKED = {"account_info": True, "password": True, "user_info": True, "documents": True}


@pytest.fixture
def people(ready, users):
    ready("jaadmin01", "whadmin01", "wcadmin01", "hbadmin01", "jaleader01", verified=True)
    add_user(SUCCESSOR, "接任人甲")
    return users


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def add_user(username, display_name, user_type=UserType.SAME_LEVEL_2, role_code="same_level_2", org_of="jaadmin01",
             verified=True):
    """An account of the organization of ``org_of``, created by the system administrator."""
    admin = Session().scalars(select(User).where(User.username == "sysadmin01")).one()
    org_id = Session().scalars(select(User.org_id).where(User.username == org_of)).one()
    role = Session().scalars(select(Role).where(Role.code == role_code)).one()
    user, _ = accounts.create_user(admin, user_type=user_type, org_id=org_id, display_name=display_name,
                                   username=username, role_ids=[role.id])
    user.password_change_reason, user.real_name_verified = None, verified
    Session().flush()
    return user


def report(actor, successor=SUCCESSOR, reason=REASON, planned=None):
    """Start a handover from ``actor`` to ``successor``, planned three days ahead (2026-03-05 with the clock)."""
    successor_id = Session().scalars(select(User.id).where(User.username == successor)).one()
    planned = planned or (handovers.today_in_china() + timedelta(days=3)).isoformat()
    return handovers.start_handover(actor, {"successor_id": successor_id, "reason": reason, "planned_date": planned})


def open_tasks(instance):
    return Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.state == "ready").order_by(HumanTask.id)).all()


def task_of(instance, bpmn_id):
    (task,) = [t for t in open_tasks(instance) if t.bpmn_id == bpmn_id]
    return task


def confirm(actor, instance, side, **notes):
    task = task_of(instance, handovers.SIDES[side])
    handovers.complete(actor, task.id, {**ALL_TICKED, **notes, "decision": "confirm"})


def dispute(actor, instance, side, comment):
    task = task_of(instance, handovers.SIDES[side])
    handovers.complete(actor, task.id, {"account_info": True, "decision": "dispute", "comment": comment})


def decide(actor, instance, bpmn_id, decision, comment=None):
    task = task_of(instance, bpmn_id)
    handovers.complete(actor, task.id, {"decision": decision, **({"comment": comment} if comment else {})})


def kinds(instance):
    return [e.kind for e in Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id)
                                              .order_by(ProcessEvent.id))]


def audits(action, target=None):
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if target:
        query = query.where(AuditEvent.target_name == target)
    return Session().scalars(query).all()


def pdf_text(attachment_id):
    attachment = Session().get(Attachment, attachment_id)
    with open(files.attachment_path(attachment), "rb") as fh:
        data = fh.read()
    assert data.startswith(b"%PDF-")
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout \
        .decode("utf-8")


def run_to_approval(people, instance, clock=None):
    outgoing, successor, leader = people("jaadmin01"), people(SUCCESSOR), people("jaleader01")
    if clock:
        clock.shift(timedelta(hours=1))
    confirm(outgoing, instance, "outgoing", password_note="密码当面告知，已由接任人修改")
    if clock:
        clock.shift(timedelta(minutes=30))
    confirm(successor, instance, "incoming", documents_note="用户申请表存档12份")
    if clock:
        clock.shift(timedelta(hours=1))
    task = task_of(instance, "leader_signoff")
    processes.claim_task(leader, task.id)
    decide(leader, instance, "leader_signoff", "approve", "同意交接")
    return task_of(instance, "superior_approval")


# --- the main path -----------------------------------------------------------------------------------------

def test_report_notifies_the_superiors_and_opens_both_checklists(people, clock):
    outgoing, successor = people("jaadmin01"), people(SUCCESSOR)
    instance = report(outgoing)
    assert instance.business_key == f"admin_handover:{outgoing.org_id}"
    assert instance.title == "业务管理员交接：江岸区业务管理员 → 接任人甲"
    mine, theirs = task_of(instance, "confirm_outgoing"), task_of(instance, "confirm_incoming")
    assert (mine.lane, mine.assignee_id) == ("applicant", outgoing.id)
    assert (theirs.lane, theirs.assignee_id, theirs.candidate_org_id) == ("successor", successor.id, outgoing.org_id)
    assert [t.id for t in inbox.page(successor, "assigned")[0]] == [theirs.id]
    assert kinds(instance) == ["started", "task_completed", "handover_reported"]
    told = Session().scalars(select(Notification).where(Notification.kind == "admin_handover")
                             .order_by(Notification.id)).all()
    assert [(n.user.username, n.link) for n in told] == [("whadmin01", f"/handovers/{instance.id}"),
                                                          (SUCCESSOR, f"/handovers/{instance.id}")]
    assert "接任人甲（bj-ja-jieren）" in told[0].body and REASON in told[0].body
    reported = [e for e in Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id,
                                                                        ProcessEvent.kind == "handover_reported"))]
    assert reported[0].detail["notified"] == ["whadmin01"] and reported[0].actor_name == "jaadmin01"


def test_main_path_approval_hands_the_admin_role_over_and_archives_the_report(people, clock):
    outgoing, successor, superior = people("jaadmin01"), people(SUCCESSOR), people("whadmin01")
    outgoing_token, successor_token = auth.issue_token(outgoing), auth.issue_token(successor)
    instance = report(outgoing)
    approval = run_to_approval(people, instance, clock)
    assert approval.candidate_org_id == superior.org_id
    assert [t.id for t in inbox.page(superior, "claimable")[0]] == [approval.id]
    clock.shift(timedelta(hours=2))
    processes.claim_task(superior, approval.id)
    decide(superior, instance, "superior_approval", "approve", "同意，按期完成交接")
    Session().refresh(instance)
    assert instance.status == "completed" and instance.next_timer_at is None

    # the outgoing account: no admin role, no longer a business admin, locked, sessions and tokens ended
    now = T0 + timedelta(hours=4, minutes=30)
    assert [r.code for r in outgoing.roles] == []
    assert outgoing.user_type == UserType.SAME_LEVEL_2
    assert (outgoing.lock_reason, outgoing.locked_at, outgoing.locked_until) == (LockReason.ADMIN, now, None)
    assert outgoing.lock_detail == f"业务管理员交接 admin_handover#{instance.id}"
    assert auth.resolve_token(outgoing_token) is None
    assert auth.authenticate("jaadmin01", "Zjrj@-2007").outcome == "locked"
    # the successor: the county admin role and the business-admin type; signs in again
    assert successor.user_type == UserType.BUSINESS_ADMIN
    assert sorted(r.code for r in successor.roles) == ["county_admin", "same_level_2"]
    assert auth.resolve_token(successor_token) is None and not successor.is_locked(now)
    assert "sys.handover" in roles.permissions_of(successor)

    rows = audits("admin_handover")
    assert [(a.target_name, a.actor_name, a.outcome) for a in rows] == [
        ("jaadmin01", "whadmin01", "success"), (SUCCESSOR, "whadmin01", "success")]
    assert rows[0].detail["removed_roles"] == ["县级业务管理员"] and rows[0].detail["locked"] is True
    assert rows[0].detail["user_type"] == ["business_admin", "same_level_2"]
    assert rows[1].detail["added_roles"] == ["县级业务管理员"]
    assert rows[1].detail["user_type"] == ["same_level_2", "business_admin"]
    lock = audits("account_lock", "jaadmin01")[-1]
    assert lock.actor_name == "whadmin01" and lock.detail["note"] == "业务管理员交接"
    assert kinds(instance)[-3:] == ["task_completed", "handover_done", "completed"]

    view = handovers.handover_view(instance)
    assert view["status_label"] == "已完成交接" and view["result"] == "done"
    assert view["accounts"]["outgoing"]["locked"] is True
    report_id = view["report_file"]["id"]
    attachment = Session().get(Attachment, report_id)
    assert attachment.instance_id == instance.id and attachment.content_type == "application/pdf"
    assert processes.can_read_file(successor, attachment) and processes.can_read_file(outgoing, attachment)

    text = pdf_text(report_id)
    for expected in ("业务管理员书面交接报告", "江岸区卫生健康局", "江岸区业务管理员", "jaadmin01", "接任人甲", SUCCESSOR,
                     REASON, "2026-03-05", "武汉市卫生健康委员会", "账号信息", "密码", "用户信息", "文档",
                     "密码当面告知，已由接任人修改", "用户申请表存档12份", "江岸区卫生健康局负责人", "jaleader01",
                     "同意交接", "武汉市业务管理员", "whadmin01", "同意，按期完成交接",
                     "2026-03-02 10:00",            # reported (Beijing time)
                     "2026-03-02 11:00",            # outgoing confirmation
                     "2026-03-02 11:30",            # incoming confirmation
                     "2026-03-02 12:30",            # unit leader
                     "2026-03-02 14:30"):           # superior approval
        assert expected in text, expected
    assert text.count("已核对") == 8

    told = {(n.user.username, n.title) for n in Session().scalars(
        select(Notification).where(Notification.kind == "admin_handover"))}
    assert {("jaadmin01", "业务管理员交接已完成"), (SUCCESSOR, "您已成为江岸区卫生健康局的业务管理员"),
            ("whadmin01", "业务管理员交接已完成：江岸区卫生健康局")} <= told


def test_a_dispute_and_a_return_send_the_round_back_to_both_and_a_rejection_changes_nothing(people, clock):
    outgoing, successor, leader, superior = (people("jaadmin01"), people(SUCCESSOR), people("jaleader01"),
                                             people("whadmin01"))
    instance = report(outgoing)
    first_incoming = task_of(instance, "confirm_incoming")
    dispute(successor, instance, "incoming", "用户申请表缺少2019年的存档")
    told = Session().scalars(select(Notification).where(Notification.user_id == outgoing.id,
                                                        Notification.title.contains("异议"))).all()
    assert len(told) == 1 and "用户申请表缺少2019年的存档" in told[0].body
    # the round ends only when the other side has answered too; then both check again
    assert [t.bpmn_id for t in open_tasks(instance)] == ["confirm_outgoing"]
    confirm(outgoing, instance, "outgoing")
    again = {t.bpmn_id: t for t in open_tasks(instance)}
    assert set(again) == {"confirm_outgoing", "confirm_incoming"}
    assert again["confirm_incoming"].assignee_id == successor.id and again["confirm_incoming"].id != first_incoming.id
    view = handovers.handover_view(instance)
    assert view["sides"]["incoming"]["pending"] and view["sides"]["incoming"]["last"]["decision"] == "dispute"
    assert view["sides"]["incoming"]["last"]["comment"] == "用户申请表缺少2019年的存档"

    confirm(successor, instance, "incoming")       # the successor may answer first in a round
    confirm(outgoing, instance, "outgoing")
    processes.claim_task(leader, task_of(instance, "leader_signoff").id)
    with pytest.raises(FormInvalid) as refused:     # a return needs a reason
        decide(leader, instance, "leader_signoff", "return")
    assert set(refused.value.fields) == {"comment"}
    decide(leader, instance, "leader_signoff", "return", "文档清单需双方重新签字")
    assert {t.bpmn_id for t in open_tasks(instance)} == {"confirm_outgoing", "confirm_incoming"}
    run_to_approval(people, instance)

    roles_before = (sorted(r.code for r in outgoing.roles), sorted(r.code for r in successor.roles))
    with pytest.raises(FormInvalid) as refused:     # an opinion is required
        decide(superior, instance, "superior_approval", "refuse")
    assert set(refused.value.fields) == {"comment"}
    decide(superior, instance, "superior_approval", "refuse", "接任人尚未完成系统操作培训")
    Session().refresh(instance)
    assert instance.status == "completed" and open_tasks(instance) == []
    assert (sorted(r.code for r in outgoing.roles), sorted(r.code for r in successor.roles)) == roles_before
    assert outgoing.user_type == UserType.BUSINESS_ADMIN and successor.user_type == UserType.SAME_LEVEL_2
    assert outgoing.lock_reason is None and successor.lock_reason is None
    (rejected,) = audits("admin_handover")
    assert rejected.outcome == "failure" and rejected.detail["result"] == "rejected"
    assert rejected.actor_name == "whadmin01" and rejected.detail["opinion"] == "接任人尚未完成系统操作培训"
    assert audits("account_lock", "jaadmin01") == []
    view = handovers.handover_view(instance)
    assert view["status_label"] == "已驳回" and view["report_file"] is None
    assert view["approval"]["decision"] == "refuse" and view["approval"]["by"] == "whadmin01"
    assert {n.user.username for n in Session().scalars(select(Notification).where(
        Notification.title == "业务管理员交接未获批准"))} == {"jaadmin01", SUCCESSOR}
    assert kinds(instance)[-3:] == ["task_completed", "handover_rejected", "completed"]
    # another handover of the unit may start now
    assert report(outgoing).status == "running"


def test_a_round_ends_only_when_both_have_answered_whoever_answers_first(people):
    """Rounds where the first answer comes from alternating sides (a parallel join inside a loop mis-counts
    exactly this case; the process checks the round's answers itself)."""
    outgoing, successor = people("jaadmin01"), people(SUCCESSOR)
    instance = report(outgoing)
    for first, second in (("incoming", "outgoing"), ("outgoing", "incoming"), ("incoming", "outgoing")):
        who = {"outgoing": outgoing, "incoming": successor}
        dispute(who[first], instance, first, "复核")
        assert [t.bpmn_id for t in open_tasks(instance)] == [handovers.SIDES[second]]
        confirm(who[second], instance, second, documents_note="上一轮的备注")
        assert {t.bpmn_id for t in open_tasks(instance)} == {"confirm_outgoing", "confirm_incoming"}
        # the outgoing admin's new form (the applicant's lane shows the data) starts blank, not with the last answer
        shown = processes.task_data(task_of(instance, "confirm_outgoing"))
        assert {k: shown[k] for k in ("account_info", "documents_note", "decision", "comment")} == dict.fromkeys(
            ("account_info", "documents_note", "decision", "comment"))
    confirm(successor, instance, "incoming")
    assert [t.bpmn_id for t in open_tasks(instance)] == ["confirm_outgoing"]
    confirm(outgoing, instance, "outgoing")
    assert [t.bpmn_id for t in open_tasks(instance)] == ["leader_signoff"]
    checked = [e.comment for e in Session().scalars(select(ProcessEvent).where(
        ProcessEvent.instance_id == instance.id, ProcessEvent.kind == "handover_checked").order_by(ProcessEvent.id))]
    assert checked == ["接任业务管理员提出异议，双方重新核对交接清单", "原业务管理员提出异议，双方重新核对交接清单",
                       "接任业务管理员提出异议，双方重新核对交接清单", "双方核对无误，报单位负责人签字确认"]


def test_confirming_needs_all_four_items_ticked_and_a_dispute_needs_a_note(people):
    outgoing = people("jaadmin01")
    instance = report(outgoing)
    task = task_of(instance, "confirm_outgoing")
    with pytest.raises(FormInvalid) as refused:
        handovers.complete(outgoing, task.id, {"account_info": True, "password": False, "decision": "confirm"})
    assert refused.value.fields == {"password": "请勾选“密码”", "user_info": "请填写“用户信息”",
                                    "documents": "请填写“文档”"}
    with pytest.raises(FormInvalid) as refused:
        handovers.complete(outgoing, task.id, {"decision": "dispute"})
    assert set(refused.value.fields) == {"comment"}
    assert task_of(instance, "confirm_outgoing").id == task.id        # nothing moved


@pytest.mark.parametrize("case, message", [
    ("other_org", "请选择本单位的账号"),
    ("self", "不能指定本人为接任人"),
    ("unverified", "该账号尚未通过实名认证，不能接任"),
    ("locked", "该账号已锁定，不能接任"),
    ("admin", "该账号已是业务管理员"),
    ("leader", "单位负责人须为交接签字确认，不能同时作为接任人"),
])
def test_the_successor_must_be_an_eligible_member_of_the_unit(people, case, message):
    outgoing = people("jaadmin01")
    name = {"other_org": "wcadmin01", "self": "jaadmin01", "leader": "jaleader01"}.get(case, "bj-ja-other")
    if case == "unverified":
        add_user(name, "未认证", verified=False)
    elif case == "locked":
        accounts.lock_user(outgoing, add_user(name, "已锁定"))
    elif case == "admin":
        add_user(name, "另一管理员", UserType.BUSINESS_ADMIN, "county_admin")
    with pytest.raises(InvalidInput) as refused:
        report(outgoing, successor=name)
    assert refused.value.fields == {"successor_id": [message]}
    assert Session().scalars(select(ProcessInstance).where(ProcessInstance.process_key == "admin_handover")).all() == []
    assert [u.username for u in handovers.eligible_successors(outgoing)] == [SUCCESSOR]


def test_who_may_start_and_when(people, clock):
    outgoing = people("jaadmin01")
    with pytest.raises(InvalidInput) as refused:
        report(outgoing, planned="2026-03-01")
    assert refused.value.fields == {"planned_date": ["计划交接日期不能早于今天"]}
    with pytest.raises(FormInvalid):
        report(outgoing, reason="  ")
    with pytest.raises(InvalidInput) as refused:
        handovers.start_handover(outgoing, {})
    assert "请填写交接报告" in refused.value.message
    for name in ("jaleader01", SUCCESSOR):          # not business admins
        with pytest.raises(NotAuthorized):
            report(people(name))
    with pytest.raises(NotAuthorized):
        report(people("sysadmin01"))
    with pytest.raises(InvalidInput) as refused:    # a province admin has no superior business admin
        add_user("bj-hb-jieren", "省级接任人", org_of="hbadmin01")
        report(people("hbadmin01"), successor="bj-hb-jieren")
    assert refused.value.code == "no_superior_admin"
    assert handovers.start_refusal(people("hbadmin01")) == handovers.NO_SUPERIOR

    first = report(outgoing)
    assert handovers.start_refusal(outgoing) == handovers.HandoverOpen.message
    with pytest.raises(Conflict) as refused:        # one open handover per unit
        report(outgoing)
    assert refused.value.code == "handover_open" and refused.value.detail["instance_id"] == first.id
    assert handovers.start_refusal(people("wcadmin01")) is None


def test_a_report_past_the_checks_ends_as_not_accepted(people):
    """The generic service does not check: the starting step does, and refuses with nothing changed."""
    outgoing, other = people("jaadmin01"), people("wcadmin01")
    instance = processes.start_instance(outgoing, "admin_handover",
                                        {"successor_id": other.id, "reason": REASON, "planned_date": "2099-01-01"})
    assert instance.status == "completed" and open_tasks(instance) == []
    assert kinds(instance) == ["started", "task_completed", "handover_refused", "completed"]
    (refused,) = audits("admin_handover")
    assert refused.outcome == "failure" and refused.detail == {"result": "refused", "reason": "请选择本单位的账号"}
    view = handovers.handover_view(instance)
    assert view["status_label"] == "未受理" and view["refusal"] == "请选择本单位的账号"
    assert Session().scalars(select(Notification).where(Notification.kind == "admin_handover")).all() == []
    assert other.user_type == UserType.BUSINESS_ADMIN and other.org_id != outgoing.org_id
    assert report(outgoing).status == "running"       # a refused report does not block the next


def test_approval_rechecks_the_successor(people, clock):
    outgoing, successor, superior = people("jaadmin01"), people(SUCCESSOR), people("whadmin01")
    instance = report(outgoing)
    approval = run_to_approval(people, instance)
    processes.claim_task(superior, approval.id)
    accounts.lock_user(people("sysadmin01"), successor, note="离岗培训")
    with pytest.raises(Conflict) as refused:            # the pages and the API are told before anything changes
        decide(superior, instance, "superior_approval", "approve", "同意")
    assert refused.value.code == "successor_unavailable" and "接任人账号已被锁定" in refused.value.message
    assert task_of(instance, "superior_approval").id == approval.id

    # past that check (the generic service), the approving step refuses and the approval comes back
    processes.complete_task(superior, approval.id, {"decision": "approve", "comment": "同意"})
    again = task_of(instance, "superior_approval")
    assert again.id != approval.id and again.candidate_org_id == superior.org_id
    assert outgoing.user_type == UserType.BUSINESS_ADMIN and outgoing.lock_reason is None
    assert successor.user_type == UserType.SAME_LEVEL_2
    assert audits("admin_handover") == []
    refusal = Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id,
                                                           ProcessEvent.kind == "handover_not_applied")).one()
    assert refusal.comment.startswith("接任人账号已被锁定，未执行交接")
    assert Session().scalars(select(Attachment).where(Attachment.instance_id == instance.id)).all() == []

    accounts.unlock_user(people("sysadmin01"), successor)
    processes.claim_task(superior, again.id)
    decide(superior, instance, "superior_approval", "approve", "已恢复，同意")
    assert successor.user_type == UserType.BUSINESS_ADMIN and outgoing.lock_reason == LockReason.ADMIN
    assert handovers.handover_view(instance)["approval"]["comment"] == "已恢复，同意"


def test_only_the_lanes_act_and_other_regions_see_nothing(people):
    outgoing, successor, leader, superior = (people("jaadmin01"), people(SUCCESSOR), people("jaleader01"),
                                             people("whadmin01"))
    instance = report(outgoing)
    mine, theirs = task_of(instance, "confirm_outgoing"), task_of(instance, "confirm_incoming")
    for actor, task in ((successor, mine), (leader, mine), (leader, theirs), (outgoing, theirs), (superior, theirs)):
        with pytest.raises((NotAuthorized, NotFound)):     # 404 where the actor may not even see the task
            handovers.complete(actor, task.id, {**ALL_TICKED, "decision": "confirm"})
    with pytest.raises(NotAuthorized):                     # the supervising admin sees it, but is not the successor
        handovers.complete(superior, theirs.id, {**ALL_TICKED, "decision": "confirm"})
    assert {t.id for t in open_tasks(instance)} == {mine.id, theirs.id}
    for outsider in (people("wcadmin01"), people("jahosp001")):
        with pytest.raises(NotFound):
            handovers.get_handover(outsider, instance.id)
        with pytest.raises(NotFound):
            handovers.complete(outsider, theirs.id, {**ALL_TICKED, "decision": "confirm"})
    assert handovers.get_handover(people("hbadmin01"), instance.id) == instance   # the province supervises
    assert handovers.list_handovers(people("wcadmin01"))[1] == 0
    assert [h["instance_id"] for h in handovers.list_handovers(superior)[0]] == [instance.id]

    confirm(outgoing, instance, "outgoing")
    confirm(successor, instance, "incoming")
    signoff = task_of(instance, "leader_signoff")
    assert inbox.page(outgoing, "claimable")[1] == 0 and inbox.page(successor, "claimable")[1] == 0
    with pytest.raises(NotAuthorized):           # business admins are not the unit leader
        handovers.complete(outgoing, signoff.id, {"decision": "approve"})
    with pytest.raises(NotAuthorized):
        handovers.complete(superior, signoff.id, {"decision": "approve"})
    # a successor given the leader's function point meanwhile still cannot sign its own handover
    successor.roles = [*successor.roles, Session().scalars(select(Role).where(Role.code == "unit_leader")).one()]
    with pytest.raises(NotAuthorized):
        handovers.complete(successor, signoff.id, {"decision": "approve"})
    decide(leader, instance, "leader_signoff", "approve")
    approval = task_of(instance, "superior_approval")
    for actor in (outgoing, leader, people("wcadmin01")):
        with pytest.raises((NotAuthorized, NotFound)):
            handovers.complete(actor, approval.id, {"decision": "approve", "comment": "同意"})
    assert [t.id for t in inbox.page(superior, "claimable")[0]] == [approval.id]


def test_reminders_go_to_the_named_people(people, clock):
    outgoing = people("jaadmin01")
    instance = report(outgoing)
    clock.shift(timedelta(days=3, seconds=1))
    assert processes.fire_due_timers() == 1
    reminded = Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id,
                                                            ProcessEvent.kind == "reminder")
                                 .order_by(ProcessEvent.id)).all()
    assert sorted(e.detail["notified"][0] for e in reminded) == [SUCCESSOR, "jaadmin01"]
    assert {t.bpmn_id for t in open_tasks(instance)} == {"confirm_outgoing", "confirm_incoming"}


def test_a_city_handover_grants_the_city_admin_role_and_removes_admin_only_roles(people, clock):
    outgoing, superior = people("whadmin01"), people("hbadmin01")
    add_user("bj-wh-jieren", "市级接任人", org_of="whadmin01")
    leader = add_user("bj-wh-fuzeren", "武汉市负责人", role_code="unit_leader", org_of="whadmin01")
    extra = roles.create_role(people("sysadmin01"), name="锁定一览表管理",
                                        permission_codes=["sys.locklist"])
    kept = Session().scalars(select(Role).where(Role.code == "same_level_1")).one()
    outgoing.roles = [*outgoing.roles, extra, kept]
    instance = report(outgoing, successor="bj-wh-jieren")
    for side, who in (("outgoing", outgoing), ("incoming", people("bj-wh-jieren"))):
        confirm(who, instance, side)
    decide(leader, instance, "leader_signoff", "approve")
    decide(superior, instance, "superior_approval", "approve", "同意")
    assert [r.code for r in outgoing.roles] == ["same_level_1"]
    assert "city_admin" in [r.code for r in people("bj-wh-jieren").roles]
    assert sorted(audits("admin_handover")[0].detail["removed_roles"]) == ["市级业务管理员", "锁定一览表管理"]
    assert handovers.admin_only_points() >= {"sys.handover", "sys.locklist"}
    assert not handovers.is_admin_role(kept)
