"""账号泄露处置 in two browsers: the district business admin reports that the hospital's account leaked; the
hospital, logged in elsewhere, is thrown out at once and its login shows the lock; the admin checks the
reported data, resets the password (shown once) and restores the account, and closes the case with the written
record; the hospital logs in with the temporary password and must change it first.

Runs against the module's live server (a committed database of its own with the demo data).
"""
import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Page, expect

from models import Session
from models.accounts import User
from workflows.demo import DEMO_PASSWORD
from tests.browser.helpers import path_is

pytestmark = pytest.mark.browser

ADMIN = "jaadmin01"          # 江岸区 business admin, manages the hospital's master account
HOSPITAL = "jahosp001"       # master account of 测试医院
NEW_PASSWORD = "Hx#7Lm@2Qv"
DESCRIPTION = "院内人员反映该账号在外网电脑上登录后未退出，可能已被他人获知密码。"
CHECK_NOTE = "核查近30天所报数据，未发现被修改或删除。"
RECORD = "账号泄露经核查未对所报数据造成破坏，已重置密码并恢复使用，临时密码已单独告知本人。"
TITLE = "账号泄露处置：测试医院（jahosp001）"
CST = timezone(timedelta(hours=8))
SCREENSHOT = "/tmp/hgov-credential-leak.png"


@pytest.fixture(scope="module", autouse=True)
def accounts_ready(live_app):
    with live_app.app_context():
        for account in Session().query(User).filter(User.username.in_([ADMIN, HOSPITAL])):
            account.real_name_verified = True
            account.password_change_reason = None
        Session.commit()
        Session.remove()


def submit_login(page: Page, username, password):
    page.goto("/login")
    page.get_by_label("账号", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()


def log_in(page: Page, username, password=DEMO_PASSWORD):
    submit_login(page, username, password)
    expect(page).to_have_url(path_is("/"))
    expect(page.locator("header.topbar .user-name")).to_contain_text(f"（{username}）")


def flash(page: Page, text):
    return page.get_by_role("alert").filter(has_text=text)


def claim_and_open(page: Page, step):
    """From a page listing the admin's steps: open the step and claim it."""
    page.get_by_role("link", name=f"办理「{step}」").click()
    expect(page.get_by_role("heading", name=f"{step}：{TITLE}")).to_be_visible()
    expect(page.locator("#credential-leak #leak-account")).to_contain_text(HOSPITAL)
    page.get_by_role("button", name="认领任务").click()
    expect(flash(page, "已认领，请办理")).to_be_visible()


def test_admin_reports_a_leak_resets_and_restores_the_account(page: Page, new_context):
    # The hospital is at work in another browser.
    hospital = new_context().new_page()
    log_in(hospital, HOSPITAL)

    # 1. The admin reports the leak from the menu.
    log_in(page, ADMIN)
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="报告账号泄露").click()
    expect(page.get_by_role("heading", name="报告账号泄露")).to_be_visible()
    page.get_by_label("泄露账号").fill(HOSPITAL)
    page.get_by_label("发现时间").fill((datetime.now(CST) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("情况说明").fill(DESCRIPTION)
    page.get_by_role("button", name="提交报告").click()
    expect(page).to_have_url(re.compile(r"/leaks/\d+$"))
    case_path = re.sub(r"^https?://[^/]+", "", page.url)
    expect(flash(page, f"已报告账号 {HOSPITAL} 泄露，该账号已暂停使用并强制下线")).to_be_visible()
    expect(page.locator("#leak-account-state")).to_have_text("已暂停（账号密码泄露）")
    expect(page.locator("#leak-status")).to_have_text("审批中")
    expect(page.locator("#leak-timeline li[data-kind=leak_suspended]")).to_contain_text("暂停账号使用并强制下线")

    # 2. At once: the hospital's session is over and its login shows the lock.
    hospital.reload()
    expect(hospital).to_have_url(re.compile(r"/login"))
    submit_login(hospital, HOSPITAL, DEMO_PASSWORD)
    expect(flash(hospital, "账号已被锁定，请联系管理员解锁")).to_be_visible()

    # 3. The admin checks the account's reported data (the district has no 数据质控员).
    claim_and_open(page, "业务管理员核查所报数据")
    page.get_by_role("radio", name="正常，未发现所报数据被破坏").check()
    page.get_by_label("核查说明").fill(CHECK_NOTE)
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    expect(flash(page, "已提交")).to_be_visible()

    # 4. Reset and restore: the temporary password is shown once.
    claim_and_open(page, "重置密码并恢复账号")
    expect(page.locator("#reset-notice")).to_contain_text("只在提交后显示这一次")
    page.get_by_role("button", name="提交", exact=True).click()          # not confirmed yet
    expect(page.locator("#f-confirm-error")).to_have_text("请勾选“确认重置该账号的密码并恢复使用”")
    page.get_by_label("确认重置该账号的密码并恢复使用").check()
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.get_by_role("heading", name="密码已重置，账号已恢复")).to_be_visible()
    expect(page.locator("#account-username")).to_have_text(HOSPITAL)
    password = page.locator("#one-time-password").inner_text()
    assert len(password) >= 8

    # 5. The written record closes the case.
    page.get_by_role("link", name="下一步：填写处置记录").click()
    page.get_by_role("button", name="认领任务").click()
    page.get_by_label("处置记录").fill(RECORD)
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator("#instance-status")).to_have_text("已办结")
    diagram = page.locator("#diagram svg")
    for done in ("report", "suspend", "check_admin", "reset_restore", "restore", "record", "closed_end"):
        expect(diagram.locator(f"#shape-{done}")).to_have_class(re.compile(r"\bcompleted\b"))
    expect(diagram.locator(".current")).to_have_count(0)
    page.goto(case_path)
    expect(page.locator("#leak-status")).to_have_text("已办结")
    expect(page.locator("#leak-account-state")).to_have_text("正常使用")
    expect(page.locator("#leak-check")).to_contain_text("正常，未发现所报数据被破坏")
    expect(page.locator("#leak-record")).to_contain_text(RECORD)
    expect(page.get_by_text(password)).to_have_count(0)                      # never shown again
    page.screenshot(path=SCREENSHOT, full_page=True)

    # 6. The hospital logs in with the temporary password and must change it first.
    submit_login(hospital, HOSPITAL, DEMO_PASSWORD)
    expect(flash(hospital, "账号或密码错误")).to_be_visible()                    # the leaked password is dead
    submit_login(hospital, HOSPITAL, password)
    expect(hospital).to_have_url(path_is("/password"))
    expect(hospital.get_by_text("您的密码已被管理员重置，请设置新密码后继续使用。")).to_be_visible()
    hospital.get_by_label("当前密码", exact=True).fill(password)
    hospital.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    hospital.get_by_label("确认新密码", exact=True).fill(NEW_PASSWORD)
    hospital.get_by_role("button", name="确认修改").click()
    expect(hospital).to_have_url(path_is("/"))
    expect(hospital.locator("header.topbar .user-name")).to_contain_text(f"（{HOSPITAL}）")
