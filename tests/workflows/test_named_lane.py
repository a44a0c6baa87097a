"""The named lane ``successor`` (workflows/lanes.py): a task assigned from its creation to the person whose user
id the data names (``successor_id``), on the real admin_handover process. Nobody else claims, completes or
reassigns it; the named person cannot release it; data naming nobody suitable fails the step cleanly."""
import pytest
from sqlalchemy import select

from models import Session
from models.accounts import Role, UserType
from models.audit import AuditEvent
from models.scheduling import Notification
from models.workflow import HumanTask, ProcessEvent, ProcessInstance
from workflows import accounts, handlers, inbox, lanes, processes
from workflows.errors import NotAuthorized, NotFound

REPORT = {"reason": "岗位调整", "planned_date": "2099-01-01"}
CHECKED = {"account_info": True, "password": True, "user_info": True, "documents": True, "decision": "confirm"}


@pytest.fixture
def people(ready, users):
    ready("jaadmin01", "whadmin01", "jaleader01", "sysadmin01", "wcadmin01", verified=True)
    admin = users("sysadmin01")
    role = Session().scalars(select(Role).where(Role.code == "same_level_2")).one()
    for username in ("bj-ja-jieren", "bj-ja-tongshi"):
        user, _ = accounts.create_user(admin, user_type=UserType.SAME_LEVEL_2, org_id=users("jaadmin01").org_id,
                                       display_name=username, username=username, role_ids=[role.id])
        user.password_change_reason, user.real_name_verified = None, True
    Session().flush()
    return users


def named_task(people):
    instance = processes.start_instance(people("jaadmin01"), "admin_handover",
                                        {**REPORT, "successor_id": people("bj-ja-jieren").id})
    return Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.lane == "successor")).one()


def test_the_task_belongs_to_the_named_person_from_its_creation(people):
    named, colleague = people("bj-ja-jieren"), people("bj-ja-tongshi")
    task = named_task(people)
    assert task.assignee_id == named.id and task.state == "ready"
    assert [t.id for t in inbox.page(named, "assigned")[0]] == [task.id]
    assert inbox.can_act(named, task) and inbox.candidates(task) == [named]
    for other in (colleague, people("jaleader01"), people("jaadmin01")):
        assert inbox.page(other, "claimable")[1] == 0 and not inbox.can_claim(other, task)
        assert not lanes.qualifies(other, "successor", task.candidate_org_id)
        assert "successor" not in lanes.lanes_for(other)
    assert not lanes.qualifies(named, "successor", task.candidate_org_id)   # it is assigned, never claimed
    processes.complete_task(named, task.id, CHECKED)
    Session().refresh(task)
    assert (task.state, task.completed_by_id, task.outcome) == ("completed", named.id, "confirm")


def test_nobody_else_claims_completes_or_reassigns_it(people):
    named, colleague = people("bj-ja-jieren"), people("bj-ja-tongshi")
    task = named_task(people)
    for outsider in (colleague, people("jaleader01"), people("wcadmin01")):   # cannot even see it
        for attempt in (lambda u: processes.claim_task(u, task.id),
                        lambda u: processes.complete_task(u, task.id, CHECKED),
                        lambda u: processes.reassign_task(u, task.id, "bj-ja-tongshi")):
            with pytest.raises(NotFound):
                attempt(outsider)
    for admin in (people("jaadmin01"), people("whadmin01"), people("sysadmin01")):   # see it, may not take it
        with pytest.raises(processes.TaskNotReady) as taken:
            processes.claim_task(admin, task.id)
        assert taken.value.detail["assignee"] == "bj-ja-jieren"
        with pytest.raises(NotAuthorized):
            processes.complete_task(admin, task.id, CHECKED)
        with pytest.raises(NotAuthorized) as refused:
            processes.reassign_task(admin, task.id, "bj-ja-tongshi")
        assert refused.value.message == "该任务指定由本人办理，不能放回或转办"
    with pytest.raises(NotAuthorized):                      # not even the named person hands it on
        processes.reassign_task(named, task.id, "bj-ja-tongshi")
    # nor an administrator once the named person is locked (the task is not "stranded" for someone else)
    accounts.lock_user(people("sysadmin01"), named)
    with pytest.raises(NotAuthorized):
        processes.reassign_task(people("sysadmin01"), task.id, "bj-ja-tongshi")
    Session().refresh(task)
    assert task.assignee_id == named.id and task.state == "ready"


def test_the_named_person_cannot_release_it(people):
    named = people("bj-ja-jieren")
    task = named_task(people)
    with pytest.raises(NotAuthorized) as refused:
        processes.release_task(named, task.id)
    assert refused.value.message == "该任务指定由本人办理，不能放回或转办"
    assert refused.value.audit == ("task_release", "human_task", task.id)
    Session().refresh(task)
    assert task.assignee_id == named.id


@pytest.mark.parametrize("who", ["other_org", "missing"])
def test_a_bad_successor_id_fails_the_step_cleanly(people, monkeypatch, who):
    """Past the process's own checks (stubbed here), data naming nobody of the unit fails the step: nothing of
    it stays (no task, no event, no notification), the instance is marked in error with the reason."""
    monkeypatch.setitem(handlers._HANDLERS, "handover_start", lambda ctx, **_: {"accepted": True})
    outgoing = people("jaadmin01")
    bad = {"other_org": people("wcadmin01").id, "missing": 999999}[who]
    instance = processes.start_instance(outgoing, "admin_handover")
    report = Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).one()
    processes.complete_task(outgoing, report.id, {**REPORT, "successor_id": bad})
    Session().expire_all()
    instance = Session().get(ProcessInstance, instance.id)
    assert instance.status == "error" and instance.failed_step["task_id"] == report.id
    assert "lane successor names no member of the candidate organization (successor_id)" in instance.error_message
    rows = Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
    assert [(r.bpmn_id, r.state) for r in rows] == [("report", "ready")]          # the completion was undone
    assert [e.kind for e in Session().scalars(select(ProcessEvent).where(
        ProcessEvent.instance_id == instance.id).order_by(ProcessEvent.id))] == ["started", "error"]
    assert Session().scalars(select(AuditEvent).where(AuditEvent.action == "process_error")).one().outcome == "failure"
    assert Session().scalars(select(Notification)).all() == []
