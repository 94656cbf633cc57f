"""spine store benchmark: what recording costs, against raw drivers measured in the same run.

    uv run python bench/bench_store.py                 # everything, SQLite and PostgreSQL
    uv run python bench/bench_store.py --quick         # smaller history (10k runs, 300k step rows)
    uv run python bench/bench_store.py --no-pg         # SQLite only
    uv run python bench/bench_store.py --check         # exit 1 when a target is missed

Measured (medians; see bench/README.md for the method and the latest figures):

1. **state change** — one step-attempt row written and committed on its own (the worst
   case, nothing to group with), through the recorder's own write path, against raw
   ``sqlite3`` doing the same INSERT/UPDATE + COMMIT on the same kind of database;
2. **store overhead per step** — a 10,000-step no-op run recorded vs the same run with
   no store (``--db none``), on SQLite and PostgreSQL, for three shapes: wide (every
   step independent, parallel), layered (100 layers of 100) and a chain (no grouping is
   possible: every dependent waits for a commit); the raw-driver floor is the same rows
   in the same number of commits;
3. **runs list** — the first page (20 runs) on a database holding 100,000 runs and 3
   million step rows, plain and filtered by group and by status;
4. **runs show** — the whole result of the 10,000-step run, read back.

PostgreSQL is the server at ``SPINE_BENCH_PG`` (default ``127.0.0.1:5432``, database
``test``), in a schema of its own that is dropped afterwards. Results go to
``bench/out/store.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PG_BASE = os.environ.get("SPINE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

TARGETS = {
    "state_change_us_sqlite": 50.0,
    "overhead_us_per_step_sqlite": 60.0,
    "overhead_us_per_step_postgresql": 300.0,
    "runs_list_ms": 50.0,
    "runs_show_s": 1.0,
}


def median_of(n: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(n))


# -- groups and plans ---------------------------------------------------------------------------


def registry() -> Any:
    from spine.framework import PipelineRegistry, register_pipeline

    reg = PipelineRegistry()

    @register_pipeline("bench.noop", registry=reg)
    def noop(params: dict, ctx: Any) -> None:
        return None

    return reg


def plan_of(shape: str, n: int, reg: Any) -> Any:
    from spine.orchestration import PipelineGroup, PipelineStep, PlanResolver
    from spine.orchestration.models import ExecutionMode, ExecutionPolicy

    steps = []
    for i in range(n):
        if shape == "wide":
            deps: tuple[str, ...] = ()
        elif shape == "chain":
            deps = (f"s{i - 1}",) if i else ()
        else:  # layered: 100 per layer, each on two steps of the layer before
            layer, k = divmod(i, 100)
            deps = (f"s{(layer - 1) * 100 + k}", f"s{(layer - 1) * 100 + (k + 37) % 100}") if layer else ()
        steps.append(PipelineStep(f"s{i}", "bench.noop", depends_on=deps))
    policy = ExecutionPolicy(execution=ExecutionMode.PARALLEL, max_concurrency=16, max_active_runs=100)
    group = PipelineGroup(name=f"bench.{shape}", steps=tuple(steps), policy=policy)
    return PlanResolver(reg).resolve(group)


# -- databases ------------------------------------------------------------------------------------


class Databases:
    """A SQLite file and (unless --no-pg) a PostgreSQL schema, made fresh on demand."""

    def __init__(self, use_pg: bool) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="spine-bench-store-"))
        self.schemas: list[str] = []
        self.use_pg = use_pg and self._pg_ok()

    def _pg_ok(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.pg_conninfo(), connect_timeout=3).close()
            return True
        except psycopg.Error as exc:
            print(f"PostgreSQL unreachable, skipped: {exc}", file=sys.stderr)
            return False

    @staticmethod
    def pg_conninfo() -> str:
        return PG_BASE.replace("postgresql+psycopg://", "postgresql://")

    def sqlite(self, name: str) -> str:
        path = self.tmp / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"

    def pg(self) -> tuple[str, str]:
        import psycopg

        name = f"bench_{secrets.token_hex(4)}"
        with psycopg.connect(self.pg_conninfo(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        self.schemas.append(name)
        return f"{PG_BASE}?options={quote(f'-csearch_path={name}')}", name

    def close(self) -> None:
        import shutil

        import psycopg

        if self.schemas:
            with psycopg.connect(self.pg_conninfo(), autocommit=True) as conn:
                for name in self.schemas:
                    conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        shutil.rmtree(self.tmp, ignore_errors=True)


# -- 1. a state change on its own -----------------------------------------------------------------


def bench_state_change(dbs: Databases, n: int) -> dict[str, float]:
    """Recorder path: start row committed, end row committed — 2 state changes per step."""
    import datetime as dt

    from spine.orchestration.models import StepStatus
    from spine.runner.events import RunEvent, RunEventKind
    from spine.runner.results import AttemptRecord
    from spine.store import Owner, RunRecorder, RunStore

    reg = registry()
    plan = plan_of("wide", n, reg)
    url = dbs.sqlite("state")
    store = RunStore.open(url)
    owner = Owner.here(30.0)
    store.start_run(plan, run_id="run_bench_state", owner=owner, options={}, executor="inline")
    rec = RunRecorder(store, plan, run_id="run_bench_state", owner=owner)
    now = dt.datetime.now(dt.UTC)
    started = [RunEvent(RunEventKind.STEP_STARTED, "run_bench_state", plan.group.name, now, step=s.name, attempt=1) for s in plan.steps]
    finished = [
        RunEvent(RunEventKind.STEP_FINISHED, "run_bench_state", plan.group.name, now, step=s.name, attempt=1, status=StepStatus.COMPLETED,
                 record=AttemptRecord(1, StepStatus.COMPLETED, now, now), result={"rows": 3}, output="")
        for s in plan.steps
    ]
    rec.flush()
    t0 = time.perf_counter()
    for a, b in zip(started, finished):
        rec.event(a)
        rec.flush()
        rec.event(b)
        rec.flush()
    spine_us = (time.perf_counter() - t0) / (2 * n) * 1e6
    rec.close()
    store.close()

    # baseline: raw sqlite3, same database settings, same statements, one commit each
    path = url.removeprefix("sqlite:///") + ".raw"
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("PRAGMA synchronous = NORMAL")
    raw.execute("CREATE TABLE e (id INTEGER PRIMARY KEY, run_id TEXT, step TEXT, attempt INT, status TEXT, started_at TEXT, finished_at TEXT, result TEXT)")
    raw.execute("CREATE INDEX ix_e ON e (run_id, step, attempt)")
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    t0 = time.perf_counter()
    for i in range(n):
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("INSERT INTO e (run_id, step, attempt, status, started_at) VALUES (?, ?, 1, 'running', ?)", ("r", f"s{i}", stamp))
        raw.execute("COMMIT")
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("UPDATE e SET status = 'completed', finished_at = ?, result = ? WHERE run_id = ? AND step = ? AND attempt = 1", (stamp, '{"rows":3}', "r", f"s{i}"))
        raw.execute("COMMIT")
    raw_us = (time.perf_counter() - t0) / (2 * n) * 1e6
    raw.close()
    return {"spine_us": spine_us, "raw_sqlite3_us": raw_us, "ratio": spine_us / raw_us}


# -- 2. a 10,000-step run, recorded or not --------------------------------------------------------


def _run_once(plan: Any, reg: Any, url: str | None) -> tuple[float, int, str | None, float]:
    """Seconds for one run; the number of commits; the run id; this process's CPU seconds."""
    from spine.framework import Dispatcher
    from spine.runner import get_runner
    from spine.store import RunRecorder, RunStore, record_run

    runner = get_runner("inline", dispatcher=Dispatcher(reg))
    if url is None:
        t0, c0 = time.perf_counter(), time.process_time()
        runner.execute(plan)
        return time.perf_counter() - t0, 0, None, time.process_time() - c0
    commits = [0]
    original = RunRecorder.flush

    def counting(self: Any) -> None:
        if self._buffered():
            commits[0] += 1
        original(self)

    RunRecorder.flush = counting  # type: ignore[method-assign]
    try:
        with RunStore.open(url) as store:
            t0, c0 = time.perf_counter(), time.process_time()
            result = record_run(store, plan, runner)
            took, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        RunRecorder.flush = original  # type: ignore[method-assign]
    return took, commits[0], result.run_id, cpu


