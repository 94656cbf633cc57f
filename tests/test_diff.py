"""The plan diff library (spine.diff.compare) and its renderers (render.diff_render)."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from dataclasses import replace
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spine.diff.compare import (
    MAX_RENAME_CANDIDATES,
    Change,
    DiffReport,
    Edge,
    GroupDiff,
    KeyChange,
    StepRef,
    diff_groups,
    diff_sets,
    same,
)
from spine.orchestration import PipelineGroup, PipelineStep
from spine.render.diff_render import (
    diff_dot,
    diff_mermaid,
    html_sources,
    render_html,
    render_json,
    render_markdown,
    render_text,
)
from spine.render.mermaid import SPLIT
from spine.render.svg import draw_svg
from spine.testing import groups


def drawn_html(r: DiffReport, dot: str) -> str:
    """The HTML page of ``r`` with each changed group's merged graph drawn by the Graphviz program ``dot``."""
    return render_html(r, pictures=[draw_svg(source, dot) for source in html_sources(r)])


HOSTILE = ["<script>alert(1)</script>", 'say "hi"', "a|b", "x --> y", "`tick` *b* [l](u)", "&amp; 'q'"]


def base() -> PipelineGroup:
    return (
        PipelineGroup(name="demo.g", domain="demo", description="a demo", tags=("t1",), defaults={"tier": "T1"})
        .add("ingest", "x.ingest", params={"source": "api"})
        .add("normalize", "x.normalize", depends_on=["ingest"])
        .add("aggregate", "x.aggregate", depends_on=["normalize"], params={"window": 4})
        .add("share", "x.share", depends_on=["normalize"])
    )


def with_steps(group: PipelineGroup, *steps: PipelineStep) -> PipelineGroup:
    return replace(group, steps=tuple(steps))


def step(group: PipelineGroup, which: str, **changes) -> PipelineStep:
    return replace(group.step(which), **changes)


def report(old: PipelineGroup | None, new: PipelineGroup | None) -> DiffReport:
    return DiffReport("old.yaml", "new.yaml", (diff_groups(old, new),))


def hostile_pair() -> tuple[PipelineGroup, PipelineGroup]:
    """An old and a new group whose every step name is hostile, with every kind of change."""
    old = PipelineGroup(name="h.g")
    for i, name in enumerate(HOSTILE):
        old = old.add(name, f"p.{i}", depends_on=[HOSTILE[i - 1]] if i else [])
    steps = list(old.steps)
    steps[1] = replace(steps[1], name="<img src=x onerror=alert(2)>")  # renamed
    steps[2] = replace(steps[2], depends_on=("<img src=x onerror=alert(2)>",), params={"k|<b>": "v\"</td>"})
    steps[3] = replace(steps[3], pipeline="p.<new>")
    del steps[5]  # removed
    steps.append(PipelineStep("--> ]] \"end\"", "p.added", depends_on=(HOSTILE[0], "ghost <dep>")))
    return old, with_steps(old, *steps)


class TestUnchanged:
    def test_equal_groups_are_unchanged(self) -> None:
        """Two equal groups give an unchanged diff with no entries."""
        d = diff_groups(base(), base())
        assert d.change is Change.UNCHANGED and not d.changed
        assert all(v == 0 for v in d.counts().values())

    def test_unchanged_graph_marks_everything_unchanged(self) -> None:
        """The merged graph of an unchanged group marks every node and edge unchanged."""
        d = diff_groups(base(), base())
        assert {n.change for n in d.graph.nodes} == {Change.UNCHANGED}
        assert {e.change for e in d.graph.edges} == {Change.UNCHANGED}
        assert len(d.graph.nodes) == 4 and len(d.graph.edges) == 3

    def test_results_are_frozen(self) -> None:
        """Diff results are frozen dataclasses."""
        d = diff_groups(base(), base())
        with pytest.raises(dataclasses.FrozenInstanceError):
            d.name = "other"  # type: ignore[misc]

    def test_inputs_are_not_modified(self) -> None:
        """Diffing leaves both groups as they were."""
        old, new = base(), base().add("extra", "x.extra", depends_on=["share"])
        before = (old.to_dict(), new.to_dict())
        diff_groups(old, new)
        assert (old.to_dict(), new.to_dict()) == before


