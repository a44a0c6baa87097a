"""The personnel record (Hubei §4.2): basic information (基本信息) and the detailed sections (工作经历, 学历学位,
资格证书), each validated here once for the single-entry pages, the JSON API and the Excel import.

Values come in as the user typed them (strings, or dates read from an Excel cell) keyed by field; ``clean_*``
returns typed values and a ``{field: [message]}`` map, so a form shows every problem at once and an import
row reports all its reasons together. Saving is one savepoint per record: a refused record writes nothing.

Rules (Hubei §4.2.4, §4.4): a person is identified by name plus ID number; one ID number is active in one
institution only (the message names the rule, never the other institution); the department and post are
matched exactly against the institution's own; dates are ``YYYY-MM-DD`` or ``YYYY-MM`` (stored as day 01),
or ``至今`` where the field allows it; the major is required from 大学专科 upwards; coded values only.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from models import Session
from models.orgs import Department, EmploymentStatus, Post, Staff
from models.personnel import Certificate, Education, WorkHistory
from workflows import audit, codes, identity, roles
from workflows.errors import InvalidInput, NotAuthorized, NotFound
from workflows.jurisdiction import is_system_admin
from workflows.staff import ACTIVE_ELSEWHERE

PRESENT = "至今"


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str = "text"             # text, date, code, gender, id_type, id_number, mobile, department, post
    required: bool = False         # ★ in the Hubei forms
    choices: tuple = ()
    max_length: int = 64
    present_ok: bool = False       # a date that may be 至今 (stored as None)
    hint: str = ""


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    fields: tuple
    model: type | None = None
    match: tuple = ()              # fields that identify an existing detail row of the same person

    def field(self, key):
        return next(f for f in self.fields if f.key == key)


ID_TYPE_LABELS = tuple(label for _, label in identity.ID_TYPES)

BASIC = Section("basic", "基本信息", (
    Field("name", "姓名", required=True),
    Field("id_type", "证件类型", "id_type", required=True, choices=ID_TYPE_LABELS),
    Field("id_number", "证件号码", "id_number", required=True, max_length=32),
    Field("gender", "性别", "gender", required=True, choices=codes.GENDERS),
    Field("birth_date", "出生日期", "date", required=True),
    Field("ethnicity", "民族", "code", required=True, choices=codes.ETHNICITIES),
    Field("political_status", "政治面貌", "code", choices=codes.POLITICAL_STATUSES),
    Field("staff_no", "工号", max_length=32, hint="不填写时由系统自动编号"),
    Field("department", "所在部门", "department", required=True, hint="须与部门管理中的名称完全一致"),
    Field("post", "岗位", "post", required=True, hint="须与机构岗位管理中的名称完全一致"),
    Field("staff_category", "人员类别", "code", required=True, choices=codes.STAFF_CATEGORIES),
    Field("work_status", "在职状态", "code", required=True, choices=codes.WORK_STATUSES),
    Field("education", "学历", "code", required=True, choices=codes.EDUCATIONS),
    Field("degree", "学位", "code", choices=codes.DEGREES),
    Field("major", "所学专业", hint="学历为大学专科及以上时必填"),
    Field("work_started_on", "参加工作时间", "date", required=True),
    Field("joined_on", "进入本单位时间", "date"),
    Field("title", "专业技术资格", "code", choices=codes.TITLES),
    Field("practice_cert_no", "执业证书编号", max_length=32),
    Field("qualification_cert_no", "资格证书编号", max_length=32),
    Field("mobile", "手机号码", "mobile", required=True),
    Field("note", "备注", max_length=255),
))

_PERSON = (Field("name", "姓名", required=True), Field("id_number", "证件号码", "id_number", required=True, max_length=32))

WORK_HISTORY = Section("work_history", "工作经历", _PERSON + (
    Field("started_on", "起始时间", "date", required=True),
    Field("ended_on", "终止时间", "date", required=True, present_ok=True, hint="仍在任职的填写“至今”"),
    Field("unit", "工作单位", required=True, max_length=128),
    Field("department", "所在科室", max_length=64),
    Field("position", "职务", max_length=64),
), WorkHistory, ("started_on", "unit"))

EDUCATION = Section("education", "学历学位", _PERSON + (
    Field("started_on", "入学时间", "date"),
    Field("ended_on", "毕业时间", "date", required=True),
    Field("school", "毕业院校", required=True, max_length=128),
    Field("education", "学历", "code", required=True, choices=codes.EDUCATIONS),
    Field("degree", "学位", "code", choices=codes.DEGREES),
    Field("major", "所学专业", hint="学历为大学专科及以上时必填"),
    Field("certificate_no", "毕业证书编号", max_length=64),
), Education, ("education", "school"))

CERTIFICATE = Section("certificate", "资格证书", _PERSON + (
    Field("kind", "证书类型", "code", required=True, choices=codes.CERTIFICATE_KINDS),
    Field("number", "证书编号", required=True, max_length=64),
    Field("issued_on", "发证日期", "date", required=True),
    Field("issuer", "发证机关", max_length=128),
    Field("speciality", "专业/执业范围", max_length=64),
), Certificate, ("kind", "number"))

SECTIONS = {s.key: s for s in (BASIC, WORK_HISTORY, EDUCATION, CERTIFICATE)}
DETAIL_SECTIONS = {k: s for k, s in SECTIONS.items() if k != "basic"}

_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def section(key):
    try:
        return SECTIONS[key]
    except KeyError:
        raise NotFound() from None


# --- values ------------------------------------------------------------------------------------------------

def parse_date(value, *, present_ok=False):
    """``date``, ``None`` for 至今, or ``ValueError`` with the Chinese reason. Accepts dates read from Excel,
    ``YYYY-MM-DD`` and ``YYYY-MM`` (the first of the month)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if text == PRESENT:
        if present_ok:
            return None
        raise ValueError("该日期不能填写“至今”")
    match = _DAY.match(text)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = _MONTH.match(text)
        if match:
            return date(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ValueError(f"“{text}”不是有效日期") from None
    allowed = "YYYY-MM-DD、YYYY-MM 或“至今”" if present_ok else "YYYY-MM-DD 或 YYYY-MM"
    raise ValueError(f"日期格式应为 {allowed}，不能是“{text}”")


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value):
    return value.strip() if isinstance(value, str) else str(value).strip()


