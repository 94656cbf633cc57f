"""Read YAML safely, fast, and with positions: libyaml's event parser + our own composer.

Why not ``yaml.safe_load``? It (1) keeps the last of duplicate mapping keys silently,
(2) expands aliases without limit when the result is walked (billion laughs), (3) recurses
(a 10,000-level document raises ``RecursionError``), (4) forgets where each value was,
and (5) spends most of its time in a generic Python constructor. Here libyaml
(``yaml.CParser``) tokenises and parses in C; this module turns its flat event stream into
plain Python values with an explicit stack — no recursion — and:

* records ``(line, column)`` of every mapping key/value and sequence item, keyed by the
  container's ``id`` (see :class:`Document`), so later checks can point at the exact spot;
* reports duplicate keys, unknown/unsafe tags (``!!python/…`` is never constructed),
  undefined and self-referencing aliases, non-scalar keys;
* enforces limits: file size, nesting depth, and the *expanded* node count — aliases are
  shared, never copied, and their expanded size is computed arithmetically, so an alias
  bomb is refused at the alias that would cross the limit, in constant memory;
* resolves plain scalars exactly as PyYAML's SafeLoader does (YAML 1.1: ints, floats,
  bools, nulls, timestamps) by reusing its resolver table and constructors, with a cache.

Everything ends in :class:`InvalidGroupSpecError` carrying :class:`Finding`s; no yaml
exception escapes.
"""

from __future__ import annotations

import gc
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml import events as ev
from yaml.nodes import ScalarNode

from spine.core.errors import InvalidGroupSpecError
from spine.core.findings import Finding
from spine.core.limits import Limits

#: libyaml's C parser (through CSafeLoader); the pure-Python one where libyaml is missing.
_Parser = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
_TAG = "tag:yaml.org,2002:"
_STR = _TAG + "str"
_SCALAR_TAGS = {
    _STR,
    _TAG + "int",
    _TAG + "float",
    _TAG + "bool",
    _TAG + "null",
    _TAG + "timestamp",
    _TAG + "binary",
    _TAG + "value",
}
_SEQ_TAGS = {None, "!", _TAG + "seq"}
_MAP_TAGS = {None, "!", _TAG + "map"}
_RESOLVERS: dict[str, list[tuple[str, Any]]] = yaml.SafeLoader.yaml_implicit_resolvers
_MISSING = object()


class _MergeKey(str):
    """The plain ``<<`` of a YAML merge key, told apart from a quoted ``'<<'`` by identity."""


MERGE_KEY = _MergeKey("<<")


@dataclass(slots=True)
class Document:
    """One YAML document: its value and where each part of it was (1-based)."""

    value: Any
    file: str | None
    index: int
    line: int
    column: int
    #: ``id(container)`` → for a dict ``{key: (key_line, key_col, value_line, value_col)}``,
    #: for a list ``[(line, col), …]``. Containers stay alive as long as ``value`` does.
    marks: dict[int, Any] = field(default_factory=dict)

    def key_at(self, container: Any, key: Any) -> tuple[int | None, int | None]:
        """Position of ``key`` in mapping ``container`` (or of the container itself)."""
        m = self.marks.get(id(container))
        if isinstance(m, dict) and key in m:
            return m[key][0], m[key][1]
        return self.at(container)

    def value_at(self, container: Any, key: Any) -> tuple[int | None, int | None]:
        """Position of ``container[key]`` (a mapping value or a sequence item)."""
        m = self.marks.get(id(container))
        if isinstance(m, dict) and key in m:
            return m[key][2], m[key][3]
        if isinstance(m, list) and isinstance(key, int) and 0 <= key < len(m):
            return m[key]
        return self.at(container)

    def at(self, container: Any) -> tuple[int | None, int | None]:
        """Where ``container`` starts; the document start if unknown."""
        pos = self.starts.get(id(container)) if self.starts else None
        return pos if pos else (self.line, self.column)

    starts: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: Problems inside this document that did not stop reading (duplicate keys, tags …).
    findings: list[Finding] = field(default_factory=list)


