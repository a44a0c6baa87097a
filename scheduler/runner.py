"""Running the jobs: one recorded run per due time, one active scheduler per database.

- ``run_job`` records a ``JobRun`` and commits it before doing any work. ``(job_id, scheduled_for)`` is unique,
  so that insert is the claim on a due time: whatever the number of processes, a due time runs at most once.
  The job then runs in a transaction of its own; success commits its work together with the outcome, an
  exception rolls the work back and records the failure with the tail of the traceback. Nothing a job raises
  reaches the scheduler, and the next run starts clean.
- The lease (one ``scheduler_leases`` row) picks the process that fires jobs. Every scheduler process renews
  or tries to take it each tick; the others stay idle until it lapses (the holder died or lost the database)
  and then one of them takes over.
- The due time of a run is the most recent fire time of the job's trigger at or before the moment it starts
  (``previous_fire_time``). APScheduler starts a job at its fire time, or later within ``misfire_grace_time``
  when it was held up, so this is the fire time that started it; a run held up past the next fire time counts
  for that later one, as coalescing would have it.
- On gaining the lease (start-up, takeover) each job whose latest due time has no run, and no successful or
  running run since, is run once (trigger ``misfire``): missing N due times gives one run, never N.
"""
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
import traceback
from datetime import datetime, timedelta, timezone

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import and_, case, delete, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from models import Session, utcnow
from models.db import UTCDateTime
from models.scheduling import JobRun, SchedulerLease
from scheduler import jobs as job_table

log = logging.getLogger("scheduler")

LEASE = "scheduler"
ERROR_CHARS = 4000           # the tail of the traceback kept with a failed run
SEARCH_LIMIT = timedelta(days=800)


