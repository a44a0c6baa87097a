"""部门管理, 机构岗位管理 and 机构编制管理 in the browser: 测试医院 adds a sub-department, is refused deleting a
department that still has staff, adds a post and maps it to a standard post, distributes its quota (and is
refused going over it); 武昌测试医院, without departments, initialises them from the template.

Runs against the module's live server (a committed database of its own with the demo data)."""
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select, update

from models import Session
from models.orgs import Department, Organization, Staff
from tests.browser.helpers import log_in, menu
from workflows import codes

pytestmark = pytest.mark.browser


def alert(page, text):
    return page.get_by_role("alert").filter(has_text=text)


def row(page, table, name):
    return page.locator(f"#{table} tbody tr[data-{'department' if table != 'posts' else 'post'}='{name}']")


def test_departments_posts_and_quotas(page: Page, ready):
    ready("jahosp001", verified=True)
    Session.remove()      # end the fixture's read transaction: on SQLite it holds the write lock
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, "jahosp001")

    # 部门管理: the demo departments; add 心内科 under 内科.
    menu(page).get_by_role("link", name="部门管理").click()
    expect(page.get_by_role("heading", name="部门管理", level=1)).to_be_visible()
    expect(row(page, "departments", "内科").locator("[data-field=staff]")).to_have_text("1")
    expect(page.get_by_role("button", name="初始化部门")).to_have_count(0)
    page.get_by_role("link", name="为 内科 新增下级部门").click()
    expect(page.get_by_role("heading", name="新增下级部门（上级：内科）")).to_be_visible()
    page.get_by_label("部门名称").fill("心内科")
    page.get_by_label("科室(部门)类别").select_option("科室(部门)")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".field-error")).to_contain_text("必须选择科室标准名称")
    page.get_by_label("科室标准名称").select_option("内科")
    page.get_by_role("button", name="保存").click()
    expect(alert(page, "部门已新增")).to_be_visible()
    expect(row(page, "departments", "心内科")).to_have_attribute("data-depth", "1")

    # Deleting 外科, which still has an active employee, is refused with the count.
    row(page, "departments", "外科").get_by_role("button", name="删除").click()
    expect(alert(page, "该部门下还有 1 名在职人员，请先在人员信息中将其调整到其他部门后再删除")).to_be_visible()
    expect(row(page, "departments", "外科")).to_have_count(1)

    # 机构岗位管理: a new post, mapped to the nationwide standard post 临床医师.
    menu(page).get_by_role("link", name="机构岗位管理").click()
    page.get_by_role("link", name="新增").click()
    page.get_by_label("岗位名称").fill("主治医师岗")
    page.get_by_role("button", name="保存").click()
    expect(alert(page, "岗位已新增")).to_be_visible()
    expect(row(page, "posts", "主治医师岗").locator("[data-field=standard]")).to_have_text("未映射")
    page.get_by_role("link", name="主治医师岗 映射管理").click()
    expect(page.get_by_role("heading", name="岗位映射：主治医师岗")).to_be_visible()
    page.get_by_label("临床医师", exact=True).check()
    page.get_by_role("button", name="确定").click()
    expect(alert(page, "岗位映射已保存")).to_be_visible()
    expect(row(page, "posts", "主治医师岗").locator("[data-field=standard]")).to_have_text("临床医师")

    # 机构编制管理: 120 allocated, 75 distributed; 10 more to 心内科, then too many to 内科.
    menu(page).get_by_role("link", name="机构编制管理").click()
    expect(page.locator("#quota-summary [data-field=allocated]")).to_have_text("120")
    expect(page.locator("#quota-summary [data-field=distributed]")).to_have_text("75")
    page.get_by_label("心内科").fill("10")
    page.get_by_role("button", name="保存").click()
    expect(alert(page, "科室编制已保存")).to_be_visible()
    expect(page.locator("#quota-summary [data-field=distributed]")).to_have_text("85")
    expect(page.locator("#quota-summary [data-field=remaining]")).to_have_text("35")
    page.get_by_label("内科", exact=True).fill("80")
    page.get_by_role("button", name="保存").click()
    expect(alert(page, "各科室编制合计 125 超过本机构核定编制 120")).to_be_visible()
    page.goto("/institution/quotas")
    expect(page.get_by_label("内科", exact=True)).to_have_value("40")


def test_initialise_departments_from_the_template(page: Page, ready):
    ready("wchosp001", verified=True)
    org_id = Session().scalars(select(Organization.id).where(Organization.name == "武昌测试医院")).one()
    Session.execute(update(Staff).where(Staff.org_id == org_id).values(department_id=None))
    Session.execute(delete(Department).where(Department.org_id == org_id))
    Session.commit()
    Session.remove()
    log_in(page, "wchosp001")
    menu(page).get_by_role("link", name="部门管理").click()
    expect(page.locator("#no-departments")).to_be_visible()
    page.get_by_role("button", name="初始化部门").click()
    expect(alert(page, f"已按模板初始化 {len(codes.DEPARTMENT_TEMPLATE)} 个部门")).to_be_visible()
    expect(page.locator("#departments tbody tr[data-department]")).to_have_count(len(codes.DEPARTMENT_TEMPLATE))
    expect(page.get_by_role("button", name="初始化部门")).to_have_count(0)
