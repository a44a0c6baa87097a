"""Account application 用户申请 (Jiangsu §二.(二).1–2, 附表1 用户申请表 and 附表2 用户申请回执): who may apply for
whom, who signs and who decides, the checks, the account created on approval, and plain views for the pages
and the API. The process is ``bpmn/account_application.bpmn``; its service-task handlers are in
``workflows/effects/account_application.py``; the receipt PDF is ``workflows/receipts.py``.

Applying. An active, real-name verified account of a unit holding 我的申请 (``approval.requests``) fills 附表1 for
a new person of its own unit: the unit is the applicant's own (read-only); the ID number is checked by GB 11643
and against the sex; the user type must suit the unit's kind (a health commission: 业务管理员 and its same-level
users; a 精防机构: same-level and direct-report users; a medical institution: direct-report users); the requested
roles are the system roles and the unit's own roles (not the system administrator's); the validity ends no
earlier than its start and today. Refused, with a message that never names another unit: an ID number that
already has an active account (单人单号; an account locked because its holder resigned does not count, so a
person who changed units can apply at the new one), and a second open application for one ID number. The same
checks run again in the submitting step (``application_check``), so the generic pages and API obey them too.

Who signs, who decides. The unit leader (lane ``unit_leader``: the master account or a holder of 单位负责人审批,
never the applicant) agrees or returns. Then, as Jiangsu routes 附表1: an application for a 业务管理员 goes to the
superior business admins (``superior_admin``: those of the supervising commission, who manage the admins of the
regions below); the users of a health commission or a 精防机构 to the unit's own business admins (``leak_admin``,
Jiangsu's 本级精防机构业务管理员); a medical institution's users to the supervising commission's admins
(``supervising_admin``). Submitting is refused when nobody other than the applicant could sign or decide.

The decision (审批情况). 批准 and 批准，有变更 (with a reason; the user type, roles and validity may change, each
change recorded old → new) create the account in the same step through ``accounts.create_user``: named by the
Jiangsu rule ``type-region-pinyin`` with a numeric suffix, the final user type, roles, the mobile as its phone,
the e-mail and department, ``valid_until`` from the validity's end, and the applied name and ID number (not yet
verified: the real-name gate applies at its first login). The deciding admin must be able to create that user
type for the unit (``jurisdiction.can_manage``) and to grant every role (``roles.can_grant``); otherwise the
decision is refused and the task stays open. The random initial password (``accounts.initial_password``, which
forces a change at first login) is handed to the deciding request's answer alone (``decide``): never to the
workflow data, the receipt or the audit log. 未获批准 ends the request; 其它 returns it to the applicant with the
reason. Every final outcome gets the receipt (附表2) as a PDF attached to the instance, and the applicant is told.
A returned application may be corrected and resubmitted, or withdrawn (撤回).

A step replayed by an administrator's retry still creates the account, but nobody is there to be shown the
password: the timeline says so, and the admin resets the password on the account pages.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

from sqlalchemy import func, or_, select, text

from models import Session, utcnow
from models.accounts import USER_TYPE_LABELS, LockReason, Role, User, UserStatus, UserType
from models.orgs import Department, OrgKind
from models.workflow import HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from workflows import accounts, audit, files, forms, identity, inbox, jurisdiction, lanes, notifications, roles
from workflows.clock import iso, today_in_china
from workflows.errors import Conflict, InvalidInput, NotAuthorized, NotFound

PROCESS = "account_application"
REQUESTS = "approval.requests"
FILL, LEADER = "fill", "leader_review"
DECIDE = {"superior": "decide_superior", "own": "decide_own", "supervisor": "decide_supervisor"}
ROUTE_LANES = {"superior": "superior_admin", "own": "leak_admin", "supervisor": "supervising_admin"}
OPEN = (InstanceStatus.RUNNING, InstanceStatus.ERROR)

APPLIED_TYPES = (UserType.BUSINESS_ADMIN, UserType.SAME_LEVEL_1, UserType.SAME_LEVEL_2, UserType.DIRECT_REPORT)
TYPES_BY_KIND = {
    OrgKind.HEALTH_COMMISSION: (UserType.BUSINESS_ADMIN, UserType.SAME_LEVEL_1, UserType.SAME_LEVEL_2),
    OrgKind.MENTAL_HEALTH_CENTER: (UserType.SAME_LEVEL_1, UserType.SAME_LEVEL_2, UserType.DIRECT_REPORT),
    OrgKind.MEDICAL_INSTITUTION: (UserType.DIRECT_REPORT,),
}
UNIT_NATURES = ("卫生行政部门", "疾病预防控制机构", "精神卫生医疗机构", "社区卫生服务中心", "乡镇卫生院", "其他")
PURPOSES = {"manage": "系统管理", "operate": "业务操作", "browse": "业务查阅", "temporary": "临时使用"}
MH_CENTER = {"yes": "是", "no": "否"}
LEADER_DECISIONS = {"approve": "同意", "reject": "退回"}
DECISIONS = {"grant": "批准", "grant_changed": "批准，有变更", "refuse": "未获批准", "other": "其它"}
GRANTS = ("grant", "grant_changed")
CHANGE_FIELDS = ("new_user_type", "new_role_ids", "new_valid_from", "new_valid_until")
STATUS_LABELS = {"draft": "待提交", "returned": "已退回", "leader": "待单位主管领导审批",
                 "deciding": "待业务管理员审批", "granted": "已批准", "refused": "未获批准", "withdrawn": "已撤回",
                 "error": "处理异常"}
ACTIVE_ACCOUNT = "该身份证号码已有在用的系统账号，按单人单号原则不能再申请新账号；如需调整权限，请办理权限变更"
OPEN_APPLICATION = "该身份证号码已有一份正在办理的用户申请，办结或撤回后才能再次申请"
NO_LEADER = "本单位没有其他可以审批的单位主管领导（总账号或持有“单位负责人审批”的账号），无法提交"
NO_CHANGE = "选择“批准，有变更”时，请至少变更用户类型、管理权限或有效期中的一项"
PASSWORD_NOT_SHOWN = "本次创建账号时初始密码未能显示，请在“人员账号管理”中为该账号重置密码并单独告知用户本人"

# The login address printed on the receipt: set per request by the web layer (configured or the request's own).
login_url: ContextVar[str | None] = ContextVar("application_login_url", default=None)
# The initial password of an account created in this request's step, handed to ``decide`` and nowhere else.
_issued: ContextVar[dict | None] = ContextVar("application_issued_password", default=None)




def _date(value):
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def id_key(id_number):
    return f"{PROCESS}:{id_number}"


def type_label(value):
    try:
        return USER_TYPE_LABELS[UserType(value)]
    except ValueError:
        return value or ""


def types_for(org):
    """The user types a unit of this kind may apply for."""
    return TYPES_BY_KIND.get(org.kind, ())


def route_of(org, user_type):
    """``superior`` (a 业务管理员), ``own`` (the users of a commission or a 精防机构) or ``supervisor`` (the users
    of a medical institution)."""
    if user_type == UserType.BUSINESS_ADMIN:
        return "superior"
    return "supervisor" if org.kind == OrgKind.MEDICAL_INSTITUTION else "own"


def decider_org(org, route):
    return org if route == "own" else org.supervisor


def _qualified(org_id, lane, exclude_id):
    members = Session().scalars(select(User).where(User.org_id == org_id, User.status == UserStatus.ACTIVE,
                                                   User.id != exclude_id).order_by(User.id)).all()
    return [u for u in members if lanes.qualifies(u, lane, org_id)]


# --- roles ---------------------------------------------------------------------------------------------------

def requestable_roles(org):
    """The roles an account of ``org`` may be given: system roles and the unit's own, in normal use, without the
    system administrator's."""
    return Session().scalars(select(Role).where(
        Role.status == "normal", or_(Role.org_id.is_(None), Role.org_id == org.id),
        or_(Role.code.is_(None), Role.code != "system_admin")).order_by(Role.sort, Role.id)).all()


