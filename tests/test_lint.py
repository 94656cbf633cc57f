"""``lint_group``: warnings with stable codes, positions and fixes; exact, bounded and fast."""

from __future__ import annotations

import ast
import random
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spine.core.findings import Finding, Severity
from spine.framework import ParamDef, PipelineRegistry, register_pipeline
from spine.orchestration import (
    PipelineGroup,
    PipelineStep,
    analyze,
    load_group_from_text,
)
from spine.lint.rules import LINT_CODES, Closure, lint_group

REPO = Path(__file__).resolve().parents[1]


def group_of(deps: Mapping[str, Sequence[str]], name: str = "g", **policy: object) -> PipelineGroup:
    """A DSL group with one step per key (in order) depending on its values."""
    g = PipelineGroup(
        name=name,
        steps=tuple(PipelineStep(n, f"p.{n}", params={"n": n}, depends_on=tuple(d)) for n, d in deps.items()),
    )
    return g.with_policy(**policy) if policy else g


def yaml_group(body: str) -> PipelineGroup:
    """A group from YAML text (``body`` is everything under ``spec:``), file ``g.yaml``."""
    head = "apiVersion: spine.io/v1\nkind: PipelineGroup\nmetadata:\n  name: g\nspec:\n"
    return load_group_from_text(head + body, file="g.yaml")


def codes(findings: Sequence[Finding]) -> list[str]:
    return [f.code for f in findings]


