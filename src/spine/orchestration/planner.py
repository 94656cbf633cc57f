"""``PlanResolver.resolve(group, params) -> ExecutionPlan``: pure, deterministic, total.

Resolution reports **every** problem at once and raises one exception carrying all of
them, its class chosen by the most fundamental problem (cycles, then missing
dependencies, then anything else):

1. field checks (groups built in Python; YAML groups were checked when loaded);
2. the graph (:mod:`spine.orchestration.graph`): duplicates, self and missing
   dependencies, cycles; order, generations, critical path;
3. pipelines (when a registry is given): unknown pipelines with did-you-mean, step params
   that break a ParamDef;
4. params: merge the layers, render templates, check the rendered values.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from spine.core.errors import (
    CycleDetectedError,
    DecodeError,
    DependencyError,
    GroupError,
    InvalidGroupSpecError,
    PlanResolutionError,
)
from spine.core.findings import Code, Finding, Severity, Stage
from spine.core.frozen import freeze, freeze_map, thaw
from spine.core.ids import new_batch_id
from spine.core.jsonable import Record, decode, plain
from spine.core.suggest import Suggester, did_you_mean
from spine.framework.registry import PipelineRegistry, PipelineSpec
from spine.orchestration.graph import GraphAnalysis, analyze
from spine.core.limits import MAX_GROUP_NESTING
from spine.orchestration.models import PipelineGroup, PipelineStep
from spine.orchestration.nesting import GroupSource, NestedIn, check_nesting, has_nesting
from spine.orchestration.params import (
    ParamLayer,
    ParamSource,
    RunParams,
    TemplateProblem,
    has_template,
    is_template,
    render_value,
    template_problem,
    templates_in,
)
from spine.orchestration.spec import check_fields
from spine.yamlio.reader import gc_paused


@dataclass(frozen=True, slots=True)
class PlannedStep(Record):
    """One step of a plan, with its params resolved and its run keys made effective.

    Everything a worker needs to run the step, deep-frozen: hashable, picklable, and
    ``PlannedStep.from_dict(step.to_dict()) == step``.
    """

    name: str
    pipeline: str
    params: Mapping[str, Any]
    depends_on: tuple[str, ...]
    sequence_order: int
    generation: int
    #: For each param, the layer it came from and its template.
    param_sources: Mapping[str, ParamSource] = field(default_factory=dict)
    description: str | None = None
    #: Retries after a failure: the step's own value, else the policy's.
    retries: int = 0
    #: Seconds before the first retry: the step's own value, else the policy's.
    retry_delay_seconds: float = 0
    #: Seconds one attempt may take (``None``: no limit): the step's own value, else the policy's.
    timeout_seconds: float | None = None
    #: The pool the step draws a slot from (``None``: none): the step's own, else the policy's.
    pool: str | None = None
    #: Where a step of a nested group came from, outermost first (empty at the top level).
    nesting: tuple[NestedIn, ...] = ()
    #: The Celery queue the step is sent to (``None``: the default): the step's own, else the policy's.
    queue: str | None = None

    _omit_defaults = ("nesting", "queue")

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", freeze_map(self.params))
        object.__setattr__(self, "param_sources", freeze_map(self.param_sources))
        if not isinstance(self.depends_on, tuple):
            object.__setattr__(self, "depends_on", tuple(self.depends_on))
        if not isinstance(self.nesting, tuple):
            object.__setattr__(self, "nesting", tuple(self.nesting))

    @property
    def nested_in(self) -> NestedIn | None:
        """The innermost nested group this step came from (``None`` at the top level)."""
        return self.nesting[-1] if self.nesting else None


#: Keys of a plan's dict read apart (``definition``, ``nested_definitions``), derived from them, or added by the CLI.
_DERIVED_KEYS = ("group", "policy", "definition", "nested_definitions", "pipelines_checked")


@dataclass(frozen=True)
class ExecutionPlan:
    """A resolved group: steps in order with their params, generations, critical path.

    Deep-frozen, hashable and picklable (``pickle.loads(pickle.dumps(plan)) == plan``), so
    a process pool or a Dask worker can receive it. ``to_dict`` carries the group's whole
    document under ``definition``, so ``ExecutionPlan.from_dict(plan.to_dict()) == plan``.
    """

    group: PipelineGroup
    batch_id: str
    #: The run params the plan was resolved with.
    params: Mapping[str, Any]
    steps: tuple[PlannedStep, ...]
    generations: tuple[tuple[str, ...], ...]
    critical_path: tuple[str, ...]
    #: Warnings found while resolving (errors raise instead).
    warnings: tuple[Finding, ...] = ()
    #: The groups that ``group:`` steps called, as they were when the plan was resolved
    #: (each once, in the order first expanded; empty without nesting). A recorded run
    #: keeps them, so a resume plans the same steps however the groups change later.
    nested_groups: tuple[PipelineGroup, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", freeze_map(self.params))
        object.__setattr__(self, "steps", tuple(self.steps))
        object.__setattr__(self, "generations", tuple(tuple(g) for g in self.generations))
        object.__setattr__(self, "critical_path", tuple(self.critical_path))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "nested_groups", tuple(self.nested_groups))

    @cached_property
    def graph(self) -> Any:
        """A fresh ``networkx.DiGraph`` of the plan (edge ``dep -> step``)."""
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from(s.name for s in self.steps)
        g.add_edges_from((d, s.name) for s in self.steps for d in s.depends_on)
        return g

    def __getstate__(self) -> dict[str, Any]:
        # the cached graph is rebuilt on demand, not shipped to another process
        return {k: v for k, v in self.__dict__.items() if k != "graph"}

    def step(self, name: str) -> PlannedStep:
        for s in self.steps:
            if s.name == name:
                return s
        self.group.step(name)  # raises StepNotFoundError with a suggestion
        raise AssertionError("unreachable")

    @property
    def order(self) -> list[str]:
        return [s.name for s in self.steps]

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain data: a summary of the group, the run params, the policy, the
        steps, generations, critical path, warnings, and the group's document (``definition``);
        a composition's also has the documents of the groups it nests (``nested_definitions``)."""
        g = self.group
        data = {
            "group": {"name": g.name, "version": g.version, "domain": g.domain},
            "batch_id": self.batch_id,
            "params": plain(self.params),
            "policy": g.policy.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
            "generations": plain(self.generations),
            "critical_path": plain(self.critical_path),
            "warnings": [w.to_dict() for w in self.warnings],
            "definition": g.to_dict(),
        }
        if self.nested_groups:
            data["nested_definitions"] = [n.to_dict() for n in self.nested_groups]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExecutionPlan:
        """The plan a :meth:`to_dict` dict (or ``spine group plan --json``) describes.

        The group is read from ``definition`` (and nested groups from ``nested_definitions``)
        through the format's validator (raising :class:`~spine.core.errors.InvalidGroupSpecError`);
        ``group`` and ``policy`` are derived from it and ignored. Anything else wrong raises
        :class:`DecodeError`.
        """
        if not isinstance(data, Mapping) or "definition" not in data:
            raise DecodeError("ExecutionPlan.from_dict: missing key 'definition' (the group's spine.io/v1 document)")
        group = PipelineGroup.from_dict(data["definition"])
        nested = data.get("nested_definitions") or ()
        if not isinstance(nested, (list, tuple)):
            raise DecodeError(f"ExecutionPlan.from_dict: 'nested_definitions' must be a list of spine.io/v1 documents, got {type(nested).__name__}")
        fields = {k: v for k, v in data.items() if k not in _DERIVED_KEYS}
        return decode(cls, {**fields, "group": group, "nested_groups": tuple(PipelineGroup.from_dict(d) for d in nested)})


