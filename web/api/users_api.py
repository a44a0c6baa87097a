from datetime import date

from flask import g, jsonify, request

from models import Session

from web.api import bp, json_body
from web.api.serialize import user_json
from web.security import requires
from workflows import accounts
from workflows.errors import InvalidInput


def _date(value, field):
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(fields={field: ["日期格式应为 YYYY-MM-DD"]}) from None


def _role_ids(value):
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise InvalidInput(fields={"role_ids": ["应为角色编号的数组"]})
    return value


def _text(data, key):
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(fields={key: ["应为字符串"]})
    return value


@bp.get("/users", endpoint="list_users")
@requires("sys.accounts")
def list_users():
    page = max(request.args.get("page", 1, type=int), 1)
    per_page = min(max(request.args.get("per_page", 20, type=int), 1), 100)
    rows, total = accounts.search_users(g.actor, q=request.args.get("q"), org_id=request.args.get("org_id", type=int),
                                        user_type=request.args.get("user_type"),
                                        locked=request.args.get("locked") in ("1", "true"),
                                        page=page, per_page=per_page)
    return jsonify({"items": [user_json(u) for u in rows], "total": total, "page": page, "per_page": per_page})


@bp.post("/users", endpoint="create_user")
@requires("sys.accounts.edit")
def create_user():
    data = json_body()
    org_id = data.get("org_id")
    if not isinstance(org_id, int) or isinstance(org_id, bool):
        raise InvalidInput(fields={"org_id": ["请提供单位编号"]})
    user, password = accounts.create_user(
        g.actor, user_type=_text(data, "user_type"), org_id=org_id, display_name=_text(data, "display_name"),
        username=_text(data, "username"), role_ids=_role_ids(data.get("role_ids")) or (),
        phone=_text(data, "phone"), email=_text(data, "email"), department=_text(data, "department"),
        valid_until=_date(data.get("valid_until"), "valid_until"))
    Session.commit()
    return jsonify({"user": user_json(user), "initial_password": password}), 201


@bp.get("/users/<int:user_id>", endpoint="get_user")
@requires("sys.accounts")
def get_user(user_id):
    return jsonify(user_json(accounts.get_user(g.actor, user_id)))


@bp.patch("/users/<int:user_id>", endpoint="update_user")
@requires("sys.accounts.edit")
def update_user(user_id):
    user = accounts.get_user_for_change(user_id)
    data = json_body()
    accounts.update_user(
        g.actor, user, role_ids=_role_ids(data.get("role_ids", [r.id for r in user.roles])),
        phone=_text(data, "phone") if "phone" in data else user.phone,
        email=_text(data, "email") if "email" in data else user.email,
        department=_text(data, "department") if "department" in data else user.department,
        valid_until=_date(data.get("valid_until"), "valid_until") if "valid_until" in data else user.valid_until)
    Session.commit()
    return jsonify(user_json(user))


@bp.delete("/users/<int:user_id>", endpoint="delete_user")
@requires("sys.accounts.edit")
def delete_user(user_id):
    accounts.delete_user(g.actor, accounts.get_user_for_change(user_id))
    Session.commit()
    return "", 204


@bp.post("/users/<int:user_id>/lock", endpoint="lock_user")
@requires("sys.accounts.lock")
def lock_user(user_id):
    user = accounts.get_user_for_change(user_id)
    note = (request.get_json(silent=True) or {}).get("note") if request.is_json else None
    accounts.lock_user(g.actor, user, note=note if isinstance(note, str) else None)
    Session.commit()
    return jsonify(user_json(user))


@bp.post("/users/<int:user_id>/unlock", endpoint="unlock_user")
@requires("sys.accounts.lock")
def unlock_user(user_id):
    user = accounts.get_user_for_change(user_id)
    accounts.unlock_user(g.actor, user)
    Session.commit()
    return jsonify(user_json(user))


@bp.post("/users/<int:user_id>/reset-password", endpoint="reset_password")
@requires("sys.accounts.reset")
def reset_password(user_id):
    user = accounts.get_user_for_change(user_id)
    password = accounts.reset_password(g.actor, user)
    Session.commit()
    return jsonify({"user": user_json(user), "temporary_password": password})
