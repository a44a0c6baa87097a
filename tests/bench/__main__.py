"""``make bench``: run every benchmark (each in a process of its own), print each figure beside its baseline,
the ratio and the target, and write the run to docs/benchmarks.md.

    python -m tests.bench            # the full run
    python -m tests.bench --quick    # smaller sizes, to try the harness
"""
import argparse
import os
import platform
import subprocess
import time
from datetime import datetime, timezone

from tests.bench.harness import ROOT, postgres_available, run_module


def plan(quick, with_pg):
    databases = ["sqlite"] + (["postgresql"] if with_pg else [])
    steps = []
    for db in databases:
        steps.append(("engine", ["--db", db, "-n", "30" if quick else "200"]))
    for db in databases:
        steps.append(("inbox", ["--db", db] + (["--instances", "10000", "--users", "1000", "--repeats", "50"]
                                               if quick else [])))
    for db in databases:
        steps.append(("http", ["--db", db, "--seconds", "3" if quick else "10"]))
    steps.append(("imports", ["--rows", "1000" if quick else "10000"]))
    for db in databases:
        steps.append(("sweeps", ["--db", db] + (["-n", "20000"] if quick else [])))
    return steps


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo", encoding="utf-8")
                if line.startswith("model name")), platform.processor() or "unknown")
    memory = next((int(line.split()[1]) // 1024 // 1024 for line in open("/proc/meminfo", encoding="utf-8")
                   if line.startswith("MemTotal")), 0)
    postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip() or "—"
    return (f"{os.cpu_count()} CPU ({cpu}), {memory} GiB memory, {platform.platform()}, Python "
            f"{platform.python_version()}, {postgres}")


def fmt(value):
    if value is None:
        return "—"
    if value != value:   # NaN: the step failed
        return "failed"
    return f"{value:,.2f}" if value < 1000 else f"{value:,.0f}"


def table(results):
    lines = ["| figure | measured | baseline | ratio | target | met | note |",
             "| --- | ---: | ---: | ---: | --- | --- | --- |"]
    for r in results:
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None and r.ratio == r.ratio else "—"
        if r.target.startswith("≥") and r.ratio is not None:
            ratio = f"{r.ratio:.1%}"
        lines.append(f"| {r.name} | {fmt(r.measured)} {r.unit} | {fmt(r.baseline)} | {ratio} | {r.target} | "
                     f"{'yes' if r.met else '**no**'} | {r.note} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help="comma-separated benchmark names (engine, inbox, http, imports, sweeps)")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args()
    with_pg = postgres_available()
    started = time.perf_counter()
    results = []
    for name, module_args in plan(args.quick, with_pg):
        if args.only and name not in args.only.split(","):
            continue
        print(f"· {name} {' '.join(module_args)}", flush=True)
        found, seconds = run_module(name, *module_args)
        for r in found:
            ratio = f" ratio {r.ratio:.2f}" if r.ratio is not None and r.ratio == r.ratio else ""
            print(f"  {r.name}: {fmt(r.measured)} {r.unit} (baseline {fmt(r.baseline)}){ratio}, target {r.target}: "
                  f"{'met' if r.met else 'NOT met'}  [{seconds:.0f} s]", flush=True)
        results += found
    total = time.perf_counter() - started
    print(f"\n{table(results)}\n\nwhole run: {total / 60:.1f} min")
    if not args.no_write and not args.only:
        write(results, total, args.quick, with_pg)


def write(results, total, quick, with_pg):
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = f"""# Benchmarks

Written by `make bench` (`python -m tests.bench{' --quick' if quick else ''}`). Every figure is measured beside
its baseline in the same run on the same machine, because the machines are shared and noisy; the ratio is
what the target speaks of. Absolute times are for orientation only. `docs/performance.md` explains the figures
(what was changed to meet a target, and why the unmet ones fall short).

- date: {stamp}
- machine: {machine()}
- PostgreSQL figures: {'measured' if with_pg else 'skipped (no server reachable)'}
- whole run: {total / 60:.1f} minutes

{table(results)}

## What each figure is

- **engine**: real-name verifications end to end (start → identity → stamped form → approve) through the
  service layer, each step committed as a request commits it (file SQLite in WAL mode, or PostgreSQL), against
  the same BPMN run by bare SpiffWorkflow in memory with one serialize/deserialize round trip per step.
- **inbox**: p95 of the first page of 可认领 (rows and total) for a county, a city and a province admin over
  100,000 instances, 1,000,000 task rows and 10,000 users, against the same SQL sent bare on the same connection;
  the query plans are printed by the run and must use `ix_human_tasks_claimable`.
- **http**: requests per second of the logged-in inbox page under gunicorn with 2 workers, against a Flask
  hello-world under the same gunicorn, both loaded by `wrk` with the same settings.
- **imports**: a 10,000-row personnel workbook imported (validated and written), against openpyxl's read-only
  load of the same file.
- **sweeps**: the password-rotation and lock-expiry jobs over 100,000 accounts, as the scheduler runs them.
"""
    with open(os.path.join(ROOT, "docs", "benchmarks.md"), "w", encoding="utf-8") as fh:
        fh.write(text)
    print("written to docs/benchmarks.md")


if __name__ == "__main__":
    main()
