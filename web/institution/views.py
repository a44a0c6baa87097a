"""机构信息维护 (``/institution/``): the core fields with the 机构信息修改 request pages, the institution's own
基本信息 / 机构信息 (``/institution/profile``), 分院信息 and 附件信息 (``workflows.orgprofile``), and
``GET /api/v1/institution``.

The request runs on the generic engine and approval centre: the reviewer works it on the task page, where the
provider below puts old and new values side by side (``workflow/partials/institution_change.html``). The
generic pages and API start and complete tasks through ``workflows.processes``, which knows no process rules;
so, when this blueprint is registered, the generic endpoints are wrapped to run the checks of
``workflows.institutions`` first — a clear refusal, and nothing written:
- ``inbox.start`` for this process sends the browser to the 机构信息修改 page here (prefilled);
- ``inbox.task`` sends the applicant's open resubmission to the page here, and checks an approval
  (409 ``stale_request`` when the core fields changed after submission);
- ``api.start_instance`` and ``api.complete_task`` run the same checks on the JSON body.
Register this blueprint after the approval centre and the API.
"""

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, send_file, url_for

from models import Session
from models.workflow import TaskStatus
from web.forms import field_errors
from web.orgdata.forms import done, edit_page
from web.api import authenticate, json_body, openapi
from web.security import has_perm, requires
from web.workflow import extras
from web.workflow.views import posted_values
from workflows import codes, files, forms, inbox, institutions, orgprofile, processes
from workflows.errors import FormInvalid, InvalidInput, NotFound

bp = Blueprint("institution", __name__, url_prefix="/institution")
api_bp = Blueprint("institution_api", __name__, url_prefix="/api/v1/institution")
api_bp.before_request(authenticate)
KEY = institutions.PROCESS_KEY


@bp.route("/")
@requires("org.info")
def index():
    if g.actor.org is None:     # the system administrator holds every function point but belongs to no unit
        return render_template("institution/index.html", org=None)
    return render_template("institution/index.html", org=institutions.institution_view(g.actor),
                           profile=orgprofile.profile_view(g.actor), kinds=codes.ORG_ATTACHMENT_KINDS,
                           coordinates_hint=orgprofile.COORDINATES_HINT)


# --- 基本信息, 机构信息, 分院信息, 附件信息 (workflows.orgprofile) -------------------------------------------------------

@bp.route("/profile", methods=["GET", "POST"])
@requires("org.info")
def profile():
    org = orgprofile.own_org(g.actor, orgprofile.PERMISSION)
    return edit_page([("基本信息", orgprofile.BASIC_FIELDS), ("机构信息", orgprofile.INSTITUTION_FIELDS)],
                     orgprofile.profile_values(org), lambda values: orgprofile.update_profile(g.actor, values),
                     heading="修改机构信息", back=url_for(".index"), message="机构信息已保存",
                     notes={"基本信息": orgprofile.COORDINATES_HINT})


@bp.route("/branches/new", methods=["GET", "POST"])
@requires("org.info")
def new_branch():
    orgprofile.own_org(g.actor, orgprofile.PERMISSION)
    return edit_page([(None, orgprofile.BRANCH_FIELDS)], {}, lambda values: orgprofile.add_branch(g.actor, values),
                     heading="新增分院", back=url_for(".index"), message="分院已新增")


@bp.route("/branches/<int:branch_id>/edit", methods=["GET", "POST"])
@requires("org.info")
def edit_branch(branch_id):
    branch = orgprofile.get_branch(g.actor, branch_id)
    return edit_page([(None, orgprofile.BRANCH_FIELDS)], orgprofile.branch_values(branch),
                     lambda values: orgprofile.update_branch(g.actor, branch.id, values),
                     heading=f"修改分院：{branch.name}", back=url_for(".index"), message="分院已修改")


@bp.route("/branches/<int:branch_id>/delete", methods=["POST"])
@requires("org.info")
def delete_branch(branch_id):
    orgprofile.delete_branch(g.actor, branch_id)
    return done("分院已删除", url_for(".index"))


@bp.route("/attachments", methods=["POST"])
@requires("org.info")
def upload_attachment():
    upload = request.files.get("file")
    try:
        orgprofile.upload_attachment(g.actor, upload.filename if upload else None, upload.stream if upload else None,
                                     {"kind": request.form.get("kind", ""), "note": request.form.get("note", "")})
    except InvalidInput as exc:
        Session.rollback()
        for message in field_errors(exc).values():
            flash(message, "error")
    else:
        Session.commit()
        flash("附件已上传", "success")
    return redirect(url_for(".index") + "#attachments", code=303)


