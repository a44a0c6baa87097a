"""The staff-page services added to workflows/personnel.py: listing and search, own-institution scoping, detail
rows (edit, delete), the photo and attachments (JPG/PNG ≤ 3 MB judged by content), and who may read them."""
from datetime import date
from io import BytesIO

import pytest
from sqlalchemy import select

from models import Session
from models.audit import AuditEvent
from models.orgs import Staff
from tests.conftest import user
from tests.workflows.test_personnel import LIU_ID, ZHANG_ID, person
from tests.workflows.test_resignation import member
from workflows import personnel
from workflows.errors import InvalidInput, NotAuthorized, NotFound

JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
PDF = b"%PDF-1.4\n" + bytes(64)


@pytest.fixture
def master(ready):
    ready("jahosp001", "wchosp001", verified=True)
    return user("jahosp001")


def staff(staff_no):
    return Session().scalars(select(Staff).where(Staff.staff_no == staff_no)).one()


def actions():
    return [e.action for e in Session().scalars(select(AuditEvent).order_by(AuditEvent.id))]


def certificate(master, who="JA0001", number="110420102000001"):
    row, _ = personnel.save_detail(master, master.org, personnel.CERTIFICATE,
                                   {"kind": "医师资格证书", "number": number, "issued_on": "2010-06"},
                                   staff=staff(who))
    return row


@pytest.mark.parametrize("q, expected", [
    ("", ["JA0001", "JA0002", "JA0003"]),
    ("李", ["JA0002"]),                        # partial name
    (ZHANG_ID, ["JA0001"]),                    # exact ID number
    (ZHANG_ID.lower(), ["JA0001"]),            # the check letter in either case
    (ZHANG_ID[:10], []),                       # a partial ID number finds nobody
    ("JA0003", ["JA0003"]),                    # staff number
    (LIU_ID, []),                              # another institution's person: never
    ("刘洋", []),
])
def test_the_list_searches_the_own_institution_only(master, q, expected):
    rows, total = personnel.list_staff(master, q=q)
    assert [s.staff_no for s in rows] == expected and total == len(expected)


def test_the_list_filters_and_pages(master):
    surgery = staff("JA0002").department_id
    assert [s.staff_no for s in personnel.list_staff(master, department_id=surgery)[0]] == ["JA0002"]
    personnel.save_basic(master, master.org, person(work_status="医师资格考试试用期考核人员"))
    trial, _ = personnel.list_staff(master, work_status="医师资格考试试用期考核人员")
    assert [s.name for s in trial] == ["赵敏"]
    first, total = personnel.list_staff(master, page=1, per_page=2)
    second, _ = personnel.list_staff(master, page=2, per_page=2)
    assert total == 4 and len(first) == 2 and len(second) == 2 and not {s.id for s in first} & {s.id for s in second}
    wang = staff("JA0003")
    wang.employment_status, wang.left_on = "left", date(2026, 1, 31)
    Session().flush()
    assert "JA0003" not in [s.staff_no for s in personnel.list_staff(master, status="active")[0]]
    assert [s.staff_no for s in personnel.list_staff(master, status="left")[0]] == ["JA0003"]


def test_an_account_without_an_institution_sees_nobody(ready):
    ready("sysadmin01")
    admin = user("sysadmin01")
    assert personnel.list_staff(admin) == ([], 0)
    with pytest.raises(NotFound):
        personnel.own_staff(admin, staff("JA0001").id)


def test_own_staff_is_404_across_institutions(master):
    assert personnel.own_staff(master, staff("JA0001").id).name == "张伟"
    with pytest.raises(NotFound):
        personnel.own_staff(master, staff("WC0001").id)
    with pytest.raises(NotFound):
        personnel.own_staff(master, "1")


def test_staff_json_carries_the_basic_information(master):
    body = personnel.staff_json(staff("JA0001"))
    assert body["name"] == "张伟" and body["id_number"] == ZHANG_ID and body["department"] == "内科"
    assert body["gender"] == "男性" and body["employment_status"] == "active"


def test_the_one_id_rule_never_names_the_other_institution(master):
    with pytest.raises(InvalidInput) as caught:
        personnel.save_basic(master, master.org, person(name="刘洋", id_number=LIU_ID, birth_date="1990-07-20"))
    assert caught.value.code == "id_number_active_elsewhere"
    message = caught.value.fields["id_number"][0]
    assert "其他机构" in message and "武昌测试医院" not in message


def test_detail_rows_edit_and_delete(master):
    row = certificate(master)
    assert personnel.detail_values(personnel.CERTIFICATE, row)["issued_on"] == "2010-06-01"
    found = personnel.get_detail(master, personnel.CERTIFICATE, row.id)
    personnel.delete_detail(master, personnel.CERTIFICATE, found)
    assert personnel.detail_rows(staff("JA0001"), personnel.CERTIFICATE) == []
    assert actions()[-1] == "staff_detail_delete"


def test_detail_values_show_an_open_end_as_present(master):
    row, _ = personnel.save_detail(master, master.org, personnel.WORK_HISTORY,
                                   {"started_on": "2015-07", "ended_on": "至今", "unit": "测试医院"},
                                   staff=staff("JA0001"))
    assert personnel.detail_values(personnel.WORK_HISTORY, row)["ended_on"] == "至今"


