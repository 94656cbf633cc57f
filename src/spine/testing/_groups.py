"""Groups and group documents: valid ones, and invalid ones that know their findings."""

from __future__ import annotations

import copy
import math
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import networkx as nx
import yaml
from hypothesis import strategies as st

from spine.framework.registry import PipelineRegistry
from spine.orchestration.loader import group_to_yaml
from spine.orchestration.models import (
    API_VERSION,
    KIND,
    ExecutionMode,
    ExecutionPolicy,
    FailurePolicy,
    PipelineGroup,
    PipelineStep,
)
from spine.testing._checks import (
    check_bool,
    check_choice,
    check_int,
    check_range,
    check_strategy,
)
from spine.testing._dags import dag_indices, declaration_order, unique_names
from spine.testing._names import (
    group_names,
    invalid_group_names,
    invalid_step_names,
    pipeline_names,
    schema_blind_step_names,
    step_names,
)
from spine.testing._values import identifiers, param_keys, param_maps, param_values, plain_strings

#: Attribute names of ``dict``: ``{{ params.items }}`` would give the method, not the
#: run param, so generated templates use ``params['items']`` for these.
_DICT_ATTRS = frozenset(a for a in dir(dict) if not a.startswith("_"))


@dataclass(frozen=True, slots=True)
class ExpectedFindings:
    """What checking an invalid group or document must report.

    ``codes`` is the exact set of finding codes (errors) that loading and validating it
    produces; ``cycles`` the node sets of its non-trivial strongly connected components
    (each must be reported as one closed cycle path); ``missing`` the exact
    ``(step, missing dependency)`` pairs.
    """

    #: What was broken, e.g. ``"cycle"``, ``"missing-dependency"``, ``"bad-max-concurrency"``.
    kind: str
    #: The finding codes that must be reported, and no others.
    codes: frozenset[str]
    #: Node sets of the non-trivial strongly connected components.
    cycles: tuple[frozenset[str], ...] = ()
    #: Every ``(step, missing dependency)`` pair.
    missing: frozenset[tuple[str, str]] = frozenset()
    #: Whether the shipped JSON Schema rejects the document too.
    schema_detectable: bool = False

    @property
    def cycle_nodes(self) -> frozenset[str]:
        """Every step caught in a cycle."""
        return frozenset().union(*self.cycles) if self.cycles else frozenset()


# -- building blocks ------------------------------------------------------------------------


@cache
def template_strings() -> st.SearchStrategy[str]:
    """Jinja2 templates that render with the planner's context, given run params for the
    ``params.<name>`` they use (see :func:`spine.testing.run_params`)."""
    key = identifiers(8)
    attr_key = key.filter(lambda k: k not in _DICT_ATTRS)
    fixed = st.sampled_from(
        [
            "{{ group.name }}",
            "{{ step.name }}",
            "{{ step.pipeline }}",
            "{{ batch_id }}",
            "{{ group.version }}",
            "{{ group.tags }}",
            "run-{{ batch_id }}-{{ step.name | length }}",
        ]
    )
    return st.one_of(
        fixed,
        attr_key.map(lambda k: "{{ params.%s }}" % k),
        attr_key.map(lambda k: "{{params.%s}}" % k),
        key.map(lambda k: "{{ params['%s'] }}" % k),
        attr_key.map(lambda k: "%s={{ params.%s }};" % (k, k)),
        attr_key.map(lambda k: "{%% if params.%s %%}yes{%% else %%}no{%% endif %%}" % k),
    )


@cache
def policies() -> st.SearchStrategy[ExecutionPolicy]:
    """Valid execution policies; shrinks towards the default policy."""
    timeout = st.one_of(
        st.none(),
        st.integers(1, 24 * 60),
        st.floats(min_value=0, exclude_min=True, allow_nan=False, allow_infinity=False),
    )
    return st.one_of(
        st.just(ExecutionPolicy()),
        st.builds(
            ExecutionPolicy,
            execution=st.sampled_from(ExecutionMode),
            max_concurrency=st.integers(1, 64),
            on_failure=st.sampled_from(FailurePolicy),
            timeout_minutes=timeout,
            retries=_retries(),
            retry_delay_seconds=_retry_delays(),
            timeout_seconds=_step_timeouts() | st.none(),
        ),
    )


@cache
def _retries() -> st.SearchStrategy[int]:
    return st.integers(0, 10)


