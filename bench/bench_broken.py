"""Big broken groups answer as fast as big valid ones (issue 7, section 5).

    uv run python bench/bench_broken.py               # 100k steps (5 % misspelt, 36 cycles) and 63,664 (4,374 misspelt, 54 cycles); 3 runs each
    uv run python bench/bench_broken.py --quick       # one run of each
    uv run python bench/bench_broken.py --check       # exit 1 when a target is missed
    uv run python bench/bench_broken.py --profile     # also cProfile the library on the broken 100k group -> bench/out/broken/profile.txt

Each case is a pair of files: the group ``bench/_generate.py`` writes (valid, the same one
``bench_core.py`` measures) and the *same* group with mistakes: a share of its
``depends_on`` items misspelt (a dropped, inserted, replaced or swapped character, a
capital letter; one in ten names a step that was retired and resembles nothing) and a few
dozen dependency cycles (a step made to depend on a step three hops downstream of it).
Both files are validated the way ``spine group validate`` does, each run in a fresh
interpreter, the valid and the broken file interleaved; the report gives the medians and
their ratio, measured in the same run. The cost compared is **CPU time** (user + system):
on a shared machine wall time mostly measures the neighbours (it is recorded too, and its
ratio printed next to the target):

* **library** — ``spine.check.check_paths([file])``, the checking pipeline
  ``validate`` runs (errors, lint, run params), timed in-process, imports excluded; afterwards, untimed, the findings are checked against
  what the generator planted: every ``(step, missing)`` pair exactly, at its line and
  column, one cycle finding per planted cycle, each a real closed path — a wrong answer
  fails the benchmark (exit 3). How often "did you mean" names the intended step is
  reported (a replaced last digit is ambiguous, so it is not 100 %).
* **cli** — ``spine group validate FILE`` (text output to a file), the whole process;
  the exit code must be 0 for the valid file and 1 for the broken one.

Everything is written to ``bench/out/broken/results.json``. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _generate import DEFAULT_SEED, render, step_name  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = VENV_BIN / "python"
SPINE = VENV_BIN / "spine"

TARGET_RATIO = 1.2  # broken / valid, same group, same run
TARGET_ANSWER_S = 30.0  # the 63,664-step case "answers in seconds" (it did not in 30 minutes)


@dataclass(frozen=True)
class Case:
    """One benchmark case: a group size and the mistakes planted in it."""

    n: int
    #: Misspelt ``depends_on`` items: a share of all of them (``rate``) or a count.
    rate: float | None
    count: int | None
    cycles: int

    @property
    def label(self) -> str:
        what = f"{self.rate:.0%} misspelt" if self.rate is not None else f"{self.count:,} misspelt"
        return f"{self.n:,} steps, {what}, {self.cycles} cycles"


CASES = (Case(100_000, 0.05, None, 36), Case(63_664, None, 4_374, 54))


# -- the broken twin ---------------------------------------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyz"
DEPENDS = "      depends_on: ["
LOCAL = 100  # a cycle's hops go at most this many steps forward


def _typo(rng: random.Random, name: str) -> str:
    """One realistic slip of the keyboard in ``name``."""
    i = rng.randrange(len(name))
    kind = rng.randrange(5)
    if kind == 0:
        return name[:i] + name[i + 1 :]
    if kind == 1:
        return name[:i] + rng.choice(LETTERS) + name[i:]
    if kind == 2:
        return name[:i] + rng.choice(LETTERS.replace(name[i], "")) + name[i + 1 :]
    if kind == 3 and i + 1 < len(name) and name[i] != name[i + 1]:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    j = rng.randrange(4)  # a capital in "step"
    return name[:j] + name[j].upper() + name[j + 1 :]


def write_pair(case: Case, out: Path, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Write ``valid_N.yaml``, ``broken_N.yaml`` and ``broken_N.truth.json``; return a summary."""
    text, group_name, deps = render(case.n, seed)
    n = case.n
    valid = out / f"valid_{n}.yaml"
    broken = out / f"broken_{n}.yaml"
    out.mkdir(parents=True, exist_ok=True)
    valid.write_text(text, encoding="utf-8")

    rng = random.Random(f"broken:{seed}:{n}")
    succ: list[list[int]] = [[] for _ in range(n)]
    for i, ds in enumerate(deps):
        for d in ds:
            succ[d].append(i)
    # Cycles: step h depends on a step three hops downstream of it (h -> a -> b -> c, then c -> h).
    protected: set[tuple[int, int]] = set()  # (step, dependency index) kept intact so each cycle stays
    extra: dict[int, int] = {}
    cycles: list[list[int]] = []
    spacing = n // case.cycles
    for k in range(case.cycles):
        h = k * spacing + spacing // 2
        while True:
            chain = [h]
            while len(chain) < 4 and (near := [s for s in succ[chain[-1]] if s - chain[-1] <= LOCAL]):
                chain.append(min(near))  # local, so that cycles far apart stay apart
            if len(chain) == 4 and deps[h]:
                break
            h += 1
        for a, b in zip(chain, chain[1:]):
            protected.add((b, deps[b].index(a)))
        extra[h] = chain[-1]
        cycles.append(chain)

    items = [(i, j) for i, ds in enumerate(deps) for j in range(len(ds)) if (i, j) not in protected]
    count = case.count if case.count is not None else round(case.rate * sum(len(d) for d in deps))
    chosen = sorted(rng.sample(items, count))
    names = {step_name(i) for i in range(n)}
    broken_deps: list[list[str]] = [[step_name(d) for d in ds] for ds in deps]
    typo_of: dict[tuple[int, int], str | None] = {}
    for retired, (i, j) in enumerate(chosen):
        original = broken_deps[i][j]
        if rng.random() < 0.1:
            wrong, meant = f"retired_{retired}_{rng.choice(('load', 'export', 'check'))}", None
        else:
            wrong, meant = _typo(rng, original), original
            while wrong in names or wrong in broken_deps[i]:
                wrong = _typo(rng, original)
        broken_deps[i][j] = wrong
        typo_of[(i, j)] = meant
    for h, c in extra.items():
        broken_deps[h].append(step_name(c))

    lines = text.split("\n")
    step = -1
    missing: list[dict[str, Any]] = []
    for k, line in enumerate(lines):
        if line.startswith("    - name: "):
            step += 1
        elif line.startswith(DEPENDS):
            lines[k] = DEPENDS + ", ".join(broken_deps[step]) + "]"
            column = len(DEPENDS) + 1
            for j, dep in enumerate(broken_deps[step]):
                if (step, j) in typo_of:
                    missing.append({"step": step_name(step), "dep": dep, "line": k + 1, "column": column, "meant": typo_of[(step, j)]})
                column += len(dep) + 2
    broken.write_text("\n".join(lines), encoding="utf-8")
    truth = {
        "n": n,
        "group": group_name,
        "missing": missing,
        "cycles": [[step_name(i) for i in c] for c in cycles],
        "deps": broken_deps,
    }
    broken.with_name(broken.stem + ".truth.json").write_text(json.dumps(truth, separators=(",", ":")), encoding="utf-8")
    return {
        "n": n,
        "valid": str(valid),
        "broken": str(broken),
        "dependencies": sum(len(d) for d in deps),
        "misspelt": len(missing),
        "distinct_missing_names": len({m["dep"] for m in missing}),
        "cycles": len(cycles),
        "bytes": broken.stat().st_size,
    }


