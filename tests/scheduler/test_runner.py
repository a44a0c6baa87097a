"""Job runs, due times, the lease, misfire catch-up and the scheduler process (scheduler/runner.py, jobs.py).

The last test starts two real scheduler processes on one committed database (the ``live`` one: a SQLite file,
or a PostgreSQL schema when ``TEST_DATABASE_URL`` is set) and checks that each due time ran once, from one
holder at a time, across a crash of the holder.
"""
import os
import signal
import subprocess
import sys
import time
import types
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import func, select, text

from models import Session
from models.accounts import User
from models.scheduling import JobRun, Notification, SchedulerLease
from scheduler import jobs, runner
from scheduler.jobs import Job, cron

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CST = timezone(timedelta(hours=8))
MAINTENANCE = ("rotate_passwords", "expire_locks", "yearly_review", "expire_temporary_grants",
               "monthly_permission_check")


def at(*args):
    """A China Standard Time wall-clock moment, as the aware UTC datetime the services use."""
    return datetime(*args, tzinfo=CST).astimezone(timezone.utc)


@pytest.fixture
def maintenance(monkeypatch):
    """A stand-in ``workflows.maintenance``: each job returns 2 and is logged in ``calls``."""
    stub = types.ModuleType("workflows.maintenance")
    stub.calls = []

    def make(name):
        def job(now):
            stub.calls.append((name, now))
            return 2
        return job
    for name in MAINTENANCE:
        setattr(stub, name, make(name))
    monkeypatch.setitem(sys.modules, "workflows.maintenance", stub)
    return stub


class Probe:
    """A job function that counts its calls and fails while ``fail`` is set, after writing something."""

    def __init__(self, rows=3):
        self.rows, self.calls, self.fail = rows, [], False

    def __call__(self, now):
        self.calls.append(now)
        if self.fail:
            user_id = Session().scalar(select(User.id).order_by(User.id).limit(1))
            Session().add(Notification(user_id=user_id, kind="probe", title="写入后失败", created_at=now))
            Session().flush()
            raise RuntimeError("探针失败")
        return self.rows


def probe_job(func, trigger=None):
    return Job("probe", "探针任务", trigger or cron(hour=1, minute=0), func)


def runs_of(job_id):
    return Session().scalars(select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.id)).all()


# --- run_job --------------------------------------------------------------------------------------------------

def test_a_successful_run_is_recorded(app):
    probe = Probe(rows=3)
    now = at(2025, 3, 10, 1, 0, 2)
    run = runner.run_job(app, probe_job(probe), scheduled_for=at(2025, 3, 10, 1, 0), now=now, holder="h1")
    assert probe.calls == [now]
    [stored] = runs_of("probe")
    assert stored.id == run.id
    assert (stored.outcome, stored.rows_affected, stored.trigger, stored.holder) == ("success", 3, "schedule", "h1")
    assert stored.scheduled_for == at(2025, 3, 10, 1, 0) and stored.started_at == now
    assert stored.finished_at >= stored.started_at and stored.error is None


def test_a_raising_job_is_recorded_as_failed_and_its_work_undone(app):
    probe = Probe()
    probe.fail = True
    run = runner.run_job(app, probe_job(probe), scheduled_for=at(2025, 3, 10, 1, 0), now=at(2025, 3, 10, 1, 0, 1))
    assert run.outcome == "failure" and run.finished_at is not None and run.rows_affected is None
    assert "RuntimeError: 探针失败" in run.error and "Traceback" in run.error
    assert Session().scalar(select(func.count()).select_from(Notification).where(Notification.kind == "probe")) == 0

    probe.fail = False   # the next due time runs normally
    again = runner.run_job(app, probe_job(probe), scheduled_for=at(2025, 3, 11, 1, 0), now=at(2025, 3, 11, 1, 0, 1))
    assert again.outcome == "success" and again.rows_affected == 3
    assert [r.outcome for r in runs_of("probe")] == ["failure", "success"]


def test_a_due_time_runs_once(app):
    probe = Probe()
    due = at(2025, 3, 10, 1, 0)
    assert runner.run_job(app, probe_job(probe), scheduled_for=due, holder="a") is not None
    assert runner.run_job(app, probe_job(probe), scheduled_for=due, holder="b") is None
    assert len(probe.calls) == 1 and [r.holder for r in runs_of("probe")] == ["a"]
    # manual runs have no due time and never collide
    assert runner.run_job(app, probe_job(probe), trigger="manual") is not None
    assert runner.run_job(app, probe_job(probe), trigger="manual") is not None
    assert len(runs_of("probe")) == 3


