"""The checking pipeline as a library: typed reports, de-duplicated inputs, run params, ignored codes."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spine.check import (
    ERROR_CODES,
    IGNORABLE_CODES,
    WARNING_CODES,
    CheckSettings,
    GitSourceError,
    IgnoreCodeError,
    NoGroupFilesError,
    PathNotFoundError,
    PlanStatus,
    RunParamSyntaxError,
    check_documents,
    check_groups,
    check_paths,
    group_files,
    ignore_codes,
    parse_git_spec,
    parse_params,
    run_params_of,
    template_params,
)
from spine.core.errors import GroupError
from spine.core.findings import Severity
from spine.framework import ParamDef, PipelineRegistry, register_pipeline
from spine.orchestration import PipelineGroup, PlanResolver, load_group_from_text, scan

REPO = Path(__file__).resolve().parents[1]

WEEKLY = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.weekly}
spec:
  defaults:
    tier: "{{ params.tier }}"
    week_ending: "{{ params.week_ending }}"
  pipelines:
    - {name: ingest, pipeline: demo.ingest}
    - {name: normalize, pipeline: demo.normalize, depends_on: [ingest]}
    - {name: aggregate, pipeline: demo.aggregate, depends_on: [normalize]}
    - {name: report, pipeline: demo.report, depends_on: [aggregate]}
    - {name: archive, pipeline: demo.task, depends_on: [ingest]}
"""

DAILY = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.daily}
spec:
  pipelines:
    - {name: fetch, pipeline: demo.fetch, params: {day: "{{ params.trade_date }}"}}
    - {name: load, pipeline: demo.load, depends_on: [fetch, fetch]}
