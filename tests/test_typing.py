"""Static types: ``mypy`` is clean on ``src/``, and ``py.typed`` makes spine's types visible to users' type checkers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("mypy", reason="mypy is not installed (it is in the dev dependency group: uv sync)")


def _mypy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # One cache for both runs (git-ignored): a warm run takes seconds, a cold one ~15 s.
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache"), "--no-error-summary", *args],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )


def test_mypy_is_clean_on_src() -> None:
    """``mypy`` with the project's configuration ([tool.mypy] in pyproject.toml) reports nothing on src/."""
    result = _mypy(cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_users_type_checker_sees_spines_types(tmp_path: Path) -> None:
    """A user's script is checked against spine's annotations (py.typed is shipped), not skipped as untyped."""
    (tmp_path / "use.py").write_text(
        "from spine.orchestration import PipelineGroup\n\ngroup: int = PipelineGroup(name='g')\n", encoding="utf-8"
    )
    result = _mypy("use.py", cwd=tmp_path)
    assert "py.typed" not in result.stdout, result.stdout
    assert 'expression has type "PipelineGroup", variable has type "int"' in result.stdout, result.stdout + result.stderr
