"""The checking pipeline: paths (or documents, or groups) in, a :class:`ValidationReport` out.

For every document: the reader's findings, the hard checks and the lint rules
(``check_group``), ``duplicate-group`` across everything checked, the run params the
group reads — and, when run params are given, its plan or why there is none. Then the
``--param``\\ s no group reads are found, and ignored warning codes are dropped.

``spine group validate``, ``report``, ``plan``, ``fuzz`` and ``diff`` call this; later the
HTTP API will too. Nothing here prints: the CLI renders the report.

Inputs are de-duplicated by resolved path: the same file given twice, or a folder and a
file inside it, is read and checked once (under the first name it was given as).

Run params and groups:

* each group gets the run params it reads (:mod:`spine.check.run_params`); a run param
  that *no* group reads is an ``unused-run-param`` warning with a did-you-mean, and is
  still applied to every group (a pipeline that accepts any param receives it);
* a run param a group needs that was not given is **one** ``missing-run-param`` finding
  listing the steps that need it — a warning where a report can do without the plan, an
  error where a plan is required (``require_run_params``);
* ``required-param-from-run`` (a definition-time warning: "this must come from the
  run") is dropped once run params are given: ``missing-run-param`` answers it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spine.check.errors import NoGroupFilesError, PathNotFoundError
from spine.check.report import CheckSettings, FileCheck, GroupCheck, PlanStatus, ValidationReport
from spine.check.run_params import ParamRead, RunParamUse, run_params_of
from spine.core.findings import Code, Finding, Severity

if TYPE_CHECKING:
    from spine.orchestration.loader import LoadedGroup
    from spine.orchestration.models import PipelineGroup
    from spine.yamlio.reader import Limits

__all__ = ["STDIN", "check_documents", "check_groups", "check_paths", "group_files", "read_paths"]

#: Steps named in one ``missing-run-param`` message before "… and N more".
MAX_STEPS_NAMED = 8


def group_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The group files under ``paths`` (folders searched recursively, hidden ones
    skipped), each once: a file reached twice — given twice, through a folder and by
    name, through a symlink — is kept where it first appears.

    Raises :class:`PathNotFoundError` for a path that does not exist.
    """
    from spine.orchestration.loader import iter_group_files

    out: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        if not Path(raw).exists():
            raise PathNotFoundError(str(raw))
        out.extend(path for path in iter_group_files([raw]) if _first_time(path, seen))
    return out


#: A path that means "the documents ``stdin`` gives" in :func:`read_paths`.
STDIN = "-"


def read_paths(
    paths: Sequence[str | os.PathLike[str]],
    limits: Limits | None = None,
    *,
    stdin: Callable[[], Sequence[LoadedGroup]] | None = None,
) -> list[LoadedGroup]:
    """Every document under ``paths``, in the order given, each file once (see
    :func:`group_files`). With ``stdin``, a path ``-`` stands for the documents it returns
    (the CLI reads them from standard input); without it, ``-`` is an ordinary name.

    Raises :class:`PathNotFoundError` for a path that does not exist and
    :class:`NoGroupFilesError` when the paths hold no group file at all.
    """
    from spine.orchestration.loader import scan

    out: list[LoadedGroup] = []
    seen: set[Path] = set()
    files = 0
    for raw in paths:
        if stdin is not None and str(raw) == STDIN:
            out.extend(stdin())
            files += 1
            continue
        found = [f for f in group_files([raw]) if _first_time(f, seen)]
        files += len(found)
        out.extend(scan(found, limits) if found else [])
    if paths and not files:
        raise NoGroupFilesError([str(p) for p in paths])
    return out


def _first_time(path: Path, seen: set[Path]) -> bool:
    try:
        key = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop, a vanished folder: keep the name
        key = path.absolute()
    if key in seen:
        return False
    seen.add(key)
    return True


def check_paths(
    paths: Sequence[str | os.PathLike[str]],
    settings: CheckSettings | None = None,
    *,
    stdin: Callable[[], Sequence[LoadedGroup]] | None = None,
    on_read: Callable[[Sequence[PipelineGroup]], None] | None = None,
) -> ValidationReport:
    """Read (:func:`read_paths`) and check every group under ``paths``, then
    ``settings.extra_groups``. ``on_read`` is called with the groups (those read, then the
    extra ones) before anything is checked: the report starts Graphviz there.

    Raises :class:`PathNotFoundError` for a path that does not exist and
    :class:`NoGroupFilesError` when the paths hold no group file (or, with no paths, no
    extra groups were given): a check of nothing must not pass.
    """
    settings = settings or CheckSettings()
    if not paths and not settings.extra_groups:
        raise NoGroupFilesError([], "nothing to check: no paths, and no groups registered in Python")
    loaded = read_paths(paths, settings.limits, stdin=stdin)
    if on_read is not None:
        on_read([lg.group for lg in loaded if lg.group is not None] + list(settings.extra_groups))
    return check_documents(loaded, settings)


