"""Business-admin handover 业务管理员交接 (Jiangsu §三.(二).4): who may hand over to whom, the effect of an approved
handover, the written report, and plain views for the pages and the API. The process is
``bpmn/admin_handover.bpmn``; its service-task handlers are in ``workflows/effects/admin_handover.py``.

Starting. A business administrator holding 业务管理员交接 (``sys.handover``) reports the handover to the superior
administrators (报告上级业务管理员): the successor, the reason and the planned date. The successor is an account of
the same organization that is active, real-name verified, not locked, not a business administrator and not the
unit's leader (the leader signs the handover, Jiangsu asks for three parties). The organization needs a
supervising organization with a business administrator who can approve; one handover per organization is open at
a time. The same checks run before the start (pages, API) and again in the starting step under a row lock on the
organization, which notifies the superior administrators and the successor.

The on-site check. The outgoing administrator and the successor each tick the checklist (账号信息, 密码, 用户信息,
文档, each with an optional note) or raise a dispute with a note; unless both confirmed, the round starts again for
both. The successor's task is assigned to that person from its creation (the named lane ``successor``). The unit
leader then signs or returns the round; the superior administrator approves or rejects (驳回: the handover ends,
nothing changes).

Approval (``apply``), in the approving step, after checking the successor again (active, unlocked, still a member
of the organization; else nothing changes and the approval comes back with the reason):
- the outgoing account loses the admin role of its level and every role holding admin-only function points (held
  by no default role of another user type), becomes a 本级用户2 and is locked (reason 管理员锁定, note
  业务管理员交接), its sessions and tokens ended;
- the successor gets the level's admin role and the user type 业务管理员; its sessions end so it signs in again
  with the new rights;
- both accounts get an ``admin_handover`` audit row (the lock also its ``account_lock`` row); the outgoing and
  incoming administrators and the superior administrators are notified;
- the written handover report (书面交接报告, PDF) is generated and attached to the instance.
"""
import io
from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import select

from models import Session, utcnow
from models.accounts import LockReason, Role, User, UserStatus, UserType
from models.orgs import Organization
from models.regions import RegionLevel
from models.workflow import HumanTask, InstanceStatus, ProcessEvent, ProcessInstance, TaskStatus
from workflows import (audit, auth, files, forms, inbox, jurisdiction, lanes, notifications, pdf, permissions, roles,
                       settings)
from workflows.clock import iso, local, today_in_china
from workflows.errors import Conflict, DomainError, InvalidInput, NotAuthorized

PROCESS = "admin_handover"
START_POINT = "sys.handover"
LEADER_POINT = "approval.leader"
SIDES = {"outgoing": "confirm_outgoing", "incoming": "confirm_incoming"}
SIDE_LABELS = {"outgoing": "原业务管理员", "incoming": "接任业务管理员"}
LEADER_TASK, APPROVAL_TASK = "leader_signoff", "superior_approval"
CHECKLIST = (("account_info", "账号信息"), ("password", "密码"), ("user_info", "用户信息"), ("documents", "文档"))
LEVEL_ROLES = {RegionLevel.PROVINCE: "province_admin", RegionLevel.CITY: "city_admin",
               RegionLevel.COUNTY: "county_admin"}
FORMER_ADMIN_TYPE = UserType.SAME_LEVEL_2
LOCK_NOTE = "业务管理员交接"
OPEN = (InstanceStatus.RUNNING, InstanceStatus.ERROR)
REPORT_TITLE = "业务管理员书面交接报告"
RESULT_LABELS = {"done": "已完成交接", "rejected": "已驳回", "refused": "未受理"}
DECISION_LABELS = {"confirm": "核对无误，确认交接", "dispute": "提出异议", "approve": "同意交接",
                   "return": "退回重新核对", "refuse": "驳回"}
NO_SUPERIOR = "本单位没有可以审批的上级业务管理员，不能在系统中办理交接，请联系系统管理员"


class HandoverOpen(Conflict):
    code = "handover_open"
    message = "本单位已有一项业务管理员交接正在办理，办结后才能再次发起"


