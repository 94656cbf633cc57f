"""Runs of compositions remember the nested groups they ran: the store keeps the nested
groups' definitions with the run, and a resume, a replay, ``runs show`` and the run report
plan the steps the run started with, however the nested groups' files changed since. A
run recorded before the store kept them plans with the nested groups as they are now."""

# ruff: noqa: F811 - the fixtures imported from _db are parameters of the tests below

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from _db import Pipes, db_url, store  # noqa: F401 - fixtures

from spine.orchestration import PipelineGroup
from spine.orchestration.registry import GroupRegistry
from spine.store import RunStore, plan_of, record_run
from spine.store.schema import group_run_nested_groups, pipeline_groups


def _inner(*names: str) -> PipelineGroup:
    """``t.inner``: a chain of ``t.maybe`` steps."""
    g = PipelineGroup(name="t.inner", version=2)
    for i, name in enumerate(names):
        g = g.add(name, "t.maybe", depends_on=[names[i - 1]] if i else [])
    return g


def _outer() -> PipelineGroup:
    return PipelineGroup(name="t.outer").add_group("part", "t.inner").add("end", "t.ok", depends_on=["part"])


def _groups(*groups: PipelineGroup) -> GroupRegistry:
    r = GroupRegistry()
    for g in groups:
        r.register(g)
    return r


def _plan(pipes: Pipes, inner: PipelineGroup) -> object:
    from spine.orchestration import PlanResolver

    return PlanResolver(pipes.registry, _groups(inner)).resolve(_outer())


class TestStore:
    def test_a_composition_run_keeps_its_nested_definitions_once(self, store) -> None:
        """Two runs of a composition store the nested group's definition once, linked to both runs."""
        pipes = Pipes()
        inner = _inner("a", "b")
        first = record_run(store, _plan(pipes, inner), pipes.runner())
        second = record_run(store, _plan(pipes, inner), pipes.runner())
        assert store.stored_run(first.run_id).nested == (inner.to_dict(),)
        assert store.stored_run(second.run_id).nested == (inner.to_dict(),)
        names = store.read(lambda c: sorted(c.execute(sa.select(pipeline_groups.c.name)).scalars()))
        links = store.read(lambda c: c.execute(sa.select(sa.func.count()).select_from(group_run_nested_groups)).scalar())
        assert (names, links) == (["t.inner", "t.outer"], 2)

    def test_a_run_without_nesting_keeps_no_nested_definitions(self, store) -> None:
        """A plain group's run has no nested definitions and no link rows."""
        pipes = Pipes()
        result = record_run(store, pipes.plan(_inner("a")), pipes.runner())
        assert store.stored_run(result.run_id).nested == ()
        assert store.read(lambda c: c.execute(sa.select(sa.func.count()).select_from(group_run_nested_groups)).scalar()) == 0

    def test_plan_of_uses_the_stored_nested_groups_not_the_current_ones(self, store) -> None:
        """plan_of re-plans the run's own plan even when ``groups`` now holds another version of the nested group."""
        pipes = Pipes()
        plan = _plan(pipes, _inner("a", "b"))
        result = record_run(store, plan, pipes.runner())
        again = plan_of(store.stored_run(result.run_id), pipes.registry, _groups(_inner("x", "b", "c")))
        assert again == plan
        assert again.order == ["part/a", "part/b", "end"]

    def test_a_run_recorded_before_plans_with_the_current_nested_groups(self, store) -> None:
        """A run whose nested definitions were never stored (recorded before 0004) is planned with ``groups`` as they are now."""
        pipes = Pipes()
        result = record_run(store, replace(_plan(pipes, _inner("a", "b")), nested_groups=()), pipes.runner())
        stored = store.stored_run(result.run_id)
        assert stored.nested == ()
        assert plan_of(stored, pipes.registry, _groups(_inner("x", "b", "c"))).order == ["part/x", "part/b", "part/c", "end"]


# -- through the CLI, with real files -----------------------------------------------------------------

PIPES = '''\
from pathlib import Path
from spine.framework import register_pipeline

def _mark(ctx):
    ran = Path("ran")
    ran.mkdir(exist_ok=True)
    with open(ran / ctx.step.replace("/", "__"), "a") as f:
        f.write("x")

@register_pipeline("nr.step", allow_extra_params=True)
def step(params, ctx):
    _mark(ctx)
    return {"step": ctx.step}

@register_pipeline("nr.flaky", allow_extra_params=True)
def flaky(params, ctx):
    _mark(ctx)
    if not Path("fixed").exists():
        raise RuntimeError("the warehouse is down")
    return {"step": ctx.step, "attempt": ctx.attempt}
'''

LOAD = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: nr.load}
spec:
  pipelines:
    - {name: extract, pipeline: nr.step}
    - {name: clean, pipeline: nr.flaky, depends_on: [extract]}
'''

#: nr.load edited after the run failed: ``extract`` renamed ``fetch``, ``clean`` renamed ``tidy``, ``dedupe`` added.
LOAD_EDITED = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: nr.load}
spec:
  pipelines:
    - {name: fetch, pipeline: nr.step}
    - {name: tidy, pipeline: nr.flaky, depends_on: [fetch]}
    - {name: dedupe, pipeline: nr.step, depends_on: [tidy]}
'''

NIGHTLY = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: nr.nightly}
spec:
  pipelines:
    - {name: orders, group: nr.load}
    - {name: audit, pipeline: nr.step, depends_on: [orders]}