def _roles_by_id(role_ids):
    ids = [i for i in role_ids or () if type(i) is int]
    return {r.id: r for r in Session().scalars(select(Role).where(Role.id.in_(ids)))} if ids else {}


def role_names(role_ids):
    found = _roles_by_id(role_ids)
    return [found[i].name if i in found else f"#{i}" for i in role_ids or ()]


def _role_problem(org, role_ids):
    allowed = {r.id for r in requestable_roles(org)}
    refused = [i for i in role_ids or () if i not in allowed]
    if refused:
        return f"不能申请的角色：{'、'.join(role_names(refused))}（不存在、已停用或不能授予本单位的账号）"
    return None


# --- who may apply --------------------------------------------------------------------------------------------

def refusal(actor):
    """Why ``actor`` cannot submit an account application now (a sentence), or None."""
    if actor.org is None:
        return "系统管理员账号不属于任何单位，不能提交用户申请；请在“人员账号管理”中直接创建账号"
    if not actor.is_active:
        return "账号已停用"
    if REQUESTS not in roles.permissions_of(actor):
        return "您没有“我的申请”权限，不能提交用户申请"
    if not actor.real_name_verified:
        return "请先完成实名认证"
    return None


def _require_applicant(actor, action):
    reason = refusal(actor)
    if reason:
        raise NotAuthorized(reason, audit=(action, "organization", actor.org_id) if actor.org_id else None)


