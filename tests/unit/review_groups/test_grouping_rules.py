"""The pure grouping algorithm: normalisation, shingles, the 0.8 threshold, incremental placement in memory."""

from __future__ import annotations

import random
import zlib

import pytest

from services.review import grouping
from services.review.grouping import (MemoryGroupStore, assign, fingerprint, jaccard, normalise, shingles)

LETTER = ("Wnosimy o zwiększenie środków na małe granty do kwoty co najmniej 300 000 zł rocznie, ponieważ "
          "zapotrzebowanie organizacji działających w dzielnicach peryferyjnych rośnie z roku na rok.")
REASON = "Termin składania ofert jest zbyt krótki dla małych organizacji prowadzonych przez wolontariuszy."


def words(n: int, prefix: str = "slowo") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def with_tail_replaced(n: int, replaced: int) -> tuple[str, str]:
    """Two texts of n words each that differ in their last `replaced` words: J = (n-m-1)/(n+m-1) on 2-shingles."""
    base = words(n)
    return " ".join(base), " ".join(base[:n - replaced] + words(replaced, "inne"))


class EveryCommentIsACandidate(MemoryGroupStore):
    """A fake store whose LSH proposes every stored comment, so only the exact Jaccard check decides."""

    def bucket_members(self, buckets):
        everyone = list(self.shingle_sets)
        return {bucket: everyone for bucket in buckets}


def test_normalising_folds_case_whitespace_punctuation_and_polish_diacritics():
    assert normalise("  Źródła FINANSOWANIA,\n\tżółć —  „Łódź”!!! ") == "zrodla finansowania zolc lodz"
    assert normalise("zrodla finansowania zolc lodz") == normalise("ŹRÓDŁA finansowania; żółć... Łódź?")


def test_normalising_keeps_digits_and_letters_of_other_scripts():
    assert normalise("Termin: 30 dni (nie 60)") == "termin 30 dni nie 60"
    assert normalise("Пропозиція № 5") == "пропозиція no 5"
    assert normalise("") == normalise(None) == ""


def test_identical_comments_after_normalisation_share_the_exact_key():
    one = fingerprint("Proponujemy ZMIANĘ zapisu!", "Bo   termin jest za krótki.")
    two = fingerprint("proponujemy zmiane zapisu", "bo termin jest za krotki")
    assert one.exact_key == two.exact_key
    assert fingerprint("Proponujemy zmianę zapisu", "Bo termin jest za długi").exact_key != one.exact_key


def crc(text: str) -> int:
    return zlib.crc32(text.encode())


def test_shingles_are_consecutive_word_pairs_and_a_short_text_is_one_shingle():
    assert shingles("a b c d") == {crc("a b"), crc("b c"), crc("c d")}
    assert shingles("b a") != shingles("a b")  # order counts
    assert shingles("popieram") == {crc("popieram")}
    assert shingles("popieram projekt") == {crc("popieram projekt")}
    assert shingles("") == frozenset()


def test_jaccard_of_shingle_sets():
    assert jaccard(frozenset("ab"), frozenset("ab")) == 1.0
    assert jaccard(frozenset("abcd"), frozenset("abce")) == pytest.approx(3 / 5)
    assert jaccard(frozenset(), frozenset()) == 1.0


@pytest.mark.parametrize("n, replaced, similarity, grouped", [
    (47, 5, 41 / 51, True),   # 0.804: just above
    (46, 5, 40 / 50, True),   # exactly 0.8 counts as near-identical
    (45, 5, 39 / 49, False),  # 0.796: just below
    (91, 11, 79 / 101, False),
])
def test_the_threshold_is_a_jaccard_of_0_8_checked_exactly(n, replaced, similarity, grouped):
    first, second = with_tail_replaced(n, replaced)
    assert jaccard(shingles(normalise(first)), shingles(normalise(second))) == pytest.approx(similarity)
    store = EveryCommentIsACandidate()
    store.add("first", first)
    placement = store.add("second", second)
    assert (placement.group_id is not None) is grouped
    assert (store.group_of.get("first") == store.group_of.get("second") and "first" in store.group_of) is grouped


def test_campaign_copies_with_small_edits_are_found_through_lsh():
    store = MemoryGroupStore()
    store.add("original", LETTER, REASON)
    copies = {
        "greeting": ("Szanowni Państwo, " + LETTER, REASON),
        "typo": (LETTER.replace("zapotrzebowanie", "zapotrzebowanei"), REASON),
        "no diacritics": (LETTER.translate(str.maketrans("ąćęłńóśźż", "acelnoszz")), REASON),
        "swapped words": (LETTER.replace("małe granty", "granty małe"), REASON),
    }
    for comment_id, (proposal, justification) in copies.items():
        placement = store.add(comment_id, proposal, justification)
        assert placement.how in {"similar", "identical"}, comment_id
    assert len(store.members) == 1
    assert next(iter(store.members.values())) == {"original", *copies}


