"""Pipelines: register_pipeline, ParamDef checks, check_pipelines findings, plans checked against a registry."""

from __future__ import annotations

import datetime as dt

import pytest

from spine.core.errors import PlanResolutionError
from spine.core.findings import Severity
from spine.framework import (
    ParamDef,
    Pipeline,
    PipelineRegistry,
    PipelineSpec,
    check_params,
    default_pipeline_registry,
    register_pipeline,
)
from spine.orchestration import PipelineGroup, PlanResolver, check_pipelines, load_group_from_text


def noop(params, ctx):
    return None


def finra_registry() -> PipelineRegistry:
    """A registry with one ingest pipeline declaring a required tier with choices and a date."""
    registry = PipelineRegistry()
    registry.register(
        PipelineSpec(
            "finra.ingest_week",
            noop,
            params=(
                ParamDef("tier", str, required=True, choices=("T1", "T2")),
                ParamDef("week_ending", "date", required=True),
                ParamDef("limit", int, default=10),
            ),
        )
    )
    return registry


def ingest_group(**params) -> PipelineGroup:
    return PipelineGroup(name="g").add("ingest", "finra.ingest_week", params=params)


class TestRegisterPipeline:
    """Uses the default registry (restored after each test by conftest)."""

    def test_function(self) -> None:
        """register_pipeline on a function registers it with its params and first doc line."""
        registry = default_pipeline_registry

        @register_pipeline("a.fn", params=[ParamDef("n", int)])
        def fn(params, ctx):
            """Does a thing.

            More text."""
            return params["n"] * 2

        spec = registry.get("a.fn")
        assert spec is not None and spec.target is fn
        assert [d.name for d in spec.params] == ["n"]
        assert spec.description == "Does a thing."
        assert spec.call({"n": 2}, None) == 4

    def test_decorator_returns_target(self) -> None:
        """The decorator returns the function itself, still callable."""
        assert register_pipeline("a.noop")(noop) is noop

    def test_pipeline_subclass(self) -> None:
        """register_pipeline on a Pipeline subclass takes its params and description and calls run."""
        registry = default_pipeline_registry

        @register_pipeline("a.cls")
        class Normalize(Pipeline):
            params = (ParamDef("week_ending", "date", required=True),)
            description = "Normalize a week"

            def run(self, params, ctx):
                return ("ran", params["week_ending"])

        spec = registry.get("a.cls")
        assert spec is not None
        assert [d.name for d in spec.params] == ["week_ending"]
        assert spec.description == "Normalize a week"
        assert spec.call({"week_ending": "2024-01-05"}, None) == ("ran", "2024-01-05")

    def test_class_not_pipeline_rejected(self) -> None:
        """A class that does not subclass Pipeline is refused with TypeError."""
        with pytest.raises(TypeError, match="Pipeline"):
            register_pipeline("a.bad")(type("Plain", (), {}))

    def test_duplicate_name_rejected(self) -> None:
        """Registering another target under a taken name raises ValueError."""
        register_pipeline("a.dup")(noop)
        with pytest.raises(ValueError, match="already registered"):
            register_pipeline("a.dup")(lambda params, ctx: None)

    def test_duplicate_with_replace(self) -> None:
        """replace=True overrides an existing registration."""
        registry = default_pipeline_registry
        register_pipeline("a.dup")(noop)
        other = lambda params, ctx: 1  # noqa: E731
        register_pipeline("a.dup", replace=True)(other)
        assert registry.get("a.dup").target is other

    def test_same_target_twice_is_fine(self) -> None:
        """Registering the same target again (a module imported twice) is not an error."""
        registry = default_pipeline_registry
        register_pipeline("a.same")(noop)
        register_pipeline("a.same")(noop)
        assert registry.get("a.same").target is noop

    def test_empty_name_rejected(self) -> None:
        """An empty pipeline name is refused with ValueError."""
        with pytest.raises(ValueError):
            register_pipeline("  ")

    def test_explicit_empty_registry_is_used(self) -> None:
        """registry=PipelineRegistry() (empty, so falsy) receives the pipeline, not the default registry."""
        registry = PipelineRegistry()
        register_pipeline("a.isolated", registry=registry)(noop)
        assert "a.isolated" in registry
        assert "a.isolated" not in default_pipeline_registry

    def test_default_registry(self) -> None:
        """Without registry= the pipeline lands in the default registry."""
        register_pipeline("a.default_one")(noop)
        assert default_pipeline_registry.get("a.default_one").target is noop


