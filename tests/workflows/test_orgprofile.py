"""机构信息维护 beyond the core fields, through ``workflows.orgprofile``: 基本信息 and 机构信息 validated and audited
(the core fields untouched), branches, attachments (type sniffed, 3 MB, readable by the institution and its
supervising admins only, deleted with their file)."""
import io
import os
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Session
from models.audit import AuditEvent
from models.orgs import Branch, OrgAttachment
from models.workflow import Attachment
from workflows import files, orgprofile
from workflows.errors import InvalidInput, NotAuthorized, NotFound

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
GOOD = {"address": "湖北省武汉市江岸区解放大道1号", "longitude": "114.305539", "latitude": "30.593099",
        "postal_code": "430010", "phone": "027-82211234", "email": "office@example.cn",
        "website": "https://hospital.example.cn", "legal_representative": "张三", "principal": "李四",
        "ownership": "国有", "grade": "二级甲等", "beds": "350", "established_on": "1998-05-01",
        "description": "区属综合医院"}


@pytest.fixture
def master(ready):
    return ready("jahosp001", verified=True)[0]


def events(action):
    return Session().scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_profile_saved_with_typed_values_and_audited(master):
    org = master.org
    name, uscc, version = org.name, org.uscc, org.version
    changes = orgprofile.update_profile(master, GOOD)
    assert {c["field"] for c in changes} == set(GOOD)
    assert (org.longitude, org.latitude) == (Decimal("114.305539"), Decimal("30.593099"))
    assert (org.beds, org.established_on, org.ownership, org.grade) == (350, date(1998, 5, 1), "国有", "二级甲等")
    assert (org.name, org.uscc) == (name, uscc) and org.version == version + 1
    assert events("org_profile_update")[0].detail["changes"]
    assert orgprofile.update_profile(master, GOOD) == []          # nothing changed: no second event
    assert len(events("org_profile_update")) == 1
    orgprofile.update_profile(master, {**GOOD, "website": "", "beds": ""})
    assert (org.website, org.beds) == (None, None)


@pytest.mark.parametrize("field, value, message", [
    ("longitude", "181", "须在 -180 到 180 之间"),
    ("latitude", "-90.5", "须在 -90 到 90 之间"),
    ("longitude", "114.3055391", "最多保留6位小数"),
    ("latitude", "abc", "须为数字"),
    ("postal_code", "43001", "邮政编码须为6位数字"),
    ("postal_code", "43001a", "邮政编码须为6位数字"),
    ("email", "office.example.cn", "电子邮箱格式不正确"),
    ("website", "hospital.example.cn", "http://"),
    ("phone", "电话", "电话号码只能包含"),
    ("ownership", "外资", "不是“所有制形式”的可选值"),
    ("grade", "四级", "可选值"),
    ("beds", "-1", "不能小于 0"),
    ("beds", "1.5", "整数"),
    ("established_on", "1998/05/01", "日期格式"),
])
def test_bad_values_refused_with_a_message_and_nothing_applied(master, field, value, message):
    with pytest.raises(InvalidInput) as exc:
        orgprofile.update_profile(master, {**GOOD, field: value})
    assert list(exc.value.fields) == [field] and message in exc.value.fields[field][0]
    Session.expire_all()
    assert master.org.address is None


def test_future_establishment_date_refused(master):
    with pytest.raises(InvalidInput, match="不能晚于今天"):
        orgprofile.update_profile(master, {**GOOD, "established_on": (date.today() + timedelta(days=2)).isoformat()})


def test_branches_added_edited_deleted_and_scoped(ready, master):
    other = ready("wchosp001", verified=True)[0]
    branch = orgprofile.add_branch(master, {"name": "测试医院东院区", "address": "江岸区东路2号", "beds": "80",
                                            "longitude": "114.31", "latitude": "30.6"})
    assert [b.name for b in orgprofile.branches(master.org)] == ["测试医院东院区"]
    with pytest.raises(InvalidInput):
        orgprofile.add_branch(master, {"name": "测试医院东院区"})
    with pytest.raises(InvalidInput) as exc:
        orgprofile.add_branch(master, {"name": "", "latitude": "95"})
    assert set(exc.value.fields) == {"name", "latitude"}
    orgprofile.update_branch(master, branch.id, {"name": "东院区", "beds": "90"})
    assert (branch.name, branch.beds, branch.address) == ("东院区", 90, None)
    with pytest.raises(NotFound):
        orgprofile.update_branch(other, branch.id, {"name": "x"})
    with pytest.raises(NotFound):
        orgprofile.delete_branch(other, branch.id)
    orgprofile.delete_branch(master, branch.id)
    assert Session.get(Branch, branch.id) is None
    assert [len(events(a)) for a in ("branch_create", "branch_update", "branch_delete")] == [1, 1, 1]


def test_attachment_upload_checks_type_size_and_kind(master):
    row = orgprofile.upload_attachment(master, "许可证.pdf", io.BytesIO(PDF), {"kind": "医疗机构执业许可证"})
    assert (row.kind, row.attachment.content_type, row.attachment.original_name) == \
        ("医疗机构执业许可证", "application/pdf", "许可证.pdf")
    assert [a.id for a in orgprofile.attachments(master.org)] == [row.id]
    with pytest.raises(InvalidInput) as exc:
        orgprofile.upload_attachment(master, "a.txt", io.BytesIO(b"hello"), {"kind": "其他"})
    assert "PDF" in exc.value.fields["file"][0]
    with pytest.raises(InvalidInput) as exc:
        orgprofile.upload_attachment(master, "big.png", io.BytesIO(PNG + bytes(3 * 1024 * 1024)), {"kind": "其他"})
    assert "3 MB" in exc.value.fields["file"][0]
    with pytest.raises(InvalidInput) as exc:
        orgprofile.upload_attachment(master, "a.png", io.BytesIO(PNG), {"kind": "身份证"})
    assert list(exc.value.fields) == ["kind"]
    with pytest.raises(InvalidInput):
        orgprofile.upload_attachment(master, None, None, {"kind": "其他"})


def test_attachments_readable_by_the_institution_and_its_supervisors_only(ready, master):
    other, county, city, other_county = ready("wchosp001", "jaadmin01", "whadmin01", "wcadmin01", verified=True)
    row = orgprofile.upload_attachment(master, "证书.png", io.BytesIO(PNG), {"kind": "事业单位法人证书"})
    for reader in (master, county, city):
        assert orgprofile.readable_attachment(reader, row.id) is row
    for stranger in (other, other_county):
        with pytest.raises(NotFound):
            orgprofile.readable_attachment(stranger, row.id)
    with pytest.raises(NotFound):
        orgprofile.delete_attachment(other, row.id)


def test_attachment_deleted_with_its_file_after_commit(master):
    row = orgprofile.upload_attachment(master, "证书.png", io.BytesIO(PNG), {"kind": "其他", "note": "旧版"})
    stored_id, path = row.attachment_id, files.attachment_path(row.attachment)
    assert os.path.exists(path)
    orgprofile.delete_attachment(master, row.id)
    assert os.path.exists(path)                  # kept until the deletion commits
    Session.commit()
    assert not os.path.exists(path)
    assert Session.get(OrgAttachment, row.id) is None and Session.get(Attachment, stored_id) is None
    assert len(events("org_attachment_delete")) == 1


def test_without_org_info_nothing_is_allowed(ready):
    leader = ready("jaleader01", verified=True)[0]
    with pytest.raises(NotAuthorized):
        orgprofile.update_profile(leader, GOOD)
    with pytest.raises(NotAuthorized):
        orgprofile.add_branch(leader, {"name": "x"})
