"""Param names and values: what YAML can carry and a group's params may hold."""

from __future__ import annotations

import string
from functools import cache
from typing import Any

from hypothesis import strategies as st

#: Param names YAML 1.1 would read as something else when unquoted (booleans, nulls,
#: numbers, the merge key) or that look like markup.
AWKWARD_PARAM_KEYS: tuple[str, ...] = (
    "on", "off", "yes", "no", "y", "n", "true", "null", "~", "1", "0x10", "1.0", "1:30",
    "2024-01-05", "<<", "=", "", " ", "a b", "x.y", "-", "?", "{{", "__proto__", "ключ",
)

#: Names Jinja2 parses as keywords or literals: never used as template variable names.
JINJA_RESERVED = frozenset(
    {"and", "or", "not", "in", "is", "if", "else", "elif", "endif", "for", "endfor", "true",
     "false", "none", "True", "False", "None", "block", "with", "recursive", "import", "as"}
)

_IDENT_FIRST = string.ascii_lowercase + "_"
_IDENT_REST = string.ascii_lowercase + string.digits + "_"


@cache
def identifiers(max_size: int = 12) -> st.SearchStrategy[str]:
    """Python/Jinja identifiers usable as ``params.<name>`` in a template. Shrinks to ``"a"``."""
    return (
        st.tuples(st.sampled_from(_IDENT_FIRST), st.text(_IDENT_REST, max_size=max_size - 1))
        .map("".join)
        .filter(lambda n: n not in JINJA_RESERVED)
    )


@cache
def param_keys() -> st.SearchStrategy[str]:
    """Param names: mostly identifiers, sometimes keys YAML would misread if unquoted."""
    return st.one_of(identifiers(), st.sampled_from(AWKWARD_PARAM_KEYS))


def _no_template(text: str) -> bool:
    return "{{" not in text and "{%" not in text


@cache
def plain_strings(max_size: int = 20) -> st.SearchStrategy[str]:
    """Any text (control characters included) that is not a Jinja2 template."""
    return st.text(st.characters(codec="utf-8"), max_size=max_size).filter(_no_template)


@cache
def scalars() -> st.SearchStrategy[Any]:
    """YAML scalars that load back equal: null, bool, int, finite-or-infinite float (no
    NaN, which is not equal to itself), text, dates."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        plain_strings(),
        st.dates(),
    )


@cache
def param_values(*, max_leaves: int = 6) -> st.SearchStrategy[Any]:
    """Param values: scalars, and lists and mappings (string keys) of them. No templates."""
    return st.recursive(
        scalars(),
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(param_keys(), children, max_size=3),
        ),
        max_leaves=max_leaves,
    )


@cache
def param_maps(*, max_size: int = 3) -> st.SearchStrategy[dict[str, Any]]:
    """A step's params or a group's defaults (no templates)."""
    return st.dictionaries(param_keys(), param_values(), max_size=max_size)
