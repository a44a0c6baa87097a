"""部门管理 through ``workflows.departments``: the tree, 初始化部门 only when empty, 科室标准名称 required exactly for
科室(部门), names unique among siblings, deletion refused while active staff or sub-departments remain, the quota
kept on edit, scoping to the own institution and the permission."""
from datetime import date

import pytest
from sqlalchemy import delete, select, update

from models import Session
from models.audit import AuditEvent
from models.orgs import Department, EmploymentStatus, Staff
from workflows import codes, departments
from workflows.errors import Conflict, InvalidInput, NotAuthorized, NotFound


@pytest.fixture
def master(ready):
    return ready("jahosp001", verified=True)[0]


def dept(org_id, name, parent_id=None):
    return Session().scalars(select(Department).where(Department.org_id == org_id, Department.name == name,
                                                      Department.parent_id.is_(None) if parent_id is None
                                                      else Department.parent_id == parent_id)).one()


def clinical(name, standard=None, **extra):
    return {"name": name, "category": codes.CLINICAL_CATEGORY, "standard_name": standard or "其他科室", **extra}


def actions(action):
    return Session().scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_tree_shows_demo_departments_with_category_standard_name_and_staff(master):
    view = departments.tree_view(master)
    rows = {r["dept"].name: r for r in view["rows"]}
    assert list(rows) == ["内科", "外科", "人事科"]
    assert (rows["内科"]["dept"].category, rows["内科"]["dept"].standard_name) == ("科室(部门)", "内科")
    assert (rows["人事科"]["dept"].category, rows["人事科"]["dept"].standard_name) == ("职能部门", None)
    assert [r["staff"] for r in rows.values()] == [1, 1, 1]


def test_initialize_only_when_the_institution_has_no_department(master):
    with pytest.raises(Conflict, match="已有 3 个部门"):
        departments.initialize(master)
    Session.execute(update(Staff).where(Staff.org_id == master.org_id).values(department_id=None))
    Session.execute(delete(Department).where(Department.org_id == master.org_id))
    assert departments.initialize(master) == len(codes.DEPARTMENT_TEMPLATE)
    names = [r["dept"].name for r in departments.tree_view(master)["rows"]]
    assert names == [name for name, _, _ in codes.DEPARTMENT_TEMPLATE]
    assert dept(master.org_id, "急诊科").standard_name == "急诊医学科"
    assert len(actions("department_init")) == 1
    with pytest.raises(Conflict):
        departments.initialize(master)


def test_add_top_level_and_child_departments(master):
    top = departments.add(master, clinical("心血管中心", "内科", sort="3"))
    child = departments.add(master, clinical("心内一病区", "内科"), parent_id=top.id)
    rows = [(r["dept"].name, r["depth"]) for r in departments.tree_view(master)["rows"]]
    assert ("心血管中心", 0) in rows and rows[rows.index(("心血管中心", 0)) + 1] == ("心内一病区", 1)
    assert (top.sort, top.quota, child.parent_id) == (3, 0, top.id)
    assert len(actions("department_create")) == 2


def test_standard_name_required_exactly_for_the_clinical_category(master):
    with pytest.raises(InvalidInput) as exc:
        departments.add(master, {"name": "康复科", "category": codes.CLINICAL_CATEGORY})
    assert "其他科室" in exc.value.fields["standard_name"][0]
    office = departments.add(master, {"name": "院办", "category": "职能部门"})
    assert office.standard_name is None
    other = departments.add(master, clinical("特需门诊", "其他科室"))
    assert other.standard_name == "其他科室"
    with pytest.raises(InvalidInput) as exc:
        departments.add(master, clinical("神经科", "神经内科学"))
    assert "可选值" in exc.value.fields["standard_name"][0]
    with pytest.raises(InvalidInput) as exc:
        departments.add(master, {"name": "", "category": "未知"})
    assert set(exc.value.fields) == {"name", "category"}


def test_names_unique_among_siblings_only(master):
    with pytest.raises(InvalidInput) as exc:
        departments.add(master, clinical("内科", "内科"))
    assert "已有名为“内科”" in exc.value.fields["name"][0]
    surgery = dept(master.org_id, "外科")
    departments.add(master, clinical("内科", "内科"), parent_id=surgery.id)   # another parent: allowed
    with pytest.raises(InvalidInput):
        departments.edit(master, dept(master.org_id, "外科").id, clinical("人事科", "外科"))


def test_edit_keeps_place_and_quota(master):
    internal = dept(master.org_id, "内科")
    assert internal.quota == 40
    departments.edit(master, internal.id, clinical("大内科", "内科", sort="9"))
    assert (internal.name, internal.quota, internal.parent_id, internal.sort) == ("大内科", 40, None, 9)
    event = actions("department_update")[-1]
    assert {"field": "name", "old": "内科", "new": "大内科"} in event.detail["changes"]


def test_delete_refused_while_active_staff_remain(master):
    internal = dept(master.org_id, "内科")
    with pytest.raises(Conflict) as exc:
        departments.delete(master, internal.id)
    assert exc.value.message == "该部门下还有 1 名在职人员，请先在人员信息中将其调整到其他部门后再删除"
    assert exc.value.code == "department_has_staff"
    assert Session.get(Department, internal.id) is not None


def test_delete_allowed_once_the_staff_left_and_unlinks_them(master):
    internal = dept(master.org_id, "内科")
    person = Session().scalars(select(Staff).where(Staff.department_id == internal.id)).one()
    person.employment_status, person.left_on = EmploymentStatus.LEFT, date(2026, 1, 31)
    Session.flush()
    departments.delete(master, internal.id)
    Session.expire_all()
    assert Session.get(Department, internal.id) is None
    assert Session.get(Staff, person.id).department_id is None
    assert actions("department_delete")[-1].detail["quota"] == 40


def test_delete_refused_while_sub_departments_remain(master):
    parent = departments.add(master, {"name": "行政楼", "category": "其他"})
    departments.add(master, {"name": "档案室", "category": "其他"}, parent_id=parent.id)
    with pytest.raises(Conflict, match="1 个下级部门"):
        departments.delete(master, parent.id)


def test_other_institutions_departments_are_not_found(ready):
    other = ready("wchosp001", verified=True)[0]
    mine = Session().scalars(select(Department).where(Department.org_id != other.org_id,
                                                      Department.name == "外科")).first()
    for call in (lambda: departments.get(other, mine.id), lambda: departments.delete(other, mine.id),
                 lambda: departments.edit(other, mine.id, clinical("外科", "外科")),
                 lambda: departments.add(other, clinical("x"), parent_id=mine.id)):
        with pytest.raises(NotFound):
            call()


def test_without_the_function_point_nothing_is_allowed(ready):
    leader = ready("jaleader01", verified=True)[0]       # unit leader: no 机构信息管理 at all
    with pytest.raises(NotAuthorized):
        departments.tree_view(leader)
    with pytest.raises(NotAuthorized):
        departments.add(leader, clinical("x"))
