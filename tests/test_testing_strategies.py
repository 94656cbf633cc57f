"""spine.testing: the public strategies keep their own promises."""

from __future__ import annotations

import importlib
import inspect
import sys

import jsonschema
import networkx as nx
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import spine.testing
from spine.core.errors import GroupError, PlanResolutionError
from spine.framework import ParamDef, PipelineRegistry, register_pipeline
from spine.orchestration import (
    PipelineGroup,
    PlanResolver,
    group_name_problem,
    group_schema,
    step_name_problem,
    validate_group,
)
from spine.orchestration.names import STEP_NAME_MAX
from spine.testing import (
    AWKWARD_STEP_NAMES,
    broken_documents,
    cyclic_groups,
    dags,
    group_documents,
    group_names,
    groups,
    groups_with_missing_dependencies,
    invalid_group_names,
    invalid_run_params,
    invalid_step_names,
    mutations,
    param_values_for,
    pipeline_names,
    run_params,
    step_names,
    template_param_names,
)

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_registry() -> PipelineRegistry:
    """A registry with typed, required, choice and open-ended params."""
    reg = PipelineRegistry()

    def body(params, ctx):  # pragma: no cover - never run here
        return None

    def add(name: str, *params: ParamDef, extra: bool = False) -> None:
        register_pipeline(name, params=params, allow_extra_params=extra, registry=reg)(body)

    add(
        "etl.ingest",
        ParamDef("tier", str, required=True, choices=["T1", "T2", "OTC"]),
        ParamDef("week_ending", "date", required=True),
        ParamDef("limit", int, default=10),
    )
    add("etl.normalize", ParamDef("force", bool, default=False), ParamDef("ratio", float), ParamDef("columns", list))
    add(
        "etl.publish",
        ParamDef("targets", dict),
        ParamDef("note", "any"),
        ParamDef("mode", "any", choices=["a", 1]),
        extra=True,
    )
    add("etl.noop")
    return reg


REGISTRY = make_registry()


def error_codes(findings) -> set[str]:
    return {f.code for f in findings if f.severity.value == "error"}


# -- the module ------------------------------------------------------------------------------


def _isort_key(name: str) -> tuple[int, str]:
    """ruff RUF022 order, as for the other packages: CONSTANTS, then Classes, then functions."""
    return (0, name) if name.isupper() else (1, name) if name[:1].isupper() else (2, name)


