"""Pipeline parameters: :class:`ParamDef` declares one, :func:`check_params` checks a set.

A param's ``type`` is a Python type (``str``, ``int``, ``float``, ``bool``, ``list``,
``dict``, ``datetime.date``) or its name (``"str"``, ``"date"``, ``"any"``). Checking is
strict the way a data engineer wants: ``True`` is not an ``int``, ``"3"`` is not an
``int``; an ``int`` is accepted where a ``float`` is expected. A date may be given as a
``datetime.date`` (YAML turns ``2024-01-05`` into one) or an ISO string.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_TYPE_NAMES: dict[str, type | None] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
    "date": _dt.date,
    "any": None,
}
_NAME_OF: dict[type, str] = {t: n for n, t in _TYPE_NAMES.items() if t is not None}


def _type_name(tp: type | str | None) -> str:
    if tp is None:
        return "any"
    if isinstance(tp, str):
        return tp
    return _NAME_OF.get(tp, tp.__name__)


@dataclass(frozen=True, slots=True)
class ParamDef:
    """One parameter a pipeline accepts."""

    name: str
    type: type | str | None = None
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] | None = None
    description: str = ""
    #: Filled by ``__post_init__``: the canonical type name (``"int"``, ``"any"`` …).
    type_name: str = field(init=False, default="any")

    def __post_init__(self) -> None:
        name = _type_name(self.type)
        if name not in _TYPE_NAMES:
            raise ValueError(
                f"ParamDef {self.name!r}: unknown type {self.type!r}; "
                f"use one of {', '.join(sorted(_TYPE_NAMES))}"
            )
        object.__setattr__(self, "type_name", name)
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))
        if self.required and self.default is not None:
            raise ValueError(f"ParamDef {self.name!r}: a required param cannot have a default")

    def problem(self, value: Any) -> str | None:
        """Why ``value`` does not fit this param, or ``None`` when it does."""
        expected = _TYPE_NAMES[self.type_name]
        if expected is not None and not _is_instance(value, expected):
            return (
                f"param {self.name!r} must be {self.type_name}, "
                f"got {type(value).__name__} {value!r:.80}"
            )
        if self.choices is not None and value not in self.choices:
            return (
                f"param {self.name!r} must be one of "
                f"{', '.join(repr(c) for c in self.choices)}; got {value!r:.80}"
            )
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type_name,
            "required": self.required,
            "default": self.default,
            "choices": list(self.choices) if self.choices is not None else None,
            "description": self.description,
        }


def _is_instance(value: Any, expected: type) -> bool:
    if expected is bool:
        return isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected is _dt.date:
        if isinstance(value, _dt.date):
            return True
        if isinstance(value, str):
            try:
                _dt.date.fromisoformat(value)
            except ValueError:
                return False
            return True
        return False
    if expected is list:  # params are frozen: a YAML list is a tuple by now
        return isinstance(value, (list, tuple))
    if expected is dict:
        return isinstance(value, Mapping)
    return isinstance(value, expected)


def check_params(
    defs: Iterable[ParamDef], params: Mapping[str, Any], *, allow_unknown: bool = False
) -> list[str]:
    """Every problem with ``params`` against ``defs``: missing, unknown, wrong type, choice."""
    by_name = {d.name: d for d in defs}
    problems: list[str] = []
    for d in by_name.values():
        if d.name not in params:
            if d.required:
                problems.append(f"required param {d.name!r} is missing")
            continue
        why = d.problem(params[d.name])
        if why:
            problems.append(why)
    if not allow_unknown:
        from spine.core.suggest import Suggester

        suggest = Suggester(by_name)
        for key in params:
            if key not in by_name:
                hint = suggest.did_you_mean(str(key))
                accepted = ", ".join(sorted(by_name)) or "none"
                problems.append(f"unknown param {key!r} (accepted: {accepted}){hint}")
    return problems
