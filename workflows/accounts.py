"""Account administration: create, edit, delete, lock, unlock, reset (Hubei §7.2–7.3; Jiangsu §二).

Every function takes the acting user first and checks jurisdiction itself, so the HTML pages, the JSON API and
the scheduler get the same answer. An account outside the actor's sight is "not found" (404); one the actor
sees but may not manage is "not authorized" (403); both are audited by the web layer after rollback.
"""
import re
from datetime import date

from sqlalchemy import func, select

from models import Session, utcnow
from models.accounts import LockReason, PasswordChangeReason, Role, User, UserStatus, UserType
from models.orgs import Organization
from workflows import audit, auth, jurisdiction, naming, roles, settings
from workflows.errors import InvalidInput, NotAuthorized, NotFound
from workflows.identity import normalize_mobile
from workflows.passwords import generate_temporary_password

USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{7,63}$")


def get_user(actor, user_id):
    """Load an account the actor may see, else ``NotFound`` (audited when it exists but lies outside)."""
    user = Session().get(User, user_id)
    if user is None or user.status == UserStatus.DELETED:
        raise NotFound()
    if not jurisdiction.can_see_user(actor, user):
        raise NotFound(audit=("read", "user", user.id))
    return user


def get_user_for_change(user_id):
    """An account to change. Only a missing account is "not found"; whether the actor may change it is the
    write's own check, which answers "not authorized" (403) and is audited."""
    user = Session().get(User, user_id)
    if user is None or user.status == UserStatus.DELETED:
        raise NotFound()
    return user


def _require_manage(actor, user, action):
    if not jurisdiction.can_manage_user(actor, user):
        raise NotAuthorized("该账号不在您的管理范围内", audit=(action, "user", user.id))


def initial_password():
    cfg = settings.current()
    if cfg.initial_password_mode == "default":
        return cfg.policy.default_password
    return generate_temporary_password(cfg.policy)


def _username_taken(username):
    return Session().scalar(select(func.count()).where(User.username == username)) > 0


def suggest_username(user_type, org, display_name):
    """Jiangsu naming rule ``type-region-pinyin`` with a numeric suffix on collision."""
    return naming.suggest_username(user_type, org.region.name, display_name, _username_taken)


def _check_username(username):
    username = auth.normalize_username(username)
    if not USERNAME_RE.match(username):
        raise InvalidInput(fields={"username": ["账号必须以字母开头，长度8至64位，只能包含字母、数字和 _ . -"]})
    if _username_taken(username):
        raise InvalidInput(fields={"username": ["该账号已存在"]})
    return username


def _roles_for(actor, org, role_ids):
    if not role_ids:
        return []
    allowed = {r.id: r for r in roles.assignable_roles(actor, org)}
    wanted = set(int(i) for i in role_ids)
    refused = wanted - set(allowed)
    if refused:
        names = Session().scalars(select(Role.name).where(Role.id.in_(refused))).all() or [str(i) for i in refused]
        raise InvalidInput(fields={"roles": [f"不能授予角色：{'、'.join(names)}（含有您没有的功能点或不属于该单位）"]})
    return [allowed[i] for i in sorted(wanted)]


def _profile(phone, email):
    errors = {}
    if phone:
        try:
            phone = normalize_mobile(phone)
        except InvalidInput as exc:
            errors["phone"] = [exc.message]
    if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email.strip()):
        errors["email"] = ["电子邮箱格式不正确"]
    if errors:
        raise InvalidInput(fields=errors)
    return phone or None, (email or "").strip() or None


def create_user(actor, *, user_type, org_id, display_name, username=None, role_ids=(), phone=None, email=None,
                department=None, valid_until: date | None = None):
    """Create an account; returns ``(user, initial_password)``. The password is shown once to the creator."""
    try:
        user_type = UserType(user_type)
    except ValueError:
        raise InvalidInput(fields={"user_type": ["用户类型无效"]}) from None
    org = Session().get(Organization, int(org_id)) if org_id else None
    if org is None:
        raise InvalidInput(fields={"org_id": ["请选择所属单位"]})
    if user_type == UserType.SYSTEM_ADMIN or not jurisdiction.can_manage(actor, user_type, org):
        raise NotAuthorized("您不能为该单位创建此类型的账号", audit=("account_create", "organization", org.id))
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 64:
        raise InvalidInput(fields={"display_name": ["请填写姓名/昵称（不超过64个字符）"]})
    if not username and user_type in naming.TYPE_PREFIXES:
        username = suggest_username(user_type, org, display_name)
    username = _check_username(username)
    if user_type == UserType.MASTER and Session().scalar(select(func.count()).where(
            User.org_id == org.id, User.user_type == UserType.MASTER, User.status != UserStatus.DELETED)):
        raise InvalidInput(fields={"user_type": ["该单位已有总账号"]})
    phone, email = _profile(phone, email)
    granted = _roles_for(actor, org, role_ids)
    password = initial_password()
    user = User(username=username, display_name=display_name, org=org, user_type=user_type, phone=phone,
                email=email, department=(department or "").strip() or None, valid_until=valid_until,
                password_hash="", session_token=auth.new_session_token(), created_by_id=actor.id,
                roles=granted)
    Session().add(user)
    Session().flush()
    auth.set_password(user, password, reason=PasswordChangeReason.INITIAL)
    Session().flush()
    audit.record("account_create", actor=actor, target=user,
                 detail={"user_type": user_type.value, "roles": [r.name for r in granted]})
    return user, password


