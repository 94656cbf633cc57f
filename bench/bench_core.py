"""spine core benchmark: validate + plan of 1k/10k/100k-step groups against a bare baseline.

    uv run python bench/bench_core.py                 # 1k, 10k, 100k; median of 3 runs
    uv run python bench/bench_core.py --quick         # 100k measured once
    uv run python bench/bench_core.py --sizes 1000,10000 --repeat 5
    uv run python bench/bench_core.py --check         # exit 1 when a target is missed

Every measurement runs in a fresh interpreter (``bench/_worker.py`` or the ``spine``
console script) so that imports, the garbage collector's state and peak RSS belong to it
alone. Peak RSS: a worker reports its own (``VmHWM`` right after the measured work, before
it checks the plan); for the CLI it is ``ru_maxrss`` from ``os.wait4`` (KiB on Linux),
which on Linux also counts this process's peak at fork time, so this process stays small:
it generates files and checks CLI output in subprocesses too.
Results: a table on stdout and ``bench/out/results.json``. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _generate import DEFAULT_SEED, GENERATOR_VERSION, RUN_PARAMS  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = VENV_BIN / "python"
SPINE = VENV_BIN / "spine"
WORKER = HERE / "_worker.py"

TARGET_RATIO = 1.0  # spine validate+plan / bare baseline, at >= 10k steps
TARGET_RSS_MIB = 1024.0
TARGET_LINEARITY = 1.3  # per-step cost at the largest size / at 10k ("~1"; noise allowance)
TARGET_HELP_S = 0.3


# -- running things ---------------------------------------------------------------------


class Failed(RuntimeError):
    pass


def child_env(out: Path) -> dict[str, str]:
    """The environment of every measured process.

    ``PYTHONDONTWRITEBYTECODE`` is removed and bytecode goes to ``out/pycache``, so that
    after the warm-up runs every interpreter starts from cached bytecode (as on a normal
    machine) without writing anything outside ``bench/out``. ``SPINE_*`` variables are
    removed; the working directory holds an empty ``spine.toml`` (no pipelines to check).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(out / "pycache")
    env.pop("VIRTUAL_ENV", None)
    return env


