"""What the checking pipeline changes on the command line: inputs once, run params, ignored codes."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

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
    - {name: aggregate, pipeline: demo.aggregate, depends_on: [normalize, ingest]}
    - {name: report, pipeline: demo.report, depends_on: [aggregate], params: {limit: "{{ params.limit | default(10) }}"}}
    - {name: archive, pipeline: demo.task, depends_on: [ingest]}
"""

DAILY = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.daily}
spec:
  pipelines:
    - {name: fetch, pipeline: demo.fetch, params: {day: "{{ params.trade_date }}"}}
"""


@pytest.fixture
def groups(in_tmp: Path) -> Path:
    """groups/weekly.yaml (reads tier, week_ending, optional limit; one lint warning) and groups/daily.yaml."""
    (in_tmp / "groups").mkdir()
    (in_tmp / "groups" / "weekly.yaml").write_text(WEEKLY, encoding="utf-8")
    (in_tmp / "groups" / "daily.yaml").write_text(DAILY, encoding="utf-8")
    return in_tmp


class TestInputsOnce:
    def test_validate_folder_and_file_inside_it(self, groups: Path, invoke) -> None:
        """``validate groups groups/weekly.yaml`` checks weekly once: no duplicate-group, exit 0."""
        code, out, _ = invoke("group", "validate", "groups", "groups/weekly.yaml", "--format", "json")
        data = json.loads(out)
        assert code == 0
        assert sorted(g["name"] for g in data["groups"]) == ["demo.daily", "demo.weekly"]
        assert "duplicate-group" not in {f["code"] for f in data["findings"]}

    def test_report_writes_one_page_per_group(self, groups: Path, invoke) -> None:
        """``report groups groups/weekly.yaml`` writes demo.weekly.html once, no demo.weekly-2.html."""
        code, _, err = invoke("group", "report", "groups", "groups/weekly.yaml", "-o", "site", "--no-svg")
        assert code == 0, err
        assert sorted(p.name for p in (groups / "site").iterdir()) == ["demo.daily.html", "demo.weekly.html", "index.html"]


class TestRunParams:
    def test_validate_says_which_run_params_a_group_reads(self, groups: Path, invoke) -> None:
        """Each group's line is followed by the run params it reads, optional ones apart."""
        _, out, _ = invoke("group", "validate", "groups")
        assert "      run params: tier, week_ending (optional: limit)\n" in out
        assert "      run params: trade_date\n" in out

    def test_validate_json_lists_run_params(self, groups: Path, invoke) -> None:
        """JSON gives each group's run params with whether they are required and the steps reading them."""
        _, out, _ = invoke("group", "validate", "groups/daily.yaml", "--format", "json")
        (g,) = json.loads(out)["groups"]
        assert g["run_params"] == [{"name": "trade_date", "required": True, "steps": ["fetch"], "via": ["template"]}]

    def test_show_says_which_run_params_a_group_reads(self, groups: Path, invoke) -> None:
        """show prints the run params between the defaults and the steps."""
        code, out, _ = invoke("group", "show", "groups/weekly.yaml")
        assert code == 0
        assert "  run params: tier, week_ending (optional: limit)\n  steps (5):" in out

    def test_plan_without_params_gives_one_error_per_missing_param(self, groups: Path, invoke) -> None:
        """Two templated defaults on five steps: two missing-run-param errors, each listing the steps."""
        code, _, err = invoke("group", "plan", "groups/weekly.yaml")
        lines = [line for line in err.splitlines() if "missing-run-param" in line]
        assert code == 1 and len(lines) == 2
        assert all("steps 'ingest', 'normalize', 'aggregate', 'report', 'archive' need it" in line for line in lines)
        assert "template-undefined" not in err

    def test_misspelt_param_is_warned_with_did_you_mean(self, groups: Path, invoke) -> None:
        """A --param nothing reads is a warning on stderr naming the closest run param."""
        code, out, err = invoke("group", "plan", "groups/weekly.yaml", "-p", "tier=T1", "-p", "week_ending=2024-01-05", "-p", "limt=3")
        assert code == 0, err
        assert "--param limt: warning unused-run-param" in err and "did you mean 'limit'?" in err
        assert "demo.weekly v1" in out

    def test_report_without_params_warns_once_per_missing_param(self, groups: Path, invoke) -> None:
        """A report without --param is written (exit 0); the page has one warning per missing run param."""
        code, _, err = invoke("group", "report", "groups/weekly.yaml", "-o", "w.html", "--no-svg")
        page = (groups / "w.html").read_text(encoding="utf-8")
        assert code == 0, err
        assert page.count("run param &#39;tier&#39; is not given") == 1
        assert page.count("run param &#39;week_ending&#39; is not given") == 1
        assert "template-undefined" not in page

    def test_folder_report_gives_each_page_only_its_params(self, groups: Path, invoke) -> None:
        """Each page lists the run params its group reads, not the other group's."""
        code, _, err = invoke(
            "group", "report", "groups", "-o", "site", "--no-svg",
            "-p", "tier=T1", "-p", "week_ending=2024-01-05", "-p", "trade_date=2024-01-05",
        )
        assert code == 0, err
        daily = (groups / "site" / "demo.daily.html").read_text(encoding="utf-8")
        weekly = (groups / "site" / "demo.weekly.html").read_text(encoding="utf-8")
        assert "trade_date" in daily and "week_ending" not in daily and "T1" not in daily
        assert "week_ending" in weekly and "trade_date" not in weekly

    def test_report_prints_an_unused_param_on_stderr(self, groups: Path, invoke) -> None:
        """report says on stderr which --param no group reads."""
        code, _, err = invoke("group", "report", "groups", "-o", "site", "--no-svg", "-p", "wek_ending=2024-01-05")
        assert code == 0
        assert re.search(r"^--param wek_ending: warning unused-run-param: .*did you mean 'week_ending'\?", err, re.M)


