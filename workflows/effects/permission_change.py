"""Service-task handlers of ``bpmn/permission_change.bpmn`` (权限变更申请, Jiangsu 附表4). The rules and their reasons
are in ``workflows/permission_changes.py``.

- ``permission_change_prepare`` (after each submission): checks the request again and records the roles held
  and the route to the granting administrators.
- ``permission_change_apply`` (the administrator's 批准): checks again what the administrator may grant; then,
  in one step, the account gets exactly the requested roles (added roles with a date as temporary grants,
  removed roles removed and their open temporary grants closed), the change is audited, the applicant is told
  and 权限变更申请表 is attached to the instance as a PDF. A refused check changes nothing.
- ``permission_change_returned`` (退回 / 驳回): tells the applicant, whose form comes back with its values.
"""
import io

from sqlalchemy import select

from models import Session, utcnow
from models.scheduling import TemporaryGrant
from workflows import audit, files, notifications, pdf
from workflows import permission_changes as changes
from workflows.errors import InvalidInput
from workflows.handlers import handler

FORM_TITLE = "权限变更申请表"


def _who(ctx):
    return {"actor_id": ctx.actor.id if ctx.actor else None, "actor_name": ctx.actor.username if ctx.actor else None}


@handler("permission_change_prepare")
def prepare(ctx, requested_roles, valid_until):
    return changes.prepare(ctx, requested_roles, valid_until)


@handler("permission_change_apply")
def apply_change(ctx, requested_roles, valid_until, reason, comment):
    instance, admin, applicant = ctx.instance, ctx.actor, ctx.instance.started_by
    try:
        change = changes.check_grant(admin, applicant, requested_roles, valid_until)
    except InvalidInput as exc:
        ctx.event("outcome", task_name="变更权限", comment=f"{exc.message}（权限未变更）",
                  detail={"applied": False, "reason": exc.message}, **_who(ctx))
        return {"applied": False, "reason": exc.message}
    now = utcnow()
    ends = changes.ends_at(change.valid_until) if change.valid_until and change.added else None
    _set_roles(admin, change, ends, now, note=f"权限变更申请 #{instance.id}：{reason or ''}")
    Session().flush()
    record = {"instance_id": instance.id, "before": changes.names(change.current),
              "after": changes.names(changes.ordered(applicant.roles)), "added": changes.names(change.added),
              "removed": changes.names(change.removed), "valid_until": valid_until if ends else None,
              "temporary_until": changes.iso(ends)}
    audit.record("permission_change", actor=admin, target=applicant, detail=record)
    summary = _summary(record)
    notifications.notify(applicant, "permission_change", "权限变更已生效",
                         body=f"您的权限变更申请已由 {changes.who(admin)} 批准：{summary}。", link=f"/instances/{instance.id}")
    attachment = attach_form(instance, change, reason, comment, admin, now)
    ctx.event("permission_changed", task_name="变更权限", detail={"summary": summary, **record}, **_who(ctx))
    return {"applied": True, **record, "applied_at": changes.iso(now), "form_file": attachment.id}


def _set_roles(admin, change, ends, now, note):
    """The account's roles become the requested ones: removed roles leave it (their open temporary grants are
    closed), added ones join it, as temporary grants until ``ends`` when given."""
    from workflows import maintenance   # it imports the process services, which load this module
    account = change.user
    for role in change.removed:
        account.roles.remove(role)
    if change.removed:
        for grant in Session().scalars(select(TemporaryGrant).where(
                TemporaryGrant.user_id == account.id, TemporaryGrant.revoked_at.is_(None),
                TemporaryGrant.role_id.in_([r.id for r in change.removed]))):
            grant.revoked_at = now
    for role in change.added:
        if ends is None:
            account.roles.append(role)
        else:
            maintenance.grant_temporary_role(admin, account, role, ends, reason=note)


def _summary(record):
    parts = []
    if record["added"]:
        parts.append("新增角色：" + "、".join(record["added"])
                     + (f"（临时使用至 {record['valid_until']}）" if record["valid_until"] else ""))
    if record["removed"]:
        parts.append("取消角色：" + "、".join(record["removed"]))
    return "；".join(parts) or "角色未变化"


@handler("permission_change_returned")
def returned(ctx, comment):
    who = changes.who(ctx.actor) if ctx.actor else "审批人"
    notifications.notify(ctx.instance.started_by, "permission_change", "权限变更申请被退回",
                         body=f"{who}退回了您的权限变更申请，意见：{comment or '（无）'}。请修改后重新提交。",
                         link="/permission-changes/")
    return {"returned_at": changes.iso(utcnow()), "by": ctx.actor.username if ctx.actor else None}


# --- 权限变更申请表 -----------------------------------------------------------------------------------------------

def _opinion_cell(decision, comment, person, at):
    return [pdf.paragraph(f"{decision}。{comment}" if comment else f"{decision}。", "cell"), pdf.spacer(2),
            pdf.paragraph(f"签字：{person}    {at}", "right")]


def form_pdf(instance, change, reason, comment, admin, now):
    """权限变更申请表 as approved, as PDF bytes: the applicant, the roles before and after, the reason, the
    validity, and the leader's and the administrator's opinions with their times."""
    applicant = change.user
    leader = changes.opinions(instance)["leader"] or {}
    leader_name = f"{leader.get('name', '')}（{leader.get('by', '')}）"
    validity = (f"临时使用，新增角色使用至 {change.valid_until.isoformat()}（含当日）" if change.valid_until and change.added
                else "长期")
    rows = [("申请人姓名", applicant.real_name or applicant.display_name), ("账号", applicant.username),
            ("所在单位", applicant.org.name if applicant.org else ""), ("用户类型", applicant.user_type_label),
            ("当前角色", "、".join(changes.names(change.current)) or "（无）"),
            ("申请变更为", "、".join(changes.names(change.requested))),
            ("新增角色", "、".join(changes.names(change.added)) or "（无）"),
            ("取消角色", "、".join(changes.names(change.removed)) or "（无）"),
            ("变更原因", reason or ""), ("使用期限", validity),
            ("单位主管领导意见", _opinion_cell(leader.get("decision_label", ""), leader.get("comment"), leader_name,
                                        changes.local(leader.get("at")))),
            ("业务管理员意见", _opinion_cell("批准", comment, changes.who(admin), changes.local(now)))]
    story = [pdf.paragraph(FORM_TITLE, "title"), pdf.spacer(4),
             pdf.paragraph(f"申请编号：{instance.id}    申请日期：{changes.local(instance.created_at)[:10]}", "right"),
             pdf.spacer(2), pdf.form_table(rows, min_height={10: 60, 11: 60})]
    return pdf.build(story, title=FORM_TITLE, subject=f"{applicant.username} #{instance.id}")


def attach_form(instance, change, reason, comment, admin, now):
    """Store the form as an attachment of the instance, owned by the applicant."""
    data = form_pdf(instance, change, reason, comment, admin, now)
    name = f"{FORM_TITLE}（{change.user.display_name}，#{instance.id}）.pdf"
    attachment = files.store_upload(change.user, name, io.BytesIO(data), kinds=("application/pdf",),
                                    max_bytes=max(len(data), 1))
    files.link_to_instance([attachment.id], instance)
    return attachment
