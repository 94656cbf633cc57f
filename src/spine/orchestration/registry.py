"""The group registry: name → :class:`PipelineGroup`.

``register_group`` works as a function (``register_group(group)``) and as a decorator on
a function that builds a group (``@register_group`` or ``@register_group(registry=r)``);
the decorator calls the function once, registers what it returns and binds the name to
the group.

The module functions of the original spine-core — :func:`get_group`,
:func:`list_groups`, :func:`group_exists`, :func:`clear_group_registry` — work on
:data:`default_group_registry`, the registry ``register_group`` writes to by default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, overload

from spine.core.errors import GroupNotFoundError
from spine.core.suggest import did_you_mean
from spine.orchestration.models import PipelineGroup


class GroupRegistry:
    """Groups by name; registering the same name twice replaces only when asked."""

    def __init__(self) -> None:
        self._groups: dict[str, PipelineGroup] = {}

    def register(self, group: PipelineGroup, *, replace: bool = False) -> PipelineGroup:
        if not isinstance(group, PipelineGroup):
            raise TypeError(f"register_group needs a PipelineGroup, got {type(group).__name__}")
        old = self._groups.get(group.name)
        if old is not None and old != group and not replace:
            where = f" from {old.source.file}" if old.source and old.source.file else ""
            raise ValueError(
                f"a different group named {group.name!r} is already registered{where}; "
                "rename one, or pass replace=True"
            )
        self._groups[group.name] = group
        return group

    def get(self, name: str) -> PipelineGroup:
        try:
            return self._groups[name]
        except KeyError:
            raise GroupNotFoundError(
                f"no group named {name!r} is registered{did_you_mean(name, self._groups)} "
                "(see `spine group list`, or pass a file path)"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._groups

    def __iter__(self) -> Iterator[PipelineGroup]:
        return iter(sorted(self._groups.values(), key=lambda g: g.name))

    def __len__(self) -> int:
        return len(self._groups)

    def list(self, domain: str | None = None) -> list[PipelineGroup]:
        return [g for g in self if domain is None or g.domain == domain]

    def clear(self) -> None:
        self._groups.clear()


#: The registry ``register_group`` writes to unless told otherwise.
default_group_registry = GroupRegistry()


@overload
def register_group(group: PipelineGroup, *, registry: GroupRegistry | None = ..., replace: bool = ...) -> PipelineGroup: ...
@overload
def register_group(group: Callable[[], PipelineGroup], *, registry: GroupRegistry | None = ..., replace: bool = ...) -> PipelineGroup: ...
@overload
def register_group(group: None = ..., *, registry: GroupRegistry | None = ..., replace: bool = ...) -> Callable[[Callable[[], PipelineGroup]], PipelineGroup]: ...


def register_group(group: Any = None, *, registry: GroupRegistry | None = None, replace: bool = False) -> Any:
    """Register a group, or decorate a zero-argument function that returns one."""
    target = registry if registry is not None else default_group_registry
    if group is None:
        return lambda fn: register_group(fn, registry=target, replace=replace)
    if isinstance(group, PipelineGroup):
        return target.register(group, replace=replace)
    if callable(group):
        built = group()
        if not isinstance(built, PipelineGroup):
            raise TypeError(f"@register_group: {getattr(group, '__name__', group)!r} must return a PipelineGroup, got {type(built).__name__}")
        return target.register(built, replace=replace)
    raise TypeError(f"register_group needs a PipelineGroup or a function returning one, got {type(group).__name__}")


def get_group(name: str) -> PipelineGroup:
    """The registered group named ``name``; :class:`GroupNotFoundError` (with the closest name) if none."""
    return default_group_registry.get(name)


def list_groups(domain: str | None = None) -> list[str]:
    """The names of the registered groups, sorted; only those of ``domain`` when given."""
    return [g.name for g in default_group_registry.list(domain)]


def group_exists(name: str) -> bool:
    """Whether a group named ``name`` is registered."""
    return name in default_group_registry


def clear_group_registry() -> None:
    """Forget every registered group (for tests)."""
    default_group_registry.clear()