class TestSteps:
    def test_added_step(self) -> None:
        """A step only in NEW is added, with its pipeline, and its dependency edge is added."""
        d = diff_groups(base(), base().add("publish", "x.publish", depends_on=["aggregate"]))
        assert d.added_steps == (StepRef("publish", "x.publish"),)
        assert d.added_edges == (Edge("aggregate", "publish"),)
        assert d.change is Change.CHANGED

    def test_removed_step(self) -> None:
        """A step only in OLD is removed, and so is its dependency edge."""
        old = base()
        d = diff_groups(old, with_steps(old, *old.steps[:3]))
        assert d.removed_steps == (StepRef("share", "x.share"),)
        assert d.removed_edges == (Edge("normalize", "share"),)
        assert not d.added_steps

    def test_rename_is_paired(self) -> None:
        """A step renamed (same pipeline and params, same neighbours) is reported as a rename only."""
        old = base()
        new = with_steps(
            old,
            old.steps[0],
            step(old, "normalize", name="clean"),
            step(old, "aggregate", depends_on=("clean",)),
            step(old, "share", depends_on=("clean",)),
        )
        d = diff_groups(old, new)
        assert [(r.old, r.new) for r in d.renamed_steps] == [("normalize", "clean")]
        assert d.renamed_steps[0].similarity == 1.0
        assert not d.added_steps and not d.removed_steps

    def test_rename_keeps_edges_unchanged(self) -> None:
        """Renaming a step does not report its edges as added or removed."""
        old = base()
        new = with_steps(old, old.steps[0], step(old, "normalize", name="clean"), step(old, "aggregate", depends_on=("clean",)), step(old, "share", depends_on=("clean",)))
        d = diff_groups(old, new)
        assert not d.added_edges and not d.removed_edges

    def test_rename_needs_equal_params(self) -> None:
        """A removed and an added step with different params are not a rename."""
        old = base()
        new = with_steps(old, *old.steps[:2], step(old, "aggregate", name="agg", params={"window": 8}), old.steps[3])
        d = diff_groups(old, new)
        assert not d.renamed_steps
        assert [s.name for s in d.added_steps] == ["agg"] and [s.name for s in d.removed_steps] == ["aggregate"]

    def test_rename_needs_the_same_pipeline(self) -> None:
        """A removed and an added step calling different pipelines are not a rename."""
        old = base()
        new = with_steps(old, *old.steps[:3], step(old, "share", name="venue_share", pipeline="x.venue"))
        assert not diff_groups(old, new).renamed_steps

    def test_rename_needs_similar_neighbours(self) -> None:
        """Same pipeline and params but unrelated dependencies are not a rename."""
        old = base()
        new = with_steps(old, *old.steps[:3], step(old, "share", name="share2", depends_on=("aggregate", "ingest")))
        d = diff_groups(old, new)
        assert not d.renamed_steps
        assert [s.name for s in d.added_steps] == ["share2"]

    def test_chain_of_renames_is_found(self) -> None:
        """Renaming a step and its dependent is found link by link, with no edge changes."""
        old = PipelineGroup(name="c").add("a", "p.a").add("b", "p.b", depends_on=["a"]).add("c", "p.c", depends_on=["b"])
        new = PipelineGroup(name="c").add("a", "p.a").add("b2", "p.b", depends_on=["a"]).add("c2", "p.c", depends_on=["b2"])
        d = diff_groups(old, new)
        assert [(r.old, r.new) for r in d.renamed_steps] == [("b", "b2"), ("c", "c2")]
        assert not d.added_edges and not d.removed_edges

    def test_best_rename_wins_between_look_alikes(self) -> None:
        """Of two added look-alikes, the one with the same neighbours is paired."""
        old = PipelineGroup(name="g").add("a", "p.a").add("z", "p.z").add("m", "p.m", depends_on=["a"])
        new = PipelineGroup(name="g").add("a", "p.a").add("z", "p.z").add("m1", "p.m", depends_on=["z"]).add("m2", "p.m", depends_on=["a"])
        d = diff_groups(old, new)
        assert [(r.old, r.new) for r in d.renamed_steps] == [("m", "m2")]
        assert [s.name for s in d.added_steps] == ["m1"]

    def test_huge_look_alike_class_is_left_unpaired(self) -> None:
        """Past MAX_RENAME_CANDIDATES look-alike pairs, steps are reported as added and removed, quickly."""
        n = int(MAX_RENAME_CANDIDATES**0.5) + 1
        old = PipelineGroup(name="g", steps=tuple(PipelineStep(f"a{i}", "same") for i in range(n)))
        new = PipelineGroup(name="g", steps=tuple(PipelineStep(f"b{i}", "same") for i in range(n)))
        d = diff_groups(old, new)
        assert not d.renamed_steps and len(d.added_steps) == len(d.removed_steps) == n

    def test_changed_pipeline(self) -> None:
        """A step calling another pipeline reports the old and the new pipeline."""
        old = base()
        new = with_steps(old, *old.steps[:3], step(old, "share", pipeline="x.share_v2"))
        (sc,) = diff_groups(old, new).changed_steps
        assert sc.name == "share"
        assert sc.pipeline == KeyChange("pipeline", Change.CHANGED, "x.share", "x.share_v2")

    def test_changed_params_per_key(self) -> None:
        """Param keys added, removed and changed are reported with old and new values."""
        old = replace(base(), steps=(PipelineStep("s", "p", params={"keep": 1, "drop": "x", "edit": [1, 2]}),))
        new = replace(base(), steps=(PipelineStep("s", "p", params={"keep": 1, "edit": [1, 3], "new": {"a": 1}}),))
        (sc,) = diff_groups(old, new).changed_steps
        assert sc.params == (
            KeyChange("drop", Change.REMOVED, old="x"),
            KeyChange("edit", Change.CHANGED, (1, 2), (1, 3)),
            KeyChange("new", Change.ADDED, new={"a": 1}),
        )

    def test_changed_description(self) -> None:
        """A step's description change is reported."""
        old = base()
        new = with_steps(old, *old.steps[:3], step(old, "share", description="now described"))
        (sc,) = diff_groups(old, new).changed_steps
        assert sc.description == KeyChange("description", Change.ADDED, None, "now described")

    def test_changed_run_keys(self) -> None:
        """A step's own retries and timeout changes are reported as run keys, and shown by every renderer."""
        old = base()
        new = with_steps(old, *old.steps[:3], step(old, "share", retries=2, timeout_seconds=30))
        r = report(old, new)
        (sc,) = r.groups[0].changed_steps
        assert sc.run_keys == (
            KeyChange("retries", Change.ADDED, None, 2),
            KeyChange("timeout_seconds", Change.ADDED, None, 30),
        )
        assert sc.to_dict()["run_keys"][0] == {"key": "retries", "change": "added", "new": 2}
        for text in (render_text(r), render_markdown(r), render_html(r)):
            assert "timeout" in text and "retries" in text

    def test_changed_pool_and_guard(self) -> None:
        """A step's pool and the policy's pool and max_active_runs are reported when they change."""
        old = base()
        new = with_steps(old, *old.steps[:3], step(old, "share", pool="warehouse"))
        new = new.with_policy(max_active_runs=2)
        d = diff_groups(old, new)
        (sc,) = d.changed_steps
        assert sc.run_keys == (KeyChange("pool", Change.ADDED, None, "warehouse"),)
        assert [c.key for c in d.policy] == ["max_active_runs"]

    def test_renamed_step_with_a_new_description_is_also_changed(self) -> None:
        """A renamed step whose description changed is both renamed and changed, under its new name."""
        old = base()
        new = with_steps(old, *old.steps[:3], step(old, "share", name="share2", description="d"))
        d = diff_groups(old, new)
        assert [(r.old, r.new) for r in d.renamed_steps] == [("share", "share2")]
        assert [(c.name, c.old_name) for c in d.changed_steps] == [("share2", "share")]

    def test_values_compare_strictly(self) -> None:
        """1, 1.0 and true are different param values; NaN equals NaN."""
        assert not same(1, True) and not same(1, 1.0) and not same({"a": [1]}, {"a": [True]})
        assert same(float("nan"), float("nan")) and same({"a": [1, {"b": None}]}, {"a": (1, {"b": None})})
        assert same(MappingProxyType({"a": 1}), {"a": 1})
        old = with_steps(base(), PipelineStep("s", "p", params={"n": 1}))
        new = with_steps(base(), PipelineStep("s", "p", params={"n": True}))
        assert diff_groups(old, new).changed_steps[0].params == (KeyChange("n", Change.CHANGED, 1, True),)

    def test_declaration_order_change(self) -> None:
        """Declaring the same steps in another order is a change (plan ties may differ)."""
        old = base()
        d = diff_groups(old, with_steps(old, old.steps[0], old.steps[1], old.steps[3], old.steps[2]))
        assert d.order_changed and d.change is Change.CHANGED
        assert d.counts() == {k: 0 for k in d.counts()}


