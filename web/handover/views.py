"""业务管理员交接 pages (``/handovers/``) and ``/api/v1/handovers`` (bearer tokens, as the rest of the API).

- 业务管理员交接 (``/handovers/``, holders of ``sys.handover``): the handovers of the actor's region (its own unit's
  and those below it), and 发起交接 for a business administrator whose unit has none open.
- 发起交接 (``/handovers/new``): the report to the superior administrators; the successor is chosen from the
  unit's eligible accounts.
- ``/handovers/<id>``: one handover with its checklist, sign-offs, the written report (PDF) once approved, and the
  history; for everyone who may see the instance.
- The steps themselves run on the approval centre's task pages, with the handover's facts added by the provider
  below (``workflow/partials/admin_handover.html``).

The generic endpoints know no process rules, so when this blueprint is registered they are wrapped for this
process only: ``inbox.start`` sends the browser to 发起交接; ``api.start_instance`` checks the report first;
``inbox.task`` (POST) and ``api.complete_task`` refuse an approval whose successor can no longer take over (409)
and a sign-off by the successor. Register this blueprint after the approval centre and the API.
"""
from dataclasses import replace
from urllib.parse import urlencode

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for

from models import Session
from web.api import authenticate, paged_list
from web.forms import field_errors
from web.security import has_perm, requires
from web.workflow import extras
from workflows import forms, handovers, inbox, processes
from workflows.errors import FormInvalid, InvalidInput, NotAuthorized

bp = Blueprint("handover", __name__, url_prefix="/handovers")
api = Blueprint("handover_api", __name__, url_prefix="/api/v1/handovers")
api.before_request(authenticate)
POINT = handovers.START_POINT
PER_PAGE = 20
KINDS = {"started": "发起交接", "handover_reported": "报告上级业务管理员", "handover_checked": "现场核对结果",
         "handover_done": "完成交接", "handover_rejected": "驳回交接", "handover_refused": "交接未受理",
         "handover_not_applied": "未执行交接"}
OUTCOMES = {"approve": "同意", "refuse": "驳回", "return": "退回重新核对", "confirm": "核对无误", "dispute": "提出异议"}


# --- pages ---------------------------------------------------------------------------------------------------

@bp.route("/")
@requires(POINT)
def index():
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = handovers.list_handovers(g.actor, page, PER_PAGE)
    return render_template("handover/index.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), page_args=lambda p: urlencode({"page": p}),
                           refusal=handovers.start_refusal(g.actor))


def _fields(values, errors):
    """The report form, with the unit's eligible accounts as the successor's choices."""
    views = forms.field_views(processes.start_form(handovers.PROCESS), values, errors)
    choices = [(str(u.id), f"{u.display_name}（{u.username}，{u.user_type_label}）")
               for u in handovers.eligible_successors(g.actor)]
    return [replace(v, options=choices) if v.name == "successor_id" else v for v in views]


@bp.route("/new", methods=["GET", "POST"])
@requires(POINT)
def new():
    refusal = handovers.start_refusal(g.actor)
    if refusal and request.method == "GET":
        flash(refusal, "warning")
        return redirect(url_for(".index"), code=303)
    values, errors = {"planned_date": handovers.today_in_china().isoformat()}, {}
    if request.method == "POST":
        values = forms.coerce_post(processes.start_form(handovers.PROCESS), request.form)
        try:
            instance = handovers.start_handover(g.actor, values)
        except (FormInvalid, InvalidInput) as exc:
            Session.rollback()
            errors = field_errors(exc)
        else:
            Session.commit()
            flash("已报告上级业务管理员，请与接任人及单位负责人现场核对交接清单", "success")
            return redirect(url_for(".detail", instance_id=instance.id), code=303)
    return render_template("handover/new.html", fields=_fields(values, errors), errors=errors,
                           org=g.actor.org), 422 if errors else 200


@bp.route("/<int:instance_id>")
def detail(instance_id):
    instance = handovers.get_handover(g.actor, instance_id)
    tasks = [t for t in processes.open_tasks(instance) if inbox.can_act(g.actor, t)]
    return render_template("handover/detail.html", instance=instance, h=handovers.handover_view(instance),
                           view=processes.instance_view(g.actor, instance), tasks=tasks, kinds=KINDS,
                           outcomes=OUTCOMES)


@extras.provider(handovers.PROCESS)
def _task_extras(actor, task, instance):
    return {"handover": handovers.handover_view(instance)}


# --- the generic endpoints, for this process ---------------------------------------------------------------

def _browser_start(key):
    return redirect(url_for("handover.new"), code=303) if key == handovers.PROCESS else None


def _browser_task(task_id):
    if request.method == "POST":
        handovers.check_completion(g.actor, task_id, {"decision": request.form.get("decision")})
    return None


def _api_start(key):
    if key == handovers.PROCESS and has_perm("approval.requests"):
        handovers.check_start(g.actor, extras.posted_data())
    return None


def _api_complete(task_id):
    data = extras.posted_data()
    if isinstance(data, dict):
        handovers.check_completion(g.actor, task_id, data)
    return None


extras.guard_endpoints(bp, {"inbox.start": _browser_start, "inbox.task": _browser_task,
                            "api.start_instance": _api_start, "api.complete_task": _api_complete})


# --- JSON ----------------------------------------------------------------------------------------------------

@api.get("", endpoint="list_handovers")
@requires(POINT)
def list_handovers():
    return paged_list(lambda page, size: handovers.list_handovers(g.actor, page, size), PER_PAGE)


@api.get("/successors", endpoint="successors")
@requires(POINT)
def successors():
    if not handovers.may_start(g.actor):
        raise NotAuthorized("只有本单位的业务管理员可以发起业务管理员交接")
    return jsonify({"items": [{"id": u.id, "username": u.username, "display_name": u.display_name,
                               "user_type": u.user_type} for u in handovers.eligible_successors(g.actor)],
                    "start_refusal": handovers.start_refusal(g.actor)})


@api.get("/<int:instance_id>", endpoint="get_handover")
def get_handover(instance_id):
    instance = handovers.get_handover(g.actor, instance_id)
    return jsonify({**processes.instance_view(g.actor, instance), "handover": handovers.handover_view(instance)})
