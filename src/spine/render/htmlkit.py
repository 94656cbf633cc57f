"""What every HTML page of spine shares: one Jinja2 environment, inline assets, names that
wrap at sensible points, and Graphviz's SVG made fit for inlining. Strings in, strings out.

**Wrapping.** A step name like ``create_model_input_table_node`` or a pipeline like
``kedro_spaceflights.preprocess_companies`` has no space, so a table cell holding it is
as wide as the whole name, and ``overflow-wrap: anywhere`` on the cell lets the table
squeeze it into ``create_model_inp`` / ``ut_table_node``. :func:`breakable` instead puts
a ``<wbr>`` (a break opportunity that copies as nothing) in words longer than
:data:`SHORT_WORD` characters, after separators (``. _ - / :`` …) and between a
lower-case and an upper-case letter, so cells shrink to their longest *segment* and break
between words. Only a run of more than :data:`LONG_RUN` characters
with no such point (``aaaa…``) is wrapped in ``<span class="brk">``, which the CSS lets
break anywhere: the last resort.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, cast

from markupsafe import Markup, escape

from spine.render.svg import NoPicture, Picture

#: Words up to this long are never broken (``week_ending``, ``"2024-01-05"``, ``NMS_TIER_1``).
SHORT_WORD = 16
#: Longest run of characters without a break opportunity that is kept whole.
LONG_RUN = 30

_SEPARATORS = r"._\-/\\:@,;=&?#+|"
_BREAK = re.compile(rf"(?<=[{_SEPARATORS}])(?=[^{_SEPARATORS}\s])|(?<=[a-z])(?=[A-Z])")
_RUN = re.compile(rf"\S{{{LONG_RUN + 1},}}")
_LONG_WORD = re.compile(rf"\S{{{SHORT_WORD + 1},}}")


def breakable(text: Any) -> Markup:
    """``text`` escaped as HTML, with ``<wbr>`` at sensible break points in long words (see the module doc)."""
    if type(text) is not str:
        text = str(text)
    # Names are remembered (a report repeats them in rows, chips, generations, findings);
    # long texts (messages, values) are not, so the cache stays small.
    return _remembered(text) if len(text) <= 256 else _breakable(text)


def _breakable(text: str) -> Markup:
    if not _LONG_WORD.search(text):
        return escape(text)
    out = []
    last = 0
    for m in _LONG_WORD.finditer(text):
        out.append(escape(text[last : m.start()]))
        out.append(_break_word(m.group()))
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


_remembered = lru_cache(maxsize=16384)(_breakable)


def _break_word(word: str) -> Markup:
    pieces = []
    for piece in _BREAK.split(word):
        if _RUN.search(piece):
            pieces.append(Markup('<span class="brk">') + escape(piece) + Markup("</span>"))
        else:
            pieces.append(escape(piece))
    return Markup("<wbr>").join(pieces)


def environment() -> Any:
    """The one sandboxed, autoescaping Jinja2 environment for every HTML page.

    One shortcut: a *field* of one of spine's own dataclasses (report rows, findings, the
    report data) is read directly instead of through the sandbox's per-access checks —
    fields hold plain values, and a 1,000-step page reads tens of thousands of them.
    Everything else (methods, properties, other objects) goes through the sandbox.
    """
    return page_environment()


@lru_cache(maxsize=4)
def page_environment(*packages: str) -> Any:
    """:func:`environment` whose templates are looked up first in each of ``packages``'
    ``templates`` folder (the dashboard's pages), then in :mod:`spine.render`'s — so a page
    of another layer includes the reports' templates and shares their filters."""
    from jinja2 import ChoiceLoader, PackageLoader, select_autoescape
    from jinja2.sandbox import SandboxedEnvironment

    fields: dict[type, frozenset[str]] = {}

    def field_names(kind: type) -> frozenset[str]:
        names = fields.get(kind)
        if names is None:
            own = kind.__module__.startswith("spine.") and hasattr(kind, "__dataclass_fields__")
            names = fields[kind] = frozenset(cast(Any, kind).__dataclass_fields__) if own else frozenset()
        return names

    class PageEnvironment(SandboxedEnvironment):
        def getattr(self, obj: Any, attribute: str) -> Any:
            if attribute in field_names(type(obj)):
                return object.__getattribute__(obj, attribute)
            return super().getattr(obj, attribute)

    env = PageEnvironment(
        loader=ChoiceLoader([*(PackageLoader(p, "templates") for p in packages), PackageLoader("spine.render", "templates")]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pretty"] = pretty
    env.filters["breakable"] = breakable
    return env


def pretty(value: Any) -> str:
    """A param value as compact JSON (``"x"``, ``4``, ``[1, 2]``)."""
    import json

    from spine.core.jsonable import jsonable

    return json.dumps(jsonable(value), ensure_ascii=False)


@lru_cache(maxsize=4)
def asset(name: str) -> Any:
    """A template asset (CSS or JS) as markup for inlining."""
    from importlib.resources import files

    from markupsafe import Markup

    text = files("spine.render").joinpath(f"templates/{name}").read_text(encoding="utf-8")
    if "</style" in text.lower() or "</script" in text.lower():
        raise AssertionError(f"asset {name} must not close its own tag")
    return Markup(text)


_ACTIVE = {"script", "foreignobject", "iframe", "object", "embed", "handler", "listener"}


class _Refused(Exception):
    """Raised from the parser's element handler to stop at the first active element."""


def clean_svg(svg: str) -> tuple[str | None, str]:
    """Graphviz's SVG without prolog and doctype, fit for inlining — or ``None`` and why.

    Graphviz never writes active content; the check parses the SVG (expat, element by
    element, no tree: this runs after ``dot``, in series with it) and refuses scripts,
    foreign objects, ``on*`` attributes and ``javascript:``/``data:`` links rather than
    trusting it. SVG that does not parse is refused too.
    """
    import xml.parsers.expat

    start = svg.find("<svg")
    if start < 0:
        return None, "Graphviz wrote no <svg> element"
    body = svg[start:]

    def element(name: str, attrs: dict[str, str]) -> None:
        tag = name.rsplit("}", 1)[-1].lower()
        if tag in _ACTIVE:
            raise _Refused(f"the SVG holds a <{tag}> element")
        for key, value in attrs.items():
            attr = key.rsplit("}", 1)[-1].lower()
            if attr.startswith("on"):
                raise _Refused(f"the SVG holds an {attr} attribute")
            if attr == "href" and value.strip().lower().startswith(("javascript:", "data:")):
                raise _Refused("the SVG holds a script link")

    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = element
    try:
        parser.Parse(body, True)
    except _Refused as refused:
        return None, str(refused)
    except xml.parsers.expat.ExpatError as exc:
        return None, f"Graphviz wrote SVG that does not parse ({exc})"
    return body, ""


def inline_picture(picture: Picture) -> Picture:
    """``picture`` fit for a page: its SVG cleaned (:func:`clean_svg`), or refused saying why."""
    if picture.svg is None:
        return picture
    body, why = clean_svg(picture.svg)
    if body is None:
        return Picture(missing=NoPicture.REFUSED, reason=why)
    return Picture(svg=body)


def picture_note(picture: Picture) -> str:
    """What a page says in place of a missing picture."""
    if picture.missing is NoPicture.NOT_DRAWN:
        reason = picture.reason or "the picture was not drawn"
        return f"{reason[:1].upper()}{reason[1:]}. The Mermaid and DOT sources are below."
    return f"No picture: {picture.reason}. The Mermaid and DOT sources are below."


__all__ = [
    "LONG_RUN",
    "SHORT_WORD",
    "asset",
    "breakable",
    "clean_svg",
    "environment",
    "inline_picture",
    "page_environment",
    "picture_note",
    "pretty",
]
