"""The jobs page (系统管理 → 定时任务), system administrators only: each job's schedule, next and last run, the
lease holder, the recent runs, and a "run now" button.

A manual run commits (or rolls back) in ``run_job``'s own transactions; the audit event that records who
pressed the button and what came of it follows in one more, so a failed run is on record too.
"""
from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from sqlalchemy import select

from models import Session, utcnow
from models.accounts import User
from scheduler import jobs, runner
from web.security import requires
from workflows import audit
from workflows.errors import NotFound

bp = Blueprint("scheduler", __name__, url_prefix="/scheduler")
OUTCOMES = {"success": "成功", "failure": "失败", "running": "运行中"}
TRIGGERS = {"schedule": "定时", "misfire": "补执行", "manual": "手动"}
RECENT = 50


@bp.route("/")
@requires("sys.jobs")
def index():
    now = utcnow()
    table = jobs.active(current_app.config)
    next_times = runner.next_run_times(now, table)
    last = runner.last_runs([job.id for job in table])
    rows = [{"job": job, "schedule": jobs.describe(job.make_trigger()), "next": next_times[job.id],
             "last": last.get(job.id)} for job in table]
    recent = runner.recent_runs(RECENT)
    requesters = dict(Session().execute(select(User.id, User.username).where(
        User.id.in_({r.requested_by_id for r in recent if r.requested_by_id}))).all())
    lease = runner.lease_status()
    return render_template("scheduler/index.html", rows=rows, recent=recent, requesters=requesters,
                           names={job.id: job.name for job in table}, lease=lease,
                           lease_live=lease is not None and lease.expires_at > now,
                           outcomes=OUTCOMES, triggers=TRIGGERS)


@bp.route("/<job_id>/run", methods=["POST"])
@requires("sys.jobs")
def run_now(job_id):
    try:
        job = jobs.find(job_id, current_app.config)
    except KeyError:
        raise NotFound("没有该定时任务") from None
    actor_id = g.actor.id
    run = runner.run_job(current_app._get_current_object(), job, trigger="manual", requested_by=actor_id)
    actor = Session().get(User, actor_id)   # run_job ended the request's session; load the actor afresh
    g.actor = actor
    audit.record("job_run_manual", actor=actor, outcome=run.outcome, target_type="job", target_id=job.id,
                 target_name=job.name, detail={"job": job.id, "run": run.id, "rows": run.rows_affected})
    Session.commit()
    if run.outcome == "success":
        flash(f"「{job.name}」执行成功，影响 {run.rows_affected or 0} 行", "success")
    else:
        flash(f"「{job.name}」执行失败：{run.error.strip().splitlines()[-1]}", "error")
    return redirect(url_for("scheduler.index"), code=303)
