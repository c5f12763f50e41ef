"""Notify's mailer on PostgreSQL: batch claims with SKIP LOCKED, dead mailers found by their advisory lock, and
worker processes killed with SIGKILL while sending, counted at a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import pytest
from sqlalchemy import func, select, text

from services.common.db import upgrade
from services.common.settings import SmtpSettings, load_settings
from services.notify.app import RENDERER, build
from services.notify.handlers import claim_due, release_dead_claims
from services.notify.mailer import LOCK_NAMESPACE, Mailer, alive_keys, claim_holder
from services.notify.models import Notification, Outbox
from services.notify.senders import SmtpSender
from tests.support.infra import wait_until
from tests.support.notify_load import CountingSmtpServer, receipt_rows, run_with_kills, stage

pytestmark = pytest.mark.smtp


@pytest.fixture
def database(postgres) -> str:
    url = postgres.create_database("uwagi_notify_mailer")
    upgrade("notify", url)
    return url


@pytest.fixture
def smtp():
    with CountingSmtpServer() as server:
        yield server


def context(url: str, smtp: CountingSmtpServer, tmp_path):
    settings = load_settings(environ={"UWAGI_DATA_DIR": str(tmp_path), "NOTIFY_DATABASE_URL": url,
                                      "UWAGI_SECRET_KEY": "integration-secret-0123456789"})
    return build(replace(settings, smtp=SmtpSettings(host=smtp.host, port=smtp.port, user="", password="",
                                                     starttls=False)))


def statuses(ctx) -> dict[str, int]:
    with ctx.db.transaction() as session:
        return dict(session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all())


def test_two_mailers_drain_the_queue_sending_each_notification_once(database, smtp, tmp_path):
    """GIVEN 300 pending receipts and two mailers (each its own database and SMTP connection) claiming batches
    of 20 at once WHEN they drain the table THEN each receipt arrives once, and each is announced once."""
    contexts = [context(database, smtp, tmp_path / name) for name in ("a", "b")]
    rows = receipt_rows(300)
    stage(database, rows)
    mailers = [Mailer(ctx, sender=SmtpSender(ctx.settings.smtp), renderer=ctx.extras[RENDERER], batch_size=20).start()
               for ctx in contexts]
    try:
        wait_until(lambda: smtp.total >= 300, timeout=60, what="300 messages")
        wait_until(lambda: statuses(contexts[0]) == {"sent": 300}, timeout=10, what="every row sent")
    finally:
        for mailer, ctx in zip(mailers, contexts):
            mailer.stop()
            ctx.close()
    counts = smtp.snapshot()
    assert set(counts) == {row["message_id"].encode() for row in rows} and set(counts.values()) == {1}
    assert all(mailer.counts[outcome] == 0 for mailer in mailers for outcome in mailer.counts
               if outcome.value not in ("sent",))
    assert min(mailer.counts[outcome] for mailer in mailers for outcome in mailer.counts
               if outcome.value == "sent") > 0  # both took part
    with contexts[0].db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Outbox).where(Outbox.event_type == "notification.sent")) == 300


def test_the_claims_of_a_mailer_whose_connection_died_are_released_and_its_current_one_counts_an_attempt(
        database, smtp, tmp_path):
    """GIVEN a mailer that claimed three notifications WHEN it is alive THEN nobody takes them; WHEN its database
    connection dies (as with a killed process) THEN another mailer releases all three, and the first of them,
    the one it was sending, has spent an attempt."""
    ctx = context(database, smtp, tmp_path)
    rows = receipt_rows(3)
    stage(database, rows)
    try:
        with claim_holder(ctx.db) as (other, other_key):
            dying = ctx.db.engine.connect()
            with dying.begin():
                dying.execute(text("SELECT pg_advisory_lock(:ns, :key)"), {"ns": LOCK_NAMESPACE, "key": 424242})
            claimed = claim_due(ctx, dying, key=424242, limit=10)
            assert len(claimed) == 3 and 424242 in _alive_now(ctx, other)
            assert release_dead_claims(ctx, other, alive=alive_keys(ctx.db)) == 0
            dying.invalidate()  # the connection closes, as a killed process's does
            wait_until(lambda: 424242 not in _alive_now(ctx, other), timeout=10, what="the lock to go")
            assert release_dead_claims(ctx, other, alive=alive_keys(ctx.db)) == 3
        with ctx.db.transaction() as session:
            found = {n.id: n for n in session.scalars(select(Notification))}
        first = claimed[0].id
        assert {n.status for n in found.values()} == {"pending"} and all(n.claim_key is None for n in found.values())
        assert found[first].attempts == 1 and sum(n.attempts for n in found.values()) == 1
    finally:
        ctx.close()


def _alive_now(ctx, conn) -> set[int]:
    with conn.begin():
        return alive_keys(ctx.db)(conn)


def test_notify_workers_killed_while_sending_lose_nothing_and_repeat_only_what_a_kill_cut_at_its_handover(
        database, smtp, rabbit, tmp_path):
    """GIVEN 500 receipts and two notify worker processes (PostgreSQL, RabbitMQ, a real SMTP server)
    WHEN three of them are killed with SIGKILL while they send, each replaced by a new process
    THEN every receipt arrives, every row ends `sent`, and a receipt arrives twice only if a worker was killed
    handing it over: between writing the final dot of DATA and writing the COMMIT that marks it sent (SMTP has no
    two-phase commit; the copy has the same Message-ID). So at most one extra copy per kill, and only of a message
    the server read within HANDOVER_SLACK of a kill (P7 in small; bench/notify_bench.py runs it at 10,000 with
    20 kills). CI once saw that window hit (1 copy in 3 kills, stop 14's CI on a loaded machine), where another
    thread of the worker held the GIL when the sender's write returned."""
    env = {**os.environ, "UWAGI_BROKER_URL": rabbit.url(), "NOTIFY_DATABASE_URL": database,
           "UWAGI_SMTP_HOST": smtp.host, "UWAGI_SMTP_PORT": str(smtp.port),
           "UWAGI_SECRET_KEY": "integration-secret-0123456789", "UWAGI_LOG_LEVEL": "WARNING"}
    run = run_with_kills(database, env, tmp_path, receipt_rows(500), workers=2, kills=3, server=smtp,
                         timeout=90, settle=2.0)
    assert run.kills == 3, run
    assert (run.lost, run.not_sent_rows) == (0, 0), run
    assert run.extra_copies <= run.kills and run.copies_not_at_a_kill == 0, run


def test_on_postgresql_a_one_time_link_is_removed_from_the_row_in_the_statement_that_marks_it_sent(database, smtp,
                                                                                                  tmp_path):
    """The mark and the `notification.sent` event are one statement on PostgreSQL; a message whose context opens
    something (a staff password link) loses it there too."""
    from datetime import datetime, timezone

    from services.common.bus import InboxDispatcher
    from services.common.events import new_envelope, parse_envelope
    from services.notify.handlers import EVENT_HANDLERS, deliver_notification
    from services.notify.models import Inbox

    ctx = context(database, smtp, tmp_path)
    try:
        InboxDispatcher(ctx.db, Inbox, EVENT_HANDLERS).dispatch(parse_envelope(new_envelope("staff.password_link", {
            "link_id": str(uuid.uuid4()), "user_id": "u-1", "email": "anna@um.example", "name": "Anna", "purpose": "reset",
            "language": "pl",
            "url": "https://uwagi.example/review/password/secret-token-123",
            "expires_at": datetime(2026, 10, 14, 10, 0, tzinfo=timezone.utc)}, producer="review")))
        with ctx.db.transaction() as session:
            notification_id = session.scalars(select(Notification.id)).one()
        assert deliver_notification(ctx, notification_id, sender=SmtpSender(ctx.settings.smtp),
                                    renderer=ctx.extras[RENDERER]).value == "sent"
        with ctx.db.transaction() as session:
            row = session.get(Notification, notification_id)
            assert row.status == "sent" and row.context["url"] == "(removed after sending)" and row.subject
            [event] = session.scalars(select(Outbox)).all()
            assert event.event_type == "notification.sent" and event.envelope["data"]["notification_id"] == row.id
        assert smtp.total == 1
    finally:
        ctx.close()


def test_a_mailer_that_starts_and_claims_while_dead_claims_are_looked_for_keeps_its_claims(database, smtp, tmp_path):
    """GIVEN a mailer looking for dead claims (there is one) WHEN another mailer starts and claims rows right after
    the live keys were read THEN only the dead claim is released: the newcomer's rows are not taken for a dead
    mailer's (they would then be sent twice)."""
    ctx = context(database, smtp, tmp_path)
    stage(database, receipt_rows(4))
    holders = []
    try:
        with claim_holder(ctx.db) as (gone, gone_key):
            [dead] = claim_due(ctx, gone, key=gone_key, limit=1)

        def live_keys_then_a_new_mailer_claims(conn):
            live = alive_keys(ctx.db)(conn)
            holder = claim_holder(ctx.db)
            newcomer, key = holder.__enter__()
            holders.append((holder, key))
            assert len(claim_due(ctx, newcomer, key=key, limit=10)) == 3
            return live

        with claim_holder(ctx.db) as (conn, _):
            assert release_dead_claims(ctx, conn, alive=live_keys_then_a_new_mailer_claims) == 1
        [(holder, key)] = holders
        assert statuses(ctx) == {"sending": 3, "pending": 1}
        with ctx.db.transaction() as session:
            assert session.get(Notification, dead.id).status == "pending"
            assert set(session.scalars(select(Notification.claim_key).where(Notification.status == "sending"))) == {key}
        holder.__exit__(None, None, None)
    finally:
        ctx.close()
