"""Real processes, real signals: kill -9 mid-run and resume, cancel from another process,
and the races (two runners and one pool, two runs of one group, two resumes of one run).

Each test builds a project folder whose pipelines log every call to a JSON-lines file
and may hang until a ``go`` file appears, then drives ``python -m spine`` processes
against the test's database (``SPINE_DATABASE_URL``) with short heartbeats and leases.
"""

# ruff: noqa: F811 - the fixtures imported from _db are parameters of the tests below

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _db import db_url, pg_url  # noqa: F401 - fixtures

from spine.orchestration.models import GroupRunStatus
from spine.store import RunStore

PIPES = '''\
import json, os, time
from pathlib import Path
from spine.framework import register_pipeline

LOG = Path(os.environ["SPINE_TEST_LOG"])
GO = Path(os.environ["SPINE_TEST_GO"])

def _log(ctx, what, **more):
    with LOG.open("a") as fh:
        fh.write(json.dumps({"step": ctx.step, "attempt": ctx.attempt, "what": what, "key": ctx.idempotency_key,
                             "pid": os.getpid(), "t": time.time(), **more}) + "\\n")

@register_pipeline("crash.ok", allow_extra_params=True)
def ok(params, ctx):
    _log(ctx, "done", upstream=sorted(ctx.upstream))
    return {"step": ctx.step, "upstream": sorted(ctx.upstream)}

@register_pipeline("crash.hang", allow_extra_params=True)
def hang(params, ctx):
    _log(ctx, "started")
    while not GO.exists():
        if ctx.cancelled:
            _log(ctx, "cancelled")
            return {"stopped": True}
        time.sleep(0.05)
    _log(ctx, "done")
    return {"step": ctx.step}

@register_pipeline("crash.busy", allow_extra_params=True)
def busy(params, ctx):
    start = time.time()
    time.sleep(float(params.get("seconds", 0.4)))
    _log(ctx, "interval", start=start, end=time.time())
    return {"step": ctx.step}
'''

CHAIN = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: crash.chain}
spec:
  policy: {execution: parallel, max_concurrency: 2}
  pipelines:
    - {name: a, pipeline: crash.ok}
    - {name: b, pipeline: crash.hang, depends_on: [a]}
    - {name: c, pipeline: crash.ok, depends_on: [b]}
    - {name: d, pipeline: crash.ok}
'''

POOLED = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: NAME}
spec:
  policy: {execution: parallel, max_concurrency: 4, pool: warehouse}
  pipelines:
    - {name: p1, pipeline: crash.busy}
    - {name: p2, pipeline: crash.busy}
    - {name: p3, pipeline: crash.busy}
    - {name: p4, pipeline: crash.busy}
'''

#: Heartbeats and leases short enough for tests, long enough for a loaded machine.
TIMING = {"SPINE_HEARTBEAT_SECONDS": "0.2", "SPINE_LEASE_SECONDS": "3"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "spine.toml").write_text('pipelines = ["crash_pipes"]\ngroups = ["groups"]\n\n[pools]\nwarehouse = 2\n')
    (tmp_path / "crash_pipes.py").write_text(PIPES)
    (tmp_path / "groups").mkdir()
    (tmp_path / "groups" / "chain.yaml").write_text(CHAIN)
    for name in ("pool.one", "pool.two"):
        (tmp_path / "groups" / f"{name}.yaml").write_text(POOLED.replace("NAME", name))
    return tmp_path


