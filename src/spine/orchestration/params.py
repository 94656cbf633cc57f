"""Params: merge the layers, render the templates, remember where each value came from.

Layers, lowest first: ``pipeline`` (a ParamDef default) < ``default`` (``spec.defaults``)
< ``run`` (``--param``) < ``step`` (``step.params``). Group defaults and run params are
*offered* to every step: when the step's pipeline is registered and declares its params,
a step only receives the offered keys its pipeline declares (a group default such as
``force`` need not fit every pipeline). A step's own params are *given*: an unknown one is
an error.

Strings may be Jinja2 templates, rendered in a sandbox with strict undefined; the context
is ``params`` (the run params), ``group`` (name, version, domain, tags), ``step`` (name,
pipeline) and ``batch_id``. A string that is exactly one ``{{ expression }}`` keeps the
expression's native type (``"{{ params.limit }}"`` with ``limit=5`` gives ``5``, not
``"5"``).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from spine.core.findings import Code
from spine.core.jsonable import Record

CONTEXT_NAMES = ("params", "group", "step", "batch_id")
#: What a schedule's ``params`` templates can use (rendered when the schedule fires, before
#: the plan: see :mod:`spine.scheduler`): the fire's ``schedule`` (``name``,
#: ``logical_date``, ``data_interval_start``, ``data_interval_end``, timezone-aware
#: datetimes in the schedule's timezone), ``timedelta`` (:class:`datetime.timedelta`) and
#: ``group`` (name, version, domain, tags).
SCHEDULE_CONTEXT_NAMES = ("schedule", "timedelta", "group")
_SINGLE_EXPR = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{|\{%|\{#).)*)\}\}\s*$", re.S)


class ParamLayer(enum.Enum):
    """Where a step's param value came from."""

    #: The default of the pipeline's ParamDef.
    PIPELINE = "pipeline"
    #: The group's ``spec.defaults``.
    DEFAULT = "default"
    #: The run params (``--param k=v``).
    RUN = "run"
    #: The step's own ``params``.
    STEP = "step"


