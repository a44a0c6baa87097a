"""Who may see and act on tasks and instances, and the inbox queries (我的待办, 可认领, 已办, 我的申请).

The queries read ``HumanTask`` / ``ProcessInstance`` rows only, through the indexes declared on them, and
never deserialize a workflow. Every predicate here is re-checked by the services on each read and write.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, nulls_last, select
from sqlalchemy.orm import joinedload, load_only

from models import Session
from models.accounts import User, UserStatus
from models.orgs import Organization
from models.workflow import HumanTask, InstanceStatus, ProcessInstance, ProcessSpec, TaskStatus
from workflows import lanes
from workflows.jurisdiction import is_business_admin, is_system_admin

VIEWS = ("assigned", "claimable", "done", "requests")
VIEW_LABELS = {"assigned": "我的待办", "claimable": "可认领", "done": "已办", "requests": "我的申请"}


def can_claim(user, task):
    """A candidate: qualifies for the lane at the task's organization and is not the initiator."""
    return (task.state == TaskStatus.READY and task.lane != "applicant" and user.id != task.initiator_id
            and lanes.qualifies(user, task.lane, task.candidate_org_id))


def can_act(user, task):
    if task.state != TaskStatus.READY:
        return False
    if task.assignee_id is not None:
        return task.assignee_id == user.id and (task.lane == "applicant" or user.id != task.initiator_id)
    return can_claim(user, task)


def can_administer(user, instance):
    """System administrators, and business admins whose region holds the instance's organization."""
    if is_system_admin(user):
        return True
    return is_business_admin(user) and instance.region_path.startswith(user.org.region.path)


def can_see_task(user, task):
    return (task.initiator_id == user.id or task.assignee_id == user.id or task.completed_by_id == user.id
            or can_claim(user, task) or can_administer(user, task.instance))


def can_see_instance(user, instance):
    if instance.started_by_id == user.id or can_administer(user, instance):
        return True
    rows = Session().scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
    return any(row.assignee_id == user.id or row.completed_by_id == user.id or can_claim(user, row)
               for row in rows)


def candidates(task):
    """The users who may act on ``task`` now (the assignee when it has one)."""
    if task.assignee_id is not None:
        return [task.assignee]
    members = Session().scalars(select(User).where(User.org_id == task.candidate_org_id,
                                                   User.status == UserStatus.ACTIVE)).all()
    return [u for u in members if can_claim(u, task)]


@dataclass
class InboxFilter:
    process_key: str | None = None
    org_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(query, flt, created, process_key):
    if flt.process_key:
        query = query.where(process_key == flt.process_key)
    if flt.since:
        query = query.where(created >= flt.since)
    if flt.until:
        query = query.where(created < flt.until)
    if flt.org_id:
        query = query.where(ProcessInstance.org_id == flt.org_id)
    return query


def view_query(user, view, flt=None):
    """The SELECT for one inbox view. Task views are ordered by due date (none last), then age, and read the
    task rows alone (the instance is joined only to filter by the applicant's organization), so the claimable
    view walks ``ix_human_tasks_claimable`` in order and stops at the page's end; instances in error are left
    out through the short list of erroneous instances, not row by row."""
    flt = flt or InboxFilter()
    if view == "requests":
        query = select(ProcessInstance).where(ProcessInstance.started_by_id == user.id)
        return _filtered(query, flt, ProcessInstance.created_at, ProcessInstance.process_key) \
            .order_by(ProcessInstance.id.desc())
    query = select(HumanTask)
    if flt.org_id:
        query = query.join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
    if view == "assigned":
        query = query.where(HumanTask.assignee_id == user.id, HumanTask.state == TaskStatus.READY)
    elif view == "claimable":
        my_lanes = lanes.lanes_for(user)
        if not my_lanes:
            return query.where(False)
        in_error = select(ProcessInstance.id).where(ProcessInstance.status == InstanceStatus.ERROR)
        query = query.where(HumanTask.candidate_org_id == user.org_id, HumanTask.state == TaskStatus.READY,
                            HumanTask.lane.in_(sorted(my_lanes)), HumanTask.assignee_id.is_(None),
                            HumanTask.initiator_id != user.id, HumanTask.instance_id.not_in(in_error))
    elif view == "done":
        query = query.where(HumanTask.completed_by_id == user.id)
        return _filtered(query, flt, HumanTask.completed_at, HumanTask.process_key) \
            .order_by(HumanTask.completed_at.desc())
    else:
        raise ValueError(view)
    return _filtered(query, flt, HumanTask.created_at, HumanTask.process_key).order_by(
        nulls_last(HumanTask.due_at.asc()), HumanTask.id)


def page(user, view, flt=None, page_no=1, per_page=20):
    """One page of a view and the view's total. The rows come with what a list shows (instance, applicant's
    organization, process name) joined in the same query."""
    query = view_query(user, view, flt)
    total = Session().scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    # what the lists show, never a workflow's stored state or a process's definition
    listed = load_only(ProcessInstance.id, ProcessInstance.title, ProcessInstance.status, ProcessInstance.process_key,
                       ProcessInstance.org_id, ProcessInstance.spec_id, ProcessInstance.started_by_id,
                       ProcessInstance.region_path, ProcessInstance.created_at, ProcessInstance.completed_at)
    spec_name = joinedload(ProcessInstance.spec, innerjoin=True).load_only(
        ProcessSpec.name, ProcessSpec.process_key, ProcessSpec.version)
    org_name = joinedload(ProcessInstance.org, innerjoin=True).load_only(Organization.name)
    if view == "requests":
        query = query.options(listed, spec_name, org_name)
    else:   # many-to-one joins on the page's rows only: the database still reads the tasks in index order
        query = query.options(joinedload(HumanTask.instance, innerjoin=True).options(listed, spec_name, org_name))
    rows = Session().scalars(query.limit(per_page).offset((max(page_no, 1) - 1) * per_page)).all()
    return rows, total


def counts(user):
    """Open counts for the menu badges."""
    return {view: Session().scalar(select(func.count()).select_from(view_query(user, view).order_by(None)
                                                                     .subquery()))
            for view in ("assigned", "claimable")}