'''

ORIGINAL_STEPS = ["orders/extract", "orders/clean", "audit"]


@pytest.fixture
def project(in_tmp: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    """A project with a composition (nr.nightly nests nr.load), its runs recorded in the test's database."""
    (in_tmp / "spine.toml").write_text('pipelines = ["nestrun_pipes"]\ngroups = ["groups"]\n')
    (in_tmp / "nestrun_pipes.py").write_text(PIPES)
    (in_tmp / "groups").mkdir()
    (in_tmp / "groups" / "load.yaml").write_text(LOAD)
    (in_tmp / "groups" / "nightly.yaml").write_text(NIGHTLY)
    monkeypatch.syspath_prepend(str(in_tmp))
    monkeypatch.setenv("SPINE_DATABASE_URL", db_url)
    yield in_tmp
    sys.modules.pop("nestrun_pipes", None)


def _failed_in_the_nested_group(invoke) -> str:
    """Run nr.nightly: orders/clean (a step of nr.load) fails, audit never starts. The run id."""
    code, out, err = invoke("group", "run", "nr.nightly", "--json", "--executor", "inline")
    assert code == 1, err
    ran = json.loads(out)
    assert [(s["name"], s["status"]) for s in ran["steps"]] == [("orders/extract", "completed"), ("orders/clean", "failed"), ("audit", "skipped")]
    return str(ran["run_id"])


def _ran(project: Path) -> dict[str, int]:
    """How many times each step's pipeline was called."""
    return {p.name.replace("__", "/"): len(p.read_text()) for p in (project / "ran").iterdir()}


def _forget_nested(db_url: str, run_id: str) -> None:
    """Make ``run_id`` look recorded before schema 0004: no nested definitions kept."""
    with RunStore.open(db_url) as s:
        s.write(lambda c: c.execute(group_run_nested_groups.delete().where(group_run_nested_groups.c.run_id == run_id)))


class TestCli:
    def test_resume_after_the_nested_group_changed_runs_the_original_plan(self, project: Path, invoke) -> None:
        """After nr.load's file is edited, runs resume completes the steps the run started with, and never runs the new ones."""
        run_id = _failed_in_the_nested_group(invoke)
        (project / "groups" / "load.yaml").write_text(LOAD_EDITED)
        (project / "fixed").touch()
        code, out, err = invoke("runs", "resume", run_id, "--json")
        assert code == 0, err
        resumed = json.loads(out)
        assert (resumed["run_id"], resumed["status"]) == (run_id, "completed")
        assert [(s["name"], s["status"]) for s in resumed["steps"]] == [(n, "completed") for n in ORIGINAL_STEPS]
        assert _ran(project) == {"orders/extract": 1, "orders/clean": 2, "audit": 1}

    def test_show_and_the_run_report_keep_the_original_steps(self, project: Path, invoke) -> None:
        """runs show --json and runs show --report of a run show its original steps after the nested group changed."""
        run_id = _failed_in_the_nested_group(invoke)
        (project / "groups" / "load.yaml").write_text(LOAD_EDITED)
        code, out, err = invoke("runs", "show", run_id, "--json", "--report", "out/run.html")
        assert code == 0, err
        assert [s["name"] for s in json.loads(out)["steps"]] == ORIGINAL_STEPS
        page = (project / "out" / "run.html").read_text()
        assert "orders/clean" in page and "the warehouse is down" in page
        assert "orders/tidy" not in page and "orders/dedupe" not in page

    def test_the_api_run_report_keeps_the_original_steps(self, project: Path, invoke, db_url: str) -> None:
        """GET /api/v1/runs/{id}/report draws the run's original steps after the nested group changed."""
        pytest.importorskip("fastapi")
        from fastapi.testclient import TestClient

        from spine.api.app import create_app
        from spine.config import load_settings
        from spine.store import ApiTokens, TokenRole
        from spine.workspace import Workspace

        run_id = _failed_in_the_nested_group(invoke)
        (project / "groups" / "load.yaml").write_text(LOAD_EDITED)
        with RunStore.open(db_url) as s:
            token = ApiTokens(s).create(TokenRole.VIEWER, "test")[1]
        app = create_app(Workspace(load_settings(config_file=project / "spine.toml")), database=db_url, workers=1)
        with TestClient(app) as client:
            r = client.get(f"/api/v1/runs/{run_id}/report", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        assert "orders/clean" in r.text and "orders/tidy" not in r.text and "orders/dedupe" not in r.text

    def test_dlq_replay_after_the_nested_step_was_renamed(self, project: Path, invoke) -> None:
        """dlq replay of orders/clean runs that step although nr.load now calls it tidy, and resolves the entry."""
        _failed_in_the_nested_group(invoke)
        code, out, err = invoke("dlq", "list", "--json")
        [entry] = json.loads(out)
        assert entry["step"] == "orders/clean"
        (project / "groups" / "load.yaml").write_text(LOAD_EDITED)
        (project / "fixed").touch()
        code, out, err = invoke("dlq", "replay", str(entry["id"]), "--json")
        assert code == 0, err
        [replay] = json.loads(out)
        assert replay["status"] == "completed" and [s["name"] for s in replay["steps"]][-1] == "orders/clean"
        assert _ran(project) == {"orders/extract": 1, "orders/clean": 2}

    def test_a_run_recorded_before_resumes_with_the_current_nested_group(self, project: Path, invoke, db_url: str) -> None:
        """A run without stored nested definitions (recorded before 0004) resumes with nr.load as it is now."""
        run_id = _failed_in_the_nested_group(invoke)
        _forget_nested(db_url, run_id)
        (project / "groups" / "load.yaml").write_text(LOAD_EDITED)
        (project / "fixed").touch()
        code, out, err = invoke("runs", "resume", run_id, "--json")
        assert code == 0, err
        assert json.loads(out)["status"] == "completed"
        assert _ran(project) == {"orders/extract": 1, "orders/clean": 1, "orders/fetch": 1, "orders/tidy": 1, "orders/dedupe": 1, "audit": 1}
