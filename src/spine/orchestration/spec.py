"""``spine.io/v1`` documents → :class:`PipelineGroup`, reporting every problem with its position.

This is the format's one validator. It is hand-written rather than delegated to a JSON
Schema validator because (measured, see ``bench/``) a pure-Python validator spends
seconds on a 100k-step document, and because it can say more: the exact line of a bad
``depends_on`` item, and "did you mean" for unknown keys. The JSON Schema shipped in
``spine/orchestration/schema/`` describes the same format for editors; a property test
checks that the two agree on generated documents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from spine.core.errors import InvalidGroupSpecError
from spine.core.findings import Code, Finding
from spine.core.suggest import did_you_mean
from spine.orchestration.models import (
    API_VERSION,
    KIND,
    RUN_KEYS,
    ExecutionMode,
    ExecutionPolicy,
    FailurePolicy,
    PipelineGroup,
    PipelineStep,
    Schedule,
)
from spine.orchestration.names import group_name_problem, step_name_problem
from spine.orchestration.source import SourceMap
from spine.yamlio.reader import Document

ROOT_KEYS = ("apiVersion", "kind", "metadata", "spec")
METADATA_KEYS = ("name", "domain", "version", "description", "tags")
SPEC_KEYS = ("defaults", "pipelines", "policy", "schedules")
SCHEDULE_KEYS = ("name", "cron", "timezone", "params", "catchup", "max_catchup", "enabled")
STEP_KEYS = ("name", "pipeline", "params", "depends_on", "description", *RUN_KEYS, "pool", "queue", "group")
POLICY_KEYS = ("execution", "max_concurrency", "on_failure", "timeout_minutes", *RUN_KEYS, "max_active_runs", "pool", "queue")
#: A pool name: like a group name (``[tool.spine.pools]`` keys).
POOL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
#: The run keys' rules: (an integer, not a float; the least value; whether the least value is allowed).
_RUN_KEY_RULES: dict[str, tuple[bool, int, bool]] = {
    "retries": (True, 0, True),
    "retry_delay_seconds": (False, 0, True),
    "timeout_seconds": (False, 0, False),
}


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r:.60})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _Checker:
    def __init__(self, doc: Document | None, file: str | None) -> None:
        self.doc = doc
        self.file = file
        self.findings: list[Finding] = []
        self.group_name: str | None = None

    def at(self, container: Any, key: Any, *, of_key: bool = False) -> tuple[int | None, int | None]:
        if self.doc is None:
            return (None, None)
        if of_key:
            return self.doc.key_at(container, key)
        return self.doc.value_at(container, key)

    def add(self, code: str, message: str, pos: tuple[int | None, int | None], step: str | None = None) -> None:
        self.findings.append(
            Finding(code, message, file=self.file, line=pos[0], column=pos[1], group=self.group_name, step=step)
        )

    def mapping(self, parent: Any, key: Any, value: Any, what: str, step: str | None = None) -> bool:
        if isinstance(value, dict):
            return True
        self.add(Code.WRONG_TYPE, f"{what} must be a mapping, got {_kind(value)}", self.at(parent, key), step)
        return False

    def unknown_keys(self, container: dict[Any, Any], allowed: tuple[str, ...], what: str, step: str | None = None) -> None:
        for key in container:
            if key not in allowed:
                hint = did_you_mean(str(key), allowed) if isinstance(key, str) else ""
                self.add(
                    Code.UNKNOWN_KEY,
                    f"unknown key {key!r} in {what}{hint} (allowed: {', '.join(allowed)})",
                    self.at(container, key, of_key=True),
                    step,
                )

    def string(self, container: Any, key: str, what: str, *, required: bool = False, step: str | None = None) -> str | None:
        if key not in container:
            if required:
                self.add(Code.MISSING_KEY, f"{what} is required", self.doc.at(container) if self.doc else (None, None), step)
            return None
        value = container[key]
        if not isinstance(value, str):
            self.add(Code.WRONG_TYPE, f"{what} must be a string, got {_kind(value)}; quote it", self.at(container, key), step)
            return None
        return value

    def run_key(self, container: Any, key: str, what: str, step: str | None = None) -> Any:
        """The value of one of :data:`RUN_KEYS`, or ``None`` (absent, or reported)."""
        if key not in container:
            return None
        value = container[key]
        integer, least, inclusive = _RUN_KEY_RULES[key]
        number = isinstance(value, int) or (not integer and isinstance(value, float))
        if isinstance(value, bool) or not number:
            kind = "an integer" if integer else "a number"
            self.add(Code.WRONG_TYPE, f"{what} must be {kind}, got {_kind(value)}", self.at(container, key), step)
            return None
        if not (value >= least if inclusive else value > least) or value == float("inf"):
            rule = f"an integer ≥ {least}" if integer else f"a finite number {'≥' if inclusive else '>'} {least}"
            self.add(Code.INVALID_VALUE, f"{what} must be {rule}, got {_kind(value)}", self.at(container, key), step)
            return None
        return value

    def pool(self, container: Any, what: str, step: str | None = None, key: str = "pool") -> str | None:
        """A pool (or, with ``key="queue"``, a queue) name, or ``None`` (absent, or reported)."""
        if key not in container:
            return None
        value = container[key]
        if not isinstance(value, str):
            self.add(Code.WRONG_TYPE, f"{what} must be a {key} name (a string), got {_kind(value)}", self.at(container, key), step)
            return None
        if not POOL_NAME.fullmatch(value):
            self.add(
                Code.INVALID_VALUE,
                f"{what} {value!r:.80} is not a {key} name: letters, digits, '_', '.', '-', starting with a letter or digit",
                self.at(container, key),
                step,
            )
            return None
        return value

    def param_map(self, container: Any, key: str, what: str, step: str | None = None) -> dict[str, Any]:
        if key not in container or container[key] is None:
            return {}
        value = container[key]
        if not self.mapping(container, key, value, what, step):
            return {}
        for k in value:
            if not isinstance(k, str):
                self.add(
                    Code.WRONG_TYPE,
                    f"param names in {what} must be strings, got {_kind(k)}; quote the key "
                    "(YAML reads bare on/off/yes/no as booleans)",
                    self.at(value, k, of_key=True),
                    step,
                )
        return value


def parse_document(doc: Document) -> tuple[PipelineGroup | None, list[Finding]]:
    """One document → a group (``None`` when it is too broken to build) and every finding."""
    return _parse(doc.value, doc, doc.file, doc.index)


def group_from_document(data: Mapping[str, Any], *, file: str | None = None) -> PipelineGroup:
    """A group from a plain dict; raises :class:`InvalidGroupSpecError` with every problem."""
    group, findings = _parse(dict(data) if isinstance(data, Mapping) else data, None, file, 0)
    if findings or group is None:
        raise InvalidGroupSpecError(findings=findings or [Finding(Code.INVALID_SPEC, "not a group document", file=file)])
    return group


def check_fields(group: PipelineGroup) -> list[Finding]:
    """The format's field checks applied to a group built in Python (no positions)."""
    _, findings = _parse(group.to_dict(), None, group.source.file if group.source else None, 0)
    return findings


