"""JSON that keeps YAML's types: run params and group definitions survive a round trip.

A run param may be a date (``--param week_ending=2024-01-05``), a group default may be
bytes or a timestamp; a resume must resolve the same plan with the same *types*, and
plain JSON would turn them into strings. :func:`encode` writes such values as
``{"$type": "date", "$value": "2024-01-05"}`` (a mapping that itself has a ``$type``
key is wrapped as ``{"$type": "dict", …}`` so nothing is misread); :func:`decode` reads
them back. Everything else is ordinary JSON, readable in ``psql`` or ``sqlite3``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

_TYPE, _VALUE = "$type", "$value"


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """``json.dumps(encode(value))``, fast: one pass of the C encoder, tagging dates, bytes
    and sets on the way; the rare value it cannot write that way (a non-finite float, a
    mapping with a ``$type`` key) goes through :func:`encode` first."""
    try:
        text = json.dumps(value, default=_tag, allow_nan=False, sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":"))
    except ValueError:  # NaN or infinity somewhere
        text = None
    if text is None or (f'"{_TYPE}":' in text and _has_type_key(value)):
        text = json.dumps(encode(value), sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":"))
    return text


def _tag(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset, dt.date, dt.time, bytes)):
        return encode(value)
    raise TypeError(f"cannot store a {type(value).__name__} value: {value!r:.80}")


def _has_type_key(value: Any) -> bool:
    """A mapping somewhere in ``value`` has a ``$type`` key of its own (so needs wrapping)."""
    if isinstance(value, Mapping):
        return _TYPE in value or any(_has_type_key(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_type_key(v) for v in value)
    return False


def encode(value: Any) -> Any:
    """``value`` as JSON types, with tags for dates, times, bytes, sets and non-finite floats."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {_TYPE: "float", _VALUE: repr(value)}
    if isinstance(value, Mapping):
        body = {str(k): encode(v) for k, v in value.items()}
        return {_TYPE: "dict", _VALUE: body} if _TYPE in body else body
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {_TYPE: "set", _VALUE: [encode(v) for v in sorted(value, key=repr)]}
    if isinstance(value, dt.datetime):
        return {_TYPE: "datetime", _VALUE: value.isoformat()}
    if isinstance(value, dt.date):
        return {_TYPE: "date", _VALUE: value.isoformat()}
    if isinstance(value, dt.time):
        return {_TYPE: "time", _VALUE: value.isoformat()}
    if isinstance(value, bytes):
        return {_TYPE: "bytes", _VALUE: base64.b64encode(value).decode("ascii")}
    raise TypeError(f"cannot store a {type(value).__name__} value: {value!r:.80}")


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if _TYPE in value and _VALUE in value and len(value) == 2:
        kind, raw = value[_TYPE], value[_VALUE]
        if kind == "dict":
            return {k: decode(v) for k, v in raw.items()}
        if kind == "set":
            return {decode(v) for v in raw}
        if kind == "datetime":
            return dt.datetime.fromisoformat(raw)
        if kind == "date":
            return dt.date.fromisoformat(raw)
        if kind == "time":
            return dt.time.fromisoformat(raw)
        if kind == "bytes":
            return base64.b64decode(raw)
        if kind == "float":
            return float(raw)
    return {k: decode(v) for k, v in value.items()}


__all__ = ["decode", "dumps", "encode"]
