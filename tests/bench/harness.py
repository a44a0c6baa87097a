"""What the benchmark modules share: results, timing, a fresh database with the schema and the demo data, and
running one module in a process of its own."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

from sqlalchemy import text

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass
class Result:
    name: str                 # what was measured
    measured: float           # the figure (seconds, milliseconds or requests per second: see unit)
    baseline: float | None    # the same work done by the floor it is compared with (None: absolute target)
    unit: str
    target: str               # e.g. "≤ 1.5×", "≥ 50 %", "≤ 0.5 s"
    met: bool
    note: str = ""

    @property
    def ratio(self):
        return self.measured / self.baseline if self.baseline else None


def ratio_result(name, measured, baseline, unit, limit, note="", higher_is_better=False):
    """A result whose target is a ratio to the baseline (``limit`` ×, or a share when higher is better)."""
    ratio = measured / baseline
    if higher_is_better:
        return Result(name, measured, baseline, unit, f"≥ {limit:.0%}", ratio >= limit, note)
    return Result(name, measured, baseline, unit, f"≤ {limit}×", ratio <= limit, note)


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def percentile(samples, p):
    ordered = sorted(samples)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def median(samples):
    return statistics.median(samples)


# --- databases ----------------------------------------------------------------------------------------------

class BenchDatabase:
    """A new SQLite file (WAL) or a new PostgreSQL schema, migrated, with the demo data; dropped on close."""

    def __init__(self, kind, tmp_dir=None):
        from models.db import make_engine
        self.kind = kind
        self.tmp_dir = tmp_dir or tempfile.mkdtemp(prefix="hgov-bench-")
        if kind == "postgresql":
            self.schema = f"hgov_bench_{os.getpid()}"
            admin = make_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
            self.url = PG_URL
            self.engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={self.schema}"},
                                      pool_size=20, max_overflow=10)
        else:
            self.schema = None
            self.url = f"sqlite:///{os.path.join(self.tmp_dir, 'bench.db')}"
            self.engine = make_engine(self.url)

    def app(self, **overrides):
        from web import create_app
        config = {"ENGINE": self.engine, "DATABASE_URL": self.url, "INSTANCE_PATH": self.tmp_dir,
                  "SECRET_KEY": "bench-secret-key-" + "x" * 32, "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024,
                  "WTF_CSRF_ENABLED": False, "LOGIN_RATE_LIMIT": "1000000 per minute", **overrides}
        return create_app(config)

    def load(self):
        from models import Session
        from web.cli import upgrade_database
        from workflows import demo
        upgrade_database(self.engine)
        demo.load()
        Session.commit()

    def close(self):
        from models import Session
        Session.remove()
        self.engine.dispose()
        if self.schema:
            from models.db import make_engine
            admin = make_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            admin.dispose()


def postgres_available():
    from models.db import make_engine
    try:
        engine = make_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:   # noqa: BLE001 - no server: the PostgreSQL figures are reported as skipped
        return False


# --- one module per process ---------------------------------------------------------------------------------

def emit(results):
    """The last line a benchmark process prints: its results as JSON."""
    print(json.dumps([asdict(r) for r in results], ensure_ascii=False))


def run_module(name, *args, timeout=900):
    """Run ``tests.bench.<name>`` in a process of its own; its results, or one failed result."""
    command = [sys.executable, "-m", f"tests.bench.{name}", *args]
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    elapsed = time.perf_counter() - started
    lines = [line for line in proc.stdout.splitlines() if line.startswith("[")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        return [Result(f"{name} {' '.join(args)}", float("nan"), None, "", "runs", False,
                       f"failed (exit {proc.returncode})")], elapsed
    return [Result(**r) for r in json.loads(lines[-1])], elapsed
