"""The outside programs some tests drive, where they are found, and how to hide them.

=============  ==================================  ==========================================
tool           found at                            hidden by
=============  ==================================  ==========================================
Graphviz dot   ``SPINE_DOT``, else ``dot`` on PATH  ``SPINE_DOT=/nonexistent`` (spine obeys it too)
Chromium       ``SPINE_CHROMIUM``, else             ``SPINE_CHROMIUM=/nonexistent``
               ``/usr/bin/chromium``
Node.js        ``SPINE_NODE``, else ``node`` on     ``SPINE_NODE=/nonexistent``
               PATH
mermaid+jsdom  ``tests/js/node_modules``            not installing them (``npm ci --prefix tests/js``)
=============  ==================================  ==========================================

A test that needs one carries the marker ``needs_dot``, ``needs_chromium`` or
``needs_mermaid`` (``tests/conftest.py`` skips it, saying what is missing and how to get
it). ``.ci/run`` runs the suite once with all of them hidden to prove that every such test
skips instead of failing, then once with them installed.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from functools import cache
from pathlib import Path
from typing import Any

JS = Path(__file__).resolve().parent / "js"
DEFAULT_CHROMIUM = "/usr/bin/chromium"


def _override(var: str) -> tuple[str | None, str | None]:
    """``(path, None)`` when ``var`` names an existing file, ``(None, why)`` when it names nothing, ``(None, None)`` when unset."""
    value = os.environ.get(var)
    if not value:
        return None, None
    if os.path.exists(value):
        return value, None
    return None, f"{var}={value} does not exist"


def find_dot() -> str | None:
    """Graphviz ``dot`` exactly as spine finds it (``SPINE_DOT``, else PATH), or ``None``."""
    from spine.config import load_settings
    from spine.render import find_dot as spine_find_dot

    return spine_find_dot(load_settings(config_file=Path(os.devnull)).dot)


def dot_missing() -> str | None:
    """Why ``dot`` cannot be used (a skip reason), or ``None`` when it can."""
    if find_dot() is not None:
        return None
    _, hidden = _override("SPINE_DOT")
    return f"Graphviz dot is hidden: {hidden}" if hidden else "Graphviz dot is not on PATH (Debian: apt-get install graphviz)"


def find_chromium() -> str | None:
    """The system Chromium playwright drives (``SPINE_CHROMIUM``, else ``/usr/bin/chromium``), or ``None``."""
    path, hidden = _override("SPINE_CHROMIUM")
    if path or hidden:
        return path
    return DEFAULT_CHROMIUM if os.path.exists(DEFAULT_CHROMIUM) else None


def chromium_missing() -> str | None:
    """Why Chromium cannot be used (a skip reason), or ``None`` when it can."""
    if find_chromium() is not None:
        return None
    _, hidden = _override("SPINE_CHROMIUM")
    if hidden:
        return f"Chromium is hidden: {hidden}"
    return f"Chromium is not at {DEFAULT_CHROMIUM} (Debian: apt-get install chromium; or set SPINE_CHROMIUM)"


def find_node() -> str | None:
    """Node.js (``SPINE_NODE``, else ``node`` on PATH), or ``None``."""
    path, hidden = _override("SPINE_NODE")
    if path or hidden:
        return path
    return shutil.which("node")


def mermaid_missing() -> str | None:
    """Why Mermaid's own renderer cannot run (a skip reason), or ``None`` when it can."""
    if find_node() is None:
        _, hidden = _override("SPINE_NODE")
        return f"Node.js is hidden: {hidden}" if hidden else "Node.js is not on PATH (Debian: apt-get install nodejs npm)"
    absent = [name for name in ("mermaid", "jsdom") if not (JS / "node_modules" / name / "package.json").is_file()]
    if absent:
        return f"{' and '.join(absent)} not installed in tests/js/node_modules: run `npm ci --prefix tests/js`"
    return None


#: marker name -> the function that says why its tool is missing.
MARKERS = {
    "needs_dot": dot_missing,
    "needs_chromium": chromium_missing,
    "needs_mermaid": mermaid_missing,
}


@cache
def missing(marker: str) -> str | None:
    """The skip reason of ``marker`` for this session (the tools do not come and go mid-run)."""
    return MARKERS[marker]()


class MermaidWorker:
    """``tests/js/mermaid_worker.mjs`` under Node: Mermaid's own parser and renderer, one chart at a time.

    ``render(chart)`` returns ``{"error": None | str, "labels": {node_id: {"text", "tags"}}}``:
    ``text`` is what a node's label shows (each ``<br>`` as ``"\\n"``), ``tags`` the elements
    inside it. Starting Node and loading mermaid takes about a second, so one worker serves
    the whole session.
    """

    def __init__(self, node: str, *, timeout: float = 120.0) -> None:
        self._timeout = timeout
        self._proc = subprocess.Popen(
            [node, str(JS / "mermaid_worker.mjs")],
            cwd=JS,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._stderr: list[str] = []
        threading.Thread(target=self._pump, args=(self._proc.stdout, self._lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self._proc.stderr, self._stderr.append), daemon=True).start()
        ready = self._reply()
        if ready != {"ready": True}:
            raise RuntimeError(f"the mermaid worker did not start: {ready}")

    @staticmethod
    def _pump(stream: Any, put: Any) -> None:
        for line in stream:
            put(line)
        put("")  # end of stream

    def _reply(self) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=self._timeout)
        except queue.Empty:
            raise RuntimeError(f"the mermaid worker gave no answer in {self._timeout:.0f} s") from None
        if not line:
            raise RuntimeError("the mermaid worker exited: " + "".join(self._stderr)[-4000:])
        return json.loads(line)

    def render(self, chart: str) -> dict[str, Any]:
        """Parse and render ``chart`` with Mermaid; what each node's label shows."""
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"chart": chart}) + "\n")
        self._proc.stdin.flush()
        return self._reply()

    def close(self) -> None:
        """Stop the worker (closing its stdin ends it)."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