# --- the checks of a submission --------------------------------------------------------------------------------

def active_account(id_number):
    """An account in use by this ID number (resigned holders' locked accounts do not count), or None."""
    return Session().scalars(select(User).where(
        User.id_type == "resident_id", User.id_number == id_number, User.status == UserStatus.ACTIVE,
        or_(User.lock_reason.is_(None), User.lock_reason != LockReason.RESIGNED))).first()


def open_application(id_number, exclude_id=None):
    query = select(ProcessInstance).where(ProcessInstance.process_key == PROCESS,
                                          ProcessInstance.business_key == id_key(id_number),
                                          ProcessInstance.status.in_(OPEN))
    if exclude_id is not None:
        query = query.where(ProcessInstance.id != exclude_id)
    return Session().scalars(query.order_by(ProcessInstance.id)).first()


def _serialize(id_number):
    """Hold a transaction-long lock on this ID number on PostgreSQL, so two submissions for one person cannot
    both pass the one-open-application rule; SQLite lets one writer at a time in anyway."""
    session = Session()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": id_key(id_number)})


def _resident_id(value):
    try:
        return identity.normalize_resident_id(value) if isinstance(value, str) and value else None
    except InvalidInput:
        return None


def _validity_problem(valid_from, valid_until):
    start, end = _date(valid_from), _date(valid_until)
    if start and end and end < start:
        return "有效期止不能早于有效期起"
    if end and end < today_in_china():
        return "有效期止不能早于今天"
    return None


def submission_problems(applicant, org, values, *, exclude_id=None):
    """``{field: message}`` for what the form's schema cannot say (see the module's docstring); ``"_"`` for the
    application as a whole."""
    problems = {}
    number = _resident_id(values.get("id_number"))
    if number:
        if values.get("gender") in ("男", "女") and identity.id_gender(number) != values["gender"]:
            problems["gender"] = "性别与身份证号码不符（身份证号码第17位为奇数是男性，偶数是女性）"
        if active_account(number) is not None:
            problems["id_number"] = ACTIVE_ACCOUNT
        elif open_application(number, exclude_id) is not None:
            problems["id_number"] = OPEN_APPLICATION
    user_type = values.get("user_type")
    allowed = types_for(org)
    if user_type and user_type not in allowed:
        names = "、".join(USER_TYPE_LABELS[t] for t in allowed) or "无"
        problems["user_type"] = f"{org.kind_label}不能申请“{type_label(user_type)}”账号（可申请：{names}）"
    elif user_type:
        route = route_of(org, user_type)
        target = decider_org(org, route)
        if target is None:
            problems["user_type"] = "本单位没有上级主管部门，无法确定审批的业务管理员，请联系系统管理员"
        elif not _qualified(target.id, ROUTE_LANES[route], applicant.id):
            problems["user_type"] = f"{target.name}目前没有可以审批该申请的业务管理员"
    role_problem = _role_problem(org, values.get("role_ids"))
    if role_problem:
        problems["role_ids"] = role_problem
    validity = _validity_problem(values.get("valid_from"), values.get("valid_until"))
    if validity:
        problems["valid_until"] = validity
    if not _qualified(org.id, "unit_leader", applicant.id):
        problems["_"] = NO_LEADER
    return problems


def _locked_problems(applicant, org, values, *, exclude_id=None):
    """``submission_problems`` with the ID number locked first (see ``_serialize``)."""
    number = _resident_id(values.get("id_number"))
    if number:
        _serialize(number)
    return submission_problems(applicant, org, values, exclude_id=exclude_id)


