"""Credential-leak response 账号泄露处置 (Jiangsu §三.(二).3 应急管理): who may report which account, who handles
the case, and the account operations of a case. The process is ``bpmn/credential_leak.bpmn``; its service-task
handlers are in ``workflows/effects/credential_leak.py``.

Reporting. The account itself (本人) or a business administrator who manages the account (the jurisdiction
rules of ``workflows.jurisdiction``) reports, with the time of discovery (not in the future) and a description.
A report filed more than 24 hours after the discovery is accepted, flagged late and recorded, because Jiangsu
asks for a report within 24 hours. One open case per account. Institution master accounts report through the
business administrator (Jiangsu gives the leak to 业务管理员); the system administrator, who belongs to no
organization, locks accounts on the account pages instead.

Who handles. The business administrators who manage the account: for a same-level user, a direct-report user,
an institution account or sub-account, the admins of the account's own region; for a business administrator's
account, the admins of the region above (上级业务管理员). The case gets one handling organization among theirs:
the reporter's, when an admin reported; else the account's own organization or its supervisor when they hold an
admin; else the first such organization. A province administrator's leak has no business administrator above it
and is refused with a pointer to the system administrator. The data-quality check goes to the handling
organization's 数据质控员 (本级用户1 holding the approval inbox); when it has none, the handling admin checks.

Whose case. In the starting step the case is taken over by the leaked account: the instance's 申请人 becomes the
account and its organization and region become the handling organization's. So the lanes resolve to the
handling organization, the account can never handle its own case (the initiator rule), and an admin who
reported the leak handles it as Jiangsu asks. The reporter stays on the timeline and in the audit log.

Suspension runs as the system in that same step, whoever reported: the report is what triggers it, the reporter's
authority having been checked. The account is locked with reason ``leak`` (the fields ``accounts.lock_user``
sets), its sessions and API tokens end, and both the lock and the report are audited.

Password and restore. On the 重置密码并恢复账号 step the handling admin's submission first resets the password
through ``accounts.reset_password`` (audited, sessions ended, forced change at next login) and then completes the
task; the temporary password is handed back to that one answer (page or JSON) and never enters the workflow
data. The restore handler unlocks only when the password was reset after the suspension, else the task comes
back. An account that had been locked for another reason before the report returns to that lock.

The 24-hour deadline counts from the discovery, not from the report.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from models import Session, utcnow
from models.accounts import LOCK_REASON_LABELS, LockReason, PasswordChangeReason, User, UserStatus, UserType
from models.orgs import Organization
from models.workflow import HumanTask, InstanceStatus, ProcessEvent, ProcessInstance, TaskStatus
from workflows import accounts, audit, auth, forms, inbox, jurisdiction, lanes, notifications
from workflows.errors import Conflict, DomainError, InvalidInput, NotAuthorized, NotFound
from workflows.handlers import StepContext
from workflows.clock import CST, local  # noqa: F401  (local: the effects' messages)

PROCESS = "credential_leak"
REPORT_WITHIN = timedelta(hours=24)
QC_LANE = "quality_controller"
CHECK_TASKS = ("check_qc", "check_admin")
REMEDY_TASK, RESET_TASK, RECORD_TASK = "remedy", "reset_restore", "record"
OPEN = (InstanceStatus.RUNNING, InstanceStatus.ERROR)
CHECK_LABELS = {"normal": "正常，未发现所报数据被破坏", "abnormal": "发现异常"}
REMEDY_LABELS = {"restore": "已采取补救措施，恢复账号", "keep_suspended": "不予恢复，保持暂停"}
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?")


def case_key(account_id):
    return f"{PROCESS}:{account_id}"


def iso(value):
    return value.isoformat() if value else None


def parse_time(value):
    """An aware UTC datetime from ISO 8601 text (``T`` or a space; a time without offset is Beijing time)."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = (value or "").strip() if isinstance(value, str) else ""
        if not _TIME.fullmatch(text):
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CST)
    return moment.astimezone(timezone.utc)


# --- who reports, who handles ---------------------------------------------------------------------------------

def may_report(actor, account):
    """The account itself, or a business administrator who manages it."""
    return account.id == actor.id or (jurisdiction.is_business_admin(actor)
                                      and jurisdiction.can_manage_user(actor, account))


def handling_region(account):
    """The region whose business administrators handle a leak of ``account`` (None: none above a province)."""
    if account.org is None:
        return None
    region = account.org.region
    return region.parent if account.user_type == UserType.BUSINESS_ADMIN else region


