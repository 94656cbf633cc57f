"""The dask executor on real clusters: a LocalCluster, and a scheduler and worker started
as separate processes. Pipelines reach workers by module import only."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed", reason="the dask executor needs dask.distributed (the 'dask' extra)")

import dask  # noqa: E402
from executor_conformance import MODULES, ExecutorConformance, group, with_step_options  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from spine.framework import CancelToken  # noqa: E402
from spine.orchestration import PipelineGroup, PlanResolver  # noqa: E402
from spine.orchestration.models import GroupRunStatus, StepStatus  # noqa: E402
from spine.runner import AttemptTask, DaskExecutor, GroupExecutionResult, GroupRunner, RunEventKind  # noqa: E402
from spine.runner.dask_executor import KEY_PREFIX, DaskUnavailableError, task_key  # noqa: E402
from spine.testing import step_names  # noqa: E402

TESTS = Path(__file__).resolve().parent
DASK_ONLY = "_dask_pipelines"
#: Modules for steps that call the Dask-only pipelines (imported by workers, never here).
WORKER_MODULES = (*MODULES, DASK_ONLY)
#: Bounds a test waits for something that should take a second or two (a hang guard, not a speed check).
PATIENCE = 120.0


def _local_cluster(no_workers_timeout: float = 30, **options: Any) -> Any:
    # a task no worker can run fails (a nanny that could not restart its worker never hangs a test)
    with dask.config.set({"distributed.scheduler.no-workers-timeout": f"{no_workers_timeout}s"}):
        return distributed.LocalCluster(
            processes=True, host="127.0.0.1", dashboard_address=None,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"}, **options,
        )


def _wait_for(check: Callable[[], Any], what: str, timeout: float = PATIENCE) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def _in_background(fn: Callable[[], GroupExecutionResult]) -> Callable[[], GroupExecutionResult]:
    """Start ``fn`` in a thread; return a function that joins it (a hung run fails the test)."""
    box: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: box.update(result=fn()), daemon=True)
    thread.start()

    def join() -> GroupExecutionResult:
        thread.join(PATIENCE)
        assert not thread.is_alive(), "the run hung"
        return box["result"]

    return join


def _http_status(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """One LocalCluster (2 worker processes × 2 threads) shared by the tests of this module."""
    c = _local_cluster(n_workers=2, threads_per_worker=2)
    yield c
    c.close()


def _runner(cluster: Any, **options: Any) -> GroupRunner:
    options.setdefault("modules", WORKER_MODULES)
    return GroupRunner("dask", dask_address=cluster.scheduler_address, **options)


def _plan(g: PipelineGroup) -> Any:
    return PlanResolver().resolve(g)


class TestDaskConformance(ExecutorConformance):
    """The shared executor behaviour, on a LocalCluster of worker processes."""

    @pytest.fixture(autouse=True)
    def _cluster(self, cluster: Any) -> None:
        self.address = cluster.scheduler_address

    def runner(self, **options: Any) -> GroupRunner:
        return GroupRunner("dask", dask_address=self.address, **options)


class TestKeys:
    @given(name=step_names(max_size=60), attempt=st.integers(1, 50))
    @settings(max_examples=200)
    def test_every_key_is_a_valid_dask_key_with_the_shared_prefix(self, name: str, attempt: int) -> None:
        """For any valid step name and attempt, the key is a Dask key whose prefix is 'spine-step'."""
        from dask.core import validate_key
        from dask.utils import key_split

        task = AttemptTask(index=0, run_id="run_20240105T000000_0123abcd", batch_id="b", step=name, pipeline="p", params={}, attempt=attempt)
        key = task_key(task)
        validate_key(key)
        assert key == (KEY_PREFIX, task.run_id, name, attempt)
        assert key_split(key) == KEY_PREFIX

    def test_a_task_runs_under_its_key_with_the_run_id_and_an_awkward_name(self, cluster: Any) -> None:
        """On the worker, the task's key is ('spine-step', run_id, step, 1), whatever the step's name."""
        name = 'q "x" -> {y} <script> 名前 ✓'
        result = _runner(cluster).execute(_plan(PipelineGroup(name="k").add(name, "daskonly.where")))
        assert result.step(name).status is StepStatus.COMPLETED
        assert result.step(name).result["key"] == [KEY_PREFIX, result.run_id, name, 1]

    def test_a_retry_is_a_new_task_with_the_next_attempt_in_its_key(self, cluster: Any) -> None:
        """The second attempt of a step runs under a key ending in 2 (never the first attempt's result)."""
        plan = with_step_options(_plan(PipelineGroup(name="k").add("w", "daskonly.where", params={"succeed_on": 2})), "w", retries=1)
        result = _runner(cluster).execute(plan)
        assert result.step("w").result["key"] == [KEY_PREFIX, result.run_id, "w", 2]

    def test_two_runs_on_one_cluster_do_not_share_results(self, cluster: Any) -> None:
        """Each run of the same plan on a long-lived cluster runs its steps again under its own run id."""
        plan = _plan(PipelineGroup(name="k").add("w", "daskonly.where"))
        first, second = _runner(cluster).execute(plan), _runner(cluster).execute(plan)
        assert first.step("w").result["key"][1] == first.run_id
        assert second.step("w").result["key"][1] == second.run_id != first.run_id


class TestPipelinesByImport:
    def test_a_pipeline_registered_only_on_workers_runs(self, cluster: Any) -> None:
        """A pipeline from a module only the worker imports (named in modules) runs there."""
        result = _runner(cluster).execute(_plan(PipelineGroup(name="k").add("w", "daskonly.where")))
        assert result.step("w").status is StepStatus.COMPLETED
        assert result.step("w").result["pid"] != os.getpid()
        assert DASK_ONLY not in sys.modules

    def test_a_pipeline_no_module_registers_fails_with_a_hint(self, cluster: Any) -> None:
        """A pipeline that no configured module registers fails its step and says where to register it."""
        result = _runner(cluster).execute(_plan(PipelineGroup(name="k").add("w", "daskonly.nowhere")))
        error = result.step("w").error
        assert error is not None and error.type.endswith("PipelineNotFoundError")
        assert "on the Dask worker" in error.message and "[tool.spine] pipelines" in error.message


class TestLocalCluster:
    @pytest.fixture(scope="class")
    @classmethod
    def local_run(cls) -> dict[str, Any]:
        """One run on a LocalCluster the executor starts itself; what was seen during and after it."""
        executor = DaskExecutor(n_workers=1)
        seen: dict[str, Any] = {}

        def on_event(event: Any) -> None:
            if event.kind is RunEventKind.STEP_STARTED and "cluster" not in seen:
                seen["cluster"] = cluster = executor.cluster
                seen["http"] = [sock.getsockname() for sock in cluster.scheduler.http_server._sockets.values()]
                host, port = seen["http"][0][:2]
                seen["pages"] = {path: _http_status(f"http://{host}:{port}{path}") for path in ("/health", "/status", "/")}

        plan = _plan(PipelineGroup(name="k").add("w", "daskonly.where"))
        seen["result"] = GroupRunner(executor, modules=WORKER_MODULES).execute(plan, on_event=on_event)
        seen["executor"] = executor
        return seen

    def test_the_step_ran_on_the_local_cluster(self, local_run: dict[str, Any]) -> None:
        """Without an address, the step runs on a LocalCluster the run started."""
        result = local_run["result"]
        assert result.status is GroupRunStatus.COMPLETED
        assert result.step("w").result["scheduler"] == local_run["cluster"].scheduler_address

    def test_it_listens_on_loopback_only(self, local_run: dict[str, Any]) -> None:
        """The LocalCluster's scheduler and its HTTP server listen on 127.0.0.1, the HTTP port not the fixed 8787."""
        assert local_run["cluster"].scheduler_address.startswith("tcp://127.0.0.1:")
        assert [a[0] for a in local_run["http"]] == ["127.0.0.1"]
        assert local_run["http"][0][1] != 8787

    def test_it_serves_no_dashboard(self, local_run: dict[str, Any]) -> None:
        """The scheduler's HTTP server answers /health but serves no dashboard page."""
        assert local_run["pages"] == {"/health": 200, "/status": 404, "/": 404}

    def test_it_stops_with_the_run(self, local_run: dict[str, Any]) -> None:
        """After the run the cluster is closed and its worker process is gone."""
        assert local_run["cluster"].status.name == "closed"
        assert local_run["executor"].cluster is None
        pid = local_run["result"].step("w").result["pid"]
        _wait_for(lambda: not _alive(pid), f"worker process {pid} to exit", timeout=30)


class TestCancelAndTimeout:
    def test_a_cancel_reaches_a_running_pipeline_through_ctx_cancelled(self, cluster: Any, tmp_path: Path) -> None:
        """Cancelling the run makes ctx.cancelled true on the worker; the pipeline returns within the grace period."""
        started = tmp_path / "started"
        plan = _plan(group(("waiter", "wait_for_cancel", [], {"started": str(started), "seconds": 60})))
        token = CancelToken()
        join = _in_background(lambda: _runner(cluster, grace_seconds=60).execute(plan, cancel=token))
        _wait_for(started.exists, "the step to start")
        token.cancel("cancelled by the test")
        result = join()
        assert result.step("waiter").result == {"saw_cancel": True}

    def test_a_timeout_fails_the_step_and_tells_the_worker(self, cluster: Any, tmp_path: Path) -> None:
        """A timed-out attempt fails at once with a timeout error, and its pipeline then sees ctx.cancelled."""
        seen = tmp_path / "seen"
        plan = with_step_options(_plan(group(("slow", "wait_for_cancel", [], {"seen": str(seen), "seconds": 60}))), "slow", timeout_seconds=1)
        result = _runner(cluster).execute(plan)
        slow = result.step("slow")
        assert slow.status is StepStatus.FAILED
        assert slow.error is not None and slow.error.type == "TimeoutError" and "timed out after 1 s" in slow.error.message
        assert _wait_for(lambda: seen.exists() and seen.read_text(encoding="utf-8"), "the pipeline to see ctx.cancelled") == "slow attempt 1"

    def test_a_timeout_cancels_the_task_on_the_cluster(self, cluster: Any, tmp_path: Path) -> None:
        """After a timeout the scheduler no longer holds the attempt's task (its future was cancelled)."""
        plan = with_step_options(_plan(group(("slow", "wait_for_cancel", [], {"seconds": 3}))), "slow", timeout_seconds=0.5)
        result = _runner(cluster).execute(plan)
        key = (KEY_PREFIX, result.run_id, "slow", 1)
        _wait_for(lambda: key not in cluster.scheduler.tasks, "the scheduler to forget the task", timeout=30)
        assert result.step("slow").status is StepStatus.FAILED

    def test_the_cancel_event_is_removed_from_the_scheduler_afterwards(self, cluster: Any, tmp_path: Path) -> None:
        """Once a cancelled attempt has returned, the scheduler keeps no event for it."""
        started = tmp_path / "started"
        plan = _plan(group(("waiter", "wait_for_cancel", [], {"started": str(started), "seconds": 60})))
        token = CancelToken()
        join = _in_background(lambda: _runner(cluster, grace_seconds=60).execute(plan, cancel=token))
        _wait_for(started.exists, "the step to start")
        token.cancel()
        result = join()
        events = cluster.scheduler.extensions["events"]._events
        _wait_for(lambda: not [n for n in events if result.run_id in str(n)], "the event to be removed", timeout=30)


class TestWorkerDeath:
    @pytest.fixture(scope="class")
    @classmethod
    def fragile(cls) -> Iterator[Any]:
        """One worker process; the scheduler gives a task up after it killed 2 workers (allowed-failures 1)."""
        with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
            c = _local_cluster(no_workers_timeout=10, n_workers=1, threads_per_worker=1)
        yield c
        c.close()

    def test_a_worker_killed_mid_step_runs_the_step_again(self, fragile: Any, tmp_path: Path) -> None:
        """Killing the worker process mid-step: Dask runs the task again on the restarted worker and the step completes."""
        log = tmp_path / "pids"
        plan = _plan(PipelineGroup(name="k").add("victim", "daskonly.die_once", params={"log": str(log)}))
        join = _in_background(lambda: _runner(fragile).execute(plan))
        first = int(_wait_for(lambda: log.exists() and log.read_text(encoding="utf-8").split(), "the step to start")[0])
        with distributed.Client(fragile, set_as_default=False) as client:
            worker_pids = set(client.run(os.getpid).values())
        assert first in worker_pids
        os.kill(first, signal.SIGKILL)
        result = join()
        victim = result.step("victim")
        assert victim.status is StepStatus.COMPLETED and victim.result == {"runs": 2}
        assert victim.attempts == 1  # Dask's re-run is invisible to spine: the step ran at least once

    def test_a_step_that_keeps_killing_its_worker_fails_readably(self, fragile: Any) -> None:
        """A step whose worker dies every time fails, saying its worker died (or none was left); the run ends."""
        plan = _plan(PipelineGroup(name="k").add("killer", "daskonly.die_always"))
        result = _in_background(lambda: _runner(fragile).execute(plan))()
        killer = result.step("killer")
        assert killer.status is StepStatus.FAILED and killer.error is not None
        # KilledWorker after allowed-failures deaths; or, when the nanny lost the race to
        # restart a worker that died as it started, no worker left (no-workers-timeout)
        assert killer.error.type.endswith(("KilledWorker", "NoWorkerError", "NoValidWorkerError")), killer.error
        assert "worker running this step died" in killer.error.message or "no Dask worker" in killer.error.message


class TestUnreachableScheduler:
    def test_an_unreachable_scheduler_is_a_clear_error(self) -> None:
        """Pointing at a port where no scheduler listens raises DaskUnavailableError naming the address."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        address = f"tcp://127.0.0.1:{port}"
        executor = DaskExecutor(address, connect_timeout=1)
        with pytest.raises(DaskUnavailableError, match=re.escape(address)) as info:
            GroupRunner(executor, modules=MODULES).execute(_plan(group(("a", "echo", [], {}))))
        assert info.value.address == address and "dask scheduler" in str(info.value)


# -- a scheduler and a worker as separate processes -----------------------------------------


def _read_address(log: Path, proc: subprocess.Popen[bytes]) -> str:
    def found() -> str | None:
        assert proc.poll() is None, f"dask scheduler exited early:\n{log.read_text(errors='replace')}"
        m = re.search(r"Scheduler at:\s+(tcp://127\.0\.0\.1:\d+)", log.read_text(errors="replace"))
        return m.group(1) if m else None

    return _wait_for(found, "the scheduler's address")


@pytest.fixture(scope="module")
def separate_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``dask scheduler`` and ``dask worker`` as their own processes on 127.0.0.1 (random ports),
    the worker with PYTHONPATH so it can import this folder's pipeline modules."""
    tmp_path = tmp_path_factory.mktemp("separate-cluster")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DASK_", "SPINE_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), env.get("PYTHONPATH", "")) if p)
    dask_cli = [sys.executable, "-m", "dask"]
    procs: list[subprocess.Popen[bytes]] = []
    sched_log = tmp_path / "scheduler.log"
    try:
        with sched_log.open("wb") as out:
            procs.append(subprocess.Popen([*dask_cli, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"],
                                          stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path))
        address = _read_address(sched_log, procs[0])
        with (tmp_path / "worker.log").open("wb") as out:
            procs.append(subprocess.Popen([*dask_cli, "worker", address, "--host", "127.0.0.1", "--nthreads", "2", "--no-dashboard"],
                                          stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path))
        with distributed.Client(address, set_as_default=False, timeout=30) as client:
            client.wait_for_workers(1, timeout=PATIENCE)
        yield address
    finally:
        for p in reversed(procs):  # the worker first, then the scheduler
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class TestSeparateProcesses:
    def test_a_group_runs_on_a_scheduler_and_worker_started_apart(self, separate_cluster: str) -> None:
        """Through dask_address, every step runs on the separately started worker, upstream results included."""
        g = group(("a", "echo", [], {"n": 1}), ("b", "echo", ["a"], {}), ("w", "sleep", ["a"], {"seconds": 0.01}), parallel=2)
        g = g.add("where", "daskonly.where", depends_on=["b", "w"])
        result = GroupRunner("dask", dask_address=separate_cluster, modules=WORKER_MODULES).execute(_plan(g))
        assert result.status is GroupRunStatus.COMPLETED, result.to_dict()
        assert result.step("b").result["upstream"] == {"a": result.step("a").result}
        assert result.step("where").result["scheduler"] == separate_cluster

    @pytest.mark.skipif(importlib.util.find_spec("spine.cli.run_cmd") is None, reason="this spine has no `group run` command yet")
    def test_the_cli_runs_a_group_with_dask_scheduler(self, separate_cluster: str, tmp_path: Path) -> None:
        """`spine group run FILE --dask-scheduler ADDR --json` runs the group on that cluster and exits 0."""
        import json

        spine = Path(sys.executable).with_name("spine")
        (tmp_path / "spine.toml").write_text(f'pipelines = {list(WORKER_MODULES)!r}\n'.replace("'", '"'), encoding="utf-8")
        (tmp_path / "g.yaml").write_text(
            "apiVersion: spine.io/v1\nkind: PipelineGroup\nmetadata: {name: on_dask}\nspec:\n  pipelines:\n"
            "    - {name: a, pipeline: conformance.echo, params: {n: 1}}\n"
            "    - {name: b, pipeline: conformance.echo, depends_on: [a]}\n",
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), env.get("PYTHONPATH", "")) if p)
        proc = subprocess.run([str(spine), "group", "run", "g.yaml", "--dask-scheduler", separate_cluster, "--json"],
                              capture_output=True, text=True, cwd=tmp_path, env=env, timeout=PATIENCE)
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        assert data["status"] == "completed"
        assert data["steps"][1]["result"]["upstream"] == {"a": data["steps"][0]["result"]}