def test_jobs_by_id_call_their_service(app, maintenance):
    now = at(2025, 3, 10, 9, 30, 0)
    for job_id, service in [("password_rotation", "rotate_passwords"), ("lock_expiry", "expire_locks"),
                            ("yearly_review", "yearly_review"), ("temporary_grants", "expire_temporary_grants"),
                            ("permission_check", "monthly_permission_check")]:
        run = runner.run_job(app, job_id, trigger="manual", now=now)
        assert (run.outcome, run.rows_affected) == ("success", 2)
        assert maintenance.calls[-1] == (service, now)
    timers = runner.run_job(app, "workflow_timers", trigger="manual")   # the real fire_due_timers
    assert timers.outcome == "success" and timers.rows_affected == 0
    with pytest.raises(KeyError):
        runner.run_job(app, "no_such_job")


def test_job_table_has_explicit_ids_and_cron_triggers():
    ids = [job.id for job in jobs.JOBS]
    assert ids == ["password_rotation", "lock_expiry", "yearly_review", "temporary_grants", "workflow_timers",
                   "permission_check", "imports", "prune_job_runs"]
    assert all(str(job.make_trigger().timezone) == "Asia/Shanghai" for job in jobs.JOBS)
    assert [jobs.describe(job.make_trigger()) for job in jobs.JOBS] == [
        "每天 01:00", "每分钟", "每年1月15日 02:00", "每小时整点", "每分钟", "每月1日 03:00", "每 10 秒", "每天 04:30"]


def test_yearly_review_date_comes_from_the_settings(monkeypatch):
    from workflows import settings
    monkeypatch.setattr(settings, "current", lambda: types.SimpleNamespace(yearly_review_month=3,
                                                                           yearly_review_day=31))
    assert jobs.describe(jobs.find("yearly_review").make_trigger()) == "每年3月31日 02:00"


def test_fast_test_schedule_replaces_the_table():
    assert [job.id for job in jobs.active({"SCHEDULER_TEST_FAST": "1"})] == ["test_tick"]
    assert jobs.active({}) is jobs.JOBS


# --- due times --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("trigger, now, due", [
    (cron(hour=1, minute=0), at(2025, 3, 10, 0, 30), at(2025, 3, 9, 1, 0)),
    (cron(hour=1, minute=0), at(2025, 3, 10, 1, 0), at(2025, 3, 10, 1, 0)),
    (cron(hour=1, minute=0), at(2025, 3, 10, 1, 0, 0, 999), at(2025, 3, 10, 1, 0)),
    (cron(minute="*"), at(2025, 3, 10, 10, 5, 59, 999999), at(2025, 3, 10, 10, 5)),
    (cron(minute=0), at(2025, 3, 10, 0, 0, 1), at(2025, 3, 10, 0, 0)),
    (cron(month=1, day=15, hour=2, minute=0), at(2025, 3, 10, 12, 0), at(2025, 1, 15, 2, 0)),
    (cron(month=1, day=15, hour=2, minute=0), at(2025, 1, 15, 1, 59), at(2024, 1, 15, 2, 0)),
    (cron(day=1, hour=3, minute=0), at(2025, 3, 1, 2, 0), at(2025, 2, 1, 3, 0)),
    (cron(second="*"), at(2025, 3, 10, 10, 5, 7, 500000), at(2025, 3, 10, 10, 5, 7)),
])
def test_previous_fire_time_is_the_latest_due_time(trigger, now, due):
    found = runner.previous_fire_time(trigger, now)
    assert found == due and found.tzinfo == timezone.utc


def test_previous_fire_time_of_a_trigger_that_never_fired():
    assert runner.previous_fire_time(cron(year=2030, month=1, day=1, hour=0, minute=0), at(2025, 3, 10)) is None


def test_next_run_times():
    now = at(2025, 3, 10, 8, 30, 15)
    found = runner.next_run_times(now)
    assert found == {
        "password_rotation": at(2025, 3, 11, 1, 0), "lock_expiry": at(2025, 3, 10, 8, 31),
        "yearly_review": at(2026, 1, 15, 2, 0), "temporary_grants": at(2025, 3, 10, 9, 0),
        "workflow_timers": at(2025, 3, 10, 8, 31), "permission_check": at(2025, 4, 1, 3, 0),
        "imports": at(2025, 3, 10, 8, 30, 20), "prune_job_runs": at(2025, 3, 11, 4, 30),
    }


# --- the lease --------------------------------------------------------------------------------------------------

def lease():
    Session().expire_all()
    return Session().get(SchedulerLease, runner.LEASE)


