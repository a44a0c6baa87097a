"""批量导入 and 人员信息导入管理 over HTTP: the pages (sections, template, upload, result, management list with
progress, error report), who may use them, and the JSON API under /api/v1/imports.

Requests end by removing the session, so tests keep ids, never ORM objects, across requests.
"""
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from models import Session, utcnow
from models.orgs import Post
from models.personnel import ImportJob
from tests.conftest import user
from tests.web.test_resignation_http import login
from tests.workflows.test_imports import basic, filled, resident_id
from tests.workflows.test_resignation import member
from workflows import imports

XLSX = imports.XLSX


@pytest.fixture
def people(ready):
    ready("jahosp001", "wchosp001", "sysadmin01", verified=True)
    member("jasub0001", "approval.requests")          # no 批量导入
    Session.commit()


def workbook(rows):
    return filled(user("jahosp001"), "basic", rows)


def upload(client, data, *, section="basic", update_existing=False, name="人员.xlsx"):
    form = {"file": (BytesIO(data), name)}
    if update_existing:
        form["update_existing"] = "1"
    return client.post(f"/personnel/import/{section}", data=form, content_type="multipart/form-data")


def download(client, url, headers=None):
    response = client.get(url, headers=headers)
    try:
        return response.status_code, response.mimetype, response.headers.get("Content-Disposition", ""), \
            response.get_data()
    finally:
        response.close()


def test_pages_and_template(client, people):
    login(client, "jahosp001")
    page = client.get("/personnel/import/").get_data(as_text=True)
    assert "人员信息导入管理" in page and 'href="/personnel/import/"' in page and "还没有导入记录" in page
    for section, label in (("basic", "基本信息"), ("work_history", "工作经历"), ("education", "学历学位"),
                           ("certificate", "资格证书")):
        assert f'href="/personnel/import/{section}"' in page
        body = client.get(f"/personnel/import/{section}").get_data(as_text=True)
        assert f"导入{label}" in body and "更新已存在的用户数据" in body and 'id="import-rules"' in body
        status, mimetype, disposition, data = download(client, f"/personnel/import/{section}/template")
        assert (status, mimetype) == (200, XLSX) and "filename*=UTF-8''" in disposition
        assert load_workbook(BytesIO(data)).sheetnames == ["数据", "填写须知", "选项"]
    assert client.get("/personnel/import/photos").status_code == 404
    assert 'id="no-mapped-post"' not in client.get("/personnel/import/basic").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/personnel/import/", "/personnel/import/basic", "/personnel/import/basic/template"])
def test_refused_without_the_function_point(client, people, url):
    login(client, "jasub0001")
    assert client.get(url).status_code == 403
    assert "人员信息导入管理" not in client.get("/").get_data(as_text=True)


def test_the_system_administrator_has_no_institution(client, people):
    login(client, "sysadmin01")
    assert 'id="no-institution"' in client.get("/personnel/import/").get_data(as_text=True)
    assert client.get("/personnel/import/basic").status_code == 404


def test_small_upload_shows_the_result_and_the_report(client, people):
    data = workbook([basic("赵敏", resident_id(1)), basic("钱多", resident_id(2), 民族="汉")])
    login(client, "jahosp001")
    response = upload(client, data)
    assert response.status_code == 303 and "/personnel/import/jobs/" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert "导入完成：新增 1 条，更新 0 条，失败 1 条" in page
    assert '<dd class="created">1</dd>' in page and '<dd class="failed">1</dd>' in page
    job_id = int(response.location.rstrip("/").split("/")[-1])
    status, mimetype, _, report = download(client, f"/personnel/import/jobs/{job_id}/report")
    assert (status, mimetype) == (200, XLSX)
    rows = list(load_workbook(BytesIO(report))["数据"].iter_rows(values_only=True))
    assert rows[1][0] == "民族：“汉”不是可选值，请从下拉列表中选择" and rows[1][2] == "钱多"
    listing = client.get("/personnel/import/").get_data(as_text=True)
    assert f'<tr data-job="{job_id}">' in listing and "下载错误报告" in listing and "data-refresh-seconds" not in listing


