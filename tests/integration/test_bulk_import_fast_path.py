"""The bulk import's write path (COPY on PostgreSQL, multi-row inserts on SQLite), on both databases: every
row, reference and event as the web form would write them, one event per submission, all or nothing."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from services.common.db import upgrade
from services.common.events import parse_envelope
from services.common.settings import load_settings
from services.intake import app as intake_app
from services.intake import domain, handlers
from services.intake.imports.handlers import ImportInvalid, import_comments
from services.intake.models import Comment, Outbox, Submission
from tests.unit.intake_pages.helpers import WARSAW, open_consultation

HEADER = ["submission_key", "name", "organization", "email", "publish_consent", "section", "current_text", "proposal",
          "justification", "topic", "channel", "received_on"]
TOPICS = ("Formy współpracy", "Priorytetowe zadania publiczne")
# Text that COPY's own format must carry through: its separators, escapes and NULL marker, quotes, Polish.
AWKWARD = 'tab\there, new\nline, back\\slash, \\N, "quotes", „cudzysłów” i zażółć gęślą jaźń'


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request, tmp_path):
    values = {"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_SECRET_KEY": "bulk-fast-path-secret-0123456789"}
    if request.param == "postgres":
        values["INTAKE_DATABASE_URL"] = request.getfixturevalue("postgres").create_database("uwagi_bulk_fast")
    settings = load_settings(values)
    upgrade("intake", settings.database_url("intake"))
    built = intake_app.create_app(ctx=intake_app.build(settings))
    assert built.extensions["uwagi"].db.is_postgres == (request.param == "postgres")
    yield built
    built.extensions["uwagi"].close()


def campaign(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return out.getvalue().encode()


def mixed_file(submissions: int) -> tuple[bytes, int]:
    """Groups of one to four comments; organisations, no e-mail, topics, two years of stamps, awkward text."""
    rows = []
    for s in range(submissions):
        size = s % 4 + 1
        for n in range(size):
            rows.append([f"K{s}", f"Osoba {s}", "Fundacja „Razem”" if s % 3 == 0 else "",
                         "" if s % 5 == 0 else f"osoba{s}@example.org", "tak" if s % 2 else "nie", f"§ {n + 1}",
                         AWKWARD if s % 7 == 0 else "", f"Propozycja {s}.{n}" + (f" {AWKWARD}" if n == 1 else ""),
                         "", TOPICS[s % 2] if n % 2 else "", "letter" if s % 6 else "duty_hours",
                         "2024-12-30" if s % 2 else "02.01.2025"])
    return campaign(rows), len(rows)


def counts(ctx) -> tuple[int, int, int]:
    with ctx.db.transaction() as session:
        return tuple(session.scalar(select(func.count()).select_from(m)) for m in (Submission, Comment, Outbox))


def test_rows_references_and_events_are_those_the_web_form_writes(app):
    ctx = app.extensions["uwagi"]
    consultation = open_consultation(app, opens_at=datetime(2024, 12, 1, tzinfo=WARSAW), topics=TOPICS)
    web = handlers.submit_comments(ctx, domain.SubmitComments(
        consultation_id=consultation.id, submitter=domain.Submitter("Ewa", "ewa@example.org", False),
        comments=(domain.CommentDraft("§ 1", "Dodać słowniczek."),)))
    content, comments = mixed_file(120)
    result = import_comments(ctx, consultation.id, "campaign.csv", content, actor="k@um.example")
    assert (result.submissions, result.comments) == (120, comments)

    with ctx.db.transaction() as session:
        rows = {s.id: s for s in session.scalars(select(Submission).where(Submission.id != web.submission_id))}
        comment_rows = session.scalars(select(Comment).where(Comment.submission_id != web.submission_id)).all()
        outbox = session.scalars(select(Outbox).where(Outbox.event_type == "submission.received")).all()
    by_submission = {o.envelope["data"]["submission_id"]: o for o in outbox}
    web_event = by_submission.pop(web.submission_id)
    assert len(rows) == 120 and set(by_submission) == set(rows) and len(outbox) == 121  # one event each

    # One block of consecutive references per year of the stamps, the first and last of each reported.
    years: dict[str, list[int]] = {}
    for row in rows.values():
        years.setdefault(row.reference.split("/")[1], []).append(int(row.reference.split("/")[2]))
    assert sorted(years) == ["2024", "2025"]
    assert all(sorted(n) == list(range(min(n), max(n) + 1)) for n in years.values())
    assert result.references == [domain.format_reference(int(y), n) for y in sorted(years)
                                 for n in (min(years[y]), max(years[y]))]

    comments_of: dict[str, list[Comment]] = {}
    for comment in comment_rows:
        comments_of.setdefault(comment.submission_id, []).append(comment)
        assert (comment.status, comment.decision_justification, comment.decision_revision) == ("received", "", 0)
    for submission_id, row in rows.items():
        event = by_submission[submission_id]
        envelope = parse_envelope(event.envelope)  # the contract, as every consumer reads it
        assert (event.event_id, envelope.type, envelope.producer, envelope.correlation_id) == (
            envelope.id, "submission.received", "intake", row.reference)
        data = event.envelope["data"]
        # The web form's fields, no more, no fewer, and the provenance a letter entered by hand also carries.
        assert set(data) == set(web_event.envelope["data"]) | {"provenance"}
        assert data["provenance"]["entered_by"] == "k@um.example" == row.entered_by
        assert datetime.fromisoformat(data["provenance"]["entered_at"]) == row.entered_at
        assert (data["reference"], data["channel"], data["language"], data["late"]) == (
            row.reference, row.channel, row.language, row.late)
        assert (data["consultation_id"], data["consultation_title"]) == (consultation.id, consultation.title)
        assert datetime.fromisoformat(data["received_at"]) == row.received_at
        assert data["submitter"] == {"name": row.submitter_name, "organization": row.organization,
                                     "email": row.email, "publish_consent": row.publish_consent, "kind": row.kind}
        assert row.kind == domain.submitter_kind(row.organization)
        query = parse_qs(urlsplit(data["status_url"]).query)
        assert query["reference"] == [row.reference]
        assert domain.token_matches(query["token"][0], row.status_token_hash)  # the receipt's link opens the status
        stored = sorted(comments_of[submission_id], key=lambda c: c.number)
        assert [c.number for c in stored] == list(range(1, len(stored) + 1))
        assert data["comments"] == [{"comment_id": c.id, "number": c.number, "section": c.section,
                                     "current_text": c.current_text, "proposal": c.proposal,
                                     "justification": c.justification, "topic": c.topic} for c in stored]
    awkward = [row for row in comment_rows if row.current_text]
    assert awkward and all(row.current_text == AWKWARD for row in awkward)
    assert any(row.proposal.endswith(AWKWARD) for row in comment_rows)
    assert {row.topic for row in comment_rows} == {None, *TOPICS}
    received = {row.received_at for row in rows.values()}
    assert received == {datetime(2024, 12, 30, tzinfo=WARSAW), datetime(2025, 1, 2, tzinfo=WARSAW)}


def test_one_bad_row_among_thousands_leaves_nothing_and_is_named(app):
    ctx = app.extensions["uwagi"]
    consultation = open_consultation(app, opens_at=datetime(2024, 12, 1, tzinfo=WARSAW), topics=TOPICS)
    before = counts(ctx)
    content, _ = mixed_file(1500)
    bad = content.decode().replace("osoba1499@example.org", "osoba1499(at)example.org").encode()
    with pytest.raises(ImportInvalid) as refused:
        import_comments(ctx, consultation.id, "campaign.csv", bad, actor="k@um.example")
    assert {(e.column, e.code) for e in refused.value.errors} == {("email", "email")}
    assert len(refused.value.errors) == 1499 % 4 + 1  # every row of that submission, by its line
    assert counts(ctx) == before
    result = import_comments(ctx, consultation.id, "campaign.csv", content, actor="k@um.example")
    assert counts(ctx)[0] == before[0] + result.submissions == before[0] + 1500


def test_a_write_the_database_refuses_halfway_rolls_back_every_table(app):
    ctx = app.extensions["uwagi"]
    consultation = open_consultation(app, opens_at=datetime(2024, 12, 1, tzinfo=WARSAW), topics=TOPICS)
    with ctx.db.transaction() as session:  # a row holding the reference the import's second submission gets
        session.execute(insert(Submission.__table__).values(
            id="squatter", reference="UW/2024/000002", consultation_id=consultation.id, channel="letter",
            submitter_name="X", publish_consent=False, kind="person", language="pl",
            received_at=datetime(2024, 12, 2, tzinfo=WARSAW), late=False, status_token_hash="0" * 64))
    before = counts(ctx)
    content = campaign([["", f"Osoba {n}", "", "", "nie", "§ 1", "", "p", "", "", "letter", "2024-12-30"]
                        for n in range(3)])
    with pytest.raises((IntegrityError, psycopg.errors.UniqueViolation)):
        import_comments(ctx, consultation.id, "campaign.csv", content, actor="k@um.example")
    assert counts(ctx) == before