def _invalid(problems):
    return InvalidInput(problems.get("_") or "申请表填写有误，请检查标红的项目", code="invalid_application",
                        fields={name: [message] for name, message in problems.items()})


def describe(org, values):
    """The application as submitted, kept with the request (what the leader signs and the admin decides)."""
    role_ids = [i for i in values.get("role_ids") or () if type(i) is int]
    keys = ("applicant_name", "department", "id_number", "gender", "phone", "mobile", "email", "unit_nature",
            "unit_nature_other", "mh_center", "user_type", "purpose", "purpose_other", "valid_from",
            "valid_until", "note")
    return {"org_id": org.id, "org_name": org.name, **{k: values.get(k) for k in keys}, "role_ids": role_ids,
            "role_names": role_names(role_ids)}


def _application_form():
    from workflows import processes
    return processes.start_form(PROCESS)


def check_start(actor, data=None):
    """Everything a new application must satisfy; the cleaned submission, or None for a draft (no data)."""
    _require_applicant(actor, "account_application_start")
    if data is None:
        return None
    cleaned = forms.validate(_application_form(), data)
    if cleaned.get("action") == "withdraw":
        raise InvalidInput("尚未提交的申请不能撤回", code="invalid_input")
    problems = _locked_problems(actor, actor.org, cleaned)
    if problems:
        raise _invalid(problems)
    return cleaned


def submit(actor, data):
    """Fill in and submit a new application in one step (the 用户申请 page)."""
    from workflows import processes
    cleaned = check_start(actor, data if isinstance(data, dict) else {})
    return processes.start_instance(actor, PROCESS, cleaned)


def check_completion(actor, task_id, data):
    """Before the applicant's task is completed through the pages or the generic API: a resubmission passes the
    start rules (a withdrawal needs nothing). Other tasks are left to their own checks."""
    from workflows import processes
    task = processes.get_task(actor, task_id)
    if (task.process_key != PROCESS or task.lane != "applicant" or task.state != TaskStatus.READY
            or not inbox.can_act(actor, task)):
        return task
    cleaned = forms.validate(processes.task_form(task), data if isinstance(data, dict) else {})
    if cleaned.get("action") != "withdraw":
        _require_applicant(actor, "task_complete")
        problems = _locked_problems(actor, task.instance.org, cleaned, exclude_id=task.instance_id)
        if problems:
            raise _invalid(problems)
    return task


def resubmit(actor, task_id, data):
    """Correct and submit again after a return."""
    from workflows import processes
    task = check_completion(actor, task_id, data)
    return processes.complete_task(actor, task.id, data)


def applicant_task(instance):
    return Session().scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.state == TaskStatus.READY,
        HumanTask.lane == "applicant")).first()


def withdraw(actor, instance_id):
    """撤回 an application waiting for the applicant (returned, or a draft)."""
    from workflows import processes
    instance = get_application(actor, instance_id)
    task = applicant_task(instance)
    if task is None or not inbox.can_act(actor, task):
        raise Conflict("只有申请人可以撤回等待其修改的申请", code="not_withdrawable")
    return processes.complete_task(actor, task.id, {"action": "withdraw"})


# --- the engine steps (called by the handlers) ------------------------------------------------------------------

def check_submission(ctx, values):
    """The submitting step's check: the same rules as the pages; a failed check goes back to the applicant."""
    instance = ctx.instance
    org = instance.org
    number = _resident_id(values.get("id_number"))
    problems = _locked_problems(instance.started_by, org, values, exclude_id=instance.id)
    application = describe(org, values)
    if problems:
        reason = "；".join(problems.values())
        ctx.event("outcome", outcome="reject", bpmn_id="check", task_name="校验申请", comment=reason,
                  detail={"fields": problems})
        return {"ok": False, "errors": problems, "application": application}
    route = route_of(org, values["user_type"])
    instance.title = f"用户申请：{values['applicant_name']}（{type_label(values['user_type'])}）"[:200]
    instance.business_key = id_key(number)
    return {"ok": True, "route": route, "application": {**application, "id_number": number}}


def _who(ctx):
    actor = ctx.actor
    return {"actor_id": actor.id if actor else None, "actor_name": actor.username if actor else None}


