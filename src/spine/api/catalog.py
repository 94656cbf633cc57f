"""The groups the API serves: the workspace's and those stored through the API.

Two sources, one namespace:

- **workspace groups** — the configured group files (``[tool.spine] groups``) and groups
  registered in Python; they are owned by their files, so the API cannot change or delete
  them;
- **stored groups** — definitions sent to ``POST``/``PUT /groups``, kept in the store's
  ``pipeline_groups`` table (versioned and hashed, like every definition a run used) and
  marked ``published_at``; ``DELETE`` marks them ``deleted_at`` (rows stay: runs refer
  to them).

**Following the files.** The catalog answers from :class:`WorkspaceGroups`, the files as
last read, and looks at them again at most every :data:`CHECK_SECONDS`, on the request
path: a ``stat`` of every file (:meth:`~spine.workspace.Workspace.group_files_stamp`:
path, ``mtime_ns``, size). When the stamp changed (a file edited, added or removed), one
thread reads the files again (:meth:`~spine.workspace.Workspace.reload_groups`) while the
others keep answering from the snapshot they hold; the new snapshot replaces the old one
in one assignment. A file modified less than :data:`RACY_NS` before its stamp was taken
might change again within the same ``mtime`` tick, unseen: the files are read again at
the next check until they have been still that long (git's "racily clean" entries).

**A file that does not read** (a YAML error, a schema error) takes no other group with
it. Each of its documents that declares a name is served as that group, *invalid*: its
entry carries the document's findings (and the group when it could be built despite
them), so ``GET /groups`` lists it, ``GET /groups/{name}`` shows the findings, and
``plan``, ``graph`` and ``runs`` answer ``422`` with them, as for any invalid group; the
dashboard shows its verdict and findings. A document broken beyond reading its name
stands for the names its file defined when last read that it no longer defines; failing
those too, it is listed in :meth:`GroupCatalog.unreadable` (the dashboard says so above
its groups). Runs already started keep the plan they were started with.

**A name belongs to one source.** ``POST`` and ``PUT`` refuse a name a workspace file
defines (409). A file that *comes to* define a name already stored through the API wins,
as it would at start: the file's group is served and the stored one is hidden, and the
file's group carries a ``duplicate-group`` warning saying so. ``DELETE`` of such a name
removes the stored versions it hides (``204``); of a name only a file defines it is a 409.
"""

from __future__ import annotations

import builtins
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from spine.api.problems import Problem
from spine.core.errors import GroupNotFoundError, InvalidGroupSpecError
from spine.core.findings import Code, Finding, Severity
from spine.orchestration.loader import LoadedGroup

if TYPE_CHECKING:
    from spine.orchestration.models import PipelineGroup
    from spine.orchestration.registry import GroupRegistry
    from spine.store import RunStore
    from spine.workspace import Workspace

_log = logging.getLogger("spine.api.groups")

#: The label findings give to a request body.
BODY_LABEL = "<request>"
#: The group files are looked at for changes at most this often (seconds).
CHECK_SECONDS = 1.0
#: A file modified less than this (nanoseconds) before it was looked at is read again at
#: the next check: a second write within the same ``mtime`` tick would not show.
RACY_NS = 2_000_000_000