class SuccessorUnavailable(Conflict):
    code = "successor_unavailable"




def person(user):
    return {"id": user.id, "username": user.username, "display_name": user.display_name} if user else None


# --- who -----------------------------------------------------------------------------------------------------

def superior_admins(org):
    """The business administrators of the supervising organization who may approve now (the superior_admin lane)."""
    if org.supervisor_id is None:
        return []
    members = Session().scalars(select(User).where(
        User.org_id == org.supervisor_id, User.user_type == UserType.BUSINESS_ADMIN,
        User.status == UserStatus.ACTIVE).order_by(User.id)).all()
    return [u for u in members if lanes.qualifies(u, "superior_admin", org.supervisor_id)]


def open_handover(org, exclude_id=None):
    query = select(ProcessInstance).where(ProcessInstance.process_key == PROCESS, ProcessInstance.org_id == org.id,
                                          ProcessInstance.status.in_([str(s) for s in OPEN]))
    if exclude_id is not None:
        query = query.where(ProcessInstance.id != exclude_id)
    return Session().scalars(query.order_by(ProcessInstance.id)).first()


def may_start(actor):
    return (actor.org is not None and jurisdiction.is_business_admin(actor)
            and START_POINT in roles.permissions_of(actor))


def start_refusal(actor):
    """Why ``actor`` cannot start a handover now (a sentence for the pages), or None."""
    if actor.org is None:
        return "系统管理员账号不属于任何单位，不能发起业务管理员交接"
    if not may_start(actor):
        return "只有本单位的业务管理员可以发起业务管理员交接"
    if open_handover(actor.org) is not None:
        return HandoverOpen.message
    if not superior_admins(actor.org):
        return NO_SUPERIOR
    return None


def successor_problem(outgoing, user, now=None):
    """Why ``user`` cannot take over from ``outgoing`` (a sentence), or None."""
    now = now or utcnow()
    if user is None or user.org_id != outgoing.org_id or user.status == UserStatus.DELETED:
        return "请选择本单位的账号"
    if user.id == outgoing.id:
        return "不能指定本人为接任人"
    if user.status != UserStatus.ACTIVE:
        return "该账号已停用，不能接任"
    if user.is_locked(now):
        return "该账号已锁定，不能接任"
    if not user.real_name_verified:
        return "该账号尚未通过实名认证，不能接任"
    if user.user_type == UserType.BUSINESS_ADMIN:
        return "该账号已是业务管理员"
    if LEADER_POINT in roles.permissions_of(user):
        return "单位负责人须为交接签字确认，不能同时作为接任人"
    return None


def eligible_successors(actor):
    """The accounts ``actor`` may name as successor, for the form's choices."""
    if actor.org_id is None:
        return []
    members = Session().scalars(select(User).where(User.org_id == actor.org_id, User.id != actor.id,
                                                   User.status == UserStatus.ACTIVE).order_by(User.id)).all()
    now = utcnow()
    return [u for u in members if successor_problem(actor, u, now) is None]


def successor_unavailable(user, org_id):
    """At approval: why the successor cannot take over any more, or None."""
    if user is None or user.org_id != org_id or user.status != UserStatus.ACTIVE:
        return "接任人账号已停用或已不属于本单位"
    if user.is_locked(utcnow()):
        return "接任人账号已被锁定"
    return None


# --- starting ----------------------------------------------------------------------------------------------

@dataclass
class CheckedReport:
    outgoing: User
    org: Organization
    successor: User
    reason: str
    planned_date: str
    superiors: list


def _lock_org(org):
    return Session().scalars(select(Organization).where(Organization.id == org.id).with_for_update()
                             .execution_options(populate_existing=True)).one()


