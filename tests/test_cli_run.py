"""``spine group run`` through the real entry point, in a real project folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PIPES = '''\
import os, time
from spine.framework import ParamDef, register_pipeline

@register_pipeline("demo.ok", params=[ParamDef("day", str, required=True)])
def ok(params, ctx):
    return {"step": ctx.step, "day": params["day"], "attempt": ctx.attempt}

@register_pipeline("demo.boom")
def boom(params, ctx):
    def inner():
        raise RuntimeError("the warehouse said no")
    inner()

@register_pipeline("demo.slow")
def slow(params, ctx):
    print("slow started", flush=True)
    open(os.environ["SPINE_TEST_MARK"], "w").close()
    for _ in range(3000):
        if ctx.cancelled:
            return {"stopped": True}
        time.sleep(0.01)
    return {"stopped": False}

@register_pipeline("demo.stubborn")
def stubborn(params, ctx):
    open(os.environ["SPINE_TEST_MARK"], "w").close()
    time.sleep(120)  # ignores ctx.cancelled
    return {}
'''

GROUP = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.run}
spec:
  defaults: {day: "{{ params.day }}"}
  pipelines:
    - {name: first, pipeline: demo.ok}
    - {name: second, pipeline: demo.ok, depends_on: [first]}
'''

FAILING = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.failing}
spec:
  pipelines:
    - {name: load, pipeline: demo.boom}
    - {name: publish, pipeline: demo.boom, depends_on: [load]}
    - {name: other, pipeline: demo.boom}
'''

SLOW = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.slow}
spec:
  pipelines:
    - {name: wait, pipeline: demo.slow}
    - {name: after, pipeline: demo.slow, depends_on: [wait]}
'''


@pytest.fixture
def project(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder: spine.toml naming a pipeline module and a groups folder."""
    (in_tmp / "spine.toml").write_text('pipelines = ["demo_pipes"]\ngroups = ["groups"]\n')
    (in_tmp / "demo_pipes.py").write_text(PIPES)
    (in_tmp / "groups").mkdir()
    (in_tmp / "groups" / "run.yaml").write_text(GROUP)
    (in_tmp / "groups" / "failing.yaml").write_text(FAILING)
    (in_tmp / "groups" / "slow.yaml").write_text(SLOW)
    monkeypatch.syspath_prepend(str(in_tmp))
    monkeypatch.setenv("SPINE_TEST_MARK", str(in_tmp / "started.mark"))
    yield in_tmp
    sys.modules.pop("demo_pipes", None)


def test_run_by_name_completes(project: Path, invoke) -> None:
    """A group run by name completes with exit 0 and a one-line summary on stderr."""
    code, out, err = invoke("group", "run", "demo.run", "--param", "day=mon")
    assert code == 0, err
    assert out == ""
    assert "COMPLETED" in err and "2 completed" in err


def test_run_json_shape(project: Path, invoke) -> None:
    """--json prints the documented keys, with ISO-8601 UTC times, on stdout."""
    code, out, _ = invoke("group", "run", "groups/run.yaml", "--param", "day=mon", "--json", "--executor", "inline")
    assert code == 0
    data = json.loads(out)
    assert {"run_id", "batch_id", "group", "status", "started_at", "finished_at", "duration_s", "params", "steps"} <= set(data)
    assert data["status"] == "completed" and data["params"] == {"day": "mon"}
    step = data["steps"][1]
    assert {"name", "pipeline", "status", "attempts", "started_at", "finished_at", "duration_s", "error", "result"} <= set(step)
    assert step["result"] == {"step": "second", "day": "mon", "attempt": 1}
    assert step["started_at"].endswith("Z")


def test_failed_run_exits_1_and_explains(project: Path, invoke) -> None:
    """A failure exits 1 and says which step failed, the traceback tail, what was skipped, what to run next."""
    code, _, err = invoke("group", "run", "demo.failing")
    assert code == 1
    assert "step load failed: RuntimeError: the warehouse said no" in err
    assert "raise RuntimeError" in err
    assert "skipped because of it: publish" in err
    assert "spine group run demo.failing" in err


def test_on_failure_continue_is_partial_exit_1(project: Path, invoke) -> None:
    """--on-failure continue runs the independent step too; a partial run exits 1."""
    code, out, _ = invoke("group", "run", "demo.failing", "--on-failure", "continue", "--json")
    data = json.loads(out)
    assert code == 1
    assert data["status"] == "failed"  # nothing completed: failed, not partial
    assert [s["status"] for s in data["steps"]] == ["failed", "skipped", "failed"]


