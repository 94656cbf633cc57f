"""Plain JSON values for anything a group, a plan or YAML can hold."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any


def jsonable(value: Any) -> Any:
    """``value`` as JSON types: dates as ISO text, bytes as base64, NaN/inf as text."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
