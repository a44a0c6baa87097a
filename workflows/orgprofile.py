"""机构信息维护 beyond the core fields (Hubei §3.1): 基本信息 and 机构信息 (address, coordinates, contacts,
ownership, grade, beds, ...), 分院信息 (branches) and 附件信息 (attachments), all edited by the institution itself.

The core fields (主体信息) stay read-only here; they change only through ``workflows.institutions``. Every
change is audited in the same transaction. Whoever holds ``org.info`` edits the record of its own organization;
attachments are readable by the organization itself and by the business admins whose jurisdiction covers it.

``own_org`` and ``lock_org`` are shared by the other institution-data services (departments, posts, quotas).
"""
import os
from datetime import date
from decimal import Decimal

from sqlalchemy import event, func, select, update

from models import Session
from models.orgs import Branch, EmploymentStatus, Organization, OrgAttachment, Staff
from workflows import audit, codes, files, jurisdiction, roles
from workflows.errors import InvalidInput, NotAuthorized, NotFound
from workflows.orgforms import Field, clean, current, invalid

PERMISSION = "org.info"
ATTACHMENT_KINDS = files.DEFAULT_KINDS          # PDF, JPG, PNG
ATTACHMENT_MAX_BYTES = 3 * 1024 * 1024
COORDINATES_HINT = ("经纬度可在手机地图应用（如微信“位置”、高德或百度地图）中长按本机构位置查看，"
                    "或在地图网站的坐标拾取页面点选获得；填写十进制度数，最多6位小数。")

_LONGITUDE = dict(kind="decimal", minimum=-180, maximum=180, places=6, hint="-180 到 180，如 114.305539")
_LATITUDE = dict(kind="decimal", minimum=-90, maximum=90, places=6, hint="-90 到 90，如 30.593099")
_PHONE = dict(max_length=32, pattern=r"[0-9+\-() ]{5,32}", pattern_message="电话号码只能包含数字、空格和 + - ( )")

BASIC_FIELDS = (
    Field("address", "地址", max_length=255),
    Field("longitude", "经度", **_LONGITUDE),
    Field("latitude", "纬度", **_LATITUDE),
    Field("postal_code", "邮政编码", max_length=6, pattern=r"\d{6}", pattern_message="邮政编码须为6位数字"),
    Field("phone", "联系电话", **_PHONE),
    Field("email", "电子邮箱", max_length=128, pattern=r"[^@\s]+@[^@\s]+\.[^@\s]+",
          pattern_message="电子邮箱格式不正确"),
    Field("website", "网址", max_length=255, pattern=r"https?://[^\s]+",
          pattern_message="网址须以 http:// 或 https:// 开头"),
)
INSTITUTION_FIELDS = (
    Field("legal_representative", "法定代表人"),
    Field("principal", "主要负责人"),
    Field("ownership", "所有制形式", "choice", choices=codes.ORG_OWNERSHIPS),
    Field("grade", "医院等级", "choice", choices=codes.ORG_GRADES),
    Field("beds", "编制床位数", "int", minimum=0, maximum=100000),
    Field("established_on", "成立日期", "date", hint="格式 YYYY-MM-DD"),
    Field("description", "机构简介", "textarea", max_length=2000),
)
PROFILE_FIELDS = BASIC_FIELDS + INSTITUTION_FIELDS
BRANCH_FIELDS = (
    Field("name", "分院名称", required=True, max_length=128),
    Field("address", "地址", max_length=255),
    Field("phone", "联系电话", **_PHONE),
    Field("longitude", "经度", **_LONGITUDE),
    Field("latitude", "纬度", **_LATITUDE),
    Field("beds", "床位数", "int", minimum=0, maximum=100000),
)
ATTACHMENT_FIELDS = (
    Field("kind", "附件类型", "choice", required=True, choices=codes.ORG_ATTACHMENT_KINDS),
    Field("note", "说明", max_length=255),
)


