"""The jobs page (web/scheduler/views.py): system administrators only; every job with its schedule, next and
last run; "run now" records a manual run, audits it and reports the outcome."""
import re
import sys
import types
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from models import Session
from models.audit import AuditEvent
from models.scheduling import JobRun, SchedulerLease
from scheduler import jobs
from tests.conftest import DEMO_PASSWORD

CST = timezone(timedelta(hours=8))
MAINTENANCE = ("rotate_passwords", "expire_locks", "yearly_review", "expire_temporary_grants",
               "monthly_permission_check")


@pytest.fixture
def maintenance(monkeypatch):
    stub = types.ModuleType("workflows.maintenance")
    for name in MAINTENANCE:
        setattr(stub, name, lambda now: 4)
    monkeypatch.setitem(sys.modules, "workflows.maintenance", stub)
    return stub


@pytest.fixture
def login(client, ready):
    def log_in(username):
        ready(username, verified=True)
        response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 303
    return log_in


def job_row(page, job_id):
    match = re.search(rf'<tr data-job="{job_id}">(.*?)</tr>', page, re.S)
    assert match, job_id
    return match.group(1)


@pytest.mark.parametrize("username", ["hbadmin01", "jaadmin01", "jahosp001"])
def test_refused_to_everyone_but_the_system_administrator(client, login, username, maintenance):
    login(username)
    assert client.get("/scheduler/").status_code == 403
    assert client.post("/scheduler/lock_expiry/run").status_code == 403
    assert Session().scalars(select(JobRun)).first() is None
    assert "定时任务" not in client.get("/").get_data(as_text=True)


@time_machine.travel(datetime(2025, 3, 10, 8, 30, 15, tzinfo=CST), tick=False)
def test_lists_every_job_with_its_next_run(client, login):
    login("sysadmin01")
    Session().add(SchedulerLease(name="scheduler", holder="worker-7:4242:abc123",
                                 acquired_at=datetime(2025, 3, 10, 8, 0, tzinfo=CST),
                                 expires_at=datetime(2025, 3, 10, 8, 31, tzinfo=CST)))
    Session().add(JobRun(job_id="lock_expiry", scheduled_for=datetime(2025, 3, 10, 8, 30, tzinfo=CST),
                         trigger="schedule", holder="worker-7:4242:abc123",
                         started_at=datetime(2025, 3, 10, 8, 30, 0, 100000, tzinfo=CST),
                         finished_at=datetime(2025, 3, 10, 8, 30, 1, tzinfo=CST), outcome="failure",
                         error="Traceback …\nRuntimeError: 锁表失败"))
    Session.commit()
    response = client.get("/scheduler/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "定时任务" in page and 'href="/scheduler/"' in page   # in the menu too
    expected = {
        "password_rotation": ("每日密码轮换检查", "每天 01:00", "2025-03-11 01:00:00"),
        "lock_expiry": ("锁定到期解除", "每分钟", "2025-03-10 08:31:00"),
        "yearly_review": ("年度账号审核", "每年1月15日 02:00", "2026-01-15 02:00:00"),
        "temporary_grants": ("临时权限到期", "每小时整点", "2025-03-10 09:00:00"),
        "workflow_timers": ("流程定时器", "每分钟", "2025-03-10 08:31:00"),
        "permission_check": ("月度权限核查", "每月1日 03:00", "2025-04-01 03:00:00"),
        "imports": ("批量导入处理", "每 10 秒", "2025-03-10 08:30:20"),
        "prune_job_runs": ("清理定时任务执行记录", "每天 04:30", "2025-03-11 04:30:00"),
    }
    assert set(expected) == {job.id for job in jobs.JOBS}
    for job_id, (name, schedule, next_run) in expected.items():
        row = job_row(page, job_id)
        assert name in row and job_id in row and schedule in row
        assert f'<td class="next-run">{next_run}</td>' in row
        assert "立即执行" in row and f'action="/scheduler/{job_id}/run"' in row
    row = job_row(page, "lock_expiry")
    assert "2025-03-10 08:30:00" in row and "失败" in row and "RuntimeError: 锁表失败" in row
    assert "尚未执行" in job_row(page, "yearly_review")
    assert "worker-7:4242:abc123" in page and "租约到期 2025-03-10 08:31:00" in page


def test_an_expired_or_missing_lease_is_flagged(client, login):
    login("sysadmin01")
    assert "没有运行中的调度进程" in client.get("/scheduler/").get_data(as_text=True)
    Session().add(SchedulerLease(name="scheduler", holder="gone:1:x", acquired_at=datetime(2025, 1, 1, tzinfo=CST),
                                 expires_at=datetime(2025, 1, 1, 0, 1, tzinfo=CST)))
    Session.commit()
    assert "租约已过期" in client.get("/scheduler/").get_data(as_text=True)


def test_run_now_records_a_manual_run_and_audits_it(client, login, users, maintenance):
    login("sysadmin01")
    admin = users("sysadmin01")
    response = client.post("/scheduler/lock_expiry/run")
    assert response.status_code == 303 and response.headers["Location"].endswith("/scheduler/")
    run = Session().scalars(select(JobRun).where(JobRun.job_id == "lock_expiry")).one()
    assert (run.trigger, run.outcome, run.rows_affected, run.requested_by_id, run.scheduled_for) == \
        ("manual", "success", 4, admin.id, None)
    event = Session().scalars(select(AuditEvent).where(AuditEvent.action == "job_run_manual")).one()
    assert (event.actor_name, event.outcome, event.target_id) == ("sysadmin01", "success", "lock_expiry")
    assert event.detail["job"] == "lock_expiry" and event.detail["run"] == run.id
    page = client.get("/scheduler/").get_data(as_text=True)
    assert "「锁定到期解除」执行成功，影响 4 行" in page
    recent = re.search(r'<table class="grid" id="runs">(.*?)</table>', page, re.S).group(1)
    assert 'data-job="lock_expiry" data-outcome="success" data-trigger="manual"' in recent
    assert "手动" in recent and "sysadmin01" in recent


def test_a_failing_manual_run_is_reported_and_audited(client, login, maintenance):
    login("sysadmin01")

    def broken(now):
        raise RuntimeError("审核规则缺失")
    maintenance.yearly_review = broken
    assert client.post("/scheduler/yearly_review/run").status_code == 303
    run = Session().scalars(select(JobRun).where(JobRun.job_id == "yearly_review")).one()
    assert run.outcome == "failure" and "RuntimeError: 审核规则缺失" in run.error
    event = Session().scalars(select(AuditEvent).where(AuditEvent.action == "job_run_manual")).one()
    assert event.outcome == "failure" and event.detail["job"] == "yearly_review"
    page = client.get("/scheduler/").get_data(as_text=True)
    assert "「年度账号审核」执行失败：RuntimeError: 审核规则缺失" in page
    assert "失败" in job_row(page, "yearly_review")


def test_unknown_job_is_404(client, login):
    login("sysadmin01")
    assert client.post("/scheduler/no_such_job/run").status_code == 404
    assert client.get("/scheduler/no_such_job/run").status_code == 405