@bp.route("/attachments/<int:row_id>")
@requires("org.info")
def download_attachment(row_id):
    row = orgprofile.readable_attachment(g.actor, row_id)
    stored = row.attachment
    return send_file(files.attachment_path(stored), mimetype=stored.content_type, as_attachment=True,
                     download_name=stored.original_name)


@bp.route("/attachments/<int:row_id>/delete", methods=["POST"])
@requires("org.info")
def delete_attachment(row_id):
    orgprofile.delete_attachment(g.actor, row_id)
    return done("附件已删除", url_for(".index") + "#attachments")


def _submitted(form):
    """The posted values (uploads: PDF or JPG only); ``(values, {field: upload error})``."""
    return posted_values(form, kinds=institutions.EVIDENCE_KINDS)


def _submit(form, action):
    """``(instance or None, values, errors)`` for a posted request form run through ``action(values)``."""
    values, errors = _submitted(form)
    if errors:
        return None, values, errors
    try:
        instance = action(values)
    except (FormInvalid, InvalidInput) as exc:
        Session.rollback()
        return None, values, field_errors(exc)
    Session.commit()
    return instance, values, {}


@bp.route("/change", methods=["GET", "POST"])
@requires("org.info.change")
def change():
    if g.actor.org is None:
        raise NotFound("系统管理员账号不属于任何单位，没有机构信息")
    current = institutions.core_values(g.actor.org)
    if request.method == "GET":
        refusal = institutions.change_refusal(g.actor, g.actor.org)
        if refusal:
            flash(refusal, "warning")
            return redirect(url_for(".index"), code=303)
    form = processes.start_form(KEY)
    values, errors = {k: current[k] for k in institutions.CHANGEABLE}, {}
    if request.method == "POST":
        instance, values, errors = _submit(form, lambda data: institutions.start_change(g.actor, data))
        if instance is not None:
            flash("机构信息修改申请已提交，请等待主管部门审核", "success")
            return redirect(url_for("inbox.instance", instance_id=instance.id), code=303)
    return render_template("institution/change.html", current=current, task=None, instance=None,
                           fields=forms.field_views(form, values, errors), errors=errors), 422 if errors else 200


@bp.route("/change/tasks/<int:task_id>", methods=["GET", "POST"])
@requires("org.info.change")
def resubmit(task_id):
    """The applicant's task after a return: the previous values, the reviewer's opinion, the current record."""
    task = processes.get_task(g.actor, task_id)
    if task.process_key != KEY or task.lane != "applicant":
        raise NotFound()
    if task.state != TaskStatus.READY or not inbox.can_act(g.actor, task):
        return redirect(url_for("inbox.instance", instance_id=task.instance_id), code=303)
    instance, form = task.instance, processes.task_form(task)
    current = institutions.core_values(instance.org)
    values, errors = processes.task_data(task), {}
    if not values.get("name"):      # a draft started without answers begins with the current values
        values = {**{k: current[k] for k in institutions.CHANGEABLE}, **values}
    if request.method == "POST":
        done, values, errors = _submit(form, lambda data: institutions.complete(g.actor, task.id, data))
        if done is not None:
            flash("已提交，请等待主管部门审核", "success")
            return redirect(url_for("inbox.instance", instance_id=instance.id), code=303)
    return render_template("institution/change.html", current=current, task=task,
                           instance=instance, returned=institutions.last_return(instance),
                           history=processes.history(instance),
                           fields=forms.field_views(form, values, errors), errors=errors), 422 if errors else 200


@extras.provider(KEY)
def _task_extras(actor, task, instance):
    return {"change": institutions.change_view(instance, task)}


# --- the generic endpoints, checked first for this process -------------------------------------------------

def _browser_start(key):
    return redirect(url_for("institution.change"), code=303) if key == KEY else None


def _browser_task(task_id):
    task = processes.get_task(g.actor, task_id)
    if task.process_key != KEY:
        return None
    if task.lane == "applicant" and task.state == TaskStatus.READY and inbox.can_act(g.actor, task):
        return redirect(url_for("institution.resubmit", task_id=task.id), code=303)
    if request.method == "POST":
        institutions.check_completion(g.actor, task.id, {"decision": request.form.get("decision")})
    return None


def _api_start(key):
    data = extras.posted_data()
    if key == KEY and has_perm("approval.requests") and (data is None or isinstance(data, dict)):
        institutions.check_start(g.actor, data or None)
    return None


def _api_complete(task_id):
    data = extras.posted_data()
    if isinstance(data, dict):
        institutions.check_completion(g.actor, task_id, data)
    return None


_GUARDS = {"inbox.start": _browser_start, "inbox.task": _browser_task,
           "api.start_instance": _api_start, "api.complete_task": _api_complete}


extras.guard_endpoints(bp, _GUARDS)