def of(findings: Sequence[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


def redundant_edges(findings: Sequence[Finding]) -> set[tuple[str, str]]:
    """(dependency, step) pairs that redundant-dependency reported."""
    out = set()
    for f in of(findings, "redundant-dependency"):
        m = re.match(r"step (.+?) depends on (.+?) both directly", f.message)
        assert m, f.message
        out.add((ast.literal_eval(m.group(2)), ast.literal_eval(m.group(1))))
    return out


@st.composite
def dag_deps(draw: st.DrawFn, max_nodes: int = 14) -> dict[str, list[str]]:
    """Random DAGs: step ``s<i>`` depends on a subset of earlier steps."""
    n = draw(st.integers(1, max_nodes))
    deps: dict[str, list[str]] = {}
    for i in range(n):
        earlier = draw(st.lists(st.integers(0, i - 1), unique=True, max_size=4)) if i else []
        deps[f"s{i}"] = [f"s{j}" for j in earlier]
    return deps


def graph_of(deps: Mapping[str, Sequence[str]]) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(deps)
    g.add_edges_from((d, s) for s, ds in deps.items() for d in ds)
    return g


class TestFindingShape:
    def test_every_finding_is_a_located_warning(self) -> None:
        """Lint findings are warnings with a known code, the group and a file position."""
        group = yaml_group(
            "  pipelines:\n"
            "    - {name: a, pipeline: p.a}\n"
            "    - {name: b, pipeline: p.b, depends_on: [a]}\n"
            "    - {name: c, pipeline: p.c, depends_on: [a, b]}\n"
        )
        findings = lint_group(group)
        assert findings
        for f in findings:
            assert f.severity is Severity.WARNING
            assert f.code in LINT_CODES
            assert f.group == "g" and f.file == "g.yaml"
            assert f.line is not None and f.column is not None

    def test_dsl_groups_have_no_positions(self) -> None:
        """A group built in Python gets findings without file or line."""
        findings = lint_group(group_of({"a": [], "b": ["a"], "c": ["a", "b"]}))
        assert codes(findings) == ["redundant-dependency"]
        assert findings[0].file is None and findings[0].line is None

    def test_findings_are_sorted_by_position(self) -> None:
        """Findings come in file order, whatever rule found them."""
        group = yaml_group(
            "  pipelines:\n"
            "    - {name: a, pipeline: p.a}\n"
            "    - {name: A, pipeline: p.x}\n"
            "    - {name: c, pipeline: p.c, depends_on: [a, b, a]}\n"
            "    - {name: b, pipeline: p.b, depends_on: [a]}\n"
            "  policy: {execution: parallel, max_concurrency: 9}\n"
        )
        findings = lint_group(group)
        lines = [(f.line, f.column) for f in findings]
        assert lines == sorted(lines)
        assert codes(findings) == [
            "confusable-step-names",
            "redundant-dependency",
            "duplicate-dependency",
            "max-concurrency-above-width",
        ]

    def test_a_clean_group_has_no_findings(self) -> None:
        """A diamond run in parallel with max_concurrency at its width lints clean."""
        group = yaml_group(
            "  pipelines:\n"
            "    - {name: a, pipeline: p.a}\n"
            "    - {name: b, pipeline: p.b, depends_on: [a]}\n"
            "    - {name: c, pipeline: p.c, depends_on: [a]}\n"
            "    - {name: d, pipeline: p.d, depends_on: [b, c]}\n"
            "  policy: {execution: parallel, max_concurrency: 2}\n"
        )
        assert lint_group(group) == []


class TestRedundantDependency:
    def test_points_at_the_redundant_item(self) -> None:
        """The finding sits on the depends_on item to remove and names the other path."""
        group = yaml_group(
            "  pipelines:\n"
            "    - name: ingest\n"
            "      pipeline: p.ingest\n"
            "    - name: clean\n"
            "      pipeline: p.clean\n"
            "      depends_on: [ingest]\n"
            "    - name: report\n"
            "      pipeline: p.report\n"
            "      depends_on: [clean, ingest]\n"
        )
        (f,) = lint_group(group)
        assert f.code == "redundant-dependency" and f.step == "report"
        assert (f.line, f.column) == (14, 27)
        assert "ingest -> clean -> report" in f.message
        assert "remove 'ingest' from its depends_on" in f.message

    def test_long_paths_are_elided(self) -> None:
        """A long implying path is shown with its ends and an ellipsis."""
        deps = {f"s{i}": ([f"s{i - 1}"] if i else []) for i in range(30)}
        deps["end"] = ["s29", "s0"]
        (f,) = lint_group(group_of(deps))
        assert "s0 -> … -> " in f.message and "s29 -> end" in f.message

    @settings(max_examples=80, deadline=None)
    @given(dag_deps())
    def test_matches_networkx_transitive_reduction(self, deps: dict[str, list[str]]) -> None:
        """Reported edges are exactly the edges networkx's transitive reduction drops."""
        g = graph_of(deps)
        expected = set(g.edges) - set(nx.transitive_reduction(g).edges)
        assert redundant_edges(lint_group(group_of(deps))) == expected

    @settings(max_examples=60, deadline=None)
    @given(dag_deps(max_nodes=40), st.integers(1, 6))
    def test_a_small_window_misses_but_never_invents(self, deps: dict[str, list[str]], window: int) -> None:
        """With ancestor bitsets cut to a window, every report is still a real redundancy."""
        g = graph_of(deps)
        expected = set(g.edges) - set(nx.transitive_reduction(g).edges)
        a = analyze(group_of(deps))
        closure = Closure(a.graph, a.order, 0, window=window)
        found = set()
        for n in a.order:
            for d in set(a.graph.pred[n]):
                others = [w for w in a.graph.pred[n] if w != d]
                if any(closure.has(closure.pos[w], closure.pos[d]) for w in others):
                    found.add((d, n))
        assert found <= expected
        if window >= len(a.order):
            assert found == expected

    def test_duplicate_items_are_not_also_redundant(self) -> None:
        """``[a, a]`` is a duplicate-dependency, not a redundant one."""
        findings = lint_group(group_of({"a": [], "b": ["a", "a"]}))
        assert codes(findings) == ["duplicate-dependency"]


class TestDuplicateDependency:
    def test_points_at_the_second_item(self) -> None:
        """The second copy of a name in depends_on is flagged, with item numbers."""
        group = yaml_group(
            "  pipelines:\n"
            "    - {name: a, pipeline: p.a}\n"
            "    - {name: b, pipeline: p.b, depends_on: [a, a]}\n"
        )
        (f,) = lint_group(group)
        assert f.code == "duplicate-dependency"
        assert (f.line, f.column) == (8, 48)
        assert "items 1 and 2" in f.message and "remove item 2" in f.message


class TestPolicy:
    def test_parallel_on_a_chain(self) -> None:
        """``parallel`` on a graph whose widest generation is 1 is flagged at spec.policy.execution."""
        group = yaml_group(
            "  pipelines:\n"
            "    - {name: a, pipeline: p.a}\n"
            "    - {name: b, pipeline: p.b, depends_on: [a]}\n"
            "  policy:\n"
            "    execution: parallel\n"
        )
        (f,) = lint_group(group)
        assert f.code == "parallel-on-chain"
        assert (f.line, f.column) == (10, 16)
        assert "a -> b" in f.message and "set execution: sequential" in f.message

    def test_single_step_parallel(self) -> None:
        """A one-step group in parallel says so."""
        (f,) = lint_group(group_of({"a": []}, execution="parallel"))
        assert f.code == "parallel-on-chain" and "single step" in f.message

    def test_sequential_chain_is_fine(self) -> None:
        """A chain run sequentially is not flagged."""
        assert lint_group(group_of({"a": [], "b": ["a"]})) == []

    def test_max_concurrency_above_width(self) -> None:
        """``max_concurrency`` above the most steps that can run at once is flagged with the number."""
        group = yaml_group(
            "  pipelines:\n"
            "    - {name: a, pipeline: p.a}\n"
            "    - {name: b, pipeline: p.b}\n"
            "    - {name: c, pipeline: p.c, depends_on: [a, b]}\n"
            "  policy:\n"
            "    execution: parallel\n"
            "    max_concurrency: 8\n"
        )
        (f,) = lint_group(group)
        assert f.code == "max-concurrency-above-width"
        assert (f.line, f.column) == (12, 22)
        assert "at most 2 steps" in f.message and "set max_concurrency: 2" in f.message

    def test_width_can_exceed_the_widest_generation(self) -> None:
        """A backbone with leaves runs 4 steps at once though no generation holds more than 2."""
        deps = {"s0": [], "s1": ["s0"], "s2": ["s1"], "s3": ["s2"], "l0": ["s0"], "l1": ["s1"], "l2": ["s2"]}
        a = analyze(group_of(deps))
        assert max(len(g) for g in a.generations) == 2
        assert lint_group(group_of(deps, execution="parallel", max_concurrency=4)) == []
        (f,) = lint_group(group_of(deps, execution="parallel", max_concurrency=5))
        assert "at most 4 steps" in f.message

    def test_default_max_concurrency_is_not_flagged(self) -> None:
        """The default max_concurrency (not written by the author) is left alone."""
        group = yaml_group(
            "  pipelines:\n"
            "    - {name: a, pipeline: p.a}\n"
            "    - {name: b, pipeline: p.b}\n"
            "  policy: {execution: parallel}\n"
        )
        assert lint_group(group) == []

    def test_written_default_is_flagged(self) -> None:
        """``max_concurrency: 4`` written out is the author's choice, and is checked."""
        group = yaml_group(
            "  pipelines:\n"
            "    - {name: a, pipeline: p.a}\n"
            "    - {name: b, pipeline: p.b}\n"
            "  policy: {execution: parallel, max_concurrency: 4}\n"
        )
        assert codes(lint_group(group)) == ["max-concurrency-above-width"]

    def test_sequential_ignores_max_concurrency(self) -> None:
        """max_concurrency is not checked when execution is sequential."""
        assert lint_group(group_of({"a": [], "b": []}, max_concurrency=50)) == []

    @settings(max_examples=80, deadline=None)
    @given(dag_deps(max_nodes=16))
    def test_width_is_the_largest_antichain(self, deps: dict[str, list[str]]) -> None:
        """The width bound equals Dilworth's width computed by networkx matching."""
        g = graph_of(deps)
        closure_graph = nx.transitive_closure_dag(g)
        b = nx.DiGraph()
        b.add_nodes_from((("out", n) for n in g), bipartite=0)
        b.add_nodes_from((("in", n) for n in g), bipartite=1)
        b.add_edges_from((("out", u), ("in", v)) for u, v in closure_graph.edges)
        matching = nx.bipartite.maximum_matching(b, top_nodes=[("out", n) for n in g])
        expected = len(g) - len(matching) // 2
        a = analyze(group_of(deps))
        widest = max(len(x) for x in a.generations)
        width, exact = Closure(a.graph, a.order, 1 << 20).width_bound(widest, len(g) + 1, 10**6)
        assert exact and width == expected


class TestConfusableNames:
    @pytest.mark.parametrize(
        ("first", "second", "how"),
        [
            ("ingest", "Ingest", "letter case"),
            ("ingest", "ｉｎｇｅｓｔ", "Unicode compatibility form"),
            ("ingest", "ＩＮＧＥＳＴ", "letter case and Unicode"),
            ("straße", "STRASSE", "letter case"),
        ],
    )
    def test_flags_names_equal_after_folding(self, first: str, second: str, how: str) -> None:
        """Names equal after NFKC + case-folding are flagged on the later step, naming the first."""
        group = yaml_group(
            "  pipelines:\n"
            f"    - {{name: {first}, pipeline: p.a}}\n"
            f"    - {{name: {second}, pipeline: p.b}}\n"
        )
        (f,) = lint_group(group)
        assert f.code == "confusable-step-names" and f.step == second
        assert f.line == 8 and how in f.message and "(line 7)" in f.message

    def test_exact_duplicates_are_left_to_the_error(self) -> None:
        """Two steps with the very same name are a duplicate-step error, not a lint warning."""
        group = group_of({"a": []})
        group = PipelineGroup(name="g", steps=(*group.steps, PipelineStep("a", "p.other")))
        assert "confusable-step-names" not in codes(lint_group(group))


class TestDuplicateCall:
    def test_same_pipeline_same_params(self) -> None:
        """Two steps calling one pipeline with equal params are flagged on the later one."""
        group = yaml_group(
            "  pipelines:\n"
            "    - {name: a, pipeline: p.x, params: {k: 1}}\n"
            "    - {name: b, pipeline: p.x, params: {k: 1}}\n"
        )
        (f,) = lint_group(group)
        assert f.code == "duplicate-call" and f.step == "b"
        assert (f.line, f.column) == (8, 27)
        assert "same step params" in f.message and "'a' (line 7)" in f.message

    @pytest.mark.parametrize(
        ("p1", "p2"),
        [({"k": 1}, {"k": 2}), ({"k": 1}, {"k": True}), ({"k": 1}, {"k": 1.0}), ({}, {"k": None})],
    )
    def test_different_params_are_fine(self, p1: dict, p2: dict) -> None:
        """Params that differ in value or type (``1`` vs ``True``) are different calls."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p.x", p1), PipelineStep("b", "p.x", p2)))
        assert "duplicate-call" not in codes(lint_group(group))

    def test_templates_on_the_step_differ(self) -> None:
        """A template using ``step`` renders differently per step, in params or in defaults."""
        t = "{{ step.name }}.csv"
        g1 = PipelineGroup(name="g", steps=(PipelineStep("a", "p.x", {"out": t}), PipelineStep("b", "p.x", {"out": t})))
        assert lint_group(g1) == []
        g2 = PipelineGroup(name="g", steps=(PipelineStep("a", "p.x"), PipelineStep("b", "p.x")), defaults={"out": t})
        assert lint_group(g2) == []

    def test_templates_on_run_params_are_the_same(self) -> None:
        """A template on run params renders the same for both steps: still a duplicate."""
        t = "{{ params.day }}"
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p.x", {"d": t}), PipelineStep("b", "p.x", {"d": t})))
        assert codes(lint_group(group)) == ["duplicate-call"]


class TestUnusedDefault:
    @pytest.fixture
    def registry(self) -> PipelineRegistry:
        r = PipelineRegistry()
        register_pipeline("p.a", params=[ParamDef("tier", str), ParamDef("week", "date")], registry=r)(lambda p, c: None)
        register_pipeline("p.b", params=[ParamDef("tier", str)], registry=r)(lambda p, c: None)
        register_pipeline("p.any", allow_extra_params=True, registry=r)(lambda p, c: None)
        return r

    def _group(self, pipelines: Sequence[str]) -> PipelineGroup:
        steps = "".join(f"    - {{name: s{i}, pipeline: {p}}}\n" for i, p in enumerate(pipelines))
        return yaml_group(f"  defaults:\n    tier: T1\n    wek: 2024-01-05\n  pipelines:\n{steps}")

    def test_flags_a_default_no_pipeline_declares(self, registry: PipelineRegistry) -> None:
        """A default no called pipeline declares is flagged at spec.defaults.<key>, with a suggestion."""
        (f,) = lint_group(self._group(["p.a", "p.b"]), registry)
        assert f.code == "unused-default"
        assert (f.line, f.column) == (8, 10)
        assert "'wek'" in f.message and "did you mean 'week'?" in f.message and "p.a, p.b" in f.message

    def test_needs_a_registry_with_pipelines(self) -> None:
        """Without a registry, or with an empty one, the rule does not run."""
        assert lint_group(self._group(["p.a"])) == []
        assert lint_group(self._group(["p.a"]), PipelineRegistry()) == []

    def test_skipped_when_a_pipeline_takes_anything(self, registry: PipelineRegistry) -> None:
        """A pipeline with allow_extra_params, or an unknown one, may take the key: no finding."""
        assert lint_group(self._group(["p.a", "p.any"]), registry) == []
        assert lint_group(self._group(["p.a", "p.unknown"]), registry) == []


class TestInvalidGroups:
    @pytest.mark.parametrize(
        "deps",
        [
            {"a": ["c"], "b": ["a"], "c": ["b", "a"]},  # cycle
            {"a": [], "b": ["a", "zzz"], "c": ["a", "b"]},  # missing dependency
            {"a": ["a"], "b": ["a"], "c": ["a", "b"]},  # self-dependency
        ],
    )
    def test_graph_rules_skip_invalid_graphs(self, deps: dict[str, list[str]]) -> None:
        """Cycles, missing and self dependencies: no graph-rule findings, no crash."""
        findings = lint_group(group_of(deps, execution="parallel", max_concurrency=9))
        assert not {"redundant-dependency", "parallel-on-chain", "max-concurrency-above-width"} & set(codes(findings))

    def test_duplicate_step_names_skip_graph_rules(self) -> None:
        """A group with a duplicate step name gets no graph-rule findings."""
        steps = (PipelineStep("a", "p.a"), PipelineStep("b", "p.b", depends_on=("a",)), PipelineStep("a", "p.c"),
                 PipelineStep("c", "p.c", depends_on=("a", "b")))
        assert "redundant-dependency" not in codes(lint_group(PipelineGroup(name="g", steps=steps)))

    @pytest.mark.parametrize(
        "step",
        [
            PipelineStep(123, "p.a"),  # type: ignore[arg-type]
            PipelineStep("x", 5),  # type: ignore[arg-type]
            PipelineStep("x", "p.a", params={"k": {1, 2}}),
            PipelineStep("x", "p.a", params=[("k", 1)]),  # type: ignore[arg-type]
            PipelineStep("x", "p.a", depends_on="a"),
            PipelineStep("x", "p.a", depends_on=(["a"],)),  # type: ignore[arg-type]
        ],
    )
    def test_never_crashes_on_odd_dsl_values(self, step: PipelineStep) -> None:
        """Whatever a DSL group holds, lint returns a list (the field checks report the types)."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p.a"), step, step), defaults={"k": object()})
        assert isinstance(lint_group(group, PipelineRegistry()), list)

    def test_empty_group(self) -> None:
        """A group without steps lints to nothing."""
        assert lint_group(PipelineGroup(name="g").with_policy(execution="parallel")) == []