# -- in a fresh process ------------------------------------------------------------------


def _vmhwm_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def measure_library(path: str, broken: bool) -> dict[str, Any]:
    """``check_paths([file])``, what ``spine group validate`` runs; then the check (untimed)."""
    t0 = time.perf_counter()
    from spine.check import check_paths

    t1, c1 = time.perf_counter(), time.process_time()
    report = check_paths([path])
    t2, c2 = time.perf_counter(), time.process_time()
    findings = list(report.all_findings())
    rss = _vmhwm_kib()
    codes: dict[str, int] = {}
    for f in findings:
        codes[f.code] = codes.get(f.code, 0) + 1
    result: dict[str, Any] = {"import_s": t1 - t0, "work_s": t2 - t1, "cpu_s": c2 - c1, "maxrss_kib": rss, "codes": codes}
    if broken:
        result["check"] = check_findings(path, report.groups[0].group, findings)
    elif any(f.severity.value == "error" for f in findings):
        raise SystemExit(f"the valid group has errors: {[str(f) for f in findings[:3]]}")
    return result


def check_findings(path: str, group: Any, findings: list[Any]) -> dict[str, Any]:
    """Exactly the planted mistakes, where they are; exit 3 (via SystemExit) when not."""
    from spine.orchestration import analyze

    p = Path(path)
    truth = json.loads(p.with_name(p.stem + ".truth.json").read_text(encoding="utf-8"))
    problems: list[str] = []
    missing = [f for f in findings if f.code == "missing-dependency"]
    got = [(f.step, f.line, f.column) for f in missing]
    want = [(m["step"], m["line"], m["column"]) for m in truth["missing"]]
    if got != want:
        problems.append(f"missing-dependency findings differ: {len(got)} reported, {len(want)} planted; first difference "
                        f"{next(((a, b) for a, b in zip(got, want) if a != b), None)}")
    right = 0
    for f, m in zip(missing, truth["missing"]):
        if repr(m["dep"]) not in f.message:
            problems.append(f"finding at line {f.line} does not name {m['dep']!r}: {f.message}")
            break
        if m["meant"] is not None and f"did you mean {m['meant']!r}?" in f.message:
            right += 1
        if m["meant"] is None and "did you mean" in f.message:
            problems.append(f"a retired step got a suggestion: {f.message}")
            break
    cycle_findings = [f for f in findings if f.code == "cycle"]
    analysis = analyze(group)  # the cycle paths themselves (the messages abbreviate long ones)
    edges = {(d, step_name(i)) for i, ds in enumerate(truth["deps"]) for d in ds}
    heads = {c[0] for c in truth["cycles"]}
    if len(cycle_findings) != len(truth["cycles"]) or len(analysis.cycles) != len(truth["cycles"]):
        problems.append(f"{len(cycle_findings)} cycle findings, {len(truth['cycles'])} cycles planted")
    for cycle in analysis.cycles:
        if cycle[0] != cycle[-1] or any((a, b) not in edges for a, b in zip(cycle, cycle[1:])):
            problems.append(f"not a closed path of the group's dependencies: {cycle[:8]}")
            break
    if {c[0] for c in analysis.cycles} != heads:
        problems.append("the cycles do not start where they were planted (first declared step of each)")
    if set(analysis.missing) != {(m["step"], m["dep"]) for m in truth["missing"]}:
        problems.append("GraphAnalysis.missing differs from the planted pairs")
    if problems:
        raise SystemExit("wrong answer: " + "; ".join(problems))
    meant = sum(1 for m in truth["missing"] if m["meant"] is not None)
    return {"checked": True, "suggested_the_intended_step": right, "typos": meant}


