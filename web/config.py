"""Configuration from the environment.

Every variable is listed in the README. Policy variables (``PASSWORD_*``, ``LOCKOUT_*``, ``SESSION_*``) are
read by ``workflows.settings.configure``.
"""
import os

DEV_SECRET_KEY = "dev-only-secret-key-change-me"

POLICY_KEYS = (
    "PASSWORD_MIN_LENGTH", "PASSWORD_MAX_LENGTH", "PASSWORD_REQUIRE_UPPER", "PASSWORD_REQUIRE_LOWER",
    "PASSWORD_REQUIRE_DIGIT", "PASSWORD_REQUIRE_SPECIAL", "PASSWORD_ASCII_ONLY", "PASSWORD_FORBIDDEN_CHARACTERS",
    "PASSWORD_MAX_RUN", "PASSWORD_FORBID_USERNAME", "DEFAULT_INITIAL_PASSWORD", "PASSWORD_HISTORY_DEPTH",
    "PASSWORD_MAX_AGE_DAYS", "PASSWORD_WARN_DAYS", "TEMPORARY_PASSWORD_HOURS", "LOCKOUT_THRESHOLD",
    "LOCKOUT_MINUTES", "SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS", "INITIAL_PASSWORD_MODE",
    "ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "UPLOAD_MAX_BYTES", "REVIEW_REMINDER",
    "STALE_ACCOUNT_DAYS", "YEARLY_REVIEW_MONTH", "YEARLY_REVIEW_DAY",
)


def from_environment(instance_path):
    env = os.environ
    config = {
        "ENV_NAME": env.get("APP_ENV", "development"),
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET_KEY),
        "DATABASE_URL": env.get("DATABASE_URL", f"sqlite:///{os.path.join(instance_path, 'app.db')}"),
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "0") == "1",
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        "UPLOAD_DIR": env.get("UPLOAD_DIR", os.path.join(instance_path, "uploads")),
        "LOGIN_URL": env.get("LOGIN_URL"),
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "30 per minute"),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
    }
    config.update({key: env[key] for key in POLICY_KEYS if key in env})
    return config


def check_production(config):
    """Refuse to run in production with the development secret key (or a short one)."""
    if config.get("ENV_NAME") != "production":
        return
    if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEV_SECRET_KEY or len(config["SECRET_KEY"]) < 32:
        raise RuntimeError("APP_ENV=production needs SECRET_KEY set to a random value of at least 32 characters")