def check_pipelines(group: PipelineGroup, registry: PipelineRegistry) -> list[Finding]:
    """Unknown pipelines and step params that break a ParamDef, before any run params.

    Template values are checked for syntax and names only (their values need run
    params). A required param that no default or step gives is a *warning*: it must
    come from the run params.
    """
    src = group.source
    file = src.file if src else None
    findings: list[Finding] = []
    pipelines = Suggester(registry.names())  # one pool for every step: asked once per unknown name
    for i, step in enumerate(group.steps):
        if step.group is not None:
            continue  # a group step's params are the nested group's run params
        spec = registry.get(step.pipeline)
        if spec is None:
            pos = src.of_step(i, "pipeline") if src else (None, None)
            findings.append(
                Finding(
                    Code.UNKNOWN_PIPELINE,
                    f"step {step.name!r} calls pipeline {step.pipeline!r}, which is not registered"
                    f"{pipelines.did_you_mean(step.pipeline)} (see `spine pipeline list`)",
                    file=file, line=pos[0], column=pos[1], group=group.name, step=step.name,
                )
            )
            continue
        defs = {d.name: d for d in spec.params}
        for key, value in step.params.items():
            pos = src.of_step(i, "params") if src else (None, None)
            d = defs.get(key)
            if d is None:
                if not spec.allow_extra_params:
                    findings.append(
                        Finding(
                            Code.UNKNOWN_PARAM,
                            f"step {step.name!r}: pipeline {spec.name!r} has no param {key!r}"
                            f"{did_you_mean(str(key), defs)} (accepted: {', '.join(defs) or 'none'})",
                            file=file, line=pos[0], column=pos[1], group=group.name, step=step.name,
                        )
                    )
                continue
            if has_template(value):
                continue
            why = d.problem(value)
            if why:
                findings.append(
                    Finding(Code.INVALID_PARAM, f"step {step.name!r}: {why}", file=file, line=pos[0], column=pos[1], group=group.name, step=step.name)
                )
        for d in spec.params:
            if d.required and d.name not in step.params and d.name not in group.defaults:
                pos = src.of_step(i) if src else (None, None)
                findings.append(
                    Finding(
                        Code.REQUIRED_PARAM_FROM_RUN,
                        f"step {step.name!r}: pipeline {spec.name!r} requires param {d.name!r}, which no "
                        f"default or step param gives; it must be passed at run time (--param {d.name}=…)",
                        severity=Severity.WARNING,
                        file=file, line=pos[0], column=pos[1], group=group.name, step=step.name,
                    )
                )
    return findings


