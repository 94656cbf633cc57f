"""One serialisation path: dataclass models ⇄ plain dicts, and plain values → JSON types.

* :func:`encode` / :func:`decode` — a frozen dataclass to a dict of plain values (enums as
  their values, nested models as dicts, frozen mappings as dicts, tuples as lists) and
  back, driven by the dataclass's fields and type hints. :class:`Record` gives a model
  ``to_dict()`` and ``from_dict()`` built on them, so a model declares its shape once.
* :func:`plain` — any value as plain Python data (what YAML writes and ``decode`` reads):
  lossless, dates stay dates.
* :func:`jsonable` — any value as JSON types: dates as ISO text, bytes as base64, NaN and
  infinities as text (lossy; for output only).

``decode(cls, encode(x)) == x`` for every model built from plain values.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, TypeVar

from spine.core.frozen import FrozenDict, freeze

T = TypeVar("T")
R = TypeVar("R", bound="Record")

_SCALARS = (str, int, float, bool, type(None))
#: Exact types :func:`plain` returns as they are without looking further.
_PLAIN = frozenset(_SCALARS)


def plain(value: Any) -> Any:
    """``value`` as plain data: enums as their values, models as their ``to_dict()``,
    mappings as dicts, lists, tuples and sets as lists; anything else as it is."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is FrozenDict or kind is dict:
        return {k: v if type(v) in _PLAIN else plain(v) for k, v in value.items()}
    if kind is tuple or kind is list:
        return [v if type(v) in _PLAIN else plain(v) for v in value]
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, enum.Enum):
        return value._value_  # the member's value without the (slow) descriptor
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if to_dict is not None and dataclasses.is_dataclass(value):
        return to_dict()
    return value


def jsonable(value: Any) -> Any:
    """``value`` as JSON types: dates as ISO text, bytes as base64, NaN/inf as text."""
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, Mapping):
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
    if dataclasses.is_dataclass(value) and hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    return str(value)


def encode(obj: Any, *, omit_defaults: Iterable[str] = (), order: Iterable[str] = ()) -> dict[str, Any]:
    """A dataclass instance as a dict of :func:`plain` values, one key per init field.

    Fields named in ``omit_defaults`` are left out while they equal their default; keys
    named in ``order`` come first, in that order.
    """
    omit = frozenset(omit_defaults)
    data: dict[str, Any] = {}
    for name, default in _defaults(type(obj), tuple(order)):
        value = getattr(obj, name)
        if name in omit and default is not _NO_DEFAULT and value == default:
            continue
        data[name] = value if type(value) in _PLAIN else plain(value)
    return data


def decode(cls: type[T], data: Mapping[str, Any]) -> T:
    """An instance of the dataclass ``cls`` from a dict made by :func:`encode` (or by hand).

    Values are converted by the fields' type hints: enums from their values, nested models
    through their ``from_dict``, tuples from lists, frozen mappings from dicts, anything
    typed ``Any`` deep-frozen. Raises :class:`DecodeError` for a key the model does not
    have, a missing required key or a value that does not fit.
    """
    from spine.core.errors import DecodeError  # errors → findings → this module

    name = cls.__name__
    if not isinstance(data, Mapping):
        raise DecodeError(f"{name}.from_dict needs a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in _fields(cls)}
    unknown = [k for k in data if k not in fields]
    if unknown:
        raise DecodeError(f"{name}.from_dict: unknown key {unknown[0]!r} (known: {', '.join(fields)})")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        try:
            kwargs[key] = _value(hints.get(key, Any), value)
        except (TypeError, ValueError) as exc:
            raise DecodeError(f"{name}.from_dict: {key!r}: {exc}") from exc
    missing = [
        f.name for f in fields.values()
        if f.name not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise DecodeError(f"{name}.from_dict: missing key {missing[0]!r}")
    return cls(**kwargs)


class Record:
    """``to_dict`` and ``from_dict`` for a frozen dataclass, through :func:`encode` and :func:`decode`.

    A model tunes its dict with two class attributes: ``_omit_defaults`` (fields left out
    while they equal their default) and ``_key_order`` (keys that come first).
    """

    __slots__ = ()
    _omit_defaults: ClassVar[tuple[str, ...]] = ()
    _key_order: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """This model as plain data (see :func:`encode`)."""
        return encode(self, omit_defaults=self._omit_defaults, order=self._key_order)

    @classmethod
    def from_dict(cls: type[R], data: Mapping[str, Any]) -> R:
        """The model a :meth:`to_dict` dict describes (see :func:`decode`)."""
        return decode(cls, data)


# -- internals -------------------------------------------------------------------------------


# Per-class caches (functools.cache would do, but mypy does not count a type as Hashable).
_FIELDS: dict[type, tuple[dataclasses.Field[Any], ...]] = {}
_HINTS: dict[type, dict[str, Any]] = {}
_DEFAULTS: dict[tuple[type, tuple[str, ...]], tuple[tuple[str, Any], ...]] = {}
_NO_DEFAULT = object()


def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = tuple(f for f in dataclasses.fields(cls) if f.init)
    return found


def _hints(cls: type) -> dict[str, Any]:
    found = _HINTS.get(cls)
    if found is None:
        found = _HINTS[cls] = typing.get_type_hints(cls)
    return found


def _defaults(cls: type, order: tuple[str, ...] = ()) -> tuple[tuple[str, Any], ...]:
    """(name, default) of each init field, those named in ``order`` first; ``_NO_DEFAULT`` for a required one."""
    found = _DEFAULTS.get((cls, order))
    if found is not None:
        return found
    rank = {name: i for i, name in enumerate(order)}
    out = []
    for f in sorted(_fields(cls), key=lambda f: rank.get(f.name, len(rank))):
        if f.default is not dataclasses.MISSING:
            out.append((f.name, f.default))
        elif f.default_factory is not dataclasses.MISSING:
            out.append((f.name, f.default_factory()))
        else:
            out.append((f.name, _NO_DEFAULT))
    found = _DEFAULTS[(cls, order)] = tuple(out)
    return found


def _value(hint: Any, value: Any) -> Any:
    """``value`` converted to fit the type ``hint``."""
    if hint is Any:
        return freeze(value)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        return _value(options[0], value) if len(options) == 1 else freeze(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return value if isinstance(value, hint) else hint(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        from_dict: Callable[[Any], Any] | None = getattr(hint, "from_dict", None)
        return from_dict(value) if from_dict is not None else decode(hint, value)
    if origin is tuple:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(args[0], v) for v in value)
        items = list(value)
        if args and len(items) != len(args):
            raise ValueError(f"expected {len(args)} items, got {len(items)}")
        return tuple(_value(a, v) for a, v in zip(args, items)) if args else tuple(freeze(v) for v in items)
    if origin in (frozenset, set):
        return frozenset(_value(args[0] if args else Any, v) for v in value)
    if origin in (Mapping, dict, FrozenDict) or hint in (Mapping, dict):
        if not isinstance(value, Mapping):
            raise TypeError(f"expected a mapping, got {type(value).__name__}")
        value_hint = args[1] if len(args) == 2 else Any
        return FrozenDict({k: _value(value_hint, v) for k, v in value.items()})
    return value


__all__ = ["Record", "decode", "encode", "jsonable", "plain"]
