"""Permission change 权限变更 (Jiangsu 附表4 用户权限变更申请表; §二.(四): 用户因工作变动，导致使用权限发生变化时，应填写
权限变更申请表，由相关业务管理员对其权限进行变更): who applies, which roles may be asked for, who approves and who
grants, and the checks. The process is ``bpmn/permission_change.bpmn``; the change itself and the printed form
are the service-task handlers in ``workflows/effects/permission_change.py``.

Applying. An account holding 我的申请 (``approval.requests``) applies for itself. The form shows the roles it holds
(read-only) and asks for the roles it should hold afterwards: the normal system roles and roles of its own
organization that hold no function point reserved to the system administrator, plus the roles it holds now (a
held role may always be kept). At least one role must change and at least one must remain (an account that is
no longer used is locked, not emptied). The reason is required. 临时使用 is an optional last day of use, later
than today: the roles the request adds are then temporary grants that the scheduler takes back at the end of
that day (China time); a date on a request that adds nothing is refused. A role the account holds temporarily
and keeps stays temporary. One open permission change per account (a running one, or one stopped in error).

Approving. The unit leader (lane ``unit_leader``: the organization's master account or a member holding
单位负责人审批), never the applicant, agrees (同意) or returns (退回) with an opinion. Then the business
administrators of the right level grant (批准) or reject (驳回), chosen by ``route_of``:
- an account of a medical institution (master account, sub-account, direct-report or other user there): the
  business administrators of the supervising commission (lane ``supervising_admin``);
- a business administrator's own request: those of the level above (lane ``superior_admin``);
- any other account (the same-level and direct-report users of a commission or a 精防机构): those of its own
  organization (lane ``leak_admin``).
A request is accepted only when somebody other than the applicant can give the leader's opinion and a business
administrator of that route manages the account, so no request waits for nobody. Every return sends the
request back to the applicant's form with the previous values.

What an administrator may grant. Approving is refused before the step runs (``cannot_grant``, 422, naming the
roles; the task stays open) when the administrator does not manage the account
(``jurisdiction.can_manage_user``) or a role the request adds is one it may not give (``roles.assignable_roles``:
a normal system role or role of the account's organization whose function points it holds itself,
``roles.can_grant``). Keeping or removing a role needs no such right: that is part of managing the account. The
handler checks again in the step (defence in depth); a refusal there changes nothing and hands the request back
to the same administrators. An approval whose temporary date has passed meanwhile is refused too.

The change is computed against the roles held at approval, not at submission: the account ends with exactly the
requested roles. Its sessions stay open: permissions are read on every request, so the change applies at once.

``workflows.processes`` is imported inside the functions: the engine imports the handlers while it loads.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import or_, select

from models import Session, utcnow
from models.accounts import Role, User, UserStatus, UserType
from models.orgs import OrgKind
from models.scheduling import TemporaryGrant
from models.workflow import HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from workflows import forms, inbox, jurisdiction, lanes, permissions, roles
from workflows.clock import CST, iso, local, today_in_china  # noqa: F401  (local: the PDF of the effects)
from workflows.errors import Conflict, DomainError, InvalidInput, NotAuthorized, NotFound

KEY = "permission_change"
SUBMIT_TASK, LEADER_TASK, LEADER_LANE = "submit", "leader_review", "unit_leader"
ROUTES = {  # route: (grant task, lane, who grants)
    "supervising": ("grant_supervising", "supervising_admin", "主管部门业务管理员"),
    "own": ("grant_own", "leak_admin", "本单位业务管理员"),
    "superior": ("grant_superior", "superior_admin", "上级业务管理员"),
}
GRANT_TASKS = frozenset(task for task, _lane, _label in ROUTES.values())
REQUESTS_POINT = "approval.requests"
OPEN = (InstanceStatus.RUNNING, InstanceStatus.ERROR)
DECISIONS = {"leader": {"approve": "同意", "reject": "退回"}, "admin": {"approve": "批准", "reject": "驳回"}}


class RequestOpen(Conflict):
    code = "request_open"
    message = "您已有一项权限变更申请正在办理，办结后才能再次申请"


def request_key(user_id):
    return f"{KEY}:{user_id}"


today = today_in_china


def ends_at(day):
    """When a role granted for use until ``day`` is taken back: the end of that day in China time."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=CST).astimezone(timezone.utc)


