"""The sample process 通用申请 end to end in two browsers: a hospital master account files a request with an
attachment, the district business admin claims it and sends it back for more detail, the hospital corrects it,
and the admin approves it. Checks the inbox views, the menu badge, form errors, the pre-filled resubmission,
the kept attachment, the timeline and the highlighted process diagram.

Runs against the module's live server (a committed database of its own with the demo data).
"""
import re

import pytest
from playwright.sync_api import Page, expect

from models import Session
from models.accounts import User
from workflows.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

APPLICANT = "jahosp001"      # master account of 测试医院 (江岸区)
REVIEWER = "jaadmin01"       # 江岸区 business admin, supervising admin of 测试医院
SCREENSHOT = "/tmp/hgov-approval-instance.png"

TITLE = "购置彩色多普勒超声诊断仪"
DESCRIPTION = "内科门诊现有超声设备已使用十年，故障频发，申请购置一台彩色多普勒超声诊断仪。"
DESCRIPTION_2 = DESCRIPTION + "预算约 85 万元，资金来源为医院自有资金，已经院长办公会研究同意。"
MOBILE = "13800138000"
OPINION = "请补充预算说明"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@pytest.fixture(scope="module", autouse=True)
def accounts_ready(live_app):
    """Both accounts past the first-login password change, and the hospital account real-name verified."""
    with live_app.app_context():
        for account in Session().query(User).filter(User.username.in_([APPLICANT, REVIEWER])):
            account.real_name_verified = True
            account.password_change_reason = None
        Session.commit()
        Session.remove()


def path_is(path):
    return re.compile(r"^https?://[^/]+" + re.escape(path) + r"(\?.*)?$")


def instance_url():
    return re.compile(r"^https?://[^/]+/instances/\d+$")


def log_in(page: Page, username):
    page.goto("/login")
    page.get_by_label("账号", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(path_is("/"))
    expect(page.locator("header.topbar .user-name")).to_contain_text(f"（{username}）")


def menu(page: Page):
    return page.get_by_role("navigation", name="主菜单")


def open_tab(page: Page, label):
    page.get_by_role("navigation", name="任务视图").get_by_role("link", name=re.compile(f"^{label}")).click()
    expect(page.get_by_role("navigation", name="任务视图").get_by_role("link", name=re.compile(f"^{label}"))) \
        .to_have_attribute("aria-current", "page")


def flash(page: Page, text):
    return page.get_by_role("alert").filter(has_text=text)


def field_error(page: Page, name):
    return page.locator(f"#f-{name}-error")


def test_request_rejected_corrected_and_approved(page: Page, new_context, tmp_path):
    attachment = tmp_path / "预算表.png"
    attachment.write_bytes(PNG)

    # 1. The hospital starts a 通用申请 from 我的申请.
    log_in(page, APPLICANT)
    menu(page).get_by_role("link", name="我的申请").click()
    expect(page.get_by_role("heading", name="审批中心")).to_be_visible()
    expect(page.locator("#inbox tbody")).to_contain_text("暂无申请")
    page.get_by_role("link", name="发起申请").click()
    expect(page.get_by_role("heading", name="发起申请")).to_be_visible()
    page.get_by_role("link", name="通用申请").click()
    expect(page.get_by_role("heading", name="通用申请")).to_be_visible()

    # 2. Forgetting 申请事项: the field error, and the other values are kept.
    page.get_by_label("申请说明").fill(DESCRIPTION)
    page.get_by_label("联系电话").fill(MOBILE)
    page.get_by_label("附件").set_input_files(attachment)
    page.get_by_role("button", name="提交申请").click()
    print(page.content())
