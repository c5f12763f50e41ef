"""The submission's writes on psycopg's own connection (services.intake.submission_store), on the real server.

The PostgreSQL path pipelines its statements past SQLAlchemy, so what SQLAlchemy did for it must be proved here:
the same rows as the Core path writes on SQLite (types, JSON, dates), its errors raised as SQLAlchemy's own, the
transaction rolled back whole, and a connection lost on the way taken out of the pool.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from services.common.db import upgrade
from services.common.settings import load_settings
from services.common.web import NotFound
from services.intake import domain, handlers
from services.intake.app import build
from services.intake.models import Comment, Outbox, Submission

pytestmark = [pytest.mark.postgres]

RECEIVED = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


@pytest.fixture
def sqlite_ctx(tmp_path):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path / "lite"), "UWAGI_BROKER_URL": "memory://",
                              "UWAGI_SECRET_KEY": "sqlite-test-secret-0123456789"})
    upgrade("intake", settings.database_url("intake"))
    context = build(settings)
    yield context
    context.close()


def consultation_in(ctx, **overrides):
    return handlers.open_consultation(ctx, domain.OpenConsultation(
        title="Program współpracy 2027", opens_at=RECEIVED - timedelta(days=10),
        closes_at=RECEIVED + timedelta(days=10),
        **overrides), actor="k@um.example")


def a_letter(consultation_id: str) -> tuple[domain.SubmitComments, domain.Provenance]:
    """A letter typed in by staff: every optional column set, JSON, a date, text that needs no escaping help."""
    command = domain.SubmitComments(
        consultation_id=consultation_id, channel="letter", language="pl",
        submitter=domain.Submitter(name="Zofia O'Brien-Żółć", email=None, publish_consent=True,
                                   organization="Stowarzyszenie \"Razem\" % 100"),
        comments=(domain.CommentDraft(section="§ 5 ust. 2", current_text="Obecne brzmienie;\n-- nie DROP",
                                      proposal="Nowe %s", justification="Bo tak.", topic="finanse"),
                  domain.CommentDraft(section="§ 7", proposal="Skreślić ust. 3.")))
    provenance = domain.Provenance(
        entered_by="k@um.example", entered_at=RECEIVED + timedelta(hours=1), postmarked_on=date(2026, 11, 19),
        postal_address="ul. Wały gen. Sikorskiego 8\n87-100 Toruń",
        scan={"filename": "pismo.pdf", "media_type": "application/pdf", "size": 1234, "sha256": "ab" * 32,
              "key": "scans/x.pdf"})
    return command, provenance


def stored(ctx, reference: str) -> dict:
    """The submission's row, its comments' and its event's, without what differs by nature (ids, numbers, times
    of the write)."""
    with ctx.db.transaction() as session:
        submission = session.scalars(select(Submission).where(Submission.reference == reference)).one()
        comments = session.scalars(select(Comment).where(Comment.submission_id == submission.id)
                                   .order_by(Comment.number)).all()
        event = session.scalars(select(Outbox).where(Outbox.event_type == "submission.received")
                                .order_by(Outbox.id.desc())).first()
        row = {c.name: getattr(submission, c.name) for c in Submission.__table__.c if c.name not in ("id", "reference")}
        kept = [{c.name: getattr(comment, c.name) for c in Comment.__table__.c if c.name not in ("id", "submission_id")}
                for comment in comments]
        envelope = dict(event.envelope)
        assert (event.attempts, event.published_at, event.event_id) == (0, None, envelope["id"])
    data = dict(envelope["data"])
    assert data.pop("reference") == reference and data.pop("submission_id") == submission.id
    assert [c.pop("comment_id") for c in data["comments"]] == [c.id for c in comments]
    data.pop("status_url"), data.pop("consultation_id"), data.pop("consultation_title")
    assert envelope["correlation_id"] == reference
    return {"submission": row, "comments": kept, "event": data}


def test_the_pipelined_writes_store_what_the_core_statements_store(intake_pg, sqlite_ctx):
    results = {}
    for name, ctx in (("postgresql", intake_pg), ("sqlite", sqlite_ctx)):
        consultation = consultation_in(ctx)
        command, provenance = a_letter(consultation.id)
        with ctx.transaction() as session:
            receipt = handlers.record_submission(ctx, session, command, received_at=RECEIVED, provenance=provenance,
                                                 needs_review=True)
        assert receipt.reference.startswith("UW/2026/")
        results[name] = stored(ctx, receipt.reference)
        results[name]["submission"].pop("consultation_id")
        assert results[name]["submission"].pop("status_token_hash") == domain.hash_token(receipt.status_token)
    assert results["postgresql"] == results["sqlite"]
    row = results["postgresql"]["submission"]
    assert row["scan"]["sha256"] == "ab" * 32 and row["postmarked_on"] == date(2026, 11, 19)
    assert row["received_at"] == RECEIVED and row["organization"] == "Stowarzyszenie \"Razem\" % 100"
    assert [c["proposal"] for c in results["postgresql"]["comments"]] == ["Nowe %s", "Skreślić ust. 3."]
    assert results["postgresql"]["event"]["needs_review"] is True
    assert results["postgresql"]["event"]["provenance"]["postmarked_on"] == "2026-11-19"


def test_a_write_that_fails_raises_sqlalchemys_error_and_leaves_nothing(intake_pg):
    """The same submission id twice: the second transaction's comments and event must not survive its failed
    submission row (errors of a pipeline surface at its end, after the later statements were sent)."""
    consultation = consultation_in(intake_pg)
    command, _ = a_letter(consultation.id)
    with intake_pg.transaction() as session:
        first = handlers.record_submission(intake_pg, session, command, received_at=RECEIVED, submission_id="s-1")
    with pytest.raises(IntegrityError), intake_pg.transaction() as session:
        handlers.record_submission(intake_pg, session, command, received_at=RECEIVED, submission_id="s-1")
    with intake_pg.db.transaction() as session:
        assert session.scalars(select(Submission.reference)).all() == [first.reference]
        assert session.scalar(select(text("count(*)")).select_from(Comment)) == 2
        assert session.scalar(select(text("count(*)")).select_from(Outbox)
                              .where(Outbox.event_type == "submission.received")) == 1
    # The session and its connection are usable again at once.
    with intake_pg.transaction() as session:
        again = handlers.record_submission(intake_pg, session, command, received_at=RECEIVED)
    assert again.reference != first.reference


def test_a_connection_lost_under_the_write_is_an_operational_error_and_leaves_the_pool(intake_pg, postgres):
    """The web layer answers OperationalError with 503 and Retry-After. A connection psycopg lost must not go back to
    the pool as if alive: the next submission (well inside IDLE_PING_SECONDS, so not pinged) must succeed."""
    consultation = consultation_in(intake_pg)
    command, _ = a_letter(consultation.id)
    with pytest.raises(OperationalError), intake_pg.transaction() as session:
        victim = session.connection().execute(text("SELECT pg_backend_pid()")).scalar_one()
        with psycopg.connect(postgres.admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (victim,))
        handlers.record_submission(intake_pg, session, command, received_at=RECEIVED)
    receipt = handlers.submit_comments(intake_pg, command, now=RECEIVED)
    assert stored(intake_pg, receipt.reference)["submission"]["channel"] == "letter"


def test_a_refused_submission_writes_nothing_and_numbers_stay_unique(intake_pg):
    """The number comes with the rules, so a refusal uses one up: a gap, never a number given twice."""
    draft = handlers.create_consultation(intake_pg, domain.OpenConsultation(
        title="Szkic", opens_at=RECEIVED - timedelta(days=1), closes_at=RECEIVED + timedelta(days=1), draft=True),
        actor="k@um.example")
    consultation = consultation_in(intake_pg)
    command, _ = a_letter(consultation.id)
    first = handlers.submit_comments(intake_pg, command, now=RECEIVED)
    for missing in ("no-such-consultation", draft.id):
        with pytest.raises(NotFound):
            handlers.submit_comments(intake_pg, domain.SubmitComments(
                consultation_id=missing, submitter=command.submitter, comments=command.comments, channel="letter"),
                now=RECEIVED)
    second = handlers.submit_comments(intake_pg, command, now=RECEIVED)
    numbers = [int(r.reference.rsplit("/", 1)[1]) for r in (first, second)]
    assert numbers[1] > numbers[0]
    with intake_pg.db.transaction() as session:
        kept = session.scalars(select(Submission.reference)).all()
    assert sorted(kept) == sorted([first.reference, second.reference])


@pytest.mark.parametrize("received_at", [datetime(1, 1, 1, 12, tzinfo=timezone.utc),
                                         datetime(999, 12, 31, 12, tzinfo=timezone.utc)])
def test_a_date_no_reference_can_carry_is_refused_by_the_window_not_a_500(intake_pg, sqlite_ctx, received_at):
    """A letter stamped "0001-01-01" (a clerk's typo) reached the year's sequence before the consultation's window
    and raised ValueError on PostgreSQL (found by the page forms' one-bad-field test); SQLite refused it as early."""
    for ctx in (intake_pg, sqlite_ctx):
        command, provenance = a_letter(consultation_in(ctx).id)
        with pytest.raises(handlers.Conflict), ctx.transaction() as session:
            handlers.record_submission(ctx, session, command, received_at=received_at, provenance=provenance)
    with intake_pg.db.engine.connect() as conn:
        created = conn.execute(text("SELECT count(*) FROM pg_class WHERE relname LIKE 'intake_reference_%' "
                                    "AND relname NOT LIKE 'intake_reference_2%'")).scalar()
    assert created == 0  # and no sequence for such a year


def test_a_submission_in_a_year_whose_sequence_is_not_taken_with_the_rules_still_gets_a_number(intake_pg):
    from services.intake import references

    with intake_pg.transaction() as session:
        first = references.allocate(intake_pg.db, session, 2031)
        second = references.allocate(intake_pg.db, session, 2031)
    assert second == first + 1


def test_a_consultation_open_in_a_year_no_reference_can_carry_refuses_its_submissions(intake_pg, sqlite_ctx):
    received = datetime(500, 1, 15, tzinfo=timezone.utc)
    for ctx in (intake_pg, sqlite_ctx):
        consultation = handlers.open_consultation(ctx, domain.OpenConsultation(
            title="Program współpracy 500", opens_at=received - timedelta(days=10),
            closes_at=received + timedelta(days=10)), actor="k@um.example")
        command, provenance = a_letter(consultation.id)
        with pytest.raises(handlers.Invalid, match="year 500"), ctx.transaction() as session:
            handlers.record_submission(ctx, session, command, received_at=received, provenance=provenance)
