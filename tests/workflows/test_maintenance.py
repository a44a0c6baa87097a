"""The maintenance jobs (workflows/maintenance.py) with a frozen clock: boundaries, idempotence, only the right rows
change, audit events and notifications; the lock list and its workbook; temporary grants; the monthly check."""
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from io import BytesIO

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from models import Session
from models.accounts import ApiToken, Role, User
from models.audit import AuditEvent
from models.orgs import Organization, Staff
from models.scheduling import Notification, TemporaryGrant
from models.workflow import HumanTask, ProcessInstance
from workflows import accounts, auth, hashing, maintenance, processes, settings
from workflows.errors import FormInvalid, InvalidInput, NotAuthorized, NotFound

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)   # 16:00 in Shanghai
PW = "Zjrj@-2007"
SECOND = timedelta(seconds=1)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def org(name):
    return Session().scalars(select(Organization).where(Organization.name == name)).one()


def role(code):
    return Session().scalars(select(Role).where(Role.code == code)).one()


def account(username, org_name="测试医院", user_type="direct_report", **fields):
    """An account with the demo password, changed long enough ago not to be expired unless told otherwise."""
    fields.setdefault("password_changed_at", T0 - timedelta(days=1))
    fields.setdefault("created_at", T0 - timedelta(days=1))
    fields.setdefault("last_login_at", T0 - timedelta(days=1))
    user = User(username=username, display_name=username, org_id=org(org_name).id if org_name else None,
                user_type=user_type, password_hash=hashing.hash_password(PW), session_token=auth.new_session_token(),
                real_name_verified=True, **fields)
    Session().add(user)
    Session().flush()
    return user


def events(action, **where):
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return Session().scalars(query).all()


def notes(user, kind):
    return Session().scalars(select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
                             .order_by(Notification.id)).all()


def fresh(user):
    Session().expire_all()
    return Session().get(User, user.id)


def policy(monkeypatch, **changes):
    current = settings.current()
    monkeypatch.setattr(settings, "_current", replace(current, policy=replace(current.policy, **changes)))


# --- password rotation -------------------------------------------------------------------------------------------

def test_rotation_marks_passwords_at_exactly_the_maximum_age(clock):
    almost = account("almost30d", password_changed_at=T0 - timedelta(days=30) + SECOND)
    due = account("exactly30d", password_changed_at=T0 - timedelta(days=30))
    old = account("oldpasswd", password_changed_at=T0 - timedelta(days=400))
    assert maintenance.rotate_passwords(T0) == 2
    assert almost.password_change_reason is None
    assert due.password_change_reason == "expired" and old.password_change_reason == "expired"
    assert fresh(due).must_change_password and not fresh(almost).must_change_password
    assert maintenance.rotate_passwords(T0) == 0   # idempotent


def test_rotation_leaves_pending_changes_disabled_accounts_and_is_off_at_zero(clock, monkeypatch):
    reset = account("resetpass", password_changed_at=T0 - timedelta(days=60), password_change_reason="reset")
    disabled = account("disabled1", password_changed_at=T0 - timedelta(days=60), status="disabled")
    assert maintenance.rotate_passwords(T0) == 0
    assert reset.password_change_reason == "reset" and disabled.password_change_reason is None
    policy(monkeypatch, max_age_days=0)
    account("ancient01", password_changed_at=T0 - timedelta(days=4000))
    assert maintenance.rotate_passwords(T0) == 0


def test_rotation_warns_once_within_the_last_days(clock):
    inside = account("warnme001", password_changed_at=T0 - timedelta(days=23))           # 7 days left
    outside = account("notyet001", password_changed_at=T0 - timedelta(days=23) + SECOND)
    maintenance.rotate_passwords(T0)
    assert [n.link for n in notes(inside, "password_expiring")] == ["/password"]
    assert notes(outside, "password_expiring") == []
    maintenance.rotate_passwords(T0 + timedelta(days=1))
    assert len(notes(inside, "password_expiring")) == 1   # once per password
    assert len(notes(outside, "password_expiring")) == 1