class TestLostScheduler:
    def test_a_scheduler_that_goes_away_mid_step_fails_the_step(self, tmp_path: Path) -> None:
        """When the cluster shuts down under a running step, the step fails with a message saying so; the run ends."""
        started = tmp_path / "started"
        doomed = _local_cluster(n_workers=1, threads_per_worker=1)
        try:
            plan = _plan(group(("waiter", "wait_for_cancel", [], {"started": str(started), "seconds": 60})))
            join = _in_background(lambda: _runner(doomed).execute(plan))
            _wait_for(started.exists, "the step to start")
        finally:
            doomed.close()
        waiter = join().step("waiter")
        assert waiter.status is StepStatus.FAILED
        assert waiter.error is not None and "lost connection to the scheduler" in waiter.error.message

    def test_steps_started_after_the_scheduler_went_away_fail_too(self, tmp_path: Path) -> None:
        """Under on_failure continue, a step submitted after the cluster went away fails once the client gives up; the run ends."""
        started = tmp_path / "started"
        doomed = _local_cluster(n_workers=1, threads_per_worker=1)
        try:
            g = group(("waiter", "wait_for_cancel", [], {"started": str(started), "seconds": 60}), ("after", "echo", [], {}),
                      on_failure="continue")
            executor = DaskExecutor(doomed.scheduler_address, connect_timeout=2)
            join = _in_background(lambda: GroupRunner(executor, modules=WORKER_MODULES).execute(_plan(g)))
            _wait_for(started.exists, "the step to start")
        finally:
            doomed.close()
        result = join()
        assert [e.status for e in result.step_executions] == [StepStatus.FAILED, StepStatus.FAILED]
        assert result.step("after").error is not None