def check_start(actor, data, *, lock=False, exclude_id=None):
    """Everything a handover report must satisfy, before anything changes: a ``CheckedReport``, or
    ``NotAuthorized`` (not a business admin), ``HandoverOpen`` (409), ``FormInvalid`` / ``InvalidInput`` (422).
    ``lock`` holds the organization row until the step ends, so two reports cannot both open a handover."""
    from workflows import processes
    if actor.org is None:
        raise NotAuthorized("系统管理员账号不属于任何单位，不能发起业务管理员交接")
    if not may_start(actor):
        raise NotAuthorized("只有本单位的业务管理员可以发起业务管理员交接",
                            audit=("admin_handover_start", "organization", actor.org_id))
    org = _lock_org(actor.org) if lock else actor.org
    pending = open_handover(org, exclude_id)
    if pending is not None:
        raise HandoverOpen(instance_id=pending.id)
    superiors = superior_admins(org)
    if not superiors:
        raise InvalidInput(NO_SUPERIOR, code="no_superior_admin")
    if not isinstance(data, dict) or not data:
        raise InvalidInput("请填写交接报告：接任人、交接原因和计划交接日期", code="invalid_input")
    cleaned = forms.validate(processes.start_form(PROCESS), data)
    errors = {}
    successor = Session().get(User, cleaned["successor_id"])
    problem = successor_problem(actor, successor)
    if problem:
        errors["successor_id"] = [problem]
    if date.fromisoformat(cleaned["planned_date"]) < today_in_china():
        errors["planned_date"] = ["计划交接日期不能早于今天"]
    if errors:
        raise InvalidInput(fields=errors)
    return CheckedReport(actor, org, successor, cleaned["reason"], cleaned["planned_date"], superiors)


def start_handover(actor, data):
    """Report a handover (the 发起交接 page): check, then start and submit the report in one step."""
    from workflows import processes
    check_start(actor, data)
    return processes.start_instance(actor, PROCESS, data)


def accept(ctx, checked):
    """The starting step's effect: name the instance, tell the superior administrators and the successor."""
    instance, outgoing, successor, org = ctx.instance, checked.outgoing, checked.successor, checked.org
    instance.business_key = f"{PROCESS}:{org.id}"
    instance.title = f"业务管理员交接：{outgoing.display_name} → {successor.display_name}"[:200]
    link = f"/handovers/{instance.id}"
    for user in checked.superiors:
        notifications.notify(user, "admin_handover", f"业务管理员交接报告：{org.name}",
                             body=f"{outgoing.display_name}（{outgoing.username}）报告拟将业务管理员工作交接给 "
                                  f"{successor.display_name}（{successor.username}），计划交接日期 "
                                  f"{checked.planned_date}。交接原因：{checked.reason}", link=link)
    notifications.notify(successor, "admin_handover", f"您被指定为{org.name}的接任业务管理员",
                         body="请与原业务管理员及单位负责人现场核对账号信息、密码、用户信息及文档，"
                              "并在“接任业务管理员核对交接清单”中确认。", link=link)
    notified = [u.username for u in checked.superiors]
    ctx.event("handover_reported", actor_id=outgoing.id, actor_name=outgoing.username,
              detail={"notified": notified, "successor": successor.username, "superior_org": org.supervisor.name})
    return {"accepted": True, "org_id": org.id, "org": org.name, "outgoing": person(outgoing),
            "successor": person(successor), "successor_id": successor.id, "reason": checked.reason,
            "planned_date": checked.planned_date, "superior_org": org.supervisor.name,
            "reported_at": iso(utcnow()), "notified": notified}


def refusal_message(exc):
    if isinstance(exc, InvalidInput) and exc.fields:
        return "；".join(m for messages in exc.fields.values() for m in messages)
    return exc.message if isinstance(exc, DomainError) else str(exc)


# --- the checklist round -------------------------------------------------------------------------------------

