"""The group model: frozen dataclasses and the enums they use.

``PipelineGroup`` and ``PipelineStep`` are immutable. The fluent DSL (``group.add``,
``with_*``) returns copies, the way Kedro's ``Node.tag`` does, so a group that was
planned can never change under the plan.

One serialisation path: ``to_dict`` gives the ``spine.io/v1`` document (what YAML and
JSON carry) and ``from_dict`` reads one back through the same validation as the loader.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from spine.core.frozen import EMPTY, freeze_map
from spine.core.jsonable import Record, plain

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
class ExecutionPolicy(Record):
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
    #: How many runs of the group may be active at once (checked in the store, across processes).
    max_active_runs: int = 1
    #: The pool (``[tool.spine.pools]``) every step of the group draws a slot from, unless it names its own.
    pool: str | None = None
    #: The Celery queue every step is sent to, unless it names its own (other executors ignore it).
    queue: str | None = None

    _omit_defaults = ("timeout_minutes", *RUN_KEYS, "max_active_runs", "pool", "queue")

    def __post_init__(self) -> None:
        # the DSL may say execution="parallel": store the enum (an unknown value raises ValueError)
        if not isinstance(self.execution, ExecutionMode):
            object.__setattr__(self, "execution", ExecutionMode(self.execution))
        if not isinstance(self.on_failure, FailurePolicy):
            object.__setattr__(self, "on_failure", FailurePolicy(self.on_failure))


@dataclass(frozen=True, slots=True)
class PipelineStep(Record):
    """One step: a name unique in its group, the pipeline (or group) it calls, params, dependencies.

    A step calls exactly one of ``pipeline`` (a registered pipeline) or ``group`` (a
    group, expanded inline by the planner as ``<step>/<inner step>``; ``params`` become the
    nested group's run params). ``pipeline`` is ``""`` for a group step.

    ``params`` is stored deep-frozen (a :class:`~spine.core.frozen.FrozenDict`, lists as
    tuples); ``depends_on`` as a tuple, and a lone string ``"a"`` means ``("a",)``.
    ``to_dict`` gives the step as the format writes it (unset keys left out).
    """

    name: str
    pipeline: str = ""
    params: Mapping[str, Any] = EMPTY
    depends_on: tuple[str, ...] = ()
    description: str | None = None
    #: Retries after a failure; ``None``: the policy's ``retries``.
    retries: int | None = None
    #: Seconds before the first retry; ``None``: the policy's ``retry_delay_seconds``.
    retry_delay_seconds: float | None = None
    #: Bounds one attempt; ``None``: the policy's ``timeout_seconds``.
    timeout_seconds: float | None = None
    #: The pool this step draws a slot from while it runs; ``None``: the policy's ``pool``.
    pool: str | None = None
    #: The group this step calls instead of a pipeline (expanded inline by the planner).
    group: str | None = None
    #: The Celery queue this step is sent to (workers started with ``--queue``); ``None``: the policy's.
    queue: str | None = None

    _omit_defaults = ("pipeline", "params", "depends_on", "description", *RUN_KEYS, "pool", "group", "queue")
    _key_order = ("name", "pipeline", "group", "description", "depends_on", "params")

    def __post_init__(self) -> None:
        object.__setattr__(self, "depends_on", _names(self.depends_on))
        object.__setattr__(self, "params", freeze_map(self.params))

    @property
    def is_group(self) -> bool:
        """Whether this step calls a group (``group:``) rather than a pipeline."""
        return self.group is not None


#: How many missed fires ``catchup: true`` fires at most in one pass, unless the schedule says.
MAX_CATCHUP = 100


@dataclass(frozen=True, slots=True)
class Schedule(Record):
    """When a group runs by itself: a cron expression in a timezone, with run params.

    ``params`` are the run params of every fire; strings may be templates that use
    ``schedule`` (``logical_date``, ``data_interval_start``, ``data_interval_end``),
    ``timedelta`` and ``group`` (see :mod:`spine.scheduler`). ``catchup``: after downtime,
    fire every missed tick (oldest first, at most ``max_catchup``) instead of the latest.
    """

    name: str
    #: Five fields (croniter syntax): minute hour day-of-month month day-of-week.
    cron: str
    #: An IANA timezone (``America/New_York``); the cron is read in its local time.
    timezone: str = "UTC"
    params: Mapping[str, Any] = EMPTY
    catchup: bool = False
    max_catchup: int = MAX_CATCHUP
    enabled: bool = True

    _omit_defaults = ("params", "catchup", "max_catchup", "enabled")
    _key_order = ("name", "cron", "timezone", "params")

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", freeze_map(self.params))


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
    defaults: Mapping[str, Any] = EMPTY
    policy: ExecutionPolicy = field(default_factory=ExecutionPolicy)
    #: When the group runs by itself (``spec.schedules``; fired by ``spine scheduler run``).
    schedules: tuple[Schedule, ...] = ()
    #: Where the group came from (file and positions); not part of equality.
    source: SourceMap | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.steps, tuple):
            object.__setattr__(self, "steps", tuple(self.steps))
        object.__setattr__(self, "tags", _names(self.tags))
        object.__setattr__(self, "defaults", freeze_map(self.defaults))
        if not isinstance(self.schedules, tuple):
            object.__setattr__(self, "schedules", tuple(self.schedules))

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
        depends_on: str | Iterable[str] = (),
        params: Mapping[str, Any] | None = None,
        description: str | None = None,
        retries: int | None = None,
        retry_delay_seconds: float | None = None,
        timeout_seconds: float | None = None,
        pool: str | None = None,
        queue: str | None = None,
    ) -> PipelineGroup:
        """A copy of this group with one more step (groups are immutable: chain the calls).

        See :meth:`add_group` for a step that calls a group."""
        step = PipelineStep(
            name=name,
            pipeline=pipeline,
            params=freeze_map(params),
            depends_on=_names(depends_on),
            description=description,
            retries=retries,
            retry_delay_seconds=retry_delay_seconds,
            timeout_seconds=timeout_seconds,
            pool=pool,
            queue=queue,
        )
        return replace(self, steps=(*self.steps, step), source=None)

    def add_schedule(
        self,
        name: str,
        cron: str,
        *,
        timezone: str = "UTC",
        params: Mapping[str, Any] | None = None,
        catchup: bool = False,
        max_catchup: int = MAX_CATCHUP,
        enabled: bool = True,
    ) -> PipelineGroup:
        """A copy of this group with one more schedule (``spec.schedules``)."""
        schedule = Schedule(name, cron, timezone, freeze_map(params), catchup, max_catchup, enabled)
        return replace(self, schedules=(*self.schedules, schedule), source=None)

    def add_group(
        self,
        name: str,
        group: str,
        *,
        depends_on: str | Iterable[str] = (),
        params: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> PipelineGroup:
        """A copy of this group with one more step that calls the group named ``group``
        (``params`` become the nested group's run params)."""
        step = PipelineStep(
            name=name, params=freeze_map(params), depends_on=_names(depends_on), description=description, group=group
        )
        return replace(self, steps=(*self.steps, step), source=None)

    def with_policy(self, **changes: Any) -> PipelineGroup:
        """A copy with policy fields changed (``execution="parallel"`` or an enum)."""
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
            spec["defaults"] = plain(self.defaults)
        spec["pipelines"] = [s.to_dict() for s in self.steps]
        if self.policy != ExecutionPolicy():
            spec["policy"] = self.policy.to_dict()
        if self.schedules:
            spec["schedules"] = [plain(s.to_dict()) for s in self.schedules]
        return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": spec}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None) -> PipelineGroup:
        """Read a ``spine.io/v1`` document; raises :class:`InvalidGroupSpecError` with every problem."""
        from spine.orchestration.spec import group_from_document

        return group_from_document(data, file=file)


def _names(value: str | Iterable[str]) -> tuple[str, ...]:
    """Names as a tuple: a list from YAML or a tuple from Python; a lone string is one name
    (in Python, ``depends_on="ingest"`` can only mean that; the YAML format refuses it)."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, str):
        return (value,)
    return tuple(value)