# --- JSON ----------------------------------------------------------------------------------------------------

def _request_json(row):
    iso = processes.iso
    return {**row, "created_at": iso(row["created_at"]), "completed_at": iso(row["completed_at"])} if row else None


def _json(view):
    body = {k: v for k, v in view.items() if k != "core"}
    body["updated_at"] = processes.iso(view["updated_at"])
    body["open_request"] = _request_json(view["open_request"])
    body["requests"] = [_request_json(r) for r in view["requests"]]
    return body


@api_bp.get("", endpoint="show")
@requires("org.info")
def show():
    return jsonify(_json(institutions.institution_view(g.actor)) | _profile_json())


def _profile_json():
    view = orgprofile.profile_view(g.actor)
    plain = orgprofile.plain
    return {"profile": {k: plain(v) for k, v in view["values"].items()},
            "branches": [{"id": b.id, **{k: plain(v) for k, v in orgprofile.branch_values(b).items()}}
                         for b in view["branches"]],
            "attachments": [{"id": a.id, "kind": a.kind, "note": a.note, "file": a.attachment.original_name,
                             "size": a.attachment.size, "content_type": a.attachment.content_type,
                             "created_at": processes.iso(a.created_at)} for a in view["attachments"]]}


@api_bp.put("/profile", endpoint="update_profile")
@requires("org.info")
def api_update_profile():
    orgprofile.update_profile(g.actor, json_body())
    Session.commit()
    return jsonify(_profile_json())


@api_bp.post("/branches", endpoint="create_branch")
@requires("org.info")
def api_create_branch():
    branch = orgprofile.add_branch(g.actor, json_body())
    Session.commit()
    return jsonify({"id": branch.id, **{k: orgprofile.plain(v) for k, v in orgprofile.branch_values(branch).items()}}), 201


@api_bp.put("/branches/<int:branch_id>", endpoint="update_branch")
@requires("org.info")
def api_update_branch(branch_id):
    branch = orgprofile.update_branch(g.actor, branch_id, json_body())
    Session.commit()
    return jsonify({"id": branch.id, **{k: orgprofile.plain(v) for k, v in orgprofile.branch_values(branch).items()}})


@api_bp.delete("/branches/<int:branch_id>", endpoint="delete_branch")
@requires("org.info")
def api_delete_branch(branch_id):
    orgprofile.delete_branch(g.actor, branch_id)
    Session.commit()
    return jsonify({"deleted": branch_id})


_ERRORS = {"401": {"description": "缺少或无效的访问令牌"}, "403": {"description": "无权限、须先修改密码或须先实名认证"}}
openapi.SPEC["paths"].setdefault("/institution", {"get": {
    "summary": "本单位的机构信息（机构信息维护）",
    "description": "主体信息（name、uscc、licence_no、supervisor、category）、version、进行中的机构信息修改申请"
                   "（open_request）和最近的申请（requests）。修改主体信息：POST /processes/institution_change/instances"
                   "（data：name、uscc、licence_no、category、reason、evidence 为 /files 上传的 PDF 或 JPG 的 id，"
                   "evidence_extra 可选），主管部门业务管理员用 /tasks/{task_id}/complete 审核（decision：approve 或 "
                   "reject，reject 须填 comment）。错误码：request_open（409，已有进行中的申请）、no_change、uscc_taken、"
                   "evidence_type（422）、stale_request（409，提交后主体信息已变更，只能退回）。",
    "responses": {"200": {"description": "机构信息"}, **_ERRORS}}})
openapi.SPEC["paths"].setdefault("/institution/profile", {"put": {
    "summary": "修改本单位的基本信息和机构信息（地址、经纬度、邮政编码、联系方式、法定代表人、所有制形式、医院等级、床位、成立日期、简介）",
    "description": "字段同 GET /institution 的 profile；空字符串或 null 清空该项。主体信息只能通过机构信息修改申请变更。",
    "responses": {"200": {"description": "保存后的 profile、branches、attachments"},
                  "422": {"description": "输入有误，fields 按字段给出中文说明"}, **_ERRORS}}})
openapi.SPEC["paths"].setdefault("/institution/branches", {"post": {
    "summary": "新增分院（name 必填，address、phone、longitude、latitude、beds）",
    "responses": {"201": {"description": "分院"}, "422": {"description": "输入有误"}, **_ERRORS}}})
openapi.SPEC["paths"].setdefault("/institution/branches/{branch_id}", {
    "put": {"summary": "修改分院", "responses": {"200": {"description": "分院"}, "404": {"description": "不是本单位的分院"},
                                             **_ERRORS}},
    "delete": {"summary": "删除分院", "responses": {"200": {"description": "已删除"}, **_ERRORS}}})
