"""The CLI's workspace is the library's :mod:`spine.workspace` (the API uses it too)."""

from spine.workspace import STDIN, STDIN_LABEL, UsageProblem, Workspace

__all__ = ["STDIN", "STDIN_LABEL", "UsageProblem", "Workspace"]
