"""The lock list (用户锁定一览表, Jiangsu 附表5): the accounts locked in the actor's jurisdiction, with an Excel
download for the paper record each business admin keeps after the yearly review.

Guarded by its own function point ``sys.locklist`` (held by the business-admin and system roles, not by an
institution's master account, which also holds ``sys.accounts``); the service answers for the region subtree
and refuses anyone but a business or system administrator, whatever their roles say.
"""
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, g, render_template, request

from models import Session
from models.accounts import LOCK_REASON_LABELS, LockReason
from web.filters import CST
from web.security import requires
from workflows import maintenance

bp = Blueprint("locklist", __name__, url_prefix="/locklist")
PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REASONS = {r.value: LOCK_REASON_LABELS[r] for r in maintenance.LOCK_LIST_REASONS}


def _date(name, *, end=False):
    raw = request.args.get(name, "").strip()
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=CST) if raw else None
    except ValueError:
        return None
    return day + timedelta(days=1) if day and end else day


def _query():
    """``(args to keep, service keyword arguments)`` from the query string; bad values are ignored."""
    args = {k: v for k, v in request.args.items() if k in ("since", "until", "reason") and v}
    reason = args.get("reason")
    reasons = (LockReason(reason),) if reason in REASONS else maintenance.LOCK_LIST_REASONS
    return args, {"since": _date("since"), "until": _date("until", end=True), "reasons": reasons}


@bp.route("/")
@requires("sys.locklist")
def index():
    args, query = _query()
    rows = maintenance.lock_list(g.actor, **query)
    page = max(request.args.get("page", 1, type=int), 1)
    return render_template("locklist/index.html", rows=rows[(page - 1) * PER_PAGE:page * PER_PAGE],
                           total=len(rows), page=page, pages=max(1, -(-len(rows) // PER_PAGE)), args=args,
                           reasons=REASONS, page_args=lambda p: urlencode({**args, "page": p}))


@bp.route("/export")
@requires("sys.locklist")
def export():
    _args, query = _query()
    data = maintenance.lock_list_workbook(g.actor, **query)
    Session.commit()   # the export's audit event
    name = f"{maintenance.LOCK_LIST_TITLE}.xlsx"
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=lock-list.xlsx; filename*=UTF-8''{quote(name)}"})
