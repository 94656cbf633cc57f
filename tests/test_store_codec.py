"""The typed JSON codec: run params and definitions keep YAML's types through the store."""

from __future__ import annotations

import datetime as dt
import json
import math

from hypothesis import given
from hypothesis import strategies as st

from spine.store import codec

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8), st.binary(max_size=8),
    st.dates(), st.datetimes(timezones=st.just(dt.UTC)), st.datetimes(), st.times(),
)
_keys = st.one_of(st.text(max_size=6), st.sampled_from(["$type", "$value"]))
values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4), st.frozensets(st.integers(), max_size=3)),
    max_leaves=20,
)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (set, frozenset)) and isinstance(b, (set, frozenset)):
        return set(a) == set(b)
    return type(a) is type(b) and a == b


@given(values)
def test_dumps_then_decode_gives_the_value_back(value: object) -> None:
    """Guarantee: decode(json.loads(dumps(v))) equals v, types included (dates, bytes, sets, NaN, $type keys)."""
    assert _same(codec.decode(json.loads(codec.dumps(value))), value)


@given(values)
def test_the_fast_path_writes_what_encode_writes(value: object) -> None:
    """Guarantee: dumps(v) is the same JSON document as json.dumps(encode(v))."""
    assert json.loads(codec.dumps(value, sort_keys=True)) == json.loads(json.dumps(codec.encode(value)))


def test_a_date_param_is_tagged() -> None:
    """A date is written as {"$type": "date", "$value": "…"}, readable in psql or sqlite3."""
    assert codec.dumps({"day": dt.date(2024, 1, 5)}) == '{"day":{"$type":"date","$value":"2024-01-05"}}'


@given(st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.timezones()))
def test_times_survive_the_store_text_and_the_json_text(t: dt.datetime) -> None:
    """Any aware time, in any zone, comes back from the store's SQLite text as the same
    instant in UTC, and `iso` writes that instant as the same Z text the store keeps."""
    from spine.runner.results import from_iso, iso
    from spine.store.types import parse_sqlite_time, sqlite_time

    instant = t.astimezone(dt.UTC)  # (a wall time in a DST gap never compares equal to anything: PEP 495)
    text = sqlite_time(t)
    back = parse_sqlite_time(text)
    assert back == instant and back.tzinfo is dt.UTC
    assert iso(t) == text and from_iso(iso(t)) == instant


def test_a_time_without_an_offset_is_read_as_utc() -> None:
    """Text without a Z (an older row, or one written by hand) is taken as UTC, not local time."""
    from spine.store.types import parse_sqlite_time

    assert parse_sqlite_time("2024-01-05T12:00:00.000000") == dt.datetime(2024, 1, 5, 12, tzinfo=dt.UTC)
    assert parse_sqlite_time("2024-01-05T14:00:00+02:00") == dt.datetime(2024, 1, 5, 12, tzinfo=dt.UTC)
