"""账号泄露处置 (credential_leak) through the services, on the real BPMN file: every path, the effects on the
account, the audit rows, the 24-hour escalation with a frozen clock, and who is refused."""
import json
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from lxml import etree
from sqlalchemy import select

from models import Session
from models.accounts import ApiToken, LockReason, Role, User, UserType
from models.audit import AuditEvent
from models.scheduling import Notification
from models.workflow import HumanTask, ProcessEvent, ProcessInstance
from tests.conftest import DEMO_PASSWORD
from workflows import accounts, auth, engine, inbox, lanes, leaks, processes
from workflows.errors import FormInvalid, InvalidInput, NotAuthorized, NotFound

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
CST = timezone(timedelta(hours=8))
DESCRIPTION = "在公共电脑上登录后未退出，怀疑密码被他人记录"
QC = "bj-ja-zhikong"


@pytest.fixture
def people(ready, users):
    ready("jahosp001", "jaadmin01", "wcadmin01", "whadmin01", "hbadmin01", "wchosp001", verified=True)
    return users


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def add_quality_controller(username=QC):
    """A 数据质控员 (本级用户1) of 江岸区卫生健康局, created by the system administrator."""
    admin = Session().scalars(select(User).where(User.username == "sysadmin01")).one()
    org_id = Session().scalars(select(User.org_id).where(User.username == "jaadmin01")).one()
    role = Session().scalars(select(Role).where(Role.code == "same_level_1")).one()
    user, _ = accounts.create_user(admin, user_type=UserType.SAME_LEVEL_1, org_id=org_id, display_name="质控员",
                                   username=username, role_ids=[role.id])
    user.password_change_reason, user.real_name_verified = None, True
    Session().flush()
    return user


def discovered(hours_ago):
    return (T0 - timedelta(hours=hours_ago)).astimezone(CST).strftime("%Y-%m-%dT%H:%M")


def report(actor, account=None, hours_ago=2, description=DESCRIPTION):
    instance, warnings = leaks.report(actor, account=account, discovered_at=discovered(hours_ago),
                                      description=description)
    return instance, warnings


def open_tasks(instance):
    return Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.state == "ready").order_by(HumanTask.id)).all()


def open_task(instance):
    rows = [t for t in open_tasks(instance)]
    assert len(rows) == 1, [t.bpmn_id for t in rows]
    return rows[0]


def kinds(instance):
    return [e.kind for e in Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id)
                                              .order_by(ProcessEvent.id))]


def audits(action, target=None):
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if target:
        query = query.where(AuditEvent.target_name == target)
    return Session().scalars(query).all()


def check(actor, instance, result="normal", comment="核查近一个月所报数据，未发现异常"):
    task = open_task(instance)
    assert task.bpmn_id in ("check_qc", "check_admin")
    processes.complete_task(actor, task.id, {"result": result, "comment": comment})
    return task


def reset_restore(actor, instance):
    task = open_task(instance)
    assert task.bpmn_id == "reset_restore"
    _instance, account, password = leaks.reset_and_restore(actor, task.id, {"confirm": True})
    return account, password


def close(actor, instance, text="账号泄露已核查处置，数据未受破坏，已重置密码并恢复使用。"):
    task = open_task(instance)
    assert task.bpmn_id == "record"
    processes.complete_task(actor, task.id, {"record": text})


# --- the admin's report, at once --------------------------------------------------------------------------------

