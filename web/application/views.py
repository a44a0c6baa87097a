"""用户申请 pages (``/account-applications/``) and ``/api/v1/account-applications`` (bearer tokens).

- 用户申请 (menu, 我的申请 holders): the unit's applications with status and outcome; 新增用户申请 fills 附表1
  for a new person of the unit; an application's page shows the application, the outcome, the receipt (PDF) and
  the history; a returned application is corrected here (``/<id>/edit``) or withdrawn.
- The unit leader signs on the approval centre's task page (``workflow/partials/account_application.html``
  shows the application there). The business admin decides on ``/tasks/<task_id>/decide``: 批准 creates the
  account and the answer shows its initial password once (never stored).

The generic endpoints know no process rules, so when this blueprint is registered they are wrapped for this
process only: ``inbox.start`` sends the browser to the form here; ``inbox.task`` sends the applicant's open task
and the admin's decision here; ``api.start_instance`` and ``api.complete_task`` run the same checks on the JSON
body, and the admin's completing call answers with ``initial_password`` (once) when it created the account.
Every request also sets the login address printed on receipts (``LOGIN_URL``, else this server's login page).
Register this blueprint after the approval centre and the API.
"""
from urllib.parse import urlencode

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from models import Session
from models.workflow import InstanceStatus, TaskStatus
from web.api import authenticate, paged_list
from web.forms import field_errors
from web.security import has_perm, requires
from web.workflow import extras
from web.workflow.views import send_attachment
from workflows import applications, forms, inbox, processes
from workflows.errors import FormInvalid, InvalidInput

bp = Blueprint("application", __name__, url_prefix="/account-applications")
api = Blueprint("application_api", __name__, url_prefix="/api/v1/account-applications")
api.before_request(authenticate)
POINT = applications.REQUESTS
PER_PAGE = 20
TIMELINE_LABELS = {"kind_labels": {"started": "发起申请", "outcome": "校验结果"},
                   "outcome_labels": {"approve": "同意", "reject": "退回"}}


@bp.before_app_request
def _login_address():
    applications.login_url.set(current_app.config.get("LOGIN_URL") or url_for("auth.login", _external=True))


# --- pages ---------------------------------------------------------------------------------------------------

@bp.route("/")
@requires(POINT)
def index():
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = applications.list_applications(g.actor, page, PER_PAGE)
    return render_template("application/index.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), page_args=lambda p: urlencode({"page": p}),
                           refusal=applications.refusal(g.actor))


def _form_page(values, errors, *, instance=None, task=None, returned=None, history=None):
    options = applications.form_options(instance.org if instance else g.actor.org)
    pairs = {name: [(o["value"], o["label"]) for o in options[key]]
             for name, key in (("user_type", "user_types"), ("purpose", "purposes"), ("mh_center", "mh_center"))}
    choices = {**pairs, "unit_nature": [(n, n) for n in options["unit_natures"]]}
    return render_template("application/form.html", values=values, errors=errors, instance=instance, task=task,
                           returned=returned, history=history, labels=TIMELINE_LABELS, options=options,
                           choices=choices), 422 if errors else 200


def _posted(form):
    return forms.coerce_post(form, request.form)


def _save(action, message):
    """``(answer, errors)``: run ``action()``; done, commit and go to the application's page with ``message``;
    refused input, roll back and hand the errors to the form."""
    try:
        instance = action()
    except (FormInvalid, InvalidInput) as exc:
        Session.rollback()
        return None, field_errors(exc)
    Session.commit()
    flash(message, "success")
    return redirect(url_for(".detail", instance_id=instance.id), code=303), {}


@bp.route("/new", methods=["GET", "POST"])
@requires(POINT)
def new():
    refusal = applications.refusal(g.actor)
    if refusal:
        flash(refusal, "warning")
        return redirect(url_for(".index"), code=303)
    values, errors = {"action": "submit"}, {}
    if request.method == "POST":
        values = _posted(processes.start_form(applications.PROCESS))
        answer, errors = _save(lambda: applications.submit(g.actor, values), "用户申请已提交，请等待单位主管领导审批")
        if answer:
            return answer
    return _form_page(values, errors)


@bp.route("/<int:instance_id>")
@requires(POINT)
def detail(instance_id):
    instance = applications.get_application(g.actor, instance_id)
    tasks = [t for t in processes.open_tasks(instance) if inbox.can_act(g.actor, t) or inbox.can_claim(g.actor, t)]
    return render_template("application/detail.html", instance=instance,
                           view=applications.application_view(g.actor, instance), tasks=tasks,
                           history=processes.history(instance), labels=TIMELINE_LABELS)


def _own_open_task(instance):
    task = applications.applicant_task(instance)
    return task if task is not None and inbox.can_act(g.actor, task) else None


@bp.route("/<int:instance_id>/edit", methods=["GET", "POST"])
@requires(POINT)
def edit(instance_id):
    """The applicant's form after a return (or of a draft): the previous values and why it came back."""
    instance = applications.get_application(g.actor, instance_id)
    task = _own_open_task(instance)
    if task is None:
        flash("该申请当前不需要您修改", "warning")
        return redirect(url_for(".detail", instance_id=instance.id), code=303)
    values, errors = {**processes.task_data(task), "action": "submit"}, {}
    if request.method == "POST":
        values = {**_posted(processes.task_form(task)), "action": "submit"}
        answer, errors = _save(lambda: applications.resubmit(g.actor, task.id, values), "已重新提交，请等待单位主管领导审批")
        if answer:
            return answer
    return _form_page(values, errors, instance=instance, task=task, returned=applications.last_return(instance),
                      history=processes.history(instance))


