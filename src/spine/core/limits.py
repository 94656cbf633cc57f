"""Hard limits on input, so hostile files end in a clear error instead of a hang."""

from __future__ import annotations

from dataclasses import dataclass

#: Defaults for :class:`Limits`; configurable in ``[tool.spine]``, ``SPINE_*`` and flags.
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
DEFAULT_MAX_DEPTH = 100
DEFAULT_MAX_NODES = 5_000_000
#: How deep steps that call groups may nest (``a/b/c`` is depth 2): deeper is a
#: ``nesting-too-deep`` finding, so a runaway composition ends in a clear error.
MAX_GROUP_NESTING = 8


@dataclass(frozen=True, slots=True)
class Limits:
    """Hard limits that keep hostile input from hanging or exhausting the machine."""

    #: Largest file read, in bytes.
    max_bytes: int = DEFAULT_MAX_BYTES
    #: Deepest nesting of mappings and sequences.
    max_depth: int = DEFAULT_MAX_DEPTH
    #: Most values a document may hold once its aliases are expanded.
    max_nodes: int = DEFAULT_MAX_NODES
