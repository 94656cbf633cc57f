"""Shared fixtures: isolated registries, a temp working folder, the CLI runner, outside tools.

Outside tools (Graphviz ``dot``, Chromium, Node.js with mermaid) are found and hidden as
``tests/_tools.py`` describes. A test that needs one says so with a marker —
``@pytest.mark.needs_dot``, ``needs_chromium``, ``needs_mermaid`` — and is skipped, with
what is missing and how to get it, where the tool is not there; the fixtures ``dot_exe``,
``chromium_exe`` and ``mermaid`` hand the tool itself to a test that carries the marker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from pathlib import Path

import _tools
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

#: Where the outside tools are: not spine configuration, so ``in_tmp`` keeps them (a hidden
#: tool stays hidden).
TOOL_VARIABLES = frozenset({"SPINE_DOT", "SPINE_CHROMIUM", "SPINE_NODE"})


def pytest_configure(config: pytest.Config) -> None:
    for marker, what in (
        ("needs_dot", "Graphviz dot (SPINE_DOT, else PATH)"),
        ("needs_chromium", "the system Chromium (SPINE_CHROMIUM, else /usr/bin/chromium)"),
        ("needs_mermaid", "Node.js (SPINE_NODE, else PATH) with mermaid and jsdom in tests/js/node_modules"),
    ):
        config.addinivalue_line("markers", f"{marker}: needs {what}; skipped with the reason when it is missing")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test whose ``needs_*`` tool is missing, naming every missing tool."""
    reasons = [why for marker in _tools.MARKERS if item.get_closest_marker(marker) and (why := _tools.missing(marker))]
    if reasons:
        pytest.skip("; ".join(reasons))


@pytest.fixture(scope="session")
def dot_exe() -> str:
    """The path of Graphviz ``dot`` as spine finds it (for tests marked ``needs_dot``)."""
    if why := _tools.missing("needs_dot"):
        pytest.skip(why)
    exe = _tools.find_dot()
    assert exe is not None
    return exe


@pytest.fixture(scope="session")
def chromium_exe() -> str:
    """The path of the system Chromium (for tests marked ``needs_chromium``)."""
    if why := _tools.missing("needs_chromium"):
        pytest.skip(why)
    exe = _tools.find_chromium()
    assert exe is not None
    return exe


@pytest.fixture(scope="module")
def browser(chromium_exe: str) -> Iterator[Any]:
    """One headless system Chromium (playwright) for the whole module (tests marked ``needs_chromium``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium_exe, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
        )
        yield b
        b.close()


@pytest.fixture(scope="session")
def mermaid() -> Iterator[_tools.MermaidWorker]:
    """Mermaid's own parser and renderer under Node, one worker for the session (tests marked ``needs_mermaid``)."""
    if why := _tools.missing("needs_mermaid"):
        pytest.skip(why)
    node = _tools.find_node()
    assert node is not None
    worker = _tools.MermaidWorker(node)
    yield worker
    worker.close()


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
    """Run in an empty folder with no spine configuration above it and no SPINE_* variables
    but the tool locations (``SPINE_DOT`` and friends: a hidden tool stays hidden)."""
    monkeypatch.chdir(tmp_path)
    for var in list(os.environ):
        if var.startswith("SPINE_") and var not in TOOL_VARIABLES:
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
