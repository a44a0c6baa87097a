"""One place that turns exceptions into answers: JSON for the API, a page or a flash message for browsers.

Denials that carry an ``audit`` payload are recorded after the failed work is rolled back, in a transaction of
their own, so the refused change is gone and the refusal is on record.
"""
from flask import flash, jsonify, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from models import Session
from workflows import audit
from workflows.errors import DomainError, InvalidInput, NotAuthorized, NotFound

HTTP_MESSAGES = {
    400: "请求有误", 401: "请先登录", 403: "您没有执行此操作的权限", 404: "未找到该页面或记录",
    405: "不支持该请求方法", 409: "该记录已被他人修改，请刷新后重试", 413: "上传的文件过大", 500: "系统内部错误，请稍后重试",
}


def wants_json():
    return request.blueprint == "api" or request.path.startswith("/api/")


def init_app(app):
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _record_denial(exc):
    payload = getattr(exc, "audit", None)
    if not payload:
        return
    from flask import g
    action, target_type, target_id = payload
    audit.record("access_denied", actor=g.get("actor"), outcome="denied", target_type=target_type,
                 target_id=str(target_id), detail={"attempted": action, "path": request.path,
                                                   "status": exc.status})
    Session.commit()


def _domain_error(exc):
    Session.rollback()
    _record_denial(exc)
    if wants_json():
        return jsonify(exc.to_json()), exc.status
    if isinstance(exc, (NotFound, NotAuthorized)):
        return render_template("error.html", status=exc.status, message=exc.message), exc.status
    if isinstance(exc, InvalidInput) and exc.fields:
        for messages in exc.fields.values():
            for message in messages:
                flash(message, "error")
    else:
        flash(exc.message, "error")
    return redirect(request.referrer or "/", code=303)


def _csrf_error(exc):
    Session.rollback()
    message = "页面已过期或请求来源无效，请刷新页面后重试"
    if wants_json():
        return jsonify({"error": "csrf", "message": message}), 400
    return render_template("error.html", status=400, message=message), 400


def _http_error(exc):
    Session.rollback()
    message = HTTP_MESSAGES.get(exc.code, exc.name)
    if wants_json():
        return jsonify({"error": exc.name.lower().replace(" ", "_"), "message": message}), exc.code
    return render_template("error.html", status=exc.code, message=message), exc.code


def _unexpected(exc):
    Session.rollback()
    from flask import current_app
    current_app.logger.exception("unhandled error on %s", request.path)
    if current_app.config.get("PROPAGATE_EXCEPTIONS"):
        raise exc
    if wants_json():
        return jsonify({"error": "internal_error", "message": HTTP_MESSAGES[500]}), 500
    return render_template("error.html", status=500, message=HTTP_MESSAGES[500]), 500
