"""Service-task handlers of the real-name verification (``bpmn/real_name_verification.bpmn``).

Each runs inside the step's transaction; the business rules live in ``workflows.realname``. The two checks
(``realname_prepare_form``, ``realname_check_submission``) never raise for bad material: they return
``ok: False`` and the process sends the step back to the applicant, with the reason on the timeline.
"""
from workflows import identity, realname
from workflows.handlers import handler


def _actor_fields(ctx):
    return {"actor_id": ctx.actor.id if ctx.actor else None, "actor_name": ctx.actor.username if ctx.actor else None}


def _send_back(ctx, bpmn_id, task_name, reason, detail=None):
    """Tell the applicant on the timeline why the step came back (shown like a reviewer's return)."""
    ctx.event("outcome", outcome="reject", bpmn_id=bpmn_id, task_name=task_name, comment=reason,
              detail=detail or {})


@handler("realname_prepare_form")
def prepare_form(ctx, real_name, id_type, id_number, phone, id_front, id_back):
    """Check step 1 once more (document number by type, photos by content) and generate the authorisation form."""
    applicant = ctx.instance.started_by
    values = {"real_name": real_name, "id_type": id_type, "id_number": id_number, "phone": phone,
              "id_front": id_front, "id_back": id_back}
    problems = realname.identity_problems(applicant, values)
    if problems:
        _send_back(ctx, "prepare_form", "核验资料并生成申请表", "；".join(problems.values()), {"fields": problems})
        return {"ok": False, "errors": problems}
    number = identity.normalize_id(id_type, id_number)
    attachment = realname.attach_authorization_form(ctx.instance, applicant, real_name.strip(), number)
    return {"ok": True, "form_file": attachment.id, "form_name": attachment.original_name}


@handler("realname_check_submission")
def check_submission(ctx, stamped_form, prepare_result):
    """Check the stamped scan and name the reviewer's lane (``route``)."""
    applicant = ctx.instance.started_by
    problem = realname.scan_problem(applicant, stamped_form, (prepare_result or {}).get("form_file"))
    if problem:
        _send_back(ctx, "check_submission", "核验扫描件", problem)
        return {"ok": False, "error": problem}
    return {"ok": True, "route": realname.review_route(applicant)}


@handler("realname_approve")
def approve(ctx, real_name, id_type, id_number, phone, corrected_real_name, corrected_id_type,
            corrected_id_number, corrected_phone, comment=None):
    """Verified: the identity (with the reviewer's corrections) is stored on the account and frozen."""
    submitted = {"real_name": real_name, "id_type": id_type, "id_number": id_number, "phone": phone}
    corrected = {"real_name": corrected_real_name, "id_type": corrected_id_type, "id_number": corrected_id_number,
                 "phone": corrected_phone}
    changes = realname.apply_approval(ctx.instance, ctx.actor, submitted, corrected)
    if changes:
        ctx.event("corrected", **_actor_fields(ctx), bpmn_id="approve", task_name="审核人更正信息",
                  comment=realname.corrections_text(changes), detail={"corrections": changes})
    ctx.event("outcome", outcome="approved", **_actor_fields(ctx), bpmn_id="approve", task_name="实名认证")
    return {"verified": True, "corrections": changes}


@handler("realname_reject")
def reject(ctx, comment):
    """不通过: audited, the applicant is told; the process returns to step 1 with the previous values."""
    realname.record_rejection(ctx.instance, ctx.actor, comment)
    return {"rejected": True}
