"""统计分析 (Hubei §6): 常用统计 as tables and server-rendered SVG bar charts, 常用报表 (the roster of 图6-2)
with a department filter and its Excel export."""
from flask import g, render_template, request

from models import Session
from web.people import common
from web.people.common import bp
from web.people.tags import xlsx_response
from web.security import requires
from workflows import personnel, stats


@bp.route("/stats/common")
@requires("stats.common")
@common.org_page("常用统计")
def stats_common():
    common.org()
    counts = stats.common(g.actor)
    return render_template("people/stats_common.html", counts=counts, dimensions=stats.DIMENSIONS)


@bp.route("/stats/reports")
@requires("stats.reports")
@common.org_page("常用报表")
def stats_reports():
    org = common.org()
    department_id = request.args.get("department_id", type=int)
    return render_template("people/reports.html", rows=stats.roster(g.actor, department_id),
                           headers=stats.ROSTER_HEADERS, department_id=department_id,
                           departments=personnel.departments_of(org.id))


@bp.route("/stats/reports/export")
@requires("stats.reports")
def roster_export():
    common.org()
    data = stats.roster_xlsx(g.actor, request.args.get("department_id", type=int))
    Session.commit()   # the export's audit event
    return xlsx_response(data, "人员花名册.xlsx")
