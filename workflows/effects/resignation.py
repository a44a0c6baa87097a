"""The resignation process 员工离职 (Hubei §4.4): the services behind the 员工离职 pages and API, and the
service-task handlers of ``bpmn/resignation.bpmn``.

A resignation record is one ``resignation`` process instance of the institution. Its status comes from the
instance and its task rows: 草稿 while the applicant's task is open, 待审核 while the review is open, then
已通过 or 未通过 by the review's outcome. Its values (staff number, type, date, note) live in the workflow data;
``business_key`` holds ``staff-<id>`` of the employee, so "one open resignation per employee" is one indexed
question, and the title names the employee for the inboxes.

The rules are checked by the services before anything moves (clear 422 answers for the pages and the API) and
again by the ``resignation_check`` handler inside the submitting step, so a submission through the generic task
pages or the generic task API obeys them too (a failed check returns the draft to the applicant with the
reason):
- only members holding 员工离职 (``hr.personnel.resign``) create, edit and submit, and only for their own
  institution's active staff;
- one open resignation (a draft, one waiting for review, or one stuck in error) per employee;
- the initiator never reviews its own request, so a resignation is accepted only when somebody other than the
  initiator can review it: the master account, or another member holding 离职审核. A master account whose
  institution has no such sub-account is asked to grant 离职审核 to one first.

Passing (``resignation_apply``, in the step's transaction): the staff record is marked left on the date, every
account linked to it (``users.staff_id``) is locked with reason ``resigned`` and its sessions and tokens end,
all audited; the ID number is then free to be registered at another institution. Failing
(``resignation_withdraw``): the resignation is withdrawn, the employee stays active, and the applicant is told
the reviewer's opinion.

``workflows.processes`` is imported inside the functions: the engine imports this package while it loads.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, exists, func, select

from models import Session, utcnow
from models.accounts import LockReason, User, UserStatus, UserType
from models.orgs import EmploymentStatus, Staff
from models.workflow import HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from workflows import audit, auth, forms, inbox, lanes, notifications, roles
from workflows import staff as staff_service
from workflows.errors import Conflict, InvalidInput, NotAuthorized, NotFound
from workflows.handlers import handler

KEY = "resignation"
REVIEW = "review"
SUBMIT_FORM, SUBMIT_UI = "resignation_submit.schema.json", "resignation_submit.uischema.json"
TYPES = ("辞职", "辞退", "调出", "退休", "死亡", "其他")
RESIGN, RESIGN_REVIEW = "hr.personnel.resign", "hr.personnel.resign_review"
REVIEWER_LANE = "institution_reviewer"
STATUS_LABELS = {"draft": "草稿", "pending": "待审核", "passed": "已通过", "failed": "未通过",
                 "error": "处理异常", "cancelled": "已撤销"}
LIST_STATUSES = ("draft", "pending", "passed", "failed")
OPEN = (InstanceStatus.RUNNING, InstanceStatus.ERROR)


def staff_key(staff_id):
    return f"staff-{staff_id}"


# --- who may ------------------------------------------------------------------------------------------------

def can_initiate(actor):
    return actor.org_id is not None and RESIGN in roles.permissions_of(actor)


def can_view(actor):
    """Members of the institution who file or review resignations see all of its records."""
    if actor.org_id is None:
        return False
    return bool({RESIGN, RESIGN_REVIEW} & roles.permissions_of(actor)) or lanes.qualifies(actor, REVIEWER_LANE,
                                                                                          actor.org_id)


def _require_initiator(actor, action, target_type="organization", target_id=None):
    if not can_initiate(actor):
        raise NotAuthorized("您没有“员工离职”权限", audit=(action, target_type, target_id or actor.org_id))


def reviewers(org_id, initiator_id):
    """Who could review a resignation of ``org_id`` started by ``initiator_id`` (never the initiator)."""
    members = Session().scalars(select(User).where(User.org_id == org_id, User.status == UserStatus.ACTIVE,
                                                   User.id != initiator_id)).all()
    return [u for u in members if lanes.qualifies(u, REVIEWER_LANE, org_id)]


def _require_reviewer(initiator, org_id):
    if reviewers(org_id, initiator.id):
        return
    if initiator.user_type == UserType.MASTER:
        message = ("总账号发起的离职申请须由持有“离职审核”权限的子账号审核，本机构目前没有这样的子账号。"
                   "请先在“系统管理”中为一个子账号授予含“离职审核”的角色，再提交。")
    else:
        message = "本机构目前没有可以审核离职申请的账号（机构总账号或持有“离职审核”权限的其他账号），请联系机构总账号。"
    raise InvalidInput(message, code="no_reviewer")


# --- the rules ----------------------------------------------------------------------------------------------

def _refuse(message, code, field="staff_no"):
    raise InvalidInput(message, code=code, fields={field: [message]})


def _resolve_staff(org_id, staff_no):
    """The institution's active staff member with this number, locked for the rest of the transaction."""
    staff = staff_service.find(org_id, staff_no, lock=True)
    if staff is None:
        _refuse(f"本机构没有工号为“{staff_no}”的人员", "staff_not_found")
    if staff.employment_status != EmploymentStatus.ACTIVE:
        _refuse(f"{staff.name}（{staff.staff_no}）已离职，不能再办理离职", "staff_not_active")
    return staff


