"""Lanes name roles; this module turns (lane, instance) into the organization whose qualifying members are
the candidates, and answers "does this user qualify" (DESIGN §4).

The candidate organization is stored on each ``HumanTask`` when it is created, so the inbox asks one indexed
question: tasks of my organization, in the lanes I qualify for, not started by me.
"""
from dataclasses import dataclass

from models import Session, utcnow
from models.accounts import User, UserType
from workflows import roles


@dataclass(frozen=True)
class Lane:
    key: str
    label: str
    target: str                    # "own" (the applicant's organization) or "supervisor" (its supervising one)
    user_types: frozenset = frozenset()
    permission: str | None = None  # alternatively: any member holding this function point
    assignee_key: str | None = None  # a named person: the task goes to the user whose id the data holds here
    excluded_types: frozenset = frozenset()   # never candidates, whatever function points they hold


LANES = {lane.key: lane for lane in (
    Lane("applicant", "申请人", "own"),
    Lane("supervising_admin", "主管部门业务管理员", "supervisor", frozenset({UserType.BUSINESS_ADMIN})),
    Lane("institution_reviewer", "本机构审核人", "own", frozenset({UserType.MASTER}), "hr.personnel.resign_review"),
    # the leader's sign-off (单位主管领导签字) is a person other than the unit's business admin, who may hold the
    # function point only to grant it
    Lane("unit_leader", "单位主管领导", "own", frozenset({UserType.MASTER}), "approval.leader",
         excluded_types=frozenset({UserType.BUSINESS_ADMIN})),
    Lane("superior_admin", "上级业务管理员", "supervisor", frozenset({UserType.BUSINESS_ADMIN})),
    Lane("quality_controller", "数据质控员", "own", frozenset({UserType.SAME_LEVEL_1})),
    Lane("leak_admin", "本单位业务管理员", "own", frozenset({UserType.BUSINESS_ADMIN})),
    Lane("successor", "接任业务管理员", "own", assignee_key="successor_id"),
    Lane("institution_master", "本单位总账号/实名审核人", "own", frozenset({UserType.MASTER}), "sys.realname"),
)}


class LaneError(ValueError):
    pass


def lane(key):
    try:
        return LANES[key]
    except KeyError:
        raise LaneError(f"unknown lane {key!r}; known lanes: {', '.join(sorted(LANES))}") from None


def labels():
    return {key: value.label for key, value in LANES.items()}


def candidate_org(lane_key, instance):
    """The organization whose members may act on a task of ``lane_key`` in ``instance``."""
    spec = lane(lane_key)
    if spec.target == "own":
        return instance.org
    supervisor = instance.org.supervisor
    if supervisor is None:
        raise LaneError(f"{instance.org.name} has no supervising organization for lane {lane_key}")
    return supervisor


def assignee_id(lane_key, instance, data):
    """Who a new task of ``lane_key`` belongs to from the start: the applicant for the applicant lane, the
    named person for a named lane (who must be a member of the candidate organization), else nobody yet."""
    if lane_key == "applicant":
        return instance.started_by_id
    spec = lane(lane_key)
    if spec.assignee_key is None:
        return None
    user_id = data.get(spec.assignee_key)
    person = Session().get(User, user_id) if isinstance(user_id, int) else None
    if person is None or person.org_id != candidate_org(lane_key, instance).id:
        raise LaneError(f"lane {lane_key} names no member of the candidate organization ({spec.assignee_key})")
    return person.id


def qualifies(user, lane_key, org_id):
    """May ``user`` act in ``lane_key`` for tasks whose candidates are the members of ``org_id``? Nobody
    claims a task of a named lane: it belongs to its named person from the start."""
    spec = lane(lane_key)
    if lane_key == "applicant" or spec.assignee_key is not None or user.user_type in spec.excluded_types or user.org_id != org_id or not user.is_active or user.is_locked(utcnow()):
        return False
    if user.user_type in spec.user_types:
        return "approval.inbox" in roles.permissions_of(user) or user.user_type == UserType.MASTER
    return spec.permission is not None and spec.permission in roles.permissions_of(user)


def lanes_for(user):
    """The lanes ``user`` qualifies for within its own organization (for the inbox query)."""
    if user.org_id is None:
        return set()
    return {key for key in LANES if key != "applicant" and qualifies(user, key, user.org_id)}
