"""业务管理员交接 in four browsers: the district business admin reports the handover to the city admins, names the
successor and both tick the checklist on their task pages; the unit leader signs; the city admin approves. The old
admin is thrown out and locked, the successor signs in again as the business admin, and the handover page links
the archived written report.

Runs against the module's live server (a committed database of its own with the demo data).
"""
import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Page, expect

from models import Session
from models.accounts import Role, User, UserType
from tests.browser.helpers import log_in, menu, path_is
from workflows import accounts, auth
from workflows.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

OUTGOING, SUCCESSOR, LEADER, SUPERIOR = "jaadmin01", "bj-ja-jieren", "jaleader01", "whadmin01"
REASON = "原业务管理员调任区卫健局办公室"
TITLE = "业务管理员交接：江岸区业务管理员 → 接任人甲"
CST = timezone(timedelta(hours=8))
SCREENSHOT = "/tmp/hgov-admin-handover.png"


@pytest.fixture(scope="module", autouse=True)
def accounts_ready(live_app):
    with live_app.app_context():
        for account in Session().query(User).filter(User.username.in_([OUTGOING, LEADER, SUPERIOR])):
            account.real_name_verified = True
            account.password_change_reason = None
        admin = Session().query(User).filter_by(username="sysadmin01").one()
        org_id = Session().query(User).filter_by(username=OUTGOING).one().org_id
        role = Session().query(Role).filter_by(code="same_level_2").one()
        user, _ = accounts.create_user(admin, user_type=UserType.SAME_LEVEL_2, org_id=org_id, display_name="接任人甲",
                                       username=SUCCESSOR, role_ids=[role.id])
        auth.set_password(user, DEMO_PASSWORD)
        user.real_name_verified = True
        Session.commit()
        Session.remove()


def flash(page: Page, text):
    return page.get_by_role("alert").filter(has_text=text)


def tick_checklist(page: Page, note_field=None, note=None):
    for item in ("账号信息", "密码", "用户信息", "文档"):
        page.get_by_label(item, exact=True).check()
    if note_field:
        page.get_by_label(note_field).fill(note)
    page.get_by_role("radio", name="核对无误，确认交接").check()
    page.get_by_role("button", name="提交", exact=True).click()
    expect(flash(page, "已提交")).to_be_visible()


def open_from_inbox(page: Page, view, step):
    page.goto(f"/inbox/?view={view}")
    row = page.locator("#inbox tr", has_text=step)
    if view == "claimable":
        row.get_by_role("button", name="认领").click()
        page.goto("/inbox/?view=assigned")
        row = page.locator("#inbox tr", has_text=step)
    row.get_by_role("link", name="办理").click()
    expect(page.get_by_role("heading", name=f"{step}：{TITLE}")).to_be_visible()
    expect(page.locator("#admin-handover #handover-successor")).to_contain_text(SUCCESSOR)


def test_the_handover_from_report_to_archived_report(page: Page, new_context):
    # 1. The district admin reports the handover from the menu.
    log_in(page, OUTGOING)
    menu(page).get_by_role("link", name="业务管理员交接").click()
    expect(page.get_by_role("heading", name="业务管理员交接", level=1)).to_be_visible()
    page.get_by_role("link", name="发起交接").click()
    page.get_by_label("接任人").select_option(label=f"接任人甲（{SUCCESSOR}，本级用户2）")
    page.get_by_label("交接原因").fill(REASON)
    page.get_by_label("计划交接日期").fill((datetime.now(CST) + timedelta(days=2)).strftime("%Y-%m-%d"))
    page.get_by_role("button", name="报告上级业务管理员").click()
    expect(page).to_have_url(re.compile(r"/handovers/\d+$"))
    handover_path = re.sub(r"^https?://[^/]+", "", page.url)
    expect(flash(page, "已报告上级业务管理员")).to_be_visible()
    expect(page.locator("#handover-status")).to_have_text("审批中")
    expect(page.locator("#timeline li[data-kind=handover_reported]")).to_contain_text("报告上级业务管理员")

    # 2. The successor, in its own browser, finds the named task in 我的待办 and confirms the checklist.
    successor = new_context().new_page()
    log_in(successor, SUCCESSOR)
    open_from_inbox(successor, "assigned", "接任业务管理员核对交接清单")
    successor.get_by_role("radio", name="核对无误，确认交接").check()
    successor.get_by_role("button", name="提交", exact=True).click()             # nothing ticked yet
    expect(successor.locator("#f-documents-error")).to_have_text("请勾选“文档”")
    tick_checklist(successor, "文档备注", "用户申请表及回执共12份")

    # 3. The outgoing admin confirms its side from the handover page.
    page.goto(handover_path)
    expect(page.locator("#handover-incoming-state")).to_contain_text("核对无误")
    page.get_by_role("link", name="办理「原业务管理员核对交接清单」").click()
    tick_checklist(page)

    # 4. The unit leader signs.
    leader = new_context().new_page()
    log_in(leader, LEADER)
    open_from_inbox(leader, "claimable", "单位负责人签字确认")
    leader.get_by_role("radio", name="同意交接").check()
    leader.get_by_role("button", name="提交", exact=True).click()
    expect(flash(leader, "已提交")).to_be_visible()

    # 5. The city admin approves; the written report is archived.
    superior = new_context().new_page()
    log_in(superior, SUPERIOR)
    open_from_inbox(superior, "claimable", "上级业务管理员审批")
    expect(superior.locator("#approval-notice")).to_contain_text(f"{OUTGOING} 的业务管理员角色将被取消")
    superior.get_by_role("radio", name="批准").check()
    superior.get_by_label("审批意见").fill("同意交接，按期完成")
    superior.get_by_role("button", name="提交", exact=True).click()
    expect(superior.locator("#instance-status")).to_have_text("已办结")
    diagram = superior.locator("#diagram svg")
    for done in ("report", "start_check", "confirm_outgoing", "confirm_incoming", "leader_signoff",
                 "superior_approval", "apply", "done_end"):
        expect(diagram.locator(f"#shape-{done}")).to_have_class(re.compile(r"\bcompleted\b"))
    superior.goto(handover_path)
    expect(superior.locator("#handover-status")).to_have_text("已完成交接")
    expect(superior.locator("#handover-outgoing")).to_contain_text("已停用")
    expect(superior.locator("#handover-successor")).to_contain_text("已启用为业务管理员")
    expect(superior.locator("#handover-checklist tr[data-item=documents]")).to_contain_text("用户申请表及回执共12份")
    expect(superior.locator("#handover-report")).to_contain_text("业务管理员交接报告")
    expect(superior.locator("#handover-approval")).to_contain_text(SUPERIOR)
    superior.screenshot(path=SCREENSHOT, full_page=True)

    # 6. The old admin is out and locked; the successor signs in again and now holds the admin menu.
    page.reload()
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("账号", exact=True).fill(OUTGOING)
    page.get_by_label("密码", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(flash(page, "账号已被锁定")).to_be_visible()
    successor.reload()
    expect(successor).to_have_url(re.compile(r"/login"))
    log_in(successor, SUCCESSOR)
    expect(menu(successor).get_by_role("link", name="业务管理员交接")).to_be_visible()
    expect(menu(successor).get_by_role("link", name="人员账号管理")).to_be_visible()
    expect(successor).to_have_url(path_is("/"))
