"""The HTML group report of a composition in a real browser (system Chromium): nested
groups fold and unfold, in the step table and in the picture."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_report_browser import drawn, open_report  # noqa: F401 - a fixture and a helper (the browser fixture is in conftest)

from spine.orchestration import PlanResolver, load_groups
from spine.orchestration.nesting import GroupSource
from spine.render.report import build_report, graph_source, write_report

pytestmark = [pytest.mark.needs_chromium, pytest.mark.needs_dot]

REPO = Path(__file__).resolve().parents[1]
GROUPS = REPO / "examples" / "groups"


@pytest.fixture(scope="module")
def nested_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example composition's report, its plan resolved and its picture drawn by Graphviz."""
    loaded = {g.name: g for f in ("finra_weekly_refresh.yaml", "market_data_daily_prices.yaml", "market_wide_refresh.yaml") for g in load_groups(GROUPS / f)}
    groups = GroupSource(loaded.values())
    outer = loaded["market.wide_refresh"]
    params = {"week_ending": "2024-01-05"}
    plan = PlanResolver(groups=groups).resolve(outer, params)
    source = graph_source(outer, groups=groups)
    data = drawn(build_report(outer, plan=plan, run_params=params, source=source))
    return write_report(tmp_path_factory.mktemp("nested") / "market.html", data)


def _visible_rows(page, cluster: str) -> int:
    return page.locator(f'#step-table tr.step[data-in~="{cluster}"]:visible').count()


def _visible_nodes(page, cluster: str) -> int:
    return sum(1 for g in page.locator(f"#svg g.node.in-{cluster}").all() if g.is_visible())


def test_each_nested_group_is_a_cluster_with_its_steps(open_report, nested_report: Path) -> None:
    """The picture has a box per nested group holding its five steps, and the table a heading per group."""
    o = open_report(nested_report)
    assert o.page.locator("#svg g.cluster").count() == 3
    assert o.page.locator("#cluster-c1 text").first.inner_html() == "tier2"
    assert [_visible_nodes(o.page, c) for c in ("c0", "c1", "c2")] == [5, 5, 5]
    assert o.page.locator("#step-table tr.nested-head").count() == 3
    o.assert_quiet_and_offline()


def test_folding_hides_the_group_and_unfolding_shows_it(open_report, nested_report: Path) -> None:
    """Folding tier1 hides its rows and nodes (not the others'); unfolding brings them back."""
    o = open_report(nested_report)
    button = o.page.locator('button.fold[data-fold="c0"]')
    assert button.get_attribute("aria-expanded") == "true"
    button.click()
    assert button.get_attribute("aria-expanded") == "false"
    assert (_visible_rows(o.page, "c0"), _visible_nodes(o.page, "c0")) == (0, 0)
    assert (_visible_rows(o.page, "c1"), _visible_nodes(o.page, "c1")) == (5, 5)
    assert o.page.locator("#cluster-c0").is_visible() and o.page.locator("#head-c0").is_visible()
    button.click()
    assert (_visible_rows(o.page, "c0"), _visible_nodes(o.page, "c0")) == (5, 5)
    o.assert_quiet_and_offline()


def test_clicking_a_cluster_in_the_picture_folds_it(open_report, nested_report: Path) -> None:
    """A click on a nested group's box in the picture folds it, as its button does."""
    o = open_report(nested_report)
    o.page.locator("#cluster-c2 text").first.click()
    assert _visible_rows(o.page, "c2") == 0
    assert o.page.locator('button.fold[data-fold="c2"]').get_attribute("aria-expanded") == "false"
    o.assert_quiet_and_offline()
