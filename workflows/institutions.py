"""Institution information (机构信息维护) and the request to change its core fields (机构信息修改, Hubei §3.1
说明1).

The core fields (主体信息) are read-only for the institution; they change only through an approved
``institution_change`` request, reviewed by the business admins of the supervising health commission.

What a request may change: 单位名称 (``name``), 统一社会信用代码 (``uscc``), 医疗机构执业许可证登记号
(``licence_no``) and 申请单位所属类别 (``category``). 单位业务主管部门 is the supervisor relation: it decides the
jurisdiction and who reviews the request, so it is not changeable by request; administrators change it.

The rules, checked here before anything is submitted or completed (so the answer is a clear refusal and nothing
is written), and checked again inside the engine step that applies the change:
- one open request per organization (running, or stopped in error);
- the proposal must differ from the current values, and a new credit code must not belong to another
  organization;
- supporting files are PDF or JPG;
- each submission records a snapshot of the core fields and the organization's version (``snapshot_institution``
  in the BPMN); an approval is refused (409 ``stale_request``) when the core fields no longer match that
  snapshot. Only the core fields are compared, so an unrelated update of the organization row (which also bumps
  its version) does not block a request. The reviewer can then only return the request, and the applicant
  resubmits on the current values (with a fresh snapshot).
"""
from sqlalchemy import select

from models import Session
from models.orgs import Organization, OrgStatus
from models.workflow import HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from workflows import audit, files, forms, inbox, roles
from workflows.errors import Conflict, InvalidInput, NotAuthorized, NotFound

PROCESS_KEY = "institution_change"
VIEW_PERMISSION, CHANGE_PERMISSION = "org.info", "org.info.change"
CORE_FIELDS = (("name", "单位名称"), ("uscc", "统一社会信用代码"), ("licence_no", "医疗机构执业许可证登记号"),
               ("supervisor", "单位业务主管部门"), ("category", "申请单位所属类别"))
LABELS = dict(CORE_FIELDS)
CHANGEABLE = ("name", "uscc", "licence_no", "category")
COMPARED = ("name", "uscc", "licence_no", "category", "supervisor_id")   # a change of any of these is a conflict
EVIDENCE_FIELDS = ("evidence", "evidence_extra")
EVIDENCE_KINDS = ("application/pdf", "image/jpeg")
OPEN_STATUSES = (InstanceStatus.RUNNING, InstanceStatus.ERROR)
REVIEW_TASK = "review"


class StaleRequest(Conflict):
    code = "stale_request"
    message = ("该单位的主体信息在申请提交后已被修改，不能按原申请通过。"
               "请选择“退回”，由申请单位按当前信息重新提交。")


class RequestOpen(Conflict):
    code = "request_open"
    message = "本单位已有一项机构信息修改申请正在办理，办结后才能再次申请"


# --- reading ------------------------------------------------------------------------------------------------

def core_values(org):
    return {"name": org.name, "uscc": org.uscc, "licence_no": org.licence_no, "category": org.category,
            "supervisor_id": org.supervisor_id, "supervisor": org.supervisor.name if org.supervisor else None}


def take_snapshot(org):
    """The core fields and the version of ``org`` as they stand now (recorded at each submission)."""
    return {**core_values(org), "version": org.version}


def changed_since(org, snapshot):
    """Labels of the core fields that no longer match ``snapshot`` (empty: the request is current)."""
    if not snapshot:
        return [LABELS[f] for f in CHANGEABLE]
    current = core_values(org)
    return [LABELS["supervisor" if f == "supervisor_id" else f] for f in COMPARED if current[f] != snapshot.get(f)]


def proposal_of(data):
    """The proposed core values in a submission (an empty licence number means none)."""
    return {"name": data.get("name"), "uscc": data.get("uscc"), "licence_no": data.get("licence_no") or None,
            "category": data.get("category")}


def uscc_in_use(uscc, org_id):
    """Another organization holding ``uscc``, or None."""
    return Session().scalars(select(Organization).where(Organization.uscc == uscc,
                                                        Organization.id != org_id)).first()


def open_request(org):
    return Session().scalars(select(ProcessInstance).where(
        ProcessInstance.process_key == PROCESS_KEY, ProcessInstance.org_id == org.id,
        ProcessInstance.status.in_([str(s) for s in OPEN_STATUSES])).order_by(ProcessInstance.id)).first()


def _own_org(actor):
    if actor.org is None:
        raise NotFound("系统管理员账号不属于任何单位，没有机构信息")
    return actor.org


def _lock(org):
    """Re-read ``org`` under a row lock: the check and the write that follows see the same record."""
    return Session().scalars(select(Organization).where(Organization.id == org.id).with_for_update()
                             .execution_options(populate_existing=True)).one()


