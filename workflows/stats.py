"""统计分析 (Hubei §6): 常用统计 (counts of the institution's active staff by department, professional title,
education and age band) and 常用报表 (the staff roster of Hubei 图6-2, on screen and as Excel).

Only the actor's own institution is counted. The age comes from the birth date, or from the resident ID number
when the birth date is missing, and is taken on the day of the request (China time).
"""
from datetime import date

from sqlalchemy import func, select

from models import Session
from models.orgs import Department, EmploymentStatus, Staff
from workflows import audit, codes, excel, identity, personnel
from workflows.errors import InvalidInput

UNKNOWN = "未填写"
NO_DEPARTMENT = "未分配科室"
AGE_BANDS = ("30岁以下", "30–39岁", "40–49岁", "50–59岁", "60岁及以上")
DIMENSIONS = (("department", "按科室(部门)"), ("title", "按专业技术资格"), ("education", "按学历"), ("age", "按年龄段"))
ROSTER_HEADERS = ("序号", "科室(部门)名称", "姓名", "性别", "证件号码", "专业技术资格", "执业证书编号", "资格证书编号",
                  "手机号", "备注")


def _active(actor):
    return (Staff.org_id == actor.org_id, Staff.employment_status == EmploymentStatus.ACTIVE)


def age_on(born, today):
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def age_band(age):
    if age < 30:
        return AGE_BANDS[0]
    if age >= 60:
        return AGE_BANDS[4]
    return AGE_BANDS[(age - 30) // 10 + 1]


def birth_date_of(birth_date, id_type, id_number):
    if birth_date is not None:
        return birth_date
    if id_type == "resident_id" and id_number:
        try:
            return identity.id_birth_date(id_number)
        except InvalidInput:
            return None
    return None


def _grouped(actor, column, order=None):
    rows = Session().execute(select(column, func.count()).where(*_active(actor)).group_by(column)).all()
    found = {value or UNKNOWN: count for value, count in rows}
    ordered = [k for k in (order or ()) if k in found]
    return [(k, found[k]) for k in ordered] + sorted(((k, v) for k, v in found.items() if k not in ordered),
                                                     key=lambda kv: (kv[0] == UNKNOWN, -kv[1], kv[0]))


def _by_department(actor):
    rows = Session().execute(
        select(Department.name, func.count(Staff.id)).select_from(Staff)
        .outerjoin(Department, Staff.department_id == Department.id).where(*_active(actor))
        .group_by(Department.id, Department.name, Department.sort).order_by(Department.sort, Department.name)).all()
    named = [(name, n) for name, n in rows if name is not None]
    missing = sum(n for name, n in rows if name is None)
    return named + ([(NO_DEPARTMENT, missing)] if missing else [])


def _by_age(actor, today):
    counts = dict.fromkeys(AGE_BANDS, 0)
    unknown = 0
    for born, id_type, id_number in Session().execute(
            select(Staff.birth_date, Staff.id_type, Staff.id_number).where(*_active(actor))):
        born = birth_date_of(born, id_type, id_number)
        if born is None:
            unknown += 1
        else:
            counts[age_band(age_on(born, today))] += 1
    return list(counts.items()) + ([(UNKNOWN, unknown)] if unknown else [])


def common(actor, today=None):
    """``{dimension: [(label, count)]}`` plus ``"total"``; empty for an account without an institution."""
    if actor.org_id is None:
        return {"total": 0, **{key: [] for key, _ in DIMENSIONS}}
    today = today or date.today()
    total = Session().scalar(select(func.count()).select_from(Staff).where(*_active(actor))) or 0
    return {"total": total, "department": _by_department(actor),
            "title": _grouped(actor, Staff.title, codes.TITLES),
            "education": _grouped(actor, Staff.education, codes.EDUCATIONS), "age": _by_age(actor, today)}


def roster(actor, department_id=None):
    """The rows of 图6-2 for the institution's active staff, by department then staff number."""
    if actor.org_id is None:
        return []
    query = select(Staff).outerjoin(Department, Staff.department_id == Department.id).where(*_active(actor))
    if department_id:
        query = query.where(Staff.department_id.in_(personnel.department_and_below(actor.org_id, department_id)))
    people = Session().scalars(query.order_by(Department.sort.is_(None), Department.sort, Department.name,
                                              Staff.staff_no)).all()
    return [(i, s.department.name if s.department else "", s.name, s.gender or "", s.id_number, s.title or "",
             s.practice_cert_no or "", s.qualification_cert_no or "", s.mobile or "", s.note or "")
            for i, s in enumerate(people, start=1)]


def roster_xlsx(actor, department_id=None):
    """The roster as an Excel workbook (every cell text, formula triggers neutralised), audited."""
    rows = roster(actor, department_id)
    audit.record("roster_export", actor=actor, target=actor.org,
                 detail={"rows": len(rows), "department_id": department_id})
    return excel.workbook_bytes("人员花名册", ROSTER_HEADERS, rows, widths=[6, 18, 12, 6, 22, 14, 18, 18, 14, 20])
