"""人员信息批量导入 (Hubei §4.2.2, §4.2.4) and 人员信息导入管理: one ``ImportJob`` per uploaded workbook.

- ``start_import`` checks the upload (an .xlsx, sniffed and opened, at most ``MAX_BYTES``; the header row of the
  chosen section's template), stores it and records the job. A workbook of up to ``INLINE_ROWS`` data rows is
  imported at once, in the request; a larger one is queued and the scheduler's ``run_queued`` imports it,
  committing every ``CHUNK`` rows so the management page shows it moving.
- Every row goes through ``workflows.personnel``: ``clean`` for the values, then either a batched write of the
  rows whose outcome is certain (a new person or detail row; with 更新已存在的用户数据 an update of the one
  matching record), or ``save_basic`` / ``save_detail`` in a savepoint of its own for anything else (duplicates,
  returning staff, conflicts), which also words the refusal. A refused row writes nothing; a batch that fails
  as a whole (a concurrent write) is redone row by row.
- Failed rows go to the error report: the cells as uploaded, 错误原因 first (every reason of the row joined
  with "；"). The report uploads again as is, with or without that column.
- One audit event per import (``staff_import`` with the counts), never one per row.
"""
import gc
import logging
import re
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import func, insert, or_, select, update

from models import Session, utcnow
from models.orgs import Department, EmploymentStatus, Post, Staff
from models.personnel import IMPORT_STATUS_LABELS, ImportJob, ImportStatus
from workflows import audit, files, personnel, roles
from workflows.posts import has_mapped_post
from workflows import import_template as book
from workflows.errors import InvalidInput, NotAuthorized, NotFound
from workflows.excel import typed_value

log = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"   # what downloads are served as
STORED = "application/zip"      # what files.py sniffs and stores for a workbook (see there)
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = book.VALIDATED_ROWS
MAX_SCANNED = 5 * MAX_ROWS      # rows looked at, empty ones included
INLINE_ROWS = 100               # Hubei: more than 100 rows go to 人员信息导入管理
CHUNK = 500                     # rows per batch and per progress commit
STALE_AFTER = timedelta(minutes=30)
PERMISSION = "hr.staff.import"
NO_MAPPED_POST = ("批量导入前须先维护机构岗位：即使医院岗位未确定，也要保证系统中最少有一条岗位信息且需要完成映射"
                  "（机构信息管理 → 机构岗位管理 → 映射管理）")
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE]\+\d+$")     # as Excel shows a long number: 1.40105E+17
_NOT_IN_LABEL = re.compile(r"[\s★*＊]")


# --- who may import ---------------------------------------------------------------------------------------

def may_import(actor):
    """An institution's account holding 批量导入 and the right to maintain its staff."""
    return actor.org_id is not None and PERMISSION in roles.permissions_of(actor) \
        and personnel.may_edit(actor, actor.org)


def require_import(actor):
    if actor.org_id is None:
        raise NotFound("系统管理员账号不属于任何单位，不能导入人员信息")
    if not may_import(actor):
        raise NotAuthorized("您没有“批量导入”人员信息的权限", audit=("staff_import", "organization", actor.org_id))


# --- templates ------------------------------------------------------------------------------------------------

def template(actor, section_key):
    """``(file name, bytes)`` of the section's template for the actor's institution."""
    require_import(actor)
    sec = personnel.section(section_key)
    org = actor.org
    departments, posts = (Session().scalars(select(model.name).where(model.org_id == org.id)
                                            .order_by(model.sort, model.name)).all() for model in (Department, Post))
    return f"{sec.label}导入模板.xlsx", book.template_bytes(sec, org, departments, posts)


# --- reading a workbook ---------------------------------------------------------------------------------------

def _label(value):
    return _NOT_IN_LABEL.sub("", value) if isinstance(value, str) else ""


