"""Reproduction commands for fuzz counterexamples: each --param reads back as the same value and type."""

from __future__ import annotations

import datetime as dt
import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spine.check import parse_params
from spine.cli.reproduce import param_argument, plan_command, plan_target, same_value
from spine.testing import param_values

keys = st.from_regex(r"[a-z_][a-z0-9_]{0,11}", fullmatch=True)
values = st.one_of(param_values(), st.datetimes(), st.lists(st.dates(), max_size=2))


class TestRoundTrip:
    @given(keys, values)
    def test_argument_reads_back_as_the_same_value(self, key: str, value: object) -> None:
        """Guarantee: for any param value YAML can carry (text without surrogates, numbers, dates, lists, mappings), the argument exists and --param parses it back equal, type for type."""
        arg = param_argument(key, value)
        assert arg is not None
        assert same_value(parse_params([arg])[key], value)

    @given(keys, st.dictionaries(keys, values, max_size=4))
    def test_shell_quoting_keeps_every_argument(self, key: str, params: dict) -> None:
        """Guarantee: the printed command splits (POSIX shell rules) back into exactly the arguments, all printable."""
        command = plan_command(["groups/g.yaml"], params)
        assert command is not None and command.isprintable()
        words = shlex.split(command)
        assert words[:4] == ["spine", "group", "plan", "groups/g.yaml"]
        assert same_value(parse_params(words[5::2]), params)

    @pytest.mark.parametrize(
        ("value", "arg"),
        [
            ("2000-01-01", 'k="2000-01-01"'),
            (dt.date(2000, 1, 1), "k=2000-01-01"),
            ("T1", "k=T1"),
            ("5", 'k="5"'),
            (5, "k=5"),
            ("yes", 'k="yes"'),
            (1e20, "k=1.0e+20"),
            (float("-inf"), "k=-.inf"),
            ([1, "a", None], 'k=[1, "a", null]'),
            ("", "k="),
        ],
    )
    def test_readable_forms(self, value: object, arg: str) -> None:
        """Plain text stays plain, text YAML would retype is double-quoted, the rest is YAML flow."""
        assert param_argument("k", value) == arg

    def test_nan_reads_back_as_nan(self) -> None:
        """NaN is written .nan and read back as NaN (equal to itself for this purpose)."""
        assert same_value(parse_params([param_argument("k", float("nan"))])["k"], float("nan"))

    @pytest.mark.parametrize(("key", "value"), [("a=b", 1), ("", 1), ("k", "\ud800")], ids=["equals in key", "empty key", "lone surrogate"])
    def test_what_param_cannot_carry_gives_none(self, key: str, value: object) -> None:
        """A key with '=' or empty, or a lone surrogate, gives no argument rather than a wrong one."""
        assert param_argument(key, value) is None

    def test_no_command_when_one_value_cannot_be_written(self) -> None:
        """plan_command is None when any value cannot be written as --param."""
        assert plan_command(["g.yaml"], {"a": 1, "b": "\ud800"}) is None


class TestTarget:
    def test_file_with_one_group(self) -> None:
        """A file holding one group is named alone."""
        assert plan_target("groups/g.yaml", "demo.g", several=False) == ["groups/g.yaml"]

    def test_file_with_several_groups_adds_group(self) -> None:
        """A file holding several groups is named with --group."""
        assert plan_target("groups/g.yaml", "demo.g", several=True) == ["groups/g.yaml", "--group", "demo.g"]

    def test_python_group_by_name(self) -> None:
        """A group registered in Python (no file) is named by its name."""
        assert plan_target(None, "demo.g", several=False) == ["demo.g"]

    def test_file_starting_with_a_dash(self) -> None:
        """A relative file name starting with '-' gets './' so it is not read as an option."""
        assert plan_target("-g.yaml", "demo.g", several=False) == ["./-g.yaml"]

    def test_config_goes_before_group(self) -> None:
        """--config is a global option: it comes before 'group'."""
        assert plan_command(["g.yaml"], {}, config="my conf.toml") == "spine --config 'my conf.toml' group plan g.yaml"


class TestSameValue:
    @pytest.mark.parametrize(("a", "b"), [(1, True), (1, 1.0), ("1", 1), (dt.date(2000, 1, 1), dt.datetime(2000, 1, 1)), ({1: "a"}, {True: "a"}), ([1], [1.0])])
    def test_equal_values_of_other_types_differ(self, a: object, b: object) -> None:
        """Values Python calls equal but of other types are not the same value."""
        assert not same_value(a, b)
