"""Periodic jobs: the job table (``scheduler.jobs``), their runs and the lease (``scheduler.runner``), and the
``flask --app wsgi scheduler`` command.

Production runs the scheduler as a process of its own (``flask --app wsgi scheduler``); extra ones stay idle
behind the database lease. ``make run`` embeds one in the development server. Nothing starts on import.
"""
import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("scheduler")
@click.option("--once", "job_id", metavar="JOB_ID", help="Run this job now (a manual run) and exit.")
@with_appcontext
def scheduler_command(job_id):
    """Run the job scheduler until stopped (SIGTERM/SIGINT), or one job with --once."""
    from scheduler import jobs, runner
    runner.configure_logging()
    app = current_app._get_current_object()
    if job_id is None:
        runner.Runner(app).serve_forever()
        return
    try:
        job = jobs.find(job_id, app.config)
    except KeyError:
        raise click.ClickException(f"没有编号为 {job_id} 的定时任务") from None
    run = runner.run_job(app, job, trigger="manual")
    if run.outcome != "success":
        raise click.ClickException(f"{job.name}（{job.id}）执行失败：{run.error.strip().splitlines()[-1]}")
    click.echo(f"{job.name}（{job.id}）执行成功，影响 {run.rows_affected or 0} 行")