def check_templates(group: PipelineGroup) -> list[Finding]:
    """Template syntax errors and unknown names in defaults and step params."""
    src = group.source
    file = src.file if src else None
    findings: list[Finding] = []
    seen: dict[str, str | None] = {}

    def scan(value: Any, where: Callable[..., str], pos: Callable[..., tuple[int | None, int | None]], step: str | None) -> None:
        # Positions and labels are computed only for a finding: most values hold no template.
        for v in templates_in(value):
            if v not in seen:
                seen[v] = template_problem(v)
            problem = seen[v]
            if problem:
                line, column = pos()
                findings.append(Finding(Code.TEMPLATE_ERROR, f"{where()}: {problem}", file=file, line=line, column=column, group=group.name, step=step))

    nowhere = (None, None)
    for key, value in group.defaults.items():
        scan(value, lambda key=key: f"default {key!r}", lambda key=key: src.of_field(f"spec.defaults.{key}") if src else nowhere, None)
    for i, step in enumerate(group.steps):
        for key, value in step.params.items():
            if not isinstance(value, (str, list, tuple, Mapping)):  # params are frozen: lists are tuples
                continue
            scan(
                value,
                lambda step=step, key=key: f"step {step.name!r} param {key!r}",
                lambda i=i: src.of_step(i, "params") if src else nowhere,
                step.name,
            )
    return findings


def validate_group(
    group: PipelineGroup, registry: PipelineRegistry | None = None, *, lint: bool = False, groups: Any = None
) -> list[Finding]:
    """Every finding for ``group`` without resolving params: fields, graph, templates,
    pipelines, nested groups (looked up in ``groups``: a :class:`GroupSource`, a registry, a
    mapping, groups; ``None``: the default group registry) — and with ``lint`` the
    warnings of :mod:`spine.lint.rules`."""
    with gc_paused():
        return _validate_group(group, registry, lint, groups)


def check_group(group: PipelineGroup, registry: PipelineRegistry | None = None, *, groups: Any = None) -> list[Finding]:
    """What ``spine group validate`` reports for one group: every error and lint warning."""
    return validate_group(group, registry, lint=True, groups=groups)


def _validate_group(group: PipelineGroup, registry: PipelineRegistry | None, lint: bool = False, groups: Any = None) -> list[Finding]:
    findings: list[Finding] = []
    if group.source is None:
        findings.extend(check_fields(group))
    analysis = analyze(group)
    findings.extend(analysis.findings)
    if lint:
        from spine.lint.rules import lint_group

        findings.extend(lint_group(group, registry, analysis))
    findings.extend(check_templates(group))
    if registry is not None:
        findings.extend(check_pipelines(group, registry))
    if has_nesting(group):
        findings.extend(check_nesting(group, GroupSource.of(groups)))
    return findings


