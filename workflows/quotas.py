"""机构编制管理 (Hubei §3.4): staffing quotas (编制).

The business admins allocate a quota to each institution of their jurisdiction (``Organization.quota``, with
``quota_set_at``); the institution then distributes it to its departments (``Department.quota``). The invariant,
kept by both services: the sum of the department quotas never exceeds the allocation. Every check runs after
``SELECT … FOR UPDATE`` on the organization row, so two concurrent distributions (or a distribution and a new
allocation) run one after the other and the second one sees the first one's numbers. Department quotas are
counted flat: a sub-department's quota is its own, not part of its parent's.

Allocating is for business admins holding ``sys.orgs`` (用户单位管理), for the medical institutions and 精防机构
whose region lies within their own region (the system administrator: all); distributing is for holders of
``org.quota`` in their own institution. Both are audited (``quota_allocate``, ``quota_distribute``).
"""
from sqlalchemy import func, select

from models import Session, utcnow
from models.orgs import Department, Organization, OrgKind
from models.regions import Region
from workflows import audit, jurisdiction, roles
from workflows.departments import flatten
from workflows.errors import Conflict, InvalidInput, NotAuthorized, NotFound
from workflows.orgforms import Field, clean, invalid
from workflows.orgprofile import lock_org, own_org

DISTRIBUTE, ALLOCATE = "org.quota", "sys.orgs"
QUOTA_MAX = 1_000_000
ALLOCATION_FIELD = Field("quota", "核定编制数", "int", required=True, minimum=0, maximum=QUOTA_MAX)
ALLOCATED_KINDS = (OrgKind.MEDICAL_INSTITUTION, OrgKind.MENTAL_HEALTH_CENTER)


def distributed(org_id):
    """The sum of the department quotas of an organization."""
    return Session().scalar(select(func.coalesce(func.sum(Department.quota), 0)).where(Department.org_id == org_id))


# --- the institution: distribute to departments ---------------------------------------------------------------

def institution_view(actor):
    org = own_org(actor, DISTRIBUTE)
    used = distributed(org.id)
    return {"org": org, "allocated": org.quota, "distributed": used,
            "remaining": None if org.quota is None else org.quota - used,
            "rows": [{"dept": d, "depth": depth} for d, depth in flatten(org.id)]}


def _field(dept_id):
    return f"quota-{dept_id}"


def distribute(actor, raw):
    """Set department quotas from ``{department_id: quota}`` (departments not given keep theirs). Refused,
    with nothing applied, when a number is not a whole number ≥ 0, a department is not the institution's, no
    quota has been allocated, or the total would exceed the allocation."""
    org = lock_org(own_org(actor, DISTRIBUTE, "quota_distribute").id)
    if org.quota is None:
        raise Conflict("本机构尚未由卫生健康行政部门分配编制，分配编制后才能维护科室编制", code="quota_not_allocated")
    departments = {d.id: d for d in Session().scalars(
        select(Department).where(Department.org_id == org.id).execution_options(populate_existing=True))}
    field = Field("quota", "编制数", "int", required=True, minimum=0, maximum=QUOTA_MAX)
    wanted, errors = {}, {}
    for key, value in (raw or {}).items():
        dept_id = int(key) if isinstance(key, int) or (isinstance(key, str) and key.isdigit()) else None
        if dept_id not in departments:
            raise NotFound("未找到该部门")
        try:
            wanted[dept_id] = clean((field,), {"quota": value})["quota"]
        except InvalidInput as exc:
            errors[_field(dept_id)] = [f"{departments[dept_id].name}：{exc.fields['quota'][0]}"]
    if errors:
        raise InvalidInput("编制数填写有误，请检查标红的项目", fields=errors)
    total = sum(wanted.get(i, d.quota) for i, d in departments.items())
    if total > org.quota:
        raise InvalidInput(f"各科室编制合计 {total} 超过本机构核定编制 {org.quota}，请调整后再保存",
                           fields={"_": [f"各科室编制合计 {total} 超过本机构核定编制 {org.quota}"]})
    changes = []
    for dept_id, quota in wanted.items():
        dept = departments[dept_id]
        if dept.quota != quota:
            changes.append({"department_id": dept_id, "name": dept.name, "old": dept.quota, "new": quota})
            dept.quota = quota
    Session().flush()
    if changes:
        audit.record("quota_distribute", actor=actor, target=org,
                     detail={"changes": changes, "distributed": total, "allocated": org.quota})
    return changes


# --- the business admins: allocate to institutions --------------------------------------------------------------

def _require_allocator(actor):
    if ALLOCATE not in roles.permissions_of(actor) or not (
            jurisdiction.is_business_admin(actor) or jurisdiction.is_system_admin(actor)):
        raise NotAuthorized(audit=("quota_allocate", "endpoint", "quotas"))


def _allocatable_query(actor):
    query = select(Organization).join(Organization.region).where(Organization.kind.in_([str(k) for k in ALLOCATED_KINDS]))
    if not jurisdiction.is_system_admin(actor):
        query = query.where(Region.path.startswith(actor.org.region.path, autoescape=True))
    return query.order_by(Region.path, Organization.id)


def allocation_view(actor, q=None):
    """The institutions of the actor's jurisdiction with their allocated and distributed quotas."""
    _require_allocator(actor)
    query = _allocatable_query(actor)
    if q:
        query = query.where(Organization.name.contains(q.strip(), autoescape=True))
    orgs = Session().scalars(query).all()
    sums = dict(Session().execute(select(Department.org_id, func.sum(Department.quota))
                                  .where(Department.org_id.in_([o.id for o in orgs])).group_by(Department.org_id)).all())
    return [{"org": o, "allocated": o.quota, "distributed": sums.get(o.id) or 0} for o in orgs]


def get_allocatable(actor, org_id):
    _require_allocator(actor)
    org = Session().scalars(_allocatable_query(actor).where(Organization.id == org_id)).one_or_none()
    if org is None:
        raise NotFound()
    return org


def allocate(actor, org_id, raw):
    """Set an institution's quota; refused when it is below what the institution already distributed."""
    org = lock_org(get_allocatable(actor, org_id).id)
    quota = clean((ALLOCATION_FIELD,), raw)["quota"]
    used = distributed(org.id)
    if quota < used:
        raise invalid("quota", f"该机构已分配到科室的编制为 {used}，核定编制数不能少于 {used}（填写的是 {quota}）")
    old = org.quota
    if old == quota:
        return org
    org.quota, org.quota_set_at = quota, utcnow()
    Session().flush()
    audit.record("quota_allocate", actor=actor, target=org, detail={"old": old, "new": quota, "distributed": used})
    return org
