"""Pipelines for ``bench_run.py``: the generated groups' 12 pipeline names, as no-ops or sleepers.

A module of its own so Dask workers import it by name (``modules=("_run_pipelines",)``),
the way they import a project's pipelines. ``SPINE_BENCH_SLEEP=1`` in the environment of
the importing process makes every pipeline sleep ``duration(partition)`` seconds instead.
"""

from __future__ import annotations

import os
import random
import time

from _generate import PIPELINES

from spine.framework import register_pipeline

#: Sleep range of the makespan benchmark, seconds.
SLEEP_RANGE = (0.005, 0.020)
SLEEP_SEED = 20240105


def durations(n: int, seed: int = SLEEP_SEED) -> list[float]:
    """How long step ``i`` (its ``partition`` param) sleeps in the makespan benchmark."""
    rng = random.Random(f"sleep:{seed}:{n}")
    return [rng.uniform(*SLEEP_RANGE) for _ in range(n)]


def noop(params, ctx):
    return None


def noop_task(*dependencies):
    """The Dask baseline's task: takes its dependencies' results, does nothing."""
    return None


def make_sleeper(table: list[float]):
    def sleeper(params, ctx):
        time.sleep(table[params["partition"]])

    return sleeper


def register(fn) -> None:
    for name in PIPELINES:
        register_pipeline(name, allow_extra_params=True)(fn)


if os.environ.get("SPINE_BENCH_SLEEP"):
    register(make_sleeper(durations(int(os.environ["SPINE_BENCH_SLEEP"]))))
else:
    register(noop)
