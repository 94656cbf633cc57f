"""``/metrics``: Prometheus series of one app, in its own ``CollectorRegistry``.

- ``spine_runs_started_total{group}`` and ``spine_runs_finished_total{group,status}``:
  runs this server started (and resumed, and replays) and how they ended;
- ``spine_step_duration_seconds{group,status}``: a histogram of step attempt durations;
- ``spine_active_runs`` and ``spine_queued_runs``: runs executing in this server's run
  workers, and runs waiting for a worker;
- ``spine_pool_slots_in_use{pool}``: pool slots held in the store (by any process),
  read when scraped.

Step names are not labels (unbounded, and any printable text); group names are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

#: Bucket bounds of the step duration histogram (seconds).
STEP_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class Metrics:
    """The series of one app (see the module docstring)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.runs_started = Counter("spine_runs_started", "Runs started by this server (also resumes and replays).", ["group"], registry=r)
        self.runs_finished = Counter("spine_runs_finished", "Runs this server finished, by final status.", ["group", "status"], registry=r)
        self.step_duration = Histogram("spine_step_duration_seconds", "Duration of step attempts run by this server.", ["group", "status"],
                                       buckets=STEP_BUCKETS, registry=r)
        self.active_runs = Gauge("spine_active_runs", "Runs executing in this server's run workers.", registry=r)
        self.queued_runs = Gauge("spine_queued_runs", "Runs waiting for a run worker of this server.", registry=r)
        self._pool_source: Callable[[], dict[str, int]] | None = None

    def watch_pools(self, source: Callable[[], dict[str, int]]) -> None:
        """Read pool slots in use (pool → count) from ``source`` at every scrape."""
        from prometheus_client.core import GaugeMetricFamily

        self._pool_source = source
        outer = self

        class _Pools:
            def collect(self) -> Iterator[Any]:
                family = GaugeMetricFamily("spine_pool_slots_in_use", "Pool slots held in the store, by pool.", labels=["pool"])
                if outer._pool_source is not None:
                    try:
                        counts = outer._pool_source()
                    except Exception:  # the store is unreachable: the series is absent for this scrape
                        counts = {}
                    for pool, n in sorted(counts.items()):
                        family.add_metric([pool], n)
                yield family

            def describe(self) -> list[Any]:
                return []

        self.registry.register(_Pools())

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


__all__ = ["STEP_BUCKETS", "Metrics"]