def test_login_applies_the_age_rule_when_the_job_never_ran(clock):
    account("loginaged", password_changed_at=T0 - timedelta(days=30))
    result = auth.authenticate("loginaged", PW)
    assert result.ok and result.user.password_change_reason == "expired"


# --- lock expiry ---------------------------------------------------------------------------------------------------

def timed_lock(username, until):
    return account(username, lock_reason="failed_logins", locked_at=until - timedelta(minutes=30),
                   locked_until=until, failed_attempts=5)


def test_expired_timed_locks_are_cleared_at_their_end_and_audited(clock):
    running = timed_lock("lockrun01", T0 + SECOND)
    ended = timed_lock("lockend01", T0)
    by_admin = account("lockadm01", lock_reason="admin", locked_at=T0 - timedelta(days=3))
    by_review = account("lockrev01", lock_reason="yearly_review", locked_at=T0 - timedelta(days=3))
    by_leak = account("lockleak1", lock_reason="leak", locked_at=T0 - timedelta(days=3))
    assert maintenance.expire_locks(T0) == 1
    ended = fresh(ended)
    assert (ended.lock_reason, ended.locked_at, ended.locked_until, ended.failed_attempts) == (None, None, None, 0)
    assert fresh(running).is_locked(T0) and fresh(running).failed_attempts == 5
    assert [fresh(u).lock_reason for u in (by_admin, by_review, by_leak)] == ["admin", "yearly_review", "leak"]
    [event] = events("account_unlock", target_name="lockend01")
    assert event.actor_name == "system" and event.actor_id is None and event.detail["reason"] == "lock_expired"
    assert event.region_path == org("测试医院").region.path   # visible to the region's administrators
    assert maintenance.expire_locks(T0) == 0
    assert len(events("account_unlock", target_name="lockend01")) == 1
    assert maintenance.expire_locks(T0 + SECOND) == 1


def test_login_treats_an_expired_timed_lock_as_open_when_the_job_never_ran(clock):
    timed_lock("lockgone1", T0)
    timed_lock("lockstay1", T0 + SECOND)
    assert auth.authenticate("lockgone1", PW).ok
    assert auth.authenticate("lockstay1", PW).outcome == "locked"


# --- yearly review -------------------------------------------------------------------------------------------------

@pytest.fixture
def review_setup(clock):
    """Every demo account recently used; then one account per rule and its near miss."""
    Session().execute(update(User).values(last_login_at=T0 - timedelta(days=1)))
    today = date(2026, 3, 2)   # in Shanghai at T0
    staff = Session().scalars(select(Staff).where(Staff.staff_no == "JA0001")).one()
    people = {
        "stale": account("stale0001", last_login_at=T0 - timedelta(days=180)),
        "recent": account("recent001", last_login_at=T0 - timedelta(days=180) + SECOND),
        "never": account("never0001", last_login_at=None, created_at=T0 - timedelta(days=180)),
        "new": account("newacct01", last_login_at=None, created_at=T0 - timedelta(days=10)),
        "expired": account("validtill", valid_until=today - timedelta(days=1)),
        "valid_today": account("validtoday", valid_until=today),
        "left": account("staffleft", staff_id=staff.id),
        "admin_locked": account("admlocked", last_login_at=T0 - timedelta(days=400), lock_reason="admin",
                                locked_at=T0 - timedelta(days=30)),
        "timed": account("timedlock", last_login_at=T0 - timedelta(days=400), lock_reason="failed_logins",
                         locked_at=T0, locked_until=T0 + timedelta(minutes=60), failed_attempts=5),
        "disabled": account("disabled2", last_login_at=T0 - timedelta(days=400), status="disabled"),
        "sysadmin": Session().scalars(select(User).where(User.username == "sysadmin01")).one(),
    }
    people["sysadmin"].last_login_at = T0 - timedelta(days=999)
    staff.employment_status, staff.left_on = "left", date(2026, 2, 1)
    org("武昌测试医院").status = "cancelled"
    Session().flush()
    return people


