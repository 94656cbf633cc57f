"""The no-op of ``bench_celery.py``, twice: a spine pipeline and a bare Celery task.

Imported by the ``spine worker`` processes (``[tool.spine] pipelines``): the pipeline
registers with spine, the task with every Celery app (``shared_task``), so the same workers
serve both sides of the comparison.
"""

from __future__ import annotations

from celery import shared_task

from spine.framework import register_pipeline


@register_pipeline("bench.noop", allow_extra_params=True)
def noop(params, ctx):
    return None


@shared_task(name="bench.noop_task")
def noop_task():
    return None
