"""部门管理 (``/institution/departments``): the tree, 初始化部门, 新增 (top level or child), 修改, 删除."""
from flask import g, render_template, request, url_for

from web.orgdata import bp
from web.orgdata.forms import done, edit_page
from web.security import org_page, requires
from workflows import codes, departments

SECTIONS = [(None, departments.FIELDS)]


def _list_url():
    return url_for("orgdata.departments")


@bp.route("/institution/departments", endpoint="departments")
@requires(departments.VIEW)
@org_page("部门管理")
def departments_index():
    return render_template("orgdata/departments.html", **departments.tree_view(g.actor))


@bp.route("/institution/departments/init", methods=["POST"])
@requires(departments.EDIT)
def init_departments():
    count = departments.initialize(g.actor)
    return done(f"已按模板初始化 {count} 个部门，请根据实际情况修改", _list_url())


@bp.route("/institution/departments/new", methods=["GET", "POST"])
@requires(departments.EDIT)
def new_department():
    parent_id = request.args.get("parent", type=int)
    parent = departments.get(g.actor, parent_id, departments.EDIT) if parent_id else None
    return edit_page(SECTIONS, {"category": codes.CLINICAL_CATEGORY},
                     lambda values: departments.add(g.actor, values, parent.id if parent else None),
                     heading=f"新增下级部门（上级：{parent.name}）" if parent else "新增部门", back=_list_url(),
                     message="部门已新增")


@bp.route("/institution/departments/<int:dept_id>/edit", methods=["GET", "POST"])
@requires(departments.EDIT)
def edit_department(dept_id):
    dept = departments.get(g.actor, dept_id, departments.EDIT)
    return edit_page(SECTIONS, departments.values_of(dept), lambda values: departments.edit(g.actor, dept.id, values),
                     heading=f"修改部门：{dept.name}", back=_list_url(), message="部门已修改")


@bp.route("/institution/departments/<int:dept_id>/delete", methods=["POST"])
@requires(departments.EDIT)
def delete_department(dept_id):
    departments.delete(g.actor, dept_id)
    return done("部门已删除", _list_url())
