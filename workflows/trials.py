"""试用期填报 (Hubei §4.2.6): the registration of staff on the physician-exam trial period.

Only an active person whose 在职状态 is 医师资格考试试用期考核人员 (``codes.TRIAL_WORK_STATUS``) can be
registered; anyone else is refused with the Hubei wording. One registration per person, edited in place; the
optional attachment (JPG, PNG or PDF, ≤ 3 MB) is judged by content. Audited.
"""
from datetime import date

from sqlalchemy import select

from models import Session
from models.orgs import EmploymentStatus, Staff
from models.personnel import TrialRegistration
from workflows import audit, codes, files, personnel
from workflows.errors import InvalidInput

REFUSAL = f"在职状态须为“{codes.TRIAL_WORK_STATUS}”，才能使用试用期填报功能。请先在基本信息中修改该人员的在职状态。"
ATTACHMENT_KINDS = ("image/jpeg", "image/png", "application/pdf")
FIELDS = (   # key, label, required, choices
    ("exam_category", "报考类别", True, codes.TRIAL_EXAM_CATEGORIES),
    ("exam_level", "报考级别", True, codes.TRIAL_EXAM_LEVELS),
    ("trial_started_on", "试用期开始日期", True, None),
    ("trial_ended_on", "试用期结束日期", False, None),
    ("supervisor_name", "指导医师", False, None),
    ("assessment", "考核结果", False, codes.TRIAL_ASSESSMENTS),
    ("note", "备注", False, None),
)
LIMITS = {"supervisor_name": 64, "note": 255}


def trial_staff(actor):
    """The institution's active staff on the trial period, with their registration (or None)."""
    if actor.org_id is None:
        return []
    people = Session().scalars(select(Staff).where(
        Staff.org_id == actor.org_id, Staff.employment_status == EmploymentStatus.ACTIVE,
        Staff.work_status == codes.TRIAL_WORK_STATUS).order_by(Staff.staff_no)).all()
    regs = {r.staff_id: r for r in Session().scalars(select(TrialRegistration).where(
        TrialRegistration.staff_id.in_([p.id for p in people])))} if people else {}
    return [(p, regs.get(p.id)) for p in people]


def check_eligible(staff):
    if staff.employment_status != EmploymentStatus.ACTIVE or staff.work_status != codes.TRIAL_WORK_STATUS:
        raise InvalidInput(REFUSAL, code="not_on_trial")


def registration(staff):
    return Session().scalars(select(TrialRegistration).where(TrialRegistration.staff_id == staff.id)).first()


def values_of(reg):
    if reg is None:
        return {}
    return {key: (getattr(reg, key).isoformat() if isinstance(getattr(reg, key), date) else getattr(reg, key))
            for key, *_ in FIELDS}


def clean(raw):
    values, errors = {}, {}
    for key, label, required, choices in FIELDS:
        value = raw.get(key)
        text = value.strip() if isinstance(value, str) else ("" if value is None else str(value))
        if not text:
            if required:
                errors[key] = [f"请填写“{label}”"]
            values[key] = None
            continue
        if choices is not None and text not in choices:
            errors[key] = [f"{label}：“{text}”不是可选值，请从下拉列表中选择"]
        elif key.endswith("_on"):
            try:
                values[key] = personnel.parse_date(text)
            except ValueError as exc:
                errors[key] = [f"{label}：{exc}"]
            continue
        elif len(text) > LIMITS.get(key, 64):
            errors[key] = [f"{label}：不得超过{LIMITS.get(key, 64)}个字符"]
        values[key] = text
    start, end = values.get("trial_started_on"), values.get("trial_ended_on")
    if start and end and end < start:
        errors["trial_ended_on"] = ["试用期结束日期不能早于开始日期"]
    return values, errors


def save(actor, staff, raw, upload=None):
    """Create or update the person's registration; ``upload`` is ``(filename, stream)`` or None.
    Returns ``(registration, created)``; nothing is written when anything is refused."""
    personnel.require_edit(actor, staff.org, "trial_save")
    check_eligible(staff)
    values, errors = clean(raw)
    if errors:
        raise InvalidInput(fields=errors)
    reg = registration(staff)
    created = reg is None
    if created:
        reg = TrialRegistration(staff_id=staff.id)
        Session().add(reg)
    for key, value in values.items():
        setattr(reg, key, value)
    if upload is not None:
        try:
            reg.attachment = files.store_upload(actor, upload[0], upload[1], kinds=ATTACHMENT_KINDS,
                                                max_bytes=personnel.ATTACHMENT_MAX_BYTES)
        except InvalidInput as exc:
            raise InvalidInput(fields={"attachment": [exc.message]}) from None
    Session().flush()
    audit.record("trial_save", actor=actor, target=staff,
                 detail={"created": created, "exam_category": reg.exam_category, "exam_level": reg.exam_level})
    return reg, created