def _refuse_open(staff, exclude_id=None):
    query = select(ProcessInstance).where(ProcessInstance.process_key == KEY,
                                          ProcessInstance.business_key == staff_key(staff.id),
                                          ProcessInstance.status.in_(OPEN))
    if exclude_id is not None:
        query = query.where(ProcessInstance.id != exclude_id)
    other = Session().scalars(query.order_by(ProcessInstance.id)).first()
    if other is not None:
        label = STATUS_LABELS[_status(other, _tasks(other))]
        _refuse(f"{staff.name}（{staff.staff_no}）已有一条未办结的离职记录（{label}），"
                "同一员工同时只能有一条离职记录，请在原记录上继续办理", "resignation_open")


def _label(instance, staff):
    instance.title = f"{staff.name}（{staff.staff_no}）离职"
    instance.business_key = staff_key(staff.id)


def submit_form():
    """The applicant's form of the current process version (for a record not started yet)."""
    from workflows import processes
    stored = processes.definition(KEY).forms
    return forms.form_from_dicts(SUBMIT_FORM, stored[SUBMIT_FORM], stored.get(SUBMIT_UI))


def _clean(form, values, *, draft):
    """Validate against the applicant's form; a draft needs only the employee. Every field is returned (None
    when empty) so a value removed from a draft is removed from the stored draft too."""
    if not isinstance(values, dict):
        raise InvalidInput("表单数据格式不正确")
    if draft:
        form = forms.FormDefinition(form.name, {**form.schema, "required": ["staff_no"]}, form.ui)
    cleaned = forms.validate(form, values)
    return {name: cleaned.get(name) for name in form.schema["properties"]}


# --- services -----------------------------------------------------------------------------------------------

def _applicant_task(instance):
    return Session().scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.state == TaskStatus.READY,
        HumanTask.lane == "applicant")).first()


def create_draft(actor, values):
    """新增 + 保存: a new resignation record kept as a draft in the actor's inbox."""
    from workflows import processes
    _require_initiator(actor, "resignation_create")
    cleaned = _clean(submit_form(), values, draft=True)
    staff = _resolve_staff(actor.org_id, cleaned["staff_no"])
    _refuse_open(staff)
    _require_reviewer(actor, actor.org_id)
    instance = processes.start_instance(actor, KEY)
    processes.save_draft(actor, _applicant_task(instance).id, cleaned)
    _label(instance, staff)
    Session().flush()
    return instance


def _own_draft(actor, instance_id, action):
    instance = _get_instance(actor, instance_id)
    if instance.started_by_id != actor.id:
        raise NotAuthorized("只能修改或提交自己新增的离职记录", audit=(action, "process_instance", instance.id))
    task = _applicant_task(instance)
    if instance.status != InstanceStatus.RUNNING or task is None:
        raise Conflict("该离职记录已提交，不能再修改或提交", code="not_a_draft")
    return instance, task