def test_different_comments_stay_apart():
    store = MemoryGroupStore()
    store.add("grants", LETTER, REASON)
    placement = store.add("deadline", "Proponujemy wydłużenie terminu składania sprawozdań do 60 dni.", REASON)
    assert placement.how == "alone" and placement.group_id is None
    assert store.group_of == {}


def test_an_identical_copy_joins_without_a_similarity_check_and_adds_no_buckets():
    store = MemoryGroupStore()
    store.add("first", LETTER, REASON)
    buckets_before = sum(len(m) for m in store.buckets.values())
    placement = store.add("copy", LETTER.upper() + "!!!", REASON)
    assert placement.how == "identical" and placement.similarity == 1.0
    assert store.group_of["first"] == store.group_of["copy"] == placement.group_id
    assert sum(len(m) for m in store.buckets.values()) == buckets_before


def test_adding_the_same_comment_twice_changes_nothing():
    store = MemoryGroupStore()
    store.add("first", LETTER, REASON)
    store.add("second", LETTER, REASON)
    snapshot = (dict(store.group_of), {k: set(v) for k, v in store.members.items()}, dict(store.buckets))
    again = store.add("second", LETTER, REASON)
    assert again.how == "already placed" and again.group_id == store.group_of["second"]
    assert snapshot == (dict(store.group_of), {k: set(v) for k, v in store.members.items()}, dict(store.buckets))


def test_a_comment_that_bridges_two_automatic_groups_merges_them():
    left, right = with_tail_replaced(60, 10)  # J(left, right) = 49/69 = 0.71: two groups at first
    bridge = " ".join(words(55) + words(5, "inne"))  # J = 54/64 = 0.84 with both
    store = EveryCommentIsACandidate()
    for comment_id, text in (("l1", left), ("l2", left + " x"), ("r1", right), ("r2", right + " y")):
        store.add(comment_id, text)
    assert len(store.members) == 2
    placement = store.add("bridge", bridge)
    assert len(placement.merged) == 1
    assert len(store.members) == 1 and next(iter(store.members.values())) == {"l1", "l2", "r1", "r2", "bridge"}


def test_curated_groups_are_joined_but_never_merged_automatically():
    left, right = with_tail_replaced(60, 10)
    bridge = " ".join(words(55) + words(5, "inne"))
    store = EveryCommentIsACandidate()
    for comment_id, text in (("l1", left), ("l2", left + " x"), ("r1", right), ("r2", right + " y")):
        store.add(comment_id, text)
    store.curated.update(store.members)  # both groups were shaped by hand
    placement = store.add("bridge", bridge)
    assert placement.merged == ()
    assert len(store.members) == 2 and store.group_of["bridge"] in store.members


def test_a_full_bucket_takes_no_more_members_so_lookups_stay_bounded():
    store = MemoryGroupStore()
    rng = random.Random(7)
    base = (LETTER + " " + REASON + " " + LETTER.replace("granty", "dotacje")).split()
    for index in range(60):
        edited = list(base)
        position = rng.randrange(len(edited) - 1)
        edited[position], edited[position + 1] = edited[position + 1], edited[position]
        store.add(f"copy{index}", " ".join(edited) + f" podpis{index}", REASON)
    assert max(len(members) for members in store.buckets.values()) <= grouping.BUCKET_CAPACITY
    assert len(store.members) == 1 and len(next(iter(store.members.values()))) == 60


def test_band_keys_are_stable_across_processes_and_releases():
    """Band keys are stored in the database: a change here would split every campaign after an upgrade."""
    fp = fingerprint("Proponujemy zmianę", "Termin jest za krótki")
    assert len(fp.buckets) == grouping.BANDS
    assert fp.exact_key == "326f5897f12bcae53783cc58eb5ce04f"
    assert fp.buckets[:2] == (-3535621231389336924, -937800858228630311)


def test_assign_places_a_comment_with_the_given_store():
    store = MemoryGroupStore()
    first = fingerprint(LETTER, REASON)
    store.shingle_sets["a"] = first.shingles
    assert assign(store, "a", first).how == "alone"
    store.shingle_sets["b"] = first.shingles
    assert assign(store, "b", first).how == "identical"
