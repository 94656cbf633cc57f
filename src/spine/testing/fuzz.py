"""Fuzz a real group: many run params and mutations, each checked, failures shrunk.

:func:`fuzz_group` runs three hypothesis properties against one group and returns what
happened as data (:class:`FuzzResult`); ``spine group fuzz`` prints it.

1. **valid run params** — for run params drawn by :func:`spine.testing.run_params`
   (every name the templates use, every required param, values that fit the
   ``ParamDef``\\ s), the plan resolves: every template renders and every step's merged
   params satisfy its pipeline's ``ParamDef``\\ s. A template that breaks only for some
   values (an empty list, a month end, a choice never tried) is found here.
2. **invalid run params** (pipelines registered) — params from
   :func:`spine.testing.invalid_run_params` are rejected with the expected finding.
3. **mutations** — each small edit from :func:`spine.testing.mutations` (a back edge, a
   dropped or renamed step others depend on, a duplicate, a self-dependency …) is caught
   by ``validate_group`` with its expected finding.

A failure keeps hypothesis's minimal (shrunk) counterexample. Runs are deterministic for
a given ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from spine.core.errors import GroupError
from spine.core.findings import Finding, Severity
from spine.core.jsonable import jsonable
from spine.framework.registry import PipelineRegistry
from spine.orchestration.models import PipelineGroup
from spine.orchestration.planner import PlanResolver, validate_group

CHECKS = ("valid run params", "invalid run params", "mutations")


@dataclass(frozen=True, slots=True)
class Counterexample:
    """The minimal input that broke a check, and what went wrong."""

    #: The run params (checks 1 and 2) or the mutation's kind and edited steps (check 3).
    example: dict[str, Any]
    #: What was expected and what happened instead.
    problem: str
    findings: tuple[Finding, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"example": jsonable(self.example), "problem": self.problem, "findings": [f.to_dict() for f in self.findings]}


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    #: How many examples ran (including shrinking).
    examples: int
    ok: bool
    counterexample: Counterexample | None = None
    #: Why the check did not run (e.g. no pipelines registered), when it did not.
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "examples": self.examples,
            "ok": self.ok,
            "skipped": self.skipped,
            "counterexample": self.counterexample.to_dict() if self.counterexample else None,
        }


@dataclass(frozen=True, slots=True)
class FuzzResult:
    group: str
    file: str | None
    seed: int
    checks: tuple[CheckResult, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "file": self.file, "seed": self.seed, "ok": self.ok, "checks": [c.to_dict() for c in self.checks]}


class _Broken(AssertionError):
    """Raised inside a property; carries the counterexample out of hypothesis."""

    def __init__(self, counterexample: Counterexample) -> None:
        super().__init__(counterexample.problem)
        self.counterexample = counterexample


def _errors(findings: Any) -> tuple[Finding, ...]:
    return tuple(f for f in findings if f.severity is Severity.ERROR)


def _run_property(strategy: Any, check: Callable[[Any], None], examples: int, seed: int) -> tuple[int, Counterexample | None]:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as with_seed

    count = 0

    @settings(max_examples=examples, database=None, deadline=None, suppress_health_check=list(HealthCheck), print_blob=False)
    @with_seed(seed)
    @given(strategy)
    def prop(value: Any) -> None:
        nonlocal count
        count += 1
        check(value)

    try:
        prop()
    except _Broken as exc:
        return count, exc.counterexample
    return count, None


def fuzz_group(
    group: PipelineGroup,
    registry: PipelineRegistry | None = None,
    *,
    examples: int = 100,
    seed: int = 0,
    progress: Callable[[str, CheckResult], None] | None = None,
    starting: Callable[[str, str], None] | None = None,
    groups: Any = None,
) -> FuzzResult:
    """Run the three checks against ``group``; see the module docstring. Groups its steps
    call are looked up in ``groups`` (as :class:`PlanResolver` does)."""
    from hypothesis.errors import InvalidArgument, Unsatisfiable

    from spine.testing import invalid_run_params, mutations, run_params

    if examples < 1:
        raise ValueError("examples must be at least 1")
    resolver = PlanResolver(registry, groups)
    results: list[CheckResult] = []

    def record(result: CheckResult) -> None:
        results.append(result)
        if progress is not None:
            progress(group.name, result)

    def valid(params: dict[str, Any]) -> None:
        try:
            resolver.resolve(group, params, batch_id="fuzz")
        except GroupError as exc:
            raise _Broken(Counterexample(dict(params), "valid run params were rejected", _errors(exc.findings))) from None
        except Exception as exc:
            raise _Broken(Counterexample(dict(params), f"resolving crashed: {type(exc).__name__}: {exc}")) from None

    def invalid(case: tuple[dict[str, Any], Any]) -> None:
        params, expected = case
        try:
            resolver.resolve(group, params, batch_id="fuzz")
        except GroupError as exc:
            codes = {f.code for f in _errors(exc.findings)}
            if not expected.codes <= codes:
                raise _Broken(
                    Counterexample(
                        {"params": params, "kind": expected.kind},
                        f"expected {', '.join(sorted(expected.codes))}, got {', '.join(sorted(codes))}",
                        _errors(exc.findings),
                    )
                ) from None
            return
        raise _Broken(Counterexample({"params": params, "kind": expected.kind}, f"{expected.kind}: invalid run params were accepted"))

    def mutated(case: tuple[PipelineGroup, Any]) -> None:
        new, expected = case
        try:
            codes = {f.code for f in _errors(validate_group(new, registry, groups=resolver.groups))}
        except Exception as exc:
            raise _Broken(Counterexample(_describe(group, new, expected.kind), f"validation crashed: {type(exc).__name__}: {exc}")) from None
        if not expected.codes <= codes:
            got = ", ".join(sorted(codes)) or "nothing"
            raise _Broken(Counterexample(_describe(group, new, expected.kind), f"expected {', '.join(sorted(expected.codes))}, got {got}"))

    plan: list[tuple[str, Callable[[], Any], Callable[[Any], None]]] = [
        (CHECKS[0], lambda: run_params(group, registry, groups=resolver.groups), valid),
        (CHECKS[1], lambda: invalid_run_params(group, registry, groups=resolver.groups) if registry is not None else None, invalid),
        (CHECKS[2], lambda: mutations(group, registry), mutated),
    ]
    for name, make, check in plan:
        if starting is not None:
            starting(group.name, name)
        try:
            strategy = make()
        except InvalidArgument as exc:
            record(CheckResult(name, 0, True, skipped=str(exc)))
            continue
        if strategy is None:
            record(CheckResult(name, 0, True, skipped="no pipelines are registered, so no param can be wrong"))
            continue
        try:
            count, failure = _run_property(strategy, check, examples, seed)
        except Unsatisfiable as exc:
            record(CheckResult(name, 0, True, skipped=f"no examples could be generated: {exc}"))
            continue
        record(CheckResult(name, count, failure is None, failure))
    return FuzzResult(group.name, group.source.file if group.source else None, seed, tuple(results))


def _describe(old: PipelineGroup, new: PipelineGroup, kind: str) -> dict[str, Any]:
    """A mutation as data: its kind and the steps it added, removed or changed."""
    before = {s.name: s for s in old.steps}
    after_names = [s.name for s in new.steps]
    changed = [s.to_dict() for s in new.steps if before.get(s.name) != s]
    removed = [n for n in before if n not in after_names]
    out: dict[str, Any] = {"mutation": kind}
    if changed:
        out["changed_or_added_steps"] = changed
    if removed:
        out["removed_steps"] = removed
    if len(after_names) != len(set(after_names)):
        out["duplicated"] = sorted({n for n in after_names if after_names.count(n) > 1})
    return out


__all__ = ["CHECKS", "CheckResult", "Counterexample", "FuzzResult", "fuzz_group"]