def test_lease_acquire_renew_and_takeover():
    start = at(2025, 3, 10, 9, 0)
    with time_machine.travel(start, tick=False) as clock:
        assert runner.acquire_lease("a", runner.utcnow(), ttl=60)
        assert not runner.acquire_lease("b", runner.utcnow(), ttl=60)
        clock.shift(30)
        assert runner.acquire_lease("a", runner.utcnow(), ttl=60)   # renewed: good until 09:01:30
        assert (lease().holder, lease().acquired_at, lease().expires_at) == ("a", start, at(2025, 3, 10, 9, 1, 30))
        clock.shift(60)                                                # 09:01:30: not yet expired
        assert not runner.acquire_lease("b", runner.utcnow(), ttl=60)
        clock.shift(1)                                                 # a stopped renewing: b takes over
        assert runner.acquire_lease("b", runner.utcnow(), ttl=60)
        assert (lease().holder, lease().acquired_at) == ("b", at(2025, 3, 10, 9, 1, 31))
        assert not runner.acquire_lease("a", runner.utcnow(), ttl=60)
        runner.release_lease("a")                                      # not a's to release
        assert lease().holder == "b"
        runner.release_lease("b")
        assert lease() is None
        assert runner.acquire_lease("a", runner.utcnow(), ttl=60)


def test_runners_fire_only_while_holding_the_lease(app):
    probe_a, probe_b = Probe(), Probe()
    a = runner.Runner(app, "a", jobs=[probe_job(probe_a, cron(minute="*"))])
    b = runner.Runner(app, "b", jobs=[probe_job(probe_b, cron(minute="*"))])
    with time_machine.travel(at(2025, 3, 10, 9, 0, 0, 200000), tick=False) as clock:
        assert a.tick() and not b.tick()
        assert runs_of("probe") == []        # a job that never ran has missed nothing: no catch-up
        clock.shift(45)
        assert a.tick() and not b.tick()   # renewed until 09:01:45.2
        clock.shift(15)
        assert b.fire("probe") is None and probe_b.calls == []
        run = a.fire("probe")
        assert (run.scheduled_for, run.trigger, run.holder) == (at(2025, 3, 10, 9, 1), "schedule", "a")
        clock.shift(15)
        assert a.tick() and not b.tick()
        clock.shift(61)                    # 09:02:16.2 — a's lease ran out at 09:02:15.2 without renewal
        assert not a.holds_lease() and a.fire("probe") is None
        assert b.tick() and b.holds_lease()
        assert not a.tick()
    assert [(r.holder, r.scheduled_for, r.trigger) for r in runs_of("probe")] == [
        ("a", at(2025, 3, 10, 9, 1), "schedule"), ("b", at(2025, 3, 10, 9, 2), "misfire")]


# --- misfires ---------------------------------------------------------------------------------------------------

def test_missed_daily_runs_are_caught_up_once(app):
    probe = Probe()
    job = probe_job(probe)   # daily 01:00
    Session().add(JobRun(job_id="probe", scheduled_for=at(2025, 3, 7, 1, 0), trigger="schedule", holder="old",
                         started_at=at(2025, 3, 7, 1, 0), finished_at=at(2025, 3, 7, 1, 0, 1), outcome="success"))
    Session.commit()
    r = runner.Runner(app, "me", jobs=[job])
    now = at(2025, 3, 10, 9, 0)
    [run] = r.catch_up(now)
    assert (run.trigger, run.scheduled_for, run.outcome) == ("misfire", at(2025, 3, 10, 1, 0), "success")
    assert r.catch_up(now) == [] and r.catch_up(now + timedelta(hours=12)) == []
    assert len(probe.calls) == 1
    assert r.catch_up(at(2025, 3, 11, 1, 0, 5))[0].scheduled_for == at(2025, 3, 11, 1, 0)


def test_catch_up_counts_manual_runs_and_never_retries_a_failed_due_time(app):
    probe = Probe()
    r = runner.Runner(app, "me", jobs=[probe_job(probe)])
    with time_machine.travel(at(2025, 3, 10, 8, 0), tick=False):
        runner.run_job(app, probe_job(probe), trigger="manual")
    assert r.catch_up(at(2025, 3, 10, 9, 0)) == []          # the manual run at 08:00 came after 01:00
    probe.fail = True
    [failed] = r.catch_up(at(2025, 3, 11, 9, 0))
    assert failed.outcome == "failure"
    probe.fail = False
    assert r.catch_up(at(2025, 3, 11, 10, 0)) == [] and len(probe.calls) == 2


# --- the process ------------------------------------------------------------------------------------------------

def test_the_embedded_scheduler_starts_only_in_the_serving_process(app):
    assert "scheduler" not in app.extensions   # tests (and imports) never start one
    config = types.SimpleNamespace(config={}, testing=False)
    testing = types.SimpleNamespace(config={}, testing=True)
    on = {"EMBEDDED_SCHEDULER": "1"}
    assert not runner.embedding_wanted(config, {})
    assert runner.embedding_wanted(config, on)                                   # flask run, no reloader
    assert not runner.embedding_wanted(config, {**on, "FLASK_DEBUG": "1"})       # the reloader's parent
    assert runner.embedding_wanted(config, {**on, "FLASK_DEBUG": "1", "WERKZEUG_RUN_MAIN": "true"})  # its child
    assert not runner.embedding_wanted(testing, {**on, "WERKZEUG_RUN_MAIN": "true"})


