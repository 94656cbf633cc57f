"""docs/running.md: the documented console sessions are what the commands print."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC = (REPO / "docs" / "running.md").read_text(encoding="utf-8")


def sessions() -> list[tuple[str, list[str]]]:
    """Each ```console block: the command after ``$ `` and its documented output lines."""
    out = []
    for block in re.findall(r"```console\n(.*?)```", DOC, flags=re.S):
        lines = block.rstrip("\n").split("\n")
        assert lines[0].startswith("$ "), lines[0]
        out.append((lines[0][2:], lines[1:]))
    return out


def mask(line: str) -> str:
    """Hide what changes from run to run: clock times, run ids, durations, progress counts, absolute paths."""
    line = re.sub(r"\b\d\d:\d\d:\d\d\b", "HH:MM:SS", line)
    line = re.sub(r"run_\d{8}T\d{6}_[0-9a-f]{8}", "RUN_ID", line)
    line = re.sub(r"in \d+\.\d\d s", "in N s", line)
    line = re.sub(r"\[\d+/(\d+)\]", r"[n/\1]", line)  # progress counts depend on finishing order
    line = line.replace(str(REPO) + "/", "")
    return line


@pytest.mark.parametrize(("command", "documented"), sessions(), ids=lambda v: v if isinstance(v, str) else None)
def test_documented_session(command: str, documented: list[str]) -> None:
    """Every documented line is printed (times, ids and paths masked; a line ending in '…'
    is a prefix, a lone '…' stands for lines left out). Steps of one generation may finish
    in either order, so lines are matched as a multiset, except that the last documented
    line must come after all the others."""
    assert command.startswith("uv run --quiet spine ")
    args = command.split()[4:]
    proc = subprocess.run([sys.executable, "-m", "spine", *args], cwd=REPO, capture_output=True, text=True, timeout=120)
    printed = [mask(x) for x in (proc.stdout + proc.stderr).splitlines()]
    unused = list(range(len(printed)))
    positions = []
    for want in documented:
        if want.strip() == "…":
            continue
        want = mask(want)
        prefix = want.split("…")[0].rstrip() if "…" in want else None
        hit = next((i for i in unused if (printed[i].startswith(prefix) if prefix is not None else printed[i] == want)), None)
        assert hit is not None, f"documented line not printed: {want!r}\n--- printed:\n" + "\n".join(printed)
        unused.remove(hit)
        positions.append(hit)
    assert positions[-1] == max(positions), "the last documented line is not printed last"