def _parse(value: Any, doc: Document | None, file: str | None, index: int) -> tuple[PipelineGroup | None, list[Finding]]:
    c = _Checker(doc, file)
    source = SourceMap(file=file, document=index)
    if doc is not None:
        source.group = (doc.line, doc.column)
    if not isinstance(value, dict):
        c.add(
            Code.NOT_A_MAPPING,
            f"a group document must be a mapping with apiVersion, kind, metadata and spec; got {_kind(value)}",
            source.group,
        )
        return None, c.findings

    root = doc.at(value) if doc is not None else (None, None)
    metadata = value.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("name"), str):
        c.group_name = metadata["name"]
        if doc is not None:
            source.group = doc.value_at(metadata, "name")

    api = value.get("apiVersion")
    if "apiVersion" not in value:
        c.add(Code.MISSING_KEY, f"apiVersion is required: add 'apiVersion: {API_VERSION}'", root)
    elif api != API_VERSION:
        c.add(Code.WRONG_API_VERSION, f"apiVersion must be {API_VERSION!r}, got {api!r:.60}", c.at(value, "apiVersion"))
    if "kind" not in value:
        c.add(Code.MISSING_KEY, f"kind is required: add 'kind: {KIND}'", root)
    elif value["kind"] != KIND:
        c.add(Code.WRONG_KIND, f"kind must be {KIND!r}, got {value['kind']!r:.60}", c.at(value, "kind"))
    c.unknown_keys(value, ROOT_KEYS, "the document")

    # -- metadata
    name: str | None = None
    version = 1
    domain = description = None
    tags: tuple[str, ...] = ()
    if "metadata" not in value:
        c.add(Code.MISSING_KEY, "metadata is required (at least metadata.name)", root)
    elif c.mapping(value, "metadata", metadata, "metadata"):
        assert isinstance(metadata, dict)
        c.unknown_keys(metadata, METADATA_KEYS, "metadata")
        name = c.string(metadata, "name", "metadata.name", required=True)
        if name is not None:
            problem = group_name_problem(name)
            if problem:
                c.add(Code.INVALID_NAME, problem, c.at(metadata, "name"))
        domain = c.string(metadata, "domain", "metadata.domain")
        if domain is not None and group_name_problem(domain):
            c.add(Code.INVALID_NAME, f"metadata.domain {domain!r:.80} must follow the group name rules", c.at(metadata, "domain"))
        description = c.string(metadata, "description", "metadata.description")
        if "version" in metadata:
            v = metadata["version"]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                code = Code.INVALID_VALUE if isinstance(v, int) and not isinstance(v, bool) else Code.WRONG_TYPE
                c.add(code, f"metadata.version must be an integer ≥ 1, got {_kind(v)}", c.at(metadata, "version"))
            else:
                version = v
        if "tags" in metadata:
            t = metadata["tags"]
            if not isinstance(t, list) or not all(isinstance(x, str) for x in t):
                c.add(Code.WRONG_TYPE, f"metadata.tags must be a list of strings, got {_kind(t)}", c.at(metadata, "tags"))
            else:
                tags = tuple(t)
        if doc is not None:
            for key in metadata:
                if isinstance(key, str):
                    source.fields[f"metadata.{key}"] = doc.value_at(metadata, key)

    # -- spec
    steps: list[PipelineStep] = []
    defaults: dict[str, Any] = {}
    policy = ExecutionPolicy()
    schedules: list[Schedule] = []
    spec = value.get("spec")
    if "spec" not in value:
        c.add(Code.MISSING_KEY, "spec is required (at least spec.pipelines)", root)
    elif c.mapping(value, "spec", spec, "spec"):
        assert isinstance(spec, dict)
        c.unknown_keys(spec, SPEC_KEYS, "spec")
        defaults = c.param_map(spec, "defaults", "spec.defaults")
        if doc is not None:
            for key in spec:
                if isinstance(key, str):
                    source.fields[f"spec.{key}"] = doc.value_at(spec, key)
            if isinstance(spec.get("defaults"), dict):
                for key in spec["defaults"]:
                    source.fields[f"spec.defaults.{key}"] = doc.value_at(spec["defaults"], key)
        policy = _policy(c, spec, source, doc)
        schedules = _schedules(c, spec, source, doc)
        if "pipelines" not in spec:
            c.add(Code.MISSING_KEY, "spec.pipelines is required: a list of steps", c.at(value, "spec"))
        else:
            items = spec["pipelines"]
            if not isinstance(items, list):
                c.add(Code.WRONG_TYPE, f"spec.pipelines must be a list of steps, got {_kind(items)}", c.at(spec, "pipelines"))
            elif not items:
                c.add(Code.EMPTY_GROUP, "spec.pipelines is empty: a group needs at least one step", c.at(spec, "pipelines"))
            else:
                steps = _steps(c, items, source, doc)

    if name is None:
        return None, c.findings
    # Even with findings, build what could be read so the graph checks can still run and
    # every problem is reported in one pass; callers treat findings as "invalid".
    group = PipelineGroup(
        name=name,
        steps=tuple(steps),
        version=version,
        domain=domain,
        description=description,
        tags=tags,
        defaults=defaults,
        policy=policy,
        schedules=tuple(schedules),
        source=source if doc is not None or file is not None else None,
    )
    return group, c.findings


