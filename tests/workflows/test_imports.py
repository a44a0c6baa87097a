"""The batch import (workflows/imports.py): templates, the cell and row checks, one crafted workbook per kind
of section hitting every error kind, update-existing, empty rows, re-uploading the error report, the mapped-
post precondition, and a large import run by the scheduler job."""
from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, update
from stdnum.cn import ric

from models import Session, utcnow
from models.audit import AuditEvent
from models.orgs import Post, Staff
from models.personnel import ImportJob, WorkHistory
from scheduler import runner
from tests.conftest import user
from workflows import files, identity, imports
from workflows import import_template as book
from workflows.errors import InvalidInput, NotAuthorized, NotFound
from workflows.staff import ACTIVE_ELSEWHERE

ZHANG_ID = "42010219800101001X"       # 张伟, active at 测试医院
LIU_ID = "420106199007200033"         # 刘洋, active at 武昌测试医院
SCI = "证件号码被 Excel 转成了科学计数法（1.40105E+17），请把该列设为文本格式后重新填写完整号码"


@pytest.fixture
def hospital(ready):
    ready("jahosp001", "wchosp001", verified=True)
    return user("jahosp001")


def resident_id(n, male=True):
    """A valid resident ID, distinct for each ``n`` below 20,000."""
    born = date(1970, 1, 1) + timedelta(days=n // 50)
    body = f"420106{born:%Y%m%d}{(n % 50) * 2 + (1 if male else 0):03d}"
    return body + ric.calc_check_digit(body + "0")


def basic(name, number, **labels):
    """A valid 基本信息 row (by column label) for a new person."""
    gender = "男性" if identity.id_gender(number) == "男" else "女性"
    return {"姓名": name, "证件类型": "居民身份证", "证件号码": number, "性别": gender,
            "出生日期": identity.id_birth_date(number).isoformat(), "民族": "汉族", "所在部门": "内科", "岗位": "医师",
            "人员类别": "卫生技术人员", "在职状态": "在岗", "学历": "大学本科", "所学专业": "临床医学",
            "参加工作时间": "2012-07", "手机号码": "13800138000", **labels}


def work(name, number, start, end, unit="江岸区人民医院", **labels):
    return {"姓名": name, "证件号码": number, "起始时间": start, "终止时间": end, "工作单位": unit, **labels}


def save(wb):
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def filled(actor, section, rows, *, blank_rows=0):
    """The section's real template, downloaded for ``actor`` and filled with openpyxl."""
    _, data = imports.template(actor, section)
    wb = load_workbook(BytesIO(data))
    ws = wb[book.DATA_SHEET]
    labels = [imports._label(c.value) for c in ws[1]]
    for row in rows:
        values = {"机构名称": "测试医院", **row}
        ws.append([values.get(label) for label in labels])
    for n in range(blank_rows):                 # what Excel leaves below the data: empty strings, formatted cells,
        ws.append(["测试医院" if n % 2 else "", None, "居民身份证", "  "] + [None] * (len(labels) - 4))  # filled down
    return save(wb)


def run(actor, section, data, *, update=False):
    job = imports.start_import(actor, section, "导入.xlsx", BytesIO(data), update_existing=update)
    Session.commit()
    return job


def report_rows(job):
    with open(files.attachment_path(job.report), "rb") as fh:
        wb = load_workbook(BytesIO(fh.read()))
    return [list(r) for r in wb[book.DATA_SHEET].iter_rows(values_only=True)]


def counts(job):
    return job.status, job.total, job.created_count, job.updated_count, job.failed_count


# --- cells and rows ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, label, value, expected", [
    ("id_number", "证件号码", 1.40105198001011e17, (None, SCI)),
    ("id_number", "证件号码", 140105198001010000, (None, SCI)),
    ("id_number", "证件号码", "1.40105E+17", (None, SCI)),
    ("id_number", "证件号码", " 1.40105e+17 ", (None, SCI.replace("1.40105E+17", "1.40105e+17"))),
    ("id_number", "证件号码", 12345678, ("12345678", None)),              # short numbers survive Excel intact
    ("id_number", "证件号码", "12E34567", ("12E34567", None)),            # a passport number, not Excel's doing
    ("id_number", "证件号码", ZHANG_ID, (ZHANG_ID, None)),
    ("mobile", "手机号码", 13800138000, ("13800138000", None)),
    ("mobile", "手机号码", 13800138000.0, ("13800138000", None)),
    ("number", "证书编号", 1.10420000000001e26,
     (None, "证书编号被 Excel 转成了科学计数法（1.1042E+26），请把该列设为文本格式后重新填写完整号码")),
    ("staff_no", "工号", 12, ("12", None)),
    ("name", "姓名", "'=cmd", ("=cmd", None)),                          # as safe_cell wrote it
    ("name", "姓名", "'张伟", ("'张伟", None)),
    ("birth_date", "出生日期", datetime(1990, 1, 1), (datetime(1990, 1, 1), None)),
    ("birth_date", "出生日期", "1990-01", ("1990-01", None)),
    ("major", "所学专业", None, (None, None)),
])
def test_cell_values(key, label, value, expected):
    assert imports.cell_value(key, label, value) == expected