def _env(project: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    return {
        **env, **TIMING, "PYTHONPATH": str(project), "SPINE_DATABASE_URL": url,
        "SPINE_TEST_LOG": str(project / "calls.jsonl"), "SPINE_TEST_GO": str(project / "go"),
    }


def _spine(project: Path, url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "spine", *args], cwd=project, env=_env(project, url),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _calls(project: Path) -> list[dict]:
    path = project / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _wait(cond, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _started(project: Path, step: str, n: int = 1) -> bool:
    return sum(1 for c in _calls(project) if c["step"] == step and c["what"] == "started") >= n


def _only_run(url: str) -> str:
    with RunStore.open(url) as store:
        runs = store.runs()
    assert len(runs) == 1, runs
    return runs[0].run_id


def _b_recorded(url: str) -> bool:
    """Step b's start is committed (the recorder commits a start within START_GRACE)."""
    with RunStore.open(url) as store:
        runs = store.runs()
        return bool(runs) and store.result(runs[0].run_id).step("b").status.value == "running"


def _kill_mid_chain(project: Path, url: str) -> str:
    """Start the chain, kill -9 the process while b runs (its start committed); the run's id."""
    proc = _spine(project, url, "group", "run", "crash.chain")
    try:
        _wait(lambda: _started(project, "b"), "step b to start")
        _wait(lambda: _b_recorded(url), "step b's start to be committed")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return _only_run(url)


class TestCrash:
    def test_a_killed_run_stays_running_then_is_orphaned(self, project: Path, db_url: str) -> None:
        """After kill -9 the run is still running in the store; once its lease expires it shows as orphaned."""
        run_id = _kill_mid_chain(project, db_url)
        with RunStore.open(db_url) as store:
            assert store.run(run_id).status is GroupRunStatus.RUNNING
            _wait(lambda: store.run(run_id).orphaned, "the lease to expire", seconds=30)
        listed = subprocess.run(
            [sys.executable, "-m", "spine", "runs", "list", "--json"], cwd=project, env=_env(project, db_url),
            capture_output=True, text=True, timeout=60,
        )
        assert listed.returncode == 0, listed.stderr
        assert [(r["run_id"], r["status"]) for r in json.loads(listed.stdout)] == [(run_id, "orphaned")]

    def test_resume_after_kill_runs_only_what_did_not_complete(self, project: Path, db_url: str) -> None:
        """spine runs resume takes the orphan over: a and d never run again, b runs again (attempt 2), c gets b's result."""
        run_id = _kill_mid_chain(project, db_url)
        with RunStore.open(db_url) as store:
            _wait(lambda: store.run(run_id).orphaned, "the lease to expire", seconds=30)
        (project / "go").touch()
        proc = _spine(project, db_url, "runs", "resume", run_id, "--json")
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        data = json.loads(out)
        assert data["run_id"] == run_id and data["status"] == "completed"
        calls = _calls(project)
        done = [c["step"] for c in calls if c["what"] == "done"]
        assert sorted(done) == ["a", "b", "c", "d"]  # each completed exactly once over both processes
        b_starts = [c for c in calls if c["step"] == "b" and c["what"] == "started"]
        assert [c["attempt"] for c in b_starts] == [1, 2] and len({c["key"] for c in b_starts}) == 1
        assert next(c for c in calls if c["step"] == "c")["upstream"] == ["b"]
        b = next(s for s in data["steps"] if s["name"] == "b")
        assert [(h["attempt"], h["status"]) for h in b["history"]] == [(1, "failed"), (2, "completed")]
        assert b["history"][0]["error"]["type"] == "ProcessLost"

    def test_a_live_run_cannot_be_resumed(self, project: Path, db_url: str) -> None:
        """spine runs resume of a run whose process is alive exits 1 saying it is running."""
        proc = _spine(project, db_url, "group", "run", "crash.chain")
        try:
            _wait(lambda: _started(project, "b"), "step b to start")
            run_id = _only_run(db_url)
            resume = subprocess.run(
                [sys.executable, "-m", "spine", "runs", "resume", run_id], cwd=project, env=_env(project, db_url),
                capture_output=True, text=True, timeout=60,
            )
        finally:
            (project / "go").touch()
            proc.communicate(timeout=60)
        assert resume.returncode == 1 and "it is running" in resume.stderr
        assert proc.returncode == 0

    def test_cancel_from_another_process_stops_the_run(self, project: Path, db_url: str) -> None:
        """spine runs cancel: the running process sees it at its next heartbeat and stops as on Ctrl-C (exit 130)."""
        proc = _spine(project, db_url, "group", "run", "crash.chain", "--json")
        _wait(lambda: _started(project, "b"), "step b to start")
        run_id = _only_run(db_url)
        cancel = subprocess.run(
            [sys.executable, "-m", "spine", "runs", "cancel", run_id], cwd=project, env=_env(project, db_url),
            capture_output=True, text=True, timeout=60,
        )
        out, err = proc.communicate(timeout=60)
        assert cancel.returncode == 0 and "cancel requested" in cancel.stdout
        assert proc.returncode == 130, err
        assert json.loads(out)["status"] == "cancelled"
        assert any(c["step"] == "b" and c["what"] == "cancelled" for c in _calls(project))
        with RunStore.open(db_url) as store:
            assert store.run(run_id).status is GroupRunStatus.CANCELLED


class TestRaces:
    def test_two_runners_share_one_pool(self, project: Path, pg_url: str) -> None:
        """Two processes running pool steps at once: never more than the pool's 2 slots busy together."""
        procs = [_spine(project, pg_url, "group", "run", name) for name in ("pool.one", "pool.two")]
        for p in procs:
            _, err = p.communicate(timeout=180)
            assert p.returncode == 0, err
        spans = sorted((c["start"], c["end"]) for c in _calls(project) if c["what"] == "interval")
        assert len(spans) == 8
        events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
        busy = peak = 0
        for _, delta in events:
            busy += delta
            peak = max(peak, busy)
        assert peak <= 2

    def test_two_runs_of_one_group_one_is_refused(self, project: Path, pg_url: str) -> None:
        """Two processes start the same group at once (max_active_runs 1): one runs, the other exits 1 naming it."""
        procs = [_spine(project, pg_url, "group", "run", "crash.chain") for _ in range(2)]
        try:
            _wait(lambda: any(p.poll() is not None for p in procs), "one of the two to be refused", seconds=120)
        finally:
            (project / "go").touch()
        results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
        codes = sorted(code for code, _ in results)
        assert codes == [0, 1], results
        refused = next(err for code, err in results if code == 1)
        winner = _only_run(pg_url)
        assert f"already has 1 active run(s) ({winner})" in refused and "--wait" in refused

    def test_two_resumes_of_one_run_one_wins(self, project: Path, pg_url: str) -> None:
        """Two resumes of one orphaned run at once: exactly one takes it over; b runs again once."""
        run_id = _kill_mid_chain(project, pg_url)
        with RunStore.open(pg_url) as store:
            _wait(lambda: store.run(run_id).orphaned, "the lease to expire", seconds=30)
        procs = [_spine(project, pg_url, "runs", "resume", run_id) for _ in range(2)]
        try:
            _wait(lambda: any(p.poll() is not None for p in procs), "one resume to be refused", seconds=120)
        finally:
            (project / "go").touch()
        results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
        assert sorted(code for code, _ in results) == [0, 1], results
        refused = next(err for code, err in results if code == 1)
        assert "cannot resume run" in refused
        assert [c["attempt"] for c in _calls(project) if c["step"] == "b" and c["what"] == "started"] == [1, 2]

    def test_wait_runs_after_the_active_run(self, project: Path, pg_url: str) -> None:
        """--wait: a second run of the group waits for the first to finish, then runs (both exit 0)."""
        first = _spine(project, pg_url, "group", "run", "crash.chain")
        _wait(lambda: _started(project, "b"), "the first run's step b")
        second = _spine(project, pg_url, "group", "run", "crash.chain", "--wait")
        _wait(lambda: "waiting:" in (second.stderr.readline() or ""), "the second run to wait", seconds=60)
        (project / "go").touch()
        assert first.wait(timeout=120) == 0
        _, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
        with RunStore.open(pg_url) as store:
            assert [r.status for r in store.runs()] == [GroupRunStatus.COMPLETED, GroupRunStatus.COMPLETED]
