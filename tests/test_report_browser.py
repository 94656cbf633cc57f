"""The HTML report in a real browser: Debian ``chromium`` driven by playwright, over ``file://``.

The browser is the system one (``/usr/bin/chromium``, or ``SPINE_CHROMIUM``); nothing is
downloaded. Tests of the picture also need Graphviz ``dot`` (``needs_dot``). Every page
is opened with all requests recorded and every non-``file:`` request aborted, and with
console errors and page errors collected, so each test also proves the page stays offline
and quiet.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import _tools
import pytest

from spine.orchestration import PipelineGroup, PipelineStep, PlanResolver, check_group, load_groups, validate_group
from spine.render.report import ReportData, build_report, write_report
from spine.render.svg import draw_svg

pytestmark = pytest.mark.needs_chromium

REPO = Path(__file__).resolve().parents[1]
FINRA = REPO / "examples" / "groups" / "finra_weekly_refresh.yaml"
MARKET = REPO / "examples" / "groups" / "market_data_daily_prices.yaml"

PWN_SCRIPT = "<script>window.__pwned=1</script>"
PWN_IMG = '<img src=x onerror="window.__pwned=1">'
PWN_SVG = '<svg onload="window.__pwned=1">'

#: Valid 200-character step names: one with separators, one without any break point.
LONG_NAME = ("extract_customer_transactions_daily_snapshot_" * 5)[:199] + "x"
SOLID_NAME = "a" * 200
EXAMPLE_PAGES = ["finra.weekly_refresh", "market_data.daily_prices", "market.wide_refresh", "airflow.tutorial", "dbt.jaffle_shop", "kedro.spaceflights", "index"]
WIDTHS = [1400, 800]


def drawn(data: ReportData) -> ReportData:
    """``data`` with its picture drawn by the real Graphviz, as the suite finds it (no picture when it is hidden)."""
    return data.with_picture(draw_svg(data.graph.dot, _tools.find_dot() or "/nonexistent/dot"))



@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Report files: the FINRA and market-data examples (with SVG) and a group of script injections."""
    out = tmp_path_factory.mktemp("reports")
    finra = load_groups(FINRA)[0]
    params = {"tier": "NMS_TIER_1", "week_ending": "2024-01-05"}
    market = load_groups(MARKET)[0]
    mparams = {"trade_date": "2024-01-05"}
    pwn = PipelineGroup(
        name="pwn.group",
        description=f"{PWN_SCRIPT} {PWN_IMG} {PWN_SVG}",
        steps=(
            PipelineStep(PWN_SCRIPT, "p.a", description=PWN_IMG),
            PipelineStep(PWN_IMG, PWN_SCRIPT, depends_on=(PWN_SCRIPT,), description=PWN_SCRIPT),
            PipelineStep(PWN_SVG, "p.c", depends_on=(PWN_IMG,), description=PWN_SVG),
        ),
    )
    broken = PipelineGroup(
        name="broken.group",
        steps=(
            PipelineStep("a", "p.a", depends_on=("b",)),
            PipelineStep("b", "p.b", depends_on=("a",)),
            PipelineStep("c", "p.c", depends_on=("c", "b")),
            PipelineStep("d", "p.d", depends_on=("nope",)),
        ),
    )
    cycle = PipelineGroup(name="all.cycle", steps=(PipelineStep("a", "p.a", depends_on=("b",)), PipelineStep("b", "p.b", depends_on=("a",))))
    long = PipelineGroup(
        name="long.names",
        steps=(
            PipelineStep(LONG_NAME, "p.a"),
            PipelineStep(SOLID_NAME, "p.b", depends_on=(LONG_NAME, "nope")),
            PipelineStep("c", "p.c", depends_on=(SOLID_NAME, SOLID_NAME)),
        ),
    )
    return {
        "broken": write_report(out / "broken.html", drawn(build_report(broken, findings=validate_group(broken)))),
        "finra": write_report(out / "finra.html", drawn(build_report(finra, plan=PlanResolver().resolve(finra, params), run_params=params))),
        "market": write_report(out / "market.html", drawn(build_report(market, plan=PlanResolver().resolve(market, mparams), run_params=mparams))),
        "pwn": write_report(out / "pwn.html", drawn(build_report(pwn))),
        "pwn_nosvg": write_report(out / "pwn_nosvg.html", build_report(pwn)),
        "cycle": write_report(out / "cycle.html", drawn(build_report(cycle, findings=validate_group(cycle)))),
        "long": write_report(out / "long.html", drawn(build_report(long, findings=check_group(long)))),
    }


