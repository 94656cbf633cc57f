"""spine.orchestration.spec: the spine.io/v1 checker — codes, messages and positions."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from spine.core.errors import InvalidGroupSpecError
from spine.core.findings import Finding
from spine.orchestration.loader import group_to_yaml, load_group_from_text
from spine.orchestration.models import (
    ExecutionMode,
    ExecutionPolicy,
    FailurePolicy,
    PipelineGroup,
    PipelineStep,
)
from spine.orchestration.spec import check_fields, group_from_document, parse_document
from spine.yamlio.reader import read_documents

FILE = "g.yaml"

#: Line numbers below are those of this text (1-based).
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


def q(text: str) -> str:
    """``text`` as a YAML double-quoted scalar; non-printable characters as \\u escapes."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def parse(text: str) -> tuple[PipelineGroup | None, list[Finding]]:
    (doc,) = read_documents(text, FILE)
    return parse_document(doc)


def findings(text: str) -> list[Finding]:
    return parse(text)[1]


def sole(text: str, code: str) -> Finding:
    """The one finding ``text`` produces, which must have ``code``."""
    found = findings(text)
    assert [f.code for f in found] == [code], [str(f) for f in found]
    assert found[0].file == FILE
    return found[0]


def pos(f: Finding) -> tuple[int | None, int | None]:
    return (f.line, f.column)


def with_step(step_lines: str) -> str:
    """A group whose only step is ``step_lines`` (indented under '- '); the step starts on line 7."""
    return VALID.split("    - name: ingest")[0] + step_lines


def with_spec(extra: str) -> str:
    """VALID with ``extra`` appended inside ``spec`` (from line 12)."""
    return VALID + extra


def with_metadata(extra: str) -> str:
    """VALID with ``extra`` lines added to metadata after name (from line 5)."""
    return VALID.replace("  name: demo\n", "  name: demo\n" + extra)


class TestValidDocument:
    def test_valid_document_has_no_findings(self) -> None:
        """The reference document parses without findings."""
        assert findings(VALID) == []

    def test_valid_document_builds_the_group(self) -> None:
        """The reference document becomes the group it describes."""
        group, _ = parse(VALID)
        assert group == PipelineGroup(
            name="demo",
            steps=(PipelineStep("ingest", "x.ingest"), PipelineStep("normalize", "x.normalize", depends_on=("ingest",))),
        )

    def test_defaults_apply_when_optional_fields_are_absent(self) -> None:
        """Version 1, no tags, an empty defaults mapping and the default policy when not written."""
        group, _ = parse(VALID)
        assert group is not None
        assert (group.version, group.tags, dict(group.defaults), group.policy) == (1, (), {}, ExecutionPolicy())


