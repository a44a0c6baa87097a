"""Service-task handlers of ``bpmn/credential_leak.bpmn`` (账号泄露处置). The rules and their reasons are in
``workflows/leaks.py``.

- ``leak_suspend`` (starting step): checks the report again under a row lock on the account; a report that fails
  the checks (only possible past the pages and the API, which check first) ends the case as 未受理 with the
  reason on the timeline and nothing changed. Otherwise the account is suspended and the case taken over.
- ``leak_restore``: unlocks the account once its password was reset; otherwise the task comes back.
- ``leak_close``: the written record closes the case (audited).
- ``leak_escalate``: 24 hours after the discovery, an open case is reported to the superior administrators.
- ``leak_remind``: the 3-day reminder of an open step, to its candidates.
"""
from models import Session, utcnow
from models.accounts import User
from models.workflow import HumanTask, TaskStatus
from workflows import audit, inbox, leaks, notifications
from workflows.errors import DomainError
from workflows.handlers import handler


def _who(ctx):
    return {"actor_id": ctx.actor.id if ctx.actor else None, "actor_name": ctx.actor.username if ctx.actor else None}


@handler("leak_suspend")
def suspend(ctx, account, discovered_at, description):
    try:
        checked = leaks.check_report(ctx.actor, account, discovered_at, description, lock=True)
    except DomainError as exc:
        reason = leaks.refusal_message(exc)
        ctx.event("leak_refused", task_name="受理报告", comment=reason, detail={"reason": reason}, **_who(ctx))
        audit.record("leak_report", actor=ctx.actor, outcome="failure", target=ctx.instance,
                     target_name=f"{leaks.PROCESS}#{ctx.instance.id}", detail={"reason": reason})
        return {"accepted": False, "reason": reason}
    return leaks.suspend(ctx, checked)


@handler("leak_restore")
def restore(ctx, leak):
    return leaks.restore(ctx, leak)


@handler("leak_close")
def close(ctx, leak):
    account = Session().get(User, leak["account_id"])
    restored = account is not None and account.lock_reason != "leak"
    ctx.event("leak_closed", task_name="办结存档", detail={"account": leak["username"], "restored": restored},
              **_who(ctx))
    audit.record("leak_close", actor=ctx.actor, target=account,
                 detail={"case": f"{leaks.PROCESS}#{ctx.instance.id}", "restored": restored})
    return {"closed_at": leaks.iso(utcnow()), "restored": restored}


@handler("leak_escalate")
def escalate(ctx, leak):
    instance = ctx.instance
    superiors = leaks.superior_admins(instance.org)
    deadline = leaks.parse_time(leak["escalate_at"])
    for user in superiors:
        notifications.notify(user, "leak_escalation", f"账号泄露超过24小时未处置完毕：{leak['username']}",
                             body=f"{leak['org']} 的账号 {leak['username']}（{leak['display_name']}）于 "
                                  f"{leaks.local(leaks.parse_time(leak['discovered_at']))} 发现泄露，"
                                  f"至 {leaks.local(deadline)} 仍未处置完毕（处置单位：{leak['handling_org']}）。"
                                  "请督促处置。",
                             link=f"/instances/{instance.id}")
    notified = [u.username for u in superiors]
    ctx.event("leak_escalated", task_name="超过24小时未办结，上报上级业务管理员",
              detail={"notified": notified, "deadline": leak["escalate_at"]})
    audit.record("leak_escalate", actor_name="system", target=instance,
                 target_name=f"{leaks.PROCESS}#{instance.id}",
                 detail={"account": leak["username"], "notified": notified, "deadline": leak["escalate_at"]})
    return {"notified": notified}


@handler("leak_remind")
def remind(ctx, task):
    rows = Session().query(HumanTask).filter_by(instance_id=ctx.instance.id, bpmn_id=task,
                                                 state=TaskStatus.READY).all()
    notified = set()
    for row in rows:
        for user in inbox.candidates(row):
            notified.add(user.username)
            notifications.notify(user, "reminder", f"催办：{ctx.instance.title}（{row.name}）待处理",
                                 body="账号泄露处置应尽快完成（江苏规范：发现泄露后24小时内报告并处置），请及时办理。",
                                 link=f"/tasks/{row.id}")
    ctx.event("reminder", bpmn_id=task, task_name=rows[0].name if rows else task,
              detail={"notified": sorted(notified)})
    return {"notified": sorted(notified)}
