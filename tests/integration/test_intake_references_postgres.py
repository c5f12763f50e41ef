"""Reference numbers from a PostgreSQL sequence per year, and the relay's batch marking, on the real server."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, insert, select, text

from services.common.bus import BrokerPublisher, BrokerUnavailable, OutboxRelay, Publication
from services.common.db import Database, add_event
from services.common.events import new_envelope
from services.intake import domain, handlers, references
from services.intake.models import Outbox, ReferenceCounter
from tests.integration.test_postgres import a_submission

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def ctx(intake_pg):
    return intake_pg


def long_consultation(ctx):
    """Open from 2024 to 2030, so submissions of several years are on time."""
    return handlers.open_consultation(ctx, domain.OpenConsultation(
        title="Wieloletnia", opens_at=datetime(2024, 1, 1, tzinfo=timezone.utc),
        closes_at=datetime(2030, 12, 31, tzinfo=timezone.utc)), actor="k")


def at(year: int, month: int = 6) -> datetime:
    return datetime(year, month, 15, 12, 0, tzinfo=timezone.utc)


def number_of(reference: str) -> int:
    return int(reference.rsplit("/", 1)[1])


def test_concurrent_allocation_from_two_engines_is_unique_and_tolerates_gaps(ctx):
    """Two engines stand for two processes; every fifth transaction rolls back after taking its number."""
    consultation = long_consultation(ctx)
    other = Database(ctx.db.url)
    committed: list[str] = []
    lock = threading.Lock()

    class RolledBack(Exception):
        pass

    def submit(n: int) -> None:
        db = ctx.db if n % 2 else other
        try:
            with db.transaction() as session:
                receipt = handlers.record_submission(ctx, session, a_submission(consultation.id, n), received_at=at(2026))
                if n % 5 == 0:
                    raise RolledBack
        except RolledBack:
            return
        with lock:
            committed.append(receipt.reference)

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(submit, range(60)))
    finally:
        other.dispose()
    numbers = [number_of(r) for r in committed]
    assert len(committed) == 48 and len(set(numbers)) == 48
    assert all(r.startswith("UW/2026/") for r in committed)
    # Gaps only where a transaction rolled back: 60 numbers were taken, 48 kept.
    assert max(numbers) <= 60
    with ctx.db.transaction() as session:
        stored = set(session.execute(text("SELECT reference FROM submissions")).scalars())
    assert stored == set(committed)


def test_each_year_counts_from_one_on_its_own_sequence(ctx):
    consultation = long_consultation(ctx)

    def submit(year: int) -> str:
        return handlers.submit_comments(ctx, a_submission(consultation.id), now=at(year)).reference

    assert [submit(2025), submit(2026), submit(2025), submit(2026), submit(2027)] == [
        "UW/2025/000001", "UW/2026/000001", "UW/2025/000002", "UW/2026/000002", "UW/2027/000001"]
    with ctx.db.transaction() as session:
        sequences = set(session.execute(text(
            "SELECT relname FROM pg_class WHERE relkind = 'S' AND relname LIKE 'intake_reference_%'")).scalars())
    assert sequences == {"intake_reference_2025", "intake_reference_2026", "intake_reference_2027"}


def test_a_new_sequence_continues_after_the_numbers_of_the_counter_row(ctx):
    consultation = long_consultation(ctx)
    with ctx.db.transaction() as session:  # numbers handed out before sequences existed
        session.execute(insert(ReferenceCounter).values(year=2028, last=41))
    assert handlers.submit_comments(ctx, a_submission(consultation.id), now=at(2028)).reference == "UW/2028/000042"


def test_references_past_six_digits_are_formatted_as_the_domain_formats_them(ctx):
    """The number comes from the sequence, the text from domain.format_reference: a 7th digit is kept."""
    consultation = long_consultation(ctx)
    name = references.ensure_sequence(ctx.db, 2029)
    with ctx.db.transaction() as session:
        session.execute(text(f"SELECT setval('{name}', 999998)"))
    references_taken = [handlers.submit_comments(ctx, a_submission(consultation.id, n), now=at(2029)).reference
                        for n in range(2)]
    assert references_taken == [domain.format_reference(2029, 999999), domain.format_reference(2029, 1000000)]


class RecordingPublisher(BrokerPublisher):
    def __init__(self, fail: bool = False):
        super().__init__("memory://")
        self.fail = fail
        self.published: list[dict] = []

    def send(self, messages, **kwargs) -> Publication:
        if self.fail:
            raise BrokerUnavailable("broker down")
        self.published.extend(json.loads(m.body) for m in messages)
        return Publication(len(messages))


def stage(db: Database, count: int) -> list[str]:
    envelopes = [new_envelope("consultation.review_completed", {
        "consultation_id": f"c-{n}", "completed_at": datetime.now(timezone.utc), "completed_by": "k"},
        producer="intake") for n in range(count)]
    with db.transaction() as session:
        for envelope in envelopes:
            add_event(session, Outbox, envelope)
    return [e["id"] for e in envelopes]


def test_relay_marks_each_batch_with_one_update_and_records_failures(ctx):
    ids = stage(ctx.db, 23)
    statements: list[str] = []

    @event.listens_for(ctx.db.engine, "before_cursor_execute")
    def _seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split()[0].upper())

    failing = OutboxRelay(ctx.db, Outbox, RecordingPublisher(fail=True), batch_size=10)
    with pytest.raises(BrokerUnavailable):
        failing.publish_pending()
    with ctx.db.transaction() as session:
        rows = session.execute(select(Outbox.attempts, Outbox.last_error, Outbox.published_at)
                               .order_by(Outbox.id)).all()
    assert [r.attempts for r in rows] == [1] * 10 + [0] * 13
    assert rows[0].last_error == "broker down" and all(r.published_at is None for r in rows)

    statements.clear()
    publisher = RecordingPublisher()
    assert OutboxRelay(ctx.db, Outbox, publisher, batch_size=10).publish_pending() == 23
    assert [e["id"] for e in publisher.published] == ids
    assert statements.count("UPDATE") == 3  # one per batch of 10, 10 and 3
    with ctx.db.transaction() as session:
        rows = session.execute(select(Outbox.attempts, Outbox.published_at).order_by(Outbox.id)).all()
    assert [r.attempts for r in rows] == [2] * 10 + [1] * 13
    assert all(r.published_at is not None for r in rows)
    event.remove(ctx.db.engine, "before_cursor_execute", _seen)



def test_a_pooled_connection_killed_while_idle_is_replaced_without_an_error(postgres, monkeypatch):
    """No pool_pre_ping: a connection idle longer than IDLE_PING_SECONDS is tested first, and a dead one replaced."""
    import psycopg

    from services.common import db as db_module

    database = Database(postgres.create_database("uwagi_pool"))
    try:
        with database.engine.connect() as conn:
            victim = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with psycopg.connect(postgres.admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (victim,))
        monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)  # the pooled connection now counts as idle
        with database.engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != victim
    finally:
        database.dispose()
