"""spine.yamlio.reader: safe, limited, position-keeping YAML reading."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml

from spine.core.errors import InvalidGroupSpecError
from spine.core.findings import Finding
from spine.core.limits import Limits
from spine.yamlio.reader import Document, read_bytes, read_documents

FILE = "f.yaml"


def problems(data: str | bytes, limits: Limits | None = None) -> tuple[Finding, ...]:
    """The findings ``read_documents`` raises for ``data`` (fails the test if it does not raise)."""
    with pytest.raises(InvalidGroupSpecError) as info:
        read_documents(data, FILE, limits)
    assert info.value.findings, "an InvalidGroupSpecError must carry at least one finding"
    return info.value.findings


def one(data: str | bytes, code: str, limits: Limits | None = None) -> Finding:
    """The single finding with ``code`` raised for ``data``."""
    found = problems(data, limits)
    hits = [f for f in found if f.code == code]
    assert len(hits) == 1, [str(f) for f in found]
    assert hits[0].file == FILE
    return hits[0]


def values(data: str | bytes, limits: Limits | None = None) -> list[Any]:
    return [d.value for d in read_documents(data, FILE, limits)]


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


# Ordinary documents whose values must equal what yaml.safe_load_all gives.
ORDINARY = {
    "ints": "a: 1\nb: -17\nc: 0\nd: +5\ne: 1_000\nf: 0x1F\ng: 0o17\nh: 017\ni: 0b101\nj: 190:20:30\n",
    "big int": "a: 123456789012345678901234567890\n",
    "floats": "a: 1.5\nb: -0.25\nc: 1e3\nd: 6.8523015e+5\ne: .inf\nf: -.Inf\ng: 190:20:30.15\nh: 1_000.5\n",
    "bools": "a: yes\nb: no\nc: on\nd: off\ne: true\nf: False\ng: YES\nh: Off\ni: y\nj: n\n",
    "nulls": "a: null\nb: ~\nc:\nd: Null\ne: NULL\n",
    "dates": "a: 2001-12-14\nb: 2001-12-14t21:59:43.10-05:00\nc: 2001-12-14 21:59:43.10\nd: 2002-12-14T01:02:03Z\n",
    "quoted strings": "a: 'yes'\nb: \"1\"\nc: 'it''s'\nd: \"tab\\tnew\\nline \\u263A \\x41\"\ne: ''\nf: \"null\"\n",
    "plain strings": "a: hello world\nb: x.y-z_1\nc: 1.2.3\nd: -x\ne: 'a: b'\nf: http://h:80/p?q=1#f\n",
    "folded plain": "a: one\n  two\n  three\nb: x\n",
    "literal block": "a: |\n  line one\n    indented\n  last\nb: 1\n",
    "folded block": "a: >\n  folded\n  text\n\n  para\nb: 1\n",
    "chomping": "a: |-\n  strip\nb: |+\n  keep\n\nc: >-\n  x\n",
    "flow collections": "a: [1, two, {three: 3}, [4, [5]]]\nb: {x: 1, 'y': [], z: {}}\n",
    "block collections": "a:\n  - 1\n  - - nested\n    - list\n  - k: v\n    k2: v2\nb:\n  c:\n    d: e\n",
    "compact nested": "- - - deep\n- a: 1\n  b: 2\n",
    "merge key": "base: &base {x: 1, y: 2}\nchild:\n  <<: *base\n  y: 3\n",
    "merge list": "a: &a {p: 1, q: 1}\nb: &b {q: 2, r: 2}\nc:\n  <<: [*a, *b]\n  s: 3\n",
    "anchors and aliases": "x: &v hello\ny: *v\nz: &l [1, 2]\nw: *l\n",
    "non-string keys": "10: one\n2.5: two\ntrue: t\n~: n\n2001-01-01: d\n",
    "explicit simple key": "? a\n: 1\n? b\n",
    "multi documents": "a: 1\n---\n- 2\n---\nplain\n---\n...\n",
    "document markers": "%YAML 1.1\n---\na: 1\n...\n---\nb: 2\n",
    "tag directive": "%TAG !e! tag:yaml.org,2002:\n---\na: !e!str 5\n",
    "standard tags": "a: !!str 1\nb: !!int '12'\nc: !!float 1\nd: !!bool yes\ne: !!null ''\nf: !!map {x: 1}\ng: !!seq [1]\nh: !!binary aGVsbG8=\n",
    "comments": "# leading\na: 1  # trailing\n# between\nb: [1, # inside\n  2]\n",
    "unicode": "名前: データ\nemoji: 🚀\nrtl: مرحبا\nescaped: \"\\u00e9\\U0001F600\"\n",
    "empty document": "",
    "only comment": "# nothing here\n",
    "scalar document": "42\n",
    "windows newlines": "a: 1\r\nb:\r\n  - x\r\n",
    "bom": "\ufeffa: 1\n",
}


class TestMatchesSafeLoad:
    @pytest.mark.parametrize("text", ORDINARY.values(), ids=ORDINARY.keys())
    def test_values_equal_safe_load_all(self, text: str) -> None:
        """Every ordinary document reads to the same values as yaml.safe_load_all."""
        assert values(text) == list(yaml.safe_load_all(text))

    @pytest.mark.parametrize("text", ORDINARY.values(), ids=ORDINARY.keys())
    def test_bytes_read_like_text(self, text: str) -> None:
        """UTF-8 bytes read to the same values as the equivalent text."""
        assert values(text.encode("utf-8")) == values(text)

    def test_value_types_match_safe_load(self) -> None:
        """Resolved scalars have the same Python types as safe_load's (1 is int, yes is bool)."""
        text = ORDINARY["ints"] + "k: yes\nl: 1.0\nm: 2001-12-14\nn: '1'\n"
        got = values(text)[0]
        want = yaml.safe_load(text)
        assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in want.items()}

    def test_repeated_scalar_is_resolved_each_time_consistently(self) -> None:
        """A plain scalar seen many times (the resolve cache) keeps its meaning in every place."""
        text = "".join(f"k{i}: [yes, '1', 1, null, '']\n" for i in range(50))
        assert values(text) == [yaml.safe_load(text)]

    def test_documents_are_numbered_in_order(self) -> None:
        """Each document carries its 0-based index in the stream."""
        docs = read_documents("a: 1\n---\nb: 2\n---\nc: 3\n", FILE)
        assert [d.index for d in docs] == [0, 1, 2]

    def test_documents_carry_the_file_name(self) -> None:
        """Each document remembers the file name it was read under."""
        docs = read_documents("a: 1\n---\nb: 2\n", "groups/x.yaml")
        assert {d.file for d in docs} == {"groups/x.yaml"}

    def test_aliases_are_shared_not_copied(self) -> None:
        """An alias refers to the anchored container itself, as safe_load does."""
        value = values("a: &x [1, 2]\nb: *x\n")[0]
        assert value["b"] is value["a"]

    def test_non_specific_tag_is_a_string(self) -> None:
        """'! 12' is the string '12', as the YAML spec says for the non-specific tag."""
        assert values("a: ! 12\n") == [{"a": "12"}]

    def test_scalar_alias_is_accepted(self) -> None:
        """An alias to an anchored scalar gives that scalar."""
        assert values("a: &n 5\nb: *n\n") == [{"a": 5, "b": 5}]