def run_process(cmd: list[str], env: dict[str, str], cwd: Path, stdout: Any = subprocess.PIPE, log: Path | None = None) -> dict[str, Any]:
    """Run ``cmd``; its wall time, exit code, peak RSS (``os.wait4``) and stdout (when piped)."""
    err_path = log or (cwd / "last_stderr.log")
    with open(err_path, "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=stdout, stderr=err, env=env, cwd=cwd)
        data = p.stdout.read() if stdout is subprocess.PIPE and p.stdout is not None else b""
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.stdout is not None:
        p.stdout.close()
    return {"wall_s": wall, "rc": p.returncode, "maxrss_kib": usage.ru_maxrss, "stdout": data, "stderr_file": str(err_path)}


def _fail(what: str, res: dict[str, Any]) -> Failed:
    tail = Path(res["stderr_file"]).read_text(encoding="utf-8", errors="replace")[-3000:]
    return Failed(f"{what} exited {res['rc']}:\n{tail}")


def worker(mode: str, path: Path, n: int, env: dict[str, str], out: Path) -> dict[str, Any]:
    res = run_process([str(PYTHON), str(WORKER), mode, str(path), str(n)], env, out)
    if res["rc"] != 0:
        raise _fail(f"worker {mode} on {path.name}", res)
    data = json.loads(res["stdout"].decode().strip().splitlines()[-1])
    data["wall_s"] = res["wall_s"]
    data["process_maxrss_kib"] = res["maxrss_kib"]
    return data


def cli(kind: str, path: Path, n: int, env: dict[str, str], out: Path, verify: bool) -> dict[str, Any]:
    dest = out / f"cli_{kind}_{n}.json"
    if kind == "validate":
        cmd = [str(SPINE), "group", "validate", str(path), "--format", "json"]
    else:
        cmd = [str(SPINE), "group", "plan", str(path), "--json", "--batch-id", "bench"]
        for k, v in RUN_PARAMS.items():
            cmd += ["--param", f"{k}={v}"]
    with open(dest, "wb") as fh:
        res = run_process(cmd, env, out, stdout=fh)
    if res["rc"] != 0:
        raise _fail(f"spine group {kind} on {path.name}", res)
    if verify:  # in another process, so this one stays small (see the module docstring)
        chk = run_process([str(PYTHON), str(WORKER), "check-cli", kind, str(dest), str(path), str(n)], env, out)
        if chk["rc"] != 0:
            raise _fail(f"checking the output of spine group {kind} on {path.name}", chk)
        report = json.loads(chk["stdout"].decode().strip().splitlines()[-1])
        if report.get("warnings"):
            return {"wall_s": res["wall_s"], "maxrss_kib": res["maxrss_kib"], "warnings": report["warnings"]}
    return {"wall_s": res["wall_s"], "maxrss_kib": res["maxrss_kib"]}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def mib(kib: float) -> float:
    return kib / 1024.0


# -- the benchmark ----------------------------------------------------------------------


def measure_size(n: int, path: Path, repeat: int, env: dict[str, str], out: Path) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "graphlib": [], "spine": [], "cli_validate": [], "cli_plan": []}
    for r in range(repeat):  # interleaved, so drift on a noisy machine hits every column alike
        last = r == repeat - 1
        for mode in ("baseline", "graphlib", "spine"):
            runs[mode].append(worker(mode, path, n, env, out))
        runs["cli_validate"].append(cli("validate", path, n, env, out, verify=last))
        runs["cli_plan"].append(cli("plan", path, n, env, out, verify=last))
        print(f"  {n:>7,} steps  run {r + 1}/{repeat}: baseline {runs['baseline'][-1]['work_s']:.3f}s  "
              f"spine {runs['spine'][-1]['work_s']:.3f}s  cli validate {runs['cli_validate'][-1]['wall_s']:.3f}s  "
              f"cli plan {runs['cli_plan'][-1]['wall_s']:.3f}s", flush=True)

    def med(mode: str, key: str) -> float:
        return median([x[key] for x in runs[mode]])

    def peak(mode: str, key: str = "maxrss_kib") -> float:
        return mib(max(x[key] for x in runs[mode]))

    base, spine = med("baseline", "work_s"), med("spine", "work_s")
    summary = {
        "baseline_s": base,
        "graphlib_s": med("graphlib", "work_s"),
        "spine_s": spine,
        "ratio": spine / base,
        "ratio_graphlib": spine / med("graphlib", "work_s"),
        "per_step_us": {"baseline": base / n * 1e6, "graphlib": med("graphlib", "work_s") / n * 1e6, "spine": spine / n * 1e6},
        "spine_phases_s": {k: median([x["phases"][k] for x in runs["spine"]]) for k in runs["spine"][0]["phases"]},
        "baseline_phases_s": {k: median([x["phases"][k] for x in runs["baseline"]]) for k in runs["baseline"][0]["phases"]},
        "import_s": {"baseline": med("baseline", "import_s"), "spine": med("spine", "import_s")},
        "process_wall_s": {
            "baseline": med("baseline", "wall_s"),
            "graphlib": med("graphlib", "wall_s"),
            "cli_validate": med("cli_validate", "wall_s"),
            "cli_plan": med("cli_plan", "wall_s"),
        },
        "peak_rss_mib": {
            "baseline": peak("baseline"),
            "graphlib": peak("graphlib"),
            "spine_library": peak("spine"),
            "cli_validate": peak("cli_validate"),
            "cli_plan": peak("cli_plan"),
        },
    }
    summary["cli_validate_warnings"] = next((x["warnings"] for x in runs["cli_validate"] if x.get("warnings")), {})
    summary["peak_rss_mib"]["spine_max"] = max(
        summary["peak_rss_mib"][k] for k in ("spine_library", "cli_validate", "cli_plan")
    )
    return {"n": n, "repeat": repeat, "summary": summary, "runs": runs}


def measure_startup(runs: int, env: dict[str, str], out: Path) -> dict[str, Any]:
    def times(cmd: list[str], e: dict[str, str]) -> list[float]:
        for _ in range(2):  # warm-up: bytecode cache, page cache
            run_process(cmd, e, out, stdout=subprocess.DEVNULL)
        vals = []
        for _ in range(runs):
            res = run_process(cmd, e, out, stdout=subprocess.DEVNULL)
            if res["rc"] != 0:
                raise _fail(" ".join(cmd), res)
            vals.append(res["wall_s"])
        return vals

    as_is = dict(env)
    as_is.pop("PYTHONPYCACHEPREFIX", None)
    as_is["PYTHONDONTWRITEBYTECODE"] = "1"
    result = {
        "python_pass_s": times([str(PYTHON), "-c", "pass"], env),
        "spine_help_s": times([str(SPINE), "--help"], env),
        "spine_help_no_bytecode_cache_s": times([str(SPINE), "--help"], as_is),
    }
    summary = {k: median(v) for k, v in result.items()}
    # Where start-up time goes: the slowest imports (cumulative) of `spine --help`.
    res = run_process([str(PYTHON), "-X", "importtime", str(SPINE), "--help"], env, out, stdout=subprocess.DEVNULL)
    imports = []
    for line in Path(res["stderr_file"]).read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            parts = [p.strip() for p in line[len("import time:"):].split("|")]
            imports.append((int(parts[1]), parts[2].strip()))
    top = [{"module": m, "cumulative_us": us} for us, m in sorted(imports, reverse=True)[:8]]
    return {"runs": result, "summary": summary, "top_imports": top, "modules_imported": len(imports)}


