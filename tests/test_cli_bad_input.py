"""The CLI on hostile and broken input: exit codes, locations, JSON shape, no tracebacks."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

NAME = "hostile.yaml"

VALID = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata:
  name: demo
spec:
  pipelines:
    - name: ingest
      pipeline: x.ingest
    - name: normalize
      pipeline: x.normalize
      depends_on: [ingest]
"""


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


#: id → (file content, expected finding code, line, column); column None: any column (libyaml
#: refuses 1000-level flow nesting while scanning ahead, before spine's own depth check sees it).
HOSTILE: dict[str, tuple[bytes, str, int, int | None]] = {
    "duplicate key": (b"a: 1\nb: 2\na: 3\n", "duplicate-key", 3, 1),
    "python object/apply": (b"!!python/object/apply:os.system ['touch pwned']\n", "unsupported-tag", 1, 1),
    "python name": (b"x: !!python/name:os.system\n", "unsupported-tag", 1, 4),
    "local tag": (b"x: !foo bar\n", "unsupported-tag", 1, 4),
    "billion laughs": (billion_laughs().encode(), "too-many-nodes", 7, 45),
    "recursive alias": (b"&a [*a]\n", "recursive-alias", 1, 5),
    "undefined alias": (b"a: 1\nb: *nope\n", "undefined-alias", 2, 4),
    "10000 open brackets": (b"[" * 10_000, "too-deep", 1, None),
    "10000 flow mappings": (b"{a: " * 10_000 + b"1" + b"}" * 10_000, "too-deep", 1, 401),
    "10000 block lists": (b"- " * 10_000 + b"x\n", "too-deep", 1, 201),
    "deep block mapping": (
        "".join(" " * i + "k:\n" for i in range(150)).encode() + b" " * 150 + b"v\n",
        "too-deep",
        101,
        101,
    ),
    "syntax error": (b"a: 1\nfoo: bar: baz\n", "yaml-syntax", 2, 9),
    "tab indentation": (b"a:\n\tb: 1\n", "yaml-syntax", 2, 1),
    "nul byte": (b"a: \x00\n", "yaml-encoding", 1, 4),
    "invalid utf-8": (b"a: \xc3\x28\n", "yaml-encoding", 1, 5),
    "random bytes": (random.Random(1234).randbytes(4096), "yaml-encoding", 1, 1),
    "png header": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "yaml-encoding", 1, 1),
    "complex key": (b"? [a, b]\n: 1\n", "complex-key", 1, 3),
    "!!int abc": (b"a: !!int abc\n", "invalid-scalar", 1, 4),
    "!!bool maybe": (b"a: !!bool maybe\n", "invalid-scalar", 1, 4),
    "!!timestamp nope": (b"a: !!timestamp nope\n", "invalid-scalar", 1, 4),
    "empty !!int": (b"a: !!int ''\n", "invalid-scalar", 1, 4),
    "5000-digit int": (b"a: " + b"9" * 5000 + b"\n", "invalid-scalar", 1, 4),
    "empty file": (b"", "empty-file", 1, 1),
    "not a mapping": (b"- 1\n- 2\n", "not-a-mapping", 1, 1),
    "depends_on string": (VALID.replace("[ingest]", "ingest").encode(), "wrong-type", 11, 19),
    "misspelt key": (VALID.replace("depends_on", "depnds_on").encode(), "unknown-key", 11, 7),
    "bidi step name": (VALID.replace("name: ingest", 'name: "in\\u202egest"', 1).encode(), "invalid-step-name", 7, 13),
    "path traversal group name": (VALID.replace("name: demo", "name: ../../etc/passwd").encode(), "invalid-name", 4, 9),
    "max_concurrency 0": ((VALID + "  policy:\n    max_concurrency: 0\n").encode(), "invalid-value", 13, 22),
    "boolean param key": (
        VALID.replace("pipeline: x.ingest", "pipeline: x.ingest\n      params:\n        on: 1").encode(),
        "wrong-type",
        10,
        9,
    ),
}

FINDING_KEYS = {"code", "severity", "message", "file", "line", "column", "group", "step"}


def write(folder: Path, data: bytes | str, name: str = NAME) -> Path:
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def no_traceback(*outputs: str) -> bool:
    return not any("Traceback" in o for o in outputs)


def codes_at(findings: list[dict[str, Any]]) -> set[tuple[str, int, int]]:
    return {(f["code"], f["line"], f["column"]) for f in findings}


def has_finding(findings: list[dict[str, Any]], code: str, line: int, column: int | None) -> bool:
    return any((f["code"], f["line"]) == (code, line) and column in (None, f["column"]) for f in findings)


