"""试用期填报 (workflows/trials.py): only staff whose 在职状态 is 医师资格考试试用期考核人员, validated per field,
one registration per person, with an optional attachment checked by content."""
from io import BytesIO

import pytest
from sqlalchemy import select

from models import Session
from models.audit import AuditEvent
from models.personnel import TrialRegistration
from tests.conftest import user
from tests.workflows.test_personnel import person
from workflows import codes, personnel, trials
from workflows.errors import InvalidInput, NotAuthorized

JPG = b"\xff\xd8\xff\xe0" + bytes(64)
FORM = {"exam_category": "临床", "exam_level": "执业医师", "trial_started_on": "2026-01-01",
        "trial_ended_on": "2026-12-31", "supervisor_name": "张伟", "assessment": "考核中", "note": ""}


@pytest.fixture
def master(ready):
    ready("jahosp001", "wchosp001", verified=True)
    return user("jahosp001")


@pytest.fixture
def trainee(master):
    staff, _ = personnel.save_basic(master, master.org, person(work_status=codes.TRIAL_WORK_STATUS))
    return staff


def test_the_list_holds_trial_staff_only(master, trainee):
    assert trials.trial_staff(master) == [(trainee, None)]
    reg, created = trials.save(master, trainee, FORM)
    assert created and trials.trial_staff(master) == [(trainee, reg)]
    assert trials.trial_staff(user("wchosp001")) == []


def test_save_and_update(master, trainee):
    reg, _ = trials.save(master, trainee, FORM, upload=("exam.jpg", BytesIO(JPG)))
    assert (reg.exam_category, reg.trial_started_on.isoformat(), reg.attachment.content_type) == (
        "临床", "2026-01-01", "image/jpeg")
    again, created = trials.save(master, trainee, {**FORM, "assessment": "合格", "trial_ended_on": ""})
    assert again is reg and not created and reg.assessment == "合格" and reg.trial_ended_on is None
    assert trials.values_of(reg)["trial_started_on"] == "2026-01-01"
    assert Session().scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc())).first() == "trial_save"


def test_anyone_else_is_refused_with_the_hubei_wording(master):
    zhang = personnel.find_person(master.org, "resident_id", "42010219800101001X")
    with pytest.raises(InvalidInput) as caught:
        trials.save(master, zhang, FORM)
    assert caught.value.code == "not_on_trial"
    assert "在职状态须为“医师资格考试试用期考核人员”" in caught.value.message
    assert Session().scalars(select(TrialRegistration)).all() == []


@pytest.mark.parametrize("overrides, field, message", [
    ({"exam_category": ""}, "exam_category", "请填写“报考类别”"),
    ({"exam_level": "主任医师"}, "exam_level", "报考级别：“主任医师”不是可选值"),
    ({"trial_started_on": "2026/01/01"}, "trial_started_on", "日期格式应为"),
    ({"trial_ended_on": "2025-12-31"}, "trial_ended_on", "试用期结束日期不能早于开始日期"),
    ({"assessment": "优秀"}, "assessment", "考核结果：“优秀”不是可选值"),
    ({"supervisor_name": "张" * 65}, "supervisor_name", "不得超过64个字符"),
])
def test_bad_input_per_field(master, trainee, overrides, field, message):
    with pytest.raises(InvalidInput) as caught:
        trials.save(master, trainee, {**FORM, **overrides})
    assert message in caught.value.fields[field][0]


def test_a_refused_attachment_is_reported_on_its_field(master, trainee):
    with pytest.raises(InvalidInput) as caught:
        trials.save(master, trainee, FORM, upload=("x.gif", BytesIO(b"GIF89a" + bytes(20))))
    assert "只接受" in caught.value.fields["attachment"][0]


def test_editing_needs_the_edit_function_point(master, trainee):
    from tests.workflows.test_resignation import member
    with pytest.raises(NotAuthorized):
        trials.save(member("jaview003", "hr.staff"), trainee, FORM)
