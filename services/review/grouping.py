"""Duplicate and campaign comments: normalisation, shingles, MinHash LSH and incremental grouping. No I/O.

What is compared is a comment's own words: its proposal and its justification. The section and the quoted
current text are left out, because many unrelated comments quote the same paragraph of the draft.

Normalisation (`normalise`) folds case (casefold), Unicode compatibility forms (NFKD), punctuation and
symbols, and runs of whitespace. It also folds Polish diacritics (ą→a, ł→l, ź→z, …): campaign copies are
often typed on phones without Polish letters, and at the level of whole comments the few words that differ
only by diacritics ("laska"/"łaska") never make two different comments look alike. Digits are kept, because
"30 dni" and "60 dni" are different proposals.

Two comments are identical when their normalised texts are equal, and near-identical when the Jaccard
similarity of their sets of word pairs (shingles of `SHINGLE_WORDS` words) is at least `THRESHOLD`. Pairs
rather than longer shingles because comments are short: on a text of 40 to 100 words a greeting, a typo or
two swapped words still leave a copy above 0.8, while comments that merely share a quoted sentence stay far
below. MinHash LSH (`datasketch`) only proposes candidates; every candidate is checked by the exact Jaccard
of the shingle sets, so an LSH collision never puts two comments together (shingles are compared as 32-bit
hashes: two different shingles collide with a probability of about 2**-32).

Grouping is incremental (`assign`): a new comment joins the group of the comments it is identical or
near-identical to; when it bridges several automatic groups, they are merged (a group is the connected
component of the similarity graph). Groups a person has split or merged are "curated": the algorithm still
adds new members to them but never merges them with anything. The storage is a port (`GroupStore`), so the
same algorithm runs on review's database and, in memory, in tests and the benchmark.

Each LSH bucket keeps at most `BUCKET_CAPACITY` comments: a big campaign fills its buckets with its first
copies, and later copies find those, so one lookup stays small however large a campaign grows.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain
from typing import Iterable, Mapping, Protocol, Sequence

import numpy as np
from datasketch import MinHash

THRESHOLD = 0.8
SHINGLE_WORDS = 2
NUM_PERM = 128
BANDS = 16
ROWS = NUM_PERM // BANDS  # 8 rows: a pair at J=0.8 shares a bucket with probability 0.95, at J=0.5 with 0.06
BUCKET_CAPACITY = 8
MAX_CHECKS_PER_GROUP = 3  # exact Jaccard checks spent on one group before deciding that it does not match
MAX_CANDIDATES = 32  # the candidates sharing most buckets; the rest are, by MinHash, the least similar
# Fixed forever, like the word hash (crc32: fast and stable across processes; the multipliers and the MinHash
# permutations randomise it): band keys are stored, so they must come out the same after a restart.
MINHASH_SEED = 20241021

# NFKD takes accents apart and the combining marks go; these letters have no decomposition of their own.
_UNDECOMPOSABLE = (("ł", "l"), ("đ", "d"), ("ø", "o"), ("ħ", "h"))
# One mark at a time: re is about twice as fast here without a "+".
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_WORD = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """Lowercase words separated by single spaces, without punctuation or diacritics."""
    text = text or ""
    if not text.isascii():  # NFKD also applies the compatibility mappings (ligatures, full-width letters, №)
        text = unicodedata.normalize("NFKD", text)
    text = text.casefold()
    if not text.isascii():
        text = _COMBINING.sub("", text)
        for letter, plain in _UNDECOMPOSABLE:
            if letter in text:
                text = text.replace(letter, plain)
    return " ".join(_WORD.findall(text))


def comment_text(proposal: str, justification: str = "") -> str:
    """The words of a comment that grouping compares."""
    return f"{proposal or ''}\n{justification or ''}"


def shingles(normalised: str) -> frozenset[int]:
    """The text's word shingles (`SHINGLE_WORDS` consecutive words), each as the crc32 of its words.

    Integers make the sets, the MinHash input and the Jaccard check cheaper than strings would. Two different
    shingles collide with a probability of about 2**-32, so the Jaccard of these sets is, in practice, the
    exact Jaccard of the shingles. A text of at most `SHINGLE_WORDS` words is a single shingle; an empty text
    has none.
    """
    words = normalised.encode().split()
    if len(words) <= SHINGLE_WORDS:
        return frozenset([zlib.crc32(b" ".join(words))]) if words else frozenset()
    return frozenset(map(zlib.crc32, map(b" ".join, zip(*(words[i:] for i in range(SHINGLE_WORDS))))))


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a and not b:
        return 1.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def exact_key(normalised: str) -> str:
    return hashlib.blake2b(normalised.encode(), digest_size=16).hexdigest()


_local = threading.local()


def _minhash() -> MinHash:
    """One reusable MinHash per thread: building one computes its permutations, which costs more than hashing."""
    minhash = getattr(_local, "minhash", None)
    if minhash is None:
        # The shingles are 32-bit hashes already, which is what the affine32 scheme takes.
        minhash = _local.minhash = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, hashfunc=int)
        _local.empty = minhash.hashvalues.copy()
    else:
        minhash.hashvalues = _local.empty.copy()
    return minhash


def signature(shingle_set: Iterable[int]) -> np.ndarray:
    """The MinHash signature (NUM_PERM values) of a shingle set."""
    minhash = _minhash()
    minhash.update_batch(shingle_set)
    return minhash.hashvalues


# Multilinear hashing of each band's rows (random odd multipliers, a row of them per band, wrapping at 2**64):
# one numpy expression for all bands. RandomState, like datasketch's permutations, because numpy keeps its
# stream frozen, so the keys stay the same across processes and releases.
_BAND_MULTIPLIERS = (np.random.RandomState(MINHASH_SEED).randint(0, 2**63, size=(BANDS, ROWS), dtype=np.uint64)
                     * np.uint64(2) + np.uint64(1))


def band_keys(sig: np.ndarray) -> list[int]:
    """One bucket per band, as a signed 64-bit integer (the band number is part of the hash)."""
    rows = np.asarray(sig, dtype=np.uint64).reshape(BANDS, ROWS)
    with np.errstate(over="ignore"):
        keys = (rows * _BAND_MULTIPLIERS).sum(axis=1, dtype=np.uint64)
    return keys.view(np.int64).tolist()


@dataclass(frozen=True)
class Fingerprint:
    exact_key: str
    shingles: frozenset[int]
    buckets: tuple[int, ...]


def fingerprint(proposal: str, justification: str = "") -> Fingerprint:
    normalised = normalise(comment_text(proposal, justification))
    shingle_set = shingles(normalised)
    buckets = tuple(band_keys(signature(shingle_set))) if shingle_set else ()
    return Fingerprint(exact_key(normalised), shingle_set, buckets)


# --- incremental grouping -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRef:
    id: str
    curated: bool = False


class GroupStore(Protocol):
    """What `assign` needs from storage. Review's database implements it, and `MemoryGroupStore` below."""

    def find_identical(self, key: str) -> str | None:
        """Some comment already fingerprinted with this exact key."""

    def bucket_members(self, buckets: Sequence[int]) -> Mapping[int, Sequence[str]]:
        """The comments stored in each of these buckets (buckets without members may be left out)."""

    def shingles_of(self, comment_ids: Sequence[str]) -> Mapping[str, frozenset[int]]: ...

    def groups_of(self, comment_ids: Sequence[str]) -> Mapping[str, GroupRef | None]: ...

    def remember(self, comment_id: str, key: str, buckets: Sequence[int]) -> None:
        """Store the comment's exact key and add it to these buckets."""

    def create_group(self, member_ids: Sequence[str]) -> str: ...

    def join(self, comment_id: str, group_id: str) -> None: ...

    def merge(self, into: str, others: Sequence[str]) -> None: ...