@dataclass(frozen=True, slots=True)
class GroupEntry:
    """One group as the API lists it."""

    #: The group; ``None`` when its document is too broken to build one (see ``findings``).
    group: PipelineGroup | None
    #: ``workspace`` or ``store``.
    origin: str
    file: str | None = None
    created_at: dt.datetime | None = None
    hash: str | None = None
    #: The name its document declares (the group's name when there is a group).
    declared: str | None = None
    #: What reading its definition found: the errors of a file that does not read, the
    #: warning that it hides a stored group. The full check is ``spine group validate``'s.
    findings: tuple[Finding, ...] = ()
    #: 0-based index of its document in ``file``.
    document: int = 0

    @property
    def name(self) -> str:
        return self.group.name if self.group is not None else str(self.declared)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    def loaded(self) -> LoadedGroup:
        """The entry as a document to check (``spine.check.check_documents``)."""
        return LoadedGroup(self.file, self.document, self.group, list(self.findings), self.name)

    def to_dict(self) -> dict[str, Any]:
        from spine.runner.results import iso

        g = self.group
        return {
            "name": self.name, "version": g.version if g else None, "domain": g.domain if g else None,
            "description": g.description if g else None, "tags": list(g.tags) if g else [], "steps": len(g.steps) if g else None,
            "origin": self.origin, "file": self.file, "created_at": iso(self.created_at), "hash": self.hash,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class WorkspaceGroups:
    """The workspace's groups as last read (see the module docstring); never changed, replaced."""

    #: Name → the document that defines it (a file's, or one standing for a group registered in Python).
    documents: Mapping[str, LoadedGroup]
    #: Broken documents that name no group and stand for none.
    unnamed: tuple[LoadedGroup, ...]
    #: File → the names it defines (or, while it is broken, defined when it last read).
    names_by_file: Mapping[str, frozenset[str]]
    #: :meth:`~spine.workspace.Workspace.group_files_stamp` before the files were read.
    stamp: tuple[tuple[str, int, int], ...]
    #: ``False`` while a file is racily new (:data:`RACY_NS`): read again at the next check.
    settled: bool
    #: When the stamp was last compared (the catalog's clock).
    checked: float = field(default=0.0, compare=False)


def index_documents(
    documents: Sequence[LoadedGroup], registry: Iterable[PipelineGroup], before: Mapping[str, frozenset[str]]
) -> tuple[dict[str, LoadedGroup], tuple[LoadedGroup, ...], dict[str, frozenset[str]]]:
    """The files' documents by name, those that stand for no name, and each file's names.

    A name defined twice keeps its last valid document (the registry's rule: the last file
    read wins), which carries a ``duplicate-group`` warning naming the others. A document
    that names nothing stands for the names ``before`` says its file defined and that no
    document defines now; ``registry``'s groups that no file defines are the groups
    registered in Python.
    """
    by_name: dict[str, LoadedGroup] = {}
    defined: dict[str, set[str]] = {}
    nameless: dict[str, list[LoadedGroup]] = {}
    every: dict[str, list[LoadedGroup]] = {}
    for lg in documents:
        name = lg.group.name if lg.group is not None else lg.name
        if not name:
            nameless.setdefault(str(lg.file), []).append(lg)
            continue
        defined.setdefault(str(lg.file), set()).add(name)
        every.setdefault(name, []).append(lg)
        old = by_name.get(name)
        if old is None or lg.valid or not old.valid:
            by_name[name] = lg
    for name, docs in every.items():
        if len(docs) > 1:
            by_name[name] = _served_of_several(name, by_name[name], [d for d in docs if d is not by_name[name]])
    names = {file: set(found) for file, found in defined.items()}
    unnamed: list[LoadedGroup] = []
    for file, docs in nameless.items():
        lost = sorted(before.get(file, frozenset()) - defined.get(file, set()) - by_name.keys())
        if not lost:
            unnamed.extend(docs)
            continue
        findings = [f for d in docs for f in d.findings]
        for name in lost:
            by_name[name] = LoadedGroup(docs[0].file, docs[0].document, None, findings, name)
        names.setdefault(file, set()).update(lost)
    for g in registry:
        if g.name not in by_name:
            by_name[g.name] = LoadedGroup(g.source.file if g.source is not None else None, 0, g, [], g.name)
    return by_name, tuple(unnamed), {file: frozenset(found) for file, found in names.items()}


def _served_of_several(name: str, served: LoadedGroup, others: Sequence[LoadedGroup]) -> LoadedGroup:
    """``served`` with a warning that ``others`` define ``name`` too (``spine group validate``
    reports the same as an error; the server serves one rather than none)."""

    def at(lg: LoadedGroup) -> str:
        line = lg.group.source.group[0] if lg.group is not None and lg.group.source is not None else None
        return f"{lg.file or '<python>'}" + (f":{line}" if line else f" (document {lg.document + 1})")

    line, column = served.group.source.group if served.group is not None and served.group.source is not None else (None, None)
    clash = Finding(
        Code.DUPLICATE_GROUP,
        f"group name {name!r} is also used at {', '.join(at(d) for d in others)}; the server serves this one, the last valid "
        "definition read — rename one (spine group validate reports it as an error)",
        severity=Severity.WARNING, file=served.file, line=line, column=column, group=name,
    )
    return LoadedGroup(served.file, served.document, served.group, [*served.findings, clash], served.name)


class GroupCatalog:
    """Workspace and stored groups (see the module docstring)."""

    def __init__(
        self, workspace: Workspace, store: RunStore, *, check_seconds: float = CHECK_SECONDS, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.workspace = workspace
        self.store = store
        self.check_seconds = check_seconds
        self._clock = clock
        self._lock = threading.Lock()  # writes
        self._reading = threading.Lock()  # one thread looks at the files at a time
        stamp = workspace.group_files_stamp()  # before reading: an edit made meanwhile shows at the next check
        documents = workspace.group_documents()  # read now, in one thread
        # not settled: the workspace may have read its files before the stamp was taken
        self._files = self._indexed(documents, workspace.groups(), {}, stamp, settled=False)

    # -- following the files -------------------------------------------------------------

    def _indexed(
        self, documents: Sequence[LoadedGroup], registry: GroupRegistry, before: Mapping[str, frozenset[str]],
        stamp: tuple[tuple[str, int, int], ...], *, settled: bool,
    ) -> WorkspaceGroups:
        by_name, unnamed, names = index_documents(documents, registry, before)
        return WorkspaceGroups(by_name, unnamed, names, stamp, settled, self._clock())

    def current(self) -> WorkspaceGroups:
        """The workspace's groups, the files looked at again when the last look is
        :attr:`check_seconds` old (and read again when they changed)."""
        files = self._files
        if self._clock() - files.checked < self.check_seconds:
            return files
        with self._reading:
            files = self._files
            now = self._clock()
            if now - files.checked < self.check_seconds:
                return files  # another thread has just looked
            try:
                stamp = self.workspace.group_files_stamp()
                if stamp == files.stamp and files.settled:
                    files = replace(files, checked=now)
                else:
                    files = self._reread(stamp, files)
            except OSError as exc:  # a file went while it was read: keep what was read, look again next time
                _log.warning("could not read the group files again (%s); serving them as last read", exc)
                files = replace(files, checked=now, settled=False)
            self._files = files
        return files

    def _reread(self, stamp: tuple[tuple[str, int, int], ...], before: WorkspaceGroups) -> WorkspaceGroups:
        wall = time.time_ns()
        settled = all(wall - mtime >= RACY_NS for _, mtime, _ in stamp)
        documents = self.workspace.reload_groups()
        files = self._indexed(documents, self.workspace.groups(), before.names_by_file, stamp, settled=settled)
        if stamp != before.stamp:
            broken = sorted(n for n, lg in files.documents.items() if not lg.valid and lg.file is not None)
            _log.info(
                "read the group files again: %d group(s), %d with errors%s", len(files.documents), len(broken) + len(files.unnamed),
                f" ({', '.join(broken)})" if broken else "",
            )
        return files

    def unreadable(self) -> builtins.list[LoadedGroup]:
        """Documents of the group files that are too broken to name a group (and stand for none)."""
        return list(self.current().unnamed)

    # -- reading -------------------------------------------------------------------------

    @staticmethod
    def _ws_entry(lg: LoadedGroup) -> GroupEntry:
        name = lg.group.name if lg.group is not None else lg.name
        return GroupEntry(lg.group, "workspace", lg.file, declared=name, findings=tuple(f.with_context(group=name) for f in lg.findings),
                          document=lg.document)

    def _workspace_entry(self, name: str) -> GroupEntry | None:
        lg = self.current().documents.get(name)
        return self._ws_entry(lg) if lg is not None else None

    @staticmethod
    def _hides(entry: GroupEntry, versions: int) -> GroupEntry:
        """``entry`` with the warning that it hides a group stored through the API."""
        g = entry.group
        line, column = g.source.group if g is not None and g.source is not None else (None, None)
        where = f"the file {entry.file}" if entry.file else "Python"
        clash = Finding(
            Code.DUPLICATE_GROUP,
            f"a group named {entry.name!r} is also stored through the API ({versions} version(s)); the one defined in {where} "
            f"is served and the stored one is hidden: DELETE /api/v1/groups/{entry.name} removes the stored one, or rename one of them",
            severity=Severity.WARNING, file=entry.file, line=line, column=column, group=entry.name,
        )
        return replace(entry, findings=(*entry.findings, clash))

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
        files = self.current()
        latest: dict[str, Any] = {}
        versions: dict[str, int] = {}
        for row in self._stored_rows():
            latest[row["name"]] = row  # ordered by version, then publication: the last wins
            versions[row["name"]] = versions.get(row["name"], 0) + 1
        entries = [self._ws_entry(lg) for lg in files.documents.values()]
        entries = [self._hides(e, versions[e.name]) if e.name in versions else e for e in entries]
        entries += [self._stored_entry(r) for r in latest.values() if r["name"] not in files.documents]
        if domain is not None:
            entries = [e for e in entries if e.group is not None and e.group.domain == domain]
        if tag is not None:
            entries = [e for e in entries if e.group is not None and tag in e.group.tags]
        return sorted(entries, key=lambda e: e.name)

    def entry(self, name: str, version: int | None = None, *, clash: bool = True) -> GroupEntry:
        """One group, its latest version or ``version``; 404 when there is none. ``clash``:
        say when a workspace group hides a stored one (one more query)."""
        ws = self._workspace_entry(name)
        if ws is not None:
            if version is not None and ws.group is not None and ws.group.version != version:
                raise Problem(404, f"group {name!r} is defined in a file at version {ws.group.version}; there is no version {version}", kind="not-found")
            if clash:
                hidden = self._stored_rows(name)
                if hidden:
                    ws = self._hides(ws, len(hidden))
            return ws
        rows = self._stored_rows(name, version)
        if not rows:
            known = [e.name for e in self.list()]
            from spine.core.suggest import did_you_mean

            hint = did_you_mean(name, known) if known else ""
            what = f"group {name!r}" + (f" version {version}" if version is not None else "")
            raise GroupNotFoundError(f"no {what}{hint}; GET /api/v1/groups lists the groups")
        return self._stored_entry(rows[-1])

    def get(self, name: str, version: int | None = None) -> PipelineGroup:
        """The group to plan, draw or run; :class:`InvalidGroupSpecError` with the findings
        when its file does not read (a 422, as for any invalid group)."""
        entry = self.entry(name, version, clash=False)
        if entry.group is None or entry.errors:
            raise InvalidGroupSpecError(findings=entry.errors or entry.findings)
        return entry.group

    def document(self, name: str) -> LoadedGroup:
        """The group called ``name`` as a document to check, with what reading it found."""
        return self.entry(name).loaded()

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
        """Remove a stored group (every version); how many versions were removed. A name a
        file defines is a 409, unless versions stored before the file came are hidden by it:
        those are removed."""
        from spine.store.schema import pipeline_groups as t

        with self._lock:

            def tx(conn: sa.Connection) -> int:
                return conn.execute(
                    t.update().where(t.c.name == name, t.c.published_at.is_not(None), t.c.deleted_at.is_(None))
                    .values(deleted_at=dt.datetime.now(dt.UTC))
                ).rowcount

            n = self.store.write(tx)
            if n == 0:
                self._owned_by_file(name)
        if n == 0:
            raise GroupNotFoundError(f"no stored group {name!r}; GET /api/v1/groups lists the groups")
        return int(n)


__all__ = ["BODY_LABEL", "CHECK_SECONDS", "RACY_NS", "GroupCatalog", "GroupEntry", "WorkspaceGroups", "index_documents"]
