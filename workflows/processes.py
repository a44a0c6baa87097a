"""Process services: start, claim, release, reassign, complete, retry, fire timers.

One step = one unit of work: lock the instance row, load the workflow, act, run the engine to the next wait
state (handlers run here), sync the ``HumanTask`` index, write the timeline and the audit log, save the state.
The step runs in a savepoint: if a handler or script raises, everything the step did is undone and the
instance is marked ``error`` with the failed step kept for a retry. The caller commits.
"""
import re
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from models import Session, utcnow
from models.accounts import User
from models.workflow import HumanTask, InstanceStatus, ProcessInstance, ProcessSpec, TaskStatus
from workflows import audit, engine, files, forms, inbox, lanes, settings
from workflows.clock import iso
from workflows.errors import Conflict, DomainError, InvalidInput, NotAuthorized, NotFound
from workflows.handlers import StepContext
from workflows.jurisdiction import is_business_admin, is_system_admin

_registry = None


def registry():
    global _registry
    if _registry is None:
        _registry = engine.load_registry()
    return _registry


def init_registry(directory=None):
    """Parse and validate every BPMN file now (start-up): a broken file raises ``engine.BpmnError``."""
    global _registry
    _registry = engine.load_registry(directory) if directory else engine.load_registry()
    return _registry


def definition(key):
    try:
        return registry()[key]
    except KeyError:
        raise NotFound("未找到该流程") from None


def ensure_spec(defn):
    """The stored version of ``defn``: each content hash is stored once; a new hash is the next version."""
    row = Session().scalars(select(ProcessSpec).where(ProcessSpec.content_hash == defn.content_hash)).one_or_none()
    if row is None:
        latest = Session().scalar(select(func.max(ProcessSpec.version)).where(ProcessSpec.process_key == defn.key))
        row = ProcessSpec(process_key=defn.key, name=defn.name, version=(latest or 0) + 1,
                          content_hash=defn.content_hash, bpmn_xml=defn.bpmn_xml, spec_json=defn.spec_json,
                          forms=defn.forms)
        Session().add(row)
        Session().flush()
    return row


def startable_processes():
    """The processes people start themselves (the others are started by the system)."""
    return [d for d in registry().values() if d.startable]


def list_processes():
    return [{"key": d.key, "name": d.name, "version": ensure_spec(d).version} for d in startable_processes()]


class TaskNotReady(DomainError):
    code = "task_not_ready"
    status = 409
    message = "该任务已被处理"


# --- loading and eligibility -------------------------------------------------------------------------------

def _lock_instance(instance_id):
    instance = Session().scalars(select(ProcessInstance).where(ProcessInstance.id == instance_id)
                                 .with_for_update().execution_options(populate_existing=True)).one_or_none()
    if instance is None:
        raise NotFound()
    return instance


def get_instance(actor, instance_id):
    instance = Session().get(ProcessInstance, instance_id)
    if instance is None or not inbox.can_see_instance(actor, instance):
        raise NotFound(audit=("read", "process_instance", instance_id) if instance else None)
    return instance


def get_instance_of(actor, instance_id, process_key):
    """An instance of ``process_key`` the actor may see, else 404."""
    instance = get_instance(actor, instance_id)
    if instance.process_key != process_key:
        raise NotFound()
    return instance