"""

BROKEN = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.broken}
spec:
  pipelines:
    - {name: a, pipeline: demo.a, depends_on: [b]}
    - {name: b, pipeline: demo.b, depends_on: [a]}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """groups/ with weekly.yaml, daily.yaml and broken.yaml."""
    root = tmp_path / "groups"
    root.mkdir()
    (root / "weekly.yaml").write_text(WEEKLY, encoding="utf-8")
    (root / "daily.yaml").write_text(DAILY, encoding="utf-8")
    (root / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    return root


def group(text: str) -> PipelineGroup:
    return load_group_from_text(text, file="g.yaml")


def registry(*specs: tuple[str, list[ParamDef]]) -> PipelineRegistry:
    reg = PipelineRegistry()
    for name, params in specs:
        register_pipeline(name, params=params, registry=reg)(lambda params, ctx: None)
    return reg


# -- inputs ---------------------------------------------------------------------------------


class TestInputs:
    def test_same_file_twice_is_checked_once(self, folder: Path) -> None:
        """A file given twice is one document, with no duplicate-group finding."""
        report = check_paths([folder / "weekly.yaml", folder / "weekly.yaml"])
        assert [g.name for g in report.groups] == ["demo.weekly"]
        assert "duplicate-group" not in {f.code for f in report.all_findings()}

    def test_folder_and_a_file_inside_it_are_checked_once(self, folder: Path) -> None:
        """A folder and a file inside it give each document once, where it first appears."""
        report = check_paths([folder, folder / "weekly.yaml"])
        assert sorted(g.name for g in report.groups) == ["demo.broken", "demo.daily", "demo.weekly"]
        assert "duplicate-group" not in {f.code for f in report.all_findings()}

    def test_a_file_given_through_another_path_is_checked_once(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """``groups/x.yaml`` and ``./groups/../groups/x.yaml`` resolve to one file."""
        monkeypatch.chdir(folder.parent)
        files = group_files(["groups/weekly.yaml", "./groups/../groups/weekly.yaml"])
        assert files == [Path("groups/weekly.yaml")]

    def test_a_symlink_to_a_file_already_given_is_skipped(self, folder: Path) -> None:
        """A symlink resolving to a file already given is not read again."""
        link = folder.parent / "link.yaml"
        os.symlink(folder / "weekly.yaml", link)
        assert group_files([folder / "weekly.yaml", link]) == [folder / "weekly.yaml"]

    def test_a_real_duplicate_name_is_still_found(self, folder: Path) -> None:
        """Two different files declaring one group name still give duplicate-group."""
        (folder / "copy.yaml").write_text(WEEKLY, encoding="utf-8")
        report = check_paths([folder])
        assert [f.code for f in report.all_findings()].count("duplicate-group") == 1

    def test_missing_path_raises_with_the_path(self, tmp_path: Path) -> None:
        """A path that does not exist raises PathNotFoundError carrying it."""
        with pytest.raises(PathNotFoundError) as info:
            check_paths([tmp_path / "nope"])
        assert info.value.path == str(tmp_path / "nope")

    def test_folder_without_group_files_raises(self, tmp_path: Path) -> None:
        """A folder with no *.yaml/*.yml raises NoGroupFilesError (a check of nothing must not pass)."""
        (tmp_path / "notes.txt").write_text("x")
        with pytest.raises(NoGroupFilesError) as info:
            check_paths([tmp_path])
        assert info.value.paths == (str(tmp_path),)

    def test_nothing_to_check_raises(self) -> None:
        """No paths and no extra groups raises NoGroupFilesError."""
        with pytest.raises(NoGroupFilesError):
            check_paths([])


# -- the report -----------------------------------------------------------------------------


class TestReport:
    def test_findings_stay_with_their_group(self, tmp_path: Path) -> None:
        """In a file of two groups, each group check holds exactly its own findings."""
        (tmp_path / "two.yaml").write_text(BROKEN + "---\n" + DAILY, encoding="utf-8")
        (fc,) = check_paths([tmp_path]).files
        broken, daily = fc.groups
        assert {f.code for f in broken.findings} == {"cycle"} and {f.group for f in broken.findings} == {"demo.broken"}
        assert {f.code for f in daily.findings} == {"duplicate-dependency"} and {f.group for f in daily.findings} == {"demo.daily"}
        assert (broken.document, daily.document) == (0, 1)

    def test_one_file_check_per_file_in_order(self, folder: Path) -> None:
        """Files keep the order they were found in, one FileCheck each."""
        report = check_paths([folder])
        assert [Path(f.file).name for f in report.files] == ["broken.yaml", "daily.yaml", "weekly.yaml"]

    def test_validity_and_counts(self, folder: Path) -> None:
        """A group with an error is invalid; warnings alone are not, unless strict."""
        report = check_paths([folder])
        by = {g.name: g for g in report.groups}
        assert (by["demo.broken"].valid, by["demo.daily"].valid, by["demo.weekly"].valid) == (False, True, True)
        assert report.invalid == 1 and not report.valid
        strict = check_paths([folder / "daily.yaml"], CheckSettings(strict=True))
        assert strict.groups[0].warnings == 1 and not strict.valid

    def test_unreadable_document_has_no_group_and_says_why(self, tmp_path: Path) -> None:
        """A YAML syntax error is a group check without a group, whose plan status says so."""
        (tmp_path / "bad.yaml").write_text("apiVersion: [\n", encoding="utf-8")
        (g,) = check_paths([tmp_path]).groups
        assert g.group is None and g.plan_status is PlanStatus.NOT_LOADED and not g.valid
        assert g.label == "document 1 (not loaded)"

    def test_json_shape(self, folder: Path) -> None:
        """to_dict has the documented keys, run params included, and every finding."""
        data = check_paths([folder]).to_dict()
        assert set(data) == {"valid", "strict", "pipelines_checked", "groups", "findings"}
        weekly = next(g for g in data["groups"] if g["name"] == "demo.weekly")
        assert {"name", "file", "document", "valid", "steps", "errors", "warnings", "run_params", "plan"} <= set(weekly)
        assert [p["name"] for p in weekly["run_params"]] == ["tier", "week_ending"]
        assert len(data["findings"]) == sum(g["errors"] + g["warnings"] for g in data["groups"])

    def test_extra_groups_are_checked_after_the_files(self, folder: Path) -> None:
        """Groups registered in Python are checked too, as a file of their own with no path."""
        dsl = PipelineGroup(name="demo.python").add("a", "demo.a")
        report = check_paths([folder / "weekly.yaml"], CheckSettings(extra_groups=(dsl,)))
        assert [(f.file, [g.name for g in f.groups]) for f in report.files][-1] == (None, ["demo.python"])

    def test_check_groups_locates_findings_in_the_yaml(self) -> None:
        """A group taken from a registry keeps its file positions."""
        (g,) = check_groups([group(BROKEN)]).groups
        assert {(f.file, f.code) for f in g.findings} == {("g.yaml", "cycle")}

    def test_documents_read_elsewhere(self) -> None:
        """check_documents takes what scan (or a git revision) read."""
        report = check_documents(scan([REPO / "examples" / "groups" / "finra_weekly_refresh.yaml"]))
        assert [g.name for g in report.groups] == ["finra.weekly_refresh"]


# -- run params ------------------------------------------------------------------------------


class TestTemplateParams:
    @pytest.mark.parametrize(
        ("text", "names", "reads_any"),
        [
            ("{{ params.tier }}", (("tier", False),), False),
            ("{{ params['tier'] }}-{{ params.week }}", (("tier", False), ("week", False)), False),
            ("{{ params.symbols[0] }}", (("symbols", False),), False),
            ("{{ params.limit | default(10) }}", (("limit", True),), False),
            ("{% if params.x is defined %}{{ params.x }}{% endif %}", (("x", True),), False),
            ("{% if 'x' in params %}{{ params.x }}{% endif %}", (("x", True),), False),
            ("{{ params.get('x', 1) }}", (("x", True),), False),
            ("{{ params.items() | list }}", (), True),
            ("{{ params }}", (), True),
            ("{{ params[key] }}", (), True),
            ("{{ group.name }} {{ batch_id }}", (), False),
            ("{{ broken", (), False),
        ],
    )
    def test_names_read(self, text: str, names: tuple, reads_any: bool) -> None:
        """Each params.NAME / params['NAME'] is found, guarded ones marked, whole-params use flagged."""
        tp = template_params(text)
        assert (tp.names, tp.reads_any) == (names, reads_any)


class TestRunParamsOf:
    def test_templated_defaults_name_every_step(self) -> None:
        """Without pipelines, every step receives the defaults, so every step reads their params."""
        use = run_params_of(group(WEEKLY))
        assert [(p.name, p.required, p.steps) for p in use.params] == [
            ("tier", True, ("ingest", "normalize", "aggregate", "report", "archive")),
            ("week_ending", True, ("ingest", "normalize", "aggregate", "report", "archive")),
        ]

    def test_a_default_reaches_only_steps_whose_pipeline_declares_it(self) -> None:
        """With pipelines, a templated default is read only by the steps it is offered to."""
        reg = registry(("demo.ingest", [ParamDef("tier", str)]), ("demo.normalize", []), ("demo.aggregate", []), ("demo.report", []), ("demo.task", []))
        tier = next(p for p in run_params_of(group(WEEKLY), reg).params if p.name == "tier")
        assert tier.steps == ("ingest",) and tier.via == ("template", "pipeline")

    def test_required_pipeline_param_without_default(self) -> None:
        """A required ParamDef no default or step param gives is a required run param."""
        reg = registry(("demo.fetch", [ParamDef("day", str), ParamDef("venue", str, required=True)]), ("demo.load", [ParamDef("force", bool)]))
        params = {p.name: p for p in run_params_of(group(DAILY), reg).params}
        assert params["venue"].required and params["venue"].via == ("pipeline",)
        assert not params["force"].required  # optional: a run param may set it
        assert "day" not in params  # the step sets it; run params never override a step's own params

    def test_a_run_param_replacing_a_default_makes_its_template_moot(self) -> None:
        """A default's template is not rendered when a run param of the same key is given."""
        g = group(WEEKLY.replace("{{ params.tier }}", "{{ params.tier_name }}"))
        use = run_params_of(g)
        assert set(use.missing({"week_ending": "x"})) == {"tier_name"}
        assert use.missing({"week_ending": "x", "tier": "T1"}) == {}

    def test_guarded_names_are_optional(self) -> None:
        """A name read only through ``| default`` is optional and never missing."""
        g = group(DAILY.replace("{{ params.trade_date }}", "{{ params.trade_date | default('today') }}"))
        use = run_params_of(g)
        assert [(p.name, p.required) for p in use.params] == [("trade_date", False)]
        assert use.missing({}) == {}


class TestRunParamsLine:
    def test_names_required_then_template_optional_params(self) -> None:
        """The text line lists required params, then optional ones a template reads; pipeline defaults stay in the JSON only."""
        from spine.render.text import run_params_line

        reg = registry(("demo.fetch", [ParamDef("day", str), ParamDef("venue", str, required=True), ParamDef("retries", int, default=3)]), ("demo.load", []))
        g = group(DAILY.replace("params: {day", "params: {note: \"{{ params.note | default('') }}\", day"))
        use = run_params_of(g, reg)
        assert run_params_line(use) == "run params: trade_date, venue (optional: note)"
        assert "retries" in {p.name for p in use.params}

    def test_nothing_to_say_is_no_line(self) -> None:
        """A group that reads no run param gets no line."""
        from spine.render.text import run_params_line

        assert run_params_line(run_params_of(group(BROKEN))) is None


class TestResolving:
    def test_one_finding_per_missing_run_param_listing_its_steps(self, folder: Path) -> None:
        """Two templated defaults on five steps and no params give two findings, not ten."""
        report = check_paths([folder / "weekly.yaml"], CheckSettings(run_params={}))
        (g,) = report.groups
        missing = [f for f in g.findings if f.code == "missing-run-param"]
        assert [f.severity for f in missing] == [Severity.WARNING, Severity.WARNING]
        assert "'tier'" in missing[0].message and "'week_ending'" in missing[1].message
        assert "steps 'ingest', 'normalize', 'aggregate', 'report', 'archive'" in missing[0].message
        assert (missing[0].line, missing[0].column) == (6, 11)
        assert g.plan is None and g.plan_status is PlanStatus.NEEDS_RUN_PARAMS and g.valid

    def test_a_required_plan_makes_a_missing_run_param_an_error(self, folder: Path) -> None:
        """With require_run_params the missing run param is an error and the group invalid."""
        settings = CheckSettings(run_params={"tier": "T1"}, require_run_params=True)
        (g,) = check_paths([folder / "weekly.yaml"], settings).groups
        assert [(f.code, f.severity) for f in g.findings] == [("missing-run-param", Severity.ERROR)]
        assert not g.valid

    def test_all_run_params_given_resolves_the_plan(self, folder: Path) -> None:
        """Every run param given: the plan is resolved with them."""
        settings = CheckSettings(run_params={"tier": "T1", "week_ending": "2024-01-05"}, batch_id="b-1")
        (g,) = check_paths([folder / "weekly.yaml"], settings).groups
        assert g.plan_status is PlanStatus.RESOLVED and g.plan is not None
        assert g.plan.batch_id == "b-1" and g.plan.step("archive").params["tier"] == "T1"

    def test_invalid_group_is_not_resolved(self, folder: Path) -> None:
        """A group with errors gets no plan, and says why."""
        (g,) = check_paths([folder / "broken.yaml"], CheckSettings(run_params={})).groups
        assert g.plan is None and g.plan_status is PlanStatus.INVALID

    def test_no_plans_unless_asked(self, folder: Path) -> None:
        """Without run params (None) no plan is resolved and no missing-run-param appears."""
        (g,) = check_paths([folder / "weekly.yaml"]).groups
        assert g.plan_status is PlanStatus.NOT_REQUESTED
        assert "missing-run-param" not in {f.code for f in g.findings}

    def test_required_param_from_run_is_answered_once_run_params_are_given(self) -> None:
        """Resolving drops required-param-from-run: missing-run-param answers it (once, listing steps)."""
        reg = registry(("demo.fetch", [ParamDef("venue", str, required=True), ParamDef("day", str)]), ("demo.load", [ParamDef("venue", str, required=True)]))
        g = group(DAILY)
        (validated,) = check_groups([g], CheckSettings(registry=reg)).groups
        assert [f.code for f in validated.findings].count("required-param-from-run") == 2
        (resolved,) = check_groups([g], CheckSettings(registry=reg, run_params={"trade_date": "x"})).groups
        codes = [f.code for f in resolved.findings]
        assert "required-param-from-run" not in codes and codes.count("missing-run-param") == 1

    def test_a_template_failing_with_the_given_params_is_reported(self) -> None:
        """A template that fails for the values given (not for a missing name) is a finding, status FAILED."""
        g = group(DAILY.replace("{{ params.trade_date }}", "{{ params.trade_date.year }}"))
        (c,) = check_groups([g], CheckSettings(run_params={"trade_date": "2024-01-05"})).groups
        assert c.plan_status is PlanStatus.FAILED and c.errors >= 1


class TestRunParamRelevance:
    def test_a_param_no_group_reads_is_one_warning_with_did_you_mean(self, folder: Path) -> None:
        """A misspelt --param is an unused-run-param warning suggesting the real name."""
        report = check_paths([folder], CheckSettings(run_params={"wek_ending": "2024-01-05"}))
        (f,) = report.findings
        assert (f.code, f.severity, f.file) == ("unused-run-param", Severity.WARNING, "--param wek_ending")
        assert "did you mean 'week_ending'?" in f.message

    def test_each_group_gets_only_the_params_it_reads(self, folder: Path) -> None:
        """A folder report applies each param to the groups that read it."""
        params = {"tier": "T1", "week_ending": "2024-01-05", "trade_date": "2024-01-05"}
        report = check_paths([folder], CheckSettings(run_params=params))
        by = {g.name: g for g in report.groups}
        assert by["demo.weekly"].params == {"tier": "T1", "week_ending": "2024-01-05"}
        assert by["demo.daily"].params == {"trade_date": "2024-01-05"}
        assert report.findings == ()

    def test_a_param_no_group_reads_still_reaches_every_group(self, folder: Path) -> None:
        """An unread param is applied everywhere (a pipeline accepting any param receives it)."""
        report = check_paths([folder / "daily.yaml"], CheckSettings(run_params={"trade_date": "d", "extra": 1}))
        assert report.groups[0].params == {"trade_date": "d", "extra": 1}
        assert report.groups[0].plan.step("fetch").params["extra"] == 1

    def test_a_group_reading_params_as_a_whole_uses_every_param(self, tmp_path: Path) -> None:
        """When a template reads ``params`` as a whole, no param is unused for that group."""
        (tmp_path / "g.yaml").write_text(DAILY.replace("{{ params.trade_date }}", "{{ params | length }}"), encoding="utf-8")
        report = check_paths([tmp_path], CheckSettings(run_params={"anything": 1}))
        assert report.findings == () and report.groups[0].params == {"anything": 1}


# -- ignoring codes --------------------------------------------------------------------------


class TestIgnore:
    def test_ignored_warnings_are_dropped_and_counted(self, folder: Path) -> None:
        """An ignored warning code disappears from the group and is counted."""
        (g,) = check_paths([folder / "daily.yaml"], CheckSettings(ignore=frozenset({"duplicate-dependency"}))).groups
        assert g.findings == () and g.ignored == 1

    def test_errors_are_never_dropped(self, folder: Path) -> None:
        """Even in the ignore set, an error stays (only warnings can be ignored)."""
        (g,) = check_paths([folder / "broken.yaml"], CheckSettings(ignore=frozenset({"cycle"}))).groups
        assert "cycle" in {f.code for f in g.findings} and g.ignored == 0

    def test_unused_run_param_can_be_ignored(self, folder: Path) -> None:
        """The report's own warnings honour ignore too."""
        settings = CheckSettings(run_params={"nobody": 1}, ignore=frozenset({"unused-run-param"}))
        assert check_paths([folder / "daily.yaml"], settings).findings == ()

    def test_ignore_codes_refuses_an_error_code_saying_so(self) -> None:
        """Asking to ignore an error code raises, naming where it was asked and why."""
        with pytest.raises(IgnoreCodeError, match=r"^--ignore: 'cycle' is an error code and cannot be ignored") as info:
            ignore_codes(["cycle"])
        assert info.value.code == "cycle"

    def test_ignore_codes_suggests_for_an_unknown_code(self) -> None:
        """An unknown code raises with a did-you-mean."""
        with pytest.raises(IgnoreCodeError, match="did you mean 'redundant-dependency'"):
            ignore_codes(["redundant-dependancy"], where="spine.toml: lint.ignore")

    def test_ignore_codes_accepts_every_warning_code(self) -> None:
        """Every warning code can be ignored."""
        assert ignore_codes(WARNING_CODES) == frozenset(WARNING_CODES) == frozenset(IGNORABLE_CODES)


class TestCodes:
    def test_lint_codes_are_warning_codes(self) -> None:
        """The lint rules' codes (spine.lint.LINT_CODES) are exactly the lint part of WARNING_CODES."""
        from spine.check.codes import LINT_CODES as repeated
        from spine.lint import LINT_CODES

        assert repeated == LINT_CODES and set(LINT_CODES) <= set(WARNING_CODES)

    def test_every_documented_code_is_known_with_its_severity(self) -> None:
        """docs/error-codes.md documents exactly the error codes and the non-lint warning codes."""
        text = (REPO / "docs" / "error-codes.md").read_text(encoding="utf-8")
        documented = set(re.findall(r"^## ([a-z][a-z-]*)$", text, flags=re.M))
        from spine.lint import LINT_CODES

        assert documented == set(ERROR_CODES) | (set(WARNING_CODES) - set(LINT_CODES))


# -- parsing ----------------------------------------------------------------------------------


class TestParsing:
    @given(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), st.integers())
    def test_integers_keep_their_type(self, key: str, value: int) -> None:
        """``KEY=<int>`` always parses to that int under that key."""
        assert parse_params([f"{key}={value}"]) == {key: value}

    def test_item_without_equals_raises_with_the_item(self) -> None:
        """``--param tier`` raises RunParamSyntaxError carrying the item."""
        with pytest.raises(RunParamSyntaxError) as info:
            parse_params(["tier"])
        assert info.value.item == "tier"

    @pytest.mark.parametrize("spec", ["git:", "git:HEAD", "git::g.yaml", "git:-x:g.yaml"])
    def test_malformed_git_source_raises(self, spec: str) -> None:
        """A git source that is not git:REF:path (or whose ref looks like an option) raises GitSourceError."""
        with pytest.raises(GitSourceError) as info:
            parse_git_spec(spec)
        assert info.value.spec == spec


# -- the analysis agrees with the planner -------------------------------------------------------


@given(st.data())
def test_missing_run_params_agree_with_resolution(data: st.DataObject) -> None:
    """Guarantee: for a generated group and any subset of run params that satisfy it,
    resolution fails with a missing name exactly when the analysis says a run param is
    missing, and the analysis never names a param the plan did not need."""
    from spine.testing import groups, run_params

    g = data.draw(groups(templates=True, max_steps=6))
    full = data.draw(run_params(g))
    keep = data.draw(st.sets(st.sampled_from(sorted(full)), max_size=len(full))) if full else set()
    given = {k: v for k, v in full.items() if k in keep}
    missing = run_params_of(g).missing(given)
    try:
        PlanResolver().resolve(g, given)
    except GroupError as exc:
        codes = {f.code for f in exc.findings}
        assert missing, f"resolution failed ({codes}) but the analysis found nothing missing"
        assert "template-undefined" in codes
    else:
        assert not missing, f"the analysis asked for {sorted(missing)} but the plan resolved without them"