def test_an_admin_report_suspends_the_account_at_once(people, clock):
    admin, hospital = people("jaadmin01"), people("jahosp001")
    token = auth.issue_token(hospital)
    session_token = hospital.session_token
    instance, warnings = report(admin, "jahosp001")
    assert warnings == []

    assert hospital.lock_reason == LockReason.LEAK and hospital.locked_at == T0 and hospital.locked_until is None
    assert hospital.session_token != session_token
    assert auth.resolve_token(token) is None
    assert Session().scalars(select(ApiToken).where(ApiToken.user_id == hospital.id)).one().revoked_at == T0
    assert auth.authenticate("jahosp001", DEMO_PASSWORD).outcome == "locked"

    # the case belongs to the leaked account and to the handling organization (the reporter's)
    assert instance.started_by_id == hospital.id and instance.org_id == admin.org_id
    assert instance.business_key == f"credential_leak:{hospital.id}"
    assert instance.title == "账号泄露处置：测试医院（jahosp001）"
    task = open_task(instance)
    assert (task.bpmn_id, task.lane, task.candidate_org_id, task.initiator_id) == \
        ("check_admin", "leak_admin", admin.org_id, hospital.id)   # 江岸区 has no 数据质控员
    assert [t.id for t in inbox.page(admin, "claimable")[0]] == [task.id]   # the reporter handles it
    assert instance.next_timer_at == T0 + timedelta(hours=22)               # 24 hours after the discovery

    assert kinds(instance) == ["started", "task_completed", "leak_suspended"]
    lock = audits("account_lock", "jahosp001")[-1]
    assert (lock.actor_id, lock.actor_name) == (None, "system")
    assert lock.detail["reason"] == "leak" and lock.detail["reported_by"] == "jaadmin01"
    reported = audits("leak_report", "jahosp001")[-1]
    assert reported.actor_name == "jaadmin01" and reported.outcome == "success"
    assert reported.detail["case"] == f"credential_leak#{instance.id}" and reported.detail["late"] is False


def test_main_path_check_reset_restore_and_record(people, clock):
    admin, hospital = people("jaadmin01"), people("jahosp001")
    instance, _ = report(admin, "jahosp001")
    clock.shift(timedelta(hours=1))
    check(admin, instance)
    assert open_task(instance).bpmn_id == "reset_restore"
    assert hospital.is_locked(T0 + timedelta(hours=1))          # a normal check does not restore by itself

    clock.shift(timedelta(minutes=10))
    account, password = reset_restore(admin, instance)
    assert account.id == hospital.id
    assert hospital.lock_reason is None and hospital.locked_at is None and hospital.lock_detail is None
    assert hospital.password_change_reason == "reset"
    login = auth.authenticate("jahosp001", password)
    assert login.ok and login.user.must_change_password           # the temporary password must be changed
    assert auth.authenticate("jahosp001", DEMO_PASSWORD).outcome == "invalid"

    close(admin, instance)
    Session().refresh(instance)
    assert instance.status == "completed" and instance.next_timer_at is None   # the terminate end withdrew the timer
    assert kinds(instance) == [
        "started", "task_completed", "leak_suspended", "task_completed", "password_reset",
        "task_completed", "account_restored", "task_completed", "leak_closed", "completed"]
    assert [a.actor_name for a in audits("password_reset", "jahosp001")] == ["jaadmin01"]
    assert [a.actor_name for a in audits("account_unlock", "jahosp001")] == ["jaadmin01"]
    closed = audits("leak_close", "jahosp001")
    assert len(closed) == 1 and closed[0].actor_name == "jaadmin01" and closed[0].detail["restored"] is True

    # the temporary password is nowhere in the workflow, its timeline or the audit log
    events = Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id)).all()
    assert password not in instance.state
    assert all(password not in json.dumps(e.detail or {}, ensure_ascii=False) for e in events)
    assert all(password not in json.dumps(a.detail, ensure_ascii=False) for a in Session().scalars(select(AuditEvent)))

    case = leaks.case_view(instance)
    assert case["check"]["result"] == "normal" and case["check"]["by"] == "jaadmin01"
    assert case["password_reset"]["by"] == "jaadmin01" and case["restored"]["by"] == "jaadmin01"
    assert case["record"]["record"].startswith("账号泄露已核查处置") and case["locked"] is False
    assert case["status_label"] == "已办结" and case["escalated"] is None