def test_detail_rows_of_another_institution_are_404(master):
    other = user("wchosp001")
    row, _ = personnel.save_detail(other, other.org, personnel.CERTIFICATE,
                                   {"kind": "医师资格证书", "number": "X1", "issued_on": "2010-06"},
                                   staff=staff("WC0001"))
    with pytest.raises(NotFound):
        personnel.get_detail(master, personnel.CERTIFICATE, row.id)


def test_photo_and_attachments_are_checked_by_content(master):
    zhang = staff("JA0001")
    photo = personnel.set_photo(master, zhang, "me.png", BytesIO(PNG))
    assert zhang.photo_id == photo.id and photo.content_type == "image/png"
    row = certificate(master)
    personnel.set_detail_attachment(master, personnel.CERTIFICATE, row, "cert.jpg", BytesIO(JPG))
    assert row.attachment.content_type == "image/jpeg"
    with pytest.raises(InvalidInput, match="只接受 JPG 或 PNG"):
        personnel.set_photo(master, zhang, "fake.jpg", BytesIO(PDF))
    with pytest.raises(InvalidInput, match="只接受 JPG"):
        personnel.set_detail_attachment(master, personnel.CERTIFICATE, row, "x.png", BytesIO(PNG),
                                        kinds=personnel.BATCH_KINDS)
    with pytest.raises(InvalidInput, match="3 MB"):
        personnel.set_photo(master, zhang, "big.jpg", BytesIO(JPG + bytes(3 * 1024 * 1024)))
    personnel.remove_detail_attachment(master, personnel.CERTIFICATE, row)
    assert row.attachment_id is None
    assert actions()[-1] == "staff_attachment"


def test_who_may_read_an_attachment(master):
    photo = personnel.set_photo(master, staff("JA0001"), "me.jpg", BytesIO(JPG))
    assert personnel.readable_attachment(master, photo.id) is photo
    viewer = member("jaview001", "hr.query")
    assert personnel.readable_attachment(viewer, photo.id) is photo
    nobody = member("janone001", "approval.requests")
    with pytest.raises(NotFound):
        personnel.readable_attachment(nobody, photo.id)
    with pytest.raises(NotFound):
        personnel.readable_attachment(user("wchosp001"), photo.id)


def test_an_unrelated_upload_is_not_served_as_a_staff_file(master):
    from workflows import files
    loose = files.store_upload(master, "x.jpg", BytesIO(JPG))
    with pytest.raises(NotFound):
        personnel.readable_attachment(master, loose.id)


def test_attachment_rows_by_upload_state(master):
    first, second = certificate(master, "JA0001", "N1"), certificate(master, "JA0002", "N2")
    personnel.set_detail_attachment(master, personnel.CERTIFICATE, second, "c.jpg", BytesIO(JPG))
    missing, total = personnel.attachment_rows(master, personnel.CERTIFICATE)
    assert [r.id for r in missing] == [first.id] and total == 1
    uploaded, _ = personnel.attachment_rows(master, personnel.CERTIFICATE, uploaded=True)
    assert [r.id for r in uploaded] == [second.id]
    assert personnel.attachment_rows(master, personnel.CERTIFICATE, q="李")[0] == []


def test_editing_needs_the_edit_function_point(master):
    viewer = member("jaview002", "hr.query", "hr.staff")
    with pytest.raises(NotAuthorized):
        personnel.set_photo(viewer, staff("JA0001"), "me.jpg", BytesIO(JPG))


def test_a_detail_row_with_its_scan_in_one_go(master):
    zhang = staff("JA0001")
    raw = {"kind": "医师执业证书", "number": "P1", "issued_on": "2012-01"}
    with pytest.raises(InvalidInput) as caught:
        personnel.save_detail_row(master, zhang, personnel.CERTIFICATE, raw, upload=("x.pdf", BytesIO(PDF)))
    assert caught.value.fields == {"attachment": ["附件：只接受 JPG 或 PNG 文件"]}
    Session().rollback()
    row = personnel.save_detail_row(master, zhang, personnel.CERTIFICATE, raw, upload=("c.jpg", BytesIO(JPG)))
    assert row.attachment.content_type == "image/jpeg"
    same = personnel.save_detail_row(master, zhang, personnel.CERTIFICATE, {**raw, "number": "P2"}, row=row,
                                     remove_upload=True)
    assert same is row and row.number == "P2" and row.attachment_id is None


def test_a_department_filter_includes_the_departments_below(master):
    from models.orgs import Department
    internal = staff("JA0001").department
    ward = Department(org_id=master.org_id, parent_id=internal.id, name="内科一病区", category="病区")
    Session().add(ward)
    Session().flush()
    staff("JA0002").department_id = ward.id
    Session().flush()
    assert [d.name for d, depth in personnel.departments_of(master.org_id) if depth == 1] == ["内科一病区"]
    assert set(personnel.department_and_below(master.org_id, internal.id)) == {internal.id, ward.id}
    assert [s.staff_no for s in personnel.list_staff(master, department_id=internal.id)[0]] == ["JA0001", "JA0002"]
    assert [s.staff_no for s in personnel.list_staff(master, department_id=ward.id)[0]] == ["JA0002"]
    assert personnel.department_and_below(master.org_id, 999999) == []