def _policy(c: _Checker, spec: dict[str, Any], source: SourceMap, doc: Document | None) -> ExecutionPolicy:
    if "policy" not in spec or spec["policy"] is None:
        return ExecutionPolicy()
    p = spec["policy"]
    if not c.mapping(spec, "policy", p, "spec.policy"):
        return ExecutionPolicy()
    c.unknown_keys(p, POLICY_KEYS, "spec.policy")
    if doc is not None:
        for key in p:
            if isinstance(key, str):
                source.fields[f"spec.policy.{key}"] = doc.value_at(p, key)
    execution = ExecutionMode.SEQUENTIAL
    on_failure = FailurePolicy.STOP
    max_concurrency = 4
    timeout: float | None = None
    if "execution" in p:
        try:
            execution = ExecutionMode(p["execution"])
        except (ValueError, TypeError):
            c.add(
                Code.INVALID_VALUE,
                f"spec.policy.execution must be sequential or parallel, got {_kind(p['execution'])}",
                c.at(p, "execution"),
            )
    if "on_failure" in p:
        try:
            on_failure = FailurePolicy(p["on_failure"])
        except (ValueError, TypeError):
            c.add(
                Code.INVALID_VALUE,
                f"spec.policy.on_failure must be stop or continue, got {_kind(p['on_failure'])}",
                c.at(p, "on_failure"),
            )
    if "max_concurrency" in p:
        m = p["max_concurrency"]
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            code = Code.INVALID_VALUE if isinstance(m, int) and not isinstance(m, bool) else Code.WRONG_TYPE
            c.add(code, f"spec.policy.max_concurrency must be an integer ≥ 1, got {_kind(m)}", c.at(p, "max_concurrency"))
        else:
            max_concurrency = m
    if "timeout_minutes" in p and p["timeout_minutes"] is not None:
        t = p["timeout_minutes"]
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not t > 0 or t == float("inf"):
            code = Code.INVALID_VALUE if isinstance(t, (int, float)) and not isinstance(t, bool) else Code.WRONG_TYPE
            c.add(code, f"spec.policy.timeout_minutes must be a number > 0, got {_kind(t)}", c.at(p, "timeout_minutes"))
        else:
            timeout = t
    run = {k: v for k in RUN_KEYS if (v := c.run_key(p, k, f"spec.policy.{k}")) is not None}
    max_active_runs = 1
    if "max_active_runs" in p:
        m = p["max_active_runs"]
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            code = Code.INVALID_VALUE if isinstance(m, int) and not isinstance(m, bool) else Code.WRONG_TYPE
            c.add(code, f"spec.policy.max_active_runs must be an integer ≥ 1, got {_kind(m)}", c.at(p, "max_active_runs"))
        else:
            max_active_runs = m
    pool = c.pool(p, "spec.policy.pool")
    queue = c.pool(p, "spec.policy.queue", key="queue")
    return ExecutionPolicy(execution, max_concurrency, on_failure, timeout, **run, max_active_runs=max_active_runs, pool=pool, queue=queue)


