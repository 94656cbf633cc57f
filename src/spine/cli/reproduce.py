"""Ready-to-run commands that reproduce a fuzz counterexample, types included.

A counterexample's run params are Python values: ``"2000-01-01"`` may be a string or a
date, ``5`` an int or ``"5"``. ``--param`` reads its value as YAML (see
:func:`spine.check.parse_params`), so each value is written in the form that reads
back as exactly that value and type:

* a string as it is when ``--param`` keeps it as that string (``T1``), otherwise in YAML
  double quotes (``"2000-01-01"``, ``"5"``, ``"yes"``), with non-printable characters as
  ``\\u``/``\\U`` escapes so the command can be printed;
* numbers, booleans, null and dates as YAML scalars (``5``, ``1.0e+20``, ``.inf``,
  ``true``, ``null``, ``2000-01-01``);
* lists and mappings in YAML flow style (``[1, "a"]``, ``{"k": 2000-01-01}``).

Every argument is parsed back before it is printed; a value that no ``--param`` can carry
(a key with ``=`` in it, a lone surrogate) gives no command rather than a wrong one. The
whole line is quoted for POSIX shells with :func:`shlex.join`.
"""

from __future__ import annotations

import datetime as dt
import math
import shlex
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

_MISSING = object()


def param_argument(key: str, value: Any) -> str | None:
    """``KEY=VALUE`` that ``--param`` reads back as exactly ``{key: value}`` (same types), or ``None``."""
    from spine.check import RunParamSyntaxError, parse_params

    for text in _candidates(value):
        arg = f"{key}={text}"
        try:
            parsed = parse_params([arg])
        except RunParamSyntaxError:  # an empty key, or no '='
            return None
        if list(parsed) == [key] and same_value(parsed[key], value):
            return arg
    return None


def plan_command(target: Sequence[str], params: Mapping[str, Any], *, config: str | None = None) -> str | None:
    """``spine [--config C] group plan TARGET… --param K=V …`` for ``params``, quoted for a
    POSIX shell; ``None`` when some value cannot be written as a ``--param``."""
    args = ["spine", *(["--config", config] if config else []), "group", "plan", *target]
    for key, value in params.items():
        arg = param_argument(key, value)
        if arg is None:
            return None
        args += ["--param", arg]
    line = shlex.join(args)
    return line if line.isprintable() else None


def plan_target(file: str | None, group: str, *, several: bool) -> list[str]:
    """The arguments naming the group for ``plan``: its file (``--group`` when the file
    holds several groups), or its name when it was registered in Python."""
    if file is None:
        return [group]
    if file.startswith("-"):
        file = f"./{file}"
    return [file, "--group", group] if several else [file]


def fuzz_commands(results: Sequence[Any], groups: Sequence[Any], *, config: str | None = None) -> dict[tuple[int, str], str | None]:
    """For ``spine group fuzz``: ``(result index, check name)`` → the ``spine group plan``
    command that reproduces each run-params counterexample, or ``None`` when a value cannot
    be written as a ``--param``. ``groups`` are the group checks of the run
    (:class:`spine.check.GroupCheck`, one per document), used to tell whether a file needs
    ``--group``."""
    documents = Counter(g.file for g in groups)
    out: dict[tuple[int, str], str | None] = {}
    for i, result in enumerate(results):
        for check in result.checks:
            params = run_params_of(check)
            if params is not None:
                target = plan_target(result.file, result.group, several=documents[result.file] > 1)
                out[(i, check.name)] = plan_command(target, params, config=config)
    return out


def with_commands(index: int, data: dict[str, Any], commands: Mapping[tuple[int, str], str | None]) -> dict[str, Any]:
    """A fuzz result's ``to_dict()`` with ``"reproduce"`` added to each run-params counterexample."""
    for check in data["checks"]:
        if (index, check["name"]) in commands:
            check["counterexample"]["reproduce"] = commands[(index, check["name"])]
    return data


def run_params_of(check: Any) -> dict[str, Any] | None:
    """The run params of a failed fuzz check's counterexample (``valid run params`` and
    ``invalid run params``), or ``None`` (no counterexample, or a mutation of the group)."""
    from spine.testing.fuzz import CHECKS

    ce = check.counterexample
    if ce is None:
        return None
    if check.name == CHECKS[0]:
        return dict(ce.example)
    if check.name == CHECKS[1] and isinstance(ce.example.get("params"), dict):
        return dict(ce.example["params"])
    return None


def same_value(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (``1`` is not ``True`` nor ``1.0``; NaN is NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        if len(a) != len(b):
            return False
        for key, value in a.items():
            other = next((k for k in b if k == key and type(k) is type(key)), _MISSING)
            if other is _MISSING or not same_value(value, b[other]):
                return False
        return True
    return bool(a == b)


def _candidates(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.isprintable():
            yield value
        yield _quoted(value)
    else:
        text = _flow(value)
        if text is not None:
            yield text


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar; every character Python would not print is an escape
    (``\\uXXXX``, or ``\\UXXXXXXXX`` beyond the BMP), so the command stays printable."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _flow(value: Any) -> str | None:
    """``value`` in YAML 1.1 flow style, or ``None`` for a type YAML cannot carry."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value).lower()
        return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        items = [_flow(v) for v in value]
        return None if None in items else f"[{', '.join(items)}]"  # type: ignore[arg-type]
    if isinstance(value, dict):
        pairs = [(_flow(k), _flow(v)) for k, v in value.items()]
        if any(k is None or v is None for k, v in pairs):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    return None


__all__ = ["fuzz_commands", "param_argument", "plan_command", "plan_target", "run_params_of", "same_value", "with_commands"]
