"""Triage queue at 100,000 comments on PostgreSQL: sorting, paging, filters and search (`make bench`).

Prints figures and asserts nothing. Every figure is a ratio against baselines
measured in the same run on the same table:
- a plain primary-key page, `SELECT * FROM comments ORDER BY id LIMIT 50`;
- that page plus the exact count of the consultation's comments, which is what any
  page with "N comments, page x of y" must at least do.
The queue's figures include what the page really runs: the count of matching
comments and, for a reviewer, the count of their own (mine first). Paging should
not degrade with depth: the last page is also compared with the first.

    .venv/bin/python bench/triage_queue.py [--comments 100000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from services.common.db import Database, upgrade  # noqa: E402
from services.review import triage  # noqa: E402
from services.review.triage import QueueFilters  # noqa: E402

COMMON = ("organizacje pozarządowe dotacje konkurs współpraca wkład własny sprawozdanie zadanie publiczne "
          "mieszkańcy wolontariat kultura sport zdrowie pomoc społeczna rada działalności pożytku publicznego "
          "łączenie środków żłobek ośrodek świetlica młodzież seniorzy partnerstwo program gmina miasto").split()
SYLLABLES = ("ka", "ło", "rzę", "dź", "wie", "sz", "cja", "ść", "mo", "ni", "że", "pra", "ró", "gań", "ty", "lę")
PLANTED = "źródła finansowania"  # in 1% of the comments, as a real phrase would be
TOPICS = ("finansowanie", "kultura", "sport", "zdrowie", "pomoc społeczna", None)
CHANNELS = ("web", "web", "web", "email", "letter", "duty_hours")
REVIEWERS = [f"recenzent{i}@um.example" for i in range(8)]
CHAPTERS = [f"u{i:04d}" for i in range(1, 13)]
TARGET_VS_PAGE_AND_COUNT = 5.0  # a queue page may cost at most this many "primary-key page + exact count"
TARGET_LAST_VS_FIRST = 3.0  # the last of 2,000 pages may cost at most this many first pages


def _vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    """Common words, and many rarer made-up ones with Polish letters, as a real corpus has."""
    made_up = {"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(size)}
    return COMMON * 20 + sorted(made_up)


def _sentence(rng: random.Random, words: list[str], length: int) -> str:
    text = " ".join(rng.choice(words) for _ in range(length))
    if rng.random() < 0.01:
        text += " " + PLANTED
    return text.capitalize() + "."


def seed(db: Database, count: int, consultation_id: str) -> None:
    rng = random.Random(20261126)
    words = _vocabulary(rng)
    start = datetime(2026, 10, 1, 8, 0, tzinfo=timezone.utc)
    rows = []
    for n in range(count):
        chapter = rng.choice(CHAPTERS)
        rows.append({
            "id": str(uuid.UUID(int=rng.getrandbits(128))), "consultation_id": consultation_id,
            "submission_id": str(uuid.UUID(int=rng.getrandbits(128))), "reference": f"UW/2026/{n // 3:06d}",
            "number": n % 3 + 1, "channel": rng.choice(CHANNELS),
            "received_at": start + timedelta(seconds=n * 13 + rng.randint(0, 12)), "late": rng.random() < 0.03,
            "submitter_kind": "person", "submitter_label": f"Osoba {n}", "section": f"§ {rng.randint(1, 30)}",
            "current_text": _sentence(rng, words, 12), "proposal": _sentence(rng, words, 25),
            "justification": _sentence(rng, words, 20),
            "topic": rng.choice(TOPICS), "assignee": rng.choice(REVIEWERS) if rng.random() < 0.4 else None,
            "status": "decided" if rng.random() < 0.25 else "new", "decision_justification": "", "revision": 0,
            "approval_note": "", "unit_id": chapter, "chapter_id": chapter,
        })
    columns = list(rows[0])
    raw = db.engine.raw_connection()
    try:
        with raw.cursor() as cursor, cursor.copy(f"COPY comments ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
        raw.commit()
    finally:
        raw.close()
    with db.engine.begin() as conn:  # the draft: chapters, each with a paragraph, as documents announces them
        conn.execute(text("INSERT INTO consultation_drafts (consultation_id, document_id, version, title, created_at) "
                          "VALUES (:c, 'd-bench', 1, 'Projekt', now())"), {"c": consultation_id})
        conn.execute(text("INSERT INTO draft_units (document_id, version, unit_id, position, kind, label, parent_id, "
                          "chapter_id, text) VALUES ('d-bench', 1, :id, :position, 'chapter', :label, NULL, :id, '')"),
                     [{"id": chapter, "position": n, "label": f"Rozdział {n + 1}"} for n, chapter in enumerate(CHAPTERS)])
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        conn.execute(text("CHECKPOINT"))


def timed(db: Database, repeats: int, action) -> float:
    """Median seconds of `action(session)` over `repeats` runs, after one warm-up."""
    timings = []
    for attempt in range(repeats + 1):
        with db.transaction() as session:
            started = time.perf_counter()
            action(session)
            elapsed = time.perf_counter() - started
        if attempt:
            timings.append(elapsed)
    return statistics.median(timings)


def run(comments: int, repeats: int) -> int:
    from tests.support import infra

    if not infra.port_open(infra.PG_HOST, infra.PG_PORT):
        print("triage queue benchmark: no PostgreSQL on 127.0.0.1:5432, not measured")
        return 0
    postgres = infra.PostgresServer()
    url = postgres.create_database("uwagi_bench_triage")
    db = Database(url)
    try:
        upgrade("review", url)
        consultation = str(uuid.uuid4())
        started = time.perf_counter()
        seed(db, comments, consultation)
        print(f"triage queue on PostgreSQL: {comments:,} comments in one consultation "
              f"(seeded in {time.perf_counter() - started:.1f} s), median of {repeats}")

        baseline = timed(db, repeats, lambda s: list(s.execute(text("SELECT * FROM comments ORDER BY id LIMIT 50"))))
        counted = timed(db, repeats, lambda s: (
            list(s.execute(text("SELECT * FROM comments ORDER BY id LIMIT 50"))),
            s.scalar(text("SELECT count(*) FROM comments WHERE consultation_id = :c"), {"c": consultation})))
        print(f"  baseline A: primary-key page of 50 rows: {baseline * 1000:.2f} ms")
        print(f"  baseline B: that page + exact count of the consultation: {counted * 1000:.2f} ms")
        last_page = comments // 50

        def page(filters: QueueFilters, number: int = 1, me: str | None = None):
            return lambda s: triage.load_page(s, filters, me=me, page=number, per_page=50)

        def neighbour(position: int, me: str | None):
            return lambda s: triage.comment_at(s, base, me=me, position=position)

        base = QueueFilters(consultation=consultation)
        cases = [
            ("first page, oldest first (with count)", page(base)),
            ("first page, newest first", page(QueueFilters(consultation=consultation, sort="-received"))),
            ("first page, by reference", page(QueueFilters(consultation=consultation, sort="reference"))),
            ("first page, by status", page(QueueFilters(consultation=consultation, sort="status"))),
            ("first page, by assignee", page(QueueFilters(consultation=consultation, sort="assignee"))),
            ("first page, by chapter", page(QueueFilters(consultation=consultation, sort="chapter"))),
            ("first page, reviewer's own first", page(base, me=REVIEWERS[0])),
            ("page 100 (offset 4,950)", page(base, 100)),
            (f"last page ({last_page:,}, offset {(last_page - 1) * 50:,})", page(base, last_page)),
            ("last page, reviewer's own first", page(base, last_page, me=REVIEWERS[0])),
            ("filter: chapter", page(QueueFilters(consultation=consultation, unit=CHAPTERS[3]))),
            ("filter: topic + late", page(QueueFilters(consultation=consultation, topic="zdrowie", late=True))),
            ("filter: mine", page(QueueFilters(consultation=consultation, mine=True), me=REVIEWERS[1])),
            ("filter: not assigned, status new", page(QueueFilters(consultation=consultation, assignee="none",
                                                                   status="new"))),
            ("search: 'zrodla finansowania'", page(QueueFilters(consultation=consultation, q="zrodla finansowania"))),
            ("search: 'zlobek swietlica mlodziez' (common)", page(QueueFilters(consultation=consultation,
                                                                              q="zlobek swietlica mlodziez"))),
            ("search + sort newest, page 20", page(QueueFilters(consultation=consultation, q="dotacje",
                                                                sort="-received"), 20)),
            ("next/previous at position 50,000", neighbour(50_000, None)),
            ("next/previous at 50,000, own first", neighbour(50_000, REVIEWERS[0])),
        ]
        print(f"  {'':46s} {'median':>9s}   {'× A':>6s}  {'× B':>6s}")
        results = {}
        for name, action in cases:
            seconds = results[name] = timed(db, repeats, action)
            print(f"  {name:46s} {seconds * 1000:7.2f} ms  {seconds / baseline:6.1f}  {seconds / counted:6.1f}")
        worst_name = max(results, key=results.get)
        worst = results[worst_name] / counted
        depth = results[cases[8][0]] / results[cases[0][0]]
        print(f"  slowest: {worst_name}, {worst:.1f} × B  [target ≤ {TARGET_VS_PAGE_AND_COUNT:.0f} × B: "
              f"{'ok' if worst <= TARGET_VS_PAGE_AND_COUNT else 'MISSED'}]")
        print(f"  last page / first page: {depth:.1f} ×  [target ≤ {TARGET_LAST_VS_FIRST:.0f} ×: "
              f"{'ok' if depth <= TARGET_LAST_VS_FIRST else 'MISSED'}]")
    finally:
        db.dispose()
        postgres.drop_all()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=9)
    options = parser.parse_args()
    return run(options.comments, options.repeats)


if __name__ == "__main__":
    raise SystemExit(main())
