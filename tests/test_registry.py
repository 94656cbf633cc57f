"""The group registry: register_group as function and decorator, conflicts, lookups."""

from __future__ import annotations

import pytest

from spine.core.errors import GroupError, GroupNotFoundError
from spine.orchestration import GroupRegistry, PipelineGroup, default_group_registry, register_group


def weekly(name: str = "finra.weekly", pipeline: str = "p.ingest", domain: str | None = "finra") -> PipelineGroup:
    return PipelineGroup(name=name, domain=domain).add("ingest", pipeline)


class TestRegisterGroup:
    def test_as_function(self) -> None:
        """register_group(group, registry=r) registers and returns the group."""
        registry = GroupRegistry()
        group = weekly()
        assert register_group(group, registry=registry) is group
        assert registry.get("finra.weekly") is group

    def test_as_function_default_registry(self) -> None:
        """register_group(group) writes to the default registry."""
        register_group(weekly("test.default_fn"))
        assert "test.default_fn" in default_group_registry

    def test_as_bare_decorator(self) -> None:
        """@register_group calls the function once, registers its group and binds the name to it."""
        calls = []

        @register_group
        def my_group() -> PipelineGroup:
            calls.append(1)
            return weekly("test.bare")

        assert isinstance(my_group, PipelineGroup)
        assert default_group_registry.get("test.bare") is my_group
        assert calls == [1]

    def test_as_decorator_with_registry(self) -> None:
        """@register_group(registry=r) registers into r only."""
        registry = GroupRegistry()

        @register_group(registry=registry)
        def my_group() -> PipelineGroup:
            return weekly("test.with_registry")

        assert registry.get("test.with_registry") is my_group
        assert "test.with_registry" not in default_group_registry

    def test_decorated_function_must_return_group(self) -> None:
        """A decorated function returning something else raises TypeError."""
        with pytest.raises(TypeError, match="PipelineGroup"):
            register_group(lambda: "nope", registry=GroupRegistry())

    def test_non_group_rejected(self) -> None:
        """register_group on a non-group, non-callable raises TypeError."""
        with pytest.raises(TypeError):
            register_group(42, registry=GroupRegistry())  # type: ignore[call-overload]


class TestConflicts:
    def test_different_group_same_name_raises(self) -> None:
        """Registering a different group under a taken name raises ValueError."""
        registry = GroupRegistry()
        register_group(weekly(), registry=registry)
        with pytest.raises(ValueError, match="already registered"):
            register_group(weekly(pipeline="p.other"), registry=registry)

    def test_replace_true_overrides(self) -> None:
        """replace=True replaces the registered group."""
        registry = GroupRegistry()
        register_group(weekly(), registry=registry)
        newer = weekly(pipeline="p.other")
        register_group(newer, registry=registry, replace=True)
        assert registry.get("finra.weekly") is newer

    def test_equal_group_again_is_fine(self) -> None:
        """Registering an equal group again (a module imported twice) is not an error."""
        registry = GroupRegistry()
        register_group(weekly(), registry=registry)
        register_group(weekly(), registry=registry)
        assert len(registry) == 1

    def test_decorator_conflict_raises(self) -> None:
        """The decorator form also refuses a conflicting name."""
        registry = GroupRegistry()
        register_group(weekly(), registry=registry)
        with pytest.raises(ValueError):

            @register_group(registry=registry)
            def clash() -> PipelineGroup:
                return weekly(pipeline="p.other")


class TestLookup:
    def test_unknown_name_suggests(self) -> None:
        """get() on an unknown name raises GroupNotFoundError with the closest name."""
        registry = GroupRegistry()
        register_group(weekly(), registry=registry)
        with pytest.raises(GroupNotFoundError, match=r"did you mean 'finra\.weekly'"):
            registry.get("finra.weekyl")

    def test_not_found_is_group_error(self) -> None:
        """GroupNotFoundError is a GroupError."""
        with pytest.raises(GroupError):
            GroupRegistry().get("anything")

    def test_list_sorted_and_filtered_by_domain(self) -> None:
        """list() is sorted by name and filters by domain."""
        registry = GroupRegistry()
        for name, domain in [("z.one", "a"), ("b.two", "b"), ("a.three", "a")]:
            register_group(weekly(name, domain=domain), registry=registry)
        assert [g.name for g in registry.list()] == ["a.three", "b.two", "z.one"]
        assert [g.name for g in registry.list("a")] == ["a.three", "z.one"]

    def test_contains_and_clear(self) -> None:
        """in tests a name; clear() empties the registry."""
        registry = GroupRegistry()
        register_group(weekly(), registry=registry)
        assert "finra.weekly" in registry
        registry.clear()
        assert "finra.weekly" not in registry and len(registry) == 0
