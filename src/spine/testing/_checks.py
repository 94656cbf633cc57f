"""Argument checks shared by the strategies: they run when a strategy is *built*.

hypothesis-networkx and hypothesis itself check their arguments eagerly, so a typo in a
test (``min_steps=5, max_steps=2``) fails at collection with a clear message instead of
as a confusing failure in the middle of a run. These helpers raise
``hypothesis.errors.InvalidArgument`` (a subclass of ``Exception`` that pytest shows
with its message).
"""

from __future__ import annotations

from typing import Any

from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy


def check_int(name: str, value: Any, *, min_value: int = 0, max_value: int | None = None) -> int:
    """``value`` when it is an ``int`` (not a ``bool``) in ``[min_value, max_value]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name} must be an integer, got {value!r}")
    if value < min_value:
        raise InvalidArgument(f"{name} must be at least {min_value}, got {value}")
    if max_value is not None and value > max_value:
        raise InvalidArgument(f"{name} must be at most {max_value}, got {value}")
    return value


def check_range(low_name: str, low: int, high_name: str, high: int) -> None:
    """``low <= high``, or a message naming both arguments."""
    if low > high:
        raise InvalidArgument(f"{low_name}={low} is larger than {high_name}={high}")


def check_strategy(name: str, value: Any) -> SearchStrategy[Any]:
    """``value`` when it is a hypothesis strategy."""
    if not isinstance(value, SearchStrategy):
        raise InvalidArgument(
            f"{name} must be a hypothesis strategy (e.g. spine.testing.step_names()), "
            f"got {type(value).__name__} {value!r:.60}"
        )
    return value


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name} must be True or False, got {value!r}")
    return value


def check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> Any:
    if value not in choices:
        raise InvalidArgument(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value
