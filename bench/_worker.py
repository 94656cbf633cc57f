"""One measurement, in its own process: ``python bench/_worker.py MODE FILE [N]``.

Started by ``bench_core.py`` in a fresh interpreter per run so that imports, the garbage
collector's state and peak memory belong to this measurement only. Prints one JSON line
on stdout: ``import_s`` (importing what the mode needs), ``work_s`` (the measured work,
imports excluded), ``maxrss_kib`` (this process's peak RSS taken right after the work,
before any checking), phase times where the mode has phases, and ``checked``.

Modes:

* ``baseline``  — read + ``yaml.load(CSafeLoader)`` + ``networkx.DiGraph`` + ``topological_sort``
* ``graphlib``  — read + ``yaml.load(CSafeLoader)`` + ``graphlib.TopologicalSorter.static_order``
* ``spine``     — ``scan([path])`` + ``validate_group`` + ``PlanResolver().resolve`` (then the
  plan is checked against the file, outside the timing; a wrong plan exits 3)
* ``phases``    — the library functions one by one, with garbage-collector counts
* ``profile``   — the ``spine`` mode under cProfile; writes ``FILE.pstats`` next to the output
* ``check-cli KIND OUTPUT FILE N`` — checks what the CLI wrote (not measured)
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time

RUN_PARAMS = {"tier": "NMS_TIER_1", "week_ending": "2024-01-05"}


def _maxrss_kib() -> int:
    """This process's peak RSS in KiB: ``VmHWM`` of its own address space.

    Not ``ru_maxrss``: on Linux that also counts the parent's peak RSS at the time of the
    ``fork``/``exec`` (the kernel carries the replaced address space's high-water mark
    over into the process's ``maxrss``), so it would charge the benchmark's own memory
    to the measured process.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _truth(path: str) -> tuple[list[str], dict[str, list[str]]]:
    """Step names and dependencies as the generator wrote them (``*.truth.json``), not read by spine."""
    from pathlib import Path

    p = Path(path)
    data = json.loads(p.with_name(p.stem + ".truth.json").read_text(encoding="utf-8"))
    names = [f"step_{i:06d}" for i in range(data["n"])]
    return names, {names[i]: [names[d] for d in ds] for i, ds in enumerate(data["deps"])}


def baseline(path: str, n: int) -> dict:
    t0 = time.perf_counter()
    import networkx as nx
    import yaml

    t1 = time.perf_counter()
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    t2 = time.perf_counter()
    data = yaml.load(text, Loader=yaml.CSafeLoader)
    t3 = time.perf_counter()
    g = nx.DiGraph()
    for step in data["spec"]["pipelines"]:
        g.add_node(step["name"])
        for dep in step.get("depends_on") or ():
            g.add_edge(dep, step["name"])
    t4 = time.perf_counter()
    order = list(nx.topological_sort(g))
    t5 = time.perf_counter()
    rss = _maxrss_kib()
    if len(order) != n:
        raise SystemExit(f"baseline: topological order has {len(order)} steps, expected {n}")
    return {
        "import_s": t1 - t0,
        "work_s": t5 - t1,
        "maxrss_kib": rss,
        "phases": {"read": t2 - t1, "yaml_load": t3 - t2, "digraph": t4 - t3, "topological_sort": t5 - t4},
        "checked": True,
    }


def graphlib_baseline(path: str, n: int) -> dict:
    t0 = time.perf_counter()
    import graphlib

    import yaml

    t1 = time.perf_counter()
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    t2 = time.perf_counter()
    data = yaml.load(text, Loader=yaml.CSafeLoader)
    t3 = time.perf_counter()
    ts = graphlib.TopologicalSorter({s["name"]: s.get("depends_on") or () for s in data["spec"]["pipelines"]})
    order = list(ts.static_order())
    t4 = time.perf_counter()
    rss = _maxrss_kib()
    if len(order) != n:
        raise SystemExit(f"graphlib: static order has {len(order)} steps, expected {n}")
    return {
        "import_s": t1 - t0,
        "work_s": t4 - t1,
        "maxrss_kib": rss,
        "phases": {"read": t2 - t1, "yaml_load": t3 - t2, "static_order": t4 - t3},
        "checked": True,
    }


def check_plan(plan: object, path: str, n: int) -> None:
    """Fail loudly unless ``plan`` is a correct, stable plan of the file's group."""
    names, deps = _truth(path)
    steps = plan.steps  # type: ignore[attr-defined]
    problems: list[str] = []
    if len(steps) != n or len(names) != n:
        problems.append(f"plan has {len(steps)} steps, the file {len(names)}, expected {n}")
    pos = {s.name: i for i, s in enumerate(steps)}
    if set(pos) != set(names):
        problems.append("the plan's step names differ from the file's")
    gen = {s.name: s.generation for s in steps}
    for i, s in enumerate(steps):
        if s.sequence_order != i:
            problems.append(f"{s.name}: sequence_order {s.sequence_order} at position {i}")
            break
    bad_edges = 0
    for name, ds in deps.items():
        if name not in pos:
            continue
        for d in ds:
            if d not in pos or pos[d] >= pos[name] or gen[d] >= gen[name]:
                bad_edges += 1
        want = 1 + max((gen[d] for d in ds if d in gen), default=-1)
        if gen[name] != want:
            problems.append(f"{name}: generation {gen[name]}, expected {want}")
            break
    if bad_edges:
        problems.append(f"{bad_edges} dependency edges are not respected by order or generation")
    # The file declares steps in a topological order, so a stable order keeps it.
    if [s.name for s in steps] != names:
        problems.append("the order is not the declaration order (the planner is not stable)")
    flat = [x for g in plan.generations for x in g]  # type: ignore[attr-defined]
    if sorted(flat) != sorted(names):
        problems.append("generations do not partition the steps")
    cp = list(plan.critical_path)  # type: ignore[attr-defined]
    if len(cp) != max(gen.values()) + 1 or any(cp[k] not in deps[cp[k + 1]] for k in range(len(cp) - 1)):
        problems.append("the critical path is not a longest dependency chain")
    p0 = steps[0].params
    if p0.get("tier") != RUN_PARAMS["tier"] or p0.get("week_ending") != RUN_PARAMS["week_ending"] or p0.get("force") is not False:
        problems.append(f"params were not resolved: {dict(p0)!r}")
    for s in steps:
        out = s.params.get("output")
        if out is not None and out != f"warehouse/{plan.group.name}/{RUN_PARAMS['week_ending']}/{s.name}":  # type: ignore[attr-defined]
            problems.append(f"{s.name}: templated param rendered as {out!r}")
            break
    if problems:
        print("PLAN CHECK FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
        raise SystemExit(3)


def spine_run(path: str, n: int) -> dict:
    t0 = time.perf_counter()
    from spine.orchestration import PlanResolver, scan, validate_group

    t1 = time.perf_counter()
    loaded = scan([path])
    t2 = time.perf_counter()
    if len(loaded) != 1 or loaded[0].group is None or loaded[0].findings:
        raise SystemExit(f"spine: scan did not load one valid group: {[f.message for lg in loaded for f in lg.findings][:5]}")
    group = loaded[0].group
    findings = [f for f in validate_group(group) if f.severity.value == "error"]
    t3 = time.perf_counter()
    if findings:
        raise SystemExit(f"spine: validate_group found {len(findings)} problems: {[f.message for f in findings[:5]]}")
    plan = PlanResolver().resolve(group, RUN_PARAMS)
    t4 = time.perf_counter()
    rss = _maxrss_kib()
    check_plan(plan, path, n)
    return {
        "import_s": t1 - t0,
        "work_s": t4 - t1,
        "maxrss_kib": rss,
        "phases": {"scan": t2 - t1, "validate_group": t3 - t2, "resolve": t4 - t3},
        "checked": True,
    }


def phases(path: str, n: int) -> dict:
    """Where ``scan`` + ``validate_group`` + ``resolve`` spend their time, in one process.

    The three library calls are made exactly as in the ``spine`` mode; the functions they
    call (``read_bytes``, ``read_documents``, ``parse_document``, ``analyze``,
    ``check_templates``) are timed through wrappers put on the calling modules' names —
    the benchmark's own instrumentation, spine is not changed — so each phase runs under
    whatever garbage-collector setting the library gives it. "param resolution" is what is
    left of ``resolve``: merging the layers, rendering templates, building the plan.
    """
    t0 = time.perf_counter()
    import io

    import spine.orchestration.loader as loader_mod
    import spine.orchestration.planner as planner_mod
    from spine.cli.output import dump_json
    from spine.orchestration import PlanResolver, scan, validate_group

    t_import = time.perf_counter() - t0
    collections = [0, 0, 0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            collections[info["generation"]] += 1

    inner: dict[str, list[float]] = {}  # name -> [seconds, gen0, gen1, gen2]

    def wrap(module, name: str):
        fn = getattr(module, name)

        def wrapper(*a, **k):
            before = list(collections)
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                acc = inner.setdefault(name, [0.0, 0, 0, 0])
                acc[0] += time.perf_counter() - t
                for g in range(3):
                    acc[g + 1] += collections[g] - before[g]

        setattr(module, name, wrapper)

    for name in ("read_bytes", "read_documents", "parse_document"):
        wrap(loader_mod, name)
    for name in ("analyze", "check_templates"):
        wrap(planner_mod, name)
    gc.callbacks.append(on_gc)
    out: dict[str, dict] = {}

    def outer(label: str, parts: dict[str, str], rest: str, fn, *args):
        inner.clear()
        before = list(collections)
        t = time.perf_counter()
        result = fn(*args)
        total = time.perf_counter() - t
        gcs = [a - b for a, b in zip(collections, before)]
        accounted = 0.0
        for name, sub in parts.items():
            s, *g = inner.get(name, [0.0, 0, 0, 0])
            out[f"{label}: {sub}"] = {"s": s, "gc_collections": g}
            accounted += s
        rest_gc = [gcs[i] - sum(inner.get(nm, [0, 0, 0, 0])[i + 1] for nm in parts) for i in range(3)]
        out[f"{label}: {rest}"] = {"s": total - accounted, "gc_collections": rest_gc}
        return result

    loaded = outer(
        "scan",
        {"read_bytes": "read_bytes (file)", "read_documents": "read_documents (read/compose YAML)", "parse_document": "parse_document (spec check)"},
        "rest (files, LoadedGroup)",
        scan,
        [path],
    )
    group = loaded[0].group
    findings = outer(
        "validate_group",
        {"analyze": "analyze (graph analysis)", "check_templates": "check_templates"},
        "rest",
        validate_group,
        group,
    )
    if loaded[0].findings or any(f.severity.value == "error" for f in findings):
        raise SystemExit("phases: the group has errors")
    plan = outer(
        "resolve",
        {"analyze": "analyze again (graph analysis)", "check_templates": "check_templates again"},
        "param resolution (merge, render, build plan)",
        PlanResolver().resolve,
        group,
        RUN_PARAMS,
    )
    rss = _maxrss_kib()
    library_total = sum(v["s"] for v in out.values())

    def to_json() -> None:  # as `spine group plan --json` does
        from spine.cli import commands

        limit = getattr(commands, "PRETTY_LIMIT", None)
        kwargs = {"pretty": len(plan.steps) <= limit} if limit is not None else {}
        data = plan.to_dict()
        data["pipelines_checked"] = False
        dump_json(data, io.StringIO(), **kwargs)

    before = list(collections)
    t = time.perf_counter()
    to_json()
    out["CLI only: plan.to_dict + dump_json (into memory)"] = {
        "s": time.perf_counter() - t,
        "gc_collections": [a - b for a, b in zip(collections, before)],
    }
    gc.callbacks.remove(on_gc)
    check_plan(plan, path, n)
    return {"import_s": t_import, "work_s": library_total, "maxrss_kib": rss, "phases": out, "checked": True}


def check_cli(kind: str, output: str, path: str, n: int) -> dict:
    """Check what ``spine group validate|plan`` wrote (a separate, unmeasured process)."""
    with open(output, encoding="utf-8") as fh:
        data = json.load(fh)
    if kind == "validate":  # warnings (lint) are fine: the group is valid
        errors = [f for f in data["findings"] if f.get("severity") == "error"]
        if not data.get("valid") or data["groups"][0]["steps"] != n or errors:
            raise SystemExit(f"spine group validate: unexpected report {str(data)[:300]} {errors[:3]}")
        codes: dict[str, int] = {}
        for f in data["findings"]:
            codes[f["code"]] = codes.get(f["code"], 0) + 1
        return {"checked": True, "warnings": codes}
    names, deps = _truth(path)
    got = [s["name"] for s in data["steps"]]
    pos = {x: i for i, x in enumerate(got)}
    bad = sum(1 for s in data["steps"] for d in deps.get(s["name"], ()) if pos.get(d, n) >= pos[s["name"]])
    problems = []
    if got != names:
        problems.append(f"order differs from the (topological) declaration order; {len(got)} steps, expected {n}")
    if bad:
        problems.append(f"{bad} dependency edges not respected")
    if [s["sequence_order"] for s in data["steps"]] != list(range(len(got))):
        problems.append("sequence_order is not 0..n-1")
    if data["steps"] and data["steps"][0]["params"].get("tier") != RUN_PARAMS["tier"]:
        problems.append("run params were not applied")
    if problems:
        raise SystemExit("spine group plan: " + "; ".join(problems))
    return {"checked": True}


def profile(path: str, n: int) -> dict:
    import cProfile
    import pstats

    from spine.orchestration import PlanResolver, scan, validate_group

    prof = cProfile.Profile()
    prof.enable()
    loaded = scan([path])
    group = loaded[0].group
    validate_group(group)
    plan = PlanResolver().resolve(group, RUN_PARAMS)
    prof.disable()
    out = path + ".pstats"
    prof.dump_stats(out)
    stats = pstats.Stats(prof, stream=sys.stderr)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(25)
    check_plan(plan, path, n)
    return {"pstats": out, "checked": True}


MODES = {"baseline": baseline, "graphlib": graphlib_baseline, "spine": spine_run, "phases": phases, "profile": profile}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "check-cli":  # check-cli KIND OUTPUT FILE N
        result = check_cli(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        result = MODES[mode](sys.argv[2], int(sys.argv[3]))
    print(json.dumps(result))