@dataclass
class Sheet:
    header: tuple                        # the uploaded header row, without an 错误原因 column
    keys: list                           # per kept column: the field key
    keep: list                           # indexes of the kept columns in the uploaded rows
    rows: list = field(default_factory=list)   # non-empty data rows, kept columns only

    def text_columns(self):
        return {i for i, key in enumerate(self.keys) if key in book.TEXT_KEYS}


def _columns(sec, header):
    """Map the header row by label (★, * and spaces ignored; an 错误原因 column skipped); refuse a workbook
    that is not this section's template."""
    by_label = {label: key for key, label, _ in book.columns(sec)}
    keys, keep, seen, unknown, doubled = [], [], set(), [], []
    for index, value in enumerate(header):
        label = _label(value)
        if label in ("", book.REASON_LABEL):
            continue
        key = by_label.get(label)
        if key is None:
            unknown.append(label)
        elif key in seen:
            doubled.append(label)
        else:
            seen.add(key)
            keys.append(key)
            keep.append(index)
    missing = [label for key, label, _ in book.columns(sec) if key not in seen]
    problems = []
    if missing:
        problems.append(f"表格缺少以下列：{'、'.join(missing)}")
    if unknown:
        problems.append(f"表格中有无法识别的列：{'、'.join(unknown)}")
    if doubled:
        problems.append(f"表格中以下列出现了多次：{'、'.join(doubled)}")
    if problems:
        raise InvalidInput("；".join(problems) + f"。请在导入页面重新下载“{sec.label}”导入模板，按模板填写后上传",
                           code="wrong_template")
    return keys, keep


@contextmanager
def bulk_work():
    """Reading a workbook keeps a few hundred thousand objects alive; the cyclic garbage collector would walk
    them over and over (about a third of the reading time). It is paused meanwhile; reference counting still
    frees everything, and cycles are collected once it resumes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


FILLED_AHEAD = (book.ORG_KEY, "id_type")     # columns users fill down in advance: alone they make no row


def _blank_row(cells, data_columns):
    return all(cells[i] is None or (isinstance(cells[i], str) and not cells[i].strip())
               for i in data_columns if i < len(cells))


def read_sheet(data, sec, *, stop_after=None):
    """The data sheet of an uploaded workbook: its header checked, its non-empty rows read (``stop_after``:
    stop once more than that many were found)."""
    try:
        wb = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise InvalidInput("无法读取该文件：请上传用本系统模板填写、以 .xlsx 格式保存的 Excel 文件",
                           code="upload_refused") from None
    try:
        ws = wb[book.DATA_SHEET] if book.DATA_SHEET in wb.sheetnames else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None) or ()
        keys, keep = _columns(sec, header)
        sheet = Sheet(tuple(header[i] for i in keep), keys, keep)
        whole = keep == list(range(len(header)))
        data_columns = [i for i, key in zip(keep, keys) if key not in FILLED_AHEAD]
        for scanned, cells in enumerate(rows, start=1):
            if _blank_row(cells, data_columns):
                if scanned > MAX_SCANNED:     # a sheet of endless empty rows is not read to its end
                    raise InvalidInput(f"表格超过 {MAX_SCANNED} 行，请删除数据下方的空行或把表格拆成几个文件",
                                       code="too_many_rows")
                continue
            sheet.rows.append(cells if whole and len(cells) == len(header)
                              else tuple(cells[i] if i < len(cells) else None for i in keep))
            if stop_after is not None and len(sheet.rows) > stop_after:
                break
            if len(sheet.rows) > MAX_ROWS:
                raise InvalidInput(f"一次最多导入 {MAX_ROWS} 行，请把表格拆成几个文件分别导入", code="too_many_rows")
        return sheet
    finally:
        wb.close()


# --- one row ----------------------------------------------------------------------------------------------------

def _scientific(number):
    """A number as Excel's General format shows it once it is too long: ``1.40105E+17``."""
    mantissa, exponent = f"{number:.5E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E+{int(exponent):02d}"


