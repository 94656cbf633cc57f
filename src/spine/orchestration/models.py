"""The group model: frozen dataclasses and the enums they use.

``PipelineGroup`` and ``PipelineStep`` are immutable. The fluent DSL (``group.add``,
``with_*``) returns copies, the way Kedro's ``Node.tag`` does, so a group that was
planned can never change under the plan.

One serialisation path: ``to_dict`` gives the ``spine.io/v1`` document (what YAML and
JSON carry) and ``from_dict`` reads one back through the same validation as the loader.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spine.orchestration.source import SourceMap

API_VERSION = "spine.io/v1"
KIND = "PipelineGroup"
#: The keys a step and ``spec.policy`` share: a step's unset value comes from the policy.
RUN_KEYS = ("retries", "retry_delay_seconds", "timeout_seconds")


class ExecutionMode(enum.Enum):
    """How a run schedules steps that are ready at the same time."""

    #: One step at a time, in plan order.
    SEQUENTIAL = "sequential"
    #: Up to ``max_concurrency`` ready steps at once.
    PARALLEL = "parallel"


class FailurePolicy(enum.Enum):
    """What a run does when a step fails. Dependents of a failed step are always skipped."""

    #: Start nothing new; the run ends ``failed``.
    STOP = "stop"
    #: Keep running every step that does not depend on the failure; the run may end ``partial``.
    CONTINUE = "continue"


class StepStatus(enum.Enum):
    """The state of one step in a run."""

    PENDING = "pending"  #: not started
    RUNNING = "running"  #: started, not finished
    COMPLETED = "completed"  #: finished without error
    FAILED = "failed"  #: raised or timed out
    SKIPPED = "skipped"  #: not run because a dependency failed or was skipped
    CANCELLED = "cancelled"  #: stopped by the user or by ``on_failure: stop``


class GroupRunStatus(enum.Enum):
    """The state of a whole group run (see :func:`group_status`)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    PARTIAL = "partial"
    CANCELLED = "cancelled"


def group_status(
    steps: Iterable[StepStatus], on_failure: FailurePolicy, *, user_cancelled: bool | None = None
) -> GroupRunStatus:
    """The group status from its steps' statuses, by the rules of the design.

    All completed → completed; any running → running; any cancelled → cancelled;
    failures under ``continue`` with some completed → partial; any failed → failed;
    all pending (or no steps) → pending; otherwise (some done, some pending) → running.

    A finished run knows *why* steps were cancelled, and says so with ``user_cancelled``:
    ``True`` (Ctrl-C, ``spine runs cancel``) makes any unfinished run ``cancelled``;
    ``False`` means its cancelled steps were never started because ``on_failure: stop``
    stopped the run after a failure, so the failure decides (``failed``). ``None`` (only
    the statuses are known) keeps the design's rule.
    """
    seen = list(steps)
    if seen and all(s is StepStatus.COMPLETED for s in seen):
        return GroupRunStatus.COMPLETED
    if StepStatus.RUNNING in seen:
        return GroupRunStatus.RUNNING
    if user_cancelled:
        return GroupRunStatus.CANCELLED
    if StepStatus.CANCELLED in seen and user_cancelled is None:
        return GroupRunStatus.CANCELLED
    failed = StepStatus.FAILED in seen
    if failed and on_failure is FailurePolicy.CONTINUE and StepStatus.COMPLETED in seen:
        return GroupRunStatus.PARTIAL
    if failed:
        return GroupRunStatus.FAILED
    if all(s is StepStatus.PENDING for s in seen):
        return GroupRunStatus.PENDING
    return GroupRunStatus.RUNNING


@dataclass(frozen=True, slots=True)
class ExecutionPolicy:
    """How a group runs."""

    execution: ExecutionMode = ExecutionMode.SEQUENTIAL
    max_concurrency: int = 4
    on_failure: FailurePolicy = FailurePolicy.STOP
    #: Bounds the whole run; ``None``: no limit.
    timeout_minutes: float | None = None
    #: How many times a failed step is tried again, for steps that do not say.
    retries: int = 0
    #: Seconds before the first retry (the runner doubles it, with jitter, for later ones).
    retry_delay_seconds: float = 0
    #: Bounds one attempt of a step, for steps that do not say; ``None``: no limit.
    timeout_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "execution": self.execution.value,
            "max_concurrency": self.max_concurrency,
            "on_failure": self.on_failure.value,
        }
        if self.timeout_minutes is not None:
            data["timeout_minutes"] = self.timeout_minutes
        if self.retries != 0:
            data["retries"] = self.retries
        if self.retry_delay_seconds != 0:
            data["retry_delay_seconds"] = self.retry_delay_seconds
        if self.timeout_seconds is not None:
            data["timeout_seconds"] = self.timeout_seconds
        return data