@bp.route("/<int:instance_id>/withdraw", methods=["POST"])
@requires(POINT)
def withdraw(instance_id):
    applications.withdraw(g.actor, instance_id)
    Session.commit()
    flash("用户申请已撤回", "success")
    return redirect(url_for(".detail", instance_id=instance_id), code=303)


@bp.route("/<int:instance_id>/receipt")
def receipt(instance_id):
    """The receipt, for whoever may see the request (``send_attachment``'s own rule)."""
    return send_attachment(applications.receipt_attachment(g.actor, instance_id).id)


def _decide_task(task_id):
    task = processes.get_task(g.actor, task_id)
    if not applications.is_decide_task(task):
        return None
    return task


@bp.route("/tasks/<int:task_id>/decide", methods=["GET", "POST"])
def decide(task_id):
    """The business admin's 审批情况. 批准 answers with the new account and its initial password, once."""
    task = _decide_task(task_id)
    if task is None:
        return redirect(url_for("inbox.task", task_id=task_id), code=303)
    instance = task.instance
    values, errors = {}, {}
    if request.method == "POST" and task.state == TaskStatus.READY:
        values = _posted(processes.task_form(task))
        try:
            done, account, password = applications.decide(g.actor, task.id, values)
        except (FormInvalid, InvalidInput) as exc:
            Session.rollback()
            errors = field_errors(exc)
        else:
            view = applications.application_view(g.actor, done)
            Session.commit()
            if account is not None:
                return render_template("application/password_once.html", user=account, password=password,
                                       view=view, instance=done)
            if done.status == InstanceStatus.ERROR:
                flash("审批情况已提交，但处理时出现异常，账号未创建；请联系管理员重试", "error")
            else:
                flash(f"已办理：{applications.DECISIONS[values['decision']]}", "success")
            return redirect(url_for(".detail", instance_id=done.id), code=303)
    return render_template(
        "application/decide.html", task=task, instance=instance, values=values, errors=errors,
        view=applications.application_view(g.actor, instance), history=processes.history(instance),
        labels=TIMELINE_LABELS, can_act=inbox.can_act(g.actor, task),
        can_claim=task.assignee_id is None and inbox.can_claim(g.actor, task),
        is_assignee=task.assignee_id == g.actor.id, decisions=applications.DECISIONS,
        options=applications.decide_options(g.actor, instance)), 422 if errors else 200


@extras.provider(applications.PROCESS)
def _task_extras(actor, task, instance):
    """附表1 with its labels, in place of the generic answer list (which would show codes and role numbers)."""
    return {"application": applications.application_view(actor, instance), "replaces_summary": True}


# --- the generic endpoints, for this process ---------------------------------------------------------------

def _browser_start(key):
    return redirect(url_for("application.new"), code=303) if key == applications.PROCESS else None


def _browser_task(task_id):
    task = processes.get_task(g.actor, task_id)
    if task.process_key != applications.PROCESS or task.state != TaskStatus.READY:
        return None
    if task.lane == "applicant" and inbox.can_act(g.actor, task):
        return redirect(url_for("application.edit", instance_id=task.instance_id), code=303)
    if applications.is_decide_task(task):
        return redirect(url_for("application.decide", task_id=task.id), code=303)
    return None


def _api_start(key):
    data = extras.posted_data()
    if key == applications.PROCESS and has_perm(POINT) and (data is None or isinstance(data, dict)):
        applications.check_start(g.actor, data or None)
    return None


def _api_complete(task_id):
    task = processes.get_task(g.actor, task_id)
    if task.process_key != applications.PROCESS:
        return None
    data = extras.posted_data()
    if not isinstance(data, dict):
        raise InvalidInput("data 必须是 JSON 对象", code="invalid_input")
    if not applications.is_decide_task(task):
        applications.check_completion(g.actor, task.id, data)
        return None
    instance, account, password = applications.decide(g.actor, task.id, data)
    body = {**processes.instance_view(g.actor, instance),
            "application": applications.application_view(g.actor, instance)}
    if account is not None:
        body.update(account=account.username, initial_password=password, must_change_password=True)
    Session.commit()
    return jsonify(body)


extras.guard_endpoints(bp, {"inbox.start": _browser_start, "inbox.task": _browser_task,
                            "api.start_instance": _api_start, "api.complete_task": _api_complete})


# --- JSON ----------------------------------------------------------------------------------------------------

@api.get("", endpoint="list")
@requires(POINT)
def list_applications():
    return paged_list(lambda page, size: applications.list_applications(g.actor, page, size), PER_PAGE)


@api.get("/options", endpoint="options")
@requires(POINT)
def options():
    refusal = applications.refusal(g.actor)
    if g.actor.org is None:
        raise InvalidInput(refusal, code="no_unit")
    return jsonify({**applications.form_options(g.actor.org), "can_apply": refusal is None, "refusal": refusal})


@api.get("/<int:instance_id>", endpoint="get")
def get_application(instance_id):
    instance = applications.get_application(g.actor, instance_id)
    return jsonify({**processes.instance_view(g.actor, instance),
                    "application": applications.application_view(g.actor, instance)})


@api.get("/<int:instance_id>/receipt", endpoint="receipt")
def get_receipt(instance_id):
    return receipt(instance_id)

