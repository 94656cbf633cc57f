"""Files → groups. The only module here that touches the file system.

The strict calls raise one :class:`InvalidGroupSpecError` with every finding:
``load_group_from_yaml(path)`` (one group in a file), ``load_groups_from_yaml(path)``
(every group in a file), ``load_groups_from_directory(path)``, ``load_groups(path)`` (a
file or a folder) — the original spine-core names, which take *paths* — and
``load_group_from_text(text)`` / ``load_groups_from_text(text)`` for YAML text. A path
function never takes text for a path or the reverse: see :func:`_group_file`.
``scan(paths)`` is what ``spine group validate`` uses: it never raises for bad input, it
returns one :class:`LoadedGroup` per document (or per unreadable file) with its
findings, so one bad file does not hide the problems of the others.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from spine.core.errors import InvalidGroupSpecError
from spine.core.findings import Finding, Severity
from spine.orchestration.models import PipelineGroup
from spine.orchestration.spec import group_from_document, parse_document
from spine.yamlio.reader import Limits, gc_paused, read_bytes, read_documents

YAML_SUFFIXES = (".yaml", ".yml")
_log = logging.getLogger(__name__)


@dataclass(slots=True)
class LoadedGroup:
    """One document of one file: the group if it could be built, and its findings."""

    file: str | None
    document: int
    group: PipelineGroup | None
    findings: list[Finding] = field(default_factory=list)
    #: The name the document declares, when it has one (even if the group is invalid).
    name: str | None = None

    @property
    def valid(self) -> bool:
        return self.group is not None and not any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def usable(self) -> PipelineGroup | None:
        """The group when it loaded without errors, else ``None``."""
        return self.group if self.valid else None


def iter_group_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files named by ``paths``: files as given, folders searched recursively for *.yaml/*.yml.

    Hidden folders (``.git``, ``.venv``) are skipped; the order is sorted, so output is
    stable. A path that does not exist raises :class:`FileNotFoundError` (a usage error).
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found: list[Path] = []
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(Path(root) / f for f in files if f.endswith(YAML_SUFFIXES) and not f.startswith(".") and (Path(root) / f).is_file())
            yield from sorted(found)
        elif path.exists():
            yield path
        else:
            raise FileNotFoundError(str(path))


def read_file(path: str | os.PathLike[str], limits: Limits | None = None) -> list[LoadedGroup]:
    """Every document in one file, as :class:`LoadedGroup`s (never raises for bad content)."""
    limits = limits or Limits()
    name = str(path)
    try:
        data = read_bytes(name, limits)
    except InvalidGroupSpecError as exc:
        return [LoadedGroup(name, 0, None, list(exc.findings))]
    return read_text(data, name, limits)


def read_text(data: bytes | str, label: str, limits: Limits | None = None) -> list[LoadedGroup]:
    """Every document in ``data`` (file contents, a git blob …) labelled ``label``."""
    limits = limits or Limits()
    try:
        docs = read_documents(data, label, limits, strict=False)
    except InvalidGroupSpecError as exc:
        return [LoadedGroup(label, 0, None, list(exc.findings))]
    out: list[LoadedGroup] = []
    for doc in docs:
        if doc.value is None:
            if doc.findings:  # the document the reader stopped at
                out.append(LoadedGroup(label, doc.index, None, list(doc.findings)))
            continue  # otherwise an empty document, e.g. after a trailing '---'
        group, findings = parse_document(doc)
        findings = [*doc.findings, *findings]
        declared = None
        if isinstance(doc.value, dict) and isinstance(doc.value.get("metadata"), dict):
            n = doc.value["metadata"].get("name")
            declared = n if isinstance(n, str) else None
        out.append(LoadedGroup(label, doc.index, group, findings, declared))
    if not out:
        out.append(
            LoadedGroup(
                label,
                0,
                None,
                [Finding("empty-file", "the file holds no group document; add one or remove the file", file=label, line=1, column=1)],
            )
        )
    return out


def scan(paths: Iterable[str | os.PathLike[str]], limits: Limits | None = None) -> list[LoadedGroup]:
    """Every document of every file under ``paths``."""
    out: list[LoadedGroup] = []
    started = time.perf_counter()
    files = 0
    with gc_paused():
        for path in iter_group_files(paths):
            files += 1
            loaded = read_file(path, limits)
            _log.debug("read %s: %d document(s)", path, len(loaded), extra={"file": str(path), "documents": len(loaded)})
            out.extend(loaded)
    _log.info(
        "loaded %d document(s) from %d file(s) in %.3f s",
        len(out), files, time.perf_counter() - started,
        extra={"files": files, "documents": len(out), "seconds": round(time.perf_counter() - started, 3)},
    )
    return out


def load_groups(path: str | os.PathLike[str], limits: Limits | None = None) -> list[PipelineGroup]:
    """Every group in a file or folder; raises :class:`InvalidGroupSpecError` with every problem.

    YAML text given here is refused (``wrong-loader``, naming :func:`load_groups_from_text`).
    """
    name = os.fsdecode(path)
    if not os.path.exists(name):
        _refuse_text(name, "load_groups", "load_groups_from_text")
    try:
        loaded = scan([path], limits)
    except FileNotFoundError as exc:
        raise _not_found(str(exc)) from exc
    return _strict(loaded)


def load_group_from_yaml(path: str | os.PathLike[str], *, limits: Limits | None = None) -> PipelineGroup:
    """Exactly one group from the YAML file at ``path``; raises :class:`InvalidGroupSpecError`.

    ``path`` is a file path (``str`` or path-like). When no file has that name and the
    string looks like YAML text, it is refused with a ``wrong-loader`` finding naming
    :func:`load_group_from_text`: text and paths are never guessed one for the other.
    Like every loader it checks the file and the format, not the graph: see
    :func:`~spine.orchestration.validate_group`.
    """
    file = _group_file(path, "load_group_from_yaml", "load_group_from_text")
    groups = _strict(read_file(file, limits))
    if len(groups) != 1:
        raise _not_one(len(groups), file, "load_groups_from_yaml(path)")
    return groups[0]


def load_groups_from_yaml(path: str | os.PathLike[str], *, limits: Limits | None = None) -> list[PipelineGroup]:
    """Every group in the YAML file at ``path`` (``---``-separated documents); raises with every problem."""
    file = _group_file(path, "load_groups_from_yaml", "load_groups_from_text")
    return _strict(read_file(file, limits))


def load_groups_from_directory(path: str | os.PathLike[str], *, limits: Limits | None = None) -> list[PipelineGroup]:
    """Every group in every ``*.yaml``/``*.yml`` file under the folder ``path`` (recursively,
    hidden folders skipped, sorted by path); raises :class:`InvalidGroupSpecError` with
    every problem of every file. A folder without group files gives ``[]``."""
    folder = os.fsdecode(path)
    if not os.path.isdir(folder):
        if os.path.exists(folder):
            raise _wrong_loader(folder, f"{folder!r} is a file, not a folder; call load_group_from_yaml(path) or load_groups_from_yaml(path) for one file")
        raise _not_found(folder)
    return _strict(scan([folder], limits))


def load_group_from_text(text: str | bytes, *, file: str | None = None, limits: Limits | None = None) -> PipelineGroup:
    """Exactly one group from YAML ``text`` (``file`` labels the findings); raises :class:`InvalidGroupSpecError`."""
    docs = [d for d in read_documents(text, file, limits) if d.value is not None]
    if len(docs) != 1:
        raise _not_one(len(docs), file, "load_groups_from_text(text)")
    group, findings = parse_document(docs[0])
    if findings or group is None:
        raise InvalidGroupSpecError(findings=findings)
    return group


def load_groups_from_text(text: str | bytes, *, file: str | None = None, limits: Limits | None = None) -> list[PipelineGroup]:
    """Every group in YAML ``text`` (``---``-separated); raises with every problem."""
    groups: list[PipelineGroup] = []
    findings: list[Finding] = []
    for doc in read_documents(text, file, limits):
        if doc.value is None:
            continue
        group, found = parse_document(doc)
        findings.extend(found)
        if group is not None and not found:
            groups.append(group)
    if findings:
        raise InvalidGroupSpecError(findings=findings)
    return groups


def validate_yaml_schema(data: Any, *, file: str | None = None) -> list[Finding]:
    """The format's findings for one already-parsed group document (a ``dict``), ``[]`` when it is valid.

    The same checks as loading a file (keys, types, values, names), without positions:
    the document no longer knows its lines. Graph problems (missing dependencies,
    cycles) are :func:`~spine.orchestration.validate_group`'s.
    """
    try:
        group_from_document(data, file=file)
    except InvalidGroupSpecError as exc:
        return list(exc.findings)
    return []


# A string with a line break, or that starts like a group document or a mapping, is YAML
# text; a file name hardly ever does. Only consulted when no such file exists.
_TEXT_STARTS = ("apiVersion", "kind:", "metadata:", "spec:", "---", "{", "%YAML")


def _looks_like_text(name: str) -> bool:
    return "\n" in name or "\r" in name or name.lstrip().startswith(_TEXT_STARTS)


def _group_file(path: str | os.PathLike[str] | bytes, function: str, text_function: str) -> str:
    """``path`` as a file name, or the finding that says why it is not one."""
    name = os.fsdecode(path)
    if os.path.isfile(name):  # False, not an error, for a name too long for the OS or with a NUL
        return name
    if os.path.isdir(name):
        raise _wrong_loader(name, f"{name!r} is a folder; call load_groups_from_directory(path) for every group in it")
    _refuse_text(name, function, text_function)
    raise _not_found(name)


def _refuse_text(name: str, function: str, text_function: str) -> None:
    """Raise ``wrong-loader`` when ``name``, which names no file, looks like YAML text."""
    if _looks_like_text(name):
        raise _wrong_loader(
            None,
            f"{function}() takes a path, and this looks like YAML text ({name[:40]!r}…); "
            f"call {text_function}(text) for text",
        )


def _strict(loaded: list[LoadedGroup]) -> list[PipelineGroup]:
    findings = [f for lg in loaded for f in lg.findings]
    if findings:
        raise InvalidGroupSpecError(findings=findings)
    return [lg.group for lg in loaded if lg.group is not None]  # no findings: all valid


def _not_one(found: int, file: str | None, plural: str) -> InvalidGroupSpecError:
    return InvalidGroupSpecError(
        findings=[Finding("not-one-group", f"expected exactly one group document, found {found}; call {plural} for every group", file=file, line=1, column=1)]
    )


def _wrong_loader(file: str | None, message: str) -> InvalidGroupSpecError:
    return InvalidGroupSpecError(findings=[Finding("wrong-loader", message, file=file)])


def _not_found(name: str) -> InvalidGroupSpecError:
    return InvalidGroupSpecError(findings=[Finding("file-not-found", f"no such file or folder: {name}", file=name)])


def group_to_yaml(group: PipelineGroup | Iterable[PipelineGroup]) -> str:
    """YAML text for one group or several (``---``-separated); loads back to equal groups."""
    groups = [group] if isinstance(group, PipelineGroup) else list(group)
    dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump_all(
        [g.to_dict() for g in groups],
        Dumper=dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=4096,
    )


__all__ = [
    "LoadedGroup",
    "group_to_yaml",
    "iter_group_files",
    "load_group_from_text",
    "load_group_from_yaml",
    "load_groups",
    "load_groups_from_directory",
    "load_groups_from_text",
    "load_groups_from_yaml",
    "read_file",
    "read_text",
    "scan",
    "validate_yaml_schema",
]
