"""人员标签管理 (Hubei §4.3): the list, new/edit with members chosen from the active staff, the tag page,
封存 / 解封, delete and the Excel export of the members."""
from flask import Response, flash, g, redirect, render_template, request, url_for

from models import Session
from web.people import common
from web.people.common import bp
from web.security import requires
from workflows import tags

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/personnel/tags/")
@requires("hr.tags")
@common.org_page("人员标签管理")
def tags_index():
    common.org()
    return render_template("people/tags.html", tags=tags.list_tags(g.actor), status_label=tags.status_label)


def _form(tag=None):
    common.org()
    if tag is not None and tag.sealed_at is not None:
        flash("该标签已封存，解封后才能修改", "warning")
        return redirect(url_for("people.tag_detail", tag_id=tag.id), code=303)
    values = {"name": tag.name, "year": tag.year, "description": tag.description or "",
              "members": [s.id for s in tag.members]} if tag else {"year": ""}
    errors = {}
    if request.method == "POST":
        values = {"name": request.form.get("name", ""), "year": request.form.get("year", ""),
                  "description": request.form.get("description", ""), "members": request.form.getlist("members")}
        saved, errors = common.attempt(
            lambda: tags.update_tag(g.actor, tag, values) if tag else tags.create_tag(g.actor, values))
        if not errors:
            flash("人员标签已保存", "success")
            return redirect(url_for("people.tag_detail", tag_id=saved.id), code=303)
    chosen = {int(v) for v in values.get("members", []) if str(v).isdigit()}
    return render_template("people/tag_form.html", tag=tag, values=values, errors=errors, chosen=chosen,
                           candidates=tags.candidates(g.actor)), 422 if errors else 200


@bp.route("/personnel/tags/new", methods=["GET", "POST"])
@requires("hr.tags")
def tag_new():
    return _form()


@bp.route("/personnel/tags/<int:tag_id>/edit", methods=["GET", "POST"])
@requires("hr.tags")
def tag_edit(tag_id):
    return _form(tags.get_tag(g.actor, tag_id))


@bp.route("/personnel/tags/<int:tag_id>")
@requires("hr.tags")
def tag_detail(tag_id):
    tag = tags.get_tag(g.actor, tag_id)
    return render_template("people/tag.html", tag=tag, status_label=tags.status_label)


def _act(tag_id, action, message):
    tag = tags.get_tag(g.actor, tag_id)
    action(g.actor, tag)
    Session.commit()
    flash(message, "success")


@bp.route("/personnel/tags/<int:tag_id>/seal", methods=["POST"])
@requires("hr.tags")
def tag_seal(tag_id):
    _act(tag_id, tags.seal, "已封存：该标签只读，且不再出现在可选标签中")
    return redirect(url_for("people.tags_index"), code=303)


@bp.route("/personnel/tags/<int:tag_id>/unseal", methods=["POST"])
@requires("hr.tags")
def tag_unseal(tag_id):
    _act(tag_id, tags.unseal, "已解封")
    return redirect(url_for("people.tags_index"), code=303)


@bp.route("/personnel/tags/<int:tag_id>/delete", methods=["POST"])
@requires("hr.tags")
def tag_delete(tag_id):
    _act(tag_id, tags.delete_tag, "人员标签已删除")
    return redirect(url_for("people.tags_index"), code=303)


@bp.route("/personnel/tags/<int:tag_id>/export")
@requires("hr.tags")
def tag_export(tag_id):
    tag = tags.get_tag(g.actor, tag_id)
    data = tags.export_members(g.actor, tag)
    Session.commit()
    return xlsx_response(data, f"人员标签-{tag.year}-{tag.id}.xlsx")


def xlsx_response(data, filename):
    from urllib.parse import quote
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=export.xlsx; filename*=UTF-8''{quote(filename)}"})
