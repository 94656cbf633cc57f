"""``--executor celery``, ``--broker`` and ``spine worker`` mistakes: one clear line, exit 2, nothing runs;
``[tool.spine.celery]`` and ``SPINE_CELERY_*`` in the settings. (Runs on real brokers and workers are in
test_executor_celery.py.)"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from spine.config import ConfigError, load_settings

PIPES = '''\
from spine.framework import register_pipeline

@register_pipeline("demo.ok")
def ok(params, ctx):
    return {"step": ctx.step}
'''

GROUP = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.celery}
spec:
  pipelines:
    - {name: only, pipeline: demo.ok, queue: gpu}
'''


@pytest.fixture
def project(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (in_tmp / "spine.toml").write_text('pipelines = ["demo_celery_pipes"]\n')
    (in_tmp / "demo_celery_pipes.py").write_text(PIPES)
    (in_tmp / "g.yaml").write_text(GROUP)
    monkeypatch.syspath_prepend(str(in_tmp))
    yield in_tmp
    sys.modules.pop("demo_celery_pipes", None)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_celery_without_a_broker_is_a_usage_error(project: Path, invoke) -> None:
    """--executor celery with no broker anywhere exits 2 naming the three ways to give one."""
    code, out, err = invoke("group", "run", "g.yaml", "--executor", "celery", "--db", "none")
    assert code == 2 and out == ""
    assert "needs a broker: --broker URL, [tool.spine] celery.broker or SPINE_CELERY_BROKER" in err
    assert "Traceback" not in err


def test_broker_with_another_executor_is_a_usage_error(project: Path, invoke) -> None:
    """--broker with --executor threads exits 2."""
    code, _, err = invoke("group", "run", "g.yaml", "--executor", "threads", "--broker", "redis://127.0.0.1:6379/0")
    assert code == 2 and "--broker needs --executor celery" in err


def test_a_broker_spine_cannot_use_is_a_usage_error(project: Path, invoke) -> None:
    """A broker that is neither Redis nor RabbitMQ exits 2 saying which two are supported."""
    code, _, err = invoke("group", "run", "g.yaml", "--broker", "sqs://queue", "--db", "none")
    assert code == 2 and "neither Redis" in err and "RabbitMQ" in err


def test_an_unreachable_broker_runs_nothing(project: Path, invoke) -> None:
    """--broker pointing where nothing listens exits 2 with one line naming the broker; nothing ran."""
    broker = f"redis://127.0.0.1:{_closed_port()}/0"
    code, out, err = invoke("group", "run", "g.yaml", "--broker", broker, "--db", "none", "--json")
    assert code == 2 and out == ""
    assert f"cannot reach the Celery broker at {broker}" in err and "nothing ran" in err
    assert "Traceback" not in err


def test_the_broker_comes_from_the_environment(project: Path, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    """SPINE_CELERY_BROKER is the broker when --broker is not given (here: an unreachable one, named in the error)."""
    broker = f"amqp://guest:guest@127.0.0.1:{_closed_port()}//"
    monkeypatch.setenv("SPINE_CELERY_BROKER", broker)
    code, _, err = invoke("group", "run", "g.yaml", "--executor", "celery", "--db", "none")
    assert code == 2 and "cannot reach the Celery broker at amqp://guest:**@127.0.0.1:" in err


def test_worker_refuses_a_bad_queue_name(project: Path, invoke) -> None:
    """spine worker --queue 'a b' exits 2 before connecting anywhere."""
    code, _, err = invoke("worker", "--queue", "a b", "--broker", "redis://127.0.0.1:1/0")
    assert code == 2 and "is not a queue name" in err


def test_worker_with_an_unreachable_broker_exits_2_with_one_line(project: Path, invoke) -> None:
    """spine worker --broker-wait 0 where nothing listens exits 2 with one line naming the broker (password hidden), not Celery's endless retries."""
    port = _closed_port()
    code, out, err = invoke("worker", "--broker", f"amqp://guest:secret@127.0.0.1:{port}//", "--broker-wait", "0")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"Error: cannot reach the Celery broker at amqp://guest:**@127.0.0.1:{port}// ([Errno 111] Connection refused); "
        "start it, or name another with --broker, [tool.spine] celery.broker or SPINE_CELERY_BROKER"
    ]


def test_worker_says_once_that_it_waits_for_its_broker(project: Path, invoke) -> None:
    """With a wait, spine worker says once that it waits, then gives up after it with exit 2, the wait named."""
    broker = f"redis://127.0.0.1:{_closed_port()}/0"
    code, _, err = invoke("worker", "--broker", broker, "--broker-wait", "4")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 2, err
    assert lines[0].startswith(f"spine worker: cannot reach the Celery broker at {broker} (") and lines[0].endswith("waiting up to 4 s for it")
    assert lines[1].startswith(f"Error: cannot reach the Celery broker at {broker} (") and " within 4 s; start it" in lines[1]


def test_worker_refuses_a_negative_broker_wait(project: Path, invoke) -> None:
    """--broker-wait -1 is a usage error before anything connects."""
    code, _, err = invoke("worker", "--broker", "redis://127.0.0.1:1/0", "--broker-wait", "-1")
    assert code == 2 and "--broker-wait" in err


def test_worker_without_a_broker_is_a_usage_error(project: Path, invoke) -> None:
    """spine worker with no broker anywhere exits 2."""
    code, _, err = invoke("worker")
    assert code == 2 and "needs a broker" in err


def test_worker_help_names_its_options(invoke) -> None:
    """spine worker --help shows --queue, --concurrency and --broker."""
    code, out, _ = invoke("worker", "--help")
    assert code == 0 and all(opt in out for opt in ("--queue", "--concurrency", "--broker"))


class TestSettings:
    def test_the_celery_table_is_read(self, in_tmp: Path) -> None:
        """[tool.spine.celery] gives the broker, result backend and visibility timeout."""
        (in_tmp / "spine.toml").write_text('[celery]\nbroker = "redis://h:6379/1"\nresult_backend = "redis://h:6379/2"\nvisibility_timeout = 60\n')
        assert load_settings(env={}).celery == {"broker": "redis://h:6379/1", "result_backend": "redis://h:6379/2", "visibility_timeout": 60.0}

    def test_environment_overrides_the_file(self, in_tmp: Path) -> None:
        """SPINE_CELERY_BROKER wins over celery.broker; the file's other keys stay."""
        (in_tmp / "spine.toml").write_text('[celery]\nbroker = "redis://h:6379/1"\nvisibility_timeout = 60\n')
        settings = load_settings(env={"SPINE_CELERY_BROKER": "amqp://x//"})
        assert settings.celery == {"broker": "amqp://x//", "visibility_timeout": 60.0}

    @pytest.mark.parametrize(
        "table, message",
        [
            ('celery = "redis://h"', "celery must be a table"),
            ("[celery]\nbrokr = 'redis://h'", "unknown key(s) in [tool.spine.celery]: brokr"),
            ("[celery]\nbroker = 3", "celery.broker must be a URL"),
            ("[celery]\nvisibility_timeout = 0", "celery.visibility_timeout must be a number of seconds > 0"),
        ],
    )
    def test_bad_values_are_config_errors(self, in_tmp: Path, table: str, message: str) -> None:
        """A malformed [tool.spine.celery] is a ConfigError saying what to change."""
        (in_tmp / "spine.toml").write_text(table + "\n")
        with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
            load_settings(env={})