def test_refused_upload_shows_why(client, people):
    login(client, "jahosp001")
    response = upload(client, b"%PDF-1.4 pdf", name="a.pdf")
    assert response.status_code == 422
    assert "只接受 .xlsx 格式的 Excel 文件" in response.get_data(as_text=True)
    response = client.post("/personnel/import/basic", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "请选择要上传的 Excel 文件" in response.get_data(as_text=True)
    assert Session().scalars(select(ImportJob)).first() is None


def test_no_mapped_post(client, people):
    Session().execute(update(Post).where(Post.org_id == user("jahosp001").org_id).values(standard_post_id=None))
    Session.commit()
    data = workbook([basic("赵敏", resident_id(1))])
    login(client, "jahosp001")
    assert 'id="no-mapped-post"' in client.get("/personnel/import/basic").get_data(as_text=True)
    response = upload(client, data)
    assert response.status_code == 422 and "也要保证系统中最少有一条岗位信息且需要完成映射" in response.get_data(as_text=True)


def test_large_upload_goes_to_the_background(client, people):
    data = workbook([basic(f"人员{n}", resident_id(n)) for n in range(150)])
    login(client, "jahosp001")
    response = upload(client, data)
    assert response.status_code == 303 and response.location.endswith("/personnel/import/")
    page = client.get(response.location).get_data(as_text=True)
    assert "已转入后台处理" in page and 'data-refresh-seconds="5"' in page and 'data-status="queued"' in page
    job_id = Session().scalars(select(ImportJob.id)).one()
    assert imports.run_queued(utcnow()) == 1
    page = client.get("/personnel/import/").get_data(as_text=True)
    assert 'data-status="done"' in page and '<progress max="150" value="150">' in page
    assert '<td class="created">150</td>' in page and "data-refresh-seconds" not in page
    assert client.get(f"/personnel/import/jobs/{job_id}/report").status_code == 404   # no failed rows


def test_another_institutions_import_is_not_found(client, people, api_login):
    data = workbook([basic("赵敏", resident_id(1), 民族="汉")])
    login(client, "jahosp001")
    job_id = int(upload(client, data).location.rstrip("/").split("/")[-1])
    login(client, "wchosp001")
    for url in (f"/personnel/import/jobs/{job_id}", f"/personnel/import/jobs/{job_id}/report"):
        assert client.get(url).status_code == 404
    headers = api_login("wchosp001")
    assert client.get(f"/api/v1/imports/{job_id}", headers=headers).status_code == 404
    assert f'data-job="{job_id}"' not in client.get("/personnel/import/").get_data(as_text=True)


# --- JSON API ---------------------------------------------------------------------------------------------------

def api_upload(client, headers, data, **fields):
    return client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                       data={"file": (BytesIO(data), "人员.xlsx"), **fields})


def test_api_import_end_to_end(client, people, api_login):
    small = workbook([basic("赵敏", resident_id(1)), basic("钱多", resident_id(2), 手机号码="123")])
    large = workbook([basic(f"人员{n}", resident_id(n)) for n in range(3, 110)])
    headers = api_login("jahosp001")
    status, mimetype, _, data = download(client, "/api/v1/imports/templates/basic", headers)
    assert (status, mimetype) == (200, XLSX)
    response = api_upload(client, headers, small, section="basic")
    assert response.status_code == 201
    body = response.json
    assert (body["status"], body["total"], body["created"], body["failed"], body["has_report"]) == \
        ("done", 2, 1, 1, True)
    response = client.get(f"/api/v1/imports/{body['id']}/report", headers=headers)
    assert response.status_code == 200 and response.mimetype == XLSX
    response.close()
    queued = api_upload(client, headers, large, section="basic", update_existing="true").json
    assert (queued["status"], queued["update_existing"], queued["total"]) == ("queued", True, 0)
    imports.run_queued(utcnow())
    done = client.get(f"/api/v1/imports/{queued['id']}", headers=headers).json
    assert (done["status"], done["total"], done["processed"], done["created"]) == ("done", 107, 107, 107)


def test_api_refusals(client, people, api_login):
    headers = api_login("jahosp001")
    data = workbook([basic("赵敏", resident_id(1))])
    response = api_upload(client, headers, data, section="photos")
    assert response.status_code == 422 and "section" in response.json["fields"]
    response = client.post("/api/v1/imports", headers=headers, data={"section": "basic"},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and response.json["error"] == "upload_refused"
    response = api_upload(client, headers, data, section="work_history")
    assert response.status_code == 422 and response.json["error"] == "wrong_template"
    assert client.post("/api/v1/imports", data={"section": "basic"}).status_code == 401
    assert client.get("/api/v1/imports/999999", headers=headers).status_code == 404
    response = api_upload(client, api_login("jasub0001"), data, section="basic")
    assert response.status_code == 403
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/imports", "/imports/{job_id}", "/imports/{job_id}/report"} <= set(paths)
