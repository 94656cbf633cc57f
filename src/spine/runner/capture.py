"""What a step prints, kept with the step and out of the run's own output.

A pipeline that prints (even megabytes) must not corrupt ``spine group run --json`` on
stdout. While a run is active, ``sys.stdout``/``sys.stderr`` are replaced by a router
that sends writes from a thread running a step into that step's :class:`OutputTail`
(the last :data:`TAIL_CHARS` characters, and a count of the rest), and everything else
to the real stream. Child processes redirect their file descriptors instead (see
:mod:`spine.runner.executors`).
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

#: Characters of output kept per step attempt (the tail; what came before is counted).
TAIL_CHARS = 64 * 1024


class OutputTail:
    """The last ``limit`` characters written, and how many were dropped before them."""

    __slots__ = ("_chunks", "_size", "dropped", "limit")

    def __init__(self, limit: int = TAIL_CHARS) -> None:
        self.limit = limit
        self._chunks: list[str] = []
        self._size = 0
        self.dropped = 0

    def write(self, text: str) -> None:
        if not text:
            return
        self._chunks.append(text)
        self._size += len(text)
        if self._size > 2 * self.limit:
            self._compact()

    def _compact(self) -> None:
        joined = "".join(self._chunks)
        keep = joined[-self.limit :]
        self.dropped += len(joined) - len(keep)
        self._chunks = [keep]
        self._size = len(keep)

    def text(self) -> str:
        self._compact()
        body = self._chunks[0] if self._chunks else ""
        if self.dropped:
            return f"[… {self.dropped:,} earlier characters not kept]\n{body}"
        return body


_local = threading.local()


class _Router(io.TextIOBase):
    """A text stream that writes to the current thread's step tail, or to ``real``."""

    def __init__(self, real: TextIO) -> None:
        self.real = real

    def write(self, text: str) -> int:
        tail = getattr(_local, "tail", None)
        if tail is None:
            return self.real.write(text)
        tail.write(text)
        return len(text)

    def flush(self) -> None:
        if getattr(_local, "tail", None) is None:
            self.real.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return getattr(_local, "tail", None) is None and self.real.isatty()

    def fileno(self) -> int:
        return self.real.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.real, "encoding", "utf-8")


_install_lock = threading.Lock()
_installs = 0


@contextmanager
def routed_output() -> Iterator[None]:
    """Route ``sys.stdout``/``sys.stderr`` through step tails for the duration of a run."""
    global _installs
    with _install_lock:
        if _installs == 0:
            sys.stdout = _Router(sys.stdout)
            sys.stderr = _Router(sys.stderr)
        _installs += 1
    try:
        yield
    finally:
        with _install_lock:
            _installs -= 1
            if _installs == 0:
                if isinstance(sys.stdout, _Router):
                    sys.stdout = sys.stdout.real
                if isinstance(sys.stderr, _Router):
                    sys.stderr = sys.stderr.real


@contextmanager
def capturing(tail: OutputTail) -> Iterator[OutputTail]:
    """Send this thread's writes to ``tail`` (inside :func:`routed_output`)."""
    previous = getattr(_local, "tail", None)
    _local.tail = tail
    try:
        yield tail
    finally:
        _local.tail = previous
