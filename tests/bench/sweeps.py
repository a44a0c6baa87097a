"""Sweeps: the password-rotation and lock-expiry jobs over 100,000 accounts, each run as the scheduler runs
it (one transaction, committed). The day modelled is a steady one: 1.5 % of the passwords reach the maximum
age, 1.5 % enter the warning window, 1 % of the accounts carry a failed-login lock that has run out and 1 % one
that has not. Absolute target: ≤ 0.5 s per job."""
import argparse
from datetime import timedelta

from tests.bench.harness import BenchDatabase, Result, emit, timed

TARGET_SECONDS = 0.5


def populate(count, now):
    from sqlalchemy import insert, select

    from models import Session
    from models.accounts import User, UserType
    from models.orgs import Organization
    org_ids = Session().scalars(select(Organization.id).order_by(Organization.id)).all()
    rows = []
    for n in range(count):
        share = n % 200                    # 0..199: 1.5 % = 3 of 200
        changed = now - timedelta(days=1)
        lock = {"lock_reason": None, "locked_at": None, "locked_until": None, "failed_attempts": 0}
        if share < 3:
            changed = now - timedelta(days=31)                       # past the maximum age (30 days)
        elif share < 6:
            changed = now - timedelta(days=24)                       # entering the 7-day warning window
        elif share < 8:
            lock = {"lock_reason": "failed_logins", "locked_at": now - timedelta(minutes=40),
                    "locked_until": now - timedelta(minutes=10), "failed_attempts": 5}
        elif share < 10:
            lock = {"lock_reason": "failed_logins", "locked_at": now - timedelta(minutes=5),
                    "locked_until": now + timedelta(minutes=25), "failed_attempts": 5}
        rows.append({"username": f"sweep{n:06d}", "display_name": f"用户{n}", "org_id": org_ids[n % len(org_ids)],
                     "user_type": UserType.DIRECT_REPORT.value, "password_hash": "x", "password_changed_at": changed,
                     "status": "active", "real_name_verified": True, "session_token": f"t{n}", "created_at": now,
                     **lock})
    for start in range(0, len(rows), 5000):
        Session().execute(insert(User), rows[start:start + 5000])
    Session.commit()


def run_job(fn, now):
    from models import Session
    count = fn(now)
    Session.commit()
    Session.remove()
    return count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("-n", type=int, default=100_000)
    args = parser.parse_args()
    database = BenchDatabase(args.db)
    try:
        database.app()
        database.load()
        from models import utcnow
        from workflows import maintenance
        now = utcnow()
        populate(args.n, now)
        if args.db == "postgresql":
            from sqlalchemy import text
            with database.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        results = []
        for label, fn in (("password rotation", maintenance.rotate_passwords),
                          ("lock expiry", maintenance.expire_locks)):
            seconds, count = timed(run_job, fn, now)
            results.append(Result(f"sweep: {label} over {args.n:,} accounts ({args.db})", seconds, None, "s",
                                  f"≤ {TARGET_SECONDS} s", seconds <= TARGET_SECONDS, f"{count:,} accounts changed"))
        emit(results)
    finally:
        database.close()


if __name__ == "__main__":
    main()