def check(actor, section, row):
    """The reasons ``check_row`` gives for one row (by label) of ``section``."""
    from workflows import personnel
    sec = personnel.section(section)
    keys = [key for key, _, _ in book.columns(sec)]
    labels = {label: key for key, label, _ in book.columns(sec)}
    cells = [None] * len(keys)
    for label, value in {"机构名称": "测试医院", **row}.items():
        cells[keys.index(labels[label])] = value
    sheet = imports.Sheet(tuple(label for _, label, _ in book.columns(sec)), keys, list(range(len(keys))))
    job = ImportJob(created_count=0, updated_count=0, failed_count=0, update_existing=False)
    the_run = imports.Run(job, actor, actor.org, sec, sheet, imports.Lookups(actor.org))
    return imports.check_row(the_run, tuple(cells))[2]


@pytest.mark.parametrize("section, row, reasons", [
    ("basic", basic("赵敏", resident_id(1)), []),
    ("basic", basic("赵敏", resident_id(1), 机构名称="测试医院 "), []),
    ("basic", basic("赵敏", resident_id(1), 机构名称=""), ["请填写“机构名称”"]),
    ("basic", basic("赵敏", resident_id(1), 机构名称="武昌测试医院"),
     ["机构名称“武昌测试医院”与登录机构名称“测试医院”不一致"]),
    ("basic", basic("赵敏", resident_id(1), 证件号码=1.40105198001011e17), [SCI]),
    ("basic", basic("赵敏", resident_id(1), 证件号码="420106199001010011"),
     ["证件号码：居民身份证号码校验位（最后一位）不正确，请核对号码"]),
    ("basic", basic("赵敏", resident_id(1), 手机号码="1380013800"), ["手机号码：手机号码格式不正确，请填写 11 位中国大陆手机号码"]),
    ("basic", basic("赵敏", resident_id(1), 手机号码="11000000000"), ["手机号码：手机号码格式不正确，请填写 11 位中国大陆手机号码"]),
    ("basic", basic("赵敏", resident_id(1), 出生日期="1970/01/01", 参加工作时间="2012-13"),
     ["出生日期：日期格式应为 YYYY-MM-DD 或 YYYY-MM，不能是“1970/01/01”", "参加工作时间：“2012-13”不是有效日期"]),
    ("basic", basic("赵敏", resident_id(1), 参加工作时间="至今"), ["参加工作时间：该日期不能填写“至今”"]),
    ("basic", basic("赵敏", resident_id(1), 所学专业=None), ["学历为大学专科及以上时，“所学专业”必填"]),
    ("basic", basic("赵敏", resident_id(1), 学历="中等专科", 所学专业=None), []),
    ("basic", basic("赵敏", resident_id(1), 民族="汉"), ["民族：“汉”不是可选值，请从下拉列表中选择"]),
    ("basic", basic("赵敏", resident_id(1), 所在部门="神经内科"),
     ["所在部门：本机构没有名为“神经内科”的部门（须与部门管理中的名称完全一致）"]),
    ("basic", basic("赵敏", resident_id(1), 岗位="主任"), ["岗位：本机构没有名为“主任”的岗位（须与岗位管理中的名称完全一致）"]),
    ("basic", basic("赵敏", resident_id(1), 性别="女性"), ["性别与居民身份证号码不一致"]),
    ("basic", {"机构名称": "测试医院"}, ["请填写“姓名”", "请填写“证件号码”", "请填写“性别”", "请填写“出生日期”",
                                         "请填写“民族”", "请填写“所在部门”", "请填写“岗位”", "请填写“人员类别”",
                                         "请填写“在职状态”", "请填写“学历”", "请填写“参加工作时间”", "请填写“手机号码”"]),
    ("work_history", work("张伟", ZHANG_ID, "2005-07", "至今"), []),
    ("work_history", work("张伟", ZHANG_ID, "至今", "2006-07"), ["起始时间：该日期不能填写“至今”"]),
    ("work_history", work("张伟", ZHANG_ID, "2010-01", "2009-01"), ["结束时间不能早于开始时间"]),
    ("work_history", work("张伟", "1.40105E+17", "2005-07", "至今"), [SCI]),
    ("education", {"姓名": "张伟", "证件号码": ZHANG_ID, "毕业时间": "2003-07", "毕业院校": "武汉大学",
                   "学历": "硕士研究生"}, ["学历为大学专科及以上时，“所学专业”必填"]),
    ("certificate", {"姓名": "张伟", "证件号码": ZHANG_ID, "证书类型": "驾驶证", "证书编号": "A1",
                     "发证日期": "2030-01-01"},
     ["证书类型：“驾驶证”不是可选值，请从下拉列表中选择", "发证日期：日期不能晚于今天"]),
])
def test_row_reasons(hospital, section, row, reasons):
    assert check(hospital, section, row) == reasons


