"""The approval centre (审批中心): inbox views, start forms, task pages, instance pages and files."""
from datetime import datetime, timedelta
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from models import Session
from web import nav
from web.forms import field_errors
from web.filters import CST
from web.security import requires
from web.workflow import extras
from workflows import files, forms, inbox, jurisdiction, lanes, maintenance, processes
from workflows.errors import FormInvalid, InvalidInput, NotFound

bp = Blueprint("inbox", __name__)
PER_PAGE = 20


def day_arg(name, *, end=False):
    """A ``YYYY-MM-DD`` query argument as the start (or, with ``end``, the end) of that day in China time."""
    raw = request.args.get(name, "").strip()
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=CST) if raw else None
    except ValueError:
        return None
    return day + timedelta(days=1) if day and end else day


@bp.route("/inbox/")
@requires("approval.requests")
def index():
    view = request.args.get("view", "assigned")
    if view not in inbox.VIEWS:
        abort(404)
    flt = inbox.InboxFilter(process_key=request.args.get("process") or None,
                            org_id=request.args.get("org_id", type=int), since=day_arg("since"),
                            until=day_arg("until", end=True))
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = inbox.page(g.actor, view, flt, page, PER_PAGE)
    args = {k: v for k, v in request.args.items() if k in ("view", "process", "org_id", "since", "until") and v}
    orgs = Session().scalars(jurisdiction.visible_orgs_query(g.actor)).all() if g.actor.org_id else []
    return render_template("workflow/inbox.html", view=view, rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), args=args, views=inbox.VIEW_LABELS,
                           counts=nav.inbox_counts(), processes=processes.registry().values(), orgs=orgs,
                           lane_labels=lanes.labels(), page_args=lambda p: urlencode({**args, "page": p}))


@bp.route("/processes/")
@requires("approval.requests")
def process_list():
    return render_template("workflow/processes.html", processes=processes.startable_processes())


def posted_values(form, kinds=files.DEFAULT_KINDS, max_bytes=None):
    """The posted values of a schema form, ``(values, {field: upload error})``.

    Chosen files are stored (checked by content against ``kinds``) and committed at once, so a form error
    elsewhere never loses them; a refused file leaves its field empty and its message in the errors. A file
    field left empty keeps the file named by its ``__current`` companion; validation checks that file is the
    actor's own and free to use.
    """
    data, errors = forms.coerce_post(form, request.form), {}
    for view in forms.field_views(form):
        if view.widget != "file":
            continue
        upload = request.files.get(view.name)
        current = request.form.get(f"{view.name}__current", "")
        if upload is not None and upload.filename:
            try:
                data[view.name] = files.store_upload(g.actor, upload.filename, upload.stream, kinds=kinds,
                                                     max_bytes=max_bytes).id
            except InvalidInput as exc:
                Session.rollback()
                errors[view.name] = f"{view.label}：{exc.message}"
                continue
            Session.commit()
        elif current.isdigit():
            data[view.name] = int(current)
    return data, errors


def _post_data(form):
    """The posted values; a refused upload is reported like a form error."""
    data, errors = posted_values(form)
    if errors:
        raise FormInvalid(errors)
    return data


@bp.route("/processes/<key>/start", methods=["GET", "POST"])
@requires("approval.requests")
def start(key):
    definition = processes.definition(key)
    form = processes.start_form(key) if definition.startable else None
    if form is None:
        raise NotFound("该流程没有可在线填写的申请表")
    values, errors = {}, {}
    if request.method == "POST":
        try:
            values = _post_data(form)
            instance = processes.start_instance(g.actor, key, values)
        except (FormInvalid, InvalidInput) as exc:
            Session.rollback()
            errors = field_errors(exc)
        else:
            Session.commit()
            flash("申请已提交", "success")
            return redirect(url_for("inbox.instance", instance_id=instance.id), code=303)
    return render_template("workflow/start.html", definition=definition,
                           fields=forms.field_views(form, values, errors), errors=errors), 422 if errors else 200


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
def task(task_id):
    task = processes.get_task(g.actor, task_id)
    form = processes.task_form(task)
    values = {k: v for k, v in processes.task_data(task).items()} if form else {}
    errors = {}
    if request.method == "POST":
        try:
            values = _post_data(form) if form else {}
            processes.complete_task(g.actor, task.id, values)
        except (FormInvalid, InvalidInput) as exc:
            Session.rollback()
            errors = field_errors(exc)
        else:
            Session.commit()
            flash("已提交", "success")
            return redirect(url_for("inbox.instance", instance_id=task.instance_id), code=303)
    instance = task.instance
    return render_template(
        "workflow/task.html", task=task, instance=instance, view=processes.instance_view(g.actor, instance),
        fields=forms.field_views(form, values, errors) if form else [], errors=errors,
        can_act=inbox.can_act(g.actor, task), can_claim=task.assignee_id is None and inbox.can_claim(g.actor, task),
        is_assignee=task.assignee_id == g.actor.id, summary=_summary(instance),
        handed_on=lanes.lane(task.lane).assignee_key is None,   # a named person's task is never handed on
        extras=extras.extras_for(g.actor, task, instance),
        attachments=_attachments(instance),
        users_snapshot=maintenance.permission_check_snapshot(instance)), 422 if errors else 200


