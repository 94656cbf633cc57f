"""The executor conformance suite on the local executors (Dask's lives in test_executor_dask.py)."""

from __future__ import annotations

from typing import Any

from executor_conformance import ExecutorConformance

from spine.runner import GroupRunner


class TestInlineConformance(ExecutorConformance):
    runs_in_parallel = False

    def runner(self, **options: Any) -> GroupRunner:
        return GroupRunner("inline", **options)


class TestThreadsConformance(ExecutorConformance):
    def runner(self, **options: Any) -> GroupRunner:
        return GroupRunner("threads", **options)


class TestProcessesConformance(ExecutorConformance):
    def runner(self, **options: Any) -> GroupRunner:
        return GroupRunner("processes", **options)
