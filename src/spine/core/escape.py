"""Escaping user text for every place spine writes it: one function per target.

Group, step, file and pipeline names, param values and messages can hold anything a
YAML file or a file system allows: quotes, ``<``, backticks, ``|``, ``-->``, control and
bidi characters. Every renderer and the CLI escape through this module, so each target
has exactly one set of rules:

==================  ========================  ===============================================
target              function                  what cannot get through
==================  ========================  ===============================================
any output          :func:`visible`           control, bidi, zero-width characters
                                              (shown as ``\\uXXXX``)
terminal            :func:`terminal`,         escape sequences; with ``terminal_line``
                    :func:`terminal_line`     also newlines and tabs (one item, one line)
Markdown (GFM)      :func:`markdown_text`,    markup, raw HTML, a table cell break, an
                    :func:`markdown_code`,    ``@mention`` or ``#123`` issue link
                    :func:`markdown_html`
HTML                :func:`html_text`         tags and attributes
DOT                 :func:`dot_html`,         the end of an HTML-like label or of a quoted
                    :func:`dot_string`        string; Graphviz's ``\\N``/``&…;`` expansion
Mermaid             :func:`mermaid_label`     quotes, brackets, ``-->``, ``%%``, markup
XML (JUnit)         :func:`xml_text`          characters XML 1.0 cannot hold
GitHub commands     :func:`github_data`,      the end of a workflow command, a new one
                    :func:`github_property`
==================  ========================  ===============================================

It lives in :mod:`spine.core` (not :mod:`spine.render`) so the CLI can escape an error
line without importing the renderers and networkx; it imports nothing but the standard
library.
"""

from __future__ import annotations

import html
import re

__all__ = [
    "MERMAID_SPLIT",
    "dot_html",
    "dot_string",
    "github_data",
    "github_property",
    "html_text",
    "markdown_code",
    "markdown_html",
    "markdown_text",
    "mermaid_label",
    "terminal",
    "terminal_line",
    "visible",
    "xml_text",
]


def visible(text: object) -> str:
    """``text`` with every non-printable character (control, bidi, zero-width, lone
    surrogate) shown as a ``\\uXXXX`` escape; printable text is returned unchanged."""
    s = str(text)
    if s.isprintable():
        return s
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in s)


# -- terminal -----------------------------------------------------------------------------


def terminal(text: object, *, multiline: bool = False) -> str:
    """Text for a terminal: like :func:`visible`, but ``multiline=True`` keeps newlines
    (for messages that are several lines on purpose).

    A terminal must never receive raw escape sequences, nor a newline that fakes another
    line of output.
    """
    s = str(text)
    if s.isprintable():
        return s
    keep = "\n" if multiline else ""
    return "".join(ch if ch.isprintable() or ch in keep else f"\\u{ord(ch):04x}" for ch in s)


def terminal_line(text: object) -> str:
    """One item on one terminal line: newlines, CR and tabs as ``\\n``, ``\\r``, ``\\t``,
    everything else as :func:`terminal` does."""
    return terminal(str(text).replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r"))


# -- Markdown -----------------------------------------------------------------------------

#: Characters that start inline markup in GitHub-flavoured Markdown (emphasis, code, links,
#: images, strikethrough, math, escapes, autolinks), backslash-escaped in text.
_MD_PUNCT = frozenset("\\`*_{}[]()!~$#+")
_MD_ENTITY = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "&#124;"}
#: U+2060 WORD JOINER: invisible, and it stops GitHub from reading ``@name`` as a mention
#: and ``#123`` as an issue link (an entity would be decoded before they are looked for).
WORD_JOINER = "\u2060"


def _one_line(text: object) -> str:
    s = str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return visible(s)


