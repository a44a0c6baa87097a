"""Roles and their function points (Hubei §7.1).

A role belongs to an organization (``org_id``) or is a system role (``org_id`` NULL, edited only by the system
administrator). Rules: a creator grants only function points it holds itself; nobody edits a role it holds;
a role still assigned to accounts cannot be deleted.
"""
from sqlalchemy import func, or_, select

from models import Session
from models.accounts import Permission, Role, User, UserStatus, UserType, user_roles
from workflows import audit, permissions
from workflows.errors import InvalidInput, NotAuthorized, NotFound
from workflows.jurisdiction import is_system_admin


def permissions_of(user):
    """The function points a user holds now (read per request, so a revoked role takes effect at once)."""
    if user.user_type == UserType.SYSTEM_ADMIN:
        return permissions.all_codes()
    return {p.code for role in user.roles if role.status == "normal" for p in role.permissions}


def can_edit_role(actor, role):
    if role in actor.roles:
        return False
    if role.org_id is None:
        return is_system_admin(actor)
    return is_system_admin(actor) or role.org_id == actor.org_id


def visible_roles_query(actor):
    query = select(Role).order_by(Role.org_id.is_not(None), Role.sort, Role.id)
    if is_system_admin(actor):
        return query
    return query.where(or_(Role.org_id.is_(None), Role.org_id == actor.org_id))


def get_role(actor, role_id):
    role = Session().get(Role, role_id)
    if role is None or not (is_system_admin(actor) or role.org_id in (None, actor.org_id)):
        raise NotFound()
    return role


def can_grant(actor, role, held=None):
    held = permissions_of(actor) if held is None else held
    return role.status == "normal" and role.permission_codes <= held


def assignable_roles(actor, org):
    """Roles the actor may give to an account of ``org``: system roles and ``org``'s own roles whose
    function points the actor holds itself."""
    held = permissions_of(actor)
    query = select(Role).where(or_(Role.org_id.is_(None), Role.org_id == (org.id if org else None)))
    return [r for r in Session().scalars(query.order_by(Role.sort, Role.id)) if can_grant(actor, r, held)]


def _clean(actor, name, codes):
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["请填写角色名称"]
    elif len(name) > 64:
        errors["name"] = ["角色名称不得超过64个字符"]
    try:
        wanted = permissions.with_ancestors(codes or ())
    except KeyError:
        errors["permissions"] = ["包含未知的功能点"]
        wanted = set()
    missing = wanted - permissions_of(actor)
    if missing:
        names = "、".join(sorted(permissions.names()[c] for c in missing))
        errors["permissions"] = [f"不能授予您自己没有的功能点：{names}"]
    if errors:
        raise InvalidInput(fields=errors)
    return name, wanted


def _set_permissions(role, codes):
    role.permissions = list(Session().scalars(select(Permission).where(Permission.code.in_(codes))))


def create_role(actor, *, name, permission_codes, role_type=None, sort=0, status="normal", description=None):
    if not is_system_admin(actor) and actor.org_id is None:
        raise NotAuthorized()
    name, codes = _clean(actor, name, permission_codes)
    org_id = None if is_system_admin(actor) else actor.org_id
    _unique_name(org_id, name)
    role = Role(name=name, org_id=org_id, role_type=role_type, sort=sort or 0, status=_status(status),
                description=description, parent_role_id=actor.roles[0].id if actor.roles else None)
    _set_permissions(role, codes)
    Session().add(role)
    Session().flush()
    audit.record("role_create", actor=actor, target=role, detail={"permissions": sorted(codes)})
    return role


def update_role(actor, role, *, name, permission_codes, role_type=None, sort=0, status="normal",
                description=None):
    if not can_edit_role(actor, role):
        raise NotAuthorized("不能修改该角色（不能修改自己所属的角色或其他单位的角色）",
                            audit=("role_update", "role", role.id))
    name, codes = _clean(actor, name, permission_codes)
    if name != role.name:
        _unique_name(role.org_id, name)
    before = role.permission_codes
    role.name, role.role_type, role.sort, role.description = name, role_type, sort or 0, description
    role.status = _status(status)
    _set_permissions(role, codes)
    audit.record("role_update", actor=actor, target=role, detail={
        "added": sorted(codes - before), "removed": sorted(before - codes), "status": role.status})
    return role


def delete_role(actor, role):
    if not can_edit_role(actor, role):
        raise NotAuthorized("不能删除该角色", audit=("role_delete", "role", role.id))
    holders = Session().scalar(select(func.count()).select_from(user_roles).join(User).where(
        user_roles.c.role_id == role.id, User.status != UserStatus.DELETED))
    if holders:
        raise InvalidInput(f"该角色已分配给 {holders} 个账号，请先取消分配后再删除", code="role_in_use")
    audit.record("role_delete", actor=actor, target=role)
    Session().delete(role)


def _unique_name(org_id, name):
    clash = Session().scalar(select(Role.id).where(Role.org_id.is_(org_id) if org_id is None
                                                   else Role.org_id == org_id, Role.name == name))
    if clash:
        raise InvalidInput(fields={"name": ["已存在同名角色"]})


def _status(status):
    if status not in ("normal", "disabled"):
        raise InvalidInput(fields={"status": ["状态只能是正常或停用"]})
    return status
