"""Deep-frozen values: what a group's params and a plan's resolved params are made of.

:func:`freeze` turns mappings into :class:`FrozenDict`, lists and tuples into tuples and
sets into frozensets, all the way down, so a value shared by a group, its plans and
another process can never change under any of them. Frozen values are hashable,
picklable and deep-copyable, and stay JSON-able: a ``FrozenDict`` *is* a ``dict`` (JSON
encoders, Jinja2 and ``isinstance(x, dict)`` checks see a mapping), and tuples encode as
arrays. :func:`thaw` gives back plain, mutable ``dict``\\ s and ``list``\\ s — what YAML
writes and what a pipeline may change at will.

Scalars (``str``, numbers, ``None``, dates, ``bytes`` …) are immutable already and are
kept as they are; so is any other object, which a group built in Python may carry at its
own risk.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn, TypeVar

K = TypeVar("K")
V = TypeVar("V")

#: Types whose values are immutable and hold nothing mutable.
_ATOMIC: frozenset[type] = frozenset(
    {str, int, float, bool, type(None), bytes, complex, _dt.date, _dt.datetime, _dt.time, _dt.timedelta}
)


class FrozenDict(dict[K, V]):
    """An immutable ``dict`` whose values are frozen too; hashable when its values are.

    Every mutating method raises ``TypeError``. ``d | other`` and ``d.copy()`` give plain
    dicts, to change at will; :func:`thaw` gives a plain copy all the way down.
    """

    __slots__ = ("_hash",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        items = args[0] if len(args) == 1 and not kwargs and isinstance(args[0], Mapping) else dict(*args, **kwargs)
        atomic = _ATOMIC
        dict.__init__(self, {k: v if type(v) in atomic else freeze(v) for k, v in items.items()})
        self._hash: int | None = None

    def _readonly(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"{type(self).__name__} is immutable; build a new one (dict(d) | {{...}}) instead")

    __setitem__ = _readonly
    __delitem__ = _readonly
    __ior__ = _readonly
    clear = _readonly
    pop = _readonly
    popitem = _readonly
    setdefault = _readonly
    update = _readonly

    def __hash__(self) -> int:  # type: ignore[override]
        if self._hash is None:
            self._hash = hash(frozenset(self.items()))
        return self._hash

    def __reduce__(self) -> tuple[Any, ...]:
        # dict's own pickling rebuilds with __setitem__, which is refused
        return (type(self), (dict(self),))

    def __copy__(self) -> FrozenDict[K, V]:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict[K, V]:
        import copy

        return type(self)({copy.deepcopy(k, memo): copy.deepcopy(v, memo) for k, v in self.items()})

    @classmethod
    def fromkeys(cls, keys: Iterable[Any], value: Any = None) -> FrozenDict[Any, Any]:
        return cls(dict.fromkeys(keys, value))


#: The empty frozen mapping (the default params of a step).
EMPTY: FrozenDict[Any, Any] = FrozenDict()


def freeze(value: Any) -> Any:
    """``value`` with every mapping a :class:`FrozenDict`, every list a tuple, every set a frozenset."""
    kind = type(value)
    if kind in _ATOMIC or kind is FrozenDict or kind in _OPAQUE:
        return value
    if kind is dict:
        return FrozenDict(value)
    if kind is tuple or kind is list:
        if kind is tuple and all(type(v) in _ATOMIC for v in value):
            return value
        return tuple(freeze(v) for v in value)
    if isinstance(value, Mapping):
        return FrozenDict(value)
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(freeze(v) for v in value)
    if len(_OPAQUE) < 1024:
        _OPAQUE.add(kind)  # neither a container nor a scalar: kept as it is, and remembered
    return value


#: Types :func:`freeze` met that are neither scalars nor containers (models, enums …): kept as they are.
_OPAQUE: set[type] = set()


def freeze_map(value: Mapping[Any, Any] | None) -> FrozenDict[Any, Any]:
    """A mapping (or ``None``, meaning empty) as a :class:`FrozenDict`."""
    if type(value) is FrozenDict:
        return value
    if not value:
        return EMPTY
    return FrozenDict(value)


def thaw(value: Any) -> Any:
    """A plain, mutable copy of a (frozen) value: mappings as dicts, sequences as lists."""
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [thaw(v) for v in value]
    return value


__all__ = ["EMPTY", "FrozenDict", "freeze", "freeze_map", "thaw"]
