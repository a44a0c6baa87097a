"""实名认证 in a real browser: the hospital's master account, held at the real-name gate, fills in step 1 with a
valid resident ID and ID card photos, downloads the generated authorisation form, uploads the stamped scan and
submits; the district business admin claims the review in 审批中心 and approves it on the task page; the
hospital then reaches 工作台 and its menu.

Runs against the module's live server (a committed database of its own with the demo data).
"""
import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from models import Session
from models.accounts import User
from workflows.demo import DEMO_PASSWORD
from tests.browser.helpers import path_is, menu

pytestmark = pytest.mark.browser

APPLICANT = "jahosp001"      # master account of 测试医院 (江岸区), not real-name verified
REVIEWER = "jaadmin01"       # 江岸区 business admin, supervising admin of 测试医院
NAME, RESIDENT_ID, MOBILE = "张伟", "42010219800101001X", "13800138000"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
JPG = b"\xff\xd8\xff\xe0" + bytes(64)
SCREENSHOT = "/tmp/hgov-realname-wizard.png"


@pytest.fixture(scope="module", autouse=True)
def accounts_ready(live_app):
    """Both accounts past the first-login password change; the hospital account stays unverified."""
    with live_app.app_context():
        for account in Session().query(User).filter(User.username.in_([APPLICANT, REVIEWER])):
            account.password_change_reason = None
        Session.commit()
        Session.remove()


def log_in(page: Page, username):
    page.goto("/login")
    page.get_by_label("账号", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()


def flash(page: Page, text):
    return page.get_by_role("alert").filter(has_text=text)


def test_master_account_verified_end_to_end(page: Page, new_context, tmp_path):
    front, back, stamped = tmp_path / "身份证正面.png", tmp_path / "身份证反面.png", tmp_path / "盖章申请表.jpg"
    front.write_bytes(PNG)
    back.write_bytes(PNG)
    stamped.write_bytes(JPG)

    # 1. The unverified account lands on the wizard, without a menu.
    log_in(page, APPLICANT)
    expect(page).to_have_url(path_is("/realname"))
    expect(page.get_by_role("heading", name="实名认证", exact=True)).to_be_visible()
    expect(page.locator("#real-name-status")).to_have_text("待填写实名信息")
    expect(page.locator("#real-name-reviewer")).to_have_text("江岸区卫生健康局（主管部门业务管理员）")
    expect(menu(page)).to_have_count(0)

    # 2. Step 1: identity and the ID card photos, 保存.
    page.get_by_label("姓名", exact=True).fill(NAME)
    page.get_by_label("证件类别", exact=True).select_option(label="居民身份证")
    page.get_by_label("证件号码", exact=True).fill(RESIDENT_ID)
    page.get_by_label("手机号码", exact=True).fill(MOBILE)
    page.get_by_label("身份证正面", exact=True).set_input_files(front)
    page.get_by_label("身份证反面", exact=True).set_input_files(back)
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(path_is("/realname"))
    expect(flash(page, "实名信息已保存")).to_be_visible()
    expect(page.locator("#real-name-status")).to_have_text("待上传盖章申请表")
    expect(page.locator("#submitted-id-number")).to_have_text(RESIDENT_ID)

    # 3. Step 2: download the generated form; the unstamped form itself is refused as the scan.
    with page.expect_download() as download:
        page.get_by_role("link", name="下载《单位注册及人事管理账号授权申请表》（PDF）").click()
    assert download.value.suggested_filename == f"单位注册及人事管理账号授权申请表（{NAME}）.pdf"
    form_pdf = Path(download.value.path())
    text = "".join(subprocess.run(["pdftotext", str(form_pdf), "-"], capture_output=True, check=True)
                   .stdout.decode().split())
    for expected in (NAME, RESIDENT_ID, "测试医院", "12420102MB1234567T", "江岸区卫生健康局", "人事部门盖章"):
        assert expected in text, expected
    unstamped = tmp_path / "申请表.pdf"
    unstamped.write_bytes(form_pdf.read_bytes())
    page.get_by_label("盖章后的授权申请表", exact=True).set_input_files(unstamped)
    page.get_by_role("button", name="提交证明材料").click()
    expect(page.locator("#f-stamped_form-error")).to_contain_text("而不是系统生成的原始申请表")

    page.get_by_label("盖章后的授权申请表", exact=True).set_input_files(stamped)
    page.get_by_role("button", name="提交证明材料").click()
    expect(flash(page, "证明材料已提交，请等待审核")).to_be_visible()
    expect(page.locator("#real-name-status")).to_have_text("待审核")
    expect(page.locator("#real-name-waiting")).to_contain_text("江岸区卫生健康局")
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.goto("/")
    expect(page).to_have_url(path_is("/realname"))               # still gated while under review

    # 4. The reviewer claims it in 审批中心 (可认领) and approves it on the task page.
    admin = new_context().new_page()
    log_in(admin, REVIEWER)
    expect(admin.get_by_role("heading", name="工作台", exact=True)).to_be_visible()
    menu(admin).get_by_role("link", name=re.compile("^我的待办")).click()
    admin.get_by_role("navigation", name="任务视图").get_by_role("link", name=re.compile("^可认领")).click()
    row = admin.locator("#inbox tbody tr").filter(has_text=f"实名认证：测试医院（{APPLICANT}）")
    expect(row).to_have_count(1)
    expect(row.locator("td").first).to_have_text("实名认证审核")
    row.get_by_role("button", name="认领").click()
    expect(admin).to_have_url(re.compile(r"/tasks/\d+$"))
    expect(flash(admin, "已认领，请办理")).to_be_visible()
    extras = admin.locator("#real-name-task-extras")
    expect(extras.locator("#submitted-real-name")).to_have_text(NAME)
    expect(extras.locator("#submitted-id-number")).to_have_text(RESIDENT_ID)
    expect(extras.get_by_role("link", name="查看正面照片")).to_be_visible()
    expect(extras.get_by_role("link", name="查看反面照片")).to_be_visible()
    expect(extras.get_by_role("link", name="系统生成的申请表（PDF）")).to_be_visible()
    with admin.expect_download() as scan:
        extras.get_by_role("link", name="盖章后的申请表").click()
    assert Path(scan.value.path()).read_bytes() == JPG
    admin.get_by_role("radio", name="通过", exact=True).check()
    admin.get_by_role("button", name="提交", exact=True).click()
    expect(admin).to_have_url(re.compile(r"/instances/\d+$"))
    expect(admin.locator("#instance-status")).to_have_text("已办结")

    # 5. The hospital reaches 工作台 and its menu at the next request.
    page.goto("/")
    expect(page).to_have_url(path_is("/"))
    expect(page.get_by_role("heading", name="工作台", exact=True)).to_be_visible()
    expect(menu(page)).to_be_visible()
    expect(menu(page).get_by_role("link", name=re.compile("^我的待办"))).to_be_visible()
    expect(menu(page).get_by_role("link", name="实名认证审核")).to_be_visible()
    page.goto("/realname")
    expect(page.locator("#real-name-status")).to_have_text("已认证")
    expect(page.locator("#verified-identity")).to_contain_text("420102********001X")