def update_draft(actor, instance_id, values):
    """编辑 + 保存 of the actor's own draft; the employee may change (the one-open rule is checked again)."""
    from workflows import processes
    _require_initiator(actor, "resignation_update", "process_instance", instance_id)
    instance, task = _own_draft(actor, instance_id, "resignation_update")
    cleaned = _clean(processes.task_form(task), values, draft=True)
    staff = _resolve_staff(instance.org_id, cleaned["staff_no"])
    _refuse_open(staff, exclude_id=instance.id)
    processes.save_draft(actor, task.id, cleaned)
    _label(instance, staff)
    Session().flush()
    return instance


def submit(actor, instance_id, values=None):
    """提交 the actor's draft (with ``values`` changed first, if given) for review."""
    from workflows import processes
    _require_initiator(actor, "resignation_submit", "process_instance", instance_id)
    instance, task = _own_draft(actor, instance_id, "resignation_submit")
    form = processes.task_form(task)
    data = {k: v for k, v in processes.task_data(task).items()
            if k in form.schema["properties"] and v not in (None, "")}
    if values is not None:
        if not isinstance(values, dict):
            raise InvalidInput("表单数据格式不正确")
        data.update(values)
    cleaned = _clean(form, data, draft=False)
    staff = _resolve_staff(instance.org_id, cleaned["staff_no"])
    _refuse_open(staff, exclude_id=instance.id)
    _require_reviewer(actor, instance.org_id)
    _label(instance, staff)
    instance = processes.complete_task(actor, task.id, {k: v for k, v in cleaned.items() if v is not None})
    if instance.status == InstanceStatus.ERROR:
        return instance
    back = _applicant_task(instance)
    if back is not None:   # the check inside the step refused it (the world changed in between)
        problem = (processes.task_data(back).get("check_result") or {}).get("problem")
        raise InvalidInput(problem or "提交未通过校验，请检查后重新提交", code="check_failed")
    return instance


# --- reading records ----------------------------------------------------------------------------------------

@dataclass
class Record:
    instance: ProcessInstance
    status: str
    values: dict
    staff: Staff | None
    draft_task: HumanTask | None
    review_task: HumanTask | None    # the open review, else the one that decided
    problem: str | None

    @property
    def id(self):
        return self.instance.id

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    @property
    def decided(self):
        return self.review_task is not None and self.review_task.state == TaskStatus.COMPLETED

    @property
    def opinion(self):
        return self.review_task.comment if self.decided else None


def _tasks(instance):
    return Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)
                             .order_by(HumanTask.id)).all()


def _status(instance, rows):
    if instance.status == InstanceStatus.ERROR:
        return "error"
    if instance.status == InstanceStatus.CANCELLED:
        return "cancelled"
    if instance.status == InstanceStatus.RUNNING:
        return "draft" if any(r.state == TaskStatus.READY and r.lane == "applicant" for r in rows) else "pending"
    decided = [r for r in rows if r.bpmn_id == REVIEW and r.state == TaskStatus.COMPLETED]
    return "passed" if decided and decided[-1].outcome == "approve" else "failed"


def record(instance):
    """The resignation record an instance stands for."""
    from workflows import processes
    rows = _tasks(instance)
    status = _status(instance, rows)
    draft = next((r for r in rows if r.state == TaskStatus.READY and r.lane == "applicant"), None)
    values = processes.task_data(draft) if draft is not None else processes.latest_data(instance)
    reviews = [r for r in rows if r.bpmn_id == REVIEW]
    review = next((r for r in reviews if r.state == TaskStatus.READY), None) or next(
        (r for r in reversed(reviews) if r.state == TaskStatus.COMPLETED), None)
    check = values.get("check_result") or {}
    staff = Session().get(Staff, check["staff_id"]) if check.get("staff_id") else None
    if staff is None or staff.org_id != instance.org_id:
        staff = staff_service.find(instance.org_id, values.get("staff_no"))
    problem = check.get("problem") if status == "draft" and check and not check.get("ok") else None
    return Record(instance=instance, status=status, values=values, staff=staff, draft_task=draft,
                  review_task=review, problem=problem)


