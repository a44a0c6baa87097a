"""Staff (人员) services: finding an institution's people, registering one, marking one as left.

The rule of Hubei §4.4: one ID number is active (在职) in at most one institution at a time. A person moving to
another institution is first marked as left by the old one (the resignation process), and only then can the
new one register them. ``register_staff`` refuses a person still active anywhere with a message that names the
rule but never the other institution (whose data the registering institution may not see); the partial unique
index ``uq_staff_active_id_number`` backs the check against concurrent registrations.

Every function is scoped to the acting user's own institution: nobody finds or registers the staff of another.
"""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Session
from models.orgs import Department, EmploymentStatus, Post, Staff
from workflows import audit, identity, roles
from workflows.errors import InvalidInput, NotAuthorized
from workflows.jurisdiction import is_system_admin

EMPLOYMENT_LABELS = {EmploymentStatus.ACTIVE: "在职", EmploymentStatus.LEFT: "已离职"}
ID_TYPE_LABELS = dict(identity.ID_TYPES)
ACTIVE_ELSEWHERE = ("同一证件号码只能在一个机构登记为在职人员。该人员目前在其他机构为在职状态，"
                    "须由原单位办理员工离职并审核通过后，才能在本机构登记。")
SEARCH_LIMIT = 20


def status_label(staff):
    return EMPLOYMENT_LABELS.get(staff.employment_status, staff.employment_status)


def summary(staff):
    """A plain view of a staff record for pages and the API (no identity number)."""
    return {"id": staff.id, "staff_no": staff.staff_no, "name": staff.name, "gender": staff.gender,
            "department": staff.department.name if staff.department else None,
            "post": staff.post.name if staff.post else None,
            "employment_status": staff.employment_status, "employment_status_label": status_label(staff),
            "left_on": staff.left_on.isoformat() if staff.left_on else None}


def search(actor, q=None, *, active_only=True, limit=SEARCH_LIMIT):
    """The actor's institution's staff whose staff number starts with, or whose name contains, ``q``
    (everyone when ``q`` is empty), in staff-number order."""
    if actor.org_id is None:
        return []
    query = select(Staff).where(Staff.org_id == actor.org_id)
    if active_only:
        query = query.where(Staff.employment_status == EmploymentStatus.ACTIVE)
    q = (q or "").strip()
    if q:
        query = query.where(Staff.staff_no.istartswith(q, autoescape=True) | Staff.name.contains(q, autoescape=True))
    return Session().scalars(query.order_by(Staff.staff_no).limit(limit)).all()


def find(org_id, staff_no, *, lock=False):
    """The staff record of ``org_id`` with this staff number (active or not), or None."""
    staff_no = (staff_no or "").strip() if isinstance(staff_no, str) else ""
    if not staff_no:
        return None
    query = select(Staff).where(Staff.org_id == org_id, Staff.staff_no == staff_no)
    if lock:
        query = query.with_for_update()
    return Session().scalars(query).one_or_none()


def active_record(id_type, id_number):
    """The active record holding this ID number anywhere, or None."""
    return Session().scalars(select(Staff).where(
        Staff.id_type == id_type, Staff.id_number == id_number,
        Staff.employment_status == EmploymentStatus.ACTIVE)).first()


def _may_register(actor, org):
    if is_system_admin(actor):
        return True
    return actor.org_id == org.id and "hr.staff.edit" in roles.permissions_of(actor)


def _text(value, field, title, limit, errors):
    value = value.strip() if isinstance(value, str) else ""
    if not value:
        errors[field] = [f"请填写“{title}”"]
    elif len(value) > limit:
        errors[field] = [f"“{title}”不得超过{limit}个字符"]
    return value


def register_staff(actor, org, *, staff_no, name, id_number, id_type="resident_id", gender=None,
                   department_id=None, post_id=None):
    """Register a person as active staff of ``org``. Refused while the ID number is active anywhere: in the
    same institution the message names the existing staff number; elsewhere it names the rule only."""
    if not _may_register(actor, org):
        raise NotAuthorized("您不能为该机构登记人员", audit=("staff_register", "organization", org.id))
    errors = {}
    staff_no = _text(staff_no, "staff_no", "工号", 32, errors)
    name = _text(name, "name", "姓名", 64, errors)
    id_type = {label: code for code, label in identity.ID_TYPES}.get(id_type, id_type)
    if id_type not in ID_TYPE_LABELS:
        errors["id_type"] = ["请选择有效的证件类型"]
    else:
        try:
            id_number = identity.normalize_id(id_type, id_number if isinstance(id_number, str) else "")
        except InvalidInput as exc:
            errors["id_number"] = [exc.message]
    if gender not in (None, "", "男", "女"):
        errors["gender"] = ["性别只能是男或女"]
    department = Session().get(Department, int(department_id)) if department_id else None
    if department_id and (department is None or department.org_id != org.id):
        errors["department_id"] = ["请选择本机构的部门"]
    post = Session().get(Post, int(post_id)) if post_id else None
    if post_id and (post is None or post.org_id != org.id):
        errors["post_id"] = ["请选择本机构的岗位"]
    if errors:
        raise InvalidInput(fields=errors)
    if find(org.id, staff_no) is not None:
        raise InvalidInput(fields={"staff_no": ["该工号已被本机构人员使用（含已离职人员）"]})
    holder = active_record(id_type, id_number)
    if holder is not None and holder.org_id == org.id:
        raise InvalidInput(fields={"id_number": [f"该证件号码已在本机构登记为在职人员（工号 {holder.staff_no}）"]})
    if holder is not None:
        raise InvalidInput(ACTIVE_ELSEWHERE, code="id_number_active_elsewhere",
                           fields={"id_number": [ACTIVE_ELSEWHERE]})
    if not gender and id_type == "resident_id":
        gender = identity.id_gender(id_number)
    staff = Staff(org_id=org.id, staff_no=staff_no, name=name, gender=gender or None, id_type=id_type,
                  id_number=id_number, department=department, post=post,
                  employment_status=EmploymentStatus.ACTIVE)
    savepoint = Session().begin_nested()
    try:
        Session().add(staff)
        Session().flush()
        savepoint.commit()
    except IntegrityError:   # registered concurrently: a unique index answers for the staff number or the ID
        savepoint.rollback()
        if find(org.id, staff_no) is not None:
            raise InvalidInput(fields={"staff_no": ["该工号已被本机构人员使用（含已离职人员）"]}) from None
        raise InvalidInput(ACTIVE_ELSEWHERE, code="id_number_active_elsewhere",
                           fields={"id_number": [ACTIVE_ELSEWHERE]}) from None
    audit.record("staff_register", actor=actor, target=staff,
                 detail={"staff_no": staff.staff_no, "id_type": id_type})
    return staff


def mark_left(staff, left_on, *, actor=None, reason=None, instance=None):
    """Mark ``staff`` as left on ``left_on`` (audited). A record already left keeps its date; returns whether
    anything changed."""
    if staff.employment_status == EmploymentStatus.LEFT:
        return False
    staff.employment_status = EmploymentStatus.LEFT
    staff.left_on = left_on
    Session().flush()
    audit.record("staff_left", actor=actor, target=staff, actor_name=None if actor else "system",
                 detail={"staff_no": staff.staff_no, "left_on": left_on.isoformat(), "reason": reason or "",
                         "instance": instance.id if instance is not None else None})
    return True