@pytest.fixture(scope="module")
def examples_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples' site as a new user makes it: the installed ``spine`` script, run in the repository."""
    out = tmp_path_factory.mktemp("site") / "site"
    exe = Path(sys.executable).with_name("spine")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_") or k == "SPINE_DOT"}  # a hidden dot stays hidden
    params = ["-p", "tier=NMS_TIER_1", "-p", "week_ending=2024-01-05", "-p", "trade_date=2024-01-05"]
    proc = subprocess.run([str(exe), "group", "report", "examples/groups", "-o", str(out), *params], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return out


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
def open_report(browser) -> Iterator[object]:
    """``open_report(path, js=True) -> Opened``: a fresh context per page, closed after the test."""
    contexts = []

    def _open(path: Path, *, js: bool = True, width: int = 1280) -> Opened:
        context = browser.new_context(java_script_enabled=js, viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page, path.as_uri())
        page.on("request", lambda r: opened.requests.append(r.url))
        page.on("console", lambda m: opened.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
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


def list_items(page, selector: str) -> list[str]:
    return page.locator(f"{selector} li").all_inner_texts()


@pytest.mark.needs_dot
class TestGraph:
    def test_svg_graph_renders(self, open_report, reports) -> None:
        """The inline SVG is visible with a non-zero size and one visible node per step."""
        o = open_report(reports["finra"])
        svg = o.page.locator("#svg svg")
        box = svg.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100
        nodes = o.page.locator("#svg g.node")
        assert nodes.count() == 5
        for i in range(5):
            b = o.page.locator(f"#node-n{i}").bounding_box()
            assert b and b["width"] > 0 and b["height"] > 0
        assert o.page.locator("#node-n0 text").first.inner_html() == "ingest"
        o.assert_quiet_and_offline()

    def test_clicking_a_node_shows_its_lineage(self, open_report, reports) -> None:
        """Clicking ``normalize`` opens the lineage panel with ingest upstream and its three dependents downstream."""
        o = open_report(reports["finra"])
        assert o.page.locator("#lineage").is_hidden()
        o.page.click("#node-n1")
        assert o.page.locator("#lineage").is_visible()
        assert o.page.inner_text("#sel-name") == "normalize"
        assert list_items(o.page, "#anc-list") == ["ingest"]
        assert list_items(o.page, "#desc-list") == ["aggregate", "venue_share", "rolling"]
        assert (o.page.inner_text("#anc-count"), o.page.inner_text("#desc-count")) == ("1", "3")
        o.assert_quiet_and_offline()

    def test_clicking_a_node_dims_unrelated_nodes(self, open_report, reports) -> None:
        """Clicking ``venue_share`` dims ``aggregate`` and ``rolling`` (unrelated), not its ancestors."""
        o = open_report(reports["finra"])
        o.page.click("#node-n3")
        dimmed = o.page.eval_on_selector_all("#svg g.node.dim", "els => els.map(e => e.id)")
        assert sorted(dimmed) == ["node-n2", "node-n4"]
        assert "sel" in o.page.get_attribute("#node-n3", "class").split()
        opacity = o.page.eval_on_selector("#node-n2", "e => getComputedStyle(e).opacity")
        assert float(opacity) < 0.5
        assert float(o.page.eval_on_selector("#node-n0", "e => getComputedStyle(e).opacity")) == 1
        edges = sorted(o.page.eval_on_selector_all("#svg g.edge.dim", "els => els.map(e => e.id)"))
        assert edges == ["edge-n1-n2", "edge-n2-n4"]
        o.assert_quiet_and_offline()

    def test_clear_removes_selection(self, open_report, reports) -> None:
        """The clear button hides the panel and undims every node."""
        o = open_report(reports["finra"])
        o.page.click("#node-n3")
        o.page.click("#clear")
        assert o.page.locator("#lineage").is_hidden()
        assert o.page.locator("#svg g.dim").count() == 0
        o.assert_quiet_and_offline()


@pytest.mark.needs_dot
class TestInvalidGroup:
    def test_every_node_of_an_invalid_group_can_be_clicked(self, open_report, reports) -> None:
        """In a report of a group with a cycle, a self-dependency and a ghost, every node (ghost
        included) can be selected without a script error, and a cycle member's lineage is the cycle."""
        o = open_report(reports["broken"])
        ids = o.page.eval_on_selector_all("#svg g.node", "els => els.map(e => e.id)")
        assert sorted(ids) == ["node-g0", "node-n0", "node-n1", "node-n2", "node-n3"]
        for nid in ids:
            o.page.click(f"#{nid}")
            assert o.page.locator("#lineage").is_visible()
        o.page.click("#node-n0")
        assert list_items(o.page, "#anc-list") == ["b"]
        assert list_items(o.page, "#desc-list") == ["b", "c"]
        assert o.page.inner_text("#verdict") == "invalid"
        o.assert_quiet_and_offline()


class TestIfThisFails:
    @pytest.mark.needs_dot
    def test_finra_normalize_failing(self, open_report, reports) -> None:
        """In FINRA (parallel, stop), normalize failing skips aggregate, venue_share and rolling under both policies."""
        o = open_report(reports["finra"])
        o.page.click("#node-n1")
        assert o.page.inner_text("#skip-continue") == "aggregate, venue_share, rolling"
        assert o.page.inner_text("#skip-stop") == "aggregate, venue_share, rolling"
        o.assert_quiet_and_offline()

    @pytest.mark.needs_dot
    def test_finra_leaf_failing_skips_nothing_under_continue(self, open_report, reports) -> None:
        """A leaf (rolling) failing skips nothing under continue, and nothing later under stop."""
        o = open_report(reports["finra"])
        o.page.click("#node-n4")
        assert o.page.inner_text("#skip-continue") == "nothing"
        assert o.page.inner_text("#skip-stop") == "nothing"
        o.assert_quiet_and_offline()

    def test_sequential_stop_cancels_later_steps_not_only_dependents(self, open_report, reports) -> None:
        """In the sequential market-data group, adjust_splits failing skips compute_returns under
        continue, but under stop also everything later in the order (quality_report)."""
        o = open_report(reports["market"])
        o.page.click("#row-n2")
        assert o.page.inner_text("#sel-name") == "adjust_splits"
        assert o.page.inner_text("#skip-continue") == "compute_returns"
        assert o.page.inner_text("#skip-stop") == "compute_returns, quality_report"
        o.assert_quiet_and_offline()


class TestSearch:
    @pytest.mark.needs_dot
    def test_search_filters_rows(self, open_report, reports) -> None:
        """Typing in the search box shows only matching rows; emptying it shows all again."""
        o = open_report(reports["finra"])
        o.page.fill("#search", "venue_share")
        rows = o.page.locator("#step-table tr.step")
        visible = [rows.nth(i).get_attribute("data-node") for i in range(rows.count()) if rows.nth(i).is_visible()]
        assert visible == ["n3"]
        assert o.page.eval_on_selector_all("#svg g.node.match", "els => els.map(e => e.id)") == ["node-n3"]
        o.page.fill("#search", "")
        assert all(rows.nth(i).is_visible() for i in range(rows.count()))
        o.assert_quiet_and_offline()

    def test_search_matches_pipeline_names(self, open_report, reports) -> None:
        """The search matches pipeline names too: ``compute_`` finds venue_share and rolling."""
        o = open_report(reports["finra"])
        o.page.fill("#search", "COMPUTE_")
        rows = o.page.locator("#step-table tr.step")
        visible = [rows.nth(i).get_attribute("data-node") for i in range(rows.count()) if rows.nth(i).is_visible()]
        assert visible == ["n3", "n4"]
        o.assert_quiet_and_offline()


@pytest.mark.needs_dot
class TestOfflineAndQuiet:
    def test_no_request_leaves_the_file_and_no_console_error(self, open_report, reports) -> None:
        """Loading, clicking every node and searching makes no request but the file itself and logs no error."""
        o = open_report(reports["finra"])
        for i in range(5):
            o.page.click(f"#node-n{i}")
        o.page.fill("#search", "agg")
        o.page.fill("#search", "")
        o.page.click("#row-n0")
        o.page.keyboard.press("Enter")
        o.assert_quiet_and_offline()
        assert o.requests == [o.url]

    def test_without_javascript_content_is_all_there(self, open_report, reports) -> None:
        """With JavaScript disabled every step row, the graph and the generations are still shown."""
        o = open_report(reports["finra"], js=False)
        assert o.page.locator("#step-table tr.step").count() == 5
        assert all(o.page.locator(f"#row-n{i}").is_visible() for i in range(5))
        assert o.page.locator("#svg svg").is_visible()
        assert o.page.inner_text("#critical-path") == "ingest → normalize → aggregate → rolling"
        o.assert_quiet_and_offline()


class TestInjection:
    @pytest.mark.parametrize("report", ["pwn", "pwn_nosvg"])
    def test_injected_names_do_not_run(self, open_report, reports, report: str) -> None:
        """Step names and descriptions holding ``<script>``, ``<img onerror>`` and ``<svg onload>`` never run,
        not on load, not when selected, not when searched."""
        o = open_report(reports[report])
        for i in range(3):
            o.page.click(f"#row-n{i}")
        o.page.fill("#search", "script")
        o.page.fill("#search", "img")
        assert o.page.evaluate("typeof window.__pwned") == "undefined"
        assert o.page.locator("#step-table img, #step-table script, main svg[onload]").count() == 0
        o.assert_quiet_and_offline()

    def test_injected_names_show_as_text(self, open_report, reports) -> None:
        """Each injected name is visible as literal text in the step table and the lineage panel."""
        o = open_report(reports["pwn_nosvg"])
        names = [o.page.locator(f"#row-n{i} td.name").inner_text().split("\n")[0] for i in range(3)]
        assert names == [PWN_SCRIPT, PWN_IMG, PWN_SVG]
        o.page.click("#row-n1")
        assert o.page.inner_text("#sel-name") == PWN_IMG
        assert list_items(o.page, "#anc-list") == [PWN_SCRIPT]
        assert list_items(o.page, "#desc-list") == [PWN_SVG]
        assert o.page.inner_text("header dd") == f"{PWN_SCRIPT} {PWN_IMG} {PWN_SVG}"
        o.assert_quiet_and_offline()

    @pytest.mark.needs_dot
    def test_injected_names_are_drawn(self, open_report, reports) -> None:
        """The picture of the injected names is drawn, and clicking its node selects the exact name."""
        o = open_report(reports["pwn"])
        assert o.page.locator("#svg g.node").count() == 3, o.page.inner_text("#graph")
        o.page.click("#node-n0")
        assert o.page.inner_text("#sel-name") == PWN_SCRIPT
        assert o.page.evaluate("typeof window.__pwned") == "undefined"
        o.assert_quiet_and_offline()


# -- layout: tables fit the window -----------------------------------------------------

#: The page's horizontal overflow, and each table's width against the box it sits in.
_WIDTHS = """() => ({
  page: document.documentElement.scrollWidth, window: window.innerWidth,
  tables: [...document.querySelectorAll('main table')].filter(t => !t.parentElement.closest('table'))
    .map(t => ({id: t.id || t.className, width: t.getBoundingClientRect().width, box: t.parentElement.clientWidth}))
})"""

#: Words (runs of text without a space or a hyphen, where browsers break lines anyway) that
#: were broken across two lines, in table cells, chips and code — except inside ``.brk``,
#: the last resort.
_BROKEN_WORDS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('main td, main .chip, main code')) {
    const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      if (n.parentElement.closest('.brk, svg')) continue;
      for (const m of n.data.matchAll(/[^\\s-]+/g)) {
        const r = document.createRange();
        r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
        const tops = new Set([...r.getClientRects()].filter(b => b.width > 0).map(b => Math.round(b.top)));
        if (tops.size > 1) out.push(m[0]);
      }
    }
  }
  return [...new Set(out)];
}"""


class TestLayout:
    @pytest.mark.parametrize("width", WIDTHS)
    @pytest.mark.parametrize("page", EXAMPLE_PAGES)
    def test_example_pages_fit_the_window(self, open_report, examples_site, page: str, width: int) -> None:
        """Each example page (and the index) is no wider than a 1,400 or 800 px window, and every table fits its box."""
        o = open_report(examples_site / f"{page}.html", width=width)
        m = o.page.evaluate(_WIDTHS)
        assert m["page"] <= m["window"], m
        for t in m["tables"]:
            assert t["width"] <= t["box"] + 0.5, (t, m)
        o.assert_quiet_and_offline()

    @pytest.mark.parametrize("width", WIDTHS)
    def test_200_character_names_fit_the_window(self, open_report, reports, width: int) -> None:
        """Valid 200-character step names (with and without separators) keep the findings and step tables inside the window."""
        o = open_report(reports["long"], width=width)
        m = o.page.evaluate(_WIDTHS)
        assert m["page"] <= m["window"], m
        widths = {t["id"]: t for t in m["tables"]}
        for table in ("findings-table", "step-table"):
            assert widths[table]["width"] <= widths[table]["box"] + 0.5, widths[table]
        assert o.page.locator("#row-n1 td.name .brk").inner_text().replace("\n", "") == SOLID_NAME
        o.assert_quiet_and_offline()

    @pytest.mark.parametrize("width", WIDTHS)
    @pytest.mark.parametrize("page", ["kedro.spaceflights", "finra.weekly_refresh", "index"])
    def test_names_break_between_words(self, open_report, examples_site, page: str, width: int) -> None:
        """In the example pages' tables no word is broken across lines: names wrap only after ``_``, ``.``, ``/`` and the like."""
        o = open_report(examples_site / f"{page}.html", width=width)
        assert o.page.evaluate(_BROKEN_WORDS) == []

    def test_finra_params_column_is_whole_at_800(self, open_report, examples_site) -> None:
        """At 800 px every FINRA param row (key, value, layer) is inside the window, none cut off."""
        o = open_report(examples_site / "finra.weekly_refresh.html", width=800)
        right = o.page.eval_on_selector_all("#step-table table.params tr", "rows => Math.max(...rows.map(r => r.getBoundingClientRect().right))")
        assert right <= 800
        layers = o.page.locator("#row-n0 .layer").all_inner_texts()
        assert layers and all(layer in ("pipeline", "default", "run", "step") for layer in layers)

    def test_a_table_too_wide_scrolls_in_its_box(self, open_report, reports) -> None:
        """When a table cannot fit (a 320 px window), its box scrolls sideways and the page does not."""
        o = open_report(reports["long"], width=320)
        m = o.page.evaluate(_WIDTHS)
        assert m["page"] <= m["window"], m
        box = o.page.eval_on_selector("#step-table", "t => [t.parentElement.scrollWidth, t.parentElement.clientWidth, getComputedStyle(t.parentElement).overflowX]")
        assert box[2] == "auto"


