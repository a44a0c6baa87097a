"""附件批量导入 (Hubei §4.2.5): the rows of one detail section with or without a scan; a JPG (≤ 3 MB, judged
by content) is dropped onto a row (``app.js``) or chosen with the row's own file input, replaced or removed."""
from flask import flash, g, redirect, render_template, request, url_for

from models import Session
from web.people import common
from web.people.common import bp
from web.security import requires
from workflows import personnel
from workflows.errors import NotFound

SECTIONS = ("education", "certificate", "work_history")   # the order of the Hubei page
UPLOAD_STATES = {"missing": "未上传", "uploaded": "已上传"}


def _choice():
    section = request.values.get("section", "certificate")
    state = request.values.get("state", "missing")
    return (section if section in SECTIONS else "certificate"), (state if state in UPLOAD_STATES else "missing")


@bp.route("/personnel/attachments")
@requires("hr.staff.edit")
@common.org_page("附件批量导入")
def attachments():
    org = common.org()
    section, state = _choice()
    sec = personnel.DETAIL_SECTIONS[section]
    args = {"section": section, "state": state, "q": request.args.get("q", "").strip(),
            "department_id": request.args.get("department_id", type=int)}
    page = common.page_arg()
    rows, total = personnel.attachment_rows(g.actor, sec, uploaded=state == "uploaded", q=args["q"],
                                            department_id=args["department_id"], page=page,
                                            per_page=common.PER_PAGE)
    return render_template("people/attachments.html", sec=sec, rows=rows, total=total, page=page,
                           pages=common.pages(total), page_args=common.page_args(args), args=args,
                           sections=[personnel.DETAIL_SECTIONS[k] for k in SECTIONS], states=UPLOAD_STATES,
                           departments=personnel.departments_of(org.id))


def _row(section, row_id):
    if section not in SECTIONS:
        raise NotFound()
    sec = personnel.DETAIL_SECTIONS[section]
    return sec, personnel.get_detail(g.actor, sec, row_id)


def _back():
    section, state = _choice()
    args = {k: v for k, v in (("q", request.form.get("q")), ("department_id", request.form.get("department_id")),
                              ("page", request.form.get("page"))) if v}
    return redirect(url_for("people.attachments", section=section, state=state, **args), code=303)


@bp.route("/personnel/attachments/<section>/<int:row_id>", methods=["POST"])
@requires("hr.staff.edit")
def attachment_upload(section, row_id):
    sec, row = _row(section, row_id)
    chosen = common.upload("file")
    if chosen is None:
        flash("请选择 JPG 图片（不超过 3 MB）", "error")
        return _back()
    _, errors = common.attempt(lambda: personnel.set_detail_attachment(g.actor, sec, row, *chosen,
                                                                       kinds=personnel.BATCH_KINDS))
    name = row.staff.name
    flash(f"{name}：{next(iter(errors.values()))}" if errors else f"已上传{name}的{sec.label}附件",
          "error" if errors else "success")
    return _back()


@bp.route("/personnel/attachments/<section>/<int:row_id>/delete", methods=["POST"])
@requires("hr.staff.edit")
def attachment_remove(section, row_id):
    sec, row = _row(section, row_id)
    personnel.remove_detail_attachment(g.actor, sec, row)
    name = row.staff.name
    Session.commit()
    flash(f"已删除{name}的{sec.label}附件", "success")
    return _back()
