"""The detail sections of the person page (工作经历, 学历学位, 资格证书; Hubei §4.2.3): add, edit and delete
rows, each with at most one scan (JPG/PNG, ≤ 3 MB) kept through ``workflows.files``."""
from flask import flash, g, redirect, render_template, request, url_for

from models import Session
from web.people import common
from web.people.common import bp
from web.security import requires
from workflows import personnel
from workflows.errors import NotFound


def _section(key):
    sec = personnel.DETAIL_SECTIONS.get(key)
    if sec is None:
        raise NotFound()
    return sec


def _row(staff_id, section, row_id):
    """The section and a row of it that belongs to ``staff_id`` of the actor's institution (404 otherwise)."""
    sec = _section(section)
    row = personnel.get_detail(g.actor, sec, row_id)
    if row.staff_id != staff_id:
        raise NotFound()
    return sec, row


def _form(staff, sec, row=None):
    values = personnel.detail_values(sec, row) if row is not None else {}
    errors = {}
    if request.method == "POST":
        values = {f.key: request.form.get(f.key, "") for f in sec.fields if f.key not in ("name", "id_number")}
        chosen, remove = common.upload("attachment"), bool(request.form.get("remove_attachment"))
        _, errors = common.attempt(lambda: personnel.save_detail_row(g.actor, staff, sec, values, row=row,
                                                                     upload=chosen, remove_upload=remove))
        if not errors:
            flash(f"{sec.label}已保存", "success")
            return redirect(url_for("people.person", staff_id=staff.id, _anchor=sec.key), code=303)
    return render_template("people/detail_form.html", staff=staff, section=sec, row=row, values=values,
                           errors=errors, options={}), 422 if errors else 200


@bp.route("/personnel/staff/<int:staff_id>/<section>/new", methods=["GET", "POST"])
@requires("hr.staff.edit")
def detail_new(staff_id, section):
    sec = _section(section)
    return _form(personnel.own_staff(g.actor, staff_id), sec)


@bp.route("/personnel/staff/<int:staff_id>/<section>/<int:row_id>", methods=["GET", "POST"])
@requires("hr.staff.edit")
def detail_edit(staff_id, section, row_id):
    sec, row = _row(staff_id, section, row_id)
    return _form(row.staff, sec, row)


@bp.route("/personnel/staff/<int:staff_id>/<section>/<int:row_id>/delete", methods=["POST"])
@requires("hr.staff.edit")
def detail_delete(staff_id, section, row_id):
    sec, row = _row(staff_id, section, row_id)
    personnel.delete_detail(g.actor, sec, row)
    Session.commit()
    flash(f"已删除该条{sec.label}", "success")
    return redirect(url_for("people.person", staff_id=staff_id, _anchor=sec.key), code=303)