class TestDocumentShape:
    @pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n", "[]\n"])
    def test_not_a_mapping(self, text: str) -> None:
        """A document that is not a mapping is not-a-mapping and builds no group."""
        group, found = parse(text)
        assert (group, [f.code for f in found]) == (None, ["not-a-mapping"])

    def test_not_a_mapping_points_at_the_document(self) -> None:
        """not-a-mapping is located at the document's start."""
        assert pos(sole("# intro\n- a\n", "not-a-mapping")) == (2, 1)

    @pytest.mark.parametrize("key", ["apiVersion", "kind", "metadata", "spec"])
    def test_missing_root_key(self, key: str) -> None:
        """Each of the four root keys is required, and the message names it."""
        text = "\n".join(line for line in VALID.splitlines() if not line.startswith(key)) + "\n"
        if key == "metadata":
            text = text.replace("  name: demo\n", "")
        if key == "spec":
            text = text.split("  pipelines:")[0]
        found = [f for f in findings(text) if f.code == "missing-key"]
        assert len(found) == 1 and key in found[0].message

    def test_missing_root_key_points_at_the_document(self) -> None:
        """A missing root key is located at the root mapping (where it belongs), not at metadata.name."""
        text = VALID.replace("apiVersion: spine.io/v1\n", "")
        assert pos(sole(text, "missing-key")) == (1, 1)

    def test_wrong_api_version(self) -> None:
        """Another apiVersion is wrong-api-version at the value, naming the expected one."""
        f = sole(VALID.replace("spine.io/v1", "spine.io/v2"), "wrong-api-version")
        assert (pos(f), "'spine.io/v1'" in f.message, "spine.io/v2" in f.message) == ((1, 13), True, True)

    def test_api_version_number(self) -> None:
        """apiVersion: 1 (a number) is wrong-api-version."""
        sole(VALID.replace("spine.io/v1", "1"), "wrong-api-version")

    def test_wrong_kind(self) -> None:
        """Another kind is wrong-kind at the value."""
        f = sole(VALID.replace("kind: PipelineGroup", "kind: Pipeline"), "wrong-kind")
        assert (pos(f), "PipelineGroup" in f.message) == ((2, 7), True)

    def test_unknown_root_key(self) -> None:
        """A key that is not in the format is unknown-key at the key, listing the allowed keys."""
        f = sole(VALID + "status: done\n", "unknown-key")
        assert (pos(f), "apiVersion, kind, metadata, spec" in f.message) == ((12, 1), True)

    def test_unknown_root_key_did_you_mean(self) -> None:
        """A misspelt root key suggests the right one."""
        f = sole(VALID + "metdata: {}\n", "unknown-key")
        assert "did you mean 'metadata'?" in f.message

    def test_unknown_non_string_key(self) -> None:
        """A boolean key (bare 'on:') is unknown-key too, without crashing the suggestion."""
        f = sole(VALID + "on: push\n", "unknown-key")
        assert "True" in f.message


INVALID_GROUP_NAMES = {
    "path traversal": "../../etc/passwd",
    "empty": "",
    "129 chars": "a" * 129,
    "leading dot": ".hidden",
    "leading dash": "-x",
    "double dot": "a..b",
    "space": "a b",
    "slash": "a/b",
    "backslash": "a\\b",
    "colon": "a:b",
    "non-ascii": "naïve",
    "newline": "a\nb",
}
VALID_GROUP_NAMES = ["a", "a" * 128, "finra.weekly_refresh", "A-1_b.c", "0start", "x.y.z"]


class TestMetadata:
    def test_missing_name(self) -> None:
        """metadata without name is missing-key at the metadata mapping and builds no group."""
        group, found = parse(with_metadata("  domain: d\n").replace("  name: demo\n", ""))
        assert (group, [(f.code, pos(f)) for f in found]) == (None, [("missing-key", (4, 3))])

    def test_name_must_be_a_string(self) -> None:
        """A numeric name is wrong-type with advice to quote it."""
        f = sole(VALID.replace("name: demo", "name: 2024"), "wrong-type")
        assert (pos(f), "quote it" in f.message) == ((4, 9), True)

    @pytest.mark.parametrize("name", INVALID_GROUP_NAMES.values(), ids=INVALID_GROUP_NAMES.keys())
    def test_invalid_group_name(self, name: str) -> None:
        """A name outside ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$ (or with '..') is invalid-name at the name."""
        f = sole(VALID.replace("name: demo", f"name: {q(name)}"), "invalid-name")
        assert pos(f) == (4, 9)

    @pytest.mark.parametrize("name", VALID_GROUP_NAMES)
    def test_valid_group_name(self, name: str) -> None:
        """Names within the rules, up to 128 characters, are accepted."""
        group, found = parse(VALID.replace("name: demo", f"name: {q(name)}"))
        assert (found, group.name if group else None) == ([], name)

    @pytest.mark.parametrize("value", ["0", "-1", "true", "false", "1.5", "'2'", "null", "[1]", "{}"])
    def test_invalid_version(self, value: str) -> None:
        """metadata.version must be an integer ≥ 1: a small int is invalid-value, another type wrong-type."""
        code = "invalid-value" if value in ("0", "-1") else "wrong-type"
        f = sole(with_metadata(f"  version: {value}\n"), code)
        assert (pos(f), "≥ 1" in f.message) == ((5, 12), True)

    def test_version_is_read(self) -> None:
        """A valid version becomes the group's version."""
        group, _ = parse(with_metadata("  version: 7\n"))
        assert group is not None and group.version == 7

    @pytest.mark.parametrize("value", ["weekly", "[1, 2]", "[a, [b]]", "{a: 1}"])
    def test_invalid_tags(self, value: str) -> None:
        """metadata.tags must be a list of strings."""
        f = sole(with_metadata(f"  tags: {value}\n"), "wrong-type")
        assert pos(f) == (5, 9)

    def test_invalid_domain(self) -> None:
        """metadata.domain follows the group name rules."""
        f = sole(with_metadata("  domain: ../up\n"), "invalid-name")
        assert pos(f) == (5, 11)

    def test_description_must_be_a_string(self) -> None:
        """metadata.description must be a string."""
        sole(with_metadata("  description: [a, b]\n"), "wrong-type")

    def test_metadata_must_be_a_mapping(self) -> None:
        """metadata: 5 is wrong-type at the value and builds no group."""
        text = VALID.replace("metadata:\n  name: demo\n", "metadata: 5\n")
        group, found = parse(text)
        assert (group, [(f.code, pos(f)) for f in found]) == (None, [("wrong-type", (3, 11))])

    def test_unknown_metadata_key_did_you_mean(self) -> None:
        """A misspelt metadata key suggests the right one at the key's position."""
        f = sole(with_metadata("  verison: 2\n"), "unknown-key")
        assert (pos(f), "did you mean 'version'?" in f.message) == ((5, 3), True)


