"""机构岗位管理 (Hubei §3.3) and the standard posts (标准岗位) the regions provide.

An institution keeps its own posts (names of its choosing) and maps each to a standard post — one of its own
region, of a region above it, or a nationwide one (``region_code`` NULL, seeded from ``codes.STANDARD_POSTS``).
Statistics across institutions read the standard post, and the Excel import requires at least one mapped post
(``has_mapped_post``).

Standard posts are kept by the business admins (function point ``sys.standard_posts``) for their own region;
the system administrator keeps the nationwide ones. A post held by active staff cannot be deleted, nor a
standard post that institution posts still map to (each refusal gives the count).
"""
from sqlalchemy import func, or_, select

from models import Session
from models.orgs import Post, Staff, StandardPost
from models.regions import Region
from workflows import audit, codes, jurisdiction, roles
from workflows.errors import Conflict, NotAuthorized, NotFound
from workflows.orgforms import Field, clean, current, invalid
from workflows.orgprofile import (active_staff_by, lock_org, name_taken, own_org, own_row, save_changes,
                                  unlink_staff)

VIEW, EDIT, STANDARD = "org.post", "org.post.edit", "sys.standard_posts"
FIELDS = (
    Field("name", "岗位名称", required=True, max_length=64),
    Field("sort", "排序号", "int", minimum=0, maximum=9999),
)
STANDARD_CATEGORIES = tuple(dict.fromkeys(c for _, c in codes.STANDARD_POSTS))
STANDARD_FIELDS = (
    Field("name", "标准岗位名称", required=True, max_length=64),
    Field("category", "岗位类别", "choice", required=True, choices=STANDARD_CATEGORIES),
    Field("sort", "排序号", "int", minimum=0, maximum=9999),
)


# --- the institution's posts ---------------------------------------------------------------------------------

def active_holders(org_id):
    """``{post_id: number of active staff}``."""
    return active_staff_by(Staff.post_id, org_id)


def posts_of(org_id):
    return Session().scalars(select(Post).where(Post.org_id == org_id).order_by(Post.sort, Post.id)).all()


def has_mapped_post(org):
    """Whether the institution has at least one post mapped to a standard post (the import needs one)."""
    return Session().scalars(select(Post.id).where(Post.org_id == org.id, Post.standard_post_id.is_not(None))
                             .limit(1)).first() is not None


def list_view(actor):
    org = own_org(actor, VIEW)
    holders = active_holders(org.id)
    return {"org": org, "rows": [{"post": p, "staff": holders.get(p.id, 0)} for p in posts_of(org.id)],
            "mapped": has_mapped_post(org)}


def get(actor, post_id, permission=VIEW):
    return own_row(actor, permission, Post, post_id)


def values_of(post):
    return current(FIELDS, post)


def _clean(org_id, raw, post_id=None):
    values = clean(FIELDS, raw)
    values["sort"] = values["sort"] or 0
    if name_taken(Post, values["name"], Post.org_id == org_id, exclude_id=post_id):
        raise invalid("name", f"本机构已有名为“{values['name']}”的岗位")
    return values


def create(actor, raw):
    org = lock_org(own_org(actor, EDIT, "post_create").id)
    values = _clean(org.id, raw)
    post = Post(org_id=org.id, **values)
    Session().add(post)
    Session().flush()
    audit.record("post_create", actor=actor, target=post, detail=values)
    return post


def edit(actor, post_id, raw):
    post = get(actor, post_id, EDIT)
    lock_org(post.org_id)
    save_changes(actor, "post_update", post, _clean(post.org_id, raw, post.id))
    return post


def delete(actor, post_id):
    post = get(actor, post_id, EDIT)
    lock_org(post.org_id)
    held = active_holders(post.org_id).get(post.id, 0)
    if held:
        raise Conflict(f"该岗位还有 {held} 名在职人员，请先在人员信息中将其调整到其他岗位后再删除",
                       code="post_has_staff", staff=held)
    unlink_staff(Staff.post_id, post.id)
    audit.record("post_delete", actor=actor, target=post, detail={"name": post.name})
    Session().delete(post)
    Session().flush()


# --- 映射管理 ----------------------------------------------------------------------------------------------------

def _region_chain(region):
    codes_ = []
    while region is not None:
        codes_.append(region.code)
        region = region.parent
    return codes_


def candidates(org):
    """The standard posts ``org`` may map to: nationwide, and those of its region and the regions above."""
    return Session().scalars(select(StandardPost).outerjoin(StandardPost.region).where(or_(
        StandardPost.region_code.is_(None), StandardPost.region_code.in_(_region_chain(org.region))))
        .order_by(Region.path.is_not(None), Region.path, StandardPost.sort, StandardPost.id)).all()