def default_holder():
    """``host:pid:random`` — unique per process, readable on the jobs page."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(3)}"


# --- due times -----------------------------------------------------------------------------------------------

def previous_fire_time(trigger, now):
    """The latest fire time of ``trigger`` at or before ``now`` (UTC), or None if it never fired.

    Looks back over a window doubling from one second until it holds a fire time, then steps forward to the
    last one not after ``now``: a few steps whatever the period (a minute or a year).
    """
    window = timedelta(seconds=1)
    while window <= SEARCH_LIMIT:
        fire = trigger.get_next_fire_time(None, now - window)
        if fire is not None and fire <= now:
            while True:
                following = trigger.get_next_fire_time(None, fire + timedelta(microseconds=1))
                if following is None or following > now:
                    return fire.astimezone(timezone.utc)
                fire = following
        window *= 2
    return None


def next_run_times(now=None, jobs=None):
    """``{job_id: next due time}`` from the triggers alone (the web process runs no scheduler)."""
    now = now or utcnow()
    return {job.id: job.make_trigger().get_next_fire_time(None, now)
            for job in (jobs if jobs is not None else job_table.active())}


# --- one run -------------------------------------------------------------------------------------------------

def run_job(app, job, *, scheduled_for=None, trigger="schedule", requested_by=None, now=None, holder=None):
    """Run ``job`` (a ``Job`` or a job id) once and return its ``JobRun``, or None when the due time
    ``scheduled_for`` was already taken by another run. ``requested_by`` is the user id of a manual run."""
    if isinstance(job, str):
        job = job_table.find(job, app.config)
    now = now or utcnow()
    with app.app_context():
        try:
            session = Session()
            run = JobRun(job_id=job.id, scheduled_for=scheduled_for, trigger=trigger,
                         holder=holder or default_holder(), started_at=now, outcome="running",
                         requested_by_id=requested_by)
            session.add(run)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                log.info("job %s due %s: already run", job.id, scheduled_for)
                return None
            started = time.monotonic()
            try:
                rows = job(now)
                run.rows_affected = int(rows) if isinstance(rows, int) else None
                run.outcome, run.finished_at = "success", now + timedelta(seconds=time.monotonic() - started)
                session.commit()
                log.info("job %s (%s) succeeded, %s rows", job.id, trigger, run.rows_affected)
            except Exception:
                error = traceback.format_exc()[-ERROR_CHARS:]
                session.rollback()
                log.exception("job %s (%s) failed", job.id, trigger)
                run.outcome, run.error = "failure", error
                run.finished_at = now + timedelta(seconds=time.monotonic() - started)
                session.commit()
                session.refresh(run)   # the rollback expired it; load it whole before the session goes
            return run
        finally:
            Session.remove()


# --- the lease -----------------------------------------------------------------------------------------------

def acquire_lease(holder, now, ttl=60):
    """Take or renew the scheduler lease for ``ttl`` seconds; True when ``holder`` now holds it.

    One conditional UPDATE renews our own lease or takes an expired one (row locks on PostgreSQL, the
    database write lock on SQLite: two takers cannot both match); when no row exists yet, an INSERT whose
    primary key lets only one process win. Commits.
    """
    expires = now + timedelta(seconds=ttl)
    session = Session()
    try:
        result = session.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == LEASE, or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now))
            .values(holder=holder, expires_at=expires,
                    acquired_at=case((SchedulerLease.holder == holder, SchedulerLease.acquired_at),
                                     else_=literal(now, UTCDateTime())))
            .execution_options(synchronize_session=False))
        if result.rowcount == 0:
            session.add(SchedulerLease(name=LEASE, holder=holder, acquired_at=now, expires_at=expires))
            session.flush()
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False


def release_lease(holder):
    """Give the lease up (on shutdown) so another process can take over at once. Commits."""
    Session().execute(delete(SchedulerLease).where(SchedulerLease.name == LEASE, SchedulerLease.holder == holder))
    Session.commit()


def lease_status():
    """The lease row (holder, acquired_at, expires_at), or None."""
    return Session().get(SchedulerLease, LEASE)


# --- what the jobs page shows ----------------------------------------------------------------------------------

def last_runs(job_ids):
    """``{job_id: latest JobRun}`` for the jobs that have run."""
    latest = {}
    for job_id in job_ids:
        run = Session().scalars(select(JobRun).where(JobRun.job_id == job_id)
                                .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1)).first()
        if run is not None:
            latest[job_id] = run
    return latest


def recent_runs(limit=50):
    return Session().scalars(select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)).all()


def is_covered(job_id, due):
    """Whether due time ``due`` needs no catch-up: it has a run, or a successful or running one came after.
    A job that has never run has missed nothing (a fresh installation does not run its yearly review at
    first start); its first run is its first due time."""
    if Session().scalar(select(JobRun.id).where(JobRun.job_id == job_id).limit(1)) is None:
        return True
    return Session().scalar(select(JobRun.id).where(JobRun.job_id == job_id, or_(
        JobRun.scheduled_for == due,
        and_(JobRun.outcome.in_(("success", "running")),
             or_(JobRun.scheduled_for >= due, JobRun.started_at >= due)))).limit(1)) is not None


# --- the scheduler process -------------------------------------------------------------------------------------

class Runner:
    """APScheduler (3.x, in memory) firing ``jobs`` while this process holds the lease.

    Settings (app config or environment): ``SCHEDULER_LEASE_SECONDS`` (60), ``SCHEDULER_TICK_SECONDS`` (15),
    ``SCHEDULER_MISFIRE_GRACE_SECONDS`` (3600: a fire held up longer is dropped, the next start-up or
    takeover catches it up).
    """

    def __init__(self, app, holder=None, *, jobs=None):
        self.app = app
        self.holder = holder or default_holder()
        self.jobs = {job.id: job for job in (jobs if jobs is not None else job_table.active(app.config))}
        self.triggers = {job_id: job.make_trigger() for job_id, job in self.jobs.items()}
        self.ttl = float(job_table.option(app.config, "SCHEDULER_LEASE_SECONDS", 60))
        self.tick_seconds = float(job_table.option(app.config, "SCHEDULER_TICK_SECONDS", 15))
        grace = int(job_table.option(app.config, "SCHEDULER_MISFIRE_GRACE_SECONDS", 3600))
        self.held_until = None
        self.scheduler = BackgroundScheduler(
            timezone=job_table.TIMEZONE,
            executors={"default": ThreadPoolExecutor(len(self.jobs) + 3)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace})

    # the lease

    def holds_lease(self, now=None):
        now = now or utcnow()
        return self.held_until is not None and now < self.held_until

    def tick(self, now=None):
        """Renew or take the lease; on gaining it, catch up missed due times. True while held."""
        now = now or utcnow()
        had = self.holds_lease(now)
        with self.app.app_context():
            try:
                held = acquire_lease(self.holder, now, self.ttl)
            except Exception:
                log.exception("scheduler lease: database unavailable")
                held = False
            finally:
                Session.remove()
        self.held_until = now + timedelta(seconds=self.ttl) if held else None
        if held and not had:
            log.info("scheduler lease taken by %s", self.holder)
            if self.scheduler.running:
                self.scheduler.add_job(self._catch_up, id="_catch_up", name="catch up", replace_existing=True)
            else:
                self.catch_up(now)
        elif had and not held:
            log.warning("scheduler lease lost by %s", self.holder)
        return held

    # runs

    def catch_up(self, now=None):
        """Run once each job whose latest due time was missed (trigger ``misfire``). Returns the runs."""
        now = now or utcnow()
        runs = []
        for job_id, job in self.jobs.items():
            due = previous_fire_time(self.triggers[job_id], now)
            if due is None:
                continue
            with self.app.app_context():
                try:
                    covered = is_covered(job_id, due)
                finally:
                    Session.remove()
            if not covered:
                log.info("job %s missed its run due %s: running it now", job_id, due)
                run = run_job(self.app, job, scheduled_for=due, trigger="misfire", now=now, holder=self.holder)
                if run is not None:
                    runs.append(run)
        return runs

    def _catch_up(self):
        if self.holds_lease():
            try:
                self.catch_up()
            except Exception:
                log.exception("catch-up failed")

    def fire(self, job_id, now=None):
        """What a scheduled fire does: run the job for its due time if this process holds the lease."""
        now = now or utcnow()
        if not self.holds_lease(now):
            return None
        due = previous_fire_time(self.triggers[job_id], now)
        try:
            return run_job(self.app, self.jobs[job_id], scheduled_for=due, now=now, holder=self.holder)
        except Exception:   # the database went away: logged, and the scheduler carries on
            log.exception("job %s due %s could not be recorded", job_id, due)
            return None

    # the process

    def start(self):
        for job_id, job in self.jobs.items():
            self.scheduler.add_job(self.fire, trigger=self.triggers[job_id], args=[job_id], id=job_id,
                                   name=job.name, replace_existing=True)
        self.scheduler.add_job(self.tick, "interval", seconds=self.tick_seconds, id="_lease", name="lease",
                               next_run_time=datetime.now(job_table.TIMEZONE), misfire_grace_time=None,
                               replace_existing=True)
        self.scheduler.start()
        log.info("scheduler %s started: %s", self.holder, ", ".join(self.jobs))

    def shutdown(self):
        """Stop firing, wait for running jobs, give the lease up."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.held_until is not None:
            self.held_until = None
            with self.app.app_context():
                try:
                    release_lease(self.holder)
                except Exception:
                    log.exception("could not release the scheduler lease")
                finally:
                    Session.remove()
        log.info("scheduler %s stopped", self.holder)

    def serve_forever(self):
        """Run until SIGTERM or SIGINT (the ``flask scheduler`` command)."""
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        self.start()
        try:
            while not stop.wait(1):
                pass
        finally:
            self.shutdown()


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging():
    """The scheduler process logs to stderr (APScheduler's own chatter only from warnings up)."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format=LOG_FORMAT)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


# --- inside the development server -------------------------------------------------------------------------------

_embedded = None


def embedding_wanted(app, environ=None):
    """``EMBEDDED_SCHEDULER=1`` (``make run``), not testing, and not the reloader's watching parent.

    With the reloader (``flask run --debug``) the app is built twice: in the parent, which only watches files,
    and in the serving child, which has ``WERKZEUG_RUN_MAIN=true``. Only the latter runs the scheduler.
    """
    environ = os.environ if environ is None else environ
    flag = app.config.get("EMBEDDED_SCHEDULER", environ.get("EMBEDDED_SCHEDULER", ""))
    if str(flag).strip().lower() not in ("1", "true", "yes", "on") or app.testing:
        return False
    if environ.get("WERKZEUG_RUN_MAIN") == "true":
        return True
    return environ.get("FLASK_DEBUG", "").strip().lower() in ("", "0", "false", "no")


def start_embedded(app):
    """Start a background scheduler in this process when ``embedding_wanted``; at most one per process."""
    global _embedded
    if _embedded is not None or not embedding_wanted(app):
        return None
    import atexit
    if not logging.getLogger().handlers and not log.handlers:   # show job runs beside the request log
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    _embedded = Runner(app)
    _embedded.start()
    atexit.register(_embedded.shutdown)
    app.extensions["scheduler"] = _embedded
    return _embedded
