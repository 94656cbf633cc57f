"""Run params: ones a group resolves with, and ones that must be rejected."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from spine.framework.params import ParamDef
from spine.framework.registry import PipelineRegistry
from spine.orchestration.models import PipelineGroup
from spine.orchestration.params import templates_in
from spine.testing._checks import check_bool
from spine.testing._values import identifiers, param_keys, param_values, plain_strings

_PARAMS = "params"


# -- values for one ParamDef ----------------------------------------------------------------


def param_values_for(definition: ParamDef) -> st.SearchStrategy[Any]:
    """Values that fit ``definition``: ``definition.problem(value) is None`` for each.

    A choice when it has ``choices``; else a value of its type (an ``int`` or a
    ``float`` for ``float``, a ``date`` or its ISO text for ``date``, anything for
    ``any``). Shrinks towards the first choice or the type's simplest value.
    """
    if not isinstance(definition, ParamDef):
        raise InvalidArgument(f"definition must be a spine.framework.ParamDef, got {type(definition).__name__}")
    if definition.choices is not None:
        if not definition.choices:
            raise InvalidArgument(f"ParamDef {definition.name!r} has an empty choices list: no value fits it")
        base: st.SearchStrategy[Any] = st.sampled_from(definition.choices)
    else:
        base = _by_type(definition.type_name)
    return base.filter(lambda v: definition.problem(v) is None)


def _by_type(type_name: str) -> st.SearchStrategy[Any]:
    small = param_values(max_leaves=3)
    return {
        "str": plain_strings(),
        "int": st.integers(),
        "float": st.one_of(st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False)),
        "bool": st.booleans(),
        "list": st.lists(small, max_size=3),
        "dict": st.dictionaries(param_keys(), small, max_size=3),
        "date": st.one_of(st.dates(), st.dates(min_value=dt.date(1000, 1, 1)).map(dt.date.isoformat)),
        "any": param_values(),
    }[type_name]


def _wrong_values(definition: ParamDef) -> st.SearchStrategy[Any]:
    """Values that do *not* fit ``definition`` (may be empty for ``any`` without choices)."""
    candidates: list[Any] = ["3", 3, 2.5, True, None, [], {}, "not a date", "2024-02-30", ["x"], {"k": 1}]
    return st.sampled_from([v for v in candidates if definition.problem(v) is not None] or [_NOTHING]).filter(
        lambda v: v is not _NOTHING
    )


_NOTHING = object()


def breakable(definition: ParamDef) -> bool:
    """Whether some value does not fit ``definition``."""
    return definition.type_name != "any" or definition.choices is not None


# -- templates ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _jinja() -> Any:
    from jinja2 import Environment

    return Environment()


@lru_cache(maxsize=4096)
def _names_in(text: str) -> tuple[tuple[str, bool, bool], ...]:
    """``(name, lone, guarded)`` for each ``params.<name>`` / ``params['<name>']`` in a
    template. ``lone`` when the whole text is that one expression (it keeps the value's
    type); ``guarded`` when the template copes with the name being absent (a ``default``
    filter on it, an ``is defined`` test, or ``'name' in params``)."""
    from jinja2 import TemplateSyntaxError, nodes

    try:
        ast = _jinja().parse(text)
    except TemplateSyntaxError:
        return ()

    def ref(node: Any) -> str | None:
        if isinstance(node, (nodes.Getattr, nodes.Getitem)):
            target = node.node
            if isinstance(target, nodes.Name) and target.name == _PARAMS:
                if isinstance(node, nodes.Getattr):
                    return node.attr
                if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                    return node.arg.value
        return None

    found = [n for n in (ref(x) for x in ast.find_all((nodes.Getattr, nodes.Getitem))) if n is not None]
    guarded: set[str] = set()
    for f in ast.find_all(nodes.Filter):
        if f.name in ("default", "d") and (name := ref(f.node)) is not None:
            guarded.add(name)
    for t in ast.find_all(nodes.Test):
        if t.name in ("defined", "undefined") and (name := ref(t.node)) is not None:
            guarded.add(name)
    for c in ast.find_all(nodes.Compare):
        for op in c.ops:
            if op.op in ("in", "notin") and isinstance(op.expr, nodes.Name) and op.expr.name == _PARAMS:
                if isinstance(c.expr, nodes.Const) and isinstance(c.expr.value, str):
                    guarded.add(c.expr.value)
    lone = False
    body = ast.body
    if len(body) == 1 and isinstance(body[0], nodes.Output) and len(body[0].nodes) == 1:
        lone = ref(body[0].nodes[0]) is not None
    return tuple((n, lone and len(found) == 1, n in guarded) for n in found)


def template_param_names(group: PipelineGroup) -> set[str]:
    """Every run param name ``X`` that a template of ``group`` uses as ``params.X`` or
    ``params['X']`` (in group defaults and step params)."""
    names: set[str] = set()
    for value in [*group.defaults.values(), *(v for s in group.steps for v in s.params.values())]:
        for text in templates_in(value):
            names.update(n for n, _, _ in _names_in(text))
    return names


def _unguarded_template_names(group: PipelineGroup) -> set[str]:
    """Names some template uses without coping with their absence: leaving one out must fail."""
    names: set[str] = set()
    for value in [*group.defaults.values(), *(v for s in group.steps for v in s.params.values())]:
        for text in templates_in(value):
            names.update(n for n, _, guarded in _names_in(text) if not guarded)
    return names


# -- what a run param must satisfy -----------------------------------------------------------


@dataclass
class _Need:
    required: bool
    defs: list[tuple[str, ParamDef]]  # (step name, def) the value must fit


def _needs(group: PipelineGroup, registry: PipelineRegistry | None, groups: Any = None, _seen: frozenset[str] = frozenset()) -> dict[str, _Need]:
    """Run param name → whether it must be given, and the ParamDefs its value must fit.

    A step that calls a group (found in ``groups``) passes a lone ``"{{ params.<name> }}"``
    on as one of that group's run params: the value must fit what the nested group needs
    of it."""
    needs: dict[str, _Need] = {}

    def need(name: str, required: bool) -> _Need:
        n = needs.setdefault(name, _Need(False, []))
        n.required = n.required or required
        return n

    unguarded = _unguarded_template_names(group)
    for name in template_param_names(group):
        need(name, name in unguarded)
    if registry is None:
        return needs
    for step in group.steps:
        if step.group is not None:
            _nested_needs(step, registry, groups, _seen | {group.name}, need)
            continue
        spec = registry.get(step.pipeline)
        if spec is None:
            continue
        for d in spec.params:
            # A lone template keeps the run param's type: it must fit this def.
            source = step.params.get(d.name, group.defaults.get(d.name))
            if isinstance(source, str):
                for x, lone, _ in _names_in(source):
                    if lone:
                        need(x, True).defs.append((step.name, d))
            if d.name in step.params:
                continue  # the step gives it; run params cannot override step params
            n = need(d.name, d.required and d.name not in group.defaults)
            n.defs.append((step.name, d))
    return needs


def _nested_needs(step: Any, registry: PipelineRegistry, groups: Any, seen: frozenset[str], need: Any) -> None:
    from spine.orchestration.nesting import GroupSource

    inner = GroupSource.of(groups).get(step.group)
    if inner is None or inner.name in seen:
        return  # an unknown group or a cycle is a finding of its own
    inner_needs = _needs(inner, registry, groups, seen)
    for key, value in step.params.items():
        if isinstance(value, str) and key in inner_needs:
            for x, lone, _ in _names_in(value):
                if lone:
                    need(x, True).defs.extend(inner_needs[key].defs)


def _value_for(need: _Need) -> st.SearchStrategy[Any]:
    defs = [d for _, d in need.defs]
    if not defs:
        return param_values()
    first = min(defs, key=lambda d: (d.choices is None, d.type_name == "any"))
    return param_values_for(first).filter(lambda v: all(d.problem(v) is None for d in defs))


def run_params(
    group: PipelineGroup, registry: PipelineRegistry | None = None, *, optional: bool = True, groups: Any = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Run params ``group`` resolves with (``PlanResolver(registry).resolve(group, params)``).

    Gives every name the group's templates use as ``params.<name>`` (names they guard with
    ``| default(…)`` or ``is defined`` only when ``optional``), every required
    param of a registered pipeline that no step param or group default gives, and —
    when ``optional`` — some of the pipelines' optional params. Each value fits every
    ``ParamDef`` it reaches: the params of the steps it is offered to (run params
    override group defaults, not step params) and the params a lone
    ``"{{ params.<name> }}"`` template feeds it into.

    A run param a step passes on to a group it calls (``groups``: where nested groups are
    found, as in :class:`~spine.orchestration.PlanResolver`) fits what that group needs.

    Shrinks towards only the required names, each with its simplest value.
    """
    if not isinstance(group, PipelineGroup):
        raise InvalidArgument(f"group must be a PipelineGroup, got {type(group).__name__}")
    if registry is not None and not isinstance(registry, PipelineRegistry):
        raise InvalidArgument(f"registry must be a PipelineRegistry or None, got {type(registry).__name__}")
    check_bool("optional", optional)
    needs = _needs(group, registry, groups)
    required = {k: v for k, v in needs.items() if v.required}
    extra = {k: v for k, v in needs.items() if not v.required} if optional else {}

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        params = {k: draw(_value_for(v)) for k, v in sorted(required.items())}
        if extra:
            chosen = draw(st.lists(st.sampled_from(sorted(extra)), unique=True, max_size=len(extra)))
            for k in sorted(chosen):
                params[k] = draw(_value_for(extra[k]))
        return params

    return build()