def _day(value):
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def ordered(found):
    return sorted(found, key=lambda r: (r.sort, r.id))


def names(found):
    return [r.name for r in found]


def who(user):
    return f"{user.display_name}（{user.username}）"


def message_of(exc):
    """One line for a refusal: a domain error's message, or its field messages."""
    if isinstance(exc, InvalidInput) and exc.fields:
        return "；".join(m for messages in exc.fields.values() for m in messages)
    return exc.message


# --- who applies, what may be asked, who approves ----------------------------------------------------------

def route_of(user):
    """``supervising``, ``superior`` or ``own``: which business administrators grant ``user``'s request."""
    if user.user_type == UserType.BUSINESS_ADMIN:
        return "superior"
    if user.org.kind == OrgKind.MEDICAL_INSTITUTION:
        return "supervising"
    return "own"


def _members(org_id, exclude_id):
    return Session().scalars(select(User).where(User.org_id == org_id, User.status == UserStatus.ACTIVE,
                                                User.id != exclude_id).order_by(User.id)).all()


def leaders(user):
    """Who could give the unit leader's opinion on ``user``'s request (never ``user`` itself)."""
    return [u for u in _members(user.org_id, user.id) if lanes.qualifies(u, LEADER_LANE, user.org_id)]


def granting_org(user, route):
    lane = ROUTES[route][1]
    return user.org if lanes.lane(lane).target == "own" else user.org.supervisor


def granting_admins(user, route=None):
    """The business administrators who could grant ``user``'s request: in the route's lane, managing ``user``."""
    route = route or route_of(user)
    org = granting_org(user, route)
    if org is None:
        return []
    lane = ROUTES[route][1]
    return [u for u in _members(org.id, user.id)
            if lanes.qualifies(u, lane, org.id) and jurisdiction.can_manage_user(u, user)]


def choosable_roles(user):
    """Normal system roles and roles of ``user``'s organization, without system-administrator-only points."""
    query = select(Role).where(or_(Role.org_id.is_(None), Role.org_id == user.org_id), Role.status == "normal")
    return [r for r in Session().scalars(query.order_by(Role.sort, Role.id))
            if not r.permission_codes & permissions.SYSTEM_ONLY]


def role_options(user):
    """The roles the form offers: the choosable ones and those held now, in display order."""
    found = {r.id: r for r in choosable_roles(user)}
    for role in user.roles:
        found.setdefault(role.id, role)
    return ordered(found.values())


def temporary_until(user):
    """``{role id: end}`` of the account's open temporary grants."""
    return {g.role_id: g.ends_at for g in Session().scalars(select(TemporaryGrant).where(
        TemporaryGrant.user_id == user.id, TemporaryGrant.revoked_at.is_(None)))}


def open_request(user, exclude_id=None):
    query = select(ProcessInstance).where(ProcessInstance.process_key == KEY,
                                          ProcessInstance.started_by_id == user.id,
                                          ProcessInstance.status.in_([str(s) for s in OPEN]))
    if exclude_id is not None:
        query = query.where(ProcessInstance.id != exclude_id)
    return Session().scalars(query.order_by(ProcessInstance.id)).first()


def _approvers_refusal(user):
    """Why nobody could approve or grant ``user``'s request (a sentence), or None."""
    if not leaders(user):
        if user.user_type == UserType.MASTER:
            return ("机构总账号的权限变更申请须由本单位持有“单位负责人审批”权限的其他账号审批，本单位目前没有这样的账号，"
                    "请先为单位负责人开设账号并授予“单位负责人”角色")
        return "本单位没有可以审批您的申请的单位主管领导（机构总账号或持有“单位负责人审批”权限的其他账号），请联系业务管理员"
    route = route_of(user)
    if not granting_admins(user, route):
        org = granting_org(user, route)
        return f"{org.name if org else '上级单位'}没有可以为您授权的业务管理员，请联系系统管理员"
    return None


def refusal(user):
    """Why ``user`` cannot apply now (a Chinese sentence), or None."""
    if user.org is None:
        return "系统管理员账号不属于任何单位，不能申请权限变更"
    if REQUESTS_POINT not in roles.permissions_of(user):
        return "您没有“我的申请”权限，不能发起申请"
    if open_request(user) is not None:
        return RequestOpen.message
    return _approvers_refusal(user)