def test_a_self_report_goes_to_the_quality_controller_of_the_admin(people, clock):
    controller = add_quality_controller()
    admin, hospital = people("jaadmin01"), people("jahosp001")
    instance, _ = report(hospital)                      # no account named: the reporter itself
    assert hospital.lock_reason == LockReason.LEAK
    task = open_task(instance)
    assert (task.bpmn_id, task.lane, task.candidate_org_id) == ("check_qc", "quality_controller", admin.org_id)
    assert [t.id for t in inbox.page(controller, "claimable")[0]] == [task.id]
    assert inbox.page(admin, "claimable")[1] == 0       # the admin waits for the controller
    with pytest.raises(NotAuthorized):                   # the admin sees the case but is not in the lane
        processes.complete_task(admin, task.id, {"result": "normal"})
    with pytest.raises(NotFound):                        # another county sees nothing
        processes.complete_task(people("wcadmin01"), task.id, {"result": "normal"})
    with pytest.raises(NotFound):
        processes.get_instance(people("wcadmin01"), instance.id)

    told = Session().scalars(select(Notification).where(Notification.kind == "leak_report")
                             .order_by(Notification.id)).all()
    assert [(n.user.username, n.link) for n in told] == [("jaadmin01", f"/leaks/{instance.id}"),
                                                          (QC, f"/leaks/{instance.id}")]
    assert "本人报告" in told[0].body
    processes.claim_task(controller, task.id)
    check(controller, instance)
    reset = open_task(instance)
    assert (reset.bpmn_id, reset.lane) == ("reset_restore", "leak_admin")
    with pytest.raises(NotFound):                        # the controller does not reset passwords
        leaks.reset_and_restore(controller, reset.id, {"confirm": True})
    assert hospital.password_change_reason is None
    reset_restore(admin, instance)
    close(admin, instance)
    assert Session().get(ProcessInstance, instance.id).status == "completed"
    assert leaks.case_view(instance)["check"]["by"] == QC


def test_the_account_cannot_handle_its_own_case(people, clock):
    """Even when the leaked account is itself one that could act in the lane (a data-quality controller)."""
    controller = add_quality_controller()
    other = add_quality_controller("bj-ja-zhikong2")
    instance, _ = report(people("jaadmin01"), controller.username)
    task = open_task(instance)
    assert task.bpmn_id == "check_qc" and task.initiator_id == controller.id
    assert not inbox.can_claim(controller, task)
    assert inbox.can_claim(other, task)


def test_abnormal_check_calls_for_remedy_and_can_keep_the_account_suspended(people, clock):
    admin, hospital = people("jaadmin01"), people("jahosp001")
    instance, _ = report(admin, "jahosp001")
    task = open_task(instance)
    with pytest.raises(FormInvalid) as refused:
        processes.complete_task(admin, task.id, {"result": "abnormal"})
    assert set(refused.value.fields) == {"comment"}
    check(admin, instance, "abnormal", "3月1日有12条随访记录被批量修改")
    remedy = open_task(instance)
    assert (remedy.bpmn_id, remedy.lane) == ("remedy", "leak_admin")
    processes.complete_task(admin, remedy.id, {"measures": "已按原始纸质记录恢复被修改的数据，并报告上级精防机构",
                                               "action": "keep_suspended"})
    close(admin, instance, "数据遭篡改，已补救；账号不予恢复。")
    Session().refresh(instance)
    assert instance.status == "completed"
    assert hospital.lock_reason == LockReason.LEAK and hospital.password_change_reason is None
    case = leaks.case_view(instance)
    assert case["check"]["result_label"] == "发现异常" and case["remedy"]["action"] == "keep_suspended"
    assert case["restored"] is None and case["locked"] is True
    assert audits("leak_close", "jahosp001")[-1].detail["restored"] is False


def test_abnormal_check_with_remedy_then_restore(people, clock):
    admin, hospital = people("jaadmin01"), people("jahosp001")
    instance, _ = report(admin, "jahosp001")
    check(admin, instance, "abnormal", "发现2条记录异常")
    processes.complete_task(admin, open_task(instance).id, {"measures": "已更正", "action": "restore"})
    reset_restore(admin, instance)
    assert not hospital.is_locked(T0)
    close(admin, instance)
    assert Session().get(ProcessInstance, instance.id).status == "completed"


def test_restore_without_a_reset_sends_the_step_back(people, clock):
    """Completing the step past the pages and the API (which reset first) restores nothing."""
    admin, hospital = people("jaadmin01"), people("jahosp001")
    instance, _ = report(admin, "jahosp001")
    check(admin, instance)
    first = open_task(instance)
    processes.complete_task(admin, first.id, {"confirm": True})
    again = open_task(instance)
    assert again.bpmn_id == "reset_restore" and again.id != first.id
    assert hospital.lock_reason == LockReason.LEAK
    assert kinds(instance)[-1] == "restore_refused"
    with pytest.raises(FormInvalid):                     # a form error resets nothing
        leaks.reset_and_restore(admin, again.id, {})
    assert hospital.password_change_reason is None
    reset_restore(admin, instance)
    assert hospital.lock_reason is None


