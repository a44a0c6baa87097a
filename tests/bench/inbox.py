"""Inbox: the first page of 可认领 for a county, a city and a province business admin, over 100,000 instances,
1,000,000 task rows and 10,000 users (bulk-generated), against the bare indexed SQL of the same page (its rows
and its count, as the page shows both), run on the same connection. Also prints the query plans, to show the
claimable index is used on both databases."""
import argparse
import random
from datetime import timedelta, timezone

from sqlalchemy import select, text

from tests.bench.harness import BenchDatabase, Result, emit, percentile, ratio_result, timed

TARGET_P95_MS, TARGET_RATIO = 10.0, 1.5
BARE_PAGE = """
SELECT t.id, t.instance_id, t.task_guid, t.bpmn_id, t.name, t.lane, t.candidate_org_id, t.process_key,
       t.initiator_id, t.form, t.ui_form, t.assignee_id, t.state, t.due_at, t.created_at, t.completed_at,
       t.completed_by_id, t.outcome, t.comment
FROM human_tasks t
WHERE t.candidate_org_id = :org AND t.state = 'ready' AND t.lane IN ({lanes}) AND t.assignee_id IS NULL
  AND t.initiator_id != :user AND t.instance_id NOT IN (SELECT id FROM process_instances WHERE status = 'error')
ORDER BY t.due_at ASC NULLS LAST, t.id LIMIT 20 OFFSET 0"""
BARE_COUNT = """
SELECT count(*) FROM human_tasks t
WHERE t.candidate_org_id = :org AND t.state = 'ready' AND t.lane IN ({lanes}) AND t.assignee_id IS NULL
  AND t.initiator_id != :user AND t.instance_id NOT IN (SELECT id FROM process_instances WHERE status = 'error')"""


def generate(database, n_instances, n_users, tasks_per_instance=10, seed=7):
    """Counties under 武汉市 with hospitals, their users, instances and task rows, inserted in bulk."""
    from models import Session, utcnow
    from models.orgs import OrgKind, Organization
    from models.regions import Region, RegionLevel
    from workflows import processes
    rnd = random.Random(seed)
    now = utcnow()
    session = Session()
    wuhan = session.get(Region, "420100")
    city = session.scalars(select(Organization).where(Organization.region_code == "420100")).one()
    province = session.scalars(select(Organization).where(Organization.region_code == "420000")).one()
    counties = [session.scalars(select(Organization).where(Organization.region_code == code,
                                                           Organization.kind == OrgKind.HEALTH_COMMISSION)).one()
                for code in ("420102", "420106")]
    for k in range(20):
        region = Region(f"4201{50 + k}", f"基准区{k}", RegionLevel.COUNTY, wuhan)
        session.add(region)
        org = Organization(kind=OrgKind.HEALTH_COMMISSION, name=f"基准区{k}卫生健康局", uscc=f"11420{150 + k}BENCH00000"[:18],
                           category="卫生行政部门", region=region, supervisor=city)
        session.add(org)
        counties.append(org)
    session.flush()
    hospitals = []
    for c, county in enumerate(counties):
        for h in range(20):
            hospital = Organization(kind=OrgKind.MEDICAL_INSTITUTION, name=f"基准医院{c}-{h}",
                                    uscc=f"12{c:04d}{h:04d}BENCHHOSP"[:18], category="综合医院",
                                    region_code=county.region_code, supervisor=county)
            session.add(hospital)
            hospitals.append((hospital, county))
    session.flush()
    spec = processes.ensure_spec(processes.definition("real_name_verification"))
    Session.commit()
    stamp = _stamper(database)
    user_cols = ("username", "display_name", "org_id", "user_type", "password_hash", "password_changed_at",
                 "status", "real_name_verified", "session_token", "created_at", "failed_attempts")
    users = [(f"inbox{u:05d}", f"用户{u}", hospitals[u % len(hospitals)][0].id, "sub_account", "x", stamp(now),
              "active", True, f"s{u}", stamp(now), 0) for u in range(n_users)]
    _insert(database, "users", user_cols, users)
    first_user = Session().scalar(text("SELECT min(id) FROM users WHERE username LIKE 'inbox%'"))
    region_paths = {h.id: f"/420000/420100/{h.region_code}/" for h, _ in hospitals}
    first_instance = (Session().scalar(text("SELECT max(id) FROM process_instances")) or 0) + 1
    Session.commit()   # the bulk inserts below use connections of their own
    instance_cols = ("id", "process_key", "spec_id", "status", "title", "started_by_id", "org_id", "region_path",
                     "state", "serializer_version", "version", "created_at", "updated_at")
    task_cols = ("instance_id", "task_guid", "bpmn_id", "name", "lane", "candidate_org_id", "process_key",
                 "initiator_id", "state", "due_at", "created_at", "completed_at", "completed_by_id")
    dues = [timedelta(days=3 + k % 5) for k in range(tasks_per_instance)]
    instances, tasks = [], []
    key = spec.process_key
    for n in range(n_instances):
        u = rnd.randrange(n_users)
        hospital, county = hospitals[u % len(hospitals)]
        instance_id = first_instance + n
        created = now - timedelta(minutes=n)
        created_s = stamp(created)
        running = rnd.random() < 0.3
        initiator = first_user + u
        instances.append((instance_id, key, spec.id, "running" if running else "completed", f"申请{n}", initiator,
                          hospital.id, region_paths[hospital.id], "{}", "1", 1, created_s, created_s))
        for k in range(tasks_per_instance):
            ready = running and k == tasks_per_instance - 1
            draw = rnd.random()
            target, lane = (county, "supervising_admin") if draw < 0.7 else \
                (city, "superior_admin") if draw < 0.9 else (province, "superior_admin")
            tasks.append((instance_id, f"{instance_id:08x}-{k:04x}-4000-8000-{n:012x}", "review", "审核", lane,
                          target.id, key, initiator, "ready" if ready else "completed", stamp(created + dues[k]),
                          created_s, None if ready else created_s, None if ready else first_user))
        if len(tasks) >= 100_000:
            _insert(database, "process_instances", instance_cols, instances)
            _insert(database, "human_tasks", task_cols, tasks)
            instances, tasks = [], []
    _insert(database, "process_instances", instance_cols, instances)
    _insert(database, "human_tasks", task_cols, tasks)
    if database.kind == "postgresql":   # what autovacuum does on a live system: statistics and visibility map
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE human_tasks"))
            conn.execute(text("VACUUM ANALYZE process_instances"))
    else:
        with database.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def _stamper(database):
    """How a UTC datetime is sent in bulk: as it is to PostgreSQL's COPY, as SQLAlchemy's text to SQLite."""
    if database.kind == "postgresql":
        return lambda value: value
    return lambda value: value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _insert(database, table, columns, rows):
    if not rows:
        return
    with database.engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        if database.kind == "postgresql":
            with raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                            rows)