def _id_type_code(label_or_code):
    return {label: code for code, label in identity.ID_TYPES}.get(label_or_code, label_or_code)


def _by_name(model, org, name, lookups=None):
    if lookups is not None:   # an import's cache of the institution's departments and posts
        return lookups.find(model, name)
    rows = Session().scalars(select(model).where(model.org_id == org.id, model.name == name)).all()
    return rows[0] if len(rows) == 1 else (None if not rows else "ambiguous")


def _clean_value(f, value, org, lookups=None):
    """The typed value of one filled field, or ``ValueError`` with the reason."""
    if f.kind == "date":
        parsed = parse_date(value, present_ok=f.present_ok)
        if parsed is not None and parsed > date.today():
            raise ValueError("日期不能晚于今天")
        return parsed
    text = _text(value)
    if any(ch < " " and ch not in "\t\n\r" for ch in text):
        raise ValueError("含有不可见的控制字符，请删除后重新填写")
    if len(text) > f.max_length:
        raise ValueError(f"不得超过{f.max_length}个字符")
    if f.kind in ("code", "gender", "id_type"):
        if text not in f.choices:
            raise ValueError(f"“{text}”不是可选值，请从下拉列表中选择")
        return codes.GENDER_SHORT[text] if f.kind == "gender" else _id_type_code(text) if f.kind == "id_type" else text
    if f.kind == "mobile":
        try:
            return identity.normalize_mobile(text)
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
    if f.kind in ("department", "post"):
        model, what = (Department, "部门") if f.kind == "department" else (Post, "岗位")
        found = _by_name(model, org, text, lookups)
        if found == "ambiguous":
            raise ValueError(f"本机构有多个名为“{text}”的{what}，请先在{what}管理中区分名称")
        if found is None:
            raise ValueError(f"本机构没有名为“{text}”的{what}（须与{what}管理中的名称完全一致）")
        return found
    return text


