"""The personnel record service (workflows/personnel.py): one validator for the form, the API and the Excel
import, table-driven here field by field, and saving basic and detailed records under the Hubei rules."""
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from models import Session
from models.audit import AuditEvent
from models.orgs import Staff
from models.personnel import Certificate, WorkHistory
from tests.conftest import user
from workflows import personnel
from workflows.errors import InvalidInput, NotAuthorized

NEW_ID = "42010619900101001X"        # born 1990-01-01, male; nobody holds it
ZHANG_ID = "42010219800101001X"      # 张伟, active at 测试医院
LIU_ID = "420106199007200033"        # 刘洋, active at 武昌测试医院


@pytest.fixture
def hospital(ready):
    ready("jahosp001", "wchosp001", "jaadmin01", verified=True)
    return user("jahosp001")


def person(**overrides):
    values = {"name": "赵敏", "id_type": "居民身份证", "id_number": NEW_ID, "gender": "男性",
              "birth_date": "1990-01-01", "ethnicity": "汉族", "department": "内科", "post": "医师",
              "staff_category": "卫生技术人员", "work_status": "在岗", "education": "大学本科", "major": "临床医学",
              "work_started_on": "2012-07", "mobile": "13800138000"}
    values.update(overrides)
    return values


@pytest.mark.parametrize("value, present_ok, expected", [
    ("2024-03-15", False, date(2024, 3, 15)),
    ("2024-3-5", False, date(2024, 3, 5)),
    ("2024-03", False, date(2024, 3, 1)),
    (" 2024-03 ", False, date(2024, 3, 1)),
    (datetime(2024, 3, 15, 0, 0), False, date(2024, 3, 15)),
    (date(2024, 3, 15), False, date(2024, 3, 15)),
    ("至今", True, None),
])
def test_dates_accepted(value, present_ok, expected):
    assert personnel.parse_date(value, present_ok=present_ok) == expected


@pytest.mark.parametrize("value, present_ok, message", [
    ("至今", False, "该日期不能填写“至今”"),
    ("2024/03/15", False, "日期格式应为 YYYY-MM-DD 或 YYYY-MM，不能是“2024/03/15”"),
    ("20240315", True, "日期格式应为 YYYY-MM-DD、YYYY-MM 或“至今”，不能是“20240315”"),
    ("2024-02-30", False, "“2024-02-30”不是有效日期"),
    ("2024-13", False, "“2024-13”不是有效日期"),
    ("三月", False, "日期格式应为 YYYY-MM-DD 或 YYYY-MM，不能是“三月”"),
])
def test_dates_refused_with_the_reason(value, present_ok, message):
    with pytest.raises(ValueError) as caught:
        personnel.parse_date(value, present_ok=present_ok)
    assert str(caught.value) == message


@pytest.mark.parametrize("overrides, field, message", [
    ({"name": ""}, "name", "请填写“姓名”"),
    ({"name": "赵" * 65}, "name", "姓名：不得超过64个字符"),
    ({"gender": "男"}, "gender", "性别：“男”不是可选值，请从下拉列表中选择"),
    ({"gender": "女性"}, "gender", "性别与居民身份证号码不一致"),
    ({"birth_date": "1990-02-01"}, "birth_date", "出生日期与居民身份证号码不一致（应为 1990-01-01）"),
    ({"birth_date": "1990.01.01"}, "birth_date", "出生日期：日期格式应为 YYYY-MM-DD 或 YYYY-MM，不能是“1990.01.01”"),
    ({"id_number": "420106199001010011"}, "id_number", "证件号码："),
    ({"id_number": "４２０１０６１９９００１０１００１Ｘ"}, "id_number", "全角"),
    ({"id_type": "军官证"}, "id_type", "证件类型：“军官证”不是可选值，请从下拉列表中选择"),
    ({"ethnicity": "汉"}, "ethnicity", "民族：“汉”不是可选值，请从下拉列表中选择"),
    ({"department": "内科 "}, None, None),
    ({"department": "神经内科"}, "department", "所在部门：本机构没有名为“神经内科”的部门（须与部门管理中的名称完全一致）"),
    ({"department": "儿科"}, "department", "所在部门：本机构没有名为“儿科”的部门"),      # 武昌测试医院's, not ours
    ({"post": "主任"}, "post", "岗位：本机构没有名为“主任”的岗位"),
    ({"education": "本科"}, "education", "学历：“本科”不是可选值"),
    ({"major": ""}, "major", "学历为大学专科及以上时，“所学专业”必填"),
    ({"education": "大学专科", "major": None}, "major", "学历为大学专科及以上时，“所学专业”必填"),
    ({"education": "中等专科", "major": ""}, None, None),
    ({"work_started_on": "至今"}, "work_started_on", "参加工作时间：该日期不能填写“至今”"),
    ({"work_started_on": "1989-12"}, "work_started_on", "参加工作时间不能早于出生日期"),
    ({"work_started_on": "2999-01"}, "work_started_on", "参加工作时间：日期不能晚于今天"),
    ({"mobile": "1380013800"}, "mobile", "手机号码：手机号码格式不正确"),
    ({"mobile": "23800138000"}, "mobile", "手机号码：手机号码格式不正确"),
    ({"mobile": ""}, "mobile", "请填写“手机号码”"),
    ({"work_status": "在职"}, "work_status", "在职状态：“在职”不是可选值"),
    ({"title": "教授"}, "title", "专业技术资格：“教授”不是可选值"),
])
def test_basic_fields_table(hospital, overrides, field, message):
    values, errors = personnel.clean(personnel.BASIC, hospital.org, person(**overrides))
    if field is None:
        assert errors == {}
        return
    assert list(errors) == [field]
    assert errors[field][0].startswith(message) or message in errors[field][0]