# -- the legend and the sections an invalid group cannot fill ------------------------------


def legend(page) -> list[str]:
    return page.locator("#legend .k").all_inner_texts()


class TestLegend:
    def test_valid_group_shows_only_the_critical_path(self, open_report, reports) -> None:
        """A valid group's legend names the critical path only: no cycle, no missing dependency."""
        o = open_report(reports["finra"])
        assert legend(o.page) == ["critical path"]

    def test_broken_group_shows_what_it_has(self, open_report, reports) -> None:
        """A group with a cycle and a missing dependency names both marks, and the critical path of its ordered steps."""
        o = open_report(reports["broken"])
        assert legend(o.page) == ["critical path", "cycle", "missing dependency"]

    def test_group_that_is_all_cycle_shows_only_cycle(self, open_report, reports) -> None:
        """A group that is one cycle has no critical path and no missing step: its legend says cycle only."""
        o = open_report(reports["cycle"])
        assert legend(o.page) == ["cycle"]


class TestNotComputed:
    def test_generations_say_why_they_are_empty(self, open_report, reports) -> None:
        """A group that is one cycle says its generations were not computed because of the cycle, naming its steps."""
        o = open_report(reports["cycle"])
        why = o.page.inner_text("#generations-why")
        assert why.startswith("Not computed: the graph has a cycle") and "In the cycle: a, b." in why
        assert o.page.locator("#generations ol").count() == 0

    def test_critical_path_says_why_it_is_empty(self, open_report, reports) -> None:
        """A group that is one cycle says its critical path was not computed because of the cycle."""
        o = open_report(reports["cycle"])
        assert o.page.inner_text("#critical-path-why").startswith("Not computed: the graph has a cycle")

    def test_partly_ordered_group_names_the_left_out_steps(self, open_report, reports) -> None:
        """A group with a cycle (and a self-dependency) and ordered steps names the steps it leaves out of the order."""
        o = open_report(reports["broken"])
        why = o.page.inner_text("#generations-why")
        assert "3 steps cannot be ordered" in why and "In the cycle: a, b, c." in why
        assert o.page.inner_text("#critical-path-why") == "Among the steps outside the cycle."