def clean(sec, org, raw, lookups=None):
    """``(values, errors)`` for one record of ``sec``; ``raw`` maps field keys to what the user gave.
    ``lookups`` (``workflows.imports.Lookups``) answers department and post names from an import's cache."""
    values, errors = {}, {}
    for f in sec.fields:
        value = raw.get(f.key)
        if _blank(value):
            if f.kind == "id_type":
                values[f.key] = "resident_id"
            elif f.required:
                errors[f.key] = [f"请填写“{f.label}”"]
            else:
                values[f.key] = None
            continue
        if f.kind == "id_number":
            continue   # checked below, with the ID type
        try:
            values[f.key] = _clean_value(f, value, org, lookups)
        except ValueError as exc:
            errors[f.key] = [f"{f.label}：{exc}"]
    _clean_id_number(sec, raw, values, errors)
    if "education" in values and values.get("education") in codes.EDUCATIONS_NEEDING_MAJOR and not values.get("major") \
            and "major" not in errors and any(f.key == "major" for f in sec.fields):
        errors["major"] = ["学历为大学专科及以上时，“所学专业”必填"]
    if sec is BASIC:
        _cross_check_basic(values, errors)
    _check_period(values, errors)
    return values, errors


def _clean_id_number(sec, raw, values, errors):
    value = raw.get("id_number")
    if _blank(value):
        return
    id_type = values.get("id_type", "resident_id")
    if id_type is None:
        return
    try:
        values["id_number"] = identity.normalize_id(id_type, _text(value), allow_legacy=True)
    except InvalidInput as exc:
        errors["id_number"] = [f"证件号码：{exc.message}"]


def _cross_check_basic(values, errors):
    number = values.get("id_number")
    if values.get("id_type") != "resident_id" or not number:
        return
    if values.get("gender") and "gender" not in errors and values["gender"] != identity.id_gender(number):
        errors["gender"] = ["性别与居民身份证号码不一致"]
    born = identity.id_birth_date(number)
    if values.get("birth_date") and "birth_date" not in errors and values["birth_date"] != born:
        errors["birth_date"] = [f"出生日期与居民身份证号码不一致（应为 {born.isoformat()}）"]


def _check_period(values, errors):
    for start, end in (("started_on", "ended_on"), ("birth_date", "work_started_on")):
        if values.get(start) and values.get(end) and values[end] < values[start] \
                and start not in errors and end not in errors:
            errors[end] = ["结束时间不能早于开始时间" if start == "started_on" else "参加工作时间不能早于出生日期"]


# --- permissions ----------------------------------------------------------------------------------------

def may_edit(actor, org):
    return is_system_admin(actor) or (actor.org_id == org.id and "hr.staff.edit" in roles.permissions_of(actor))


def require_edit(actor, org, action):
    if not may_edit(actor, org):
        raise NotAuthorized("您不能维护该机构的人员信息", audit=(action, "organization", org.id))


def get_staff(actor, staff_id):
    """A staff record of the actor's own institution (404 otherwise, also for other institutions)."""
    staff = Session().get(Staff, staff_id) if isinstance(staff_id, int) else None
    if staff is None or not (is_system_admin(actor) or staff.org_id == actor.org_id):
        raise NotFound()
    return staff


# --- basic information ------------------------------------------------------------------------------------

def next_staff_no(org):
    """The next free automatic staff number of ``org``: ``P`` and a zero-padded serial."""
    count = Session().scalar(select(func.count()).select_from(Staff).where(Staff.org_id == org.id)) or 0
    taken = set(Session().scalars(select(Staff.staff_no).where(Staff.org_id == org.id,
                                                               Staff.staff_no.like("P%"))))
    serial = count + 1
    while f"P{serial:05d}" in taken:
        serial += 1
    return f"P{serial:05d}"


