"""Grouping benchmark: 100,000 comments, 20% of them campaign copies with small edits.

`python bench/grouping_bench.py [--comments N] [--campaign-share 0.2] [--seed S]` prints one JSON line:
- the time (wall clock and CPU) of incremental grouping (`services.review.grouping.assign`, one comment at a time, in arrival order,
  on the in-memory store: the same algorithm the event handler runs on review's database);
- pairwise precision and recall against the planted campaigns;
- the baseline measured in the same run: grouping by the exact hash of the normalised text, with its own
  precision and recall (fast, but blind to any edit).
With `--database`, the event handler's path instead: review's tables on SQLite, one transaction per comment,
the LSH buckets in the database; it also says whether that path groups exactly as the in-memory store does.

Texts are Polish: sentences of the 2024 announcement and of the demo programme, with the openings and
justifications people write. Every background comment is a distinct combination, so the only planted
duplicates are the campaigns. A campaign copy is the campaign's letter with 0-3 small edits: a greeting or a
signature added, a typo, two neighbouring words swapped, letters without diacritics, changed case or
punctuation.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import sys
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from math import comb
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.documents.engine.demo_draft import draft_entries  # noqa: E402
from services.review.grouping import MemoryGroupStore, comment_text, exact_key, normalise  # noqa: E402

ANNOUNCEMENT = ROOT.parent / "shared" / "context" / "announcement-2024-stage-2.txt"
OPENERS = ["Proponuję", "Proponujemy", "Wnoszę o", "Wnosimy o", "Postulujemy", "Prosimy o", "Sugeruję",
           "Zgłaszam uwagę:", "Rada Osiedla proponuje", "Nasze stowarzyszenie proponuje"]
ACTIONS = ["dopisanie zapisu", "zmianę brzmienia", "wykreślenie fragmentu", "doprecyzowanie zapisu",
           "uzupełnienie katalogu", "przeniesienie zapisu", "rozszerzenie zakresu"]
REASONS = [
    "Obecne brzmienie nie uwzględnia potrzeb małych organizacji prowadzonych przez wolontariuszy.",
    "Zapis jest niejasny i może prowadzić do różnej interpretacji przez komisje konkursowe.",
    "Termin składania ofert jest zbyt krótki dla organizacji działających poniżej roku.",
    "Wnioskujemy o zwiększenie środków na małe granty, ponieważ zapotrzebowanie rośnie z roku na rok.",
    "Należy uwzględnić integrację cudzoziemców i wsparcie ich rodzin w dzielnicach peryferyjnych.",
    "Zmiana ułatwi współpracę z Radą Działalności Pożytku Publicznego i usprawni konsultacje.",
    "Osoby z niepełnosprawnościami mają utrudniony dostęp do działań finansowanych w ramach programu.",
    "Doświadczenia z poprzednich lat pokazują, że obecny tryb rozliczania dotacji jest zbyt uciążliwy.",
]
GREETINGS = ["Szanowni Państwo,", "Dzień dobry,", "Szanowny Panie Prezydencie,", "Witam,"]
FIRST = ["Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Krzysztof", "Ewa", "Michał", "Agnieszka", "Jan"]
LAST = ["Nowak", "Kowalska", "Wiśniewski", "Wójcik", "Kamińska", "Lewandowski", "Zielińska", "Szymański"]
STRIP = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")


def sentence_pool() -> list[str]:
    programme = [text for kind, text in draft_entries(1) if kind != "chapter" and len(text.split()) >= 5]
    announcement = []
    if ANNOUNCEMENT.exists():
        raw = ANNOUNCEMENT.read_text(encoding="utf-8")
        announcement = [s.strip(" -–;") for s in re.split(r"(?<=[.;:])\s+|\n+", raw) if len(s.split()) >= 6]
    return list(dict.fromkeys(programme + announcement + REASONS))


def background_comment(rng: random.Random, pool: list[str], used: set[tuple]) -> tuple[str, str]:
    """A comment of its own: a set of three sentences no other comment has, with its own numbers."""
    while True:
        picked = tuple(rng.sample(range(len(pool)), 3))
        if frozenset(picked) not in used:
            used.add(frozenset(picked))
            break
    opener, action = rng.choice(OPENERS), rng.choice(ACTIONS)
    paragraph = f"§ {rng.randint(1, 20)} ust. {rng.randint(1, 6)}"
    proposal = f"{opener} {action} w {paragraph}: „{pool[picked[0]]}” {pool[picked[1]]}"
    justification = f"{pool[picked[2]]} Dotyczy to około {rng.randint(2, 400)} organizacji."
    return proposal, justification


def campaign_letter(rng: random.Random, pool: list[str]) -> tuple[str, str]:
    sentences = rng.sample(pool, 5)
    proposal = f"{rng.choice(OPENERS)} {rng.choice(ACTIONS)}: „{sentences[0]}” {sentences[1]}"
    justification = " ".join(sentences[2:]) + " " + rng.choice(REASONS)
    return proposal, justification


def typo(words: list[str], rng: random.Random) -> None:
    candidates = [i for i, w in enumerate(words) if len(w) >= 5]
    if not candidates:
        return
    i = rng.choice(candidates)
    word, at = words[i], rng.randrange(1, len(words[i]) - 2)
    kind = rng.randrange(3)
    if kind == 0:
        words[i] = word[:at] + word[at + 1] + word[at] + word[at + 2:]
    elif kind == 1:
        words[i] = word[:at] + word[at + 1:]
    else:
        words[i] = word[:at] + rng.choice("aeiouyzsk") + word[at + 1:]


def edited_copy(letter: tuple[str, str], rng: random.Random) -> tuple[str, str]:
    proposal, justification = letter
    for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
        kind = rng.randrange(6)
        if kind == 0:
            proposal = f"{rng.choice(GREETINGS)} {proposal}"
        elif kind == 1:
            justification = f"{justification} Z poważaniem, {rng.choice(FIRST)} {rng.choice(LAST)}"
        elif kind in (2, 3):
            target = rng.randrange(2)
            words = (proposal if target == 0 else justification).split()
            if kind == 2:
                typo(words, rng)
            elif len(words) > 2:
                i = rng.randrange(len(words) - 1)
                words[i], words[i + 1] = words[i + 1], words[i]
            if target == 0:
                proposal = " ".join(words)
            else:
                justification = " ".join(words)
        elif kind == 4:
            proposal, justification = proposal.translate(STRIP), justification.translate(STRIP)
        else:
            proposal = proposal.upper() if rng.random() < 0.3 else proposal.replace(",", "").replace("„", '"')
    return proposal, justification


def campaign_sizes(total: int, rng: random.Random) -> list[int]:
    """A few large campaigns and many small ones, as in a real consultation."""
    sizes = []
    for share in (0.2, 0.125, 0.075, 0.05, 0.04, 0.03, 0.025, 0.025, 0.02, 0.02, 0.015, 0.015, 0.01, 0.01):
        sizes.append(max(2, int(total * share)))
    while sum(sizes) < total:
        sizes.append(min(rng.randint(2, 60), total - sum(sizes)) if total - sum(sizes) >= 2 else 2)
    while sum(sizes) > total:
        sizes[-1] -= sum(sizes) - total
        if sizes[-1] < 2:
            sizes.pop()
    return sizes


def make_corpus(count: int, campaign_share: float, seed: int) -> tuple[list[tuple[str, str, str]], dict[str, int]]:
    """(comment id, proposal, justification) in arrival order, and each id's planted campaign (-1: none)."""
    rng = random.Random(seed)
    pool = sentence_pool()
    campaign_total = int(count * campaign_share)
    comments, truth, used = [], {}, set()
    for campaign, size in enumerate(campaign_sizes(campaign_total, rng)):
        letter = campaign_letter(rng, pool)
        for _ in range(size):
            comment_id = f"c{len(comments)}"
            comments.append((comment_id, *edited_copy(letter, rng)))
            truth[comment_id] = campaign
    while len(comments) < count:
        comment_id = f"c{len(comments)}"
        comments.append((comment_id, *background_comment(rng, pool, used)))
        truth[comment_id] = -1
    rng.shuffle(comments)
    return comments, truth


