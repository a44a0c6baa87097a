"""权限变更申请 pages (``/permission-changes/``) and ``/api/v1/permission-changes`` (bearer tokens, as the rest of
the API).

- 权限变更申请 (``/permission-changes/``, every holder of 我的申请): the account's roles (temporary ones with their
  end), its requests, and the form (``/new``): the roles to hold afterwards as check boxes (the held ones
  checked), the reason, the optional 临时使用 date.
- Every task of the process opens at ``/permission-changes/tasks/<id>``: the applicant's returned form with its
  previous values and the opinion; the leader's and the administrators' decisions on the approval centre's task
  template, with 附表4 (``workflow/partials/permission_change.html``) in place of the generic list of answers,
  which would show role numbers.

The generic endpoints know no process rules, so when this blueprint is registered they are wrapped for this
process: ``inbox.start`` and ``inbox.task`` send the browser here; ``api.start_instance`` and
``api.complete_task`` run the checks of ``workflows.permission_changes`` first (a clear refusal, nothing written).
Register this blueprint after the approval centre and the API.
"""
from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from models import Session
from models.workflow import Attachment, TaskStatus
from web.api import authenticate
from web.forms import field_errors
from web.security import has_perm, requires
from web.workflow import extras
from workflows import forms, inbox, processes
from workflows import permission_changes as changes
from workflows.errors import FormInvalid, InvalidInput, NotFound

bp = Blueprint("permchange", __name__, url_prefix="/permission-changes")
api = Blueprint("permchange_api", __name__, url_prefix="/api/v1/permission-changes")
api.before_request(authenticate)
KEY = changes.KEY
POINT = "approval.requests"
ROLES_FIELD = "requested_roles"
SUBMITTED = "权限变更申请已提交，请等待单位主管领导审批"
DECIDED = {"leader": {"approve": "已同意，申请转业务管理员审批授权", "reject": "已退回申请人修改"},
           "admin": {"approve": "已批准，该账号的权限已变更", "reject": "已驳回，申请退回申请人修改"}}


@bp.route("/")
@requires(POINT)
def index():
    rows = [(i, processes.open_tasks(i)) for i in changes.my_requests(g.actor)]
    return render_template("permchange/index.html", options=changes.options(g.actor), rows=rows)


def _form_page(task, values, errors):
    """The application form: new (``task`` None), or the applicant's returned task with its values."""
    form = processes.start_form(KEY) if task is None else processes.task_form(task)
    views = forms.field_views(form, values, errors)
    return render_template(
        "permchange/form.html", task=task, instance=task.instance if task else None, applicant=g.actor,
        options=changes.options(g.actor), roles_field=next(f for f in views if f.name == ROLES_FIELD),
        fields=[f for f in views if f.name != ROLES_FIELD], chosen=set(values.get(ROLES_FIELD) or ()),
        errors=errors, returned=changes.last_return(task.instance) if task else None,
        history=processes.history(task.instance) if task else None), 422 if errors else 200


@bp.route("/new", methods=["GET", "POST"])
@requires(POINT)
def new():
    if request.method == "GET":
        refusal = changes.refusal(g.actor)
        if refusal:
            flash(refusal, "warning")
            return redirect(url_for(".index"), code=303)
        return _form_page(None, {ROLES_FIELD: [r.id for r in g.actor.roles]}, {})
    data = forms.coerce_post(processes.start_form(KEY), request.form)
    try:
        instance = changes.submit_request(g.actor, data)
    except (FormInvalid, InvalidInput) as exc:
        Session.rollback()
        return _form_page(None, data, field_errors(exc))
    Session.commit()
    flash(SUBMITTED, "success")
    return redirect(url_for("inbox.instance", instance_id=instance.id), code=303)


def _done_message(task, data):
    if task.lane == "applicant":
        return SUBMITTED
    return DECIDED["leader" if task.bpmn_id == changes.LEADER_TASK else "admin"].get(data.get("decision"), "已提交")


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
def task(task_id):
    task = processes.get_task(g.actor, task_id)
    if task.process_key != KEY:
        raise NotFound()
    applying = task.lane == "applicant" and task.state == TaskStatus.READY and inbox.can_act(g.actor, task)
    form = processes.task_form(task)
    values, errors = (processes.task_data(task) if applying else {}), {}
    if request.method == "POST":
        values = forms.coerce_post(form, request.form)
        try:
            changes.complete(g.actor, task.id, values)
        except (FormInvalid, InvalidInput) as exc:
            Session.rollback()
            errors = field_errors(exc)
        else:
            Session.commit()
            flash(_done_message(task, values), "success")
            return redirect(url_for("inbox.instance", instance_id=task.instance_id), code=303)
    if applying:
        return _form_page(task, values, errors)
    instance = task.instance
    return render_template(
        "workflow/task.html", task=task, instance=instance, view=processes.instance_view(g.actor, instance),
        fields=forms.field_views(form, values, errors), errors=errors, can_act=inbox.can_act(g.actor, task),
        can_claim=task.assignee_id is None and inbox.can_claim(g.actor, task),
        is_assignee=task.assignee_id == g.actor.id, summary=None, users_snapshot=None,
        extras=extras.extras_for(g.actor, task, instance),
        attachments=Session().scalars(select(Attachment).where(Attachment.instance_id == instance.id)).all(),
    ), 422 if errors else 200


@extras.provider(KEY)
def _task_extras(actor, task, instance):
    return {"change": changes.change_view(instance, task)}


# --- the generic endpoints, for this process ---------------------------------------------------------------

def _browser_start(key):
    return redirect(url_for("permchange.new"), code=303) if key == KEY else None


def _browser_task(task_id):
    task = processes.get_task(g.actor, task_id)
    return redirect(url_for("permchange.task", task_id=task.id), code=303) if task.process_key == KEY else None


def _api_start(key):
    data = extras.posted_data()
    if key == KEY and has_perm(POINT) and (data is None or isinstance(data, dict)):
        changes.check_start(g.actor, data or None)
    return None


def _api_complete(task_id):
    data = extras.posted_data()
    if isinstance(data, dict):
        changes.check_completion(g.actor, task_id, data)
    return None


extras.guard_endpoints(bp, {"inbox.start": _browser_start, "inbox.task": _browser_task,
                            "api.start_instance": _api_start, "api.complete_task": _api_complete})


# --- JSON ----------------------------------------------------------------------------------------------------

@api.get("/options", endpoint="options")
@requires(POINT)
def api_options():
    return jsonify(changes.options(g.actor))


@api.get("/<int:instance_id>", endpoint="detail")
def api_detail(instance_id):
    instance = changes.get_request(g.actor, instance_id)
    return jsonify({**processes.instance_view(g.actor, instance), "change": changes.change_view(instance)})