def handling_org(account, reporter=None):
    """The organization whose business administrators handle the case, or None when the region has none."""
    region = handling_region(account)
    if region is None:
        return None
    admins = Session().scalars(
        select(User).join(Organization, User.org_id == Organization.id)
        .where(User.user_type == UserType.BUSINESS_ADMIN, User.status == UserStatus.ACTIVE, User.id != account.id,
               Organization.region_code == region.code).order_by(User.id)).all()
    orgs = {}
    for admin in admins:
        orgs.setdefault(admin.org_id, admin.org)
    preferred = [reporter.org_id if reporter is not None and jurisdiction.is_business_admin(reporter) else None,
                 account.org_id, account.org.supervisor_id]
    for org_id in preferred:
        if org_id in orgs:
            return orgs[org_id]
    return next(iter(orgs.values()), None)


def quality_controllers(org):
    """The 数据质控员 who may take the check: same-level-1 members of ``org`` who qualify for the lane now."""
    members = Session().scalars(select(User).where(User.org_id == org.id, User.user_type == UserType.SAME_LEVEL_1,
                                                   User.status == UserStatus.ACTIVE).order_by(User.id)).all()
    return [u for u in members if lanes.qualifies(u, QC_LANE, org.id)]


def superior_admins(org):
    """Whom an overdue case escalates to: the business administrators of the region above the handling
    organization's (they manage its admins), or the system administrators above a province."""
    parent = org.region.parent
    query = select(User).where(User.status == UserStatus.ACTIVE).order_by(User.id)
    if parent is None:
        return Session().scalars(query.where(User.user_type == UserType.SYSTEM_ADMIN)).all()
    return Session().scalars(query.join(Organization, User.org_id == Organization.id).where(
        User.user_type == UserType.BUSINESS_ADMIN, Organization.region_code == parent.code)).all()


def open_case(account_id):
    return Session().scalars(select(ProcessInstance).where(
        ProcessInstance.process_key == PROCESS, ProcessInstance.business_key == case_key(account_id),
        ProcessInstance.status.in_(OPEN)).order_by(ProcessInstance.id)).first()


def reportable_accounts(actor, limit=500):
    """Accounts the actor may report (itself first), for the report form's suggestions."""
    found = [actor]
    if jurisdiction.is_business_admin(actor):
        query = jurisdiction.visible_users_query(actor).limit(limit * 4)
        found += [u for u in Session().scalars(query) if u.id != actor.id and jurisdiction.can_manage_user(actor, u)]
    return found[:limit]


# --- reporting ------------------------------------------------------------------------------------------------

@dataclass
class CheckedReport:
    reporter: User
    account: User
    discovered_at: datetime
    description: str
    handling_org: Organization
    late: bool


def _find_account(actor, username):
    name = auth.normalize_username(username)
    if not name or name == actor.username:
        return actor
    account = Session().scalars(select(User).where(User.username == name)).one_or_none()
    if account is None or not jurisdiction.can_see_user(actor, account):
        raise InvalidInput(fields={"account": ["未找到该账号"]})
    return account


def check_report(actor, account=None, discovered_at=None, description=None, *, lock=False):
    """Check a report before anything changes: a ``CheckedReport``, or ``InvalidInput`` (per field) / ``NotAuthorized``.
    ``account`` is a username (empty: the actor itself). ``lock`` holds the account row until the step ends,
    so two reports of one account cannot both open a case."""
    if actor.org is None:
        raise NotAuthorized("系统管理员账号不能报告账号泄露，请在“人员账号管理”中直接锁定、重置该账号")
    if account is not None and not isinstance(account, str):
        raise InvalidInput(fields={"account": ["应为账号（字符串）"]})
    target = _find_account(actor, account)
    if not may_report(actor, target):
        raise NotAuthorized("只有账号本人或管理该账号的业务管理员可以报告账号泄露",
                            audit=("leak_report", "user", target.id))
    if lock:
        Session().scalars(select(User.id).where(User.id == target.id).with_for_update()).one()
    errors = {}
    if target.status == UserStatus.DISABLED:
        errors["account"] = ["该账号已停用，无需处置"]
    elif target.user_type == UserType.SYSTEM_ADMIN or target.org is None:
        errors["account"] = ["系统管理员账号不在本流程处置范围内"]
    else:
        case = open_case(target.id)
        if case is not None:
            errors["account"] = [f"该账号已有正在处置的泄露报告（#{case.id}）"]
    now = utcnow()
    when = parse_time(discovered_at)
    if discovered_at in (None, ""):
        errors["discovered_at"] = ["请填写发现时间"]
    elif when is None:
        errors["discovered_at"] = ["发现时间格式应为 YYYY-MM-DD HH:MM"]
    elif when > now:
        errors["discovered_at"] = ["发现时间不能晚于当前时间"]
    text = description.strip() if isinstance(description, str) else ""
    if not text:
        errors["description"] = ["请填写情况说明"]
    elif len(text) > 1000:
        errors["description"] = ["情况说明不得超过1000个字符"]
    if errors:
        raise InvalidInput(fields=errors)
    org = handling_org(target, actor)
    if org is None:
        message = ("省级业务管理员账号泄露没有上级业务管理员处置，请报告系统管理员"
                   if target.user_type == UserType.BUSINESS_ADMIN else "该账号所在地区没有业务管理员，无法处置")
        raise InvalidInput(message, fields={"account": [message]}, code="no_handling_admin")
    return CheckedReport(actor, target, when, text, org, now - when > REPORT_WITHIN)


