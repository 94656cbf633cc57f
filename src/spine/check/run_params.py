"""Run params: reading ``--param KEY=VALUE``, and which run params a group reads.

A group reads a run param ``X`` when

* a template it renders for some step uses ``params.X`` or ``params['X']`` — in the
  step's own params, or in a group default the step receives (defaults are *offered*:
  a step whose registered pipeline declares its params receives only those keys); or
* a step's registered pipeline declares a param ``X`` that the step does not set itself
  (run params override group defaults, not step params).

The run param is **required** when a plan cannot resolve without it: a template uses it
without coping with its absence (no ``| default(…)``, no ``is defined`` test, no
``'X' in params``, no ``params.get('X')``), or a pipeline requires it and no group default
gives it. A template that uses ``params`` as a whole (``params.items()``, ``params[k]``)
could read any name: the group is marked :attr:`RunParamUse.reads_any`.

This is read from the templates' syntax trees, without rendering anything: it is what
``show`` and ``validate`` print, what turns a missing run param into one finding listing
its steps (instead of one per step and param), and what finds a ``--param`` no group
reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from spine.check.errors import RunParamSyntaxError

if TYPE_CHECKING:
    from spine.framework.registry import PipelineRegistry
    from spine.orchestration.models import PipelineGroup

__all__ = ["ParamRead", "RunParam", "RunParamUse", "TemplateParams", "parse_params", "run_params_of", "template_params"]

_PARAMS = "params"
#: dict methods a template may call on ``params`` (a run param of the same name wins
#: over the method, as in the sandbox; a call is read as the method).
_DICT_METHODS = frozenset({"get", "items", "keys", "values", "copy", "__contains__"})


# -- --param KEY=VALUE ------------------------------------------------------------------


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as run params; raises :class:`RunParamSyntaxError` for an item
    without ``=`` or with an empty key.

    VALUE is read as YAML the way dbt reads ``--vars``: scalars (``5`` int, ``true``
    bool, ``2024-01-05`` date), ``[a, b]`` and ``{k: v}`` in flow style; anything else,
    or anything that is not YAML, stays text. An empty VALUE is the empty string.
    """
    from spine.core.errors import GroupError
    from spine.yamlio.reader import read_documents

    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise RunParamSyntaxError(item)
        if raw == "":
            params[key] = ""
            continue
        try:
            docs = read_documents(raw, f"--param {key}")
        except GroupError:
            params[key] = raw  # not YAML: keep the text as given
            continue
        value = docs[0].value if docs else raw
        if value is None and raw.strip() not in ("null", "~"):
            value = raw
        # Collections only in explicit flow style: "title=Weekly: FINRA" stays text.
        if isinstance(value, dict) and not raw.lstrip().startswith("{"):
            value = raw
        if isinstance(value, list) and not raw.lstrip().startswith("["):
            value = raw
        params[key] = value
    return params


# -- which names a template reads ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateParams:
    """The run params one template reads."""

    #: ``(name, guarded)`` per name, in order of first use; ``guarded`` when the template
    #: copes with the name being absent.
    names: tuple[tuple[str, bool], ...] = ()
    #: The template uses ``params`` as a whole: it may read any name.
    reads_any: bool = False


