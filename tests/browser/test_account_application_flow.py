"""用户申请 in three browsers: the business admin of 江岸区卫生健康局 applies (附表1) for a new business admin of
its unit; the unit leader agrees on the task page; the city's business admin, as the superior admin, approves on
the decision page, sees the new account and its initial password once and downloads the receipt (附表2); the
applicant's page then shows the outcome. The new account logs in with the initial password and must change it.

Runs against the module's live server (a committed database of its own with the demo data).
"""
import re
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Page, expect
from stdnum.cn import ric

from models import Session
from models.accounts import User
from tests.browser.helpers import log_in, menu, path_is

pytestmark = pytest.mark.browser

APPLICANT = "jaadmin01"      # business admin of 江岸区卫生健康局
LEADER = "jaleader01"        # its unit leader
SUPERIOR = "whadmin01"       # business admin of 武汉市卫生健康委员会, above it
ID_NUMBER = "42010219880808001" + ric.calc_check_digit("42010219880808001" + "0")
TITLE = "用户申请：赵敏（业务管理员）"
CST = timezone(timedelta(hours=8))
NEW_PASSWORD = "Zm#7Lq@2Wv"
SCREENSHOT = "/tmp/hgov-account-application.png"


@pytest.fixture(scope="module", autouse=True)
def accounts_ready(live_app):
    with live_app.app_context():
        for account in Session().query(User).filter(User.username.in_([APPLICANT, LEADER, SUPERIOR])):
            account.real_name_verified = True
            account.password_change_reason = None
        Session.commit()
        Session.remove()


def flash(page: Page, text):
    return page.get_by_role("alert").filter(has_text=text)


def open_claimable(page: Page):
    page.goto("/inbox/?view=claimable")
    page.locator("#inbox tr", has_text=TITLE).get_by_role("link", name="查看").click()


def test_a_new_business_admin_is_applied_for_signed_approved_and_created(page: Page, new_context, tmp_path):
    today = datetime.now(CST).date()

    # 1. The applicant fills 附表1 from the menu.
    log_in(page, APPLICANT)
    menu(page).get_by_role("link", name="用户申请").click()
    expect(page.get_by_role("heading", name="用户申请", level=1)).to_be_visible()
    page.get_by_role("link", name="新增用户申请").click()
    expect(page.locator("#f-org")).to_contain_text("江岸区卫生健康局")
    page.get_by_label("申请人姓名").fill("赵敏")
    page.get_by_label("所在部门").fill("信息科")
    page.get_by_label("身份证号").fill(ID_NUMBER)
    page.get_by_label("手机").fill("13912345678")
    page.get_by_label("E-Mail").fill("zhaomin@example.cn")
    page.get_by_role("radio", name="女").check()                      # the ID number says male: refused
    page.get_by_role("radio", name="卫生行政部门").check()
    page.get_by_role("radio", name="否").check()
    page.get_by_role("radio", name="业务管理员").check()
    page.get_by_role("radio", name="系统管理").check()
    page.get_by_label("县级业务管理员").check()
    page.get_by_label("申请账号使用有效期（起）").fill(today.isoformat())
    page.get_by_label("申请账号使用有效期（止）").fill((today + timedelta(days=730)).isoformat())
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#f-gender-error")).to_contain_text("性别与身份证号码不符")
    expect(page.get_by_label("申请人姓名")).to_have_value("赵敏")          # the values stay
    page.get_by_role("radio", name="男").check()
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(re.compile(r"/account-applications/\d+$"))
    detail_path = re.sub(r"^https?://[^/]+", "", page.url)
    expect(flash(page, "用户申请已提交")).to_be_visible()
    expect(page.locator("#application-status")).to_have_text("待单位主管领导审批")

    # 2. The unit leader agrees on the task page, which shows the application.
    leader = new_context().new_page()
    log_in(leader, LEADER)
    open_claimable(leader)
    expect(leader.locator("#account-application #app-name")).to_have_text("赵敏")
    leader.get_by_role("button", name="认领任务").click()
    leader.get_by_role("radio", name="同意").check()
    leader.get_by_role("button", name="提交", exact=True).click()
    expect(flash(leader, "已提交")).to_be_visible()

    # 3. The superior admin approves: the account is created and its initial password shown once.
    city = new_context().new_page()
    log_in(city, SUPERIOR)
    open_claimable(city)
    expect(city).to_have_url(re.compile(r"/account-applications/tasks/\d+/decide$"))
    expect(city.locator("#app-id-number")).to_have_text(ID_NUMBER)
    city.get_by_role("radio", name="批准", exact=True).check()
    city.get_by_role("button", name="提交", exact=True).click()
    expect(city.get_by_role("heading", name="申请已批准，账号已创建")).to_be_visible()
    expect(city.locator("#account-username")).to_have_text("gly-ja-zhaomin")
    password = city.locator("#one-time-password").inner_text()
    assert len(password) >= 8
    with city.expect_download() as download:
        city.locator("#receipt-link").click()
    receipt = tmp_path / "receipt.pdf"
    download.value.save_as(receipt)
    text = "".join(subprocess.run(["pdftotext", "-layout", str(receipt), "-"], capture_output=True,
                                  check=True).stdout.decode().split())
    assert "用户申请回执" in text and "用户账号名gly-ja-zhaomin" in text and "■批准" in text
    assert "初始密码由业务管理员单独告知用户本人" in text and password not in text

    # 4. The applicant's page shows the outcome, never the password.
    page.goto(detail_path)
    expect(page.locator("#application-status")).to_have_text("已批准")
    expect(page.locator("#app-account")).to_have_text("gly-ja-zhaomin")
    expect(page.locator("#app-decision")).to_contain_text("批准")
    expect(page.locator("#timeline li[data-kind=account_created]")).to_contain_text("创建账号并授予角色")
    expect(page.get_by_text(password)).to_have_count(0)
    page.screenshot(path=SCREENSHOT, full_page=True)

    # 5. The new account logs in with the initial password and must change it first.
    newcomer = new_context().new_page()
    newcomer.goto("/login")
    newcomer.get_by_label("账号", exact=True).fill("gly-ja-zhaomin")
    newcomer.get_by_label("密码", exact=True).fill(password)
    newcomer.get_by_role("button", name="登录").click()
    expect(newcomer).to_have_url(path_is("/password"))
    newcomer.get_by_label("当前密码", exact=True).fill(password)
    newcomer.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    newcomer.get_by_label("确认新密码", exact=True).fill(NEW_PASSWORD)
    newcomer.get_by_role("button", name="确认修改").click()
    expect(newcomer).to_have_url(re.compile(r"/realname"))             # the real-name gate comes next