def invalid_run_params(
    group: PipelineGroup, registry: PipelineRegistry, *, groups: Any = None
) -> st.SearchStrategy[tuple[dict[str, Any], Any]]:
    """Run params that ``PlanResolver(registry).resolve(group, params)`` must reject,
    paired with the :class:`~spine.testing.ExpectedFindings` it must report.

    Kinds: ``wrong-type`` (a value of another type for a param a step takes from the
    run), ``not-a-choice``, ``missing-required`` (a required param nobody else gives is
    left out) — each reported as ``invalid-param`` — and ``missing-template-name`` (a
    name a template uses is left out) — reported as ``template-undefined``.

    Raises ``InvalidArgument`` when the group gives run params nothing to break.
    """
    from spine.testing._groups import ExpectedFindings

    if not isinstance(group, PipelineGroup):
        raise InvalidArgument(f"group must be a PipelineGroup, got {type(group).__name__}")
    if not isinstance(registry, PipelineRegistry):
        raise InvalidArgument(f"registry must be a PipelineRegistry, got {type(registry).__name__}")
    needs = _needs(group, registry, groups)
    template_names = template_param_names(group)
    unguarded = _unguarded_template_names(group)
    offered = {k: v for k, v in needs.items() if v.defs and k not in template_names}
    wrong_type = {k: v for k, v in offered.items() if any(d.type_name != "any" for _, d in v.defs)}
    with_choices = {k: v for k, v in offered.items() if any(d.choices for _, d in v.defs)}
    required = {k: v for k, v in offered.items() if v.required}
    kinds: list[str] = []
    if wrong_type:
        kinds.append("wrong-type")
    if with_choices:
        kinds.append("not-a-choice")
    if required:
        kinds.append("missing-required")
    if unguarded:
        kinds.append("missing-template-name")
    if not kinds:
        raise InvalidArgument(
            f"group {group.name!r}: no run param can break it (no step takes a typed or "
            "required param from the run, and no template uses params)"
        )

    @st.composite
    def build(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
        params = draw(run_params(group, registry, optional=False, groups=groups))
        kind = draw(st.sampled_from(kinds))
        if kind == "missing-template-name":
            name = draw(st.sampled_from(sorted(unguarded)))
            params.pop(name, None)
            return params, ExpectedFindings(kind, frozenset({"template-undefined"}))
        if kind == "missing-required":
            name = draw(st.sampled_from(sorted(required)))
            params.pop(name, None)
            return params, ExpectedFindings(kind, frozenset({"invalid-param"}))
        pool = wrong_type if kind == "wrong-type" else with_choices
        name = draw(st.sampled_from(sorted(pool)))
        defs = [d for _, d in pool[name].defs if (d.type_name != "any" if kind == "wrong-type" else d.choices)]
        target = draw(st.sampled_from(defs))
        if kind == "wrong-type":
            params[name] = draw(_wrong_values(target))
        else:
            choices: tuple[Any, ...] = target.choices or ()
            params[name] = draw(_by_type(target.type_name).filter(lambda v: v not in choices and _fits_type(target, v)))
        return params, ExpectedFindings(kind, frozenset({"invalid-param"}))

    return build()


def _fits_type(d: ParamDef, value: Any) -> bool:
    return ParamDef(d.name, d.type_name).problem(value) is None


# -- step params for registered pipelines (used by groups(registry=…)) -------------------------


def step_params_for(
    registry: PipelineRegistry, pipeline: str, *, templates: bool = False
) -> st.SearchStrategy[dict[str, Any]]:
    """Step params that fit ``pipeline``'s ParamDefs (a subset of them; with ``templates``
    some are ``"{{ params.<fresh name> }}"``, for :func:`run_params` to fill)."""
    spec = registry.get(pipeline)
    if spec is None:
        return st.just({})
    declared = {d.name for s in registry for d in s.params}
    fresh = identifiers(8).map(lambda n: "tpl_" + n).filter(lambda n: n not in declared)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for d in spec.params:
            if not draw(st.booleans()):
                continue
            if templates and draw(st.booleans()):
                params[d.name] = "{{ params.%s }}" % draw(fresh)
            else:
                params[d.name] = draw(param_values_for(d))
        return params

    return build()
