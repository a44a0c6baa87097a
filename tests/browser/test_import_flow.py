"""批量导入 in the browser: the master account of 测试医院 opens 人员信息导入管理 from the menu, downloads the 基本信息
template, fills it with openpyxl (one good row, one with an uncoded 民族), uploads it, sees the counts, downloads
the error report, and finds the import on the management page.

Runs against the module's live server (a committed database of its own with the demo data).
"""
from openpyxl import load_workbook
import pytest
from playwright.sync_api import Page, expect

from models import Session
from tests.browser.helpers import log_in, menu
from tests.workflows.test_imports import basic, resident_id
from workflows import imports

pytestmark = pytest.mark.browser

MASTER = "jahosp001"
SCREENSHOT = "/tmp/hgov-import-jobs.png"


def test_template_upload_result_and_error_report(page: Page, ready, tmp_path):
    ready(MASTER, verified=True)
    Session.remove()    # end the fixture's transaction: the live server writes to the same database

    # 1. 机构人力资源 → 人员信息导入管理: nothing imported yet; the section tabs lead to the imports.
    log_in(page, MASTER)
    menu(page).get_by_role("link", name="人员信息导入管理").click()
    expect(page.get_by_role("heading", name="人员信息导入管理", level=1)).to_be_visible()
    expect(page.locator("#import-jobs tbody")).to_contain_text("还没有导入记录")
    page.get_by_role("link", name="导入基本信息").click()
    expect(page.get_by_role("heading", name="导入基本信息", level=1)).to_be_visible()
    expect(page.locator("#import-rules")).to_contain_text("YYYY-MM")

    # 2. 下载模板, then fill it in as a user would (here with openpyxl).
    with page.expect_download() as download:
        page.get_by_role("link", name="下载模板").click()
    assert download.value.suggested_filename == "基本信息导入模板.xlsx"
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)
    wb = load_workbook(template)
    ws = wb["数据"]
    labels = [imports._label(c.value) for c in ws[1]]
    for row in (basic("赵敏", resident_id(1)), basic("钱多", resident_id(2), 民族="汉")):
        values = {"机构名称": "测试医院", **row}
        ws.append([values.get(label) for label in labels])
    filled = tmp_path / "人员基本信息.xlsx"
    wb.save(filled)

    # 3. Upload it: two rows, imported at once; the counts and the error report are shown.
    page.locator("#import-file").set_input_files(str(filled))
    page.get_by_role("button", name="上传并导入").click()
    expect(page.get_by_role("alert").filter(has_text="导入完成：新增 1 条，更新 0 条，失败 1 条")).to_be_visible()
    expect(page.locator("#import-result dd.created")).to_have_text("1")
    expect(page.locator("#import-result dd.failed")).to_have_text("1")
    expect(page.locator("[data-status]")).to_have_text("已完成")

    # 4. The error report: the reason first, then the row as it was uploaded.
    with page.expect_download() as download:
        page.get_by_role("link", name="下载错误报告").click()
    report = tmp_path / "report.xlsx"
    download.value.save_as(report)
    rows = list(load_workbook(report)["数据"].iter_rows(values_only=True))
    assert rows[0][:3] == ("错误原因", "★机构名称", "★姓名")
    assert rows[1][0] == "民族：“汉”不是可选值，请从下拉列表中选择" and rows[1][2] == "钱多" and len(rows) == 2

    # 5. The management page lists the import with its counts and the report.
    page.get_by_role("link", name="人员信息导入管理").first.click()
    job = page.locator("#import-jobs tbody tr")
    expect(job).to_have_count(1)
    expect(job.locator("td.created")).to_have_text("1")
    expect(job.locator("td.failed")).to_have_text("1")
    expect(job).to_contain_text("人员基本信息.xlsx")
    expect(job.get_by_role("link", name="下载错误报告")).to_be_visible()
    page.screenshot(path=SCREENSHOT, full_page=True)
