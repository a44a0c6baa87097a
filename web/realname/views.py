"""实名认证 pages and API.

- The wizard at ``/realname`` (the real-name gate's page, endpoint ``auth.realname``, renders ``wizard``): the
  status, step 1 (identity and ID card photos, 保存), step 2 (download the generated form, upload the stamped
  scan, 提交证明材料, or 返回修改), then waiting for review, and the history with the reviewer's opinion.
- 系统管理 → 实名认证审核 (``/realname/reviews``): the verifications the actor reviews, filtered by status
  (Hubei §7.4), and the review page with the submitted identity prefilled for correction.
- The generic task page shows the submission through ``workflow/partials/real_name_verification.html``.
- ``/api/v1/realname``: the account's status, and starting its verification; the steps themselves go through
  the generic task API (``allowed_while_unverified`` lets an unverified account reach exactly those calls for
  its own verification), where ``api.complete_task`` first runs the same checks as the wizard.
Register after the approval centre and the API (the generic completion endpoint is wrapped then).
"""

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for

from models import Session
from models.workflow import TaskStatus
from web.forms import field_errors
from web.api import authenticate, openapi
from web.security import requires
from web.workflow import extras
from web.workflow.views import posted_values
from workflows import forms, inbox, processes, realname
from workflows.errors import FormInvalid, InvalidInput

bp = Blueprint("realname", __name__, url_prefix="/realname")
api_bp = Blueprint("realname_api", __name__, url_prefix="/api/v1/realname")
api_bp.before_request(authenticate)

STEP_LABELS = {"identity": "待填写实名信息", "upload": "待上传盖章申请表", "review": "待审核", "verified": "已认证",
               "error": "处理异常"}
PER_PAGE = 20


# --- what an unverified account may reach (called by web.security.gate_for) ---------------------------------

APPLICANT_ENDPOINTS = frozenset({"realname.identity", "realname.upload", "realname.back", "realname_api.status",
                                 "realname_api.start", "api.upload_file"})


def allowed_while_unverified(user, endpoint):
    """The wizard's actions, and the generic API calls on the account's own verification and files."""
    if endpoint in APPLICANT_ENDPOINTS:
        return True
    args = request.view_args or {}
    if endpoint in ("api.get_file", "inbox.file"):
        return realname.owns_file(user, args.get("file_id"))
    if endpoint in ("api.get_task", "api.complete_task", "api.save_draft"):
        return realname.is_own_applicant_task(user, args.get("task_id"))
    if endpoint in ("api.get_instance", "api.instance_diagram"):
        return realname.is_own_verification(user, args.get("instance_id"))
    if endpoint == "api.list_tasks":
        return (request.args.get("process") == realname.KEY
                and request.args.get("view", "assigned") in ("assigned", "requests"))
    return False


# --- the wizard ------------------------------------------------------------------------------------------------

def _posted(form, kinds):
    return posted_values(form, kinds=kinds, max_bytes=realname.MAX_BYTES)


def wizard(values=None, errors=None, status_code=200):
    """The /realname page for ``g.actor``."""
    st = realname.status(g.actor)
    fields = []
    if st.step == "identity":
        form = realname.identity_form(g.actor)
        fields = forms.field_views(form, st.values if values is None else values, errors)
    elif st.step == "upload":
        form = processes.task_form(st.task)
        fields = [f for f in forms.field_views(form, st.values if values is None else values, errors)
                  if f.name == "stamped_form"]
    return render_template("realname/wizard.html", st=st, user=g.actor, fields=fields, errors=errors or {},
                           step_labels=STEP_LABELS, id_type_label=realname.id_type_label, mask_id=realname.mask_id,
                           history=processes.history(st.instance) if st.instance else []), status_code