@cache
def _retry_delays() -> st.SearchStrategy[float]:
    return st.one_of(st.just(0), st.integers(1, 3600), st.floats(min_value=0, max_value=3600, allow_nan=False))


@cache
def _step_timeouts() -> st.SearchStrategy[float]:
    return st.one_of(st.integers(1, 86_400), st.floats(min_value=0, exclude_min=True, allow_nan=False, allow_infinity=False))


@cache
def _step_run_keys() -> st.SearchStrategy[dict[str, Any]]:
    """A step's own retries, retry delay and timeout: usually unset (the policy's apply)."""
    return st.fixed_dictionaries(
        {},
        optional={
            "retries": _retries(),
            "retry_delay_seconds": _retry_delays(),
            "timeout_seconds": _step_timeouts(),
        },
    )


@cache
def _values(templates: bool) -> st.SearchStrategy[Any]:
    if not templates:
        return param_values()
    return st.one_of(param_values(), template_strings())


@cache
def _params(templates: bool, max_size: int = 3) -> st.SearchStrategy[dict[str, Any]]:
    if not templates:
        return param_maps(max_size=max_size)
    return st.dictionaries(param_keys(), _values(True), max_size=max_size)


_VERSIONS = st.integers(min_value=1)


@cache
def _optional_text(max_size: int) -> st.SearchStrategy[str | None]:
    return st.none() | plain_strings(max_size)


@cache
def _tags() -> st.SearchStrategy[list[str]]:
    return st.lists(plain_strings(12), max_size=3)


@cache
def _optional_group_names() -> st.SearchStrategy[str | None]:
    return st.none() | group_names()


@st.composite
def _assemble(
    draw: st.DrawFn,
    labels: list[str],
    deps: list[list[int]],
    order: list[int],
    pipelines: st.SearchStrategy[str],
    templates: bool,
    registry: PipelineRegistry | None,
) -> PipelineGroup:
    steps = []
    from spine.testing._params import step_params_for

    for i in order:
        pipeline = draw(pipelines)
        if registry is not None:
            params = draw(step_params_for(registry, pipeline, templates=templates))
        else:
            params = draw(_params(templates))
        steps.append(
            PipelineStep(
                name=labels[i],
                pipeline=pipeline,
                params=params,
                depends_on=tuple(labels[j] for j in deps[i]),
                description=draw(_optional_text(40)),
                **draw(_step_run_keys()),
            )
        )
    # Group defaults are offered to every step; with a registry a step only takes the keys
    # its pipeline declares, so keep defaults to keys no registered pipeline declares.
    if registry is not None:
        declared = {d.name for spec in registry for d in spec.params}
        defaults = draw(
            st.dictionaries(
                param_keys().filter(lambda k: k not in declared), _values(False), max_size=2
            )
        )
    else:
        defaults = draw(_params(templates))
    return PipelineGroup(
        name=draw(group_names()),
        steps=tuple(steps),
        version=draw(_VERSIONS),
        domain=draw(_optional_group_names()),
        description=draw(_optional_text(60)),
        tags=tuple(draw(_tags())),
        defaults=defaults,
        policy=draw(policies()),
    )


@st.composite
def _bare(draw: st.DrawFn, labels: list[str], deps: list[list[int]], order: list[int]) -> PipelineGroup:
    """A group with only names, pipelines and dependencies: the graph is the point."""
    pipelines = pipeline_names()
    steps = tuple(
        PipelineStep(labels[i], draw(pipelines), depends_on=tuple(labels[j] for j in deps[i])) for i in order
    )
    return PipelineGroup(name=draw(group_names()), steps=steps)


def _check_common(min_steps: int, max_steps: int, max_dependencies: int, names: Any, shuffle: bool) -> None:
    check_int("min_steps", min_steps)
    check_int("max_steps", max_steps)
    check_range("min_steps", min_steps, "max_steps", max_steps)
    check_int("max_dependencies", max_dependencies)
    if names is not None:
        check_strategy("names", names)
    check_bool("shuffle", shuffle)


# -- valid groups ---------------------------------------------------------------------------


