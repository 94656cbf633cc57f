"""How fast are the pictures and the report? One command:

    uv run python bench/bench_render.py            # 1k-step report vs Graphviz alone; DOT/Mermaid at 1k/10k/100k
    uv run python bench/bench_render.py --quick    # one run each, DOT/Mermaid up to 10k

Targets (issue 3): a report of a 1,000-step plan with ~3 dependencies per step, SVG
included, in under 10 s and at most 1.5x what Graphviz alone spends laying out spine's DOT
for it; DOT and Mermaid generation linear in size up to 100k steps. Every measurement runs
in a fresh process; the baseline (``dot -Tsvg`` on the same DOT) runs in the same session,
interleaved. The report and the DOT come from the real CLI (``.venv/bin/spine``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "render"
sys.path.insert(0, str(HERE))

from _generate import write_group  # noqa: E402

SPINE = ROOT / ".venv" / "bin" / "spine"
PYTHON = ROOT / ".venv" / "bin" / "python"
PARAMS = ["--param", "tier=NMS_TIER_1", "--param", "week_ending=2024-01-05"]

GEN_CODE = r"""
import sys, time, json
from spine.orchestration import scan
from spine.render import build_graph_view, to_dot, to_mermaid
(lg,) = scan([sys.argv[1]])
g = lg.group
t0 = time.perf_counter(); view = build_graph_view(g); t1 = time.perf_counter()
dot = to_dot(view); t2 = time.perf_counter()
mmd = to_mermaid(view); t3 = time.perf_counter()
print(json.dumps({"view": t1 - t0, "dot": t2 - t1, "mermaid": t3 - t2, "dot_bytes": len(dot), "mermaid_bytes": len(mmd)}))
"""


def timed(cmd: list[str], timeout: float = 600) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, cwd=OUT, check=False)
    took = time.perf_counter() - start
    if proc.returncode not in (0,):
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    repeat = 1 if args.quick else args.repeat
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "spine.toml").write_text("# no pipelines: the benchmark measures drawing, not imports\n")

    g1k = write_group(OUT / "group_1000.yaml", 1000)
    dot_file = OUT / "group_1000.dot"
    timed([str(SPINE), "group", "graph", str(g1k.path), "--format", "dot", "-o", str(dot_file)])
    report_times, dot_times = [], []
    for _ in range(repeat):  # interleaved: Graphviz alone, then the whole report
        dot_times.append(timed(["dot", "-Tsvg", str(dot_file), "-o", str(OUT / "alone.svg")]))
        report_times.append(timed([str(SPINE), "group", "report", str(g1k.path), "-o", str(OUT / "report.html"), *PARAMS]))
    rep, alone = statistics.median(report_times), statistics.median(dot_times)
    size = (OUT / "report.html").stat().st_size
    print(f"1,000-step report ({g1k.edges} dependencies, SVG included): {rep:.2f} s   Graphviz alone on spine's DOT: {alone:.2f} s")
    print(f"  ratio report / Graphviz = {rep / alone:.2f}  (target <= 1.5)   report < 10 s: {'PASS' if rep < 10 else 'FAIL'}   ratio: {'PASS' if rep / alone <= 1.5 else 'FAIL'}")
    print(f"  report size {size / 1024:.0f} KiB, runs: report {[round(t, 2) for t in report_times]}, dot {[round(t, 2) for t in dot_times]}")

    sizes = [1000, 10_000] if args.quick else [1000, 10_000, 100_000]
    rows = []
    print("\nDOT and Mermaid generation (library, fresh process; YAML loading not timed)")
    print(f"{'steps':>8} {'view s':>8} {'dot s':>8} {'mermaid s':>10} {'dot µs/step':>12} {'mmd µs/step':>12} {'DOT MiB':>8}")
    for n in sizes:
        path = OUT / f"group_{n}.yaml" if n != 1000 else g1k.path
        if n != 1000:
            write_group(path, n)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        proc = subprocess.run([str(PYTHON), "-c", GEN_CODE, str(path)], capture_output=True, text=True, env=env, check=True)
        r = json.loads(proc.stdout)
        rows.append({"n": n, **r})
        print(f"{n:>8} {r['view']:>8.2f} {r['dot']:>8.2f} {r['mermaid']:>10.2f} {1e6 * (r['view'] + r['dot']) / n:>12.1f} {1e6 * r['mermaid'] / n:>12.1f} {r['dot_bytes'] / 2**20:>8.1f}")
    first, last = rows[0], rows[-1]
    for key in ("dot", "mermaid"):
        a = (first["view"] + first[key]) / first["n"] if key == "dot" else first[key] / first["n"]
        b = (last["view"] + last[key]) / last["n"] if key == "dot" else last[key] / last["n"]
        print(f"  {key}: per-step cost at {last['n']:,} / at {first['n']:,} = {b / a:.2f} (linear ≈ 1)")
    (HERE / "out" / "render_results.json").write_text(json.dumps({"report_s": report_times, "dot_alone_s": dot_times, "generation": rows}, indent=2))
    print("\nWhere Graphviz is the limit: its layout is superlinear; spine reduces its effort above ~1,500 nodes+edges "
          "(see spine.render.dot.layout_effort) and the report says so. For 10k+ steps use --format dot/mermaid or --no-svg.")


if __name__ == "__main__":
    main()