def instances_page(actor, process_key, view, page=1, per_page=20):
    """One page of a process's instances the actor may list, newest first, each shown by ``view``: all for the
    system administrator, the region subtree for a business admin, its own requests for anyone else."""
    query = select(ProcessInstance).where(ProcessInstance.process_key == process_key) \
        .order_by(ProcessInstance.id.desc())
    if is_system_admin(actor):
        pass
    elif is_business_admin(actor):
        query = query.where(ProcessInstance.region_path.startswith(actor.org.region.path, autoescape=True))
    else:
        query = query.where(ProcessInstance.started_by_id == actor.id)
    total = Session().scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = Session().scalars(query.limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return [view(r) for r in rows], total


def get_task(actor, task_id):
    task = Session().get(HumanTask, task_id)
    if task is None or not inbox.can_see_task(actor, task):
        raise NotFound(audit=("read", "human_task", task_id) if task else None)
    return task


_FORMS = {}   # (spec content hash, form, UI form) -> FormDefinition: a stored spec version never changes


def task_form(task):
    """The form of a task, from the forms stored with the instance's own process version (checked against the
    metaschema once per version: the forms are shared and must not be modified)."""
    spec = task.instance.spec
    if not task.form or task.form not in spec.forms:
        return None
    key = (spec.content_hash, task.form, task.ui_form)
    if key not in _FORMS:
        _FORMS[key] = forms.form_from_dicts(task.form, spec.forms[task.form], spec.forms.get(task.ui_form) or {})
    return _FORMS[key]


# --- the step --------------------------------------------------------------------------------------------

_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


def _duration(text):
    match = _DURATION.match(text or "")
    if not match or not any(match.groups()):
        return None
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def _sync_tasks(instance, flow, now):
    """Index new ready user tasks; mark indexed tasks the engine no longer offers as cancelled."""
    ready = {t.guid: t for t in flow.ready_user_tasks()}
    indexed = {row.task_guid: row for row in Session().scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == TaskStatus.READY))}
    for guid, row in indexed.items():
        if guid not in ready:
            row.state = TaskStatus.CANCELLED
    for guid, info in ready.items():
        if guid in indexed:
            continue
        due = _duration(info.due_in)
        org = lanes.candidate_org(info.lane, instance)
        Session().add(HumanTask(
            instance_id=instance.id, task_guid=guid, bpmn_id=info.bpmn_id, name=info.name, lane=info.lane,
            candidate_org_id=org.id, process_key=instance.process_key, initiator_id=instance.started_by_id,
            form=info.form, ui_form=info.ui, assignee_id=lanes.assignee_id(info.lane, instance, info.data),
            due_at=now + due if due else None, created_at=now))


def _save(instance, flow, now):
    instance.state, instance.serializer_version = flow.dump()
    instance.next_timer_at = flow.next_timer()
    instance.updated_at = now
    if flow.completed and instance.status == InstanceStatus.RUNNING:
        instance.status = InstanceStatus.COMPLETED
        instance.completed_at = now
        StepContext(instance, None).event("completed")
    _sync_tasks(instance, flow, now)
    Session().flush()


def _run_step(instance, actor, step, action):
    """Run ``action(flow, ctx)`` as one step; on failure undo it and mark the instance ``error``."""
    now = utcnow()
    ctx = StepContext(instance, actor)
    savepoint = Session().begin_nested()
    try:
        flow = engine.Workflow.load(instance.spec.spec_json, instance.state, instance.serializer_version, ctx)
        action(flow, ctx)
        _save(instance, flow, now)
        savepoint.commit()
    except (engine.StepFailed, lanes.LaneError) as exc:
        # LaneError: the data names nobody who may hold a new task of a named lane; the step fails like a handler
        savepoint.rollback()
        instance = _lock_instance(instance.id)
        instance.status = InstanceStatus.ERROR
        instance.error_message = str(exc)[:2000]
        instance.failed_step = step
        StepContext(instance, actor).event("error", actor_id=actor.id if actor else None,
                                           actor_name=actor.username if actor else "system",
                                           detail={"step": step.get("kind"), "message": str(exc)[:500]})
        audit.record("process_error", actor=actor, target=instance, outcome="failure",
                     target_name=f"{instance.process_key}#{instance.id}", detail={"message": str(exc)[:500]})
        Session().flush()
    except StaleDataError:
        savepoint.rollback()
        raise Conflict() from None
    return instance


def start_instance(actor, key, data=None, *, by_system=False):
    """Start ``key`` for ``actor``'s organization. With ``data``, the first (applicant) task is submitted in
    the same step; without, it waits as a draft in the applicant's inbox. Processes marked as started by the
    system need ``by_system`` (the scheduler), and are refused to people."""
    defn = definition(key)
    if not defn.startable and not by_system:
        raise NotAuthorized("该流程由系统自动发起，不能手动发起")
    if actor.org is None:
        raise NotAuthorized("系统管理员账号不能发起业务申请")
    spec = ensure_spec(defn)
    now = utcnow()
    instance = ProcessInstance(process_key=key, spec=spec, title=defn.name, started_by_id=actor.id,
                               org_id=actor.org_id, region_path=actor.org.region.path, state="{}",
                               serializer_version=engine.SERIALIZER_VERSION, created_at=now, updated_at=now)
    Session().add(instance)
    Session().flush()
    ctx = StepContext(instance, actor)
    flow = engine.Workflow.start(spec.spec_json, {"reminder_after": settings.current().review_reminder}, ctx)
    ctx.event("started", actor_id=actor.id, actor_name=actor.username)
    _save(instance, flow, now)
    audit.record("process_start", actor=actor, target=instance, target_name=f"{key}#{instance.id}")
    if data:
        first = Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                           HumanTask.state == TaskStatus.READY)).first()
        if first is None or first.lane != "applicant":
            raise InvalidInput("该流程启动后没有需要申请人填写的表单", code="no_start_form")
        complete_task(actor, first.id, data)
    return instance