def raise_for(findings: list[Finding], analysis: GraphAnalysis | None = None) -> None:
    """Raise the most fitting :class:`GroupError` subclass carrying every error finding."""
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if not errors:
        return
    codes = {f.code for f in errors}
    if Code.CYCLE in codes or Code.GROUP_CYCLE in codes:
        raise CycleDetectedError(findings=errors, cycles=analysis.cycles if analysis else ())
    if Code.MISSING_DEPENDENCY in codes or Code.SELF_DEPENDENCY in codes:
        raise DependencyError(findings=errors, missing=analysis.missing if analysis else ())
    if codes <= _SPEC_CODES:
        raise InvalidGroupSpecError(findings=errors)
    raise PlanResolutionError(findings=errors)


_log = logging.getLogger(__name__)

#: Codes raised as InvalidGroupSpecError when nothing worse is found: the format's, and duplicate steps.
_SPEC_CODES = Code.of_stage(Stage.FORMAT) | {Code.DUPLICATE_STEP}


class PlanResolver:
    """Resolves groups into :class:`ExecutionPlan`s, checking pipelines when it has a registry.

    Steps that call a group (``group:``) are expanded inline; the nested groups are looked
    up in ``groups`` (a :class:`~spine.orchestration.nesting.GroupSource`, a
    :class:`GroupRegistry`, a mapping or some groups; ``None``: the default group registry).
    """

    def __init__(self, registry: PipelineRegistry | None = None, groups: Any = None, *, max_nesting: int = MAX_GROUP_NESTING) -> None:
        self.registry = registry
        self.groups = GroupSource.of(groups)
        self.max_nesting = max_nesting

    def validate(self, group: PipelineGroup) -> list[Finding]:
        return validate_group(group, self.registry, groups=self.groups)

    def resolve(
        self,
        group: PipelineGroup,
        params: Mapping[str, Any] | None = None,
        *,
        batch_id: str | None = None,
    ) -> ExecutionPlan:
        """The plan for ``group`` run with ``params``; raises a :class:`GroupError` subclass."""
        started = time.perf_counter()
        with gc_paused():
            plan = self._resolve(group, params, batch_id)
        took = time.perf_counter() - started
        _log.info(
            "resolved %s: %d step(s), %d generation(s) in %.3f s",
            group.name, len(plan.steps), len(plan.generations), took,
            extra={"group": group.name, "steps": len(plan.steps), "batch_id": plan.batch_id, "seconds": round(took, 3)},
        )
        return plan

    def _resolve(self, group: PipelineGroup, params: Mapping[str, Any] | None, batch_id: str | None) -> ExecutionPlan:
        run_params = dict(params or {})
        batch = batch_id or new_batch_id(f"group_{group.name}")
        nested_groups: dict[str, PipelineGroup] = {}
        planned, analysis, warnings = self._expand(group, run_params, batch, "", (), nested_groups)
        generations: Any = analysis.generations
        critical: Any = analysis.critical_path
        if has_nesting(group):
            # The expanded steps are in a topological order already (the outer order with each
            # nested group's order inlined), which the stable sort keeps; generations and the
            # critical path are those of the expanded graph.
            flat = analyze(PipelineGroup(name=group.name, steps=tuple(PipelineStep(s.name, "-", depends_on=s.depends_on) for s in planned)))
            planned = [replace(s, sequence_order=i, generation=flat.generation[s.name]) for i, s in enumerate(planned)]
            generations, critical = flat.generations, flat.critical_path
        return ExecutionPlan(
            group=group,
            batch_id=batch,
            params=freeze_map(run_params),
            steps=tuple(planned),
            generations=tuple(tuple(g) for g in generations),
            critical_path=tuple(critical),
            warnings=tuple(warnings),
            nested_groups=tuple(nested_groups.values()),
        )

    def _expand(
        self,
        group: PipelineGroup,
        run_params: dict[str, Any],
        batch: str,
        prefix: str,
        nesting: tuple[NestedIn, ...],
        used: dict[str, PipelineGroup],
    ) -> tuple[list[PlannedStep], GraphAnalysis, list[Finding]]:
        """``group``'s planned steps, named ``prefix + step``, nested groups expanded inline
        (and added to ``used``, by name)."""
        findings: list[Finding] = []
        if group.source is None:  # YAML groups were field-checked when loaded
            findings.extend(check_fields(group))
        analysis = analyze(group)
        findings.extend(analysis.findings)
        findings.extend(check_templates(group))
        registry = self.registry
        if registry is not None:
            findings.extend(f for f in check_pipelines(group, registry) if f.code != Code.REQUIRED_PARAM_FROM_RUN)
        nested = has_nesting(group)
        if nested:
            findings.extend(check_nesting(group, self.groups, max_depth=self.max_nesting - len(nesting)))
        raise_for(findings, analysis)

        template_params = RunParams(thaw(run_params))
        context_group = {"name": group.name, "version": group.version, "domain": group.domain, "tags": list(group.tags)}
        index = {s.name: i for i, s in enumerate(group.steps)}
        src = group.source
        file = src.file if src else None
        policy = group.policy
        planned: list[PlannedStep] = []
        errors: list[Finding] = []
        warnings = [f for f in findings if f.severity is Severity.WARNING]
        #: A group step's last steps: what its dependents wait for.
        leaves: dict[str, tuple[str, ...]] = {}

        def deps_of(step: PipelineStep) -> tuple[str, ...]:
            if not nested:
                return tuple(step.depends_on) if not prefix else tuple(prefix + d for d in step.depends_on)
            out: list[str] = []
            for d in step.depends_on:
                out.extend(leaves.get(d, (prefix + d,)))
            return tuple(dict.fromkeys(out))

        for seq, name in enumerate(analysis.order):
            i = index[name]
            step = group.steps[i]
            full = prefix + step.name
            spec = registry.get(step.pipeline) if registry is not None and step.group is None else None
            if step.group is not None:
                merged, sources = dict(step.params), {k: ParamSource(ParamLayer.STEP, v if is_template(v) else None) for k, v in step.params.items()}
            else:
                merged, sources = _merge(group.defaults, run_params, step.params, spec)
            context = {
                "params": template_params,
                "group": context_group,
                "step": {"name": full, "pipeline": step.pipeline, "group": step.group},
                "batch_id": batch,
            }
            final: dict[str, Any] = {}
            failed = False
            for key, value in merged.items():
                try:
                    final[key] = render_value(value, context)
                except TemplateProblem as exc:
                    failed = True
                    pos = _param_pos(src, i, key, sources[key].layer)
                    errors.append(
                        Finding(
                            exc.code,
                            f"step {full!r}, param {key!r} (from {sources[key].layer.value}): {exc}",
                            file=file, line=pos[0], column=pos[1], group=group.name, step=full,
                        )
                    )
            if step.group is not None:
                if not failed:
                    self._expand_step(group, step, full, final, batch, nesting, deps_of(step), planned, leaves, errors, warnings, used)
                continue
            if spec is not None and not failed:  # a failed template is reported once, above
                for problem in spec.check(final):
                    pos = src.of_step(i) if src else (None, None)
                    errors.append(
                        Finding(Code.INVALID_PARAM, f"step {full!r}: {problem}", file=file, line=pos[0], column=pos[1], group=group.name, step=full)
                    )
            planned.append(
                PlannedStep(
                    name=full,
                    pipeline=step.pipeline,
                    params=freeze_map(final),
                    depends_on=deps_of(step),
                    sequence_order=seq,
                    generation=analysis.generation[name],
                    param_sources=freeze_map(sources),
                    description=step.description,
                    retries=policy.retries if step.retries is None else step.retries,
                    retry_delay_seconds=policy.retry_delay_seconds if step.retry_delay_seconds is None else step.retry_delay_seconds,
                    timeout_seconds=policy.timeout_seconds if step.timeout_seconds is None else step.timeout_seconds,
                    pool=policy.pool if step.pool is None else step.pool,
                    nesting=nesting,
                    queue=policy.queue if step.queue is None else step.queue,
                )
            )
        if nested and not errors:
            errors.extend(_clashes(group, planned, prefix, len(nesting)))
        if errors:
            raise_for(errors)
        return planned, analysis, warnings

    def _expand_step(
        self,
        group: PipelineGroup,
        step: PipelineStep,
        full: str,
        run_params: dict[str, Any],
        batch: str,
        nesting: tuple[NestedIn, ...],
        outer_deps: tuple[str, ...],
        planned: list[PlannedStep],
        leaves: dict[str, tuple[str, ...]],
        errors: list[Finding],
        warnings: list[Finding],
        used: dict[str, PipelineGroup],
    ) -> None:
        """Plan the group ``step`` calls, inline: its first steps wait for ``outer_deps``."""
        inner = self.groups.get(step.group or "")
        if inner is None:  # check_nesting reported it
            return
        used.setdefault(inner.name, inner)
        level = NestedIn(full, inner.name, inner.version)
        try:
            sub, _, more = self._expand(inner, run_params, batch, full + "/", (*nesting, level), used)
        except GroupError as exc:
            errors.extend(_in_nested(f, full, inner, group) for f in exc.findings)
            return
        warnings.extend(_in_nested(f, full, inner, group) for f in more)
        depended = {d for s in sub for d in s.depends_on}
        for s in sub:
            planned.append(s if s.depends_on else replace(s, depends_on=outer_deps))
        leaves[step.name] = tuple(s.name for s in sub if s.name not in depended)


