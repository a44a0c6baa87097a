"""Runtime settings the services read: the password policy, lockout and session limits.

The app factory (and the scheduler's entry point) call ``configure`` once with the application config, so the
web, the API, the CLI and the jobs all apply the same policy object.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from workflows.passwords import PasswordPolicy

_BOOL_FALSE = {"0", "false", "no", "off", ""}


def _as_int(value):
    return int(value)


def _as_bool(value):
    return value if isinstance(value, bool) else str(value).strip().lower() not in _BOOL_FALSE


@dataclass(frozen=True)
class Settings:
    policy: PasswordPolicy = field(default_factory=PasswordPolicy)
    lockout_threshold: int = 5
    lockout_minutes: int = 30
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    initial_password_mode: str = "random"   # "random" (shown once) or "default" (DEFAULT_INITIAL_PASSWORD)
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    upload_dir: str = "instance/uploads"
    upload_max_bytes: int = 3 * 1024 * 1024
    review_reminder: str = "P3D"             # ISO 8601 duration before a review task's candidates are reminded
    stale_account_days: int = 180            # yearly review: lock accounts unused this long (0: rule off)
    yearly_review_month: int = 1             # yearly review date (Jiangsu: with the yearly code maintenance)
    yearly_review_day: int = 15

    @property
    def lockout_duration(self):
        return timedelta(minutes=self.lockout_minutes)

    @property
    def session_idle(self):
        return timedelta(minutes=self.session_idle_minutes)

    @property
    def session_max(self):
        return timedelta(hours=self.session_max_hours)


_KEYS = {
    "lockout_threshold": ("LOCKOUT_THRESHOLD", _as_int),
    "lockout_minutes": ("LOCKOUT_MINUTES", _as_int),
    "session_idle_minutes": ("SESSION_IDLE_MINUTES", _as_int),
    "session_max_hours": ("SESSION_MAX_HOURS", _as_int),
    "initial_password_mode": ("INITIAL_PASSWORD_MODE", str),
    "argon2_time_cost": ("ARGON2_TIME_COST", _as_int),
    "argon2_memory_cost": ("ARGON2_MEMORY_COST", _as_int),
    "upload_dir": ("UPLOAD_DIR", str),
    "upload_max_bytes": ("UPLOAD_MAX_BYTES", _as_int),
    "review_reminder": ("REVIEW_REMINDER", str),
    "stale_account_days": ("STALE_ACCOUNT_DAYS", _as_int),
    "yearly_review_month": ("YEARLY_REVIEW_MONTH", _as_int),
    "yearly_review_day": ("YEARLY_REVIEW_DAY", _as_int),
}

_current = Settings()


def configure(cfg):
    """Build the settings from a mapping (the Flask config or ``os.environ``-like values)."""
    global _current
    values = {"policy": PasswordPolicy.from_mapping(cfg)}
    for name, (key, conv) in _KEYS.items():
        if key in cfg and cfg[key] is not None:
            values[name] = conv(cfg[key])
    settings = Settings(**values)
    if settings.initial_password_mode not in ("random", "default"):
        raise ValueError("INITIAL_PASSWORD_MODE must be 'random' or 'default'")
    _check_review(settings)
    _current = settings
    from workflows import hashing
    hashing.configure(settings.argon2_time_cost, settings.argon2_memory_cost)
    return settings


def _check_review(settings):
    if settings.stale_account_days < 0:
        raise ValueError("STALE_ACCOUNT_DAYS must not be negative")
    try:
        date(2001, settings.yearly_review_month, settings.yearly_review_day)   # a date every year has
    except ValueError:
        raise ValueError("YEARLY_REVIEW_MONTH / YEARLY_REVIEW_DAY must name a day that exists every year") from None


def current():
    return _current