class TestSteps:
    def test_pipelines_missing(self) -> None:
        """spec without pipelines is missing-key."""
        f = sole(VALID.split("  pipelines:")[0] + "  defaults: {}\n", "missing-key")
        assert "spec.pipelines" in f.message

    def test_pipelines_not_a_list(self) -> None:
        """spec.pipelines must be a list."""
        f = sole(VALID.split("  pipelines:")[0] + "  pipelines: {a: 1}\n", "wrong-type")
        assert pos(f) == (6, 14)

    def test_pipelines_empty(self) -> None:
        """An empty pipelines list is empty-group."""
        f = sole(VALID.split("  pipelines:")[0] + "  pipelines: []\n", "empty-group")
        assert pos(f) == (6, 14)

    def test_step_not_a_mapping(self) -> None:
        """A step that is not a mapping is wrong-type naming its number."""
        f = sole(with_step("    - ingest\n"), "wrong-type")
        assert (pos(f), "step #1" in f.message) == ((7, 7), True)

    def test_step_without_name(self) -> None:
        """A step without name is missing-key at the step."""
        f = sole(with_step("    - pipeline: x.a\n"), "missing-key")
        assert pos(f) == (7, 7)

    def test_step_without_pipeline(self) -> None:
        """A step without pipeline is missing-key naming the step."""
        f = sole(with_step("    - name: a\n"), "missing-key")
        assert ("'a'" in f.message, f.step) == (True, "a")

    @pytest.mark.parametrize("value", ["yes", "12", "null", "[a]", "2024-01-05"])
    def test_step_name_must_be_a_string(self, value: str) -> None:
        """A step name YAML reads as something else is wrong-type with advice to quote it."""
        f = sole(with_step(f"    - name: {value}\n      pipeline: p\n"), "wrong-type")
        assert (pos(f), "quote it" in f.message) == ((7, 13), True)

    def test_depends_on_string(self) -> None:
        """depends_on: ingest is wrong-type suggesting 'depends_on: [ingest]'."""
        text = VALID.replace("depends_on: [ingest]", "depends_on: ingest")
        f = sole(text, "wrong-type")
        assert ("depends_on: [ingest]" in f.message, pos(f), f.step) == (True, (11, 19), "normalize")

    def test_depends_on_mapping(self) -> None:
        """depends_on as a mapping is wrong-type."""
        sole(VALID.replace("depends_on: [ingest]", "depends_on: {ingest: 1}"), "wrong-type")

    def test_depends_on_item_must_be_a_string(self) -> None:
        """A depends_on item that is not a string is wrong-type at the item."""
        f = sole(VALID.replace("depends_on: [ingest]", "depends_on: [ingest, 7]"), "wrong-type")
        assert (pos(f), "item #2" in f.message) == ((11, 28), True)

    def test_depends_on_block_item_position(self) -> None:
        """A bad item in a block-style depends_on list is located on its own line."""
        text = VALID.replace("depends_on: [ingest]", "depends_on:\n        - ingest\n        - true")
        assert pos(sole(text, "wrong-type")) == (13, 11)

    def test_depends_on_null_is_no_dependencies(self) -> None:
        """depends_on: null (or empty) means no dependencies."""
        group, found = parse(VALID.replace("depends_on: [ingest]", "depends_on:"))
        assert (found, group.steps[1].depends_on if group else None) == ([], ())

    def test_unknown_step_key_did_you_mean(self) -> None:
        """depnds_on is unknown-key suggesting depends_on, at the key."""
        f = sole(VALID.replace("depends_on:", "depnds_on:"), "unknown-key")
        assert ("did you mean 'depends_on'?" in f.message, pos(f), f.step) == (True, (11, 7), "normalize")

    @pytest.mark.parametrize("value", ["''", "' x.a'", "'x.a '", "'   '"])
    def test_pipeline_blank_or_padded(self, value: str) -> None:
        """A blank pipeline, or one with surrounding spaces, is invalid-value."""
        f = sole(with_step(f"    - name: a\n      pipeline: {value}\n"), "invalid-value")
        assert pos(f) == (8, 17)

    def test_step_description_must_be_a_string(self) -> None:
        """A step description must be a string."""
        sole(with_step("    - name: a\n      pipeline: p\n      description: 5\n"), "wrong-type")

    def test_every_bad_step_is_reported(self) -> None:
        """A bad step does not stop the checks of the steps after it."""
        text = with_step("    - name: a\n    - 5\n    - name: c\n      pipeline: p\n      depends_on: c\n")
        assert [f.code for f in findings(text)] == ["missing-key", "wrong-type", "wrong-type"]


