"""What a command works on: settings, the pipelines they register, the groups they name.

Built lazily: ``spine --help`` and ``spine schema`` never import a pipeline module.
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
        return CheckSettings(registry=self.registry_or_none, limits=self.settings.limits, ignore=codes, **changes)

    def groups(self) -> GroupRegistry:
        """Registered groups: the configured group paths, plus those registered in Python."""
        if self._groups is None:
            from spine.orchestration import default_group_registry, scan

            _ = self.pipelines  # importing pipeline modules may register DSL groups
            registry = default_group_registry
            paths = [self.settings.resolve_path(p) for p in self.settings.groups]
            existing = [p for p in paths if p.exists()]
            for loaded in scan(existing, self.settings.limits):
                if loaded.usable is not None:
                    registry.register(loaded.usable, replace=True)
                self._group_findings.extend(loaded.findings)
            self._groups = registry
        return self._groups

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
