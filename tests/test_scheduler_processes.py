"""Real scheduler processes: two against one PostgreSQL never double-fire; one killed with
SIGKILL mid-fire leaves a claim the next completes (the run resumed), losing nothing.

Each test builds a project folder whose pipelines log every call to a JSON-lines file (and
may hang until a ``go`` file appears), then drives ``python -m spine scheduler run`` with
``--now`` against the test's database, with short heartbeats and leases.
"""

# ruff: noqa: F811 - the fixtures imported from _db are parameters of the tests below

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from _db import db_url, pg_url  # noqa: F401 - fixtures

from spine.store import FireStatus, RunStore, ScheduleFires

PIPES = '''\
import json, os, time
from pathlib import Path
from spine.framework import register_pipeline

LOG = Path(os.environ["SPINE_TEST_LOG"])
GO = Path(os.environ["SPINE_TEST_GO"])

def _log(ctx, what, params):
    with LOG.open("a") as fh:
        fh.write(json.dumps({"step": ctx.step, "attempt": ctx.attempt, "what": what, "run": ctx.run_id,
                             "hour": params.get("hour"), "pid": os.getpid()}) + "\\n")

@register_pipeline("s.ok", allow_extra_params=True)
def ok(params, ctx):
    time.sleep(0.02)
    _log(ctx, "done", params)
    return {"hour": params.get("hour")}

@register_pipeline("s.hang", allow_extra_params=True)
def hang(params, ctx):
    _log(ctx, "started", params)
    while not GO.exists():
        time.sleep(0.05)
    _log(ctx, "done", params)
    return {}
'''

HOURLY = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: NAME}
spec:
  defaults: {hour: "{{ params.hour }}"}
  policy: {max_active_runs: 4}
  pipelines:
    - {name: a, pipeline: s.ok}
    - {name: b, pipeline: s.ok, depends_on: [a]}
  schedules:
    - name: hourly
      cron: "0 * * * *"
      params: {hour: "{{ schedule.logical_date.isoformat() }}"}
      catchup: true
'''

HANGING = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: s.hanging}
spec:
  defaults: {hour: "{{ params.hour }}"}
  pipelines:
    - {name: a, pipeline: s.ok}
    - {name: b, pipeline: s.hang, depends_on: [a]}
    - {name: c, pipeline: s.ok, depends_on: [b]}
  schedules:
    - name: daily
      cron: "0 6 * * *"
      timezone: Europe/London
      params: {hour: "{{ schedule.logical_date.isoformat() }}"}
'''

TIMING = {"SPINE_HEARTBEAT_SECONDS": "0.2", "SPINE_LEASE_SECONDS": "3"}
NOW = "2024-01-08T12:00:00Z"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "spine.toml").write_text('pipelines = ["sched_pipes"]\ngroups = ["groups"]\n')
    (tmp_path / "sched_pipes.py").write_text(PIPES)
    (tmp_path / "groups").mkdir()
    return tmp_path


