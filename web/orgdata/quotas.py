"""机构编制管理 (``/institution/quotas``: the institution distributes its quota to departments) and 编制分配
(``/admin/quotas``: business admins allocate quotas to the institutions of their jurisdiction)."""
from flask import g, render_template, request, url_for

from models import Session
from web.forms import field_errors
from web.orgdata import bp
from web.orgdata.forms import done, edit_page
from web.security import org_page, requires
from workflows import quotas
from workflows.errors import InvalidInput

PREFIX = "quota-"


@bp.route("/institution/quotas", methods=["GET", "POST"], endpoint="quotas")
@requires(quotas.DISTRIBUTE)
@org_page("机构编制管理")
def institution_quotas():
    posted, errors = {}, {}
    if request.method == "POST":
        posted = {k.removeprefix(PREFIX): v for k, v in request.form.items() if k.startswith(PREFIX)}
        try:
            quotas.distribute(g.actor, posted)
        except InvalidInput as exc:
            Session.rollback()
            errors = field_errors(exc)
        else:
            return done("科室编制已保存", url_for("orgdata.quotas"))
    view = quotas.institution_view(g.actor)
    return render_template("orgdata/quotas.html", posted=posted, errors=errors, **view), 422 if errors else 200


@bp.route("/admin/quotas", endpoint="allocations")
@requires(quotas.ALLOCATE)
def allocations():
    q = request.args.get("q", "").strip()
    return render_template("orgdata/allocations.html", rows=quotas.allocation_view(g.actor, q), q=q)


@bp.route("/admin/quotas/<int:org_id>", methods=["GET", "POST"])
@requires(quotas.ALLOCATE)
def allocate(org_id):
    org = quotas.get_allocatable(g.actor, org_id)
    used = quotas.distributed(org.id)
    return edit_page([(None, (quotas.ALLOCATION_FIELD,))], {"quota": org.quota},
                     lambda values: quotas.allocate(g.actor, org.id, values),
                     heading=f"编制分配：{org.name}", back=url_for("orgdata.allocations"), message="编制已分配",
                     lead=f"当前核定编制 {org.quota if org.quota is not None else '未分配'}，"
                          f"已分配到科室 {used}；核定编制数不能少于已分配到科室的编制数。")
