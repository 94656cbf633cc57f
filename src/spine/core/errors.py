"""The exception hierarchy. Every bad input ends in a :class:`GroupError` subclass.

Errors carry their data (findings, cycle paths, missing pairs) so callers and the CLI
can render them without parsing messages. Third-party exceptions (yaml, networkx,
jinja2) are translated at the boundary with ``raise … from exc``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from spine.core.findings import Finding


class SpineError(Exception):
    """Base of every error spine raises on purpose."""


class GroupError(SpineError):
    """A pipeline group is invalid, missing or cannot be planned.

    ``findings`` holds every problem found (at least one); ``str(error)`` lists them
    one per line with their locations.
    """

    default_code = "group-error"

    def __init__(self, message: str | None = None, findings: Iterable[Finding] = ()) -> None:
        self.findings: tuple[Finding, ...] = tuple(findings)
        if not self.findings and message:
            self.findings = (Finding(code=self.default_code, message=message),)
        if message is None:
            message = self._summarise()
        super().__init__(message)

    def _summarise(self) -> str:
        errors = [f for f in self.findings]
        if len(errors) == 1:
            return str(errors[0])
        return f"{len(errors)} problems:\n" + "\n".join(f"  {f}" for f in errors)


class InvalidGroupSpecError(GroupError):
    """The file is not a valid group document: YAML syntax, schema, limits, tags."""

    default_code = "invalid-spec"


class GroupNotFoundError(GroupError):
    """No group with that name is registered and no such file exists."""

    default_code = "group-not-found"


class StepNotFoundError(GroupError):
    """A step name was asked for that the group does not have."""

    default_code = "step-not-found"


class DependencyError(GroupError):
    """Steps depend on steps that do not exist (or on themselves)."""

    default_code = "missing-dependency"

    def __init__(
        self,
        message: str | None = None,
        findings: Iterable[Finding] = (),
        missing: Sequence[tuple[str, str]] = (),
    ) -> None:
        #: Every ``(step, missing dependency)`` pair.
        self.missing: tuple[tuple[str, str], ...] = tuple(missing)
        super().__init__(message, findings)


class CycleDetectedError(GroupError):
    """The steps' dependencies form one or more cycles."""

    default_code = "cycle"

    def __init__(
        self,
        message: str | None = None,
        findings: Iterable[Finding] = (),
        cycles: Sequence[Sequence[str]] = (),
    ) -> None:
        #: Each cycle as a closed path ``[a, b, c, a]``: ``a -> b -> c -> a``.
        self.cycles: tuple[tuple[str, ...], ...] = tuple(tuple(c) for c in cycles)
        super().__init__(message, findings)


class PlanResolutionError(GroupError):
    """The group is well formed but cannot be resolved: pipelines, params, templates."""

    default_code = "plan-error"


class DecodeError(SpineError, ValueError):
    """A dict given to a model's ``from_dict`` does not describe that model: an unknown or
    missing key, or a value of the wrong kind. The message names the model and the key."""


class GraphvizNotFoundError(SpineError):
    """Graphviz ``dot`` is needed (SVG output) but not installed: a usage problem, exit 2."""