def groups(
    min_steps: int = 1,
    max_steps: int = 12,
    max_dependencies: int = 3,
    *,
    names: st.SearchStrategy[str] | None = None,
    pipelines: st.SearchStrategy[str] | None = None,
    shuffle: bool = True,
    templates: bool = False,
    registry: PipelineRegistry | None = None,
) -> st.SearchStrategy[PipelineGroup]:
    """Valid :class:`~spine.orchestration.PipelineGroup` models that resolve into a plan.

    The steps form a DAG drawn by :func:`spine.testing.dags` (declared in a shuffled
    order unless ``shuffle=False``); step names come from ``names`` (default
    :func:`spine.testing.step_names`, awkward names included), pipelines from
    ``pipelines`` (default dotted names). Group names, versions, domains, descriptions,
    tags, policies, group defaults and step params are drawn too; param values are YAML
    scalars (null, bool, int, float, text, dates) and lists and mappings of them.

    With ``templates=True`` some param values are Jinja2 templates (``"{{ group.name }}"``,
    ``"{{ params.limit }}"``, ``"{% if params.x %}…"``); resolve such a group with run
    params from :func:`spine.testing.run_params`, which supplies every ``params.<name>``
    its templates use. With a ``registry``, steps call its pipelines and their params fit
    the pipelines' ``ParamDef``\\ s.

    How it shrinks: like :func:`dags` (fewer steps, fewer edges, simpler names), with
    empty params and defaults, the default policy, and no optional metadata.

    :param min_steps: at least this many steps (≥ 1: a group needs one).
    :param max_steps: at most this many steps.
    :param max_dependencies: at most this many dependencies per step.
    :param names: a strategy for step names (drawn unique).
    :param pipelines: a strategy for the pipelines steps call.
    :param shuffle: declare the steps in a drawn order instead of a topological one.
    :param templates: let param values be Jinja2 templates.
    :param registry: a ``PipelineRegistry`` whose pipelines the steps call.
    """
    _check_common(min_steps, max_steps, max_dependencies, names, shuffle)
    check_int("min_steps", min_steps, min_value=1)
    check_bool("templates", templates)
    if pipelines is not None:
        check_strategy("pipelines", pipelines)
    if registry is not None:
        _check_registry(registry)
        if pipelines is None:
            pipelines = st.sampled_from(registry.names())
    return _groups(
        min_steps,
        max_steps,
        max_dependencies,
        names if names is not None else step_names(),
        pipelines if pipelines is not None else pipeline_names(),
        shuffle,
        templates,
        registry,
    )


def _check_registry(registry: Any) -> None:
    from hypothesis.errors import InvalidArgument

    if not isinstance(registry, PipelineRegistry):
        raise InvalidArgument(f"registry must be a spine.framework.PipelineRegistry, got {type(registry).__name__}")
    if len(registry) == 0:
        raise InvalidArgument("registry has no pipelines: register at least one, or pass registry=None")


@st.composite
def _groups(
    draw: st.DrawFn,
    min_steps: int,
    max_steps: int,
    max_dependencies: int,
    names: st.SearchStrategy[str],
    pipelines: st.SearchStrategy[str],
    shuffle: bool,
    templates: bool,
    registry: PipelineRegistry | None,
) -> PipelineGroup:
    deps = draw(dag_indices(min_steps, max_steps, max_dependencies))
    labels = draw(unique_names(len(deps), names))
    order = draw(declaration_order(len(deps), shuffle))
    return draw(_assemble(labels, deps, order, pipelines, templates, registry))


Format = Literal["dict", "yaml"]


def group_documents(
    min_steps: int = 1,
    max_steps: int = 12,
    max_dependencies: int = 3,
    *,
    names: st.SearchStrategy[str] | None = None,
    format: Format | None = None,
    templates: bool = False,
) -> st.SearchStrategy[dict[str, Any] | str]:
    """Valid ``spine.io/v1`` documents: a group from :func:`groups` as a dict
    (``group.to_dict()``, ``format="dict"``) or as YAML text (``group_to_yaml``,
    ``format="yaml"``); either when ``format`` is ``None``.

    Shrinks like :func:`groups`, and towards dicts.
    """
    if format is not None:
        check_choice("format", format, ("dict", "yaml"))
    inner = groups(min_steps, max_steps, max_dependencies, names=names, templates=templates)
    as_dict = inner.map(lambda g: g.to_dict())
    as_yaml = inner.map(group_to_yaml)
    if format == "dict":
        return as_dict
    if format == "yaml":
        return as_yaml
    return st.one_of(as_dict, as_yaml)


# -- invalid groups -------------------------------------------------------------------------


