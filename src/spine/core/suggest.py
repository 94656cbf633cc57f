"""Did-you-mean suggestions for unknown names: one helper for every layer.

Similarity is rapidfuzz's ``fuzz.ratio`` — the normalised InDel similarity
``2·LCS / (len(a) + len(b))``, the measure ``difflib.SequenceMatcher.ratio`` approximates
(difflib counts matching blocks, which is never more than the longest common
subsequence) — with the same cutoff difflib's ``get_close_matches`` uses, 0.6. Among
equally close candidates the one declared first wins, so a suggestion never depends on a
hash seed or on the alphabet.

Cost. A :class:`Suggester` is built once per pool of candidates and asked many times;
answers are memoised per name. A pool of at most :data:`SCAN_LIMIT` names is scanned in
full (rapidfuzz, C++): the answer is exactly the closest candidate. A bigger pool — the
steps of a 100k-step group, asked for thousands of misspelt dependencies — gets a
character 4-gram index, built lazily on the first question, in time linear in the pool's
total length. A question then scores a *shortlist*: the candidates containing the
name's rarest 4-gram, then those of the next rarest while the shortlist stays within
:data:`SHORTLIST` (a 4-gram shared by more than :data:`MAX_POSTING` candidates narrows
nothing down and is not used). A typo leaves most of a name's 4-grams intact, so the
intended name is on the shortlist; the cost of a question no longer grows with the pool,
and "did you mean" is near-linear overall. The index can miss a candidate the full scan
would have found — one sharing no rare 4-gram with the name — and then suggests the best
of its shortlist or nothing; it never suggests anything below the cutoff.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

#: Similarity a candidate needs to be suggested (``difflib.get_close_matches``'s default).
CUTOFF = 0.6
#: Pools up to this size are scanned in full for every question (exact answers).
SCAN_LIMIT = 2_000
#: Length of the grams that index bigger pools.
GRAM = 4
#: A big pool's shortlist takes the next rarest 4-gram's candidates only while it stays this small.
SHORTLIST = 64
#: A gram in more candidates than this does not narrow anything down; it is not used.
MAX_POSTING = 512

_PAD_LEFT = "\x02" * (GRAM - 1)
_PAD_RIGHT = "\x03" * (GRAM - 1)


def _grams(name: str) -> set[str]:
    """The name's distinct 4-grams, padded so that short names and both ends count."""
    padded = _PAD_LEFT + name + _PAD_RIGHT
    return {padded[i : i + GRAM] for i in range(len(name) + GRAM - 1)}


class Suggester:
    """The closest candidate to unknown names, for one pool of candidates asked many times.

    ``candidates`` is read on the first question (a live view such as ``dict.keys()`` is
    fine as long as it does not change afterwards); duplicates keep their first place.
    """

    __slots__ = ("_extract", "_index", "_memo", "_pool", "_scorer", "_source")

    def __init__(self, candidates: Iterable[str]) -> None:
        self._source: Iterable[str] | None = candidates
        self._pool: list[str] = []
        self._index: dict[str, list[int]] | None = None
        self._memo: dict[str, str | None] = {}
        self._extract: Callable[..., Any] | None = None
        self._scorer: Callable[..., float] | None = None

    def closest(self, name: str) -> str | None:
        """The candidate closest to ``name``, or ``None`` when none is close enough."""
        try:
            return self._memo[name]
        except KeyError:
            pass
        if self._source is not None:
            self._prepare()
        if not self._pool:
            best = None
        elif len(self._pool) <= SCAN_LIMIT:
            best = self._best(name, self._pool)
        else:
            best = self._best(name, self._shortlist(name))
        self._memo[name] = best
        return best

    def did_you_mean(self, name: str) -> str:
        """``"; did you mean 'x'?"`` or ``""``."""
        best = self.closest(name)
        return f"; did you mean {best!r}?" if best is not None else ""

    def _prepare(self) -> None:
        from rapidfuzz import fuzz, process  # C++; imported on the first question only

        assert self._source is not None
        self._pool = list(dict.fromkeys(self._source))
        self._source = None
        self._extract = process.extractOne
        self._scorer = fuzz.ratio

    def _best(self, name: str, choices: list[str]) -> str | None:
        # extractOne keeps the first of equal scores: choices are in declaration order.
        assert self._extract is not None
        found = self._extract(name, choices, scorer=self._scorer, score_cutoff=CUTOFF * 100)
        return found[0] if found is not None else None

    def _shortlist(self, name: str) -> list[str]:
        index = self._index
        if index is None:
            index = self._index = _build_index(self._pool)
        postings = sorted((p for g in _grams(name) if (p := index.get(g)) is not None and len(p) <= MAX_POSTING), key=len)
        chosen: set[int] = set()
        for posting in postings:
            if chosen and len(chosen) + len(posting) > SHORTLIST:
                break
            chosen.update(posting)
        pool = self._pool
        return [pool[i] for i in sorted(chosen)]


def _build_index(pool: list[str]) -> dict[str, list[int]]:
    """4-gram → the indices of the candidates that contain it, ascending."""
    index: defaultdict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(pool):
        for gram in _grams(name):
            index[gram].append(i)
    return dict(index)


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name``, or ``None`` when nothing is close.

    For many names against one pool, build one :class:`Suggester` instead.
    """
    return Suggester(candidates).closest(name)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` or ``""``."""
    return Suggester(candidates).did_you_mean(name)