# --- templates ---------------------------------------------------------------------------------------------------

def test_basic_template(hospital):
    name, data = imports.template(hospital, "basic")
    assert name == "基本信息导入模板.xlsx"
    wb = load_workbook(BytesIO(data))
    assert wb.sheetnames == ["数据", "填写须知", "选项"]
    assert wb["选项"].sheet_state == "hidden"
    ws = wb["数据"]
    header = [c.value for c in ws[1]]
    assert header[:6] == ["★机构名称", "★姓名", "★证件类型", "★证件号码", "★性别", "★出生日期"]
    assert "政治面貌" in header and "★手机号码" in header and "所学专业" in header
    letter = {imports._label(v): c.column_letter for v, c in zip(header, ws[1])}
    for label in ("证件号码", "手机号码", "执业证书编号", "资格证书编号", "工号"):
        assert ws.column_dimensions[letter[label]].number_format == "@", label
    assert ws.column_dimensions[letter["姓名"]].number_format == "General"
    lists = {c[0].value: [x.value for x in c[1:] if x.value is not None] for c in wb["选项"].iter_cols()}
    assert lists["性别"] == ["男性", "女性"]
    assert lists["所在部门"] == ["内科", "外科", "人事科"]            # the institution's own, not 武昌测试医院's
    assert lists["岗位"] == ["医师", "护士", "人事专员"]
    assert lists["机构名称"] == ["测试医院"] and "居民身份证" in lists["证件类型"] and len(lists["民族"]) == 58
    validations = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation}
    assert validations[f"{letter['性别']}2"].startswith("'选项'!$")
    assert len(validations) == len(lists)
    assert all(len(formula) < 255 for formula in validations.values())
    rules = " ".join(c.value for c in wb["填写须知"]["A"])
    for phrase in ("YYYY-MM-DD", "YYYY-MM", "01 日", "“至今”", "大学专科", "姓名和证件号码", "完全一致", "文本格式",
                   "1.40105E+17", "测试医院"):
        assert phrase in rules, phrase


