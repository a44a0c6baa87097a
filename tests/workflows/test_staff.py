"""Staff services (workflows/staff.py): the search within one's own institution, registration under the rule
"one ID number is active in one institution" (Hubei §4.4), and marking a person as left."""
from datetime import date

import pytest
from sqlalchemy import select

from models import Session
from models.audit import AuditEvent
from models.orgs import Department, Post, Staff
from tests.conftest import user
from workflows import staff as staff_service
from workflows.errors import InvalidInput, NotAuthorized

ZHANG_ID = "42010219800101001X"          # 张伟, active at 测试医院 (demo data)
NEW_ID = "42010619900101001X"            # nobody yet


@pytest.fixture
def people(ready):
    ready("jahosp001", "wchosp001", "jaadmin01", verified=True)
    return user


def staff(staff_no):
    return Session().scalars(select(Staff).where(Staff.staff_no == staff_no)).one()


def test_search_by_staff_number_or_name_within_the_own_institution(people):
    hospital, other = people("jahosp001"), people("wchosp001")
    assert [s.staff_no for s in staff_service.search(hospital)] == ["JA0001", "JA0002", "JA0003"]
    assert [s.staff_no for s in staff_service.search(hospital, "ja000")] == ["JA0001", "JA0002", "JA0003"]
    assert [s.name for s in staff_service.search(hospital, "JA0003")] == ["王强"]
    assert [s.name for s in staff_service.search(hospital, "李")] == ["李娜"]
    assert staff_service.search(hospital, "WC0001") == [] and staff_service.search(hospital, "刘洋") == []
    assert [s.staff_no for s in staff_service.search(other)] == ["WC0001", "WC0002"]
    assert staff_service.search(hospital, "%") == [] and staff_service.search(hospital, "_") == []
    assert staff_service.search(people("jaadmin01")) == []          # a health commission: no staff of its own
    staff_service.mark_left(staff("JA0001"), date(2026, 1, 31))
    assert [s.staff_no for s in staff_service.search(hospital)] == ["JA0002", "JA0003"]
    assert [s.staff_no for s in staff_service.search(hospital, active_only=False)] == ["JA0001", "JA0002", "JA0003"]
    assert staff_service.summary(staff("JA0001")) == {
        "id": staff("JA0001").id, "staff_no": "JA0001", "name": "张伟", "gender": "男", "department": "内科",
        "post": "医师", "employment_status": "left", "employment_status_label": "已离职", "left_on": "2026-01-31"}


def test_an_id_number_active_elsewhere_is_refused_without_naming_the_institution(people):
    other = people("wchosp001")
    with pytest.raises(InvalidInput) as exc:
        staff_service.register_staff(other, other.org, staff_no="WC0100", name="张伟", id_number=ZHANG_ID)
    assert exc.value.code == "id_number_active_elsewhere"
    message = exc.value.fields["id_number"][0]
    assert message == exc.value.message == staff_service.ACTIVE_ELSEWHERE
    assert "同一证件号码只能在一个机构登记为在职人员" in message and "离职" in message
    assert "测试医院" not in message and "JA0001" not in message and "张伟" not in message
    assert Session().scalars(select(Staff).where(Staff.org_id == other.org_id, Staff.name == "张伟")).all() == []

    staff_service.mark_left(staff("JA0001"), date(2026, 3, 31))       # once left, the number is free
    moved = staff_service.register_staff(other, other.org, staff_no="WC0100", name="张伟", id_number=ZHANG_ID)
    assert (moved.org_id, moved.employment_status, moved.gender, moved.id_type) == (
        other.org_id, "active", "男", "resident_id")
    [event] = Session().scalars(select(AuditEvent).where(AuditEvent.action == "staff_register")).all()
    assert (event.actor_name, event.target_name, event.org_id) == ("wchosp001", "张伟", other.org_id)
    with pytest.raises(InvalidInput) as exc:                         # and taken again
        staff_service.register_staff(people("jahosp001"), people("jahosp001").org, staff_no="JA0100", name="张伟",
                                     id_number=ZHANG_ID)
    assert exc.value.code == "id_number_active_elsewhere"