@dataclass(frozen=True, slots=True)
class PipelineStep:
    """One step: a name unique in its group, the pipeline it calls, params, dependencies."""

    name: str
    pipeline: str
    params: Mapping[str, Any] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    description: str | None = None
    #: Retries after a failure; ``None``: the policy's ``retries``.
    retries: int | None = None
    #: Seconds before the first retry; ``None``: the policy's ``retry_delay_seconds``.
    retry_delay_seconds: float | None = None
    #: Bounds one attempt; ``None``: the policy's ``timeout_seconds``.
    timeout_seconds: float | None = None

    def __post_init__(self) -> None:
        # Accept any iterable of names (a list from YAML, a tuple from Python) but store a
        # tuple; a lone string is a classic slip, and is rejected by validation, not split.
        if not isinstance(self.depends_on, (tuple, str)):
            object.__setattr__(self, "depends_on", tuple(self.depends_on))
        object.__setattr__(self, "params", _frozen_map(self.params))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "pipeline": self.pipeline}
        if self.description is not None:
            data["description"] = self.description
        if self.depends_on:
            deps = self.depends_on
            data["depends_on"] = deps if isinstance(deps, str) else list(deps)
        if self.params:
            data["params"] = dict(self.params)
        for key in RUN_KEYS:
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass(frozen=True, slots=True)
class PipelineGroup:
    """A named, versioned DAG of steps.

    Build one from YAML (:func:`spine.orchestration.load_groups`), from a dict
    (:meth:`from_dict`), or in Python::

        group = (
            PipelineGroup(name="finra.weekly_refresh", domain="finra.otc_transparency")
            .add("ingest", "finra.otc_transparency.ingest_week")
            .add("normalize", "finra.otc_transparency.normalize_week", depends_on=["ingest"])
        )

    Invariants (names unique, dependencies exist, no cycles …) are checked by
    :func:`spine.orchestration.validate_group` and the planner, which report every
    problem at once instead of failing on the first in a constructor.
    """

    name: str
    steps: tuple[PipelineStep, ...] = ()
    version: int = 1
    domain: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    policy: ExecutionPolicy = field(default_factory=ExecutionPolicy)
    #: Where the group came from (file and positions); not part of equality.
    source: SourceMap | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.steps, tuple):
            object.__setattr__(self, "steps", tuple(self.steps))
        if not isinstance(self.tags, (tuple, str)):
            object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "defaults", _frozen_map(self.defaults))

    # -- the DSL -----------------------------------------------------------------------

    @classmethod
    def from_steps(
        cls, name: str, steps: Iterable[PipelineStep | Mapping[str, Any]], **metadata: Any
    ) -> PipelineGroup:
        """A group from steps given as ``PipelineStep``s or as dicts with the YAML keys."""
        built = tuple(s if isinstance(s, PipelineStep) else PipelineStep(**dict(s)) for s in steps)
        return cls(name=name, steps=built, **metadata)

    def add(
        self,
        name: str,
        pipeline: str,
        *,
        depends_on: Sequence[str] = (),
        params: Mapping[str, Any] | None = None,
        description: str | None = None,
        retries: int | None = None,
        retry_delay_seconds: float | None = None,
        timeout_seconds: float | None = None,
    ) -> PipelineGroup:
        """A copy of this group with one more step (groups are immutable: chain the calls)."""
        step = PipelineStep(
            name=name,
            pipeline=pipeline,
            params=dict(params or {}),
            # a lone string is kept as is, so validation says "write depends_on: [a]"
            depends_on=depends_on if isinstance(depends_on, str) else tuple(depends_on),
            description=description,
            retries=retries,
            retry_delay_seconds=retry_delay_seconds,
            timeout_seconds=timeout_seconds,
        )
        return replace(self, steps=(*self.steps, step), source=None)

    def with_policy(self, **changes: Any) -> PipelineGroup:
        """A copy with policy fields changed (``execution="parallel"`` or an enum)."""
        if "execution" in changes:
            changes["execution"] = ExecutionMode(_enum_value(changes["execution"]))
        if "on_failure" in changes:
            changes["on_failure"] = FailurePolicy(_enum_value(changes["on_failure"]))
        return replace(self, policy=replace(self.policy, **changes), source=None)

    def with_defaults(self, **defaults: Any) -> PipelineGroup:
        """A copy with more group defaults."""
        return replace(self, defaults={**self.defaults, **defaults}, source=None)

    # -- lookups -----------------------------------------------------------------------

    @property
    def step_names(self) -> list[str]:
        return [s.name for s in self.steps]

    def step(self, name: str) -> PipelineStep:
        """The step called ``name``; raises :class:`StepNotFoundError` with a suggestion."""
        for s in self.steps:
            if s.name == name:
                return s
        from spine.core.errors import StepNotFoundError
        from spine.core.suggest import did_you_mean

        raise StepNotFoundError(
            f"group {self.name!r} has no step {name!r}{did_you_mean(name, self.step_names)}"
        )

    # -- serialisation -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The ``spine.io/v1`` document for this group."""
        metadata: dict[str, Any] = {"name": self.name}
        if self.domain is not None:
            metadata["domain"] = self.domain
        metadata["version"] = self.version
        if self.description is not None:
            metadata["description"] = self.description
        if self.tags:
            metadata["tags"] = list(self.tags)
        spec: dict[str, Any] = {}
        if self.defaults:
            spec["defaults"] = dict(self.defaults)
        spec["pipelines"] = [s.to_dict() for s in self.steps]
        if self.policy != ExecutionPolicy():
            spec["policy"] = self.policy.to_dict()
        return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": spec}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None) -> PipelineGroup:
        """Read a ``spine.io/v1`` document; raises :class:`InvalidGroupSpecError` with every problem."""
        from spine.orchestration.spec import group_from_document

        return group_from_document(data, file=file)


def _frozen_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only view of a copy: a group's params cannot change under a plan."""
    if isinstance(value, MappingProxyType):
        return value
    return MappingProxyType(dict(value))


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value