def test_an_earlier_admin_lock_comes_back_after_the_restore(people, clock):
    admin, hospital = people("jaadmin01"), people("jahosp001")
    accounts.lock_user(admin, hospital, note="停用待查")
    instance, _ = report(admin, "jahosp001")
    assert hospital.lock_reason == LockReason.LEAK
    check(admin, instance)
    reset_restore(admin, instance)
    assert hospital.lock_reason == LockReason.ADMIN and hospital.locked_at == T0


# --- a leaked business-admin account -------------------------------------------------------------------------

def test_a_leaked_admin_account_is_handled_by_the_superior_admin(people, clock):
    county, city, province = people("jaadmin01"), people("whadmin01"), people("hbadmin01")
    instance, _ = report(county)                              # the county admin reports its own account
    assert county.lock_reason == LockReason.LEAK
    task = open_task(instance)
    assert (task.bpmn_id, task.candidate_org_id) == ("check_admin", city.org_id)
    assert instance.org_id == city.org_id and instance.started_by_id == county.id
    assert inbox.can_claim(city, task)
    for outsider, error in ((people("wcadmin01"), NotFound), (province, NotAuthorized)):
        with pytest.raises(error):
            processes.complete_task(outsider, task.id, {"result": "normal"})
    check(city, instance)
    reset = open_task(instance)
    with pytest.raises(NotAuthorized):
        leaks.reset_and_restore(province, reset.id, {"confirm": True})
    _account, password = reset_restore(city, instance)
    assert auth.authenticate("jaadmin01", password).ok
    close(city, instance)
    assert [a.actor_name for a in audits("password_reset", "jaadmin01")] == ["whadmin01"]


def test_the_superior_admin_may_report_a_subordinate_admin(people, clock):
    county, city = people("jaadmin01"), people("whadmin01")
    instance, _ = report(city, "jaadmin01")
    task = open_task(instance)
    assert county.lock_reason == LockReason.LEAK and instance.started_by_id == county.id
    assert task.candidate_org_id == city.org_id and inbox.can_claim(city, task)
    assert not inbox.can_claim(county, task)


def test_a_province_admin_leak_is_refused_with_a_pointer_to_the_system_administrator(people, clock):
    with pytest.raises(InvalidInput) as refused:
        report(people("hbadmin01"))
    assert refused.value.code == "no_handling_admin" and "系统管理员" in refused.value.message
    assert people("hbadmin01").lock_reason is None


# --- refusals --------------------------------------------------------------------------------------------------

def test_only_the_account_or_an_admin_who_manages_it_may_report(people, clock):
    for outsider, account in (("wcadmin01", "jahosp001"),     # another county's admin sees no such account
                              ("jaadmin01", "whadmin01"),     # nor a county admin its city's admin
                              ("wchosp001", "jahosp001")):    # nor a hospital another one
        with pytest.raises(InvalidInput) as unknown:
            report(people(outsider), account)
        assert unknown.value.fields == {"account": ["未找到该账号"]}
    for admin in ("whadmin01", "hbadmin01"):                  # they see the county's hospital, the county manages it
        with pytest.raises(NotAuthorized) as refused:
            report(people(admin), "jahosp001")
        assert refused.value.audit == ("leak_report", "user", people("jahosp001").id)
    with pytest.raises(NotAuthorized):
        report(people("sysadmin01"), "jahosp001")
    assert people("jahosp001").lock_reason is None
    assert not Session().scalars(select(ProcessInstance).where(ProcessInstance.process_key == "credential_leak")).all()