def test_detail_templates(hospital):
    wb = load_workbook(BytesIO(imports.template(hospital, "work_history")[1]))
    assert [c.value for c in wb["数据"][1]] == ["★机构名称", "★姓名", "★证件号码", "★起始时间", "★终止时间",
                                              "★工作单位", "所在科室", "职务"]
    assert "“终止时间”仍在继续的，填写汉字“至今”" in " ".join(c.value for c in wb["填写须知"]["A"])
    wb = load_workbook(BytesIO(imports.template(hospital, "certificate")[1]))
    ws = wb["数据"]
    assert ws.column_dimensions["E"].number_format == "@"        # 证书编号
    with pytest.raises(NotFound):
        imports.template(hospital, "photos")


def test_who_may_import(hospital, ready):
    ready("sysadmin01", verified=True)
    with pytest.raises(NotFound):
        imports.template(user("sysadmin01"), "basic")           # no institution
    for role in hospital.roles:
        role.permissions = [p for p in role.permissions if p.code != "hr.staff.import"]
    Session.flush()
    with pytest.raises(NotAuthorized):
        imports.start_import(hospital, "basic", "a.xlsx", BytesIO(b"x"))


# --- one crafted workbook per kind of section -------------------------------------------------------------------

def test_basic_workbook_with_every_kind_of_error(hospital):
    rows = [
        basic("赵敏", resident_id(1)),
        basic("钱多", resident_id(2), 机构名称="武昌测试医院"),
        basic("孙立", resident_id(3), 证件号码=1.40105198001011e17),
        basic("李明", resident_id(4), 证件号码="1.40105E+17"),
        basic("周正", resident_id(5), 证件号码="420106199001010011"),
        basic("吴用", resident_id(6), 手机号码="1380013800"),
        basic("郑和", resident_id(7), 出生日期="1970/01/01", 参加工作时间="2012-13"),
        basic("王五", resident_id(8), 参加工作时间="至今"),
        basic("冯唐", resident_id(9), 所学专业=None),
        basic("陈平", resident_id(10), 民族="汉"),
        basic("褚遂", resident_id(11), 所在部门="神经内科"),
        basic("张伟", ZHANG_ID, 出生日期="1980-01-01"),                  # already there, update not ticked
        basic("赵敏", resident_id(1), 手机号码="13900139000"),         # twice in the same file
        basic("刘洋", LIU_ID),                                         # active at another institution
    ]
    job = run(hospital, "basic", filled(hospital, "basic", rows))
    assert counts(job) == ("done", 14, 1, 0, 13)
    report = report_rows(job)
    header = report[0]
    assert header[:3] == ["错误原因", "★机构名称", "★姓名"]
    reasons = {row[2]: row[0] for row in report[1:]}
    assert reasons == {
        "钱多": "机构名称“武昌测试医院”与登录机构名称“测试医院”不一致",
        "孙立": SCI,
        "李明": SCI,
        "周正": "证件号码：居民身份证号码校验位（最后一位）不正确，请核对号码",
        "吴用": "手机号码：手机号码格式不正确，请填写 11 位中国大陆手机号码",
        "郑和": "出生日期：日期格式应为 YYYY-MM-DD 或 YYYY-MM，不能是“1970/01/01”；参加工作时间：“2012-13”不是有效日期",
        "王五": "参加工作时间：该日期不能填写“至今”",
        "冯唐": "学历为大学专科及以上时，“所学专业”必填",
        "陈平": "民族：“汉”不是可选值，请从下拉列表中选择",
        "褚遂": "所在部门：本机构没有名为“神经内科”的部门（须与部门管理中的名称完全一致）",
        "张伟": "该人员的基本信息已存在；如需覆盖，请勾选“更新已存在的用户数据”",
        "赵敏": "该人员的基本信息已存在；如需覆盖，请勾选“更新已存在的用户数据”",
        "刘洋": ACTIVE_ELSEWHERE,
    }
    id_column = header.index("★证件号码")
    by_name = {row[2]: row for row in report[1:]}
    assert by_name["孙立"][id_column] == 1.40105198001011e17             # the cell as the user wrote it
    assert by_name["李明"][id_column] == "1.40105E+17"
    assert by_name["郑和"][header.index("★出生日期")] == "1970/01/01"
    assert by_name["钱多"][1] == "武昌测试医院"
    zhao = Session().scalars(select(Staff).where(Staff.id_number == resident_id(1))).one()
    assert (zhao.name, zhao.mobile, zhao.department.name, zhao.post.name, zhao.gender) == \
        ("赵敏", "13800138000", "内科", "医师", "男")
    assert zhao.staff_no.startswith("P") and zhao.org_id == hospital.org_id
    assert all(abs(at - utcnow()) < timedelta(minutes=5) for at in (zhao.created_at, zhao.updated_at))
    event = Session().scalars(select(AuditEvent).where(AuditEvent.action == "staff_import")).one()
    assert event.detail["created"] == 1 and event.detail["failed"] == 13 and event.detail["section"] == "基本信息"
    assert Session().scalar(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.action.in_(("staff_create", "staff_update")))) == 0


