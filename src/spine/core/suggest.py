"""Did-you-mean suggestions for unknown names (as Kedro does with difflib)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name``, or ``None`` when nothing is close."""
    pool = list(candidates)
    if len(pool) > 5000:
        # get_close_matches is quadratic-ish in practice; on huge groups only compare
        # names of similar length, which is where typos live.
        pool = [c for c in pool if abs(len(c) - len(name)) <= 2][:5000]
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` or ``""``."""
    best = closest(name, candidates)
    return f"; did you mean {best!r}?" if best is not None else ""