@dataclass(frozen=True)
class Placement:
    group_id: str | None
    how: str  # "identical", "similar" or "alone"
    similarity: float = 0.0
    merged: tuple[str, ...] = ()


def assign(store: GroupStore, comment_id: str, fp: Fingerprint) -> Placement:
    """Place one new comment; the caller makes this idempotent (a comment is fingerprinted once)."""
    twin = store.find_identical(fp.exact_key)
    if twin is not None:
        group = store.groups_of([twin]).get(twin)
        group_id = group.id if group else store.create_group([twin])
        store.join(comment_id, group_id)
        store.remember(comment_id, fp.exact_key, ())  # its twin already stands for it in every bucket
        return Placement(group_id, "identical", 1.0)

    members = store.bucket_members(fp.buckets) if fp.buckets else {}
    hits = Counter(chain.from_iterable(members.values()))
    hits.pop(comment_id, None)
    open_buckets = [b for b in fp.buckets if len(members.get(b, ())) < BUCKET_CAPACITY]
    matches = _verified_matches(store, fp, [c for c, _ in hits.most_common(MAX_CANDIDATES)]) if hits else {}
    store.remember(comment_id, fp.exact_key, open_buckets)
    if not matches:
        return Placement(None, "alone")

    grouped = {key: match for key, match in matches.items() if match.group is not None}
    loose = [match.comment_id for match in matches.values() if match.group is None]
    best = max(matches.values(), key=lambda m: m.similarity).similarity
    if not grouped:
        group_id = store.create_group(loose)
        store.join(comment_id, group_id)
        return Placement(group_id, "similar", best)
    target = max(grouped.values(), key=lambda m: (m.similarity, m.group.id)).group
    merged: tuple[str, ...] = ()
    if not target.curated:
        merged = tuple(sorted(m.group.id for m in grouped.values() if m.group.id != target.id and not m.group.curated))
        if merged:
            store.merge(target.id, merged)
    for loose_id in loose:
        store.join(loose_id, target.id)
    store.join(comment_id, target.id)
    return Placement(target.id, "similar", best, merged)


