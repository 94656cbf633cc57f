"""Pipelines of the executor conformance suite (``executor_conformance.py``).

They live in a module of their own, free of test imports, so that every kind of worker
finds them the way a user's workers find theirs: by importing the module named in
``GroupRunner(modules=…)`` (a thread or a forked child already has them; a Dask worker in
another process imports this module on its first miss).
"""

from __future__ import annotations

import time
from pathlib import Path

from spine.framework import register_pipeline

#: The module to pass as ``GroupRunner(modules=…)``: workers import it by this name.
MODULE = __name__


@register_pipeline("conformance.echo", allow_extra_params=True)
def echo(params, ctx):
    """What the step saw: its name, attempt, params and upstream results."""
    return {"step": ctx.step, "attempt": ctx.attempt, "run_id": ctx.run_id, "params": params, "upstream": dict(ctx.upstream)}


@register_pipeline("conformance.sleep", allow_extra_params=True)
def sleep(params, ctx):
    """Sleep ``seconds`` (default 0.05), then return the step's name."""
    time.sleep(float(params.get("seconds", 0.05)))
    return {"step": ctx.step}


@register_pipeline("conformance.fail", allow_extra_params=True)
def fail(params, ctx):
    """Always raise a ValueError naming the step."""
    raise ValueError(f"boom in {ctx.step}")


@register_pipeline("conformance.not_json", allow_extra_params=True)
def not_json(params, ctx):
    """Return something JSON cannot hold."""
    return {"handle": object()}


@register_pipeline("conformance.print", allow_extra_params=True)
def shout(params, ctx):
    """Print ``text`` on stdout and ``text`` reversed on stderr."""
    import sys

    print(params["text"])
    print(params["text"][::-1], file=sys.stderr)
    return {"printed": len(params["text"])}


@register_pipeline("conformance.flaky", allow_extra_params=True)
def flaky(params, ctx):
    """Fail every attempt before ``succeed_on`` (default 2), then return the attempt."""
    if ctx.attempt < int(params.get("succeed_on", 2)):
        raise RuntimeError(f"attempt {ctx.attempt} of {ctx.step} fails on purpose")
    return {"attempt": ctx.attempt}


@register_pipeline("conformance.wait_for_cancel", allow_extra_params=True)
def wait_for_cancel(params, ctx):
    """Touch ``started`` (a path), then poll ``ctx.cancelled`` for up to ``seconds``.

    When it sees the cancel it writes ``seen`` (a path, if given) — a pipeline given up by
    its run can still be observed — and returns ``{"saw_cancel": True}``.
    """
    if params.get("started"):
        Path(params["started"]).touch()
    deadline = time.monotonic() + float(params.get("seconds", 30))
    while time.monotonic() < deadline:
        if ctx.cancelled:
            if params.get("seen"):
                Path(params["seen"]).write_text(f"{ctx.step} attempt {ctx.attempt}", encoding="utf-8")
            return {"saw_cancel": True}
        time.sleep(0.02)
    return {"saw_cancel": False}


#: Every pipeline this module registers.
NAMES = (
    "conformance.echo", "conformance.sleep", "conformance.fail", "conformance.not_json",
    "conformance.print", "conformance.flaky", "conformance.wait_for_cancel",
)