def profile(path: str, out: str) -> dict[str, Any]:
    import cProfile
    import io
    import pstats

    from spine.check import check_paths

    prof = cProfile.Profile()
    prof.enable()
    check_paths([path])
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(30)
    Path(out).write_text(buf.getvalue(), encoding="utf-8")
    return {"profile": out}


# -- the benchmark -----------------------------------------------------------------------


def child_env(out: Path) -> dict[str, str]:
    """As ``bench_core.py``: cached bytecode under ``out``, no ``SPINE_*``, an empty ``spine.toml`` in ``out``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(out / "pycache")
    env.pop("VIRTUAL_ENV", None)
    return env


def run(cmd: list[str], env: dict[str, str], cwd: Path, stdout: Any = subprocess.PIPE) -> dict[str, Any]:
    with open(cwd / "last_stderr.log", "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=stdout, stderr=err, env=env, cwd=cwd)
        data = p.stdout.read() if stdout is subprocess.PIPE and p.stdout is not None else b""
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    if p.stdout is not None:
        p.stdout.close()
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "rc": os.waitstatus_to_exitcode(status),
            "maxrss_kib": usage.ru_maxrss, "stdout": data}


def _stderr_tail(cwd: Path) -> str:
    return (cwd / "last_stderr.log").read_text(encoding="utf-8", errors="replace")[-3000:]


def library(path: str, broken: bool, env: dict[str, str], out: Path) -> dict[str, Any]:
    res = run([str(PYTHON), __file__, "--library", path] + (["--broken"] if broken else []), env, out)
    if res["rc"] != 0:
        raise Failed(f"the library run on {Path(path).name} exited {res['rc']}:\n{_stderr_tail(out)}")
    data: dict[str, Any] = json.loads(res["stdout"].decode().strip().splitlines()[-1])
    data["wall_s"] = res["wall_s"]
    return data


def cli(path: str, broken: bool, env: dict[str, str], out: Path) -> dict[str, Any]:
    with open(out / f"cli_{Path(path).stem}.txt", "wb") as fh:
        res = run([str(SPINE), "group", "validate", path], env, out, stdout=fh)
    if res["rc"] != (1 if broken else 0):
        raise Failed(f"spine group validate {Path(path).name} exited {res['rc']}, expected {1 if broken else 0}:\n{_stderr_tail(out)}")
    return {"wall_s": res["wall_s"], "cpu_s": res["cpu_s"], "maxrss_kib": res["maxrss_kib"]}


class Failed(RuntimeError):
    pass


def measure(pair: dict[str, Any], repeat: int, env: dict[str, str], out: Path) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"library_valid": [], "library_broken": [], "cli_valid": [], "cli_broken": []}
    for r in range(repeat):  # interleaved: drift on a noisy machine hits both files alike
        runs["library_valid"].append(library(pair["valid"], False, env, out))
        runs["library_broken"].append(library(pair["broken"], True, env, out))
        runs["cli_valid"].append(cli(pair["valid"], False, env, out))
        runs["cli_broken"].append(cli(pair["broken"], True, env, out))
        last = {k: v[-1] for k, v in runs.items()}
        print(f"  {pair['n']:>7,} steps  run {r + 1}/{repeat}, CPU s (wall s): library valid {last['library_valid']['cpu_s']:.2f} "
              f"({last['library_valid']['work_s']:.2f}) broken {last['library_broken']['cpu_s']:.2f} ({last['library_broken']['work_s']:.2f})"
              f"   cli valid {last['cli_valid']['cpu_s']:.2f} ({last['cli_valid']['wall_s']:.2f}) broken {last['cli_broken']['cpu_s']:.2f} "
              f"({last['cli_broken']['wall_s']:.2f})   load {os.getloadavg()[0]:.1f}", flush=True)

    def med(key: str, field: str) -> float:
        return statistics.median(x[field] for x in runs[key])

    summary: dict[str, Any] = {
        "peak_rss_mib": {k: max(x["maxrss_kib"] for x in v) / 1024 for k, v in runs.items()},
        "codes_broken": runs["library_broken"][-1]["codes"],
        "check": runs["library_broken"][-1]["check"],
    }
    for what, wall in (("library", "work_s"), ("cli", "wall_s")):
        for kind in ("valid", "broken"):
            summary[f"{what}_{kind}_cpu_s"] = med(f"{what}_{kind}", "cpu_s")
            summary[f"{what}_{kind}_wall_s"] = med(f"{what}_{kind}", wall)
        summary[f"{what}_ratio"] = summary[f"{what}_broken_cpu_s"] / summary[f"{what}_valid_cpu_s"]
        summary[f"{what}_wall_ratio"] = summary[f"{what}_broken_wall_s"] / summary[f"{what}_valid_wall_s"]
    return {"pair": pair, "repeat": repeat, "summary": summary, "runs": runs}


def evaluate(results: dict[str, Any]) -> list[tuple[bool, str]]:
    verdicts: list[tuple[bool, str]] = []
    for case in results["cases"]:
        s, n = case["summary"], case["pair"]["n"]
        for what in ("library", "cli"):
            ratio = s[f"{what}_ratio"]
            verdicts.append((ratio <= TARGET_RATIO, f"{what} validate at {n:,} steps, broken / valid ≤ {TARGET_RATIO} (CPU time): "
                             f"{s[f'{what}_broken_cpu_s']:.2f}s / {s[f'{what}_valid_cpu_s']:.2f}s = {ratio:.2f} (wall: {s[f'{what}_wall_ratio']:.2f})"))
        if n != 100_000:
            verdicts.append((s["cli_broken_wall_s"] <= TARGET_ANSWER_S, f"`spine group validate` answers the broken {n:,}-step group "
                             f"in seconds: {s['cli_broken_wall_s']:.1f}s wall, {s['cli_broken_cpu_s']:.1f}s CPU (≤ {TARGET_ANSWER_S:.0f}s wall)"))
    return verdicts


def print_report(results: dict[str, Any]) -> list[tuple[bool, str]]:
    print("\n== validate a valid group and the same group with mistakes; CPU seconds, median of runs (wall seconds in results.json)")
    print(f"{'steps':>8} {'missing':>7} {'names':>6} {'cycles':>6} {'lib valid':>9} {'lib broken':>10} {'ratio':>6} "
          f"{'cli valid':>9} {'cli broken':>10} {'ratio':>6} {'RSS MiB':>8} {'did you mean right':>18}")
    for case in results["cases"]:
        p, s = case["pair"], case["summary"]
        chk = s["check"]
        print(f"{p['n']:>8,} {p['misspelt']:>7,} {p['distinct_missing_names']:>6,} {p['cycles']:>6} "
              f"{s['library_valid_cpu_s']:>9.2f} {s['library_broken_cpu_s']:>10.2f} {s['library_ratio']:>6.2f} "
              f"{s['cli_valid_cpu_s']:>9.2f} {s['cli_broken_cpu_s']:>10.2f} {s['cli_ratio']:>6.2f} "
              f"{max(s['peak_rss_mib'].values()):>8.0f} {chk['suggested_the_intended_step'] / chk['typos']:>17.1%}")
    print("  library = spine.check.check_paths([file]), in-process, imports excluded; cli = `spine group validate FILE`,")
    print("  the whole process. CPU time (user + system), because wall time on a shared machine measures the neighbours.")
    print("  The broken group's findings were checked against what was planted (every missing pair at its line:column,")
    print("  one real closed path per cycle). 'did you mean right' = the suggestion is the step the typo came from (a")
    print("  replaced last digit ties with nine other steps; ties go to the first declared).")
    verdicts = evaluate(results)
    print("\n== targets")
    for ok, text in verdicts:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    return verdicts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Validating big broken groups costs what validating the valid ones costs.")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported (default: %(default)s)")
    ap.add_argument("--quick", action="store_true", help="one run per measurement")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed (default: always exit 0)")
    ap.add_argument("--profile", action="store_true", help="also cProfile the library on the broken 100k group")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", type=Path, default=HERE / "out" / "broken")
    ap.add_argument("--library", metavar="FILE", help=argparse.SUPPRESS)  # one measurement, in a fresh process
    ap.add_argument("--broken", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--profile-file", nargs=2, metavar=("FILE", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.library:
        print(json.dumps(measure_library(args.library, args.broken)))
        return 0
    if args.profile_file:
        print(json.dumps(profile(*args.profile_file)))
        return 0
    repeat = 1 if args.quick else args.repeat
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "spine.toml").write_text("# Written by bench/bench_broken.py: no pipelines to import or check.\n[tool.spine]\n", encoding="utf-8")
    for exe in (PYTHON, SPINE):
        if not exe.exists():
            print(f"missing {exe}: run `uv sync` in {ROOT} first", file=sys.stderr)
            return 2
    env = child_env(out)
    print(f"spine broken-graph benchmark — {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; output in {out}")
    results: dict[str, Any] = {
        "benchmark": "spine: validating big broken groups",
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "options": {"repeat": repeat, "seed": args.seed},
        "cases": [],
    }
    try:
        for case in CASES:
            t = time.perf_counter()
            pair = write_pair(case, out / "groups", args.seed)
            print(f"generated {case.label}: {pair['misspelt']:,} misspelt of {pair['dependencies']:,} dependencies "
                  f"({pair['distinct_missing_names']:,} distinct names), {pair['bytes'] / 2**20:.1f} MiB ({time.perf_counter() - t:.1f}s)", flush=True)
            if not results["cases"]:
                library(pair["valid"], False, env, out)  # warm-up (bytecode, page cache), not counted
            results["cases"].append(measure(pair, repeat, env, out))
        if args.profile:
            big = next(c["pair"]["broken"] for c in results["cases"] if c["pair"]["n"] == 100_000)
            res = run([str(PYTHON), __file__, "--profile-file", big, str(out / "profile.txt")], env, out)
            print(f"profile: {out / 'profile.txt'}" if res["rc"] == 0 else f"profiling failed:\n{_stderr_tail(out)}")
    except Failed as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 3
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    verdicts = print_report(results)
    print(f"\nresults: {out / 'results.json'}")
    return 1 if args.check and not all(ok for ok, _ in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
