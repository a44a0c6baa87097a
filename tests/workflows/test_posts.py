"""机构岗位管理 and 标准岗位维护 through ``workflows.posts``: posts with unique names, deletion refused while active
staff hold the post, mapping to the standard posts of the own region, the regions above or nationwide, the
standard posts kept by business admins per region (deletion refused while mapped), ``has_mapped_post``."""
from datetime import date

import pytest
from sqlalchemy import select, update

from models import Session
from models.orgs import EmploymentStatus, Organization, Post, Staff, StandardPost
from workflows import permissions, posts
from workflows.errors import Conflict, InvalidInput, NotAuthorized, NotFound


@pytest.fixture
def master(ready):
    return ready("jahosp001", verified=True)[0]


def post(org_id, name):
    return Session().scalars(select(Post).where(Post.org_id == org_id, Post.name == name)).one()


def nationwide(name):
    return Session().scalars(select(StandardPost).where(StandardPost.region_code.is_(None),
                                                        StandardPost.name == name)).one()


def test_list_shows_posts_with_standard_post_and_holders(master):
    view = posts.list_view(master)
    rows = {r["post"].name: r for r in view["rows"]}
    assert list(rows) == ["医师", "护士", "人事专员"]
    assert rows["医师"]["post"].standard_post.name == "临床医师" and rows["医师"]["staff"] == 1
    assert view["mapped"] is True


def test_create_edit_and_unique_names(master):
    created = posts.create(master, {"name": "主治医师岗", "sort": "5"})
    assert (created.sort, created.standard_post_id) == (5, None)
    with pytest.raises(InvalidInput) as exc:
        posts.create(master, {"name": "医师"})
    assert "已有名为“医师”" in exc.value.fields["name"][0]
    posts.edit(master, created.id, {"name": "主治医师"})
    assert created.name == "主治医师"
    with pytest.raises(InvalidInput):
        posts.edit(master, created.id, {"name": "护士"})
    with pytest.raises(InvalidInput):
        posts.create(master, {"name": " "})


def test_delete_refused_while_active_staff_hold_the_post(master):
    doctor = post(master.org_id, "医师")
    with pytest.raises(Conflict) as exc:
        posts.delete(master, doctor.id)
    assert "还有 1 名在职人员" in exc.value.message and exc.value.code == "post_has_staff"
    holder = Session().scalars(select(Staff).where(Staff.post_id == doctor.id)).one()
    holder.employment_status, holder.left_on = EmploymentStatus.LEFT, date(2026, 2, 1)
    Session.flush()
    posts.delete(master, doctor.id)
    Session.expire_all()
    assert Session.get(Post, doctor.id) is None and Session.get(Staff, holder.id).post_id is None


def test_mapping_to_own_region_above_and_nationwide_only(ready):
    master, county, city, other_county = ready("jahosp001", "jaadmin01", "whadmin01", "wcadmin01", verified=True)
    ja_post = posts.create_standard(county, {"name": "江岸全科医生", "category": "卫生技术人员"})
    wh_post = posts.create_standard(city, {"name": "武汉规培医师", "category": "卫生技术人员"})
    wc_post = posts.create_standard(other_county, {"name": "武昌专属岗位", "category": "管理人员"})
    candidates = {s.id for s in posts.candidates(master.org)}
    assert {ja_post.id, wh_post.id, nationwide("护士").id} <= candidates and wc_post.id not in candidates
    nurse = post(master.org_id, "护士")
    for target in (ja_post, wh_post, nationwide("药师")):
        posts.map_post(master, nurse.id, target.id)
        assert nurse.standard_post_id == target.id
    with pytest.raises(InvalidInput):
        posts.map_post(master, nurse.id, wc_post.id)
    posts.map_post(master, nurse.id, None)
    assert nurse.standard_post_id is None


def test_has_mapped_post(master):
    org = master.org
    assert posts.has_mapped_post(org) is True
    Session.execute(update(Post).where(Post.org_id == org.id).values(standard_post_id=None))
    assert posts.has_mapped_post(org) is False


def test_other_institutions_posts_are_not_found(ready):
    other = ready("wchosp001", verified=True)[0]
    foreign = Session().scalars(select(Post).join(Organization).where(Organization.id != other.org_id,
                                                                      Post.name == "人事专员")).one()
    with pytest.raises(NotFound):
        posts.map_post(other, foreign.id, nationwide("护士").id)
    with pytest.raises(NotFound):
        posts.delete(other, foreign.id)


def test_standard_posts_kept_per_region_and_not_deleted_while_mapped(ready):
    master, county, other_county = ready("jahosp001", "jaadmin01", "wcadmin01", verified=True)
    own = posts.create_standard(county, {"name": "江岸护理岗", "category": "卫生技术人员", "sort": "2"})
    assert own.region_code == "420102"
    with pytest.raises(InvalidInput):
        posts.create_standard(county, {"name": "江岸护理岗", "category": "卫生技术人员"})
    with pytest.raises(InvalidInput):
        posts.create_standard(county, {"name": "x", "category": "不存在的类别"})
    view = posts.standard_view(county)
    assert [r["post"].name for r in view["own"]] == ["江岸护理岗"]
    assert "临床医师" in {s.name for s in view["inherited"]}
    with pytest.raises(NotFound):                          # another county's admin
        posts.edit_standard(other_county, own.id, {"name": "y", "category": "管理人员"})
    with pytest.raises(NotFound):                          # nationwide ones belong to the system administrator
        posts.delete_standard(county, nationwide("护士").id)
    posts.map_post(master, post(master.org_id, "护士").id, own.id)
    with pytest.raises(Conflict) as exc:
        posts.delete_standard(county, own.id)
    assert exc.value.message == "该标准岗位已被 1 个机构岗位映射，请先解除映射后再删除"
    posts.edit_standard(county, own.id, {"name": "江岸护理岗位", "category": "卫生技术人员"})
    posts.map_post(master, post(master.org_id, "护士").id, None)
    posts.delete_standard(county, own.id)
    assert Session.get(StandardPost, own.id) is None


def test_system_administrator_keeps_the_nationwide_standard_posts(ready):
    admin = ready("sysadmin01")[0]
    created = posts.create_standard(admin, {"name": "全国新岗位", "category": "管理人员"})
    assert created.region_code is None
    with pytest.raises(InvalidInput):
        posts.create_standard(admin, {"name": "护士", "category": "卫生技术人员"})


def test_only_business_admins_hold_standard_post_maintenance(ready):
    master = ready("jahosp001", verified=True)[0]
    with pytest.raises(NotAuthorized):
        posts.standard_view(master)
    grants = {code: perms for code, _, _, perms in permissions.DEFAULT_ROLES}
    assert "sys.standard_posts" in grants["county_admin"] and "sys.standard_posts" in grants["province_admin"]
    assert "sys.standard_posts" not in grants["master"]