# -- output -----------------------------------------------------------------------------


def print_report(results: dict[str, Any]) -> list[dict[str, Any]]:
    sizes = results["sizes"]
    print("\n== validate + plan, in-process work (imports excluded), median of runs")
    print(f"{'steps':>8} {'runs':>4} {'baseline s':>10} {'graphlib s':>10} {'spine s':>9} {'ratio':>6} "
          f"{'µs/step base':>12} {'µs/step spine':>13} {'peak RSS MiB':>12} {'load avg':>9}")
    for s in sizes:
        m = s["summary"]
        print(f"{s['n']:>8,} {s['repeat']:>4} {m['baseline_s']:>10.3f} {m['graphlib_s']:>10.3f} {m['spine_s']:>9.3f} "
              f"{m['ratio']:>6.2f} {m['per_step_us']['baseline']:>12.1f} {m['per_step_us']['spine']:>13.1f} "
              f"{m['peak_rss_mib']['spine_library']:>12.0f} "
              + (f"{s['load_average_1min'][0]:>4.1f}→{s['load_average_1min'][1]:<4.1f}" if "load_average_1min" in s else ""))
    print("  baseline = read + yaml.load(CSafeLoader) + nx.DiGraph + nx.topological_sort; graphlib = the same with")
    print("  graphlib.TopologicalSorter; spine = scan([file]) + validate_group + PlanResolver().resolve; ratio = spine/baseline")

    print("\n== whole processes (interpreter start + imports + work), median wall seconds; peak RSS MiB")
    print(f"{'steps':>8} {'baseline':>9} {'cli validate':>12} {'cli plan':>9} "
          f"{'validate/base':>13} {'plan/base':>9} {'RSS base':>8} {'RSS lib':>8} {'RSS val':>8} {'RSS plan':>8}")
    for s in sizes:
        w, r = s["summary"]["process_wall_s"], s["summary"]["peak_rss_mib"]
        print(f"{s['n']:>8,} {w['baseline']:>9.3f} {w['cli_validate']:>12.3f} {w['cli_plan']:>9.3f} "
              f"{w['cli_validate'] / w['baseline']:>13.2f} {w['cli_plan'] / w['baseline']:>9.2f} "
              f"{r['baseline']:>8.0f} {r['spine_library']:>8.0f} {r['cli_validate']:>8.0f} {r['cli_plan']:>8.0f}")
    print("  cli validate = `spine group validate FILE --format json`; cli plan = `spine group plan FILE --json --param …`")
    print("  (plan re-validates, so it is the CLI's validate+plan in one command)")
    for s in sizes:
        w = s["summary"].get("cli_validate_warnings")
        if w:
            print(f"  {s['n']:,} steps: cli validate reported warnings (lint): " + ", ".join(f"{c} {k}" for k, c in w.items()))

    ph = results.get("phases")
    if ph:
        print(f"\n== spine phases at {ph['n']:,} steps (one process; library functions timed one by one)")
        lib = {k: v for k, v in ph["phases"].items() if not k.startswith("CLI")}
        total = sum(v["s"] for v in lib.values())
        for label, v in ph["phases"].items():
            if label.startswith("CLI"):
                print(f"  {'library total (scan + validate_group + resolve)':<62} {total:>7.3f}s")
            gcs = v["gc_collections"]
            share = f"{100 * v['s'] / total:>5.1f}%" if label in lib else "     "
            print(f"  {label:<62} {v['s']:>7.3f}s {share}   gc runs gen0/1/2: {gcs[0]}/{gcs[1]}/{gcs[2]}")
        print("  (the three library calls as in the spine column, their inner functions timed through wrappers;")
        print("  a 'rest' holding a gen0 GC run is the deferred collection when the library un-pauses the GC)")

    st = results.get("startup")
    if st:
        sm = st["summary"]
        print(f"\n== start-up, median of {len(st['runs']['spine_help_s'])} runs")
        for label, key in (
            ("python -c pass", "python_pass_s"),
            ("spine --help (bytecode cached: the target)", "spine_help_s"),
            ("spine --help (PYTHONDONTWRITEBYTECODE=1, src/ not cached)", "spine_help_no_bytecode_cache_s"),
        ):
            print(f"  {label:<58} {sm[key]:.3f}s")
        print(f"  {st['modules_imported']} modules imported; slowest (cumulative µs): "
              + ", ".join(f"{t['module']} {t['cumulative_us']:,}" for t in st["top_imports"][:5]))

    verdicts = evaluate(results)
    print("\n== targets")
    for v in verdicts:
        print(f"  {'PASS' if v['pass'] else 'FAIL'}  {v['target']}: {v['detail']}")
    return verdicts


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    by_n = {s["n"]: s["summary"] for s in results["sizes"]}
    for n in sorted(by_n):
        if n >= 10_000:
            m = by_n[n]
            out.append({
                "target": f"validate+plan ≤ bare baseline at {n:,} steps",
                "pass": m["ratio"] <= TARGET_RATIO,
                "detail": f"spine {m['spine_s']:.3f}s / baseline {m['baseline_s']:.3f}s = {m['ratio']:.2f} (≤ {TARGET_RATIO})",
            })
    for n in sorted(by_n):
        m = by_n[n]
        rss = m["peak_rss_mib"]["spine_max"]
        out.append({
            "target": f"peak memory < 1 GiB at {n:,} steps",
            "pass": rss < TARGET_RSS_MIB,
            "detail": f"{rss:.0f} MiB (largest of library, cli validate, cli plan)",
        })
    big = max(by_n)
    if 10_000 in by_n and big > 10_000:
        a, b = by_n[10_000]["per_step_us"]["spine"], by_n[big]["per_step_us"]["spine"]
        out.append({
            "target": f"linear cost: per-step cost at {big:,} / at 10,000 ≈ 1",
            "pass": b / a <= TARGET_LINEARITY,
            "detail": f"{b:.1f} µs / {a:.1f} µs = {b / a:.2f} (≤ {TARGET_LINEARITY}; baseline: "
            f"{by_n[big]['per_step_us']['baseline'] / by_n[10_000]['per_step_us']['baseline']:.2f})",
        })
    st = results.get("startup")
    if st:
        h = st["summary"]["spine_help_s"]
        out.append({
            "target": "spine --help < 0.3 s",
            "pass": h < TARGET_HELP_S,
            "detail": f"{h:.3f}s (python -c pass: {st['summary']['python_pass_s']:.3f}s)",
        })
    return out


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "env": {k: os.environ.get(k) for k in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED", "PYTHONOPTIMIZE")},
        "child_env": "PYTHONDONTWRITEBYTECODE removed, PYTHONPYCACHEPREFIX=<out>/pycache, SPINE_* removed, cwd=<out> (empty spine.toml)",
    }
    try:
        info["cpu_model"] = next(
            line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo", encoding="utf-8") if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    try:
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        info["git_dirty"] = bool(
            subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        pass
    try:
        info["versions"] = json.loads(subprocess.run(
            [str(PYTHON), "-c", "import json, importlib.metadata as m; print(json.dumps({p: m.version(p) for p in "
             "('spine-core', 'pyyaml', 'networkx', 'jinja2', 'click')}))"],
            capture_output=True, text=True, check=True,
        ).stdout)
    except (OSError, subprocess.CalledProcessError, ValueError):
        pass
    return info


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="spine core benchmark: validate + plan against a bare PyYAML + networkx baseline.")
    ap.add_argument("--sizes", default="1000,10000,100000", help="comma-separated step counts (default: %(default)s)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported (default: %(default)s)")
    ap.add_argument("--quick", action="store_true", help="measure sizes ≥ 100,000 once, and start-up 5 times")
    ap.add_argument("--help-runs", type=int, default=10, help="runs of `spine --help` and `python -c pass` (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed (default: always exit 0)")
    ap.add_argument("--profile", action="store_true", help="also cProfile spine at the largest size (top functions on stderr)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=HERE / "out", help="output folder (default: bench/out, git-ignored)")
    args = ap.parse_args(argv)
    try:
        args.sizes = sorted({int(x.replace("_", "")) for x in args.sizes.split(",") if x.strip()})
    except ValueError:
        ap.error(f"--sizes takes comma-separated integers, got {args.sizes!r}")
    if not args.sizes or min(args.sizes) < 2:
        ap.error("--sizes needs step counts ≥ 2")
    if args.repeat < 1:
        ap.error("--repeat must be ≥ 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out: Path = args.out.resolve()
    (out / "groups").mkdir(parents=True, exist_ok=True)
    (out / "spine.toml").write_text(
        "# Written by bench/bench_core.py: the CLI runs here, with no pipelines to import or check.\n[tool.spine]\n",
        encoding="utf-8",
    )
    for exe in (PYTHON, SPINE):
        if not exe.exists():
            print(f"missing {exe}: run `uv sync` in {ROOT} first", file=sys.stderr)
            return 2
    env = child_env(out)
    started = dt.datetime.now(dt.UTC)
    print(f"spine core benchmark — {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; output in {out}")
    if os.environ.get("PYTHONUNBUFFERED"):
        print("note: PYTHONUNBUFFERED is set and inherited: the CLI writes its JSON to an unbuffered stdout")

    files: dict[int, dict[str, Any]] = {}
    t = time.perf_counter()
    gen = subprocess.run(
        [str(PYTHON), str(HERE / "_generate.py"), *map(str, args.sizes), "--out", str(out / "groups"), "--seed", str(args.seed), "--json"],
        capture_output=True, text=True, env=env,
    )
    if gen.returncode != 0:
        print(f"generating the groups failed:\n{gen.stderr}", file=sys.stderr)
        return 3
    for line in gen.stdout.splitlines():
        g = json.loads(line)
        g["path"] = Path(g["path"])
        files[g["n"]] = g
        print(f"generated {g['path'].name}: {g['n']:,} steps, {g['edges']:,} dependencies, {g['bytes'] / 2**20:.1f} MiB")
    print(f"  ({time.perf_counter() - t:.1f}s)", flush=True)


    results: dict[str, Any] = {
        "benchmark": "spine core: validate + plan",
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "options": {"sizes": args.sizes, "repeat": args.repeat, "quick": args.quick, "seed": args.seed,
                    "generator_version": GENERATOR_VERSION, "run_params": RUN_PARAMS},
        "sizes": [],
    }
    try:
        # Warm-up at the smallest size: bytecode cache, page cache. Not measured.
        n0 = args.sizes[0]
        for mode in ("baseline", "graphlib", "spine"):
            worker(mode, files[n0]['path'], n0, env, out)
        cli("validate", files[n0]['path'], n0, env, out, verify=True)
        cli("plan", files[n0]['path'], n0, env, out, verify=True)
        for n in args.sizes:
            repeat = 1 if args.quick and n >= 100_000 else args.repeat
            load_before = os.getloadavg()[0]
            entry = measure_size(n, files[n]['path'], repeat, env, out)
            entry["load_average_1min"] = [load_before, os.getloadavg()[0]]
            entry.update({"edges": files[n]["edges"], "file_bytes": files[n]["bytes"]})
            results["sizes"].append(entry)
        big = args.sizes[-1]
        print(f"  phase breakdown at {big:,} steps …", flush=True)
        ph = worker("phases", files[big]['path'], big, env, out)
        results["phases"] = {"n": big, "phases": ph["phases"], "maxrss_kib": ph["maxrss_kib"]}
        print("  start-up …", flush=True)
        results["startup"] = measure_startup(5 if args.quick else args.help_runs, env, out)
        if args.profile:
            print(f"  profiling at {big:,} steps (top functions in {out / 'profile.txt'}) …", flush=True)
            res = run_process([str(PYTHON), str(WORKER), "profile", str(files[big]['path']), str(big)], env, out,
                              log=out / "profile.txt")
            if res["rc"] != 0:
                raise _fail("profile", res)
    except Failed as exc:
        print(f"\nBENCHMARK FAILED: {exc}", file=sys.stderr)
        return 3

    verdicts = print_report(results)
    results["targets"] = verdicts
    # The floor of the CLI's ru_maxrss figures (see the module docstring).
    results["bench_process_maxrss_mib"] = mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    results["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    dest = out / "results.json"
    dest.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nresults: {dest}")
    if args.check and not all(v["pass"] for v in verdicts):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