class TestEdges:
    def test_added_and_removed_edges(self) -> None:
        """Changing a step's dependencies adds and removes edges, in NEW and OLD names."""
        old = base()
        new = with_steps(old, *old.steps[:3], step(old, "share", depends_on=("aggregate",)))
        d = diff_groups(old, new)
        assert d.added_edges == (Edge("aggregate", "share"),)
        assert d.removed_edges == (Edge("normalize", "share"),)
        assert not d.changed_steps

    def test_missing_dependency_becomes_ghost_node(self) -> None:
        """A dependency naming no step on either side is a ghost node in the merged graph."""
        old = base()
        new = with_steps(old, *old.steps[:3], step(old, "share", depends_on=("normalize", "nowhere")))
        d = diff_groups(old, new)
        ghosts = [n for n in d.graph.nodes if n.ghost]
        assert [(n.name, n.change) for n in ghosts] == [("nowhere", Change.ADDED)]
        assert d.added_edges == (Edge("nowhere", "share"),)


class TestSettings:
    def test_changed_defaults(self) -> None:
        """Group defaults added, removed and changed are reported per key."""
        new = replace(base(), defaults={"tier": "T2", "force": False})
        assert diff_groups(base(), new).defaults == (
            KeyChange("tier", Change.CHANGED, "T1", "T2"),
            KeyChange("force", Change.ADDED, new=False),
        )

    def test_changed_policy(self) -> None:
        """Every changed policy field is reported with plain old and new values."""
        new = base().with_policy(execution="parallel", max_concurrency=8, on_failure="continue", timeout_minutes=30)
        assert diff_groups(base(), new).policy == (
            KeyChange("execution", Change.CHANGED, "sequential", "parallel"),
            KeyChange("max_concurrency", Change.CHANGED, 4, 8),
            KeyChange("on_failure", Change.CHANGED, "stop", "continue"),
            KeyChange("timeout_minutes", Change.ADDED, None, 30),
        )

    def test_changed_policy_run_keys(self) -> None:
        """The policy's retries, retry delay and step timeout are compared like its other fields."""
        new = base().with_policy(retries=3, retry_delay_seconds=5, timeout_seconds=60)
        assert diff_groups(base(), new).policy == (
            KeyChange("retries", Change.CHANGED, 0, 3),
            KeyChange("retry_delay_seconds", Change.CHANGED, 0, 5),
            KeyChange("timeout_seconds", Change.ADDED, None, 60),
        )

    def test_changed_metadata(self) -> None:
        """Version, domain, description and tags changes are metadata changes."""
        new = replace(base(), version=2, domain=None, description="new words", tags=("t1", "t2"))
        assert diff_groups(base(), new).metadata == (
            KeyChange("version", Change.CHANGED, 1, 2),
            KeyChange("domain", Change.REMOVED, "demo", None),
            KeyChange("description", Change.CHANGED, "a demo", "new words"),
            KeyChange("tags", Change.CHANGED, ["t1"], ["t1", "t2"]),
        )