def claim_task(actor, task_id):
    task = _locked_ready_task(actor, task_id)
    if task.assignee_id is not None:
        raise TaskNotReady("该任务已被他人认领", assignee=task.assignee.username if task.assignee else None)
    if not inbox.can_claim(actor, task):
        raise NotAuthorized("您不能认领该任务", audit=("task_claim", "human_task", task.id))
    task.assignee = actor
    Session().flush()
    StepContext(task.instance, actor).event("claimed", actor_id=actor.id, actor_name=actor.username,
                                            task_guid=task.task_guid, bpmn_id=task.bpmn_id, task_name=task.name)
    return task


def release_task(actor, task_id):
    task = _locked_ready_task(actor, task_id)
    _refuse_named(task, "task_release")
    if task.assignee_id != actor.id or task.lane == "applicant":
        raise NotAuthorized("只能退回自己认领的审核任务", audit=("task_release", "human_task", task.id))
    task.assignee = None
    Session().flush()
    StepContext(task.instance, actor).event("released", actor_id=actor.id, actor_name=actor.username,
                                            task_guid=task.task_guid, bpmn_id=task.bpmn_id, task_name=task.name)
    return task


def reassign_task(actor, task_id, username):
    """Hand a task to another eligible member of the same candidate organization (转办). Its holder or a
    candidate may; an administrator of the instance's region may take a task back from a holder who can no
    longer act (locked, disabled or deleted)."""
    task = _locked_ready_task(actor, task_id)
    _refuse_named(task, "task_reassign")
    holder = task.assignee_id == actor.id or (task.assignee_id is None and inbox.can_claim(actor, task))
    stranded = task.assignee is not None and (not task.assignee.is_active or task.assignee.is_locked(utcnow()))
    if not (holder or (stranded and task.lane != "applicant" and inbox.can_administer(actor, task.instance))):
        raise NotAuthorized("您不能转办该任务", audit=("task_reassign", "human_task", task.id))
    target = Session().scalars(select(User).where(User.username == (username or "").strip().lower())).one_or_none()
    if target is None or not inbox.can_claim(target, task):
        raise InvalidInput(fields={"username": ["该用户不能处理此任务（须为同一单位、具备相应角色且不是申请人）"]})
    task.assignee = target
    Session().flush()
    StepContext(task.instance, actor).event("reassigned", actor_id=actor.id, actor_name=actor.username,
                                            task_guid=task.task_guid, bpmn_id=task.bpmn_id, task_name=task.name,
                                            detail={"to": target.username})
    return task


def _refuse_named(task, action):
    """A task of a named lane belongs to its named person: nobody gives it back or hands it on."""
    if task.lane != "applicant" and lanes.lane(task.lane).assignee_key:
        raise NotAuthorized("该任务指定由本人办理，不能放回或转办", audit=(action, "human_task", task.id))


def _locked_ready_task(actor, task_id):
    """The task, re-read under the instance lock, still open; else ``TaskNotReady`` (409)."""
    task = get_task(actor, task_id)
    _lock_instance(task.instance_id)
    Session().refresh(task)
    _require_ready(task)
    return task


def _require_ready(task):
    if task.state != TaskStatus.READY:
        raise TaskNotReady(completed_by=task.completed_by.username if task.completed_by else None,
                           completed_at=task.completed_at.isoformat().replace("+00:00", "Z")
                           if task.completed_at else None)
    if task.instance.status == InstanceStatus.ERROR:
        raise Conflict("该流程处理异常，请等待管理员处理后再试", code="instance_error")