# --- shared by the institution-data services ------------------------------------------------------------------

def own_org(actor, permission, action="read"):
    """The actor's own organization, when it holds ``permission`` (else ``NotAuthorized``, audited)."""
    if permission not in roles.permissions_of(actor):
        raise NotAuthorized(audit=(action, "organization", actor.org_id))
    if actor.org is None:
        raise NotFound("系统管理员账号不属于任何单位，没有本单位的机构数据")
    return actor.org


def own_row(actor, permission, model, row_id):
    """A row of ``model`` (departments, posts, branches) belonging to the actor's own organization, else 404."""
    org = own_org(actor, permission)
    row = Session().get(model, row_id)
    if row is None or row.org_id != org.id:
        raise NotFound()
    return row


def lock_org(org_id):
    """The organization re-read under a row lock (``SELECT … FOR UPDATE``): checks that sum or compare rows of
    one organization, and the writes that follow, run one at a time per organization."""
    org = Session().scalars(select(Organization).where(Organization.id == org_id).with_for_update()
                            .execution_options(populate_existing=True)).one_or_none()
    if org is None:
        raise NotFound()
    return org


def plain(value):
    """A value as the audit log and JSON show it."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def save_changes(actor, action, target, values):
    """Set ``values`` on ``target`` and audit what changed as ``action`` (nothing changed: no event);
    returns ``[{field, old, new}]``."""
    changes = []
    for key, new in values.items():
        old = getattr(target, key)
        if (Decimal(str(old)) if isinstance(new, Decimal) and old is not None else old) != new:
            setattr(target, key, new)
            changes.append({"field": key, "old": plain(old), "new": plain(new)})
    Session().flush()
    if changes:
        audit.record(action, actor=actor, target=target, detail={"changes": changes})
    return changes


def name_taken(model, name, *where, exclude_id=None):
    """Whether a row of ``model`` matching ``where`` already has ``name`` (``exclude_id``: the row being edited)."""
    query = select(model.id).where(model.name == name, *where)
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    return Session().scalars(query.limit(1)).first() is not None


def active_staff_by(column, org_id):
    """``{value of column: number of active staff}`` in one organization (``column``: ``Staff.department_id`` or
    ``Staff.post_id``)."""
    rows = Session().execute(select(column, func.count()).where(
        Staff.org_id == org_id, Staff.employment_status == EmploymentStatus.ACTIVE, column.is_not(None))
        .group_by(column))
    return dict(rows.all())


def unlink_staff(column, value):
    """Before a department or post is deleted: the staff who left keep no link to it."""
    Session().execute(update(Staff).where(column == value).values({column.key: None})
                      .execution_options(synchronize_session="fetch"))


# --- 基本信息 and 机构信息 --------------------------------------------------------------------------------------

def profile_values(org):
    return current(PROFILE_FIELDS, org)


def update_profile(actor, raw):
    """Save 基本信息 and 机构信息 of the actor's organization (the core fields are not touched)."""
    org = lock_org(own_org(actor, PERMISSION, "org_profile_update").id)
    values = clean(PROFILE_FIELDS, raw)
    if values["established_on"] and values["established_on"] > date.today():
        raise invalid("established_on", "成立日期不能晚于今天")
    return save_changes(actor, "org_profile_update", org, values)


# --- 分院信息 ------------------------------------------------------------------------------------------------

def branches(org):
    return Session().scalars(select(Branch).where(Branch.org_id == org.id).order_by(Branch.id)).all()


def get_branch(actor, branch_id):
    return own_row(actor, PERMISSION, Branch, branch_id)


def branch_values(branch):
    return current(BRANCH_FIELDS, branch)


def _check_branch_name(org, name, branch_id=None):
    if name_taken(Branch, name, Branch.org_id == org.id, exclude_id=branch_id):
        raise invalid("name", "本机构已有同名分院")