def _in_nested(finding: Finding, full: str, inner: PipelineGroup, outer: PipelineGroup) -> Finding:
    """A nested group's finding, saying which step of which group called it."""
    return replace(finding, message=f"in group {inner.name!r}, called by step {full!r} of {outer.name!r}: {finding.message}")


def _clashes(group: PipelineGroup, planned: list[PlannedStep], prefix: str, depth: int) -> list[Finding]:
    """``nested-name-clash``: an expanded name that is also another step's name."""
    made: dict[str, PlannedStep] = {}
    out: list[Finding] = []
    src = group.source
    index = {s.name: i for i, s in enumerate(group.steps)}
    for s in planned:
        other = made.get(s.name)
        if other is None:
            made[s.name] = s
            continue
        # the step of this group that made the second name: itself, or the group step it expands
        local = (s.nesting[depth].step if len(s.nesting) > depth else s.name)[len(prefix):]
        i = index.get(local)
        pos = src.of_step(i, "name") if src is not None and i is not None else (None, None)
        out.append(
            Finding(
                Code.NESTED_NAME_CLASH,
                f"step name {s.name!r} is made twice once nested groups are expanded (nested steps are named "
                f"<step>/<inner step>); rename step {local!r} or the step it clashes with",
                file=src.file if src else None, line=pos[0], column=pos[1], group=group.name, step=local,
            )
        )
    return out


