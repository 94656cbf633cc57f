"""The HTML plan report: ``build_report``/``render_report``/``write_site`` and ``spine group report``.

Static checks of the written HTML (the browser tests are in ``test_report_browser.py``):
self-contained, escaped, complete, and written even when a group is invalid or Graphviz
is missing.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import _tools
import pytest

from spine.orchestration import PipelineGroup, PipelineStep, PlanResolver, analyze, load_groups, scan, validate_group
from spine.render import build_graph_view, to_mermaid
from spine.render.report import (
    Mark,
    ReportData,
    build_report,
    graph_source,
    render_report,
    report_shell,
    write_report,
    write_site,
)
from spine.render.svg import Graphviz, Picture, draw_svg

REPO = Path(__file__).resolve().parents[1]
GROUPS = REPO / "examples" / "groups"
FINRA = GROUPS / "finra_weekly_refresh.yaml"
FINRA_PARAMS = {"tier": "NMS_TIER_1", "week_ending": "2024-01-05"}
ALL_PARAMS = ("--param", "tier=NMS_TIER_1", "--param", "week_ending=2024-01-05", "--param", "trade_date=2024-01-05")

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_YAML = f"""\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata:
  name: hostile.names
  description: '{XSS_SCRIPT} {XSS_IMG} " & __proto__ שלום'
spec:
  pipelines:
    - name: '{XSS_SCRIPT}'
      pipeline: p.a
      description: '{XSS_IMG}'
    - name: '{XSS_IMG}'
      pipeline: '{XSS_SCRIPT}'
      depends_on: ['{XSS_SCRIPT}']
      description: '{XSS_SCRIPT}'
    - name: '</script><script>alert(2)</script>'
      pipeline: p.c
      depends_on: ['{XSS_IMG}']
    - name: '__proto__'
      pipeline: p.d
      depends_on: ['</script><script>alert(2)</script>']
"""

INVALID_YAML = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata:
  name: broken.group
spec:
  pipelines:
    - name: a
      pipeline: p.a
      depends_on: [c]
    - name: b
      pipeline: p.b
      depends_on: [a, nope]
    - name: c
      pipeline: p.c
      depends_on: [b]
"""


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, and the text of ``<script>`` elements."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def section(page: str, sid: str) -> str:
    """The raw HTML of ``<section id="sid">`` up to its closing tag."""
    m = re.search(rf'<section id="{sid}"[^>]*>(.*?)</section>', page, re.S)
    assert m, f"no section #{sid}"
    return m.group(1)


def text(fragment: str) -> str:
    """Visible text of an HTML fragment, tags dropped (``<wbr>`` adds no space) and entities decoded, spaces collapsed."""
    fragment = re.sub(r"<wbr>|</?span( class=\"brk\")?>", "", fragment)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def element_text(page: str, eid: str, tag: str = r"\w+") -> str:
    """The text of the element with id ``eid``, without the ``<wbr>`` break points spine adds to names."""
    m = re.search(rf'<({tag})\b[^>]*\bid="{eid}"[^>]*>(.*?)</\1>', page, re.S)
    assert m, f"no element #{eid}"
    return html.unescape(re.sub(r"<wbr>|</?span( class=\"brk\")?>", "", m.group(2)))


def assert_self_contained(page: str) -> None:
    """No external resource: no URL in src/href, no ``<link>``, no ``<script src>``, no CSS ``url()``/``@import``."""
    tags = Tags(page).tags
    assert not [t for t, _ in tags if t in ("link", "iframe", "object", "embed", "base")]
    for tag, attrs in tags:
        for key, value in attrs.items():
            if key in ("src", "href", "xlink:href", "action", "srcset", "poster", "data") and value is not None:
                assert not re.match(r"\s*(https?:)?//", value, re.I), f"<{tag} {key}={value!r}>"
                assert not value.strip().lower().startswith(("javascript:", "data:text/html")), f"<{tag} {key}={value!r}>"
        if tag == "script":
            assert "src" not in attrs, attrs
    styles = re.findall(r"<style[^>]*>(.*?)</style>", page, re.S)
    for css in styles:
        assert "@import" not in css and not re.search(r"url\(\s*['\"]?\s*(https?:)?//", css)


