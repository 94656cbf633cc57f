"""Params: layer precedence and sources, offered vs given keys, sandboxed native-type templates."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from spine.core.errors import PlanResolutionError
from spine.framework import ParamDef, PipelineRegistry, PipelineSpec
from spine.orchestration import (
    ParamLayer,
    PipelineGroup,
    PlanResolver,
    load_group_from_text,
    validate_group,
)


def registry_with(name: str, *defs: ParamDef, allow_extra: bool = False) -> PipelineRegistry:
    """A fresh registry holding one pipeline ``name`` that declares ``defs``."""
    registry = PipelineRegistry()
    registry.register(PipelineSpec(name, lambda params, ctx: None, params=defs, allow_extra_params=allow_extra))
    return registry


def one_step(params: dict | None = None, defaults: dict | None = None, pipeline: str = "p.x") -> PipelineGroup:
    return PipelineGroup(name="g", defaults=defaults or {}).add("s", pipeline, params=params or {})


def plan_params(template: str, run: dict | None = None) -> object:
    """The rendered value of one step param holding ``template``."""
    plan = PlanResolver().resolve(one_step({"v": template}), run or {}, batch_id="b-1")
    return plan.steps[0].params["v"]


def template_error(template: str, run: dict | None = None) -> PlanResolutionError:
    with pytest.raises(PlanResolutionError) as info:
        PlanResolver().resolve(one_step({"v": template}), run or {})
    return info.value


class TestPrecedence:
    @pytest.fixture
    def plan(self):
        registry = registry_with(
            "p.x",
            ParamDef("k1", str, default="pipeline"),
            ParamDef("k2", str, default="pipeline"),
            ParamDef("k3", str, default="pipeline"),
            ParamDef("k4", str, default="pipeline"),
        )
        group = one_step(params={"k4": "step"}, defaults={"k2": "default", "k3": "default", "k4": "default"})
        return PlanResolver(registry).resolve(group, {"k3": "run", "k4": "run"})

    def test_values(self, plan) -> None:
        """pipeline default < group default < run < step."""
        assert dict(plan.steps[0].params) == {"k1": "pipeline", "k2": "default", "k3": "run", "k4": "step"}

    def test_sources(self, plan) -> None:
        """param_sources records the layer each value came from."""
        layers = {k: s.layer for k, s in plan.steps[0].param_sources.items()}
        assert layers == {"k1": ParamLayer.PIPELINE, "k2": ParamLayer.DEFAULT, "k3": ParamLayer.RUN, "k4": ParamLayer.STEP}

    def test_without_registry_defaults_run_step(self) -> None:
        """Without a registry the order is group default < run < step."""
        group = one_step(params={"c": "step"}, defaults={"a": "default", "b": "default", "c": "default"})
        plan = PlanResolver().resolve(group, {"b": "run", "c": "run"})
        assert dict(plan.steps[0].params) == {"a": "default", "b": "run", "c": "step"}

    def test_source_keeps_template_text(self) -> None:
        """A templated value's source keeps the template text; a plain one has none."""
        group = one_step(params={"plain": 1}, defaults={"t": "{{ params.tier }}"})
        sources = PlanResolver().resolve(group, {"tier": "T1"}).steps[0].param_sources
        assert sources["t"].template == "{{ params.tier }}"
        assert sources["t"].layer is ParamLayer.DEFAULT
        assert sources["plain"].template is None

    def test_sources_in_to_dict(self) -> None:
        """The plan's dict shows each param's source layer as text."""
        data = PlanResolver().resolve(one_step(defaults={"a": 1}), {}).to_dict()
        assert data["steps"][0]["param_sources"]["a"] == {"layer": "default", "template": None}