def read_bytes(path: str, limits: Limits) -> bytes:
    """The file's bytes, refusing files over ``limits.max_bytes`` without reading them whole."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise InvalidGroupSpecError(
                findings=[Finding("file-unreadable", "not a regular file (a pipe, device or socket); give a group file", file=path)]
            )
        with open(path, "rb") as fh:
            data = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        raise InvalidGroupSpecError(
            findings=[Finding("file-unreadable", f"cannot read file: {exc.strerror or exc}", file=path)]
        ) from exc
    if len(data) > limits.max_bytes:
        raise InvalidGroupSpecError(
            findings=[
                Finding(
                    "file-too-large",
                    f"file is larger than the {limits.max_bytes:,}-byte limit; split it into several "
                    "files, or raise the limit with --max-file-size or max_file_size in [tool.spine]",
                    file=path,
                    line=1,
                    column=1,
                )
            ]
        )
    return data


@contextmanager
def gc_paused() -> Iterator[None]:
    # Building millions of small containers triggers the cyclic GC over and over for
    # nothing (none of them can be garbage yet). Pausing it is the single largest speed-up
    # on big files; it is restored even when reading fails.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_documents(
    data: bytes | str, file: str | None = None, limits: Limits | None = None, *, strict: bool = True
) -> list[Document]:
    """Every document in ``data``; raises :class:`InvalidGroupSpecError` with every problem.

    With ``strict=False`` only problems that stop reading (syntax, encoding, limits)
    raise; the others (duplicate keys, refused tags, bad scalars) are attached to their
    document's ``findings`` so one broken document does not hide the rest of the file.
    """
    limits = limits or Limits()
    if len(data) > limits.max_bytes:
        raise InvalidGroupSpecError(
            findings=[
                Finding(
                    "file-too-large",
                    f"input is larger than the {limits.max_bytes:,}-byte limit",
                    file=file,
                    line=1,
                    column=1,
                )
            ]
        )
    if isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError as exc:
            line = data.count("\n", 0, exc.start) + 1
            column = exc.start - (data.rfind("\n", 0, exc.start) + 1) + 1
            raise InvalidGroupSpecError(
                findings=[
                    Finding(
                        "yaml-encoding",
                        f"the text holds {data[exc.start]!r}, which is not a character (a lone surrogate, "
                        "often from bytes that were not UTF-8); save it as UTF-8",
                        file=file,
                        line=line,
                        column=column,
                    )
                ]
            ) from exc
    with gc_paused():
        return _Composer(data, file, limits, strict).run()


class _Stop(Exception):
    """Internal: a problem after which reading cannot continue."""


class _Composer:
    def __init__(self, data: bytes | str, file: str | None, limits: Limits, strict: bool = True) -> None:
        self.data = data
        self.strict = strict
        self.fatal = False
        #: Document index of each finding, parallel to ``findings``.
        self.where: list[int] = []
        self.index = 0
        self.file = file
        self.limits = limits
        self.findings: list[Finding] = []
        self.cache: dict[str, Any] = {}
        self.constructor = yaml.constructor.SafeConstructor()

    # -- helpers -----------------------------------------------------------------------

    def finding(self, code: str, message: str, mark: Any) -> Finding:
        f = Finding(
            code,
            message,
            file=self.file,
            line=(mark.line + 1) if mark is not None else None,
            column=(mark.column + 1) if mark is not None else None,
        )
        self._add(f)
        return f

    def _add(self, f: Finding) -> None:
        self.findings.append(f)
        self.where.append(self.index)

    def stop(self, code: str, message: str, mark: Any) -> _Stop:
        self.fatal = True
        self.finding(code, message, mark)
        return _Stop()

    def scalar(self, e: ev.ScalarEvent) -> Any:
        value = e.value
        tag = e.tag
        if tag is None:
            if e.style or not e.implicit[0]:
                return value  # quoted or block scalar: always a string
            hit = self.cache.get(value, _MISSING)
            if hit is not _MISSING:
                return hit
            resolved = self._resolve_plain(value, e)
            self.cache[value] = resolved
            return resolved
        if tag == "!" or tag == _STR:
            return value
        if tag in _SCALAR_TAGS:
            if tag == _TAG + "value":
                return value
            return self._construct(tag, value, e)
        self.finding(
            "unsupported-tag",
            f"tag {_short_tag(tag)} is not allowed: spine reads plain YAML only and never "
            "constructs objects from tags; remove the tag (quote the value if it is a string)",
            e.start_mark,
        )
        return value

    def _resolve_plain(self, value: str, e: ev.ScalarEvent) -> Any:
        if len(value) <= 18 and value.isdigit() and value.isascii() and (value[0] != "0" or value == "0"):
            return int(value)  # the common case of YAML 1.1 int, without the regex table
        for tag, regexp in _RESOLVERS.get(value[:1], ()):
            if regexp.match(value):
                if tag == _TAG + "merge":
                    return MERGE_KEY
                if tag == _TAG + "value":
                    return value
                return self._construct(tag, value, e)
        return value

    def _construct(self, tag: str, value: str, e: ev.ScalarEvent) -> Any:
        marks: tuple[Any, Any] = (e.start_mark, e.end_mark)  # libyaml's Mark, duck-typed as yaml.error.Mark
        node = ScalarNode(tag, value, *marks)
        name = tag[len(_TAG) :]
        try:
            return getattr(self.constructor, f"construct_yaml_{name}")(node)
        except (ValueError, TypeError, OverflowError, KeyError, AttributeError, IndexError, yaml.YAMLError) as exc:
            fix = f"fix the value or drop the !!{name} tag" if e.tag else "fix it, or quote it to keep it as text"
            self.finding(
                "invalid-scalar",
                f"{value!r:.60} is not a valid {name} ({exc}); {fix}",
                e.start_mark,
            )
            return value

    # -- the main loop -----------------------------------------------------------------

    def run(self) -> list[Document]:
        docs: list[Document] = []
        parser: Any = None
        try:
            parser = _Parser(self.data)
            self._loop(parser, docs)
        except _Stop:
            pass
        except yaml.MarkedYAMLError as exc:
            self.fatal = True
            mark = exc.problem_mark or exc.context_mark
            if "exceeded maximum nesting depth" in (exc.problem or ""):
                self.finding("too-deep", "nesting is deeper than the YAML parser allows (1000 levels); flatten this value", mark)
                return self._raise_or(docs)
            problem = exc.problem or str(exc)
            context = f" {exc.context}" if exc.context else ""
            hint = syntax_hint(exc, self.data)
            self.finding("yaml-syntax", f"YAML syntax error: {problem}{context}{'; ' + hint if hint else ''}", mark)
        except yaml.reader.ReaderError as exc:
            self.fatal = True
            line, column = _position(self.data, exc.position)
            self._add(
                Finding(
                    "yaml-encoding",
                    f"the file is not valid text: {exc.reason} (character {exc.character!r} at "
                    f"offset {exc.position}); save it as UTF-8 without control characters",
                    file=self.file,
                    line=line,
                    column=column,
                )
            )
        except yaml.YAMLError as exc:
            self.fatal = True
            self._add(
                Finding("yaml-syntax", f"YAML error: {exc}", file=self.file, line=1, column=1)
            )
        finally:
            if parser is not None:
                parser.dispose()
        return self._raise_or(docs)

    def _raise_or(self, docs: list[Document]) -> list[Document]:
        if self.findings and (self.strict or (self.fatal and not docs)):
            raise InvalidGroupSpecError(findings=self.findings)
        if self.fatal:
            # The documents read before the one that stopped the reader are kept; the
            # broken one becomes an empty document carrying the findings, so one bad
            # document in a multi-document file does not hide the good ones before it.
            done = {d.index for d in docs}
            broken = Document(None, self.file, self.index, 1, 1)
            for f, i in zip(self.findings, self.where, strict=True):
                target = next((d for d in docs if d.index == i), None) if i in done else None
                (target or broken).findings.append(f)
            return [*docs, broken]
        for f, i in zip(self.findings, self.where, strict=True):
            for doc in docs:
                if doc.index == i:
                    doc.findings.append(f)
        return docs

    def _loop(self, parser: Any, docs: list[Document]) -> None:
        limits = self.limits
        max_depth = limits.max_depth
        max_nodes = limits.max_nodes
        get_event = parser.get_event
        ScalarEvent = ev.ScalarEvent
        MappingStartEvent = ev.MappingStartEvent
        SequenceStartEvent = ev.SequenceStartEvent
        MappingEndEvent = ev.MappingEndEvent
        SequenceEndEvent = ev.SequenceEndEvent
        AliasEvent = ev.AliasEvent
        DocumentStartEvent = ev.DocumentStartEvent
        DocumentEndEvent = ev.DocumentEndEvent
        StreamEndEvent = ev.StreamEndEvent

        # A frame: [container, child_marks, is_map, pending_key, key_mark, anchor, size, merges, start]
        stack: list[list[Any]] = []
        anchors: dict[str, tuple[Any, int]] = {}
        open_anchors: set[str] = set()
        marks: dict[int, Any] = {}
        starts: dict[int, tuple[int, int]] = {}
        doc: Document | None = None
        nodes = 0
        index = 0

        scalar = self.scalar
        cache = self.cache
        attach = self._attach_map
        missing = _MISSING
        while True:
            e = get_event()
            t = type(e)
            if t is ScalarEvent:
                # Fast path: a plain, untagged scalar seen before (keys, names, enums).
                if e.tag is None and not e.style and e.anchor is None:
                    value = e.value
                    hit = cache.get(value, missing)
                    if hit is missing:
                        value = scalar(e)
                    else:
                        value = hit
                else:
                    value = scalar(e)
                    if e.anchor is not None:
                        anchors[e.anchor] = (value, 1)
                size = 1
            elif t is MappingStartEvent or t is SequenceStartEvent:
                is_map = t is MappingStartEvent
                if e.tag is not None and e.tag not in (_MAP_TAGS if is_map else _SEQ_TAGS):
                    self.finding(
                        "unsupported-tag",
                        f"tag {_short_tag(e.tag)} is not allowed: spine reads plain YAML "
                        "mappings and lists only; remove the tag",
                        e.start_mark,
                    )
                if len(stack) >= max_depth:
                    raise self.stop(
                        "too-deep",
                        f"nesting is deeper than {max_depth} levels; a group document needs a "
                        "handful — flatten this value, or raise max_depth if it is really meant",
                        e.start_mark,
                    )
                container: Any = {} if is_map else []
                sm = e.start_mark
                cid = id(container)
                starts[cid] = (sm.line + 1, sm.column + 1)
                child: Any = {} if is_map else []
                marks[cid] = child
                if e.anchor is not None:
                    anchors[e.anchor] = (container, 0)
                    open_anchors.add(e.anchor)
                stack.append([container, child, is_map, missing, None, e.anchor, 1, None, sm])
                continue
            elif t is MappingEndEvent or t is SequenceEndEvent:
                frame = stack.pop()
                value = frame[0]
                size = frame[6]
                if frame[7]:
                    self._merge(value, frame[7], frame[1])
                anchor = frame[5]
                if anchor is not None:
                    anchors[anchor] = (value, size)
                    open_anchors.discard(anchor)
                if stack:
                    top = stack[-1]
                    top[6] += size
                    sm = frame[8]
                    if top[2]:
                        attach(top, value, sm)
                    else:
                        top[0].append(value)
                        top[1].append((sm.line + 1, sm.column + 1))
                elif doc is not None:
                    doc.value = value
                continue
            elif t is AliasEvent:
                name = e.anchor
                if name in open_anchors:
                    raise self.stop(
                        "recursive-alias",
                        f"alias *{name} refers to a node that contains it; a group document "
                        "must be a tree — copy the values instead",
                        e.start_mark,
                    )
                if name not in anchors:
                    raise self.stop(
                        "undefined-alias",
                        f"alias *{name} has no anchor &{name} before it; define the anchor first",
                        e.start_mark,
                    )
                value, size = anchors[name]
            elif t is DocumentStartEvent:
                self.index = index
                sm = e.start_mark
                doc = Document(None, self.file, index, sm.line + 1, sm.column + 1, marks, starts)
                continue
            elif t is DocumentEndEvent:
                if doc is not None:
                    docs.append(doc)
                index += 1
                anchors = {}
                open_anchors = set()
                marks = {}
                starts = {}
                nodes = 0
                doc = None
                continue
            elif t is StreamEndEvent:
                return
            else:  # StreamStartEvent
                continue

            nodes += size
            if nodes > max_nodes:
                raise self.stop(
                    "too-many-nodes",
                    f"the document expands to more than {max_nodes:,} values (aliases count "
                    "every time they are used); this looks like an alias bomb — remove the "
                    "nested aliases, or raise max_nodes if the document is really this big",
                    e.start_mark,
                )
            if stack:
                top = stack[-1]
                top[6] += size
                sm = e.start_mark
                if top[2]:
                    if top[3] is missing and type(value) is str:
                        top[3] = value
                        top[4] = (sm.line + 1, sm.column + 1)
                    else:
                        attach(top, value, sm)
                else:
                    top[0].append(value)
                    top[1].append((sm.line + 1, sm.column + 1))
            elif doc is not None:
                doc.value = value

    def _attach_map(self, top: list[Any], value: Any, mark: Any) -> None:
        line = mark.line + 1
        col = mark.column + 1
        key = top[3]
        if key is _MISSING:
            if isinstance(value, (dict, list)):
                self.finding(
                    "complex-key",
                    "a mapping key must be a plain value, not a mapping or list; use a string key",
                    mark,
                )
                value = f"<complex key at {line}:{col}>"
            top[3] = value
            top[4] = (line, col)
            return
        top[3] = _MISSING
        kl, kc = top[4]
        container = top[0]
        if key is MERGE_KEY:  # only a plain << merges; a quoted '<<' is an ordinary key
            merges = top[7] or []
            merges.append((value, kl, kc))
            top[7] = merges
            return
        try:
            seen = key in container
        except TypeError:
            self.finding("complex-key", f"mapping key {key!r:.40} cannot be used as a key", mark)
            return
        if seen:
            first = top[1][key]
            self._add(
                Finding(
                    "duplicate-key",
                    f"key {key!r} appears twice in this mapping (first at line {first[0]}); "
                    "YAML would silently keep only the last — remove or rename one",
                    file=self.file,
                    line=kl,
                    column=kc,
                )
            )
            return
        container[key] = value
        top[1][key] = (kl, kc, line, col)

    def _merge(self, container: dict[Any, Any], merges: list[Any], child: dict[Any, Any]) -> None:
        # YAML 1.1 merge keys (``<<: *base``): keys already in the mapping win, then the
        # merged mappings in order, as PyYAML's SafeLoader does.
        for value, kl, kc in merges:
            sources = value if isinstance(value, list) else [value]
            for src in sources:
                if not isinstance(src, dict):
                    self._add(
                        Finding(
                            "invalid-merge",
                            "a merge key '<<' takes a mapping or a list of mappings",
                            file=self.file,
                            line=kl,
                            column=kc,
                        )
                    )
                    continue
                for k, v in src.items():
                    if k not in container:
                        container[k] = v
                        child[k] = (kl, kc, kl, kc)


_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # YAML's line breaks


def syntax_hint(exc: yaml.MarkedYAMLError, data: bytes | str) -> str | None:
    """What to do about one of libyaml's common syntax errors, or ``None``.

    Only where the cause is certain from the error and the text: a tab where YAML wants
    spaces, a reserved character starting a plain value, an unclosed quote or bracket
    (named with the line and column where it opened), a ``: `` inside a plain value, and
    a line that lines up with nothing above it.
    """
    problem = exc.problem or ""
    context = exc.context or ""
    at, opened = exc.problem_mark, exc.context_mark

    def where(mark: Any) -> str:
        return f"line {mark.line + 1}, column {mark.column + 1}"

    char = _char_at(data, at) if at is not None else None
    if "tab character" in problem or ("cannot start any token" in problem and char == "\t"):
        return f"YAML indentation must use spaces, not tabs: replace the tab at {where(at)} with spaces"
    if "cannot start any token" in problem and char in ("@", "`"):
        return f"{char!r} is reserved in YAML and cannot start a plain value; put the value in quotes"
    if "end of stream" in problem and "quoted scalar" in context and opened is not None:
        return f"the quoted value that starts at {where(opened)} is never closed; add the closing quote"
    for bracket, closing, kind in (("[", "]", "sequence"), ("{", "}", "mapping")):
        if f"or '{closing}'" in problem and f"flow {kind}" in context and opened is not None:
            return f"the {bracket!r} at {where(opened)} is not closed, or an item before this point lacks its ','; add the missing {closing!r} or ','"
    if problem.startswith("mapping values are not allowed"):
        return "a value that holds ': ' (a colon and a space) must be put in quotes, e.g. title: \"Weekly: FINRA\"; or a key above lacks the space after its ':'"
    if problem == "did not find expected key" and "block mapping" in context and opened is not None:
        return (
            f"check this line's indentation: the keys of the mapping that starts at {where(opened)} must "
            "line up, and nothing may follow a quoted value on its line"
        )
    if problem == "did not find expected '-' indicator" and opened is not None:
        return f"check this line's indentation: it lines up neither with the '-' of the list at {where(opened)} nor with the keys of the item above"
    return None


def _char_at(data: bytes | str, mark: Any) -> str | None:
    """The character at a libyaml mark (0-based line and column, in characters)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    lines = _LINE_BREAK.split(text, maxsplit=mark.line + 1)
    if mark.line >= len(lines):
        return None
    line = lines[mark.line]
    return line[mark.column] if 0 <= mark.column < len(line) else None


def _short_tag(tag: str | None) -> str:
    if tag is None:
        return "?"
    if tag.startswith(_TAG):
        return "!!" + tag[len(_TAG) :]
    return tag


def _position(data: bytes | str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset (bytes are read as UTF-8)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