def measure(database, username, repeats):
    from models import Session
    from models.accounts import User
    from workflows import inbox, lanes
    user = Session().scalars(select(User).where(User.username == username)).one()
    my_lanes = sorted(lanes.lanes_for(user))
    placeholders = ", ".join(f":l{i}" for i in range(len(my_lanes)))
    params = {"org": user.org_id, "user": user.id, **{f"l{i}": lane for i, lane in enumerate(my_lanes)}}
    page_sql, count_sql = text(BARE_PAGE.format(lanes=placeholders)), text(BARE_COUNT.format(lanes=placeholders))
    conn = Session().connection()

    def ours():
        rows, total = inbox.page(user, "claimable")
        return len(rows), total

    def bare():
        rows = conn.execute(page_sql, params).all()
        return len(rows), conn.execute(count_sql, params).scalar_one()

    assert ours() == bare(), (ours(), bare())
    ours_ms, bare_ms = [], []
    for _ in range(repeats):        # interleaved, so both see the same machine
        ours_ms.append(timed(ours)[0] * 1000)
        bare_ms.append(timed(bare)[0] * 1000)
    plan = _plan(database, conn, page_sql, params)
    return ours_ms, bare_ms, bare()[1], plan


def _plan(database, conn, sql, params):
    if database.kind == "postgresql":
        rows = conn.execute(text("EXPLAIN " + sql.text), params).scalars().all()
    else:
        rows = [r[-1] for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql.text), params).all()]
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    database = BenchDatabase(args.db)
    try:
        database.app()
        database.load()
        seconds, _ = timed(generate, database, args.instances, args.users)
        print(f"generated {args.instances:,} instances, {args.instances * 10:,} tasks, {args.users:,} users "
              f"in {seconds:.0f} s")
        results = []
        for label, username in (("county", "jaadmin01"), ("city", "whadmin01"), ("province", "hbadmin01")):
            ours, bare, total, plan = measure(database, username, args.repeats)
            uses_index = any("ix_human_tasks_claimable" in line for line in plan)
            print(f"plan ({args.db}, {label}):\n  " + "\n  ".join(plan))
            p95, bare_p95 = percentile(ours, 95), percentile(bare, 95)
            note = (f"p50 {percentile(ours, 50):.2f} ms (bare {percentile(bare, 50):.2f}); {total:,} claimable; "
                    f"index {'used' if uses_index else 'NOT used'}")
            result = ratio_result(f"inbox p95: first page of 可认领, {label} admin ({args.db})", p95, bare_p95, "ms",
                                  TARGET_RATIO, note)
            result.target = f"≤ {TARGET_P95_MS:.0f} ms and ≤ {TARGET_RATIO}×"
            result.met = result.met and p95 <= TARGET_P95_MS and uses_index
            results.append(result)
        emit(results)
    finally:
        database.close()


if __name__ == "__main__":
    main()