def _mangled(label, shown):
    return f"{label}被 Excel 转成了科学计数法（{shown}），请把该列设为文本格式后重新填写完整号码"


def cell_value(key, label, value):
    """``(value for personnel.clean, reason or None)`` for one uploaded cell."""
    if isinstance(value, str):
        value = typed_value(value)
        if key in book.TEXT_KEYS and _SCIENTIFIC.match(value.strip()):
            return None, _mangled(label, value.strip())
        return value, None
    if isinstance(value, bool) or value is None:
        return value, None
    if isinstance(value, (int, float)):
        if key in book.TEXT_KEYS and (value != int(value) or abs(value) >= 1e15):   # digits already lost
            return None, _mangled(label, _scientific(value))
        return str(int(value)) if value == int(value) else str(value), None
    if isinstance(value, datetime) and key in book.TEXT_KEYS | {book.ORG_KEY}:
        return value.date().isoformat(), None
    return value, None


def check_row(run, cells):
    """``(raw, values, reasons)`` for one data row: the import's own checks (机构名称, numbers mangled by Excel)
    and ``personnel.clean``; ``reasons`` lists every problem, in column order."""
    raw, early = {}, {}
    for key, plain, value in zip(run.sheet.keys, run.plain, cells):
        if value is None or (plain and value.__class__ is str and value[:1] != "'"):
            raw[key] = value        # the common case, kept cheap: ten thousand rows pass here
            continue
        raw[key], reason = cell_value(key, run.labels[key], value)
        if reason:
            early[key] = [reason]
    org_name = raw.pop(book.ORG_KEY, None)
    org_name = org_name.strip() if isinstance(org_name, str) else org_name
    reasons = []
    if org_name != run.org_name:
        reasons.append(f"机构名称“{org_name}”与登录机构名称“{run.org_name}”不一致" if org_name
                       else f"请填写“{book.ORG_LABEL}”")
    values, errors = personnel.clean(run.sec, run.org, raw, run.lookups)
    if early or errors:
        for f in run.sec.fields:
            reasons += early.get(f.key) or errors.get(f.key, [])
    return raw, values, reasons


def messages(exc):
    """Every message of an ``InvalidInput``, in field order."""
    return [m for ms in exc.fields.values() for m in ms] if exc.fields else [exc.message]


# --- the caches of one import ---------------------------------------------------------------------------------

class Lookups:
    """The institution's departments and posts by exact name, and its staff numbers, read once per import
    (``reload`` after each commit) instead of once per row."""

    def __init__(self, org):
        self.org = org
        self.staff_nos = set(Session().scalars(select(Staff.staff_no).where(Staff.org_id == org.id)))
        self._serial = len(self.staff_nos)
        self.reload()

    def reload(self):
        self._by_name = defaultdict(list)
        for model in (Department, Post):
            for item in Session().scalars(select(model).where(model.org_id == self.org.id)):
                self._by_name[model, item.name].append(item)

    def find(self, model, name):
        found = self._by_name.get((model, name), [])
        return found[0] if len(found) == 1 else ("ambiguous" if found else None)

    def next_staff_no(self):
        """As ``personnel.next_staff_no``: ``P`` and the next free serial."""
        while True:
            self._serial += 1
            number = f"P{self._serial:05d}"
            if number not in self.staff_nos:
                self.staff_nos.add(number)
                return number


# --- running an import -----------------------------------------------------------------------------------------

@dataclass
class Run:
    job: ImportJob
    actor: object
    org: object
    sec: object
    sheet: Sheet
    lookups: Lookups
    seen: set = field(default_factory=set)          # persons / detail rows already written by this import
    failures: list = field(default_factory=list)    # (reasons, (row index, cells))
    labels: dict = field(default_factory=dict)
    plain: list = field(default_factory=list)       # per column: a text cell needs no look at all

    def __post_init__(self):
        self.labels = {key: label for key, label, _ in book.columns(self.sec)}
        self.plain = [key not in book.TEXT_KEYS for key in self.sheet.keys]
        self.org_name = self.org.name

    def fail(self, item, reasons):
        self.failures.append((reasons, item))
        self.job.failed_count += 1

    def done(self, created, count=1):
        if created:
            self.job.created_count += count
        else:
            self.job.updated_count += count