def location(code: str, line: int, column: int | None) -> re.Pattern[str]:
    """``NAME:LINE:COL: error CODE`` as printed (any column when ``column`` is None)."""
    col = r"\d+" if column is None else str(column)
    return re.compile(rf"{re.escape(NAME)}:{line}:{col}: error {re.escape(code)}\b")


cases = pytest.mark.parametrize("data, code, line, column", HOSTILE.values(), ids=HOSTILE.keys())


class TestValidateHostileInput:
    @cases
    def test_text_report(self, in_tmp: Path, invoke, data: bytes, code: str, line: int, column: int | None) -> None:
        """validate exits 1, prints FILE:LINE:COL with the code, and shows no traceback."""
        write(in_tmp, data)
        exit_code, out, err = invoke("group", "validate", NAME)
        assert no_traceback(out, err), err
        assert location(code, line, column).search(out), out
        assert exit_code == 1

    @cases
    def test_json_report(self, in_tmp: Path, invoke, data: bytes, code: str, line: int, column: int | None) -> None:
        """--format json exits 1 and prints the documented shape holding the expected finding."""
        write(in_tmp, data)
        exit_code, out, _ = invoke("group", "validate", NAME, "--format", "json")
        report = json.loads(out)
        assert report["valid"] is False
        assert report["groups"] and all({"name", "file", "valid", "steps"} <= set(g) for g in report["groups"])
        assert all(g["file"] == NAME and g["valid"] is False for g in report["groups"])
        for f in report["findings"]:
            assert set(f) == FINDING_KEYS
            assert f["severity"] in ("error", "warning") and f["file"] == NAME
            assert isinstance(f["line"], int) and isinstance(f["column"], int) and f["line"] >= 1 and f["column"] >= 1
        assert has_finding(report["findings"], code, line, column), report["findings"]
        assert exit_code == 1

    def test_python_tag_runs_nothing(self, in_tmp: Path, invoke) -> None:
        """Validating a !!python/object/apply:os.system file does not run the command."""
        write(in_tmp, b"!!python/object/apply:os.system ['touch pwned']\n")
        invoke("group", "validate", NAME)
        assert not (in_tmp / "pwned").exists()

    def test_bad_file_does_not_hide_good_file(self, in_tmp: Path, invoke) -> None:
        """In a folder, a hostile file is reported and the valid file next to it is still listed valid."""
        folder = in_tmp / "groups"
        folder.mkdir()
        write(folder, b"&a [*a]\n", "a.yaml")
        write(folder, VALID, "b.yaml")
        code, out, _ = invoke("group", "validate", "groups", "--format", "json")
        report = json.loads(out)
        assert (code, [(Path(g["file"]).name, g["valid"]) for g in report["groups"]]) == (1, [("a.yaml", False), ("b.yaml", True)])

    def test_five_problems_are_all_printed(self, in_tmp: Path, invoke) -> None:
        """Every problem of a file is printed in one run, each with its location."""
        text = (
            VALID.replace("spine.io/v1", "spine.io/v2")
            .replace("depends_on: [ingest]", "depends_on: ingest")
            .replace("pipeline: x.ingest", "pipeline: x.ingest\n      depnds_on: []")
            .replace("name: ingest", 'name: "in\\u200bgest"')
            + "  policy:\n    on_failure: explode\n"
        )
        write(in_tmp, text)
        _, out, _ = invoke("group", "validate", NAME, "--format", "json")
        assert {f["code"] for f in json.loads(out)["findings"]} >= {
            "wrong-api-version",
            "wrong-type",
            "unknown-key",
            "invalid-step-name",
            "invalid-value",
        }

    def test_non_utf8_file_name_in_json(self, in_tmp: Path, invoke) -> None:
        """A file whose name is not valid UTF-8 is reported in JSON without crashing the encoder."""
        folder = in_tmp / "groups"
        folder.mkdir()
        try:
            (folder / b"\xff.yaml".decode("utf-8", "surrogateescape")).write_bytes(b"a: 1\na: 2\n")
        except (OSError, UnicodeEncodeError):
            pytest.skip("the file system does not allow non-UTF-8 names")
        code, out, err = invoke("group", "validate", "groups", "--format", "json")
        assert (code, "duplicate-key" in {f["code"] for f in json.loads(out)["findings"]}) == (1, True)

    def test_control_characters_in_file_name_are_escaped(self, in_tmp: Path, invoke) -> None:
        """A file name holding a terminal escape is printed escaped, never raw."""
        folder = in_tmp / "groups"
        folder.mkdir()
        (folder / "evil\x1b[2J.yaml").write_bytes(b"a: 1\na: 2\n")
        _, out, err = invoke("group", "validate", "groups")
        assert "\x1b" not in out + err