INVALID_STEP_NAMES = {
    "bell": "a\x07b",
    "escape": "\x1b[31mred",
    "newline": "a\nb",
    "tab": "a\tb",
    "delete": "a\x7fb",
    "nul": "a\x00b",
    "rtl override U+202E": "abc\u202etxt.exe",
    "ltr override U+202D": "a\u202db",
    "isolate U+2066": "a\u2066b",
    "zero-width space U+200B": "in\u200bgest",
    "zero-width joiner U+200D": "a\u200db",
    "bom U+FEFF": "\ufeffingest",
    "no-break space": "a\u00a0b",
    "line separator": "a\u2028b",
    "leading space": " ingest",
    "trailing space": "ingest ",
    "only spaces": "   ",
    "201 chars": "s" * 201,
    "empty": "",
}


class TestStepNames:
    @pytest.mark.parametrize("name", INVALID_STEP_NAMES.values(), ids=INVALID_STEP_NAMES.keys())
    def test_invalid_step_name(self, name: str) -> None:
        """Control, bidi, zero-width and invisible characters, padding, empty and >200 chars are invalid-step-name."""
        f = sole(with_step(f"    - name: {q(name)}\n      pipeline: p\n"), "invalid-step-name")
        assert pos(f) == (7, 13)

    def test_bidi_override_is_named(self) -> None:
        """The message names the offending code point so it can be found."""
        f = sole(with_step(f"    - name: {q('a' + chr(0x202E) + 'b')}\n      pipeline: p\n"), "invalid-step-name")
        assert "U+202E" in f.message

    def test_message_does_not_echo_raw_control_characters(self) -> None:
        """The message shows the bad name escaped, never the raw control or bidi character."""
        f = sole(with_step(f"    - name: {q('a' + chr(0x1B) + '[2J' + chr(0x202E))}\n      pipeline: p\n"), "invalid-step-name")
        assert "\x1b" not in f.message and "\u202e" not in f.message

    def test_two_hundred_characters_is_allowed(self) -> None:
        """A 200-character step name is at the limit and valid."""
        assert findings(with_step(f"    - name: {'s' * 200}\n      pipeline: p\n")) == []


