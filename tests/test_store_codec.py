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