def test_invalid_group_runs_nothing(project: Path, invoke) -> None:
    """A group with an unregistered pipeline is refused before any step runs (exit 1)."""
    (project / "bad.yaml").write_text(GROUP.replace("demo.ok}", "demo.okk}", 1))
    code, out, err = invoke("group", "run", "bad.yaml", "--param", "day=mon")
    assert code == 1
    assert "demo.okk" in err and "did you mean 'demo.ok'" in err
    assert "nothing ran" in err


def test_missing_run_param_runs_nothing(project: Path, invoke) -> None:
    """A template that needs a run param that was not given is refused with exit 1."""
    code, _, err = invoke("group", "run", "demo.run")
    assert code == 1
    assert "day" in err and "nothing ran" in err


def test_dry_run_runs_nothing(project: Path, invoke) -> None:
    """--dry-run prints the plan and says nothing ran."""
    code, out, err = invoke("group", "run", "demo.slow", "--dry-run")
    assert code == 0
    assert "wait" in out and "nothing ran" in err
    assert not (project / "started.mark").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--executor", "threads", "--dask-scheduler", "tcp://127.0.0.1:1"], "--dask-scheduler needs --executor dask"),
        (["--max-concurrency", "0"], "0"),
        (["--executor", "fibers"], "fibers"),
    ],
)
def test_usage_errors_exit_2(project: Path, invoke, args: list[str], message: str) -> None:
    """Bad options are usage errors: exit 2 with one clear line."""
    code, _, err = invoke("group", "run", "demo.run", "--param", "day=mon", *args)
    assert code == 2
    assert message in err


def test_report_path_is_checked_before_running(project: Path, invoke) -> None:
    """--report into a path under a file is a usage error before any step runs."""
    (project / "afile").write_text("x")
    code, _, err = invoke("group", "run", "demo.slow", "--report", "afile/run.html")
    assert code == 2
    assert "afile is a file" in err
    assert not (project / "started.mark").exists()


def test_no_pipelines_registered_is_usage_error(in_tmp: Path, invoke) -> None:
    """Without any registered pipeline nothing can run: exit 2 naming the setting."""
    (in_tmp / "g.yaml").write_text(GROUP)
    code, _, err = invoke("group", "run", "g.yaml", "--param", "day=mon")
    assert code == 2
    assert "[tool.spine] pipelines" in err


def _spine(project: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(project), "SPINE_TEST_MARK": str(project / "started.mark")}
    return subprocess.Popen(
        [sys.executable, "-m", "spine", "group", "run", *args],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_for(path: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.02)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_cancels_gracefully_exit_130(project: Path, sig: signal.Signals) -> None:
    """A real SIGINT/SIGTERM: the running step sees ctx.cancelled and returns, the rest is cancelled, exit 130."""
    proc = _spine(project, "demo.slow", "--json")
    _wait_for(project / "started.mark")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    data = json.loads(out)
    assert data["status"] == "cancelled"
    assert data["steps"][0]["status"] == "completed" and data["steps"][0]["result"] == {"stopped": True}
    assert data["steps"][1]["status"] == "cancelled"
    assert "cancelling" in err


def test_second_interrupt_stops_at_once(project: Path) -> None:
    """Two Ctrl-Cs: the run stops without waiting for the grace period, still with a complete result."""
    (project / "groups" / "stubborn.yaml").write_text(SLOW.replace("demo.slow}", "demo.stubborn}").replace("name: demo.slow", "name: demo.stubborn"))
    proc = _spine(project, "demo.stubborn", "--json", "--executor", "processes", "--grace-seconds", "60")
    _wait_for(project / "started.mark")
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)  # far less than the 60 s grace period
    assert proc.returncode == 130, err
    data = json.loads(out)
    assert data["status"] == "cancelled"
    assert [s["status"] for s in data["steps"]] == ["cancelled", "cancelled"]
    assert "second interrupt" in data["steps"][0]["reason"]


def test_terminal_gets_live_progress(project: Path) -> None:
    """On a terminal (a real pty) the run shows Rich's live view, then the summary; exit 0."""
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(project), "TERM": "xterm", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "spine", "group", "run", "demo.run", "--param", "day=mon"],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the child closed the pty
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0, screen
    assert "\x1b[" in screen  # terminal control: the live view redraws in place
    assert "started   first" not in screen  # not the plain one-line-per-event log
    assert "COMPLETED" in screen and "2 completed" in screen


def test_unreachable_dask_scheduler_is_usage_error(project: Path, invoke) -> None:
    """--dask-scheduler at an address where nothing listens: exit 2, one clear line, nothing ran."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out, err = invoke("group", "run", "demo.slow", "--dask-scheduler", f"tcp://127.0.0.1:{port}", "--json")
    assert code == 2
    assert f"tcp://127.0.0.1:{port}" in err and "nothing ran" in err
    assert out == ""
    assert not (project / "started.mark").exists()
