"""The workbooks of the batch import (Hubei §4.2.4): the template an institution downloads for one section, and
the error report of an import.

The template has three sheets: 数据 (a header row, required columns marked ★, 机构名称 first, then the section's
fields in order), 填写须知 (the rules), and a hidden 选项 holding the drop-down lists — lists kept inline in a data
validation break beyond 255 characters, and department names may hold commas. Columns whose long numbers Excel
would turn into 1.40105E+17 (证件号码, 手机号码, certificate numbers) are formatted as text. Every string written
goes through ``excel.safe_cell``; the import reads it back with ``excel.typed_value``.
"""
from datetime import date, datetime
from io import BytesIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from workflows import personnel
from workflows.excel import safe_cell

DATA_SHEET, RULES_SHEET, LISTS_SHEET = "数据", "填写须知", "选项"
ORG_LABEL, REASON_LABEL, REQUIRED_MARK = "机构名称", "错误原因", "★"
ORG_KEY = "org_name"
# columns Excel must keep as text: long numbers lose digits, leading zeros vanish
TEXT_KEYS = frozenset({"id_number", "mobile", "staff_no", "practice_cert_no", "qualification_cert_no",
                       "certificate_no", "number"})
VALIDATED_ROWS = 20000          # drop-downs and text format reach this far down the sheet
_BOLD = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")


def columns(sec):
    """``[(key, label, required)]`` of the data sheet: 机构名称, then the section's fields in order."""
    return [(ORG_KEY, ORG_LABEL, True)] + [(f.key, f.label, f.required) for f in sec.fields]


def header_label(label, required):
    return f"{REQUIRED_MARK}{label}" if required else label


def rules(sec, org_name):
    """The 填写须知 lines for ``sec`` (also shown on the import page)."""
    present = [f.label for f in sec.fields if f.present_ok]
    lines = [
        "请使用本机构账号在导入页面下载的最新模板填写；模板会随系统更新而变化，使用旧模板或其他机构的模板会导致导入失败。",
        f"每一行的“机构名称”须与登录机构名称完全一致：{org_name}。",
        "带 ★ 的列为必填项。有下拉列表的列只能选择列表中的内容，例如性别只能是“男性”或“女性”。",
        "日期填写为 YYYY-MM-DD（如 2024-03-15）；没有具体日期时可只填写到月 YYYY-MM（如 2024-03），系统自动补齐为当月 01 日。",
        (f"“{'”“'.join(present)}”仍在继续的，填写汉字“至今”；其他日期不能填写“至今”。" if present
         else "本表的日期都不能填写“至今”。"),
        "姓名和证件号码是系统识别一个人的依据，须与基本信息中登记的完全一致。",
        "证件号码、手机号码和证书编号等列已设为文本格式，请勿改为“常规”或“数值”：否则 Excel 会把长号码变成 1.40105E+17 "
        "这样的科学计数法，号码后几位随之丢失，该行导入失败。手机号码须为 11 位。",
    ]
    if any(f.key == "major" for f in sec.fields):
        lines.append("学历为大学专科及以上（大学专科、大学本科、硕士研究生、博士研究生）时“所学专业”必填；大学专科以下可不填。")
    if sec is personnel.BASIC:
        lines.append("“所在部门”和“岗位”须与部门管理、机构岗位管理中的名称完全一致（包括标点、空格、罗马数字等），请从下拉列表中选择。")
        lines.append("证件类型不填时按居民身份证处理；居民身份证号码中的出生日期和性别须与所填一致。人员照片不能批量导入，请在人员信息中单独上传。")
    lines += [
        "需要导入多少条就填写多少行，空白行会被忽略。",
        "勾选“更新已存在的用户数据”后，系统中已存在的记录将被表格中的内容覆盖；不勾选时，这些行作为失败行列入错误报告。",
        "导入失败的行可下载错误报告查看原因：报告第一列为错误原因，改正后可直接上传该报告（保留或删去第一列均可）。",
        "超过 100 行的表格转入后台处理，请到“人员信息导入管理”查看进度和结果。",
    ]
    return [f"{number}. {line}" for number, line in enumerate(lines, start=1)]


def _choices(sec, org, departments, posts):
    """``{column key: [values]}`` for every column with a drop-down."""
    lists = {ORG_KEY: [org.name]}
    for f in sec.fields:
        if f.choices:
            lists[f.key] = list(f.choices)
        elif f.kind == "department":
            lists[f.key] = list(dict.fromkeys(departments))
        elif f.kind == "post":
            lists[f.key] = list(dict.fromkeys(posts))
    return {key: values for key, values in lists.items() if values}


def template_bytes(sec, org, departments, posts):
    """The template of ``sec`` for ``org``, with the institution's own department and post names."""
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    cols = columns(sec)
    for index, (key, label, required) in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=index, value=header_label(label, required))
        cell.font = _BOLD
        cell.alignment = Alignment(horizontal="center")
        if required:
            cell.fill = _REQUIRED_FILL
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = max(12, 2 * len(label) + 6)
        if key in TEXT_KEYS:
            ws.column_dimensions[letter].number_format = "@"
    ws.freeze_panes = "A2"

    notes = wb.create_sheet(RULES_SHEET)
    notes.column_dimensions["A"].width = 120
    notes.append([f"{sec.label}导入模板 填写须知"])
    notes["A1"].font = _BOLD
    for line in rules(sec, org.name):
        notes.append([safe_cell(line)])
        notes.cell(row=notes.max_row, column=1).alignment = Alignment(wrap_text=True)

    lists = wb.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    choices = _choices(sec, org, departments, posts)
    for list_index, (key, values) in enumerate(choices.items(), start=1):
        list_letter = get_column_letter(list_index)
        lists.cell(row=1, column=list_index, value=dict((k, l) for k, l, _ in cols)[key])
        for row, value in enumerate(values, start=2):
            lists.cell(row=row, column=list_index, value=safe_cell(value))
        data_letter = get_column_letter(next(i for i, c in enumerate(cols, start=1) if c[0] == key))
        validation = DataValidation(
            type="list", formula1=f"'{LISTS_SHEET}'!${list_letter}$2:${list_letter}${len(values) + 1}",
            allow_blank=True, showErrorMessage=True, errorTitle="输入有误", error="请从下拉列表中选择")
        validation.add(f"{data_letter}2:{data_letter}{VALIDATED_ROWS + 1}")
        ws.add_data_validation(validation)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def report_bytes(header, failures, text_columns=()):
    """The error report: 错误原因 first, then the failed rows' cells as they were uploaded. ``header`` is the
    uploaded header row, ``failures`` ``[(reasons, cells)]``, ``text_columns`` the indexes kept as text."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(DATA_SHEET)
    ws.column_dimensions["A"].width = 60
    heads = [WriteOnlyCell(ws, value=safe_cell(v)) for v in (REASON_LABEL, *header)]
    for cell in heads:
        cell.font = _BOLD
    ws.append(heads)
    for reasons, cells in failures:
        out = [WriteOnlyCell(ws, value=safe_cell("；".join(reasons)))]
        for index in range(len(header)):
            value = cells[index] if index < len(cells) else None
            cell = WriteOnlyCell(ws, value=safe_cell(value))
            if isinstance(value, (datetime, date)):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, str) or index in text_columns:
                cell.number_format = "@"
            out.append(cell)
        ws.append(out)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
