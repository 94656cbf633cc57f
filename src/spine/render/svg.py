"""Graphviz at one edge: DOT text in, a :class:`Picture` out.

This is the only module that starts ``dot``, and it reads no environment: the program to
run is passed in. The CLI takes it from :class:`spine.config.Settings`, which is where
``[tool.spine] dot`` and ``SPINE_DOT`` are read; the library default is ``"dot"``, looked
up on ``PATH`` by the operating system when the process starts.

Not getting a picture is data, not an exception: a :class:`Picture` holds the SVG text or
a :class:`NoPicture` reason and a sentence saying why. A caller whose only job is the
picture (``spine group graph --format svg``) turns that into an error with
:meth:`Picture.require`.

Two ways to run it:

* :func:`draw_svg` runs ``dot`` now and returns the picture when it is done;
* :class:`Graphviz` is a small pool: :meth:`Graphviz.draw` starts ``dot`` at once (or as
  soon as one of its ``jobs`` slots is free) and returns a :class:`Drawing` to await
  later, so the caller builds the rest of its page while Graphviz lays the graph out.
  ``jobs`` defaults to the CPUs this process may use; leaving the ``with`` block (or
  :meth:`Graphviz.close`) kills every ``dot`` still running.
"""

from __future__ import annotations

import enum
import os
import subprocess
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

from spine.core.errors import GraphvizNotFoundError, SpineError

INSTALL = "Debian/Ubuntu: `sudo apt-get install graphviz`, macOS: `brew install graphviz`, conda: `conda install graphviz`"
INSTALL_HINT = f"Graphviz `dot` is not on PATH; install it ({INSTALL}) — DOT and Mermaid output work without it"
DEFAULT_TIMEOUT = 300.0


class GraphvizError(SpineError):
    """``dot`` failed or timed out."""


class NoPicture(enum.Enum):
    """Why a :class:`Picture` holds no SVG."""

    #: Nobody ran Graphviz (``--no-svg``, or a report built as data and not drawn yet).
    NOT_DRAWN = "not-drawn"
    #: The ``dot`` program is missing or cannot be started.
    NO_GRAPHVIZ = "no-graphviz"
    #: ``dot`` ran and failed (a non-zero exit).
    FAILED = "failed"
    #: ``dot`` ran longer than its timeout and was stopped.
    TIMED_OUT = "timed-out"
    #: ``dot`` wrote SVG that is not fit to be inlined into a page (see ``htmlkit.clean_svg``).
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Picture:
    """The SVG Graphviz drew, or why there is none (exactly one of ``svg`` and ``missing``)."""

    svg: str | None = None
    missing: NoPicture | None = None
    #: Why there is no SVG, as a sentence for a person; empty when there is one.
    reason: str = ""

    def __post_init__(self) -> None:
        if (self.svg is None) == (self.missing is None):
            raise ValueError("a Picture holds either svg or missing, not both and not neither")

    @classmethod
    def not_drawn(cls, reason: str = "the picture was not drawn") -> Picture:
        """A picture nobody asked Graphviz for."""
        return cls(missing=NoPicture.NOT_DRAWN, reason=reason)

    @property
    def drawn(self) -> bool:
        return self.svg is not None

    def require(self) -> str:
        """The SVG text; without one, :class:`GraphvizNotFoundError` (no ``dot``) or :class:`GraphvizError`."""
        if self.svg is not None:
            return self.svg
        if self.missing is NoPicture.NO_GRAPHVIZ:
            raise GraphvizNotFoundError(self.reason)
        raise GraphvizError(self.reason)


def draw_svg(dot_source: str, dot: str = "dot", *, timeout: float = DEFAULT_TIMEOUT) -> Picture:
    """Lay out ``dot_source`` with the Graphviz program ``dot`` (a name on PATH or a path), now."""
    return _run(dot, dot_source.encode("utf-8"), timeout)


def find_dot(dot: str = "dot") -> str | None:
    """The executable ``dot`` names — a path that exists, or a name found on ``PATH`` — or ``None``.

    ``dot`` is what the caller was configured with (``Settings.dot``); nothing here reads
    ``SPINE_DOT``. Drawing does not need this (starting the program finds it or fails with
    a reason); it is for callers that want to know beforehand, such as the test suite.
    """
    import shutil

    if os.sep in dot or (os.altsep is not None and os.altsep in dot):
        return dot if os.path.isfile(dot) and os.access(dot, os.X_OK) else None
    return shutil.which(dot)