def answer(ctx, side, handover, decision, comment):
    """After one side's checklist answer: tell the other side of a dispute at once, and say whether the round is
    complete (both answered) and confirmed (both confirmed). The answers are the two tasks' recorded outcomes:
    the answer being submitted is already recorded in this step."""
    rows = Session().scalars(select(HumanTask).where(HumanTask.instance_id == ctx.instance.id,
                                                     HumanTask.bpmn_id.in_(list(SIDES.values())))
                             .order_by(HumanTask.id)).all()
    latest = {row.bpmn_id: row for row in rows}
    outcomes = {s: latest[b].outcome if b in latest and latest[b].state == TaskStatus.COMPLETED else None
                for s, b in SIDES.items()}
    complete = None not in outcomes.values()
    confirmed = complete and set(outcomes.values()) == {"confirm"}
    if decision == "dispute":
        other = Session().get(User, handover["successor_id"] if side == "outgoing" else handover["outgoing"]["id"])
        who = ctx.actor.display_name if ctx.actor else ""
        notifications.notify(other, "admin_handover", f"交接清单有异议：{handover['org']}",
                             body=f"{SIDE_LABELS[side]}{who}对交接清单提出异议：{comment or ''}。"
                                  + ("" if complete else "请提交您本轮的核对结果，") + "双方需重新核对交接清单。",
                             link=f"/handovers/{ctx.instance.id}")
    if complete:
        disputed = [SIDE_LABELS[s] for s, outcome in outcomes.items() if outcome != "confirm"]
        ctx.event("handover_checked", detail={"outcomes": outcomes},
                  comment="双方核对无误，报单位负责人签字确认" if confirmed
                  else f"{'、'.join(disputed)}提出异议，双方重新核对交接清单")
    return {"side": side, "decision": decision, "complete": complete, "confirmed": confirmed}


def _handover_of(instance):
    from workflows import processes
    return processes.latest_data(instance).get("handover") or {}


def check_completion(actor, task_id, data):
    """Before a handover task is completed: an approval needs a successor who can still take over (409
    ``successor_unavailable``), and the successor never signs as the unit leader. Other tasks, and tasks the actor
    may not act on, are left to the generic service."""
    from workflows import processes
    task = processes.get_task(actor, task_id)
    if task.process_key != PROCESS or task.state != TaskStatus.READY or not inbox.can_act(actor, task):
        return task
    data = data if isinstance(data, dict) else {}
    if task.bpmn_id == LEADER_TASK and actor.id == _handover_of(task.instance).get("successor_id"):
        raise NotAuthorized("接任人不能作为单位负责人为本次交接签字", audit=("task_complete", "human_task", task.id))
    if task.bpmn_id == APPROVAL_TASK and data.get("decision") == "approve":
        successor = Session().get(User, _handover_of(task.instance).get("successor_id") or 0)
        problem = successor_unavailable(successor, task.instance.org_id)
        if problem:
            raise SuccessorUnavailable(f"{problem}，不能批准交接；请待其恢复后再批准，或驳回本次交接")
    return task


def complete(actor, task_id, data):
    """Complete a handover task: the checks above, then the generic completion in the same transaction."""
    from workflows import processes
    check_completion(actor, task_id, data)
    return processes.complete_task(actor, task_id, data)


# --- approval ------------------------------------------------------------------------------------------------

@cache
def admin_only_points():
    """Function points of the level admin roles that no default role of another user type holds."""
    admin = [p for code, _, _, p in permissions.DEFAULT_ROLES if code in LEVEL_ROLES.values()]
    others = [p for code, _, _, p in permissions.DEFAULT_ROLES
              if code not in LEVEL_ROLES.values() and code != "system_admin"]
    return frozenset(set().union(*admin) - set().union(*others))


def is_admin_role(role):
    return role.code in LEVEL_ROLES.values() or bool(role.permission_codes & admin_only_points())


def _locked_user(user_id):
    return Session().scalars(select(User).where(User.id == user_id).with_for_update()
                             .execution_options(populate_existing=True)).one_or_none()


