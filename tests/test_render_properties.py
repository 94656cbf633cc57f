"""Properties across every renderer, on generated groups with awkward names (issue 4).

Names come from :func:`spine.testing.step_names`, which draws quotes, ``<script>``,
``->``, braces, emoji, CJK, right-to-left text and ``__proto__`` on purpose.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spine.render import build_graph_view, to_dot, to_mermaid
from spine.render.mermaid import SPLIT, escape_label
from spine.render.report import build_report, render_report
from spine.testing import groups, step_names

_LABEL = re.compile(r'^    [ng]\d+\["(?P<label>[^"]*)"\](?::::\w+)?$')
_SAFE_LABEL = re.compile(r"^[\w .#;\-]*$")  # letters, digits, space, _ . - and entity codes


@pytest.mark.needs_dot
@settings(max_examples=25)
@given(groups(max_steps=8, names=step_names()))
def test_dot_of_any_group_is_accepted_by_graphviz(dot_exe: str, group) -> None:
    """For any valid group, hostile names included, Graphviz accepts spine's DOT and draws every name as text."""
    view = build_graph_view(group)
    proc = subprocess.run([dot_exe, "-Tsvg"], input=to_dot(view).encode(), capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    texts = {"".join(t.itertext()).replace("\xa0", " ") for t in ET.fromstring(proc.stdout).iter("{http://www.w3.org/2000/svg}text")}
    for name in group.step_names:
        assert name in texts, name


@settings(max_examples=60)
@given(groups(max_steps=8, names=step_names()))
def test_mermaid_labels_hold_only_escaped_text(group) -> None:
    """For any valid group, every Mermaid node label is entity-encoded: no quote, bracket, brace or pipe from a name
    (the only markup is spine's own ``<br/><small>`` and the empty ``SPLIT`` spans)."""
    lines = to_mermaid(build_graph_view(group)).splitlines()
    labels = [m.group("label") for line in lines if (m := _LABEL.match(line))]
    assert len(labels) == len(group.steps)
    for label, step in zip(labels, group.steps, strict=True):
        name, sep, rest = label.replace(SPLIT, "").partition("<br/><small>")
        assert sep and rest.endswith("</small>"), label  # the only markup is our own
        assert _SAFE_LABEL.match(name) and _SAFE_LABEL.match(rest.removesuffix("</small>")), label
        assert label.partition("<br/><small>")[0] == escape_label(step.name)


#: Every element the report's templates write (plus ``wbr`` from ``breakable`` and the SVG's own).
_TEMPLATE_TAGS = {
    "a", "b", "body", "button", "code", "dd", "details", "div", "dl", "dt", "footer", "h1", "h2", "h3", "head",
    "header", "html", "input", "label", "li", "main", "meta", "nav", "ol", "p", "pre", "script", "section",
    "small", "span", "style", "summary", "table", "tbody", "td", "th", "thead", "title", "tr", "ul", "wbr",
}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


@settings(max_examples=40)
@given(groups(max_steps=6, names=step_names()), st.sampled_from(["<script>window.x=1</script>", "<img src=x onerror=alert(1)>", "plain"]))
def test_report_html_has_no_markup_from_names(group, description) -> None:
    """For any valid group, hostile names and descriptions included, the report's elements are the templates' own: two scripts, no event handlers, no tag the templates do not write."""
    from dataclasses import replace

    group = replace(group, description=description)
    html = render_report(build_report(group))
    parser = _Tags()
    parser.feed(html)
    tags = [t for t, _ in parser.tags]
    assert tags.count("script") == 2
    assert "img" not in tags
    assert not any(a.startswith("on") for _, attrs in parser.tags for a, _ in attrs)
    assert set(tags) <= _TEMPLATE_TAGS, set(tags) - _TEMPLATE_TAGS
    # A step may be called "style" or "ol" (a tag the template uses); what matters is that
    # each name shows as escaped text (break points aside).
    from markupsafe import escape

    shown = re.sub(r'<wbr>|<span class="brk">|</span>', "", html)
    for step in group.steps:
        assert str(escape(step.name)) in shown