def _raw_floor(dialect: str, url: str, n: int, commits: int) -> float:
    """Seconds for a raw driver to insert n rows of the same width in ``commits`` transactions."""
    per = max(1, -(-n // max(commits, 1)))
    row = ("r", "s", "bench.noop", 0, 1, 0, "completed", "2024-01-05T12:00:00.000000Z", "2024-01-05T12:00:00.000001Z", None, None, None, None)
    cols = "run_id, step, pipeline, seq, attempt, execution, status, started_at, finished_at, error, result, output, reason"
    ddl = ("CREATE TABLE raw_e (id {pk}, run_id TEXT, step TEXT, pipeline TEXT, seq INT, attempt INT, execution INT, status TEXT, "
           "started_at TEXT, finished_at TEXT, error TEXT, result TEXT, output TEXT, reason TEXT)")
    if dialect == "sqlite":
        path = url.removeprefix("sqlite:///") + ".floor"
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(ddl.format(pk="INTEGER PRIMARY KEY"))
        conn.execute("CREATE INDEX ix_raw ON raw_e (run_id, step, attempt)")
        sql = f"INSERT INTO raw_e ({cols}) VALUES ({', '.join('?' * 13)})"
        t0 = time.perf_counter()
        for start in range(0, n, per):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, [row] * min(per, n - start))
            conn.execute("COMMIT")
        took = time.perf_counter() - t0
        conn.close()
        return took
    import psycopg
    from sqlalchemy.engine import make_url

    options = make_url(url).query.get("options")
    with psycopg.connect(Databases.pg_conninfo(), options=options) as conn:
        conn.execute(ddl.format(pk="BIGSERIAL PRIMARY KEY").replace("TEXT", "TEXT"))
        conn.execute("CREATE INDEX ix_raw ON raw_e (run_id, step, attempt)")
        conn.commit()
        sql = f"INSERT INTO raw_e ({cols}) VALUES ({', '.join(['%s'] * 13)})"
        t0 = time.perf_counter()
        for start in range(0, n, per):
            with conn.cursor() as cur:
                cur.executemany(sql, [row] * min(per, n - start))
            conn.commit()
        return time.perf_counter() - t0


def bench_overhead(dbs: Databases, n: int, repeat: int) -> dict[str, Any]:
    """Per shape: ``repeat`` rounds of (no store, SQLite, PostgreSQL), interleaved so that a
    change in the machine's load hits every column alike; medians per column."""
    from spine.store import RunStore

    reg = registry()
    dialects = ["sqlite", *(["postgresql"] if dbs.use_pg else [])]
    out: dict[str, Any] = {}
    shows: dict[str, list[float]] = {d: [] for d in dialects}
    for shape in ("wide", "layered", "chain"):
        plan = plan_of(shape, n, reg)
        _run_once(plan, reg, None)  # warm-up
        bare: list[float] = []
        bare_cpu: list[float] = []
        times: dict[str, list[float]] = {d: [] for d in dialects}
        cpus: dict[str, list[float]] = {d: [] for d in dialects}
        floors: dict[str, list[float]] = {d: [] for d in dialects}
        commits: dict[str, int] = {}
        for k in range(repeat):
            took, _, _, cpu = _run_once(plan, reg, None)
            bare.append(took)
            bare_cpu.append(cpu)
            for dialect in dialects:
                url = dbs.sqlite(f"run_{shape}_{k}") if dialect == "sqlite" else dbs.pg()[0]
                took, commits[dialect], run_id, cpu = _run_once(plan, reg, url)
                times[dialect].append(took)
                cpus[dialect].append(cpu)
                floors[dialect].append(_raw_floor(dialect, url, n, commits[dialect]))
                if shape == "wide":
                    with RunStore.open(url) as store:
                        shows[dialect].append(_timed(lambda store=store, run_id=run_id: store.result(run_id)))
        base, base_cpu = statistics.median(bare), statistics.median(bare_cpu)
        for dialect in dialects:
            recorded, floor = statistics.median(times[dialect]), statistics.median(floors[dialect])
            out[f"{shape}/{dialect}"] = {
                "bare_s": base, "recorded_s": recorded, "commits": commits[dialect],
                "overhead_us_per_step": (recorded - base) / n * 1e6,
                # this process's CPU time: what the store costs the runner's process, robust to other load
                "overhead_cpu_us_per_step": (statistics.median(cpus[dialect]) - base_cpu) / n * 1e6,
                "raw_floor_us_per_step": floor / n * 1e6,
                "ratio_to_raw_floor": (recorded - base) / floor if floor else None,
            }
    out["runs_show_s"] = {d: statistics.median(v) for d, v in shows.items() if v}
    return out


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# -- 3. runs list on a big history -----------------------------------------------------------------


def _fill(dialect: str, url: str, runs: int, rows_per_run: int) -> None:
    """Write ``runs`` finished runs of 20 groups with ``rows_per_run`` step rows each, by raw driver."""
    import datetime as dt

    from spine.store import RunStore

    with RunStore.open(url):
        pass  # the schema, through the migrations
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    statuses = ["completed"] * 8 + ["failed", "partial"]

    def t(i: int, extra: float = 0.0) -> Any:
        when = base + dt.timedelta(seconds=i * 30 + extra)
        return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if dialect == "sqlite" else when

    def run_rows(lo: int, hi: int) -> list[tuple]:
        return [
            (f"run_{i:08d}", "run", f"bench.group_{i % 20:02d}", 1, 1, f"batch_{i}", "{}", "{}", statuses[i % 10], None, "inline",
             rows_per_run, "[]", t(i), t(i, 20), "bench", 1, "owner", t(i, 20), t(i, 50), None, None, 0, None)
            for i in range(lo, hi)
        ]

    def step_rows(lo: int, hi: int) -> list[tuple]:
        return [
            (f"run_{i:08d}", f"step_{k:03d}", "bench.noop", k, 1, 0, "completed", t(i, k * 0.1), t(i, k * 0.1 + 0.05), None, '{"rows":3}', None, None)
            for i in range(lo, hi) for k in range(rows_per_run)
        ]

    run_cols = ("run_id, kind, group_name, group_version, definition_id, batch_id, params, options, status, message, executor, step_count, "
                "plan_steps, started_at, finished_at, host, pid, owner, heartbeat_at, lease_expires_at, cancel_requested_at, cancel_reason, "
                "resumes, parent_run_id")
    step_cols = "run_id, step, pipeline, seq, attempt, execution, status, started_at, finished_at, error, result, output, reason"
    definition = ("bench.group", 1, "0" * 64, "{}", t(0))
    chunk = 2000
    if dialect == "sqlite":
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        conn.execute("INSERT INTO pipeline_groups (name, version, hash, definition, created_at) VALUES (?, ?, ?, ?, ?)", definition)
        for lo in range(0, runs, chunk):
            hi = min(runs, lo + chunk)
            conn.executemany(f"INSERT INTO group_runs ({run_cols}) VALUES ({', '.join('?' * 24)})", run_rows(lo, hi))
            conn.executemany(f"INSERT INTO group_run_executions ({step_cols}) VALUES ({', '.join('?' * 13)})", step_rows(lo, hi))
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.close()
        return
    import psycopg
    from sqlalchemy.engine import make_url

    options = make_url(url).query.get("options")
    with psycopg.connect(Databases.pg_conninfo(), options=options) as conn:
        conn.execute("INSERT INTO pipeline_groups (name, version, hash, definition, created_at) VALUES (%s, %s, %s, %s, %s)", definition)
        with conn.cursor() as cur:
            for lo in range(0, runs, chunk):
                hi = min(runs, lo + chunk)
                with cur.copy(f"COPY group_runs ({run_cols}) FROM STDIN") as copy:
                    for row in run_rows(lo, hi):
                        copy.write_row(row)
                with cur.copy(f"COPY group_run_executions ({step_cols}) FROM STDIN") as copy:
                    for row in step_rows(lo, hi):
                        copy.write_row(row)
        conn.commit()
        conn.execute("ANALYZE")


def bench_list(dbs: Databases, runs: int, rows_per_run: int) -> dict[str, Any]:
    from spine.store import RunStore

    out: dict[str, Any] = {}
    for dialect in ("sqlite", "postgresql"):
        if dialect == "postgresql" and not dbs.use_pg:
            continue
        url = dbs.sqlite("history") if dialect == "sqlite" else dbs.pg()[0]
        t0 = time.perf_counter()
        _fill(dialect, url, runs, rows_per_run)
        filled = time.perf_counter() - t0
        with RunStore.open(url) as store:
            store.runs(limit=20)  # warm: connection, statement cache
            figures = {
                "plain_ms": median_of(7, lambda: _timed(lambda: store.runs(limit=20))) * 1e3,
                "by_group_ms": median_of(7, lambda: _timed(lambda: store.runs(group="bench.group_07", limit=20))) * 1e3,
                "by_status_ms": median_of(7, lambda: _timed(lambda: store.runs(status="failed", limit=20))) * 1e3,
                "orphaned_ms": median_of(7, lambda: _timed(lambda: store.runs(status="orphaned", limit=20))) * 1e3,
            }
        out[dialect] = {"runs": runs, "step_rows": runs * rows_per_run, "fill_s": filled, **figures}
    return out


# -- main -------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="10k runs / 300k step rows; repeat 1")
    ap.add_argument("--no-pg", action="store_true", help="SQLite only")
    ap.add_argument("--steps", type=int, default=10_000, help="steps of the recorded run (default 10,000)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()
    repeat = 1 if args.quick else args.repeat
    runs, per_run = (10_000, 30) if args.quick else (100_000, 30)
    dbs = Databases(not args.no_pg)
    try:
        state = bench_state_change(dbs, 2_000 if args.quick else 5_000)
        overhead = bench_overhead(dbs, args.steps, repeat)
        listing = bench_list(dbs, runs, per_run)
    finally:
        dbs.close()
    results = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_avg": os.getloadavg(), "platform": platform.platform(),
                    "sqlite": sqlite3.sqlite_version},
        "state_change": state, "overhead": overhead, "runs_list": listing, "targets": TARGETS,
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "store.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"\nstate change (one row committed alone), SQLite: spine {state['spine_us']:.1f} µs, raw sqlite3 {state['raw_sqlite3_us']:.1f} µs "
          f"(×{state['ratio']:.2f})  target ≤ {TARGETS['state_change_us_sqlite']:g} µs")
    print(f"\n{args.steps:,}-step no-op run, inline executor, max_concurrency 16 (median of {repeat}):")
    print(f"  {'shape/database':<22}{'no store':>10}{'recorded':>10}{'commits':>9}{'µs/step':>9}{'CPU µs/step':>13}{'raw floor':>11}{'× floor':>9}")
    for key, v in overhead.items():
        if key == "runs_show_s":
            continue
        print(f"  {key:<22}{v['bare_s']:>9.2f}s{v['recorded_s']:>9.2f}s{v['commits']:>9}{v['overhead_us_per_step']:>9.1f}"
              f"{v['overhead_cpu_us_per_step']:>13.1f}{v['raw_floor_us_per_step']:>9.1f}µs{v['ratio_to_raw_floor'] or 0:>9.1f}")
    print(f"  targets: ≤ {TARGETS['overhead_us_per_step_sqlite']:g} µs/step SQLite, ≤ {TARGETS['overhead_us_per_step_postgresql']:g} µs/step PostgreSQL (grouped commits)")
    for dialect, took in overhead["runs_show_s"].items():
        print(f"runs show of the {args.steps:,}-step run, {dialect}: {took * 1e3:.0f} ms  target < {TARGETS['runs_show_s'] * 1e3:g} ms")
    for dialect, v in listing.items():
        print(f"runs list, first page, {dialect}, {v['runs']:,} runs / {v['step_rows']:,} step rows (filled in {v['fill_s']:.0f} s): "
              f"{v['plain_ms']:.2f} ms; by group {v['by_group_ms']:.2f} ms; by status {v['by_status_ms']:.2f} ms; "
              f"orphaned {v['orphaned_ms']:.2f} ms  target < {TARGETS['runs_list_ms']:g} ms")
    print(f"\nwritten: {OUT / 'store.json'}")
    if not args.check:
        return 0
    missed = []
    if state["spine_us"] > TARGETS["state_change_us_sqlite"]:
        missed.append("state change")
    for dialect in ("sqlite", "postgresql"):
        for shape in ("wide", "layered"):
            v = overhead.get(f"{shape}/{dialect}")
            if v and v["overhead_us_per_step"] > TARGETS[f"overhead_us_per_step_{dialect}"]:
                missed.append(f"overhead {shape}/{dialect}")
        if listing.get(dialect, {}).get("plain_ms", 0) > TARGETS["runs_list_ms"]:
            missed.append(f"runs list {dialect}")
        if overhead["runs_show_s"].get(dialect, 0) > TARGETS["runs_show_s"]:
            missed.append(f"runs show {dialect}")
    if missed:
        print("missed: " + ", ".join(missed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
