"""The blueprints and the small helpers every page of this package shares."""
from urllib.parse import urlencode

from flask import Blueprint, g, request, send_file

from models import Session
from web import security
from web.api import authenticate
from web.forms import field_errors
from workflows import personnel
from workflows.errors import InvalidInput, NotFound

bp = Blueprint("people", __name__)
api = Blueprint("people_api", __name__, url_prefix="/api/v1/staff")
api.before_request(authenticate)
PER_PAGE = 20
PER_PAGE_MAX = 100
NO_ORG = "您的账号不属于任何机构，没有人员信息。人员信息由各机构维护。"


def org():
    """The actor's institution; an account without one (the system administrator) gets a clear 404."""
    if g.actor.org is None:
        raise NotFound(NO_ORG)
    return g.actor.org


def org_page(heading):
    return security.org_page(heading, NO_ORG)


def page_arg():
    return max(request.args.get("page", 1, type=int) or 1, 1)


def pages(total, per_page=PER_PAGE):
    return max(1, -(-total // per_page))


def page_args(args):
    kept = {k: v for k, v in args.items() if v not in (None, "")}
    return lambda p: urlencode({**kept, "page": p})


def attempt(action):
    """``(result, errors)``: run ``action``; on ``InvalidInput`` roll back and return the field errors, else
    commit."""
    try:
        result = action()
    except InvalidInput as exc:
        Session.rollback()
        errors = field_errors(exc)
        if exc.fields and exc.message != InvalidInput.message:   # a rule worth its own banner (one-ID rule)
            errors.setdefault("_", exc.message)
        return None, errors
    Session.commit()
    return result, {}


def upload(name="file"):
    """``(filename, stream)`` of a posted file, or None when none was chosen."""
    f = request.files.get(name)
    if f is None or not f.filename:
        return None
    return f.filename, f.stream


def options(org_id):
    """Choices of the institution-specific fields of the basic form."""
    return {"department": [d.name for d, _ in personnel.departments_of(org_id)],
            "post": [p.name for p in personnel.posts_of(org_id)]}


@bp.route("/personnel/files/<int:attachment_id>")
def file(attachment_id):
    """A staff photo or attachment, shown inline to accounts of the same institution holding 人员信息管理 or
    人员信息查询; 404 for anyone else."""
    att = personnel.readable_attachment(g.actor, attachment_id)
    from workflows import files
    return send_file(files.attachment_path(att), mimetype=att.content_type, as_attachment=False,
                     download_name=att.original_name, max_age=0)
