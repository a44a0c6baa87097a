"""The sample process 通用申请 end to end in two browsers: a hospital master account files a request with an
attachment, the district business admin claims it and sends it back for more detail, the hospital corrects it,
and the admin approves it. Checks the inbox views, the menu badge, form errors, the pre-filled resubmission,
the kept attachment, the timeline and the highlighted process diagram.

Runs against the module's live server (a committed database of its own with the demo data).
"""
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from models import Session
from models.accounts import User
from tests.browser.helpers import path_is, log_in, menu

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


def instance_url():
    return re.compile(r"^https?://[^/]+/instances/\d+$")


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
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(path_is("/processes/generic_request/start"))
    expect(flash(page, "表单填写有误，请检查标红的项目")).to_be_visible()
    expect(field_error(page, "title")).to_have_text("请填写“申请事项”")
    expect(page.get_by_label("申请事项")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field.has-error")).to_have_count(1)
    expect(page.get_by_label("申请说明")).to_have_value(DESCRIPTION)
    expect(page.get_by_label("联系电话")).to_have_value(MOBILE)

    # 3. Complete and submit: the instance page, waiting for review.
    page.get_by_label("申请事项").fill(TITLE)
    page.get_by_label("附件").set_input_files(attachment)
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(instance_url())
    instance_path = re.sub(r"^https?://[^/]+", "", page.url)
    expect(flash(page, "申请已提交")).to_be_visible()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(page.locator("#instance-status")).to_have_text("审批中")
    expect(page.get_by_text("当前步骤：审核（")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^办理"))).to_have_count(0)   # nothing for the applicant now
    diagram = page.locator("#diagram svg")
    expect(diagram).to_be_visible()
    expect(diagram.locator("#shape-review")).to_have_class(re.compile(r"\bcurrent\b"))
    expect(diagram.locator("#shape-submit")).to_have_class(re.compile(r"\bcompleted\b"))
    expect(diagram.locator(".current")).to_have_count(1)
    expect(page.get_by_role("link", name=attachment.name)).to_be_visible()

    # 4. The reviewer (a second browser): the menu badge, then 可认领 in 审批中心.
    admin = new_context().new_page()
    log_in(admin, REVIEWER)
    todo = menu(admin).get_by_role("link", name=re.compile("^我的待办"))
    expect(todo.locator(".badge")).to_have_text("1")
    todo.click()
    expect(admin.get_by_role("heading", name="审批中心")).to_be_visible()
    expect(admin.locator("#inbox tbody")).to_contain_text("暂无任务")    # nothing assigned yet
    open_tab(admin, "可认领")
    row = admin.locator("#inbox tbody tr").filter(has_text=TITLE)
    expect(row).to_have_count(1)
    expect(row.locator("td")).to_have_text(["审核", TITLE, "测试医院", "主管部门业务管理员",
                                            re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$"), re.compile("认领")])
    row.get_by_role("button", name="认领").click()

    # 5. The task page: what was asked, the attachment, and the review form.
    expect(admin).to_have_url(re.compile(r"/tasks/\d+$"))
    expect(flash(admin, "已认领，请办理")).to_be_visible()
    expect(admin.get_by_role("heading", name=f"审核：{TITLE}")).to_be_visible()
    summary = admin.locator("#request-summary")
    expect(summary).to_contain_text("申请事项" + TITLE)
    expect(summary).to_contain_text("申请说明" + DESCRIPTION)
    expect(summary).to_contain_text("联系电话" + MOBILE)
    file_link = admin.get_by_role("link", name=attachment.name)
    expect(file_link).to_be_visible()
    with admin.expect_download() as download:
        file_link.click()
    assert download.value.suggested_filename == attachment.name
    assert Path(download.value.path()).read_bytes() == PNG

    # Rejecting needs an explanation.
    admin.get_by_role("radio", name="退回修改").check()
    admin.get_by_role("button", name="提交", exact=True).click()
    expect(flash(admin, "表单填写有误，请检查标红的项目")).to_be_visible()
    expect(field_error(admin, "comment")).to_have_text("请填写“审核说明”")
    expect(admin.get_by_role("radio", name="退回修改")).to_be_checked()
    admin.get_by_label("审核说明").fill(OPINION)
    admin.get_by_role("button", name="提交", exact=True).click()
    expect(admin).to_have_url(path_is(instance_path))
    expect(flash(admin, "已提交")).to_be_visible()
    expect(admin.locator("#instance-status")).to_have_text("审批中")
    expect(admin.locator("#diagram svg #shape-submit")).to_have_class(re.compile(r"\bcurrent\b"))

    # 6. Back to the hospital: 我的待办 holds 填写申请 again, pre-filled, with the reviewer's opinion.
    page.goto("/")
    todo = menu(page).get_by_role("link", name=re.compile("^我的待办"))
    expect(todo.locator(".badge")).to_have_text("1")
    todo.click()
    row = page.locator("#inbox tbody tr").filter(has_text=TITLE)
    expect(row).to_have_count(1)
    expect(row.locator("td").first).to_have_text("填写申请")
    row.get_by_role("link", name="办理").click()
    expect(page.get_by_role("heading", name=f"填写申请：{TITLE}")).to_be_visible()
    expect(page.get_by_label("申请事项")).to_have_value(TITLE)
    expect(page.get_by_label("申请说明")).to_have_value(DESCRIPTION)
    expect(page.get_by_label("联系电话")).to_have_value(MOBILE)
    expect(page.get_by_role("link", name="已上传的附件")).to_be_visible()
    rejection = page.locator("#timeline li").filter(has_text=OPINION)
    expect(rejection).to_have_count(1)
    expect(rejection).to_contain_text(REVIEWER)
    expect(rejection.locator(".tag")).to_have_text("退回修改")
    expect(rejection.locator(".opinion")).to_have_text(f"意见：{OPINION}")

    page.get_by_label("申请说明").fill(DESCRIPTION_2)
    page.get_by_role("button", name="提交", exact=True).click()   # no new file chosen: the first one is kept
    expect(page).to_have_url(path_is(instance_path))
    expect(flash(page, "已提交")).to_be_visible()
    expect(page.locator("#instance-status")).to_have_text("审批中")

    # 7. The reviewer claims the corrected request and approves it.
    admin.goto("/inbox/?view=claimable")
    row = admin.locator("#inbox tbody tr").filter(has_text=TITLE)
    expect(row).to_have_count(1)
    row.get_by_role("button", name="认领").click()
    expect(admin.get_by_role("heading", name=f"审核：{TITLE}")).to_be_visible()
    expect(admin.locator("#request-summary")).to_contain_text("申请说明" + DESCRIPTION_2)
    # The corrected request still refers to the file uploaded the first time.
    expect(admin.locator("#request-summary dt")).to_have_text(["申请事项", "申请说明", "联系电话", "附件"])
    expect(admin.get_by_role("link", name=attachment.name)).to_be_visible()
    # What the second review form shows before the reviewer touches it (checked at the end of the story).
    second_form = {"decision": admin.locator("[name=decision]:checked").evaluate_all("els => els.map(e => e.value)"),
                   "comment": admin.get_by_label("审核说明").input_value()}
    admin.get_by_role("radio", name="通过").check()
    admin.get_by_role("button", name="提交", exact=True).click()
    expect(admin).to_have_url(path_is(instance_path))
    expect(admin.locator("#instance-status")).to_have_text("已办结")
    menu(admin).get_by_role("link", name=re.compile("^我的待办")).click()
    expect(menu(admin).get_by_role("link", name=re.compile("^我的待办")).locator(".badge")).to_have_count(0)
    open_tab(admin, "已办")
    done = admin.locator("#inbox tbody tr")
    expect(done).to_have_count(2)
    expect(done.locator("td:first-child")).to_have_text(["审核", "审核"])
    expect(done.locator("td:nth-child(2)")).to_have_text([TITLE, TITLE])

    # 8. The hospital: 我的申请 shows it closed; the instance page tells the whole story.
    page.goto("/")
    menu(page).get_by_role("link", name="我的申请").click()
    row = page.locator("#inbox tbody tr").filter(has_text=TITLE)
    expect(row).to_have_count(1)
    expect(row.locator(".tag")).to_have_text("已办结")
    expect(menu(page).get_by_role("link", name=re.compile("^我的待办")).locator(".badge")).to_have_count(0)
    row.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(path_is(instance_path))
    expect(page.locator("#instance-status")).to_have_text("已办结")
    expect(page.get_by_text("当前步骤：")).to_have_count(0)
    reviews = page.locator("#timeline li").filter(has_text="「审核」").filter(has=page.locator(".tag"))
    expect(reviews).to_have_count(2)
    expect(reviews.locator(".tag")).to_have_text(["退回修改", "通过"])
    expect(reviews.nth(0).locator(".opinion")).to_have_text(f"意见：{OPINION}")
    diagram = page.locator("#diagram svg")
    expect(diagram.locator("#shape-approved_end")).to_have_class(re.compile(r"\bcompleted\b"))
    expect(diagram.locator("#shape-review")).to_have_class(re.compile(r"\bcompleted\b"))
    expect(diagram.locator("#shape-submit")).to_have_class(re.compile(r"\bcompleted\b"))
    expect(diagram.locator(".current")).to_have_count(0)
    expect(page.get_by_role("link", name=attachment.name)).to_have_count(1)   # still the one file
    page.screenshot(path=SCREENSHOT, full_page=True)

    # A new review round starts from a blank review form: the reviewer who only chose 通过 gave no opinion,
    # so the previous round's decision and opinion must neither be pre-selected nor recorded with the approval.
    assert second_form == {"decision": [], "comment": ""}
    expect(reviews.nth(1).locator(".opinion")).to_have_count(0)


def test_a_file_chosen_before_a_form_error_is_kept(page: Page, tmp_path):
    """The start form shown again after an error says the chosen file is already uploaded (a file input cannot
    be refilled): the file must really be kept, downloadable from that link and part of the request submitted
    without choosing it again."""
    attachment = tmp_path / "床位申请.png"
    attachment.write_bytes(PNG)
    log_in(page, APPLICANT)
    page.goto("/processes/generic_request/start")
    page.get_by_label("申请说明").fill("增设康复医学科床位 20 张。")
    page.get_by_label("附件").set_input_files(attachment)
    page.get_by_role("button", name="提交申请").click()
    expect(field_error(page, "title")).to_have_text("请填写“申请事项”")

    kept = page.get_by_role("link", name="已上传的附件")
    expect(kept).to_be_visible()
    response = page.request.get(kept.get_attribute("href"))
    assert response.status == 200, f"{kept.get_attribute('href')} answers {response.status}"
    assert response.body() == PNG

    page.get_by_label("申请事项").fill("增设康复医学科床位")
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(instance_url())
    expect(page.get_by_role("link", name=attachment.name)).to_be_visible()