def _summary(instance):
    """The applicant's answers, labelled by the start form's titles, for reviewers."""
    from models.workflow import HumanTask
    first = Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                       HumanTask.lane == "applicant")
                              .order_by(HumanTask.id.desc())).first()
    if first is None:
        return []
    form = processes.task_form(first)
    data = processes.latest_data(instance)
    props = form.schema.get("properties", {}) if form else {}
    rows = []
    for name, prop in props.items():
        value = data.get(name)
        if value in (None, ""):
            continue
        if prop.get("format") == "file-ref":
            attachment = files.get_attachment(value)
            value = attachment.original_name if attachment else "（附件不可用）"
        rows.append((prop.get("title", name), value))
    return rows


def _attachments(instance):
    from models.workflow import Attachment
    return Session().scalars(select(Attachment).where(Attachment.instance_id == instance.id)).all()


def _task_action(task_id, service, message, *args):
    task = service(g.actor, task_id, *args)
    Session.commit()
    flash(message, "success")
    return task


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
def claim(task_id):
    _task_action(task_id, processes.claim_task, "已认领，请办理")
    return redirect(url_for("inbox.task", task_id=task_id), code=303)


@bp.route("/tasks/<int:task_id>/release", methods=["POST"])
def release(task_id):
    _task_action(task_id, processes.release_task, "已放回可认领列表")
    return redirect(url_for("inbox.index", view="claimable"), code=303)


@bp.route("/tasks/<int:task_id>/reassign", methods=["POST"])
def reassign(task_id):
    _task_action(task_id, processes.reassign_task, "已转办", request.form.get("username", ""))
    return redirect(url_for("inbox.index"), code=303)


@bp.route("/instances/<int:instance_id>")
def instance(instance_id):
    instance = processes.get_instance(g.actor, instance_id)
    return render_template("workflow/instance.html", instance=instance,
                           view=processes.instance_view(g.actor, instance), svg=processes.diagram_svg(instance),
                           can_retry=instance.status == "error" and inbox.can_administer(g.actor, instance),
                           attachments=_attachments(instance), my_tasks=[
                               t for t in processes.open_tasks(instance) if inbox.can_act(g.actor, t)])


@bp.route("/instances/<int:instance_id>/diagram.svg")
def diagram(instance_id):
    return Response(processes.diagram_svg(processes.get_instance(g.actor, instance_id)), mimetype="image/svg+xml")


@bp.route("/instances/<int:instance_id>/retry", methods=["POST"])
def retry(instance_id):
    processes.retry_instance(g.actor, instance_id)
    Session.commit()
    flash("已重新执行失败的步骤", "success")
    return redirect(url_for("inbox.instance", instance_id=instance_id), code=303)


@bp.route("/files/<int:file_id>")
def file(file_id):
    return send_attachment(file_id)


def send_attachment(file_id):
    """Download an attachment the actor may read (its owner, or whoever may see its instance); else 404."""
    attachment = files.get_attachment(file_id)
    if attachment is None or not processes.can_read_file(g.actor, attachment):
        raise NotFound()
    return send_file(files.attachment_path(attachment), mimetype=attachment.content_type, as_attachment=True,
                     download_name=attachment.original_name)