def _env(project: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    return {**env, **TIMING, "PYTHONPATH": str(project), "SPINE_DATABASE_URL": url,
            "SPINE_TEST_LOG": str(project / "calls.jsonl"), "SPINE_TEST_GO": str(project / "go")}


def _spine(project: Path, url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "spine", *args], cwd=project, env=_env(project, url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _calls(project: Path) -> list[dict]:
    path = project / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _wait(cond, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_two_schedulers_never_fire_a_tick_twice(project: Path, pg_url: str) -> None:
    """Two scheduler processes catching up 24 hourly ticks of three groups on one PostgreSQL: each tick runs exactly once."""
    names = ["s.one", "s.two", "s.three"]
    for n in names:
        (project / "groups" / f"{n}.yaml").write_text(HOURLY.replace("NAME", n))
    with RunStore.open(pg_url) as store:
        fires = ScheduleFires(store)
        for n in names:  # each last fired a day earlier: 24 ticks are due
            fires.advance(n, "hourly", dt.datetime(2024, 1, 7, 12, tzinfo=dt.UTC))
    procs = [_spine(project, pg_url, "scheduler", "run", "--now", NOW, "--json") for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err
    fired = [o for out, _ in outs for o in json.loads(out) if o["action"] == "fired"]
    held = [o for out, _ in outs for o in json.loads(out) if o["action"] == "held"]
    assert len(fired) == 72 and len(held) <= 72  # the second may find some ticks already past its last fire
    assert len({(o["group"], o["logical_date"]) for o in fired}) == 72
    per_tick = Counter((c["run"], c["hour"]) for c in _calls(project) if c["step"] == "a")
    hours = Counter(h for _, h in per_tick)
    assert len(hours) == 24 and set(hours.values()) == {3}  # every hour, once per group
    with RunStore.open(pg_url) as store:
        runs = store.runs(limit=None)
        assert len(runs) == 72 and all(r.status.value == "completed" for r in runs)
        assert len({(r.group, r.logical_date) for r in runs}) == 72
        assert all(f.status is FireStatus.COMPLETED for f in ScheduleFires(store).fires(limit=None))


def test_a_scheduler_killed_mid_fire_leaves_a_claim_the_next_completes(project: Path, db_url: str) -> None:
    """SIGKILL while the fired run's step b runs: the next scheduler takes the claim over and resumes the run (same id), nothing doubled."""
    (project / "groups" / "hanging.yaml").write_text(HANGING)
    first = _spine(project, db_url, "scheduler", "run", "--now", NOW)
    try:
        _wait(lambda: any(c["step"] == "b" and c["what"] == "started" for c in _calls(project)), "step b to start")

        def b_committed() -> bool:
            with RunStore.open(db_url) as store:
                runs = store.runs()
                return bool(runs) and store.result(runs[0].run_id).step("b").status.value == "running"

        _wait(b_committed, "step b's start to be committed")
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    assert first.returncode == -signal.SIGKILL
    with RunStore.open(db_url) as store:
        [run] = store.runs()
        [fire] = ScheduleFires(store).fires()
        assert fire.status is FireStatus.RUNNING and fire.run_id == run.run_id
        _wait(lambda: store.run(run.run_id).orphaned, "the run's lease to expire", seconds=30)
    # a pass before the lease ran out would leave it alone; now it is stale
    time.sleep(0.5)
    (project / "go").touch()
    second = _spine(project, db_url, "scheduler", "run", "--now", NOW, "--json")
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    [outcome] = json.loads(out)
    assert (outcome["action"], outcome["status"], outcome["run_id"]) == ("resumed", "completed", run.run_id)
    calls = _calls(project)
    assert sorted(c["step"] for c in calls if c["what"] == "done") == ["a", "b", "c"]  # a did not run again
    with RunStore.open(db_url) as store:
        assert [r.run_id for r in store.runs()] == [run.run_id] and store.run(run.run_id).resumes == 1
        [fire] = ScheduleFires(store).fires()
        assert fire.status is FireStatus.COMPLETED and fire.takeovers == 1
    third = _spine(project, db_url, "scheduler", "run", "--now", NOW, "--json")
    out, err = third.communicate(timeout=120)
    assert third.returncode == 0 and json.loads(out) == []  # nothing left to do


def test_the_scheduler_loop_fires_then_stops_on_sigterm(project: Path, db_url: str) -> None:
    """Without --once the scheduler fires the latest tick of the real clock, then SIGTERM stops it (exit 130), one run recorded."""
    (project / "groups" / "hanging.yaml").write_text(HANGING.replace("s.hang", "s.ok"))
    proc = _spine(project, db_url, "scheduler", "run", "--interval", "0.2")
    try:
        def fired() -> bool:
            with RunStore.open(db_url) as store:
                return any(f.status is FireStatus.COMPLETED for f in ScheduleFires(store).fires())

        _wait(fired, "the first fire to complete")
        time.sleep(0.6)  # a few more passes: nothing more is due
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "SIGTERM: stopping the scheduler" in err and "Traceback" not in err
    with RunStore.open(db_url) as store:
        [run] = store.runs()
        assert run.schedule == "daily" and run.status.value == "completed"
