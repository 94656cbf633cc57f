"""spine.core.frozen: deep-frozen values that stay dicts, hash, pickle, copy, and thaw back."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle

import pytest

from spine.core.frozen import EMPTY, FrozenDict, freeze, freeze_map, thaw

NESTED = {"a": [1, {"b": [2, 3]}], "c": {"d": {"e": [None, True]}}, "s": {1, 2}}


class TestFrozenDict:
    @pytest.mark.parametrize(
        "change",
        [
            lambda d: d.__setitem__("x", 1),
            lambda d: d.__delitem__("a"),
            lambda d: d.update(x=1),
            lambda d: d.setdefault("x", 1),
            lambda d: d.pop("a"),
            lambda d: d.popitem(),
            lambda d: d.clear(),
            lambda d: d.__ior__({"x": 1}),
        ],
        ids=["setitem", "delitem", "update", "setdefault", "pop", "popitem", "clear", "ior"],
    )
    def test_every_mutator_raises(self, change) -> None:
        """Each mutating method of dict raises TypeError and leaves the mapping as it was."""
        d = FrozenDict({"a": 1})
        with pytest.raises(TypeError, match="immutable"):
            change(d)
        assert d == {"a": 1}

    def test_is_a_dict_equal_to_a_dict(self) -> None:
        """A FrozenDict is a dict and equals a plain dict with the same items."""
        d = FrozenDict(a=1)
        assert isinstance(d, dict) and d == {"a": 1} and repr(d) == "{'a': 1}"

    def test_equal_values_hash_equal(self) -> None:
        """Equal frozen dicts built in different orders have the same hash."""
        assert hash(FrozenDict(a=1, b=(2,))) == hash(FrozenDict(b=(2,), a=1))

    def test_values_are_frozen_on_construction(self) -> None:
        """Building a FrozenDict freezes its values, so it is deep-frozen whoever builds it."""
        d = FrozenDict({"x": [1, {"y": []}]})
        assert d["x"] == (1, {"y": ()}) and type(d["x"][1]) is FrozenDict

    def test_or_and_copy_give_plain_dicts(self) -> None:
        """``d | other`` and ``d.copy()`` are plain dicts, to change at will."""
        d = FrozenDict(a=1)
        assert type(d | {"b": 2}) is dict and type(d.copy()) is dict

    def test_fromkeys(self) -> None:
        """FrozenDict.fromkeys builds a FrozenDict (dict's version would call the refused __setitem__)."""
        d = FrozenDict.fromkeys(["a", "b"], 0)
        assert type(d) is FrozenDict and d == {"a": 0, "b": 0}

    def test_pickle_round_trip(self) -> None:
        """Pickling gives back an equal FrozenDict, every protocol."""
        d = freeze(NESTED)
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            back = pickle.loads(pickle.dumps(d, protocol))
            assert back == d and type(back) is FrozenDict

    def test_copy_and_deepcopy(self) -> None:
        """copy.copy gives the object itself; copy.deepcopy an equal FrozenDict."""
        d = freeze(NESTED)
        assert copy.copy(d) is d
        deep = copy.deepcopy(d)
        assert deep == d and type(deep) is FrozenDict

    def test_json(self) -> None:
        """json.dumps encodes a frozen value as it would the plain one."""
        assert json.dumps(freeze({"a": [1, {"b": 2}]})) == json.dumps({"a": [1, {"b": 2}]})

    def test_renders_in_jinja_like_a_dict(self) -> None:
        """A Jinja2 template sees a FrozenDict as a mapping: attribute access, items, tojson."""
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment()
        d = freeze({"k": "v", "n": {"m": 1}})
        text = env.from_string("{{ d.k }} {{ d.n.m }} {% for k, v in d.items() %}{{ k }};{% endfor %} {{ d | tojson }}").render(d=d)
        assert text == 'v 1 k;n; {"k": "v", "n": {"m": 1}}'


class TestFreeze:
    def test_deep(self) -> None:
        """Lists become tuples, mappings FrozenDicts and sets frozensets, all the way down."""
        f = freeze(NESTED)
        assert f == {"a": (1, {"b": (2, 3)}), "c": {"d": {"e": (None, True)}}, "s": frozenset({1, 2})}
        assert type(f["c"]["d"]) is FrozenDict
        hash(f)

    def test_scalars_and_frozen_values_are_kept(self) -> None:
        """Scalars, dates and already frozen values come back as the same object."""
        day = dt.date(2024, 1, 5)
        frozen = FrozenDict(a=1)
        assert freeze(day) is day and freeze(frozen) is frozen and freeze("x") == "x"

    def test_freeze_map_of_nothing_is_empty(self) -> None:
        """freeze_map(None) and freeze_map({}) are the shared empty FrozenDict."""
        assert freeze_map(None) is EMPTY and freeze_map({}) is EMPTY


class TestThaw:
    def test_plain_copy(self) -> None:
        """thaw gives dicts and lists, which can be changed without touching the frozen value."""
        f = freeze({"a": [1, {"b": [2]}]})
        t = thaw(f)
        assert t == {"a": [1, {"b": [2]}]} and type(t) is dict and type(t["a"]) is list
        t["a"].append(3)
        assert f["a"] == (1, {"b": (2,)})

    def test_round_trip(self) -> None:
        """freeze(thaw(x)) == x for a frozen value without sets (a set thaws to a list)."""
        f = freeze({k: v for k, v in NESTED.items() if k != "s"})
        assert freeze(thaw(f)) == f