def has_picture(page: str) -> bool:
    """Whether the page's graph section holds an inline SVG picture."""
    return re.search(r'<div class="svg-wrap" id="svg"[^>]*><svg', page) is not None


def drawn(data: ReportData) -> ReportData:
    """``data`` with its picture drawn by the real Graphviz, as the suite finds it (no picture when it is hidden)."""
    return data.with_picture(draw_svg(data.graph.dot, _tools.find_dot() or "/nonexistent/dot"))


def spine_data(page: str) -> dict:
    """The JSON blob the page's script reads."""
    m = re.search(r'<script type="application/json" id="spine-data">(.*?)</script>', page, re.S)
    assert m, "no spine-data blob"
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def finra_page() -> str:
    """The report of the FINRA example resolved with run params (Graphviz picture included)."""
    group = load_groups(FINRA)[0]
    plan = PlanResolver().resolve(group, FINRA_PARAMS)
    return render_report(drawn(build_report(group, plan=plan, run_params=FINRA_PARAMS)))


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The report of a group whose names and descriptions are script and image injections."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.yaml"
    path.write_text(HOSTILE_YAML, encoding="utf-8")
    (lg,) = scan([path])
    assert lg.group is not None, lg.findings
    return render_report(drawn(build_report(lg.group, findings=validate_group(lg.group))))


class TestSelfContained:
    @pytest.mark.needs_dot
    def test_report_is_self_contained(self, finra_page: str) -> None:
        """A report page references no external resource: CSS, JS and SVG are inline."""
        assert_self_contained(finra_page)
        assert "<svg" in finra_page and "<style>" in finra_page

    def test_report_has_exactly_the_two_own_scripts(self, finra_page: str) -> None:
        """The page holds two scripts — the JSON data blob and the inline JS — and no other."""
        scripts = [attrs for tag, attrs in Tags(finra_page).tags if tag == "script"]
        assert scripts == [{"type": "application/json", "id": "spine-data"}, {}]

    def test_site_pages_are_self_contained(self, tmp_path: Path) -> None:
        """``write_site`` writes an index and pages that all reference nothing outside themselves."""
        reports = [build_report(g) for path in sorted(GROUPS.rglob("*.yaml")) for g in load_groups(path)]
        index = write_site(tmp_path / "site", reports)
        pages = sorted((tmp_path / "site").glob("*.html"))
        assert index in pages and len(pages) == len(reports) + 1
        for page in pages:
            assert_self_contained(page.read_text(encoding="utf-8"))


