"""How fast does spine *run* groups? One command, from the repository root:

    uv run python bench/bench_run.py              # everything, 1k/10k/100k, median of 3 (~10 min on 2 cores)
    uv run python bench/bench_run.py --quick      # 1k/10k once, makespan and dask smaller (~2 min)
    uv run python bench/bench_run.py --only overhead --sizes 10000 --repeat 5
    uv run python bench/bench_run.py --check      # exit 1 when a target is missed

Targets (issue 8, "Speed"), each a ratio against a baseline measured in the same run:

* **overhead** — no-op steps of a generated group (random DAG, ~3 dependencies per step,
  concurrency 8): ``threads`` ≤ 2× a bare ``graphlib.TopologicalSorter`` +
  ``ThreadPoolExecutor`` ready-queue loop; ``inline`` ≤ 2× a bare graphlib loop calling
  the same functions; per-step cost flat from 1k to 100k steps (100k / 1k ≤ 1.3).
* **memory** — a process that plans and runs 100k no-op steps peaks under 1 GiB.
* **makespan** — 200 steps sleeping 5–20 ms at concurrency 8 on ``threads`` ≤ 1.05× the
  zero-overhead list schedule of the same DAG (computed, not measured).
* **dask** — per-step cost on a LocalCluster ≤ 1.5× Dask's own ``Client.get`` on the same
  graph on the same cluster.

Every measurement runs in a fresh interpreter (``--child``); plans are built there with
``scan`` + ``PlanResolver`` from ``bench/_generate.py``'s groups, outside the timing. In an
overhead child the four loops run one after the other in an order that rotates from run
to run, after a 50-step warm-up of each (first calls import and cache), with a full
garbage collection before each. Wall time is the target; CPU time of
the process (all threads) is printed beside it because it moves less when other work
shares the machine. Results go to ``bench/out/run/results.json``.
"""

from __future__ import annotations

import argparse
import gc
import graphlib
import heapq
import json
import os
import platform
import queue
import resource
import statistics
import subprocess
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "run"
sys.path.insert(0, str(HERE))

from _generate import RUN_PARAMS, write_group  # noqa: E402

LIMIT = 8  # the generated groups' policy.max_concurrency
OVERHEAD_MODES = ("bare-inline", "inline", "bare-threads", "threads")
TARGETS = {"threads": 2.0, "inline": 2.0, "flat": 1.3, "memory_mib": 1024.0, "makespan": 1.05, "dask": 1.5}


# -- children: one measurement each, in a fresh interpreter ----------------------------------


