"""Rules for group and step names, shared by the loader, the DSL checks and the strategies."""

from __future__ import annotations

import re
import unicodedata

GROUP_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
_GROUP_NAME = re.compile(GROUP_NAME_PATTERN)
STEP_NAME_MAX = 200


def group_name_problem(name: object) -> str | None:
    """Why ``name`` is not a valid group name, or ``None``."""
    if not isinstance(name, str):
        return f"a group name must be a string, got {type(name).__name__}"
    if _GROUP_NAME.fullmatch(name) and ".." not in name:  # fullmatch: "$" would allow a final "\n"
        return None
    return (
        f"group name {name!r:.80} is not allowed: use 1-128 characters from letters, digits, "
        "'_', '.' and '-', starting with a letter or digit, and no '..' (names become file "
        "and run ids)"
    )


def step_name_problem(name: object) -> str | None:
    """Why ``name`` is not a valid step name, or ``None``.

    1-200 printable characters, no leading or trailing space. Printable is Python's
    ``str.isprintable``: it excludes control characters, bidi overrides, zero-width and
    other format characters and non-ASCII spaces — everything that could make two names
    look alike or reorder text on screen. Quotes, ``<``, ``->``, braces and any visible
    unicode are allowed (renderers escape them).
    """
    if not isinstance(name, str):
        return f"a step name must be a string, got {type(name).__name__}"
    if not name:
        return "a step name cannot be empty"
    if len(name) > STEP_NAME_MAX:
        return f"step name is {len(name)} characters long; the limit is {STEP_NAME_MAX}"
    if name != name.strip():
        return f"step name {name!r:.80} has leading or trailing white space; remove it"
    for i, ch in enumerate(name):
        if not ch.isprintable():
            label = unicodedata.name(ch, "control character")
            return (
                f"step name {name!r:.80} contains U+{ord(ch):04X} {label} at position {i}; "
                "remove it (control, bidi, zero-width and invisible characters are not allowed)"
            )
    return None