# -- pan and zoom ------------------------------------------------------------------------------


def view_box(page) -> list[float]:
    return [float(x) for x in page.get_attribute("#svg svg", "viewBox").split()]


@pytest.mark.needs_dot
class TestPanZoom:
    def test_wheel_zooms_in_around_the_pointer(self, open_report, reports) -> None:
        """Scrolling the wheel up over the picture shrinks the viewBox, and the point under the pointer stays put."""
        o = open_report(reports["finra"])
        before = view_box(o.page)
        box = o.page.locator("#svg").bounding_box()
        x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4
        at = o.page.evaluate("([x, y]) => { const p = new DOMPoint(x, y).matrixTransform(document.querySelector('#svg svg').getScreenCTM().inverse()); return [p.x, p.y]; }", [x, y])
        o.page.mouse.move(x, y)
        o.page.mouse.wheel(0, -300)
        o.page.wait_for_function(f"document.querySelector('#svg svg').viewBox.baseVal.width < {before[2]}")
        after = view_box(o.page)
        assert after[2] < before[2] and after[3] < before[3]
        still = o.page.evaluate("([x, y]) => { const p = new DOMPoint(x, y).matrixTransform(document.querySelector('#svg svg').getScreenCTM().inverse()); return [p.x, p.y]; }", [x, y])
        assert abs(still[0] - at[0]) < 1 and abs(still[1] - at[1]) < 1
        o.assert_quiet_and_offline()

    def test_drag_pans_and_does_not_select(self, open_report, reports) -> None:
        """Dragging from a step's box moves the viewBox by the drag and does not open that step's lineage."""
        o = open_report(reports["finra"])
        o.page.click("#zoom-in")
        before = view_box(o.page)
        b = o.page.locator("#node-n1").bounding_box()
        x, y = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
        o.page.mouse.move(x, y)
        o.page.mouse.down()
        o.page.mouse.move(x - 60, y - 30, steps=6)
        o.page.mouse.up()
        after = view_box(o.page)
        assert after[0] > before[0] and after[1] > before[1] and after[2:] == before[2:]
        assert o.page.locator("#lineage").is_hidden()
        o.assert_quiet_and_offline()

    def test_reset_restores_the_whole_graph(self, open_report, reports) -> None:
        """After zooming and panning, the reset button brings back the original viewBox."""
        o = open_report(reports["finra"])
        home = view_box(o.page)
        o.page.click("#zoom-in")
        o.page.click("#zoom-in")
        assert view_box(o.page) != home
        o.page.click("#zoom-reset")
        assert view_box(o.page) == home
        o.assert_quiet_and_offline()

    def test_keyboard_zooms_pans_and_resets(self, open_report, reports) -> None:
        """With the picture focused, + zooms in, → pans right, - zooms out and 0 resets."""
        o = open_report(reports["finra"])
        home = view_box(o.page)
        o.page.focus("#svg")
        o.page.keyboard.press("+")
        zoomed = view_box(o.page)
        assert zoomed[2] < home[2]
        o.page.keyboard.press("ArrowRight")
        panned = view_box(o.page)
        assert panned[0] > zoomed[0] and panned[2] == zoomed[2]
        o.page.keyboard.press("-")
        assert view_box(o.page)[2] > panned[2]
        o.page.keyboard.press("0")
        assert view_box(o.page) == home
        o.assert_quiet_and_offline()

    def test_controls_are_reachable_with_tab(self, open_report, reports) -> None:
        """The zoom buttons and the picture itself take keyboard focus in order."""
        o = open_report(reports["finra"])
        o.page.focus("#zoom-in")
        order = []
        for _ in range(3):
            o.page.keyboard.press("Tab")
            order.append(o.page.evaluate("document.activeElement.id"))
        assert order == ["zoom-out", "zoom-reset", "svg"]

    def test_without_javascript_there_are_no_dead_controls(self, open_report, reports) -> None:
        """Without JavaScript the zoom buttons stay hidden and the picture keeps its natural size in a scrolling box."""
        o = open_report(reports["finra"], js=False)
        assert o.page.locator("#zoom-bar").is_hidden()
        assert o.page.eval_on_selector("#svg", "e => getComputedStyle(e).overflow") == "auto"

    def test_selecting_a_row_brings_its_step_into_view(self, open_report, reports) -> None:
        """When zoomed in far, clicking a step's row pans the picture so that step's box is visible."""
        o = open_report(reports["finra"])
        for _ in range(6):
            o.page.click("#zoom-in")
        o.page.click("#row-n4")
        box, node = o.page.locator("#svg").bounding_box(), o.page.locator("#node-n4").bounding_box()
        cx, cy = node["x"] + node["width"] / 2, node["y"] + node["height"] / 2
        assert box["x"] <= cx <= box["x"] + box["width"] and box["y"] <= cy <= box["y"] + box["height"]
        o.assert_quiet_and_offline()
