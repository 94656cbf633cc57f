"""``spine runs``, ``spine dlq``, ``spine db`` and recording by ``spine group run``, through the real entry point."""

# ruff: noqa: F811 - the fixtures imported from _db are parameters of the tests below

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _db import db_url  # noqa: F401 - fixture

PIPES = '''\
import os
from pathlib import Path
from spine.framework import register_pipeline

@register_pipeline("st.ok", allow_extra_params=True)
def ok(params, ctx):
    return {"step": ctx.step, "upstream": sorted(ctx.upstream)}

@register_pipeline("st.flaky", allow_extra_params=True)
def flaky(params, ctx):
    if not Path("fixed").exists():
        raise RuntimeError("the warehouse is down")
    return {"step": ctx.step, "attempt": ctx.attempt}

@register_pipeline("st.mark", allow_extra_params=True)
def mark(params, ctx):
    Path("ran.mark").touch()
    return None
'''

GROUP = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: st.flow}
spec:
  policy: {on_failure: continue}
  pipelines:
    - {name: load, pipeline: st.ok}
    - {name: publish, pipeline: st.flaky, depends_on: [load], params: {table: trades}}
    - {name: report, pipeline: st.ok, depends_on: [publish]}
'''

OK_GROUP = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: st.ok}
spec:
  pipelines:
    - {name: only, pipeline: st.mark}
'''