def _schedules(c: _Checker, spec: dict[str, Any], source: SourceMap, doc: Document | None) -> list[Schedule]:
    """``spec.schedules``: each a name, a cron, a timezone, params templates, catchup, enabled."""
    from spine.orchestration.cron import cron_problem, timezone_problem
    from spine.orchestration.params import SCHEDULE_CONTEXT_NAMES, template_problem, templates_in

    items = spec.get("schedules")
    if items is None:
        return []
    if not isinstance(items, list):
        c.add(Code.WRONG_TYPE, f"spec.schedules must be a list of schedules, got {_kind(items)}", c.at(spec, "schedules"))
        return []
    out: list[Schedule] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            c.add(Code.WRONG_TYPE, f"schedule #{i + 1} must be a mapping with name and cron, got {_kind(item)}", c.at(items, i))
            continue
        raw = item.get("name")
        label = f"schedule {raw!r:.80}" if isinstance(raw, str) else f"schedule #{i + 1}"
        c.unknown_keys(item, SCHEDULE_KEYS, label)
        name = c.string(item, "name", f"{label} name", required=True)
        if name is not None:
            problem = group_name_problem(name)
            if problem:
                c.add(Code.INVALID_NAME, f"{label}: a schedule name follows the group name rules ({problem})", c.at(item, "name"))
                name = None
            elif name in seen:
                c.add(Code.DUPLICATE_SCHEDULE, f"{label} is declared twice (first as schedule #{seen[name] + 1}); give each schedule its own name", c.at(item, "name"))
                name = None
            else:
                seen[name] = i
        cron = c.string(item, "cron", f"{label} cron", required=True)
        if cron is not None and (problem := cron_problem(cron)):
            c.add(Code.INVALID_CRON, f"{label}: cron {problem}", c.at(item, "cron"))
            cron = None
        timezone = "UTC"
        if "timezone" in item:
            tz = c.string(item, "timezone", f"{label} timezone")
            if tz is not None and (problem := timezone_problem(tz)):
                c.add(Code.UNKNOWN_TIMEZONE, f"{label}: timezone {problem}", c.at(item, "timezone"))
                tz = None
            timezone = tz or "UTC"
        params = c.param_map(item, "params", f"{label} params")
        for key, value in params.items() if isinstance(params, dict) else ():
            for text in templates_in(value):
                problem = template_problem(text, SCHEDULE_CONTEXT_NAMES)
                if problem:
                    c.add(Code.SCHEDULE_TEMPLATE, f"{label} param {key!r}: {problem}", c.at(params, key))
                    break
        flags: dict[str, bool] = {}
        for key in ("catchup", "enabled"):
            if key in item:
                v = item[key]
                if not isinstance(v, bool):
                    c.add(Code.WRONG_TYPE, f"{label}: {key} must be true or false, got {_kind(v)}", c.at(item, key))
                else:
                    flags[key] = v
        max_catchup = None
        if "max_catchup" in item:
            m = item["max_catchup"]
            if isinstance(m, bool) or not isinstance(m, int) or m < 1:
                code = Code.INVALID_VALUE if isinstance(m, int) and not isinstance(m, bool) else Code.WRONG_TYPE
                c.add(code, f"{label}: max_catchup must be an integer ≥ 1, got {_kind(m)}", c.at(item, "max_catchup"))
            else:
                max_catchup = m
        if doc is not None:
            source.fields[f"spec.schedules[{i}]"] = doc.at(item)
        if name is None or cron is None:
            continue
        extra: dict[str, Any] = {"max_catchup": max_catchup} if max_catchup is not None else {}
        out.append(Schedule(name, cron, timezone, params, **flags, **extra))
    return out


