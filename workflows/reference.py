"""Reference data every deployment needs: the permission tree, the default system roles and the nationwide
standard posts.

Run after each migration (``flask db upgrade``) and by the demo loader. Permissions follow the catalogue in
code (new ones are added, names and places updated, removed ones deleted); default roles are created when
missing but never overwritten, so a system administrator's later edits stand.
"""
from sqlalchemy import select

from models import Session
from models.accounts import Permission, Role
from models.orgs import StandardPost
from workflows import codes, permissions


def sync_permissions():
    session = Session()
    existing = {p.code: p for p in session.scalars(select(Permission))}
    wanted = permissions.flat()
    for code, name, parent, sort in wanted:   # tree order: parents come before children
        perm = existing.get(code) or Permission(code=code)
        perm.name, perm.parent_code, perm.sort = name, parent, sort
        session.add(perm)
        session.flush()
    known = {code for code, *_ in wanted}
    for code in sorted(set(existing) - known, key=len, reverse=True):
        session.delete(existing[code])
    session.flush()


def ensure_default_roles():
    session = Session()
    by_code = {}
    for sort, (code, name, role_type, grants) in enumerate(permissions.DEFAULT_ROLES):
        role = session.scalars(select(Role).where(Role.code == code)).one_or_none()
        if role is None:
            role = Role(code=code, name=name, role_type=role_type, sort=sort, status="normal",
                        description="系统预置角色")
            role.permissions = list(session.scalars(select(Permission).where(Permission.code.in_(grants))))
            session.add(role)
        by_code[code] = role
    session.flush()
    return by_code


def ensure_standard_posts():
    """Nationwide standard posts, created when missing and never overwritten."""
    session = Session()
    known = set(session.scalars(select(StandardPost.name).where(StandardPost.region_code.is_(None))))
    for sort, (name, category) in enumerate(codes.STANDARD_POSTS):
        if name not in known:
            session.add(StandardPost(region_code=None, name=name, category=category, sort=sort))
    session.flush()


def sync():
    sync_permissions()
    ensure_standard_posts()
    return ensure_default_roles()