def add_branch(actor, raw):
    org = lock_org(own_org(actor, PERMISSION, "branch_create").id)
    values = clean(BRANCH_FIELDS, raw)
    _check_branch_name(org, values["name"])
    branch = Branch(org_id=org.id, **values)
    Session().add(branch)
    Session().flush()
    audit.record("branch_create", actor=actor, target=branch,
                 detail={k: plain(v) for k, v in values.items() if v is not None})
    return branch


def update_branch(actor, branch_id, raw):
    branch = get_branch(actor, branch_id)
    lock_org(branch.org_id)
    values = clean(BRANCH_FIELDS, raw)
    _check_branch_name(branch.org, values["name"], branch.id)
    save_changes(actor, "branch_update", branch, values)
    return branch


def delete_branch(actor, branch_id):
    branch = get_branch(actor, branch_id)
    audit.record("branch_delete", actor=actor, target=branch,
                 detail={k: plain(v) for k, v in branch_values(branch).items() if v is not None})
    Session().delete(branch)
    Session().flush()


# --- 附件信息 ------------------------------------------------------------------------------------------------

def attachments(org):
    return Session().scalars(select(OrgAttachment).where(OrgAttachment.org_id == org.id)
                             .order_by(OrgAttachment.id)).all()


def upload_attachment(actor, filename, stream, raw):
    """Store a PDF/JPG/PNG of at most 3 MB (type judged by content) as an attachment of the actor's
    organization."""
    org = own_org(actor, PERMISSION, "org_attachment_upload")
    values = clean(ATTACHMENT_FIELDS, raw)
    if stream is None or not filename:
        raise invalid("file", "请选择要上传的文件")
    try:
        stored = files.store_upload(actor, filename, stream, kinds=ATTACHMENT_KINDS, max_bytes=ATTACHMENT_MAX_BYTES)
    except InvalidInput as exc:
        raise invalid("file", exc.message) from None
    row = OrgAttachment(org_id=org.id, attachment_id=stored.id, kind=values["kind"], note=values["note"])
    Session().add(row)
    Session().flush()
    audit.record("org_attachment_upload", actor=actor, target=org,
                 detail={"attachment_id": row.id, "kind": row.kind, "file": stored.original_name,
                         "size": stored.size, "sha256": stored.sha256})
    return row


def readable_attachment(actor, row_id):
    """An attachment the actor may download: of its own organization (with ``org.info``), or of an
    organization within a business admin's jurisdiction. Anything else is 404."""
    row = Session().get(OrgAttachment, row_id)
    if row is None:
        raise NotFound()
    own = row.org_id == actor.org_id and PERMISSION in roles.permissions_of(actor)
    supervising = (jurisdiction.is_business_admin(actor) or jurisdiction.is_system_admin(actor)) \
        and jurisdiction.can_see_org(actor, row.org)
    if not (own or supervising):
        raise NotFound()
    return row


def delete_attachment(actor, row_id):
    """Delete an attachment of the actor's organization; the stored file is removed once the deletion commits."""
    row = own_row(actor, PERMISSION, OrgAttachment, row_id)
    stored = row.attachment
    audit.record("org_attachment_delete", actor=actor, target=row.org,
                 detail={"attachment_id": row.id, "kind": row.kind, "file": stored.original_name})
    path = files.attachment_path(stored)
    Session().delete(row)
    Session().flush()
    Session().delete(stored)
    Session().flush()
    Session().info.setdefault("remove_files_after_commit", []).append(path)


@event.listens_for(Session, "after_commit")
def _remove_files(session):
    for path in session.info.pop("remove_files_after_commit", []):
        if os.path.exists(path):
            os.remove(path)


@event.listens_for(Session, "after_rollback")
def _keep_files(session):
    session.info.pop("remove_files_after_commit", None)


def profile_view(actor):
    """What the 机构信息维护 page shows beyond the core fields."""
    org = own_org(actor, PERMISSION)
    return {"values": profile_values(org), "branches": branches(org), "attachments": attachments(org)}