class TestGroups:
    def test_added_group(self) -> None:
        """A group only in NEW is added: all its steps and edges are added."""
        d = diff_groups(None, base())
        assert d.change is Change.ADDED and d.name == "demo.g"
        assert len(d.added_steps) == 4 and len(d.added_edges) == 3

    def test_removed_group(self) -> None:
        """A group only in OLD is removed: all its steps and edges are removed."""
        d = diff_groups(base(), None)
        assert d.change is Change.REMOVED
        assert len(d.removed_steps) == 4 and len(d.removed_edges) == 3
        assert {n.change for n in d.graph.nodes} == {Change.REMOVED}

    def test_two_absent_groups_are_an_error(self) -> None:
        """diff_groups needs at least one group."""
        with pytest.raises(ValueError):
            diff_groups(None, None)

    def test_sets_match_by_name(self) -> None:
        """diff_sets pairs groups by name and reports groups only on one side."""
        a, b, c = base(), replace(base(), name="b"), replace(base(), name="c")
        diffs = diff_sets([a, b], [replace(a, version=3), c])
        assert [(d.name, d.change) for d in diffs] == [("demo.g", Change.CHANGED), ("b", Change.REMOVED), ("c", Change.ADDED)]

    def test_sets_do_not_pair_different_names_by_default(self) -> None:
        """Without pair_single, one group on each side with different names is a removal and an addition."""
        diffs = diff_sets([base()], [replace(base(), name="other")])
        assert [d.change for d in diffs] == [Change.REMOVED, Change.ADDED]

    def test_sets_pair_single_renamed_group(self) -> None:
        """With pair_single, one group on each side is compared even when renamed."""
        (d,) = diff_sets([base()], [replace(base(), name="other")], pair_single=True)
        assert d.name == "other" and d.old_name == "demo.g"
        assert d.metadata == (KeyChange("name", Change.CHANGED, "demo.g", "other"),)