class TestScale:
    def test_ten_thousand_steps_in_seconds(self) -> None:
        """10,000 steps with ~3 dependencies each lint in well under the budget (~0.5 s here)."""
        rnd = random.Random(7)
        deps = {f"s{i}": [f"s{j}" for j in rnd.sample(range(max(0, i - 200), i), min(3, i))] for i in range(10_000)}
        group = group_of(deps, execution="parallel", max_concurrency=64)
        a = analyze(group)
        start = time.perf_counter()
        findings = lint_group(group, analysis=a)
        elapsed = time.perf_counter() - start
        assert elapsed < 8, f"lint took {elapsed:.1f}s"
        g = graph_of(deps)
        reported = redundant_edges(findings)
        for n in list(deps)[-6:]:  # spot-check against the definition (nx.ancestors is slow)
            ancestors = {w: nx.ancestors(g, w) for w in deps[n]}
            for d in deps[n]:
                implied = any(d in ancestors[w] for w in deps[n] if w != d)
                assert ((d, n) in reported) is implied

    def test_width_gives_up_within_its_budget(self) -> None:
        """A pathological width computation stops at its work budget with an upper bound."""
        deps = {f"s{i}": ([f"s{i - 2}"] if i >= 2 else []) if i % 2 == 0 else [f"s{i - 1}"] for i in range(2000)}
        a = analyze(group_of(deps))
        width, exact = Closure(a.graph, a.order, 1 << 29).width_bound(2, 5000, 1000)
        assert not exact and width >= 1000