AWKWARD_STEP_NAMES = {
    "double quote": 'say "hi"',
    "single quote": "it's",
    "both quotes": "\"'\"",
    "script": "<script>alert(1)</script>",
    "arrow": "a -> b",
    "template": "{{ not a template }}",
    "jinja block": "{% raw %}",
    "braces": "{a}",
    "reversed braces": "}{",
    "brackets": "[x]",
    "emoji": "🚀 launch",
    "flag emoji": "🇫🇷",
    "cjk": "数据处理",
    "arabic": "مرحبا بالعالم",
    "hebrew": "שלום",
    "mixed direction": "abc שלום 123",
    "combining accent": "cafe\u0301",
    "__proto__": "__proto__",
    "constructor": "constructor",
    "backslashes": "back\\slash\\\\n",
    "windows path": "C:\\temp\\new",
    "yaml bool": "yes",
    "yaml null": "null",
    "tilde": "~",
    "number": "1.0",
    "document marker": "---",
    "colon space": "key: value",
    "hash": "# not a comment",
    "leading dash": "- item",
    "anchor": "&anchor",
    "alias": "*alias",
    "tag": "!!python/object",
    "percent": "%TAG",
    "pipe": "|",
    "html entity": "&amp;",
    "sql": "'; DROP TABLE steps; --",
    "dot dot": "../../etc/passwd",
    "200 chars": "é" * 200,
}


def awkward_group(name: str) -> str:
    return (
        "apiVersion: spine.io/v1\nkind: PipelineGroup\nmetadata:\n  name: awkward\nspec:\n  pipelines:\n"
        f"    - name: {q(name)}\n      pipeline: x.first\n      params: {{{q(name)}: {q(name)}}}\n"
        f"    - name: after\n      pipeline: x.after\n      depends_on: [{q(name)}]\n"
    )


class TestAwkwardNames:
    @pytest.mark.parametrize("name", AWKWARD_STEP_NAMES.values(), ids=AWKWARD_STEP_NAMES.keys())
    def test_awkward_name_is_valid(self, name: str) -> None:
        """Printable names with quotes, markup, templates, unicode and YAML syntax are valid."""
        assert findings(awkward_group(name)) == []

    @pytest.mark.parametrize("name", AWKWARD_STEP_NAMES.values(), ids=AWKWARD_STEP_NAMES.keys())
    def test_awkward_name_survives_byte_for_byte(self, name: str) -> None:
        """load → model → group_to_yaml → load keeps the step name's exact bytes."""
        first = load_group_from_text(awkward_group(name))
        again = load_group_from_text(group_to_yaml(first))
        assert [s.name.encode("utf-8") for s in again.steps] == [name.encode("utf-8"), b"after"]

    @pytest.mark.parametrize("name", AWKWARD_STEP_NAMES.values(), ids=AWKWARD_STEP_NAMES.keys())
    def test_awkward_dependency_survives_byte_for_byte(self, name: str) -> None:
        """A depends_on item naming an awkward step keeps its exact bytes through the round trip."""
        again = load_group_from_text(group_to_yaml(load_group_from_text(awkward_group(name))))
        assert [d.encode("utf-8") for d in again.steps[1].depends_on] == [name.encode("utf-8")]

    @pytest.mark.parametrize("name", AWKWARD_STEP_NAMES.values(), ids=AWKWARD_STEP_NAMES.keys())
    def test_awkward_param_survives(self, name: str) -> None:
        """The same text as a param key and value comes back unchanged."""
        again = load_group_from_text(group_to_yaml(load_group_from_text(awkward_group(name))))
        assert dict(again.steps[0].params) == {name: name}

    @pytest.mark.parametrize("name", AWKWARD_STEP_NAMES.values(), ids=AWKWARD_STEP_NAMES.keys())
    def test_awkward_name_round_trips_the_whole_group(self, name: str) -> None:
        """The whole group is equal after the round trip."""
        first = load_group_from_text(awkward_group(name))
        assert load_group_from_text(group_to_yaml(first)) == first


