"""What to check cannot be found or understood: usage problems, not findings.

A finding is a problem *in* a group file; these errors say the request itself is wrong
(a path that does not exist, a folder without group files, a git source that names
nothing, a ``--param`` without ``=``, a code that cannot be ignored). They are not
:class:`~spine.core.errors.GroupError`\\ s: the CLI exits 2 for them, like for a bad
option. Each carries what it is about, so a caller need not parse the message.
"""

from __future__ import annotations

from collections.abc import Sequence

from spine.core.errors import SpineError


class CheckInputError(SpineError):
    """The inputs of a check are wrong: nothing was checked (the CLI exits 2)."""


class PathNotFoundError(CheckInputError):
    """A path given to check does not exist."""

    def __init__(self, path: str) -> None:
        #: The path as given.
        self.path = path
        super().__init__(f"no such file or folder: {path}")


class NoGroupFilesError(CheckInputError):
    """The paths hold no group files (``*.yaml``, ``*.yml``), or nothing was given."""

    def __init__(self, paths: Sequence[str], message: str | None = None) -> None:
        #: The paths that were searched.
        self.paths = tuple(paths)
        super().__init__(message or f"no group files (*.yaml, *.yml) found in {', '.join(self.paths)}")


class GitSourceError(CheckInputError):
    """A ``git:REF:path`` source is malformed, names nothing, or git could not be run."""

    def __init__(self, spec: str, message: str) -> None:
        #: The source as given (``git:REF:path``).
        self.spec = spec
        super().__init__(message)


class RunParamSyntaxError(CheckInputError):
    """A run param is not ``KEY=VALUE``."""

    def __init__(self, item: str) -> None:
        #: The item as given.
        self.item = item
        super().__init__(f"--param takes KEY=VALUE, got {item!r}")


class IgnoreCodeError(CheckInputError):
    """A code asked to be ignored is unknown, or is an error (only warnings can be ignored)."""

    def __init__(self, code: str, message: str) -> None:
        #: The code as given.
        self.code = code
        super().__init__(message)