def check_groups(groups: Iterable[PipelineGroup], settings: CheckSettings | None = None) -> ValidationReport:
    """Check groups built in Python or taken from a registry (their findings are located
    in their YAML when they came from a file)."""
    from spine.orchestration.loader import LoadedGroup

    loaded = [LoadedGroup(g.source.file if g.source else None, 0, g, [], g.name) for g in groups]
    return check_documents(loaded, settings)


def check_documents(loaded: Sequence[LoadedGroup], settings: CheckSettings | None = None) -> ValidationReport:
    """Check documents already read (``scan``, ``read_text``, a git revision), then
    ``settings.extra_groups``."""
    from spine.orchestration.loader import LoadedGroup

    settings = settings or CheckSettings()
    documents = list(loaded) + [LoadedGroup(None, 0, g, [], g.name) for g in settings.extra_groups]
    registry = settings.registry
    from spine.orchestration.nesting import GroupSource

    # a nested group is found among the groups checked first, then in settings.groups
    known = GroupSource((lg.group for lg in documents if lg.group is not None), GroupSource.of(settings.groups))
    first_seen: dict[str, tuple[str | None, int | None]] = {}
    entries: list[tuple[LoadedGroup, str | None, list[Finding], RunParamUse | None]] = []
    for lg in documents:
        name = lg.group.name if lg.group is not None else lg.name
        found = [f.with_context(group=name) for f in lg.findings]
        use = None
        if lg.group is not None:
            found.extend(_hard_and_lint(lg.group, settings, known))
            line, column = lg.group.source.group if lg.group.source else (None, None)
            first = first_seen.get(lg.group.name)
            if first is not None:
                found.append(_duplicate_group(lg.group.name, first, lg.file, line, column))
            else:
                first_seen[lg.group.name] = (lg.file, line)
            use = run_params_of(lg.group, registry)
        entries.append((lg, name, found, use))

    given = settings.run_params
    uses = [use for _, _, _, use in entries if use is not None]
    unread = _unread(given, uses) if given else set()
    own = _unused_findings(given, unread, uses, entries) if given else []

    checks: list[GroupCheck] = []
    for lg, name, found, use in entries:
        params: dict[str, Any] = {}
        if given is not None and use is not None:
            params = {k: v for k, v in given.items() if k in unread or use.reads_name(k)}
        plan, status, note = None, PlanStatus.NOT_REQUESTED, None
        if lg.group is None:
            status, note = PlanStatus.NOT_LOADED, "the document could not be read as a group"
        elif any(f.severity is Severity.ERROR for f in found):
            status, note = PlanStatus.INVALID, "the group has errors"
        elif given is not None and use is not None:
            found = [f for f in found if f.code != Code.REQUIRED_PARAM_FROM_RUN]
            plan, status, note, more = _plan(lg.group, use, params, settings, known)
            found.extend(more)
        kept = [f for f in found if not (f.severity is Severity.WARNING and f.code in settings.ignore)]
        kept.sort(key=lambda f: (f.line is None, f.line or 0, f.column or 0))
        checks.append(
            GroupCheck(
                file=lg.file,
                document=lg.document,
                name=name,
                group=lg.group,
                findings=tuple(kept),
                run_params=use,
                params=params,
                plan=plan,
                plan_status=status,
                plan_note=note,
                strict=settings.strict,
                ignored=len(found) - len(kept),
            )
        )
    own = [f for f in own if f.code not in settings.ignore]
    return ValidationReport(
        files=_by_file(checks),
        findings=tuple(own),
        strict=settings.strict,
        pipelines_checked=registry is not None,
        run_params=dict(given) if given is not None else None,
    )


def _hard_and_lint(group: PipelineGroup, settings: CheckSettings, groups: Any) -> list[Finding]:
    from spine.orchestration.planner import check_group, validate_group

    if settings.lint:
        return check_group(group, settings.registry, groups=groups)
    return validate_group(group, settings.registry, groups=groups)


