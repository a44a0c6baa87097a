"""人员信息管理, 附件批量导入, 人员标签管理, 试用期填报, 照片墙 and 统计分析 over HTTP, and the staff JSON API:
pages, uploads, exports, and the refusals (function points, other institutions: 404, never their ID numbers).

Requests end by removing the session, so tests keep ids, never ORM objects, across requests.
"""
import re
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import Session
from models.orgs import Staff
from tests.workflows.test_personnel import LIU_ID, NEW_ID, ZHANG_ID, person
from tests.web.test_resignation_http import login
from tests.workflows.test_resignation import member

JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def people(ready):
    ready("jahosp001", "wchosp001", "sysadmin01", verified=True)
    member("jaview001", "hr.query")                    # 人员信息查询 only
    member("jaclerk01", "hr.staff")                    # 人员信息管理, read only
    Session.commit()


def staff_id(staff_no):
    Session.remove()
    return Session().scalars(select(Staff.id).where(Staff.staff_no == staff_no)).one()


def text(response):
    return response.get_data(as_text=True)


def new_person(client, **overrides):
    response = client.post("/personnel/staff/new", data=person(**overrides))
    assert response.status_code == 303, text(response)
    return int(re.search(r"/personnel/staff/(\d+)$", response.headers["Location"]).group(1))


def fetch(client, url):
    response = client.get(url)
    body = response.get_data()
    response.close()
    return response, body


# --- 人员信息管理 ----------------------------------------------------------------------------------------------

def test_the_list_searches_and_filters(client, people):
    login(client, "jahosp001")
    home = text(client.get("/"))
    for label in ("人员信息管理", "试用期填报", "附件批量导入", "人员标签管理", "人员信息查询", "常用统计", "常用报表"):
        assert label in home, label
    listing = text(client.get("/personnel/staff/"))
    assert "机构人力资源 / 个人信息维护 / 人员信息管理" in listing and "共 3 人" in listing
    assert all(n in listing for n in ("张伟", "李娜", "王强")) and "刘洋" not in listing
    assert "共 1 人" in text(client.get("/personnel/staff/?q=李"))
    by_id = text(client.get(f"/personnel/staff/?q={ZHANG_ID}"))
    assert "张伟" in by_id and "李娜" not in by_id
    assert "共 0 人" in text(client.get(f"/personnel/staff/?q={LIU_ID}"))
    surgery = Session().scalars(select(Staff.department_id).where(Staff.staff_no == "JA0002")).one()
    assert "共 1 人" in text(client.get(f"/personnel/staff/?department_id={surgery}"))
    assert "共 0 人" in text(client.get("/personnel/staff/?status=left"))


def test_single_entry_with_stars_drop_downs_and_messages(client, people):
    login(client, "jahosp001")
    form = text(client.get("/personnel/staff/new"))
    assert 'for="f-name">姓名</label><span class="req" title="必填">★</span>' in form
    assert '<option value="男性">男性</option>' in form and '<option value="内科">内科</option>' in form
    assert '<option value="儿科">' not in form          # 武昌测试医院's department
    bad = client.post("/personnel/staff/new", data=person(gender="", mobile="123", department="神经内科"))
    assert bad.status_code == 422
    page = text(bad)
    assert "请填写“性别”" in page and "手机号码" in page and "本机构没有名为“神经内科”的部门" in page
    elsewhere = client.post("/personnel/staff/new", data=person(name="刘洋", id_number=LIU_ID,
                                                                 birth_date="1990-07-20"))
    assert elsewhere.status_code == 422
    assert "武昌测试医院" not in text(elsewhere)
    assert re.search(r'id="form-errors">同一证件号码只能在一个机构登记为在职人员', text(elsewhere))
    sid = new_person(client)
    page = text(client.get(f"/personnel/staff/{sid}"))
    assert "赵敏" in page and NEW_ID in page and "工作经历" in page and "学历学位" in page and "资格证书" in page
    assert "暂无照片" in page
    edited = client.post(f"/personnel/staff/{sid}/edit", data=person(mobile="13900139000"))
    assert edited.status_code == 303
    assert "13900139000" in text(client.get(f"/personnel/staff/{sid}"))