def available_cpus() -> int:
    """How many CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity API on this platform
        return max(1, os.cpu_count() or 1)


class Drawing:
    """A ``dot`` run that was started (or queued) and is awaited with :meth:`result`."""

    __slots__ = ("_future",)

    def __init__(self, future: Future[Picture]) -> None:
        self._future = future

    def done(self) -> bool:
        return self._future.done()

    def result(self) -> Picture:
        """Wait for ``dot`` and return its picture."""
        try:
            return self._future.result()
        except CancelledError:
            return Picture.not_drawn("the picture was not drawn: the drawing was cancelled")


class Graphviz:
    """A pool of ``dot`` processes: at most ``jobs`` at once, each started as soon as it can be.

    ``with Graphviz(settings.dot) as gv: drawing = gv.draw(dot_text)`` — then build the page,
    then ``drawing.result()``.
    """

    def __init__(self, dot: str = "dot", *, jobs: int | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        if jobs is not None and jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        if not dot:
            raise ValueError("dot must name a program")
        self.program = dot
        self.jobs = jobs or available_cpus()
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="spine-dot")
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._closed = False

    def draw(self, dot_source: str) -> Drawing:
        """Start laying out ``dot_source`` (at once if a slot is free); returns the drawing to await."""
        if self._closed:
            raise RuntimeError("this Graphviz pool is closed")
        data = dot_source.encode("utf-8")
        return Drawing(self._pool.submit(_run, self.program, data, self.timeout, self._track))

    def draw_all(self, dot_sources: Sequence[str]) -> list[Drawing]:
        """Start every source, the largest first (the longest layouts start earliest); in input order."""
        order = sorted(range(len(dot_sources)), key=lambda i: -len(dot_sources[i]))
        started = {i: self.draw(dot_sources[i]) for i in order}
        return [started[i] for i in range(len(dot_sources))]

    def close(self) -> None:
        """Drop what has not started and kill every ``dot`` still running."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            running = list(self._running)
        for proc in running:
            proc.kill()
        self._pool.shutdown(wait=True)

    def __enter__(self) -> Graphviz:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _track(self, proc: subprocess.Popen[bytes], alive: bool) -> None:
        with self._lock:
            if alive:
                self._running.add(proc)
            else:
                self._running.discard(proc)
        if alive and self._closed:
            proc.kill()


def _run(
    program: str,
    data: bytes,
    timeout: float,
    track: Callable[[subprocess.Popen[bytes], bool], None] | None = None,
) -> Picture:
    try:
        proc = subprocess.Popen([program, "-Tsvg"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        return Picture(missing=NoPicture.NO_GRAPHVIZ, reason=_cannot_start(program, exc))
    if track is not None:
        track(proc, True)
    try:
        try:
            out, err = proc.communicate(data, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return Picture(missing=NoPicture.TIMED_OUT, reason=f"Graphviz took longer than {timeout:g} s to lay out the graph and was stopped")
    finally:
        if track is not None:
            track(proc, False)
    if proc.returncode != 0:
        text = err.decode("utf-8", "replace").strip()
        return Picture(missing=NoPicture.FAILED, reason=f"Graphviz failed (exit {proc.returncode}): {text[:2000]}")
    return Picture(svg=out.decode("utf-8", "replace"))


def _cannot_start(program: str, exc: OSError) -> str:
    bare = os.sep not in program and (os.altsep is None or os.altsep not in program)
    if bare and program == "dot" and isinstance(exc, FileNotFoundError):
        return INSTALL_HINT
    why = exc.strerror or str(exc)
    return (
        f"cannot run Graphviz `dot` as {program!r} ({why}): point SPINE_DOT or [tool.spine] dot at Graphviz's dot, "
        f"or unset it to use `dot` on PATH; to install Graphviz: {INSTALL} — DOT and Mermaid output work without it"
    )


__all__ = [
    "DEFAULT_TIMEOUT",
    "INSTALL_HINT",
    "Drawing",
    "Graphviz",
    "GraphvizError",
    "GraphvizNotFoundError",
    "NoPicture",
    "Picture",
    "available_cpus",
    "draw_svg",
    "find_dot",
]
