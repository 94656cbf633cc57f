"""What every HTML page shares (``spine.render.htmlkit``): names that wrap at sensible
points, SVG fit for inlining, the note shown in place of a missing picture."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from spine.render.htmlkit import LONG_RUN, SHORT_WORD, breakable, clean_svg, inline_picture, picture_note
from spine.render.svg import INSTALL_HINT, NoPicture, Picture
from spine.testing import step_names

_MARKUP = re.compile(r"<wbr>|<span class=\"brk\">|</span>")


def visible(markup: str) -> str:
    """The text a browser shows (and copies) for ``breakable``'s output."""
    return html.unescape(_MARKUP.sub("", markup))


class TestBreakable:
    @given(st.one_of(step_names(), st.text(max_size=300)))
    def test_text_is_unchanged_and_the_only_markup_is_break_points(self, text: str) -> None:
        """For any text, the output shows exactly that text, and its only tags are ``<wbr>`` and the ``brk`` span."""
        out = str(breakable(text))
        assert visible(out) == text
        assert re.sub(r"&(?:#\d+|[a-z]+);", "", _MARKUP.sub("", out)).count("<") == 0

    @given(st.text(max_size=300))
    def test_no_unbreakable_run_is_longer_than_the_limit_outside_brk(self, text: str) -> None:
        """For any text, between break points (spaces, ``<wbr>``) no run outside a ``brk`` span exceeds the longest word kept whole."""
        out = re.sub(r'<span class="brk">.*?</span>', " ", str(breakable(text)))
        for run in re.split(r"<wbr>|\s", html.unescape(out)):
            assert len(run) <= max(SHORT_WORD, LONG_RUN), run

    def test_short_words_are_kept_whole(self) -> None:
        """Words up to SHORT_WORD characters get no break point: ``week_ending``, ``"2024-01-05"``."""
        for word in ("week_ending", '"2024-01-05"', "NMS_TIER_1", "x" * SHORT_WORD):
            assert "<wbr>" not in str(breakable(word))

    def test_long_names_break_after_separators(self) -> None:
        """A long name breaks after ``_`` and ``.``, and between a lower- and an upper-case letter."""
        assert str(breakable("kedro_spaceflights.preprocessCompanies")) == "kedro_<wbr>spaceflights.<wbr>preprocess<wbr>Companies"

    def test_run_without_break_points_is_the_last_resort(self) -> None:
        """Only a run longer than LONG_RUN with no separator is wrapped in the ``brk`` span (overflow-wrap: anywhere)."""
        assert str(breakable("a" * 200)) == '<span class="brk">' + "a" * 200 + "</span>"
        assert "brk" not in str(breakable("a_" * 100))

    def test_markup_in_names_is_escaped(self) -> None:
        """``<script>`` in a long name is escaped, not emitted, even where break points are added."""
        out = str(breakable("<script>alert(1)</script>_and_a_long_tail"))
        assert "<script" not in out and "&lt;script&gt;" in out


class TestInlining:
    def test_graphviz_prolog_is_dropped(self) -> None:
        """Cleaning keeps the ``<svg>`` element and drops the XML prolog and doctype."""
        body, why = clean_svg('<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>')
        assert body == '<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>' and why == ""

    def test_svg_with_a_script_is_refused(self) -> None:
        """A picture whose SVG holds a script becomes a REFUSED picture saying so."""
        picture = inline_picture(Picture(svg='<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>'))
        assert picture.missing is NoPicture.REFUSED and "<script>" in picture.reason

    def test_missing_picture_passes_through(self) -> None:
        """A picture without SVG is returned as it is."""
        picture = Picture(missing=NoPicture.NO_GRAPHVIZ, reason=INSTALL_HINT)
        assert inline_picture(picture) is picture


class TestNote:
    def test_not_drawn_says_so_and_points_at_the_sources(self) -> None:
        """A picture nobody drew is described by its reason and the sources below."""
        note = picture_note(Picture.not_drawn("the picture was not drawn (--no-svg)"))
        assert note == "The picture was not drawn (--no-svg). The Mermaid and DOT sources are below."

    def test_failures_say_no_picture_and_why(self) -> None:
        """A picture Graphviz could not make is described as 'No picture:' and the reason."""
        note = picture_note(Picture(missing=NoPicture.NO_GRAPHVIZ, reason=INSTALL_HINT))
        assert note.startswith("No picture: Graphviz `dot` is not on PATH") and note.endswith("The Mermaid and DOT sources are below.")


class TestCleanSvg:
    def test_handler_attribute_in_any_namespace_is_refused(self) -> None:
        """An ``onload`` attribute is refused whatever its case or namespace prefix."""
        body, why = clean_svg('<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="urn:x"><g x:OnLoad="f()"/></svg>')
        assert body is None and why == "the SVG holds an onload attribute"

    def test_prefixed_script_element_is_refused(self) -> None:
        """A ``<s:script>`` in the SVG namespace under another prefix is refused like ``<script>``."""
        body, why = clean_svg('<svg xmlns="http://www.w3.org/2000/svg" xmlns:s="http://www.w3.org/2000/svg"><s:script/></svg>')
        assert body is None and why == "the SVG holds a <script> element"

    def test_entity_encoded_javascript_link_is_refused(self) -> None:
        """A link spelled ``&#106;avascript:`` is decoded before it is checked, and refused."""
        body, why = clean_svg('<svg xmlns="http://www.w3.org/2000/svg" xmlns:l="http://www.w3.org/1999/xlink"><a l:href="&#106;avascript:f()"/></svg>')
        assert body is None and why == "the SVG holds a script link"

    def test_svg_that_does_not_parse_is_refused(self) -> None:
        """Truncated SVG is refused with the parser's words, not inlined."""
        body, why = clean_svg('<svg xmlns="http://www.w3.org/2000/svg"><g>')
        assert body is None and why.startswith("Graphviz wrote SVG that does not parse")


class TestEnvironment:
    def test_fields_of_spine_dataclasses_are_read(self) -> None:
        """A field of one of spine's dataclasses renders, escaped."""
        from spine.core.findings import Finding
        from spine.render.htmlkit import environment

        out = environment().from_string("{{ f.message }}").render(f=Finding("c", "<b>x</b>"))
        assert out == "&lt;b&gt;x&lt;/b&gt;"

    def test_internal_attributes_are_still_refused(self) -> None:
        """The sandbox still hides ``__class__`` and ``__globals__`` on spine's objects, and refuses to use them."""
        import pytest
        from jinja2.exceptions import SecurityError

        from spine.core.findings import Finding
        from spine.render.htmlkit import environment

        env, f = environment(), Finding("c", "m")
        assert env.from_string("{{ f.__class__ }}|{{ f.with_context.__globals__ }}").render(f=f) == "|"
        with pytest.raises(SecurityError, match="__class__"):
            env.from_string("{{ f.__class__.__subclasses__() }}").render(f=f)
