"""Finding codes are one table (``spine.core.Code``); enums are compared as members, never by ``.value`` text."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from spine.core.errors import GroupError
from spine.core.findings import Code, Severity, Stage
from spine.render.view import Direction

SRC = Path(__file__).resolve().parents[1] / "src" / "spine"
DOCS = Path(__file__).resolve().parents[1] / "docs"
_CODE_LIKE = re.compile(r"^[a-z]+(-[a-z]+)+$")
#: The default codes of a GroupError or PlanResolutionError raised with a plain message (by your code).
_FALLBACKS = {"group-error", "plan-error"}
#: Functions whose first argument is a finding code.
_TAKES_A_CODE = {"Finding", "add", "finding", "stop"}


def _python_files() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _code_literals() -> list[tuple[str, int, str]]:
    """(file, line, text) of every string literal passed as a finding code in src/."""
    found = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            args: list[ast.expr] = []
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name in _TAKES_A_CODE and node.args:
                    args.append(node.args[0])
                args += [k.value for k in node.keywords if k.arg == "code"]
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in ("default_code", "code") for t in node.targets):
                args.append(node.value)
            for arg in args:
                for const in ast.walk(arg):
                    if isinstance(const, ast.Constant) and isinstance(const.value, str) and _CODE_LIKE.match(const.value):
                        found.append((str(path.relative_to(SRC)), const.lineno, const.value))
    return found


class TestTable:
    def test_every_code_in_the_source_is_in_the_table(self) -> None:
        """Every code literal given to a Finding (or a checker's add) is a member of Code."""
        literals = _code_literals()
        assert len(literals) > 20  # the scan finds the codes of the reader, the graph and the loader
        assert [x for x in literals if x[2] not in set(Code) | _FALLBACKS] == []

    def test_every_lint_code_is_a_lint_stage_code(self) -> None:
        """The codes lint_group can return are exactly the table's lint-stage codes."""
        from spine.lint.rules import LINT_CODES

        assert set(LINT_CODES) == Code.of_stage(Stage.LINT)

    @pytest.mark.parametrize("code", list(Code))
    def test_every_code_is_documented(self, code: Code) -> None:
        """Each code is named in docs/error-codes.md (which links the lint codes to lint.md)."""
        assert f"`{code.value}`" in (DOCS / "error-codes.md").read_text(encoding="utf-8")

    def test_a_code_is_its_text(self) -> None:
        """A Code equals, hashes and formats as its text, so findings may carry either."""
        assert Code.CYCLE == "cycle" and hash(Code.CYCLE) == hash("cycle") and f"{Code.CYCLE}" == "cycle"
        assert "cycle" in {Code.CYCLE} and Code("cycle") is Code.CYCLE

    def test_severity_of_a_code(self) -> None:
        """Lint codes, run-param codes and required-param-from-run are warnings; the rest are errors."""
        warnings = {c for c in Code if c.severity is Severity.WARNING}
        assert warnings == Code.of_stage(Stage.LINT, Stage.RUN_PARAMS) | {Code.REQUIRED_PARAM_FROM_RUN}

    def test_error_classes_default_to_table_codes(self) -> None:
        """Each GroupError subclass's default code is in the table, but the two fallbacks of errors your own code raises."""
        classes = [GroupError, *GroupError.__subclasses__()]
        assert [c.__name__ for c in classes if c.default_code not in set(Code)] == ["GroupError", "PlanResolutionError"]

    def test_check_reads_the_one_table(self) -> None:
        """spine.check's error and warning codes are the table's, split by severity."""
        from spine.check import ERROR_CODES, WARNING_CODES

        assert set(ERROR_CODES) == {c for c in Code if c.severity is Severity.ERROR}
        assert set(WARNING_CODES) == {c for c in Code if c.severity is Severity.WARNING}


def _value_comparisons() -> list[tuple[str, int]]:
    """(file, line) of each ``x.value == "text"`` (or ``!=``, ``in``) in src/ and its templates."""
    found = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                has_value = any(isinstance(s, ast.Attribute) and s.attr == "value" for s in sides)
                has_text = any(isinstance(s, ast.Constant) and isinstance(s.value, str) for s in sides)
                if has_value and has_text:
                    found.append((str(path.relative_to(SRC)), node.lineno))
    template = re.compile(r"\.value\s*(==|!=|in\b)\s*['\"]")
    for path in sorted(SRC.rglob("*.j2")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if template.search(line):
                found.append((str(path.relative_to(SRC)), i))
    return found


def test_no_enum_value_compared_with_text() -> None:
    """No code (or template) steers on ``.value == "literal"``: enums are compared as members."""
    assert _value_comparisons() == []


class TestDirection:
    def test_members(self) -> None:
        """Direction has the four Graphviz/Mermaid directions, each equal to its text."""
        assert [d.value for d in Direction] == ["TB", "LR", "BT", "RL"] and Direction.LR == "LR"

    def test_unknown_direction(self) -> None:
        """An unknown direction is a ValueError that names the four."""
        with pytest.raises(ValueError, match="direction must be TB, LR, BT or RL, got 'up'"):
            Direction.of("up")

    def test_renderers_take_the_enum(self) -> None:
        """to_dot and to_mermaid accept a Direction member as well as its text."""
        from spine.orchestration import PipelineGroup
        from spine.render import build_graph_view, to_dot, to_mermaid

        view = build_graph_view(PipelineGroup(name="g").add("a", "p"))
        assert to_mermaid(view, direction=Direction.LR) == to_mermaid(view, direction="LR")
        assert "rankdir=LR" in to_dot(view, direction=Direction.LR)
