"""Who may see and manage whom (Jiangsu §一.(三); Hubei §7).

Seeing: a business administrator sees the users and organizations of its region subtree; an institution's
master account sees its own institution; the system administrator sees everything.

Managing (create, edit, lock, unlock, reset, delete) follows the user types each level is given:
- a business admin manages the business admins of the regions directly below its own (下级业务管理员),
  the same-level users of organizations in its own region (本级用户), and the direct-report users, institution
  master accounts and their sub-accounts of organizations located in its own region (直报用户 and the
  institutions it supervises; a county admin for county institutions, a city admin for institutions placed
  directly under the city);
- a master account manages the sub-accounts of its own institution, never itself;
- the system administrator manages everyone, including province business admins.
Nobody manages its own account through these functions. Regions are compared through the tree, never by
code prefixes.
"""
from sqlalchemy import select

from models import Session
from models.accounts import User, UserStatus, UserType
from models.orgs import Organization
from models.regions import Region

SAME_LEVEL = {UserType.SAME_LEVEL_1, UserType.SAME_LEVEL_2}
SUPERVISED = {UserType.DIRECT_REPORT, UserType.MASTER, UserType.SUB_ACCOUNT}


def is_system_admin(actor):
    return actor.user_type == UserType.SYSTEM_ADMIN


def is_business_admin(actor):
    return actor.user_type == UserType.BUSINESS_ADMIN


def can_see_org(actor, org):
    if is_system_admin(actor):
        return True
    if is_business_admin(actor):
        return org.region.is_within(actor.org.region)
    return org.id == actor.org_id


def can_see_user(actor, user):
    if user.status == UserStatus.DELETED:
        return False
    if user.id == actor.id or is_system_admin(actor):
        return True
    if user.org is None:
        return False
    return can_see_org(actor, user.org) if (is_business_admin(actor) or actor.user_type == UserType.MASTER) else False


def can_manage(actor, user_type, org):
    """May ``actor`` manage an account of ``user_type`` at ``org`` (an existing one or one to create)?"""
    if is_system_admin(actor):
        return True
    if org is None:
        return False
    user_type = UserType(user_type)
    if is_business_admin(actor):
        home = actor.org.region
        if user_type == UserType.BUSINESS_ADMIN:
            return org.region.parent_code == home.code
        if user_type in SAME_LEVEL or user_type in SUPERVISED:
            return org.region_code == home.code
        return False
    if actor.user_type == UserType.MASTER:
        return user_type == UserType.SUB_ACCOUNT and org.id == actor.org_id
    return False


def can_manage_user(actor, user):
    if user.id == actor.id or user.status == UserStatus.DELETED:
        return False
    return can_manage(actor, user.user_type, user.org)


def visible_orgs_query(actor):
    query = select(Organization).join(Organization.region).order_by(Region.path, Organization.id)
    if is_system_admin(actor):
        return query
    if is_business_admin(actor):
        return query.where(Region.path.startswith(actor.org.region.path, autoescape=True))
    return query.where(Organization.id == actor.org_id)


def visible_users_query(actor):
    """Users the actor may see, as a SELECT to filter and page further."""
    query = select(User).where(User.status != UserStatus.DELETED).order_by(User.id)
    if is_system_admin(actor):
        return query
    if is_business_admin(actor):
        subtree = select(Organization.id).join(Organization.region).where(
            Region.path.startswith(actor.org.region.path, autoescape=True))
        return query.where(User.org_id.in_(subtree))
    if actor.user_type == UserType.MASTER:
        return query.where(User.org_id == actor.org_id)
    return query.where(User.id == actor.id)


def manageable_types(actor):
    """The user types the actor may create, for forms: ``[(UserType, [orgs])]``."""
    orgs = list(Session().scalars(visible_orgs_query(actor)))
    result = []
    for user_type in UserType:
        if user_type == UserType.SYSTEM_ADMIN:
            continue
        targets = [o for o in orgs if can_manage(actor, user_type, o)]
        if targets:
            result.append((user_type, targets))
    return result