class TestIgnore:
    def test_ignore_flag_drops_a_warning(self, groups: Path, invoke) -> None:
        """--ignore CODE removes that warning; the group line counts it as ignored."""
        code, out, _ = invoke("group", "validate", "groups/weekly.yaml", "--ignore", "redundant-dependency")
        assert code == 0
        assert "redundant-dependency" not in out and "0 warnings, 1 ignored" in out

    def test_ignored_warning_does_not_fail_strict(self, groups: Path, invoke) -> None:
        """With --strict, an ignored warning no longer fails the run."""
        assert invoke("group", "validate", "groups/weekly.yaml", "--strict")[0] == 1
        assert invoke("group", "validate", "groups/weekly.yaml", "--strict", "--ignore", "redundant-dependency")[0] == 0

    def test_ignoring_an_error_code_is_a_usage_error(self, groups: Path, invoke) -> None:
        """--ignore cycle exits 2 and says errors cannot be ignored."""
        code, out, err = invoke("group", "validate", "groups", "--ignore", "cycle")
        assert code == 2 and out == ""
        assert "'cycle' is an error code and cannot be ignored" in err

    def test_unknown_code_suggests(self, groups: Path, invoke) -> None:
        """A misspelt code exits 2 with a did-you-mean."""
        code, _, err = invoke("group", "report", "groups", "-o", "site", "--ignore", "redundant-dependancy")
        assert code == 2 and "did you mean 'redundant-dependency'?" in err

    def test_configured_lint_ignore(self, groups: Path, invoke) -> None:
        """``lint.ignore`` in [tool.spine] silences a code like --ignore."""
        (groups / "pyproject.toml").write_text('[tool.spine]\nlint.ignore = ["redundant-dependency"]\n', encoding="utf-8")
        code, out, _ = invoke("group", "validate", "groups/weekly.yaml")
        assert code == 0 and "redundant-dependency" not in out and "1 ignored" in out

    def test_configured_error_code_names_the_file(self, groups: Path, invoke) -> None:
        """An error code in lint.ignore exits 2 naming the configuration file."""
        (groups / "spine.toml").write_text('[lint]\nignore = ["missing-dependency"]\n', encoding="utf-8")
        code, _, err = invoke("group", "validate", "groups")
        assert code == 2
        assert "spine.toml: lint.ignore: 'missing-dependency' is an error code and cannot be ignored" in err

    def test_unknown_lint_key_is_a_configuration_error(self, groups: Path, invoke) -> None:
        """A typo in the lint table is refused like any unknown key."""
        (groups / "spine.toml").write_text('[lint]\nignor = ["duplicate-call"]\n', encoding="utf-8")
        code, _, err = invoke("group", "validate", "groups")
        assert code == 2 and "unknown key(s) in [tool.spine.lint]: ignor" in err


class TestThinCli:
    def test_help_loads_no_renderer_and_nothing_heavy(self) -> None:
        """spine --help (which knows the checking pipeline's usage errors) loads no renderer, networkx, jinja2 or yaml."""
        import subprocess

        code = (
            "import sys\nfrom spine.cli.app import run\nrun(['--help'])\n"
            "print(sorted(m for m in sys.modules if m.startswith(('spine.render', 'spine.orchestration', 'networkx', 'jinja2', 'yaml'))))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert out.strip().splitlines()[-1] == "[]"

    def test_markdown_neutralises_mentions(self, in_tmp: Path, invoke) -> None:
        """``validate --format markdown`` writes no live ``@name`` or ``#123`` outside code spans."""
        (in_tmp / "g.yaml").write_text(DAILY.replace("params: {day", "depends_on: ['@octocat #12'], params: {day"), encoding="utf-8")
        code, out, _ = invoke("group", "validate", "g.yaml", "--format", "markdown")
        prose = re.sub(r"(`+).*?\1", "", out.split("### Graphs")[0])
        assert code == 1 and "octocat" in prose
        assert not re.search(r"@\w", prose) and not re.search(r"(?<!&)#\d", prose)
