"""The CLI through its real entry point: exit codes and output shapes."""

from __future__ import annotations

import json
from pathlib import Path

GOOD = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.group, domain: demo}
spec:
  defaults: {tier: "{{ params.tier }}"}
  pipelines:
    - {name: a, pipeline: x.a}
    - {name: b, pipeline: x.b, depends_on: [a]}
"""


def test_validate_valid_file_exits_0(in_tmp: Path, invoke) -> None:
    """A valid group validates with exit 0 and says pipelines were not checked."""
    (in_tmp / "g.yaml").write_text(GOOD)
    code, out, _ = invoke("group", "validate", "g.yaml")
    assert code == 0, out
    assert "demo.group" in out and "pipelines not checked" in out


def test_validate_missing_path_is_usage_error(in_tmp: Path, invoke) -> None:
    """A path that does not exist is a usage error: exit 2."""
    code, _, err = invoke("group", "validate", "nope.yaml")
    assert code == 2
    assert "nope.yaml" in err


def test_plan_json_shape(in_tmp: Path, invoke) -> None:
    """plan --json prints the documented shape with templates rendered."""
    (in_tmp / "g.yaml").write_text(GOOD)
    code, out, _ = invoke("group", "plan", "g.yaml", "--param", "tier=T1", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["group"] == {"name": "demo.group", "version": 1, "domain": "demo"}
    assert [s["name"] for s in data["steps"]] == ["a", "b"]
    assert data["steps"][1]["params"] == {"tier": "T1"}
    assert data["generations"] == [["a"], ["b"]]
    assert data["critical_path"] == ["a", "b"]
    assert data["batch_id"].startswith("group_demo.group_")


def test_verbose_logs_go_to_stderr_and_stdout_stays_json(in_tmp: Path, invoke) -> None:
    """-v logs loading and planning through structlog on stderr; stdout is still pure JSON."""
    (in_tmp / "g.yaml").write_text(GOOD)
    code, out, err = invoke("-v", "group", "plan", "g.yaml", "--param", "tier=T1", "--json")
    assert code == 0
    assert json.loads(out)["group"]["name"] == "demo.group"
    assert "loaded 1 document(s)" in err and "resolved demo.group: 2 step(s)" in err


def test_library_logs_nothing_unless_configured(in_tmp: Path, capsys) -> None:
    """Using the library prints nothing: its loggers are silent until the CLI configures them."""
    import logging

    from spine.orchestration import PlanResolver, load_group_from_text

    logging.getLogger("spine").handlers.clear()
    logging.getLogger("spine").propagate = True
    PlanResolver().resolve(load_group_from_text(GOOD), {"tier": "T1"})
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_report_counts_unreadable_documents_apart(in_tmp: Path, invoke) -> None:
    """A report over a folder with an unreadable file says so apart from invalid groups, and exits 1."""
    (in_tmp / "groups").mkdir()
    (in_tmp / "groups" / "good.yaml").write_text(GOOD)
    (in_tmp / "groups" / "broken.yaml").write_text("a: [\n")
    code, _, err = invoke("group", "report", "groups", "-o", "site", "--param", "tier=T1", "--no-svg")
    assert code == 1
    assert "1 group report(s), 0 invalid; 1 document(s) could not be read" in err
    assert (in_tmp / "site" / "index.html").exists()


def test_report_on_an_empty_folder_is_a_usage_error(in_tmp: Path, invoke) -> None:
    """An empty folder is exit 2 for report, as for validate and fuzz."""
    (in_tmp / "empty").mkdir()
    code, _, err = invoke("group", "report", "empty", "-o", "site")
    assert code == 2 and "no group files" in err
