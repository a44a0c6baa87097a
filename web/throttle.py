"""Per-IP throttling of login attempts (Flask-Limiter), beside the per-account lockout.

The lockout protects one account from guessing; the throttle slows one address trying many accounts. Only
submitted logins count (POST on the page and the API). The limit (``LOGIN_RATE_LIMIT``, default
``30 per minute``) is generous because a hospital's staff often share one public address. Counts live in
memory per process unless ``RATELIMIT_STORAGE_URI`` names a shared store (``redis://...``); with several
workers and the memory store an address gets the limit once per worker.
"""
from flask import current_app, flash, jsonify, render_template

from web.errors import wants_json
from web.extensions import limiter

DEFAULT_LIMIT = "30 per minute"
MESSAGE = "登录尝试过于频繁，请稍后再试"


def login_limit():
    return current_app.config.get("LOGIN_RATE_LIMIT") or DEFAULT_LIMIT


def limit_logins(view):
    """One count per address for the page and the API together."""
    return limiter.shared_limit(login_limit, scope="login", methods=["POST"])(view)


def init_app(app):
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    app.register_error_handler(429, _too_many)


def _too_many(exc):
    from web.auth.forms import LoginForm
    if wants_json():
        return jsonify({"error": "rate_limited", "message": MESSAGE}), 429
    flash(MESSAGE, "error")
    return render_template("auth/login.html", form=LoginForm()), 429
