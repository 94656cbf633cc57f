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