def _retire(outgoing, successor, actor, case, now):
    """The outgoing account: admin roles off, no longer a business administrator, locked, sessions ended."""
    removed = [r for r in outgoing.roles if is_admin_role(r)]
    outgoing.roles = [r for r in outgoing.roles if r not in removed]
    before = outgoing.user_type
    if before == UserType.BUSINESS_ADMIN:
        outgoing.user_type = FORMER_ADMIN_TYPE
    previous_lock = outgoing.lock_reason if outgoing.is_locked(now) else None
    outgoing.lock_reason, outgoing.locked_at, outgoing.locked_until = LockReason.ADMIN, now, None
    outgoing.lock_detail = f"{LOCK_NOTE} {case}"
    auth.end_sessions(outgoing)
    audit.record("account_lock", actor=actor, target=outgoing,
                 detail={"reason": LockReason.ADMIN.value, "note": LOCK_NOTE, "case": case})
    audit.record("admin_handover", actor=actor, target=outgoing, detail={
        "case": case, "side": "outgoing", "successor": successor.username, "removed_roles": [r.name for r in removed],
        "user_type": [str(before), str(outgoing.user_type)], "locked": True, "previous_lock": previous_lock})
    return removed


def _install(successor, outgoing, org, actor, case):
    """The successor: the level's admin role, user type 业务管理员, signs in again with the new rights."""
    role = Session().scalars(select(Role).where(Role.code == LEVEL_ROLES[RegionLevel(org.region.level)])).one()
    before = successor.user_type
    successor.user_type = UserType.BUSINESS_ADMIN
    if role not in successor.roles:
        successor.roles = [*successor.roles, role]
    auth.end_sessions(successor)
    audit.record("admin_handover", actor=actor, target=successor, detail={
        "case": case, "side": "incoming", "predecessor": outgoing.username, "added_roles": [role.name],
        "user_type": [str(before), UserType.BUSINESS_ADMIN.value]})
    return role


def apply(ctx, handover, comment):
    """The approving step's effect (see the module text). Nothing changes when the successor cannot take over."""
    instance, actor, now = ctx.instance, ctx.actor, utcnow()
    who = {"actor_id": actor.id if actor else None, "actor_name": actor.username if actor else None}
    outgoing, successor = _locked_user(handover["outgoing"]["id"]), _locked_user(handover["successor_id"])
    problem = successor_unavailable(successor, instance.org_id)
    if problem:
        ctx.event("handover_not_applied", task_name="停用原账号并启用新账号",
                  comment=f"{problem}，未执行交接；请待其恢复后重新审批，或驳回本次交接", **who)
        return {"applied": False, "reason": problem}
    case = f"{PROCESS}#{instance.id}"
    removed = _retire(outgoing, successor, actor, case, now)
    role = _install(successor, outgoing, instance.org, actor, case)
    effect = (f"交接完成：原业务管理员账号 {outgoing.username} 已取消管理员角色并停用（锁定）；"
              f"接任人账号 {successor.username} 已启用为业务管理员（{role.name}）。")
    approval = {"by": actor.username, "by_name": actor.display_name, "at": iso(now), "comment": comment,
                "org": actor.org.name if actor.org else ""}
    report = attach_report(instance, actor, handover_view(instance, approval=approval), effect)
    link = f"/handovers/{instance.id}"
    notifications.notify(outgoing, "admin_handover", "业务管理员交接已完成",
                         body=f"您的业务管理员工作已交接给 {successor.display_name}（{successor.username}），"
                              "原业务管理员账号已停用。", link=link)
    notifications.notify(successor, "admin_handover", f"您已成为{instance.org.name}的业务管理员",
                         body="交接已获上级业务管理员批准，请重新登录后使用业务管理员功能。", link=link)
    for user in superior_admins(instance.org):
        notifications.notify(user, "admin_handover", f"业务管理员交接已完成：{instance.org.name}",
                             body=effect, link=link)
    ctx.event("handover_done", task_name="停用原账号并启用新账号", comment=effect,
              detail={"outgoing": outgoing.username, "successor": successor.username, "report_file": report.id,
                      "removed_roles": [r.name for r in removed], "added_role": role.name}, **who)
    return {"applied": True, "applied_at": iso(now), "report_file": report.id, "report_name": report.original_name}