def _slow(run, item, raw):
    """One row through ``save_basic`` / ``save_detail`` in a savepoint of its own."""
    savepoint = Session().begin_nested()
    try:
        if run.sec is personnel.BASIC:
            _, created = personnel.save_basic(run.actor, run.org, raw, update_existing=run.job.update_existing,
                                              source="import", lookups=run.lookups)
        else:
            _, created = personnel.save_detail(run.actor, run.org, run.sec, raw,
                                               update_existing=run.job.update_existing, source="import")
        savepoint.commit()
    except InvalidInput as exc:
        savepoint.rollback()
        run.fail(item, messages(exc))
        return
    if run.sec is personnel.BASIC and raw.get("staff_no"):
        run.lookups.staff_nos.add(str(raw["staff_no"]).strip())
    run.done(created)


def insert_rows(table, rows):
    """Insert ``rows`` (dicts with the same keys) in the current transaction: an executemany, or on PostgreSQL a
    COPY — psycopg sends an executemany as one INSERT per row, COPY streams them (five times faster here).
    Column defaults and bind conversions are applied as an INSERT would apply them."""
    connection = Session().connection()
    dialect, keys = connection.dialect, list(rows[0])
    defaulted = [c for c in table.c if c.key not in keys and c.default is not None]
    if dialect.name != "postgresql" or any(not (c.default.is_scalar or c.default.is_callable) for c in defaulted):
        connection.execute(insert(table), rows)
        return
    defaults = {c.key: c.default.arg(None) if c.default.is_callable else c.default.arg for c in defaulted}
    columns = keys + list(defaults)
    convert = [table.c[k].type.bind_processor(dialect) for k in columns]
    quote = dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(k) for k in columns)}) FROM STDIN"
    tail = list(defaults.values())
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = [row[k] for k in keys] + tail
            copy.write_row([f(v) if f else v for f, v in zip(convert, values)])


class _Batch:
    """Rows whose outcome is certain, written together; on an integrity error (a concurrent write) redone one
    by one through the slow path."""

    def __init__(self, run, model):
        self.run, self.model, self.creates, self.updates = run, model, [], []

    def add(self, item, raw, row, created):
        (self.creates if created else self.updates).append((item, raw, row))

    def flush(self):
        if not self.creates and not self.updates:
            return
        savepoint = Session().begin_nested()
        try:
            if self.creates:
                insert_rows(self.model.__table__, [row for _, _, row in self.creates])
            if self.updates:
                Session().execute(update(self.model), [row for _, _, row in self.updates])
            savepoint.commit()
        except Exception as exc:
            savepoint.rollback()
            log.warning("import %s: batch refused (%s), retrying row by row", self.run.job.id, exc)
            for item, raw, _ in self.creates + self.updates:
                _slow(self.run, item, raw)
        else:
            self.run.done(True, len(self.creates))
            self.run.done(False, len(self.updates))
        self.creates, self.updates = [], []


_BASIC_KEYS = [f.key for f in personnel.BASIC.fields if f.kind not in ("department", "post")]


def _basic_row(values):
    row = {key: values.get(key) for key in _BASIC_KEYS}
    row["department_id"], row["post_id"] = values["department"].id, values["post"].id
    return row