def _merge(
    defaults: Mapping[str, Any],
    run: Mapping[str, Any],
    step: Mapping[str, Any],
    spec: PipelineSpec | None,
) -> tuple[dict[str, Any], dict[str, ParamSource]]:
    merged: dict[str, Any] = {}
    sources: dict[str, ParamSource] = {}
    accepts = None if spec is None or spec.allow_extra_params else {d.name for d in spec.params}
    if spec is not None:
        for d in spec.params:
            if not d.required and d.default is not None:
                merged[d.name] = freeze(d.default)  # frozen: plans share it safely
                sources[d.name] = ParamSource(ParamLayer.PIPELINE)
    for layer, values in ((ParamLayer.DEFAULT, defaults), (ParamLayer.RUN, run)):
        for key, value in values.items():
            if accepts is not None and key not in accepts:
                continue  # offered, not taken: this pipeline does not declare the key
            merged[key] = value
            sources[key] = ParamSource(layer, value if is_template(value) else None)
    for key, value in step.items():
        merged[key] = value
        sources[key] = ParamSource(ParamLayer.STEP, value if is_template(value) else None)
    return merged, sources


def _param_pos(src: Any, i: int, key: str, layer: ParamLayer) -> tuple[int | None, int | None]:
    if src is None:
        return (None, None)
    if layer is ParamLayer.DEFAULT:
        return src.of_field(f"spec.defaults.{key}")
    return src.of_step(i, "params" if layer is ParamLayer.STEP else None)


__all__ = [
    "ExecutionPlan",
    "GroupError",
    "PlanResolver",
    "PlannedStep",
    "check_group",
    "check_pipelines",
    "check_templates",
    "raise_for",
    "validate_group",
]
