"""The login story in a real browser: forced first-login password change with the policy messages, lockout
after five wrong passwords, unlock by the system administrator from 人员账号管理, and login again.

Runs against the module's live server (a committed database of its own with the demo data), so the steps of
the main flow build on each other; the small tests after it use accounts the flow does not touch.
"""
import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Page, expect

from workflows.demo import DEMO_PASSWORD
from tests.browser.helpers import path_is

pytestmark = pytest.mark.browser

CST = timezone(timedelta(hours=8))
SCREENSHOT = "/tmp/hgov-password-violations.png"

ADMIN = "jaadmin01"              # county business admin, real-name verified
ADMIN_NEW_PASSWORD = "Jx#9Lm@2Qw"
SYSADMIN = "sysadmin01"
SYSADMIN_NEW_PASSWORD = "Sq$7Vn!4Kp"

SEQUENTIAL_RUN = "密码不得包含4个及以上连续的字母或数字（如“1234”“abcd”“DCBA”）"
FORBIDDEN_CHARACTER = "密码不得包含以下字符：“%”"
WRONG_CREDENTIALS = "账号或密码错误"
LOCKED = re.compile(r"账号已被锁定，请于 (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) 后再试，或联系管理员解锁")


def log_in(page: Page, username, password):
    page.goto("/login")
    expect(page.get_by_role("heading", name="卫生健康基础资源与账号管理系统")).to_be_visible()
    page.get_by_label("账号", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()


def submit_password_change(page: Page, current, new, confirm=None):
    page.get_by_label("当前密码", exact=True).fill(current)
    page.get_by_label("新密码", exact=True).fill(new)
    page.get_by_label("确认新密码", exact=True).fill(new if confirm is None else confirm)
    page.get_by_role("button", name="确认修改").click()


def expect_forced_change_page(page: Page):
    expect(page).to_have_url(path_is("/password"))
    expect(page.get_by_role("heading", name="修改密码", exact=True)).to_be_visible()
    expect(page.get_by_text("首次登录须修改初始密码，修改后才能使用系统功能。")).to_be_visible()
    expect(page.get_by_role("navigation", name="主菜单")).to_have_count(0)   # no menu before the change


def expect_home(page: Page, username):
    expect(page).to_have_url(path_is("/"))
    expect(page.get_by_role("heading", name="工作台", exact=True)).to_be_visible()
    expect(page.locator("header.topbar .user-name")).to_contain_text(f"（{username}）")


def change_initial_password(page: Page, username, new_password):
    expect_forced_change_page(page)
    submit_password_change(page, DEMO_PASSWORD, new_password)
    expect(page.get_by_role("alert").filter(has_text="密码修改成功")).to_be_visible()
    expect_home(page, username)


def expect_lock_message(page: Page):
    """The locked message is shown on the login page; returns the end of the lock it announces (CST)."""
    expect(page).to_have_url(path_is("/login"))
    alert = page.get_by_role("alert").filter(has_text="账号已被锁定")
    expect(alert).to_have_text(LOCKED)
    expect(page.get_by_role("button", name="退出")).to_have_count(0)   # not logged in
    return datetime.strptime(LOCKED.search(alert.inner_text()).group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)


def test_first_login_lockout_unlock_and_login_again(page: Page, new_context):
    # 1. First login with the initial password: forced to the password-change page.
    log_in(page, ADMIN, DEMO_PASSWORD)
    expect_forced_change_page(page)
    # Other pages are closed until the password is changed.
    page.goto("/accounts/")
    expect_forced_change_page(page)

    # 2. A new password that breaks a rule: the violation list, still on the change form.
    submit_password_change(page, DEMO_PASSWORD, "Abcd@1234")
    expect(page).to_have_url(path_is("/password"))
    violations = page.locator("#password-violations")
    expect(violations).to_be_visible()
    expect(violations).to_contain_text("新密码不符合以下规则：")
    expect(violations.get_by_role("listitem")).to_have_text([SEQUENTIAL_RUN])
    expect(violations.locator("li[data-code=sequential_run]")).to_have_count(1)
    expect(page.get_by_role("button", name="确认修改")).to_be_visible()
    expect(page.get_by_role("navigation", name="主菜单")).to_have_count(0)
    page.screenshot(path=SCREENSHOT, full_page=True)

    submit_password_change(page, DEMO_PASSWORD, "Aa1%xyzQW")
    expect(page).to_have_url(path_is("/password"))
    expect(page.locator("#password-violations").get_by_role("listitem")).to_have_text([FORBIDDEN_CHARACTER])

    # 3. A good password: home page with the menu.
    submit_password_change(page, DEMO_PASSWORD, ADMIN_NEW_PASSWORD)
    expect(page.get_by_role("alert").filter(has_text="密码修改成功")).to_be_visible()
    expect_home(page, ADMIN)
    menu = page.get_by_role("navigation", name="主菜单")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("link", name="工作台")).to_be_visible()
    expect(menu.get_by_role("link", name="人员账号管理")).to_be_visible()

    # 4. Log out from the top bar.
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(path_is("/login"))
    expect(page.get_by_role("alert").filter(has_text="您已安全退出")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(path_is("/login"))   # the session is really over

    # 5. Five wrong passwords lock the account; the correct password is then refused too.
    for attempt in range(1, 5):
        log_in(page, ADMIN, f"Wrong#{attempt}pass")
        expect(page).to_have_url(path_is("/login"))
        expect(page.get_by_role("alert")).to_have_text(WRONG_CREDENTIALS)
    before = datetime.now(CST)
    log_in(page, ADMIN, "Wrong#5pass")
    until = expect_lock_message(page)
    lock_minutes = timedelta(minutes=30)
    assert before + lock_minutes - timedelta(minutes=1) <= until <= datetime.now(CST) + lock_minutes, until

    log_in(page, ADMIN, ADMIN_NEW_PASSWORD)
    assert expect_lock_message(page) == until   # a refused attempt does not move the end of the lock

    # 6. The system administrator (a second browser) unlocks the account from 人员账号管理.
    admin_page = new_context().new_page()
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    admin_page.on("dialog", accept)
    log_in(admin_page, SYSADMIN, DEMO_PASSWORD)
    change_initial_password(admin_page, SYSADMIN, SYSADMIN_NEW_PASSWORD)
    admin_page.get_by_role("navigation", name="主菜单").get_by_role("link", name="人员账号管理").click()
    expect(admin_page).to_have_url(path_is("/accounts/"))
    expect(admin_page.get_by_role("heading", name="人员账号管理")).to_be_visible()
    row = admin_page.locator("#accounts tbody tr[data-username=jaadmin01]")
    expect(row).to_contain_text("江岸区业务管理员")
    expect(row.locator(".tag")).to_have_text(["已锁定"])

    # The "仅看锁定" filter lists exactly the locked account.
    admin_page.get_by_label("仅看锁定").check()
    admin_page.get_by_role("button", name="查询").click()
    expect(admin_page.locator("#accounts tbody tr")).to_have_count(1)
    expect(admin_page.locator("#accounts tbody tr").first).to_have_attribute("data-username", ADMIN)

    row.get_by_role("link", name="管理").click()
    expect(admin_page.get_by_role("heading", name=f"账号：{ADMIN}")).to_be_visible()
    state = admin_page.locator("#lock-state")
    expect(state).to_have_text(re.compile(r"^已锁定（连续登录失败，至 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d）$"))
    expect(state).to_contain_text(until.strftime("%Y-%m-%d %H:%M:%S"))
    expect(admin_page.get_by_role("button", name="锁定", exact=True)).to_have_count(0)

    admin_page.get_by_role("button", name="解锁").click()
    expect(admin_page.get_by_role("alert").filter(has_text="账号已解锁")).to_be_visible()
    expect(admin_page.get_by_role("heading", name=f"账号：{ADMIN}")).to_be_visible()
    expect(state).to_have_text("正常")
    expect(admin_page.get_by_role("button", name="解锁")).to_have_count(0)
    expect(admin_page.get_by_role("button", name="锁定", exact=True)).to_be_visible()
    assert dialogs == []   # unlocking asks for no confirmation

    admin_page.get_by_role("link", name="返回账号列表").click()
    expect(admin_page.locator("#accounts tbody tr[data-username=jaadmin01] .tag")).to_have_text(["正常"])

    # 7. Back in the first browser: the new password works again.
    log_in(page, ADMIN, ADMIN_NEW_PASSWORD)
    expect_home(page, ADMIN)
    expect(page.get_by_role("navigation", name="主菜单").get_by_role("link", name="人员账号管理")).to_be_visible()


def test_unknown_account_gets_the_same_message_as_a_wrong_password(page: Page):
    log_in(page, "nosuchuser", "Whatever#1x")
    expect(page).to_have_url(path_is("/login"))
    expect(page.get_by_role("alert")).to_have_text(WRONG_CREDENTIALS)


def test_pages_need_a_login(page: Page):
    page.goto("/accounts/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Faccounts%2F$"))
    expect(page.get_by_role("alert")).to_have_text("请先登录")
    expect(page.get_by_role("navigation", name="主菜单")).to_have_count(0)


def test_wrong_current_password_is_refused_on_the_change_form(page: Page):
    log_in(page, "whadmin01", DEMO_PASSWORD)
    expect_forced_change_page(page)
    submit_password_change(page, "Not-the-1-password", "Gh#8Rt@3Zu")
    expect(page).to_have_url(path_is("/password"))
    expect(page.locator(".field.has-error .field-error")).to_have_text(["当前密码不正确"])
    expect(page.locator("#password-violations")).to_have_count(0)

    submit_password_change(page, DEMO_PASSWORD, "Gh#8Rt@3Zu", confirm="Gh#8Rt@3Zv")
    expect(page).to_have_url(path_is("/password"))
    expect(page.locator(".field.has-error .field-error")).to_have_text(["两次输入的新密码不一致"])


def test_login_inputs_show_no_placeholder_text(page: Page):
    page.goto("/login")
    for label in ("账号", "密码"):
        assert page.get_by_label(label, exact=True).get_attribute("placeholder") is None, label