def _get_instance(actor, instance_id):
    instance = Session().get(ProcessInstance, instance_id)
    if instance is None or instance.process_key != KEY:
        raise NotFound()
    if not ((instance.org_id == actor.org_id and can_view(actor)) or inbox.can_see_instance(actor, instance)):
        raise NotFound(audit=("read", "process_instance", instance_id))
    return instance


def get_record(actor, instance_id):
    """A record the actor may see: its institution's filers and reviewers, and whoever may see the instance."""
    return record(_get_instance(actor, instance_id))


def _status_clause(status):
    def task_exists(*conditions):
        return exists().where(HumanTask.instance_id == ProcessInstance.id, *conditions)
    drafting = task_exists(HumanTask.state == TaskStatus.READY, HumanTask.lane == "applicant")
    passed = task_exists(HumanTask.bpmn_id == REVIEW, HumanTask.state == TaskStatus.COMPLETED,
                         HumanTask.outcome == "approve")
    return {
        "draft": and_(ProcessInstance.status == InstanceStatus.RUNNING, drafting),
        "pending": and_(ProcessInstance.status == InstanceStatus.RUNNING, ~drafting),
        "passed": and_(ProcessInstance.status == InstanceStatus.COMPLETED, passed),
        "failed": and_(ProcessInstance.status == InstanceStatus.COMPLETED, ~passed),
        "error": ProcessInstance.status == InstanceStatus.ERROR,
        "cancelled": ProcessInstance.status == InstanceStatus.CANCELLED,
    }[status]


def _records_query(actor, status=None, q=None):
    query = select(ProcessInstance).where(ProcessInstance.process_key == KEY,
                                          ProcessInstance.org_id == actor.org_id)
    if status:
        if status not in STATUS_LABELS:
            raise InvalidInput(f"status 只能是 {', '.join(STATUS_LABELS)}", code="invalid_input")
        query = query.where(_status_clause(status))
    if q and q.strip():
        query = query.where(ProcessInstance.title.contains(q.strip(), autoescape=True))
    return query


def list_records(actor, *, status=None, q=None, page=1, per_page=20):
    """A page of the actor's institution's resignation records, newest first: ``(records, total)``."""
    if not can_view(actor):
        raise NotAuthorized(audit=("resignation_list", "organization", actor.org_id))
    query = _records_query(actor, status, q)
    total = Session().scalar(select(func.count()).select_from(query.subquery()))
    rows = Session().scalars(query.order_by(ProcessInstance.id.desc()).limit(per_page)
                             .offset((max(page, 1) - 1) * per_page)).all()
    return [record(i) for i in rows], total


def counts(actor, q=None):
    """How many records per list status (for the tabs)."""
    return {s: Session().scalar(select(func.count()).select_from(_records_query(actor, s, q).subquery()))
            for s in LIST_STATUSES}


def as_dict(rec):
    """A plain view of a record for the API."""
    from workflows.processes import iso
    values, review = rec.values, rec.review_task
    return {
        "id": rec.id, "title": rec.instance.title, "status": rec.status, "status_label": rec.status_label,
        "staff_no": values.get("staff_no"), "resignation_type": values.get("resignation_type"),
        "leave_date": values.get("leave_date"), "note": values.get("note"),
        "staff": staff_service.summary(rec.staff) if rec.staff else None, "problem": rec.problem,
        "org": rec.instance.org.name, "started_by": rec.instance.started_by.username,
        "created_at": iso(rec.instance.created_at), "updated_at": iso(rec.instance.updated_at),
        "draft_task_id": rec.draft_task.id if rec.draft_task else None,
        "review_task_id": review.id if review is not None and review.state == TaskStatus.READY else None,
        "decision": review.outcome if rec.decided else None, "opinion": rec.opinion,
        "decided_by": review.completed_by.username if rec.decided and review.completed_by else None,
        "decided_at": iso(review.completed_at) if rec.decided else None,
    }


# --- service-task handlers -----------------------------------------------------------------------------------

