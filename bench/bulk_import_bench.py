"""Bulk import benchmark: comments per second from a CSV and an XLSX file into PostgreSQL with the outbox.

On one fresh database, each repeat runs, one after the other so that all see the same machine and table sizes:
1. baseline: psycopg `COPY` of rows as wide as the import writes (submissions, comments, and outbox envelopes
   of the same JSON size), prepared beforehand: no parsing, no checks, no events built. It is what the
   database takes at best on this machine at this moment;
2. `import_comments` of the CSV: read, check every row, group, references in one statement, events, COPY
   in one transaction, commit;
3. the same comments as XLSX (`--no-xlsx` to skip), whose parsing by openpyxl is also timed on its own.
The file is a campaign: N comments in N/2 submissions of two. Reports the median of the repeats, each
import's ratio to the baseline of its own repeat (median), and the load average (the machine is shared:
absolute figures move with its load, the ratio much less). Prints JSON on the last line for
bench/run_bench.py. Target: ≥ 20,000 comments/s.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET = 20_000
HEADER = ["submission_key", "name", "organization", "email", "publish_consent", "section", "current_text", "proposal",
          "justification", "topic", "channel", "received_on"]


def campaign_rows(comments: int) -> list[list[str]]:
    return [[f"K{n // 2}", f"Osoba {n // 2}", "", f"osoba{n // 2}@example.org", "tak", f"§ {n % 40 + 1}",
             "Obecny zapis paragrafu.", f"Proponujemy zmienić zapis nr {n} na bardziej przejrzysty.",
             "Uzasadnienie kampanii mieszkańców.", "", "letter", ""] for n in range(comments)]


def campaign_csv(comments: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(campaign_rows(comments))
    return out.getvalue().encode()


def campaign_xlsx(comments: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for row in campaign_rows(comments):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def baseline_rows(consultation_id: str, comments: int) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Rows of the same width as the import's, its envelopes already serialised."""
    now = datetime.now(timezone.utc)
    rows = campaign_rows(comments)
    submissions, comment_rows, outbox = [], [], []
    for key in range(comments // 2):
        submission_id, reference = str(uuid.uuid4()), f"BASE/{uuid.uuid4().hex[:20]}"
        first = rows[2 * key]
        submissions.append((submission_id, reference, consultation_id, "letter", first[1], None, first[3], True,
                            "person", "pl", now, False, "0" * 64, "koordynator@example.org", now, now.date()))
        submitted = []
        for number, row in enumerate(rows[2 * key:2 * key + 2], start=1):
            comment_id = str(uuid.uuid4())
            comment_rows.append((comment_id, submission_id, number, row[5], row[6], row[7], row[8], None, "received",
                                 "", 0))
            submitted.append({"comment_id": comment_id, "number": number, "section": row[5], "current_text": row[6],
                              "proposal": row[7], "justification": row[8], "topic": None})
        event_id = str(uuid.uuid4())
        envelope = {"id": event_id, "type": "submission.received", "version": 1, "occurred_at": now.isoformat(),
                    "producer": "intake", "correlation_id": reference, "data": {
                        "submission_id": submission_id, "consultation_id": consultation_id,
                        "consultation_title": "Benchmark", "reference": reference, "channel": "letter",
                        "received_at": now.isoformat(), "late": False, "language": "pl",
                        "status_url": "http://127.0.0.1:8000/intake/status?reference=UW%2F2026%2F000001&token="
                                      + "x" * 32,
                        "submitter": {"name": first[1], "organization": None, "email": first[3],
                                      "publish_consent": True, "kind": "person"},
                        "comments": submitted,
                        "provenance": {"entered_by": "koordynator@example.org", "entered_at": now.isoformat(),
                                       "postmarked_on": now.date().isoformat()}}}
        outbox.append((event_id, "submission.received", json.dumps(envelope, ensure_ascii=False, separators=(",", ":")),
                       now, 0))
    return submissions, comment_rows, outbox


# The columns the import writes (services/intake/imports/store.py), spelled out: the baseline does not use the
# code it measures.
BASELINE_COLUMNS = {
    "submissions": ("id", "reference", "consultation_id", "channel", "submitter_name", "organization", "email",
                    "publish_consent", "kind", "language", "received_at", "late", "status_token_hash",
                    "entered_by", "entered_at", "postmarked_on"),
    "comments": ("id", "submission_id", "number", "section", "current_text", "proposal", "justification", "topic",
                 "status", "decision_justification", "decision_revision"),
    "outbox": ("event_id", "event_type", "envelope", "created_at", "attempts"),
}


def copy_baseline(ctx, consultation_id: str, comments: int) -> float:
    """COPY of as many prepared rows, as wide: the database's own ceiling for this write."""
    tables = zip(BASELINE_COLUMNS, BASELINE_COLUMNS.values(), baseline_rows(consultation_id, comments))
    raw = ctx.db.engine.raw_connection()
    try:
        started = time.perf_counter()
        cursor = raw.cursor()
        for table, columns, rows in tables:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def envelope_width(ctx, producer_filter: str) -> int:
    """The mean length of the outbox's envelopes whose correlation id starts as given (baseline or import)."""
    from sqlalchemy import text

    with ctx.db.engine.connect() as conn:
        return int(conn.execute(text("SELECT avg(length(envelope::text)) FROM outbox "
                                     "WHERE envelope->>'correlation_id' LIKE :prefix"),
                                {"prefix": producer_filter + "%"}).scalar() or 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comments", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-xlsx", dest="xlsx", action="store_false", help="the CSV import only")
    options = parser.parse_args()

    from tests.support import infra

    if not infra.port_open(infra.PG_HOST, infra.PG_PORT):
        print("bulk import benchmark: no PostgreSQL on 127.0.0.1:5432, skipped")
        print(json.dumps({"skipped": "no PostgreSQL"}))
        return 0
    from services.common.bulk import gc_paused
    from services.common.db import upgrade
    from services.common.settings import load_settings
    from services.intake import app as intake_app
    from services.intake import domain, handlers
    from services.intake.imports.handlers import import_comments
    from services.intake.imports.plan import read_table

    files = {"csv": campaign_csv(options.comments)}
    if options.xlsx:
        files["xlsx"] = campaign_xlsx(options.comments)
    load_before = os.getloadavg()
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

        baseline: list[float] = []
        imported: dict[str, list[float]] = {kind: [] for kind in files}
        parsing: dict[str, list[float]] = {kind: [] for kind in files}
        for _ in range(options.repeats):
            baseline.append(copy_baseline(ctx, consultation(), options.comments))
            for kind, content in files.items():
                target = consultation()
                started = time.perf_counter()
                result = import_comments(ctx, target, f"campaign.{kind}", content, actor="bench")
                imported[kind].append(time.perf_counter() - started)
                assert result.comments == options.comments, result
                with gc_paused():  # as inside the import
                    started = time.perf_counter()
                    read_table(f"campaign.{kind}", content)
                    parsing[kind].append(time.perf_counter() - started)
        widths = {"baseline": envelope_width(ctx, "BASE/"), "import": envelope_width(ctx, "UW/")}
        ctx.close()
    finally:
        server.drop_all()
    load_after = os.getloadavg()

    def rate(seconds: float) -> int:
        return round(options.comments / seconds)

    figures: dict = {
        "comments": options.comments, "submissions": options.comments // 2, "repeats": options.repeats,
        "baseline_copy_comments_per_s": rate(statistics.median(baseline)),
        "envelope_chars": widths, "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after]}
    for kind in files:
        figures[f"{kind}_comments_per_s"] = rate(statistics.median(imported[kind]))
        figures[f"{kind}_ratio_to_copy"] = round(statistics.median(
            b / i for b, i in zip(baseline, imported[kind])), 3)
        figures[f"{kind}_read_seconds"] = round(statistics.median(parsing[kind]), 3)
        figures[f"{kind}_runs_comments_per_s"] = [rate(s) for s in imported[kind]]
    figures["baseline_runs_comments_per_s"] = [rate(s) for s in baseline]

    print(f"bulk import, {options.comments:,} comments in {options.comments // 2:,} submissions, PostgreSQL with "
          f"outbox (median of {options.repeats}; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after):")
    print(f"  baseline, psycopg COPY of prepared rows as wide (envelopes {widths['baseline']} chars, the import's "
          f"{widths['import']}): {figures['baseline_copy_comments_per_s']:,} comments/s")
    for kind in files:
        per_s = figures[f"{kind}_comments_per_s"]
        print(f"  import_comments, {kind.upper()} (of which reading the file {figures[f'{kind}_read_seconds']:.2f} s): "
              f"{per_s:,} comments/s = {figures[f'{kind}_ratio_to_copy']:.2f}× COPY  "
              f"[target ≥ {TARGET:,}: {'ok' if per_s >= TARGET else 'MISSED'}]")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