def _save_basic(run, prepared):
    numbers = {values["id_number"] for _, _, values in prepared}
    known = Session().execute(select(
        Staff.id, Staff.org_id, Staff.id_type, Staff.id_number, Staff.name, Staff.employment_status, Staff.staff_no,
    ).where(Staff.id_number.in_(numbers), or_(Staff.org_id == run.org.id,
                                             Staff.employment_status == EmploymentStatus.ACTIVE))).all()
    mine, elsewhere = defaultdict(list), set()
    for s in known:
        if s.org_id == run.org.id:
            mine[s.id_type, s.id_number].append(s)
        else:
            elsewhere.add((s.id_type, s.id_number))
    batch = _Batch(run, Staff)
    for item, raw, values in prepared:
        key = (values["id_type"], values["id_number"])
        staff_no, records = values.get("staff_no"), mine.get(key, [])
        fast = None
        if key not in run.seen and key not in elsewhere:
            if not records and staff_no not in run.lookups.staff_nos:
                fast = "create"
            elif run.job.update_existing and len(records) == 1 and records[0].name == values["name"] \
                    and records[0].employment_status == EmploymentStatus.ACTIVE \
                    and staff_no in (None, records[0].staff_no):
                fast = "update"
        run.seen.add(key)
        if fast is None:
            batch.flush()   # the slow path reads what the batch so far wrote
            _slow(run, item, raw)
            continue
        row = _basic_row(values)
        if fast == "create":
            row.update(org_id=run.org.id, employment_status=EmploymentStatus.ACTIVE,
                       staff_no=staff_no or run.lookups.next_staff_no())
            run.lookups.staff_nos.add(row["staff_no"])
        else:
            row["id"] = records[0].id
            if not staff_no:
                row.pop("staff_no")
        batch.add(item, raw, row, fast == "create")
    batch.flush()


def _save_detail(run, prepared):
    sec, model = run.sec, run.sec.model
    numbers = {values["id_number"] for _, _, values in prepared}
    persons = {}
    for s in Session().execute(select(Staff.id, Staff.name, Staff.id_number, Staff.employment_status).where(
            Staff.org_id == run.org.id, Staff.id_number.in_(numbers))).all():
        rank = (s.employment_status == EmploymentStatus.ACTIVE, s.id)     # as personnel.identify chooses
        if (s.name, s.id_number) not in persons or rank > persons[s.name, s.id_number][0]:
            persons[s.name, s.id_number] = (rank, s.id)
    ids = [staff_id for _, staff_id in persons.values()]
    existing = defaultdict(list)
    for r in Session().execute(select(model.id, model.staff_id, *(getattr(model, k) for k in sec.match))
                               .where(model.staff_id.in_(ids))).all():
        existing[(r.staff_id, *(getattr(r, k) for k in sec.match))].append(r.id)
    batch = _Batch(run, model)
    for item, raw, values in prepared:
        person = persons.get((values["name"], values["id_number"]))
        key = person and (person[1], *(values[k] for k in sec.match))
        rows = existing.get(key, []) if key else None
        fast = None
        if key and key not in run.seen:
            fast = "create" if not rows else "update" if run.job.update_existing and len(rows) == 1 else None
        if key:
            run.seen.add(key)
        if fast is None:
            batch.flush()
            _slow(run, item, raw)
            continue
        row = {f.key: values.get(f.key) for f in sec.fields if f.key not in ("name", "id_number")}
        row.update({"staff_id": person[1]} if fast == "create" else {"id": rows[0]})
        batch.add(item, raw, row, fast == "create")
    batch.flush()


def _process_chunk(run, chunk):
    """Check and save ``chunk``, a list of ``(row index, cells)``."""
    prepared = []
    for item in chunk:
        raw, values, reasons = check_row(run, item[1])
        if reasons:
            run.fail(item, reasons)
        else:
            prepared.append((item, raw, values))
    if prepared:
        (_save_basic if run.sec is personnel.BASIC else _save_detail)(run, prepared)
    run.job.processed += len(chunk)


