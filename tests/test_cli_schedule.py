"""``spine scheduler run``, ``spine schedule list|pause|resume`` and ``spine group backfill`` through the real entry point."""

# ruff: noqa: F811 - the fixtures imported from _db are parameters of the tests below

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from _db import db_url  # noqa: F401 - fixture

PIPES = '''\
from pathlib import Path
from spine.framework import register_pipeline

@register_pipeline("sc.ok", allow_extra_params=True)
def ok(params, ctx):
    if Path("broken-" + str(params.get("day"))).exists():
        raise RuntimeError("no data for " + str(params.get("day")))
    return {"day": str(params.get("day"))}
'''

GROUP = '''\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: sc.weekly}
spec:
  defaults: {day: "{{ params.day }}"}
  pipelines:
    - {name: a, pipeline: sc.ok}
    - {name: b, pipeline: sc.ok, depends_on: [a]}
  schedules:
    - name: monday
      cron: "0 6 * * 1"
      timezone: America/New_York
      params: {day: "{{ (schedule.logical_date - timedelta(days=3)).date() }}"}
'''

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


@pytest.fixture
def project(in_tmp: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    (in_tmp / "spine.toml").write_text('pipelines = ["sched_cli_pipes"]\ngroups = ["groups"]\n')
    (in_tmp / "sched_cli_pipes.py").write_text(PIPES)
    (in_tmp / "groups").mkdir()
    (in_tmp / "groups" / "weekly.yaml").write_text(GROUP)
    monkeypatch.syspath_prepend(str(in_tmp))
    monkeypatch.setenv("SPINE_DATABASE_URL", db_url)
    yield in_tmp
    sys.modules.pop("sched_cli_pipes", None)


def _json(invoke, *args: str, code: int = 0) -> object:
    got, out, err = invoke(*args)
    assert got == code, err
    return json.loads(out)


class TestScheduleList:
    def test_list_json_has_next_and_last_fire_with_offsets(self, project: Path, invoke) -> None:
        """schedule list --json: group, name, next_fire, last_fire (ISO-8601 with offset) and the last fire's status."""
        [row] = _json(invoke, "schedule", "list", "--json", "--now", "2024-01-08T10:00:00Z")
        assert (row["group"], row["name"], row["last_fire"], row["last_status"]) == ("sc.weekly", "monday", None, None)
        assert row["next_fire"] == "2024-01-08T06:00:00-05:00" and ISO_WITH_OFFSET.match(row["next_fire"])
        _json(invoke, "scheduler", "run", "--now", "2024-01-08T12:00:00Z", "--json")
        [row] = _json(invoke, "schedule", "list", "--json", "--now", "2024-01-08T12:00:00Z")
        assert (row["last_fire"], row["last_status"], row["next_fire"]) == ("2024-01-08T06:00:00-05:00", "completed", "2024-01-15T06:00:00-05:00")

    def test_list_text_is_a_table(self, project: Path, invoke) -> None:
        """The text list shows each schedule with cron, timezone, state and next fire."""
        code, out, _ = invoke("schedule", "list", "--now", "2024-01-08T10:00:00Z")
        assert code == 0 and "sc.weekly/monday" in out and "America/New_York" in out and "2024-01-08T06:00:00-05:00" in out


class TestPause:
    def test_pause_and_resume(self, project: Path, invoke) -> None:
        """A paused schedule is listed paused and fires nothing; resumed, it fires."""
        code, out, _ = invoke("schedule", "pause", "sc.weekly/monday")
        assert code == 0 and "paused sc.weekly/monday" in out
        [row] = _json(invoke, "schedule", "list", "--json")
        assert row["paused"] is True and row["state"] == "paused"
        assert _json(invoke, "scheduler", "run", "--now", "2024-01-08T12:00:00Z", "--json") == []
        code, out, _ = invoke("schedule", "resume", "sc.weekly/monday")
        assert code == 0 and "resumed sc.weekly/monday" in out
        [fired] = _json(invoke, "scheduler", "run", "--now", "2024-01-08T12:00:00Z", "--json")
        assert (fired["action"], fired["status"]) == ("fired", "completed")

    @pytest.mark.parametrize(("ref", "says"), [("sc.weekly/mondy", "did you mean 'sc.weekly/monday'"), ("monday", "GROUP/NAME")])
    def test_an_unknown_schedule_is_a_usage_error(self, project: Path, invoke, ref: str, says: str) -> None:
        """pause of a schedule that does not exist exits 2 with one line and a suggestion."""
        code, out, err = invoke("schedule", "pause", ref)
        assert code == 2 and says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


class TestSchedulerRun:
    def test_a_pass_fires_and_records_the_run_with_its_schedule(self, project: Path, invoke) -> None:
        """scheduler run --now fires the due tick; runs list --json tags the run with schedule and logical date."""
        [fired] = _json(invoke, "scheduler", "run", "--once", "--now", "2024-01-08T12:00:00Z", "--json")
        [run] = _json(invoke, "runs", "list", "--json")
        assert (run["run_id"], run["schedule"], run["logical_date"]) == (fired["run_id"], "monday", "2024-01-08T11:00:00.000000Z")
        code, out, _ = invoke("runs", "show", run["run_id"])
        assert "fired by schedule monday" in out

    def test_nothing_due_says_when_the_next_fire_is(self, project: Path, invoke) -> None:
        """A pass with nothing due exits 0 and names the next fire."""
        invoke("scheduler", "run", "--now", "2024-01-08T12:00:00Z")
        code, _, err = invoke("scheduler", "run", "--now", "2024-01-09T12:00:00Z")
        assert code == 0 and "next: sc.weekly/monday at 2024-01-15T06:00:00-05:00" in err

    def test_a_failed_fire_exits_1(self, project: Path, invoke) -> None:
        """With --once, a fire whose run failed makes the pass exit 1."""
        (project / "broken-2024-01-05").touch()
        code, _, err = invoke("scheduler", "run", "--now", "2024-01-08T12:00:00Z")
        assert code == 1 and "failed" in err

    def test_a_group_that_broke_records_a_failed_fire(self, project: Path, invoke) -> None:
        """A group file edited into an invalid group: the pass records a failed fire with the findings and exits 1."""
        (project / "groups" / "weekly.yaml").write_text(GROUP.replace("depends_on: [a]", "depends_on: [zz]"))
        code, out, err = invoke("scheduler", "run", "--now", "2024-01-08T12:00:00Z", "--json")
        [fire] = json.loads(out)
        assert code == 1 and (fire["action"], fire["status"]) == ("invalid", "failed")
        assert fire["findings"][0]["code"] == "missing-dependency" and "weekly.yaml:8" in err

    def test_a_bad_now_is_a_usage_error(self, project: Path, invoke) -> None:
        """--now that is not a time exits 2 with one clear line."""
        code, _, err = invoke("scheduler", "run", "--now", "monday")
        assert code == 2 and "not an ISO-8601 time" in err and "Traceback" not in err


class TestBackfill:
    def test_dry_run_json_lists_dates_and_params(self, project: Path, invoke) -> None:
        """--dry-run --json: an array with logical_date and params per run; nothing runs."""
        dates = _json(invoke, "group", "backfill", "sc.weekly", "--from", "2023-12-01", "--to", "2023-12-20", "--schedule", "monday", "--dry-run", "--json")
        assert [(d["logical_date"], d["params"]) for d in dates] == [
            ("2023-12-04T06:00:00-05:00", {"day": "2023-12-01"}),
            ("2023-12-11T06:00:00-05:00", {"day": "2023-12-08"}),
            ("2023-12-18T06:00:00-05:00", {"day": "2023-12-15"}),
        ]
        assert _json(invoke, "runs", "list", "--json") == []

    def test_a_backfill_that_failed_is_finished_by_running_it_again(self, project: Path, invoke) -> None:
        """First run: one date fails (exit 1). Again: completed dates skipped, the failed one resumed (exit 0)."""
        (project / "broken-2023-12-08").touch()
        args = ("group", "backfill", "sc.weekly", "--from", "2023-12-01", "--to", "2023-12-20", "--schedule", "monday", "--json")
        first = _json(invoke, *args, code=1)
        assert [o["status"] for o in first] == ["completed", "failed", "completed"]
        (project / "broken-2023-12-08").unlink()
        again = _json(invoke, *args)
        assert [o["action"] for o in again] == ["skipped", "resumed", "skipped"]
        assert again[1]["run_id"] == first[1]["run_id"] and again[1]["status"] == "completed"
        assert len(_json(invoke, "runs", "list", "--json")) == 3

    def test_every_interval_and_a_summary_table(self, project: Path, invoke) -> None:
        """--every 7d runs a date per week and prints a summary table and a count line."""
        code, out, err = invoke("group", "backfill", "sc.weekly", "--from", "2024-01-01", "--to", "2024-01-14", "--every", "7d",
                                "--param", "day={{ schedule.logical_date.date() }}")
        assert code == 0, err
        assert "LOGICAL DATE" in out and "2024-01-08T00:00:00+00:00" in out
        assert "2 date(s) — 2 completed" in err

    @pytest.mark.parametrize(("args", "says"), [
        (("--schedule", "mondy"), "did you mean 'monday'"),
        (("--every", "week"), "--every 'week'"),
        (("--schedule", "monday", "--every", "7d"), "not both"),
    ])
    def test_bad_requests_exit_2(self, project: Path, invoke, args: tuple[str, ...], says: str) -> None:
        """A bad schedule, interval or combination exits 2 with one line naming what to change."""
        code, _, err = invoke("group", "backfill", "sc.weekly", "--from", "2024-01-01", "--to", "2024-01-31", *args)
        assert code == 2 and says in err and "Traceback" not in err

    def test_a_bad_date_exits_2(self, project: Path, invoke) -> None:
        """--from that is not a date is a usage error."""
        code, _, err = invoke("group", "backfill", "sc.weekly", "--from", "yesterday", "--to", "2024-01-31", "--every", "1d")
        assert code == 2 and "is not a date" in err