class TestParamDef:
    def test_bool_is_not_int(self) -> None:
        """True does not satisfy an int param."""
        assert ParamDef("n", int).problem(True) is not None

    def test_int_string_is_not_int(self) -> None:
        """'3' does not satisfy an int param."""
        assert ParamDef("n", int).problem("3") is not None

    def test_int_ok_for_float(self) -> None:
        """An int satisfies a float param."""
        assert ParamDef("x", float).problem(3) is None

    def test_bool_is_not_float(self) -> None:
        """True does not satisfy a float param."""
        assert ParamDef("x", float).problem(True) is not None

    def test_date_accepts_date_and_iso_string(self) -> None:
        """A date param accepts a date and an ISO date string."""
        d = ParamDef("d", "date")
        assert d.problem(dt.date(2024, 1, 5)) is None
        assert d.problem("2024-01-05") is None

    def test_date_rejects_other_strings_and_ints(self) -> None:
        """A date param rejects a non-ISO string and an int."""
        d = ParamDef("d", dt.date)
        assert d.problem("05/01/2024") is not None
        assert d.problem(20240105) is not None

    def test_choices(self) -> None:
        """A value outside choices is a problem that lists the choices."""
        d = ParamDef("tier", str, choices=["T1", "T2"])
        assert d.problem("T1") is None
        assert "'T1', 'T2'" in d.problem("T3")

    def test_type_names_equal_types(self) -> None:
        """A type given by name behaves like the type."""
        assert ParamDef("n", "int").type_name == ParamDef("n", int).type_name == "int"
        assert ParamDef("n", "int").problem("x") is not None

    def test_any_accepts_everything(self) -> None:
        """A param with no type accepts any value."""
        assert ParamDef("x").problem(object()) is None

    def test_unknown_type_name_raises(self) -> None:
        """An unknown type name raises ValueError naming the allowed names."""
        with pytest.raises(ValueError, match="unknown type"):
            ParamDef("x", "integer")

    def test_required_with_default_raises(self) -> None:
        """A required param with a default raises ValueError."""
        with pytest.raises(ValueError, match="required"):
            ParamDef("x", int, required=True, default=1)

    def test_paramdef_is_frozen(self) -> None:
        """A ParamDef cannot be changed after creation."""
        import dataclasses

        with pytest.raises(dataclasses.FrozenInstanceError):
            ParamDef("x").required = True  # type: ignore[misc]


class TestCheckParams:
    def test_required_missing(self) -> None:
        """A missing required param is a problem."""
        assert check_params([ParamDef("n", int, required=True)], {}) == ["required param 'n' is missing"]

    def test_unknown_with_suggestion(self) -> None:
        """An unknown param is a problem with a did-you-mean."""
        (problem,) = check_params([ParamDef("tier", str)], {"teir": "T1"})
        assert "unknown param 'teir'" in problem and "did you mean 'tier'" in problem

    def test_unknown_allowed(self) -> None:
        """allow_unknown=True accepts undeclared params."""
        assert check_params([ParamDef("tier", str)], {"x": 1}, allow_unknown=True) == []

    def test_every_problem(self) -> None:
        """All problems are reported, not just the first."""
        defs = [ParamDef("a", int, required=True), ParamDef("b", bool)]
        assert len(check_params(defs, {"b": "yes", "c": 1})) == 3