def test_cli_runs_one_job(app, maintenance):
    cli = app.test_cli_runner()
    result = cli.invoke(args=["scheduler", "--once", "lock_expiry"])
    assert result.exit_code == 0, result.output
    assert "锁定到期解除（lock_expiry）执行成功，影响 2 行" in result.output
    [run] = runs_of("lock_expiry")
    assert (run.trigger, run.outcome, run.rows_affected) == ("manual", "success", 2)

    def broken(now):
        raise ValueError("数据库里没有这张表")
    maintenance.expire_locks = broken
    result = cli.invoke(args=["scheduler", "--once", "lock_expiry"])
    assert result.exit_code == 1 and "执行失败：ValueError: 数据库里没有这张表" in result.output
    assert cli.invoke(args=["scheduler", "--once", "nope"]).exit_code == 1


def database_url(app):
    """The live database's URL for another process (PostgreSQL: with the test schema as search_path)."""
    engine = app.extensions["engine"]
    url = engine.url
    if url.get_backend_name() == "postgresql":
        with engine.connect() as conn:
            schema = conn.scalar(text("SELECT current_schema()"))
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def wait_for(condition, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(message)


@pytest.mark.live
def test_two_scheduler_processes_run_each_due_time_once(live_app, tmp_path):
    engine = live_app.extensions["engine"]
    ttl, tick = 2, 0.5
    env = {k: v for k, v in os.environ.items() if k not in ("EMBEDDED_SCHEDULER", "WERKZEUG_RUN_MAIN")}
    env.update(DATABASE_URL=database_url(live_app), INSTANCE_PATH=str(tmp_path), SCHEDULER_TEST_FAST="1",
               SCHEDULER_LEASE_SECONDS=str(ttl), SCHEDULER_TICK_SECONDS=str(tick), PYTHONUNBUFFERED="1")

    def runs():
        with engine.connect() as conn:
            return conn.execute(select(JobRun.scheduled_for, JobRun.holder, JobRun.outcome, JobRun.trigger,
                                       JobRun.started_at).where(JobRun.job_id == "test_tick")
                                .order_by(JobRun.scheduled_for)).all()

    def holder_with(count, exclude=None):
        by_holder = {}
        for run in runs():
            if run.outcome == "success":
                by_holder[run.holder] = by_holder.get(run.holder, 0) + 1
        return next((h for h, n in by_holder.items() if n >= count and h != exclude), None)

    logs = [open(tmp_path / f"scheduler{i}.log", "wb") for i in range(2)]
    procs = {}
    try:
        for log in logs:
            proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"], cwd=ROOT,
                                    env=env, stdout=log, stderr=subprocess.STDOUT)
            procs[proc.pid] = proc
        first = wait_for(lambda: holder_with(3), 60, "no scheduler process ran the job")
        crashed = procs[int(first.split(":")[-2])]
        crashed.send_signal(signal.SIGKILL)   # no release: the other must wait for the lease to run out
        crashed.wait(10)
        second = wait_for(lambda: holder_with(3, exclude=first), 30, "the other process did not take over")
        survivor = procs[int(second.split(":")[-2])]
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(20) == 0
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        for log in logs:
            log.close()

    found = runs()
    dues = [r.scheduled_for for r in found]
    assert len(dues) == len(set(dues))                                   # each due time at most once
    assert all(d.microsecond == 0 for d in dues)
    holders = [r.holder for r in found]
    assert [h for i, h in enumerate(holders) if i == 0 or holders[i - 1] != h] == [first, second]
    by_start = [r.holder for r in sorted(found, key=lambda r: r.started_at)]
    assert by_start == holders                                           # one holder at a time, never interleaved
    for holder in (first, second):                                       # while holding: every second, exactly once
        mine = [r.scheduled_for for r in found if r.holder == holder]
        assert all(b - a == timedelta(seconds=1) for a, b in zip(mine, mine[1:])), (holder, mine)
    handover = dues[holders.index(second)] - dues[holders.index(second) - 1]
    assert handover <= timedelta(seconds=ttl + tick + 3)
    assert all(r.outcome == "success" for r in found if r.holder == second)
    assert all(o == "success" for o in [r.outcome for r in found if r.holder == first][:-1])   # killed mid-run?
    assert {r.trigger for r in found} <= {"schedule", "misfire"}
    with engine.connect() as conn:   # the survivor gave the lease up on SIGTERM
        assert conn.scalar(select(func.count()).select_from(SchedulerLease)) == 0