def change_refusal(actor, org):
    """Why ``actor`` cannot request a change of ``org``'s core fields now (a Chinese sentence), or None."""
    if CHANGE_PERMISSION not in roles.permissions_of(actor):
        return "您没有“机构信息修改申请”权限"
    if org.status != OrgStatus.ACTIVE:
        return "本单位已注销，不能申请修改主体信息"
    if org.supervisor_id is None:
        return "本单位没有上级主管部门，主体信息由系统管理员维护"
    if open_request(org) is not None:
        return RequestOpen.message
    return None


def _request_row(actor, instance):
    return {"id": instance.id, "status": instance.status, "status_label": instance.status_label,
            "created_at": instance.created_at, "completed_at": instance.completed_at,
            "started_by": instance.started_by.username, "visible": inbox.can_see_instance(actor, instance)}


def institution_view(actor):
    """The actor's own organization as the 机构信息维护 page and the API show it."""
    if VIEW_PERMISSION not in roles.permissions_of(actor):
        raise NotAuthorized(audit=("read", "organization", actor.org_id))
    org = _own_org(actor)
    pending = open_request(org)
    recent = Session().scalars(select(ProcessInstance).where(
        ProcessInstance.process_key == PROCESS_KEY, ProcessInstance.org_id == org.id)
        .order_by(ProcessInstance.id.desc()).limit(10)).all()
    refusal = change_refusal(actor, org)
    current = core_values(org)
    return {
        "id": org.id, "name": org.name, "uscc": org.uscc, "licence_no": org.licence_no, "category": org.category,
        "supervisor": {"id": org.supervisor.id, "name": org.supervisor.name} if org.supervisor else None,
        "kind": org.kind, "kind_label": org.kind_label,
        "region": {"code": org.region_code, "name": _region_name(org.region)},
        "status": org.status, "version": org.version, "updated_at": org.updated_at,
        "core": [(key, label, current[key]) for key, label in CORE_FIELDS],
        "open_request": _request_row(actor, pending) if pending else None,
        "can_request_change": refusal is None,
        "change_refusal": None if refusal == RequestOpen.message else refusal,
        "requests": [_request_row(actor, i) for i in recent],
    }


def _region_name(region):
    names = []
    while region is not None:
        names.append(region.name)
        region = region.parent
    return "".join(reversed(names))


# --- checks before anything is written ---------------------------------------------------------------------

def check_proposal(org, cleaned):
    """Refuse a submission that changes nothing, takes another organization's credit code or attaches a file
    that is not PDF or JPG."""
    proposed, current = proposal_of(cleaned), core_values(org)
    if all(proposed[f] == current[f] for f in CHANGEABLE):
        raise InvalidInput("申请修改的内容与当前主体信息相同，请至少修改一项", code="no_change")
    if proposed["uscc"] != current["uscc"] and uscc_in_use(proposed["uscc"], org.id) is not None:
        raise InvalidInput("该统一社会信用代码已被其他单位使用", code="uscc_taken",
                           fields={"uscc": ["该统一社会信用代码已被其他单位使用，请核对"]})
    for field in EVIDENCE_FIELDS:
        attachment = files.get_attachment(cleaned.get(field))
        if attachment is not None and attachment.content_type not in EVIDENCE_KINDS:
            raise InvalidInput("证明材料只接受 PDF 或 JPG 文件", code="evidence_type",
                               fields={field: ["只接受 PDF 或 JPG 文件"]})


def check_start(actor, data=None):
    """Everything a new request must satisfy; returns the cleaned submission (None for an empty draft).
    Locks the organization row, so two requests started at once cannot both pass."""
    from workflows import processes
    org = _own_org(actor)
    if CHANGE_PERMISSION not in roles.permissions_of(actor):
        raise NotAuthorized("您没有“机构信息修改申请”权限", audit=("institution_change_start", "organization", org.id))
    org = _lock(org)
    pending = open_request(org)
    if pending is not None:
        raise RequestOpen(instance_id=pending.id)
    refusal = change_refusal(actor, org)
    if refusal:
        raise NotAuthorized(refusal, audit=("institution_change_start", "organization", org.id))
    if not data:
        return None
    form = processes.start_form(PROCESS_KEY)
    cleaned = forms.validate(form, data, file_exists=files.file_exists_for(actor))
    check_proposal(org, cleaned)
    return cleaned


