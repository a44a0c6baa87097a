"""机构人力资源 → 机构人事管理 → 人事调动 → 员工离职 (Hubei §4.4): the institution's resignation records.

Pages: the list (草稿 / 待审核 / 已通过 / 未通过) with 新增, the new and edit forms (the employee is chosen by
staff number, with a search by number or name over the institution's active staff), the record page with 提交
and the timeline. The reviewer decides on the approval centre's task page, where ``resignation_extras`` adds the
employee and the request. The JSON API under ``/api/v1/personnel`` (bearer tokens, as the rest of the API) does
the same through the same services; the review itself goes through the task API.
"""
from urllib.parse import urlencode

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for

from models import Session
from models.workflow import TaskStatus
from web.forms import field_errors
from web.api import authenticate, json_body, openapi
from web.workflow import extras
from workflows import forms, inbox, processes
from workflows import staff as staff_service
from workflows.effects import resignation
from workflows.errors import FormInvalid, InvalidInput, NotAuthorized

bp = Blueprint("personnel", __name__, url_prefix="/personnel")
api = Blueprint("personnel_api", __name__, url_prefix="/api/v1/personnel")
api.before_request(authenticate)
PER_PAGE = 20
PER_PAGE_MAX = 100


def _require_view():
    if not resignation.can_view(g.actor):
        raise NotAuthorized(audit=("access", "endpoint", request.endpoint))


def _require_initiate():
    if not resignation.can_initiate(g.actor):
        raise NotAuthorized("您没有“员工离职”权限", audit=("access", "endpoint", request.endpoint))


def review_task(rec):
    """The open review task of a record, when the actor may claim or decide it."""
    task = rec.review_task
    if task is None or task.state != TaskStatus.READY:
        return None
    return task if inbox.can_act(g.actor, task) or inbox.can_claim(g.actor, task) else None


def own_draft(rec):
    return rec.status == "draft" and rec.instance.started_by_id == g.actor.id and resignation.can_initiate(g.actor)


# --- pages ----------------------------------------------------------------------------------------------------

