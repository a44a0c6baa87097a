"""The periodic jobs, defined in code with explicit ids (nothing is stored: a moved module cannot leave a stale
job behind).

Every trigger is a ``CronTrigger`` in China Standard Time. Cron fire times are absolute — unlike an
``IntervalTrigger`` they do not depend on when the process started — so every scheduler process computes the
same due times, and ``(job_id, scheduled_for)`` names one run across processes.

A job is thin: it is given ``now`` (UTC), calls one service, which flushes, and returns the number of rows
affected; ``scheduler.runner.run_job`` owns the transaction. Services are named by import path and imported
when the job runs, so a missing or broken module fails that run (recorded as a failure), not start-up.
"""
import os
from dataclasses import dataclass
from importlib import import_module
from typing import Callable
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from workflows import settings

TIMEZONE = ZoneInfo("Asia/Shanghai")
YEARLY_REVIEW_DEFAULT = (1, 15)   # 15 January, 02:00


def cron(**fields):
    return CronTrigger(timezone=TIMEZONE, **fields)


@dataclass(frozen=True)
class Job:
    id: str
    name: str
    trigger: BaseTrigger | Callable[[], BaseTrigger]   # a function is called when the schedule is read
    func: str | Callable                               # "module:function" or a callable taking ``now``

    def make_trigger(self):
        return self.trigger if isinstance(self.trigger, BaseTrigger) else self.trigger()

    def __call__(self, now):
        func = self.func
        if isinstance(func, str):
            module, _, name = func.partition(":")
            func = getattr(import_module(module), name)
        return func(now)


def yearly_review_trigger():
    """02:00 on the month and day the settings give (``YEARLY_REVIEW_MONTH``/``_DAY``, checked there;
    15 January by default)."""
    cfg = settings.current()
    month = int(getattr(cfg, "yearly_review_month", None) or YEARLY_REVIEW_DEFAULT[0])
    day = int(getattr(cfg, "yearly_review_day", None) or YEARLY_REVIEW_DEFAULT[1])
    return cron(month=month, day=day, hour=2, minute=0)


JOBS = [
    Job("password_rotation", "每日密码轮换检查", cron(hour=1, minute=0), "workflows.maintenance:rotate_passwords"),
    Job("lock_expiry", "锁定到期解除", cron(minute="*"), "workflows.maintenance:expire_locks"),
    Job("yearly_review", "年度账号审核", yearly_review_trigger, "workflows.maintenance:yearly_review"),
    Job("temporary_grants", "临时权限到期", cron(minute=0), "workflows.maintenance:expire_temporary_grants"),
    Job("workflow_timers", "流程定时器", cron(minute="*"), "workflows.processes:fire_due_timers"),
    Job("permission_check", "月度权限核查", cron(day=1, hour=3, minute=0),
        "workflows.maintenance:monthly_permission_check"),
    Job("imports", "批量导入处理", cron(second="*/10"), "workflows.imports:run_queued"),
    Job("prune_job_runs", "清理定时任务执行记录", cron(hour=4, minute=30), "workflows.maintenance:prune_job_runs"),
]

# SCHEDULER_TEST_FAST=1 (tests only): one job due every second that does nothing but record its run.
TEST_JOBS = [Job("test_tick", "测试任务（每秒）", cron(second="*"), lambda now: 0)]


def option(config, key, default=None):
    """A scheduler setting from the app config, else the environment, else ``default``."""
    value = (config or {}).get(key)
    return os.environ.get(key, default) if value is None else value


def active(config=None):
    """The jobs this deployment schedules."""
    fast = str(option(config, "SCHEDULER_TEST_FAST", "")).strip().lower() in ("1", "true", "yes", "on")
    return TEST_JOBS if fast else JOBS


def find(job_id, config=None):
    """The job with id ``job_id`` (``KeyError`` when there is none)."""
    for job in active(config):
        if job.id == job_id:
            return job
    raise KeyError(job_id)


def describe(trigger):
    """The schedule in words (Chinese) for the cron patterns used here; others fall back to the cron fields."""
    if not isinstance(trigger, CronTrigger):
        return str(trigger)
    f = {field.name: str(field) for field in trigger.fields}
    every_day = f["day"] == f["month"] == f["week"] == f["day_of_week"] == f["year"] == "*"
    if f["second"] == "*" and f["minute"] == "*" and f["hour"] == "*" and every_day:
        return "每秒"
    if f["second"].startswith("*/") and f["minute"] == "*" and f["hour"] == "*" and every_day:
        return f"每 {f['second'][2:]} 秒"
    if f["second"] != "0":
        return str(trigger)
    if f["minute"] == "*" and f["hour"] == "*" and every_day:
        return "每分钟"
    if f["minute"].isdigit() and f["hour"] == "*" and every_day:
        return "每小时整点" if f["minute"] == "0" else f"每小时第 {f['minute']} 分"
    if not (f["minute"].isdigit() and f["hour"].isdigit()) or f["week"] != "*" or f["day_of_week"] != "*" \
            or f["year"] != "*":
        return str(trigger)
    at = f"{int(f['hour']):02d}:{int(f['minute']):02d}"
    if f["day"] == "*" and f["month"] == "*":
        return f"每天 {at}"
    if f["day"].isdigit() and f["month"] == "*":
        return f"每月{f['day']}日 {at}"
    if f["day"].isdigit() and f["month"].isdigit():
        return f"每年{f['month']}月{f['day']}日 {at}"
    return str(trigger)
