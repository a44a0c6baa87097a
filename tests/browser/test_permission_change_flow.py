"""权限变更申请 in three browsers: the county business admin asks, from its menu, for 本级用户1(数据质控员) for
temporary use; its unit leader claims the request, sees 附表4 (the roles held and asked for side by side) and
agrees; the city business admin claims it, sees the leader's opinion and grants; the county admin's page then
shows the temporary role, and the request its opinions and the printed form.

Runs against the module's live server (a committed database of its own with the demo data).
"""
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import log_in, menu, path_is, ready_accounts

pytestmark = pytest.mark.browser

APPLICANT = "jaadmin01"      # county business admin of 江岸区卫生健康局
LEADER = "jaleader01"        # unit leader of 江岸区卫生健康局
SUPERIOR = "whadmin01"       # city business admin above it
ROLE = "本级用户1(数据质控员)"
TITLE = "权限变更申请：江岸区业务管理员（jaadmin01）"
REASON = "临时承担本区上报数据的质控核查工作"
SCREENSHOT = "/tmp/hgov-permission-change.png"


@pytest.fixture(scope="module", autouse=True)
def accounts_ready(live_app):
    ready_accounts(live_app, APPLICANT, LEADER, SUPERIOR)


def claim(page: Page, step):
    """Claim the request from the inbox; the task page of this process opens with 附表4."""
    page.goto("/inbox/?view=claimable")
    row = page.locator("#inbox tbody tr").filter(has_text=TITLE)
    expect(row).to_have_count(1)
    row.get_by_role("button", name="认领").click()
    expect(page.get_by_role("heading", name=f"{step}：{TITLE}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/permission-changes/tasks/\d+$"))
    expect(page.locator("#role-compare tr[data-state=added]")).to_have_attribute("data-role", ROLE)
    expect(page.locator("#change-reason")).to_have_text(REASON)


def reviewer(new_context, username, step):
    """A browser of its own for ``username``, on the claimed request."""
    page = new_context().new_page()
    log_in(page, username)
    claim(page, step)
    return page


def decide(page: Page, decision, opinion, done):
    page.get_by_role("radio", name=decision).check()
    page.get_by_label("审批意见").fill(opinion)
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text=done)).to_be_visible()


def test_a_temporary_role_is_asked_for_agreed_and_granted(page: Page, new_context):
    # 1. The county admin fills in 权限变更申请表: its role stays checked, it adds 本级用户1 until a date.
    log_in(page, APPLICANT)
    menu(page).get_by_role("link", name="权限变更申请").click()
    expect(page.get_by_role("heading", name="权限变更申请", level=1)).to_be_visible()
    expect(page.locator("#current-roles")).to_have_text("县级业务管理员")
    page.get_by_role("link", name="申请权限变更").click()
    expect(page).to_have_url(path_is("/permission-changes/new"))
    expect(page.get_by_label("县级业务管理员")).to_be_checked()
    expect(page.get_by_label(ROLE)).not_to_be_checked()
    page.get_by_label(ROLE).check()
    page.get_by_label("变更原因").fill(REASON)
    page.get_by_label("临时使用截止日期").fill("2099-06-30")
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    instance_path = re.sub(r"^https?://[^/]+", "", page.url)
    expect(page.get_by_role("alert").filter(has_text="权限变更申请已提交")).to_be_visible()
    expect(page.locator("#instance-status")).to_have_text("审批中")
    expect(page.get_by_text("当前步骤：单位主管领导审批（")).to_be_visible()

    # 2. The unit leader agrees.
    leader = reviewer(new_context, LEADER, "单位主管领导审批")
    expect(leader.locator("#change-validity")).to_contain_text("使用至 2099-06-30")
    decide(leader, "同意", "同意临时承担质控工作", "已同意")

    # 3. The city admin sees the leader's opinion and grants.
    admin = reviewer(new_context, SUPERIOR, "上级业务管理员审批授权")
    expect(admin.locator("#leader-opinion")).to_contain_text("同意临时承担质控工作")
    decide(admin, "批准", "准予临时使用", "已批准")
    expect(admin.locator("#instance-status")).to_have_text("已办结")

    # 4. The county admin: the role at once (no new login), temporary; the opinions and the printed form.
    page.goto("/permission-changes/")
    expect(page.locator("#current-roles li").filter(has_text=ROLE)).to_contain_text("到期收回")
    page.goto(instance_path)
    timeline = page.locator("#timeline")
    expect(timeline.locator("li[data-kind=task_completed]").filter(has_text="同意临时承担质控工作")).to_have_count(1)
    expect(timeline.locator("li[data-kind=task_completed]").filter(has_text="准予临时使用")).to_have_count(1)
    expect(timeline.locator("li[data-kind=permission_changed]")).to_contain_text(f"新增角色：{ROLE}")
    expect(page.get_by_role("link", name=re.compile(r"^权限变更申请表（江岸区业务管理员"))).to_be_visible()
    page.screenshot(path=SCREENSHOT, full_page=True)