def update_user(actor, user, *, role_ids=None, phone=None, email=None, department=None, valid_until=None):
    """Change an account. Username and display name never change (Hubei §7.3: delete and re-create)."""
    _require_manage(actor, user, "account_update")
    phone, email = _profile(phone, email)
    before = {"roles": [r.name for r in user.roles], "phone": user.phone, "email": user.email,
              "department": user.department, "valid_until": str(user.valid_until or "")}
    if role_ids is not None:
        user.roles = _roles_for(actor, user.org, role_ids)
    user.phone, user.email = phone, email
    user.department = (department or "").strip() or None
    user.valid_until = valid_until
    after = {"roles": [r.name for r in user.roles], "phone": user.phone, "email": user.email,
             "department": user.department, "valid_until": str(user.valid_until or "")}
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if "roles" in changed:   # a role change ends the account's sessions (NOTES-SECURITY, session row)
        auth.end_sessions(user)
    audit.record("account_update", actor=actor, target=user, detail={"changed": changed})
    return user


def delete_user(actor, user):
    """Soft delete: the row (and its username) stays for the audit trail; the account can never log in."""
    _require_manage(actor, user, "account_delete")
    user.status = UserStatus.DELETED
    auth.end_sessions(user)
    audit.record("account_delete", actor=actor, target=user)


def lock_user(actor, user, *, reason=LockReason.ADMIN, note=None):
    """Lock until an administrator unlocks; ends the user's sessions and tokens."""
    _require_manage(actor, user, "account_lock")
    user.lock_reason = LockReason(reason)
    user.locked_at = utcnow()
    user.locked_until = None
    auth.end_sessions(user)
    audit.record("account_lock", actor=actor, target=user, detail={"reason": user.lock_reason, "note": note or ""})


def unlock_user(actor, user, *, from_leak_case=False):
    """Clear a lock. A lock for a credential leak with its case still open is lifted only by that case's
    restore step (password reset first), never from the account pages."""
    _require_manage(actor, user, "account_unlock")
    if user.lock_reason == LockReason.LEAK and not from_leak_case:
        from workflows import leaks
        if leaks.open_case(user.id) is not None:
            raise InvalidInput("该账号正在进行账号泄露处置，须在处置流程中重置密码后恢复", code="leak_case_open")
    previous = user.lock_reason
    user.lock_reason = user.locked_at = user.locked_until = None
    user.failed_attempts = 0
    audit.record("account_unlock", actor=actor, target=user, detail={"previous_reason": previous})


def reset_password(actor, user):
    """A new temporary password, shown once; forces a change, ends sessions, clears a failed-login lock."""
    _require_manage(actor, user, "password_reset")
    password = initial_password()
    auth.set_password(user, password, reason=PasswordChangeReason.RESET)
    user.failed_attempts = 0
    if user.lock_reason == LockReason.FAILED_LOGINS:
        user.lock_reason = user.locked_at = user.locked_until = None
    auth.end_sessions(user)
    audit.record("password_reset", actor=actor, target=user)
    return password


def search_users(actor, *, q=None, org_id=None, user_type=None, locked=None, page=1, per_page=20):
    """A page of accounts the actor may see: ``(rows, total)``."""
    query = jurisdiction.visible_users_query(actor)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(User.username.ilike(like) | User.display_name.ilike(like))
    if org_id:
        query = query.where(User.org_id == int(org_id))
    if user_type:
        query = query.where(User.user_type == user_type)
    if locked:
        now = utcnow()
        query = query.where(User.lock_reason.is_not(None),
                            User.locked_until.is_(None) | (User.locked_until > now))
    total = Session().scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = Session().scalars(query.limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return rows, total