POLICY = "  policy:\n"


class TestPolicy:
    @pytest.mark.parametrize("value", ["0", "-1", "'four'", "four", "true", "1.5", "[4]"])
    def test_invalid_max_concurrency(self, value: str) -> None:
        """max_concurrency must be an integer ≥ 1: 0 is invalid-value, 'four', true … wrong-type, at the value."""
        code = "invalid-value" if value in ("0", "-1") else "wrong-type"
        f = sole(with_spec(f"{POLICY}    execution: parallel\n    max_concurrency: {value}\n"), code)
        assert (pos(f), "≥ 1" in f.message) == ((14, 22), True)

    def test_max_concurrency_zero_message(self) -> None:
        """The message says what was found."""
        f = sole(with_spec(f"{POLICY}    max_concurrency: 0\n"), "invalid-value")
        assert "got an integer (0)" in f.message

    def test_max_concurrency_string_message(self) -> None:
        """A quoted number is reported as a string."""
        f = sole(with_spec(f"{POLICY}    max_concurrency: 'four'\n"), "wrong-type")
        assert "'four'" in f.message

    def test_invalid_on_failure(self) -> None:
        """on_failure: explode is invalid-value listing stop and continue."""
        f = sole(with_spec(f"{POLICY}    on_failure: explode\n"), "invalid-value")
        assert (pos(f), "stop or continue" in f.message, "explode" in f.message) == ((13, 17), True, True)

    @pytest.mark.parametrize("value", ["fast", "PARALLEL", "true", "[parallel]"])
    def test_invalid_execution(self, value: str) -> None:
        """execution other than sequential/parallel is invalid-value."""
        f = sole(with_spec(f"{POLICY}    execution: {value}\n"), "invalid-value")
        assert pos(f) == (13, 16)

    @pytest.mark.parametrize("value", ["0", "-1", ".inf", ".nan", "'60'", "true", "[]"])
    def test_invalid_timeout(self, value: str) -> None:
        """timeout_minutes must be a finite number > 0 (a number out of range is invalid-value, else wrong-type)."""
        code = "wrong-type" if value in ("'60'", "true", "[]") else "invalid-value"
        f = sole(with_spec(f"{POLICY}    timeout_minutes: {value}\n"), code)
        assert pos(f) == (13, 22)

    def test_valid_policy_is_read(self) -> None:
        """A valid policy becomes the group's ExecutionPolicy with enums."""
        text = with_spec(f"{POLICY}    execution: parallel\n    max_concurrency: 8\n    on_failure: continue\n    timeout_minutes: 2.5\n")
        group, found = parse(text)
        assert (found, group.policy if group else None) == (
            [],
            ExecutionPolicy(ExecutionMode.PARALLEL, 8, FailurePolicy.CONTINUE, 2.5),
        )

    def test_policy_must_be_a_mapping(self) -> None:
        """policy: parallel is wrong-type."""
        f = sole(with_spec("  policy: parallel\n"), "wrong-type")
        assert pos(f) == (12, 11)

    def test_null_policy_is_the_default(self) -> None:
        """policy: (null) means the default policy."""
        group, found = parse(with_spec("  policy:\n"))
        assert (found, group.policy if group else None) == ([], ExecutionPolicy())

    def test_unknown_policy_key_did_you_mean(self) -> None:
        """A misspelt policy key suggests the right one."""
        f = sole(with_spec(f"{POLICY}    max_concurency: 2\n"), "unknown-key")
        assert ("did you mean 'max_concurrency'?" in f.message, pos(f)) == (True, (13, 5))