def _finish(run):
    job = run.job
    if run.failures:
        failures = [(reasons, cells) for reasons, (_, cells) in sorted(run.failures, key=lambda f: f[1][0])]
        data = book.report_bytes(run.sheet.header, failures, run.sheet.text_columns())
        name = f"{run.sec.label}导入错误报告.xlsx"
        job.report = files.store_upload(job.created_by, name, BytesIO(data), kinds=(STORED,), max_bytes=len(data))
    job.status, job.finished_at = ImportStatus.DONE, utcnow()
    audit.record("staff_import", actor=run.actor, target=run.org, detail={
        "job_id": job.id, "section": run.sec.label, "file": job.upload.original_name, "total": job.total,
        "created": job.created_count, "updated": job.updated_count, "failed": job.failed_count,
        "update_existing": job.update_existing})


def process(job, sheet=None, *, commit=False):
    """Import ``job``'s workbook (``sheet`` when already read). With ``commit`` (background) the progress and
    the rows so far are committed every ``CHUNK`` rows; otherwise everything is only flushed."""
    actor, org, sec = job.created_by, job.org, personnel.section(job.section)
    if actor.org_id != org.id or not may_import(actor):    # the uploader lost the right while the job waited
        raise InvalidInput("上传人已没有“批量导入”人员信息的权限，本次导入未执行")
    with bulk_work():
        if sheet is None:
            with open(files.attachment_path(job.upload), "rb") as fh:
                sheet = read_sheet(fh.read(), sec)
        job.total, job.status = len(sheet.rows), ImportStatus.RUNNING
        job.started_at = job.started_at or utcnow()
        run = Run(job, actor, org, sec, sheet, Lookups(org))
        for start in range(0, len(sheet.rows), CHUNK):
            _process_chunk(run, list(enumerate(sheet.rows[start:start + CHUNK], start=start)))
            Session().flush()
            if commit:
                Session.commit()
                run.lookups.reload()
        _finish(run)
    Session().flush()
    return job


# --- starting, the queue and the scheduler ---------------------------------------------------------------------

def _read_upload(stream):
    data = stream.read(MAX_BYTES + 1)
    if not data:
        raise InvalidInput("文件为空，请重新选择", code="upload_refused")
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"文件不能超过 {MAX_BYTES // (1024 * 1024)} MB，请把表格拆成几个文件分别导入",
                           code="upload_refused")
    if files.sniff(data, (STORED,)) is None:
        raise InvalidInput("只接受 .xlsx 格式的 Excel 文件（.xls 请在 Excel 中另存为 .xlsx）", code="upload_refused")
    return data


def start_import(actor, section_key, filename, stream, *, update_existing=False):
    """Check and store an upload and record its ``ImportJob``; import it now when it is small (status
    ``done``), else queue it. Flushes; the caller commits."""
    require_import(actor)
    sec = personnel.section(section_key)
    org = actor.org
    if not has_mapped_post(org):
        raise InvalidInput(NO_MAPPED_POST, code="no_mapped_post")
    data = _read_upload(stream)
    with bulk_work():
        sheet = read_sheet(data, sec, stop_after=INLINE_ROWS)
    if not sheet.rows:
        raise InvalidInput("表格中没有数据行：请在模板的“数据”表中从第 2 行起填写", code="empty_workbook")
    upload = files.store_upload(actor, filename, BytesIO(data), kinds=(STORED,), max_bytes=MAX_BYTES)
    job = ImportJob(org_id=org.id, section=sec.key, created_by_id=actor.id, upload=upload,
                    update_existing=bool(update_existing), status=ImportStatus.QUEUED, total=0, processed=0,
                    created_count=0, updated_count=0, failed_count=0)
    Session().add(job)
    Session().flush()
    if len(sheet.rows) <= INLINE_ROWS:
        process(job, sheet)
    return job


def claim_next(now=None):
    """The oldest queued job, now ``running`` — claimed by a conditional UPDATE, so two schedulers never take
    the same one. Commits; None when the queue is empty."""
    while True:
        job_id = Session().scalar(select(ImportJob.id).where(ImportJob.status == ImportStatus.QUEUED)
                                  .order_by(ImportJob.id).limit(1))
        if job_id is None:
            return None
        claimed = Session().execute(
            update(ImportJob).where(ImportJob.id == job_id, ImportJob.status == ImportStatus.QUEUED)
            .values(status=ImportStatus.RUNNING, started_at=now or utcnow())
            .execution_options(synchronize_session=False)).rowcount
        Session.commit()
        if claimed == 1:
            job = Session().get(ImportJob, job_id)
            Session().refresh(job)
            return job


