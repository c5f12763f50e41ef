"""Bulk import benchmark: comments per second from a CSV file into PostgreSQL with the outbox.

In one run, on the same fresh database and the same 20,000 comments (10,000 submissions of two):
1. baseline: psycopg `COPY` of the already prepared rows into submissions, comments and outbox
   (no parsing, no checks, no events built): what the database takes at best;
2. `import_comments`: read the CSV, check every row, group, allocate references in one statement,
   build and contract-check the events, insert with SQLAlchemy Core and commit.
Prints JSON on the last line (for bench/run_bench.py) after a readable summary. Target: ≥ 20,000 comments/s.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET = 20_000


def campaign_csv(comments: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["submission_key", "name", "organization", "email", "publish_consent", "section",
                     "current_text", "proposal", "justification", "topic", "channel", "received_on"])
    for n in range(comments):
        key = n // 2
        writer.writerow([f"K{key}", f"Osoba {key}", "", f"osoba{key}@example.org", "tak", f"§ {n % 40 + 1}",
                         "Obecny zapis paragrafu.", f"Proponujemy zmienić zapis nr {n} na bardziej przejrzysty.",
                         "Uzasadnienie kampanii mieszkańców.", "", "letter", ""])
    return out.getvalue().encode()


def copy_baseline(ctx, consultation_id: str, comments: int) -> float:
    """COPY of the same number of prepared rows: the database's own ceiling for this write."""
    from services.intake.models import Comment, Outbox, Submission

    now = datetime.now(timezone.utc)
    submissions = []
    comment_rows = []
    outbox = []
    for key in range(comments // 2):
        submission_id = str(uuid.uuid4())
        submissions.append((submission_id, f"BASE/{uuid.uuid4().hex[:20]}", consultation_id, "letter", f"Osoba {key}",
                            None, f"osoba{key}@example.org", True, "person", "pl", now, False, "0" * 64))
        for number in (1, 2):
            comment_rows.append((str(uuid.uuid4()), submission_id, number, "§ 1", "Obecny zapis paragrafu.",
                                 "Proponujemy zmienić zapis na bardziej przejrzysty.", "Uzasadnienie.", None,
                                 "received", "", 0))
        envelope = json.dumps({"id": submission_id, "type": "submission.received", "data": {"n": key}})
        outbox.append((str(uuid.uuid4()), "submission.received", envelope, now, 0))
    raw = ctx.db.engine.raw_connection()
    try:
        started = time.perf_counter()
        cursor = raw.cursor()
        for table, columns, rows in (
                (Submission.__tablename__, "id, reference, consultation_id, channel, submitter_name, organization, "
                 "email, publish_consent, kind, language, received_at, late, status_token_hash", submissions),
                (Comment.__tablename__, "id, submission_id, number, section, current_text, proposal, justification, "
                 "topic, status, decision_justification, decision_revision", comment_rows),
                (Outbox.__tablename__, "event_id, event_type, envelope, created_at, attempts", outbox)):
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--comments", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()

    from tests.support import infra

    if not infra.port_open(infra.PG_HOST, infra.PG_PORT):
        print("bulk import benchmark: no PostgreSQL on 127.0.0.1:5432, skipped")
        print(json.dumps({"skipped": "no PostgreSQL"}))
        return 0
    from services.common.db import upgrade
    from services.common.settings import load_settings
    from services.intake import app as intake_app
    from services.intake import domain, handlers
    from services.intake.imports.handlers import import_comments

    server = infra.PostgresServer()
    try:
        url = server.create_database("uwagi_bulk_bench")
        settings = load_settings({"UWAGI_DATA_DIR": tempfile.mkdtemp(prefix="uwagi-bulk-bench-"),
                                  "INTAKE_DATABASE_URL": url, "UWAGI_RELAY_INTERVAL": "3600"})
        upgrade("intake", url)
        ctx = intake_app.build(settings)
        now = datetime.now(timezone.utc)

        def consultation() -> str:
            return handlers.create_consultation(ctx, domain.OpenConsultation(
                title="Benchmark", opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=10),
                contact_email="konsultacje@um.torun.pl"), actor="bench").id

        content = campaign_csv(options.comments)
        baseline, imported = [], []
        for _ in range(options.repeats):  # interleaved, so that both see the same machine and table sizes
            baseline.append(copy_baseline(ctx, consultation(), options.comments))
            target = consultation()
            started = time.perf_counter()
            result = import_comments(ctx, target, "campaign.csv", content, actor="bench")
            imported.append(time.perf_counter() - started)
            assert result.comments == options.comments, result
        ctx.close()
    finally:
        server.drop_all()
    best_baseline, best_import = min(baseline), min(imported)
    figures = {"comments": options.comments, "submissions": options.comments // 2, "repeats": options.repeats,
               "baseline_copy_comments_per_s": round(options.comments / best_baseline),
               "import_comments_per_s": round(options.comments / best_import),
               "import_seconds": round(best_import, 3), "baseline_seconds": round(best_baseline, 3)}
    figures["ratio_to_copy"] = round(figures["import_comments_per_s"] / figures["baseline_copy_comments_per_s"], 3)
    print(f"bulk import, {options.comments:,} comments in {options.comments // 2:,} submissions, PostgreSQL with "
          f"outbox (best of {options.repeats}):")
    print(f"  baseline, psycopg COPY of the prepared rows: {figures['baseline_copy_comments_per_s']:,} comments/s")
    print(f"  import_comments (CSV → checks → Core inserts + events): {figures['import_comments_per_s']:,} "
          f"comments/s = {figures['ratio_to_copy']:.2f}× COPY  [target ≥ {TARGET:,}: "
          f"{'ok' if figures['import_comments_per_s'] >= TARGET else 'MISSED'}]")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
