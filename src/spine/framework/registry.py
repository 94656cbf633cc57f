"""The pipeline registry: names → callables, with their declared parameters.

Register a function or a :class:`Pipeline` subclass::

    @register_pipeline("finra.otc_transparency.ingest_week",
                       params=[ParamDef("tier", str, required=True, choices=["T1", "T2"])])
    def ingest_week(params, ctx):
        ...

    @register_pipeline("finra.otc_transparency.normalize_week")
    class NormalizeWeek(Pipeline):
        params = (ParamDef("week_ending", "date", required=True),)
        def run(self, params, ctx):
            ...
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar, cast

from spine.framework.params import ParamDef, check_params


class Pipeline:
    """Base class for class-style pipelines: declare ``params`` and implement ``run``."""

    params: ClassVar[tuple[ParamDef, ...]] = ()
    description: ClassVar[str] = ""

    def run(self, params: dict[str, Any], ctx: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class PipelineSpec:
    """A registered pipeline."""

    name: str
    target: Callable[..., Any] | type[Pipeline]
    params: tuple[ParamDef, ...] = ()
    description: str = ""
    #: Accept params no ParamDef declares (for pipelines with open-ended options).
    allow_extra_params: bool = False
    module: str = field(default="")

    def check(self, params: Mapping[str, Any]) -> list[str]:
        """Every problem of ``params`` against this pipeline's ParamDefs."""
        return check_params(self.params, params, allow_unknown=self.allow_extra_params)

    def call(self, params: dict[str, Any], ctx: Any) -> Any:
        """Run the pipeline body."""
        if inspect.isclass(self.target):
            pipeline = cast(Pipeline, self.target())
            return pipeline.run(params, ctx)
        return self.target(params, ctx)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "module": self.module,
            "allow_extra_params": self.allow_extra_params,
            "params": [p.to_dict() for p in self.params],
        }


class PipelineRegistry:
    """Name → :class:`PipelineSpec`. One default instance backs :func:`register_pipeline`."""

    def __init__(self) -> None:
        self._specs: dict[str, PipelineSpec] = {}

    def register(self, spec: PipelineSpec, *, replace: bool = False) -> PipelineSpec:
        if not replace and spec.name in self._specs and self._specs[spec.name].target is not spec.target:
            raise ValueError(
                f"pipeline {spec.name!r} is already registered by {self._specs[spec.name].module}; "
                "pass replace=True to override it"
            )
        self._specs[spec.name] = spec
        return spec

    def get(self, name: str) -> PipelineSpec | None:
        return self._specs.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[PipelineSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def clear(self) -> None:
        self._specs.clear()


#: The registry ``register_pipeline`` writes to unless told otherwise.
default_pipeline_registry = PipelineRegistry()

_T = TypeVar("_T")


def register_pipeline(
    name: str,
    *,
    params: Iterable[ParamDef] | None = None,
    description: str | None = None,
    allow_extra_params: bool = False,
    registry: PipelineRegistry | None = None,
    replace: bool = False,
) -> Callable[[_T], _T]:
    """Decorator registering a function ``f(params, ctx)`` or a :class:`Pipeline` subclass."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("register_pipeline needs a non-empty pipeline name")

    def decorate(target: _T) -> _T:
        declared = tuple(params) if params is not None else tuple(getattr(target, "params", ()) or ())
        if inspect.isclass(target) and not issubclass(target, Pipeline):
            raise TypeError(f"{target.__name__} must subclass spine.framework.Pipeline")
        doc = description
        if doc is None:
            doc = getattr(target, "description", "") or (inspect.getdoc(target) or "").split("\n")[0]
        spec = PipelineSpec(
            name=name,
            target=target,  # type: ignore[arg-type]
            params=declared,
            description=doc,
            allow_extra_params=allow_extra_params,
            module=getattr(target, "__module__", ""),
        )
        (registry if registry is not None else default_pipeline_registry).register(spec, replace=replace)
        return target

    return decorate