def reject(ctx, handover, comment):
    """驳回: the handover ends with nothing changed; both administrators are told why."""
    instance, actor = ctx.instance, ctx.actor
    for user_id in (handover["outgoing"]["id"], handover["successor_id"]):
        notifications.notify(user_id, "admin_handover", "业务管理员交接未获批准",
                             body=f"上级业务管理员驳回了本次交接，账号均保持不变。审批意见：{comment}",
                             link=f"/handovers/{instance.id}")
    audit.record("admin_handover", actor=actor, target=instance, outcome="failure",
                 target_name=f"{PROCESS}#{instance.id}",
                 detail={"result": "rejected", "opinion": comment, "outgoing": handover["outgoing"]["username"],
                         "successor": handover["successor"]["username"]})
    ctx.event("handover_rejected", task_name="驳回交接", comment=comment,
              actor_id=actor.id if actor else None, actor_name=actor.username if actor else None)
    return {"rejected": True}


# --- the written report (书面交接报告) ------------------------------------------------------------------------

def _who(entry):
    return f"{entry['by_name']}（{entry['by']}）" if entry else "—"


def _signoff(entry, label=None):
    """Who, the decision, when (Beijing time) and the opinion, one line each."""
    if not entry:
        return "—"
    lines = [f"签字人：{_who(entry)}", f"结论：{label or DECISION_LABELS.get(entry.get('decision'), '')}",
             f"时间：{local(entry['at'])}"]
    return lines + ([f"意见：{entry['comment']}"] if entry.get("comment") else [])


def _checked(side):
    return {item["key"]: item for item in (side or {}).get("items", [])}


def report_pdf(view, effect):
    """The written handover report as PDF bytes (the same facts give the same bytes)."""
    out, inc = view["sides"]["outgoing"]["last"], view["sides"]["incoming"]["last"]
    checks = {"outgoing": _checked(out), "incoming": _checked(inc)}

    def item_cell(key):
        lines = []
        for side in ("outgoing", "incoming"):
            item = checks[side].get(key) or {}
            line = f"{SIDE_LABELS[side]}：{'已核对' if item.get('checked') else '未核对'}"
            lines.append(line + (f"；备注：{item['note']}" if item.get("note") else ""))
        return lines

    approval = view["approval"]
    story = [
        pdf.paragraph(REPORT_TITLE, "title"), pdf.paragraph(view["org"], "subtitle"), pdf.spacer(4),
        pdf.form_table([("单位名称", view["org"]), ("交接编号", f"业务管理员交接 #{view['instance_id']}"),
                        ("原业务管理员", _person_text(view["outgoing"])),
                        ("接任业务管理员", _person_text(view["successor"])),
                        ("交接原因", view["reason"]), ("计划交接日期", view["planned_date"]),
                        ("报告上级业务管理员", f"{view['superior_org']}，{local(view['reported_at'])}")]),
        pdf.spacer(4), pdf.paragraph("一、现场核对清单（账号信息、密码、用户信息及文档）"),
        pdf.form_table([(label, item_cell(key)) for key, label in CHECKLIST]),
        pdf.spacer(4), pdf.paragraph("二、签字确认"),
        pdf.form_table([("原业务管理员", _signoff(out)), ("接任业务管理员", _signoff(inc)),
                        ("单位负责人", _signoff(view["leader"])),
                        ("上级业务管理员审批", _lines(f"单位：{approval['org']}", _signoff(approval, "批准"))
                         if approval else "—")]),
        pdf.spacer(4), pdf.paragraph(effect, "note"),
        pdf.paragraph("注：时间均为北京时间；本报告由系统根据交接流程的办理记录生成并存档。", "note")]
    return pdf.build(story, title=REPORT_TITLE,
                     subject=f"{view['org']} {view['outgoing']['username']} → {view['successor']['username']}")


def _lines(*parts):
    """Text parts and lists of them as one list of lines."""
    return [line for part in parts for line in (part if isinstance(part, list) else [part]) if line]


def _person_text(user):
    return f"{user['display_name']}（账号：{user['username']}）" if user else "—"


