"""机构编制管理 through ``workflows.quotas``: business admins allocate within their jurisdiction and never below what
the institution already distributed; the institution distributes to departments and the sum never exceeds the
allocation — also when two distributions run at the same moment (the organization row lock)."""
import threading
import time

import pytest
from sqlalchemy import select

from models import Session
from models.accounts import User
from models.audit import AuditEvent
from models.orgs import Department, Organization
from workflows import quotas
from workflows.errors import Conflict, InvalidInput, NotAuthorized, NotFound

WUCHANG_HOSPITAL = "12420106MB7654321H"


@pytest.fixture
def master(ready):
    return ready("jahosp001", verified=True)[0]


def depts(org_id):
    return {d.name: d for d in Session().scalars(select(Department).where(Department.org_id == org_id))}


def other_hospital():
    return Session().scalars(select(Organization).where(Organization.uscc == WUCHANG_HOSPITAL)).one()


def test_demo_institution_has_an_allocation_partly_distributed(master):
    view = quotas.institution_view(master)
    assert (view["allocated"], view["distributed"], view["remaining"]) == (120, 75, 45)
    assert [r["dept"].name for r in view["rows"]] == ["内科", "外科", "人事科"]


def test_distribute_within_the_allocation_is_saved_and_audited(master):
    d = depts(master.org_id)
    changes = quotas.distribute(master, {str(d["内科"].id): "60", str(d["人事科"].id): 5})
    assert changes == [{"department_id": d["内科"].id, "name": "内科", "old": 40, "new": 60}]
    assert quotas.distributed(master.org_id) == 95
    event = Session().scalars(select(AuditEvent).where(AuditEvent.action == "quota_distribute")).one()
    assert (event.detail["distributed"], event.detail["allocated"]) == (95, 120)
    quotas.distribute(master, {str(d["内科"].id): "85"})          # exactly the allocation: allowed
    assert quotas.distributed(master.org_id) == 120


def test_sum_above_the_allocation_is_refused_and_nothing_changes(master):
    d = depts(master.org_id)
    with pytest.raises(InvalidInput) as exc:
        quotas.distribute(master, {str(d["外科"].id): "80", str(d["内科"].id): "36"})
    assert exc.value.message == "各科室编制合计 121 超过本机构核定编制 120，请调整后再保存"
    Session.expire_all()
    assert (depts(master.org_id)["外科"].quota, depts(master.org_id)["内科"].quota) == (30, 40)


@pytest.mark.parametrize("value, message", [("-1", "不能小于 0"), ("2.5", "整数"), ("abc", "整数"), ("", "请填写")])
def test_bad_numbers_are_refused_per_department(master, value, message):
    d = depts(master.org_id)
    with pytest.raises(InvalidInput) as exc:
        quotas.distribute(master, {str(d["外科"].id): value, str(d["内科"].id): "1"})
    assert list(exc.value.fields) == [f"quota-{d['外科'].id}"]
    assert message in exc.value.fields[f"quota-{d['外科'].id}"][0] and "外科" in exc.value.fields[f"quota-{d['外科'].id}"][0]
    Session.expire_all()
    assert depts(master.org_id)["内科"].quota == 40


def test_no_allocation_no_distribution_and_foreign_departments_not_found(ready, master):
    other = ready("wchosp001", verified=True)[0]
    assert quotas.institution_view(other)["allocated"] is None
    with pytest.raises(Conflict, match="尚未由卫生健康行政部门分配编制"):
        quotas.distribute(other, {str(depts(other.org_id)["内科"].id): "1"})
    with pytest.raises(NotFound):
        quotas.distribute(master, {str(depts(other.org_id)["内科"].id): "1"})


def test_admin_allocates_within_jurisdiction_not_below_the_distributed_sum(ready, master):
    county, city, other_county = ready("jaadmin01", "whadmin01", "wcadmin01", verified=True)
    rows = {r["org"].name: r for r in quotas.allocation_view(county)}
    assert list(rows) == ["测试医院"] and (rows["测试医院"]["allocated"], rows["测试医院"]["distributed"]) == (120, 75)
    assert {r["org"].name for r in quotas.allocation_view(city)} == {"测试医院", "武昌测试医院"}
    with pytest.raises(InvalidInput) as exc:
        quotas.allocate(county, master.org_id, {"quota": "70"})
    assert exc.value.fields["quota"][0] == "该机构已分配到科室的编制为 75，核定编制数不能少于 75（填写的是 70）"
    with pytest.raises(InvalidInput):
        quotas.allocate(county, master.org_id, {"quota": "-5"})
    quotas.allocate(county, master.org_id, {"quota": "75"})
    assert master.org.quota == 75 and master.org.quota_set_at is not None
    event = Session().scalars(select(AuditEvent).where(AuditEvent.action == "quota_allocate")).one()
    assert (event.detail["old"], event.detail["new"], event.actor_name) == (120, 75, "jaadmin01")
    with pytest.raises(NotFound):                    # another county's institution
        quotas.allocate(other_county, master.org_id, {"quota": "200"})
    quotas.allocate(city, other_hospital().id, {"quota": "30"})
    assert other_hospital().quota == 30


def test_institutions_cannot_allocate(master):
    with pytest.raises(NotAuthorized):
        quotas.allocation_view(master)
    with pytest.raises(NotAuthorized):
        quotas.allocate(master, master.org_id, {"quota": "999"})


def test_distribution_and_allocation_lock_the_organization_row(master, monkeypatch):
    locked = []
    original = quotas.lock_org
    monkeypatch.setattr(quotas, "lock_org", lambda org_id: locked.append(org_id) or original(org_id))
    quotas.distribute(master, {})
    admin = Session().scalars(select(User).where(User.username == "jaadmin01")).one()
    quotas.allocate(admin, master.org_id, {"quota": "130"})
    assert locked == [master.org_id, master.org_id]


@pytest.mark.live
def test_two_concurrent_distributions_cannot_both_pass(live_app):
    """Two people distribute at the same moment, each within the allocation on its own but not together: the
    second waits for the first one's row lock, then sees its numbers and is refused."""
    with live_app.app_context():
        actor = Session().scalars(select(User).where(User.username == "jahosp001")).one()
        org = Session.get(Organization, actor.org_id)
        org.quota = 10
        for d in depts(org.id).values():
            d.quota = 0
        ids = {name: d.id for name, d in depts(org.id).items()}
        Session.commit()
        Session.remove()
    first_holds_lock, outcomes = threading.Event(), {}

    def run(name, dept, before=None, hold=0.0):
        with live_app.app_context():
            try:
                if before:
                    before.wait(10)
                user = Session().scalars(select(User).where(User.username == "jahosp001")).one()
                quotas.distribute(user, {str(ids[dept]): "6"})
                if name == "first":
                    first_holds_lock.set()
                    time.sleep(hold)
                Session.commit()
                outcomes[name] = "saved"
            except InvalidInput as exc:
                Session.rollback()
                outcomes[name] = exc.message
            finally:
                first_holds_lock.set()
                Session.remove()

    first = threading.Thread(target=run, args=("first", "内科", None, 1.0))
    second = threading.Thread(target=run, args=("second", "外科", first_holds_lock))
    first.start()
    second.start()
    first.join(30)
    second.join(30)
    assert outcomes["first"] == "saved"
    assert outcomes["second"] == "各科室编制合计 12 超过本机构核定编制 10，请调整后再保存"
    with live_app.app_context():
        assert quotas.distributed(ids and Session.get(Department, ids["内科"]).org_id) == 6
        Session.remove()