class TestContent:
    def test_json_blob_has_every_node(self, finra_page: str) -> None:
        """The JSON data blob parses and lists every step with its id, name and dependency ids."""
        data = spine_data(finra_page)
        assert data["group"] == "finra.weekly_refresh"
        assert data["policy"]["on_failure"] == "stop"
        nodes = {n["name"]: n for n in data["nodes"]}
        assert list(nodes) == ["ingest", "normalize", "aggregate", "venue_share", "rolling"]
        assert nodes["rolling"]["deps"] == [nodes["aggregate"]["id"]]
        assert nodes["venue_share"]["generation"] == 2

    def test_run_params_are_shown(self, finra_page: str) -> None:
        """The run params the plan was resolved with are listed."""
        shown = text(re.search(r'<table class="kv" id="run-params">(.*?)</table>', finra_page, re.S).group(1))
        assert shown == 'tier "NMS_TIER_1" week_ending "2024-01-05"'

    def test_step_table_shows_merged_params_with_layer_and_template(self) -> None:
        """Each step's params show the rendered value, the layer it came from and the template it was rendered from."""
        group = PipelineGroup(
            name="layers",
            defaults={"label": "{{ params.tier }}-x", "force": False, "tier": "default-tier"},
            steps=(PipelineStep("a", "p.a", params={"force": True, "n": "{{ params.n * 2 }}"}),),
        )
        params = {"tier": "T1", "n": 21}
        page = render_report(build_report(group, plan=PlanResolver().resolve(group, params), run_params=params))
        rows = [text(r) for r in re.findall(r"<table class=\"params\">.*?</table>", page, re.S)[0].split("</tr>")[:-1]]
        assert sorted(rows) == sorted([
            'label "T1-x" default {{ params.tier }}-x',
            "force true step",
            'tier "T1" run',
            "n 42 step {{ params.n * 2 }}",
        ])

    def test_summary_counts(self, finra_page: str) -> None:
        """The summary shows steps, dependencies, generations, widest generation and critical-path length."""
        cards = text(re.search(r'<ul class="cards">(.*?)</ul>', finra_page, re.S).group(1))
        assert cards.startswith("5 steps 4 dependencies 4 generations 2 widest generation 4 on the critical path 0 errors")

    @pytest.mark.needs_dot
    def test_graph_is_inline_svg_with_node_ids(self, finra_page: str) -> None:
        """The picture is Graphviz's SVG inline, each step a ``g`` with id ``node-nK``."""
        svg = section(finra_page, "graph")
        assert "<?xml" not in svg and "<!DOCTYPE svg" not in svg
        ids = [html.unescape(i) for i in re.findall(r'<g id="([^"]+)" class="node', svg)]
        assert ids == [f"node-n{i}" for i in range(5)]

    def test_every_finding_is_shown_with_its_position(self, tmp_path: Path) -> None:
        """Each finding of an invalid group is listed, in file order, with its ``file:line:column``, code and message."""
        path = tmp_path / "broken.yaml"
        path.write_text(INVALID_YAML)
        (lg,) = scan([path])
        findings = list(lg.findings) + validate_group(lg.group)
        findings.sort(key=lambda f: (f.line, f.column))
        assert {f.code for f in findings} >= {"missing-dependency", "cycle"}
        page = render_report(build_report(lg.group, findings=findings))
        rows = [text(r) for r in re.findall(r'<tr class="finding[^"]*">(.*?)</tr>', page, re.S)]
        assert len(rows) == len(findings)
        for f, row in zip(findings, rows, strict=True):
            assert re.fullmatch(r".+:\d+:\d+", f.location), f.location
            assert row.startswith(f"error {f.code} {f.location} ")
            assert text(html.escape(f.message)) in row

    def test_invalid_group_report_marks_it_invalid(self, tmp_path: Path) -> None:
        """An invalid group's page says ``invalid`` and counts its errors."""
        path = tmp_path / "broken.yaml"
        path.write_text(INVALID_YAML)
        (lg,) = scan([path])
        data = build_report(lg.group, findings=validate_group(lg.group))
        page = render_report(data)
        assert not data.valid and data.errors >= 2
        assert element_text(page, "verdict") == "invalid"
        assert f"<b>{data.errors}</b> errors" in page

    def test_undrawn_report_shows_note_and_mermaid_source(self) -> None:
        """A report whose picture was not drawn has no SVG, says so, and shows the Mermaid source."""
        group = load_groups(FINRA)[0]
        page = render_report(build_report(group))
        assert "<svg" not in page
        assert "not drawn" in element_text(page, "no-svg")
        assert element_text(page, "mermaid-src") == to_mermaid(build_graph_view(group))

    @pytest.mark.needs_dot
    def test_large_graph_says_layout_was_reduced(self) -> None:
        """A 1,000-step report says the layout effort was reduced, and still has its picture."""
        steps = tuple(PipelineStep(f"s{i}", "p", depends_on=(f"s{(i - 1) // 2}",) if i else ()) for i in range(1000))
        page = render_report(drawn(build_report(PipelineGroup(name="big", steps=steps))))
        assert "Layout effort was reduced" in element_text(page, "layout-note")
        assert has_picture(page)


