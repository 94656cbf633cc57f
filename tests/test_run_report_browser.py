"""The run report in a real browser: Debian ``chromium`` driven by playwright, over ``file://``.

The browser is the system one (``/usr/bin/chromium``); nothing is downloaded. Every page
is opened with all requests recorded and every non-``file:`` request aborted, and with
console and page errors collected, so each test also proves the page stays offline and
quiet. The runs are real (``_runs.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import _tools
import pytest
from _runs import QUOTED, XSS, mixed_run, registry

from spine.framework import Dispatcher
from spine.orchestration import PipelineGroup, PipelineStep, PlanResolver
from spine.orchestration.models import ExecutionPolicy, FailurePolicy
from spine.render.run_report import build_run_report, render_run_report, status_svg, write_run_report
from spine.runner import get_runner

pytestmark = pytest.mark.needs_chromium
HAS_DOT = _tools.find_dot() is not None

PWN_SCRIPT = "<script>window.__pwned=1</script>"
PWN_IMG = '<img src=x onerror="window.__pwned=1">'
PWN_SVG = '<svg onload="window.__pwned=1">'
PWN_TEXT = "</text><script>window.__pwned=1</script>"


def _write(path: Path, run, *, draw: bool) -> Path:
    plan, result = run
    svg, note = status_svg(plan, result, dot=_tools.find_dot() or "/nonexistent/dot") if draw else (None, None)
    return write_run_report(path, render_run_report(build_run_report(result, plan, svg, svg_note=note)))


def _pwn_run():
    """A run whose step names, pipeline error and output are script injections; the first step fails."""
    reg = registry()
    group = PipelineGroup(
        name="pwn.run",
        steps=(
            PipelineStep(PWN_SCRIPT, "p.boom"),
            PipelineStep(PWN_IMG, "p.ok", depends_on=(PWN_SCRIPT,)),
            PipelineStep(PWN_SVG, "p.ok"),
            PipelineStep(PWN_TEXT, "p.ok", depends_on=(PWN_IMG,)),
        ),
        policy=ExecutionPolicy(on_failure=FailurePolicy.CONTINUE),
    )
    plan = PlanResolver(reg).resolve(group, {"note": PWN_IMG})
    return plan, get_runner("inline", dispatcher=Dispatcher(reg)).execute(plan)



@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run reports: the mixed run with and without a picture, and the injection run with and without."""
    out = tmp_path_factory.mktemp("run-reports")
    mixed = mixed_run()
    pwn = _pwn_run()
    return {
        "mixed": _write(out / "mixed.html", mixed, draw=HAS_DOT),
        "mixed_nosvg": _write(out / "mixed_nosvg.html", mixed, draw=False),
        "pwn": _write(out / "pwn.html", pwn, draw=HAS_DOT),
        "pwn_nosvg": _write(out / "pwn_nosvg.html", pwn, draw=False),
    }


@dataclass
class Opened:
    """A page and what it did: every request, requests aborted for leaving the file, console errors."""

    page: object
    url: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def assert_quiet_and_offline(self) -> None:
        assert self.blocked == [], f"requests left the file: {self.blocked}"
        assert set(self.requests) == {self.url}, self.requests
        assert self.errors == [], self.errors


@pytest.fixture
def open_page(browser) -> Iterator[object]:
    """``open_page(path, width=1400) -> Opened``: a fresh context per page, closed after the test."""
    contexts = []

    def _open(path: Path, *, width: int = 1400) -> Opened:
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page, path.as_uri())
        page.on("request", lambda r: opened.requests.append(r.url))
        page.on("console", lambda m: opened.errors.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: opened.errors.append(f"page error: {e}"))

        def route(r) -> None:
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                opened.blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.goto(opened.url)
        page.wait_for_load_state("load")
        return opened

    yield _open
    for context in contexts:
        context.close()


def boxes(page, selector: str) -> list[dict[str, float]]:
    loc = page.locator(selector)
    return [loc.nth(i).bounding_box() for i in range(loc.count())]


class TestQuietAndOffline:
    @pytest.mark.parametrize("name", ["mixed", "mixed_nosvg"])
    def test_loads_without_errors_or_requests(self, open_page, pages, name: str) -> None:
        """The page loads with no console error or warning and no request but the file itself."""
        o = open_page(pages[name])
        assert o.page.inner_text("#run-status") == "partial"
        o.assert_quiet_and_offline()

    def test_following_every_link_stays_in_the_file(self, open_page, pages) -> None:
        """Clicking each timeline name and each failure's links only moves within the page."""
        o = open_page(pages["mixed"])
        names = o.page.locator(".gantt-name a")
        for i in range(names.count()):
            names.nth(i).click()
        o.page.locator("#failures a").first.click()
        assert o.page.evaluate("location.hash").startswith("#row-")
        o.assert_quiet_and_offline()
        assert o.requests == [o.url]


