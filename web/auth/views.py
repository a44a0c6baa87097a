"""Login, logout, the forced password change, the real-name gate page and the home page."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy import text

from models import Session, utcnow
from web.auth.forms import LoginForm, PasswordChangeForm
from web.security import end_browser_session, start_browser_session
from web.throttle import limit_logins
from workflows import auth, settings
from workflows.errors import InvalidInput, PolicyViolation
from workflows.passwords import describe_rules

bp = Blueprint("auth", __name__)

LOGIN_MESSAGES = {
    "invalid": "账号或密码错误",
    "disabled": "该账号已停用，请联系管理员",
    "temporary_expired": "临时密码已过期，请联系管理员重置密码",
}


def lock_message(locked_until):
    if locked_until is None:
        return "账号已被锁定，请联系管理员解锁"
    from web.filters import local_time
    return f"账号已被锁定，请于 {local_time(locked_until)} 后再试，或联系管理员解锁"


def _safe_next(target):
    return target if target and target.startswith("/") and not target.startswith("//") else None


@bp.route("/login", methods=["GET", "POST"])
@limit_logins
def login():
    form = LoginForm()
    if form.validate_on_submit():
        result = auth.authenticate(form.username.data, form.password.data)
        Session.commit()
        if result.ok:
            start_browser_session(result.user)
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.home"), code=303)
        message = lock_message(result.locked_until) if result.outcome == "locked" \
            else LOGIN_MESSAGES[result.outcome]
        flash(message, "error")
        return render_template("auth/login.html", form=form), 200
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    auth.record_logout(g.actor)
    Session.commit()
    end_browser_session()
    flash("您已安全退出", "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = PasswordChangeForm()
    violations = []
    if form.validate_on_submit():
        try:
            auth.change_password(g.actor, form.current_password.data, form.new_password.data)
        except PolicyViolation as exc:
            Session.rollback()
            violations = exc.violations
        except InvalidInput as exc:
            Session.commit()   # keep the audit record of the failed attempt
            form.current_password.errors = list(form.current_password.errors) + [exc.message]
        else:
            Session.commit()
            start_browser_session(g.actor)   # the change ended every session, this one gets a new one
            flash("密码修改成功", "success")
            return redirect(url_for("auth.home"), code=303)
    return render_template("auth/password.html", form=form, violations=violations,
                           rules=describe_rules(settings.current().policy), reason=g.actor.password_change_reason)


@bp.route("/realname")
def realname():
    """The real-name gate's page: the verification wizard (``web.realname``)."""
    from web.realname.views import wizard
    return wizard()


@bp.route("/")
def home():
    days = auth.password_expires_in_days(g.actor, utcnow())
    return render_template("auth/home.html", user=g.actor, password_days_left=days)


@bp.route("/healthz", endpoint="healthz")
def healthz():
    try:
        Session().execute(text("SELECT 1"))
        database = "ok"
    except Exception:   # noqa: BLE001 - any failure means "unreachable" to the probe
        Session.rollback()
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return {"status": "ok" if status == 200 else "degraded", "database": database}, status