class TestEscaping:
    def test_no_injected_markup_reaches_the_html(self, hostile_page: str) -> None:
        """Names and descriptions holding ``<script>`` and ``<img onerror>`` never appear as markup."""
        assert "<script>alert" not in hostile_page
        assert "<img src=x" not in hostile_page
        assert "alert(2)</script>" not in hostile_page.replace("&lt;/script&gt;", "")
        tags = Tags(hostile_page).tags
        assert [t for t, _ in tags if t in ("img", "iframe")] == []
        assert [t for t, _ in tags if t == "script"] == ["script", "script"]
        assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]

    def test_hostile_names_show_as_text(self, hostile_page: str) -> None:
        """Each hostile step name is shown, as text, in the step table."""
        rows = [text(r) for r in re.findall(r'<td class="name">(.*?)</td>', hostile_page, re.S)]
        for name in (XSS_SCRIPT, XSS_IMG, "</script><script>alert(2)</script>", "__proto__"):
            assert any(r.startswith(name) for r in rows), (name, rows)

    def test_hostile_description_shows_as_text(self, hostile_page: str) -> None:
        """The group description with markup and RTL text is shown as text."""
        dd = re.search(r"<dt>description</dt><dd>(.*?)</dd>", hostile_page, re.S).group(1)
        assert text(dd) == f'{XSS_SCRIPT} {XSS_IMG} " & __proto__ שלום'
        assert "<" not in dd

    def test_json_blob_round_trips_hostile_names(self, hostile_page: str) -> None:
        """The JSON blob cannot close its script tag and decodes back to the exact names."""
        blob = re.search(r'<script type="application/json" id="spine-data">(.*?)</script>', hostile_page, re.S).group(1)
        assert "<" not in blob and ">" not in blob
        names = [n["name"] for n in json.loads(blob)["nodes"]]
        assert names == [XSS_SCRIPT, XSS_IMG, "</script><script>alert(2)</script>", "__proto__"]

    @pytest.mark.needs_dot
    def test_hostile_report_still_has_its_picture(self, hostile_page: str) -> None:
        """Hostile names do not cost the picture: Graphviz draws it and each name is in the SVG as text."""
        assert has_picture(hostile_page), element_text(hostile_page, "no-svg")
        svg = section(hostile_page, "graph")
        for name in (XSS_SCRIPT, XSS_IMG):
            assert html.escape(name, quote=False) in svg


    @pytest.mark.needs_dot
    def test_step_named_like_a_url_scheme_keeps_the_picture(self) -> None:
        """A step named ``javascript:alert(1)`` is text, not markup: the report keeps its picture."""
        group = PipelineGroup(name="g", steps=(PipelineStep("javascript:alert(1)", "p.a"),))
        page = render_report(drawn(build_report(group)))
        assert has_picture(page)
        assert "javascript:alert(1)" in section(page, "graph")

    def test_missing_picture_always_says_why(self) -> None:
        """Whenever the page has no picture, its note says why (never an empty or ``None`` note)."""
        for name in ("javascript:alert(1)", "<script>alert(1)</script>", "<foreignObject>"):
            page = render_report(drawn(build_report(PipelineGroup(name="g", steps=(PipelineStep(name, "p.a"),)))))
            if not has_picture(page):
                assert element_text(page, "no-svg").strip() not in ("", "None"), name