def test_work_history_workbook_with_every_kind_of_error(hospital):
    rows = [
        work("张伟", ZHANG_ID, "2005-07", "至今"),
        work("张三", ZHANG_ID, "2005-07", "至今"),
        work("张伟", ZHANG_ID, "至今", "2006-07", unit="武汉大学人民医院"),
        work("张伟", ZHANG_ID, "2010-01", "2009-01", unit="协和医院"),
        work("张伟", ZHANG_ID, "2005-07", "2008-06"),                         # same 起始时间 and 工作单位 again
        work("李娜", "1.40105E+17", "2001-07", "至今"),
        work("李娜", "420102198503150020", "2001-07", "至今", 机构名称="测试医院2"),
        work("李娜", "420102198503150020", "2001-07", "至今", 所在科室="外科"),
    ]
    job = run(hospital, "work_history", filled(hospital, "work_history", rows))
    assert counts(job) == ("done", 8, 2, 0, 6)
    report = report_rows(job)
    assert [row[0] for row in report[1:]] == [
        f"姓名：张三、证件号码：{ZHANG_ID} 未找到基本信息",
        "起始时间：该日期不能填写“至今”",
        "结束时间不能早于开始时间",
        "该人员已有起始时间“2005-07-01”、工作单位“江岸区人民医院”的工作经历记录；如需覆盖，请勾选“更新已存在的用户数据”",
        SCI,
        "机构名称“测试医院2”与登录机构名称“测试医院”不一致",
    ]
    zhang = Session().scalars(select(WorkHistory).join(Staff).where(Staff.id_number == ZHANG_ID)).one()
    assert (zhang.started_on, zhang.ended_on, zhang.unit) == (date(2005, 7, 1), None, "江岸区人民医院")


