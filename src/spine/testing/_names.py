"""Names: valid and invalid step names, group names, pipeline names."""

from __future__ import annotations

import string
from functools import cache

from hypothesis import strategies as st

from spine.orchestration.names import STEP_NAME_MAX, group_name_problem, step_name_problem
from spine.testing._checks import check_bool, check_int

#: Valid step names that break naive code: markup, quotes, arrows, template braces,
#: YAML and DOT keywords, scripts that run right to left, emoji, prototype keys.
AWKWARD_STEP_NAMES: tuple[str, ...] = (
    '"',
    "'",
    'say "hi"',
    "it's",
    "<script>alert(1)</script>",
    "</td><td>",
    "a -> b",
    "->",
    "a --> b",
    "{{ params.x }}",
    "{{",
    "}}",
    "{% raw %}",
    "{#",
    "{",
    "}",
    "${HOME}",
    "%s",
    "&amp;",
    "a & b",
    "[x]",
    "(x)",
    "|",
    ";",
    "#",
    "# not a comment",
    "- item",
    "-",
    "key: value",
    ":",
    "?",
    "=",
    "<<",
    "*alias",
    "&anchor",
    "!tag",
    "!!python/object:os.system",
    "@",
    "`rm -rf /`",
    "'; DROP TABLE steps; --",
    "null",
    "~",
    "true",
    "yes",
    "off",
    "0",
    "007",
    "1.5",
    "1e3",
    ".inf",
    "0x1F",
    "1:30",
    "2024-01-05",
    "---",
    "...",
    "back\\slash",
    "C:\\temp\\new",
    "\\n",
    "\\u202e",
    "__proto__",
    "constructor",
    "prototype",
    "hasOwnProperty",
    "graph",
    "subgraph",
    "node",
    "edge",
    "end",
    "style",
    "click",
    "🚀 launch",
    "👍🏽",
    "数据处理",
    "データ",
    "데이터",
    "שלום עולם",
    "مرحبا",
    "e\u0301te\u0301",
    "Ωmega",
    "a  b",
    "x" * STEP_NAME_MAX,
)

#: Characters a step name may never contain, each of which the shipped JSON Schema's
#: approximate pattern also rejects.
_BAD_CHARS_SCHEMA: tuple[str, ...] = (
    *(chr(c) for c in range(0x00, 0x20)),  # C0 controls, incl. tab, newline, carriage return
    "\x7f",
    *(chr(c) for c in range(0x80, 0xA0)),  # C1 controls
    "\u00ad",  # soft hyphen
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",  # zero-width, LRM/RLM
    "\u2028", "\u2029",  # line and paragraph separators
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # bidi embeddings and overrides
    "\u2060",  # word joiner
    "\u2066", "\u2067", "\u2068", "\u2069",  # bidi isolates
    "\ufeff",  # byte order mark / zero-width no-break space
)
#: Characters the format rejects (``str.isprintable`` is false) but the JSON Schema's
#: pattern lets through.
_BAD_CHARS_EXTRA: tuple[str, ...] = (
    "\u00a0",  # no-break space
    "\u3000",  # ideographic space
    "\u2007",  # figure space
    "\ue000",  # private use
    "\uffff",  # noncharacter
    "\U000e0001",  # language tag
)

_SIMPLE_ALPHABET = string.ascii_lowercase + string.digits + "_"
_GROUP_FIRST = string.ascii_lowercase + string.ascii_uppercase + string.digits
_GROUP_REST = _GROUP_FIRST + "_.-"


@cache
def _printable_chars() -> st.SearchStrategy[str]:
    # Every character str.isprintable accepts: no controls, formats, surrogates, private
    # use, unassigned, or separators other than the ASCII space.
    return st.characters(
        codec="utf-8",
        exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"),
        include_characters=" ",
    )


def step_names(*, max_size: int = STEP_NAME_MAX) -> st.SearchStrategy[str]:
    """Valid step names: ``spine.orchestration.step_name_problem(name) is None`` for each.

    A mix of short identifiers (``"a"``, ``"load_2"``), the awkward names the format
    allows on purpose (quotes, ``<script>``, ``->``, ``{{ }}``, YAML keywords such as
    ``null`` and ``<<``, backslashes, emoji, CJK, right-to-left scripts, ``__proto__``),
    arbitrary printable unicode, and names at the length limit.

    Shrinks towards short lowercase identifiers (``"a"``).

    :param max_size: the longest name to generate, 1 to 200 (the format's limit).
    """
    check_int("max_size", max_size, min_value=1, max_value=STEP_NAME_MAX)
    return _step_names(max_size)


@cache
def _step_names(max_size: int) -> st.SearchStrategy[str]:
    simple = st.text(_SIMPLE_ALPHABET, min_size=1, max_size=min(12, max_size))
    awkward = st.sampled_from([n for n in AWKWARD_STEP_NAMES if len(n) <= max_size])
    printable = st.text(_printable_chars(), min_size=1, max_size=min(16, max_size))
    mixed = st.tuples(awkward, simple, printable).map(lambda t: f"{t[0]} {t[1]}{t[2]}"[:max_size])
    long = st.tuples(
        st.sampled_from(["x", "é", "数", "🚀", '"', "<"]),
        st.integers(max(1, max_size - 3), max_size),
    ).map(lambda t: t[0] * t[1])
    return st.one_of(simple, awkward, printable, mixed, long).filter(_is_valid_step_name)


