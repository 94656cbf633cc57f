"""DOT → SVG through Graphviz ``dot`` (a real process; nothing is faked)."""

from __future__ import annotations

import os
import shutil
import subprocess

from spine.core.errors import GraphvizNotFoundError, SpineError

INSTALL_HINT = (
    "Graphviz `dot` is not on PATH; install it (Debian/Ubuntu: `sudo apt-get install graphviz`, "
    "macOS: `brew install graphviz`, conda: `conda install graphviz`) — DOT and Mermaid output "
    "work without it"
)


class GraphvizError(SpineError):
    """``dot`` failed or timed out."""


def find_dot() -> str | None:
    """Path of the ``dot`` executable (``SPINE_DOT`` overrides), or ``None``."""
    override = os.environ.get("SPINE_DOT")
    if override:
        return override if os.path.exists(override) else None
    return shutil.which("dot")


def dot_to_svg(dot_source: str, *, timeout: float = 300.0) -> str:
    """Lay out ``dot_source`` with Graphviz and return the SVG text."""
    exe = find_dot()
    if exe is None:
        override = os.environ.get("SPINE_DOT")
        if override:
            raise GraphvizNotFoundError(f"SPINE_DOT={override} does not exist: point it at Graphviz's dot or unset it. {INSTALL_HINT}")
        raise GraphvizNotFoundError(INSTALL_HINT)
    try:
        proc = subprocess.run(
            [exe, "-Tsvg"],
            input=dot_source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise GraphvizError(f"Graphviz took longer than {timeout:.0f} s to lay out the graph; use --format dot or mermaid") from exc
    except OSError as exc:
        raise GraphvizNotFoundError(f"cannot run {exe}: {exc}; {INSTALL_HINT}") from exc
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise GraphvizError(f"Graphviz failed (exit {proc.returncode}): {err[:2000]}")
    return proc.stdout.decode("utf-8")