def _lock(user):
    """Hold ``user``'s row until the transaction ends and read its roles afresh: two requests or approvals of
    one account run one after the other."""
    Session().scalars(select(User.id).where(User.id == user.id).with_for_update()).one()
    Session().refresh(user, ["roles"])
    return user


# --- the checks ------------------------------------------------------------------------------------------

@dataclass
class Change:
    """A request measured against the account's roles now."""
    user: User
    current: list
    requested: list
    added: list
    removed: list
    valid_until: date | None


def _change(user, requested, valid_until):
    current = ordered(user.roles)
    return Change(user, current, requested, [r for r in requested if r not in current],
                  [r for r in current if r not in requested], valid_until)


def check_request(user, cleaned):
    """The request in ``cleaned`` (validated form data) for ``user`` as it stands now; ``InvalidInput`` per field."""
    ids = list(cleaned.get("requested_roles") or [])
    offered = {r.id: r for r in role_options(user)}
    errors = {}
    unknown = [str(i) for i in ids if i not in offered]
    if unknown:
        errors["requested_roles"] = [f"不能申请编号为 {'、'.join(unknown)} 的角色：只能选择系统角色和本单位的角色"]
    elif not ids:
        errors["requested_roles"] = ["请至少选择一个角色"]
    change = _change(user, ordered({offered[i] for i in ids if i in offered}), _day(cleaned.get("valid_until")))
    if not errors and not change.added and not change.removed:
        errors["requested_roles"] = ["申请的角色与当前角色相同，请至少增加或取消一个角色"]
    if change.valid_until is not None:
        if change.valid_until <= today():
            errors["valid_until"] = ["临时使用截止日期须晚于今天"]
        elif not change.added and "requested_roles" not in errors:
            errors["valid_until"] = ["只申请取消角色时不填写临时使用截止日期"]
    if errors:
        raise InvalidInput(fields=errors)
    return change


def _require_applicant(actor, action):
    if actor.org is None:
        raise NotAuthorized("系统管理员账号不属于任何单位，不能申请权限变更")
    if REQUESTS_POINT not in roles.permissions_of(actor):
        raise NotAuthorized("您没有“我的申请”权限，不能发起申请", audit=(action, "user", actor.id))


def _require_approvers(user):
    reason = _approvers_refusal(user)
    if reason:
        raise InvalidInput(reason, code="no_approver")


def check_start(actor, data=None):
    """Everything a new request must satisfy; returns the cleaned submission (None when started empty, as a
    draft). Locks the account's row, so two requests started at once cannot both pass."""
    from workflows import processes
    _require_applicant(actor, "permission_change_start")
    _lock(actor)
    pending = open_request(actor)
    if pending is not None:
        raise RequestOpen(instance_id=pending.id)
    _require_approvers(actor)
    if not data:
        return None
    cleaned = forms.validate(processes.start_form(KEY), data)
    check_request(actor, cleaned)
    return cleaned


def submit_request(actor, data):
    """Start a request and submit it in one step (the 权限变更申请 page)."""
    from workflows import processes
    cleaned = check_start(actor, data or {})
    if cleaned is None:
        raise InvalidInput("请填写权限变更申请表")
    return processes.start_instance(actor, KEY, cleaned)


def check_grant(admin, applicant, requested_ids, valid_until):
    """What approving would change, or ``InvalidInput`` (``cannot_grant``, ``role_missing``,
    ``validity_passed``) saying why ``admin`` may not approve it."""
    _lock(applicant)
    if not jurisdiction.can_manage_user(admin, applicant):
        raise InvalidInput(f"{who(applicant)}不在您的管理范围内，您不能为其变更权限，请驳回", code="cannot_grant")
    ids = [i for i in requested_ids or () if type(i) is int]
    found = {r.id: r for r in Session().scalars(select(Role).where(Role.id.in_(ids)))} if ids else {}
    if not ids or len(found) != len(set(ids)):
        raise InvalidInput("申请的角色已被删除，不能按本申请批准，请驳回由申请人重新选择", code="role_missing")
    change = _change(applicant, ordered(found.values()), _day(valid_until))
    grantable = {r.id for r in roles.assignable_roles(admin, applicant.org)}
    refused = [r.name for r in change.added if r.id not in grantable]
    if refused:
        raise InvalidInput(f"您不能授予角色：{'、'.join(refused)}（含有您没有的功能点、已停用或不属于该单位），不能批准；"
                           "请驳回，或由有权授予该角色的业务管理员办理", code="cannot_grant")
    if change.valid_until is not None and change.added and change.valid_until <= today():
        raise InvalidInput(f"临时使用截止日期 {change.valid_until.isoformat()} 已过，不能按本申请批准，请驳回由申请人修改",
                           code="validity_passed")
    return change