def _steps(c: _Checker, items: list[Any], source: SourceMap, doc: Document | None) -> list[PipelineStep]:
    steps: list[PipelineStep] = []
    marks = doc.marks if doc is not None else None
    for i, item in enumerate(items):
        pos = c.at(items, i)
        if not isinstance(item, dict):
            c.add(Code.WRONG_TYPE, f"step #{i + 1} must be a mapping with name and pipeline, got {_kind(item)}", pos)
            continue
        step_marks = marks.get(id(item)) if marks is not None else None
        raw_name = item.get("name")
        label = raw_name if isinstance(raw_name, str) else f"#{i + 1}"
        if len(item) > len(STEP_KEYS) or not all(k in STEP_KEYS for k in item):
            c.unknown_keys(item, STEP_KEYS, f"step {label!r}", step=label)
        name = c.string(item, "name", f"step #{i + 1} name", required=True, step=label)
        if name is not None:
            problem = step_name_problem(name)
            if problem:
                c.add(Code.INVALID_STEP_NAME, problem, c.at(item, "name"), step=label)
        pipeline, group = _target(c, item, label)
        description = c.string(item, "description", f"step {label!r} description", step=label)
        params = c.param_map(item, "params", f"step {label!r} params", step=label)
        run = {k: c.run_key(item, k, f"step {label!r}: {k}", step=label) for k in RUN_KEYS}
        pool = c.pool(item, f"step {label!r}: pool", step=label)
        queue = c.pool(item, f"step {label!r}: queue", step=label, key="queue")
        deps: list[str] = []
        dep_pos: list[tuple[int | None, int | None]] = []
        if "depends_on" in item and item["depends_on"] is not None:
            d = item["depends_on"]
            if isinstance(d, str):
                c.add(
                    Code.WRONG_TYPE,
                    f"step {label!r}: depends_on must be a list; write depends_on: [{d}]",
                    c.at(item, "depends_on"),
                    step=label,
                )
            elif not isinstance(d, list):
                c.add(Code.WRONG_TYPE, f"step {label!r}: depends_on must be a list of step names, got {_kind(d)}", c.at(item, "depends_on"), step=label)
            else:
                dmarks = marks.get(id(d)) if marks is not None else None
                for j, dep in enumerate(d):
                    if not isinstance(dep, str):
                        c.add(
                            Code.WRONG_TYPE,
                            f"step {label!r}: depends_on item #{j + 1} must be a step name, got {_kind(dep)}; quote it",
                            c.at(d, j),
                            step=label,
                        )
                        continue
                    deps.append(dep)
                    if dmarks is not None:
                        dep_pos.append(dmarks[j])
        if name is None or (pipeline is None and group is None):
            continue  # reported above; the rest of the group is still checked
        steps.append(PipelineStep(name, pipeline or "", params, tuple(deps), description, **run, pool=pool, queue=queue, group=group))
        if doc is not None:
            source.steps.append(doc.at(item))
            source.step_fields.append(
                {k: (v[2], v[3]) for k, v in step_marks.items()} if isinstance(step_marks, dict) else {}
            )
            source.deps.append(dep_pos)
    return steps


