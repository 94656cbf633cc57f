"""Did-you-mean: the shared helper, exact on small pools, indexed on big ones."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from spine.core.suggest import CUTOFF, SCAN_LIMIT, Suggester, closest, did_you_mean

SRC = Path(__file__).resolve().parents[1] / "src" / "spine"
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_."


def big_pool(seed: int, size: int = SCAN_LIMIT + 500) -> list[str]:
    """``size`` distinct random names of 4–14 characters (more than a full scan handles)."""
    rng = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < size:
        names["".join(rng.choice(ALPHABET) for _ in range(rng.randint(4, 14)))] = None
    return list(names)


class TestSmallPool:
    def test_misspelt_name_gets_the_intended_one(self) -> None:
        """A misspelt key suggests the key it misspells."""
        assert closest("depnds_on", ["name", "pipeline", "params", "depends_on"]) == "depends_on"

    def test_nothing_close_is_none(self) -> None:
        """A name unlike every candidate gets no suggestion."""
        assert closest("zzzz", ["ingest", "normalize"]) is None

    def test_empty_pool_is_none(self) -> None:
        """An empty pool suggests nothing."""
        assert closest("ingest", []) is None

    def test_ties_go_to_the_first_declared(self) -> None:
        """Of two equally close candidates, the one declared first is suggested."""
        assert (closest("abcd", ["abce", "abcf"]), closest("abcd", ["abcf", "abce"])) == ("abce", "abcf")

    def test_did_you_mean_phrase(self) -> None:
        """did_you_mean gives the phrase the messages append, or nothing."""
        assert (did_you_mean("ingst", ["ingest"]), did_you_mean("x", ["ingest"])) == ("; did you mean 'ingest'?", "")

    def test_reads_a_dict_by_its_keys(self) -> None:
        """A mapping is a pool of its keys."""
        assert closest("finra.weekyl", {"finra.weekly": object(), "other": object()}) == "finra.weekly"


class TestBigPool:
    def test_typo_in_a_numbered_family(self) -> None:
        """In 10,000 names ``step_000000 …``, a doubled letter suggests the intended step."""
        names = [f"step_{i:06d}" for i in range(10_000)]
        assert Suggester(names).closest("stepp_004711") == "step_004711"

    def test_unlike_anything_is_none(self) -> None:
        """In a big pool, a name unlike every candidate gets no suggestion."""
        names = [f"step_{i:06d}" for i in range(10_000)]
        assert Suggester(names).closest("zzzzzzzzzz") is None

    def test_ties_go_to_the_first_declared(self) -> None:
        """In a big pool too, equally close candidates go to the one declared first."""
        names = [f"step_{i:06d}" for i in range(10_000)]
        # "step_00471" (a digit dropped) is a subsequence of step_000471 … step_009471: all tie.
        assert Suggester(names).closest("step_00471") == "step_000471"
        assert Suggester(list(reversed(names))).closest("step_00471") == "step_009471"

    @settings(max_examples=25)
    @given(seed=st.integers(0, 2**32 - 1), pick=st.integers(0, 10**6), at=st.integers(0, 20))
    def test_inserted_foreign_character_finds_the_name(self, seed: int, pick: int, at: int) -> None:
        """Guarantee: a pool name with one foreign character inserted is answered with that name.

        (The name is the only candidate containing all of the query but the foreign
        character, so it is the closest; every 4-gram of the query without that character
        is one of the name's, so the name is on the shortlist of the rarest one.)
        """
        pool = big_pool(seed)
        name = pool[pick % len(pool)]
        at %= len(name) + 1
        assert Suggester(pool).closest(name[:at] + "#" + name[at:]) == name

    @settings(max_examples=25)
    @given(seed=st.integers(0, 2**32 - 1), query=st.text(alphabet=ALPHABET + "#-", min_size=1, max_size=16))
    def test_never_below_the_cutoff(self, seed: int, query: str) -> None:
        """Guarantee: whatever the name, a suggestion from a big pool is a pool name at least CUTOFF similar."""
        pool = big_pool(seed)
        best = Suggester(pool).closest(query)
        assert best is None or (best in pool and fuzz.ratio(query, best) >= CUTOFF * 100)


def test_no_second_copy() -> None:
    """No spine module uses difflib: every suggestion goes through spine.core.suggest."""
    assert [p.name for p in SRC.rglob("*.py") if "difflib" in p.read_text(encoding="utf-8") and p.name != "suggest.py"] == []