def mapping_view(actor, post_id):
    post = get(actor, post_id, VIEW)
    return {"post": post, "candidates": candidates(post.org)}


def map_post(actor, post_id, standard_post_id):
    """映射: link the post to one of its candidates (None removes the mapping)."""
    post = get(actor, post_id, EDIT)
    if standard_post_id is not None:
        if standard_post_id not in {s.id for s in candidates(post.org)}:
            raise invalid("standard_post_id", "请选择本地区或全国通用的标准岗位")
    old = post.standard_post.name if post.standard_post else None
    post.standard_post_id = standard_post_id
    Session().flush()
    Session().refresh(post, ["standard_post"])
    new = post.standard_post.name if post.standard_post else None
    audit.record("post_map", actor=actor, target=post, detail={"old": old, "new": new})
    return post


# --- 标准岗位维护 (business admins) -------------------------------------------------------------------------------

def _maintainer_region(actor):
    """The region whose standard posts the actor keeps: a business admin's own region, None (nationwide) for
    the system administrator."""
    if STANDARD not in roles.permissions_of(actor):
        raise NotAuthorized(audit=("standard_posts", "endpoint", "standard_posts"))
    if jurisdiction.is_system_admin(actor):
        return None
    if not jurisdiction.is_business_admin(actor) or actor.org is None:
        raise NotAuthorized("只有业务管理员可以维护标准岗位", audit=("standard_posts", "endpoint", "standard_posts"))
    return actor.org.region


def mapped_counts():
    rows = Session().execute(select(Post.standard_post_id, func.count()).where(Post.standard_post_id.is_not(None))
                             .group_by(Post.standard_post_id))
    return dict(rows.all())


def standard_view(actor):
    """Own standard posts (editable) and those inherited from the regions above and nationwide (read-only)."""
    region = _maintainer_region(actor)
    counts = mapped_counts()
    if region is None:
        own = Session().scalars(select(StandardPost).where(StandardPost.region_code.is_(None))
                                .order_by(StandardPost.sort, StandardPost.id)).all()
        inherited = []
    else:
        own = Session().scalars(select(StandardPost).where(StandardPost.region_code == region.code)
                                .order_by(StandardPost.sort, StandardPost.id)).all()
        chain = _region_chain(region.parent)
        inherited = [s for s in Session().scalars(select(StandardPost).outerjoin(StandardPost.region).where(or_(
            StandardPost.region_code.is_(None), StandardPost.region_code.in_(chain)))
            .order_by(Region.path.is_not(None), Region.path, StandardPost.sort, StandardPost.id))]
    return {"region": region, "own": [{"post": s, "mapped": counts.get(s.id, 0)} for s in own],
            "inherited": inherited}


def get_standard(actor, standard_id):
    region = _maintainer_region(actor)
    standard = Session().get(StandardPost, standard_id)
    if standard is None or standard.region_code != (region.code if region else None):
        raise NotFound()
    return standard


def standard_values(standard):
    return current(STANDARD_FIELDS, standard)


def _clean_standard(region_code, raw, standard_id=None):
    values = clean(STANDARD_FIELDS, raw)
    values["sort"] = values["sort"] or 0
    if name_taken(StandardPost, values["name"], StandardPost.region_code.is_(None) if region_code is None
                  else StandardPost.region_code == region_code, exclude_id=standard_id):
        raise invalid("name", f"本地区已有名为“{values['name']}”的标准岗位")
    return values


def create_standard(actor, raw):
    region = _maintainer_region(actor)
    if actor.org is not None:
        lock_org(actor.org_id)
    values = _clean_standard(region.code if region else None, raw)
    standard = StandardPost(region_code=region.code if region else None, **values)
    Session().add(standard)
    Session().flush()
    audit.record("standard_post_create", actor=actor, target=standard,
                 detail={**values, "region_code": standard.region_code})
    return standard


def edit_standard(actor, standard_id, raw):
    standard = get_standard(actor, standard_id)
    save_changes(actor, "standard_post_update", standard, _clean_standard(standard.region_code, raw, standard.id))
    return standard


def delete_standard(actor, standard_id):
    standard = get_standard(actor, standard_id)
    mapped = mapped_counts().get(standard.id, 0)
    if mapped:
        raise Conflict(f"该标准岗位已被 {mapped} 个机构岗位映射，请先解除映射后再删除",
                       code="standard_post_mapped", posts=mapped)
    audit.record("standard_post_delete", actor=actor, target=standard,
                 detail={"name": standard.name, "region_code": standard.region_code})
    Session().delete(standard)
    Session().flush()
