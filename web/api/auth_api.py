from flask import g, jsonify

from models import Session
from web.api import bp, json_body
from web.api.serialize import iso, user_json
from web.security import current_permissions
from web.throttle import limit_logins
from workflows import auth
from workflows.errors import InvalidInput


@bp.post("/auth/login", endpoint="login")
@limit_logins
def login():
    data = json_body()
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise InvalidInput("请提供账号和密码", fields={"username": ["必填"], "password": ["必填"]})
    result = auth.authenticate(username, password)
    token = auth.issue_token(result.user) if result.ok else None
    Session.commit()
    if result.outcome == "locked":
        return jsonify({"error": "account_locked", "message": "账号已被锁定",
                        "locked_until": iso(result.locked_until)}), 423
    if result.outcome == "disabled":
        return jsonify({"error": "account_disabled", "message": "该账号已停用，请联系管理员"}), 403
    if result.outcome == "temporary_expired":
        return jsonify({"error": "temporary_password_expired", "message": "临时密码已过期，请联系管理员重置"}), 401
    if not result.ok:
        return jsonify({"error": "invalid_credentials", "message": "账号或密码错误"}), 401
    return jsonify({"token": token, "must_change_password": result.user.must_change_password,
                    "user": user_json(result.user)})


@bp.post("/auth/logout", endpoint="logout")
def logout():
    auth.revoke_token(g.token)
    auth.record_logout(g.actor)
    Session.commit()
    return "", 204


@bp.get("/me", endpoint="me")
def me():
    return jsonify(user_json(g.actor, with_permissions=current_permissions()))


@bp.post("/me/password", endpoint="change_password")
def change_password():
    data = json_body()
    current, new = data.get("current_password"), data.get("new_password")
    if not isinstance(current, str) or not isinstance(new, str):
        raise InvalidInput("请提供当前密码和新密码",
                           fields={"current_password": ["必填"], "new_password": ["必填"]})
    try:
        auth.change_password(g.actor, current, new, keep_token_id=g.token.id)
    except InvalidInput:
        Session.commit()   # the failed attempt stays on record
        raise
    Session.commit()
    return "", 204