def complete_task(actor, task_id, data):
    """Validate ``data`` against the task's form and complete the task as one step. File fields must name
    the actor's own uploads that no other instance uses."""
    task = get_task(actor, task_id)
    instance = _lock_instance(task.instance_id)
    Session().refresh(task)
    _require_ready(task)
    if not inbox.can_act(actor, task):
        raise NotAuthorized("您不能处理该任务", audit=("task_complete", "human_task", task.id))
    form = task_form(task)
    cleaned = forms.validate(form, data or {}, file_exists=files.file_exists_for(actor, instance)) if form else {}
    if form:   # every field of the form is written, so no answer of an earlier round lingers in the data
        cleaned = {name: cleaned.get(name) for name in form.schema.get("properties", {})}
    if task.assignee_id is None:
        task.assignee = actor
    return _complete(instance, task, actor, cleaned, forms.file_ids(form, cleaned) if form else [])


def save_draft(actor, task_id, data):
    """Keep the applicant's unfinished answers on its open task (保存草稿); nothing is validated but the
    shape, nothing moves on. Only the task's own holder saves drafts."""
    task = _locked_ready_task(actor, task_id)
    if task.assignee_id != actor.id or task.lane != "applicant":
        raise NotAuthorized("只能保存自己的申请草稿", audit=("task_draft", "human_task", task.id))
    form = task_form(task)
    if not isinstance(data, dict):
        raise InvalidInput("表单数据格式不正确")
    values = {k: v for k, v in data.items() if form is None or k in form.schema.get("properties", {})}
    instance = task.instance
    flow = load_flow(instance)
    flow.save_draft(task.task_guid, values)
    instance.state, instance.serializer_version = flow.dump()
    if values.get("title"):
        instance.title = str(values["title"])[:200]
    StepContext(instance, actor).event("draft_saved", actor_id=actor.id, actor_name=actor.username,
                                       task_guid=task.task_guid, bpmn_id=task.bpmn_id, task_name=task.name)
    Session().flush()
    return instance


def _complete(instance, task, actor, cleaned, attached=()):
    step = {"kind": "complete", "task_id": task.id, "actor_id": actor.id, "data": cleaned,
            "attached": list(attached)}

    def action(flow, ctx):
        files.link_to_instance(attached, instance)
        now = utcnow()
        task.state, task.completed_at, task.completed_by_id = TaskStatus.COMPLETED, now, actor.id
        task.outcome = cleaned.get("decision") or ("submitted" if task.lane == "applicant" else "done")
        task.comment = cleaned.get("comment")
        ctx.event("task_completed", actor_id=actor.id, actor_name=actor.username, task_guid=task.task_guid,
                  bpmn_id=task.bpmn_id, task_name=task.name, outcome=task.outcome, comment=task.comment)
        flow.complete(task.task_guid, cleaned)
        audit.record("task_complete", actor=actor, target=instance,
                     target_name=f"{instance.process_key}#{instance.id}",
                     detail={"task": task.bpmn_id, "outcome": task.outcome})
        if task.lane == "applicant" and cleaned.get("title"):
            instance.title = str(cleaned["title"])[:200]
    return _run_step(instance, actor, step, action)


def retry_instance(actor, instance_id):
    """Re-run the failed step of an instance in error (administrators of its jurisdiction)."""
    instance = get_instance(actor, instance_id)
    if not inbox.can_administer(actor, instance):
        raise NotAuthorized("只有管理员可以重试", audit=("process_retry", "process_instance", instance.id))
    instance = _lock_instance(instance.id)
    if instance.status != InstanceStatus.ERROR:
        raise Conflict("该流程没有需要重试的步骤", code="not_in_error")
    step = instance.failed_step or {}
    instance.status, instance.error_message, instance.failed_step = InstanceStatus.RUNNING, None, None
    StepContext(instance, actor).event("retried", actor_id=actor.id, actor_name=actor.username)
    audit.record("process_retry", actor=actor, target=instance, target_name=f"{instance.process_key}#{instance.id}")
    if step.get("kind") == "complete":
        task = Session().get(HumanTask, step["task_id"])
        original = Session().get(User, step["actor_id"])
        return _complete(instance, task, original, step["data"], step.get("attached", ()))
    return _run_step(instance, actor, {"kind": "timers"}, lambda flow, ctx: flow.fire_timers())


