"""The demo dataset of DESIGN §10, loaded by ``make run`` and ``flask --app wsgi seed-demo``.

Idempotent: every record is looked up by its natural key and only created when missing, so running it twice
changes nothing. All demo accounts start with the Hubei default password and must change it at first login.
"""
from sqlalchemy import select

from models import Session, utcnow
from models.accounts import PasswordChangeReason, User, UserType
from models.orgs import Department, OrgKind, Organization, Post, Staff, StandardPost
from models.regions import Region, RegionLevel
from workflows import auth, hashing, reference

DEMO_PASSWORD = "Zjrj@-2007"

REGIONS = [  # code, name, level, parent
    ("420000", "湖北省", RegionLevel.PROVINCE, None),
    ("420100", "武汉市", RegionLevel.CITY, "420000"),
    ("420102", "江岸区", RegionLevel.COUNTY, "420100"),
    ("420106", "武昌区", RegionLevel.COUNTY, "420100"),
    ("320000", "江苏省", RegionLevel.PROVINCE, None),
    ("320100", "南京市", RegionLevel.CITY, "320000"),
    ("320102", "玄武区", RegionLevel.COUNTY, "320100"),
]

ORGS = [  # key, kind, name, uscc, licence, category, region, supervisor key
    ("hb", OrgKind.HEALTH_COMMISSION, "湖北省卫生健康委员会", "114200000110435788", None, "卫生行政部门", "420000", None),
    ("wh", OrgKind.HEALTH_COMMISSION, "武汉市卫生健康委员会", "11420100011123456J", None, "卫生行政部门", "420100", "hb"),
    ("ja", OrgKind.HEALTH_COMMISSION, "江岸区卫生健康局", "11420102011200001H", None, "卫生行政部门", "420102", "wh"),
    ("wc", OrgKind.HEALTH_COMMISSION, "武昌区卫生健康局", "114201060113000021", None, "卫生行政部门", "420106", "wh"),
    ("jahosp", OrgKind.MEDICAL_INSTITUTION, "测试医院", "12420102MB1234567T", "PDY00001142010217A1001",
     "综合医院", "420102", "ja"),
    ("wchosp", OrgKind.MEDICAL_INSTITUTION, "武昌测试医院", "12420106MB7654321H", "PDY00002142010617A1002",
     "综合医院", "420106", "wc"),
]

DEPARTMENTS = {  # name, category, standard name, quota (编制)
    "jahosp": [("内科", "科室(部门)", "内科", 40), ("外科", "科室(部门)", "外科", 30), ("人事科", "职能部门", None, 5)],
    "wchosp": [("内科", "科室(部门)", "内科", 0), ("儿科", "科室(部门)", "儿科", 0), ("办公室", "职能部门", None, 0)],
}
QUOTAS = {"jahosp": 120}   # allocated by the district; 75 of them distributed to the departments above
POSTS = {"jahosp": [("医师", "临床医师"), ("护士", "护士"), ("人事专员", "管理岗位")],
         "wchosp": [("医师", "临床医师"), ("护士", "护士")]}
STAFF = {  # staff_no, name, gender, id number, department, post
    "jahosp": [("JA0001", "张伟", "男", "42010219800101001X", "内科", "医师"),
               ("JA0002", "李娜", "女", "420102198503150020", "外科", "护士"),
               ("JA0003", "王强", "男", "420102199211110056", "人事科", "人事专员")],
    "wchosp": [("WC0001", "刘洋", "男", "420106199007200033", "内科", "医师"),
               ("WC0002", "陈静", "女", "420106197805050042", "儿科", "护士")],
}

USERS = [  # username, display name, org key, type, role code, verified
    ("sysadmin01", "系统管理员", None, UserType.SYSTEM_ADMIN, "system_admin", True),
    ("hbadmin01", "湖北省业务管理员", "hb", UserType.BUSINESS_ADMIN, "province_admin", True),
    ("whadmin01", "武汉市业务管理员", "wh", UserType.BUSINESS_ADMIN, "city_admin", True),
    ("jaadmin01", "江岸区业务管理员", "ja", UserType.BUSINESS_ADMIN, "county_admin", True),
    ("wcadmin01", "武昌区业务管理员", "wc", UserType.BUSINESS_ADMIN, "county_admin", True),
    ("jaleader01", "江岸区卫生健康局负责人", "ja", UserType.SAME_LEVEL_2, "unit_leader", True),
    ("jahosp001", "测试医院", "jahosp", UserType.MASTER, "master", False),
    ("wchosp001", "武昌测试医院", "wchosp", UserType.MASTER, "master", False),
]


def _get_or_add(model, lookup, **fields):
    session = Session()
    found = session.scalars(select(model).filter_by(**lookup)).one_or_none()
    if found is None:
        found = model(**lookup, **fields)
        session.add(found)
        session.flush()
    return found


def _regions():
    regions = {}
    for code, name, level, parent in REGIONS:
        region = Session().get(Region, code)
        if region is None:
            region = Region(code, name, level, regions[parent] if parent else None)
            Session().add(region)
            Session().flush()
        regions[code] = region
    return regions


def _orgs():
    orgs = {}
    for key, kind, name, uscc, licence, category, region, supervisor in ORGS:
        orgs[key] = _get_or_add(Organization, {"uscc": uscc}, kind=kind, name=name, licence_no=licence,
                                category=category, region_code=region,
                                supervisor_id=orgs[supervisor].id if supervisor else None)
    return orgs


def _institution_data(orgs):
    for key, quota in QUOTAS.items():
        if orgs[key].quota is None:
            orgs[key].quota, orgs[key].quota_set_at = quota, utcnow()
    for key, rows in DEPARTMENTS.items():
        for sort, (name, category, standard, quota) in enumerate(rows):
            _get_or_add(Department, {"org_id": orgs[key].id, "parent_id": None, "name": name}, sort=sort,
                        category=category, standard_name=standard, quota=quota)
    for key, posts in POSTS.items():
        for sort, (name, standard) in enumerate(posts):
            standard_post = Session().scalars(select(StandardPost).filter_by(region_code=None, name=standard)).one()
            _get_or_add(Post, {"org_id": orgs[key].id, "name": name}, standard_post_id=standard_post.id, sort=sort)
    for key, people in STAFF.items():
        org_id = orgs[key].id
        for staff_no, name, gender, id_number, dept, post in people:
            department = Session().scalars(select(Department).filter_by(org_id=org_id, name=dept)).one()
            post_row = Session().scalars(select(Post).filter_by(org_id=org_id, name=post)).one()
            _get_or_add(Staff, {"org_id": org_id, "staff_no": staff_no}, name=name, gender=gender,
                        id_type="resident_id", id_number=id_number, department_id=department.id,
                        post_id=post_row.id)


def _users(orgs, roles):
    for username, display, org_key, user_type, role_code, verified in USERS:
        if Session().scalars(select(User).filter_by(username=username)).one_or_none() is not None:
            continue
        user = User(username=username, display_name=display, org_id=orgs[org_key].id if org_key else None,
                    user_type=user_type, password_hash=hashing.hash_password(DEMO_PASSWORD),
                    password_change_reason=PasswordChangeReason.INITIAL, real_name_verified=verified,
                    session_token=auth.new_session_token(), roles=[roles[role_code]])
        Session().add(user)
    Session().flush()


def load():
    """Load (or complete) the demo dataset in the current transaction."""
    roles = reference.sync()
    _regions()
    orgs = _orgs()
    _institution_data(orgs)
    _users(orgs, roles)


def is_empty():
    return Session().scalar(select(User.id).limit(1)) is None
