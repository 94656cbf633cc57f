"""The HTML report in a real browser: Debian ``chromium`` driven by playwright, over ``file://``.

The browser is the system one (``/usr/bin/chromium``, or ``SPINE_CHROMIUM``); nothing is
downloaded. Tests of the picture also need Graphviz ``dot`` (``needs_dot``). Every page
is opened with all requests recorded and every non-``file:`` request aborted, and with
console errors and page errors collected, so each test also proves the page stays offline
and quiet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from spine.orchestration import PipelineGroup, PipelineStep, PlanResolver, load_groups, validate_group
from spine.render.report import build_report, write_report

pytestmark = pytest.mark.needs_chromium

REPO = Path(__file__).resolve().parents[1]
FINRA = REPO / "examples" / "groups" / "finra_weekly_refresh.yaml"
MARKET = REPO / "examples" / "groups" / "market_data_daily_prices.yaml"

PWN_SCRIPT = "<script>window.__pwned=1</script>"
PWN_IMG = '<img src=x onerror="window.__pwned=1">'
PWN_SVG = '<svg onload="window.__pwned=1">'


@pytest.fixture(scope="module")
def browser(chromium_exe: str) -> Iterator[object]:
    """One headless system chromium for the whole module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium_exe,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
        )
        yield b
        b.close()


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
    return {
        "broken": write_report(out / "broken.html", build_report(broken, findings=validate_group(broken))),
        "finra": write_report(out / "finra.html", build_report(finra, plan=PlanResolver().resolve(finra, params), run_params=params)),
        "market": write_report(out / "market.html", build_report(market, plan=PlanResolver().resolve(market, mparams), run_params=mparams)),
        "pwn": write_report(out / "pwn.html", build_report(pwn)),
        "pwn_nosvg": write_report(out / "pwn_nosvg.html", build_report(pwn, svg=False)),
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
def open_report(browser) -> Iterator[object]:
    """``open_report(path, js=True) -> Opened``: a fresh context per page, closed after the test."""
    contexts = []

    def _open(path: Path, *, js: bool = True) -> Opened:
        context = browser.new_context(java_script_enabled=js, viewport={"width": 1280, "height": 900})
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