class TestParams:
    def test_boolean_param_key(self) -> None:
        """A bare 'on:' inside step params is wrong-type with a hint to quote the key."""
        f = sole(with_step("    - name: a\n      pipeline: p\n      params:\n        on: 1\n"), "wrong-type")
        assert ("quote the key" in f.message, pos(f), f.step) == (True, (10, 9), "a")

    @pytest.mark.parametrize("key", ["on", "off", "yes", "no", "true", "y"])
    def test_boolean_like_keys(self, key: str) -> None:
        """Every key YAML 1.1 reads as a boolean is reported (y is a string in PyYAML: no finding)."""
        found = findings(with_step(f"    - name: a\n      pipeline: p\n      params:\n        {key}: 1\n"))
        assert [f.code for f in found] == ([] if key == "y" else ["wrong-type"])

    def test_quoted_boolean_key_is_fine(self) -> None:
        """A quoted 'on' key is a string key."""
        group, found = parse(with_step("    - name: a\n      pipeline: p\n      params:\n        'on': 1\n"))
        assert (found, dict(group.steps[0].params) if group else None) == ([], {"on": 1})

    def test_boolean_key_in_defaults(self) -> None:
        """The same check applies to spec.defaults."""
        f = sole(with_spec("  defaults:\n    off: 2\n"), "wrong-type")
        assert ("spec.defaults" in f.message, pos(f)) == (True, (13, 5))

    def test_numeric_param_key(self) -> None:
        """A numeric param key is wrong-type."""
        sole(with_step("    - name: a\n      pipeline: p\n      params: {1: x}\n"), "wrong-type")

    def test_params_must_be_a_mapping(self) -> None:
        """params as a list is wrong-type at the value."""
        f = sole(with_step("    - name: a\n      pipeline: p\n      params: [x]\n"), "wrong-type")
        assert pos(f) == (9, 15)

    def test_defaults_must_be_a_mapping(self) -> None:
        """spec.defaults as a string is wrong-type."""
        sole(with_spec("  defaults: tier1\n"), "wrong-type")

    def test_null_params_are_empty(self) -> None:
        """params: (null) means no params."""
        group, found = parse(with_step("    - name: a\n      pipeline: p\n      params:\n"))
        assert (found, dict(group.steps[0].params) if group else None) == ([], {})

    def test_param_values_keep_their_types(self) -> None:
        """Param values are passed through as YAML read them."""
        group, _ = parse(with_step("    - name: a\n      pipeline: p\n      params: {n: 1, b: true, s: '1', l: [1], z: null}\n"))
        assert group is not None and dict(group.steps[0].params) == {"n": 1, "b": True, "s": "1", "l": (1,), "z": None}


FIVE_PROBLEMS = """\
apiVersion: spine.io/v2
kind: PipelineGroup
metadata:
  name: five
spec:
  pipelines:
    - name: ingest
      pipeline: x.ingest
      depnds_on: []
    - name: "bad\\u202ename"
      pipeline: x.bad
    - name: normalize
      pipeline: x.normalize
      depends_on: ingest
  policy:
    max_concurrency: 0
"""


class TestEveryProblemAtOnce:
    def test_five_problems_give_five_findings(self) -> None:
        """A file with five different problems reports all five, in one pass."""
        assert sorted(f.code for f in findings(FIVE_PROBLEMS)) == sorted(
            ["wrong-api-version", "unknown-key", "invalid-step-name", "wrong-type", "invalid-value"]
        )

    def test_five_problems_have_their_own_positions(self) -> None:
        """Each of the five findings points at its own key or value."""
        got = {f.code: pos(f) for f in findings(FIVE_PROBLEMS)}
        assert got == {
            "wrong-api-version": (1, 13),
            "unknown-key": (9, 7),
            "invalid-step-name": (10, 13),
            "wrong-type": (14, 19),
            "invalid-value": (16, 22),
        }

    def test_every_finding_has_file_line_and_column(self) -> None:
        """No finding of a broken file lacks its location."""
        for f in findings(FIVE_PROBLEMS):
            assert (f.file, type(f.line), type(f.column)) == (FILE, int, int)

    def test_group_is_still_built(self) -> None:
        """With findings, the readable part of the group is still built (for the graph checks)."""
        group, _ = parse(FIVE_PROBLEMS)
        assert group is not None and group.step_names == ["ingest", "bad\u202ename", "normalize"]


