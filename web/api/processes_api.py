"""Processes, instances, tasks and files over the JSON API."""
from flask import Response, g, jsonify, request

from models import Session
from web.api import bp, json_body
from web.security import requires
from workflows import files, inbox, processes
from web.workflow.views import day_arg, send_attachment
from workflows.errors import InvalidInput

PER_PAGE_MAX = 100


def _data(body):
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise InvalidInput("data 必须是 JSON 对象", code="invalid_input")
    return data


@bp.get("/processes", endpoint="list_processes")
def list_processes():
    body = processes.list_processes()
    Session.commit()
    return jsonify(body)


@bp.post("/processes/<key>/instances", endpoint="start_instance")
@requires("approval.requests")
def start_instance(key):
    data = _data(json_body() if request.data else {})
    instance = processes.start_instance(g.actor, key, data or None)
    Session.commit()
    return jsonify(processes.instance_view(g.actor, instance)), 201


@bp.get("/instances/<int:instance_id>", endpoint="get_instance")
def get_instance(instance_id):
    return jsonify(processes.instance_view(g.actor, processes.get_instance(g.actor, instance_id)))


@bp.get("/instances/<int:instance_id>/diagram.svg", endpoint="instance_diagram")
def instance_diagram(instance_id):
    instance = processes.get_instance(g.actor, instance_id)
    return Response(processes.diagram_svg(instance), mimetype="image/svg+xml")


@bp.post("/instances/<int:instance_id>/retry", endpoint="retry_instance")
def retry_instance(instance_id):
    instance = processes.retry_instance(g.actor, instance_id)
    Session.commit()
    return jsonify(processes.instance_view(g.actor, instance))


@bp.get("/tasks", endpoint="list_tasks")
def list_tasks():
    view = request.args.get("view", "assigned")
    if view not in inbox.VIEWS:
        raise InvalidInput(f"view 只能是 {', '.join(inbox.VIEWS)}", code="invalid_input")
    page = max(request.args.get("page", 1, type=int), 1)
    per_page = min(max(request.args.get("per_page", 20, type=int), 1), PER_PAGE_MAX)
    flt = inbox.InboxFilter(process_key=request.args.get("process") or None,
                            org_id=request.args.get("org_id", type=int), since=day_arg("since"),
                            until=day_arg("until", end=True))
    rows, total = inbox.page(g.actor, view, flt, page, per_page)
    items = [processes.instance_view(g.actor, r) if view == "requests" else processes.task_summary(r)
             for r in rows]
    return jsonify({"items": items, "total": total, "page": page, "per_page": per_page})


@bp.get("/tasks/<int:task_id>", endpoint="get_task")
def get_task(task_id):
    task = processes.get_task(g.actor, task_id)
    form = processes.task_form(task)
    body = processes.task_summary(task)
    body["form"] = {"schema": form.schema, "ui": form.ui} if form else None
    body["data"] = {k: v for k, v in processes.task_data(task).items()
                    if form is None or k in form.schema.get("properties", {})}
    body["can_complete"] = inbox.can_act(g.actor, task)
    return jsonify(body)


@bp.post("/tasks/<int:task_id>/claim", endpoint="claim_task")
def claim_task(task_id):
    task = processes.claim_task(g.actor, task_id)
    Session.commit()
    return jsonify(processes.task_summary(task))


@bp.post("/tasks/<int:task_id>/release", endpoint="release_task")
def release_task(task_id):
    task = processes.release_task(g.actor, task_id)
    Session.commit()
    return jsonify(processes.task_summary(task))


@bp.post("/tasks/<int:task_id>/reassign", endpoint="reassign_task")
def reassign_task(task_id):
    username = json_body().get("username")
    task = processes.reassign_task(g.actor, task_id, username if isinstance(username, str) else "")
    Session.commit()
    return jsonify(processes.task_summary(task))


@bp.post("/tasks/<int:task_id>/complete", endpoint="complete_task")
def complete_task(task_id):
    instance = processes.complete_task(g.actor, task_id, _data(json_body()))
    Session.commit()
    return jsonify(processes.instance_view(g.actor, instance))


@bp.post("/files", endpoint="upload_file")
def upload_file():
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("请选择要上传的文件（表单字段 file）", code="upload_refused")
    attachment = files.store_upload(g.actor, upload.filename or "", upload.stream)
    Session.commit()
    return jsonify({"id": attachment.id, "name": attachment.original_name, "content_type": attachment.content_type,
                    "size": attachment.size, "sha256": attachment.sha256}), 201


@bp.get("/files/<int:file_id>", endpoint="get_file")
def get_file(file_id):
    return send_attachment(file_id)




@bp.post("/tasks/<int:task_id>/draft", endpoint="save_draft")
def save_draft(task_id):
    instance = processes.save_draft(g.actor, task_id, _data(json_body()))
    Session.commit()
    return jsonify(processes.instance_view(g.actor, instance))
