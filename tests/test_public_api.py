"""The public API: each package's ``__all__`` is sorted and names exactly its public names."""

from __future__ import annotations

import importlib
import inspect

import pytest

PACKAGES = ["spine.core", "spine.yamlio", "spine.framework", "spine.orchestration", "spine.lint", "spine.diff", "spine.check", "spine.render", "spine.runner", "spine.store", "spine.testing", "spine.api"]


def isort_key(name: str) -> tuple[int, str]:
    """Sort key of ruff's RUF022: SCREAMING_CASE first, then CamelCase, then anything else."""
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def public_names(module) -> set[str]:
    """Names bound in the package namespace that are not private and not submodules, plus
    the names it imports lazily (PEP 562 ``__getattr__``, listed in ``_FROM_RUNNER``)."""
    bound = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    return bound | set(getattr(module, "_FROM_RUNNER", ()))


@pytest.mark.parametrize("package", PACKAGES)
class TestAll:
    def test_sorted(self, package: str) -> None:
        """__all__ is sorted the isort way (ruff RUF022): CONSTANTS, then Classes, then the rest."""
        names = importlib.import_module(package).__all__
        assert list(names) == sorted(names, key=isort_key)

    def test_no_duplicates(self, package: str) -> None:
        """__all__ lists each name once."""
        names = importlib.import_module(package).__all__
        assert len(names) == len(set(names))

    def test_matches_public_names(self, package: str) -> None:
        """__all__ equals the set of public names in the package namespace (no drift either way)."""
        module = importlib.import_module(package)
        assert set(module.__all__) == public_names(module)

    def test_every_name_resolves(self, package: str) -> None:
        """Every name in __all__ is an attribute of the package."""
        module = importlib.import_module(package)
        assert [n for n in module.__all__ if not hasattr(module, n)] == []


def test_version_matches_distribution() -> None:
    """spine.__version__ equals the installed spine-core distribution's version."""
    from importlib.metadata import version

    import spine

    assert spine.__version__ == version("spine-core")


def test_exception_hierarchy() -> None:
    """Every group error of the design derives from GroupError, and GroupError from SpineError."""
    from spine import core

    assert issubclass(core.GroupError, core.SpineError)
    for name in [
        "InvalidGroupSpecError",
        "GroupNotFoundError",
        "StepNotFoundError",
        "DependencyError",
        "CycleDetectedError",
        "PlanResolutionError",
    ]:
        assert issubclass(getattr(core, name), core.GroupError), name
