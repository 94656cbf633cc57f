"""The groups the API serves: the workspace's and those stored through the API.

Two sources, one namespace:

- **workspace groups** — the configured group files (``[tool.spine] groups``) and groups
  registered in Python, read once when the server starts (restart it to see edits);
  they are owned by their files, so the API cannot change or delete them;
- **stored groups** — definitions sent to ``POST``/``PUT /groups``, kept in the store's
  ``pipeline_groups`` table (versioned and hashed, like every definition a run used) and
  marked ``published_at``; ``DELETE`` marks them ``deleted_at`` (rows stay: runs refer
  to them).

A name belongs to one source: ``POST`` refuses a name a workspace file defines (409),
so nothing is shadowed. ``GET /groups`` lists both, each with its ``origin``.
"""

from __future__ import annotations

import builtins
import datetime as dt
import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from spine.api.problems import Problem
from spine.core.errors import GroupNotFoundError, InvalidGroupSpecError

if TYPE_CHECKING:
    from spine.core.findings import Finding
    from spine.orchestration.models import PipelineGroup
    from spine.store import RunStore
    from spine.workspace import Workspace

#: The label findings give to a request body.
BODY_LABEL = "<request>"


@dataclass(frozen=True, slots=True)
class GroupEntry:
    """One group as the API lists it."""

    group: PipelineGroup
    #: ``workspace`` or ``store``.
    origin: str
    file: str | None = None
    created_at: dt.datetime | None = None
    hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        from spine.runner.results import iso

        g = self.group
        return {
            "name": g.name, "version": g.version, "domain": g.domain, "description": g.description, "tags": list(g.tags),
            "steps": len(g.steps), "origin": self.origin, "file": self.file, "created_at": iso(self.created_at), "hash": self.hash,
        }


