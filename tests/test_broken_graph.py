"""A big broken group: every finding exactly right (the speed is bench/bench_broken.py's job)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from spine.orchestration import analyze, load_group_from_text, validate_group

N = 3_000  # more steps than a full did-you-mean scan handles: the index answers
DEPENDS = "      depends_on: ["
HEADS = range(100, N - 10, 240)  # 13 cycles: h -> h+1 -> h+2 -> h+3 -> h


def name(i: int) -> str:
    return f"step_{i:04d}"


def typo(i: int, k: int) -> str:
    """One of four slips of ``name(i)``, each closer to it than to any other step."""
    return (f"step_x{i:04d}", f"Step_{i:04d}", f"stepp_{i:04d}", f"setp_{i:04d}")[k % 4]


@dataclass
class Planted:
    text: str
    #: (code, step, line, column, message) of every graph finding, in the order reported.
    findings: list[tuple[str, str, int, int, str]] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    cycles: list[list[str]] = field(default_factory=list)


@pytest.fixture(scope="module")
def planted() -> Planted:
    """3,000 steps (step i depends on i-1 and i-7), every 20th dependency on i-1 misspelt
    (one in five of them naming a retired step), and a cycle at every 240th step."""
    lines = ["apiVersion: spine.io/v1", "kind: PipelineGroup", "metadata:", "  name: big.broken", "spec:", "  pipelines:"]
    out = Planted("")
    missing: list[tuple[str, str, int, int, str]] = []
    cycle_at: dict[int, tuple[int, int]] = {}
    for i in range(N):
        lines += [f"    - name: {name(i)}", "      pipeline: demo.task"]
        deps = [name(d) for d in (i - 1, i - 7) if d >= 0]
        meant: list[str | None] = [None] * len(deps)
        if i % 20 == 5:
            k = i // 20
            meant[0] = None if k % 5 == 4 else deps[0]
            deps[0] = f"retired_loader_{k}" if k % 5 == 4 else typo(i - 1, k)
        if i in HEADS:
            deps.append(name(i + 3))
        if not deps:
            continue
        lines.append(DEPENDS + ", ".join(deps) + "]")
        column = len(DEPENDS) + 1
        for j, dep in enumerate(deps):
            if i % 20 == 5 and j == 0:
                hint = f"; did you mean {meant[0]!r}?" if meant[0] else ""
                message = f"step {name(i)!r} depends on {dep!r}, which is not a step of group 'big.broken'{hint}"
                missing.append(("missing-dependency", name(i), len(lines), column, message))
                out.missing.append((name(i), dep))
            if i in HEADS and j == len(deps) - 1:
                cycle_at[i] = (len(lines), column)
            column += len(dep) + 2
    out.text = "\n".join(lines) + "\n"
    out.findings = missing
    for h in HEADS:
        path = [name(h), name(h + 1), name(h + 2), name(h + 3), name(h)]
        out.cycles.append(path)
        message = f"dependency cycle: {' -> '.join(path)}; remove one of these dependencies"
        out.findings.append(("cycle", name(h), *cycle_at[h], message))
    return out


def test_every_finding_exactly(planted: Planted) -> None:
    """The graph findings are exactly the planted ones: code, step, line, column and message (with its suggestion)."""
    group = load_group_from_text(planted.text, file="big.yaml")
    got = [(f.code, f.step, f.line, f.column, f.message) for f in analyze(group).findings]
    assert got == planted.findings


def test_missing_pairs_and_cycles_as_data(planted: Planted) -> None:
    """GraphAnalysis carries every (step, missing) pair and one closed path per cycle."""
    analysis = analyze(load_group_from_text(planted.text, file="big.yaml"))
    assert (analysis.missing, analysis.cycles) == (planted.missing, planted.cycles)


def test_validate_reports_the_same(planted: Planted) -> None:
    """validate_group reports those findings and nothing else."""
    group = load_group_from_text(planted.text, file="big.yaml")
    got = [(f.code, f.step, f.line, f.column, f.message) for f in validate_group(group)]
    assert sorted(got) == sorted(planted.findings)


def test_the_fixture_plants_what_it_says(planted: Planted) -> None:
    """150 misspelt dependencies (30 of them retired names) and 13 cycles, so the other tests test something."""
    retired = [m for m in planted.findings if m[0] == "missing-dependency" and "did you mean" not in m[4]]
    assert (len(planted.missing), len(retired), len(planted.cycles)) == (150, 30, 13)
