"""Who is asking, and may they: login sessions, expiry, the forced-change and real-name gates, permissions.

Browser pages are closed by default: every endpoint needs a login except those in ``PUBLIC``. The JSON API
authenticates bearer tokens in its own blueprint and applies the same gates through ``gate_for``.
"""
from functools import wraps

from flask import flash, g, has_request_context, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from models import Session, utcnow
from models.accounts import User
from web.extensions import login_manager
from workflows import audit, roles, settings
from workflows.errors import NotAuthorized

PUBLIC = {"static", "auth.healthz", "auth.login"}
DURING_PASSWORD_CHANGE = {"auth.password", "auth.logout", "api.change_password", "api.logout"}
DURING_REAL_NAME = DURING_PASSWORD_CHANGE | {"auth.realname", "api.me"}


def init_app(app):
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.user_loader(_load_user)
    app.before_request(_guard_browser)
    app.after_request(_no_store)
    app.after_request(_security_headers)
    app.context_processor(lambda: {"has_perm": has_perm})


def _no_store(response):
    """Pages and answers for a logged-in user (one-time passwords among them) are never cached."""
    if g.get("actor") is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


# Scripts, styles and images come from our own origin only; there is no inline script or style anywhere, so
# an injected one does not run. Pages are never framed (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:   # behind TLS (directly, or a trusted proxy saying so): browsers keep to HTTPS
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _load_user(alt_id):
    user_id, _, token = (alt_id or "").partition(":")
    if not user_id.isdigit():
        return None
    user = Session().get(User, int(user_id))
    if user is None or not user.is_active or user.session_token != token:
        return None
    return user


def client_ip():
    return request.remote_addr


def gate_for(user, endpoint):
    """``"password"`` or ``"real_name"`` when the user must first do that, else None."""
    if user.must_change_password and endpoint not in DURING_PASSWORD_CHANGE:
        return "password"
    if not user.real_name_verified and endpoint not in DURING_REAL_NAME and not _real_name_step(user, endpoint):
        return "real_name"
    return None


def _real_name_step(user, endpoint):
    """The verification's own steps: its pages, and the API calls on the account's own verification and files
    (decided from the request by ``web.realname.views.allowed_while_unverified``)."""
    from web.realname.views import allowed_while_unverified
    return has_request_context() and request.endpoint == endpoint and allowed_while_unverified(user, endpoint)


def _guard_browser():
    audit.client_ip.set(client_ip())
    if request.blueprint == "api" or request.path.startswith("/api/") or request.endpoint in PUBLIC:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if _session_expired():
        logout_user()
        session.clear()
        flash("登录已超时，请重新登录", "warning")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    g.actor = current_user._get_current_object()
    gate = gate_for(g.actor, request.endpoint)
    if gate == "password":
        return redirect(url_for("auth.password"))
    if gate == "real_name":
        return redirect(url_for("auth.realname"))
    return None


def _session_expired():
    cfg = settings.current()
    now = utcnow().timestamp()
    login_at, seen_at = session.get("login_at"), session.get("seen_at")
    if login_at is None or seen_at is None:
        return True
    if now - seen_at > cfg.session_idle.total_seconds() or now - login_at > cfg.session_max.total_seconds():
        return True
    session["seen_at"] = now
    return False


def start_browser_session(user):
    """Log in with a fresh session (a new cookie: nothing from before the login survives)."""
    session.clear()
    login_user(user)
    session.permanent = True
    now = utcnow().timestamp()
    session["login_at"] = session["seen_at"] = now


def end_browser_session():
    logout_user()
    session.clear()


def actor():
    return g.get("actor")


NO_ORG = "您的账号不属于任何单位，没有本单位的数据。这些信息由各单位自行维护。"


def org_page(heading, message=NO_ORG):
    """A page of one's own unit's data answers an account without a unit (the system administrator) with a
    plain notice (200) instead of an error, so every menu entry opens; forms and records still 404."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.actor.org is None:
                return render_template("no_org.html", heading=heading, message=message)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def current_permissions():
    if "permissions" not in g:
        g.permissions = roles.permissions_of(g.actor) if g.get("actor") is not None else set()
    return g.permissions


def has_perm(code):
    return code in current_permissions()


def requires(code):
    """Refuse the view unless the actor holds function point ``code`` (audited as access_denied)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not has_perm(code):
                raise NotAuthorized(audit=("access", "endpoint", request.endpoint))
            return view(*args, **kwargs)
        return wrapped
    return decorator
