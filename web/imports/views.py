"""机构人力资源 → 人员信息管理 → 批量导入 (Hubei §4.2.2, §4.2.4) and 人员信息导入管理.

Pages under ``/personnel/import``: the management page (the institution's imports with status, progress,
counts and the error report), one page per section (下载模板, the upload with 更新已存在的用户数据, the rules),
the template download, one import's result, and its error report. The JSON API under ``/api/v1/imports`` does
the same through the same services. Everything needs ``hr.staff.import``; the services also check the
institution (another institution's import is a 404).
"""
from io import BytesIO
from urllib.parse import urlencode

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, send_file, url_for

from models import Session
from models.personnel import ImportStatus
from web.api import authenticate
from web.security import requires
from workflows import files, imports, personnel
from workflows import import_template as book
from workflows.errors import InvalidInput, NotFound

bp = Blueprint("imports", __name__, url_prefix="/personnel/import")
api = Blueprint("imports_api", __name__, url_prefix="/api/v1/imports")
api.before_request(authenticate)
PERMISSION = imports.PERMISSION
PER_PAGE = 20
OPEN = (ImportStatus.QUEUED, ImportStatus.RUNNING)


def _flag(value):
    return str(value or "").strip().lower() in ("1", "true", "yes", "on", "y")


def _start(section_key):
    """Run the posted upload through ``imports.start_import``; commits. ``(job, None)`` or ``(None, message)``."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None, "请选择要上传的 Excel 文件"
    try:
        job = imports.start_import(g.actor, section_key, upload.filename, upload.stream,
                                   update_existing=_flag(request.form.get("update_existing")))
    except InvalidInput as exc:
        Session.rollback()
        return None, exc.message
    Session.commit()
    return job, None


def _xlsx(data, name):
    return send_file(BytesIO(data), mimetype=imports.XLSX, as_attachment=True, download_name=name)


def _report_file(job_id):
    att = imports.report(g.actor, job_id)
    return send_file(files.attachment_path(att), mimetype=imports.XLSX, as_attachment=True,
                     download_name=att.original_name)


# --- pages ------------------------------------------------------------------------------------------------------

@bp.route("/")
@requires(PERMISSION)
def index():
    if g.actor.org_id is None:
        return render_template("imports/index.html", jobs=[], total=0, page=1, pages=1, no_org=True,
                               sections=personnel.SECTIONS, refresh=False, page_args=lambda p: "")
    page = max(request.args.get("page", 1, type=int), 1)
    jobs, total = imports.list_jobs(g.actor, page=page, per_page=PER_PAGE)
    return render_template("imports/index.html", jobs=jobs, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), no_org=False, sections=personnel.SECTIONS,
                           refresh=any(j.status in OPEN for j in jobs), page_args=lambda p: urlencode({"page": p}))


@bp.route("/<section>", methods=["GET", "POST"])
@requires(PERMISSION)
def section(section):
    sec = personnel.section(section)
    imports.require_import(g.actor)
    error = None
    if request.method == "POST":
        job, error = _start(sec.key)
        if job is not None and job.status == ImportStatus.DONE:
            flash(f"导入完成：新增 {job.created_count} 条，更新 {job.updated_count} 条，失败 {job.failed_count} 条",
                  "warning" if job.failed_count else "success")
            return redirect(url_for(".job", job_id=job.id), code=303)
        if job is not None:
            flash(f"导入的数据较多（超过 {imports.INLINE_ROWS} 条），已转入后台处理，请在本页查看进度和结果，完成后刷新页面即可",
                  "info")
            return redirect(url_for(".index"), code=303)
    return render_template("imports/section.html", sec=sec, rules=book.rules(sec, g.actor.org.name),
                           mapped=imports.has_mapped_post(g.actor.org), error=error,
                           sections=personnel.SECTIONS), 422 if error else 200


@bp.get("/<section>/template")
@requires(PERMISSION)
def template(section):
    name, data = imports.template(g.actor, section)
    return _xlsx(data, name)


@bp.get("/jobs/<int:job_id>")
@requires(PERMISSION)
def job(job_id):
    job = imports.get_job(g.actor, job_id)
    return render_template("imports/job.html", job=job, sec=personnel.SECTIONS[job.section],
                           refresh=job.status in OPEN)


@bp.get("/jobs/<int:job_id>/report")
@requires(PERMISSION)
def report(job_id):
    return _report_file(job_id)


# --- JSON API ---------------------------------------------------------------------------------------------------

@api.post("", endpoint="create")
def api_create():
    section_key = request.form.get("section", "")
    if section_key not in personnel.SECTIONS:
        raise InvalidInput(fields={"section": [f"section 须为 {'、'.join(personnel.SECTIONS)} 之一"]})
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("请选择要上传的 Excel 文件（表单字段 file）", code="upload_refused")
    job = imports.start_import(g.actor, section_key, upload.filename or "", upload.stream,
                               update_existing=_flag(request.form.get("update_existing")))
    Session.commit()
    return jsonify(imports.job_json(job)), 201


@api.get("/<int:job_id>", endpoint="detail")
def api_detail(job_id):
    return jsonify(imports.job_json(imports.get_job(g.actor, job_id)))


@api.get("/<int:job_id>/report", endpoint="report")
def api_report(job_id):
    return _report_file(job_id)


@api.get("/templates/<section>", endpoint="template")
def api_template(section):
    if section not in personnel.SECTIONS:
        raise NotFound()
    name, data = imports.template(g.actor, section)
    return _xlsx(data, name)


@bp.context_processor
def _labels():
    return {"status_labels": imports.IMPORT_STATUS_LABELS, "max_inline": imports.INLINE_ROWS}
