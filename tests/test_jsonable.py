"""spine.core.jsonable: one encoder for every model, and plain and JSON values."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
from collections.abc import Mapping
from typing import Any

import pytest

from spine.core.errors import DecodeError
from spine.core.findings import Code, Finding, Severity
from spine.core.frozen import FrozenDict
from spine.core.jsonable import Record, decode, encode, jsonable, plain


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass(frozen=True, slots=True)
class Inner(Record):
    colour: Colour
    note: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Outer(Record):
    name: str
    inners: tuple[Inner, ...] = ()
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    by_key: Mapping[str, Inner] = dataclasses.field(default_factory=dict)
    pair: tuple[int, str] | None = None

    _omit_defaults = ("pair",)
    _key_order = ("extra",)


SAMPLE = Outer(
    "o",
    (Inner(Colour.RED), Inner(Colour.BLUE, "b")),
    FrozenDict(x=(1, 2)),
    FrozenDict(k=Inner(Colour.RED)),
    (1, "a"),
)


class TestEncode:
    def test_shape(self) -> None:
        """Enums become values, nested models dicts, frozen maps dicts and tuples lists; _key_order keys come first."""
        assert SAMPLE.to_dict() == {
            "extra": {"x": [1, 2]},
            "name": "o",
            "inners": [{"colour": "red", "note": None}, {"colour": "blue", "note": "b"}],
            "by_key": {"k": {"colour": "red", "note": None}},
            "pair": [1, "a"],
        }
        assert next(iter(SAMPLE.to_dict())) == "extra"

    def test_omit_defaults(self) -> None:
        """A field named in _omit_defaults is left out while it equals its default."""
        assert "pair" not in Outer("o").to_dict()

    def test_round_trip(self) -> None:
        """from_dict(to_dict(x)) == x, with enums, nested models, tuples and frozen maps rebuilt."""
        back = Outer.from_dict(SAMPLE.to_dict())
        assert back == SAMPLE
        assert type(back.inners) is tuple and type(back.extra) is FrozenDict and back.inners[0].colour is Colour.RED


class TestDecodeErrors:
    def test_unknown_key(self) -> None:
        """An unknown key is a DecodeError naming the model, the key and the known keys."""
        with pytest.raises(DecodeError, match=r"Inner.from_dict: unknown key 'colour_' \(known: colour, note\)"):
            Inner.from_dict({"colour_": "red"})

    def test_missing_key(self) -> None:
        """A missing required key is a DecodeError naming it."""
        with pytest.raises(DecodeError, match="missing key 'colour'"):
            Inner.from_dict({"note": "x"})

    def test_bad_enum_value(self) -> None:
        """A value that is not one of the enum's is a DecodeError naming the key."""
        with pytest.raises(DecodeError, match="'colour'"):
            Inner.from_dict({"colour": "green"})

    def test_not_a_mapping(self) -> None:
        """A list given as the dict is a DecodeError."""
        with pytest.raises(DecodeError, match="needs a mapping"):
            decode(Inner, ["red"])  # type: ignore[arg-type]

    def test_string_for_a_tuple(self) -> None:
        """A string where a list is expected is refused, not split into characters."""
        with pytest.raises(DecodeError, match="expected a list"):
            Outer.from_dict({"name": "o", "inners": "red"})

    def test_decode_error_is_a_value_error(self) -> None:
        """DecodeError is a ValueError (and a SpineError), so callers may catch either."""
        from spine.core.errors import SpineError

        assert issubclass(DecodeError, ValueError) and issubclass(DecodeError, SpineError)


class TestPlain:
    def test_keeps_dates_and_non_finite_floats(self) -> None:
        """plain is lossless: dates and NaN stay as they are (YAML can carry them)."""
        day = dt.date(2024, 1, 5)
        out = plain(FrozenDict(d=day, f=math.inf))
        assert out == {"d": day, "f": math.inf} and type(out) is dict


class TestJsonable:
    def test_json_types(self) -> None:
        """jsonable turns dates, bytes, NaN, enums, frozen maps and models into JSON types."""
        value = FrozenDict(d=dt.date(2024, 1, 5), b=b"hi", n=math.nan, e=Colour.RED, m=Inner(Colour.BLUE), t=(1,))
        assert jsonable(value) == {
            "d": "2024-01-05", "b": "aGk=", "n": "nan", "e": "red", "m": {"colour": "blue", "note": None}, "t": [1],
        }


class TestFinding:
    def test_round_trip(self) -> None:
        """A finding goes through to_dict and from_dict unchanged, severity included."""
        f = Finding(Code.CYCLE, "a -> b -> a", Severity.WARNING, "g.yaml", 3, 7, "g", "a")
        assert Finding.from_dict(f.to_dict()) == f

    def test_to_dict_shape(self) -> None:
        """A finding's dict has the documented keys, with the code and severity as text."""
        d = Finding(Code.CYCLE, "m").to_dict()
        assert d == {"code": "cycle", "message": "m", "severity": "error", "file": None, "line": None, "column": None, "group": None, "step": None}
        assert type(d["code"]) is str

    def test_encode_is_the_to_dict(self) -> None:
        """Finding.to_dict is the shared encoder's output."""
        f = Finding("x", "m")
        assert f.to_dict() == encode(f)