class TestJson:
    def test_to_dict_is_plain_json(self) -> None:
        """to_dict gives JSON-able data carrying every kind of change."""
        old, new = hostile_pair()
        data = json.loads(json.dumps(report(old, new).to_dict()))
        g = data["groups"][0]
        assert data["changed"] is True and g["change"] == "changed"
        assert g["renamed_steps"][0]["old"] == HOSTILE[1]
        assert {"added_steps", "removed_steps", "changed_steps", "added_edges", "removed_edges", "graph"} <= g.keys()

    def test_render_json_is_to_dict(self) -> None:
        """The JSON renderer prints exactly to_dict (one serialisation path)."""
        r = report(base(), base().add("p", "x.p"))
        assert json.loads(render_json(r)) == json.loads(json.dumps(r.to_dict()))

    def test_parts_read_back_from_their_dicts(self) -> None:
        """The merged graph, step changes, added steps and edges read back from their own to_dict (one encoder)."""
        from spine.diff.compare import MergedGraph, StepChange

        old, new = hostile_pair()
        d = diff_groups(old, new)
        assert MergedGraph.from_dict(d.graph.to_dict()) == d.graph
        assert [StepChange.from_dict(c.to_dict()) for c in d.changed_steps] == list(d.changed_steps)
        assert [StepRef.from_dict(s.to_dict()) for s in d.added_steps] == list(d.added_steps)
        assert [Edge.from_dict(e.to_dict()) for e in d.added_edges] == list(d.added_edges)

    def test_key_change_omits_the_absent_side(self) -> None:
        """An added key has no 'old', a removed key no 'new'."""
        assert KeyChange("k", Change.ADDED, new=1).to_dict() == {"key": "k", "change": "added", "new": 1}
        assert KeyChange("k", Change.REMOVED, old=1).to_dict() == {"key": "k", "change": "removed", "old": 1}