def find_person(org, id_type, id_number):
    """The institution's record (active first, then the latest left one) for this ID number, or None."""
    return Session().scalars(select(Staff).where(
        Staff.org_id == org.id, Staff.id_type == id_type, Staff.id_number == id_number).order_by(
        (Staff.employment_status == EmploymentStatus.ACTIVE).desc(), Staff.id.desc())).first()


_BASIC_COLUMNS = [f.key for f in BASIC.fields if f.key not in ("department", "post")]


def _apply_basic(staff, values):
    for key in _BASIC_COLUMNS:
        if key == "staff_no" and not values.get(key):
            continue
        setattr(staff, key, values.get(key))
    staff.department = values["department"]
    staff.post = values["post"]


def save_basic(actor, org, raw, *, staff=None, update_existing=False, source="form", lookups=None):
    """Create or update one person's basic information. ``staff`` names the record being edited; without
    it the person is found by ID number: a new one is created, an existing one is updated only with
    ``update_existing`` (更新已存在的用户数据). Returns ``(staff, created)``; raises ``InvalidInput``."""
    require_edit(actor, org, "staff_save")
    values, errors = clean(BASIC, org, raw, lookups)
    if errors:
        raise InvalidInput(fields=errors)
    existing = staff or find_person(org, values["id_type"], values["id_number"])
    if existing is not None and existing.org_id != org.id:
        raise NotFound()
    if existing is not None and staff is None and not update_existing:
        raise InvalidInput(fields={"id_number": ["该人员的基本信息已存在；如需覆盖，请勾选“更新已存在的用户数据”"]})
    if existing is not None and staff is None and existing.name != values["name"]:
        raise InvalidInput(fields={"name": [f"姓名与系统中该证件号码登记的姓名（{existing.name}）不一致"]})
    if existing is not None and existing.employment_status == EmploymentStatus.LEFT and staff is None:
        existing = None   # a person who left and comes back gets a new record
    _check_unique(org, values, existing)
    savepoint = Session().begin_nested()
    try:
        if existing is None:
            record = Staff(org_id=org.id, employment_status=EmploymentStatus.ACTIVE,
                           staff_no=values.get("staff_no")
                           or (lookups.next_staff_no() if lookups else next_staff_no(org)))
            Session().add(record)
        else:
            record = existing
        before = {k: _plain(getattr(record, k, None)) for k in _BASIC_COLUMNS} if existing else None
        _apply_basic(record, values)
        Session().flush()
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        raise InvalidInput(ACTIVE_ELSEWHERE, code="id_number_active_elsewhere",
                           fields={"id_number": [ACTIVE_ELSEWHERE]}) from None
    if source == "import":   # an import is audited once, with its counts
        return record, existing is None
    changed = {k: [before[k], _plain(getattr(record, k))] for k in _BASIC_COLUMNS
               if before is not None and before[k] != _plain(getattr(record, k))}
    audit.record("staff_create" if existing is None else "staff_update", actor=actor, target=record,
                 detail={"staff_no": record.staff_no, "source": source, **({"changed": changed} if existing else {})})
    return record, existing is None


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


def _check_unique(org, values, existing):
    errors = {}
    if values.get("staff_no"):
        clash = Session().scalars(select(Staff).where(Staff.org_id == org.id,
                                                      Staff.staff_no == values["staff_no"])).first()
        if clash is not None and clash is not existing:
            errors["staff_no"] = ["该工号已被本机构人员使用（含已离职人员）"]
    holder = Session().scalars(select(Staff).where(
        Staff.id_type == values["id_type"], Staff.id_number == values["id_number"],
        Staff.employment_status == EmploymentStatus.ACTIVE)).first()
    if holder is not None and holder is not existing:
        if holder.org_id == org.id:
            errors["id_number"] = [f"该证件号码已在本机构登记为在职人员（工号 {holder.staff_no}）"]
        else:
            raise InvalidInput(ACTIVE_ELSEWHERE, code="id_number_active_elsewhere",
                               fields={"id_number": [ACTIVE_ELSEWHERE]})
    if errors:
        raise InvalidInput(fields=errors)


