"""Identifiers."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def new_batch_id(prefix: str, *, now: datetime | None = None) -> str:
    """``<prefix>_<YYYYmmddTHHMMSS>_<8 hex>``, e.g. ``group_finra.weekly_20261128T102854_1a2b3c4d``.

    Sortable by time, unique enough to name a run, safe in file names (the prefix is a
    validated group name).
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    return f"{prefix}_{stamp}_{secrets.token_hex(4)}"