def test_the_report_needs_a_past_discovery_time_and_a_description(people, clock):
    admin = people("jaadmin01")
    for when, message in ((discovered(-1), "发现时间不能晚于当前时间"), ("昨天", "发现时间格式应为 YYYY-MM-DD HH:MM"),
                          ("", "请填写发现时间")):
        with pytest.raises(InvalidInput) as refused:
            leaks.report(admin, account="jahosp001", discovered_at=when, description=DESCRIPTION)
        assert refused.value.fields == {"discovered_at": [message]}
    with pytest.raises(InvalidInput) as refused:
        leaks.report(admin, account="jahosp001", discovered_at=discovered(1), description="  ")
    assert refused.value.fields == {"description": ["请填写情况说明"]}
    leaks.report(admin, account="jahosp001", discovered_at=discovered(0), description=DESCRIPTION)   # now is fine


def test_one_open_case_per_account(people, clock):
    admin = people("jaadmin01")
    first, _ = report(admin, "jahosp001")
    with pytest.raises(InvalidInput) as refused:
        report(admin, "jahosp001")
    assert refused.value.fields == {"account": [f"该账号已有正在处置的泄露报告（#{first.id}）"]}


def test_a_report_past_the_checks_ends_unaccepted_and_changes_nothing(people, clock):
    """The generic start does not know the rules; the starting step checks again and refuses."""
    outsider, hospital = people("wcadmin01"), people("jahosp001")
    instance = processes.start_instance(outsider, "credential_leak", {
        "account": "jahosp001", "discovered_at": discovered(1), "description": DESCRIPTION})
    Session().refresh(instance)
    assert instance.status == "completed" and instance.started_by_id == outsider.id
    assert hospital.lock_reason is None
    assert kinds(instance)[-2:] == ["leak_refused", "completed"]
    refused = audits("leak_report")[-1]
    assert refused.outcome == "failure" and refused.detail["reason"] == "未找到该账号"
    assert refused.actor_name == "wcadmin01"
    assert leaks.case_view(instance)["status_label"] == "未受理"


def test_outside_the_lane_and_the_jurisdiction_steps_are_refused(people, clock):
    admin, hospital = people("jaadmin01"), people("jahosp001")
    instance, _ = report(admin, "jahosp001")
    task = open_task(instance)
    with pytest.raises(NotFound):
        processes.claim_task(people("wcadmin01"), task.id)
    with pytest.raises(NotFound):
        processes.claim_task(people("wchosp001"), task.id)
    with pytest.raises(NotAuthorized):                      # 武汉市 sees its region's cases but is not the handler
        processes.claim_task(people("whadmin01"), task.id)
    check(admin, instance)
    reset = open_task(instance)
    for outsider in ("wcadmin01", "wchosp001"):
        with pytest.raises(NotFound):
            leaks.reset_and_restore(people(outsider), reset.id, {"confirm": True})
    assert hospital.password_change_reason is None and hospital.lock_reason == LockReason.LEAK


# --- the 24-hour escalation ---------------------------------------------------------------------------------------

def test_escalation_24_hours_after_the_discovery_fires_once(people, clock):
    admin, city = people("jaadmin01"), people("whadmin01")
    instance, _ = report(admin, "jahosp001", hours_ago=2)     # discovered at T0 - 2 h: the deadline is T0 + 22 h
    deadline = T0 + timedelta(hours=22)
    assert instance.next_timer_at == deadline
    clock.move_to(deadline - timedelta(seconds=1))
    processes.fire_due_timers()
    assert "leak_escalated" not in kinds(instance)
    clock.move_to(deadline)                                   # a timer fires strictly after its time
    assert processes.fire_due_timers() == 0
    clock.move_to(deadline + timedelta(seconds=1))
    assert processes.fire_due_timers() == 1
    assert processes.fire_due_timers() == 0
    clock.shift(timedelta(hours=30))
    processes.fire_due_timers()
    assert kinds(instance).count("leak_escalated") == 1

    notes = Session().scalars(select(Notification).where(Notification.kind == "leak_escalation")).all()
    assert [(n.user.username, n.link) for n in notes] == [("whadmin01", f"/instances/{instance.id}")]
    assert "jahosp001" in notes[0].title
    escalated = audits("leak_escalate")
    assert len(escalated) == 1 and escalated[0].actor_name == "system"
    assert escalated[0].detail["notified"] == ["whadmin01"]
    assert processes.get_instance(city, instance.id).id == instance.id   # the superior admin sees the case
    assert open_task(instance).bpmn_id == "check_admin"                  # non-interrupting: the case goes on
    check(admin, instance)
    reset_restore(admin, instance)
    close(admin, instance)
    Session().refresh(instance)
    assert instance.status == "completed" and leaks.case_view(instance)["escalated"]["detail"]["notified"] == \
        ["whadmin01"]