def _example_registry():
    """The repository's example pipelines (re-registered if a test cleaned them away)."""
    import importlib
    import sys

    from spine.framework import default_pipeline_registry

    if "finra.otc_transparency.ingest_week" not in default_pipeline_registry:
        if str(REPO) not in sys.path:
            sys.path.insert(0, str(REPO))
        module = sys.modules.get("examples.pipelines")
        if module is None:
            importlib.import_module("examples.pipelines")
        else:
            importlib.reload(module)
    return default_pipeline_registry


class TestDocs:
    def test_every_code_is_documented(self) -> None:
        """docs/lint.md has a section for every code lint_group can return."""
        text = (REPO / "docs" / "lint.md").read_text(encoding="utf-8")
        for code in LINT_CODES:
            assert f"## `{code}`" in text, code

    def test_documented_examples_print_what_the_docs_say(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Each section's YAML example gives exactly the output shown under it (the code's own warning)."""
        from spine.orchestration import scan, validate_group

        registry = _example_registry()
        monkeypatch.chdir(tmp_path)
        text = (REPO / "docs" / "lint.md").read_text(encoding="utf-8")
        sections = re.split(r"^## `([a-z-]+)`$", text, flags=re.MULTILINE)[1:]
        assert [c for c in sections[::2]] == list(LINT_CODES)
        for code, body in zip(sections[::2], sections[1::2], strict=True):
            example = re.search(r"```yaml\n(.*?)```", body, re.DOTALL).group(1)
            name = example.splitlines()[0].lstrip("# ").strip()
            session = re.search(r"```console\n\$ spine group validate \S+\n(.*?)```", body, re.DOTALL).group(1)
            expected = [line.strip() for line in session.splitlines() if line.strip().startswith(f"{name}:")]
            (tmp_path / name).write_text(example, encoding="utf-8")
            (loaded,) = scan([name])
            found = list(loaded.findings) + validate_group(loaded.group, registry) + lint_group(loaded.group, registry)
            lines = [f"{f.location}: {f.severity.value} {f.code}" + (f" [{f.step}]" if f.step else "") + f": {f.message}" for f in found]
            assert lines == expected, code
            assert [f.code for f in found] == [code]