@dataclass(frozen=True, slots=True)
class ParamSource(Record):
    """The layer a value came from and, when it was a template, the template text."""

    layer: ParamLayer
    template: str | None = None


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def templates_in(value: Any) -> Iterator[str]:
    """Every template string in ``value``, however deeply nested in lists and mappings."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if "{{" in v or "{%" in v:
                yield v
        elif isinstance(v, Mapping):
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)


def has_template(value: Any) -> bool:
    """True when ``value`` or anything inside it is a template string."""
    return next(templates_in(value), None) is not None


#: Largest string, list or number a template may build (characters, items or bits).
MAX_TEMPLATE_SIZE = 1_000_000
_BIG_WIDTH = re.compile(r"\d{6,}")
#: A replacement field inside a format spec (``'{:>{}}'``): its width comes from an argument.
_NESTED_FIELD = re.compile(r"\{[^{}]*:[^{}]*\{")
#: Largest width or precision a template's formatting may take from an argument.
_MAX_WIDTH_ARG = 100_000


class TemplateProblem(Exception):
    """A template could not be rendered; ``str()`` says why and what to do."""

    def __init__(self, message: str, code: str = Code.TEMPLATE_ERROR) -> None:
        super().__init__(message)
        #: ``template-undefined`` for a missing name, ``template-error`` for anything else.
        self.code = code


def _too_big(what: str) -> Exception:
    from jinja2.exceptions import SecurityError

    return SecurityError(f"{what} would exceed the template size limit ({MAX_TEMPLATE_SIZE:,})")


@lru_cache(maxsize=1)
def _environment() -> Any:
    """The one sandboxed environment for params: immutable, strict, and size-bounded.

    Jinja's sandbox stops attribute escapes (``__class__``…) but not arithmetic bombs:
    ``{{ 9 ** 9 ** 9 }}`` spins for ever and ``{{ 'a' * 10 ** 10 }}`` exhausts memory.
    The operators ``*``, ``**`` and ``%``, string formatting and the padding filters are
    intercepted and refuse results beyond :data:`MAX_TEMPLATE_SIZE`.
    """
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class _BoundedEnvironment(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**", "%"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**":
                if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
                    if abs(left).bit_length() * right > MAX_TEMPLATE_SIZE:
                        raise _too_big(f"{left} ** {right}")
            elif operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_TEMPLATE_SIZE:
                        raise _too_big("repeating a sequence")
            elif operator == "%" and isinstance(left, str):
                _check_format(left, right if isinstance(right, tuple) else (right,), star=True)
            return super().call_binop(context, operator, left, right)

        def getattr(self, obj: Any, attribute: str) -> Any:
            # `params.values` is the run param "values", not dict.values
            if type(obj) is RunParams and attribute in obj:
                return obj[attribute]
            return super().getattr(obj, attribute)

        def wrap_str_format(self, value: Any) -> Any:
            # Jinja's hook for `'…'.format(…)` and `format_map`: bound the widths first.
            wrapped = super().wrap_str_format(value)
            if wrapped is None:
                return None
            text = value.__self__

            def bounded(*args: Any, **kwargs: Any) -> str:
                values = [*args, *kwargs.values()]
                if value.__name__ == "format_map" and args and isinstance(args[0], Mapping):
                    values = list(args[0].values())
                _check_format(text, values, star=False)
                return str(wrapped(*args, **kwargs))

            return bounded

    env = _BoundedEnvironment(undefined=_recording_undefined(StrictUndefined), autoescape=False, keep_trailing_newline=True)
    for name in ("center", "indent", "wordwrap", "truncate", "format"):
        env.filters[name] = _bounded_filter(env.filters[name])
    return env


def _recording_undefined(base: Any) -> Any:
    """``base`` (StrictUndefined) whose error keeps what was looked up (``name``) and in
    what (``obj``), so a message can tell a missing run param from an attribute that a
    value does not have."""
    from jinja2 import UndefinedError
    from jinja2.utils import missing

    class MissingValue(UndefinedError):
        def __init__(self, message: str | None, obj: Any, name: Any) -> None:
            super().__init__(message)
            self.obj = obj
            self.name = name

    class RecordingUndefined(base):  # base is StrictUndefined, passed in so jinja2 loads late
        __slots__ = ()

        def __init__(self, hint: str | None = None, obj: Any = missing, name: Any = None, exc: Any = UndefinedError) -> None:
            if exc is UndefinedError:  # the sandbox passes SecurityError: keep it
                exc = functools.partial(MissingValue, obj=obj, name=name)
            super().__init__(hint, obj, name, exc)

    return RecordingUndefined


class RunParams(dict[str, Any]):
    """The run params as templates see them: ``params.items`` is the param ``items``.

    Built from a plain copy (:func:`spine.core.frozen.thaw`), so a list param renders as
    ``['a', 'b']`` whether the run params were frozen or not.
    """


def _check_format(text: str, values: Any, *, star: bool) -> None:
    """Refuse formatting that would pad beyond the limit: a written width of 6+ digits, or a
    width taken from an argument (``{:>{}}``, or ``%*d`` when ``star``) that is too large."""
    if _BIG_WIDTH.search(text):
        raise _too_big("a format width")
    takes_width = ("*" in text) if star else bool(_NESTED_FIELD.search(text))
    if takes_width:
        for v in values:
            if isinstance(v, int) and not isinstance(v, bool) and abs(v) > _MAX_WIDTH_ARG:
                raise _too_big(f"a format width ({v})")


def _bounded_filter(fn: Any) -> Any:
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for a in (*args, *kwargs.values()):
            if isinstance(a, int) and not isinstance(a, bool) and abs(a) > 100_000:
                raise _too_big(f"a filter argument ({a})")
            if isinstance(a, str) and _BIG_WIDTH.search(a):
                raise _too_big("a format width")
        return fn(*args, **kwargs)

    return wrapper


@lru_cache(maxsize=4096)
def _compile(text: str) -> tuple[bool, Any]:
    """(native, compiled): an expression for a lone ``{{ … }}``, else a template."""
    env = _environment()
    m = _SINGLE_EXPR.match(text)
    if m:
        return True, env.compile_expression(m.group("expr"), undefined_to_none=False)
    return False, env.from_string(text)


def template_problem(text: str, names: tuple[str, ...] = CONTEXT_NAMES) -> str | None:
    """A syntax or unknown-name problem with ``text``, found without rendering it
    (``names``: what the template may use; a schedule's params use :data:`SCHEDULE_CONTEXT_NAMES`)."""
    from jinja2 import TemplateError, TemplateSyntaxError, meta

    env = _environment()
    try:
        ast = env.parse(text)
    except TemplateSyntaxError as exc:
        return f"template {text!r:.80} has a syntax error: {exc.message}"
    try:
        # compiles the template: an unknown filter or test is found here
        unknown = sorted(meta.find_undeclared_variables(ast) - set(names))
    except TemplateError as exc:
        hint = ""
        m = re.search(r"No (filter|test) named '([^']*)'", str(exc))
        if m:
            from spine.core.suggest import did_you_mean

            known = env.filters if m.group(1) == "filter" else env.tests
            hint = did_you_mean(m.group(2), known)
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"template {text!r:.80} cannot be compiled: {first_line.rstrip('.')}{hint}"
    if unknown:
        from spine.core.suggest import did_you_mean

        name = unknown[0]
        return (
            f"template {text!r:.80} uses {name!r}, which is not defined{did_you_mean(name, names)} "
            f"(templates can use {', '.join(names)})"
        )
    return None


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """``value`` with every template string inside it rendered; raises :class:`TemplateProblem`."""
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return value
        return _render_text(value, context)
    # Containers come back as they were (the same object) when nothing in them is a
    # template, so frozen params are not rebuilt for nothing.
    if isinstance(value, Mapping):
        rendered = {k: render_value(v, context) for k, v in value.items()}
        return value if all(rendered[k] is v for k, v in value.items()) else rendered
    if isinstance(value, (list, tuple)):
        items = [render_value(v, context) for v in value]
        return value if all(a is b for a, b in zip(items, value)) else items
    return value


def _render_text(text: str, context: Mapping[str, Any]) -> Any:
    from jinja2 import TemplateError, Undefined, UndefinedError

    try:
        native, compiled = _compile(text)
        if native:
            result = compiled(**context)
            if isinstance(result, Undefined):
                result._fail_with_undefined_error()
            return result
        return compiled.render(**context)
    except UndefinedError as exc:
        raise _undefined_problem(text, exc, context) from exc
    except TemplateError as exc:
        raise TemplateProblem(f"template {text!r:.80} failed: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError, AttributeError, LookupError, MemoryError, RecursionError) as exc:
        raise TemplateProblem(f"template {text!r:.80} failed: {type(exc).__name__}: {exc}") from exc


def _undefined_problem(text: str, exc: Exception, context: Mapping[str, Any]) -> TemplateProblem:
    """Say what was undefined. A missing name (a run param, a key of ``group`` or
    ``step``, a bare name) is ``template-undefined``, with how to pass a run param; an
    attribute or element that a *value* lacks (``params.run_date.year`` on a string) is a
    ``template-error`` naming the value and its type: passing a param of that name would
    not help."""
    from jinja2.utils import missing

    obj, name = getattr(exc, "obj", missing), getattr(exc, "name", None)
    head = f"template {text!r:.80}"
    if name is None:  # an undefined we did not create (never expected): Jinja's words
        return TemplateProblem(f"{head} failed: {exc}", Code.TEMPLATE_UNDEFINED)
    if obj is missing or obj is context.get("group") or obj is context.get("step"):
        return TemplateProblem(f"{head} uses undefined name {name!r}", Code.TEMPLATE_UNDEFINED)
    if isinstance(obj, RunParams):
        hint = f"; pass it with --param {name}=…, or write {{{{ params.{name} | default(…) }}}}" if isinstance(name, str) else ""
        return TemplateProblem(f"{head} uses undefined name {name!r}{hint}", Code.TEMPLATE_UNDEFINED)
    if isinstance(obj, Mapping):
        what = f"has no key {name!r}"
    else:
        what = f"has no attribute {name!r}" if isinstance(name, str) else f"has no element {name!r}"
    value = _short_repr(obj)
    path = _path_of(obj, context.get("params"), text)
    subject = f"{path} is {_a(type(obj).__name__)} ({value})" if path else f"the value {value} ({_a(type(obj).__name__)})"
    return TemplateProblem(f"{head} failed: {subject}, which {what}", Code.TEMPLATE_ERROR)


def _a(type_name: str) -> str:
    return f"{'an' if type_name[:1] in 'aeiou' else 'a'} {type_name}"


def _short_repr(value: Any, width: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _path_of(obj: Any, params: Any, text: str, limit: int = 1000) -> str | None:
    """``params.a.b`` / ``params.a[0]`` when exactly one place in the run params holds
    ``obj`` itself (by identity) and the template mentions it; else ``None`` (small ints
    and strings are shared objects, so two places can hold the same one)."""
    if not isinstance(params, Mapping):
        return None
    found: list[str] = []
    queue: list[tuple[str, Any]] = [(f"params.{k}" if isinstance(k, str) and k.isidentifier() else f"params[{k!r}]", v) for k, v in params.items()]
    seen = 0
    while queue and seen < limit:
        path, value = queue.pop(0)
        seen += 1
        if value is obj:
            found.append(path)
        if isinstance(value, Mapping):
            queue.extend((f"{path}.{k}" if isinstance(k, str) and k.isidentifier() else f"{path}[{k!r}]", v) for k, v in value.items())
        elif isinstance(value, list):
            queue.extend((f"{path}[{i}]", v) for i, v in enumerate(value))
    mentioned = [p for p in found if p in text or p.replace("params.", "params['", 1) in text]
    return mentioned[0] if len(mentioned) == 1 else None
