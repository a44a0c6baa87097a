"""Service-task handlers of ``bpmn/admin_handover.bpmn`` (业务管理员交接). The rules and their reasons are in
``workflows/handovers.py``.

- ``handover_start`` (starting step): checks the report again under a row lock on the organization; a report that
  fails the checks (only possible past the pages and the API, which check first) ends as 未受理 with the reason on
  the timeline and nothing changed. Otherwise the superior administrators and the successor are told.
- ``handover_answer``: after one side's checklist answer, a dispute is told to the other side at once; the result
  says whether the round is complete (both answered) and confirmed (both confirmed).
- ``handover_apply``: the approved handover's effect and the written report; nothing when the successor cannot
  take over any more (the approval comes back).
- ``handover_reject``: 驳回, recorded and told; nothing changes.
"""
from workflows import audit, handovers
from workflows.errors import DomainError
from workflows.handlers import handler


@handler("handover_start")
def start(ctx, successor_id, reason, planned_date):
    data = {"successor_id": successor_id, "reason": reason, "planned_date": planned_date}
    try:
        checked = handovers.check_start(ctx.actor, data, lock=True, exclude_id=ctx.instance.id)
    except DomainError as exc:
        refusal = handovers.refusal_message(exc)
        ctx.event("handover_refused", task_name="受理交接报告", comment=refusal, detail={"reason": refusal},
                  actor_id=ctx.actor.id, actor_name=ctx.actor.username)
        audit.record("admin_handover", actor=ctx.actor, outcome="failure", target=ctx.instance,
                     target_name=f"{handovers.PROCESS}#{ctx.instance.id}", detail={"result": "refused",
                                                                                   "reason": refusal})
        return {"accepted": False, "refusal": refusal}
    return handovers.accept(ctx, checked)


@handler("handover_answer")
def answer(ctx, side, handover, decision, comment):
    return handovers.answer(ctx, side, handover, decision, comment)


@handler("handover_apply")
def apply(ctx, handover, comment):
    return handovers.apply(ctx, handover, comment)


@handler("handover_reject")
def reject(ctx, handover, comment):
    return handovers.reject(ctx, handover, comment)
