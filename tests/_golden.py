"""Golden files: compare output to a file under ``tests/golden/``, or rewrite it.

Like coverage.py's ``tests/goldtest.py``, but for one text at a time::

    check_golden("dot/finra_weekly_refresh.dot", to_dot(view))

Set ``SPINE_UPDATE_GOLDEN=1`` to write the actual text as the new golden file (review the
diff with git before committing it). ``scrubs`` are ``(regex, replacement)`` pairs applied
to the actual text first, to blank out what legitimately varies (versions, paths, ids).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def normalise(text: str, scrubs: Iterable[tuple[str, str]] = ()) -> str:
    """``text`` with ``\\n`` line ends, no trailing spaces, one final newline, scrubs applied."""
    for pattern, repl in scrubs:
        text = re.sub(pattern, repl, text)
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def check_golden(name: str, actual: str, scrubs: Iterable[tuple[str, str]] = ()) -> None:
    """Assert that ``actual`` (normalised) equals ``tests/golden/<name>``; rewrite it when
    ``SPINE_UPDATE_GOLDEN=1``."""
    path = GOLDEN / name
    text = normalise(actual, scrubs)
    if os.environ.get("SPINE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        return
    if not path.exists():
        raise AssertionError(f"no golden file {path}; create it with SPINE_UPDATE_GOLDEN=1 and review it")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True), text.splitlines(keepends=True), f"golden/{name}", "actual"
            )
        )
        raise AssertionError(f"output differs from golden/{name} (SPINE_UPDATE_GOLDEN=1 rewrites it):\n{diff}")