def _list(endpoint, heading, default_status=None):
    if g.actor.org_id is None:   # the system administrator belongs to no institution: nothing to list
        return render_template("personnel/resignations.html", endpoint=endpoint, heading=heading, records=[],
                               total=0, status="", q="", page=1, pages=1, counts={}, no_org=True,
                               labels=resignation.STATUS_LABELS, statuses=resignation.LIST_STATUSES,
                               can_initiate=False, review_task=review_task, own_draft=own_draft,
                               page_args=lambda p: "")
    _require_view()
    status = request.args.get("status", default_status or "")
    if status not in resignation.STATUS_LABELS:
        status = ""
    q = request.args.get("q", "").strip()
    page = max(request.args.get("page", 1, type=int), 1)
    records, total = resignation.list_records(g.actor, status=status or None, q=q, page=page, per_page=PER_PAGE)
    args = {k: v for k, v in (("status", status), ("q", q)) if v}
    return render_template(
        "personnel/resignations.html", endpoint=endpoint, heading=heading, records=records, total=total,
        status=status, q=q, page=page, pages=max(1, -(-total // PER_PAGE)), counts=resignation.counts(g.actor, q),
        labels=resignation.STATUS_LABELS, statuses=resignation.LIST_STATUSES,
        can_initiate=resignation.can_initiate(g.actor), review_task=review_task, own_draft=own_draft,
        page_args=lambda p: urlencode({**args, "page": p}))


@bp.route("/resignations/")
def resignations():
    return _list("personnel.resignations", "员工离职")


@bp.route("/resignations/review")
def reviews():
    return _list("personnel.reviews", "离职审核", default_status="pending")


def _form_page(form, values, errors, *, rec=None):
    """The new / edit form: the employee search (GET ``q``), the chosen employee, type, date and note."""
    q = request.values.get("q", "").strip()
    chosen = staff_service.find(g.actor.org_id, values.get("staff_no")) if values.get("staff_no") else None
    return render_template(
        "personnel/resignation_form.html", rec=rec, q=q, results=staff_service.search(g.actor, q),
        chosen=chosen, fields=forms.field_views(form, values, errors), errors=errors,
        choose_args=lambda staff_no: urlencode({"q": q, "staff_no": staff_no}) if q else urlencode(
            {"staff_no": staff_no})), 422 if errors else 200


@bp.route("/resignations/new", methods=["GET", "POST"])
def new():
    _require_initiate()
    form = resignation.submit_form()
    values, errors = {}, {}
    if request.method == "POST":
        values = forms.coerce_post(form, request.form)
        try:
            instance = resignation.create_draft(g.actor, values)
        except (FormInvalid, InvalidInput) as exc:
            Session.rollback()
            errors = field_errors(exc)
        else:
            Session.commit()
            flash("离职记录已保存为草稿，确认无误后请提交审核", "success")
            return redirect(url_for("personnel.detail", instance_id=instance.id), code=303)
    else:
        source = request.args.get("from", type=int)
        if source:   # 重新发起: start again from an earlier record's values
            values = {k: v for k, v in resignation.get_record(g.actor, source).values.items()
                      if k in form.schema["properties"] and v not in (None, "")}
        if request.args.get("staff_no"):
            values["staff_no"] = request.args["staff_no"].strip()
    return _form_page(form, values, errors)


@bp.route("/resignations/<int:instance_id>")
def detail(instance_id):
    rec = resignation.get_record(g.actor, instance_id)
    return render_template("personnel/resignation.html", rec=rec, history=processes.history(rec.instance),
                           review_task=review_task(rec), own_draft=own_draft(rec),
                           can_initiate=resignation.can_initiate(g.actor),
                           can_see_instance=inbox.can_see_instance(g.actor, rec.instance),
                           staff_status=staff_service.status_label)


@bp.route("/resignations/<int:instance_id>/edit", methods=["GET", "POST"])
def edit(instance_id):
    _require_initiate()
    rec = resignation.get_record(g.actor, instance_id)
    if not own_draft(rec):
        flash("只能编辑自己新增、尚未提交的离职记录", "error")
        return redirect(url_for("personnel.detail", instance_id=instance_id), code=303)
    form = resignation.submit_form()
    values = {k: v for k, v in rec.values.items() if k in form.schema["properties"]}
    errors = {}
    if request.method == "POST":
        values = forms.coerce_post(form, request.form)
        submitting = request.form.get("action") == "submit"
        try:
            if submitting:
                resignation.submit(g.actor, instance_id, values)
            else:
                resignation.update_draft(g.actor, instance_id, values)
        except (FormInvalid, InvalidInput) as exc:
            Session.rollback()
            errors = field_errors(exc)
        else:
            Session.commit()
            flash("已提交，等待本机构审核" if submitting else "已保存", "success")
            return redirect(url_for("personnel.detail", instance_id=instance_id), code=303)
    elif request.args.get("staff_no"):
        values["staff_no"] = request.args["staff_no"].strip()
    return _form_page(form, values, errors, rec=rec)


@bp.route("/resignations/<int:instance_id>/submit", methods=["POST"])
def submit(instance_id):
    resignation.submit(g.actor, instance_id)
    Session.commit()
    flash("已提交，等待本机构审核", "success")
    return redirect(url_for("personnel.detail", instance_id=instance_id), code=303)


@extras.provider(resignation.KEY)
def resignation_extras(actor, task, instance):
    """The task page of a resignation shows the employee and the request."""
    rec = resignation.record(instance)
    return {"resignation": rec, "edit_url": url_for("personnel.edit", instance_id=instance.id)
            if task.lane == "applicant" and task.state == TaskStatus.READY else None,
            "staff_status": staff_service.status_label}


# --- JSON API -------------------------------------------------------------------------------------------------

def _data(required=True):
    """The request's ``data`` object; optional (None) for a submit without changes."""
    if not required and not request.data:
        return None
    body = json_body()
    data = body.get("data", {}) if required else body.get("data")
    if data is not None and not isinstance(data, dict):
        raise InvalidInput("data 必须是 JSON 对象", code="invalid_input")
    return data


def _record_json(instance_id):
    return resignation.as_dict(resignation.get_record(g.actor, instance_id))


@api.get("/staff", endpoint="search_staff")
def api_search_staff():
    _require_initiate()
    limit = min(max(request.args.get("limit", staff_service.SEARCH_LIMIT, type=int), 1), PER_PAGE_MAX)
    rows = staff_service.search(g.actor, request.args.get("q"), limit=limit)
    return jsonify({"items": [staff_service.summary(s) for s in rows]})


@api.get("/resignations", endpoint="list_resignations")
def api_list():
    _require_view()
    page = max(request.args.get("page", 1, type=int), 1)
    per_page = min(max(request.args.get("per_page", PER_PAGE, type=int), 1), PER_PAGE_MAX)
    records, total = resignation.list_records(g.actor, status=request.args.get("status") or None,
                                              q=request.args.get("q"), page=page, per_page=per_page)
    return jsonify({"items": [resignation.as_dict(r) for r in records], "total": total, "page": page,
                    "per_page": per_page})


@api.post("/resignations", endpoint="create_resignation")
def api_create():
    instance = resignation.create_draft(g.actor, _data())
    Session.commit()
    return jsonify(_record_json(instance.id)), 201


@api.get("/resignations/<int:instance_id>", endpoint="get_resignation")
def api_get(instance_id):
    return jsonify(_record_json(instance_id))


@api.put("/resignations/<int:instance_id>", endpoint="update_resignation")
def api_update(instance_id):
    resignation.update_draft(g.actor, instance_id, _data())
    Session.commit()
    return jsonify(_record_json(instance_id))


@api.post("/resignations/<int:instance_id>/submit", endpoint="submit_resignation")
def api_submit(instance_id):
    resignation.submit(g.actor, instance_id, _data(required=False))
    Session.commit()
    return jsonify(_record_json(instance_id))


_ID = [{"name": "instance_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_READ = {**openapi.COMMON_ERRORS, "404": openapi.error("不存在或不属于本机构")}
_WRITE = {**_READ, "409": openapi.error("该员工已有进行中的离职申请，或记录已提交不能修改"),
          "422": openapi.error("输入有误（fields 按字段给出中文说明）")}
openapi.document({
    "/personnel/staff": {"get": ("员工离职：按工号或姓名查找本机构在职人员（q、limit）", None)},
    "/personnel/resignations": {
        "get": ("离职记录（status：draft / pending / passed / failed；q；page、per_page）", None),
        "post": ("新增离职草稿（data：staff_no 必填，resignation_type、left_on、note 可选）", None)},
    "/personnel/resignations/{instance_id}": {
        "get": ("离职记录详情（含审核意见）", _ID),
        "put": ("修改离职草稿（data 同新增）", _ID)},
    "/personnel/resignations/{instance_id}/submit": {
        "post": ("提交离职申请（类型和离职日期必填）；审核人用 /tasks/{task_id}/complete 审核（decision：pass / fail）", _ID)},
}, _READ, _WRITE)
