"""员工离职 in two browsers: a personnel officer of 测试医院 (a sub-account holding 员工离职) finds 李娜 by name,
saves the resignation as a draft, edits it and submits it; the hospital's master account reviews it from 离职审核,
sees the employee and the request on the task page, is told an opinion is needed to fail it, and passes it; the
record then shows 已通过 and the employee 已离职, and she is no longer offered in the staff search.

Runs against the module's live server (a committed database of its own with the demo data).
"""
import re

import pytest
from playwright.sync_api import Page, expect

from models import Session
from tests.workflows.test_resignation import RESIGN, member
from tests.browser.helpers import path_is, log_in, menu

pytestmark = pytest.mark.browser

OFFICER = "jahr00001"      # sub-account of 测试医院 holding 员工离职
REVIEWER = "jahosp001"     # master account of 测试医院: the institution's reviewer
SCREENSHOT = "/tmp/hgov-resignation-record.png"


@pytest.fixture(scope="module", autouse=True)
def officer_account(live_app):
    with live_app.app_context():
        member(OFFICER, RESIGN, "approval.requests")
        Session.commit()
        Session.remove()


def flash(page: Page, text):
    return page.get_by_role("alert").filter(has_text=text)


def facts(page: Page, list_id):
    return page.locator(f"#{list_id} dd")


def test_a_resignation_filed_by_the_officer_and_passed_by_the_master(page: Page, new_context, ready):
    ready(REVIEWER, verified=True)
    Session.remove()    # end the fixture's transaction: the live server writes to the same database

    # 1. The officer opens 机构人力资源 → 员工离职: no records yet, and no 离职审核 entry.
    log_in(page, OFFICER)
    expect(menu(page).get_by_role("link", name="离职审核")).to_have_count(0)
    menu(page).get_by_role("link", name="员工离职").click()
    expect(page.get_by_role("heading", name="员工离职", level=1)).to_be_visible()
    expect(page.get_by_text("机构人力资源 / 机构人事管理 / 人事调动 / 员工离职")).to_be_visible()
    expect(page.locator("#resignations tbody")).to_contain_text("暂无离职记录")

    # 2. 新增: every active employee is listed; searching by name narrows it; choosing fills the employee in.
    page.get_by_role("link", name="新增").click()
    expect(page.get_by_role("heading", name="新增离职记录")).to_be_visible()
    expect(page.locator("#staff-results tbody tr")).to_have_count(3)
    page.get_by_label("查找员工").fill("李")
    page.get_by_role("button", name="查询").click()
    results = page.locator("#staff-results tbody tr")
    expect(results).to_have_count(1)
    expect(results.locator("td")).to_have_text(["JA0002", "李娜", "女", "外科", "护士", "选择"])
    page.get_by_role("link", name="选择 李娜").click()
    expect(facts(page, "chosen-staff")).to_have_text(["李娜", "JA0002", "外科", "护士"])
    expect(page.get_by_label("工号")).to_have_value("JA0002")

    # 3. Type and date, then 保存: a draft.
    page.get_by_label("离职类型").select_option("辞职")
    page.get_by_label("离职日期").fill("2026-03-31")
    page.get_by_label("备注").fill("个人原因")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page).to_have_url(re.compile(r"/personnel/resignations/\d+$"))
    record_path = re.sub(r"^https?://[^/]+", "", page.url)
    expect(flash(page, "离职记录已保存为草稿")).to_be_visible()
    expect(page.locator("#resignation-status")).to_have_text("草稿")
    expect(facts(page, "resignation-request")).to_have_text(["辞职", "2026-03-31", "个人原因"])

    # 4. 编辑 the draft, then 提交 it.
    page.get_by_role("link", name="编辑").click()
    expect(page.get_by_role("heading", name="编辑离职记录")).to_be_visible()
    expect(page.get_by_label("离职类型")).to_have_value("辞职")
    page.get_by_label("备注").fill("个人原因，已完成工作交接")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page).to_have_url(path_is(record_path))
    expect(facts(page, "resignation-request")).to_have_text(["辞职", "2026-03-31", "个人原因，已完成工作交接"])
    page.get_by_role("button", name="提交").click()
    expect(flash(page, "已提交，等待本机构审核")).to_be_visible()
    expect(page.locator("#resignation-status")).to_have_text("待审核")
    expect(page.get_by_role("link", name="编辑")).to_have_count(0)

    # 5. The master account: 离职审核 lists it; the task page shows the employee and the request.
    master = new_context().new_page()
    log_in(master, REVIEWER)
    menu(master).get_by_role("link", name="离职审核").click()
    expect(master.get_by_role("heading", name="离职审核", level=1)).to_be_visible()
    row = master.locator("#resignations tbody tr").filter(has_text="李娜")
    expect(row).to_have_count(1)
    expect(row.locator(".tag")).to_have_text("待审核")
    row.get_by_role("link", name="审核").click()
    expect(master.get_by_role("heading", name="离职审核：李娜（JA0002）离职")).to_be_visible()
    expect(facts(master, "resignation-staff")).to_have_text(["李娜", "JA0002", "外科", "护士", "在职"])
    expect(facts(master, "resignation-request")).to_have_text(["辞职", "2026-03-31", "个人原因，已完成工作交接"])
    master.get_by_role("button", name="认领任务").click()
    expect(flash(master, "已认领，请办理")).to_be_visible()

    # Failing needs an opinion; then pass it.
    master.get_by_role("radio", name="审核不通过").check()
    master.get_by_role("button", name="提交", exact=True).click()
    expect(master.locator("#f-comment-error")).to_have_text("请填写“审核意见”")
    master.get_by_role("radio", name="审核通过").check()
    master.get_by_role("button", name="提交", exact=True).click()
    expect(master).to_have_url(re.compile(r"/instances/\d+$"))
    expect(master.locator("#instance-status")).to_have_text("已办结")
    expect(master.locator("#diagram svg #shape-passed_end")).to_have_class(re.compile(r"\bcompleted\b"))

    # 6. The officer sees 已通过 and the employee 已离职; she is no longer offered for a new record.
    page.goto(record_path)
    expect(page.locator("#resignation-status")).to_have_text("已通过")
    expect(page.locator("#staff-status")).to_have_text("已离职（2026-03-31）")
    expect(facts(page, "resignation-review").first).to_have_text("审核通过")
    expect(page.locator("#timeline")).to_contain_text("jahosp001")
    page.screenshot(path=SCREENSHOT, full_page=True)
    menu(page).get_by_role("link", name="员工离职").click()
    row = page.locator("#resignations tbody tr").filter(has_text="李娜")
    expect(row.locator(".tag")).to_have_text("已通过")
    page.get_by_role("link", name="新增").click()
    page.get_by_label("查找员工").fill("李")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#staff-results tbody")).to_contain_text("没有找到符合条件的在职人员")
