"""What a command works on: settings, the pipelines they register, the groups they name.

Built lazily: ``spine --help`` and ``spine schema`` never import a pipeline module.

A long-lived process (``spine serve``) follows edits to the group files with
:meth:`Workspace.group_files_stamp` (a cheap ``stat`` of every file) and
:meth:`Workspace.reload_groups` (read them again into a new registry, swapped in whole).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spine.config import Settings, import_pipeline_modules

if TYPE_CHECKING:
    from spine.check import CheckSettings
    from spine.framework import PipelineRegistry
    from spine.orchestration import GroupRegistry, LoadedGroup, PipelineGroup


#: A path argument that means "read the YAML from stdin".
STDIN = "-"
#: The file name findings give to what was read from stdin.
STDIN_LABEL = "<stdin>"


class UsageProblem(Exception):
    """A usage error found after parsing (missing file, ambiguous name): exit 2."""


@dataclass
class Workspace:
    settings: Settings
    _pipelines_loaded: bool = False
    _groups: GroupRegistry | None = None
    _group_findings: list[Any] = field(default_factory=list)
    _stdin: list[LoadedGroup] | None = None
    #: Every document the group files held when last read (valid or not).
    _documents: list[LoadedGroup] = field(default_factory=list)
    #: The groups registered in Python, as they were before the files were first read.
    _python_groups: tuple[PipelineGroup, ...] = ()

    @property
    def pipelines(self) -> PipelineRegistry:
        from spine.framework import default_pipeline_registry

        if not self._pipelines_loaded:
            import_pipeline_modules(self.settings)
            self._pipelines_loaded = True
        return default_pipeline_registry

    @property
    def checks_pipelines(self) -> bool:
        """Pipelines are checked only when some are registered."""
        return len(self.pipelines) > 0

    @property
    def registry_or_none(self) -> PipelineRegistry | None:
        return self.pipelines if self.checks_pipelines else None

    def check_settings(self, *, ignore: Sequence[str] = (), **changes: Any) -> CheckSettings:
        """Settings for a check: the registered pipelines, the file limits, the warning
        codes to ignore (``lint.ignore`` in the configuration plus ``ignore``, each
        checked), and ``changes``."""
        from spine.check import CheckSettings, ignore_codes

        codes = ignore_codes(self.settings.lint_ignore, where=self.settings.lint_ignore_source or "lint.ignore")
        codes |= ignore_codes(ignore, where="--ignore")
        changes.setdefault("groups", self.groups)  # nested groups: the configured ones, loaded when first needed
        return CheckSettings(registry=self.registry_or_none, limits=self.settings.limits, ignore=codes, **changes)

    def groups(self) -> GroupRegistry:
        """Registered groups: the configured group paths, plus those registered in Python."""
        if self._groups is None:
            from spine.orchestration import default_group_registry

            _ = self.pipelines  # importing pipeline modules may register DSL groups
            self._python_groups = tuple(default_group_registry)
            self._read_group_files(default_group_registry)
        return self._groups  # type: ignore[return-value]  # set by _read_group_files

    def group_paths(self) -> list[Path]:
        """The configured group paths (``[tool.spine] groups``) that exist."""
        paths = [self.settings.resolve_path(p) for p in self.settings.groups]
        return [p for p in paths if p.exists()]

    def _read_group_files(self, registry: GroupRegistry) -> list[LoadedGroup]:
        from spine.orchestration import scan

        documents = scan(self.group_paths(), self.settings.limits)
        findings: list[Any] = []
        for loaded in documents:
            if loaded.usable is not None:
                registry.register(loaded.usable, replace=True)
            findings.extend(loaded.findings)
        self._documents, self._group_findings = documents, findings
        self._groups = registry
        return documents

    def group_documents(self) -> list[LoadedGroup]:
        """Every document of the group files as last read, those with errors too."""
        self.groups()
        return list(self._documents)

    def reload_groups(self) -> list[LoadedGroup]:
        """Read the group files again; every document read.

        The groups go into a *new* registry (the groups registered in Python, then the
        files' groups) that replaces the old one in one assignment, so a reader in another
        thread sees the old registry or the new one, never one half filled. A group whose
        file was removed or broken is no longer registered. Raises :class:`OSError` when a
        file vanishes while it is read (the next reload reads it as it is then).
        """
        from spine.orchestration import GroupRegistry

        self.groups()
        registry = GroupRegistry()
        for g in self._python_groups:
            registry.register(g, replace=True)
        return self._read_group_files(registry)

    def group_files_stamp(self) -> tuple[tuple[str, int, int], ...]:
        """``(path, mtime_ns, size)`` of every group file under the configured paths, in
        path order: it changes when a file is edited, added or removed. Only ``stat``s;
        nothing is read. Raises :class:`OSError` when a configured file goes meanwhile."""
        from spine.orchestration.loader import iter_group_files

        out: list[tuple[str, int, int]] = []
        for path in iter_group_files(self.group_paths()):  # OSError when a configured file goes meanwhile
            try:
                st = path.stat()
            except OSError:  # removed since it was listed: left out, as it is gone
                continue
            out.append((str(path), st.st_mtime_ns, st.st_size))
        return tuple(out)

    def nested_groups(self, loaded: Sequence[LoadedGroup] = ()) -> Any:
        """Where steps that call a group find it: the groups ``loaded`` (read with the
        target), then the configured ones (loaded only when a name is not among them)."""
        from spine.orchestration.nesting import GroupSource

        return GroupSource((lg.group for lg in loaded if lg.group is not None), self.groups)

    def read_stdin(self) -> list[LoadedGroup]:
        """Every document of the YAML piped to stdin, labelled ``<stdin>``; read once
        (at most the file size limit plus one byte), then remembered."""
        if self._stdin is None:
            from spine.orchestration.loader import read_text

            stream = sys.stdin
            if stream is None:
                raise UsageProblem("'-' reads groups from stdin, but there is no stdin")
            if stream.isatty():
                raise UsageProblem(
                    "'-' reads groups from stdin, but stdin is a terminal; pipe a file in "
                    "(spine group validate - < group.yaml), or name the file"
                )
            limits = self.settings.limits
            raw = getattr(stream, "buffer", None)
            data: bytes | str = raw.read(limits.max_bytes + 1) if raw is not None else stream.read(limits.max_bytes + 1)
            self._stdin = read_text(data, STDIN_LABEL, limits)
        return self._stdin

    def resolve_target(
        self, target: str, group_name: str | None = None, *, allow_invalid: bool = False
    ) -> tuple[PipelineGroup | None, list[LoadedGroup]]:
        """NAME, FILE or ``-`` → (the group, or None when it is invalid) and what was loaded.

        A path that exists is read as a file, and ``-`` reads the YAML on stdin; several
        groups in one file need ``--group``. Anything else is looked up in the registry.
        """
        from spine.orchestration import scan

        path = Path(target)
        if target == STDIN or path.exists():
            loaded = self.read_stdin() if target == STDIN else scan([path], self.settings.limits)
            if group_name is not None:
                loaded = [lg for lg in loaded if lg.name == group_name]
                if not loaded:
                    raise UsageProblem(f"{target} has no group named {group_name!r}")
            elif len(loaded) > 1:
                names = ", ".join(str(lg.name) for lg in loaded)
                raise UsageProblem(f"{target} holds {len(loaded)} groups ({names}); choose one with --group NAME")
            lg = loaded[0]
            return (lg.group if allow_invalid else lg.usable), loaded
        if any(ch in target for ch in "/\\") or target.endswith((".yaml", ".yml")):
            raise UsageProblem(f"no such file: {target}")
        group = self.groups().get(group_name or target)
        return group, []