def _name(instance):
    return f"{PROCESS}#{instance.id}"


def _tell_applicant(instance, title, body, link=None):
    notifications.notify(instance.started_by, "account_application", title, body=body,
                         link=link or f"/account-applications/{instance.id}")


def record_leader(ctx, decision, comment):
    """The unit leader's opinion: audited; a return is told to the applicant."""
    instance = ctx.instance
    audit.record("account_application_leader", actor=ctx.actor, target=instance, target_name=_name(instance),
                 detail={"decision": LEADER_DECISIONS.get(decision, decision), "comment": comment or ""})
    if decision != "approve":
        _tell_applicant(instance, f"用户申请被退回：{instance.title}",
                        f"单位主管领导退回了申请，意见：{comment or '（无）'}。请修改后重新提交，或撤回申请。",
                        f"/account-applications/{instance.id}/edit")
    return {"decision": decision, "by": ctx.actor.username if ctx.actor else None, "at": iso(utcnow())}


def final_values(application, decision, *, new_user_type=None, new_role_ids=None, new_valid_from=None,
                 new_valid_until=None):
    """The account to create: the application's user type, roles and validity, replaced by the admin's changes
    on 批准，有变更. Returns ``(final, changes)`` with each change as labelled text, old → new."""
    final = {"user_type": application["user_type"], "role_ids": sorted(application["role_ids"]),
             "valid_from": application["valid_from"], "valid_until": application["valid_until"]}
    if decision != "grant_changed":
        return final, []
    wanted = {"user_type": new_user_type, "role_ids": sorted(set(new_role_ids)) if new_role_ids else None,
              "valid_from": new_valid_from, "valid_until": new_valid_until}
    shown = {"user_type": type_label, "role_ids": lambda ids: "、".join(role_names(ids)),
             "valid_from": str, "valid_until": str}
    labels = {"user_type": "账号的用户类型", "role_ids": "申请管理权限", "valid_from": "有效期（起）",
              "valid_until": "有效期（止）"}
    changes = []
    for key, value in wanted.items():
        if value and value != final[key]:
            changes.append({"field": key, "label": labels[key], "old": shown[key](final[key]),
                            "new": shown[key](value)})
            final[key] = value
    return final, changes


def changes_text(changes):
    return "；".join(f"{c['label']}：{c['old']} → {c['new']}" for c in changes)


def record_decision(ctx, application, decision, comment, **changes_asked):
    """The admin's 审批情况: changes recorded on the timeline, audited; 其它 is told to the applicant."""
    instance, actor = ctx.instance, ctx.actor
    final, changes = final_values(application, decision, **changes_asked)
    if changes:
        ctx.event("application_changed", **_who(ctx),
                  detail={"changes": changes, "changes_text": changes_text(changes)})
    audit.record("account_application_decide", actor=actor, target=instance, target_name=_name(instance),
                 detail={"decision": DECISIONS.get(decision, decision), "reason": comment or "", "changes": changes})
    if decision == "other":
        _tell_applicant(instance, f"用户申请被退回：{instance.title}",
                        f"业务管理员审批意见：{comment or '（无）'}。请修改后重新提交，或撤回申请。",
                        f"/account-applications/{instance.id}/edit")
    return {"decision": decision, "reason": comment, "final": final if decision in GRANTS else None,
            "changes": changes, "by": actor.username if actor else None,
            "by_name": actor.display_name if actor else None, "at": iso(utcnow())}


def _hand_over(user, password):
    box = _issued.get()
    if box is None:
        return False
    box[user.id] = password
    return True


@contextmanager
def _password_receiver():
    box = {}
    token = _issued.set(box)
    try:
        yield box
    finally:
        _issued.reset(token)


