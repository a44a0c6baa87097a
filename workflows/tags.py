"""人员标签管理 (Hubei §4.3): named groups of an institution's staff (关键人员组).

A tag has a name, a year and a description, and members chosen from the institution's active staff. A sealed
tag (封存) is read-only and is no longer offered where tags are chosen (the staff list's tag filter) until it is
unsealed (解封); it can still be viewed and exported. Every change is audited; everything is scoped to the
actor's own institution (another institution's tag is ``NotFound``).
"""
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Session, utcnow
from models.orgs import EmploymentStatus, Staff
from models.personnel import StaffTag
from workflows import audit, excel, roles
from workflows.errors import InvalidInput, NotAuthorized, NotFound

EXPORT_HEADERS = ("序号", "工号", "姓名", "性别", "科室(部门)", "岗位", "在职状态")
FIRST_YEAR = 2000


def status_label(tag):
    return "封存" if tag.sealed_at else "使用中"


def _require(actor, action, target=None):
    if actor.org_id is None or "hr.tags" not in roles.permissions_of(actor):
        raise NotAuthorized("您没有“人员标签管理”权限",
                            audit=(action, "staff_tag", target.id if target is not None else actor.org_id))


def list_tags(actor, *, include_sealed=True):
    if actor.org_id is None:
        return []
    query = select(StaffTag).where(StaffTag.org_id == actor.org_id)
    if not include_sealed:
        query = query.where(StaffTag.sealed_at.is_(None))
    return Session().scalars(query.order_by(StaffTag.year.desc(), StaffTag.created_at.desc(), StaffTag.id.desc())).all()


def choosable(actor):
    """The tags offered for choosing: the unsealed ones."""
    return list_tags(actor, include_sealed=False)


def get_tag(actor, tag_id):
    tag = Session().get(StaffTag, tag_id) if isinstance(tag_id, int) else None
    if tag is None or actor.org_id is None or tag.org_id != actor.org_id:
        raise NotFound()
    return tag


def candidates(actor):
    """The institution's active staff, the people a tag's members are chosen from."""
    return Session().scalars(select(Staff).where(
        Staff.org_id == actor.org_id, Staff.employment_status == EmploymentStatus.ACTIVE)
        .order_by(Staff.staff_no)).all()


def _clean(actor, raw):
    values, errors = {}, {}
    name = (raw.get("name") or "").strip()
    if not name:
        errors["name"] = ["请填写“标签名称”"]
    elif len(name) > 64:
        errors["name"] = ["标签名称不得超过64个字符"]
    values["name"] = name
    year_text = str(raw.get("year") or "").strip()
    this_year = date.today().year
    if not year_text:
        errors["year"] = ["请填写“年度”"]
    elif not year_text.isdigit() or not FIRST_YEAR <= int(year_text) <= this_year + 1:
        errors["year"] = [f"年度应为 {FIRST_YEAR}–{this_year + 1} 之间的四位年份"]
    else:
        values["year"] = int(year_text)
    description = (raw.get("description") or "").strip()
    if len(description) > 255:
        errors["description"] = ["说明不得超过255个字符"]
    values["description"] = description or None
    given = [str(v).strip() for v in raw.get("members") or []]
    ids = {int(v) for v in given if v.isascii() and v.isdigit()}
    people = Session().scalars(select(Staff).where(Staff.id.in_(ids))).all() if ids else []
    if len(ids) != len(set(given)) or len(people) != len(ids) or any(p.org_id != actor.org_id or p.employment_status != EmploymentStatus.ACTIVE
                                      for p in people):
        errors["members"] = ["只能从本机构在职人员中选择成员"]
    values["members"] = people
    return values, errors


def _save(actor, tag, raw, action):
    values, errors = _clean(actor, raw)
    if errors:
        raise InvalidInput(fields=errors)
    savepoint = Session().begin_nested()
    try:
        tag.name, tag.year, tag.description = values["name"], values["year"], values["description"]
        tag.members = sorted(values["members"], key=lambda s: s.name)
        Session().add(tag)
        Session().flush()
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        raise InvalidInput(fields={"name": [f"本机构{values['year']}年度已有名为“{values['name']}”的标签"]}) from None
    audit.record(action, actor=actor, target=tag, detail={"year": tag.year, "members": len(tag.members)})
    return tag


def create_tag(actor, raw):
    _require(actor, "tag_create")
    return _save(actor, StaffTag(org_id=actor.org_id, created_by_id=actor.id), raw, "tag_create")


def _require_unsealed(tag):
    if tag.sealed_at is not None:
        raise InvalidInput("该标签已封存，解封后才能修改或删除", code="tag_sealed")


def update_tag(actor, tag, raw):
    _require(actor, "tag_update", tag)
    _require_unsealed(tag)
    return _save(actor, tag, raw, "tag_update")


def seal(actor, tag):
    _require(actor, "tag_seal", tag)
    if tag.sealed_at is None:
        tag.sealed_at = utcnow()
        audit.record("tag_seal", actor=actor, target=tag)
    return tag


def unseal(actor, tag):
    _require(actor, "tag_unseal", tag)
    if tag.sealed_at is not None:
        tag.sealed_at = None
        audit.record("tag_unseal", actor=actor, target=tag)
    return tag


def delete_tag(actor, tag):
    _require(actor, "tag_delete", tag)
    _require_unsealed(tag)
    audit.record("tag_delete", actor=actor, target=tag, detail={"year": tag.year, "members": len(tag.members)})
    Session().delete(tag)
    Session().flush()


def export_members(actor, tag):
    """The members as an Excel workbook (``bytes``), audited."""
    _require(actor, "tag_export", tag)
    rows = [(i, s.staff_no, s.name, s.gender, s.department.name if s.department else "",
             s.post.name if s.post else "", "在职" if s.employment_status == EmploymentStatus.ACTIVE else "已离职")
            for i, s in enumerate(tag.members, start=1)]
    audit.record("tag_export", actor=actor, target=tag, detail={"rows": len(rows)})
    return excel.workbook_bytes("人员标签成员", EXPORT_HEADERS, rows, widths=[6, 12, 12, 6, 16, 14, 10])
