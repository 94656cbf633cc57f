"""spine.orchestration.loader: files and folders → groups, and groups → YAML."""

from __future__ import annotations

import datetime as dt
import os
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml

from spine.core.errors import InvalidGroupSpecError
from spine.core.frozen import freeze
from spine.core.limits import Limits
from spine.orchestration.loader import (
    LoadedGroup,
    group_to_yaml,
    iter_group_files,
    load_group_from_text,
    load_groups,
    load_groups_from_text,
    read_file,
    scan,
)
from spine.orchestration.models import ExecutionMode, FailurePolicy, PipelineGroup


def group_text(name: str, steps: tuple[str, ...] = ("a",)) -> str:
    lines = ["apiVersion: spine.io/v1", "kind: PipelineGroup", "metadata:", f"  name: {name}", "spec:", "  pipelines:"]
    for s in steps:
        lines += [f"    - name: {s}", f"      pipeline: x.{s}"]
    return "\n".join(lines) + "\n"


BROKEN = group_text("broken").replace("kind: PipelineGroup", "kind: Nope")


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def names(loaded: list[LoadedGroup]) -> list[str | None]:
    return [lg.group.name if lg.group is not None else lg.name for lg in loaded]


class TestIterGroupFiles:
    def test_folders_are_searched_recursively(self, tmp_path: Path) -> None:
        """YAML files in sub-folders at any depth are found."""
        write(tmp_path / "a.yaml", "")
        write(tmp_path / "sub" / "deeper" / "b.yaml", "")
        found = [p.relative_to(tmp_path).as_posix() for p in iter_group_files([tmp_path])]
        assert found == ["a.yaml", "sub/deeper/b.yaml"]

    def test_both_suffixes_are_found(self, tmp_path: Path) -> None:
        """.yaml and .yml files are both group files."""
        write(tmp_path / "a.yml", "")
        write(tmp_path / "b.yaml", "")
        assert [p.name for p in iter_group_files([tmp_path])] == ["a.yml", "b.yaml"]

    def test_other_files_are_ignored(self, tmp_path: Path) -> None:
        """Files without a YAML suffix in a folder are not group files."""
        for name in ("notes.txt", "g.json", "g.yaml.bak", "yaml", "README.md"):
            write(tmp_path / name, "")
        write(tmp_path / "g.yaml", "")
        assert [p.name for p in iter_group_files([tmp_path])] == ["g.yaml"]

    def test_hidden_folders_are_skipped(self, tmp_path: Path) -> None:
        """Files under .git, .venv and other hidden folders are not searched."""
        write(tmp_path / ".git" / "x.yaml", "")
        write(tmp_path / "sub" / ".venv" / "lib" / "y.yaml", "")
        write(tmp_path / "sub" / "ok.yaml", "")
        assert [p.name for p in iter_group_files([tmp_path])] == ["ok.yaml"]

    def test_hidden_files_in_folders_are_skipped(self, tmp_path: Path) -> None:
        """A dot-file such as .pre-commit-config.yaml in a folder is not a group file."""
        write(tmp_path / ".pre-commit-config.yaml", "")
        write(tmp_path / "g.yaml", "")
        assert [p.name for p in iter_group_files([tmp_path])] == ["g.yaml"]

    def test_order_is_sorted(self, tmp_path: Path) -> None:
        """Files come in sorted path order, whatever the creation order."""
        for name in ("c.yaml", "a/z.yaml", "b.yaml", "a/b.yaml", "A.yaml"):
            write(tmp_path / name, "")
        found = [p.relative_to(tmp_path).as_posix() for p in iter_group_files([tmp_path])]
        assert found == sorted(found) == ["A.yaml", "a/b.yaml", "a/z.yaml", "b.yaml", "c.yaml"]

    def test_named_file_is_used_as_given(self, tmp_path: Path) -> None:
        """A file named explicitly is returned even without a YAML suffix or with a dot name."""
        f1 = write(tmp_path / "group.txt", "")
        f2 = write(tmp_path / ".hidden.yaml", "")
        assert list(iter_group_files([f1, f2])) == [f1, f2]

    def test_paths_keep_argument_order(self, tmp_path: Path) -> None:
        """Several paths are walked in the order given."""
        b = write(tmp_path / "b.yaml", "")
        a = write(tmp_path / "a.yaml", "")
        assert list(iter_group_files([b, a])) == [b, a]

    def test_missing_path_raises_file_not_found(self, tmp_path: Path) -> None:
        """A path that does not exist is FileNotFoundError naming it."""
        with pytest.raises(FileNotFoundError, match="nope.yaml"):
            list(iter_group_files([tmp_path / "nope.yaml"]))