def check_completion(actor, task_id, data):
    """Before an ``institution_change`` task is completed: a resubmission must pass the start rules, and an
    approval must not apply stale values. Other tasks, and tasks the actor may not act on, are left to the
    generic service (which answers 404, 403 or 409 itself)."""
    from workflows import processes
    task = processes.get_task(actor, task_id)
    if task.process_key != PROCESS_KEY or task.state != TaskStatus.READY or not inbox.can_act(actor, task):
        return task
    data = data if isinstance(data, dict) else {}
    org = _lock(task.instance.org)
    if task.lane == "applicant":
        if CHANGE_PERMISSION not in roles.permissions_of(actor):
            raise NotAuthorized("您没有“机构信息修改申请”权限", audit=("task_complete", "human_task", task.id))
        cleaned = forms.validate(processes.task_form(task), data,
                                 file_exists=files.file_exists_for(actor, task.instance))
        check_proposal(org, cleaned)
    elif task.bpmn_id == REVIEW_TASK and data.get("decision") == "approve":
        request = _request_data(task.instance, task)
        stale = changed_since(org, request.get("snapshot"))
        if stale:
            raise StaleRequest(fields=stale)
        proposed = proposal_of(request)
        if proposed["uscc"] != org.uscc and uscc_in_use(proposed["uscc"], org.id) is not None:
            raise Conflict("申请的统一社会信用代码已被其他单位使用，不能通过，请退回", code="uscc_taken")
    return task


# --- the services the pages and the API call ---------------------------------------------------------------

def start_change(actor, data):
    """Start and submit a request in one step (the 机构信息修改 page)."""
    from workflows import processes
    cleaned = check_start(actor, data or {})
    if cleaned is None:
        raise InvalidInput("请填写修改申请", code="invalid_input")
    return processes.start_instance(actor, PROCESS_KEY, cleaned)


def complete(actor, task_id, data):
    """Resubmit or review a request: the checks above, then the generic completion in the same transaction."""
    from workflows import processes
    check_completion(actor, task_id, data)
    return processes.complete_task(actor, task_id, data)


def _request_data(instance, task=None):
    """The request's data: as the open ``task`` sees it, else as the last completed step left it."""
    from workflows import processes
    flow = processes.load_flow(instance)
    if task is not None and task.state == TaskStatus.READY:
        return flow.task_data(task.task_guid)
    return flow.latest_data()


def change_view(instance, task=None):
    """Old and new values side by side for the task pages; ``stale`` lists the core fields changed since the
    submission when ``task`` is the open review."""
    data = _request_data(instance, task)
    org = instance.org
    snapshot = data.get("snapshot") or take_snapshot(org)   # a draft not yet submitted has none
    proposed = proposal_of(data) if data.get("name") else snapshot
    current = core_values(org)
    rows = []
    for key, label in CORE_FIELDS:
        old = snapshot.get(key)
        new = old if key == "supervisor" else proposed.get(key)
        rows.append({"field": key, "label": label, "old": old, "new": new, "current": current[key],
                     "changed": old != new, "changeable": key in CHANGEABLE})
    reviewing = (task is not None and task.state == TaskStatus.READY and task.bpmn_id == REVIEW_TASK
                 and instance.status == InstanceStatus.RUNNING)
    evidence = [a for a in (files.get_attachment(data.get(f)) for f in EVIDENCE_FIELDS) if a is not None]
    result = data.get("apply_result") or {}
    return {"rows": rows, "stale": changed_since(org, data.get("snapshot")) if reviewing else [],
            "reason": data.get("reason"), "evidence": evidence, "snapshot_version": snapshot.get("version"),
            "current_version": org.version, "applied": bool(result.get("applied")),
            "not_applied": result.get("reason") if result and not result.get("applied") else None}


def last_return(instance):
    """The reviewer's opinion of the latest 退回, for the resubmission page."""
    task = Session().scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.bpmn_id == REVIEW_TASK, HumanTask.outcome == "reject")
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())).first()
    return {"by": task.completed_by.username if task.completed_by else None, "at": task.completed_at,
            "comment": task.comment} if task else None


# --- the engine step ---------------------------------------------------------------------------------------

def record_snapshot(instance):
    """At each submission: the current core fields and version, kept with the request (the handler's result)."""
    org = instance.org
    instance.title = f"机构信息修改：{org.name}"[:200]
    return take_snapshot(org)


def apply_change(instance, actor, proposed, snapshot):
    """Write the approved values, in the reviewer's step. Under a row lock the core fields are compared with
    the snapshot again: a stale request or a credit code taken meanwhile applies nothing and says why. Each
    changed field is audited with its old and new value; the organization's version goes up by one."""
    org = _lock(instance.org)
    stale = changed_since(org, snapshot)
    if stale:
        return {"applied": False, "reason": "stale", "fields": stale}
    new = proposal_of(proposed)
    if new["uscc"] != org.uscc and uscc_in_use(new["uscc"], org.id) is not None:
        return {"applied": False, "reason": "uscc_taken", "fields": [LABELS["uscc"]]}
    changes = []
    for field in CHANGEABLE:
        old = getattr(org, field)
        if new[field] != old:
            setattr(org, field, new[field])
            changes.append({"field": field, "label": LABELS[field], "old": old, "new": new[field]})
    Session().flush()
    for change in changes:
        audit.record("institution_change", actor=actor, target=org, target_name=org.name,
                     detail={**change, "instance_id": instance.id, "version": org.version})
    return {"applied": True, "changes": changes, "version": org.version}

