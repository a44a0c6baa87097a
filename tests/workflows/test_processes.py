"""The engine end to end on the sample process, through the services, on the real BPMN file."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from models import Session
from models.audit import AuditEvent
from models.workflow import HumanTask, ProcessEvent, ProcessInstance, ProcessSpec
from workflows import engine, handlers, inbox, processes
from workflows.errors import FormInvalid, NotAuthorized, NotFound

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
SUBMIT = {"title": "申请开通互联网访问", "description": "基层医疗机构需要通过互联网访问系统"}


@pytest.fixture
def people(ready, users):
    ready("jahosp001", "jaadmin01", "wcadmin01", verified=True)
    return users


def open_task(instance):
    return Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.state == "ready")).one()


def timeline(instance):
    return [(e.kind, e.actor_name, e.outcome) for e in Session().scalars(
        select(ProcessEvent).where(ProcessEvent.instance_id == instance.id).order_by(ProcessEvent.id))]


def test_submit_reject_resubmit_approve(people):
    applicant, reviewer = people("jahosp001"), people("jaadmin01")
    instance = processes.start_instance(applicant, "generic_request", SUBMIT)
    review = open_task(instance)
    assert (review.bpmn_id, review.lane, review.assignee_id) == ("review", "supervising_admin", None)
    assert review.candidate_org_id == applicant.org.supervisor_id
    assert [t.id for t in inbox.page(reviewer, "claimable")[0]] == [review.id]
    assert inbox.page(people("wcadmin01"), "claimable")[1] == 0           # another county
    assert inbox.page(applicant, "claimable")[1] == 0

    processes.claim_task(reviewer, review.id)
    processes.complete_task(reviewer, review.id, {"decision": "reject", "comment": "请补充说明"})
    resubmit = open_task(instance)
    assert (resubmit.bpmn_id, resubmit.assignee_id) == ("submit", applicant.id)
    processes.complete_task(applicant, resubmit.id, {**SUBMIT, "description": "补充：已获院领导同意"})
    second = open_task(instance)
    processes.complete_task(reviewer, second.id, {"decision": "approve"})
    Session().refresh(instance)
    assert instance.status == "completed" and instance.next_timer_at is None
    assert timeline(instance) == [
        ("started", "jahosp001", None), ("task_completed", "jahosp001", "submitted"),
        ("claimed", "jaadmin01", None), ("task_completed", "jaadmin01", "reject"),
        ("task_completed", "jahosp001", "submitted"), ("task_completed", "jaadmin01", "approve"),
        ("outcome", "jaadmin01", "approved"), ("completed", None, None)]
    assert [t.id for t in inbox.page(reviewer, "done")[0]] == [second.id, review.id]
    assert inbox.page(applicant, "requests")[1] == 1


def test_initiator_never_approves_its_own_request(people):
    admin = people("jaadmin01")
    instance = processes.start_instance(people("jahosp001"), "generic_request", SUBMIT)
    review = open_task(instance)
    review.initiator_id = admin.id   # as if the admin had started it
    with pytest.raises(NotAuthorized):
        processes.claim_task(admin, review.id)
    assert not inbox.can_act(admin, review)


def test_outside_the_jurisdiction_the_task_is_not_found(people):
    instance = processes.start_instance(people("jahosp001"), "generic_request", SUBMIT)
    review = open_task(instance)
    with pytest.raises(NotFound):
        processes.complete_task(people("wcadmin01"), review.id, {"decision": "approve"})
    with pytest.raises(NotFound):
        processes.get_instance(people("wcadmin01"), instance.id)


def test_form_errors_are_per_field_and_nothing_changes(people):
    instance = processes.start_instance(people("jahosp001"), "generic_request", SUBMIT)
    review = open_task(instance)
    with pytest.raises(FormInvalid) as exc:
        processes.complete_task(people("jaadmin01"), review.id, {"decision": "reject"})
    assert set(exc.value.fields) == {"comment"}
    assert open_task(instance).id == review.id


def test_a_task_completed_twice_answers_already_handled(people):
    instance = processes.start_instance(people("jahosp001"), "generic_request", SUBMIT)
    review = open_task(instance)
    processes.complete_task(people("jaadmin01"), review.id, {"decision": "approve"})
    with pytest.raises(processes.TaskNotReady) as exc:
        processes.complete_task(people("jaadmin01"), review.id, {"decision": "approve"})
    assert exc.value.detail["completed_by"] == "jaadmin01"


def test_serialize_and_restore_mid_process(people):
    instance = processes.start_instance(people("jahosp001"), "generic_request", SUBMIT)
    Session.commit()
    Session.remove()
    stored = Session().get(ProcessInstance, instance.id)
    assert '"spec"' not in stored.state and stored.serializer_version == engine.SERIALIZER_VERSION
    review = open_task(stored)
    processes.complete_task(people("jaadmin01"), review.id, {"decision": "approve"})
    assert Session().get(ProcessInstance, instance.id).status == "completed"


def test_running_instances_keep_their_version_when_the_file_changes(people, tmp_path):
    old = processes.start_instance(people("jahosp001"), "generic_request", SUBMIT)
    with open(engine.os.path.join(engine.BPMN_DIR, "generic_request.bpmn"), encoding="utf-8") as fh:
        source = fh.read()
    changed = source.replace('name="审核"', 'name="主管部门审核"')
    (tmp_path / "generic_request.bpmn").write_text(changed, encoding="utf-8")
    original = processes.registry()
    try:
        processes.init_registry(str(tmp_path))
        new = processes.start_instance(people("jahosp001"), "generic_request", SUBMIT)
        assert (old.spec.version + 1, new.spec.version) == (new.spec.version, old.spec.version + 1)
        assert open_task(new).name == "主管部门审核" and open_task(old).name == "审核"
        processes.complete_task(people("jaadmin01"), open_task(old).id, {"decision": "approve"})
        assert Session().get(ProcessInstance, old.id).status == "completed"
    finally:
        processes._registry = original
    assert Session().scalar(select(ProcessSpec.id).where(ProcessSpec.version == new.spec.version)) is not None


def test_reminder_timer_fires_once_with_a_frozen_clock(people):
    with time_machine.travel(T0, tick=False) as clock:
        instance = processes.start_instance(people("jahosp001"), "generic_request", SUBMIT)
        assert instance.next_timer_at == T0 + timedelta(days=3)
        clock.shift(timedelta(days=3))               # a timer fires strictly after its time
        assert processes.fire_due_timers() == 0
        assert [k for k, *_ in timeline(instance)].count("reminder") == 0
        clock.shift(timedelta(seconds=1))
        assert processes.fire_due_timers() == 1
        assert processes.fire_due_timers() == 0
    reminders = [e for e in Session().scalars(select(ProcessEvent).where(
        ProcessEvent.instance_id == instance.id, ProcessEvent.kind == "reminder"))]
    assert len(reminders) == 1 and reminders[0].detail["notified"] == ["jaadmin01"]
    assert open_task(instance).bpmn_id == "review"          # non-interrupting


def test_a_raising_handler_rolls_the_step_back_and_retry_reruns_it(people, monkeypatch):
    instance = processes.start_instance(people("jahosp001"), "generic_request", SUBMIT)
    review = open_task(instance)
    calls = []

    def broken(ctx, outcome):
        calls.append(outcome)
        ctx.event("outcome", outcome=outcome)
        raise RuntimeError("下游系统不可用")
    monkeypatch.setitem(handlers._HANDLERS, "record_outcome", broken)
    processes.complete_task(people("jaadmin01"), review.id, {"decision": "approve"})
    Session().expire_all()
    instance = Session().get(ProcessInstance, instance.id)
    assert instance.status == "error" and "下游系统不可用" in instance.error_message
    assert open_task(instance).id == review.id                     # the completion was undone
    assert [k for k, *_ in timeline(instance)].count("outcome") == 0
    assert Session().scalars(select(AuditEvent).where(AuditEvent.action == "process_error")).first()
    with pytest.raises(Exception):
        processes.complete_task(people("jaadmin01"), review.id, {"decision": "approve"})
    with pytest.raises(NotAuthorized):
        processes.retry_instance(people("jahosp001"), instance.id)

    monkeypatch.setitem(handlers._HANDLERS, "record_outcome",
                        lambda ctx, outcome: ctx.event("outcome", outcome=outcome) and None)
    processes.retry_instance(people("jaadmin01"), instance.id)
    instance = Session().get(ProcessInstance, instance.id)
    assert instance.status == "completed" and instance.error_message is None
    assert [k for k, *_ in timeline(instance)].count("outcome") == 1


def test_the_script_sandbox_refuses_imports_and_dunders():
    for source in ("__import__('os')", "import os", "().__class__", "x.__globals__", "from os import path"):
        with pytest.raises(engine.ScriptRefused):
            engine.check_script(source)
    assert engine.check_script('decision == "approve"')


def test_a_broken_bpmn_file_names_file_and_element(tmp_path):
    with open(engine.os.path.join(engine.BPMN_DIR, "generic_request.bpmn"), encoding="utf-8") as fh:
        source = fh.read()
    (tmp_path / "broken.bpmn").write_text(source.replace('<bpmn:userTask id="review"', '<bpmn:userTask id="review" bogus="1"'), encoding="utf-8")
    with pytest.raises(engine.BpmnError) as exc:
        engine.load_registry(str(tmp_path))
    assert "broken.bpmn" in str(exc.value)
    (tmp_path / "broken.bpmn").write_text(source.replace('name="supervising_admin"', 'name="nobody"'), encoding="utf-8")
    with pytest.raises(engine.BpmnError) as exc:
        engine.load_registry(str(tmp_path))
    assert "broken.bpmn" in str(exc.value) and "review" in str(exc.value) and "nobody" in str(exc.value)


def test_reminders_reach_the_candidates_as_notifications(people):
    from models.scheduling import Notification
    with time_machine.travel(T0, tick=False) as clock:
        instance = processes.start_instance(people("jahosp001"), "generic_request", SUBMIT)
        clock.shift(timedelta(days=3, seconds=1))
        processes.fire_due_timers()
    notes = Session().scalars(select(Notification).where(Notification.kind == "reminder")).all()
    assert [(n.user.username, n.link) for n in notes] == [("jaadmin01", f"/tasks/{open_task(instance).id}")]
    assert instance.title in notes[0].title


def test_system_started_processes_are_neither_listed_nor_startable_by_people(people):
    assert "permission_check" not in {p["key"] for p in processes.list_processes()}
    with pytest.raises(NotAuthorized):
        processes.start_instance(people("jaadmin01"), "permission_check")
    assert processes.start_instance(people("jaadmin01"), "permission_check", by_system=True).status == "running"


def test_a_draft_keeps_the_answers_without_moving_on(people):
    instance = processes.start_instance(people("jahosp001"), "generic_request")
    draft = open_task(instance)
    processes.save_draft(people("jahosp001"), draft.id, {"title": "草稿标题", "unknown": 1})
    assert processes.task_data(open_task(instance))["title"] == "草稿标题"
    assert "unknown" not in processes.task_data(open_task(instance))
    assert open_task(instance).id == draft.id and instance.title == "草稿标题"
    with pytest.raises(NotAuthorized):
        processes.save_draft(people("jaadmin01"), draft.id, {"title": "x"})
    processes.complete_task(people("jahosp001"), draft.id, SUBMIT)
    assert open_task(instance).bpmn_id == "review"