class TestTimeline:
    def test_timeline_is_visible_with_a_bar_per_attempt(self, open_page, pages) -> None:
        """The timeline is shown, and every attempt's bar has a visible size (5 steps ran, one twice: 6 bars)."""
        o = open_page(pages["mixed"])
        assert o.page.locator("#gantt").is_visible()
        bars = boxes(o.page, "#gantt g.bar rect")
        assert len(bars) == 6
        assert all(b is not None and b["width"] >= 1 and b["height"] >= 10 for b in bars)
        o.assert_quiet_and_offline()

    def test_retry_bars_sit_side_by_side(self, open_page, pages) -> None:
        """The retried step's two bars are on one row, the second to the right of the first."""
        o = open_page(pages["mixed"])
        row = o.page.locator("#gantt g.gantt-row").nth(1)
        first, second = (row.locator("g.bar rect").nth(i).bounding_box() for i in range(2))
        assert first["y"] == second["y"]
        assert second["x"] >= first["x"] + first["width"] - 2
        assert o.page.locator(".gantt-name").nth(1).get_attribute("title") == QUOTED
        o.assert_quiet_and_offline()

    @pytest.mark.parametrize("width", [1400, 800])
    def test_names_line_up_with_their_rows(self, open_page, pages, width: int) -> None:
        """Each step's name sits at the height of its row of bars."""
        o = open_page(pages["mixed"], width=width)
        names = boxes(o.page, ".gantt-name")
        svg = o.page.locator("#gantt").bounding_box()
        row, axis = 26, 28
        for i, b in enumerate(names):
            centre = b["y"] + b["height"] / 2
            top = svg["y"] + axis + i * row
            assert top <= centre <= top + row, (i, centre, top)
        o.assert_quiet_and_offline()

    def test_bar_hover_text_is_in_the_dom(self, open_page, pages) -> None:
        """The hover title of the retried step's first bar holds its error."""
        o = open_page(pages["mixed"])
        title = o.page.locator("#gantt g.gantt-row").nth(1).locator("g.bar title").first.text_content()
        assert "attempt 1: failed" in title and "ConnectionError: upstream API timed out" in title
        o.assert_quiet_and_offline()


class TestWidths:
    @pytest.mark.parametrize("name", ["mixed", "pwn"])
    @pytest.mark.parametrize("width", [1400, 800])
    def test_page_fits_the_window(self, open_page, pages, width: int, name: str) -> None:
        """At this width nothing overflows the window sideways: not the page, the timeline, the tables or the
        failures — long unbreakable names and reasons included."""
        o = open_page(pages[name], width=width)
        assert o.page.evaluate("document.documentElement.scrollWidth") <= width
        for sel in ("#gantt", "#run-steps", ".gantt", "#failures article", "#summary"):
            b = o.page.locator(sel).first.bounding_box()
            assert b["x"] >= 0 and b["x"] + b["width"] <= width, (sel, b)
        o.assert_quiet_and_offline()

    @pytest.mark.parametrize("width", [1400, 800])
    def test_timeline_uses_the_width(self, open_page, pages, width: int) -> None:
        """The chart takes most of its box: it stretches with the window instead of staying small."""
        o = open_page(pages["mixed"], width=width)
        chart = o.page.locator("#gantt").bounding_box()
        box = o.page.locator(".gantt").bounding_box()
        assert chart["width"] >= 0.6 * box["width"]
        o.assert_quiet_and_offline()


class TestGraph:
    @pytest.mark.needs_dot
    def test_clicking_a_node_goes_to_its_row(self, open_page, pages) -> None:
        """Clicking the failed step's node jumps to its row of the durations table, without a request."""
        o = open_page(pages["mixed"])
        o.page.locator("#svg g.node.status-failed").click()
        assert o.page.evaluate("location.hash") == "#row-n2"
        assert o.page.locator("#row-n2 td.name").inner_text() == XSS
        o.assert_quiet_and_offline()

    def test_without_a_picture_the_note_and_mermaid_show(self, open_page, pages) -> None:
        """Without Graphviz the note says how to get the picture, and the Mermaid source opens."""
        o = open_page(pages["mixed_nosvg"])
        assert "Graphviz" in o.page.inner_text("#no-svg")
        o.page.locator("#graph summary", has_text="Mermaid source").click()
        assert "classDef st_failed" in o.page.inner_text("#mermaid-src")
        o.assert_quiet_and_offline()


class TestFailures:
    def test_traceback_shown_and_output_opens(self, open_page, pages) -> None:
        """The traceback is visible at once; the output tail is hidden until its summary is clicked."""
        o = open_page(pages["mixed"])
        assert o.page.locator("#failures pre.traceback").is_visible()
        out = o.page.locator("#failures pre.output")
        assert out.is_hidden()
        o.page.locator("#failures details.output summary").click()
        assert out.is_visible() and "\\u001b[31mred alert" in out.inner_text()
        o.assert_quiet_and_offline()


class TestInjection:
    @pytest.mark.parametrize("name", ["pwn", "pwn_nosvg"])
    def test_injected_names_do_not_run(self, open_page, pages, name: str) -> None:
        """Step names holding ``<script>``, ``<img onerror>``, ``<svg onload>`` and a closing ``</text>`` never run,
        not on load and not when their links are followed."""
        o = open_page(pages[name])
        links = o.page.locator(".gantt-name a")
        for i in range(links.count()):
            links.nth(i).click()
        assert o.page.evaluate("typeof window.__pwned") == "undefined"
        assert o.page.locator("main script, main img, main iframe").count() == 0
        assert o.page.evaluate("document.scripts.length") == 0
        o.assert_quiet_and_offline()

    def test_injected_names_show_as_text(self, open_page, pages) -> None:
        """Each injected name is visible as literal text in the timeline and the durations table."""
        o = open_page(pages["pwn_nosvg"])
        assert [o.page.locator(".gantt-name").nth(i).inner_text() for i in range(4)] == [PWN_SCRIPT, PWN_IMG, PWN_SVG, PWN_TEXT]
        assert o.page.locator("#run-steps td.name").all_inner_texts() == [PWN_SCRIPT, PWN_IMG, PWN_SVG, PWN_TEXT]
        o.assert_quiet_and_offline()


def test_screenshot(open_page, pages, tmp_path: Path) -> None:
    """A full-page screenshot of the report is a PNG taller than the window (every section rendered)."""
    o = open_page(pages["mixed"])
    shot = tmp_path / "run-report.png"
    o.page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    height = int.from_bytes(data[20:24], "big")
    assert height > 900
    o.assert_quiet_and_offline()
