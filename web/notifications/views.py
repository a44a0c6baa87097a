"""The notifications page: a user's own messages, newest first, unread ones marked.

Opening a message marks it read and follows its link, but only to a path of this site: a stored link that names
another host (``//evil.example``, ``https://…``, ``/\\evil.example``) is never followed. Opening and marking
are POSTs (CSRF-protected, 303 afterwards), like every other state change.
"""
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from models import Session, utcnow
from models.scheduling import Notification
from web.security import gate_for
from workflows import auth, notifications
from workflows.errors import NotFound

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
PER_PAGE = 20


def safe_link(link):
    """``link`` when it is a path on this site, else None."""
    if not link or not link.startswith("/") or link.startswith("//") or "\\" in link:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in link):
        return None
    parts = urlsplit(link)
    return link if not parts.scheme and not parts.netloc else None


def _own(note_id):
    note = Session().get(Notification, note_id)
    if note is None or note.user_id != g.actor.id:
        raise NotFound()
    return note


@bp.route("/")
def index():
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = notifications.page(g.actor, page, PER_PAGE)
    return render_template("notifications/index.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), unread=notifications.unread_count(g.actor),
                           page_args=lambda p: urlencode({"page": p}))


@bp.route("/<int:note_id>/open", methods=["POST"])
def open_note(note_id):
    note = _own(note_id)
    notifications.mark_read(g.actor, [note.id])
    Session.commit()
    target = safe_link(note.link)
    if target is None:
        if note.link:
            flash("该消息的链接不是本系统的页面，已忽略", "warning")
        return redirect(url_for("notifications.index"), code=303)
    return redirect(target, code=303)


@bp.route("/read-all", methods=["POST"])
def read_all():
    count = notifications.mark_read(g.actor)
    Session.commit()
    flash(f"已将 {count} 条消息标为已读" if count else "没有未读消息", "success")
    return redirect(url_for("notifications.index"), code=303)


def _ungated_actor():
    """The logged-in user when no gate (forced password change, real-name verification) is active."""
    actor = g.get("actor")
    if actor is None and current_user.is_authenticated:
        actor = current_user._get_current_object()
    if actor is None or gate_for(actor, "notifications.index") is not None:
        return None
    return actor


def unread_notifications():
    """The top bar's unread count (0 while a gate is active); asked at most once per request."""
    if "unread_notifications" not in g:
        actor = _ungated_actor()
        g.unread_notifications = notifications.unread_count(actor) if actor is not None else 0
    return g.unread_notifications


def password_expiry_days():
    """Days left before the actor's password must be changed, inside the warning window only; else None."""
    actor = _ungated_actor()
    return auth.password_expires_in_days(actor, utcnow()) if actor is not None else None


@bp.app_context_processor
def _helpers():
    return {"unread_notifications": unread_notifications, "password_expiry_days": password_expiry_days}