def test_update_existing_off_and_on(hospital):
    rows = [basic("张伟", ZHANG_ID, 出生日期="1980-01-01", 手机号码="13900139000", 所在部门="外科"),
            basic("赵敏", resident_id(1))]
    off = run(hospital, "basic", filled(hospital, "basic", rows))
    assert counts(off) == ("done", 2, 1, 0, 1)
    zhang = Session().scalars(select(Staff).where(Staff.id_number == ZHANG_ID)).one()
    assert zhang.department.name == "内科" and zhang.mobile != "13900139000"
    before = zhang.updated_at
    on = run(hospital, "basic", filled(hospital, "basic", rows + [basic("钱多", resident_id(2))]), update=True)
    assert counts(on) == ("done", 3, 1, 2, 0) and on.report is None
    Session().expire_all()
    zhang = Session().get(Staff, zhang.id)
    assert (zhang.department.name, zhang.mobile, zhang.staff_no) == ("外科", "13900139000", "JA0001")
    assert zhang.updated_at > before
    history = [work("张伟", ZHANG_ID, "2005-07", "至今", 职务="住院医师")]
    assert counts(run(hospital, "work_history", filled(hospital, "work_history", history)))[2] == 1
    history[0]["职务"], history[0]["终止时间"] = "主治医师", "2015-06"
    assert counts(run(hospital, "work_history", filled(hospital, "work_history", history)))[4] == 1
    assert counts(run(hospital, "work_history", filled(hospital, "work_history", history), update=True))[3] == 1
    row = Session().scalars(select(WorkHistory).join(Staff).where(Staff.id_number == ZHANG_ID)).one()
    Session().refresh(row)
    assert (row.position, row.ended_on) == ("主治医师", date(2015, 6, 1))


def test_update_with_a_different_name_is_refused(hospital):
    job = run(hospital, "basic", filled(hospital, "basic", [basic("张卫", ZHANG_ID, 出生日期="1980-01-01")]),
              update=True)
    assert counts(job) == ("done", 1, 0, 0, 1)
    assert report_rows(job)[1][0] == "姓名与系统中该证件号码登记的姓名（张伟）不一致"


def test_trailing_empty_rows_are_not_rows(hospital):
    job = run(hospital, "basic", filled(hospital, "basic", [basic("赵敏", resident_id(1))], blank_rows=30))
    assert counts(job) == ("done", 1, 1, 0, 0) and job.report is None


@pytest.mark.parametrize("keep_reason_column", [True, False])
def test_the_corrected_report_uploads_as_is(hospital, keep_reason_column):
    rows = [basic("赵敏", resident_id(1)), basic("钱多", resident_id(2), 民族="汉"),
            basic("孙立", resident_id(3), 证件号码=1.40105198001011e17),
            basic("李明", resident_id(4), 所在部门="+内科")]
    first = run(hospital, "basic", filled(hospital, "basic", rows))
    assert counts(first) == ("done", 4, 1, 0, 3)
    with open(files.attachment_path(first.report), "rb") as fh:
        wb = load_workbook(BytesIO(fh.read()))
    ws = wb["数据"]
    header = [c.value for c in ws[1]]
    assert ws.cell(row=4, column=header.index("★所在部门") + 1).value == "'+内科"        # never a formula
    for row in ws.iter_rows(min_row=2):
        cells = {imports._label(h): c for h, c in zip(header, row)}
        if cells["姓名"].value == "钱多":
            cells["民族"].value = "汉族"
        if cells["姓名"].value == "孙立":
            cells["证件号码"].value = resident_id(3)
        if cells["姓名"].value == "李明":
            cells["所在部门"].value = "外科"
    if not keep_reason_column:
        ws.delete_cols(1)
    second = run(hospital, "basic", save(wb))
    assert counts(second) == ("done", 3, 3, 0, 0)


# --- refusals of the whole workbook ------------------------------------------------------------------------------

def test_no_mapped_post_is_refused(hospital):
    Session().execute(update(Post).where(Post.org_id == hospital.org_id).values(standard_post_id=None))
    data = filled(hospital, "basic", [basic("赵敏", resident_id(1))])
    with pytest.raises(InvalidInput) as caught:
        run(hospital, "basic", data)
    assert caught.value.code == "no_mapped_post"
    assert "即使医院岗位未确定，也要保证系统中最少有一条岗位信息且需要完成映射" in caught.value.message