class GroupCatalog:
    """Workspace and stored groups (see the module docstring)."""

    def __init__(self, workspace: Workspace, store: RunStore) -> None:
        self.workspace = workspace
        self.store = store
        self._lock = threading.Lock()
        self._registry = workspace.groups()  # read now, in one thread

    # -- reading -------------------------------------------------------------------------

    def _workspace_entry(self, name: str) -> GroupEntry | None:
        if name not in self._registry:
            return None
        g = self._registry.get(name)
        return GroupEntry(g, "workspace", g.source.file if g.source is not None else None)

    def _stored_rows(self, name: str | None = None, version: int | None = None) -> builtins.list[Any]:
        from spine.store.schema import pipeline_groups as t

        def q(conn: sa.Connection) -> builtins.list[Any]:
            query = sa.select(t).where(t.c.published_at.is_not(None), t.c.deleted_at.is_(None))
            if name is not None:
                query = query.where(t.c.name == name)
            if version is not None:
                query = query.where(t.c.version == version)
            return list(conn.execute(query.order_by(t.c.name, t.c.version, t.c.published_at, t.c.id)).mappings())

        return self.store.read(q)

    @staticmethod
    def _stored_entry(row: Any) -> GroupEntry:
        from spine.orchestration.models import PipelineGroup
        from spine.store import codec

        return GroupEntry(PipelineGroup.from_dict(codec.decode(row["definition"])), "store", None, row["published_at"], row["hash"])

    def list(self, *, domain: str | None = None, tag: str | None = None) -> builtins.list[GroupEntry]:
        """Every group (latest version of each stored one), by name."""
        entries = [GroupEntry(g, "workspace", g.source.file if g.source is not None else None) for g in self._registry]
        latest: dict[str, Any] = {}
        for row in self._stored_rows():
            latest[row["name"]] = row  # ordered by version, then publication: the last wins
        entries += [self._stored_entry(r) for r in latest.values() if r["name"] not in self._registry]
        if domain is not None:
            entries = [e for e in entries if e.group.domain == domain]
        if tag is not None:
            entries = [e for e in entries if tag in e.group.tags]
        return sorted(entries, key=lambda e: e.group.name)

    def entry(self, name: str, version: int | None = None) -> GroupEntry:
        """One group, its latest version or ``version``; 404 when there is none."""
        ws = self._workspace_entry(name)
        if ws is not None:
            if version is not None and ws.group.version != version:
                raise Problem(404, f"group {name!r} is defined in a file at version {ws.group.version}; there is no version {version}", kind="not-found")
            return ws
        rows = self._stored_rows(name, version)
        if not rows:
            known = [e.group.name for e in self.list()]
            from spine.core.suggest import did_you_mean

            hint = did_you_mean(name, known) if known else ""
            what = f"group {name!r}" + (f" version {version}" if version is not None else "")
            raise GroupNotFoundError(f"no {what}{hint}; GET /api/v1/groups lists the groups")
        return self._stored_entry(rows[-1])

    def get(self, name: str, version: int | None = None) -> PipelineGroup:
        return self.entry(name, version).group

    # -- checking a body -------------------------------------------------------------------

    def check(self, body: bytes) -> tuple[PipelineGroup | None, builtins.list[Finding]]:
        """Read and check one group document (YAML or JSON); the group when it has no
        errors, and every finding (errors and warnings)."""
        from spine.check import check_documents
        from spine.core.findings import Finding, Severity
        from spine.orchestration.loader import read_text

        loaded = read_text(body, BODY_LABEL, self.workspace.settings.limits)
        if len(loaded) != 1:
            if not loaded:
                return None, [Finding(code="invalid-spec", message="the body holds no group document; send one group as YAML or JSON", file=BODY_LABEL)]
            if all(lg.group is not None for lg in loaded):
                return None, [Finding(code="invalid-spec", message=f"the body holds {len(loaded)} group documents; send one at a time", file=BODY_LABEL)]
        report = check_documents(loaded[:1] if len(loaded) > 1 and loaded[0].group is None else loaded, self.workspace.check_settings())
        findings = [f for gc in report.groups for f in gc.findings] + list(report.findings)
        group = loaded[0].usable if len(loaded) == 1 else None
        if any(f.severity is Severity.ERROR for f in findings):
            group = None
        return group, findings

    def parse(self, body: bytes) -> tuple[PipelineGroup, builtins.list[Finding]]:
        """The group in ``body``, or :class:`InvalidGroupSpecError` with every finding."""
        group, findings = self.check(body)
        if group is None:
            raise InvalidGroupSpecError(findings=findings or ())
        return group, findings

    # -- writing -------------------------------------------------------------------------

    def _owned_by_file(self, name: str) -> None:
        ws = self._workspace_entry(name)
        if ws is not None:
            where = f" in {ws.file}" if ws.file else " in Python"
            raise Problem(409, f"group {name!r} is defined{where}; change it there (the API stores only groups of its own)", kind="group-in-workspace")

    def _publish(self, group: PipelineGroup) -> GroupEntry:
        from spine.store.schema import pipeline_groups as t

        now = dt.datetime.now(dt.UTC)

        def tx(conn: sa.Connection) -> None:
            row_id = self.store.save_definition(conn, group)
            conn.execute(t.update().where(t.c.id == row_id).values(published_at=now, deleted_at=None))

        self.store.write(tx)
        return self.entry(group.name, group.version)

    def create(self, group: PipelineGroup) -> GroupEntry:
        """Store a new group (409 when the name is taken)."""
        with self._lock:
            self._owned_by_file(group.name)
            if self._stored_rows(group.name):
                raise Problem(409, f"group {group.name!r} already exists; PUT /api/v1/groups/{group.name} stores a new version", kind="group-exists")
            return self._publish(group)

    def put(self, name: str, group: PipelineGroup) -> GroupEntry:
        """Store ``group`` as the next version of ``name`` (created when new)."""
        if group.name != name:
            raise Problem(422, f"the body's metadata.name is {group.name!r} but the URL names {name!r}; make them the same", kind="name-mismatch")
        with self._lock:
            self._owned_by_file(name)
            rows = self._stored_rows(name)
            if rows:
                top = max(int(r["version"]) for r in rows)
                if group.version <= top:
                    group = replace(group, version=top + 1, source=None)
            return self._publish(group)

    def delete(self, name: str) -> int:
        """Remove a stored group (every version); how many versions were removed."""
        from spine.store.schema import pipeline_groups as t

        with self._lock:
            self._owned_by_file(name)

            def tx(conn: sa.Connection) -> int:
                return conn.execute(
                    t.update().where(t.c.name == name, t.c.published_at.is_not(None), t.c.deleted_at.is_(None))
                    .values(deleted_at=dt.datetime.now(dt.UTC))
                ).rowcount

            n = self.store.write(tx)
        if n == 0:
            raise GroupNotFoundError(f"no stored group {name!r}; GET /api/v1/groups lists the groups")
        return int(n)


__all__ = ["BODY_LABEL", "GroupCatalog", "GroupEntry"]