class TestDuplicateKeys:
    def test_duplicate_key_is_reported(self) -> None:
        """A key that appears twice in one mapping is an error (safe_load silently keeps the last)."""
        one("a: 1\nb: 2\na: 3\n", "duplicate-key")

    def test_duplicate_key_points_at_the_second_key(self) -> None:
        """The finding points at the repeated key, not at the first one."""
        f = one("a: 1\nb: 2\na: 3\n", "duplicate-key")
        assert (f.line, f.column) == (3, 1)

    def test_duplicate_key_message_names_the_first_line(self) -> None:
        """The message says where the first occurrence is."""
        f = one("a: 1\nb: 2\na: 3\n", "duplicate-key")
        assert "'a'" in f.message and "line 1" in f.message

    def test_duplicate_key_in_nested_mapping(self) -> None:
        """Duplicates are found at any depth, at the nested key's position."""
        f = one("top:\n  inner:\n    x: 1\n    y: 2\n    x: 3\n", "duplicate-key")
        assert (f.line, f.column) == (5, 5)

    def test_duplicate_key_in_flow_mapping(self) -> None:
        """Duplicates in a flow mapping point at the second key's column."""
        f = one("m: {a: 1, b: 2, a: 3}\n", "duplicate-key")
        assert (f.line, f.column) == (1, 17)

    def test_duplicate_non_string_keys(self) -> None:
        """Keys that resolve to the same value (1 and 1) are duplicates too."""
        f = one("1: a\n1: b\n", "duplicate-key")
        assert (f.line, f.column) == (2, 1)

    def test_every_duplicate_is_reported(self) -> None:
        """Two duplicated keys in different mappings give two findings."""
        found = problems("a: 1\na: 2\nm:\n  b: 1\n  b: 2\n")
        assert [(f.code, f.line) for f in found] == [("duplicate-key", 2), ("duplicate-key", 5)]

    def test_same_key_in_sibling_mappings_is_fine(self) -> None:
        """The same key in two different mappings is not a duplicate."""
        assert values("x: {a: 1}\ny: {a: 2}\n") == [{"x": {"a": 1}, "y": {"a": 2}}]


