"""账号泄露处置 pages (``/leaks/``) and ``/api/v1/leaks`` (bearer tokens, as the rest of the API).

- 报告账号泄露 (``/leaks/report``, every user): the account itself, or a business administrator for an account
  it manages. After a self-report the account is suspended and this browser session ends with it, so the
  answer is a page of its own, not a redirect.
- 账号泄露处置 (``/leaks/``, administrators holding 用户锁定一览表): the cases of the region; ``/leaks/<id>`` is one
  case with its facts and labelled history.
- The steps themselves run on the approval centre's task pages, with the case facts added by the provider
  below (``workflow/partials/credential_leak.html``).

The generic endpoints know no process rules, so when this blueprint is registered they are wrapped for this
process only: ``inbox.start`` sends the browser to the report page; ``api.start_instance`` checks the report
first; the 重置密码并恢复账号 step, posted on ``inbox.task`` or ``api.complete_task``, resets the password and
completes the task in one answer that shows the temporary password once (the page, or ``temporary_password``
in the JSON) — the password never enters the workflow data. Register this blueprint after the approval centre
and the API.
"""
from urllib.parse import urlencode

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for

from models import Session, utcnow
from web.forms import field_errors
from web.api import authenticate, json_body, paged_list
from web.api.openapi import COMMON_ERRORS, SPEC
from web.security import end_browser_session, has_perm, requires
from web.workflow import extras
from workflows import forms, inbox, jurisdiction, leaks, processes
from workflows.errors import FormInvalid, InvalidInput

bp = Blueprint("leak", __name__, url_prefix="/leaks")
api = Blueprint("leak_api", __name__, url_prefix="/api/v1/leaks")
api.before_request(authenticate)
ADMIN_POINT = "sys.locklist"   # the lock-governance pages of business administrators
PER_PAGE = 20
FIELDS = ("account", "discovered_at", "description")


def _now_local():
    return utcnow().astimezone(leaks.CST).strftime("%Y-%m-%dT%H:%M")


# --- pages ---------------------------------------------------------------------------------------------------

@bp.route("/")
@requires(ADMIN_POINT)
def index():
    page = max(request.args.get("page", 1, type=int), 1)
    cases, total = leaks.list_cases(g.actor, page, PER_PAGE)
    return render_template("leak/index.html", cases=cases, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), page_args=lambda p: urlencode({"page": p}))


@bp.route("/report", methods=["GET", "POST"])
def report():
    admin = jurisdiction.is_business_admin(g.actor)
    values = {"account": request.args.get("account", "") if admin else "", "discovered_at": "", "description": ""}
    errors = {}
    if request.method == "POST":
        values = {name: request.form.get(name, "").strip() for name in FIELDS}
        if not admin:
            values["account"] = ""
        try:
            instance, warnings = leaks.report(g.actor, account=values["account"] or None,
                                              discovered_at=values["discovered_at"],
                                              description=values["description"])
        except InvalidInput as exc:
            Session.rollback()
            errors = field_errors(exc)
        else:
            case = leaks.case_view(instance)
            Session.commit()
            if case["self_report"]:
                end_browser_session()    # the suspension ended this session too
                return render_template("leak/reported.html", case=case, warnings=warnings)
            flash(f"已报告账号 {case['account']['username']} 泄露，该账号已暂停使用并强制下线", "success")
            for warning in warnings:
                flash(warning["message"], "warning")
            return redirect(url_for(".detail", instance_id=instance.id), code=303)
    accounts = leaks.reportable_accounts(g.actor) if admin else []
    return render_template("leak/report.html", values=values, errors=errors, admin=admin, accounts=accounts,
                           now=_now_local()), 422 if errors else 200


@bp.route("/<int:instance_id>")
def detail(instance_id):
    instance = leaks.get_case(g.actor, instance_id)
    view = processes.instance_view(g.actor, instance)
    tasks = [t for t in processes.open_tasks(instance) if inbox.can_act(g.actor, t)]
    return render_template("leak/detail.html", instance=instance, view=view, case=leaks.case_view(instance),
                           tasks=tasks)


@extras.provider(leaks.PROCESS)
def _task_extras(actor, task, instance):
    return {"case": leaks.case_view(instance), "reset_step": leaks.is_reset_task(task)}


# --- the generic endpoints, for this process ---------------------------------------------------------------

def _browser_start(key):
    return redirect(url_for("leak.report"), code=303) if key == leaks.PROCESS else None