LATE_WARNING = "发现泄露已超过24小时才报告（江苏规范要求24小时内报告），已记录在案，并将通知上级业务管理员。"


def report(actor, *, account=None, discovered_at=None, description=None):
    """Report a leak: check, then start the case (the account is suspended in the same step).
    Returns ``(instance, warnings)``."""
    from workflows import processes
    checked = check_report(actor, account, discovered_at, description)
    data = {"account": checked.account.username, "discovered_at": checked.discovered_at.astimezone(CST).isoformat(),
            "description": checked.description}
    instance = processes.start_instance(actor, PROCESS, data)
    return instance, [{"code": "late_report", "message": LATE_WARNING}] if checked.late else []


def check_start(actor, data):
    """The generic start (``POST /processes/credential_leak/instances``) obeys the same rules."""
    data = data if isinstance(data, dict) else {}
    check_report(actor, data.get("account"), data.get("discovered_at"), data.get("description"))


def suspend(ctx, checked):
    """The starting step's effect: lock with reason leak, end sessions and tokens, audit, take the case over."""
    account, reporter, instance, org = checked.account, checked.reporter, ctx.instance, checked.handling_org
    now = utcnow()
    previous = None
    if account.is_locked(now) and account.lock_reason not in (LockReason.FAILED_LOGINS, LockReason.LEAK):
        previous = {"reason": account.lock_reason, "locked_at": iso(account.locked_at), "detail": account.lock_detail}
    account.lock_reason, account.locked_at, account.locked_until = LockReason.LEAK, now, None
    account.lock_detail = f"账号泄露处置 #{instance.id}"
    auth.end_sessions(account)
    name = f"{PROCESS}#{instance.id}"
    audit.record("account_lock", actor_name="system", target=account,
                 detail={"reason": LockReason.LEAK.value, "note": "报告账号密码泄露，立即暂停使用", "case": name,
                         "reported_by": reporter.username})
    audit.record("leak_report", actor=reporter, target=account,
                 detail={"case": name, "discovered_at": iso(checked.discovered_at), "late": checked.late,
                         "handling_org": org.name})
    instance.started_by, instance.org, instance.region_path = account, org, org.region.path
    instance.business_key = case_key(account.id)
    instance.title = f"账号泄露处置：{account.display_name}（{account.username}）"[:200]
    has_qc = bool(quality_controllers(org))
    deadline = checked.discovered_at + REPORT_WITHIN
    leak = {
        "accepted": True, "account_id": account.id, "username": account.username,
        "display_name": account.display_name, "org": account.org.name, "user_type": account.user_type_label,
        "reported_by": reporter.username, "reported_by_id": reporter.id, "self_report": reporter.id == account.id,
        "reported_at": iso(now), "discovered_at": iso(checked.discovered_at),
        "escalate_at": iso(deadline), "escalate_after": escalate_after(deadline, now), "late": checked.late,
        "description": checked.description, "handling_org_id": org.id, "handling_org": org.name,
        "quality_controller": has_qc, "suspended_at": iso(now), "previous_lock": previous}
    _tell_handlers(instance, account, reporter, org, has_qc)
    ctx.event("leak_suspended", task_name="暂停账号使用",
              detail={"account": account.username, "reported_by": reporter.username, "late": checked.late,
                      "handling_org": org.name, "quality_controller": has_qc})
    return leak