def pairwise_scores(predicted: dict[str, str | None], truth: dict[str, int]) -> dict[str, float]:
    """Pairwise precision and recall: pairs put together by grouping vs pairs planted together."""
    together = Counter()
    predicted_sizes, planted_sizes = Counter(), Counter()
    for comment_id, campaign in truth.items():
        group = predicted.get(comment_id)
        if group is not None:
            predicted_sizes[group] += 1
        if campaign >= 0:
            planted_sizes[campaign] += 1
        if group is not None and campaign >= 0:
            together[(group, campaign)] += 1
    true_pairs = sum(comb(n, 2) for n in together.values())
    predicted_pairs = sum(comb(n, 2) for n in predicted_sizes.values())
    planted_pairs = sum(comb(n, 2) for n in planted_sizes.values())
    return {"precision": true_pairs / predicted_pairs if predicted_pairs else 1.0,
            "recall": true_pairs / planted_pairs if planted_pairs else 1.0,
            "predicted_groups": len(predicted_sizes), "planted_groups": len(planted_sizes)}


@contextmanager
def collector_off() -> Iterator[None]:
    """Like timeit, time without the garbage collector: the in-memory store holds every comment, which in
    production sits in review's database, and its collections would weigh on the figures."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def exact_hash_baseline(comments) -> tuple[float, dict[str, str | None]]:
    with collector_off():
        return _exact_hash_baseline(comments)


def _exact_hash_baseline(comments) -> tuple[float, dict[str, str | None]]:
    started = time.perf_counter()
    by_key = defaultdict(list)
    for comment_id, proposal, justification in comments:
        by_key[exact_key(normalise(comment_text(proposal, justification)))].append(comment_id)
    predicted = {c: key for key, ids in by_key.items() if len(ids) > 1 for c in ids}
    return time.perf_counter() - started, predicted


def incremental_grouping(comments, timings: dict | None = None) -> tuple[float, dict[str, str | None]]:
    with collector_off():
        return _incremental_grouping(comments, timings)


def _incremental_grouping(comments, timings: dict | None = None) -> tuple[float, dict[str, str | None]]:
    store = MemoryGroupStore()
    started, cpu_started = time.perf_counter(), time.process_time()
    for comment_id, proposal, justification in comments:
        store.add(comment_id, proposal, justification)
    seconds = time.perf_counter() - started
    if timings is not None:
        timings["cpu_seconds"] = time.process_time() - cpu_started
    return seconds, dict(store.group_of)


def database_grouping(comments) -> tuple[float, dict[str, str | None]]:
    """The event handler's path: review's tables on SQLite, one transaction per comment, buckets in the database."""
    import tempfile
    import uuid
    from datetime import datetime, timezone

    from sqlalchemy import select

    from services.common.db import Database, upgrade
    from services.review.grouping import fingerprint
    from services.review.groups import SqlGroupStore, _place, lock_consultation_groups
    from services.review.models import ReviewComment

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/review.db"
        upgrade("review", url)
        db = Database(url)
        consultation, now = str(uuid.uuid4()), datetime.now(timezone.utc)
        ids = {comment_id: str(uuid.uuid4()) for comment_id, _, _ in comments}
        with db.transaction() as session:
            session.add_all(ReviewComment(
                id=ids[comment_id], consultation_id=consultation, submission_id=ids[comment_id],
                reference=f"UW/2026/{n:06d}", number=1, channel="web", received_at=now, late=False,
                submitter_kind="person", submitter_label="Anna Nowak", section="§ 1", proposal=proposal,
                justification=justification) for n, (comment_id, proposal, justification) in enumerate(comments))
        started = time.perf_counter()
        for comment_id, proposal, justification in comments:
            with db.transaction() as session:
                lock_consultation_groups(session, consultation)
                _place(session, SqlGroupStore(session, consultation), ids[comment_id],
                       fingerprint(proposal, justification))
        seconds = time.perf_counter() - started
        with db.transaction() as session:
            placed = {row.id: row.group_id for row in session.execute(select(ReviewComment.id, ReviewComment.group_id))}
        db.dispose()
    return seconds, {comment_id: placed[ids[comment_id]] for comment_id in ids}


def same_partition(one: dict[str, str | None], other: dict[str, str | None], ids) -> bool:
    """Whether two groupings put the same comments together (group ids differ between stores)."""
    def groups(grouping: dict) -> set[frozenset]:
        members = defaultdict(set)
        for comment_id in ids:
            if grouping.get(comment_id) is not None:
                members[grouping[comment_id]].add(comment_id)
        return {frozenset(m) for m in members.values()}
    return groups(one) == groups(other)


def run(count: int, campaign_share: float, seed: int) -> dict:
    comments, truth = make_corpus(count, campaign_share, seed)
    baseline_seconds, baseline_groups = exact_hash_baseline(comments)
    timings: dict = {}
    load_before = os.getloadavg()[0]
    seconds, groups = incremental_grouping(comments, timings)
    return {"comments": count, "campaign_copies": sum(1 for c in truth.values() if c >= 0),
            "seconds": seconds, "cpu_seconds": timings["cpu_seconds"],
            "load_average": max(load_before, os.getloadavg()[0]), "cpus": os.cpu_count(),
            **pairwise_scores(groups, truth),
            "baseline_seconds": baseline_seconds,
            "baseline": {k: v for k, v in pairwise_scores(baseline_groups, truth).items()}}


def run_database(count: int, campaign_share: float, seed: int) -> dict:
    """The database path on a smaller corpus, and whether it groups exactly as the in-memory store does."""
    comments, truth = make_corpus(count, campaign_share, seed)
    seconds, groups = database_grouping(comments)
    _, in_memory = incremental_grouping(comments)
    return {"comments": count, "seconds": seconds, **pairwise_scores(groups, truth),
            "same_as_in_memory": same_partition(groups, in_memory, truth)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--campaign-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--database", action="store_true", help="the event handler's path on SQLite instead")
    options = parser.parse_args()
    runner = run_database if options.database else run
    print(json.dumps(runner(options.comments, options.campaign_share, options.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