def _fail(job_id, message, now):
    Session().execute(update(ImportJob).where(ImportJob.id == job_id).values(
        status=ImportStatus.FAILED, message=message, finished_at=now).execution_options(synchronize_session=False))


def fail_stale(now):
    """Mark failed the jobs left ``running`` by a process that died (started over ``STALE_AFTER`` ago)."""
    stale = Session().scalars(select(ImportJob).where(ImportJob.status == ImportStatus.RUNNING,
                                                      ImportJob.started_at < now - STALE_AFTER)).all()
    for job in stale:
        _fail(job.id, f"导入中断（处理进程已停止）：前 {job.processed} 行的结果已保存，其余行未导入。"
                      "请核对人员信息后，只把未导入的行重新上传", now)
    return len(stale)


def run_queued(now=None):
    """Scheduler job: import every queued job, oldest first. A job that crashes is marked failed with a message
    (the chunks committed before stay; nothing is retried, so nothing is written twice). Returns the number of
    jobs handled."""
    now = now or utcnow()
    handled = fail_stale(now)
    Session.commit()
    while (job := claim_next()) is not None:
        job_id = job.id
        try:
            process(job, commit=True)
            Session.commit()
        except InvalidInput as exc:      # the workbook itself is refused (too many rows, template changed)
            Session.rollback()
            _fail(job_id, exc.message, utcnow())
            Session.commit()
        except Exception:
            Session.rollback()
            log.exception("import %s failed", job_id)
            processed = Session().scalar(select(ImportJob.processed).where(ImportJob.id == job_id)) or 0
            _fail(job_id, f"导入过程中出现系统错误：前 {processed} 行的结果已保存，其余行未导入。"
                          "请核对人员信息后，只把未导入的行重新上传；如再次失败请联系管理员", utcnow())
            Session.commit()
        handled += 1
    return handled


# --- what the pages and the API show ----------------------------------------------------------------------------

def list_jobs(actor, *, page=1, per_page=20):
    """``(jobs, total)``: the imports of the actor's institution, newest first."""
    require_import(actor)
    query = select(ImportJob).where(ImportJob.org_id == actor.org_id)
    total = Session().scalar(select(func.count()).select_from(query.subquery())) or 0
    jobs = Session().scalars(query.order_by(ImportJob.created_at.desc(), ImportJob.id.desc())
                             .offset((page - 1) * per_page).limit(per_page)).all()
    return jobs, total


def get_job(actor, job_id):
    """A job of the actor's own institution (404 otherwise)."""
    require_import(actor)
    job = Session().get(ImportJob, job_id) if isinstance(job_id, int) else None
    if job is None or job.org_id != actor.org_id:
        raise NotFound()
    return job


def report(actor, job_id):
    """The error report (an ``Attachment``) of a job of the actor's institution."""
    job = get_job(actor, job_id)
    if job.report is None:
        raise NotFound("该次导入没有失败的行，没有错误报告")
    return job.report


def job_json(job):
    return {"id": job.id, "section": job.section, "section_label": personnel.SECTIONS[job.section].label,
            "status": job.status, "status_label": IMPORT_STATUS_LABELS[ImportStatus(job.status)],
            "update_existing": job.update_existing, "file": job.upload.original_name, "total": job.total,
            "processed": job.processed, "created": job.created_count, "updated": job.updated_count,
            "failed": job.failed_count, "has_report": job.report_id is not None, "message": job.message,
            "created_at": _iso(job.created_at), "started_at": _iso(job.started_at),
            "finished_at": _iso(job.finished_at)}


def _iso(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else None