class TestReadFile:
    def test_one_group(self, tmp_path: Path) -> None:
        """A file with one valid group gives one valid LoadedGroup."""
        (lg,) = read_file(write(tmp_path / "g.yaml", group_text("one")))
        assert (lg.valid, lg.group.name if lg.group else None, lg.findings) == (True, "one", [])

    def test_multi_document_file(self, tmp_path: Path) -> None:
        """Each '---' document is its own LoadedGroup with its index."""
        path = write(tmp_path / "g.yaml", group_text("g1") + "---\n" + group_text("g2"))
        loaded = read_file(path)
        assert [(lg.document, names([lg])[0]) for lg in loaded] == [(0, "g1"), (1, "g2")]

    def test_file_name_is_kept(self, tmp_path: Path) -> None:
        """Each LoadedGroup and its source remember the file."""
        path = write(tmp_path / "g.yaml", group_text("one"))
        (lg,) = read_file(path)
        assert (lg.file, lg.group.source.file if lg.group and lg.group.source else None) == (str(path), str(path))

    def test_trailing_separator_adds_no_document(self, tmp_path: Path) -> None:
        """A trailing '---' does not make an empty, invalid document."""
        path = write(tmp_path / "g.yaml", group_text("one") + "---\n")
        assert [lg.valid for lg in read_file(path)] == [True]

    def test_leading_separator(self, tmp_path: Path) -> None:
        """A leading '---' is fine."""
        path = write(tmp_path / "g.yaml", "---\n" + group_text("one"))
        assert [lg.valid for lg in read_file(path)] == [True]

    @pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "---\n---\n...\n"])
    def test_empty_file(self, tmp_path: Path, text: str) -> None:
        """A file with no document is one empty-file finding at 1:1."""
        path = write(tmp_path / "g.yaml", text)
        (lg,) = read_file(path)
        assert [(f.code, f.file, f.line, f.column) for f in lg.findings] == [("empty-file", str(path), 1, 1)]

    def test_bad_document_does_not_hide_good_one(self, tmp_path: Path) -> None:
        """In a multi-document file, an invalid group and a valid one are both reported."""
        path = write(tmp_path / "g.yaml", BROKEN + "---\n" + group_text("good"))
        assert [(names([lg])[0], lg.valid) for lg in read_file(path)] == [("broken", False), ("good", True)]

    def test_invalid_group_keeps_its_declared_name(self, tmp_path: Path) -> None:
        """An invalid group still reports the name it declares."""
        text = "apiVersion: spine.io/v1\nkind: PipelineGroup\nmetadata:\n  name: named\nspec: 5\n"
        path = write(tmp_path / "g.yaml", text)
        (lg,) = read_file(path)
        assert (lg.valid, lg.name) == (False, "named")

    def test_yaml_error_is_one_entry_with_findings(self, tmp_path: Path) -> None:
        """A YAML syntax error gives one LoadedGroup with no group and the finding."""
        path = write(tmp_path / "g.yaml", "a: [1\n")
        (lg,) = read_file(path)
        assert (lg.group, [f.code for f in lg.findings]) == (None, ["yaml-syntax"])

    def test_duplicate_key_does_not_hide_the_other_documents(self, tmp_path: Path) -> None:
        """A duplicate key stays with its document; the next document is still checked in full."""
        bad = group_text("one").replace("kind: PipelineGroup", "kind: PipelineGroup\nkind: PipelineGroup")
        path = write(tmp_path / "g.yaml", bad + "---\n" + group_text("two"))
        first, second = read_file(path)
        assert [f.code for f in first.findings] == ["duplicate-key"]
        assert (second.group is not None, second.findings) == (True, [])

    def test_too_large_file(self, tmp_path: Path) -> None:
        """A file over the size limit is file-too-large, located at the file's 1:1."""
        path = write(tmp_path / "g.yaml", group_text("big") * 10)
        (lg,) = read_file(path, Limits(max_bytes=100))
        assert [(f.code, f.file, f.line, f.column) for f in lg.findings] == [("file-too-large", str(path), 1, 1)]

    def test_too_large_file_is_not_read_whole(self, tmp_path: Path) -> None:
        """read_file refuses a 64 MiB file while allocating far less than its size."""
        path = tmp_path / "huge.yaml"
        with path.open("wb") as fh:
            fh.write(group_text("huge").encode())
            fh.truncate(64 * 1024 * 1024)
        tracemalloc.start()
        try:
            (lg,) = read_file(path, Limits(max_bytes=4096))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert ([f.code for f in lg.findings], peak < 1024 * 1024) == (["file-too-large"], True)

    def test_unreadable_file(self, tmp_path: Path) -> None:
        """A path that cannot be read as a file is a file-unreadable finding, not an OSError."""
        folder = tmp_path / "dir.yaml"
        folder.mkdir()
        (lg,) = read_file(folder)
        assert [f.code for f in lg.findings] == ["file-unreadable"]

    def test_bytes_are_read_as_utf8(self, tmp_path: Path) -> None:
        """Non-ASCII text in a file survives reading."""
        path = write(tmp_path / "g.yaml", group_text("u").replace("x.a", "x.données"))
        (lg,) = read_file(path)
        assert lg.group is not None and lg.group.steps[0].pipeline == "x.données"