def test_yearly_review_rules_boundaries_and_reasons(review_setup):
    people = review_setup
    token_raw = auth.issue_token(people["stale"])
    old_session = people["stale"].session_token
    # at T0 every boundary sits exactly on its edge: 180 days since use, created 180 days ago
    assert maintenance.yearly_review(T0) == 6
    wchosp = Session().scalars(select(User).where(User.username == "wchosp001")).one()
    locked = {u.username: u.lock_detail for u in Session().scalars(
        select(User).where(User.lock_reason == "yearly_review"))}
    assert locked == {"stale0001": "180天未登录", "never0001": "180天未登录", "validtill": "账号有效期已过",
                      "staffleft": "人员已离职", "wchosp001": "单位已撤销", "timedlock": "180天未登录"}
    for key in ("recent", "new", "valid_today", "disabled", "sysadmin"):
        assert fresh(people[key]).lock_reason is None, key
    assert fresh(people["admin_locked"]).lock_reason == "admin"
    stale = fresh(people["stale"])
    assert stale.locked_at == T0 and stale.locked_until is None and stale.is_locked(T0 + timedelta(days=999))
    assert stale.session_token != old_session
    assert auth.resolve_token(token_raw) is None
    assert Session().scalars(select(ApiToken).where(ApiToken.user_id == stale.id)).one().revoked_at == T0
    assert fresh(wchosp).is_locked(T0)


def test_yearly_review_replaces_a_timed_lock_and_the_first_rule_wins(review_setup):
    people = review_setup
    both = account("bothrules", org_name="武昌测试医院", last_login_at=T0 - timedelta(days=400),
                   valid_until=date(2025, 1, 1))
    maintenance.yearly_review(T0 + timedelta(days=1))
    timed = fresh(people["timed"])
    assert (timed.lock_reason, timed.locked_until, timed.lock_detail) == ("yearly_review", None, "180天未登录")
    assert fresh(both).lock_detail == "单位已撤销"
    assert fresh(people["valid_today"]).lock_detail == "账号有效期已过"   # a day later it has expired


def test_yearly_review_is_audited_tells_the_admins_and_runs_once(review_setup):
    assert maintenance.yearly_review(T0) == 6
    [event] = events("account_lock", target_name="staffleft")
    assert event.actor_name == "system" and event.detail["reason"] == "yearly_review"
    assert event.detail["rule"] == "staff_left" and event.detail["note"] == "人员已离职"
    assert {e.target_name for e in events("account_lock", actor_name="system")} == {
        "stale0001", "never0001", "validtill", "staffleft", "wchosp001", "timedlock"}
    admins = {u: notes(Session().scalars(select(User).where(User.username == u)).one(), "yearly_review")
              for u in ("jaadmin01", "wcadmin01", "whadmin01", "hbadmin01")}
    assert [n.title for n in admins["jaadmin01"]] == ["2026年度账号审核：本辖区锁定 5 个账号"]
    assert [n.title for n in admins["wcadmin01"]] == ["2026年度账号审核：本辖区锁定 1 个账号"]
    assert [n.title for n in admins["whadmin01"]] == ["2026年度账号审核：本辖区锁定 6 个账号"]
    assert [n.title for n in admins["hbadmin01"]] == ["2026年度账号审核：本辖区锁定 6 个账号"]
    assert admins["jaadmin01"][0].link == "/locklist/"
    count = Session().scalar(select(func.count()).select_from(AuditEvent))
    assert maintenance.yearly_review(T0) == 0
    assert Session().scalar(select(func.count()).select_from(AuditEvent)) == count


def locked_names():
    return {u.username for u in Session().scalars(select(User).where(User.lock_reason == "yearly_review"))}


