"""部门管理 (Hubei §3.2): the institution's departments, a tree under the institution.

Rules:
- 初始化部门 creates ``codes.DEPARTMENT_TEMPLATE``, and only while the institution has no department at all;
- 科室标准名称 is required exactly when the category is 科室(部门) (``codes.CLINICAL_CATEGORY``), chosen from
  ``codes.STANDARD_DEPARTMENTS`` (其他科室 when nothing fits); for other categories it may stay empty;
- names are unique among siblings (the personnel form and the Excel import find a department by its name);
- a department with active staff cannot be deleted (the message gives the count: move them first in 人员信息),
  nor one with sub-departments; staff who have left keep no link to a deleted department;
- editing keeps the department's place in the tree and its quota (编制 changes only through ``workflows.quotas``);
  a deleted department's quota goes back to the institution's undistributed quota.
Writes lock the organization row, so two concurrent additions cannot create the same sibling name twice.
"""
from sqlalchemy import func, select

from models import Session
from models.orgs import Department, Staff
from workflows import audit, codes
from workflows.errors import Conflict
from workflows.orgforms import Field, clean, current, invalid
from workflows.orgprofile import (active_staff_by, lock_org, name_taken, own_org, own_row, save_changes,
                                  unlink_staff)

VIEW, EDIT = "org.dept", "org.dept.edit"
FIELDS = (
    Field("name", "部门名称", required=True, max_length=64),
    Field("category", "科室(部门)类别", "choice", required=True, choices=codes.DEPARTMENT_CATEGORIES),
    Field("standard_name", "科室标准名称", "choice", choices=codes.STANDARD_DEPARTMENTS,
          hint="类别为“科室(部门)”时必填，没有对应的标准科室时选择“其他科室”；其他类别可不填"),
    Field("sort", "排序号", "int", minimum=0, maximum=9999, hint="同级部门按排序号从小到大排列"),
)


def _departments(org_id):
    return Session().scalars(select(Department).where(Department.org_id == org_id)
                             .order_by(Department.sort, Department.id)).all()


def active_staff_counts(org_id):
    """``{department_id: number of active staff}`` for one organization."""
    return active_staff_by(Staff.department_id, org_id)


def flatten(org_id):
    """``[(department, depth)]`` in tree order (parents first, siblings by sort number)."""
    by_parent = {}
    for dept in _departments(org_id):
        by_parent.setdefault(dept.parent_id, []).append(dept)
    result = []

    def walk(parent_id, depth):
        for dept in by_parent.get(parent_id, []):
            result.append((dept, depth))
            walk(dept.id, depth + 1)
    walk(None, 0)
    return result


def tree_view(actor):
    """The 部门管理 page: the institution and its departments in tree order, with staff counts."""
    org = own_org(actor, VIEW)
    counts = active_staff_counts(org.id)
    rows = flatten(org.id)
    parents = {d.parent_id for d, _ in rows}
    return {"org": org, "rows": [{"dept": d, "depth": depth, "staff": counts.get(d.id, 0),
                                  "has_children": d.id in parents} for d, depth in rows]}


def get(actor, dept_id, permission=VIEW):
    return own_row(actor, permission, Department, dept_id)


def values_of(dept):
    return current(FIELDS, dept)


def _clean(org_id, raw, parent_id, dept_id=None):
    values = clean(FIELDS, raw)
    if values["category"] == codes.CLINICAL_CATEGORY and not values["standard_name"]:
        raise invalid("standard_name", "类别为“科室(部门)”时必须选择科室标准名称（没有对应的标准科室请选择“其他科室”）")
    values["sort"] = values["sort"] or 0
    if name_taken(Department, values["name"], Department.org_id == org_id,
                  Department.parent_id.is_(None) if parent_id is None else Department.parent_id == parent_id,
                  exclude_id=dept_id):
        raise invalid("name", f"同一上级下已有名为“{values['name']}”的部门")
    return values


def initialize(actor):
    """初始化部门: the template departments, only for an institution without any department."""
    org = lock_org(own_org(actor, EDIT, "department_init").id)
    existing = Session().scalar(select(func.count()).select_from(Department).where(Department.org_id == org.id))
    if existing:
        raise Conflict(f"本机构已有 {existing} 个部门，不能再初始化；请直接新增或修改部门", code="departments_exist")
    for sort, (name, category, standard) in enumerate(codes.DEPARTMENT_TEMPLATE):
        Session().add(Department(org_id=org.id, parent_id=None, name=name, category=category,
                                 standard_name=standard, sort=sort, quota=0))
    Session().flush()
    audit.record("department_init", actor=actor, target=org,
                 detail={"count": len(codes.DEPARTMENT_TEMPLATE)})
    return len(codes.DEPARTMENT_TEMPLATE)


def add(actor, raw, parent_id=None):
    """新增: a top-level department, or a child of ``parent_id`` (of the same institution)."""
    org = own_org(actor, EDIT, "department_create")
    if parent_id is not None:
        get(actor, parent_id, EDIT)
    lock_org(org.id)
    values = _clean(org.id, raw, parent_id)
    dept = Department(org_id=org.id, parent_id=parent_id, quota=0, **values)
    Session().add(dept)
    Session().flush()
    audit.record("department_create", actor=actor, target=dept,
                 detail={**values, "parent_id": parent_id})
    return dept


def edit(actor, dept_id, raw):
    """修改 name, category, standard name and sort number; the place in the tree and the quota are kept."""
    dept = get(actor, dept_id, EDIT)
    lock_org(dept.org_id)
    save_changes(actor, "department_update", dept, _clean(dept.org_id, raw, dept.parent_id, dept.id))
    return dept


def delete(actor, dept_id):
    """删除, refused while active staff belong to the department or it has sub-departments."""
    dept = get(actor, dept_id, EDIT)
    lock_org(dept.org_id)
    staff = active_staff_counts(dept.org_id).get(dept.id, 0)
    if staff:
        raise Conflict(f"该部门下还有 {staff} 名在职人员，请先在人员信息中将其调整到其他部门后再删除",
                       code="department_has_staff", staff=staff)
    children = Session().scalar(select(func.count()).select_from(Department).where(Department.parent_id == dept.id))
    if children:
        raise Conflict(f"该部门下还有 {children} 个下级部门，请先删除或调整下级部门后再删除",
                       code="department_has_children", children=children)
    unlink_staff(Staff.department_id, dept.id)
    audit.record("department_delete", actor=actor, target=dept,
                 detail={"name": dept.name, "category": dept.category, "quota": dept.quota})
    Session().delete(dept)
    Session().flush()