def test_tab_indentation_says_to_use_spaces(in_tmp: Path, invoke) -> None:
    """validate on a file indented with a tab exits 1 and says to use spaces, at the tab's line and column."""
    (in_tmp / NAME).write_text(VALID.replace("      pipeline: x.ingest", "\t  pipeline: x.ingest"))
    code, out, err = invoke("group", "validate", NAME)
    assert code == 1, err
    assert f"{NAME}:8:1: error yaml-syntax" in out
    assert "YAML indentation must use spaces, not tabs: replace the tab at line 8, column 1" in out


class TestSizeLimit:
    def test_max_file_size_flag(self, in_tmp: Path, invoke) -> None:
        """--max-file-size refuses a larger file with file-too-large at FILE:1:1 and exit 1."""
        write(in_tmp, VALID + "# " + "x" * 5000 + "\n")
        code, out, _ = invoke("group", "validate", NAME, "--max-file-size", "1000")
        assert (code, f"{NAME}:1:1: error file-too-large" in out) == (1, True)

    def test_max_file_size_message_says_how_to_raise_it(self, in_tmp: Path, invoke) -> None:
        """The size finding tells how to raise the limit."""
        write(in_tmp, VALID + "# " + "x" * 5000 + "\n")
        _, out, _ = invoke("group", "validate", NAME, "--max-file-size", "1000", "--format", "json")
        (f,) = json.loads(out)["findings"]
        assert (f["code"], "--max-file-size" in f["message"]) == ("file-too-large", True)

    def test_file_under_the_flag_is_read(self, in_tmp: Path, invoke) -> None:
        """A file smaller than --max-file-size validates normally."""
        write(in_tmp, VALID)
        assert invoke("group", "validate", NAME, "--max-file-size", "100000")[0] == 0

    def test_junk_megabytes_are_refused_by_size_not_content(self, in_tmp: Path, invoke) -> None:
        """A 20 MB binary junk file over --max-file-size is file-too-large, not an encoding error."""
        path = in_tmp / NAME
        with path.open("wb") as fh:
            fh.write(random.Random(7).randbytes(1024) * (20 * 1024))
        _, out, _ = invoke("group", "validate", NAME, "--max-file-size", "65536", "--format", "json")
        assert [f["code"] for f in json.loads(out)["findings"]] == ["file-too-large"]

    def test_forty_megabytes_against_the_default_limit(self, in_tmp: Path, invoke) -> None:
        """A real 40 MB group file is refused by the default 32 MiB limit with exit 1."""
        path = in_tmp / NAME
        line = ("# " + "x" * 1021 + "\n").encode()
        with path.open("wb") as fh:
            fh.write(VALID.encode())
            fh.write(line * (40 * 1024))
        assert path.stat().st_size > 40 * 1024 * 1024
        code, out, err = invoke("group", "validate", NAME, "--format", "json")
        findings = json.loads(out)["findings"]
        assert (code, [(f["code"], f["line"], f["column"]) for f in findings]) == (1, [("file-too-large", 1, 1)])

    def test_plan_respects_max_file_size(self, in_tmp: Path, invoke) -> None:
        """plan refuses a file over --max-file-size with exit 1."""
        write(in_tmp, VALID + "# " + "x" * 5000 + "\n")
        code, _, err = invoke("group", "plan", NAME, "--max-file-size", "1000")
        assert (code, f"{NAME}:1:1" in err) == (1, True)


PLAN_CASES = {k: HOSTILE[k] for k in ("duplicate key", "python object/apply", "billion laughs", "nul byte", "depends_on string", "bidi step name", "syntax error", "10000 block lists")}
plan_cases = pytest.mark.parametrize("data, code, line, column", PLAN_CASES.values(), ids=PLAN_CASES.keys())


class TestPlanHostileInput:
    @plan_cases
    def test_plan_reports_the_location(self, in_tmp: Path, invoke, data: bytes, code: str, line: int, column: int | None) -> None:
        """plan on an invalid file exits 1 and prints FILE:LINE:COL of the problem on stderr, no traceback."""
        write(in_tmp, data)
        exit_code, out, err = invoke("group", "plan", NAME)
        assert no_traceback(out, err), err
        assert location(code, line, column).search(err), err
        assert exit_code == 1

    @plan_cases
    def test_plan_json_has_the_same_findings_as_validate(self, in_tmp: Path, invoke, data: bytes, code: str, line: int, column: int | None) -> None:
        """plan --json reports the same findings as validate --format json."""
        write(in_tmp, data)
        _, plan_out, _ = invoke("group", "plan", NAME, "--json")
        _, validate_out, _ = invoke("group", "validate", NAME, "--format", "json")
        plan_report = json.loads(plan_out)
        assert plan_report["valid"] is False
        assert codes_at(plan_report["findings"]) == codes_at(json.loads(validate_out)["findings"])