def create_account(ctx, application, decision_result):
    """批准: the account, named by the Jiangsu rule, with the final type, roles and validity. Its initial password
    goes to the deciding request's answer only."""
    if active_account(application["id_number"]) is not None:
        raise Conflict(ACTIVE_ACCOUNT, code="id_number_active")
    final = decision_result["final"]
    user, password = accounts.create_user(
        ctx.actor, user_type=final["user_type"], org_id=application["org_id"],
        display_name=application["applicant_name"], role_ids=final["role_ids"], phone=application["mobile"],
        email=application.get("email"), department=application.get("department"),
        valid_until=_date(final["valid_until"]))
    user.real_name, user.id_type, user.id_number = application["applicant_name"], "resident_id", \
        application["id_number"]
    Session().flush()
    shown = _hand_over(user, password)
    ctx.event("account_created", **_who(ctx),
              comment=None if shown else PASSWORD_NOT_SHOWN,
              detail={"username": user.username, "user_type": user.user_type_label,
                      "roles": [r.name for r in user.roles], "valid_until": final["valid_until"]})
    return {"user_id": user.id, "username": user.username, "user_type": user.user_type,
            "roles": [r.name for r in user.roles], "valid_from": final["valid_from"],
            "valid_until": final["valid_until"], "approved_on": today_in_china().isoformat(),
            "password_shown": shown}


def _leader_signature(instance):
    row = Session().scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.bpmn_id == LEADER, HumanTask.outcome == "approve",
        HumanTask.state == TaskStatus.COMPLETED).order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())).first()
    return (row.completed_by, row.completed_at) if row else (None, None)


def issue_receipt(ctx, application, decision_result, account):
    """The receipt (附表2) for a final outcome, attached to the instance; the applicant is told the outcome."""
    from workflows import receipts
    instance = ctx.instance
    leader, signed_at = _leader_signature(instance)
    attachment = receipts.attach_receipt(
        instance, ctx.actor, application=application, decision=decision_result, account=account,
        admin=(ctx.actor, utcnow()), leader=(leader, signed_at), login=login_url.get() or "")
    ctx.event("receipt_issued", **_who(ctx),
              detail={"file_id": attachment.id, "name": attachment.original_name})
    label = DECISIONS.get(decision_result["decision"], decision_result["decision"])
    if account:
        body = (f"申请已{label}，账号名：{account['username']}。初始密码由业务管理员单独告知用户本人，"
                "初次登录时必须修改初始密码。")
    else:
        body = f"申请{label}，理由：{decision_result.get('reason') or '（无）'}。"
    _tell_applicant(instance, f"用户申请{label}：{instance.title}", body)
    return {"file_id": attachment.id, "name": attachment.original_name}


def record_withdrawal(ctx):
    instance = ctx.instance
    ctx.event("application_withdrawn", **_who(ctx))
    audit.record("account_application_withdraw", actor=ctx.actor, target=instance, target_name=_name(instance))
    return {"withdrawn_at": iso(utcnow())}


# --- the admin's decision ---------------------------------------------------------------------------------------

def is_decide_task(task):
    return task.process_key == PROCESS and task.bpmn_id in DECIDE.values()


def _require_grantable(actor, instance, final):
    """Refuse (403, audited) an account ``actor`` could not create: a user type outside its jurisdiction for the
    unit, or a role holding function points it lacks. The task stays open."""
    org, where = instance.org, ("account_application_decide", "process_instance", instance.id)
    if not jurisdiction.can_manage(actor, final["user_type"], org):
        raise NotAuthorized(f"您不能为{org.name}创建“{type_label(final['user_type'])}”账号（不在您的管理范围内）",
                            code="cannot_manage", audit=where)
    found = _roles_by_id(final["role_ids"])
    refused = [found[i].name for i in final["role_ids"] if i in found and not roles.can_grant(actor, found[i])]
    if refused:
        raise NotAuthorized(f"您不能授予角色：{'、'.join(refused)}（含有您本人没有的功能点）。"
                            "请选择“批准，有变更”调整管理权限，或选择“其它”说明理由", code="cannot_grant", audit=where)


def check_decision(actor, task, cleaned):
    """Refuse a 批准 that could not be carried out, before anything is written; returns the final values."""
    decision = cleaned.get("decision")
    if decision not in GRANTS:
        return None
    instance = task.instance
    application = application_data(instance).get("application") or {}
    final, changes = final_values(application, decision, **{k: cleaned.get(k) for k in CHANGE_FIELDS})
    if decision == "grant_changed" and not changes:
        raise InvalidInput(NO_CHANGE, code="no_change", fields={"decision": [NO_CHANGE]})
    problems = {}
    if final["user_type"] not in types_for(instance.org):
        problems["new_user_type"] = f"{instance.org.kind_label}不能开设“{type_label(final['user_type'])}”账号"
    role_problem = _role_problem(instance.org, final["role_ids"])
    if role_problem:
        problems["new_role_ids"] = role_problem
    validity = _validity_problem(final["valid_from"], final["valid_until"])
    if validity:
        problems["new_valid_until"] = validity
    if problems:
        raise _invalid(problems)
    _require_grantable(actor, instance, final)
    if active_account(application["id_number"]) is not None:
        raise Conflict(ACTIVE_ACCOUNT + "。请选择“未获批准”或“其它”", code="id_number_active")
    return final