class TestFindingContext:
    def test_findings_carry_the_group_name(self) -> None:
        """Findings name the group they are in."""
        assert {f.group for f in findings(FIVE_PROBLEMS)} == {"five"}

    def test_step_findings_carry_the_step_name(self) -> None:
        """Findings about a step name that step."""
        steps = {f.code: f.step for f in findings(FIVE_PROBLEMS)}
        assert (steps["unknown-key"], steps["wrong-type"], steps["wrong-api-version"]) == ("ingest", "normalize", None)

    def test_unnamed_step_is_labelled_by_number(self) -> None:
        """A step whose name is unusable is labelled '#N'."""
        f = sole(with_step("    - pipeline: p\n"), "missing-key")
        assert f.step == "#1"

    def test_yaml_problems_name_the_document_index(self) -> None:
        """A group from the second document of a file has that index in its source."""
        _, second = read_documents(VALID + "---\n" + VALID.replace("demo", "demo2"), FILE)
        group, _ = parse_document(second)
        assert group is not None and group.source is not None and group.source.document == 1


class TestFromDict:
    @staticmethod
    def data() -> dict[str, Any]:
        return {
            "apiVersion": "spine.io/v1",
            "kind": "PipelineGroup",
            "metadata": {"name": "demo"},
            "spec": {
                "pipelines": [
                    {"name": "ingest", "pipeline": "x.ingest"},
                    {"name": "normalize", "pipeline": "x.normalize", "depends_on": ["ingest"]},
                ]
            },
        }

    def test_from_dict_equals_yaml(self) -> None:
        """PipelineGroup.from_dict and YAML give equal groups for the same document."""
        assert PipelineGroup.from_dict(self.data()) == parse(VALID)[0]

    def test_to_dict_round_trips(self) -> None:
        """from_dict(g.to_dict()) == g."""
        g = PipelineGroup.from_dict(self.data()).with_policy(execution="parallel").with_defaults(tier="x")
        assert PipelineGroup.from_dict(g.to_dict()) == g

    def test_from_dict_reports_every_problem(self) -> None:
        """from_dict raises InvalidGroupSpecError carrying every finding."""
        data = self.data()
        data["kind"] = "Nope"
        data["spec"]["pipelines"][1]["depends_on"] = "ingest"
        with pytest.raises(InvalidGroupSpecError) as info:
            PipelineGroup.from_dict(data)
        assert [f.code for f in info.value.findings] == ["wrong-kind", "wrong-type"]

    def test_from_dict_findings_name_the_file_without_position(self) -> None:
        """Findings from a dict carry the given file but no line or column."""
        data = self.data()
        data["metadata"]["version"] = 0
        with pytest.raises(InvalidGroupSpecError) as info:
            PipelineGroup.from_dict(data, file="conf.py")
        assert [(f.file, f.line, f.column) for f in info.value.findings] == [("conf.py", None, None)]

    def test_from_dict_depends_on_string_message(self) -> None:
        """The depends_on hint is the same for dicts as for YAML."""
        data = self.data()
        data["spec"]["pipelines"][1]["depends_on"] = "ingest"
        with pytest.raises(InvalidGroupSpecError, match=r"depends_on: \[ingest\]"):
            PipelineGroup.from_dict(data)

    @pytest.mark.parametrize("data", [[1, 2], "text", None, 5])
    def test_from_dict_not_a_mapping(self, data: Any) -> None:
        """A non-mapping is not-a-mapping, not a TypeError."""
        with pytest.raises(InvalidGroupSpecError) as info:
            group_from_document(data)
        assert [f.code for f in info.value.findings] == ["not-a-mapping"]

    def test_any_mapping_is_accepted(self) -> None:
        """A read-only Mapping (not a dict) is read like a dict."""
        assert group_from_document(MappingProxyType(self.data())) == PipelineGroup.from_dict(self.data())

    def test_check_fields_on_a_dsl_group(self) -> None:
        """check_fields applies the format's rules to a group built in Python."""
        g = PipelineGroup(name="dsl").add("bad\u200bname", "p")
        assert [f.code for f in check_fields(g)] == ["invalid-step-name"]
