"""Handlers of ``institution_change`` (机构信息修改): the snapshot taken at each submission and the change applied
on approval. Both run inside the step's transaction; the rules live in ``workflows.institutions``."""
from workflows.handlers import handler


@handler("snapshot_institution")
def snapshot_institution(ctx):
    """The organization's core fields and version at submission; an approval is checked against them."""
    from workflows import institutions
    return institutions.record_snapshot(ctx.instance)


@handler("apply_institution_change")
def apply_institution_change(ctx, name, uscc, licence_no, category, snapshot):
    """Apply the approved values. A request that went stale meanwhile applies nothing: the result says why and
    the process returns to the review, where the reviewer can only send it back."""
    from workflows import institutions
    result = institutions.apply_change(ctx.instance, ctx.actor, {"name": name, "uscc": uscc,
                                                                 "licence_no": licence_no, "category": category},
                                       snapshot)
    if result["applied"]:
        ctx.event("outcome", outcome="approved", actor_id=ctx.actor.id if ctx.actor else None,
                  actor_name=ctx.actor.username if ctx.actor else None, detail={"changes": result["changes"]})
    else:
        reason = ("统一社会信用代码已被其他单位使用" if result["reason"] == "uscc_taken"
                  else f"主体信息已在申请提交后变更（{'、'.join(result['fields'])}）")
        ctx.event("outcome", comment=f"{reason}，未作修改，请退回申请单位按当前信息重新提交", detail=result)
    return result
