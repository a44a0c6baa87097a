"""人员信息管理 (Hubei §4.1, §4.2.1): the staff list, single entry of basic information, the person page
(信息维护) with its photo, and the photo wall of 人员信息查询 (Hubei §4.5)."""
from flask import current_app, flash, g, redirect, render_template, request, url_for

from web.people import common
from web.people.common import bp
from web.security import has_perm, requires
from workflows import codes, personnel, tags
from workflows.errors import NotAuthorized


@bp.route("/personnel/staff/")
@requires("hr.staff")
@common.org_page("人员信息管理")
def staff_list():
    org = common.org()
    args = {"q": request.args.get("q", "").strip(), "department_id": request.args.get("department_id", type=int),
            "status": request.args.get("status", "active"), "work_status": request.args.get("work_status", ""),
            "tag_id": request.args.get("tag_id", type=int)}
    if args["status"] not in personnel.STATUS_FILTERS:
        args["status"] = ""
    page = common.page_arg()
    rows, total = personnel.list_staff(g.actor, **args, page=page, per_page=common.PER_PAGE)
    return render_template("people/staff_list.html", rows=rows, total=total, page=page, pages=common.pages(total),
                           page_args=common.page_args(args), args=args,
                           departments=personnel.departments_of(org.id), statuses=personnel.STATUS_FILTERS,
                           work_statuses=codes.WORK_STATUSES,
                           tags=tags.choosable(g.actor) if has_perm("hr.tags") else [],
                           can_edit=has_perm("hr.staff.edit"), import_url=_import_url())


def _import_url():
    """基本信息批量导入 lives in ``web.imports``; linked when that page exists and the actor may use it."""
    if "imports.index" in current_app.view_functions and has_perm("hr.staff.import"):
        return url_for("imports.index")
    return None


def _basic_form(staff=None):
    org = common.org()
    values = personnel.basic_values(staff) if staff is not None else {"id_type": personnel.ID_TYPE_LABELS[0]}
    errors = {}
    if request.method == "POST":
        values = {f.key: request.form.get(f.key, "") for f in personnel.BASIC.fields}
        record, errors = common.attempt(lambda: personnel.save_basic(g.actor, org, values, staff=staff)[0])
        if not errors:
            flash("基本信息已保存" if staff else "人员已新增，请继续维护详细信息", "success")
            return redirect(url_for("people.person", staff_id=record.id), code=303)
    return render_template("people/staff_form.html", staff=staff, section=personnel.BASIC, values=values,
                           errors=errors, options=common.options(org.id)), 422 if errors else 200


@bp.route("/personnel/staff/new", methods=["GET", "POST"])
@requires("hr.staff.edit")
def staff_new():
    return _basic_form()


@bp.route("/personnel/staff/<int:staff_id>/edit", methods=["GET", "POST"])
@requires("hr.staff.edit")
def staff_edit(staff_id):
    return _basic_form(personnel.own_staff(g.actor, staff_id))


def _may_view_people():
    if not (has_perm("hr.staff") or has_perm("hr.query")):
        raise NotAuthorized(audit=("access", "endpoint", request.endpoint))


@bp.route("/personnel/staff/<int:staff_id>")
def person(staff_id):
    """信息维护: basic information, photo and the detail sections; read-only without hr.staff.edit."""
    _may_view_people()
    staff = personnel.own_staff(g.actor, staff_id)
    sections = [(sec, personnel.detail_rows(staff, sec)) for sec in personnel.DETAIL_SECTIONS.values()]
    return render_template("people/person.html", staff=staff, basic=personnel.basic_values(staff),
                           section=personnel.BASIC, sections=sections, can_edit=has_perm("hr.staff.edit"))


@bp.route("/personnel/staff/<int:staff_id>/photo", methods=["POST"])
@requires("hr.staff.edit")
def photo(staff_id):
    staff = personnel.own_staff(g.actor, staff_id)
    chosen = common.upload("photo")
    if chosen is None:
        flash("请选择照片文件（JPG 或 PNG，不超过 3 MB）", "error")
    else:
        _, errors = common.attempt(lambda: personnel.set_photo(g.actor, staff, *chosen))
        flash(f"照片：{next(iter(errors.values()))}" if errors else "照片已更新", "error" if errors else "success")
    return redirect(url_for("people.person", staff_id=staff_id), code=303)


@bp.route("/personnel/wall")
@requires("hr.query")
@common.org_page("人员信息查询")
def wall():
    org = common.org()
    args = {"q": request.args.get("q", "").strip(), "department_id": request.args.get("department_id", type=int),
            "status": "active"}
    page = common.page_arg()
    per_page = 48
    rows, total = personnel.list_staff(g.actor, **args, page=page, per_page=per_page)
    return render_template("people/wall.html", rows=rows, total=total, page=page,
                           pages=common.pages(total, per_page), page_args=common.page_args(args), args=args,
                           departments=personnel.departments_of(org.id))
