"""Load on ``spine serve`` (issue 10): concurrent clients reading runs while runs start.

    uv run python bench/bench_serve.py                     # 50 clients, 60 s, 200 runs, SQLite
    uv run python bench/bench_serve.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test
    uv run python bench/bench_serve.py --clients 20 --duration 10 --runs 40   # a quick look

What it does, in one invocation:

1. **baseline** — a bare Starlette app on uvicorn (one process, like spine serve) whose
   ``GET /runs`` returns a fixed JSON page of the same size as spine's: the floor that
   uvicorn, the loopback and this client impose. ``--clients`` clients read it for
   ``--duration`` seconds;
2. **spine** — ``spine serve --workers 4`` over a fresh store with a token; the same
   clients list runs (``GET /api/v1/runs?limit=20``) and read one of them
   (``GET /api/v1/runs/{id}``) for ``--duration`` seconds, while one more client starts
   ``--runs`` runs (``POST /api/v1/groups/bench.chain/runs``) spread over that time;
3. waits for every run to end and checks **in the store** that each started run is
   recorded once and completed exactly once (every step one attempt).

It prints read latency percentiles for both, the ratio of spine's p99 to the baseline's
(the number to compare across machines), and the target (p99 < 200 ms); it writes
``bench/out/serve.json``. Exit 0 whatever the numbers, 3 when the correctness check fails.
The readers run in this process (asyncio, a minimal keep-alive HTTP/1.1 client) on the same
cores as the server: the baseline pays the same client cost, and on a small machine both
numbers include waiting for a core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "out"
TARGET_P99_MS = 200.0

PIPES = '''\
from spine.framework import register_pipeline

@register_pipeline("bench.step", allow_extra_params=True)
def step(params, ctx):
    return {"step": ctx.step}
'''

GROUP = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: bench.chain}
spec:
  policy: {execution: parallel, max_active_runs: 100000}
  pipelines:
    - {name: extract, pipeline: bench.step}
    - {name: transform, pipeline: bench.step, depends_on: [extract]}
    - {name: load, pipeline: bench.step, depends_on: [transform]}
    - {name: report, pipeline: bench.step, depends_on: [load]}
'''

BASELINE = '''\
import json, sys
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
import uvicorn

PAGE = json.dumps({"runs": [json.loads(sys.argv[2]) for _ in range(20)], "next_cursor": None}).encode()

async def runs(request):
    return Response(PAGE, media_type="application/json")

async def healthz(request):
    return Response(b'{"status":"ok"}', media_type="application/json")

app = Starlette(routes=[Route("/runs", runs), Route("/healthz", healthz)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
'''

SAMPLE_RUN = {
    "run_id": "run_20240105T120000_0123abcd", "group": "bench.chain", "group_version": 1, "kind": "run", "status": "completed",
    "orphaned": False, "started_at": "2024-01-05T12:00:00.000000Z", "finished_at": "2024-01-05T12:00:00.100000Z", "duration_s": 0.1,
    "batch_id": "group_bench.chain_20240105T120000_abcd", "params": {}, "executor": "threads", "steps": 4, "host": "bench", "pid": 1,
    "heartbeat_at": "2024-01-05T12:00:00.000000Z", "message": None, "resumes": 0, "parent_run_id": None, "cancel_requested_at": None,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import httpx

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer in {timeout} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    qs = statistics.quantiles(samples, n=1000, method="inclusive")
    return {"n": len(samples), "p50_ms": qs[499] * 1000, "p90_ms": qs[899] * 1000, "p99_ms": qs[989] * 1000,
            "max_ms": max(samples) * 1000, "mean_ms": statistics.fmean(samples) * 1000}


class RawClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: far cheaper per request than
    httpx, so the load generator (on the same cores as the server) costs less and the
    baseline measures the server, not the client."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}\r\n".encode())
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:"))
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def read_load(base: str, headers: dict[str, str], clients: int, duration: float, spine: bool) -> tuple[list[float], int]:
    """``clients`` readers for ``duration`` s; latencies of successful reads, and the failures."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    failures = 0
    end = time.monotonic() + duration

    async def client(k: int) -> None:
        nonlocal failures
        rnd = random.Random(k)
        c = RawClient(host, int(port), headers)
        try:
            while time.monotonic() < end:
                t0 = time.perf_counter()
                status, body = await c.get("/api/v1/runs?limit=20" if spine else "/runs")
                latencies.append(time.perf_counter() - t0)
                if status != 200:
                    failures += 1
                    continue
                runs = json.loads(body)["runs"]
                if spine and runs:
                    t0 = time.perf_counter()
                    status, _ = await c.get(f"/api/v1/runs/{rnd.choice(runs)['run_id']}")
                    latencies.append(time.perf_counter() - t0)
                    failures += status != 200
        finally:
            await c.close()

    await asyncio.gather(*(client(k) for k in range(clients)))
    return latencies, failures


async def start_runs(base: str, headers: dict[str, str], n: int, duration: float) -> tuple[list[str], int]:
    import httpx

    started: list[str] = []
    refused = 0
    gap = duration / max(n, 1)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as c:
        t0 = time.monotonic()
        for i in range(n):
            delay = t0 + i * gap - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            r = await c.post("/api/v1/groups/bench.chain/runs", json={})
            if r.status_code == 202:
                started.append(r.json()["run_id"])
            else:
                refused += 1
    return started, refused


