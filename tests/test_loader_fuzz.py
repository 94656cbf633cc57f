"""The loader never fails in any way but a GroupError, whatever the input (CI budget).

A larger budget runs on demand with ``uv run python fuzz/run_hypothesis.py`` and
coverage-guided with atheris (``fuzz/atheris_loader.py``); see docs/fuzzing.md.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from fuzz._target import load_everything
from fuzz.strategies import inputs, yaml_texts

REPO = Path(__file__).resolve().parents[1]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs())
def test_any_input_loads_or_raises_a_group_error(data: bytes | str) -> None:
    """For any bytes or text, loading + checking + planning succeeds or raises a GroupError."""
    # load_everything catches GroupError only: any other exception fails this test.
    planned = load_everything(data)
    separators = data.count(b"---") if isinstance(data, bytes) else data.count("---")
    assert planned <= separators + 1  # at most one plan per document


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_texts(max_tokens=120))
def test_near_valid_yaml_loads_or_raises_a_group_error(text: str) -> None:
    """For YAML assembled from group-format fragments, the same guarantee holds."""
    planned = load_everything(text)  # any exception but a GroupError fails the test
    assert planned <= text.count("---") + 1  # at most one plan per document


def test_a_valid_group_really_plans() -> None:
    """The target is not vacuous: a valid group goes all the way through the planner."""
    text = (REPO / "examples" / "groups" / "finra_weekly_refresh.yaml").read_text()
    assert load_everything(text) == 1


def test_hostile_inputs_stay_within_memory() -> None:
    """Alias bombs, deep nesting and template bombs end in a GroupError under a 1 GiB cap."""
    bomb = "a: &a ['x','x','x','x','x','x','x','x','x']\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    cases = [bomb, "[" * 100_000, "x: " + "{a: " * 5000, "- &a [*a]\n"]
    limit_before = resource.getrlimit(resource.RLIMIT_AS)
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from fuzz._target import load_everything\n"
        "for text in sys.stdin.read().split('\\0'):\n"
        "    load_everything(text)\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], input="\0".join(cases), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"
    assert resource.getrlimit(resource.RLIMIT_AS) == limit_before  # the cap stayed in the child
