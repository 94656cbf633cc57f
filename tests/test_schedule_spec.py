"""``spec.schedules`` in the group format: the model, located findings, round trips, the JSON Schema."""

from __future__ import annotations

import jsonschema
import pytest
import yaml

from spine.core.findings import Code
from spine.orchestration import PipelineGroup, Schedule, group_schema, group_to_yaml, load_group_from_text
from spine.orchestration.spec import parse_document
from spine.yamlio.reader import read_documents

TEXT = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {{name: demo}}
spec:
  pipelines:
    - {{name: a, pipeline: x.a}}
  schedules:
    - name: monday_morning
      cron: "{cron}"
      timezone: {tz}
      params: {{week_ending: "{template}"}}
{more}"""


def _doc(cron: str = "0 6 * * 1", tz: str = "America/New_York", template: str = "{{ schedule.logical_date - timedelta(days=3) }}",
         more: str = "") -> str:
    return TEXT.format(cron=cron, tz=tz, template=template, more=more)


def _findings(**kw: str):
    (doc,) = read_documents(_doc(**kw), "g.yaml")
    return parse_document(doc)[1]


def test_a_schedule_is_read_into_the_model() -> None:
    """Every key of a schedule reaches the Schedule model, with the defaults for the rest."""
    group = load_group_from_text(_doc(more="      catchup: true\n      max_catchup: 5\n"))
    [s] = group.schedules
    assert (s.name, s.cron, s.timezone, s.catchup, s.max_catchup, s.enabled) == ("monday_morning", "0 6 * * 1", "America/New_York", True, 5, True)
    assert s.params["week_ending"] == "{{ schedule.logical_date - timedelta(days=3) }}"


def test_yaml_and_dict_round_trip() -> None:
    """A group with schedules survives to_dict/from_dict and group_to_yaml/load; a group without writes no schedules key."""
    group = load_group_from_text(_doc(more="      enabled: false\n"))
    assert PipelineGroup.from_dict(group.to_dict()) == group
    assert load_group_from_text(group_to_yaml(group)) == group
    assert "schedules" not in PipelineGroup("plain").add("a", "x.a").to_dict()["spec"]


@pytest.mark.parametrize(("kw", "code", "where", "says"), [
    ({"cron": "0 6 * *"}, Code.INVALID_CRON, "g.yaml:9:", "has 4 field(s)"),
    ({"cron": "99 6 * * 1"}, Code.INVALID_CRON, "g.yaml:9:", "not a valid cron"),
    ({"tz": "America/New_Yrok"}, Code.UNKNOWN_TIMEZONE, "g.yaml:10:", "did you mean 'America/New_York'"),
    ({"template": "{{ scheduel.logical_date }}"}, Code.SCHEDULE_TEMPLATE, "g.yaml:11:", "did you mean 'schedule'"),
    ({"template": "{{ params.week }}"}, Code.SCHEDULE_TEMPLATE, "g.yaml:11:", "templates can use schedule, timedelta, group"),
    ({"more": "      catchup: yes please\n"}, Code.WRONG_TYPE, "g.yaml:12:", "catchup must be true or false"),
    ({"more": "      max_catchup: 0\n"}, Code.INVALID_VALUE, "g.yaml:12:", "max_catchup must be an integer ≥ 1"),
    ({"more": "      every: 7d\n"}, Code.UNKNOWN_KEY, "g.yaml:12:", "unknown key 'every'"),
    ({"more": "    - {name: monday_morning, cron: '@daily'}\n"}, Code.DUPLICATE_SCHEDULE, "g.yaml:12:", "declared twice"),
])
def test_bad_schedules_are_located_findings(kw: dict[str, str], code: Code, where: str, says: str) -> None:
    """Each problem is one finding with its code, its file:line and what to change."""
    [finding] = _findings(**kw)
    assert finding.code == code and str(finding).startswith(where) and says in finding.message


@pytest.mark.parametrize(("kw", "ok"), [({}, True), ({"more": "      catchup: 1\n"}, False), ({"more": "      color: red\n"}, False)])
def test_the_json_schema_agrees(kw: dict[str, str], ok: bool) -> None:
    """The shipped JSON Schema accepts and refuses the same schedule keys and types."""
    errors = list(jsonschema.Draft202012Validator(group_schema()).iter_errors(yaml.safe_load(_doc(**kw))))
    assert (errors == []) is ok


def test_the_dsl_builds_the_same_group() -> None:
    """add_schedule in Python builds the group read from YAML (and returns a copy)."""
    group = load_group_from_text(_doc())
    plain = PipelineGroup("demo").add("a", "x.a")
    built = plain.add_schedule("monday_morning", "0 6 * * 1", timezone="America/New_York",
                               params={"week_ending": "{{ schedule.logical_date - timedelta(days=3) }}"})
    assert built == group and plain.schedules == ()
    assert built.schedules[0] == Schedule("monday_morning", "0 6 * * 1", "America/New_York",
                                          {"week_ending": "{{ schedule.logical_date - timedelta(days=3) }}"})


def test_the_examples_dsl_group_equals_its_yaml() -> None:
    """examples/dsl_groups.py builds exactly examples/groups/finra_weekly_refresh.yaml, its schedule included."""
    from pathlib import Path

    from examples.dsl_groups import finra_weekly_refresh
    from spine.orchestration import load_group_from_yaml

    from_yaml = load_group_from_yaml(Path(__file__).resolve().parents[1] / "examples" / "groups" / "finra_weekly_refresh.yaml")
    assert finra_weekly_refresh == from_yaml and from_yaml.schedules[0].timezone == "America/New_York"


def test_the_html_report_shows_each_schedules_next_fires() -> None:
    """build_report lists every schedule with its next three fires (in its timezone); the page shows them, escaped."""
    import datetime as dt

    from spine.render.report import build_report, render_report

    group = load_group_from_text(_doc(template="<b>friday</b>"))
    data = build_report(group, now=dt.datetime(2024, 1, 8, 12, tzinfo=dt.UTC))
    [view] = data.schedules
    assert view.next_fires == ("2024-01-15T06:00:00-05:00", "2024-01-22T06:00:00-05:00", "2024-01-29T06:00:00-05:00")
    page = render_report(data)
    assert "<time>2024-01-15T06:00:00-05:00</time>" in page and "&lt;b&gt;friday&lt;/b&gt;" in page and "<b>friday</b>" not in page