class TestCheckPipelines:
    def test_unknown_pipeline_suggests(self) -> None:
        """An unknown pipeline is an error finding with the closest registered name."""
        group = PipelineGroup(name="g").add("ingest", "finra.ingest_wek", params={"tier": "T1"})
        (finding,) = check_pipelines(group, finra_registry())
        assert finding.code == "unknown-pipeline"
        assert finding.severity is Severity.ERROR
        assert "did you mean 'finra.ingest_week'?" in finding.message

    def test_invalid_step_param(self) -> None:
        """A step param that breaks its ParamDef is an invalid-param error."""
        findings = check_pipelines(ingest_group(tier="T1", week_ending="2024-01-05", limit="ten"), finra_registry())
        assert [(f.code, f.severity) for f in findings] == [("invalid-param", Severity.ERROR)]
        assert "'limit'" in findings[0].message

    def test_step_param_template_not_checked_early(self) -> None:
        """A templated step param is not type-checked before rendering."""
        findings = check_pipelines(ingest_group(tier="T1", week_ending="2024-01-05", limit="{{ params.n }}"), finra_registry())
        assert findings == []

    def test_required_only_from_run_is_warning(self) -> None:
        """A required param no default or step gives is a required-param-from-run warning."""
        findings = check_pipelines(ingest_group(tier="T1"), finra_registry())
        assert [(f.code, f.severity, f.step) for f in findings] == [
            ("required-param-from-run", Severity.WARNING, "ingest")
        ]
        assert "week_ending" in findings[0].message

    def test_required_from_defaults_is_fine(self) -> None:
        """A required param given by a group default gives no warning."""
        group = ingest_group(tier="T1").with_defaults(week_ending="{{ params.week }}")
        assert check_pipelines(group, finra_registry()) == []

    def test_yaml_finding_located(self) -> None:
        """An unknown pipeline in YAML points at the step's pipeline value."""
        text = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: g}
spec:
  pipelines:
    - name: ingest
      pipeline: finra.nope
"""
        (finding,) = check_pipelines(load_group_from_text(text, file="g.yaml"), finra_registry())
        assert (finding.file, finding.line, finding.column) == ("g.yaml", 7, 17)


class TestPlanWithRegistry:
    def test_required_missing_at_plan_time(self) -> None:
        """A required param nobody gives at plan time raises PlanResolutionError naming it."""
        with pytest.raises(PlanResolutionError) as info:
            PlanResolver(finra_registry()).resolve(ingest_group(tier="T1"))
        (finding,) = info.value.findings
        assert finding.code == "invalid-param"
        assert "week_ending" in finding.message

    def test_required_from_run_params(self) -> None:
        """A required param given as a run param satisfies the pipeline."""
        plan = PlanResolver(finra_registry()).resolve(ingest_group(tier="T1"), {"week_ending": "2024-01-05"})
        assert dict(plan.steps[0].params) == {"limit": 10, "tier": "T1", "week_ending": "2024-01-05"}

    def test_wrong_choice(self) -> None:
        """A run param outside the ParamDef's choices is an invalid-param error."""
        group = PipelineGroup(name="g", defaults={"tier": "{{ params.tier }}"}).add("ingest", "finra.ingest_week")
        with pytest.raises(PlanResolutionError) as info:
            PlanResolver(finra_registry()).resolve(group, {"tier": "T9", "week_ending": "2024-01-05"})
        (finding,) = info.value.findings
        assert finding.code == "invalid-param"
        assert "'T9'" in finding.message

    def test_warning_not_raised_on_plan(self) -> None:
        """The required-param-from-run warning does not stop a plan when the run gives it."""
        plan = PlanResolver(finra_registry()).resolve(ingest_group(tier="T2"), {"week_ending": dt.date(2024, 1, 5)})
        assert plan.steps[0].params["week_ending"] == dt.date(2024, 1, 5)
