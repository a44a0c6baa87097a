"""Login, lockout, password change and API tokens.

Lockout (Hubei §7.3, 等保 8.1.4.1 b): ``lockout_threshold`` consecutive failures lock the account for
``lockout_minutes``. The failure counter moves in one conditional UPDATE that only succeeds while the account
is open, so parallel wrong attempts count exactly up to the threshold and lock once; on PostgreSQL the row is
also locked (``FOR UPDATE``) for the whole attempt, so no password is checked after the lock. An expired timed
lock counts as open at once (whatever the sweeper did) and its counter starts again from zero.
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, literal, or_, select, update

from models import Session, utcnow
from models.accounts import ApiToken, LockReason, PasswordChangeReason, PasswordHistory, User, UserStatus
from models.db import UTCDateTime
from workflows import audit, hashing, settings
from workflows.errors import InvalidInput, PolicyViolation
from workflows.passwords import check_password, violation


@dataclass
class LoginResult:
    outcome: str            # ok | invalid | locked | disabled | temporary_expired
    user: User | None = None
    locked_until: datetime | None = None

    @property
    def ok(self):
        return self.outcome == "ok"


def normalize_username(username):
    return (username or "").strip().lower()


def _load_for_login(username):
    query = select(User).where(User.username == normalize_username(username), User.status != UserStatus.DELETED)
    return Session().scalars(query.with_for_update()).one_or_none()


def authenticate(username, password):
    """Check a username and password; count failures; never reveal whether the username exists."""
    now = utcnow()
    cfg = settings.current()
    user = _load_for_login(username)
    if user is None:
        hashing.burn_time(password or "")
        audit.record("login", outcome="failure", actor_name=normalize_username(username)[:64],
                     detail={"reason": "invalid_credentials"})
        return LoginResult("invalid")
    if user.is_locked(now):
        audit.record("login", actor=user, target=user, outcome="denied", detail={"reason": "account_locked"})
        return LoginResult("locked", user, user.locked_until)
    if not hashing.verify_password(user.password_hash, password or ""):
        return _count_failure(user, now, cfg)
    if user.status == UserStatus.DISABLED:
        audit.record("login", actor=user, target=user, outcome="denied", detail={"reason": "account_disabled"})
        return LoginResult("disabled", user)
    if (user.password_change_reason in (PasswordChangeReason.INITIAL, PasswordChangeReason.RESET)
            and user.temporary_password_expires_at is not None and user.temporary_password_expires_at <= now):
        audit.record("login", actor=user, target=user, outcome="denied", detail={"reason": "temporary_expired"})
        return LoginResult("temporary_expired", user)
    _login_succeeded(user, now, cfg)
    return LoginResult("ok", user)


def _count_failure(user, now, cfg):
    expired = and_(User.lock_reason == LockReason.FAILED_LOGINS, User.locked_until <= now)
    open_now = or_(User.lock_reason.is_(None), and_(User.locked_until.is_not(None), User.locked_until <= now))
    attempts = case((expired, 0), else_=User.failed_attempts) + 1
    reaches = attempts >= cfg.lockout_threshold
    at = literal(now, UTCDateTime())
    until = literal(now + cfg.lockout_duration, UTCDateTime())
    row = Session().execute(
        update(User)
        .where(User.id == user.id, open_now)
        .values(
            failed_attempts=attempts,
            lock_reason=case((reaches, literal(LockReason.FAILED_LOGINS.value)), (expired, None),
                             else_=User.lock_reason),
            locked_at=case((reaches, at), (expired, None), else_=User.locked_at),
            locked_until=case((reaches, until), (expired, None), else_=User.locked_until),
        )
        .returning(User.failed_attempts, User.locked_until)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    Session().expire(user)
    if row is None:   # another attempt locked the account meanwhile
        audit.record("login", actor=user, target=user, outcome="denied", detail={"reason": "account_locked"})
        return LoginResult("locked", user, user.locked_until)
    audit.record("login", actor=user, target=user, outcome="failure",
                 detail={"reason": "invalid_credentials", "failed_attempts": row.failed_attempts})
    if row.locked_until is not None:
        audit.record("account_lock", target=user, actor_name="system",
                     detail={"reason": LockReason.FAILED_LOGINS.value, "until": row.locked_until.isoformat()})
        return LoginResult("locked", user, row.locked_until)
    return LoginResult("invalid", user)


def _login_succeeded(user, now, cfg):
    user.failed_attempts = 0
    if user.lock_reason == LockReason.FAILED_LOGINS:   # an expired timed lock: clear it
        user.lock_reason = user.locked_at = user.locked_until = None
    user.last_login_at = now
    if password_expired(user, now) and user.password_change_reason is None:
        user.password_change_reason = PasswordChangeReason.EXPIRED
    audit.record("login", actor=user, target=user)


def password_expired(user, now):
    max_age = settings.current().policy.max_age_days
    return max_age > 0 and user.password_changed_at <= now - timedelta(days=max_age)


def password_expires_in_days(user, now):
    """Days left before rotation is due, or None when rotation is off or far away (outside the warning)."""
    policy = settings.current().policy
    if policy.max_age_days <= 0:
        return None
    left = user.password_changed_at + timedelta(days=policy.max_age_days) - now
    if left > timedelta(days=policy.warn_days):
        return None
    return max(0, left.days)


def record_logout(user):
    audit.record("logout", actor=user, target=user)


# --- passwords ------------------------------------------------------------------------------------------

def _reused(user, new_password):
    depth = settings.current().policy.history_depth
    if depth <= 0:
        return False
    hashes = [user.password_hash] + list(Session().scalars(
        select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc()).limit(depth)))
    return any(hashing.verify_password(h, new_password) for h in hashes)


def policy_violations(user, new_password):
    policy = settings.current().policy
    found = check_password(policy, new_password, username=user.username)
    if _reused(user, new_password):
        found.append(violation("reused", policy))
    return found


def set_password(user, new_password, *, reason=None, now=None):
    """Store a new hash, keeping the old one in the history; ``reason`` forces a change at next login."""
    now = now or utcnow()
    if user.password_hash:
        Session().add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, created_at=now))
    user.password_hash = hashing.hash_password(new_password)
    user.password_changed_at = now
    user.password_change_reason = reason
    hours = settings.current().policy.temporary_password_hours
    user.temporary_password_expires_at = now + timedelta(hours=hours) if reason and hours > 0 else None


def change_password(user, current_password, new_password, *, keep_token_id=None):
    """The user's own change. Ends the user's other sessions and tokens; returns the new session token."""
    if not hashing.verify_password(user.password_hash, current_password or ""):
        audit.record("password_change", actor=user, target=user, outcome="failure",
                     detail={"reason": "invalid_current_password"})
        raise InvalidInput("当前密码不正确", code="invalid_current_password",
                           fields={"current_password": ["当前密码不正确"]})
    found = policy_violations(user, new_password or "")
    if found:
        raise PolicyViolation(found)
    set_password(user, new_password)
    end_sessions(user, keep_token_id=keep_token_id)
    audit.record("password_change", actor=user, target=user)
    return user.session_token


def end_sessions(user, *, keep_token_id=None):
    """Invalidate every browser session (new alternative id) and every API token but ``keep_token_id``."""
    user.session_token = new_session_token()
    query = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if keep_token_id is not None:
        query = query.where(ApiToken.id != keep_token_id)
    Session().execute(query.values(revoked_at=utcnow()).execution_options(synchronize_session=False))


def new_session_token():
    return secrets.token_urlsafe(24)


# --- API tokens -----------------------------------------------------------------------------------------

def _digest(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user):
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    Session().add(ApiToken(user_id=user.id, token_hash=_digest(raw), created_at=now, last_used_at=now,
                           expires_at=now + settings.current().session_max))
    Session().flush()
    return raw


def resolve_token(raw):
    """The live token for ``raw`` (idle and absolute limits applied), or None. Touches ``last_used_at``."""
    if not raw:
        return None
    now = utcnow()
    token = Session().scalars(select(ApiToken).where(ApiToken.token_hash == _digest(raw))).one_or_none()
    if (token is None or token.revoked_at is not None or token.expires_at <= now
            or token.last_used_at <= now - settings.current().session_idle):
        return None
    if token.user.status != UserStatus.ACTIVE:
        return None
    if now - token.last_used_at > timedelta(seconds=30):
        token.last_used_at = now
    return token


def revoke_token(token):
    if token.revoked_at is None:
        token.revoked_at = utcnow()
