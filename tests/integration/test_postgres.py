"""Migrations and repositories of every service against the real PostgreSQL on 127.0.0.1:5432."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.exc import IntegrityError

from services.common.auth import StaffIdentity
from services.common.bus import BrokerPublisher, OutboxRelay
from services.common.db import alembic_config, bulk_insert, upgrade
from services.common.settings import SERVICES, load_settings
from services.intake import domain as intake_domain
from services.intake import handlers as intake_handlers
from services.intake.app import build as build_intake
from services.intake.models import Inbox as IntakeInbox
from services.intake.models import Outbox as IntakeOutbox
from services.review import decisions as review_decisions
from services.review import handlers as review_handlers
from services.review.app import build as build_review
from services.review.domain import Decide
from services.review.models import Outbox as ReviewOutbox
from tests.integration.test_bus_rabbitmq import drain, submission_event, tap_queue

pytestmark = [pytest.mark.postgres]


def settings_for(tmp_path: Path, postgres, **env: str):
    urls = {f"{svc.upper()}_DATABASE_URL": postgres.create_database(f"uwagi_{svc}") for svc in SERVICES}
    return load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_SECRET_KEY": "postgres-test-secret-0123456789",
                          "UWAGI_BROKER_URL": env.pop("broker", "amqp://guest:guest@127.0.0.1:5672//"), **urls, **env})


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_upgrade_downgrade_and_upgrade_again(postgres, service):
    url = postgres.create_database(f"uwagi_mig_{service}")
    upgrade(service, url)
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    assert {"outbox", "inbox", "alembic_version"} <= tables
    command.downgrade(alembic_config(service, url), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(service, url)
    assert set(inspect(engine).get_table_names()) == tables
    engine.dispose()


@pytest.fixture
def intake_ctx(tmp_path, postgres):
    settings = settings_for(tmp_path, postgres)
    upgrade("intake", settings.database_url("intake"))
    ctx = build_intake(settings)
    yield ctx
    ctx.close()


def open_consultation(ctx, **overrides):
    now = datetime.now(timezone.utc)
    cmd = intake_domain.OpenConsultation(title="Program współpracy 2025", opens_at=now - timedelta(days=1),
                                         closes_at=now + timedelta(days=1), **overrides)
    return intake_handlers.open_consultation(ctx, cmd, actor="k@um.example")


def a_submission(consultation_id: str, n: int = 0) -> intake_domain.SubmitComments:
    return intake_domain.SubmitComments(
        consultation_id=consultation_id,
        submitter=intake_domain.Submitter(name=f"Osoba {n}", email=f"o{n}@example.org", publish_consent=False),
        comments=(intake_domain.CommentDraft(section="§ 2", proposal="Dopisać NGO"),),
    )


def test_concurrent_submissions_get_unique_consecutive_reference_numbers(intake_ctx):
    consultation = open_consultation(intake_ctx)
    with ThreadPoolExecutor(max_workers=8) as pool:
        receipts = list(pool.map(lambda n: intake_handlers.submit_comments(intake_ctx, a_submission(consultation.id, n)),
                                 range(40)))
    numbers = sorted(int(r.reference.rsplit("/", 1)[1]) for r in receipts)
    assert numbers == list(range(1, 41))
    with intake_ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(IntakeOutbox)
                              .where(IntakeOutbox.event_type == "submission.received")) == 40


def test_rows_copied_in_bulk_fail_as_sqlalchemys_own_inserts_do_and_leave_nothing(intake_ctx):
    """`bulk_insert` (COPY, on the driver's connection, for a bulk import's rows) raised psycopg's own errors,
    which the bus and the web error mapping do not know: a key stored twice must raise SQLAlchemy's
    IntegrityError, as an INSERT does (and a lost connection its OperationalError, which is retried), and the
    transaction must roll back whole. The inbox table here is just a table with a primary key."""
    now = datetime.now(timezone.utc)
    row = ("0f6d3c7e-0000-4000-8000-000000000001", "store", "submission.received", now)
    columns = ("event_id", "handler", "event_type", "processed_at")
    with intake_ctx.db.transaction() as session:
        bulk_insert(session, IntakeInbox.__table__, columns, [row])
    with pytest.raises(IntegrityError), intake_ctx.db.transaction() as session:
        bulk_insert(session, IntakeInbox.__table__, columns, [row[:1] + ("other",) + row[2:], row])
    with intake_ctx.db.transaction() as session:
        stored = session.execute(select(IntakeInbox.handler, IntakeInbox.processed_at)).all()
    assert stored == [("store", now)]


def test_late_submission_is_flagged_or_refused_by_policy(intake_ctx):
    from services.common.web import Refused

    past = datetime.now(timezone.utc) - timedelta(days=10)
    flagging = intake_handlers.open_consultation(intake_ctx, intake_domain.OpenConsultation(
        title="Zamknięta, flaguje", opens_at=past, closes_at=past + timedelta(days=1)), actor="k")
    refusing = intake_handlers.open_consultation(intake_ctx, intake_domain.OpenConsultation(
        title="Zamknięta, odrzuca", opens_at=past, closes_at=past + timedelta(days=1),
        late_policy=intake_domain.LatePolicy.REFUSE), actor="k")

    assert intake_handlers.submit_comments(intake_ctx, a_submission(flagging.id)).late is True
    with pytest.raises(Refused):
        intake_handlers.submit_comments(intake_ctx, a_submission(refusing.id))


@pytest.mark.rabbitmq
def test_two_relays_sweeping_one_outbox_publish_each_event_once(tmp_path, postgres, rabbit):
    settings = settings_for(tmp_path, postgres, broker=rabbit.url())
    upgrade("intake", settings.database_url("intake"))
    ctx = build_intake(settings)
    tap = tap_queue(rabbit.url(), ["submission.received"])
    consultation = open_consultation(ctx)
    for n in range(60):
        intake_handlers.submit_comments(ctx, a_submission(consultation.id, n))
    relays = [OutboxRelay(ctx.db, IntakeOutbox, BrokerPublisher(rabbit.url()), batch_size=7) for _ in range(3)]
    start = threading.Barrier(3)

    def sweep(relay):
        start.wait()
        return relay.publish_pending()

    with ThreadPoolExecutor(max_workers=3) as pool:
        counts = list(pool.map(sweep, relays))
    assert sum(counts) == 61  # 60 submissions and the consultation.published
    references = [e["data"]["reference"] for e in drain(rabbit.url(), tap)]
    assert len(references) == len(set(references)) == 60
    for relay in relays:
        relay.publisher.close()
    ctx.close()


def test_review_keeps_every_decision_revision_and_completes_only_when_all_are_decided(tmp_path, postgres):
    from services.common.events import parse_envelope
    from services.common.web import Conflict

    settings = settings_for(tmp_path, postgres)
    upgrade("review", settings.database_url("review"))
    ctx = build_review(settings)
    event = parse_envelope(submission_event(comments=2))
    with ctx.db.transaction() as session:
        review_handlers.on_consultation_published(parse_envelope({**submission_event(), "type": "consultation.published",
            "data": {"consultation_id": "c-1", "title": "T", "opens_at": event.data["received_at"].isoformat(),
                     "closes_at": event.data["received_at"].isoformat()}}), session)
        review_handlers.on_submission_received(event, session)
    staff = StaffIdentity("u", "recenzent@um.example", "coordinator")
    first, second = [c["comment_id"] for c in event.data["comments"]]

    review_decisions.decide(ctx, Decide(first, "rejected", "Poza zakresem programu"), staff)
    with pytest.raises(Conflict):
        review_handlers.complete_review(ctx, "c-1", staff)
    again = review_decisions.decide(ctx, Decide(first, "accepted"), staff)
    review_decisions.decide(ctx, Decide(second, "partially_accepted", "W części", "Nowe brzmienie"), staff)
    result = review_handlers.complete_review(ctx, "c-1", staff)

    assert again.revision == 2
    assert result["counts"] == {"accepted": 1, "partially_accepted": 1}
    with ctx.db.transaction() as session:
        types = list(session.scalars(select(ReviewOutbox.event_type).order_by(ReviewOutbox.id)))
    assert types == ["comment.decided"] * 3 + ["consultation.review_completed"]
    ctx.close()


def test_review_audit_log_is_append_only_in_postgresql_itself(tmp_path, postgres):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    from services.review import audit

    settings = settings_for(tmp_path, postgres)
    upgrade("review", settings.database_url("review"))
    ctx = build_review(settings)
    with ctx.transaction() as session:
        audit.record(session, "cli", "user.created", "u-1", after={"role": "admin"})
    for sql in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(DatabaseError, match="append-only"):
            with ctx.db.engine.begin() as connection:
                connection.execute(text(sql))
    with ctx.db.engine.connect() as connection:
        assert connection.execute(text("SELECT actor, after FROM audit_log")).all() == [("cli", {"role": "admin"})]
    ctx.close()


def test_review_proposals_bulk_approval_progress_and_audit_search_on_postgresql(tmp_path, postgres):
    from services.common.events import parse_envelope
    from services.review import audit

    settings = settings_for(tmp_path, postgres)
    upgrade("review", settings.database_url("review"))
    ctx = build_review(settings)
    event = parse_envelope(submission_event(comments=3))
    with ctx.db.transaction() as session:
        review_handlers.on_consultation_published(parse_envelope({**submission_event(), "type": "consultation.published",
            "data": {"consultation_id": "c-1", "title": "T", "opens_at": event.data["received_at"].isoformat(),
                     "closes_at": event.data["received_at"].isoformat(), "decisions_need_approval": True}}), session)
        review_handlers.on_submission_received(event, session)
    reviewer = StaffIdentity("r", "recenzent@um.example", "reviewer")
    coordinator = StaffIdentity("k", "koordynator@um.example", "coordinator")
    ids = [c["comment_id"] for c in event.data["comments"]]

    review_decisions.decide_many(ctx, ids, "rejected", "Poza zakresem programu", None, reviewer)
    outcome = review_decisions.approve_many(ctx, ids[:2], coordinator)
    (progress,) = review_decisions.progress(ctx, "c-1")

    assert outcome.done == ids[:2]
    assert (progress.overall.approved, progress.overall.proposed) == (2, 1)
    with ctx.db.transaction() as session:
        types = list(session.scalars(select(ReviewOutbox.event_type)))
        entries, total = audit.search(session, audit.AuditFilter(action="comment."), limit=10, offset=0)
    assert types == ["comment.decided"] * 2
    assert total == 5 and {e.action for e in entries} == {"comment.decided", "comment.decision_approved"}
    ctx.close()