@pytest.mark.parametrize("make, code, message", [
    (lambda h: filled(h, "work_history", [work("张伟", ZHANG_ID, "2005-07", "至今")]), "wrong_template",
     "表格缺少以下列：证件类型、性别"),
    (lambda h: filled(h, "basic", []), "empty_workbook", "表格中没有数据行"),
    (lambda h: b"%PDF-1.4 not a workbook", "upload_refused", "只接受 .xlsx 格式的 Excel 文件"),
    (lambda h: b"PK\x03\x04 a zip but not a workbook", "upload_refused", "无法读取该文件"),
    (lambda h: b"", "upload_refused", "文件为空"),
])
def test_refused_workbooks(hospital, make, code, message):
    with pytest.raises(InvalidInput) as caught:
        run(hospital, "basic", make(hospital))
    assert caught.value.code == code and message in caught.value.message
    assert Session().scalar(select(func.count()).select_from(ImportJob)) == 0


def test_headers_are_matched_by_label_in_any_order(hospital):
    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    row = {"机构名称": "测试医院", **basic("赵敏", resident_id(1))}
    labels = [" 姓 名 ", *[k for k in row if k != "姓名"], "备注", "政治面貌", "工号", "学位", "进入本单位时间",
              "专业技术资格", "执业证书编号", "资格证书编号"]
    ws.append(labels)
    ws.append([row.get(imports._label(label)) for label in labels])
    assert counts(run(hospital, "basic", save(wb)))[2] == 1
    ws.cell(row=1, column=len(labels) + 1, value="籍贯")
    with pytest.raises(InvalidInput, match="无法识别的列：籍贯"):
        run(hospital, "basic", save(wb))


# --- the background ---------------------------------------------------------------------------------------------

def test_a_large_import_is_queued_and_run_by_the_scheduler_job(app, hospital):
    rows = [basic(f"人员{n}", resident_id(n), 手机号码=f"1380013{n:04d}") for n in range(5000)]
    rows[10]["民族"] = "汉"
    job_id, org_id = run(hospital, "basic", filled(hospital, "basic", rows, blank_rows=3)).id, hospital.org_id
    assert counts(Session().get(ImportJob, job_id)) == ("queued", 0, 0, 0, 0)
    job_run = runner.run_job(app, "imports", trigger="manual")
    assert (job_run.outcome, job_run.rows_affected) == ("success", 1)
    job = Session().get(ImportJob, job_id)
    assert counts(job) == ("done", 5000, 4999, 0, 1) and job.processed == 5000
    assert job.started_at is not None and job.finished_at >= job.started_at
    assert len(report_rows(job)) == 2
    assert Session().scalar(select(func.count()).select_from(Staff).where(Staff.org_id == org_id)) == 3 + 4999
    numbers = Session().scalars(select(Staff.staff_no).where(Staff.org_id == org_id)).all()
    assert len(set(numbers)) == len(numbers)
    assert imports.run_queued(utcnow()) == 0                             # nothing left, nothing twice


def test_a_job_is_claimed_once(hospital):
    rows = [basic(f"人员{n}", resident_id(n)) for n in range(101)]
    job = run(hospital, "basic", filled(hospital, "basic", rows))
    claimed = imports.claim_next()
    assert claimed.id == job.id and claimed.status == "running"
    assert imports.claim_next() is None
    Session().execute(update(ImportJob).where(ImportJob.id == job.id).values(status="queued"))
    Session().execute(update(ImportJob).where(ImportJob.id == job.id, ImportJob.status == "queued")
                      .values(status="running"))                       # another scheduler took it meanwhile
    assert imports.claim_next() is None