class TestScan:
    def test_scan_reads_every_file(self, tmp_path: Path) -> None:
        """scan returns the groups of every file, in sorted file order."""
        write(tmp_path / "b.yaml", group_text("gb"))
        write(tmp_path / "a" / "x.yml", group_text("ga1") + "---\n" + group_text("ga2"))
        assert names(scan([tmp_path])) == ["ga1", "ga2", "gb"]

    def test_bad_file_does_not_hide_others(self, tmp_path: Path) -> None:
        """A broken file is reported and the good files after it are still loaded."""
        write(tmp_path / "a.yaml", "a: [1, 2\n")
        write(tmp_path / "b.yaml", group_text("good"))
        loaded = scan([tmp_path])
        assert [(Path(lg.file or "").name, lg.valid) for lg in loaded] == [("a.yaml", False), ("b.yaml", True)]

    def test_scan_limits_apply_to_every_file(self, tmp_path: Path) -> None:
        """The limits given to scan are used for each file."""
        write(tmp_path / "a.yaml", group_text("a"))
        write(tmp_path / "b.yaml", group_text("b"))
        loaded = scan([tmp_path], Limits(max_bytes=10))
        assert [f.code for lg in loaded for f in lg.findings] == ["file-too-large", "file-too-large"]

    def test_missing_path_raises(self, tmp_path: Path) -> None:
        """scan of a path that does not exist raises FileNotFoundError (a usage error)."""
        with pytest.raises(FileNotFoundError):
            scan([tmp_path / "missing"])

    @pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
    def test_named_pipe_does_not_block(self, tmp_path: Path) -> None:
        """scan of a folder holding a FIFO called *.yaml returns instead of blocking forever."""
        fifo = tmp_path / "pipe.yaml"
        os.mkfifo(fifo)
        write(tmp_path / "g.yaml", group_text("good"))
        result: list[Any] = []
        worker = threading.Thread(target=lambda: result.append(scan([tmp_path])), daemon=True)
        worker.start()
        worker.join(timeout=2)  # a hang guard, not a speed check: two tiny files take milliseconds
        if worker.is_alive():  # blocked in open(): give it an EOF so the thread ends, then fail
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
            worker.join(timeout=10)
            pytest.fail("scan blocked opening a named pipe")
        assert "good" in names(result[0])


class TestLoadGroups:
    def test_loads_a_folder(self, tmp_path: Path) -> None:
        """load_groups on a folder gives every group, in file order."""
        write(tmp_path / "a.yaml", group_text("first"))
        write(tmp_path / "b" / "c.yaml", group_text("second"))
        assert [g.name for g in load_groups(tmp_path)] == ["first", "second"]

    def test_loads_a_file(self, tmp_path: Path) -> None:
        """load_groups on a file gives its groups."""
        path = write(tmp_path / "g.yaml", group_text("g1") + "---\n" + group_text("g2"))
        assert [g.name for g in load_groups(path)] == ["g1", "g2"]

    def test_raises_with_every_finding_of_every_file(self, tmp_path: Path) -> None:
        """One InvalidGroupSpecError carries the findings of all broken files."""
        write(tmp_path / "a.yaml", "a: [1\n")
        write(tmp_path / "b.yaml", BROKEN)
        write(tmp_path / "c.yaml", "")
        with pytest.raises(InvalidGroupSpecError) as info:
            load_groups(tmp_path)
        assert [f.code for f in info.value.findings] == ["yaml-syntax", "wrong-kind", "empty-file"]

    def test_missing_path_is_file_not_found_finding(self, tmp_path: Path) -> None:
        """A missing path is an InvalidGroupSpecError with a file-not-found finding."""
        with pytest.raises(InvalidGroupSpecError) as info:
            load_groups(tmp_path / "gone.yaml")
        assert [f.code for f in info.value.findings] == ["file-not-found"]

    def test_positions_come_from_the_file(self, tmp_path: Path) -> None:
        """A loaded group's source points at its file and the name's position."""
        path = write(tmp_path / "g.yaml", group_text("pos"))
        (g,) = load_groups(path)
        assert g.source is not None and (g.source.file, g.source.group) == (str(path), (4, 9))