def _components(steps: list[tuple[str, list[str]]]) -> tuple[frozenset[str], ...]:
    g: nx.DiGraph = nx.DiGraph()
    known = {n for n, _ in steps}
    g.add_nodes_from(known)
    g.add_edges_from((d, n) for n, ds in steps for d in ds if d in known and d != n)
    comps = [frozenset(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    return tuple(sorted(comps, key=lambda c: sorted(c)))


def cyclic_groups(
    min_steps: int = 2,
    max_steps: int = 12,
    max_dependencies: int = 3,
    *,
    max_cycles: int = 3,
    names: st.SearchStrategy[str] | None = None,
    shuffle: bool = True,
) -> st.SearchStrategy[tuple[PipelineGroup, ExpectedFindings]]:
    """Groups with at least one dependency cycle, paired with what must be reported.

    A DAG from :func:`dags` plus 1 to ``max_cycles`` cycles, each through 2 or more
    steps: a chain ``a -> b -> … -> z`` of added dependencies closed by ``a`` depending
    on ``z``. Cycles may share steps, so strongly connected components can be larger
    than one cycle. The :class:`ExpectedFindings` has ``codes == {"cycle"}`` (one finding
    per non-trivial strongly connected component) and ``cycles``, their node sets.
    The groups carry only names, pipelines and dependencies (the graph is the point).

    Shrinks towards two steps that depend on each other.
    """
    _check_common(min_steps, max_steps, max_dependencies, names, shuffle)
    check_int("min_steps", min_steps, min_value=2)
    check_int("max_cycles", max_cycles, min_value=1)
    return _cyclic_groups(
        min_steps, max_steps, max_dependencies, max_cycles, names if names is not None else step_names(), shuffle
    )


@st.composite
def _cyclic_groups(
    draw: st.DrawFn,
    min_steps: int,
    max_steps: int,
    max_dependencies: int,
    max_cycles: int,
    names: st.SearchStrategy[str],
    shuffle: bool,
) -> tuple[PipelineGroup, ExpectedFindings]:
    deps = draw(dag_indices(min_steps, max_steps, max_dependencies))
    n = len(deps)
    for _ in range(draw(st.integers(1, max_cycles))):
        members = sorted(draw(st.lists(st.integers(0, n - 1), unique=True, min_size=2, max_size=n)))
        for a, b in zip(members, members[1:]):
            if a not in deps[b]:
                deps[b].append(a)
        first, last = members[0], members[-1]
        if last not in deps[first]:
            deps[first].append(last)
    labels = draw(unique_names(n, names))
    order = draw(declaration_order(n, shuffle))
    group = draw(_bare(labels, deps, order))
    comps = _components([(s.name, list(s.depends_on)) for s in group.steps])
    return group, ExpectedFindings("cycle", frozenset({"cycle"}), cycles=comps)


def groups_with_missing_dependencies(
    min_steps: int = 1,
    max_steps: int = 12,
    max_dependencies: int = 3,
    *,
    max_missing: int = 4,
    names: st.SearchStrategy[str] | None = None,
    shuffle: bool = True,
) -> st.SearchStrategy[tuple[PipelineGroup, ExpectedFindings]]:
    """Acyclic groups where some steps depend on names that are not steps of the group.

    1 to ``max_missing`` distinct ``(step, missing)`` pairs are inserted at drawn
    positions of the steps' ``depends_on``. The :class:`ExpectedFindings` has
    ``codes == {"missing-dependency"}`` and ``missing``, exactly those pairs. The groups
    carry only names, pipelines and dependencies.

    Shrinks towards one step depending on one missing name.
    """
    _check_common(min_steps, max_steps, max_dependencies, names, shuffle)
    check_int("min_steps", min_steps, min_value=1)
    check_int("max_missing", max_missing, min_value=1)
    return _missing(min_steps, max_steps, max_dependencies, max_missing, names if names is not None else step_names(), shuffle)


@st.composite
def _missing(
    draw: st.DrawFn,
    min_steps: int,
    max_steps: int,
    max_dependencies: int,
    max_missing: int,
    names: st.SearchStrategy[str],
    shuffle: bool,
) -> tuple[PipelineGroup, ExpectedFindings]:
    deps = draw(dag_indices(min_steps, max_steps, max_dependencies))
    n = len(deps)
    labels = draw(unique_names(n, names))
    order = draw(declaration_order(n, shuffle))
    group = draw(_bare(labels, deps, order))
    known = set(labels)
    ghost = names.filter(lambda x: x not in known)
    pairs = draw(
        st.lists(st.tuples(st.integers(0, n - 1), ghost), min_size=1, max_size=max_missing, unique=True)
    )
    steps = list(group.steps)
    missing: set[tuple[str, str]] = set()
    for i, dep in pairs:
        step = steps[i]
        if dep in step.depends_on:
            continue
        ds = list(step.depends_on)
        ds.insert(draw(st.integers(0, len(ds))), dep)
        steps[i] = PipelineStep(step.name, step.pipeline, step.params, tuple(ds), step.description)
        missing.add((step.name, dep))
    broken = PipelineGroup(name=group.name, steps=tuple(steps))
    return broken, ExpectedFindings("missing-dependency", frozenset({"missing-dependency"}), missing=frozenset(missing))


# -- broken documents -----------------------------------------------------------------------

_Breaker = Any  # (draw, doc) -> new doc


def _step(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
    steps = doc["spec"]["pipelines"]
    return steps[draw(st.integers(0, len(steps) - 1))]


def _set(path: tuple[str, ...], values: st.SearchStrategy[Any]) -> _Breaker:
    def brk(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
        target = doc
        for p in path[:-1]:
            target = target.setdefault(p, {})
        target[path[-1]] = draw(values)
        return doc

    return brk


def _del(*path: str) -> _Breaker:
    def brk(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
        target = doc
        for p in path[:-1]:
            target = target[p]
        del target[path[-1]]
        return doc

    return brk


def _set_step(key: str, values: st.SearchStrategy[Any]) -> _Breaker:
    def brk(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
        _step(draw, doc)[key] = draw(values)
        return doc

    return brk


def _del_step(key: str) -> _Breaker:
    def brk(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
        del _step(draw, doc)[key]
        return doc

    return brk


def _unknown_key(where: str) -> _Breaker:
    from spine.orchestration.spec import METADATA_KEYS, POLICY_KEYS, ROOT_KEYS, SPEC_KEYS, STEP_KEYS

    allowed = {"root": ROOT_KEYS, "metadata": METADATA_KEYS, "spec": SPEC_KEYS, "step": STEP_KEYS, "policy": POLICY_KEYS}[where]
    candidates = [
        k for k in ("extra", "dependsOn", "depends-on", "Name", "pipelines_", "x-custom", "parms", "Kind", "timeout")
        if k not in allowed
    ]

    def brk(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
        key = draw(st.sampled_from(candidates))
        value: Any = draw(st.sampled_from([1, "x", None, [], {}]))
        if where == "root":
            doc[key] = value
        elif where == "step":
            _step(draw, doc)[key] = value
        elif where == "policy":
            policy = doc["spec"].get("policy")
            if not isinstance(policy, dict):
                policy = doc["spec"]["policy"] = {}
            policy[key] = value
        else:
            doc[where][key] = value
        return doc

    return brk


def _duplicate_step(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
    step = _step(draw, doc)
    steps = doc["spec"]["pipelines"]
    steps.insert(draw(st.integers(0, len(steps))), copy.deepcopy(step))
    return doc


def _self_dependency(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
    step = _step(draw, doc)
    deps = list(step.get("depends_on") or [])
    deps.insert(draw(st.integers(0, len(deps))), step["name"])
    step["depends_on"] = deps
    return doc


def _replace_step(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
    steps = doc["spec"]["pipelines"]
    steps[draw(st.integers(0, len(steps) - 1))] = draw(st.sampled_from(["ingest", 1, None, [], ["a"]]))
    return doc


def _not_a_mapping(draw: st.DrawFn, doc: dict[str, Any]) -> Any:
    return draw(st.sampled_from([[doc], "a group", 42, True]))


def _policy_value(key: str, values: list[Any]) -> _Breaker:
    return _set(("spec", "policy", key), st.sampled_from(values))


def _run_key_kinds() -> dict[str, tuple[_Breaker, frozenset[str], bool]]:
    """Out-of-range and wrongly typed retries, retry delays and step timeouts, on a step and in the policy."""
    kinds: dict[str, tuple[_Breaker, frozenset[str], bool]] = {}
    rules: dict[str, tuple[list[Any], list[Any], list[Any]]] = {
        "retries": ([-1, -5], ["3", True, 1.5, None, [1]], [2.0]),
        "retry-delay-seconds": ([-1, -0.5], ["5", True, None, {"s": 1}], [math.inf, math.nan]),
        "timeout-seconds": ([0, -1, -0.5], ["60", False, None, [60]], [math.inf, math.nan]),
    }
    for name, (out_of_range, not_number, schema_blind) in rules.items():
        key = name.replace("-", "_")
        blind_code = "wrong-type" if key == "retries" else "invalid-value"
        for where, set_value in (("step", lambda k, v: _set_step(k, st.sampled_from(v))), ("policy", _policy_value)):
            kinds[f"{where}-{name}-out-of-range"] = _schema(set_value(key, out_of_range), "invalid-value")
            kinds[f"{where}-{name}-wrong-type"] = _schema(set_value(key, not_number), "wrong-type")
            kinds[f"{where}-{name}-schema-blind"] = _no_schema(set_value(key, schema_blind), blind_code)
    return kinds


def _no_schema(breaker: _Breaker, codes: str) -> tuple[_Breaker, frozenset[str], bool]:
    return breaker, frozenset(codes.split()), False


def _schema(breaker: _Breaker, codes: str) -> tuple[_Breaker, frozenset[str], bool]:
    return breaker, frozenset(codes.split()), True


_NOT_STR = [1, True, None, ["a"], {"a": 1}]

#: kind → (breaker, expected codes, whether the JSON Schema rejects it too)
_DOCUMENT_KINDS: dict[str, tuple[_Breaker, frozenset[str], bool]] = {
    "not-a-mapping": _schema(_not_a_mapping, "not-a-mapping"),
    "wrong-api-version": _schema(_set(("apiVersion",), st.sampled_from(["spine.io/v2", "v1", "", 1, None])), "wrong-api-version"),
    "wrong-kind": _schema(_set(("kind",), st.sampled_from(["Pipeline", "pipelinegroup", "", None, 3])), "wrong-kind"),
    "missing-api-version": _schema(_del("apiVersion"), "missing-key"),
    "missing-kind": _schema(_del("kind"), "missing-key"),
    "missing-metadata": _schema(_del("metadata"), "missing-key"),
    "missing-spec": _schema(_del("spec"), "missing-key"),
    "missing-group-name": _schema(_del("metadata", "name"), "missing-key"),
    "missing-pipelines": _schema(_del("spec", "pipelines"), "missing-key"),
    "step-missing-name": _schema(_del_step("name"), "missing-key"),
    "step-missing-pipeline": _schema(_del_step("pipeline"), "missing-key"),
    "unknown-root-key": _schema(_unknown_key("root"), "unknown-key"),
    "unknown-metadata-key": _schema(_unknown_key("metadata"), "unknown-key"),
    "unknown-spec-key": _schema(_unknown_key("spec"), "unknown-key"),
    "unknown-step-key": _schema(_unknown_key("step"), "unknown-key"),
    "unknown-policy-key": _schema(_unknown_key("policy"), "unknown-key"),
    "metadata-not-mapping": _schema(_set(("metadata",), st.sampled_from(["g", 1, ["name"], None])), "wrong-type"),
    "spec-not-mapping": _schema(_set(("spec",), st.sampled_from(["g", 1, [], None])), "wrong-type"),
    "invalid-group-name": _schema(
        _set(("metadata", "name"), invalid_group_names().filter(lambda n: not n.endswith("\n"))), "invalid-name"
    ),
    "invalid-domain": _schema(
        _set(("metadata", "domain"), invalid_group_names().filter(lambda n: not n.endswith("\n"))), "invalid-name"
    ),
    "group-name-not-string": _schema(_set(("metadata", "name"), st.sampled_from([1, True, ["g"], {"a": 1}])), "wrong-type"),
    "version-out-of-range": _schema(_set(("metadata", "version"), st.sampled_from([0, -3])), "invalid-value"),
    "version-not-integer": _schema(_set(("metadata", "version"), st.sampled_from(["1", True, 1.5, None])), "wrong-type"),
    "bad-tags": _schema(_set(("metadata", "tags"), st.sampled_from(["finra", [1], [None], {"a": 1}, 5])), "wrong-type"),
    "description-not-string": _schema(_set(("metadata", "description"), st.sampled_from(_NOT_STR)), "wrong-type"),
    "defaults-not-mapping": _schema(_set(("spec", "defaults"), st.sampled_from([[1], "x", 5, True])), "wrong-type"),
    "default-key-not-string": _schema(_set(("spec", "defaults"), st.sampled_from([{1: "x"}, {True: 1}, {None: "n"}])), "wrong-type"),
    "pipelines-not-list": _schema(_set(("spec", "pipelines"), st.sampled_from([{}, "ingest", None, 3])), "wrong-type"),
    "empty-pipelines": _schema(_set(("spec", "pipelines"), st.just([])), "empty-group"),
    "step-not-mapping": _schema(_replace_step, "wrong-type"),
    "invalid-step-name": _schema(_set_step("name", invalid_step_names(schema_detectable=True)), "invalid-step-name"),
    "step-name-not-string": _schema(_set_step("name", st.sampled_from([1, True, None, ["a"]])), "wrong-type"),
    "pipeline-blank": _schema(_set_step("pipeline", st.sampled_from(["", " ", " x", "x ", "\t"])), "invalid-value"),
    "pipeline-not-string": _schema(_set_step("pipeline", st.sampled_from([1, None, ["a"]])), "wrong-type"),
    "step-description-not-string": _schema(_set_step("description", st.sampled_from(_NOT_STR)), "wrong-type"),
    "params-not-mapping": _schema(_set_step("params", st.sampled_from([[1], "x", 5, True])), "wrong-type"),
    "param-key-not-string": _schema(_set_step("params", st.sampled_from([{1: "x"}, {True: 1}, {None: "n"}])), "wrong-type"),
    "depends-on-string": _schema(_set_step("depends_on", st.sampled_from(["ingest", "a, b", ""])), "wrong-type"),
    "depends-on-not-list": _schema(_set_step("depends_on", st.sampled_from([{"a": 1}, 5, True])), "wrong-type"),
    "depends-on-item-not-string": _schema(_set_step("depends_on", st.sampled_from([[1], [None], [["x"]], [{"a": 1}], [True]])), "wrong-type"),
    "policy-not-mapping": _schema(_set(("spec", "policy"), st.sampled_from(["parallel", 4, ["stop"], True])), "wrong-type"),
    "bad-execution": _schema(_policy_value("execution", ["fast", "Parallel", "", 1, None, True]), "invalid-value"),
    "bad-on-failure": _schema(_policy_value("on_failure", ["explode", "STOP", "", 0, None]), "invalid-value"),
    "max-concurrency-out-of-range": _schema(_policy_value("max_concurrency", [0, -1]), "invalid-value"),
    "max-concurrency-not-integer": _schema(_policy_value("max_concurrency", ["four", "4", True, 2.5, None, [4]]), "wrong-type"),
    "timeout-out-of-range": _schema(_policy_value("timeout_minutes", [0, -1, -0.5]), "invalid-value"),
    "timeout-not-number": _schema(_policy_value("timeout_minutes", ["60", True, False, [1]]), "wrong-type"),
    **_run_key_kinds(),
    # The JSON Schema cannot say these (or, being an approximation, says them differently).
    "duplicate-step": _no_schema(_duplicate_step, "duplicate-step"),
    "self-dependency": _no_schema(_self_dependency, "self-dependency"),
    "non-finite-timeout": _no_schema(_policy_value("timeout_minutes", [math.inf, math.nan]), "invalid-value"),
    "float-max-concurrency": _no_schema(_policy_value("max_concurrency", [4.0, 1.0]), "wrong-type"),
    "float-version": _no_schema(_set(("metadata", "version"), st.sampled_from([1.0, 2.0])), "wrong-type"),
    "group-name-trailing-newline": _no_schema(
        _set(("metadata", "name"), group_names().map(lambda n: n + "\n")), "invalid-name"
    ),
    "invalid-step-name-unicode": _no_schema(
        _set_step("name", schema_blind_step_names()), "invalid-step-name"
    ),
}


def _yaml_append(extra: st.SearchStrategy[str]) -> Any:
    def brk(draw: st.DrawFn, text: str) -> str:
        return text + draw(extra)

    return brk


#: kind → (breaker of YAML text, expected codes): problems only YAML text can have.
_YAML_KINDS: dict[str, tuple[Any, frozenset[str]]] = {
    "duplicate-key": (_yaml_append(st.sampled_from([f"kind: {KIND}\n", f"apiVersion: {API_VERSION}\n"])), frozenset({"duplicate-key"})),
    "yaml-syntax": (_yaml_append(st.sampled_from(["broken: [unclosed\n", "x: 'open\n", "\t- tab\n", "a: b: c\n"])), frozenset({"yaml-syntax"})),
    "unsupported-tag": (
        _yaml_append(
            st.sampled_from(
                [
                    "x: !!python/object/apply:os.system ['echo pwned']\n",
                    "x: !!python/name:os.system ''\n",
                    "x: !custom {a: 1}\n",
                ]
            )
        ),
        frozenset({"unsupported-tag"}),
    ),
    "too-deep": (_yaml_append(st.integers(101, 300).map(lambda n: "x: " + "[" * n + "]" * n + "\n")), frozenset({"too-deep"})),
    "recursive-alias": (_yaml_append(st.just("x: &a [1, *a]\n")), frozenset({"recursive-alias"})),
    "undefined-alias": (_yaml_append(st.just("x: *nowhere\n")), frozenset({"undefined-alias"})),
}

#: Every kind :func:`broken_documents` knows, in a stable order.
BROKEN_KINDS: tuple[str, ...] = tuple(_DOCUMENT_KINDS) + tuple(_YAML_KINDS)
#: The kinds the shipped JSON Schema rejects too.
SCHEMA_DETECTABLE_KINDS: tuple[str, ...] = tuple(k for k, v in _DOCUMENT_KINDS.items() if v[2])


def broken_documents(
    *,
    format: Format = "dict",
    kinds: Collection[str] | None = None,
    names: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[tuple[Any, ExpectedFindings]]:
    """Group documents with exactly one thing wrong, paired with the findings it must cause.

    Each starts as a valid document from :func:`groups` (1–4 steps) and gets one
    breakage of a drawn kind — a wrong ``apiVersion``, a missing key, an unknown key, a
    wrongly typed or out-of-range field, an invalid step or group name, a duplicate step,
    a self-dependency … (see ``BROKEN_KINDS``). With ``format="yaml"`` the document is
    YAML text, and kinds only text can have are added: duplicate mapping keys, syntax
    errors, ``!!python`` and other tags, nesting deeper than the limit, recursive and
    undefined aliases.

    ``expected.codes`` is the exact set of error codes that loading the document and then
    validating the group (``spine group validate``) reports; ``expected.schema_detectable``
    says whether the shipped JSON Schema rejects it too.

    Shrinks towards the first kind (``not-a-mapping``) on a one-step group.

    :param kinds: only these kinds (names from ``BROKEN_KINDS``).
    """
    check_choice("format", format, ("dict", "yaml"))
    allowed = BROKEN_KINDS if format == "yaml" else tuple(_DOCUMENT_KINDS)
    if kinds is not None:
        from hypothesis.errors import InvalidArgument

        if isinstance(kinds, str):
            raise InvalidArgument("kinds must be a collection of kind names, not one string")
        unknown = [k for k in kinds if k not in allowed]
        if unknown:
            raise InvalidArgument(
                f"unknown kinds for format={format!r}: {', '.join(map(repr, unknown))}; "
                f"use names from spine.testing.BROKEN_KINDS"
            )
        if not kinds:
            raise InvalidArgument("kinds is empty")
        allowed = tuple(k for k in allowed if k in set(kinds))
    if names is not None:
        check_strategy("names", names)
    return _broken(format, allowed, names if names is not None else step_names())


@st.composite
def _broken(draw: st.DrawFn, format: Format, kinds: tuple[str, ...], names: st.SearchStrategy[str]) -> tuple[Any, ExpectedFindings]:
    kind = draw(st.sampled_from(kinds))
    group = draw(groups(1, 4, names=names))
    doc = copy.deepcopy(group.to_dict())
    if kind in _YAML_KINDS:
        breaker, codes = _YAML_KINDS[kind]
        text = breaker(draw, group_to_yaml(group))
        return text, ExpectedFindings(kind, codes)
    breaker, codes, schema = _DOCUMENT_KINDS[kind]
    doc = breaker(draw, doc)
    expected = ExpectedFindings(kind, codes, schema_detectable=schema)
    if format == "yaml":
        return _dump(doc), expected
    return doc, expected


def _dump(doc: Any) -> str:
    dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(doc, Dumper=dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096)
