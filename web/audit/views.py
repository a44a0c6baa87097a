"""The audit log page (系统管理 → 系统日志): search by actor, action, target and time; Excel export."""
from datetime import datetime, timedelta
from urllib.parse import urlencode

from flask import Blueprint, Response, g, render_template, request
from sqlalchemy import func, select

from models import Session
from web.filters import CST, local_time
from web.security import requires
from workflows import audit
from workflows.excel import workbook_bytes

bp = Blueprint("audit", __name__, url_prefix="/audit")
PER_PAGE = 50
EXPORT_LIMIT = 50000


def _date(name, *, end=False):
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=CST)
    except ValueError:
        return None
    return day + timedelta(days=1) if end else day


def _filter():
    return audit.AuditFilter(actor=request.args.get("actor") or None, action=request.args.get("action") or None,
                             target=request.args.get("target") or None, since=_date("since"),
                             until=_date("until", end=True))


def _args():
    return {k: v for k, v in request.args.items() if k in ("actor", "action", "target", "since", "until") and v}


@bp.route("/")
@requires("sys.audit")
def index():
    query = audit.search_query(g.actor, _filter())
    page = max(request.args.get("page", 1, type=int), 1)
    total = Session().scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = Session().scalars(query.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    args = _args()
    chain = audit.verify_chain() if request.args.get("verify") else None
    return render_template("audit/index.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), args=args, chain=chain,
                           actions=audit.ACTION_LABELS, outcomes=audit.OUTCOME_LABELS,
                           page_args=lambda p: urlencode({**args, "page": p}))


@bp.route("/export")
@requires("sys.audit.export")
def export():
    flt = _filter()
    rows = Session().scalars(audit.search_query(g.actor, flt).limit(EXPORT_LIMIT)).all()
    data = workbook_bytes(
        "系统日志",
        ["序号", "时间", "操作人", "操作", "结果", "对象类型", "对象", "IP", "详情"],
        ([i, local_time(e.at), e.actor_name, audit.ACTION_LABELS.get(e.action, e.action),
          audit.OUTCOME_LABELS.get(e.outcome, e.outcome), e.target_type, e.target_name or e.target_id, e.ip,
          _detail(e.detail)] for i, e in enumerate(rows, start=1)),
        widths=[8, 20, 16, 14, 8, 12, 20, 16, 60],
    )
    audit.record("audit_export", actor=g.actor, detail={"rows": len(rows), "filter": _args()})
    Session.commit()
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=audit-log.xlsx"})


def _detail(detail):
    return "；".join(f"{k}={v}" for k, v in sorted((detail or {}).items()))