class TestLoadFromYaml:
    def test_one_group_from_text(self) -> None:
        """load_group_from_text builds the group the text describes."""
        g = load_group_from_text(group_text("t", ("a", "b")))
        assert (g.name, g.step_names) == ("t", ["a", "b"])

    def test_bytes_are_accepted(self) -> None:
        """YAML given as UTF-8 bytes loads like text."""
        assert load_group_from_text(group_text("t").encode()) == load_group_from_text(group_text("t"))

    def test_two_documents_are_not_one_group(self) -> None:
        """load_group_from_text refuses text with two groups: not-one-group."""
        with pytest.raises(InvalidGroupSpecError) as info:
            load_group_from_text(group_text("a") + "---\n" + group_text("b"))
        assert [f.code for f in info.value.findings] == ["not-one-group"]

    def test_no_document_is_not_one_group(self) -> None:
        """load_group_from_text refuses text with no document."""
        with pytest.raises(InvalidGroupSpecError) as info:
            load_group_from_text("# nothing\n")
        assert [f.code for f in info.value.findings] == ["not-one-group"]

    def test_trailing_separator_is_still_one_group(self) -> None:
        """A trailing '---' does not count as a second group."""
        assert load_group_from_text(group_text("t") + "---\n").name == "t"

    def test_invalid_group_raises_its_findings(self) -> None:
        """load_group_from_text raises the spec findings with the given file name."""
        with pytest.raises(InvalidGroupSpecError) as info:
            load_group_from_text(BROKEN, file="b.yaml")
        assert [(f.code, f.file, f.line) for f in info.value.findings] == [("wrong-kind", "b.yaml", 2)]

    def test_several_groups_from_text(self) -> None:
        """load_groups_from_text gives every group of a multi-document text."""
        groups = load_groups_from_text(group_text("a") + "---\n" + group_text("b") + "---\n")
        assert [g.name for g in groups] == ["a", "b"]

    def test_several_groups_report_every_problem(self) -> None:
        """load_groups_from_text raises the findings of every broken document together."""
        text = BROKEN + "---\n" + group_text("ok") + "---\n" + BROKEN.replace("broken", "broken2")
        with pytest.raises(InvalidGroupSpecError) as info:
            load_groups_from_text(text, file="m.yaml")
        assert [(f.code, f.group, f.line) for f in info.value.findings] == [
            ("wrong-kind", "broken", 2),
            ("wrong-kind", "broken2", 20),
        ]

    def test_limits_are_applied(self) -> None:
        """The limits given to load_group_from_text are used."""
        with pytest.raises(InvalidGroupSpecError) as info:
            load_group_from_text(group_text("t"), limits=Limits(max_depth=2))
        assert [f.code for f in info.value.findings] == ["too-deep"]


def rich_group() -> PipelineGroup:
    return (
        PipelineGroup(
            name="finra.weekly_refresh",
            domain="finra.otc",
            version=3,
            description="Weekly refresh: all tiers",
            tags=("finra", "weekly"),
        )
        .with_defaults(tier="{{ params.tier }}", force=False, week=dt.date(2024, 1, 5), retries=3, ratio=0.5, nothing=None)
        .with_policy(execution="parallel", max_concurrency=8, on_failure="continue", timeout_minutes=90.5)
        .add("ingest", "finra.ingest", params={"source": "api", "list": [1, "two", {"three": 3}]}, description="get it")
        .add("normalize", "finra.normalize", depends_on=["ingest"])
        .add("publish", "finra.publish", depends_on=["ingest", "normalize"], params={"nested": {"a": {"b": []}}})
    )