@dataclass(frozen=True)
class _Match:
    comment_id: str
    group: GroupRef | None
    similarity: float


def _verified_matches(store: GroupStore, fp: Fingerprint, candidates: list[str]) -> dict[str, _Match]:
    """The best verified candidate per group (ungrouped candidates count one by one), best-hit candidates first."""
    groups = store.groups_of(candidates)
    texts = store.shingles_of(candidates)
    checks: Counter[str] = Counter()
    matches: dict[str, _Match] = {}
    for candidate in candidates:
        group = groups.get(candidate)
        key = group.id if group else f"comment:{candidate}"
        if key in matches or checks[key] >= MAX_CHECKS_PER_GROUP or candidate not in texts:
            continue
        checks[key] += 1
        similarity = jaccard(fp.shingles, texts[candidate])
        if similarity >= THRESHOLD:
            matches[key] = _Match(candidate, group, similarity)
    return matches


@dataclass
class MemoryGroupStore:
    """The port in memory: the benchmark's index and the tests' fake."""

    identical: dict[str, str] = field(default_factory=dict)
    buckets: dict[int, list[str]] = field(default_factory=dict)
    shingle_sets: dict[str, frozenset[int]] = field(default_factory=dict)
    group_of: dict[str, str] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)
    curated: set[str] = field(default_factory=set)
    _next: int = 0

    def add(self, comment_id: str, proposal: str, justification: str = "") -> Placement:
        """Fingerprint and place a comment (what the event handler does); a second call changes nothing."""
        if comment_id in self.shingle_sets:
            group = self.group_of.get(comment_id)
            return Placement(group, "already placed")
        fp = fingerprint(proposal, justification)
        self.shingle_sets[comment_id] = fp.shingles
        return assign(self, comment_id, fp)

    def find_identical(self, key: str) -> str | None:
        return self.identical.get(key)

    def bucket_members(self, buckets: Sequence[int]) -> Mapping[int, Sequence[str]]:
        found = self.buckets
        return {b: found[b] for b in buckets if b in found}

    def shingles_of(self, comment_ids: Sequence[str]) -> Mapping[str, frozenset[int]]:
        return {c: self.shingle_sets[c] for c in comment_ids if c in self.shingle_sets}

    def groups_of(self, comment_ids: Sequence[str]) -> Mapping[str, GroupRef | None]:
        result: dict[str, GroupRef | None] = {}
        for comment_id in comment_ids:
            group = self.group_of.get(comment_id)
            result[comment_id] = GroupRef(group, group in self.curated) if group else None
        return result

    def remember(self, comment_id: str, key: str, buckets: Sequence[int]) -> None:
        self.identical.setdefault(key, comment_id)
        found = self.buckets
        for bucket in buckets:
            if bucket in found:
                found[bucket].append(comment_id)
            else:
                found[bucket] = [comment_id]

    def create_group(self, member_ids: Sequence[str]) -> str:
        self._next += 1
        group_id = f"g{self._next}"
        self.members[group_id] = set()
        for member in member_ids:
            self.join(member, group_id)
        return group_id

    def join(self, comment_id: str, group_id: str) -> None:
        previous = self.group_of.get(comment_id)
        if previous is not None:
            self.members[previous].discard(comment_id)
        self.group_of[comment_id] = group_id
        self.members[group_id].add(comment_id)

    def merge(self, into: str, others: Sequence[str]) -> None:
        for other in others:
            for member in self.members.pop(other, set()):
                self.group_of[member] = into
                self.members[into].add(member)