def fire_due_timers(now=None, limit=200):
    """Fire the timers of every running instance whose earliest timer has passed (the engine fires a timer
    strictly after its time). Returns how many instances were stepped."""
    now = now or utcnow()
    ids = Session().scalars(select(ProcessInstance.id).where(
        ProcessInstance.status == InstanceStatus.RUNNING, ProcessInstance.next_timer_at < now)
        .order_by(ProcessInstance.next_timer_at).limit(limit)).all()
    for instance_id in ids:
        instance = _lock_instance(instance_id)
        if instance.status != InstanceStatus.RUNNING or not instance.next_timer_at or instance.next_timer_at >= now:
            continue
        _run_step(instance, None, {"kind": "timers"}, lambda flow, ctx: flow.fire_timers())
    return len(ids)



# --- plain views of instances and tasks for the pages and the API -------------------------------------------

def task_summary(task):
    return {"id": task.id, "instance_id": task.instance_id, "process_key": task.process_key,
            "name": task.bpmn_id, "title": task.name, "lane": task.lane,
            "lane_label": lanes.LANES[task.lane].label if task.lane in lanes.LANES else task.lane,
            "assignee": task.assignee.username if task.assignee else None, "state": task.state,
            "instance_title": task.instance.title, "org": task.instance.org.name,
            "created_at": iso(task.created_at), "due_at": iso(task.due_at),
            "completed_at": iso(task.completed_at),
            "completed_by": task.completed_by.username if task.completed_by else None,
            "outcome": task.outcome, "comment": task.comment}


def history(instance):
    from models.workflow import ProcessEvent
    events = Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id)
                               .order_by(ProcessEvent.at, ProcessEvent.id)).all()
    return [{"at": iso(e.at), "kind": e.kind, "actor": e.actor_name, "task": e.task_name, "bpmn_id": e.bpmn_id,
             "outcome": e.outcome, "comment": e.comment, "detail": e.detail or {}} for e in events]


def instance_view(actor, instance):
    body = {"id": instance.id, "process_key": instance.process_key, "process_name": instance.spec.name,
            "version": instance.spec.version, "title": instance.title, "status": instance.status,
            "status_label": instance.status_label, "org": instance.org.name,
            "started_by": instance.started_by.username, "created_at": iso(instance.created_at),
            "completed_at": iso(instance.completed_at),
            "tasks": [task_summary(t) for t in open_tasks(instance)], "history": history(instance)}
    if instance.status == InstanceStatus.ERROR and inbox.can_administer(actor, instance):
        body["error_message"] = instance.error_message
    return body


def load_flow(instance):
    return engine.Workflow.load(instance.spec.spec_json, instance.state, instance.serializer_version)


def task_data(task):
    """The values a task's form starts with. The applicant's form shows its previous answers (resubmission
    after a return); every other round starts blank, so nobody re-sends an earlier round's decision."""
    if task.state != TaskStatus.READY or task.lane != "applicant":
        return {}
    return load_flow(task.instance).task_data(task.task_guid)


def diagram_svg(instance):
    from workflows import diagram
    completed, current = load_flow(instance).highlights() if instance.status != InstanceStatus.COMPLETED \
        else (load_flow(instance).highlights()[0], set())
    return diagram.render_svg(instance.spec.bpmn_xml, completed=completed, current=current,
                              lane_labels=lanes.labels())


def start_form(key):
    """The form shown before an instance exists (the first applicant task of the newest version)."""
    defn = definition(key)
    first = engine.first_user_task(defn.spec_json)
    if first is None or first.lane != "applicant" or not first.form:
        return None
    return forms.form_from_dicts(first.form, defn.forms[first.form], defn.forms.get(first.ui) or {})


def can_read_file(actor, attachment):
    """The owner, and whoever may see the instance the file belongs to."""
    if attachment.owner_id == actor.id:
        return True
    if attachment.instance_id is None:
        return False
    return inbox.can_see_instance(actor, Session().get(ProcessInstance, attachment.instance_id))


def latest_data(instance):
    return load_flow(instance).latest_data()


def open_tasks(instance):
    return Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.state == TaskStatus.READY)).all()
