"""JSON API under /api/v1 with bearer tokens. Errors are JSON (``web.errors``); CSRF does not apply because
the API never reads the session cookie."""
from flask import Blueprint, g, jsonify, request

from web import security
from workflows import audit, auth

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC = {"api.login", "api.openapi"}


@bp.before_request
def authenticate():
    audit.client_ip.set(security.client_ip())
    if request.endpoint in PUBLIC:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    token = auth.resolve_token(raw.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        return jsonify({"error": "unauthorized", "message": "缺少或无效的访问令牌，请重新登录"}), 401
    g.token = token
    g.actor = token.user
    gate = security.gate_for(g.actor, request.endpoint)
    if gate == "password":
        return jsonify({"error": "password_change_required", "message": "请先修改密码"}), 403
    if gate == "real_name":
        return jsonify({"error": "real_name_required", "message": "请先完成实名认证"}), 403
    return None


def json_body():
    """The request's JSON object, or an ``invalid_input`` error."""
    from workflows.errors import InvalidInput
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("请求体必须是 JSON 对象", code="invalid_input")
    return data


def page_args(per_page=20, most=100):
    """``(page, per_page)`` from the query string: page ≥ 1, 1 ≤ per_page ≤ ``most``."""
    from flask import request
    return (max(request.args.get("page", 1, type=int), 1),
            min(max(request.args.get("per_page", per_page, type=int), 1), most))


def paged_list(lister, per_page=20):
    """The JSON answer of a paged list: ``lister(page, per_page)`` gives ``(items, total)``."""
    from flask import jsonify
    page, size = page_args(per_page)
    items, total = lister(page, size)
    return jsonify({"items": items, "total": total, "page": page, "per_page": size})


from web.api import auth_api, users_api, processes_api, openapi  # noqa: E402,F401  (routes register on bp)