class TestOfferedAndGiven:
    def test_registered_pipeline_only_takes_declared_defaults(self) -> None:
        """A group default the pipeline does not declare is offered but not passed to it."""
        registry = registry_with("p.x", ParamDef("tier", str))
        plan = PlanResolver(registry).resolve(one_step(defaults={"tier": "T1", "force": False}))
        assert dict(plan.steps[0].params) == {"tier": "T1"}

    def test_registered_pipeline_only_takes_declared_run_params(self) -> None:
        """A run param the pipeline does not declare is not passed to it."""
        registry = registry_with("p.x", ParamDef("tier", str))
        plan = PlanResolver(registry).resolve(one_step(), {"tier": "T1", "other": 3})
        assert dict(plan.steps[0].params) == {"tier": "T1"}

    def test_unregistered_check_passes_everything(self) -> None:
        """Without a registry every default and run param reaches every step."""
        plan = PlanResolver().resolve(one_step(defaults={"force": False}), {"other": 3})
        assert dict(plan.steps[0].params) == {"force": False, "other": 3}

    def test_extra_params_pipeline_takes_everything_offered(self) -> None:
        """A pipeline with allow_extra_params receives every offered key."""
        registry = registry_with("p.x", ParamDef("tier", str), allow_extra=True)
        plan = PlanResolver(registry).resolve(one_step(defaults={"force": False}), {"tier": "T1"})
        assert dict(plan.steps[0].params) == {"force": False, "tier": "T1"}

    def test_unknown_step_param_is_error(self) -> None:
        """A step param the pipeline does not declare is an unknown-param error with a suggestion."""
        registry = registry_with("p.x", ParamDef("tier", str))
        with pytest.raises(PlanResolutionError) as info:
            PlanResolver(registry).resolve(one_step(params={"teir": "T1"}))
        (finding,) = info.value.findings
        assert finding.code == "unknown-param"
        assert "did you mean 'tier'" in finding.message
        assert finding.step == "s"

    def test_offered_template_not_rendered_for_pipeline_that_ignores_it(self) -> None:
        """An offered templated default a pipeline does not declare is not rendered for it (no undefined error)."""
        registry = registry_with("p.x", ParamDef("tier", str))
        plan = PlanResolver(registry).resolve(one_step(defaults={"tier": "T1", "we": "{{ params.week }}"}))
        assert dict(plan.steps[0].params) == {"tier": "T1"}


class TestNativeTypes:
    def test_int(self) -> None:
        """A lone {{ params.n }} with n=5 gives the int 5."""
        assert plan_params("{{ params.n }}", {"n": 5}) == 5
        assert type(plan_params("{{ params.n }}", {"n": 5})) is int

    def test_list(self) -> None:
        """A lone expression of a list gives the list, frozen to a tuple."""
        assert plan_params("{{ params.xs }}", {"xs": [1, "a"]}) == (1, "a")

    def test_bool_and_none(self) -> None:
        """A lone expression keeps booleans and None."""
        assert plan_params("{{ params.f }}", {"f": False}) is False
        assert plan_params("{{ params.z }}", {"z": None}) is None

    def test_surrounding_whitespace_still_native(self) -> None:
        """Spaces around a lone {{ … }} do not turn the value into a string."""
        assert plan_params("  {{ params.n + 1 }} ", {"n": 5}) == 6

    def test_mixed_text_is_string(self) -> None:
        """Text around an expression gives a string."""
        assert plan_params("n={{ params.n }}", {"n": 5}) == "n=5"

    def test_two_expressions_are_string(self) -> None:
        """Two expressions side by side give a string."""
        assert plan_params("{{ params.a }}{{ params.b }}", {"a": 1, "b": 2}) == "12"

    def test_statement_template_is_string(self) -> None:
        """A {% … %} template renders to text."""
        assert plan_params("{% if params.n > 1 %}big{% else %}small{% endif %}", {"n": 5}) == "big"

    def test_templates_inside_lists_and_dicts(self) -> None:
        """Templates nested in lists and dicts are rendered, keeping native types."""
        plan = PlanResolver().resolve(one_step({"v": {"a": ["{{ params.n }}", 1], "b": "x{{ params.n }}"}}), {"n": 5})
        assert plan.steps[0].params["v"] == {"a": (5, 1), "b": "x5"}

    def test_rendered_value_checked_against_paramdef(self) -> None:
        """A template giving an int satisfies an int ParamDef."""
        registry = registry_with("p.x", ParamDef("n", int, required=True))
        plan = PlanResolver(registry).resolve(one_step(defaults={"n": "{{ params.n }}"}), {"n": 5})
        assert plan.steps[0].params["n"] == 5