def escalate_after(deadline, now):
    """The escalation timer's duration (ISO 8601) from now to ``deadline``, which counts from the discovery; at
    least a second, so an overdue case escalates at the next timer run (a timer due inside the step that sets
    it would wait for the next step).

    A duration rather than a ``timeDate``: the engine stores only duration timers as the instance's next timer."""
    return f"PT{max((deadline - now).total_seconds(), 1.0):.6f}S"


def _tell_handlers(instance, account, reporter, org, has_qc):
    """The handling admins (and the data-quality controllers) hear of the case at once."""
    admins = Session().scalars(select(User).where(User.org_id == org.id, User.user_type == UserType.BUSINESS_ADMIN,
                                                  User.status == UserStatus.ACTIVE, User.id != account.id,
                                                  User.id != reporter.id).order_by(User.id)).all()
    who = "本人" if reporter.id == account.id else reporter.username
    for user in list(admins) + (quality_controllers(org) if has_qc else []):
        if user.id == account.id:
            continue
        notifications.notify(user, "leak_report", f"账号泄露报告：{account.display_name}（{account.username}）",
                             body=f"{who}报告该账号密码泄露，账号已暂停使用。"
                                  + ("请核查该账号所报数据。" if user.user_type == UserType.SAME_LEVEL_1
                                     else "请组织核查、重置密码并恢复账号。"),
                             link=f"/leaks/{instance.id}")


# --- password reset and restore -----------------------------------------------------------------------------

def _leak_of(instance):
    from workflows import processes
    return processes.latest_data(instance).get("leak") or {}


def _subject(leak):
    account = Session().get(User, leak.get("account_id")) if leak.get("account_id") else None
    if account is None:
        raise NotFound()
    return account


def is_reset_task(task):
    return task.process_key == PROCESS and task.bpmn_id == RESET_TASK


def password_reset_since(account, since):
    """Was the account's password reset by an administrator after ``since`` (and not changed since)?"""
    when = parse_time(since) if isinstance(since, str) else since
    return (account.password_change_reason == PasswordChangeReason.RESET and when is not None
            and account.password_changed_at >= when)


def reset_and_restore(actor, task_id, data):
    """The 重置密码并恢复账号 step: reset the password (shown once, never stored in the workflow), then complete
    the task, whose handler restores the account. Returns ``(instance, account, temporary password)``."""
    from workflows import processes
    task = processes.get_task(actor, task_id)
    if not is_reset_task(task):
        raise InvalidInput("该任务不是“重置密码并恢复账号”", code="not_reset_task")
    form = processes.task_form(task)
    forms.validate(form, data or {})                        # a form error resets nothing
    instance = Session().scalars(select(ProcessInstance).where(ProcessInstance.id == task.instance_id)
                                 .with_for_update().execution_options(populate_existing=True)).one()
    Session().refresh(task)
    if task.state != TaskStatus.READY:
        raise processes.TaskNotReady(completed_by=task.completed_by.username if task.completed_by else None,
                                     completed_at=processes.iso(task.completed_at))
    if instance.status == InstanceStatus.ERROR:
        raise Conflict("该流程处理异常，请等待管理员处理后再试", code="instance_error")
    if not inbox.can_act(actor, task):
        raise NotAuthorized("您不能处理该任务", audit=("leak_password_reset", "human_task", task.id))
    account = _subject(_leak_of(instance))
    password = accounts.reset_password(actor, account)
    StepContext(instance, actor).event("password_reset", actor_id=actor.id, actor_name=actor.username,
                                       task_guid=task.task_guid, bpmn_id=task.bpmn_id, task_name=task.name,
                                       detail={"account": account.username})
    instance = processes.complete_task(actor, task.id, data)
    return instance, account, password


def restore(ctx, leak):
    """Unlock the account if its password was reset after the suspension; else say so and send the task back."""
    account = Session().scalars(select(User).where(User.id == leak["account_id"]).with_for_update()).one()
    actor = ctx.actor
    who = {"actor_id": actor.id if actor else None, "actor_name": actor.username if actor else None}
    if not password_reset_since(account, leak.get("suspended_at")):
        ctx.event("restore_refused", task_name="恢复账号", comment="尚未重置密码，账号未恢复；请重置密码后再恢复",
                  detail={"account": account.username}, **who)
        return {"restored": False}
    if account.lock_reason == LockReason.LEAK:
        accounts.unlock_user(actor, account, from_leak_case=True)
        previous = leak.get("previous_lock")
        if previous:
            account.lock_reason, account.locked_at = previous["reason"], parse_time(previous["locked_at"])
            account.lock_detail = previous.get("detail")
            audit.record("account_lock", actor=actor, target=account,
                         detail={"reason": previous["reason"], "note": "恢复报告泄露前的锁定"})
        else:
            account.lock_detail = None
    ctx.event("account_restored", task_name="恢复账号", detail={"account": account.username,
                                                               "still_locked": bool(leak.get("previous_lock"))},
              **who)
    return {"restored": True, "restored_at": iso(utcnow())}