def test_detail_rows_with_an_attachment(client, people):
    login(client, "jahosp001")
    sid = staff_id("JA0001")
    form = text(client.get(f"/personnel/staff/{sid}/certificate/new"))
    assert "证书类型" in form and 'type="file" name="attachment"' in form
    refused = client.post(f"/personnel/staff/{sid}/certificate/new", data={
        "kind": "医师资格证书", "number": "Q1", "issued_on": "2010-06",
        "attachment": (BytesIO(b"GIF89a" + bytes(10)), "x.gif")}, content_type="multipart/form-data")
    assert refused.status_code == 422 and "只接受 JPG 或 PNG 文件" in text(refused)
    saved = client.post(f"/personnel/staff/{sid}/certificate/new", data={
        "kind": "医师资格证书", "number": "Q1", "issued_on": "2010-06",
        "attachment": (BytesIO(JPG), "cert.jpg")}, content_type="multipart/form-data")
    assert saved.status_code == 303 and saved.headers["Location"].endswith(f"/personnel/staff/{sid}#certificate")
    page = text(client.get(f"/personnel/staff/{sid}"))
    assert "Q1" in page and "2010-06-01" in page and "查看附件" in page
    file_url = re.search(r'href="(/personnel/files/\d+)"', page).group(1)
    response, body = fetch(client, file_url)
    assert response.status_code == 200 and body == JPG and response.mimetype == "image/jpeg"
    row = re.search(r"/personnel/staff/\d+/certificate/(\d+)\"", page).group(1)
    assert client.post(f"/personnel/staff/{sid}/certificate/{row}", data={
        "kind": "医师资格证书", "number": "Q2", "issued_on": "2010-06", "remove_attachment": "1"}).status_code == 303
    page = text(client.get(f"/personnel/staff/{sid}"))
    assert "Q2" in page and "查看附件" not in page
    assert client.post(f"/personnel/staff/{sid}/certificate/{row}/delete").status_code == 303
    assert "暂无资格证书" in text(client.get(f"/personnel/staff/{sid}"))
    assert client.get(f"/personnel/staff/{sid}/nonsense/new").status_code == 404