@pytest.fixture
def project(in_tmp: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    """A project whose runs are recorded in the test's database (SQLite or PostgreSQL)."""
    (in_tmp / "spine.toml").write_text('pipelines = ["store_pipes"]\ngroups = ["groups"]\n')
    (in_tmp / "store_pipes.py").write_text(PIPES)
    (in_tmp / "groups").mkdir()
    (in_tmp / "groups" / "flow.yaml").write_text(GROUP)
    (in_tmp / "groups" / "ok.yaml").write_text(OK_GROUP)
    monkeypatch.syspath_prepend(str(in_tmp))
    monkeypatch.setenv("SPINE_DATABASE_URL", db_url)
    yield in_tmp
    sys.modules.pop("store_pipes", None)


def _json(invoke, *args: str) -> object:
    code, out, err = invoke(*args)
    assert code in (0, 1), err
    return json.loads(out)


def _failed_run(invoke) -> str:
    code, out, err = invoke("group", "run", "st.flow", "--json", "--executor", "inline")
    assert code == 1, err
    return json.loads(out)["run_id"]


class TestRecordedByGroupRun:
    def test_runs_list_json_has_the_run(self, project: Path, invoke) -> None:
        """After spine group run, runs list --json has it with run_id, group, status, started_at and finished_at."""
        run_id = _failed_run(invoke)
        [run] = _json(invoke, "runs", "list", "--json")
        assert {"run_id", "group", "status", "started_at", "finished_at"} <= set(run)
        assert (run["run_id"], run["group"], run["status"]) == (run_id, "st.flow", "partial")

    def test_runs_show_json_is_the_group_run_json(self, project: Path, invoke) -> None:
        """runs show --json prints the same document spine group run --json printed (times and output aside)."""
        code, out, _ = invoke("group", "run", "st.flow", "--json", "--executor", "inline")
        ran = json.loads(out)
        shown = _json(invoke, "runs", "show", ran["run_id"], "--json")
        keep = lambda d: {k: v for k, v in d.items() if k not in ("steps", "duration_s", "finished_at")}  # noqa: E731
        step = lambda s: (s["name"], s["status"], s["attempts"], s["result"], (s["error"] or {}).get("message"), s["reason"])  # noqa: E731
        assert keep(shown) == keep(ran)
        assert [step(s) for s in shown["steps"]] == [step(s) for s in ran["steps"]]

    def test_a_run_on_forked_processes_is_recorded(self, project: Path, invoke) -> None:
        """With --executor processes (children forked while the store's connections are open) the run is recorded whole."""
        code, out, err = invoke("group", "run", "st.flow", "--json", "--executor", "processes")
        ran = json.loads(out)
        shown = _json(invoke, "runs", "show", ran["run_id"], "--json")
        assert code == 1, err
        assert [s["status"] for s in shown["steps"]] == ["completed", "failed", "skipped"]

    def test_a_run_the_executor_cannot_start_is_not_left_running(self, project: Path, invoke) -> None:
        """An unreachable Dask scheduler: exit 2, nothing ran, and the recorded run is failed with the reason (not left running)."""
        pytest.importorskip("distributed", reason="the dask extra is not installed")
        code, _, err = invoke("group", "run", "st.ok", "--dask-scheduler", "tcp://127.0.0.1:9")
        [run] = _json(invoke, "runs", "list", "--json")
        assert code == 2 and "nothing ran" in err
        assert run["status"] == "failed" and "ended before it finished" in run["message"]
        assert not (project / "ran.mark").exists()

    def test_db_none_records_nothing(self, project: Path, invoke) -> None:
        """--db none runs the group and writes no database."""
        code, _, err = invoke("group", "run", "st.ok", "--db", "none")
        assert code == 0, err
        assert not (project / ".spine").exists() and _json(invoke, "runs", "list", "--json") == []

    def test_the_default_database_sits_beside_the_configuration(self, in_tmp: Path, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without any database setting, runs go to .spine/spine.db in the configuration's folder, from a subfolder too."""
        (in_tmp / "spine.toml").write_text('pipelines = ["store_pipes"]\ngroups = ["groups"]\n')
        (in_tmp / "store_pipes.py").write_text(PIPES)
        (in_tmp / "groups").mkdir()
        (in_tmp / "groups" / "ok.yaml").write_text(OK_GROUP)
        monkeypatch.syspath_prepend(str(in_tmp))
        (in_tmp / "sub").mkdir()
        monkeypatch.chdir(in_tmp / "sub")
        try:
            code, _, err = invoke("group", "run", "st.ok")
        finally:
            sys.modules.pop("store_pipes", None)
        assert code == 0, err
        assert (in_tmp / ".spine" / "spine.db").is_file()


class TestRuns:
    def test_list_text_and_filters(self, project: Path, invoke) -> None:
        """runs list prints a table; --status and --group select; --limit caps."""
        _failed_run(invoke)
        invoke("group", "run", "st.ok")
        code, out, _ = invoke("runs", "list")
        assert code == 0 and out.splitlines()[0].split()[:3] == ["RUN", "GROUP", "STATUS"] and len(out.splitlines()) == 3
        assert [r["group"] for r in _json(invoke, "runs", "list", "--json", "--status", "partial")] == ["st.flow"]
        assert [r["group"] for r in _json(invoke, "runs", "list", "--json", "--group", "st.ok")] == ["st.ok"]
        assert len(_json(invoke, "runs", "list", "--json", "--limit", "1", "--since", "1h")) == 1

    def test_a_bad_since_is_a_usage_error(self, project: Path, invoke) -> None:
        """--since that is not a time exits 2 and says what to give."""
        code, _, err = invoke("runs", "list", "--since", "yesterday-ish")
        assert code == 2 and "30m, 2h, 7d" in err

    def test_show_text_lists_steps_and_what_next(self, project: Path, invoke) -> None:
        """runs show prints the status, every step, and the resume command for a partial run."""
        run_id = _failed_run(invoke)
        code, out, _ = invoke("runs", "show", run_id)
        assert code == 0 and out.startswith("PARTIAL")
        assert "publish" in out and "the warehouse is down" in out and f"spine runs resume {run_id}" in out

    def test_show_of_an_unknown_run_is_a_usage_error(self, project: Path, invoke) -> None:
        """runs show with an id that names nothing exits 2 with one line."""
        code, _, err = invoke("runs", "show", "run_nope")
        assert code == 2 and "no run 'run_nope'" in err and len(err.strip().splitlines()) == 1

    def test_show_report_writes_the_run_report(self, project: Path, invoke) -> None:
        """runs show --report writes the HTML run report, from the store alone."""
        run_id = _failed_run(invoke)
        code, _, err = invoke("runs", "show", run_id, "--report", "out/run.html")
        page = (project / "out" / "run.html").read_text()
        assert code == 0, err
        assert run_id in page and "the warehouse is down" in page

    def test_resume_json_completes_the_run(self, project: Path, invoke) -> None:
        """runs resume --json after the fix: same run id, completed, publish on its second attempt."""
        run_id = _failed_run(invoke)
        (project / "fixed").touch()
        code, out, err = invoke("runs", "resume", run_id, "--json")
        data = json.loads(out)
        assert code == 0, err
        assert (data["run_id"], data["status"]) == (run_id, "completed")
        publish = next(s for s in data["steps"] if s["name"] == "publish")
        assert publish["result"] == {"step": "publish", "attempt": 2} and len(publish["history"]) == 2

    def test_cancel_of_a_finished_run_exits_1(self, project: Path, invoke) -> None:
        """runs cancel of a finished run exits 1 saying there is nothing to cancel."""
        run_id = _failed_run(invoke)
        code, _, err = invoke("runs", "cancel", run_id)
        assert code == 1 and "nothing to cancel" in err


class TestDlq:
    def test_list_json_has_the_documented_keys(self, project: Path, invoke) -> None:
        """dlq list --json: one open entry for the failed step, with id, run_id, step, error and status."""
        run_id = _failed_run(invoke)
        [entry] = _json(invoke, "dlq", "list", "--json")
        assert {"id", "run_id", "step", "error", "status"} <= set(entry)
        assert (entry["run_id"], entry["step"], entry["status"]) == (run_id, "publish", "open")
        assert entry["params"] == {"table": "trades"}

    def test_replay_resolves_after_the_fix(self, project: Path, invoke) -> None:
        """dlq replay ID after the fix exits 0, and the entry is resolved."""
        _failed_run(invoke)
        [entry] = _json(invoke, "dlq", "list", "--json")
        (project / "fixed").touch()
        code, out, err = invoke("dlq", "replay", str(entry["id"]), "--json")
        assert code == 0, err
        [replay] = json.loads(out)
        assert replay["resumed_from"] == entry["run_id"] and replay["status"] == "completed"
        assert _json(invoke, "dlq", "list", "--json") == []
        assert _json(invoke, "dlq", "list", "--json", "--status", "resolved")[0]["resolved_by"] == replay["run_id"]

    def test_replay_that_fails_again_exits_1(self, project: Path, invoke) -> None:
        """dlq replay of a step that still fails exits 1 and leaves the entry open."""
        _failed_run(invoke)
        [entry] = _json(invoke, "dlq", "list", "--json")
        code, _, err = invoke("dlq", "replay", str(entry["id"]))
        assert code == 1 and "still open" in err

    def test_replay_of_an_unknown_id_is_a_usage_error(self, project: Path, invoke) -> None:
        """dlq replay with an id that names nothing exits 2 and runs nothing."""
        code, _, err = invoke("dlq", "replay", "4242")
        assert code == 2 and "4242" in err

    def test_purge_needs_a_selector(self, project: Path, invoke) -> None:
        """dlq purge without IDs, --resolved, --before or --all is a usage error."""
        code, _, err = invoke("dlq", "purge")
        assert code == 2 and "--resolved" in err

    def test_purge_all(self, project: Path, invoke) -> None:
        """dlq purge --all deletes every entry and says how many."""
        _failed_run(invoke)
        code, out, _ = invoke("dlq", "purge", "--all")
        assert code == 0 and "purged 1 dead-letter entry" in out
        assert _json(invoke, "dlq", "list", "--json", "--status", "all") == []


class TestDb:
    def test_check_upgrade_check(self, project: Path, invoke) -> None:
        """db check on an empty database exits 1; db upgrade creates the schema; db check then exits 0."""
        code, _, err = invoke("db", "check")
        assert code == 1 and "spine db upgrade" in err
        code, out, _ = invoke("db", "upgrade")
        from spine.store import HEAD_REVISION

        assert code == 0 and f"upgraded from empty to revision {HEAD_REVISION}" in out
        code, out, _ = invoke("db", "check")
        assert code == 0 and "current" in out


class TestBadDatabases:
    def test_a_wrong_url_is_one_line_exit_2(self, project: Path, invoke) -> None:
        """--db with an unsupported URL exits 2 with one line, before any step runs."""
        code, _, err = invoke("group", "run", "st.ok", "--db", "mysql://root@localhost/x")
        assert code == 2 and len(err.strip().splitlines()) == 1 and "not supported" in err
        assert not (project / "ran.mark").exists()

    def test_an_unreachable_database_stops_before_any_step(self, project: Path, invoke) -> None:
        """A database that cannot be reached is one clear error (exit 1) and no step runs."""
        code, _, err = invoke("group", "run", "st.ok", "--db", "postgresql+psycopg://postgres@127.0.0.1:9/test")
        assert code == 1 and err.startswith("Error: cannot use the database") and len(err.strip().splitlines()) == 1
        assert not (project / "ran.mark").exists()

    def test_a_corrupt_sqlite_file_is_one_line(self, project: Path, invoke) -> None:
        """A corrupt SQLite file is one clear line (exit 1) and no step runs."""
        (project / "bad.db").write_bytes(b"garbage " * 1000)
        code, _, err = invoke("group", "run", "st.ok", "--db", f"sqlite:///{project / 'bad.db'}")
        assert code == 1 and "not usable" in err and len(err.strip().splitlines()) == 1
        assert not (project / "ran.mark").exists()

    def test_a_newer_schema_is_refused_before_any_step(self, project: Path, invoke, db_url: str) -> None:
        """A database upgraded by a newer spine is refused with a message, and no step runs."""
        from spine.store import RunStore

        with RunStore.open(db_url) as s:
            s.write(lambda c: c.exec_driver_sql("UPDATE alembic_version SET version_num = '0999'"))
        code, _, err = invoke("group", "run", "st.ok")
        assert code == 1 and "newer than this spine knows" in err
        assert not (project / "ran.mark").exists()

    def test_runs_with_db_none_is_a_usage_error(self, project: Path, invoke) -> None:
        """runs list --db none exits 2: there is no history to read."""
        code, _, err = invoke("runs", "list", "--db", "none")
        assert code == 2 and "'none'" in err


def test_help_does_not_import_the_store() -> None:
    """Importing the CLI (what spine --help does) imports neither SQLAlchemy nor spine.store."""
    code = "import sys, spine.cli.app; print(sorted(m for m in ('sqlalchemy', 'spine.store', 'alembic') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