class TestText:
    def test_text_lists_each_kind_of_change(self) -> None:
        """The text form marks added, removed, renamed and changed steps and edges."""
        old, new = hostile_pair()
        text = render_text(report(old, new))
        assert "R " + HOSTILE[1] + " → <img src=x onerror=alert(2)>" in text
        assert f"- {HOSTILE[5]}  [p.5]" in text
        assert "params.k|<b> = " in text
        assert "1 group changed" in text

    def test_text_applies_the_escape_function(self) -> None:
        """Every user string goes through the escape callable."""
        old = PipelineGroup(name="g").add("a", "p")
        new = PipelineGroup(name="g").add("a", "p").add("bad\x1b[31mname", "p.\u202e")
        text = render_text(report(old, new))
        assert "\x1b" not in text and "\u202e" not in text
        assert "bad\\u001b[31mname" in text

    def test_text_without_changes_says_so(self) -> None:
        """An unchanged report says 'no changes'."""
        assert render_text(report(base(), base())).rstrip().endswith("no changes")


class TestMarkdown:
    def test_mentions_and_issue_links_are_neutralised(self) -> None:
        """An ``@name`` or ``#123`` in a step name or value can neither ping anyone nor link an issue."""
        old = PipelineGroup(name="g").add("a", "p", params={"owner": "@octocat"})
        new = PipelineGroup(name="g").add("a", "p", params={"owner": "@org/team"}).add("fix #123 @here", "p")
        text = render_markdown(report(old, new)).split("```mermaid", 1)[0]
        assert "octocat" in text and "here" in text
        assert not re.search(r"@\w", text)
        assert not re.search(r"#\d", text)

    def test_hostile_names_are_escaped_in_markdown(self) -> None:
        """No hostile name reaches the markdown unescaped: no raw tags, no bare pipes in table rows."""
        old, new = hostile_pair()
        text = render_markdown(report(old, new))
        assert "<script" not in text and "<img" not in text and "<b>" not in text
        for line in text.splitlines():
            if line.startswith("|") and not line.startswith("|---"):
                cells = re.split(r"(?<!\\)\|", line)[1:-1]
                assert len(cells) in (3, 4, 5), line

    def test_markdown_has_a_mermaid_merged_graph(self) -> None:
        """The markdown form carries the merged graph as a Mermaid block."""
        old, new = hostile_pair()
        text = render_markdown(report(old, new))
        block = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
        assert block.startswith("flowchart TB")
        assert "classDef added" in block and "classDef removed" in block

    def test_mermaid_labels_cannot_break_syntax(self) -> None:
        """Mermaid labels hold no quote, bracket, arrow or tag from a name."""
        old, new = hostile_pair()
        block = diff_mermaid(diff_groups(old, new))
        for label in re.findall(r'\["(.*)"\]', block):
            assert not re.search(r'["\[\]<>|`]|-->', label.replace("<br/><small>", "").replace("</small>", "")), label

    def test_mermaid_marks_changes(self) -> None:
        """Removed edges are dashed and red, added ones green, renamed nodes labelled old → new."""
        old, new = hostile_pair()
        d = diff_groups(old, new)
        block = diff_mermaid(d, direction="LR")
        removed = [i for i, e in enumerate(d.graph.edges) if e.change is Change.REMOVED]
        added = [i for i, e in enumerate(d.graph.edges) if e.change is Change.ADDED]
        assert f"linkStyle {','.join(map(str, removed))} stroke:#d1242f" in block
        assert f"linkStyle {','.join(map(str, added))} stroke:#1a7f37" in block
        assert "#8594;" in block and ":::renamed" in block and "-.->" in block
        assert block.startswith("flowchart LR")

    def test_unchanged_markdown_says_no_changes(self) -> None:
        """An unchanged report renders a one-line verdict and no graph."""
        text = render_markdown(report(base(), base()))
        assert "No changes" in text and "mermaid" not in text