def check_store(db: str, started: list[str]) -> list[str]:
    """What is wrong in the store (empty: every started run recorded once and completed once)."""
    from spine.store import RunStore
    from spine.store.schema import group_run_executions, group_runs

    problems = []
    with RunStore.open(db) as store:
        runs = store.read(lambda c: c.execute(group_runs.select()).mappings().all())
        rows = store.read(lambda c: c.execute(group_run_executions.select()).mappings().all())
    ids = [r["run_id"] for r in runs]
    if sorted(ids) != sorted(started) or len(set(ids)) != len(ids):
        problems.append(f"{len(started)} runs started, {len(ids)} recorded ({len(set(ids))} distinct)")
    bad = [r["run_id"] for r in runs if r["status"] != "completed"]
    if bad:
        problems.append(f"{len(bad)} run(s) did not complete: {bad[:5]}")
    per_step: dict[tuple[str, str], int] = {}
    for row in rows:
        per_step[(row["run_id"], row["step"])] = per_step.get((row["run_id"], row["step"]), 0) + 1
    dup = [k for k, v in per_step.items() if v != 1]
    if dup or len(per_step) != 4 * len(ids):
        problems.append(f"{len(dup)} step(s) ran more than once; {len(per_step)} step rows for {len(ids)} runs")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file in bench/out/serve)")
    args = ap.parse_args()

    root = OUT / "serve"
    shutil.rmtree(root, ignore_errors=True)
    (root / "groups").mkdir(parents=True)
    (root / "spine.toml").write_text('pipelines = ["bench_serve_pipes"]\ngroups = ["groups"]\n')
    (root / "bench_serve_pipes.py").write_text(PIPES)
    (root / "groups" / "chain.yaml").write_text(GROUP)
    db = args.db or f"sqlite:///{root / 'spine.db'}"
    if db.startswith("postgresql"):
        import psycopg

        schema = f"bench_{os.getpid()}"
        with psycopg.connect(db.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"CREATE SCHEMA {schema}")
        db = f"{db}?options=-csearch_path%3D{schema}"
    env = {**os.environ, "SPINE_DATABASE_URL": db, "PYTHONPATH": str(root)}
    spine = [sys.executable, "-m", "spine"]

    # 1. the baseline
    port = free_port()
    base_proc = subprocess.Popen([sys.executable, "-c", BASELINE, str(port), json.dumps(SAMPLE_RUN)], cwd=root)
    try:
        wait_up(f"http://127.0.0.1:{port}/healthz", base_proc)
        print(f"baseline: {args.clients} clients for {args.duration:g} s …", file=sys.stderr)
        base_lat, base_fail = asyncio.run(read_load(f"http://127.0.0.1:{port}", {}, args.clients, args.duration, spine=False))
    finally:
        stop(base_proc)

    # 2. spine
    token = subprocess.run([*spine, "token", "create", "--role", "operator", "--name", "bench"], cwd=root, env=env,
                           capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    port = free_port()
    log = open(root / "serve.log", "wb")
    proc = subprocess.Popen([*spine, "serve", "--port", str(port), "--workers", str(args.workers), "--log-level", "warning"],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    headers = {"Authorization": f"Bearer {token}"}
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base + "/healthz", proc)
        print(f"spine: {args.clients} clients for {args.duration:g} s while {args.runs} runs start …", file=sys.stderr)

        async def both() -> tuple[tuple[list[float], int], tuple[list[str], int]]:
            return await asyncio.gather(read_load(base, headers, args.clients, args.duration, spine=True),
                                        start_runs(base, headers, args.runs, args.duration))

        (lat, fail), (started, refused) = asyncio.run(both())
        t0 = time.monotonic()
        import httpx

        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
            for run_id in started:
                while c.get(f"/api/v1/runs/{run_id}").json()["status"] not in ("completed", "failed", "partial", "cancelled"):
                    if time.monotonic() - t0 > 600:
                        raise SystemExit("runs did not finish within 10 minutes")
                    time.sleep(0.2)
        drained = time.monotonic() - t0
    finally:
        stop(proc)
        log.close()

    problems = check_store(db, started) + ([f"{refused} run start(s) refused"] if refused else [])
    spine_p, base_p = percentiles(lat), percentiles(base_lat)
    ratio = spine_p["p99_ms"] / base_p["p99_ms"] if base_p.get("p99_ms") else float("nan")
    report = {
        "clients": args.clients, "duration_s": args.duration, "runs": args.runs, "workers": args.workers,
        "database": "postgresql" if db.startswith("postgresql") else "sqlite",
        "spine_reads": spine_p, "spine_read_failures": fail, "baseline_reads": base_p, "baseline_failures": base_fail,
        "p99_ratio": ratio, "runs_started": len(started), "drain_after_load_s": drained, "problems": problems,
        "target_p99_ms": TARGET_P99_MS, "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "serve.json").write_text(json.dumps(report, indent=2))
    print(f"baseline reads  n={base_p['n']:>7}  p50 {base_p['p50_ms']:7.1f} ms  p99 {base_p['p99_ms']:7.1f} ms  (bare Starlette on uvicorn)")
    print(f"spine reads     n={spine_p['n']:>7}  p50 {spine_p['p50_ms']:7.1f} ms  p99 {spine_p['p99_ms']:7.1f} ms  failures {fail}")
    print(f"p99 ratio spine/baseline: {ratio:.1f}×   target p99 < {TARGET_P99_MS:g} ms: {'met' if spine_p['p99_ms'] < TARGET_P99_MS else 'MISSED'}")
    print(f"runs: {len(started)} started, all ended {drained:.1f} s after the load; store check: {'ok' if not problems else '; '.join(problems)}")
    return 3 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