def basic_values(staff):
    """The record's basic information as the form and the Excel template show it."""
    labels = {code: label for code, label in identity.ID_TYPES}
    out = {}
    for f in BASIC.fields:
        value = getattr(staff, f.key, None)
        if f.kind == "gender":
            value = {"男": "男性", "女": "女性"}.get(value, value)
        elif f.kind == "id_type":
            value = labels.get(value, value)
        elif f.kind in ("department", "post"):
            value = getattr(staff, f.key).name if getattr(staff, f.key) is not None else None
        elif isinstance(value, date):
            value = value.isoformat()
        out[f.key] = value
    return out


# --- detailed sections ------------------------------------------------------------------------------------

def identify(org, name, id_number):
    """The institution's staff record for name plus ID number (Hubei: both must match the basic
    information), or ``InvalidInput`` worded like the Hubei error report."""
    person = Session().scalars(select(Staff).where(
        Staff.org_id == org.id, Staff.id_number == id_number, Staff.name == name).order_by(
        (Staff.employment_status == EmploymentStatus.ACTIVE).desc(), Staff.id.desc())).first()
    if person is None:
        raise InvalidInput(f"姓名：{name}、证件号码：{id_number} 未找到基本信息", code="person_not_found",
                           fields={"id_number": [f"姓名：{name}、证件号码：{id_number} 未找到基本信息"]})
    return person


def save_detail(actor, org, sec, raw, *, row=None, staff=None, update_existing=False, source="form"):
    """Create or update one row of a detailed section in one savepoint. The person is ``staff`` (single
    entry) or found by name plus ID number (import). An existing row of the same person with the same identifying values is
    updated only with ``update_existing``. Returns ``(row, created)``."""
    require_edit(actor, org, "staff_detail_save")
    if staff is not None:
        raw = {**raw, "name": staff.name, "id_number": staff.id_number}
    values, errors = clean(sec, org, raw)
    if errors:
        raise InvalidInput(fields=errors)
    person = staff or identify(org, values["name"], values["id_number"])
    if row is None:
        match = select(sec.model).where(sec.model.staff_id == person.id,
                                        *(getattr(sec.model, k) == values[k] for k in sec.match))
        row = Session().scalars(match).first()
        if row is not None and not update_existing:
            what = "、".join(f"{sec.field(k).label}“{_plain(values[k])}”" for k in sec.match)
            raise InvalidInput(fields={sec.match[-1]: [f"该人员已有{what}的{sec.label}记录；如需覆盖，请勾选“更新已存在的用户数据”"]})
    elif row.staff_id != person.id:
        raise NotFound()
    created = row is None
    savepoint = Session().begin_nested()
    if created:
        row = sec.model(staff_id=person.id)
        Session().add(row)
    for f in sec.fields:
        if f.key not in ("name", "id_number"):
            setattr(row, f.key, values.get(f.key))
    try:
        Session().flush()
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        raise InvalidInput("记录无法保存，请检查日期先后等内容后重试") from None
    if source == "import":
        return row, created
    audit.record(f"staff_detail_{'create' if created else 'update'}", actor=actor, target=person,
                 detail={"section": sec.label, "source": source,
                         **{k: _plain(values[k]) for k in sec.match}})
    return row, created


def detail_rows(staff, sec):
    order = sec.model.started_on if hasattr(sec.model, "started_on") else sec.model.id
    return Session().scalars(select(sec.model).where(sec.model.staff_id == staff.id).order_by(order)).all()


# --- the staff pages: listing, person page, photo and attachments ------------------------------------------
# Everything below is scoped strictly to the actor's own institution: an account without one (the system
# administrator) sees no staff, and no page or API ever shows the ID number of another institution's staff.

PHOTO_KINDS = ("image/jpeg", "image/png")
BATCH_KINDS = ("image/jpeg",)        # 附件批量导入: JPG only (Hubei §4.2.5)
ATTACHMENT_MAX_BYTES = 3 * 1024 * 1024
STATUS_FILTERS = {"active": "在职", "left": "已离职"}