class TestContext:
    def test_group(self) -> None:
        """group.name, group.version and group.domain are available."""
        template = "{{ group.name }}/{{ group.version }}/{{ group.domain }}"
        group = PipelineGroup(name="g.x", domain="dom", version=3).add("s", "p", params={"v": template})
        assert PlanResolver().resolve(group).steps[0].params["v"] == "g.x/3/dom"

    def test_step(self) -> None:
        """step.name and step.pipeline are the step being rendered."""
        group = PipelineGroup(name="g", defaults={"v": "{{ step.name }}@{{ step.pipeline }}"}).add("a", "p.a").add("b", "p.b")
        plan = PlanResolver().resolve(group)
        assert [s.params["v"] for s in plan.steps] == ["a@p.a", "b@p.b"]

    def test_batch_id(self) -> None:
        """batch_id is the plan's batch id."""
        assert plan_params("{{ batch_id }}") == "b-1"

    def test_params_are_run_params(self) -> None:
        """params in templates is the run params, not the merged ones."""
        group = one_step(params={"v": "{{ params.k }}"}, defaults={"k": "default"})
        assert PlanResolver().resolve(group, {"k": "run"}).steps[0].params["v"] == "run"


class TestStrictUndefined:
    def test_undefined_param_names_step_key_and_name(self) -> None:
        """An undefined run param is a template-undefined finding naming the step, the key and the name."""
        error = template_error("{{ params.week_ending }}")
        (finding,) = error.findings
        assert finding.code == "template-undefined"
        assert finding.step == "s"
        assert "'v'" in finding.message and "'week_ending'" in finding.message

    def test_undefined_inside_text(self) -> None:
        """An undefined name inside mixed text is an error, not an empty string."""
        assert template_error("week={{ params.week }}").findings[0].code == "template-undefined"

    def test_undefined_in_yaml_default_is_located(self) -> None:
        """An undefined name in a YAML default points at that default's line."""
        text = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: g}
spec:
  defaults:
    tier: "{{ params.tier }}"
  pipelines:
    - {name: a, pipeline: p}