def _tell_applicant(instance, title, body):
    notifications.notify(instance.started_by, "resignation", title, body=body,
                         link=f"/personnel/resignations/{instance.id}")


@handler("resignation_check")
def check_submission(ctx, staff_no):
    """The rules again, inside the submitting step: ``{"ok": bool, "problem": str | None, "staff_id": …}``."""
    instance = ctx.instance
    initiator = instance.started_by
    try:
        if initiator.org_id != instance.org_id or not can_initiate(initiator):
            raise InvalidInput("申请人没有“员工离职”权限，不能提交离职申请", code="not_permitted")
        staff = _resolve_staff(instance.org_id, staff_no)
        _refuse_open(staff, exclude_id=instance.id)
        _require_reviewer(initiator, instance.org_id)
    except InvalidInput as exc:
        if exc.code == "resignation_open":
            instance.business_key = None     # the other record holds the employee, not this one
        return {"ok": False, "problem": exc.message, "staff_id": None}
    _label(instance, staff)
    return {"ok": True, "problem": None, "staff_id": staff.id}


def _lock_for_resignation(user, actor, staff, left_on):
    """Lock a resigned person's account until an administrator acts; its sessions and tokens end."""
    now = utcnow()
    previous = user.lock_reason if user.is_locked(now) else None
    user.lock_reason, user.locked_at, user.locked_until = LockReason.RESIGNED, now, None
    user.lock_detail = f"{staff.name}（{staff.staff_no}）离职，离职日期 {left_on.isoformat()}"[:128]
    auth.end_sessions(user)
    audit.record("account_lock", actor=actor, target=user,
                 detail={"reason": LockReason.RESIGNED.value, "note": user.lock_detail,
                         "previous_reason": previous or ""})
    return user.username


@handler("resignation_apply")
def apply_resignation(ctx, staff_id, leave_date, resignation_type):
    """审核通过: the staff record is marked left and every linked account is locked, in the step's transaction."""
    instance = ctx.instance
    staff = Session().scalars(select(Staff).where(Staff.id == staff_id).with_for_update()).one_or_none()
    if staff is None or staff.org_id != instance.org_id:
        raise RuntimeError("离职人员记录不存在或不属于本机构")
    left_on = date.fromisoformat(leave_date)
    changed = staff_service.mark_left(staff, left_on, actor=ctx.actor, reason=resignation_type, instance=instance)
    linked = Session().scalars(select(User).where(User.staff_id == staff.id, User.status != UserStatus.DELETED)
                               .order_by(User.id)).all()
    locked = [_lock_for_resignation(user, ctx.actor, staff, left_on) for user in linked]
    audit.record("resignation_pass", actor=ctx.actor, target=staff, detail={
        "instance": instance.id, "staff_no": staff.staff_no, "type": resignation_type,
        "left_on": left_on.isoformat(), "locked_accounts": locked, "already_left": not changed})
    ctx.event("outcome", outcome="approved", actor_id=ctx.actor.id if ctx.actor else None,
              actor_name=ctx.actor.username if ctx.actor else None, detail={"locked_accounts": locked})
    _tell_applicant(instance, f"离职申请已审核通过：{instance.title}",
                    f"{staff.name}（{staff.staff_no}）已于 {left_on.isoformat()} 离职（{resignation_type}）。"
                    + (f"已锁定其账号：{'、'.join(locked)}。" if locked else ""))
    return {"left_on": left_on.isoformat(), "locked_accounts": locked}


@handler("resignation_withdraw")
def withdraw_resignation(ctx, staff_id, comment):
    """审核不通过: the resignation is withdrawn and the employee stays; the applicant is told the opinion."""
    instance = ctx.instance
    staff = Session().get(Staff, staff_id) if staff_id else None
    audit.record("resignation_fail", actor=ctx.actor, target=staff if staff is not None else instance,
                 detail={"instance": instance.id, "staff_no": staff.staff_no if staff else None,
                         "opinion": comment or ""})
    _tell_applicant(instance, f"离职申请未通过：{instance.title}", f"审核意见：{comment or '（无）'}。该人员保持在职。")
    return {"withdrawn": True}