def own_staff(actor, staff_id):
    """A staff record of the actor's own institution, or ``NotFound`` (also for the system administrator)."""
    staff = Session().get(Staff, staff_id) if isinstance(staff_id, int) else None
    if staff is None or actor.org_id is None or staff.org_id != actor.org_id:
        raise NotFound()
    return staff


def _search_filter(query, q):
    q = (q or "").strip()
    if not q:
        return query
    exact_id = q.upper().replace(" ", "")
    return query.where(Staff.name.contains(q, autoescape=True) | (Staff.id_number == exact_id)
                       | (Staff.staff_no == q))


def list_staff(actor, *, q=None, department_id=None, status=None, work_status=None, tag_id=None,
               page=1, per_page=20):
    """``(rows, total)``: the institution's staff matching a partial name, an exact ID number or staff number,
    the department, the employment status (``active`` / ``left``), the work status and a tag."""
    if actor.org_id is None:
        return [], 0
    query = _search_filter(select(Staff).where(Staff.org_id == actor.org_id), q)
    if department_id:
        query = query.where(Staff.department_id.in_(department_and_below(actor.org_id, department_id)))
    if status in STATUS_FILTERS:
        query = query.where(Staff.employment_status == status)
    if work_status:
        query = query.where(Staff.work_status == work_status)
    if tag_id:
        from models.personnel import tag_members
        query = query.where(Staff.id.in_(select(tag_members.c.staff_id).where(tag_members.c.tag_id == tag_id)))
    total = Session().scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = Session().scalars(query.order_by(Staff.staff_no).offset((page - 1) * per_page).limit(per_page)).all()
    return rows, total


def departments_of(org_id):
    """``[(department, depth)]`` of the institution in tree order (``workflows.departments.flatten``)."""
    from workflows import departments
    return departments.flatten(org_id)


def department_and_below(org_id, department_id):
    """The ids of a department and of every department under it (a filter on a 科室 includes its 病区)."""
    tree = departments_of(org_id)
    for index, (dept, depth) in enumerate(tree):
        if dept.id == department_id:
            below = [dept.id]
            for child, child_depth in tree[index + 1:]:
                if child_depth <= depth:
                    break
                below.append(child.id)
            return below
    return []


def posts_of(org_id):
    return Session().scalars(select(Post).where(Post.org_id == org_id).order_by(Post.sort, Post.name)).all()


def staff_json(staff):
    """The record for the JSON API (own institution only): basic information plus ids and status."""
    return {"id": staff.id, "staff_no": staff.staff_no, "employment_status": staff.employment_status,
            "left_on": _plain(staff.left_on), "photo_id": staff.photo_id, **basic_values(staff)}


def get_detail(actor, sec, row_id):
    """A detail row of ``sec`` belonging to the actor's institution, or ``NotFound``."""
    row = Session().get(sec.model, row_id) if isinstance(row_id, int) else None
    if row is None or actor.org_id is None or row.staff.org_id != actor.org_id:
        raise NotFound()
    return row


def detail_values(sec, row):
    """A detail row as its form shows it (dates as text, an open end as 至今)."""
    out = {}
    for f in sec.fields:
        if f.key in ("name", "id_number"):
            continue
        value = getattr(row, f.key)
        out[f.key] = PRESENT if f.present_ok and value is None else _plain(value)
    return out


def delete_detail(actor, sec, row):
    require_edit(actor, row.staff.org, "staff_detail_delete")
    person = row.staff
    detail = {"section": sec.label, **{k: _plain(getattr(row, k)) for k in sec.match}}
    Session().delete(row)
    Session().flush()
    audit.record("staff_detail_delete", actor=actor, target=person, detail=detail)


def _store(actor, filename, stream, kinds):
    from workflows import files
    return files.store_upload(actor, filename, stream, kinds=kinds, max_bytes=ATTACHMENT_MAX_BYTES)