class TestSite:
    def test_group_named_index_does_not_replace_the_index(self, tmp_path: Path) -> None:
        """A group called ``index`` gets its own page; ``index.html`` stays the site's index."""
        reports = [build_report(PipelineGroup(name=n, steps=(PipelineStep("a", "p"),))) for n in ("index", "other")]
        index = write_site(tmp_path, reports)
        page = index.read_text(encoding="utf-8")
        assert element_text(page, "verdict") == "all valid"
        links = dict((text(m[1]), m[0]) for m in re.findall(r'<a href="([^"]+)">(.*?)</a>', page))
        assert links == {"index": "index-2.html", "other": "other.html"}
        assert element_text((tmp_path / "index-2.html").read_text(encoding="utf-8"), "group-name") == "index"

    def test_same_group_name_twice_gets_two_pages(self, tmp_path: Path) -> None:
        """Two groups with one name (from two files) get two pages, both linked from the index."""
        reports = [build_report(PipelineGroup(name="dup", steps=(PipelineStep(s, "p"),))) for s in ("a", "b")]
        page = write_site(tmp_path, reports).read_text(encoding="utf-8")
        assert re.findall(r'<a href="([^"]+)">', page) == ["dup.html", "dup-2.html"]
        assert 'id="row-n0"' in (tmp_path / "dup-2.html").read_text(encoding="utf-8")

    def test_page_links_back_to_the_index(self, tmp_path: Path) -> None:
        """Each page of a site links back to ``index.html``; a single report has no such link."""
        data = build_report(PipelineGroup(name="g", steps=(PipelineStep("a", "p"),)))
        write_site(tmp_path, [data])
        assert '<nav><a href="index.html">' in (tmp_path / "g.html").read_text(encoding="utf-8")
        assert "<nav>" not in render_report(data)


