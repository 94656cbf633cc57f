"""Shared fixtures: isolated registries, a temp working folder, the CLI runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

from spine.framework import default_pipeline_registry
from spine.orchestration import default_group_registry

# CI gates a merge: it explores the same examples every run (derandomize), so a red build
# means a change broke something, not that the dice found an old bug. Local runs stay
# random and keep hypothesis's example database, which is where new bugs are found.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


@pytest.fixture(autouse=True)
def _clean_registries() -> Iterator[None]:
    """Every test starts and ends with the default registries as they were."""
    pipelines = dict(default_pipeline_registry._specs)
    groups = dict(default_group_registry._groups)
    yield
    default_pipeline_registry._specs.clear()
    default_pipeline_registry._specs.update(pipelines)
    default_group_registry._groups.clear()
    default_group_registry._groups.update(groups)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder with no spine configuration above it and no SPINE_* variables."""
    monkeypatch.chdir(tmp_path)
    for var in list(os.environ):
        if var.startswith("SPINE_"):
            monkeypatch.delenv(var)
    return tmp_path


@pytest.fixture
def invoke():
    """Run the real CLI entry point in-process: ``invoke(args) -> (exit_code, stdout, stderr)``."""
    from spine.cli.app import run

    def _invoke(*args: str) -> tuple[int, str, str]:
        runner = CliRunner()
        result = runner.invoke(_Main(run), list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return _invoke


class _Main:
    """Adapts :func:`spine.cli.app.run` (returns an exit code) to CliRunner (wants a command)."""

    def __init__(self, run) -> None:
        self._run = run
        self.name = "spine"

    def main(self, args=None, prog_name=None, **_: object) -> None:
        raise SystemExit(self._run(list(args or [])))