def test_unused_rule_is_configurable(review_setup, monkeypatch):
    monkeypatch.setattr(settings, "_current", replace(settings.current(), stale_account_days=0))
    assert maintenance.yearly_review(T0) == 3
    assert locked_names() == {"validtill", "staffleft", "wchosp001"}
    monkeypatch.setattr(settings, "_current", replace(settings.current(), stale_account_days=30))
    month = account("month0001", last_login_at=T0 - timedelta(days=30))
    account("month0002", last_login_at=T0 - timedelta(days=30) + SECOND)
    assert maintenance.yearly_review(T0) == 5
    assert locked_names() == {"validtill", "staffleft", "wchosp001", "stale0001", "recent001", "never0001",
                              "timedlock", "month0001"}
    assert fresh(month).lock_detail == "30天未登录"


def test_validity_ends_at_midnight_in_china(clock):
    Session().execute(update(User).values(last_login_at=T0 - timedelta(days=1)))
    user = account("validcst1", valid_until=date(2026, 3, 2))
    midnight = datetime(2026, 3, 2, 16, 0, tzinfo=timezone.utc)   # 2026-03-03 00:00 in Shanghai
    assert maintenance.yearly_review(midnight - SECOND) == 0
    assert maintenance.yearly_review(midnight) == 1
    assert fresh(user).lock_detail == "账号有效期已过"


# --- lock list -----------------------------------------------------------------------------------------------------

def test_lock_list_is_limited_to_the_actors_region(review_setup, users, clock):
    maintenance.yearly_review(T0)
    clock.move_to(T0 + timedelta(hours=1))
    accounts.lock_user(users("jaadmin01"), users("jahosp001"), note="人员调离")
    county = [r.username for r in maintenance.lock_list(users("jaadmin01"))]
    assert sorted(county) == ["admlocked", "jahosp001", "never0001", "staffleft", "stale0001", "timedlock",
                              "validtill"]
    assert county[0] == "admlocked" and county[-1] == "jahosp001"   # oldest lock first
    assert [r.username for r in maintenance.lock_list(users("wcadmin01"))] == ["wchosp001"]
    assert len(maintenance.lock_list(users("whadmin01"))) == 8
    assert len(maintenance.lock_list(users("sysadmin01"))) == 8
    with pytest.raises(NotAuthorized):
        maintenance.lock_list(users("jahosp001"))
    rows = {r.username: r for r in maintenance.lock_list(users("jaadmin01"))}
    assert rows["staffleft"].reason == "年度审核锁定：人员已离职"
    assert rows["staffleft"].operator == "系统（年度审核）"
    assert rows["jahosp001"].reason == "管理员锁定" and rows["jahosp001"].operator == "江岸区业务管理员（jaadmin01）"
    assert rows["stale0001"].locked_at_local == "2026-03-02 16:00:00"
    assert rows["stale0001"].org == "测试医院" and rows["stale0001"].user_type == "直报用户"
    assert [r.number for r in maintenance.lock_list(users("jaadmin01"))] == [1, 2, 3, 4, 5, 6, 7]


def test_lock_list_period_filter(review_setup, users):
    maintenance.yearly_review(T0)
    admin = users("jaadmin01")
    assert len(maintenance.lock_list(admin, since=T0)) == 5
    assert len(maintenance.lock_list(admin, since=T0 + SECOND)) == 0
    assert [r.username for r in maintenance.lock_list(admin, until=T0)] == ["admlocked"]


def test_lock_list_workbook_holds_exactly_the_admins_region(review_setup, users):
    maintenance.yearly_review(T0)
    data = maintenance.lock_list_workbook(users("jaadmin01"))
    sheet = load_workbook(BytesIO(data)).active
    assert sheet.title == "用户锁定一览表"
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["序号", "账号", "姓名", "单位", "用户类型", "锁定原因", "锁定时间", "操作人"]
    assert sorted(row[1] for row in values[1:]) == ["admlocked", "never0001", "staffleft", "stale0001", "timedlock",
                                                    "validtill"]
    assert [row[0] for row in values[1:]] == ["1", "2", "3", "4", "5", "6"]
    assert {row[3] for row in values[1:]} == {"测试医院"}
    assert events("locklist_export", actor_name="jaadmin01")[0].detail["rows"] == 6


