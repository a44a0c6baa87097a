"""Plain JSON shapes for API answers."""
from models import utcnow


def iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def user_json(user, *, with_permissions=None):
    now = utcnow()
    body = {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "user_type": user.user_type,
        "org": {"id": user.org.id, "name": user.org.name, "region": user.org.region_code} if user.org else None,
        "department": user.department,
        "phone": user.phone,
        "email": user.email,
        "status": user.status,
        "real_name_verified": user.real_name_verified,
        "must_change_password": user.must_change_password,
        "locked": user.is_locked(now),
        "lock_reason": user.lock_reason if user.is_locked(now) else None,
        "locked_until": iso(user.locked_until) if user.is_locked(now) else None,
        "valid_until": user.valid_until.isoformat() if user.valid_until else None,
        "roles": [{"id": r.id, "name": r.name} for r in user.roles],
        "last_login_at": iso(user.last_login_at),
    }
    if with_permissions is not None:
        body["permissions"] = sorted(with_permissions)
    return body