def test_all_is_sorted_and_matches_the_public_names():
    """`__all__` is sorted (CONSTANTS, Classes, functions) and lists exactly the module's public names, submodules aside (no drift)."""
    public = {
        name
        for name, value in vars(spine.testing).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert spine.testing.__all__ == sorted(spine.testing.__all__, key=_isort_key)
    assert set(spine.testing.__all__) == public


def test_every_public_callable_is_documented():
    """Every public strategy and class has a docstring."""
    for name in spine.testing.__all__:
        obj = getattr(spine.testing, name)
        if callable(obj):
            assert obj.__doc__ and obj.__doc__.strip(), name


def test_missing_hypothesis_gives_a_clear_import_error(monkeypatch):
    """Importing spine.testing without hypothesis says to install hypothesis."""
    for mod in [m for m in sys.modules if m == "spine.testing" or m.startswith("spine.testing.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    with pytest.raises(ImportError, match="spine-core\\[fuzz\\]"):
        importlib.import_module("spine.testing")


# -- argument checks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: dags(min_steps=5, max_steps=2),
        lambda: dags(min_steps=-1),
        lambda: dags(max_dependencies=-1),
        lambda: dags(min_steps=True),
        lambda: dags(max_steps=2.5),
        lambda: dags(names="abc"),
        lambda: dags(shuffle="yes"),
        lambda: groups(min_steps=0),
        lambda: groups(min_steps=3, max_steps=1),
        lambda: groups(templates=1),
        lambda: groups(pipelines=["a.b"]),
        lambda: groups(registry=PipelineRegistry()),
        lambda: groups(registry="etl"),
        lambda: step_names(max_size=0),
        lambda: step_names(max_size=STEP_NAME_MAX + 1),
        lambda: invalid_step_names(schema_detectable="no"),
        lambda: group_names(max_size=129),
        lambda: group_documents(format="json"),
        lambda: cyclic_groups(min_steps=1),
        lambda: cyclic_groups(max_cycles=0),
        lambda: groups_with_missing_dependencies(max_missing=0),
        lambda: broken_documents(kinds=["no-such-kind"]),
        lambda: broken_documents(kinds="wrong-kind"),
        lambda: broken_documents(kinds=[]),
        lambda: broken_documents(format="yaml", kinds=["not-a-kind"]),
        lambda: broken_documents(format="dict", kinds=["duplicate-key"]),
        lambda: broken_documents(format="xml"),
        lambda: run_params("not a group"),
        lambda: run_params(PipelineGroup(name="g").add("a", "p"), registry={}),
        lambda: invalid_run_params(PipelineGroup(name="g").add("a", "etl.noop"), REGISTRY),
        lambda: mutations(PipelineGroup(name="g")),
        lambda: mutations("g"),
        lambda: param_values_for("tier"),
        lambda: param_values_for(ParamDef("x", str, choices=[])),
    ],
)
def test_bad_arguments_raise_when_the_strategy_is_built(build):
    """Bad arguments raise InvalidArgument at once, not when an example is drawn."""
    with pytest.raises(InvalidArgument):
        build()


# -- names -----------------------------------------------------------------------------------


def test_awkward_names_are_valid_and_cover_the_hostile_classes():
    """Every listed awkward name is a valid step name, and the list covers the classes the design names."""
    for name in AWKWARD_STEP_NAMES:
        assert step_name_problem(name) is None, name
    joined = "".join(AWKWARD_STEP_NAMES)
    for piece in ['"', "'", "<script>", "->", "{{", "}}", "__proto__", "\\", "🚀", "数", "ש", "م"]:
        assert piece in joined, piece
    assert max(map(len, AWKWARD_STEP_NAMES)) == STEP_NAME_MAX


@FAST
@given(step_names())
def test_step_names_are_valid(name):
    """step_names() only generates names step_name_problem accepts."""
    assert step_name_problem(name) is None


@settings(max_examples=20, deadline=None)
@given(st.integers(1, STEP_NAME_MAX).flatmap(lambda n: st.tuples(st.just(n), step_names(max_size=n))))
def test_step_names_respect_max_size(sized):
    """step_names(max_size=n) never generates a name longer than n."""
    n, name = sized
    assert len(name) <= n


_STEP_NAME_SCHEMA = jsonschema.Draft202012Validator(group_schema()["$defs"]["stepName"])


@FAST
@given(invalid_step_names())
def test_invalid_step_names_are_rejected(name):
    """invalid_step_names() only generates names step_name_problem rejects."""
    assert step_name_problem(name) is not None


@FAST
@given(invalid_step_names(schema_detectable=True))
def test_schema_detectable_invalid_step_names_are_rejected_by_the_schema_too(name):
    """invalid_step_names(schema_detectable=True) are rejected by spine and by the JSON Schema's stepName."""
    assert step_name_problem(name) is not None
    assert not _STEP_NAME_SCHEMA.is_valid(name)


@FAST
@given(group_names())
def test_group_names_are_valid(name):
    """group_names() only generates names group_name_problem accepts."""
    assert group_name_problem(name) is None


@FAST
@given(invalid_group_names())
def test_invalid_group_names_are_rejected(name):
    """invalid_group_names() are all rejected by group_name_problem (incl. a trailing newline)."""
    assert group_name_problem(name) is not None


@FAST
@given(pipeline_names())
def test_pipeline_names_are_dotted_identifiers(name):
    """pipeline_names() are non-empty, without surrounding space, dot-separated identifiers."""
    assert name == name.strip() and all(part.isidentifier() for part in name.split("."))


# -- DAGs ------------------------------------------------------------------------------------


@FAST
@given(st.data())
def test_dags_are_acyclic_and_within_bounds(data):
    """dags() gives unique names, dependencies on declared steps only, acyclic, within every bound."""
    lo = data.draw(st.integers(0, 6), label="min_steps")
    hi = data.draw(st.integers(lo, 15), label="max_steps")
    k = data.draw(st.integers(0, 4), label="max_dependencies")
    dag = data.draw(dags(lo, hi, k))
    names = [n for n, _ in dag]
    assert lo <= len(dag) <= hi
    assert len(set(names)) == len(names)
    g = nx.DiGraph()
    g.add_nodes_from(names)
    for name, deps in dag:
        assert len(deps) <= k and len(set(deps)) == len(deps)
        assert name not in deps and set(deps) <= set(names)
        g.add_edges_from((d, name) for d in deps)
    assert nx.is_directed_acyclic_graph(g)


@FAST
@given(dags(shuffle=False, names=step_names()))
def test_unshuffled_dags_are_declared_in_topological_order(dag):
    """With shuffle=False every dependency is declared before its dependent."""
    seen: set[str] = set()
    for name, deps in dag:
        assert set(deps) <= seen
        seen.add(name)


# -- groups ----------------------------------------------------------------------------------


@FAST
@given(groups())
def test_groups_are_valid(group):
    """groups() gives groups with no findings at all."""
    assert validate_group(group) == []
    assert 1 <= len(group.steps) <= 12


@FAST
@given(st.data())
def test_templated_groups_resolve_with_their_run_params(data):
    """groups(templates=True) resolve with run_params(group): every template renders."""
    group = data.draw(groups(templates=True, max_steps=6))
    params = data.draw(run_params(group))
    assert template_param_names(group) <= set(params)
    plan = PlanResolver().resolve(group, params)
    assert len(plan.steps) == len(group.steps)


@FAST
@given(st.data())
def test_registry_groups_resolve_with_run_params(data):
    """groups(registry=r) and run_params(group, r) resolve, and every step's params fit its ParamDefs."""
    templates = data.draw(st.booleans(), label="templates")
    group = data.draw(groups(max_steps=6, registry=REGISTRY, templates=templates))
    assert error_codes(validate_group(group, REGISTRY)) == set()
    params = data.draw(run_params(group, REGISTRY))
    plan = PlanResolver(REGISTRY).resolve(group, params)
    for step in plan.steps:
        assert REGISTRY.get(step.pipeline).check(step.params) == []


@FAST
@given(st.data())
def test_invalid_run_params_are_rejected_with_their_finding(data):
    """invalid_run_params(group, r) make resolve raise PlanResolutionError with the expected codes."""
    group = data.draw(groups(max_steps=5, registry=REGISTRY, pipelines=st.just("etl.ingest"), templates=True))
    try:
        strategy = invalid_run_params(group, REGISTRY)
    except InvalidArgument:
        reject()  # every step gives every param itself: nothing for run params to break
    params, expected = data.draw(strategy)
    with pytest.raises(PlanResolutionError) as info:
        PlanResolver(REGISTRY).resolve(group, params)
    assert error_codes(info.value.findings) == set(expected.codes), expected.kind


@FAST
@given(st.data())
def test_mutations_cause_exactly_their_findings(data):
    """Each mutation of a valid group makes validate_group report exactly its expected codes."""
    use_registry = data.draw(st.booleans(), label="registry")
    registry = REGISTRY if use_registry else None
    group = data.draw(groups(max_steps=6, registry=registry))
    mutated, expected = data.draw(mutations(group, registry))
    findings = validate_group(mutated, registry)
    assert error_codes(findings) == set(expected.codes), expected.kind
    if expected.missing:
        reported = sorted(f.step for f in findings if f.code == "missing-dependency")
        assert reported == sorted(step for step, _ in expected.missing)
    with pytest.raises(GroupError):
        PlanResolver(registry).resolve(mutated, {})


@FAST
@given(cyclic_groups())
def test_cyclic_groups_have_cycles(pair):
    """cyclic_groups() are not DAGs, and their expected cycles are strongly connected sets of 2+ steps."""
    group, expected = pair
    g = nx.DiGraph()
    g.add_nodes_from(group.step_names)
    g.add_edges_from((d, s.name) for s in group.steps for d in s.depends_on)
    assert not nx.is_directed_acyclic_graph(g)
    assert expected.cycles and all(len(c) >= 2 for c in expected.cycles)
    for comp in expected.cycles:
        assert nx.is_strongly_connected(g.subgraph(comp))


@FAST
@given(groups_with_missing_dependencies())
def test_missing_dependencies_name_no_step(pair):
    """groups_with_missing_dependencies() pairs point at names that are not steps, from steps that are."""
    group, expected = pair
    names = set(group.step_names)
    assert expected.missing
    for step, dep in expected.missing:
        assert step in names and dep not in names
        assert dep in group.step(step).depends_on


@FAST
@given(group_documents())
def test_group_documents_are_dicts_or_yaml(doc):
    """group_documents() gives a dict with the four root keys, or YAML text."""
    if isinstance(doc, dict):
        assert list(doc) == ["apiVersion", "kind", "metadata", "spec"]
    else:
        assert isinstance(doc, str) and doc.startswith("apiVersion: spine.io/v1\n")


_GUARDED = (
    PipelineGroup(name="g")
    .add(
        "a",
        "etl.publish",
        params={"d": "{{ params.ds | default('2021-01-01') }}", "e": "{% if 'x' in params %}{{ params.x }}{% endif %}"},
    )
    .add("b", "etl.ingest", params={"tier": "T1", "week_ending": "{{ params.week }}"})
)


@FAST
@given(st.data())
def test_guarded_template_names_are_optional(data):
    """A name a template guards (``| default``, ``in params``) is not required by run_params, and only unguarded names are left out as invalid cases."""
    assert template_param_names(_GUARDED) == {"ds", "x", "week"}
    params = data.draw(run_params(_GUARDED, REGISTRY, optional=False))
    assert set(params) == {"week"}
    PlanResolver(REGISTRY).resolve(_GUARDED, params)
    bad, expected = data.draw(invalid_run_params(_GUARDED, REGISTRY))
    if expected.kind == "missing-template-name":
        assert "week" not in bad