@lru_cache(maxsize=8192)
def template_params(text: str) -> TemplateParams:
    """The run params the template ``text`` reads (nothing for a template that does not
    parse: its syntax error is a finding of its own)."""
    from jinja2 import TemplateSyntaxError, nodes

    try:
        ast = _jinja_parser().parse(text)
    except TemplateSyntaxError:
        return TemplateParams()

    def is_params(node: Any) -> bool:
        return isinstance(node, nodes.Name) and node.name == _PARAMS

    consumed: set[int] = set()  # ids of the `params` Name nodes accounted for
    used: dict[str, bool] = {}  # name -> guarded (somewhere in this template)

    def use(name: str, guarded: bool) -> None:
        used[name] = used.get(name, False) or guarded

    methods: set[int] = set()  # Getattr nodes that are method calls on params
    reads_any = False
    for call in ast.find_all(nodes.Call):
        target = call.node
        if isinstance(target, nodes.Getattr) and is_params(target.node) and target.attr in _DICT_METHODS:
            methods.add(id(target))
            consumed.add(id(target.node))
            first = call.args[0] if call.args else None
            if target.attr == "get" and isinstance(first, nodes.Const) and isinstance(first.value, str):
                use(first.value, True)
            else:
                reads_any = True

    def ref(node: Any) -> str | None:
        if id(node) in methods or not is_params(getattr(node, "node", None)):
            return None
        if isinstance(node, nodes.Getattr):
            return str(node.attr)
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            return node.arg.value
        return None

    guarded: set[str] = set()
    for f in ast.find_all(nodes.Filter):
        if f.name in ("default", "d") and (name := ref(f.node)) is not None:
            guarded.add(name)
    for t in ast.find_all(nodes.Test):
        if t.name in ("defined", "undefined") and (name := ref(t.node)) is not None:
            guarded.add(name)
    for c in ast.find_all(nodes.Compare):
        for op in c.ops:
            if op.op in ("in", "notin") and is_params(op.expr):
                consumed.add(id(op.expr))
                if isinstance(c.expr, nodes.Const) and isinstance(c.expr.value, str):
                    use(c.expr.value, True)
                else:
                    reads_any = True
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        name = ref(node)
        if name is not None:
            consumed.add(id(node.node))
            use(name, name in guarded)
    for node in ast.find_all(nodes.Name):
        if node.name == _PARAMS and id(node) not in consumed:
            reads_any = True  # `params` as a whole: {{ params }}, params[k], params | list …
    return TemplateParams(tuple(used.items()), reads_any)


@lru_cache(maxsize=1)
def _jinja_parser() -> Any:
    from jinja2 import Environment

    return Environment()  # only parses: nothing is rendered or compiled here


# -- which run params a group reads --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunParam:
    """One run param a group reads."""

    name: str
    #: The steps that read it, in declaration order.
    steps: tuple[str, ...]
    #: A plan cannot resolve without it.
    required: bool
    #: How it is read: ``"template"`` (``params.<name>`` in a template), ``"pipeline"``
    #: (a step's pipeline declares it), or both, in that order.
    via: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "required": self.required, "steps": list(self.steps), "via": list(self.via)}


@dataclass(frozen=True, slots=True)
class ParamRead:
    """How one name is read through one channel, aggregated over steps."""

    name: str
    #: The group default whose template reads it (``None``: a step's own param, or a
    #: pipeline's ParamDef). A run param of that key replaces the default, and with it
    #: the template.
    via_default: str | None
    #: ``"template"`` or ``"pipeline"``.
    kind: str
    required: bool
    steps: tuple[str, ...]
    #: Where it is read, for findings: (line, column) in the group's file.
    position: tuple[int | None, int | None]


@dataclass(frozen=True, slots=True)
class RunParamUse:
    """The run params one group reads (see the module docstring)."""

    reads: tuple[ParamRead, ...] = ()
    #: Some template uses ``params`` as a whole and may read any name.
    reads_any: bool = False
    #: The group's file, for findings.
    file: str | None = None

    @property
    def params(self) -> tuple[RunParam, ...]:
        """Each name read, with its steps, sorted by name."""
        by: dict[str, list[ParamRead]] = {}
        for r in self.reads:
            by.setdefault(r.name, []).append(r)
        out = []
        for name in sorted(by):
            reads = by[name]
            steps = tuple(dict.fromkeys(s for r in reads for s in r.steps))
            via = tuple(k for k in ("template", "pipeline") if any(r.kind == k for r in reads))
            out.append(RunParam(name, steps, any(r.required for r in reads), via))
        return tuple(out)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(r.name for r in self.reads)

    @property
    def required(self) -> tuple[str, ...]:
        """Names a plan cannot resolve without, sorted."""
        return tuple(p.name for p in self.params if p.required)

    def reads_name(self, name: str) -> bool:
        """Whether a run param ``name`` can change this group's plan."""
        return self.reads_any or name in self.names

    def missing(self, given: Mapping[str, Any]) -> dict[str, list[ParamRead]]:
        """Required names not in ``given``, each with the reads that need it.

        A template in a group default is not rendered when a run param replaces that
        default, so what it reads is not needed then.
        """
        out: dict[str, list[ParamRead]] = {}
        for r in self.reads:
            if not r.required or r.name in given:
                continue
            if r.via_default is not None and r.via_default in given:
                continue
            out.setdefault(r.name, []).append(r)
        return out