def test_a_case_closed_in_time_never_escalates(people, clock):
    admin = people("jaadmin01")
    instance, _ = report(admin, "jahosp001", hours_ago=23)
    check(admin, instance)
    reset_restore(admin, instance)
    close(admin, instance)
    clock.shift(timedelta(days=5))
    assert processes.fire_due_timers() == 0
    assert "leak_escalated" not in kinds(instance)


def test_a_late_report_is_accepted_flagged_and_escalated(people, clock):
    admin = people("jaadmin01")
    instance, warnings = report(admin, "jahosp001", hours_ago=30)
    assert [w["code"] for w in warnings] == ["late_report"]
    assert audits("leak_report", "jahosp001")[-1].detail["late"] is True
    assert instance.next_timer_at == T0 + timedelta(seconds=1)    # already overdue: at the next timer run
    clock.shift(timedelta(seconds=2))
    processes.fire_due_timers()
    assert kinds(instance).count("leak_escalated") == 1
    case = leaks.case_view(Session().get(ProcessInstance, instance.id))
    assert case["late"] and case["overdue"]


def test_the_escalation_of_a_leaked_admin_goes_two_levels_up(people, clock):
    instance, _ = report(people("jaadmin01"), hours_ago=1)     # handled by 武汉市
    clock.shift(timedelta(hours=23, seconds=1))
    processes.fire_due_timers()
    notes = Session().scalars(select(Notification).where(Notification.kind == "leak_escalation")).all()
    assert [n.user.username for n in notes] == ["hbadmin01"]


def test_a_three_day_reminder_notifies_the_handler(people, clock):
    admin = people("jaadmin01")
    instance, _ = report(admin, "jahosp001", hours_ago=0)
    clock.shift(timedelta(days=3, seconds=1))
    processes.fire_due_timers()
    reminders = Session().scalars(select(Notification).where(Notification.kind == "reminder")).all()
    assert [(n.user.username, n.link) for n in reminders] == [("jaadmin01", f"/tasks/{open_task(instance).id}")]


# --- the file ------------------------------------------------------------------------------------------------------

def test_the_bpmn_file_has_lanes_and_a_full_diagram():
    path = engine.os.path.join(engine.BPMN_DIR, "credential_leak.bpmn")
    (definition,) = engine.parse_file(path)
    assert (definition.key, definition.name, definition.startable) == ("credential_leak", "账号泄露处置", True)
    root = etree.parse(path).getroot()
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
    process = root.find("bpmn:process", ns)
    nodes = {el.get("id") for el in process if el.get("id") and not el.tag.endswith(("sequenceFlow", "laneSet"))}
    flows = {el.get("id") for el in process.findall("bpmn:sequenceFlow", ns)}
    shapes = {el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNShape", ns)}
    edges = {el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNEdge", ns)}
    lane_ids = {el.get("id") for el in process.iterfind("bpmn:laneSet/bpmn:lane", ns)}
    assert nodes <= shapes and flows <= edges and lane_ids <= shapes
    assert {el.get("name") for el in process.iterfind("bpmn:laneSet/bpmn:lane", ns)} == \
        {"applicant", "quality_controller", "leak_admin", "superior_admin"}
    assert {lanes.LANES[k].label for k in ("quality_controller", "leak_admin")} == {"数据质控员", "本单位业务管理员"}
    in_lanes = {ref.text for ref in process.iterfind("bpmn:laneSet/bpmn:lane/bpmn:flowNodeRef", ns)}
    assert in_lanes == nodes


def test_the_account_pages_cannot_lift_a_leak_lock_while_the_case_is_open(people, clock):
    from workflows import accounts
    from workflows.errors import InvalidInput
    admin, hospital = people("jaadmin01"), people("jahosp001")
    report(admin, "jahosp001")
    with pytest.raises(InvalidInput) as exc:
        accounts.unlock_user(admin, hospital)
    assert exc.value.code == "leak_case_open"
    assert hospital.lock_reason == LockReason.LEAK