def test_lock_list_workbook_neutralises_formulas(clock, users):
    account("=cmd0001", lock_reason="admin", locked_at=T0)
    sheet = load_workbook(BytesIO(maintenance.lock_list_workbook(users("jaadmin01")))).active
    assert [row[1].value for row in sheet.iter_rows(min_row=2)] == ["'=cmd0001"]


# --- temporary grants ----------------------------------------------------------------------------------------------

def test_a_temporary_grant_expires_at_its_end(clock, users):
    admin = users("jaadmin01")
    user = account("tempgrant", roles=[role("direct_report")])
    grant = maintenance.grant_temporary_role(admin, user, role("same_level_1"), T0 + timedelta(days=1), "临时质控")
    assert {r.code for r in user.roles} == {"direct_report", "same_level_1"}
    assert events("temporary_grant", target_name="tempgrant")[0].detail["role"] == "本级用户1(数据质控员)"
    assert maintenance.expire_temporary_grants(T0 + timedelta(days=1) - SECOND) == 0
    assert maintenance.expire_temporary_grants(T0 + timedelta(days=1)) == 1
    assert {r.code for r in fresh(user).roles} == {"direct_report"}
    assert Session().get(TemporaryGrant, grant.id).revoked_at == T0 + timedelta(days=1)
    [event] = events("temporary_grant_expire", target_name="tempgrant")
    assert event.actor_name == "system" and event.detail["role"] == "本级用户1(数据质控员)"
    [note] = notes(user, "grant_expired")
    assert "本级用户1(数据质控员)" in note.title
    assert maintenance.expire_temporary_grants(T0 + timedelta(days=2)) == 0
    assert len(notes(user, "grant_expired")) == 1


def test_a_temporary_grant_can_be_extended(clock, users):
    admin = users("jaadmin01")
    user = account("tempgrnt2")
    first = maintenance.grant_temporary_role(admin, user, role("same_level_2"), T0 + timedelta(days=1))
    again = maintenance.grant_temporary_role(admin, user, role("same_level_2"), T0 + timedelta(days=5))
    assert again.id == first.id and again.ends_at == T0 + timedelta(days=5)
    assert maintenance.expire_temporary_grants(T0 + timedelta(days=2)) == 0
    assert [r.code for r in fresh(user).roles] == ["same_level_2"]


def test_temporary_grant_checks(clock, users):
    user = account("tempgrnt3", roles=[role("direct_report")])
    with pytest.raises(NotAuthorized):
        maintenance.grant_temporary_role(users("wcadmin01"), user, role("same_level_1"), T0 + timedelta(days=1))
    with pytest.raises(InvalidInput) as exc:
        maintenance.grant_temporary_role(users("jaadmin01"), user, role("same_level_1"), T0)
    assert "ends_at" in exc.value.fields
    with pytest.raises(InvalidInput) as exc:
        maintenance.grant_temporary_role(users("jaadmin01"), user, role("direct_report"), T0 + timedelta(days=1))
    assert "role" in exc.value.fields
    master = users("jahosp001")
    sub, _ = accounts.create_user(master, user_type="sub_account", org_id=master.org_id, display_name="子账号",
                                  username="subtemp01")
    with pytest.raises(InvalidInput) as exc:   # a master account lacks the administrator's function points
        maintenance.grant_temporary_role(master, sub, role("county_admin"), T0 + timedelta(days=1))
    assert "role" in exc.value.fields


# --- monthly permission check --------------------------------------------------------------------------------------

ADMINS = ["hbadmin01", "whadmin01", "jaadmin01", "wcadmin01"]


def check_of(admin, month="2026-03"):
    return Session().scalars(select(ProcessInstance).where(
        ProcessInstance.business_key == f"permission_check:{admin.id}:{month}")).all()