# --- reading cases --------------------------------------------------------------------------------------------

def list_cases(actor, page=1, per_page=20):
    """Cases the actor may list: all for the system administrator, the region subtree for a business admin,
    its own cases (as the account or the reporter) for anyone else."""
    from workflows import processes
    return processes.instances_page(actor, PROCESS, case_view, page, per_page)


def get_case(actor, instance_id):
    from workflows import processes
    return processes.get_instance_of(actor, instance_id, PROCESS)


def _done(rows, bpmn_ids):
    done = [r for r in rows if r.bpmn_id in bpmn_ids and r.state == TaskStatus.COMPLETED]
    return done[-1] if done else None


def case_view(instance):
    """Plain data about one case for the pages and the API (no secrets: the workflow holds none)."""
    from workflows import processes
    flow = processes.load_flow(instance)
    leak = flow.latest_data().get("leak") or {}
    rows = Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)
                             .order_by(HumanTask.id)).all()
    events = Session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance.id)
                               .order_by(ProcessEvent.id)).all()

    def step(bpmn_ids, *fields):
        row = _done(rows, bpmn_ids)
        if row is None:
            return None
        data = flow.task_data(row.task_guid)
        return {"by": row.completed_by.username if row.completed_by else None, "at": processes.iso(row.completed_at),
                **{f: data.get(f) for f in fields}}

    def last_event(kind):
        found = [e for e in events if e.kind == kind]
        return {"by": found[-1].actor_name, "at": processes.iso(found[-1].at), "detail": found[-1].detail or {}} \
            if found else None

    check = step(CHECK_TASKS, "result", "comment")
    if check:
        check["result_label"] = CHECK_LABELS.get(check["result"], check["result"])
    remedy = step((REMEDY_TASK,), "action", "measures")
    if remedy:
        remedy["action_label"] = REMEDY_LABELS.get(remedy["action"], remedy["action"])
    account = Session().get(User, leak["account_id"]) if leak.get("account_id") else None
    now = utcnow()
    deadline = parse_time(leak.get("escalate_at")) if leak.get("escalate_at") else None
    refused = next((e for e in events if e.kind == "leak_refused"), None)
    return {
        "instance_id": instance.id, "title": instance.title, "status": instance.status,
        "status_label": "未受理" if refused else instance.status_label,
        "accepted": bool(leak.get("accepted")),
        "refused_reason": (refused.detail or {}).get("reason") if refused else None,
        "account": {k: leak.get(k) for k in ("account_id", "username", "display_name", "org", "user_type")},
        "locked": account.is_locked(now) if account else None,
        "lock_reason": LOCK_REASON_LABELS.get(account.lock_reason, "") if account and account.lock_reason else "",
        "reported_by": leak.get("reported_by"), "self_report": leak.get("self_report"),
        "reported_at": leak.get("reported_at"), "discovered_at": leak.get("discovered_at"),
        "deadline": leak.get("escalate_at"), "late": bool(leak.get("late")),
        "overdue": bool(deadline and now > deadline and instance.status == InstanceStatus.RUNNING),
        "description": leak.get("description"), "handling_org": leak.get("handling_org"),
        "quality_controller": leak.get("quality_controller"),
        "check": check, "remedy": remedy, "password_reset": last_event("password_reset"),
        "restored": last_event("account_restored"), "record": step((RECORD_TASK,), "record"),
        "escalated": last_event("leak_escalated"), "closed": last_event("leak_closed"),
        "open_tasks": [{"id": r.id, "name": r.bpmn_id, "title": r.name, "lane": r.lane,
                        "assignee": r.assignee.username if r.assignee else None}
                       for r in rows if r.state == TaskStatus.READY],
    }


def refusal_message(exc):
    """One line for a refused report (a domain error's message, or its field messages)."""
    if isinstance(exc, InvalidInput) and exc.fields:
        return "；".join(m for messages in exc.fields.values() for m in messages)
    return exc.message if isinstance(exc, DomainError) else str(exc)