def _browser_task(task_id):
    """A posted 重置密码并恢复账号: reset and complete, then show the password once. A form error is left to the
    task page itself (nothing has changed)."""
    if request.method != "POST":
        return None
    task = processes.get_task(g.actor, task_id)
    if not leaks.is_reset_task(task):
        return None
    data = forms.coerce_post(processes.task_form(task), request.form)
    try:
        instance, account, password = leaks.reset_and_restore(g.actor, task.id, data)
    except FormInvalid:
        Session.rollback()
        return None
    case = leaks.case_view(instance)
    Session.commit()
    following = [t for t in processes.open_tasks(instance) if inbox.can_act(g.actor, t)]
    return render_template("leak/password_once.html", user=account, password=password, case=case,
                           instance=instance, following=following)


def _api_start(key):
    data = extras.posted_data()
    if key == leaks.PROCESS and has_perm("approval.requests") and isinstance(data, dict):
        leaks.check_start(g.actor, data)
    return None


def _api_complete(task_id):
    task = processes.get_task(g.actor, task_id)
    if not leaks.is_reset_task(task):
        return None
    data = extras.posted_data()
    if not isinstance(data, dict):
        raise InvalidInput("data 必须是 JSON 对象", code="invalid_input")
    instance, account, password = leaks.reset_and_restore(g.actor, task.id, data)
    Session.commit()
    return jsonify({**processes.instance_view(g.actor, instance), "account": account.username,
                    "temporary_password": password, "must_change_password": True})


_GUARDS = {"inbox.start": _browser_start, "inbox.task": _browser_task,
           "api.start_instance": _api_start, "api.complete_task": _api_complete}


extras.guard_endpoints(bp, _GUARDS)


# --- JSON ----------------------------------------------------------------------------------------------------

def _text(body, name):
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(fields={name: ["应为字符串"]})
    return value


@api.get("", endpoint="list_cases")
@requires(ADMIN_POINT)
def list_cases():
    return paged_list(lambda page, size: leaks.list_cases(g.actor, page, size), PER_PAGE)


@api.post("", endpoint="report")
def report_leak():
    body = json_body()
    instance, warnings = leaks.report(g.actor, account=_text(body, "account"),
                                      discovered_at=_text(body, "discovered_at"),
                                      description=_text(body, "description"))
    answer = {**processes.instance_view(g.actor, instance), "case": leaks.case_view(instance), "warnings": warnings}
    Session.commit()
    return jsonify(answer), 201


@api.get("/<int:instance_id>", endpoint="get_case")
def get_case(instance_id):
    instance = leaks.get_case(g.actor, instance_id)
    return jsonify({**processes.instance_view(g.actor, instance), "case": leaks.case_view(instance)})


def _error(description):
    return {"description": description, "content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/Error"}}}}


INSTANCE_ID = [{"name": "instance_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
SPEC["paths"].update({
    "/leaks": {
        "get": {"summary": "账号泄露处置案件列表（业务管理员：本辖区）",
                "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer"}},
                               {"name": "per_page", "in": "query", "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "items 与 total"}, **COMMON_ERRORS}},
        "post": {"summary": "报告账号泄露：账号立即暂停使用并强制下线；超过24小时报告时 warnings 含 late_report",
                 "description": "此后的步骤用任务接口办理。“重置密码并恢复账号”（reset_restore）以 "
                                "POST /tasks/{task_id}/complete 提交 {\"data\": {\"confirm\": true}}，应答另含 "
                                "account 与只返回这一次的 temporary_password（不保存在流程数据中）。",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["discovered_at", "description"], "properties": {
                         "account": {"type": "string", "description": "泄露账号；不填为本人"},
                         "discovered_at": {"type": "string", "format": "date-time",
                                           "description": "发现时间（ISO 8601；不带时区按北京时间），不能晚于当前时间"},
                         "description": {"type": "string", "maxLength": 1000}}}}}},
                 "responses": {"201": {"description": "已报告（流程实例，含 case 与 warnings）"}, **COMMON_ERRORS,
                               "422": _error("输入有误（fields）")}}},
    "/leaks/{instance_id}": {"get": {"summary": "账号泄露处置案件详情", "parameters": INSTANCE_ID,
                                     "responses": {"200": {"description": "流程实例，含 case"}, **COMMON_ERRORS,
                                                   "404": _error("不存在或无权查看")}}},
})