def _is_valid_step_name(name: str) -> bool:
    return step_name_problem(name) is None


def invalid_step_names(*, schema_detectable: bool = False) -> st.SearchStrategy[str]:
    """Step names the format rejects: ``step_name_problem(name)`` is a message for each.

    Empty names, names over 200 characters, leading or trailing white space, and names
    with one forbidden character inside: C0/C1 control characters (tab, newline, NUL,
    escape …), bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069),
    zero-width characters (U+200B–U+200D, U+2060, U+FEFF), line separators, and — unless
    ``schema_detectable`` — invisible characters the JSON Schema's approximate pattern
    lets through (no-break and other non-ASCII spaces, private-use, noncharacters).

    Shrinks towards the empty name, then towards a control character in a short name.

    :param schema_detectable: only names that the shipped JSON Schema rejects too.
    """
    check_bool("schema_detectable", schema_detectable)
    return _invalid_step_names(schema_detectable)


@cache
def _invalid_step_names(schema_detectable: bool) -> st.SearchStrategy[str]:
    bad = _BAD_CHARS_SCHEMA if schema_detectable else _BAD_CHARS_SCHEMA + _BAD_CHARS_EXTRA
    base = st.text(_SIMPLE_ALPHABET, min_size=1, max_size=12)

    @st.composite
    def with_bad_char(draw: st.DrawFn) -> str:
        name = draw(base)
        i = draw(st.integers(0, len(name)))
        return name[:i] + draw(st.sampled_from(bad)) + name[i:]

    too_long = st.tuples(st.sampled_from(["x", "数", "🚀"]), st.integers(STEP_NAME_MAX + 1, STEP_NAME_MAX + 60))
    return st.one_of(
        st.just(""),
        with_bad_char(),
        base.map(lambda n: " " + n),
        base.map(lambda n: n + " "),
        st.sampled_from([" ", "  ", " a b "]),
        too_long.map(lambda t: t[0] * t[1]),
    )


@cache
def schema_blind_step_names() -> st.SearchStrategy[str]:
    """Invalid step names that the JSON Schema's approximate pattern accepts: an invisible
    character (no-break space, private use, noncharacter …) inside a short name."""
    base = st.text(_SIMPLE_ALPHABET, min_size=1, max_size=8)
    return st.tuples(base, st.sampled_from(_BAD_CHARS_EXTRA), base).map("".join)


def group_names(*, max_size: int = 40) -> st.SearchStrategy[str]:
    """Valid group names (``group_name_problem(name) is None``): ``[A-Za-z0-9][A-Za-z0-9_.-]*``
    without ``..``, 1 to ``max_size`` characters (at most 128).

    Shrinks towards ``"a"``.
    """
    check_int("max_size", max_size, min_value=1, max_value=128)
    return _group_names(max_size)


@cache
def _group_names(max_size: int) -> st.SearchStrategy[str]:
    built = st.tuples(
        st.sampled_from(_GROUP_FIRST), st.text(_GROUP_REST, max_size=max_size - 1)
    ).map(lambda t: _collapse_dots(t[0] + t[1]))
    known = st.sampled_from(
        [n for n in ("finra.weekly_refresh", "market-data.daily_prices", "0", "A-b_c.9") if len(n) <= max_size]
    )
    return st.one_of(built, known).filter(lambda n: group_name_problem(n) is None)


def _collapse_dots(name: str) -> str:
    while ".." in name:
        name = name.replace("..", ".")
    return name


@cache
def invalid_group_names() -> st.SearchStrategy[str]:
    """Group names the format rejects: path traversal, spaces, unicode, ``..``, a bad first
    character, a trailing newline, more than 128 characters, the empty name.

    Shrinks towards the empty name.
    """
    known = st.sampled_from(
        [
            "",
            "../../etc/passwd",
            "a/b",
            "a\\b",
            "a..b",
            "-leading-dash",
            ".hidden",
            "_private",
            "with space",
            "tab\tname",
            "name\n",
            "line\nbreak",
            "名前",
            "grüße",
            "a:b",
            "$(id)",
        ]
    )
    too_long = st.integers(129, 200).map(lambda n: "a" * n)
    built = st.tuples(
        st.text(_GROUP_REST, min_size=0, max_size=8),
        st.sampled_from(["/", " ", "..", "\n", "é", "*", "\x00"]),
        st.text(_GROUP_REST, max_size=8),
    ).map(lambda t: "a" + t[0] + t[1] + t[2])
    return st.one_of(known, too_long, built)


@cache
def pipeline_names() -> st.SearchStrategy[str]:
    """Dotted pipeline names such as ``"finra.otc_transparency.ingest_week"``.

    Shrinks towards ``"a"``.
    """
    part = st.tuples(st.sampled_from(string.ascii_lowercase), st.text(_SIMPLE_ALPHABET, max_size=10)).map(
        "".join
    )
    return st.lists(part, min_size=1, max_size=4).map(".".join)