def decide(actor, task_id, data):
    """The 业务管理员审批 step: the decision is checked, then the task completed; on 批准 the account is created in
    that same step. Returns ``(instance, account or None, initial password or None)``: the password exists
    only in this answer."""
    from workflows import processes
    task = processes.get_task(actor, task_id)
    if not is_decide_task(task):
        raise InvalidInput("该任务不是“业务管理员审批”", code="not_decide_task")
    cleaned = forms.validate(processes.task_form(task), data if isinstance(data, dict) else {})
    if task.state != TaskStatus.READY:
        raise processes.TaskNotReady(completed_by=task.completed_by.username if task.completed_by else None,
                                     completed_at=iso(task.completed_at))
    if not inbox.can_act(actor, task):
        raise NotAuthorized("您不能处理该任务", audit=("task_complete", "human_task", task.id))
    check_decision(actor, task, cleaned)
    with _password_receiver() as box:
        instance = processes.complete_task(actor, task.id, data)
    if instance.status == InstanceStatus.ERROR or not box:
        return instance, None, None
    (user_id, password), = box.items()
    return instance, Session().get(User, user_id), password


# --- reading ---------------------------------------------------------------------------------------------------

def get_application(actor, instance_id):
    """An application the actor may read: whoever may see the instance (applicant, signers, deciders,
    administrators of the region), and the members of the applying unit holding 我的申请."""
    instance = Session().get(ProcessInstance, instance_id)
    if instance is None or instance.process_key != PROCESS:
        raise NotFound()
    if not can_view(actor, instance):
        raise NotFound(audit=("read", "process_instance", instance.id))
    return instance


def can_view(actor, instance):
    return inbox.can_see_instance(actor, instance) or (
        actor.org_id == instance.org_id and REQUESTS in roles.permissions_of(actor))


def application_data(instance):
    """The request's latest data: the checked application (or the raw answers of a draft), the decision, the
    account and the receipt."""
    from workflows import processes
    data = processes.latest_data(instance)
    checked = data.get("check_result") if isinstance(data.get("check_result"), dict) else {}
    application = checked.get("application") or (describe(instance.org, data) if data.get("applicant_name")
                                                 else None)
    return {"application": application, "check": checked, "leader": data.get("leader_result"),
            "decision": data.get("decision_result"), "account": data.get("account"),
            "receipt": data.get("receipt"), "withdrawn": data.get("withdraw_result")}


def status_of(instance, data, rows):
    if instance.status == InstanceStatus.ERROR:
        return "error"
    if instance.status == InstanceStatus.CANCELLED:
        return "withdrawn"
    if instance.status == InstanceStatus.COMPLETED:
        if data["withdrawn"]:
            return "withdrawn"
        return "granted" if (data["decision"] or {}).get("decision") in GRANTS else "refused"
    open_ids = {r.bpmn_id for r in rows if r.state == TaskStatus.READY}
    if FILL in open_ids:
        return "returned" if data["check"] else "draft"
    return "leader" if LEADER in open_ids else "deciding"


def last_return(instance):
    """Who sent the application back, when and why (the newest return since the last submission), or None."""
    from workflows import processes
    for item in reversed(processes.history(instance)):
        if item["kind"] == "task_completed" and item["bpmn_id"] == FILL:
            return None
        if item["kind"] == "task_completed" and item["outcome"] in ("reject", "other"):
            who = "单位主管领导" if item["bpmn_id"] == LEADER else "业务管理员"
            return {"by": item["actor"], "role": who, "at": item["at"], "comment": item["comment"]}
        if item["kind"] == "outcome" and item["outcome"] == "reject":
            return {"by": None, "role": "系统校验", "at": item["at"], "comment": item["comment"]}
    return None