def run_params_of(group: PipelineGroup, registry: PipelineRegistry | None = None) -> RunParamUse:
    """The run params ``group`` reads (pipelines are taken into account when a registry
    is given: which defaults each step receives, which params each pipeline declares)."""
    from spine.orchestration.params import templates_in

    src = group.source
    # (name, via_default, kind) -> [required, steps, where]; `where` says how to find the
    # position ("default", key) / ("params", i) / ("step", i), looked up once at the end.
    acc: dict[tuple[str, str | None, str], list[Any]] = {}
    reads_any = False

    def add(name: str, via_default: str | None, kind: str, required: bool, step: str, where: tuple[str, Any]) -> None:
        entry = acc.get((name, via_default, kind))
        if entry is None:
            acc[(name, via_default, kind)] = [required, [step], where]
            return
        entry[0] = entry[0] or required
        if entry[1][-1] != step:
            entry[1].append(step)

    def reads_of(value: Any) -> tuple[tuple[tuple[str, bool], ...], bool]:
        """(name, guarded) for every name the templates in ``value`` read, and reads_any."""
        if isinstance(value, str) and "{{" not in value and "{%" not in value:
            return (), False
        if not isinstance(value, (str, Mapping, list)):
            return (), False
        names: dict[str, bool] = {}
        anything = False
        for text in templates_in(value):
            tp = template_params(text)
            anything = anything or tp.reads_any
            for n, guarded in tp.names:
                names[n] = names.get(n, True) and guarded
        return tuple(names.items()), anything

    default_reads = [(k, *reads_of(v)) for k, v in group.defaults.items()]
    default_reads = [r for r in default_reads if r[1] or r[2]]  # defaults holding templates
    for i, step in enumerate(group.steps):
        spec = registry.get(step.pipeline) if registry is not None else None
        declared = None if spec is None or spec.allow_extra_params else {d.name for d in spec.params}
        for key, names, anything in default_reads:
            if key in step.params or (declared is not None and key not in declared):
                continue  # the step's own value wins, or the step is not offered the key
            reads_any = reads_any or anything
            for n, guarded in names:
                add(n, key, "template", not guarded, step.name, ("default", key))
        for value in step.params.values():
            names, anything = reads_of(value)
            reads_any = reads_any or anything
            for n, guarded in names:
                add(n, None, "template", not guarded, step.name, ("params", i))
        if spec is not None:
            for d in spec.params:
                if d.name in step.params:
                    continue  # run params never override a step's own params
                required = d.required and d.name not in group.defaults
                add(d.name, None, "pipeline", required, step.name, ("step", i))

    def position(where: tuple[str, Any]) -> tuple[int | None, int | None]:
        if src is None:
            return (None, None)
        what, at = where
        if what == "default":
            return src.of_field(f"spec.defaults.{at}")
        return src.of_step(at, "params") if what == "params" else src.of_step(at)

    reads = tuple(
        ParamRead(name, via, kind, required, tuple(steps), position(where))
        for (name, via, kind), (required, steps, where) in acc.items()
    )
    return RunParamUse(reads, reads_any, src.file if src else None)