def _vm(field: str) -> int:
    """A ``/proc/self/status`` field in KiB (``VmHWM``: this address space's peak RSS)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _plan(n: int) -> Any:
    from spine.orchestration import PlanResolver, scan

    (loaded,) = scan([OUT / "groups" / f"group_{n}.yaml"])
    return PlanResolver().resolve(loaded.group, RUN_PARAMS)


def _check_spine(result: Any, n: int) -> None:
    done = sum(1 for e in result.step_executions if e.status.value == "completed")
    if result.status.value != "completed" or done != n:
        raise SystemExit(f"spine run ended {result.status.value} with {done}/{n} steps completed: {result.message}")


def bare_inline(graph: dict[str, tuple[str, ...]], calls: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    """The inline baseline: graphlib's ready/done loop calling each step's function."""
    ts = graphlib.TopologicalSorter(graph)
    ts.prepare()
    results: dict[str, Any] = {}
    while ts.is_active():
        for node in ts.get_ready():
            fn, params = calls[node]
            results[node] = fn(params, None)
            ts.done(node)
    return results


def bare_threads(graph: dict[str, tuple[str, ...]], calls: dict[str, tuple[Any, Any]], limit: int = LIMIT) -> dict[str, Any]:
    """The threads baseline: graphlib + a ``ThreadPoolExecutor`` fed from a ready queue, ``limit`` at once."""
    ts = graphlib.TopologicalSorter(graph)
    ts.prepare()
    results: dict[str, Any] = {}
    finished: queue.SimpleQueue[str] = queue.SimpleQueue()

    def job(node: str) -> None:
        fn, params = calls[node]
        results[node] = fn(params, None)
        finished.put(node)

    ready: deque[str] = deque()
    running = 0
    with ThreadPoolExecutor(limit) as pool:
        while ts.is_active():
            ready.extend(ts.get_ready())
            while ready and running < limit:
                pool.submit(job, ready.popleft())
                running += 1
            node = finished.get()
            while True:
                ts.done(node)
                running -= 1
                try:
                    node = finished.get_nowait()
                except queue.Empty:
                    break
    return results


def child_overhead(n: int, rotation: int) -> dict[str, Any]:
    import _run_pipelines  # noqa: F401 - registers the no-op pipelines

    from spine.framework import default_pipeline_registry
    from spine.runner import GroupRunner

    plan = _plan(n)
    graph = {s.name: tuple(s.depends_on) for s in plan.steps}
    calls = {s.name: (default_pipeline_registry.get(s.pipeline).target, dict(s.params)) for s in plan.steps}
    modes = OVERHEAD_MODES[rotation % 4 :] + OVERHEAD_MODES[: rotation % 4]
    out: dict[str, Any] = {"n": n, "order": list(modes)}
    warm = _plan_prefix(plan, 50)  # first calls import and cache things: not a per-step cost
    for mode in ("inline", "threads"):
        _check_spine(GroupRunner(mode).execute(warm), 50)
    bare_inline({s.name: tuple(s.depends_on) for s in warm.steps}, calls)
    bare_threads({s.name: tuple(s.depends_on) for s in warm.steps}, calls)
    for mode in modes:
        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        if mode == "bare-inline":
            got = bare_inline(graph, calls)
        elif mode == "bare-threads":
            got = bare_threads(graph, calls)
        else:
            got = GroupRunner(mode).execute(plan)
        w1, c1 = time.perf_counter(), time.process_time()
        if mode.startswith("bare"):
            if len(got) != n:
                raise SystemExit(f"{mode}: ran {len(got)} of {n} steps")
        else:
            _check_spine(got, n)
        del got
        out[mode] = {"wall_s": w1 - w0, "cpu_s": c1 - c0}
    return out


def child_memory(n: int, executor: str) -> dict[str, Any]:
    import _run_pipelines  # noqa: F401

    from spine.runner import GroupRunner

    plan = _plan(n)
    gc.collect()
    planned_rss, planned_hwm = _vm("VmRSS"), _vm("VmHWM")
    w0 = time.perf_counter()
    result = GroupRunner(executor).execute(plan)
    took = time.perf_counter() - w0
    hwm, maxrss = _vm("VmHWM"), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _check_spine(result, n)
    return {"n": n, "executor": executor, "wall_s": took, "rss_after_plan_kib": planned_rss, "hwm_after_plan_kib": planned_hwm,
            "hwm_kib": hwm, "ru_maxrss_kib": maxrss}


def list_schedule(deps: list[list[int]], durations: list[float], limit: int) -> float:
    """The makespan of a zero-overhead list schedule: whenever a slot is free, the ready step
    first in plan order starts at once (the runner's own policy); steps take exactly their
    durations."""
    n = len(deps)
    waiting = [len(d) for d in deps]
    dependents: list[list[int]] = [[] for _ in range(n)]
    for i, ds in enumerate(deps):
        for d in ds:
            dependents[d].append(i)
    ready = [i for i in range(n) if waiting[i] == 0]
    heapq.heapify(ready)
    running: list[tuple[float, int]] = []
    now = 0.0
    while ready or running:
        while ready and len(running) < limit:
            i = heapq.heappop(ready)
            heapq.heappush(running, (now + durations[i], i))
        now, i = heapq.heappop(running)
        finished = [i]
        while running and running[0][0] == now:
            finished.append(heapq.heappop(running)[1])
        for f in finished:
            for j in dependents[f]:
                waiting[j] -= 1
                if waiting[j] == 0:
                    heapq.heappush(ready, j)
    return now


def child_makespan(n: int, repeat: int) -> dict[str, Any]:
    os.environ["SPINE_BENCH_SLEEP"] = str(n)
    import _run_pipelines

    from spine.framework import default_pipeline_registry
    from spine.runner import GroupRunner

    plan = _plan(n)
    index = {s.name: i for i, s in enumerate(plan.steps)}
    deps = [[index[d] for d in s.depends_on] for s in plan.steps]
    table = _run_pipelines.durations(n)
    durations = [table[s.params["partition"]] for s in plan.steps]
    ideal = list_schedule(deps, durations, LIMIT)
    graph = {s.name: tuple(s.depends_on) for s in plan.steps}
    calls = {s.name: (default_pipeline_registry.get(s.pipeline).target, dict(s.params)) for s in plan.steps}
    spine, bare = [], []
    warm = _plan_prefix(plan, 20)
    _check_spine(GroupRunner("threads").execute(warm), 20)
    bare_threads({s.name: tuple(s.depends_on) for s in warm.steps}, calls)
    for r in range(repeat):
        for mode in (("spine", "bare") if r % 2 == 0 else ("bare", "spine")):
            gc.collect()
            t0 = time.perf_counter()
            if mode == "spine":
                result = GroupRunner("threads").execute(plan)
                spine.append(time.perf_counter() - t0)
                _check_spine(result, n)
            else:
                bare_threads(graph, calls)
                bare.append(time.perf_counter() - t0)
    return {"n": n, "ideal_s": ideal, "sum_s": sum(durations), "spine_s": spine, "bare_threads_s": bare}


def child_dask(n: int, repeat: int) -> dict[str, Any]:
    import _run_pipelines
    import distributed

    from spine.runner import GroupRunner

    plan = _plan(n)
    dsk = {s.name: (_run_pipelines.noop_task, *s.depends_on) for s in plan.steps}
    keys = list(dsk)
    t0 = time.perf_counter()
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=LIMIT // 2, processes=True, host="127.0.0.1", dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    )
    started = time.perf_counter() - t0
    client = distributed.Client(cluster, set_as_default=False)
    runner = GroupRunner("dask", dask_address=cluster.scheduler_address, modules=("_run_pipelines",))
    # warm-up (not counted): workers import spine and the pipeline module on first use
    warm = _plan_prefix(plan, 50)
    client.get({s.name: (_run_pipelines.noop_task, *s.depends_on) for s in warm.steps}, [warm.steps[-1].name])
    _check_spine(runner.execute(warm), 50)
    get_s, spine_s = [], []
    try:
        for r in range(repeat):
            for mode in (("get", "spine") if r % 2 == 0 else ("spine", "get")):
                gc.collect()
                t = time.perf_counter()
                if mode == "get":
                    got = client.get(dsk, keys)
                    get_s.append(time.perf_counter() - t)
                    if len(got) != n:
                        raise SystemExit(f"Client.get returned {len(got)} of {n} results")
                else:
                    result = runner.execute(plan)
                    spine_s.append(time.perf_counter() - t)
                    _check_spine(result, n)
    finally:
        client.close()
        t0 = time.perf_counter()
        cluster.close()
        stopped = time.perf_counter() - t0
    return {"n": n, "get_s": get_s, "spine_s": spine_s, "cluster_start_s": started, "cluster_stop_s": stopped,
            "distributed": distributed.__version__}


def _plan_prefix(plan: Any, k: int) -> Any:
    """The first ``k`` steps of a plan (declared in topological order, so closed under dependencies)."""
    import dataclasses

    steps = plan.steps[:k]
    names = {s.name for s in steps}
    steps = tuple(dataclasses.replace(s, depends_on=tuple(d for d in s.depends_on if d in names)) for s in steps)
    return dataclasses.replace(plan, steps=steps)


def child_main(argv: list[str]) -> None:
    kind, n, extra = argv[0], int(argv[1]), int(argv[2]) if len(argv) > 2 else 0
    fn = {"overhead": lambda: child_overhead(n, extra), "memory": lambda: child_memory(n, "threads"),
          "makespan": lambda: child_makespan(n, extra), "dask": lambda: child_dask(n, extra)}[kind]
    print(json.dumps(fn()), flush=True)


# -- the parent: generate, run children, report ------------------------------------------


def run_child(*args: Any, timeout: float = 1800) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(HERE / "out" / "pycache")
    proc = subprocess.run([sys.executable, str(Path(__file__)), "--child", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=OUT, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child {args} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=None, help="overhead sizes, comma-separated (default 1000,10000,100000)")
    ap.add_argument("--repeat", type=int, default=None, help="runs per measurement (default 3; --quick: 1)")
    ap.add_argument("--quick", action="store_true", help="1k and 10k once; makespan and dask with fewer runs")
    ap.add_argument("--only", default="overhead,memory,makespan,dask", help="which sections to run")
    ap.add_argument("--dask-steps", type=int, default=None, help="steps in the dask comparison (default 1000; --quick: 300)")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child_main(args.child)
        return 0

    sizes = [int(s) for s in (args.sizes or ("1000,10000" if args.quick else "1000,10000,100000")).split(",")]
    repeat = args.repeat or (1 if args.quick else 3)
    only = set(args.only.split(","))
    dask_n = args.dask_steps or (300 if args.quick else 1000)
    OUT.mkdir(parents=True, exist_ok=True)
    wanted = set(sizes) | ({100_000} if "memory" in only else set()) | ({200} if "makespan" in only else set()) | (
        {dask_n} if "dask" in only else set())
    for n in sorted(wanted):
        path = OUT / "groups" / f"group_{n}.yaml"
        if not path.exists():
            write_group(path, n)

    report: dict[str, Any] = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
                              "targets": TARGETS, "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    verdicts: list[tuple[bool, str]] = []
    began = time.perf_counter()

    if "overhead" in only:
        print("== overhead: no-op steps, concurrency 8; µs per step (median of runs), wall and CPU", flush=True)
        print(f"{'steps':>9} {'runs':>4} {'bare-inline':>12} {'inline':>12} {'ratio':>6} {'bare-threads':>13} {'threads':>12} {'ratio':>6}  load")
        per_size: dict[int, dict[str, Any]] = {}
        for n in sizes:
            runs = [run_child("overhead", n, r) for r in range(repeat)]
            med = {m: {k: statistics.median(r[m][k] for r in runs) / n * 1e6 for k in ("wall_s", "cpu_s")} for m in OVERHEAD_MODES}
            per_size[n] = {"runs": runs, "median_us": med}
            ri = med["inline"]["wall_s"] / med["bare-inline"]["wall_s"]
            rt = med["threads"]["wall_s"] / med["bare-threads"]["wall_s"]
            print(f"{n:>9,} {repeat:>4} {med['bare-inline']['wall_s']:>12.1f} {med['inline']['wall_s']:>12.1f} {ri:>6.2f} "
                  f"{med['bare-threads']['wall_s']:>13.1f} {med['threads']['wall_s']:>12.1f} {rt:>6.2f}  {_load()}")
            print(f"{'  cpu':>9} {'':>4} {med['bare-inline']['cpu_s']:>12.1f} {med['inline']['cpu_s']:>12.1f} "
                  f"{med['inline']['cpu_s'] / med['bare-inline']['cpu_s']:>6.2f} {med['bare-threads']['cpu_s']:>13.1f} "
                  f"{med['threads']['cpu_s']:>12.1f} {med['threads']['cpu_s'] / med['bare-threads']['cpu_s']:>6.2f}", flush=True)
            if n >= 10_000:
                verdicts.append((rt <= TARGETS["threads"], f"threads ≤ {TARGETS['threads']}× bare graphlib+ThreadPoolExecutor at {n:,} steps: {rt:.2f}"))
                verdicts.append((ri <= TARGETS["inline"], f"inline ≤ {TARGETS['inline']}× bare graphlib loop at {n:,} steps: {ri:.2f}"))
        report["overhead"] = per_size
        if len(sizes) > 1:
            lo, hi = min(sizes), max(sizes)
            for mode in ("threads", "inline"):
                flat = per_size[hi]["median_us"][mode]["wall_s"] / per_size[lo]["median_us"][mode]["wall_s"]
                verdicts.append((flat <= TARGETS["flat"], f"{mode}: per-step cost at {hi:,} / at {lo:,} steps ≤ {TARGETS['flat']}: {flat:.2f}"))

    if "memory" in only:
        m = run_child("memory", 100_000)
        report["memory"] = m
        peak = max(m["hwm_kib"], m["hwm_after_plan_kib"]) / 1024
        print(f"\n== memory: plan + run 100,000 no-op steps on threads ({m['wall_s']:.1f} s)")
        print(f"  RSS after planning {m['rss_after_plan_kib'] / 1024:.0f} MiB; peak (VmHWM) {peak:.0f} MiB; "
              f"ru_maxrss {m['ru_maxrss_kib'] / 1024:.0f} MiB", flush=True)
        verdicts.append((peak < TARGETS["memory_mib"], f"100,000 no-op steps planned and run in < 1 GiB: {peak:.0f} MiB"))

    if "makespan" in only:
        m = run_child("makespan", 200, max(repeat, 3))
        report["makespan"] = m
        spine, bare, ideal = statistics.median(m["spine_s"]), statistics.median(m["bare_threads_s"]), m["ideal_s"]
        print(f"\n== makespan: 200 steps sleeping 5–20 ms, concurrency 8, threads (median of {len(m['spine_s'])})")
        print(f"  list schedule (computed) {ideal * 1e3:.1f} ms   spine {spine * 1e3:.1f} ms ({spine / ideal:.3f}×)   "
              f"bare graphlib+pool {bare * 1e3:.1f} ms ({bare / ideal:.3f}×)   sum of sleeps {m['sum_s'] * 1e3:.0f} ms  load {_load()}", flush=True)
        verdicts.append((spine / ideal <= TARGETS["makespan"], f"makespan ≤ {TARGETS['makespan']}× the zero-overhead list schedule: {spine / ideal:.3f}"))

    if "dask" in only:
        m = run_child("dask", dask_n, max(repeat, 2))
        report["dask"] = m
        get, spine = statistics.median(m["get_s"]), statistics.median(m["spine_s"])
        print(f"\n== dask: {dask_n:,} no-op steps on a LocalCluster (2 workers × 4 threads), median of {len(m['spine_s'])}; "
              f"distributed {m['distributed']}")
        print(f"  Client.get {get / dask_n * 1e3:.2f} ms/step   spine {spine / dask_n * 1e3:.2f} ms/step   ratio {spine / get:.2f}   "
              f"(LocalCluster start {m['cluster_start_s']:.1f} s, stop {m['cluster_stop_s']:.1f} s)  load {_load()}", flush=True)
        verdicts.append((spine / get <= TARGETS["dask"], f"dask per-step cost ≤ {TARGETS['dask']}× Client.get: {spine / get:.2f}"))

    report["verdicts"] = [{"ok": ok, "what": what} for ok, what in verdicts]
    report["took_s"] = time.perf_counter() - began
    (OUT / "results.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print("\n== targets")
    for ok, what in verdicts:
        print(f"  {_verdict(ok)}  {what}")
    print(f"\n({report['took_s']:.0f} s; results in {OUT / 'results.json'})")
    return 1 if args.check and not all(ok for ok, _ in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