def attach_report(instance, actor, view, effect):
    data = report_pdf(view, effect)
    name = f"业务管理员交接报告（{view['org']}，{view['successor']['display_name']}）.pdf"
    attachment = files.store_upload(actor, name, io.BytesIO(data), kinds=("application/pdf",),
                                    max_bytes=max(len(data), settings.current().upload_max_bytes))
    files.link_to_instance([attachment.id], instance)
    return attachment


# --- reading ------------------------------------------------------------------------------------------------

def list_handovers(actor, page=1, per_page=20):
    from workflows import processes
    return processes.instances_page(actor, PROCESS, handover_view, page, per_page)


def get_handover(actor, instance_id):
    from workflows import processes
    return processes.get_instance_of(actor, instance_id, PROCESS)


def _entry(flow, row):
    values = flow.task_data(row.task_guid)
    user = row.completed_by
    return {"by": user.username if user else None, "by_name": user.display_name if user else None,
            "at": iso(row.completed_at), "decision": row.outcome, "comment": values.get("comment") or None,
            "items": [{"key": key, "label": label, "checked": values.get(key) is True,
                       "note": values.get(f"{key}_note") or None} for key, label in CHECKLIST]}


def handover_view(instance, *, approval=None):
    """Plain facts of one handover for the pages, the API and the report. ``approval`` stands in for the
    superior's decision while the approving step is still running."""
    from workflows import processes
    flow = processes.load_flow(instance)
    data = flow.latest_data()
    handover = data.get("handover") or {}
    rows = Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)
                             .order_by(HumanTask.id)).all()
    kinds = set(Session().scalars(select(ProcessEvent.kind).where(ProcessEvent.instance_id == instance.id)))

    def latest(bpmn_id, state=None):
        found = [r for r in rows if r.bpmn_id == bpmn_id and (state is None or r.state == state)]
        return found[-1] if found else None

    sides = {}
    for side, bpmn_id in SIDES.items():
        current, done = latest(bpmn_id), latest(bpmn_id, TaskStatus.COMPLETED)
        sides[side] = {"pending": current is not None and current.state == TaskStatus.READY,
                       "last": _entry(flow, done) if done else None}
    leader = latest(LEADER_TASK, TaskStatus.COMPLETED)
    decided = latest(APPROVAL_TASK, TaskStatus.COMPLETED)
    result = next((r for r, kind in (("done", "handover_done"), ("rejected", "handover_rejected"),
                                     ("refused", "handover_refused")) if kind in kinds), None)
    applied = data.get("handover_result") or {}
    successor = Session().get(User, handover["successor_id"]) if handover.get("successor_id") else None
    outgoing = Session().get(User, handover["outgoing"]["id"]) if handover.get("outgoing") else None
    return {
        "instance_id": instance.id, "title": instance.title, "status": instance.status,
        "status_label": RESULT_LABELS.get(result, instance.status_label), "result": result,
        "org": handover.get("org") or instance.org.name, "outgoing": handover.get("outgoing"),
        "successor": handover.get("successor"), "reason": handover.get("reason") or data.get("reason"),
        "planned_date": handover.get("planned_date") or data.get("planned_date"),
        "superior_org": handover.get("superior_org"), "reported_at": handover.get("reported_at"),
        "refusal": handover.get("refusal"),
        "accounts": {"outgoing": _account_state(outgoing), "successor": _account_state(successor)},
        "sides": sides,
        "leader": _entry(flow, leader) if leader else None,
        "approval": approval or ({**_entry(flow, decided), "org": decided.completed_by.org.name
                                  if decided.completed_by and decided.completed_by.org else ""} if decided else None),
        "report_file": {"id": applied["report_file"], "name": applied.get("report_name")}
        if applied.get("applied") else None,
        "open_tasks": [{"id": r.id, "name": r.bpmn_id, "title": r.name, "lane": r.lane,
                        "assignee": r.assignee.username if r.assignee else None}
                       for r in rows if r.state == TaskStatus.READY],
    }


def _account_state(user):
    if user is None:
        return None
    return {"user_type": user.user_type, "user_type_label": user.user_type_label,
            "locked": user.is_locked(utcnow()), "lock_reason": user.lock_reason_label,
            "roles": [r.name for r in user.roles]}
