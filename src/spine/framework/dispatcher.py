"""``Dispatcher.submit(pipeline_name, params, ctx)``: run one attempt of one pipeline.

The dispatcher is the one place a pipeline body is called. It looks the pipeline up
(importing the configured pipeline modules first when it is not registered — so a Dask
or a process worker finds the project's pipelines), calls ``fn(params, ctx)`` with a
private copy of the params, and checks that the result is JSON-able and not huge. It
raises; executors turn what it raises into data (:class:`~spine.runner.StepError`).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from spine.core.errors import SpineError
from spine.framework.context import ExecutionContext
from spine.framework.registry import PipelineRegistry, PipelineSpec, default_pipeline_registry

#: A result larger than this (as JSON) fails its step: results travel to dependents and the store.
MAX_RESULT_BYTES = 8 * 1024 * 1024


class PipelineNotFoundError(SpineError):
    """No pipeline of that name is registered (after importing the configured modules)."""


class ResultNotJSONError(SpineError):
    """A pipeline returned something that cannot be recorded as JSON."""


class Dispatcher:
    """Runs pipelines from a registry. ``modules`` are imported on a miss (workers)."""

    def __init__(self, registry: PipelineRegistry | None = None, modules: Sequence[str] = ()) -> None:
        self.registry = registry if registry is not None else default_pipeline_registry
        self.modules = tuple(modules)

    def lookup(self, name: str) -> PipelineSpec:
        spec = self.registry.get(name)
        if spec is None and self.modules:
            for module in self.modules:
                importlib.import_module(module)
            spec = self.registry.get(name)
        if spec is None:
            from spine.core.suggest import did_you_mean

            raise PipelineNotFoundError(f"no pipeline named {name!r} is registered{did_you_mean(name, self.registry.names())}")
        return spec

    def submit(self, pipeline_name: str, params: Mapping[str, Any], ctx: ExecutionContext) -> Any:
        """Run one attempt; return its JSON-able result or raise what the pipeline raised."""
        spec = self.lookup(pipeline_name)
        result = spec.call(_thaw(params), ctx)
        return check_result(result, pipeline_name)


def check_result(value: Any, pipeline: str = "the pipeline") -> Any:
    """``value`` as plain JSON (dates as ISO text); raises :class:`ResultNotJSONError`."""
    kind = type(value)
    if value is None or kind is bool or kind is int or (kind is str and 6 * len(value) + 2 <= MAX_RESULT_BYTES):
        return value  # plain JSON already, and small enough whatever its characters (6 bytes per \uXXXX)
    try:
        plain = _plain(value, 0)
        size = len(json.dumps(plain, allow_nan=False, separators=(",", ":")))
    except _NotJSON as exc:
        raise ResultNotJSONError(f"{pipeline} returned {exc}; return dicts, lists, strings, numbers, booleans or None") from None
    except ValueError as exc:  # NaN/inf, or a reference cycle
        raise ResultNotJSONError(f"{pipeline} returned a value JSON cannot hold ({exc})") from None
    if size > MAX_RESULT_BYTES:
        raise ResultNotJSONError(
            f"{pipeline} returned {size:,} bytes of JSON (limit {MAX_RESULT_BYTES:,}); write large data to files and return their paths"
        )
    return plain


class _NotJSON(Exception):
    pass


def _plain(value: Any, depth: int) -> Any:
    if depth > 100:
        raise _NotJSON("a value nested more than 100 levels deep")
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _NotJSON(f"a float {value!r} (not finite)")
        return value
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise _NotJSON(f"a mapping with a {type(k).__name__} key {k!r}")
            out[k] = _plain(v, depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise _NotJSON(f"a {type(value).__module__}.{type(value).__qualname__} that is not JSON-able")


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _thaw(value: Any) -> Any:
    """A private, mutable copy of (possibly read-only) params for the pipeline body."""
    kind = type(value)  # exact types first: an ABC isinstance check costs ~10x more
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thaw(v) for v in value]
    return value