def test_registration_in_the_own_institution(people):
    hospital = people("jahosp001")
    org = hospital.org
    with pytest.raises(InvalidInput) as exc:
        staff_service.register_staff(hospital, org, staff_no="JA0100", name="张伟", id_number=ZHANG_ID)
    assert exc.value.fields == {"id_number": ["该证件号码已在本机构登记为在职人员（工号 JA0001）"]}
    with pytest.raises(InvalidInput) as exc:
        staff_service.register_staff(hospital, org, staff_no="JA0001", name="赵敏", id_number=NEW_ID)
    assert exc.value.fields == {"staff_no": ["该工号已被本机构人员使用（含已离职人员）"]}
    with pytest.raises(InvalidInput) as exc:
        staff_service.register_staff(hospital, org, staff_no=" ", name="", id_number="420106199001010011",
                                     id_type="护照")
    assert set(exc.value.fields) == {"staff_no", "name", "id_number"}
    with pytest.raises(InvalidInput) as exc:
        staff_service.register_staff(hospital, org, staff_no="JA0100", name="赵敏", id_number="420106199001010011")
    assert set(exc.value.fields) == {"id_number"}                     # wrong check digit
    other_dept = Session().scalars(select(Department).where(Department.org_id != org.id)).first()
    with pytest.raises(InvalidInput) as exc:
        staff_service.register_staff(hospital, org, staff_no="JA0100", name="赵敏", id_number=NEW_ID,
                                     department_id=other_dept.id)
    assert set(exc.value.fields) == {"department_id"}
    dept = Session().scalars(select(Department).where(Department.org_id == org.id, Department.name == "外科")).one()
    post = Session().scalars(select(Post).where(Post.org_id == org.id, Post.name == "护士")).one()
    made = staff_service.register_staff(hospital, org, staff_no=" JA0100 ", name="赵敏", id_number=NEW_ID,
                                        id_type="居民身份证", department_id=dept.id, post_id=post.id)
    assert (made.staff_no, made.department.name, made.post.name, made.gender) == ("JA0100", "外科", "护士", "男")


def test_only_the_institutions_own_staff_editors_register(people):
    hospital = people("jahosp001")
    for outsider in (people("wchosp001"), people("jaadmin01")):
        with pytest.raises(NotAuthorized):
            staff_service.register_staff(outsider, hospital.org, staff_no="JA0100", name="赵敏", id_number=NEW_ID)


def test_a_concurrent_registration_is_stopped_by_the_unique_index(people, monkeypatch):
    """Two institutions registering the same person at once: the loser's insert hits the partial unique index
    and gets the same message, and its transaction stays usable."""
    other = people("wchosp001")
    monkeypatch.setattr(staff_service, "active_record", lambda id_type, id_number: None)
    with pytest.raises(InvalidInput) as exc:
        staff_service.register_staff(other, other.org, staff_no="WC0100", name="张伟", id_number=ZHANG_ID)
    assert exc.value.code == "id_number_active_elsewhere"
    assert staff("JA0001").employment_status == "active"


def test_mark_left_is_audited_once(people):
    zhang = staff("JA0001")
    assert staff_service.mark_left(zhang, date(2026, 3, 31), actor=people("jahosp001"), reason="退休")
    assert not staff_service.mark_left(zhang, date(2026, 4, 30), actor=people("jahosp001"))
    assert (zhang.employment_status, zhang.left_on) == ("left", date(2026, 3, 31))
    [event] = Session().scalars(select(AuditEvent).where(AuditEvent.action == "staff_left")).all()
    assert (event.actor_name, event.target_type, event.target_id, event.detail["reason"]) == (
        "jahosp001", "staff", str(zhang.id), "退休")