def test_a_crash_marks_the_job_failed_and_keeps_the_committed_chunks(hospital, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK", 60)
    rows = [basic(f"人员{n}", resident_id(n)) for n in range(150)]
    job = run(hospital, "basic", filled(hospital, "basic", rows))
    calls = []
    real = imports._process_chunk

    def crash_on_second(the_run, chunk):
        calls.append(len(chunk))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(the_run, chunk)
    monkeypatch.setattr(imports, "_process_chunk", crash_on_second)
    assert imports.run_queued(utcnow()) == 1
    Session().expire_all()
    job = Session().get(ImportJob, job.id)
    assert job.status == "failed" and job.processed == 60 and job.created_count == 60
    assert job.message.startswith("导入过程中出现系统错误：前 60 行的结果已保存，其余行未导入")
    assert Session().scalar(select(func.count()).select_from(Staff).where(Staff.org_id == hospital.org_id)) == 63


def test_a_job_left_running_by_a_dead_process_is_failed(hospital):
    rows = [basic(f"人员{n}", resident_id(n)) for n in range(101)]
    job = run(hospital, "basic", filled(hospital, "basic", rows))
    imports.claim_next(utcnow() - timedelta(hours=1))
    assert imports.run_queued(utcnow()) == 1
    Session().expire_all()
    job = Session().get(ImportJob, job.id)
    assert job.status == "failed" and job.message.startswith("导入中断（处理进程已停止）")


def test_a_queued_job_whose_uploader_lost_the_right_is_not_run(hospital):
    rows = [basic(f"人员{n}", resident_id(n)) for n in range(101)]
    job = run(hospital, "basic", filled(hospital, "basic", rows))
    for role in hospital.roles:
        role.permissions = [p for p in role.permissions if p.code != "hr.staff.import"]
    Session.commit()
    assert imports.run_queued(utcnow()) == 1
    Session().expire_all()
    job = Session().get(ImportJob, job.id)
    assert (job.status, job.processed, job.message) == ("failed", 0, "上传人已没有“批量导入”人员信息的权限，本次导入未执行")
    assert Session().scalar(select(func.count()).select_from(Staff).where(Staff.org_id == hospital.org_id)) == 3


def test_limits_on_rows(hospital, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    monkeypatch.setattr(imports, "MAX_SCANNED", 10)
    rows = [basic(f"人员{n}", resident_id(n)) for n in range(4)]
    with pytest.raises(InvalidInput, match="一次最多导入 3 行"):
        imports.read_sheet(filled(hospital, "basic", rows), imports.personnel.BASIC)
    with pytest.raises(InvalidInput, match="表格超过 10 行"):
        imports.read_sheet(filled(hospital, "basic", rows[:1], blank_rows=12), imports.personnel.BASIC)
    assert len(imports.read_sheet(filled(hospital, "basic", rows[:1], blank_rows=8),
                                  imports.personnel.BASIC).rows) == 1


def test_a_refused_batch_is_redone_row_by_row(hospital, monkeypatch):
    real, calls = imports.insert_rows, []

    def refuse_first(table, rows):
        calls.append(table.name)
        if len(calls) == 1:
            raise RuntimeError("a concurrent writer took one of these ID numbers")
        return real(table, rows)
    monkeypatch.setattr(imports, "insert_rows", refuse_first)
    rows = [basic("赵敏", resident_id(1)), basic("钱多", resident_id(2)), basic("张伟", ZHANG_ID, 出生日期="1980-01-01")]
    job = run(hospital, "basic", filled(hospital, "basic", rows))
    assert counts(job) == ("done", 3, 2, 0, 1) and calls == ["staff"]
    assert Session().scalar(select(func.count()).select_from(Staff).where(Staff.org_id == hospital.org_id)) == 5


def test_a_batch_hitting_a_unique_index_is_redone_row_by_row(hospital, monkeypatch):
    """The database refuses the batch (here: an ID number made active elsewhere after the chunk was looked up)."""
    real = imports._save_basic

    def meanwhile(the_run, prepared):
        other = user("wchosp001").org
        Session().add(Staff(org_id=other.id, staff_no="WC9999", name="钱多", id_type="resident_id",
                            id_number=resident_id(2)))
        Session().flush()
        return real(the_run, prepared)
    monkeypatch.setattr(imports, "_save_basic", meanwhile)
    rows = [basic("赵敏", resident_id(1)), basic("钱多", resident_id(2))]
    job = run(hospital, "basic", filled(hospital, "basic", rows))
    assert counts(job) == ("done", 2, 1, 0, 1)
    assert report_rows(job)[1][0] == ACTIVE_ELSEWHERE