def _by_file(checks: Sequence[GroupCheck]) -> tuple[FileCheck, ...]:
    """Consecutive checks of one file form its :class:`FileCheck` (files keep their order)."""
    files: list[FileCheck] = []
    for c in checks:
        if files and files[-1].file == c.file:
            files[-1] = FileCheck(c.file, (*files[-1].groups, c))
        else:
            files.append(FileCheck(c.file, (c,)))
    return tuple(files)


def _duplicate_group(name: str, first: tuple[str | None, int | None], file: str | None, line: int | None, column: int | None) -> Finding:
    first_file, first_line = first
    where = f"{first_file or '<python>'}" + (f":{first_line}" if first_line else "")
    return Finding(
        "duplicate-group",
        f"group name {name!r} is already used at {where}; group names must be unique — rename one",
        file=file, line=line, column=column, group=name,
    )


# -- run params -----------------------------------------------------------------------------


def _unread(given: Mapping[str, Any], uses: Sequence[RunParamUse]) -> set[str]:
    """The given run params that no group reads."""
    return {k for k in given if not any(u.reads_name(k) for u in uses)}


def _unused_findings(
    given: Mapping[str, Any], unread: set[str], uses: Sequence[RunParamUse], entries: Sequence[Any]
) -> list[Finding]:
    from spine.core.suggest import did_you_mean

    names = sorted({n for u in uses for n in u.names})
    groups = [name for _, name, _, use in entries if use is not None]
    what = f"group {groups[0]!r}" if len(groups) == 1 else f"the {len(groups)} groups checked"
    out = []
    for key in given:
        if key not in unread:
            continue
        out.append(
            Finding(
                "unused-run-param",
                f"run param {key!r} is not read by any template or pipeline of {what}{did_you_mean(key, names)}"
                f" (steps whose pipeline accepts any param still receive it; the run params read are: "
                f"{', '.join(names) or 'none'})",
                severity=Severity.WARNING,
                file=f"--param {key}",
                group=groups[0] if len(groups) == 1 else None,
            )
        )
    return out


def _plan(
    group: PipelineGroup, use: RunParamUse, params: Mapping[str, Any], settings: CheckSettings, groups: Any = None
) -> tuple[Any, PlanStatus, str | None, list[Finding]]:
    """(plan, status, note, new findings) for a group without errors."""
    from spine.core.errors import GroupError
    from spine.orchestration.planner import PlanResolver

    missing = use.missing(params)
    if missing:
        severity = Severity.ERROR if settings.require_run_params else Severity.WARNING
        found = [_missing_finding(group, name, reads, severity) for name, reads in sorted(missing.items())]
        names = ", ".join(sorted(missing))
        return None, PlanStatus.NEEDS_RUN_PARAMS, f"not resolved: run param(s) {names} not given", found
    try:
        plan = PlanResolver(settings.registry, groups).resolve(group, params, batch_id=settings.batch_id)
    except GroupError as exc:
        findings = [f.with_context(group=group.name) for f in exc.findings]
        return None, PlanStatus.FAILED, "resolving failed with the run params given", findings
    return plan, PlanStatus.RESOLVED, None, []


def _missing_finding(group: PipelineGroup, name: str, reads: Sequence[ParamRead], severity: Severity) -> Finding:
    steps = list(dict.fromkeys(s for r in reads for s in r.steps))
    shown = ", ".join(repr(s) for s in steps[:MAX_STEPS_NAMED])
    if len(steps) > MAX_STEPS_NAMED:
        shown += f" and {len(steps) - MAX_STEPS_NAMED} more"
    who = f"step {shown} needs it" if len(steps) == 1 else f"steps {shown} need it"
    how = []
    if any(r.kind == "template" for r in reads):
        how.append(f"templates read params.{name}")
    by_pipeline = {s for r in reads if r.kind == "pipeline" for s in r.steps}
    pipelines = sorted({p.pipeline for p in group.steps if p.name in by_pipeline})
    if pipelines:
        how.append(f"required by pipeline {', '.join(repr(p) for p in pipelines)}")
    line, column = min((r.position for r in reads), key=lambda p: (p[0] is None, p[0] or 0, p[1] or 0))
    return Finding(
        "missing-run-param",
        f"run param {name!r} is not given: {who} ({'; '.join(how)}); pass it with --param {name}=…",
        severity=severity,
        file=group.source.file if group.source else None,
        line=line,
        column=column,
        group=group.name,
        step=steps[0] if len(steps) == 1 else None,
    )