def _submit_step(form, kinds, service, done_message):
    """Post one wizard step. A refused file leaves its field empty and is reported with the other fields;
    any error re-renders the wizard with everything typed kept, and nothing of the step is saved."""
    values, upload_errors = _posted(form, kinds)
    try:
        service(g.actor, values)
        if upload_errors:
            raise FormInvalid(upload_errors)
    except (FormInvalid, InvalidInput) as exc:
        Session.rollback()
        return wizard(values, {**field_errors(exc), **upload_errors}, 422)
    Session.commit()
    flash(done_message, "success")
    return redirect(url_for("auth.realname"), code=303)


@bp.post("/identity", endpoint="identity")
def save_identity():
    return _submit_step(realname.identity_form(g.actor), realname.IMAGE_KINDS, realname.submit_identity,
                        "实名信息已保存。请下载系统生成的授权申请表，加盖单位人事部门公章后扫描上传。")


@bp.post("/upload", endpoint="upload")
def upload_scan():
    st = realname.status(g.actor)
    if st.step != "upload":
        flash("当前不需要上传盖章申请表", "warning")
        return redirect(url_for("auth.realname"), code=303)
    return _submit_step(processes.task_form(st.task), realname.SCAN_KINDS, realname.submit_scan,
                        "证明材料已提交，请等待审核。审核通过后重新进入系统即可使用。")


@bp.post("/back", endpoint="back")
def back():
    realname.back_to_identity(g.actor)
    Session.commit()
    flash("已返回修改实名信息，保存后将重新生成授权申请表", "info")
    return redirect(url_for("auth.realname"), code=303)


# --- reviewers ---------------------------------------------------------------------------------------------------

