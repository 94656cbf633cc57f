"""What does ``--executor celery`` cost per step, against Celery itself? From the repository root:

    uv run python bench/bench_celery.py                                   # Redis, 1,000 steps, median of 3
    uv run python bench/bench_celery.py --broker amqp://guest:guest@127.0.0.1:5672//
    uv run python bench/bench_celery.py --steps 300 --repeat 1 --check    # exit 1 when the target is missed

Target (issue 12, "Speed"): per-step cost of ``GroupRunner(CeleryExecutor(…))`` on 1,000
independent no-op steps ≤ 1.5× a bare Celery ``group`` of the same number of no-op tasks,
on the same broker and the same workers, measured in one run.

Both sides run on the same ``spine worker`` processes (``--workers`` of them, ``--concurrency``
pool processes each), started here on a queue of this run's own; ``bench/_celery_noop.py``
gives them the no-op pipeline and the bare no-op task. The spine side runs a parallel
group with ``max_concurrency`` = the number of steps (everything may be sent at once, as a
group is); each run opens and closes its executor (connection, result thread), which is
counted. The bare side is ``group(noop.s() × n).apply_async(queue=…).get()`` with the same
client configuration (JSON, acks late, the broker's result backend). After a warm-up of
50 of each, the two alternate, first one then the other; medians are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
TARGET = 1.5


def start_workers(broker: str, queue: str, folder: Path, workers: int, concurrency: int) -> list[subprocess.Popen[bytes]]:
    (folder / "spine.toml").write_text(f'pipelines = ["_celery_noop"]\n[celery]\nbroker = "{broker}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(BENCH), env.get("PYTHONPATH", "")) if p)
    procs = []
    for i in range(workers):
        log = folder / f"w{i}.log"
        with log.open("wb") as out:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "spine", "worker", "-Q", queue, "-c", str(concurrency), "-n", f"bench{i}-{queue}@%h", "--loglevel", "WARNING"],
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder, start_new_session=True,
            ))
    return procs


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(20)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--broker", default=os.environ.get("SPINE_CELERY_BROKER", "redis://127.0.0.1:6379/0"))
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=2, help="pool processes per worker")
    ap.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = ap.parse_args()
    sys.path.insert(0, str(BENCH))

    from celery import group

    from spine.orchestration import PipelineGroup, PlanResolver
    from spine.orchestration.models import GroupRunStatus
    from spine.runner import GroupRunner
    from spine.runner.celery_executor import CeleryExecutor, make_app, safe_url

    n = args.steps
    queue = f"bench-{secrets.token_hex(4)}"
    app = make_app(args.broker)
    noop_task = app.signature("bench.noop_task")

    def plan_of(k: int) -> Any:
        g = PipelineGroup(name="bench.celery").with_policy(execution="parallel", max_concurrency=k)
        for i in range(k):
            g = g.add(f"s{i}", "bench.noop")
        return PlanResolver().resolve(g)

    def spine(plan: Any) -> float:
        runner = GroupRunner(CeleryExecutor(args.broker, modules=("_celery_noop",), default_queue=queue))
        t = time.perf_counter()
        result = runner.execute(plan)
        took = time.perf_counter() - t
        if result.status is not GroupRunStatus.COMPLETED:
            raise SystemExit(f"the spine run did not complete: {result.status.value} {result.message}")
        return took

    def bare(k: int) -> float:
        t = time.perf_counter()
        got = group(noop_task.clone() for _ in range(k)).apply_async(queue=queue).get(timeout=600)
        took = time.perf_counter() - t
        if len(got) != k:
            raise SystemExit(f"the Celery group returned {len(got)} of {k} results")
        return took

    folder = Path(tempfile.mkdtemp(prefix="spine-bench-celery-"))
    procs = start_workers(args.broker, queue, folder, args.workers, args.concurrency)
    spine_s: list[float] = []
    bare_s: list[float] = []
    try:
        warm = plan_of(50)
        deadline = time.monotonic() + 120
        while True:  # the first group waits for the workers to be up
            try:
                bare(50)
                break
            except Exception:  # noqa: BLE001 - not up yet: try again until the deadline
                if time.monotonic() > deadline:
                    raise
        spine(warm)
        plan = plan_of(n)
        for r in range(args.repeat):
            for side in (("bare", "spine") if r % 2 == 0 else ("spine", "bare")):
                if side == "bare":
                    bare_s.append(bare(n))
                else:
                    spine_s.append(spine(plan))
    finally:
        stop_workers(procs)
        app.close()
    b, s = statistics.median(bare_s), statistics.median(spine_s)
    ratio = s / b
    print(f"== celery: {n:,} no-op steps, broker {safe_url(args.broker)}, {args.workers} spine worker(s) × {args.concurrency} "
          f"processes, median of {args.repeat}")
    print(f"  bare Celery group {b / n * 1e3:.2f} ms/task   spine --executor celery {s / n * 1e3:.2f} ms/step   ratio {ratio:.2f}   "
          f"(target ≤ {TARGET})")
    print(f"  runs: bare {', '.join(f'{x:.2f}' for x in bare_s)} s; spine {', '.join(f'{x:.2f}' for x in spine_s)} s")
    out = BENCH / "out" / "celery"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"broker": safe_url(args.broker), "steps": n, "bare_s": bare_s, "spine_s": spine_s,
                                                  "ratio": ratio, "target": TARGET}, indent=2), encoding="utf-8")
    ok = ratio <= TARGET
    print(("PASS" if ok else "MISS") + f": celery per-step cost ≤ {TARGET}× a bare Celery group: {ratio:.2f}")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