class TestDotAndHtml:
    @pytest.mark.needs_dot
    def test_dot_of_hostile_names_passes_real_dot(self, dot_exe: str) -> None:
        """The merged graph's DOT, hostile names included, is accepted by Graphviz dot."""
        old, new = hostile_pair()
        for direction in ("TB", "LR"):
            dot = diff_dot(diff_groups(old, new), direction=direction)
            proc = subprocess.run([dot_exe, "-Tsvg"], input=dot.encode(), capture_output=True, timeout=30, check=False)
            assert proc.returncode == 0, proc.stderr.decode()
            assert b"<script" not in proc.stdout

    @pytest.mark.needs_dot
    def test_backslashes_and_entities_stay_literal_in_svg(self, dot_exe: str) -> None:
        """Names with backslash escapes and entities reach the SVG as written, not expanded."""
        old = PipelineGroup(name="g").add("a", "p.a")
        new = old.add("x\\N &amp; \\G", "p.b", depends_on=["a"])
        page = drawn_html(report(old, new), dot_exe)
        svg = page[page.index("<svg") : page.index("</svg>")]
        assert "x\\N &amp;amp; \\G" in re.findall(r"<text[^>]*>([^<]*)</text>", svg)
        assert 'xlink:title="x\\N &amp;amp; \\G"' in svg

    def test_dot_marks_changes(self) -> None:
        """Removed nodes and edges are dashed and red; added edges green."""
        old, new = hostile_pair()
        dot = diff_dot(diff_groups(old, new))
        assert re.search(r'-> n\d+ \[class=removed color="#d1242f" [^\]]*style=dashed\]', dot)
        assert re.search(r'class="step removed" color="#d1242f" [^\]]*style="rounded,filled,dashed"', dot)
        assert re.search(r'-> n\d+ \[class=added color="#1a7f37"', dot)
        assert "<s>" in dot  # renamed: the old name struck through

    @pytest.mark.needs_dot
    def test_html_is_self_contained_and_escaped(self, dot_exe: str) -> None:
        """The HTML page inlines an SVG, requests nothing, and has no script from any name."""
        old, new = hostile_pair()
        page = drawn_html(report(old, new), dot_exe)
        assert re.search(r'<div class="svg-wrap"><svg[ >]', page)
        assert "<script" not in page.lower() and "<img" not in page
        assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:|//)""", page)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    def test_html_falls_back_to_mermaid_without_dot(self, tmp_path) -> None:
        """Without Graphviz the page says why and shows the Mermaid source, escaped."""
        old, new = hostile_pair()
        page = drawn_html(report(old, new), dot=str(tmp_path / "no-dot-here"))
        assert "<svg" not in page and "cannot run Graphviz `dot`" in page and "no-dot-here" in page
        assert "flowchart TB" in page and "<script" not in page.lower()

    def test_html_without_pictures_says_they_were_not_drawn(self) -> None:
        """``render_html`` without pictures runs nothing: each group says its picture was not drawn and shows Mermaid."""
        old, new = hostile_pair()
        page = render_html(report(old, new))
        assert "<svg" not in page and "The picture was not drawn." in page
        assert "flowchart TB" in page

    def test_html_legend_lists_only_the_changes_present(self) -> None:
        """A diff that only adds a step shows the legend entry for 'added' and no other."""
        page = render_html(report(base(), base().add("publish", "x.publish", depends_on=["share"])))
        assert re.findall(r'<span class="k (\w+)">', page) == ["added"]

    def test_html_refuses_pictures_that_do_not_pair_with_groups(self) -> None:
        """Giving a number of pictures other than the number of changed groups is a ValueError."""
        old, new = hostile_pair()
        with pytest.raises(ValueError, match="1 changed groups"):
            render_html(report(old, new), pictures=[])

    def test_html_for_no_change(self) -> None:
        """An unchanged report renders a 'no change' page listing the group."""
        page = render_html(report(base(), base()))
        assert "no change" in page and "demo.g" in page and "<svg" not in page


def _edge_set(g: PipelineGroup) -> set[tuple[str, str]]:
    return {(d, s.name) for s in g.steps for d in s.depends_on}