def request_values(instance, task=None):
    """The request's data: as the open ``task`` sees it, else as the last completed step left it."""
    from workflows import processes
    flow = processes.load_flow(instance)
    if task is not None and task.state == TaskStatus.READY:
        return flow.task_data(task.task_guid)
    return flow.latest_data()


def check_completion(actor, task_id, data):
    """Before a task of this process is completed: a resubmission must pass the start rules, an approval must
    grant only what the administrator may grant. Other tasks, and tasks the actor may not act on, are left to
    the generic service (which answers 404, 403 or 409 itself)."""
    from workflows import processes
    task = processes.get_task(actor, task_id)
    if (task.process_key != KEY or task.state != TaskStatus.READY or task.instance.status != InstanceStatus.RUNNING
            or not inbox.can_act(actor, task)):
        return task
    data = data if isinstance(data, dict) else {}
    if task.lane == "applicant":
        _require_applicant(actor, "task_complete")
        _lock(actor)
        check_request(actor, forms.validate(processes.task_form(task), data))
        _require_approvers(actor)
    elif task.bpmn_id in GRANT_TASKS and data.get("decision") == "approve":
        values = request_values(task.instance, task)
        check_grant(actor, task.instance.started_by, values.get("requested_roles"), values.get("valid_until"))
    return task


def complete(actor, task_id, data):
    """Resubmit, give the leader's opinion or grant: the checks above, then the generic completion."""
    from workflows import processes
    check_completion(actor, task_id, data)
    return processes.complete_task(actor, task_id, data)


# --- the submitting step (handler ``permission_change_prepare``) ------------------------------------------

def prepare(ctx, requested_roles, valid_until):
    """Check the submission again inside the step and record the roles held now and the route. A submission that
    no longer passes (only possible past the pages and the API, which check first) goes back to the applicant
    with the reason."""
    instance, applicant = ctx.instance, ctx.instance.started_by
    actor = {"actor_id": ctx.actor.id if ctx.actor else None, "actor_name": ctx.actor.username if ctx.actor else None}
    _lock(applicant)
    try:
        other = open_request(applicant, exclude_id=instance.id)
        if other is not None:
            raise RequestOpen(instance_id=other.id)
        change = check_request(applicant, {"requested_roles": requested_roles, "valid_until": valid_until})
        _require_approvers(applicant)
    except DomainError as exc:
        reason = message_of(exc)
        ctx.event("outcome", task_name="核对申请", comment=f"申请未通过核对，已退回申请人修改：{reason}",
                  detail={"reason": reason}, **actor)
        return {"ok": False, "reason": reason}
    route = route_of(applicant)
    instance.title = f"权限变更申请：{who(applicant)}"[:200]
    instance.business_key = request_key(applicant.id)
    return {"ok": True, "route": route, "route_label": ROUTES[route][2],
            "current_ids": [r.id for r in change.current], "current": names(change.current),
            "requested": names(change.requested), "added": names(change.added), "removed": names(change.removed),
            "valid_until": valid_until, "submitted_at": iso(utcnow())}


# --- reading ---------------------------------------------------------------------------------------------

def options(actor):
    """The application form's facts: the roles held (temporary ones with their end), the roles offered, and
    whether (and why not) the actor may apply now."""
    ends = temporary_until(actor)
    held = {r.id for r in actor.roles}
    pending = open_request(actor) if actor.org is not None else None
    route = route_of(actor) if actor.org is not None else None
    return {
        "current": [{"id": r.id, "name": r.name, "temporary_until": iso(ends.get(r.id))} for r in ordered(actor.roles)],
        "choices": [{"id": r.id, "name": r.name, "scope": "system" if r.org_id is None else "org",
                     "held": r.id in held, "description": r.description}
                    for r in (role_options(actor) if actor.org is not None else [])],
        "route": route, "route_label": ROUTES[route][2] if route else None,
        "open_request": pending.id if pending else None, "refusal": refusal(actor),
    }