def labelled(application, *, full_id=True):
    """The application with the labels the pages and the receipt show."""
    if not application:
        return None
    from workflows.realname import mask_id
    return {**application,
            "id_number": application.get("id_number") if full_id else mask_id(application.get("id_number")),
            "user_type_label": type_label(application.get("user_type")),
            "purpose_label": PURPOSES.get(application.get("purpose"), application.get("purpose") or ""),
            "mh_center_label": MH_CENTER.get(application.get("mh_center"), ""),
            "unit_nature_label": (application.get("unit_nature_other") or "其他")
            if application.get("unit_nature") == "其他" else application.get("unit_nature") or ""}


def application_view(actor, instance):
    """Plain data about one application for the pages and the API. Colleagues who merely share the unit
    (``involved`` false) see the ID number masked and cannot download the receipt; no password anywhere: the
    workflow holds none."""
    data = application_data(instance)
    rows = Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)
                             .order_by(HumanTask.id)).all()
    state = status_of(instance, data, rows)
    involved = inbox.can_see_instance(actor, instance)
    decision = data["decision"] if state in ("granted", "refused") else None
    account = data["account"] if state == "granted" else None
    return {
        "instance_id": instance.id, "title": instance.title, "status": state, "status_label": STATUS_LABELS[state],
        "org": instance.org.name, "applicant": instance.started_by.username,
        "applicant_name": instance.started_by.display_name, "created_at": iso(instance.created_at),
        "completed_at": iso(instance.completed_at),
        "involved": involved,
        "application": labelled(data["application"], full_id=involved),
        "decision": {**decision, "label": DECISIONS.get(decision["decision"], decision["decision"])}
        if decision else None,
        "account": {k: account.get(k) for k in ("username", "user_type", "roles", "valid_from", "valid_until",
                                                "approved_on")} if account else None,
        "receipt": data["receipt"],
        "returned": last_return(instance) if state == "returned" else None,
        "open_tasks": [{"id": r.id, "name": r.bpmn_id, "title": r.name, "lane": r.lane,
                        "lane_label": lanes.LANES[r.lane].label,
                        "assignee": r.assignee.username if r.assignee else None}
                       for r in rows if r.state == TaskStatus.READY],
    }


def list_applications(actor, page=1, per_page=20):
    """The applications of the actor's unit, newest first: ``(views, total)``."""
    if actor.org_id is None:
        return [], 0
    query = select(ProcessInstance).where(ProcessInstance.process_key == PROCESS,
                                          ProcessInstance.org_id == actor.org_id).order_by(ProcessInstance.id.desc())
    total = Session().scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = Session().scalars(query.limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return [application_view(actor, r) for r in rows], total


def receipt_attachment(actor, instance_id):
    instance = get_application(actor, instance_id)
    receipt = application_data(instance)["receipt"] or {}
    attachment = files.get_attachment(receipt.get("file_id"))
    if attachment is None or attachment.instance_id != instance.id:
        raise NotFound("该申请尚未出具回执")
    return attachment


def form_options(org):
    """The choices of the application form for a unit."""
    departments = Session().scalars(select(Department.name).where(Department.org_id == org.id)
                                    .order_by(Department.sort, Department.id)).all()
    return {"org": {"id": org.id, "name": org.name, "kind": org.kind, "kind_label": org.kind_label},
            "user_types": [{"value": t.value, "label": USER_TYPE_LABELS[t]} for t in types_for(org)],
            "roles": [{"id": r.id, "name": r.name, "description": r.description} for r in requestable_roles(org)],
            "departments": list(departments), "unit_natures": list(UNIT_NATURES),
            "purposes": [{"value": k, "label": v} for k, v in PURPOSES.items()],
            "mh_center": [{"value": k, "label": v} for k, v in MH_CENTER.items()]}


def decide_options(actor, instance):
    """The 批准，有变更 choices for ``actor``: the user types of the unit it may create and the roles it may
    grant to the unit's accounts."""
    org = instance.org
    grantable = {r.id for r in roles.assignable_roles(actor, org)}
    return {"user_types": [{"value": t.value, "label": USER_TYPE_LABELS[t],
                            "allowed": jurisdiction.can_manage(actor, t, org)} for t in types_for(org)],
            "roles": [{"id": r.id, "name": r.name, "grantable": r.id in grantable} for r in requestable_roles(org)]}