@st.composite
def edited_pairs(draw: st.DrawFn, max_steps: int = 6) -> tuple[PipelineGroup, PipelineGroup]:
    """A group and an edited copy: steps removed, renamed, re-pointed and added."""
    old = draw(groups(max_steps=max_steps))
    names = old.step_names
    removed = set(draw(st.lists(st.sampled_from(names), max_size=len(names) - 1, unique=True)))
    renamed = {n: f"{n} v2" for n in draw(st.lists(st.sampled_from(names), unique=True)) if n not in removed}
    repointed = set(draw(st.lists(st.sampled_from(names), unique=True)))
    steps = []
    for s in old.steps:
        if s.name in removed:
            continue
        deps = tuple(renamed.get(d, d) for d in s.depends_on if d not in removed or draw(st.booleans()))
        pipeline = s.pipeline + ".v2" if s.name in repointed else s.pipeline
        steps.append(replace(s, name=renamed.get(s.name, s.name), depends_on=deps, pipeline=pipeline))
    if draw(st.booleans()):
        deps = draw(st.lists(st.sampled_from([s.name for s in steps]), unique=True, max_size=2))
        steps.append(PipelineStep("<new> | step", "p.new", depends_on=tuple(deps)))
    return old, replace(old, steps=tuple(steps))


_FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestProperties:
    @_FAST
    @given(groups(max_steps=8))
    def test_a_group_equals_itself(self, g: PipelineGroup) -> None:
        """Any group diffed with itself is unchanged."""
        assert diff_groups(g, g).change is Change.UNCHANGED

    @_FAST
    @given(edited_pairs())
    def test_merged_graph_holds_both_sides(self, pair: tuple[PipelineGroup, PipelineGroup]) -> None:
        """The merged graph has a node per step of either side and exactly each side's edges."""
        old, new = pair
        d = diff_groups(old, new)
        nodes = {n.id: n for n in d.graph.nodes}
        assert {n.name for n in d.graph.nodes if n.change is not Change.REMOVED and not n.ghost} == set(new.step_names)
        old_names = {n.old_name or n.name for n in d.graph.nodes if n.change is not Change.ADDED and not n.ghost}
        assert old_names == set(old.step_names)
        kept = {(nodes[e.source].name, nodes[e.target].name) for e in d.graph.edges if e.change is not Change.REMOVED}
        assert kept == _edge_set(new)
        assert sum(e.change is not Change.ADDED for e in d.graph.edges) == len(_edge_set(old))

    @_FAST
    @given(groups(min_steps=2, max_steps=8), st.data())
    def test_renaming_one_step_is_one_rename(self, g: PipelineGroup, data: st.DataObject) -> None:
        """Renaming one step (and the references to it) is reported as exactly that rename."""
        victim = data.draw(st.sampled_from(g.step_names))
        fresh = victim + " (renamed)"
        steps = tuple(
            replace(s, name=fresh if s.name == victim else s.name, depends_on=tuple(fresh if x == victim else x for x in s.depends_on))
            for s in g.steps
        )
        d = diff_groups(g, replace(g, steps=steps))
        assert [(r.old, r.new) for r in d.renamed_steps] == [(victim, fresh)]
        assert d.counts() == {**{k: 0 for k in d.counts()}, "renamed_steps": 1}

    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @pytest.mark.needs_dot
    @given(edited_pairs())
    def test_any_merged_dot_passes_real_dot(self, dot_exe: str, pair: tuple[PipelineGroup, PipelineGroup]) -> None:
        """The merged graph of any edit (awkward names included) is valid DOT."""
        dot = diff_dot(diff_groups(*pair))
        proc = subprocess.run([dot_exe, "-Tsvg"], input=dot.encode(), capture_output=True, timeout=30, check=False)
        assert proc.returncode == 0, proc.stderr.decode()

    @_FAST
    @given(edited_pairs())
    def test_any_markdown_has_no_raw_html(self, pair: tuple[PipelineGroup, PipelineGroup]) -> None:
        """Markdown of any diff holds no raw '<' except the line breaks it writes itself and Mermaid's empty ``SPLIT`` spans."""
        text = render_markdown(DiffReport("a", "b", (diff_groups(*pair),)))
        assert "<" not in re.sub(r"</?(?:br/?|small)>", "", text.replace(SPLIT, ""))


def test_group_diff_defaults_describe_no_change() -> None:
    """A bare GroupDiff is unchanged only when marked so."""
    assert not GroupDiff("g", Change.UNCHANGED).changed
    assert GroupDiff("g", Change.ADDED).changed