@bp.route("/reviews", endpoint="reviews")
@requires("sys.realname")
def reviews():
    status_filter = request.args.get("status", "pending")
    if status_filter not in realname.STATUS_FILTERS:
        status_filter = "pending"
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total, counts = realname.review_list(g.actor, status_filter, page, PER_PAGE)
    return render_template("realname/reviews.html", rows=rows, total=total, counts=counts, status=status_filter,
                           page=page, pages=max(1, -(-total // PER_PAGE)), labels=realname.STATUS_LABELS,
                           page_args=lambda p: f"status={status_filter}&page={p}")


@bp.route("/reviews/<int:task_id>", methods=["GET", "POST"], endpoint="review")
def review(task_id):
    task = realname.get_review_task(g.actor, task_id)
    instance, form = task.instance, processes.task_form(task)
    values = realname.review_prefill(instance) if task.state == TaskStatus.READY else {}
    errors = {}
    if request.method == "POST":
        values = forms.coerce_post(form, request.form)
        try:
            realname.review(g.actor, task.id, values)
        except (FormInvalid, InvalidInput) as exc:
            Session.rollback()
            errors = field_errors(exc)
        else:
            Session.commit()
            flash("审核通过，该账号已完成实名认证" if values.get("decision") == "approve"
                  else "已审核不通过，申请已退回申请人修改", "success")
            return redirect(url_for("realname.reviews"), code=303)
    return render_template("realname/review.html", task=task, instance=instance, applicant=instance.started_by,
                           sub=realname.submission(instance), fields=forms.field_views(form, values, errors),
                           errors=errors, can_act=inbox.can_act(g.actor, task),
                           history=processes.history(instance)), 422 if errors else 200


@extras.provider(realname.KEY)
def _task_extras(actor, task, instance):
    """The task page's additions: the submitted identity, the photos, the generated form and the scan."""
    reviewing = task.bpmn_id in realname.REVIEW_TASKS and task.state == TaskStatus.READY \
        and inbox.can_act(actor, task)
    return {"sub": realname.submission(instance), "applicant": instance.started_by,
            "review_url": url_for("realname.review", task_id=task.id) if reviewing else None}


# --- JSON ------------------------------------------------------------------------------------------------------

def _file_json(attachment):
    return {"id": attachment.id, "name": attachment.original_name, "content_type": attachment.content_type,
            "size": attachment.size} if attachment else None


def status_json(st):
    body = {"verified": st.verified, "step": st.step, "step_label": STEP_LABELS[st.step],
            "instance_id": st.instance.id if st.instance else None,
            "task": {"id": st.task.id, "name": st.task.bpmn_id, "title": st.task.name} if st.task else None,
            "reviewer": st.reviewer if st.user.org else None,
            "returned": {"by": st.returned["actor"], "at": st.returned["at"], "task": st.returned["task"],
                         "comment": st.returned["comment"]} if st.returned else None}
    if st.submitted is not None:
        sub = st.submitted
        body["submitted"] = {**sub.identity(), "id_type_label": sub.id_type_label,
                             "id_front": _file_json(sub.id_front), "id_back": _file_json(sub.id_back),
                             "stamped_form": _file_json(sub.stamped_form)}
        body["form_file"] = _file_json(sub.form_file)
    if st.verified:
        user = st.user
        body["identity"] = {"real_name": user.real_name, "id_type": user.id_type,
                            "id_type_label": realname.id_type_label(user.id_type),
                            "id_number": realname.mask_id(user.id_number), "phone": user.phone}
    return body


@api_bp.get("", endpoint="status")
def api_status():
    return jsonify(status_json(realname.status(g.actor)))


@api_bp.post("", endpoint="start")
def api_start():
    _instance, created = realname.start(g.actor)
    Session.commit()
    return jsonify(status_json(realname.status(g.actor))), 201 if created else 200


@api_bp.get("/reviews", endpoint="reviews")
@requires("sys.realname")
def api_reviews():
    status_filter = request.args.get("status", "pending")
    page = max(request.args.get("page", 1, type=int), 1)
    per_page = min(max(request.args.get("per_page", PER_PAGE, type=int), 1), 100)
    rows, total, counts = realname.review_list(g.actor, status_filter, page, per_page)
    return jsonify({"items": [{"instance_id": r.instance.id, "username": r.applicant.username,
                               "display_name": r.applicant.display_name, "user_type": r.applicant.user_type,
                               "org": r.instance.org.name, "status": r.status, "status_label": r.status_label,
                               "task_id": r.task.id if r.task else None,
                               "updated_at": processes.iso(r.instance.updated_at)} for r in rows],
                    "total": total, "counts": counts, "page": page, "per_page": per_page})


# --- the generic completion endpoint runs the wizard's checks first for this process ------------------------

def _api_complete(task_id):
    data = extras.posted_data()
    if isinstance(data, dict):
        realname.precheck(g.actor, task_id, data)
    return None


extras.guard_endpoints(bp, {"api.complete_task": _api_complete})


_ERRORS = {"401": {"description": "缺少或无效的访问令牌"}, "403": {"description": "无权限或须先修改密码"}}
openapi.SPEC["paths"].setdefault("/realname", {
    "get": {"summary": "本账号的实名认证状态（未认证账号也可调用）",
            "description": "step: identity（填写实名信息）、upload（上传盖章申请表）、review（待审核）、verified、error。"
                           "task 为申请人当前待办，用 /tasks/{task_id}/complete 提交；form_file 为系统生成的授权申请表，"
                           "用 /files/{file_id} 下载。",
            "responses": {"200": {"description": "状态"}, **_ERRORS}},
    "post": {"summary": "开始实名认证（已有进行中的认证时返回该认证）",
             "responses": {"201": {"description": "已开始"}, "200": {"description": "已有进行中的认证"},
                           "409": {"description": "已完成实名认证"}, **_ERRORS}},
})
openapi.SPEC["paths"].setdefault("/realname/reviews", {
    "get": {"summary": "实名认证审核列表（系统管理 → 实名认证审核）",
            "parameters": [{"name": "status", "in": "query", "schema": {
                "type": "string", "enum": list(realname.STATUS_FILTERS), "default": "pending"}},
                {"name": "page", "in": "query", "schema": {"type": "integer"}},
                {"name": "per_page", "in": "query", "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "列表"}, **_ERRORS}},
})