"""
        with pytest.raises(PlanResolutionError) as info:
            PlanResolver().resolve(load_group_from_text(text, file="g.yaml"))
        (finding,) = info.value.findings
        assert (finding.file, finding.line, finding.step) == ("g.yaml", 6, "a")

    def test_every_undefined_reported(self) -> None:
        """Undefined names in several steps are all reported in one error."""
        group = (
            PipelineGroup(name="g")
            .add("a", "p", params={"x": "{{ params.x }}"})
            .add("b", "p", params={"y": "{{ params.y }}"})
        )
        with pytest.raises(PlanResolutionError) as info:
            PlanResolver().resolve(group)
        assert [f.step for f in info.value.findings] == ["a", "b"]


class TestMissingAttributeOfAValue:
    def test_attribute_of_a_string_run_param(self) -> None:
        """params.run_date.year on a string names the param, its type and the attribute, not a param to pass."""
        (finding,) = template_error("{{ params.run_date.year }}", {"run_date": "2000-01-01"}).findings
        assert finding.code == "template-error"
        assert "params.run_date is a str ('2000-01-01'), which has no attribute 'year'" in finding.message
        assert "--param" not in finding.message

    def test_attribute_inside_mixed_text(self) -> None:
        """The same holds for a template inside text ("Week {{ params.run_date.year }}")."""
        (finding,) = template_error("Week {{ params.run_date.year }}", {"run_date": "2000-01-01"}).findings
        assert "params.run_date is a str" in finding.message

    def test_element_of_an_empty_list(self) -> None:
        """params.symbols[0] on [] says the list has no element 0."""
        (finding,) = template_error("{{ params.symbols[0] }}", {"symbols": []}).findings
        assert (finding.code, "params.symbols is a list ([]), which has no element 0" in finding.message) == ("template-error", True)

    def test_missing_key_of_a_mapping_param(self) -> None:
        """params.cfg.region on a mapping without that key says the mapping has no key 'region'."""
        (finding,) = template_error("{{ params.cfg.region }}", {"cfg": {"zone": "a"}}).findings
        assert "params.cfg is a dict ({'zone': 'a'}), which has no key 'region'" in finding.message

    def test_nested_path_is_named(self) -> None:
        """An attribute missing deeper down names the whole path to the value."""
        (finding,) = template_error("{{ params.cfg.zone.name }}", {"cfg": {"zone": "eu-1"}}).findings
        assert "params.cfg.zone is a str ('eu-1'), which has no attribute 'name'" in finding.message

    def test_shared_value_is_not_misnamed(self) -> None:
        """When two run params hold the same object, the one the template names is the one reported."""
        (finding,) = template_error("{{ params.b.year }}", {"a": 5, "b": 5}).findings
        assert "params.b is an int (5)" in finding.message

    def test_missing_run_param_still_says_pass_it(self) -> None:
        """A run param that is missing altogether still says how to pass it (template-undefined)."""
        (finding,) = template_error("{{ params.run_date.year }}").findings
        assert finding.code == "template-undefined"
        assert "pass it with --param run_date=" in finding.message


class TestSandbox:
    def test_dunder_class_mro_blocked(self) -> None:
        """{{ ''.__class__.__mro__ }} is refused as unsafe."""
        assert "unsafe" in str(template_error("{{ ''.__class__.__mro__ }}"))

    def test_subclasses_escape_blocked(self) -> None:
        """The classic __subclasses__ escape is refused."""
        assert "unsafe" in str(template_error("{{ ''.__class__.__mro__[1].__subclasses__() }}"))

    def test_cycler_globals_blocked(self) -> None:
        """{{ cycler.__init__.__globals__ }} is refused as unsafe."""
        assert "unsafe" in str(template_error("{{ cycler.__init__.__globals__ }}"))

    def test_mutating_run_params_blocked(self) -> None:
        """A template cannot mutate the run params (the sandbox is immutable)."""
        xs = [1, 2]
        template_error("{{ params.xs.append(666) }}", {"xs": xs})
        assert xs == [1, 2]

    def test_sandbox_violation_not_labelled_undefined(self) -> None:
        """A sandbox violation is reported as a template error, not as an undefined name."""
        (finding,) = template_error("{{ ''.__class__ }}").findings
        assert finding.code == "template-error"


def _resolve_in_subprocess(template: str, *, timeout: float, memory: int | None = None) -> subprocess.CompletedProcess:
    """Resolve a one-step group whose param is ``template`` in a child Python, with limits."""
    code = textwrap.dedent(
        f"""
        from spine.core.errors import PlanResolutionError
        from spine.orchestration import PipelineGroup, PlanResolver
        group = PipelineGroup(name="g").add("s", "p", params={{"v": {template!r}}})
        try:
            PlanResolver().resolve(group)
        except PlanResolutionError as exc:
            print("PlanResolutionError", exc.findings[0].code)
        else:
            print("resolved")
        """
    )

    def limit() -> None:
        if memory is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, preexec_fn=limit
    )


class TestTemplateResourceLimits:
    def test_huge_power_does_not_hang(self) -> None:
        """{{ 9 ** (9 ** 9) }} ends in a plan error within seconds instead of computing forever."""
        try:
            result = _resolve_in_subprocess("{{ 9 ** (9 ** 9) }}", timeout=5)
        except subprocess.TimeoutExpired:
            pytest.fail("resolving {{ 9 ** (9 ** 9) }} did not finish in 5 s")
        assert result.stdout.startswith("PlanResolutionError"), result.stdout + result.stderr

    def test_huge_repeat_is_a_plan_error(self) -> None:
        """{{ 'a' * 10 ** 10 }} ends in a PlanResolutionError, not MemoryError or an exhausted machine."""
        result = _resolve_in_subprocess("{{ 'a' * 10 ** 10 }}", timeout=20, memory=2 * 1024**3)
        assert result.stdout.startswith("PlanResolutionError"), result.stdout + result.stderr[-400:]


class TestFormatWidths:
    @pytest.mark.parametrize(
        "template",
        [
            "{{ '{:>99999999}'.format(1) }}",
            "{{ '{:>{}}'.format(1, 10 ** 8) }}",
            "{{ '{x:>{w}}'.format_map({'x': 1, 'w': 10 ** 8}) }}",
            "{{ '%*d' % (10 ** 8, 1) }}",
            "{{ '%99999999d' % 1 }}",
        ],
    )
    def test_huge_padding_is_refused(self, template: str) -> None:
        """str.format, format_map and % refuse a padding width beyond the limit, written or taken from an argument."""
        (finding,) = template_error(template).findings
        assert "template size limit" in finding.message

    @pytest.mark.parametrize(
        ("template", "value"),
        [("{{ '{}'.format(1234567) }}", "1234567"), ("{{ '{:>5}'.format('ab') }}", "   ab"), ("{{ '%d-%s' % (1234567, 'a') }}", "1234567-a")],
    )
    def test_ordinary_formatting_still_works(self, template: str, value: str) -> None:
        """Formatting with small widths, or big numbers as values, renders as usual."""
        assert plan_params(template, {}) == value


class TestValidateTemplates:
    def test_syntax_error(self) -> None:
        """A template syntax error is a template-error finding from validate."""
        findings = validate_group(one_step(defaults={"x": "{{ params.x "}))
        assert [f.code for f in findings] == ["template-error"]
        assert "syntax error" in findings[0].message

    def test_unknown_root_name_suggests(self) -> None:
        """{{ parms.x }} is a template-error with a did-you-mean for params."""
        (finding,) = validate_group(one_step(params={"x": "{{ parms.x }}"}))
        assert finding.code == "template-error"
        assert "did you mean 'params'?" in finding.message
        assert finding.step == "s"

    @pytest.mark.parametrize("value", [["ok", "{{ parms.x }}"], {"k": ["{{ parms.x }}"]}], ids=["list", "nested"])
    def test_templates_inside_lists_are_checked(self, value: object) -> None:
        """A bad template inside a list (stored as a tuple) or a nested mapping of a step param is reported by validate."""
        (finding,) = validate_group(one_step(params={"x": value}))
        assert (finding.code, finding.step) == ("template-error", "s")

    def test_syntax_error_fails_resolve(self) -> None:
        """Resolving a group with a template syntax error raises PlanResolutionError."""
        with pytest.raises(PlanResolutionError) as info:
            PlanResolver().resolve(one_step(params={"x": "{% if %}"}), {})
        assert info.value.findings[0].code == "template-error"

    def test_valid_templates_have_no_findings(self) -> None:
        """Templates using only params, group, step and batch_id are fine."""
        group = one_step(params={"x": "{{ params.a }}-{{ group.name }}-{{ step.name }}-{{ batch_id }}"})
        assert validate_group(group) == []


class TestCompileProblems:
    def test_unknown_filter_is_a_template_error_with_a_suggestion(self) -> None:
        """A misspelled filter is a template-error finding with did-you-mean, not a traceback (atheris found it)."""
        from spine.orchestration import PipelineGroup, validate_group

        group = PipelineGroup(name="g").add("a", "p", params={"x": "{{ params.symbols | defualt([]) }}"})
        (f,) = validate_group(group)
        assert (f.code, "did you mean 'default'" in f.message, "\n" in f.message) == ("template-error", True, False)

    def test_unknown_test_is_a_template_error(self) -> None:
        """An unknown Jinja test (`is nonsense`) is a template-error finding too."""
        from spine.orchestration import PipelineGroup, validate_group

        group = PipelineGroup(name="g").add("a", "p", params={"x": "{{ params.x is nonsense }}"})
        assert [f.code for f in validate_group(group)] == ["template-error"]