def markdown_text(text: object) -> str:
    """Plain text for a Markdown paragraph, heading or table cell: nothing in it is markup,
    HTML, a table cell break, a mention or an issue link.

    Newlines become spaces; ``& < > |`` become entities (an entity never splits a GFM
    table row); Markdown punctuation is backslash-escaped; ``@`` and ``#`` are followed by
    a word joiner, so ``@octocat`` pings no one and ``#123`` links no issue.
    """
    out = []
    for ch in _one_line(text):
        if ch in _MD_ENTITY:
            out.append(_MD_ENTITY[ch])
        elif ch == "@":
            out.append("@" + WORD_JOINER)
        elif ch == "#":
            out.append("\\#" + WORD_JOINER)
        elif ch in _MD_PUNCT:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def markdown_code(text: object) -> str:
    """A code span for a table cell, whatever backticks or pipes ``text`` holds.

    Code spans are never markup, mentions or links on GitHub. GFM splits a row into cells
    before it parses code spans, and a ``|`` right after a backslash never splits
    (cmark-gfm's scanner drops that one backslash), so ``\\|`` is a pipe in the span.
    """
    s = _one_line(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or (s.startswith(" ") and s.endswith(" ") and s.strip()) else ""
    return f"{fence}{pad}{s}{pad}{fence}" if s else "` `"


def markdown_html(text: object) -> str:
    """Text inside raw HTML in a Markdown document (a ``<summary>``): HTML-escaped, with
    ``@`` and ``#`` followed by a word joiner as in :func:`markdown_text` (GitHub links
    mentions and issue numbers in HTML blocks too; backslash escapes would show there)."""
    return html_text(_one_line(text).replace("@", "@" + WORD_JOINER).replace("#", "#" + WORD_JOINER))


# -- HTML, DOT, Mermaid, XML --------------------------------------------------------------


def html_text(text: object) -> str:
    """Text (or an attribute value) for HTML: ``& < > " '`` as entities, invisible
    characters visible. (Jinja2 templates autoescape; this is for HTML built in Python.)"""
    return html.escape(visible(text), quote=True)


def dot_html(text: object) -> str:
    """Text inside a Graphviz HTML-like label (``<<b>…</b>>``): XML-escaped, backslashes
    doubled so Graphviz expands no ``\\N``/``\\G``/``\\L``, and ``]`` as an entity
    (Graphviz 2.43's HTML-label lexer rejects a ``]`` right after a tag)."""
    return html_text(text).replace("\\", "\\\\").replace("]", "&#93;")


def dot_string(text: object, *, tooltip: bool = False) -> str:
    """Text for a quoted DOT escString (a graph label, a tooltip), held literally.

    ``&`` becomes ``&amp;`` and backslashes are doubled so Graphviz expands neither an
    entity nor ``\\N``; tooltips are unescaped once more on the way into SVG, hence four
    backslashes there; quotes are backslash-escaped. (Wrap the result in
    ``graphviz.nohtml`` so ``<…>`` is not taken for an HTML label.)
    """
    t = visible(text).replace("&", "&amp;")
    return t.replace("\\", "\\\\\\\\" if tooltip else "\\\\").replace('"', '\\"')


_MERMAID_SAFE = frozenset(" _.-")
#: An empty element between two characters that Mermaid would read together as syntax.
MERMAID_SPLIT = "<span></span>"
#: Character pairs that get a :data:`MERMAID_SPLIT` between them: ``\n`` (a line break),
#: ``$$`` (KaTeX math), and Mermaid's own placeholders for entity codes (see
#: :mod:`spine.render.mermaid`); ``:`` then ``fa-`` (an icon) is checked apart.
_MERMAID_SPLIT_PAIRS = frozenset({("\\", "n"), ("$", "$"), ("ﬂ", "°"), ("¶", "ß")})


def _mermaid_split_before(text: str, i: int) -> bool:
    """Whether Mermaid would read ``text[i-1]`` and what starts at ``text[i]`` as one token."""
    if i == 0:
        return False
    return (text[i - 1], text[i]) in _MERMAID_SPLIT_PAIRS or (text[i - 1] == ":" and text.startswith("fa-", i))


def mermaid_label(text: object) -> str:
    """Label markup for a quoted Mermaid node label that Mermaid shows as exactly ``text``:
    letters, digits, spaces and ``_ . -`` as they are, every other character as a Mermaid
    entity code (``#60;`` for ``<``), and :data:`MERMAID_SPLIT` inside pairs Mermaid would
    interpret (Mermaid decodes entity codes *before* it reads its own conventions)."""
    s = str(text)
    out = []
    for i, ch in enumerate(s):
        if _mermaid_split_before(s, i):
            out.append(MERMAID_SPLIT)
        if (ch.isalnum() and ch.isprintable()) or ch in _MERMAID_SAFE:
            out.append(ch)
        else:
            out.append(f"#{ord(ch)};")
    return "".join(out)


_XML_BAD = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: object) -> str:
    """Text for an XML serializer: the characters XML 1.0 cannot hold at all (control
    characters, lone surrogates from odd file names) as ``\\uXXXX``. The serializer
    escapes ``< & "`` itself."""
    return _XML_BAD.sub(lambda m: f"\\u{ord(m.group()):04x}", str(text))


# -- GitHub workflow commands -------------------------------------------------------------


def github_data(text: object) -> str:
    """A workflow command's message: ``%``, CR and LF escaped (as @actions/core does)."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: object) -> str:
    """A workflow command's property value: the message escapes plus ``:`` and ``,``."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")
