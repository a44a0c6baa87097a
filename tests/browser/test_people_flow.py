"""人员信息管理 in the browser: the master account of 测试医院 adds a person (★ fields, drop-downs), opens the
person page, uploads a photo, adds a 资格证书 with a JPG scan, and then finds the person in 常用报表 and on the
照片墙 of 人员信息查询, from where the card leads back to the person page.

Runs against the module's live server (a committed database of its own with the demo data).
"""
import re
import struct
import zlib

import pytest
from playwright.sync_api import Page, expect

from models import Session
from tests.browser.helpers import log_in, menu, path_is

pytestmark = pytest.mark.browser

MASTER = "jahosp001"
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)


def png(width=3, height=4):
    """A real (grey) PNG, so the browser can show it."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def flash(page: Page, text):
    return page.get_by_role("alert").filter(has_text=text)


def test_add_a_person_with_a_certificate_and_find_them_again(page: Page, ready):
    ready(MASTER, verified=True)
    Session.remove()    # end the fixture's transaction: the live server writes to the same database

    # 1. 人员信息管理 lists the three demo staff; 新增 shows the basic form with ★ and drop-downs.
    log_in(page, MASTER)
    menu(page).get_by_role("link", name="人员信息管理").click()
    expect(page.get_by_role("heading", name="人员信息管理", level=1)).to_be_visible()
    expect(page.locator("#staff tbody tr")).to_have_count(3)
    page.get_by_role("link", name="新增").click()
    expect(page.get_by_role("heading", name="新增人员")).to_be_visible()

    # 2. A missing required field is named; then the full record is saved.
    page.get_by_label("姓名", exact=True).fill("赵敏")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.get_by_text("请填写“证件号码”")).to_be_visible()
    page.get_by_label("证件号码").fill("42010619900101001X")
    page.get_by_label("性别").select_option("男性")
    page.get_by_label("出生日期").fill("1990-01-01")
    page.get_by_label("民族").select_option("汉族")
    page.get_by_label("所在部门").select_option("内科")
    page.get_by_label("岗位").select_option("医师")
    page.get_by_label("人员类别").select_option("卫生技术人员")
    page.get_by_label("在职状态").select_option("在岗")
    page.get_by_label("学历", exact=True).select_option("大学本科")
    page.get_by_label("所学专业").fill("临床医学")
    page.get_by_label("参加工作时间").fill("2012-07")
    page.get_by_label("专业技术资格").select_option("主治医师")
    page.get_by_label("手机号码").fill("13800138000")
    page.get_by_role("button", name="保存").click()

    # 3. The person page: basic information, no photo yet, the three detail sections.
    expect(page).to_have_url(re.compile(r"/personnel/staff/\d+$"))
    person_path = re.sub(r"^https?://[^/]+", "", page.url)
    expect(flash(page, "人员已新增")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("赵敏（P"))).to_be_visible()
    expect(page.locator("#basic-info")).to_contain_text("42010619900101001X")
    expect(page.locator("#photo")).to_contain_text("暂无照片")
    page.get_by_label("上传照片").set_input_files(files=[{"name": "zhao.png", "mimeType": "image/png",
                                                         "buffer": png()}])
    page.get_by_role("button", name="保存照片").click()
    expect(flash(page, "照片已更新")).to_be_visible()
    expect(page.get_by_alt_text("赵敏的照片")).to_be_visible()

    # 4. 资格证书 → 新增 with a JPG scan.
    page.get_by_role("link", name="新增资格证书").click()
    expect(page.get_by_role("heading", name="新增资格证书：赵敏")).to_be_visible()
    page.get_by_label("证书类型").select_option("医师资格证书")
    page.get_by_label("证书编号").fill("199042110420102")
    page.get_by_label("发证日期").fill("2013-06")
    page.get_by_label("附件").set_input_files(files=[{"name": "cert.jpg", "mimeType": "image/jpeg", "buffer": JPG}])
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(r"/personnel/staff/\d+#certificate$"))
    expect(flash(page, "资格证书已保存")).to_be_visible()
    rows = page.locator("#certificate-rows tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("199042110420102")
    expect(rows.get_by_role("link", name="查看附件")).to_be_visible()

    # 5. 常用报表: the roster lists the new person with title and mobile.
    menu(page).get_by_role("link", name="常用报表").click()
    roster_row = page.locator("#roster tbody tr").filter(has_text="赵敏")
    expect(roster_row.locator("td")).to_have_text(
        ["2", "内科", "赵敏", "男", "42010619900101001X", "主治医师", "", "", "13800138000", ""])

    # 6. 人员信息查询: the photo wall shows the photo; clicking the card opens the person page.
    menu(page).get_by_role("link", name="人员信息查询").click()
    expect(page.locator("#photo-wall li")).to_have_count(4)
    card = page.locator("#photo-wall li").filter(has_text="赵敏")
    expect(card).to_contain_text("内科 · 医师")
    expect(card.get_by_alt_text("赵敏的照片")).to_be_visible()
    card.get_by_role("link").click()
    expect(page).to_have_url(path_is(person_path))
    expect(page.locator("#certificate-rows")).to_contain_text("199042110420102")


def test_drop_scans_onto_rows_of_the_batch_upload(page: Page, ready, live_app):
    ready(MASTER, verified=True)
    with live_app.app_context():
        from tests.conftest import user
        from workflows import personnel
        master = user(MASTER)
        for who, number in (("42010219800101001X", "A-001"), ("420102198503150020", "A-002")):
            person = personnel.find_person(master.org, "resident_id", who)
            personnel.save_detail(master, master.org, personnel.CERTIFICATE,
                                  {"kind": "医师执业证书", "number": number, "issued_on": "2015-03"}, staff=person)
        Session.commit()
    Session.remove()

    log_in(page, MASTER)
    menu(page).get_by_role("link", name="附件批量导入").click()
    expect(page.get_by_role("heading", name="附件批量导入")).to_be_visible()
    expect(page.get_by_label("信息类别")).to_have_value("certificate")
    expect(page.get_by_label("上传状态")).to_have_value("missing")
    rows = page.locator("#attachment-rows tbody tr")
    expect(rows).to_have_count(2)

    # Drag a JPG onto 张伟's row: it is uploaded at once and the row leaves the 未上传 list.
    zhang = rows.filter(has_text="张伟")
    scan = page.evaluate_handle(
        "bytes => { const dt = new DataTransfer();"
        " dt.items.add(new File([new Uint8Array(bytes)], 'scan.jpg', {type: 'image/jpeg'})); return dt; }",
        list(JPG))
    zhang.locator("form[data-drop-upload]").dispatch_event("drop", {"dataTransfer": scan})
    expect(flash(page, "已上传张伟的资格证书附件")).to_be_visible()
    expect(rows).to_have_count(1)

    # Without dragging: the row's own file input; a PNG is refused (JPG only).
    li = rows.filter(has_text="李娜")
    li.get_by_label("李娜的附件文件").set_input_files(files=[{"name": "x.png", "mimeType": "image/png",
                                                          "buffer": png()}])
    li.get_by_role("button", name="上传").click()
    expect(flash(page, "李娜：只接受 JPG 文件")).to_be_visible()

    # 已上传 shows 张伟 with a thumbnail; 删除 (confirmed) brings the row back to 未上传.
    page.get_by_label("上传状态").select_option("uploaded")
    page.get_by_role("button", name="查询").click()
    uploaded = page.locator("#attachment-rows tbody tr").filter(has_text="张伟")
    expect(uploaded.get_by_alt_text("张伟的附件")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    uploaded.get_by_role("button", name="删除").click()
    expect(flash(page, "已删除张伟的资格证书附件")).to_be_visible()


def test_tags_trial_registration_and_statistics(page: Page, ready):
    ready(MASTER, verified=True)
    Session.remove()
    log_in(page, MASTER)

    # 人员标签管理: 新增 with two members, 封存 (confirmed), 解封, 导出.
    menu(page).get_by_role("link", name="人员标签管理").click()
    page.get_by_role("link", name="新增").click()
    page.get_by_label("标签名称").fill("医师资格实践技能考官库")
    page.get_by_label("创建年度").fill("2026")
    page.get_by_label("说明").fill("请各科室推荐")
    page.get_by_label(re.compile("张伟（JA0001")).check()
    page.get_by_label(re.compile("赵敏（P")).check()
    page.get_by_role("button", name="确定").click()
    expect(flash(page, "人员标签已保存")).to_be_visible()
    expect(page.locator("#tag-member-rows tbody tr")).to_have_count(2)
    page.get_by_role("link", name="返回人员标签列表").click()
    row = page.locator("#tags tbody tr").filter(has_text="医师资格实践技能考官库")
    expect(row.locator("td").nth(6)).to_have_text("使用中")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="封存").click()
    expect(row.locator("td").nth(6)).to_have_text("封存")
    expect(row.get_by_role("link", name="编辑")).to_have_count(0)
    with page.expect_download() as download:
        row.get_by_role("link", name="导出").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    row.get_by_role("button", name="解封").click()
    expect(row.locator("td").nth(6)).to_have_text("使用中")

    # 试用期填报: 赵敏 becomes 医师资格考试试用期考核人员 in the basic information, then is registered.
    menu(page).get_by_role("link", name="人员信息管理").click()
    page.locator("#staff tbody tr").filter(has_text="赵敏").get_by_role("link", name="编辑").click()
    page.get_by_label("在职状态").select_option("医师资格考试试用期考核人员")
    page.get_by_role("button", name="保存").click()
    expect(flash(page, "基本信息已保存")).to_be_visible()
    menu(page).get_by_role("link", name="试用期填报").click()
    trial = page.locator("#trial-staff tbody tr")
    expect(trial).to_have_count(1)
    expect(trial).to_contain_text("未填报")
    trial.get_by_role("link", name="填报").click()
    page.get_by_label("报考类别").select_option("临床")
    page.get_by_label("报考级别").select_option("执业医师")
    page.get_by_label("试用期开始日期").fill("2026-01-01")
    page.get_by_label("试用期结束日期").fill("2025-12-01")
    page.get_by_role("button", name="确定").click()
    expect(page.get_by_text("试用期结束日期不能早于开始日期")).to_be_visible()
    page.get_by_label("试用期结束日期").fill("2026-12-31")
    page.get_by_label("指导医师").fill("张伟")
    page.get_by_role("button", name="确定").click()
    expect(flash(page, "试用期填报已保存")).to_be_visible()
    expect(trial).to_contain_text("执业医师")

    # 常用统计: four tables with server-drawn bar charts.
    menu(page).get_by_role("link", name="常用统计").click()
    expect(page.locator("#stats-total")).to_have_text("4")
    expect(page.locator("svg.chart")).to_have_count(4)
    expect(page.locator("#table-department tbody tr").first.locator("td")).to_have_text(["内科", "2", "50.0%"])
    expect(page.locator("#chart-age rect.bar")).to_have_count(5)
    page.screenshot(path="/tmp/hgov-people-stats.png", full_page=True)