def set_photo(actor, staff, filename, stream):
    """Replace the person's photo (JPG/PNG, ≤ 3 MB, type judged by content)."""
    require_edit(actor, staff.org, "staff_photo")
    staff.photo = _store(actor, filename, stream, PHOTO_KINDS)
    Session().flush()
    audit.record("staff_photo", actor=actor, target=staff, detail={"attachment_id": staff.photo_id})
    return staff.photo


def set_detail_attachment(actor, sec, row, filename, stream, *, kinds=PHOTO_KINDS):
    """Attach (or replace) the one scan of a detail row."""
    require_edit(actor, row.staff.org, "staff_attachment")
    row.attachment = _store(actor, filename, stream, kinds)
    Session().flush()
    audit.record("staff_attachment", actor=actor, target=row.staff,
                 detail={"section": sec.label, "row_id": row.id, "attachment_id": row.attachment_id})
    return row.attachment


def remove_detail_attachment(actor, sec, row):
    require_edit(actor, row.staff.org, "staff_attachment")
    if row.attachment_id is None:
        return
    removed, row.attachment = row.attachment_id, None
    Session().flush()
    audit.record("staff_attachment", actor=actor, target=row.staff,
                 detail={"section": sec.label, "row_id": row.id, "removed_attachment_id": removed})


def attachment_rows(actor, sec, *, uploaded=False, q=None, department_id=None, page=1, per_page=20):
    """``(rows, total)``: detail rows of ``sec`` of the institution's active staff with (``uploaded``) or
    without an attachment, for 附件批量导入."""
    if actor.org_id is None:
        return [], 0
    model = sec.model
    query = select(model).join(Staff, model.staff_id == Staff.id).where(
        Staff.org_id == actor.org_id, Staff.employment_status == EmploymentStatus.ACTIVE,
        model.attachment_id.is_not(None) if uploaded else model.attachment_id.is_(None))
    query = _search_filter(query, q)
    if department_id:
        query = query.where(Staff.department_id.in_(department_and_below(actor.org_id, department_id)))
    total = Session().scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = Session().scalars(query.order_by(Staff.staff_no, model.id)
                             .offset((page - 1) * per_page).limit(per_page)).all()
    return rows, total


def readable_attachment(actor, attachment_id):
    """A photo or detail/trial attachment of the actor's institution's staff, for an actor holding
    ``hr.staff`` or ``hr.query``; else ``NotFound``."""
    from models.personnel import TrialRegistration
    from workflows import files
    att = files.get_attachment(attachment_id)
    perms = roles.permissions_of(actor)
    if att is None or actor.org_id is None or not ({"hr.staff", "hr.query"} & perms):
        raise NotFound()
    owners = [select(Staff.id).where(Staff.photo_id == att.id, Staff.org_id == actor.org_id)]
    for model in (WorkHistory, Education, Certificate, TrialRegistration):
        owners.append(select(model.id).join(Staff, model.staff_id == Staff.id).where(
            model.attachment_id == att.id, Staff.org_id == actor.org_id))
    if not any(Session().scalars(q.limit(1)).first() for q in owners):
        raise NotFound()
    return att


def save_detail_row(actor, staff, sec, raw, *, row=None, upload=None, remove_upload=False):
    """Single entry of one detail row with its scan: save the row (``save_detail``), then replace the scan with
    ``upload`` (``(filename, stream)``, JPG/PNG ≤ 3 MB) or drop it with ``remove_upload``. A refused scan is
    reported on the ``attachment`` field; the caller rolls back, so nothing is half-applied."""
    saved, _ = save_detail(actor, staff.org, sec, raw, row=row, staff=staff, update_existing=row is not None)
    if upload is not None:
        try:
            set_detail_attachment(actor, sec, saved, *upload)
        except InvalidInput as exc:
            raise InvalidInput(fields={"attachment": [f"附件：{exc.message}"]}) from None
    elif remove_upload:
        remove_detail_attachment(actor, sec, saved)
    return saved