def test_the_photo(client, people):
    login(client, "jahosp001")
    sid = staff_id("JA0002")
    refused = client.post(f"/personnel/staff/{sid}/photo", data={"photo": (BytesIO(b"%PDF-1.4"), "a.pdf")},
                          content_type="multipart/form-data", follow_redirects=True)
    assert "照片：只接受 JPG 或 PNG 文件" in text(refused)
    done = client.post(f"/personnel/staff/{sid}/photo", data={"photo": (BytesIO(PNG), "me.png")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert "照片已更新" in text(done) and "李娜的照片" in text(done)


def test_other_institutions_are_404_everywhere(client, people):
    login(client, "jahosp001")
    other = staff_id("WC0001")
    for path in (f"/personnel/staff/{other}", f"/personnel/staff/{other}/edit",
                 f"/personnel/staff/{other}/certificate/new", f"/personnel/trial/{other}"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/personnel/staff/{other}/photo", data={}).status_code == 404
    login(client, "wchosp001")
    sid = staff_id("WC0001")
    client.post(f"/personnel/staff/{sid}/photo", data={"photo": (BytesIO(JPG), "me.jpg")},
                content_type="multipart/form-data")
    photo = Session().scalars(select(Staff.photo_id).where(Staff.id == sid)).one()
    login(client, "jahosp001")
    assert fetch(client, f"/personnel/files/{photo}")[0].status_code == 404


def test_read_only_viewers_and_refusals(client, people):
    login(client, "jaview001")
    home = text(client.get("/"))
    assert "人员信息查询" in home and "人员信息管理" not in home
    wall = text(client.get("/personnel/wall"))
    assert "张伟" in wall and "刘洋" not in wall and 'class="photo-placeholder"' in wall
    sid = staff_id("JA0001")
    page = text(client.get(f"/personnel/staff/{sid}"))
    assert "只读" in page and "编辑基本信息" not in page and "上传照片" not in page
    for path in ("/personnel/staff/", "/personnel/staff/new", "/personnel/attachments", "/personnel/tags/",
                 "/personnel/trial/"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/personnel/staff/{sid}/photo").status_code == 403
    login(client, "jaclerk01")
    assert client.get("/personnel/staff/").status_code == 200
    assert client.get("/personnel/staff/new").status_code == 403
    assert client.get("/personnel/wall").status_code == 403


def test_an_account_without_an_institution_is_told_so(client, people):
    login(client, "sysadmin01")
    for path in ("/personnel/staff/", "/personnel/trial/", "/personnel/attachments", "/personnel/tags/",
                 "/personnel/wall", "/stats/common", "/stats/reports"):
        response = client.get(path)
        assert response.status_code == 200 and 'id="no-institution">您的账号不属于任何机构' in text(response), path
    for path in ("/personnel/staff/new", "/personnel/tags/new", "/stats/reports/export"):
        response = client.get(path)
        assert response.status_code == 404 and "不属于任何机构" in text(response), path
    assert client.get(f"/personnel/staff/{staff_id('JA0001')}").status_code == 404


# --- 附件批量导入 ----------------------------------------------------------------------------------------------

def test_attachment_batch_upload(client, people):
    login(client, "jahosp001")
    for staff_no, number in (("JA0001", "A1"), ("JA0002", "A2")):
        client.post(f"/personnel/staff/{staff_id(staff_no)}/certificate/new",
                    data={"kind": "医师资格证书", "number": number, "issued_on": "2011-01"})
    missing = text(client.get("/personnel/attachments?section=certificate&state=missing"))
    assert "未上传附件的记录共 2 条" in missing and "data-drop-upload" in missing
    row = re.search(r'action="/personnel/attachments/certificate/(\d+)"', missing).group(1)
    png = client.post(f"/personnel/attachments/certificate/{row}",
                      data={"section": "certificate", "state": "missing", "file": (BytesIO(PNG), "x.png")},
                      content_type="multipart/form-data", follow_redirects=True)
    assert "只接受 JPG 文件" in text(png)
    done = client.post(f"/personnel/attachments/certificate/{row}",
                       data={"section": "certificate", "state": "missing", "file": (BytesIO(JPG), "x.jpg")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert "资格证书附件" in text(done) and "未上传附件的记录共 1 条" in text(done)
    uploaded = text(client.get("/personnel/attachments?section=certificate&state=uploaded"))
    assert "已上传附件的记录共 1 条" in uploaded and 'class="thumb"' in uploaded
    removed = client.post(f"/personnel/attachments/certificate/{row}/delete",
                          data={"section": "certificate", "state": "uploaded"}, follow_redirects=True)
    assert "已上传附件的记录共 0 条" in text(removed)
    assert "学历学位：未上传附件的记录共 0 条" in text(client.get("/personnel/attachments?section=education"))
    login(client, "wchosp001")
    assert client.post(f"/personnel/attachments/certificate/{row}/delete").status_code == 404


# --- 人员标签管理 ----------------------------------------------------------------------------------------------

def test_tags_from_creation_to_deletion(client, people):
    login(client, "jahosp001")
    assert "暂无人员标签" in text(client.get("/personnel/tags/"))
    form = text(client.get("/personnel/tags/new"))
    assert "张伟" in form and "刘洋" not in form
    bad = client.post("/personnel/tags/new", data={"name": "", "year": "20x6"})
    assert bad.status_code == 422 and "请填写“标签名称”" in text(bad) and "年度应为" in text(bad)
    made = client.post("/personnel/tags/new", data={"name": "考官", "year": "2026", "description": "实践技能",
                                                     "members": [str(staff_id("JA0001"))]})
    assert made.status_code == 303
    tag = int(made.headers["Location"].rsplit("/", 1)[1])
    listing = text(client.get("/personnel/tags/"))
    assert "考官" in listing and "测试医院" in listing and "使用中" in listing
    assert "考官（2026）" in text(client.get("/personnel/staff/"))       # offered as a filter
    exported = client.get(f"/personnel/tags/{tag}/export")
    assert exported.mimetype == XLSX
    rows = list(load_workbook(BytesIO(exported.get_data())).active.iter_rows(values_only=True))
    exported.close()
    assert rows[1][1:3] == ("JA0001", "张伟")
    client.post(f"/personnel/tags/{tag}/seal")
    assert "封存" in text(client.get("/personnel/tags/")) and "考官（2026）" not in text(client.get("/personnel/staff/"))
    assert "解封" in text(client.get(f"/personnel/tags/{tag}"))
    refused = client.post(f"/personnel/tags/{tag}/delete", follow_redirects=True)
    assert "已封存" in text(refused)
    client.post(f"/personnel/tags/{tag}/unseal")
    assert client.post(f"/personnel/tags/{tag}/delete").status_code == 303
    assert "暂无人员标签" in text(client.get("/personnel/tags/"))


def test_tags_of_another_institution_are_404(client, people):
    login(client, "wchosp001")
    made = client.post("/personnel/tags/new", data={"name": "武昌", "year": "2026"})
    tag = int(made.headers["Location"].rsplit("/", 1)[1])
    login(client, "jahosp001")
    for path in (f"/personnel/tags/{tag}", f"/personnel/tags/{tag}/edit", f"/personnel/tags/{tag}/export"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/personnel/tags/{tag}/seal").status_code == 404


# --- 试用期填报 ------------------------------------------------------------------------------------------------

def test_trial_registration(client, people):
    login(client, "jahosp001")
    assert "暂无在职状态为“医师资格考试试用期考核人员”的人员" in text(client.get("/personnel/trial/"))
    zhang = staff_id("JA0001")
    refused = client.get(f"/personnel/trial/{zhang}", follow_redirects=True)
    assert "在职状态须为“医师资格考试试用期考核人员”" in text(refused)
    posted = client.post(f"/personnel/trial/{zhang}", data={"exam_category": "临床"})
    assert posted.status_code == 422 and "在职状态须为“医师资格考试试用期考核人员”" in text(posted)
    sid = new_person(client, work_status="医师资格考试试用期考核人员")
    assert "赵敏" in text(client.get("/personnel/trial/"))
    bad = client.post(f"/personnel/trial/{sid}", data={"exam_category": "临床"})
    assert bad.status_code == 422 and "请填写“报考级别”" in text(bad)
    done = client.post(f"/personnel/trial/{sid}", data={
        "exam_category": "临床", "exam_level": "执业医师", "trial_started_on": "2026-01-01",
        "attachment": (BytesIO(JPG), "exam.jpg")}, content_type="multipart/form-data", follow_redirects=True)
    assert "试用期填报已保存" in text(done) and "执业医师" in text(done)


# --- 统计分析 --------------------------------------------------------------------------------------------------

def test_common_statistics_as_tables_and_svg(client, people):
    login(client, "jahosp001")
    page = client.get("/stats/common")
    body = text(page)
    assert page.status_code == 200 and '<strong id="stats-total">3</strong>' in body
    for key in ("department", "title", "education", "age"):
        assert f'<svg class="chart" id="chart-{key}"' in body
    assert "<script" not in body.split("<body>", 1)[1] or body.count("<script") == 1
    assert "30–39岁" in body and "内科" in body


def test_roster_and_its_export(client, people):
    login(client, "jahosp001")
    page = text(client.get("/stats/reports"))
    assert "科室(部门)名称" in page and ZHANG_ID in page and LIU_ID not in page
    surgery = Session().scalars(select(Staff.department_id).where(Staff.staff_no == "JA0002")).one()
    filtered = text(client.get(f"/stats/reports?department_id={surgery}"))
    assert "李娜" in filtered and "张伟" not in filtered
    exported = client.get("/stats/reports/export")
    assert exported.mimetype == XLSX and "filename*=UTF-8''" in exported.headers["Content-Disposition"]
    rows = list(load_workbook(BytesIO(exported.get_data())).active.iter_rows(values_only=True))
    exported.close()
    assert rows[0][:3] == ("序号", "科室(部门)名称", "姓名") and len(rows) == 4
    login(client, "jaview001")
    assert client.get("/stats/reports").status_code == 403


# --- JSON API --------------------------------------------------------------------------------------------------

def test_the_staff_api(client, people, api_login):
    master = api_login("jahosp001")
    listed = client.get("/api/v1/staff?q=李", headers=master)
    assert listed.status_code == 200 and [s["name"] for s in listed.json["items"]] == ["李娜"]
    made = client.post("/api/v1/staff", json={"data": person()}, headers=master)
    assert made.status_code == 201, made.json
    sid = made.json["id"]
    assert made.json["id_number"] == NEW_ID and made.json["certificate"] == []
    bad = client.post("/api/v1/staff", json={"data": person(id_number=NEW_ID)}, headers=master)
    assert bad.status_code == 422 and "id_number" in bad.json["fields"]
    elsewhere = client.post("/api/v1/staff", json={"data": person(name="刘洋", id_number=LIU_ID,
                                                                     birth_date="1990-07-20")}, headers=master)
    assert elsewhere.status_code == 422 and elsewhere.json["error"] == "id_number_active_elsewhere"
    assert "武昌测试医院" not in elsewhere.get_data(as_text=True)
    updated = client.put(f"/api/v1/staff/{sid}", json={"data": {"mobile": "13900139000"}}, headers=master)
    assert updated.status_code == 200 and updated.json["mobile"] == "13900139000"
    assert client.get(f"/api/v1/staff/{sid}", headers=master).json["name"] == "赵敏"
    assert client.post("/api/v1/staff", json={"data": "x"}, headers=master).status_code == 422


def test_the_staff_api_refuses_across_institutions(client, people, api_login):
    other = staff_id("WC0001")
    master = api_login("jahosp001")
    got = client.get(f"/api/v1/staff/{other}", headers=master)
    assert got.status_code == 404 and LIU_ID not in got.get_data(as_text=True)
    assert client.put(f"/api/v1/staff/{other}", json={"data": {"mobile": "13900139000"}},
                      headers=master).status_code == 404
    everyone = client.get("/api/v1/staff?per_page=100", headers=master).get_data(as_text=True)
    assert LIU_ID not in everyone and "刘洋" not in everyone
    assert client.get("/api/v1/staff").status_code == 401
    viewer = api_login("jaview001")
    assert client.get("/api/v1/staff", headers=viewer).status_code == 403
    clerk = api_login("jaclerk01")
    assert client.get("/api/v1/staff", headers=clerk).status_code == 200
    assert client.post("/api/v1/staff", json={"data": person()}, headers=clerk).status_code == 403
    admin = api_login("sysadmin01")
    assert client.get(f"/api/v1/staff/{other}", headers=admin).status_code == 404
    assert client.get("/api/v1/staff", headers=admin).json["items"] == []
    assert "/staff/{staff_id}" in client.get("/api/v1/openapi.json").json["paths"]