USAGE_ERRORS = {
    "missing file": ("group", "validate", "nope.yaml"),
    "missing folder": ("group", "validate", "no/such/folder"),
    "one of two paths missing": ("group", "validate", "good.yaml", "nope.yaml"),
    "bad format": ("group", "validate", "good.yaml", "--format", "nope"),
    "unknown option": ("group", "validate", "good.yaml", "--bogus"),
    "zero max size": ("group", "validate", "good.yaml", "--max-file-size", "0"),
    "text max size": ("group", "validate", "good.yaml", "--max-file-size", "big"),
    "nothing to validate": ("group", "validate"),
    "unknown command": ("group", "frobnicate"),
    "plan missing file": ("group", "plan", "nope.yaml"),
    "plan without target": ("group", "plan"),
    "plan bad param": ("group", "plan", "good.yaml", "--param", "novalue"),
}


class TestUsageErrors:
    @pytest.mark.parametrize("args", USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
    def test_usage_error(self, in_tmp: Path, invoke, args: tuple[str, ...]) -> None:
        """Bad arguments and missing paths exit 2 with an explanation on stderr, no traceback, nothing on stdout."""
        write(in_tmp, VALID, "good.yaml")
        exit_code, out, err = invoke(*args)
        assert no_traceback(out, err), err
        assert (exit_code, out, bool(err.strip())) == (2, "", True)

    def test_missing_path_is_named(self, in_tmp: Path, invoke) -> None:
        """The message names the missing path."""
        _, _, err = invoke("group", "validate", "nope.yaml")
        assert "nope.yaml" in err


class TestParamInput:
    def test_non_utf8_param(self, in_tmp: Path, invoke) -> None:
        """A --param whose bytes were not UTF-8 (argv gives '\\udcff') is kept or refused cleanly."""
        write(in_tmp, VALID, "good.yaml")
        exit_code, out, err = invoke("group", "plan", "good.yaml", "--param", "tier=\udcff")
        assert no_traceback(out, err), err
        assert exit_code in (0, 2)

    def test_param_with_python_tag_is_not_constructed(self, in_tmp: Path, invoke) -> None:
        """A --param value holding a python tag is never constructed; the command in it does not run."""
        write(in_tmp, VALID, "good.yaml")
        invoke("group", "plan", "good.yaml", "--param", "tier=!!python/object/apply:os.system ['touch pwned']")
        assert not (in_tmp / "pwned").exists()


def spine_script() -> str:
    candidate = Path(sys.executable).with_name("spine")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("spine")
    if found is None:
        pytest.skip("the spine console script is not installed")
    return found


def run_spine(cwd: Path, *args: str | bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [spine_script(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=60,
        check=False,
    )


class TestConsoleScript:
    def test_valid_file_exits_0(self, in_tmp: Path) -> None:
        """The installed script exits 0 for a valid file."""
        write(in_tmp, VALID, "good.yaml")
        assert run_spine(in_tmp, "group", "validate", "good.yaml").returncode == 0

    def test_invalid_file_exits_1_with_location(self, in_tmp: Path) -> None:
        """The installed script exits 1 for a broken file and prints its location."""
        write(in_tmp, b"a: 1\nb: 2\na: 3\n")
        proc = run_spine(in_tmp, "group", "validate", NAME)
        assert (proc.returncode, f"{NAME}:3:1" in proc.stdout, no_traceback(proc.stdout, proc.stderr)) == (1, True, True)

    def test_python_tag_exits_1_and_runs_nothing(self, in_tmp: Path) -> None:
        """The installed script refuses a python tag and the command in it never runs."""
        write(in_tmp, b"!!python/object/apply:os.system ['touch pwned']\n")
        proc = run_spine(in_tmp, "group", "validate", NAME)
        assert (proc.returncode, (in_tmp / "pwned").exists(), no_traceback(proc.stderr)) == (1, False, True)

    def test_missing_path_exits_2(self, in_tmp: Path) -> None:
        """The installed script exits 2 for a missing path."""
        proc = run_spine(in_tmp, "group", "validate", "nope.yaml")
        assert (proc.returncode, "nope.yaml" in proc.stderr) == (2, True)

    def test_bad_option_exits_2(self, in_tmp: Path) -> None:
        """The installed script exits 2 for an invalid option value."""
        write(in_tmp, VALID, "good.yaml")
        assert run_spine(in_tmp, "group", "validate", "good.yaml", "--format", "nope").returncode == 2
