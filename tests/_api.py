"""Helpers for the API tests: a project with pipelines and groups, an app over it, a real
``spine serve`` process on a free loopback port, and waiting for runs to end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PIPES = '''\
import time
from pathlib import Path
from spine.framework import register_pipeline

@register_pipeline("ap.ok", allow_extra_params=True)
def ok(params, ctx):
    return {"step": ctx.step, "upstream": sorted(ctx.upstream)}

@register_pipeline("ap.sleep", allow_extra_params=True)
def sleep(params, ctx):
    end = time.monotonic() + float(params.get("seconds", 30))
    while time.monotonic() < end:
        if ctx.cancelled or Path("wake").exists():
            return None
        time.sleep(0.02)
    return {"slept": True}

@register_pipeline("ap.flaky", allow_extra_params=True)
def flaky(params, ctx):
    if not Path("fixed").exists():
        raise RuntimeError("the warehouse is down")
    return {"step": ctx.step, "attempt": ctx.attempt}
'''

FLOW = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: ap.flow, domain: tests, tags: [nightly]}
spec:
  policy: {on_failure: continue}
  pipelines:
    - {name: load, pipeline: ap.ok}
    - {name: publish, pipeline: ap.flaky, depends_on: [load]}
    - {name: report, pipeline: ap.ok, depends_on: [publish]}
'''

OK = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: ap.ok, domain: tests}
spec:
  policy: {execution: parallel, max_active_runs: 1000}
  pipelines:
    - {name: a, pipeline: ap.ok}
    - {name: b, pipeline: ap.ok, depends_on: [a]}
    - {name: c, pipeline: ap.ok, depends_on: [a]}
'''

SLOW = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: ap.slow}
spec:
  pipelines:
    - {name: wait, pipeline: ap.sleep, params: {seconds: 60}}
    - {name: after, pipeline: ap.ok, depends_on: [wait]}
'''

PARAMS = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: ap.params}
spec:
  defaults: {day: "{{ params.day }}"}
  pipelines:
    - {name: one, pipeline: ap.ok}
'''

NEW_GROUP = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: ap.stored, version: 1, tags: [api]}
spec:
  pipelines:
    - {name: x, pipeline: ap.ok}
    - {name: y, pipeline: ap.ok, depends_on: [x]}
'''

#: ``ap.ok`` edited: version 2, one step more.
OK_V2 = OK.replace("metadata: {name: ap.ok, domain: tests}", "metadata: {name: ap.ok, domain: tests, version: 2}") + (
    "    - {name: d, pipeline: ap.ok, depends_on: [b, c]}\n"
)
#: A group file broken mid-edit: YAML that does not parse, so not even its name reads.
BROKEN = OK.replace("metadata: {name: ap.ok, domain: tests}", "metadata: {name: ap.ok, domain: [tests}")

#: The pipelines module's name (unique to these tests: modules are imported once per process).
MODULE = "api_pipes"
TERMINAL = {"completed", "failed", "partial", "cancelled"}


def write_project(root: Path) -> Path:
    """spine.toml, the pipelines module and the groups above, in ``root``."""
    (root / "spine.toml").write_text(f'pipelines = ["{MODULE}"]\ngroups = ["groups"]\n')
    (root / f"{MODULE}.py").write_text(PIPES)
    groups = root / "groups"
    groups.mkdir(exist_ok=True)
    for name, text in (("flow", FLOW), ("ok", OK), ("slow", SLOW), ("params", PARAMS)):
        (groups / f"{name}.yaml").write_text(text)
    return root


def workspace(root: Path) -> Any:
    from spine.config import load_settings
    from spine.workspace import Workspace

    return Workspace(load_settings(config_file=root / "spine.toml"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], *, timeout: float = 60.0, every: float = 0.05, what: str = "a condition") -> Any:
    """Poll ``check`` until it returns something truthy (a bound on waiting, not a speed test)."""
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what} after {timeout:g} s")
        time.sleep(every)


def wait_group(get: Callable[[str], Any], name: str, check: Callable[[Any], bool], *, timeout: float = 30.0) -> Any:
    """GET ``/api/v1/groups/NAME`` until ``check(response)`` holds (the catalog looks at the
    files once a second at most); the response."""
    from urllib.parse import quote

    def seen() -> Any:
        r = get(f"/api/v1/groups/{quote(name, safe='')}")
        return r if check(r) else None

    return wait_for(seen, timeout=timeout, what=f"GET /api/v1/groups/{name} to show the change")


def wait_run(get: Callable[[str], Any], run_id: str, *, timeout: float = 60.0) -> dict[str, Any]:
    """GET the run until its status is final; its JSON."""

    def done() -> dict[str, Any] | None:
        r = get(f"/api/v1/runs/{run_id}")
        assert r.status_code == 200, r.text
        data = r.json()
        return data if data["status"] in TERMINAL else None

    result: dict[str, Any] = wait_for(done, timeout=timeout, what=f"run {run_id} to end")
    return result


class Server:
    """A ``spine serve`` process on a free loopback port (see :func:`serve`)."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.proc = proc
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serve(root: Path, db_url: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60.0) -> Iterator[Server]:
    """Start ``spine serve`` in ``root`` against ``db_url``; wait until /healthz answers; stop it after."""
    import httpx

    port = free_port()
    log = root / f"serve-{port}.log"
    environ = {**os.environ, "SPINE_DATABASE_URL": db_url, "PYTHONPATH": str(root), **(env or {})}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "spine", "serve", "--port", str(port), "--log-level", "warning", *args],
            cwd=root, env=environ, stdout=out, stderr=subprocess.STDOUT,
        )
    server = Server(proc, port, log)
    try:
        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"spine serve exited with {proc.returncode}:\n{server.output()}")
            try:
                return httpx.get(server.base + "/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=timeout, every=0.1, what="spine serve to answer /healthz")
        yield server
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