def test_monthly_check_starts_one_task_per_admin_once_a_month(clock, users):
    assert maintenance.monthly_permission_check(T0) == 4
    for name in ADMINS:
        admin = users(name)
        [instance] = check_of(admin)
        assert instance.title == "2026年03月用户权限核查" and instance.started_by_id == admin.id
        [task] = processes.open_tasks(instance)
        assert (task.bpmn_id, task.name, task.lane, task.assignee_id) == ("confirm", "核查用户权限", "applicant",
                                                                          admin.id)
        [note] = notes(admin, "permission_check")
        assert note.link == f"/tasks/{task.id}"
    assert maintenance.monthly_permission_check(T0 + timedelta(days=20)) == 0
    assert Session().scalar(select(func.count()).select_from(HumanTask)
                            .where(HumanTask.process_key == "permission_check")) == 4
    assert maintenance.monthly_permission_check(datetime(2026, 3, 31, 16, 0, tzinfo=timezone.utc)) == 4  # April (CST)
    assert len(check_of(users("jaadmin01"), "2026-04")) == 1


def test_monthly_check_skips_inactive_admins(clock, users):
    users("wcadmin01").status = "disabled"
    assert maintenance.monthly_permission_check(T0) == 3


def test_snapshot_lists_the_users_the_admin_manages(clock, users):
    maintenance.monthly_permission_check(T0)
    county = maintenance.permission_check_snapshot(check_of(users("jaadmin01"))[0])
    assert [u["username"] for u in county] == ["jaleader01", "jahosp001"]
    assert county[1] == {"username": "jahosp001", "display_name": "测试医院", "org": "测试医院", "user_type": "机构总账号",
                         "roles": ["机构总账号"], "status": "正常"}
    city = maintenance.permission_check_snapshot(check_of(users("whadmin01"))[0])
    assert [u["username"] for u in city] == ["jaadmin01", "wcadmin01"]


def test_the_admin_confirms_its_check(clock, users):
    maintenance.monthly_permission_check(T0)
    admin = users("jaadmin01")
    [instance] = check_of(admin)
    [task] = processes.open_tasks(instance)
    with pytest.raises(FormInvalid) as exc:
        processes.complete_task(admin, task.id, {"confirmed": False})
    assert exc.value.fields == {"confirmed": "请勾选“已核对本辖区用户及其角色”"}
    with pytest.raises(NotFound):   # another county's administrator does not see it
        processes.complete_task(users("wcadmin01"), task.id, {"confirmed": True})
    with pytest.raises(NotAuthorized):   # the city administrator sees it but it is not its task
        processes.complete_task(users("whadmin01"), task.id, {"confirmed": True})
    processes.complete_task(admin, task.id, {"confirmed": True, "corrections": "jahosp001 角色需调整"})
    instance = Session().get(ProcessInstance, instance.id)
    assert instance.status == "completed"
    assert processes.latest_data(instance)["corrections"] == "jahosp001 角色需调整"
    assert len(maintenance.permission_check_snapshot(instance)) == 2


def test_snapshot_only_for_permission_checks(clock, users):
    admin = users("jaadmin01")
    instance = processes.start_instance(admin, "generic_request")
    assert maintenance.permission_check_snapshot(instance) is None


def test_old_job_runs_are_pruned_but_each_jobs_latest_stays():
    from models.scheduling import JobRun
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)

    def run(job, days_ago, outcome="success"):
        at = now - timedelta(days=days_ago)
        row = JobRun(job_id=job, scheduled_for=at, trigger="schedule", started_at=at, finished_at=at, outcome=outcome)
        Session().add(row)
        return row

    lonely = run("yearly_review", 400)            # the only (so the latest) run of its job
    Session().flush()
    older_failure = run("lock_expiry", 200, "failure")
    Session().flush()                              # ids grow with time, as the scheduler writes them
    old_failure = run("lock_expiry", 100, "failure")
    Session().flush()
    old_ok = run("lock_expiry", 40)
    Session().flush()
    recent_ok = run("lock_expiry", 5)
    Session().flush()
    assert maintenance.prune_job_runs(now) == 2
    left = set(Session().scalars(select(JobRun.id).where(JobRun.job_id.in_(["lock_expiry", "yearly_review"]))))
    assert left == {recent_ok.id, old_failure.id, lonely.id}
    assert old_ok.id not in left and older_failure.id not in left
