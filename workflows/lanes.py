"""Lanes name roles; this module turns (lane, instance) into the organization whose qualifying members are
the candidates, and answers "does this user qualify" (DESIGN §4).

The candidate organization is stored on each ``HumanTask`` when it is created, so the inbox asks one indexed
question: tasks of my organization, in the lanes I qualify for, not started by me.
"""
from dataclasses import dataclass

from models import utcnow
from models.accounts import UserType
from workflows import roles


@dataclass(frozen=True)
class Lane:
    key: str
    label: str
    target: str                    # "own" (the applicant's organization) or "supervisor" (its supervising one)
    user_types: frozenset = frozenset()
    permission: str | None = None  # alternatively: any member holding this function point


LANES = {lane.key: lane for lane in (
    Lane("applicant", "申请人", "own"),
    Lane("supervising_admin", "主管部门业务管理员", "supervisor", frozenset({UserType.BUSINESS_ADMIN})),
    Lane("institution_reviewer", "本机构审核人", "own", frozenset({UserType.MASTER}), "hr.personnel.resign_review"),
    Lane("unit_leader", "单位主管领导", "own", frozenset({UserType.MASTER})),
    Lane("superior_admin", "上级业务管理员", "supervisor", frozenset({UserType.BUSINESS_ADMIN})),
    Lane("quality_controller", "数据质控员", "own", frozenset({UserType.SAME_LEVEL_1})),
    Lane("leak_admin", "处置业务管理员", "own", frozenset({UserType.BUSINESS_ADMIN})),
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


def qualifies(user, lane_key, org_id):
    """May ``user`` act in ``lane_key`` for tasks whose candidates are the members of ``org_id``?"""
    spec = lane(lane_key)
    if lane_key == "applicant" or user.org_id != org_id or not user.is_active or user.is_locked(utcnow()):
        return False
    if user.user_type in spec.user_types:
        return "approval.inbox" in roles.permissions_of(user) or user.user_type == UserType.MASTER
    return spec.permission is not None and spec.permission in roles.permissions_of(user)


def lanes_for(user):
    """The lanes ``user`` qualifies for within its own organization (for the inbox query)."""
    if user.org_id is None:
        return set()
    return {key for key in LANES if key != "applicant" and qualifies(user, key, user.org_id)}