PYTHON_TAGS = {
    "object/apply": "!!python/object/apply:os.system [{cmd}]",
    "object/apply mapping": "!!python/object/apply:os.system\nargs: [{cmd}]",
    "object/new": "!!python/object/new:subprocess.Popen [[sh, -c, {cmd}]]",
    "object": "!!python/object:subprocess.Popen {{args: [sh, -c, {cmd}]}}",
    "name": "x: !!python/name:os.system",
    "module": "x: !!python/module:os",
    "verbatim": "x: !<tag:yaml.org,2002:python/object/apply:os.system> [{cmd}]",
    "tag shorthand": "%TAG !p! tag:yaml.org,2002:python/\n---\nx: !p!object/apply:os.system [{cmd}]",
    "nested in list": "- ok\n- !!python/object/apply:os.system [{cmd}]",
    "tuple": "x: !!python/tuple [1, 2]",
    "str": "x: !!python/str hello",
}


class TestTags:
    @pytest.mark.parametrize("template", PYTHON_TAGS.values(), ids=PYTHON_TAGS.keys())
    def test_python_tags_are_refused(self, template: str, tmp_path: Path) -> None:
        """Every !!python/... tag is an unsupported-tag finding."""
        cmd = f"'touch {tmp_path / 'pwned'}'"
        found = problems(template.format(cmd=cmd))
        assert "unsupported-tag" in {f.code for f in found}

    @pytest.mark.parametrize("template", PYTHON_TAGS.values(), ids=PYTHON_TAGS.keys())
    def test_python_tags_execute_nothing(self, template: str, tmp_path: Path) -> None:
        """Reading a python tag that would run a command leaves no trace of the command."""
        target = tmp_path / "pwned"
        with pytest.raises(InvalidGroupSpecError):
            read_documents(template.format(cmd=f"'touch {target}'"), FILE)
        assert not target.exists()

    def test_python_tag_constructs_no_object(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """os.system is never called for !!python/object/apply:os.system."""
        calls: list[Any] = []
        monkeypatch.setattr("os.system", lambda *a: calls.append(a) or 0)
        with pytest.raises(InvalidGroupSpecError):
            read_documents("!!python/object/apply:os.system ['echo hi']\n", FILE)
        assert calls == []

    def test_python_tag_position(self) -> None:
        """The finding points at the tag."""
        f = one("a: 1\nb: !!python/name:os.system\n", "unsupported-tag")
        assert (f.line, f.column) == (2, 4)

    @pytest.mark.parametrize(
        "text", ["x: !foo bar\n", "x: !foo {a: 1}\n", "x: !foo [1]\n", "!Ref x\n"]
    )
    def test_unknown_tags_are_refused(self, text: str) -> None:
        """Local and unsupported tags on scalars, mappings and lists are unsupported-tag."""
        f = one(text, "unsupported-tag")
        assert f.line == 1

    def test_every_bad_tag_is_reported(self) -> None:
        """Several unknown tags in one document give one finding each."""
        found = problems("a: !foo 1\nb: !bar 2\nc: !!python/none ''\n")
        assert [(f.code, f.line) for f in found] == [("unsupported-tag", 1), ("unsupported-tag", 2), ("unsupported-tag", 3)]


class TestAliases:
    def test_alias_bomb_is_refused(self) -> None:
        """A 9-level, 9-wide billion-laughs document ends in too-many-nodes."""
        f = one(billion_laughs(), "too-many-nodes")
        assert f.line is not None and 2 <= f.line <= 10

    def test_alias_bomb_uses_little_memory(self) -> None:
        """Refusing the alias bomb allocates far less than 50 MB at its peak."""
        text = billion_laughs()
        tracemalloc.start()
        try:
            with pytest.raises(InvalidGroupSpecError):
                read_documents(text, FILE)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 50 * 1024 * 1024

    def test_alias_bomb_in_flow_style_is_refused(self) -> None:
        """The same bomb written as one flow mapping is refused too."""
        text = billion_laughs().replace("\n", ", ").rstrip(", ")
        one("{" + text + "}", "too-many-nodes")

    def test_aliases_count_their_expanded_size(self) -> None:
        """max_nodes counts an alias as every value it stands for."""
        text = "a: &a [" + ", ".join(["x"] * 100) + "]\nb: [" + ", ".join(["*a"] * 20) + "]\n"
        one(text, "too-many-nodes", Limits(max_nodes=1000))

    def test_small_alias_use_is_accepted(self) -> None:
        """The anchored list alone fits in the same node limit."""
        text = "a: &a [" + ", ".join(["x"] * 100) + "]\nb: [*a]\n"
        assert len(values(text, Limits(max_nodes=1000))[0]["b"]) == 1

    def test_self_referencing_list(self) -> None:
        """&a [*a] is recursive-alias at the alias."""
        f = one("&a [*a]\n", "recursive-alias")
        assert (f.line, f.column) == (1, 5)

    def test_self_referencing_mapping(self) -> None:
        """An alias inside the mapping it names is recursive-alias."""
        f = one("root: &r\n  child:\n    back: *r\n", "recursive-alias")
        assert (f.line, f.column) == (3, 11)

    def test_undefined_alias(self) -> None:
        """An alias with no anchor before it is undefined-alias at the alias."""
        f = one("a: 1\nb: *nowhere\n", "undefined-alias")
        assert (f.line, f.column) == (2, 4)

    def test_anchor_after_alias_is_undefined(self) -> None:
        """An anchor defined after its alias does not count."""
        one("a: *x\nb: &x 1\n", "undefined-alias")

    def test_anchors_do_not_leak_between_documents(self) -> None:
        """An anchor of one document cannot be used in the next."""
        one("a: &x 1\n---\nb: *x\n", "undefined-alias")


class TestDepth:
    def test_ten_thousand_open_brackets(self) -> None:
        """'[' * 10000 is refused as too-deep, not as a RecursionError or a syntax error."""
        one("[" * 10_000, "too-deep")

    def test_ten_thousand_nested_lists(self) -> None:
        """A balanced 10,000-level flow list is too-deep."""
        one("[" * 10_000 + "]" * 10_000, "too-deep")

    def test_ten_thousand_nested_flow_mappings(self) -> None:
        """A 10,000-level flow mapping is too-deep."""
        one("{a: " * 10_000 + "1" + "}" * 10_000, "too-deep")

    def test_ten_thousand_level_block_mapping(self) -> None:
        """A 10,000-level block-style mapping is too-deep at the first level over the limit."""
        text = b"".join(b" " * i + b"k:\n" for i in range(10_000)) + b" " * 10_000 + b"v\n"
        f = one(text, "too-deep", Limits(max_bytes=len(text)))
        assert (f.line, f.column) == (101, 101)

    def test_ten_thousand_level_compact_block_list(self) -> None:
        """'- ' * 10000 (compact block lists) is too-deep."""
        one("- " * 10_000 + "x\n", "too-deep")

    def test_depth_at_the_limit_is_accepted(self) -> None:
        """Exactly max_depth levels of nesting read fine."""
        assert values("[" * 5 + "]" * 5, Limits(max_depth=5)) == [[[[[[]]]]]]

    def test_depth_over_the_limit_is_refused(self) -> None:
        """One level more than max_depth is too-deep at the opening of that level."""
        f = one("[" * 6 + "]" * 6, "too-deep", Limits(max_depth=5))
        assert (f.line, f.column) == (1, 6)

    def test_too_deep_message_names_the_limit(self) -> None:
        """The too-deep message says what the limit is."""
        f = one("[" * 200 + "]" * 200, "too-deep")
        assert "100" in f.message


SYNTAX_ERRORS = {
    "mapping value in plain scalar": ("foo: bar: baz\n", 1, 9),
    "tab indentation": ("a:\n\tb: 1\n", 2, 1),
    "unknown escape": ('a: "\\q"\n', 1, 5),
    "sequence after mapping": ("x: 1\n- a\n", 2, 1),
    "bad indentation": ("a:\n  b: 1\n c: 2\n", 3, 2),
    "unclosed quote": ("a: 'open\n", 2, 1),
}


class TestSyntaxErrors:
    @pytest.mark.parametrize("text, line, column", SYNTAX_ERRORS.values(), ids=SYNTAX_ERRORS.keys())
    def test_syntax_error_position(self, text: str, line: int, column: int) -> None:
        """A syntax error is yaml-syntax at the 1-based position libyaml reports."""
        f = one(text, "yaml-syntax")
        assert (f.line, f.column) == (line, column)

    def test_syntax_error_message_says_what_is_wrong(self) -> None:
        """The message carries the parser's explanation."""
        f = one("foo: bar: baz\n", "yaml-syntax")
        assert "mapping values are not allowed" in f.message

    def test_syntax_error_in_second_document(self) -> None:
        """Positions in later documents are counted from the start of the file."""
        f = one("a: 1\n---\nb: 2\nfoo: bar: baz\n", "yaml-syntax")
        assert (f.line, f.column) == (4, 9)


HINTS = {
    "tab indentation": ("a:\n\tb: 1\n", "YAML indentation must use spaces, not tabs: replace the tab at line 2, column 1"),
    "tab among spaces": ("a:\n  b: 1\n\tc: 2\n", "must use spaces, not tabs: replace the tab at line 3, column 1"),
    "tab in a block scalar": ("a: |\n  x\n\ty\n", "must use spaces, not tabs: replace the tab at line 3, column 1"),
    "tab after non-ASCII text": ("ключ: 1\nб:\n\tb: é\n", "replace the tab at line 3, column 1"),
    "unclosed double quote": ('x: 1\na: "open\nb: 1\n', "the quoted value that starts at line 2, column 4 is never closed"),
    "unclosed single quote": ("a: 'open\n", "the quoted value that starts at line 1, column 4 is never closed"),
    "unclosed list": ("a: [1, 2\nb: 1\n", "the '[' at line 1, column 4 is not closed"),
    "unclosed mapping": ("a: {x: 1\nb: 1\n", "the '{' at line 1, column 4 is not closed"),
    "colon in a plain value": ("title: Weekly: FINRA\n", "must be put in quotes"),
    "reserved @": ("a: @x\n", "'@' is reserved in YAML and cannot start a plain value; put the value in quotes"),
    "reserved backtick": ("a: `x`\n", "'`' is reserved in YAML"),
    "bad mapping indentation": ("a:\n  b: 1\n c: 2\n", "the keys of the mapping that starts at line 1, column 1 must line up"),
    "bad list indentation": (
        "spec:\n  pipelines:\n    - name: a\n      pipeline: x\n     depends_on: [a]\n",
        "lines up neither with the '-' of the list at line 3, column 5",
    ),
}


class TestSyntaxHints:
    @pytest.mark.parametrize("text, hint", HINTS.values(), ids=HINTS.keys())
    def test_common_mistake_gets_a_hint(self, text: str, hint: str) -> None:
        """A common libyaml error keeps the parser's words and adds what to do, with line and column."""
        f = one(text, "yaml-syntax")
        assert f.message.startswith("YAML syntax error: ")
        assert hint in f.message

    @pytest.mark.parametrize("data", [b"a:\n\tb: 1\n", "a:\n\tb: 1\n"], ids=["bytes", "str"])
    def test_tab_hint_for_bytes_and_text(self, data: bytes | str) -> None:
        """The tab hint is found whether the reader got bytes (a file) or text."""
        assert "not tabs" in one(data, "yaml-syntax").message

    def test_tab_inside_a_value_is_not_blamed(self) -> None:
        """A tab inside a value, away from where the parser stopped, gets no tab hint (hints must be certain)."""
        f = one("a: x\ty: z\n", "yaml-syntax")
        assert "not tabs" not in f.message
        assert "must be put in quotes" in f.message

    def test_unknown_error_gets_no_hint(self) -> None:
        """An error with no certain advice (an unknown escape) is the parser's message alone."""
        f = one('a: "\\q"\n', "yaml-syntax")
        assert ";" not in f.message


JUNK = {
    "nul in value": b"a: \x00\n",
    "only nuls": b"\x00" * 64,
    "invalid utf-8": b"a: \xc3\x28\n",
    "lone continuation byte": b"\x80\x80\x80",
    "utf-16 bom then junk": b"\xff\xfe\x00junk",
    "latin-1": "name: caf\xe9\n".encode("latin-1"),
    "escape sequence": b"a: \x1b[31mred\x1b[0m\n",
    "png header": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
    "random bytes": random.Random(1234).randbytes(4096),
    "gzip magic": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
    "surrogate text": "a: \ud800\n",
    "surrogateescape text": b"k: \xff\n".decode("utf-8", "surrogateescape"),
}


class TestEncoding:
    @pytest.mark.parametrize("data", JUNK.values(), ids=JUNK.keys())
    def test_junk_is_an_encoding_or_syntax_finding(self, data: bytes | str) -> None:
        """Binary junk ends in yaml-encoding or yaml-syntax, never another exception."""
        found = problems(data)
        assert {f.code for f in found} <= {"yaml-encoding", "yaml-syntax"}

    @pytest.mark.parametrize("data", JUNK.values(), ids=JUNK.keys())
    def test_junk_findings_have_a_position(self, data: bytes | str) -> None:
        """Every finding for junk input still has a file, line and column."""
        for f in problems(data):
            assert (f.file, type(f.line), type(f.column)) == (FILE, int, int)

    def test_nul_byte_is_encoding_error(self) -> None:
        """A NUL byte is reported as yaml-encoding with advice to save as UTF-8."""
        f = one(b"a: \x00\n", "yaml-encoding")
        assert "UTF-8" in f.message

    def test_utf8_bom_is_accepted(self) -> None:
        """A UTF-8 byte-order mark is not a problem."""
        assert values(b"\xef\xbb\xbfa: 1\n") == [{"a": 1}]


#: id → (text, line, column) of a value its tag (explicit or resolved) cannot construct.
INVALID_SCALARS: dict[str, tuple[str, int, int]] = {
    "!!int abc": ("a: !!int abc\n", 1, 4),
    "!!int 0xZZ": ("a: !!int 0xZZ\n", 1, 4),
    "!!float abc": ("a: !!float abc\n", 1, 4),
    "!!binary bad": ("a: !!binary 5\n", 1, 4),
    "!!timestamp bad month": ("a: !!timestamp 2001-13-45\n", 1, 4),
    "plain bad date": ("x: 1\na: 2001-02-30\n", 2, 4),
    "!!timestamp not a date": ("a: !!timestamp nope\n", 1, 4),
    "!!bool maybe": ("a: !!bool maybe\n", 1, 4),
    "!!bool empty": ("a: !!bool ''\n", 1, 4),
    "!!int empty": ("a: !!int ''\n", 1, 4),
    "!!int nothing": ("a: !!int\nb: 1\n", 1, 4),
    "!!float empty": ("a: !!float ''\n", 1, 4),
    "plain 5000-digit int": ("a: " + "9" * 5000 + "\n", 1, 4),
    "!!int 5000 digits": ("a: !!int " + "9" * 5000 + "\n", 1, 4),
}


class TestKeysAndScalars:
    def test_complex_block_key(self) -> None:
        """'? [a, b] : 1' is complex-key at the key."""
        f = one("? [a, b]\n: 1\n", "complex-key")
        assert (f.line, f.column) == (1, 3)

    def test_complex_flow_key(self) -> None:
        """A flow mapping used as a key is complex-key."""
        f = one("{[a]: 1}\n", "complex-key")
        assert (f.line, f.column) == (1, 2)

    def test_mapping_key_from_alias(self) -> None:
        """An alias to a mapping used as a key is complex-key."""
        one("a: &m {x: 1}\n? *m\n: 2\n", "complex-key")

    @pytest.mark.parametrize("text, line, column", INVALID_SCALARS.values(), ids=INVALID_SCALARS.keys())
    def test_invalid_scalar(self, text: str, line: int, column: int) -> None:
        """A value its tag (explicit or resolved) cannot construct is invalid-scalar at the value."""
        f = one(text, "invalid-scalar")
        assert (f.line, f.column) == (line, column)

    def test_invalid_merge(self) -> None:
        """A merge key whose value is not a mapping is invalid-merge at the '<<' key."""
        f = one("a:\n  <<: 5\n  b: 3\n", "invalid-merge")
        assert (f.line, f.column) == (2, 3)

    def test_merge_keeps_own_keys(self) -> None:
        """Keys written in the mapping win over merged ones, as in safe_load."""
        assert values("b: &b {x: 1, y: 1}\nc: {<<: *b, y: 2}\n")[0]["c"] == {"x": 1, "y": 2}


class TestSizeLimit:
    def test_text_over_the_limit(self) -> None:
        """Input longer than max_bytes is file-too-large at 1:1."""
        f = one("a: " + "x" * 100 + "\n", "file-too-large", Limits(max_bytes=50))
        assert (f.line, f.column) == (1, 1)

    def test_text_at_the_limit_is_read(self) -> None:
        """Input of exactly max_bytes is read."""
        text = "a: " + "x" * 46 + "\n"
        assert len(text) == 50
        assert values(text, Limits(max_bytes=50)) == [{"a": "x" * 46}]

    def test_read_bytes_refuses_large_file(self, tmp_path: Path) -> None:
        """read_bytes on a file over the limit raises file-too-large for that file."""
        path = tmp_path / "big.yaml"
        path.write_bytes(b"a: 1\n" * 1000)
        with pytest.raises(InvalidGroupSpecError) as info:
            read_bytes(str(path), Limits(max_bytes=100))
        (f,) = info.value.findings
        assert (f.code, f.file, f.line, f.column) == ("file-too-large", str(path), 1, 1)

    def test_read_bytes_does_not_read_the_whole_file(self, tmp_path: Path) -> None:
        """Refusing a 64 MiB file allocates far less than the file's size (it is not read whole)."""
        path = tmp_path / "huge.yaml"
        with path.open("wb") as fh:
            fh.truncate(64 * 1024 * 1024)  # sparse: 64 MiB of NULs on disk in no time
        tracemalloc.start()
        try:
            with pytest.raises(InvalidGroupSpecError):
                read_bytes(str(path), Limits(max_bytes=1000))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 1024 * 1024

    def test_unreadable_path(self, tmp_path: Path) -> None:
        """A path that cannot be opened is file-unreadable, not an OSError."""
        with pytest.raises(InvalidGroupSpecError) as info:
            read_bytes(str(tmp_path), Limits())
        assert [f.code for f in info.value.findings] == ["file-unreadable"]


MARKED = """\
top:
  name: x
  list:
    - a
    - {b: 1, c: [2, 3]}
other: 5
"""


class TestMarks:
    @pytest.fixture
    def doc(self) -> Document:
        (d,) = read_documents(MARKED, FILE)
        return d

    def test_key_position(self, doc: Document) -> None:
        """key_at gives the 1-based position of a mapping key."""
        assert doc.key_at(doc.value["top"], "name") == (2, 3)

    def test_value_position(self, doc: Document) -> None:
        """value_at gives the 1-based position of a mapping value."""
        assert doc.value_at(doc.value["top"], "name") == (2, 9)

    def test_top_level_key_position(self, doc: Document) -> None:
        """Root keys are found too."""
        assert doc.key_at(doc.value, "other") == (6, 1)

    def test_sequence_item_positions(self, doc: Document) -> None:
        """value_at with an index gives each list item's position."""
        lst = doc.value["top"]["list"]
        assert [doc.value_at(lst, 0), doc.value_at(lst, 1)] == [(4, 7), (5, 7)]

    def test_flow_mapping_positions(self, doc: Document) -> None:
        """Keys and values inside a flow mapping have their own columns."""
        m = doc.value["top"]["list"][1]
        assert (doc.key_at(m, "c"), doc.value_at(m, "c")) == ((5, 14), (5, 17))

    def test_flow_list_item_position(self, doc: Document) -> None:
        """Items of a flow list have their own columns."""
        lst = doc.value["top"]["list"][1]["c"]
        assert doc.value_at(lst, 1) == (5, 21)

    def test_container_start(self, doc: Document) -> None:
        """at() gives where a container starts."""
        assert doc.at(doc.value["top"]["list"][1]) == (5, 7)

    def test_missing_key_falls_back_to_the_container(self, doc: Document) -> None:
        """key_at for a key that is not there gives the mapping's start."""
        top = doc.value["top"]
        assert doc.key_at(top, "nope") == doc.at(top) == (2, 3)

    def test_out_of_range_index_falls_back_to_the_list(self, doc: Document) -> None:
        """value_at past the end of a list gives the list's start."""
        lst = doc.value["top"]["list"]
        assert doc.value_at(lst, 99) == doc.at(lst) == (4, 5)

    def test_unknown_container_falls_back_to_the_document(self, doc: Document) -> None:
        """A container that is not from this document gives the document's start."""
        assert doc.at({"not": "mine"}) == (doc.line, doc.column)

    def test_columns_count_characters_not_bytes(self) -> None:
        """Columns count characters, so multi-byte text before a key does not shift it."""
        (d,) = read_documents("{é: 1, ü: 2}\n", FILE)
        assert d.key_at(d.value, "ü") == (1, 8)

    def test_positions_in_later_documents_are_absolute(self) -> None:
        """Positions in the second document count lines from the start of the file."""
        _, second = read_documents("a: 1\n---\nb:\n  c: 2\n", FILE)
        assert second.value_at(second.value["b"], "c") == (4, 6)

    def test_merged_key_points_at_the_merge(self) -> None:
        """A key that came from a merge is located at the '<<' key."""
        (d,) = read_documents("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n", FILE)
        assert d.key_at(d.value["c"], "x") == (3, 3)