def test_clean_gives_typed_values(hospital):
    values, errors = personnel.clean(personnel.BASIC, hospital.org, person(degree="学士", joined_on="2015-03-02"))
    assert errors == {}
    assert values["id_type"] == "resident_id" and values["gender"] == "男"
    assert values["birth_date"] == date(1990, 1, 1) and values["work_started_on"] == date(2012, 7, 1)
    assert values["department"].name == "内科" and values["post"].name == "医师"
    assert values["mobile"] == "13800138000" and values["staff_no"] is None


def test_all_problems_of_a_record_come_back_together(hospital):
    _, errors = personnel.clean(personnel.BASIC, hospital.org, {"name": "赵敏", "mobile": "123"})
    assert {"id_number", "gender", "birth_date", "ethnicity", "department", "post", "staff_category", "work_status",
            "education", "work_started_on", "mobile"} <= set(errors)


def test_create_then_update_basic_information(hospital):
    staff, created = personnel.save_basic(hospital, hospital.org, person())
    assert created and staff.staff_no.startswith("P") and staff.department.name == "内科"
    with pytest.raises(InvalidInput) as caught:
        personnel.save_basic(hospital, hospital.org, person(mobile="13900139000"))
    assert "更新已存在的用户数据" in caught.value.fields["id_number"][0]
    again, created = personnel.save_basic(hospital, hospital.org, person(mobile="13900139000"), update_existing=True)
    assert not created and again.id == staff.id and again.mobile == "13900139000"
    with pytest.raises(InvalidInput) as caught:
        personnel.save_basic(hospital, hospital.org, person(name="赵明"), update_existing=True)
    assert caught.value.fields["name"] == ["姓名与系统中该证件号码登记的姓名（赵敏）不一致"]
    actions = Session().scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(staff.id),
                                                                AuditEvent.target_type == "staff")).all()
    assert actions == ["staff_create", "staff_update"]


def test_one_active_id_number_in_one_institution(hospital):
    with pytest.raises(InvalidInput) as caught:
        personnel.save_basic(hospital, hospital.org, person(name="刘洋", id_number=LIU_ID, birth_date="1990-07-20"))
    assert caught.value.code == "id_number_active_elsewhere"
    assert "武昌" not in caught.value.message and "同一证件号码只能在一个机构登记为在职人员" in caught.value.message
    with pytest.raises(InvalidInput) as caught:
        personnel.save_basic(hospital, hospital.org, person(staff_no="JA0001"))
    assert caught.value.fields == {"staff_no": ["该工号已被本机构人员使用（含已离职人员）"]}
    assert Session().scalar(select(func.count()).select_from(Staff).where(Staff.id_number == NEW_ID)) == 0


def test_only_the_institution_with_the_edit_point_saves(hospital):
    with pytest.raises(NotAuthorized):
        personnel.save_basic(user("wchosp001"), hospital.org, person())
    with pytest.raises(NotAuthorized):
        personnel.save_basic(user("jaadmin01"), hospital.org, person())


def test_detail_rows_identify_the_person_by_name_and_id_number(hospital):
    row = {"name": "张伟", "id_number": ZHANG_ID, "started_on": "2005-07", "ended_on": "至今", "unit": "测试医院"}
    saved, created = personnel.save_detail(hospital, hospital.org, personnel.WORK_HISTORY, row)
    assert created and saved.ended_on is None and saved.started_on == date(2005, 7, 1)
    with pytest.raises(InvalidInput) as caught:
        personnel.save_detail(hospital, hospital.org, personnel.WORK_HISTORY, {**row, "name": "张三"})
    assert caught.value.message == f"姓名：张三、证件号码：{ZHANG_ID} 未找到基本信息"
    with pytest.raises(InvalidInput) as caught:
        personnel.save_detail(hospital, hospital.org, personnel.WORK_HISTORY, row)
    assert "更新已存在的用户数据" in next(iter(caught.value.fields.values()))[0]
    updated, created = personnel.save_detail(hospital, hospital.org, personnel.WORK_HISTORY,
                                             {**row, "position": "科主任"}, update_existing=True)
    assert not created and updated.id == saved.id and updated.position == "科主任"
    with pytest.raises(InvalidInput) as caught:
        personnel.save_detail(hospital, hospital.org, personnel.WORK_HISTORY,
                              {**row, "started_on": "2010-01", "ended_on": "2009-01"})
    assert caught.value.fields == {"ended_on": ["结束时间不能早于开始时间"]}
    assert Session().scalar(select(func.count()).select_from(WorkHistory)) == 1


def test_certificates_and_education_rules(hospital):
    zhang = Session().scalars(select(Staff).where(Staff.staff_no == "JA0001")).one()
    cert, _ = personnel.save_detail(hospital, hospital.org, personnel.CERTIFICATE,
                                    {"kind": "医师资格证书", "number": "200542110420102", "issued_on": "2005-12-01"},
                                    staff=zhang)
    assert Session().get(Certificate, cert.id).staff_id == zhang.id
    _, errors = personnel.clean(personnel.EDUCATION, hospital.org, {
        "name": "张伟", "id_number": ZHANG_ID, "ended_on": "2003-07", "school": "武汉大学", "education": "硕士研究生"})
    assert errors == {"major": ["学历为大学专科及以上时，“所学专业”必填"]}