class TestCli:
    def test_folder_gives_site_with_index(self, in_tmp: Path, invoke) -> None:
        """A folder of groups gives ``index.html`` listing every group with verdict and counts, and a page each."""
        code, _, err = invoke("group", "report", str(GROUPS), "-o", "site", *ALL_PARAMS, "--no-svg")
        assert code == 0, err
        index = (in_tmp / "site" / "index.html").read_text(encoding="utf-8")
        rows = re.findall(r'<tr class="(ok|bad)">(.*?)</tr>', index, re.S)
        groups = [g for p in sorted(GROUPS.rglob("*.yaml")) for g in load_groups(p)]
        assert len(rows) == len(groups) == 6  # the five examples and their composition, market.wide_refresh
        by_name = {}
        for verdict, row in rows:
            href = re.search(r'<a href="([^"]+)">', row).group(1)
            assert (in_tmp / "site" / href).is_file()
            name = text(re.search(r'<a href="[^"]+">(.*?)</a>', row, re.S).group(1))
            counts = {key: text(value) for key, value in re.findall(r'<td class="num (\w+)">(.*?)</td>', row, re.S)}
            by_name[name] = (verdict, text(row), counts)
        from spine.orchestration.nesting import GroupSource, flatten, has_nesting

        for g in groups:
            verdict, row, counts = by_name[g.name]
            shown = flatten(g, GroupSource(groups))[0] if has_nesting(g) else g  # a composition counts its expanded steps
            gens = len(analyze(shown).generations)
            assert verdict == "ok" and row.startswith(f"valid {g.name} v{g.version} {g.domain or ''}")
            assert counts == {"steps": str(len(shown.steps)), "generations": str(gens), "errors": "0", "warnings": "0"}

    def test_single_group_to_one_file(self, in_tmp: Path, invoke) -> None:
        """One group with ``-o x.html`` writes that one file and no index."""
        code, _, err = invoke("group", "report", str(FINRA), "-o", "out/x.html", *ALL_PARAMS)
        assert code == 0, err
        assert sorted(p.name for p in (in_tmp / "out").iterdir()) == ["x.html"]
        page = (in_tmp / "out" / "x.html").read_text(encoding="utf-8")
        assert element_text(page, "group-name") == "finra.weekly_refresh"
        assert_self_contained(page)

    def test_several_groups_to_one_file_is_a_usage_error(self, in_tmp: Path, invoke) -> None:
        """Several groups with ``-o x.html`` is a usage error (exit 2) that says to give a folder."""
        code, _, err = invoke("group", "report", str(GROUPS), "-o", "x.html", "--no-svg")
        assert code == 2
        assert "folder" in err

    def test_invalid_group_exits_1_and_is_still_written(self, in_tmp: Path, invoke) -> None:
        """A folder with an invalid group exits 1, and the site is still written with that group marked invalid."""
        (in_tmp / "groups").mkdir()
        (in_tmp / "groups" / "broken.yaml").write_text(INVALID_YAML)
        (in_tmp / "groups" / "finra.yaml").write_text(FINRA.read_text())
        code, _, err = invoke("group", "report", "groups", "-o", "site", "--no-svg")
        assert code == 1
        index = (in_tmp / "site" / "index.html").read_text(encoding="utf-8")
        verdicts = {text(m[1]): m[0] for m in re.findall(r'<tr class="(ok|bad)">.*?<a href="[^"]+">(.*?)</a>', index, re.S)}
        assert verdicts == {"broken.group": "bad", "finra.weekly_refresh": "ok"}
        assert element_text(index, "verdict") == "invalid groups"
        page = (in_tmp / "site" / "broken.group.html").read_text(encoding="utf-8")
        assert "missing-dependency" in text(section(page, "findings"))

    def test_run_params_from_the_command_line(self, in_tmp: Path, invoke) -> None:
        """``--param`` values are the run params shown in the report."""
        code, _, err = invoke("group", "report", str(FINRA), "-o", "r.html", "--no-svg", "--param", "tier=OTC", "--param", "week_ending=2024-02-02")
        assert code == 0, err
        page = (in_tmp / "r.html").read_text(encoding="utf-8")
        assert text(re.search(r'id="run-params">(.*?)</table>', page, re.S).group(1)) == 'tier "OTC" week_ending "2024-02-02"'

    def test_no_svg_flag(self, in_tmp: Path, invoke) -> None:
        """``--no-svg`` writes a page with the note and the Mermaid source instead of a picture."""
        code, _, err = invoke("group", "report", str(FINRA), "-o", "r.html", "--no-svg", *ALL_PARAMS)
        assert code == 0, err
        page = (in_tmp / "r.html").read_text(encoding="utf-8")
        assert "<svg" not in page
        assert "--no-svg" in element_text(page, "no-svg")
        assert element_text(page, "mermaid-src").startswith("flowchart TB\n    n0[")

    def test_without_dot_report_still_written_and_says_how(self, in_tmp: Path, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without Graphviz the report is still written (exit 0), says how to install it, and shows Mermaid."""
        monkeypatch.setenv("SPINE_DOT", "/nonexistent/dot")
        code, _, err = invoke("group", "report", str(FINRA), "-o", "r.html", *ALL_PARAMS)
        assert code == 0, err
        page = (in_tmp / "r.html").read_text(encoding="utf-8")
        note = element_text(page, "no-svg")
        assert "apt-get install graphviz" in note and "/nonexistent/dot" in note and "SPINE_DOT" in note
        assert "<svg" not in page
        assert element_text(page, "mermaid-src").startswith("flowchart")

    def test_hostile_names_through_the_cli(self, in_tmp: Path, invoke) -> None:
        """The CLI's report of hostile names holds no injected markup."""
        (in_tmp / "h.yaml").write_text(HOSTILE_YAML, encoding="utf-8")
        invoke("group", "report", "h.yaml", "-o", "h.html")
        page = (in_tmp / "h.html").read_text(encoding="utf-8")
        assert "<script>alert" not in page and "<img src=x" not in page
        assert [t for t, _ in Tags(page).tags if t == "script"] == ["script", "script"]


def test_write_report_writes_render_report(tmp_path: Path) -> None:
    """``write_report`` writes exactly what ``render_report`` returns, creating folders."""
    data = build_report(load_groups(FINRA)[0])
    path = write_report(tmp_path / "a" / "b.html", data)
    assert path.read_text(encoding="utf-8") == render_report(data)


class TestPureAndEdge:
    def test_building_and_rendering_start_no_process(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """``graph_source``, ``build_report`` and ``render_report`` never start a process: Graphviz runs only at the edge."""
        import subprocess

        def refuse(*args, **kwargs):
            raise AssertionError(f"a process was started: {args}")

        monkeypatch.setattr(subprocess, "Popen", refuse)
        group = load_groups(FINRA)[0]
        plan = PlanResolver().resolve(group, FINRA_PARAMS)
        source = graph_source(group)
        page = render_report(build_report(group, plan=plan, run_params=FINRA_PARAMS, source=source))
        assert "not drawn" in element_text(page, "no-svg")

    def test_shell_filled_later_is_the_same_page(self) -> None:
        """A page shell filled with a picture equals rendering the data that holds the picture."""
        data = build_report(load_groups(FINRA)[0])
        picture = Picture(svg='<svg xmlns="http://www.w3.org/2000/svg"><g id="node-n0" class="node"/></svg>')
        assert report_shell(data).fill(picture) == render_report(data.with_picture(picture))
        assert has_picture(render_report(data.with_picture(picture)))

    def test_source_reused_gives_the_same_report(self) -> None:
        """Passing the graph source built first gives the same data as letting ``build_report`` build it."""
        group = load_groups(FINRA)[0]
        a = build_report(group, direction="LR")
        b = build_report(group, source=graph_source(group, direction="LR"))
        assert replace(a, spine_version="") == replace(b, spine_version="")

    def test_source_of_another_group_is_refused(self) -> None:
        """A graph source built for another group is a ValueError, not a wrong picture."""
        group = load_groups(FINRA)[0]
        other = PipelineGroup(name="other", steps=(PipelineStep("a", "p"),))
        with pytest.raises(ValueError, match="other"):
            build_report(group, source=graph_source(other))

    def test_refused_svg_shows_the_sources_and_why(self) -> None:
        """An SVG holding a script is not inlined: the page says why and keeps the Mermaid source."""
        data = build_report(load_groups(FINRA)[0])
        evil = Picture(svg='<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
        page = render_report(data.with_picture(evil))
        assert not has_picture(page) and "<script>alert" not in page
        assert "the SVG holds a <script> element" in element_text(page, "no-svg")

    @pytest.mark.needs_dot
    def test_write_report_awaits_a_running_drawing(self, tmp_path: Path, dot_exe: str) -> None:
        """``write_report`` given a drawing still running writes the page with that drawing's picture."""
        data = build_report(load_groups(FINRA)[0])
        with Graphviz(dot_exe) as gv:
            drawing = gv.draw(data.graph.dot)
            path = write_report(tmp_path / "r.html", data, drawing)
        assert path.read_text(encoding="utf-8") == render_report(data.with_picture(drawing.result()))
        assert has_picture(path.read_text(encoding="utf-8"))

    def test_write_site_refuses_unpaired_pictures(self, tmp_path: Path) -> None:
        """``write_site`` with a number of pictures other than the number of reports is a ValueError."""
        data = build_report(PipelineGroup(name="g", steps=(PipelineStep("a", "p"),)))
        with pytest.raises(ValueError, match="1 reports"):
            write_site(tmp_path, [data], pictures=[])

    def test_write_site_puts_each_picture_on_its_page(self, tmp_path: Path) -> None:
        """Each page of a site gets the picture given for its report."""
        reports = [build_report(PipelineGroup(name=n, steps=(PipelineStep("a", "p"),))) for n in ("one", "two")]
        pictures = [Picture(svg=f'<svg xmlns="http://www.w3.org/2000/svg"><title>{n}</title></svg>') for n in ("one", "two")]
        write_site(tmp_path, reports, pictures)
        for n in ("one", "two"):
            assert f"<title>{n}</title></svg>" in (tmp_path / f"{n}.html").read_text(encoding="utf-8")


class TestLegendAndWhy:
    def test_legend_lists_only_the_marks_the_graph_has(self) -> None:
        """A valid chain has the critical path only; a cycle with a missing dependency adds both, in legend order."""
        chain = build_report(load_groups(FINRA)[0])
        assert chain.graph.marks == (Mark.CRITICAL,)
        broken = PipelineGroup(name="b", steps=(PipelineStep("a", "p", depends_on=("b", "nope")), PipelineStep("b", "p", depends_on=("a",))))
        assert build_report(broken).graph.marks == (Mark.CYCLE, Mark.MISSING)
        page = render_report(build_report(broken))
        assert text(element_text(page, "legend")).startswith("cycle missing dependency —")

    def test_cycle_names_the_steps_in_and_behind_it(self) -> None:
        """Steps of a cycle and steps depending on one are listed apart; the ordered rest is not."""
        group = PipelineGroup(
            name="g",
            steps=(PipelineStep("a", "p", depends_on=("b",)), PipelineStep("b", "p", depends_on=("a",)), PipelineStep("c", "p", depends_on=("a",)), PipelineStep("d", "p")),
        )
        data = build_report(group)
        assert (data.in_cycle, data.behind_cycle, data.generations) == (("a", "b"), ("c",), (("d",),))
        why = text(element_text(render_report(data), "generations-why"))
        assert why == "The graph has a cycle: 3 steps cannot be ordered and are left out below. In the cycle: a, b. Depending on it: c. Break the cycle (see the findings) to order them."

    def test_valid_group_has_no_why(self) -> None:
        """A valid group's page has no note about generations or the critical path."""
        page = render_report(build_report(load_groups(FINRA)[0]))
        assert 'id="generations-why"' not in page and 'id="critical-path-why"' not in page


class TestIndex:
    def test_index_shows_the_first_error_of_an_invalid_group(self, tmp_path: Path) -> None:
        """The index row of an invalid group shows its first error (code, place, message); a valid group's shows nothing."""
        path = tmp_path / "broken.yaml"
        path.write_text(INVALID_YAML)
        (lg,) = scan([path])
        findings = validate_group(lg.group)
        bad = build_report(lg.group, findings=findings)
        good = build_report(load_groups(FINRA)[0])
        page = write_site(tmp_path / "site", [bad, good]).read_text(encoding="utf-8")
        cells = [text(c) for c in re.findall(r'<td class="first[^"]*">(.*?)</td>', page, re.S)]
        first = bad.first_problem
        assert first is not None and first.severity.value == "error"
        assert cells == [f"error {first.code} {first.location} {first.message}", ""]

    def test_first_problem_prefers_errors_to_warnings(self) -> None:
        """A group's first problem is its first error in file order even when a warning comes earlier."""
        from spine.core.findings import Finding, Severity

        warn = Finding("w", "a warning", Severity.WARNING, line=1)
        err = Finding("e", "an error", Severity.ERROR, line=9)
        data = build_report(PipelineGroup(name="g", steps=(PipelineStep("a", "p"),)), findings=[warn, err])
        assert data.first_problem == err
        assert build_report(PipelineGroup(name="g", steps=(PipelineStep("a", "p"),)), findings=[warn]).first_problem == warn


class TestDotSetting:
    def test_report_runs_the_configured_dot(self, in_tmp: Path, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
        """``[tool.spine] dot`` names the program the report runs (here a stand-in that records its call)."""
        import stat

        monkeypatch.delenv("SPINE_DOT", raising=False)  # it would win over the file

        marker = in_tmp / "called"
        fake = in_tmp / "bin" / "mydot"
        fake.parent.mkdir()
        fake.write_text(f"#!/bin/sh\ncat > /dev/null\necho \"$@\" > {marker}\necho '<svg xmlns=\"http://www.w3.org/2000/svg\"><title>fake</title></svg>'\n")
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
        (in_tmp / "spine.toml").write_text('dot = "bin/mydot"\n')
        code, _, err = invoke("group", "report", str(FINRA), "-o", "r.html", *ALL_PARAMS)
        assert code == 0, err
        assert marker.read_text().strip() == "-Tsvg"
        assert "<title>fake</title>" in (in_tmp / "r.html").read_text(encoding="utf-8")
