"""机构信息修改 in two browsers: the hospital opens 机构信息维护, asks to change its name and category with a PDF
as evidence; the district business admin claims the request, sees old and new values side by side and
approves; the hospital's page then shows the new values.

Runs against the module's live server (a committed database of its own with the demo data).
"""
import re

import pytest
from playwright.sync_api import Page, expect

from models import Session
from workflows.demo import DEMO_PASSWORD
from tests.browser.helpers import path_is, menu

pytestmark = pytest.mark.browser

APPLICANT = "jahosp001"      # master account of 测试医院 (江岸区)
REVIEWER = "jaadmin01"       # 江岸区 business admin, supervising admin of 测试医院
USCC = "12420102MB1234567T"
NEW_NAME = "武汉市江岸区测试医院"
REASON = "经江岸区卫生健康局批复同意，医院更名并调整为专科医院。"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def log_in(page: Page, username):
    page.goto("/login")
    page.get_by_label("账号", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(path_is("/"))


def core(page: Page, field):
    return page.locator(f"#core-info [data-field={field}]")


def test_name_and_category_changed_and_approved(page: Page, new_context, ready, tmp_path):
    ready(APPLICANT, REVIEWER, verified=True)
    Session.remove()      # end the fixture's read transaction: on SQLite it holds the write lock
    evidence = tmp_path / "更名批复.pdf"
    evidence.write_bytes(PDF)

    # 1. The hospital: 机构信息管理 → 机构信息维护, the core fields read-only.
    log_in(page, APPLICANT)
    menu(page).get_by_role("link", name="机构信息维护").click()
    expect(page.get_by_role("heading", name="机构信息维护", level=1)).to_be_visible()
    expect(core(page, "name")).to_have_text("测试医院")
    expect(core(page, "uscc")).to_have_text(USCC)
    expect(core(page, "supervisor")).to_have_text("江岸区卫生健康局")
    expect(core(page, "category")).to_have_text("综合医院")
    expect(page.locator("#core-info input")).to_have_count(0)

    # 2. 机构信息修改: the form starts with the current values.
    page.get_by_role("link", name="机构信息修改").click()
    expect(page).to_have_url(path_is("/institution/change"))
    expect(page.get_by_label("单位名称")).to_have_value("测试医院")
    expect(page.get_by_label("统一社会信用代码")).to_have_value(USCC)
    expect(page.get_by_label("申请单位所属类别")).to_have_value("综合医院")
    page.get_by_label("单位名称").fill(NEW_NAME)
    page.get_by_label("申请单位所属类别").select_option("专科医院")
    page.get_by_label("修改原因").fill(REASON)
    page.get_by_label("证明材料").set_input_files(evidence)
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    expect(page.get_by_role("alert").filter(has_text="机构信息修改申请已提交")).to_be_visible()
    expect(page.locator("#instance-status")).to_have_text("审批中")
    expect(page.get_by_text("当前步骤：审核（")).to_be_visible()

    # 3. The reviewer claims it and sees old and new values side by side, only the changes highlighted.
    admin = new_context().new_page()
    log_in(admin, REVIEWER)
    admin.goto("/inbox/?view=claimable")
    row = admin.locator("#inbox tbody tr").filter(has_text="机构信息修改：测试医院")
    expect(row).to_have_count(1)
    row.get_by_role("button", name="认领").click()
    expect(admin.get_by_role("heading", name="审核：机构信息修改：测试医院")).to_be_visible()
    compare = admin.locator("#change-compare")
    expect(compare.locator("tbody tr.changed")).to_have_count(2)
    expect(compare.locator("tr[data-field=name] td.old")).to_have_text("测试医院")
    expect(compare.locator("tr[data-field=name] td.new mark")).to_have_text(NEW_NAME)
    expect(compare.locator("tr[data-field=category] td.old")).to_have_text("综合医院")
    expect(compare.locator("tr[data-field=category] td.new mark")).to_have_text("专科医院")
    expect(compare.locator("tr[data-field=uscc] mark")).to_have_count(0)
    expect(admin.locator("#change-reason")).to_have_text(REASON)
    expect(admin.locator("#institution-change").get_by_role("link", name=evidence.name)).to_be_visible()
    expect(admin.locator("#stale-notice")).to_have_count(0)
    admin.get_by_role("radio", name="通过").check()
    admin.get_by_role("button", name="提交", exact=True).click()
    expect(admin).to_have_url(re.compile(r"/instances/\d+$"))
    expect(admin.locator("#instance-status")).to_have_text("已办结")

    # 4. The hospital's page shows the new values, and the request as closed.
    page.goto("/institution/")
    expect(core(page, "name")).to_have_text(NEW_NAME)
    expect(core(page, "category")).to_have_text("专科医院")
    expect(core(page, "uscc")).to_have_text(USCC)
    expect(page.locator("#change-requests tbody tr").first.locator(".tag")).to_have_text("已办结")
    expect(page.get_by_role("link", name="机构信息修改")).to_be_visible()
