"""The demo dataset is exactly DESIGN §10 and loading it twice changes nothing."""
from sqlalchemy import func, select

from models import Base, Session
from models.accounts import User
from models.orgs import Organization
from models.regions import Region
from workflows import demo
from workflows.identity import normalize_resident_id, normalize_uscc


def counts():
    return {t.name: Session().scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables if t.name not in ("audit_events", "audit_chain_head")}


def test_dataset_matches_the_design():
    regions = {r.code: (r.name, r.level, r.parent_code) for r in Session().scalars(select(Region))}
    assert regions["420102"] == ("江岸区", "county", "420100")
    assert regions["320102"] == ("玄武区", "county", "320100")
    orgs = {o.name: o for o in Session().scalars(select(Organization))}
    assert set(orgs) == {"湖北省卫生健康委员会", "武汉市卫生健康委员会", "江岸区卫生健康局", "武昌区卫生健康局", "测试医院",
                         "武昌测试医院"}
    assert orgs["测试医院"].supervisor.name == "江岸区卫生健康局" and orgs["测试医院"].region_code == "420102"
    for o in orgs.values():
        assert normalize_uscc(o.uscc) == o.uscc
    users = {u.username: u for u in Session().scalars(select(User))}
    expected = {"sysadmin01": True, "hbadmin01": True, "whadmin01": True, "jaadmin01": True, "wcadmin01": True,
                "jahosp001": False, "wchosp001": False}
    assert {name: users[name].real_name_verified for name in expected} == expected
    assert all(users[name].password_change_reason == "initial" for name in expected)


def test_staff_ids_are_valid():
    for people in demo.STAFF.values():
        for _no, _name, _gender, id_number, _dept, _post in people:
            assert normalize_resident_id(id_number) == id_number


def test_loading_twice_changes_nothing():
    before = counts()
    demo.load()
    Session.flush()
    assert counts() == before
