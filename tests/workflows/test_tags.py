"""人员标签管理 (workflows/tags.py): create, edit, seal, unseal, delete and export, members from the own
institution's active staff only, audited, and nothing visible across institutions."""
from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import Session
from models.audit import AuditEvent
from models.orgs import Staff
from tests.conftest import user
from tests.workflows.test_resignation import member
from workflows import tags
from workflows.errors import InvalidInput, NotAuthorized, NotFound


@pytest.fixture
def master(ready):
    ready("jahosp001", "wchosp001", verified=True)
    return user("jahosp001")


def ids(*staff_nos):
    return [str(Session().scalars(select(Staff.id).where(Staff.staff_no == n)).one()) for n in staff_nos]


def form(**overrides):
    return {"name": "考官", "year": "2026", "description": "医师资格实践技能考官库", "members": ids("JA0001", "JA0002"),
            **overrides}


def last_action():
    return Session().scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc())).first()


def test_create_and_list(master):
    tag = tags.create_tag(master, form())
    assert (tag.name, tag.year, tag.org_id, tag.created_by_id) == ("考官", 2026, master.org_id, master.id)
    assert [s.name for s in tag.members] == ["张伟", "李娜"]
    assert tags.list_tags(master) == [tag] and tags.status_label(tag) == "使用中"
    assert last_action() == "tag_create"
    assert tags.list_tags(user("wchosp001")) == []


@pytest.mark.parametrize("overrides, field, message", [
    ({"name": " "}, "name", "请填写“标签名称”"),
    ({"name": "名" * 65}, "name", "不得超过64个字符"),
    ({"year": ""}, "year", "请填写“年度”"),
    ({"year": "1999"}, "year", "年度应为 2000–"),
    ({"year": "二〇二六"}, "year", "年度应为"),
    ({"description": "说" * 256}, "description", "不得超过255个字符"),
    ({"members": ["abc"]}, "members", "只能从本机构在职人员中选择成员"),
    ({"members": ["999999"]}, "members", "只能从本机构在职人员中选择成员"),
])
def test_bad_input_is_refused_per_field(master, overrides, field, message):
    with pytest.raises(InvalidInput) as caught:
        tags.create_tag(master, form(**overrides))
    assert message in caught.value.fields[field][0]


def test_members_come_from_the_own_active_staff_only(master):
    with pytest.raises(InvalidInput, match="输入有误"):
        tags.create_tag(master, form(members=ids("WC0001")))
    wang = Session().scalars(select(Staff).where(Staff.staff_no == "JA0003")).one()
    wang.employment_status, wang.left_on = "left", date(2026, 1, 31)
    Session().flush()
    with pytest.raises(InvalidInput):
        tags.create_tag(master, form(members=ids("JA0003")))
    assert [s.staff_no for s in tags.candidates(master)] == ["JA0001", "JA0002"]


def test_the_same_name_in_the_same_year_is_refused(master):
    tags.create_tag(master, form())
    with pytest.raises(InvalidInput) as caught:
        tags.create_tag(master, form(members=[]))
    assert caught.value.fields["name"] == ["本机构2026年度已有名为“考官”的标签"]
    assert tags.create_tag(master, form(year="2025")).year == 2025


def test_edit_seal_unseal_and_delete(master):
    tag = tags.create_tag(master, form())
    tags.update_tag(master, tag, form(name="考官库", members=ids("JA0003")))
    assert tag.name == "考官库" and [s.staff_no for s in tag.members] == ["JA0003"]
    tags.seal(master, tag)
    assert tag.sealed_at is not None and tags.status_label(tag) == "封存" and last_action() == "tag_seal"
    assert tags.choosable(master) == [] and tags.list_tags(master) == [tag]
    for action in (lambda: tags.update_tag(master, tag, form()), lambda: tags.delete_tag(master, tag)):
        with pytest.raises(InvalidInput, match="已封存"):
            action()
    tags.unseal(master, tag)
    assert tag.sealed_at is None and tags.choosable(master) == [tag] and last_action() == "tag_unseal"
    tags.delete_tag(master, tag)
    assert tags.list_tags(master) == [] and last_action() == "tag_delete"


def test_other_institutions_and_accounts_without_the_function_point(master):
    tag = tags.create_tag(master, form())
    with pytest.raises(NotFound):
        tags.get_tag(user("wchosp001"), tag.id)
    clerk = member("jaclerk01", "hr.staff")
    with pytest.raises(NotAuthorized):
        tags.create_tag(clerk, form())
    with pytest.raises(NotAuthorized):
        tags.seal(clerk, tag)


def test_export_members_is_formula_safe_and_audited(master):
    zhang = Session().scalars(select(Staff).where(Staff.staff_no == "JA0001")).one()
    zhang.name = "=HYPERLINK(\"x\")"
    tag = tags.create_tag(master, form())
    sheet = load_workbook(BytesIO(tags.export_members(master, tag))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tags.EXPORT_HEADERS
    assert {r[2] for r in rows[1:]} == {"'=HYPERLINK(\"x\")", "李娜"}
    assert last_action() == "tag_export"
