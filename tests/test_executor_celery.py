"""The celery executor on real brokers — Redis and RabbitMQ — with real ``spine worker`` processes.

Each broker gets two workers (``spine worker`` subprocesses, two pool processes each) on a
queue of this test session's own, started and stopped by the fixtures; the tests that
kill a worker start their own. Pipelines reach workers by module import only. Tests skip,
saying how to start it, when a broker is not reachable (``.ci/run`` starts both).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("celery", reason="the celery executor needs Celery (the 'celery' extra)")

from executor_conformance import MODULES, ExecutorConformance, group, with_step_options  # noqa: E402

from spine.framework import CancelToken  # noqa: E402
from spine.orchestration import PipelineGroup, PlanResolver  # noqa: E402
from spine.orchestration.models import GroupRunStatus, StepStatus  # noqa: E402
from spine.runner import GroupExecutionResult, GroupRunner, RunEventKind  # noqa: E402
from spine.runner.celery_executor import (  # noqa: E402
    CeleryExecutor,
    CeleryUnavailableError,
    make_app,
    outcome_from_json,
    outcome_to_json,
    task_from_json,
    task_to_json,
)

TESTS = Path(__file__).resolve().parent
CELERY_ONLY = "_celery_pipelines"
WORKER_MODULES = (*MODULES, CELERY_ONLY)
#: Bounds a test waits for something that should take seconds (a hang guard, not a speed check).
PATIENCE = 90.0

BROKERS = {
    "redis": ("redis://127.0.0.1:6379/0", 6379, 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'),
    "rabbitmq": ("amqp://guest:guest@127.0.0.1:5672//", 5672, "rabbitmq-server -detached"),
}
#: Redis hands a dead worker's message back after this long unacknowledged (seconds).
VISIBILITY_TIMEOUT = 3


def _reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def _broker(kind: str) -> str:
    url, port, start = BROKERS[kind]
    if not _reachable(port):
        pytest.skip(f"{kind} is not reachable at 127.0.0.1:{port}; start it with `{start}` (.ci/run does)")
    return url


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


def _plan(g: PipelineGroup) -> Any:
    return PlanResolver().resolve(g)


class Workers:
    """``spine worker`` processes on one broker and queue, each in its own process group."""

    def __init__(self, broker: str, folder: Path, queue: str | None = None) -> None:
        self.broker = broker
        self.folder = folder
        self.queue = queue or f"spine-test-{secrets.token_hex(4)}"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        folder.mkdir(parents=True, exist_ok=True)
        lines = [f"pipelines = {list(WORKER_MODULES)!r}".replace("'", '"'), "[celery]", f'broker = "{broker}"']
        if broker.startswith("redis"):
            lines.append(f"visibility_timeout = {VISIBILITY_TIMEOUT}")
        (folder / "spine.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def start(self, name: str, queues: Sequence[str] = (), concurrency: int = 2) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SPINE_", "CELERY_"))}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), env.get("PYTHONPATH", "")) if p)
        args = [sys.executable, "-m", "spine", "worker", "-c", str(concurrency), "-n", f"{name}@%h", "--loglevel", "INFO"]
        for q in queues or (self.queue,):
            args += ["--queue", q]
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.folder, start_new_session=True)
        self.procs[name] = proc

        def ready() -> bool:
            assert proc.poll() is None, f"spine worker {name} exited early:\n{log.read_text(errors='replace')}"
            return " ready." in log.read_text(errors="replace")

        _wait_for(ready, f"worker {name} to be ready")
        return proc

    def kill(self, name: str) -> None:
        """SIGKILL the worker and its pool processes (its whole process group)."""
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)

    def stop(self) -> None:
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(15)
        self.procs.clear()

    def executor(self, **options: Any) -> CeleryExecutor:
        if self.broker.startswith("redis"):
            options.setdefault("visibility_timeout", VISIBILITY_TIMEOUT)
        return CeleryExecutor(self.broker, modules=WORKER_MODULES, default_queue=self.queue, **options)

    def runner(self, **options: Any) -> GroupRunner:
        options.setdefault("modules", WORKER_MODULES)
        return GroupRunner(self.executor(), **options)


@pytest.fixture(scope="module", params=sorted(BROKERS))
def workers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    """Two workers (two pool processes each) on one broker: w1 serves this session's queue,
    w2 that queue and its ``-gpu`` twin."""
    broker = _broker(request.param)
    pool = Workers(broker, tmp_path_factory.mktemp(f"celery-{request.param}"))
    try:
        pool.start("w1")
        pool.start("w2", queues=(pool.queue, f"{pool.queue}-gpu"))
        yield pool
    finally:
        pool.stop()


class TestCeleryConformance(ExecutorConformance):
    """The shared executor behaviour, on two ``spine worker`` processes, on each broker."""

    @pytest.fixture(autouse=True)
    def _workers(self, workers: Workers) -> None:
        self.workers = workers

    def runner(self, **options: Any) -> GroupRunner:
        return GroupRunner(self.workers.executor(), **options)


class TestOnTwoWorkers:
    def test_a_group_runs_to_completion_on_both_workers(self, workers: Workers) -> None:
        """Eight parallel steps (four at once) all complete, run by both worker processes; upstream results flow."""
        g = PipelineGroup(name="two").with_policy(execution="parallel", max_concurrency=4)
        for i in range(8):
            g = g.add(f"s{i}", "conformance.sleep", params={"seconds": 0.3})
        g = g.add("where", "celeryonly.where", depends_on=[f"s{i}" for i in range(8)])
        result = workers.runner().execute(_plan(g))
        assert result.status is GroupRunStatus.COMPLETED, result.to_dict()
        assert result.step("where").result["pid"] != os.getpid()
        assert CELERY_ONLY not in sys.modules
        # four steps at once on two workers of two processes each: both workers ran steps
        logs = [(workers.folder / f"{name}.log").read_text(errors="replace") for name in ("w1", "w2")]
        assert all("spine.attempt" in log and "succeeded" in log for log in logs)

    def test_a_step_names_its_queue_and_goes_to_the_worker_serving_it(self, workers: Workers) -> None:
        """A step with queue: <q>-gpu runs on w2, the only worker serving that queue."""
        g = PipelineGroup(name="routed")
        for i in range(3):
            g = g.add(f"gpu{i}", "celeryonly.where", queue=f"{workers.queue}-gpu")
        result = workers.runner().execute(_plan(g))
        assert result.status is GroupRunStatus.COMPLETED, result.to_dict()
        assert {result.step(f"gpu{i}").result["pgid"] for i in range(3)} == {workers.procs["w2"].pid}

    def test_a_step_routed_to_a_queue_no_worker_serves_times_out_clearly(self, workers: Workers) -> None:
        """With no worker on its queue, the step fails at its timeout, saying no worker serves the queue and how to start one."""
        lonely = f"nobody-{secrets.token_hex(4)}"
        plan = with_step_options(_plan(PipelineGroup(name="lonely").add("orphan", "conformance.echo", queue=lonely)), "orphan", timeout_seconds=1.5)
        orphan = workers.runner().execute(plan).step("orphan")
        assert orphan.status is StepStatus.FAILED and orphan.error is not None
        assert orphan.error.type == "TimeoutError"
        assert f"no Celery worker serves queue {lonely!r}" in orphan.error.message
        assert f"spine worker --queue {lonely}" in orphan.error.message

    def test_a_pipeline_no_module_registers_fails_with_a_hint(self, workers: Workers) -> None:
        """A pipeline that no configured module registers fails its step and says where to register it."""
        result = workers.runner().execute(_plan(PipelineGroup(name="k").add("w", "celeryonly.nowhere")))
        error = result.step("w").error
        assert error is not None and error.type.endswith("PipelineNotFoundError")
        assert "on the Celery worker" in error.message and "[tool.spine] pipelines" in error.message


class TestCancelAndTimeout:
    def test_a_cancel_reaches_a_running_pipeline_through_ctx_cancelled(self, workers: Workers, tmp_path: Path) -> None:
        """Cancelling the run makes ctx.cancelled true on the worker; the pipeline returns within the grace period."""
        started = tmp_path / "started"
        plan = _plan(group(("waiter", "wait_for_cancel", [], {"started": str(started), "seconds": 60})))
        token = CancelToken()
        join = _in_background(lambda: workers.runner(grace_seconds=60).execute(plan, cancel=token))
        _wait_for(started.exists, "the step to start")
        token.cancel("cancelled by the test")
        result = join()
        assert result.step("waiter").result == {"saw_cancel": True}

    def test_a_timeout_fails_the_step_and_tells_the_worker(self, workers: Workers, tmp_path: Path) -> None:
        """A timed-out attempt fails at once, and its pipeline then sees ctx.cancelled on the worker."""
        seen = tmp_path / "seen"
        plan = with_step_options(_plan(group(("slow", "wait_for_cancel", [], {"seen": str(seen), "seconds": 30}))), "slow", timeout_seconds=1)
        slow = workers.runner().execute(plan).step("slow")
        assert slow.status is StepStatus.FAILED
        assert slow.error is not None and slow.error.type == "TimeoutError" and "timed out after 1 s" in slow.error.message
        assert "no Celery worker serves" not in slow.error.message
        assert _wait_for(lambda: seen.exists() and seen.read_text(encoding="utf-8"), "the pipeline to see ctx.cancelled") == "slow attempt 1"


class TestWorkerDeath:
    def test_a_worker_killed_mid_step_gives_the_step_to_the_other_worker(self, workers: Workers, tmp_path: Path) -> None:
        """SIGKILL of the worker running a step (with its pool): the broker hands the step to the other worker, which
        completes it seeing ctx.attempt 2; the run completes and records one attempt."""
        pair = Workers(workers.broker, tmp_path / "pair")
        try:
            pair.start("a", concurrency=1)
            pair.start("b", concurrency=1)
            log = tmp_path / "deliveries"
            plan = _plan(PipelineGroup(name="k").add("victim", "celeryonly.die_once", params={"log": str(log)}))
            join = _in_background(lambda: pair.runner().execute(plan))
            first = _wait_for(lambda: log.exists() and log.read_text(encoding="utf-8").split(), "the step to start")
            victim_group = int(first[1])
            name = next(n for n, p in pair.procs.items() if p.pid == victim_group)
            pair.kill(name)
            result = join()
        finally:
            pair.stop()
        victim = result.step("victim")
        assert result.status is GroupRunStatus.COMPLETED, result.to_dict()
        assert victim.result["runs"] == 2 and victim.result["attempt"] == 2
        assert victim.result["pgid"] != victim_group
        assert victim.attempts == 1


class TestBrokers:
    def test_an_unreachable_broker_is_a_clear_error(self) -> None:
        """A broker URL where nothing listens raises CeleryUnavailableError naming the broker; nothing runs."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        broker = f"redis://127.0.0.1:{port}/0"
        with pytest.raises(CeleryUnavailableError, match=re.escape(f"cannot reach the Celery broker at {broker}")):
            GroupRunner(CeleryExecutor(broker, connect_timeout=1), modules=MODULES).execute(_plan(group(("a", "echo", [], {}))))

    def test_no_broker_is_a_clear_error(self) -> None:
        """Without a broker the executor says the three ways to name one."""
        with pytest.raises(CeleryUnavailableError, match="--broker URL, \\[tool.spine\\] celery.broker or SPINE_CELERY_BROKER"):
            GroupRunner("celery", modules=MODULES).execute(_plan(group(("a", "echo", [], {}))))

    def test_the_password_of_a_broker_is_not_shown(self) -> None:
        """An unreachable broker's error hides the URL's password."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with pytest.raises(CeleryUnavailableError) as info:
            CeleryExecutor(f"amqp://user:s3cret@127.0.0.1:{port}//", connect_timeout=1).open(__import__("queue").SimpleQueue(), 1)
        assert "s3cret" not in str(info.value) and f"127.0.0.1:{port}" in str(info.value)

    @pytest.mark.parametrize("broker, backend", [("redis://h:6379/0", "redis://h:6379/0"), ("amqp://guest:guest@h:5672//", "rpc://")])
    def test_the_app_speaks_json_only_and_acknowledges_late(self, broker: str, backend: str) -> None:
        """Runs and workers share one configuration: JSON only, acks late, reject on worker lost, prefetch 1."""
        for app in (make_app(broker), make_app(broker, for_worker=True)):
            conf = app.conf
            assert (conf.task_serializer, conf.result_serializer) == ("json", "json")
            assert list(conf.accept_content) == ["json"] and list(conf.result_accept_content) == ["json"]
            assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
            assert conf.result_backend == backend

    def test_an_attempt_and_its_outcome_travel_as_json_and_read_back(self) -> None:
        """task_to_json/outcome_to_json give JSON that reads back equal."""
        import datetime as dt
        import json

        from spine.runner import AttemptOutcome, AttemptTask, StepError

        task = AttemptTask(index=3, run_id="r", batch_id="b", step="s 名", pipeline="p", params={"k": [1, "x"]}, attempt=2,
                           upstream={"a": {"n": 1}}, modules=("m",), timeout_seconds=1.5, origin_run_id="o", queue="gpu")
        assert task_from_json(json.loads(json.dumps(task_to_json(task)))) == task
        now = dt.datetime.now(dt.UTC)
        outcome = AttemptOutcome(3, 2, False, now, now, error=StepError("ValueError", "boom", "tb"), output="printed")
        assert outcome_from_json(json.loads(json.dumps(outcome_to_json(outcome)))) == outcome


# -- a broker that goes away mid-run: a private Redis, stopped and started by the test -------------


class _PrivateRedis:
    def __init__(self, folder: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.folder = folder
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        self.proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.folder)
        _wait_for(lambda: _reachable(self.port), "the private redis-server")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(15)
        self.proc = None


class TestBrokerGoesAway:
    def test_the_run_fails_clearly_after_a_bounded_wait_and_resumes_when_it_is_back(self, tmp_path: Path) -> None:
        """Redis stops mid-run: after broker_wait_seconds the run fails naming the broker, what completed stays
        completed in the store; with the broker back, `resume` runs the rest and the run completes."""
        _broker("redis")  # the private server needs the same binary
        from spine.store import RunStore, record_run, resume_run

        redis = _PrivateRedis(tmp_path)
        redis.start()
        pool = Workers(redis.url, tmp_path / "workers")
        store = RunStore.open(f"sqlite:///{tmp_path / 'spine.db'}")
        started = tmp_path / "started"
        try:
            pool.start("w", concurrency=2)
            g = (
                PipelineGroup(name="interrupted").with_policy(execution="parallel", max_concurrency=2, timeout_seconds=PATIENCE / 3)
                .add("first", "conformance.echo", params={"n": 1})
                .add("long", "conformance.wait_for_cancel", depends_on=["first"], params={"started": str(started), "seconds": 2})
                .add("last", "conformance.echo", depends_on=["long"])
            )
            plan = _plan(g)

            def runner(options: Any = None) -> GroupRunner:
                return GroupRunner(pool.executor(broker_wait_seconds=2, connect_timeout=2), modules=WORKER_MODULES)

            join = _in_background(lambda: record_run(store, plan, runner()))
            _wait_for(started.exists, "the long step to start")
            redis.stop()
            result = join()
            assert result.status is GroupRunStatus.FAILED
            assert result.message is not None and f"the Celery broker at {redis.url} is unreachable" in result.message
            assert "did not come back within 2 s" in result.message
            assert result.step("first").status is StepStatus.COMPLETED
            assert result.step("last").status is not StepStatus.COMPLETED

            redis.start()
            # the worker may have exited with its broker (kombu: "Unrecoverable error"): a supervisor restarts it
            pool.stop()
            pool.start("w2", concurrency=2)
            resumed = resume_run(store, result.run_id, registry=None, make_runner=runner)
            assert resumed.status is GroupRunStatus.COMPLETED, resumed.to_dict()
            assert resumed.step("last").result["upstream"]["long"] == {"saw_cancel": False}
        finally:
            store.close()
            pool.stop()
            redis.stop()


class TestWorkerStart:
    def test_a_worker_started_before_its_broker_waits_for_it_and_serves(self, tmp_path: Path) -> None:
        """`spine worker` started while its Redis is down says it waits; Redis starts within --broker-wait; the worker
        becomes ready and runs a step (a real worker process and a real private redis-server)."""
        _broker("redis")
        redis = _PrivateRedis(tmp_path)
        pool = Workers(redis.url, tmp_path / "workers")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SPINE_", "CELERY_"))}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), env.get("PYTHONPATH", "")) if p)
        log = tmp_path / "w.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "spine", "worker", "-c", "1", "-n", "late@%h", "--queue", pool.queue,
                                     "--broker-wait", "120"], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=pool.folder,
                                    start_new_session=True)
        pool.procs["late"] = proc
        try:
            _wait_for(lambda: "waiting up to 120 s for it" in log.read_text(errors="replace"), "the worker to say it waits")
            assert proc.poll() is None
            redis.start()
            _wait_for(lambda: " ready." in log.read_text(errors="replace"), "the worker to be ready once Redis is up")
            result = pool.runner().execute(_plan(PipelineGroup(name="late").add("a", "conformance.echo", params={"n": 1})))
            assert result.status is GroupRunStatus.COMPLETED, result.to_dict()
        finally:
            pool.stop()
            redis.stop()


class TestCli:
    def test_spine_group_run_executor_celery_uses_the_configured_broker(self, workers: Workers, tmp_path: Path) -> None:
        """`spine group run FILE --executor celery --json`, broker from [tool.spine] celery.broker: exit 0, every step on a worker."""
        import json

        (workers.folder / "cli.yaml").write_text(
            "apiVersion: spine.io/v1\nkind: PipelineGroup\nmetadata: {name: on_celery}\nspec:\n"
            f"  policy: {{queue: {workers.queue}}}\n  pipelines:\n"
            "    - {name: a, pipeline: conformance.echo, params: {n: 1}}\n"
            "    - {name: b, pipeline: celeryonly.where, depends_on: [a]}\n",
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), env.get("PYTHONPATH", "")) if p)
        proc = subprocess.run([sys.executable, "-m", "spine", "group", "run", "cli.yaml", "--executor", "celery", "--json", "--db", "none"],
                              capture_output=True, text=True, cwd=workers.folder, env=env, timeout=PATIENCE)
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        assert data["status"] == "completed" and data["executor"] == "celery"
        assert data["steps"][1]["result"]["pgid"] in {p.pid for p in workers.procs.values()}


class TestBrokerComesBack:
    def test_a_broker_back_within_the_wait_lets_the_run_complete(self, tmp_path: Path) -> None:
        """Redis stops for a moment while a step runs and steps wait: held steps are sent when it is back and the run completes."""
        _broker("redis")
        redis = _PrivateRedis(tmp_path)
        redis.start()
        pool = Workers(redis.url, tmp_path / "workers")
        started = tmp_path / "started"
        try:
            pool.start("w", concurrency=2)
            g = (
                PipelineGroup(name="blip").with_policy(execution="parallel", max_concurrency=2, timeout_seconds=PATIENCE / 3)
                .add("long", "conformance.wait_for_cancel", params={"started": str(started), "seconds": 4})
                .add("after", "conformance.echo", depends_on=["long"])
            )
            runner = GroupRunner(pool.executor(broker_wait_seconds=PATIENCE / 3, connect_timeout=2), modules=WORKER_MODULES)
            finished: list[str] = []

            def on_event(event: Any) -> None:
                if event.kind is RunEventKind.STEP_FINISHED:
                    finished.append(event.step)

            join = _in_background(lambda: runner.execute(_plan(g), on_event=on_event))
            _wait_for(started.exists, "the long step to start")
            redis.stop()
            time.sleep(1.5)
            redis.start()
            _wait_for(lambda: "long" in finished, "the long step's outcome, collected after the broker came back")
            # a Redis worker with an unacknowledged task exits when its broker dies (kombu:
            # "Unrecoverable error"; its pool process still stored the result): a supervisor restarts it
            pool.stop()
            pool.start("w2", concurrency=2)
            result = join()
        finally:
            pool.stop()
            redis.stop()
        assert result.status is GroupRunStatus.COMPLETED, [(e.name, e.status.value, e.error) for e in result.step_executions]