def _opinion(row, kind):
    person = row.completed_by
    return {"by": person.username if person else None, "name": person.display_name if person else None,
            "at": iso(row.completed_at), "task": row.name, "decision": row.outcome,
            "decision_label": DECISIONS[kind].get(row.outcome, row.outcome), "comment": row.comment}


def opinions(instance):
    """The unit leader's and the administrator's opinions of the latest round (a resubmission starts a new one)."""
    rows = Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.state == TaskStatus.COMPLETED)
                             .order_by(HumanTask.completed_at, HumanTask.id)).all()
    found = {"leader": None, "admin": None}
    for row in rows:
        if row.bpmn_id == SUBMIT_TASK:
            found = {"leader": None, "admin": None}
        elif row.bpmn_id == LEADER_TASK:
            found["leader"] = _opinion(row, "leader")
        elif row.bpmn_id in GRANT_TASKS:
            found["admin"] = _opinion(row, "admin")
    return found


def last_return(instance):
    """The latest 退回 / 驳回, for the applicant's resubmission page."""
    row = Session().scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.outcome == "reject",
        HumanTask.bpmn_id.in_([LEADER_TASK, *GRANT_TASKS])).order_by(HumanTask.completed_at.desc(),
                                                                    HumanTask.id.desc())).first()
    return _opinion(row, "leader" if row.bpmn_id == LEADER_TASK else "admin") if row else None


def change_view(instance, task=None):
    """附表4 as plain data for the pages, the API and the printed form: the applicant, each role held or
    requested (kept, added, removed), the reason, the validity, the opinions, and the result once applied."""
    from workflows import files
    values = request_values(instance, task)
    prepared, result = values.get("change") or {}, values.get("apply_result") or {}
    applicant = instance.started_by
    applied = bool(result.get("applied"))
    ids = [i for i in values.get("requested_roles") or () if type(i) is int]
    requested = {r.id: r for r in Session().scalars(select(Role).where(Role.id.in_(ids)))} if ids else {}
    held = {r.id: r for r in applicant.roles}
    ends = temporary_until(applicant)
    if applied:
        before, after = set(result["before"]), set(result["after"])
        rows = [{"name": n, "held": n in before, "requested": n in after, "temporary_until": None}
                for n in result["before"] + [n for n in result["after"] if n not in before]]
    else:
        shown = ordered({**held, **requested}.values())
        rows = [{"name": r.name, "held": r.id in held, "requested": r.id in requested,
                 "temporary_until": iso(ends.get(r.id)) if r.id in held else None} for r in shown]
    form_file = files.get_attachment(result.get("form_file")) if applied else None
    return {
        "applicant": {"id": applicant.id, "username": applicant.username, "display_name": applicant.display_name,
                      "real_name": applicant.real_name, "org": applicant.org.name if applicant.org else "",
                      "user_type": applicant.user_type_label},
        "roles": rows,
        "current": [r["name"] for r in rows if r["held"]],
        "requested": [r["name"] for r in rows if r["requested"]],
        "added": [r["name"] for r in rows if r["requested"] and not r["held"]],
        "removed": [r["name"] for r in rows if r["held"] and not r["requested"]],
        "missing_roles": [i for i in ids if i not in requested],
        "reason": values.get("reason"), "valid_until": values.get("valid_until"),
        "route": prepared.get("route"), "route_label": prepared.get("route_label"),
        "submitted_at": prepared.get("submitted_at"),
        "changed_since": bool(prepared.get("current_ids") is not None and not applied
                              and set(prepared["current_ids"]) != set(held)),
        "opinions": opinions(instance),
        "applied": applied, "applied_at": result.get("applied_at"),
        "temporary_until": result.get("temporary_until") if applied else None,
        "not_applied": result.get("reason") if result and not applied else None,
        "form_file": {"id": form_file.id, "name": form_file.original_name} if form_file else None,
    }


def get_request(actor, instance_id):
    from workflows import processes
    instance = processes.get_instance(actor, instance_id)
    if instance.process_key != KEY:
        raise NotFound()
    return instance


def my_requests(actor, limit=20):
    """The actor's own permission changes, newest first."""
    return Session().scalars(select(ProcessInstance).where(
        ProcessInstance.process_key == KEY, ProcessInstance.started_by_id == actor.id)
        .order_by(ProcessInstance.id.desc()).limit(limit)).all()