TRICKY_VALUES = {
    "yes": "yes",
    "no": "no",
    "on": "on",
    "null": "null",
    "tilde": "~",
    "empty": "",
    "number text": "1.0",
    "hex text": "0x10",
    "date text": "2024-01-05",
    "colon": "a: b",
    "hash": "# not a comment",
    "dash": "- item",
    "leading space": "  padded",
    "trailing space": "padded  ",
    "newlines": "line one\nline two\n",
    "tab": "a\tb",
    "bell": "ring\x07",
    "quotes": "it's \"quoted\"",
    "backslash": "C:\\new\\table",
    "unicode": "データ 🚀 مرحبا",
    "line separator": "a\u2028b",
    "next line": "a\x85b",
    "bom inside": "a\ufeffb",
    "long": "x" * 5000,
    "long words": " ".join(["word"] * 2000),
    "template": "{{ params.x }}",
    "bool": True,
    "int": -12,
    "big int": 10**30,
    "float": 1.25,
    "inf": float("inf"),
    "date": dt.date(2024, 2, 29),
    "datetime": dt.datetime(2024, 2, 29, 12, 30, 1),
    "list": [1, [2, [3]], {"k": None}],
}


class TestRoundTrip:
    def test_simple_group_round_trips(self) -> None:
        """load_group_from_text(group_to_yaml(g)) == g for a small DSL group."""
        g = PipelineGroup(name="g").add("a", "x.a").add("b", "x.b", depends_on=["a"])
        assert load_group_from_text(group_to_yaml(g)) == g

    def test_rich_group_round_trips(self) -> None:
        """Metadata, defaults, policy, params and dependencies all survive the round trip."""
        g = rich_group()
        assert load_group_from_text(group_to_yaml(g)) == g

    def test_round_trip_keeps_step_order(self) -> None:
        """Steps come back in declaration order, not sorted."""
        g = PipelineGroup(name="g").add("z", "p").add("a", "p").add("m", "p")
        assert load_group_from_text(group_to_yaml(g)).step_names == ["z", "a", "m"]

    def test_yaml_round_trips_through_the_model(self) -> None:
        """A hand-written file → model → YAML → model gives the same model."""
        g = load_group_from_text(group_text("hand", ("a", "b")))
        assert load_group_from_text(group_to_yaml(g)) == g

    def test_several_groups_round_trip(self) -> None:
        """group_to_yaml of several groups loads back as the same list."""
        groups = [rich_group(), PipelineGroup(name="other").add("a", "p")]
        assert load_groups_from_text(group_to_yaml(groups)) == groups

    def test_output_is_a_plain_spine_document(self) -> None:
        """group_to_yaml writes apiVersion, kind, metadata and spec readable by safe_load."""
        data = yaml.safe_load(group_to_yaml(rich_group()))
        assert (data["apiVersion"], data["kind"], list(data)) == (
            "spine.io/v1",
            "PipelineGroup",
            ["apiVersion", "kind", "metadata", "spec"],
        )

    def test_output_has_no_python_tags(self) -> None:
        """group_to_yaml never writes a !!python tag (safe dumper only)."""
        assert "!!python" not in group_to_yaml(rich_group())

    @pytest.mark.parametrize("value", TRICKY_VALUES.values(), ids=TRICKY_VALUES.keys())
    def test_param_values_round_trip(self, value: Any) -> None:
        """A param value YAML could misread comes back equal, with the same (frozen) type."""
        g = PipelineGroup(name="g").add("a", "p", params={"v": value})
        back = load_group_from_text(group_to_yaml(g)).steps[0].params["v"]
        assert (back, type(back)) == (freeze(value), type(freeze(value)))

    @pytest.mark.parametrize("key", ["on", "yes", "null", "1", "~", "a b", "ключ", "x: y"])
    def test_param_keys_round_trip_as_strings(self, key: str) -> None:
        """Param keys YAML could read as booleans, null or numbers come back as the same strings."""
        g = PipelineGroup(name="g").with_defaults(**{key: 1}).add("a", "p", params={key: 2})
        back = load_group_from_text(group_to_yaml(g))
        assert (list(back.defaults), list(back.steps[0].params)) == ([key], [key])

    def test_policy_enums_round_trip(self) -> None:
        """The policy comes back with its enum members, not strings."""
        back = load_group_from_text(group_to_yaml(rich_group()))
        assert (back.policy.execution, back.policy.on_failure) == (ExecutionMode.PARALLEL, FailurePolicy.CONTINUE)