def _target(c: _Checker, item: dict[str, Any], label: str) -> tuple[str | None, str | None]:
    """The step's ``pipeline`` and ``group``: exactly one of them (each ``None`` when absent or reported)."""
    if "pipeline" not in item and "group" not in item:
        c.add(
            Code.MISSING_KEY,
            f"step {label!r} pipeline is required: add 'pipeline: NAME' (or 'group: NAME' to call a group)",
            c.doc.at(item) if c.doc else (None, None),
            label,
        )
        return None, None
    found: list[str | None] = []
    for key in ("pipeline", "group"):
        value = c.string(item, key, f"step {label!r} {key}", step=label)
        if value is not None and (not value.strip() or value != value.strip()):
            c.add(Code.INVALID_VALUE, f"step {label!r}: {key} {value!r} must be a non-empty name without surrounding spaces", c.at(item, key), step=label)
            if key == "group":
                value = None
        found.append(value)
    pipeline, group = found
    if "pipeline" in item and "group" in item:
        c.add(
            Code.PIPELINE_AND_GROUP,
            f"step {label!r} has both pipeline and group; a step calls one of them — remove one "
            "(or make two steps)",
            c.at(item, "group", of_key=True),
            label,
        )
        return None, None
    if group is not None:
        problem = group_name_problem(group)
        if problem:
            c.add(Code.INVALID_NAME, f"step {label!r} group: {problem}", c.at(item, "group"), label)
            return None, None
    return pipeline, group
