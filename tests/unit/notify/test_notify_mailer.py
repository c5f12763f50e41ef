"""The mailer loop on SQLite: woken by a staging commit, batch claims, `sent` committed at the handover, claims
of a dead mailer released, an unreachable server pausing the batch instead of spending its attempts."""

from __future__ import annotations

import sqlite3
import time

from notify_factories import FakeSender, received_event
from sqlalchemy import select

from services.notify import domain
from services.notify.app import RENDERER
from services.notify.handlers import (
    Delivery,
    claim_due,
    deliver_claimed,
    install_wake_after_commit,
    release_claims,
    release_dead_claims,
)
from services.notify.mailer import Mailer, alive_keys, claim_holder
from services.notify.models import Notification, Outbox
from services.notify.senders import MailServerUnavailable


def rows(ctx) -> list[Notification]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(Notification).order_by(Notification.created_at, Notification.id)))


def stage(dispatcher, count: int) -> None:
    for _ in range(count):
        dispatcher.dispatch(received_event())


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_staging_commit_wakes_the_mailer_which_sends_each_notification_once(ctx, dispatcher, sender):
    """GIVEN a mailer that would poll only every minute WHEN three submissions are staged THEN their commits wake it
    and three receipts go out, each marked sent and announced."""
    mailer = Mailer(ctx, sender=sender, renderer=ctx.extras[RENDERER], poll_interval=60.0)
    install_wake_after_commit(ctx.db.sessions, mailer.kick)
    mailer.start()
    try:
        time.sleep(0.2)  # asleep now, after its first empty look
        stage(dispatcher, 3)
        wait_for(lambda: len(sender.sent) == 3)
    finally:
        mailer.stop()
    assert [n.status for n in rows(ctx)] == ["sent"] * 3
    assert sorted(m["Message-ID"] for m in sender.sent) == sorted(n.message_id for n in rows(ctx))
    assert mailer.counts[Delivery.SENT] == 3
    with ctx.db.transaction() as session:
        assert len(session.scalars(select(Outbox).where(Outbox.event_type == "notification.sent")).all()) == 3


class WatchingSender(FakeSender):
    """Looks at the row from another connection just before and just after the handover."""

    def __init__(self, ctx) -> None:
        super().__init__()
        self.ctx, self.seen = ctx, []

    def send(self, message, *, on_handover=None) -> None:
        def status() -> str:
            # A plain reader: the mailer's transaction holds SQLite's write lock, which BEGIN IMMEDIATE would wait for.
            with sqlite3.connect(self.ctx.db.url.split("///", 1)[1]) as reader:
                return reader.execute("SELECT status FROM notifications").fetchone()[0]

        self.seen.append(status())
        super().send(message, on_handover=on_handover)
        self.seen.append(status())


def test_sent_is_committed_by_the_handover_not_before(ctx, dispatcher):
    stage(dispatcher, 1)
    sender = WatchingSender(ctx)
    with claim_holder(ctx.db) as (conn, key):
        [row] = claim_due(ctx, conn, key=key, limit=10)
        assert deliver_claimed(ctx, conn, row, key=key, sender=sender, renderer=ctx.extras[RENDERER]) is Delivery.SENT
    assert sender.seen == ["sending", "sent"]


def test_a_mailer_that_stops_gives_back_what_it_has_not_started_without_spending_attempts(ctx, dispatcher):
    stage(dispatcher, 3)
    with claim_holder(ctx.db) as (conn, key):
        assert len(claim_due(ctx, conn, key=key, limit=10)) == 3
        assert {n.status for n in rows(ctx)} == {"sending"}
        assert release_claims(conn, key=key) == 3
    assert [(n.status, n.attempts, n.claim_key) for n in rows(ctx)] == [("pending", 0, None)] * 3


def test_the_claims_of_a_dead_mailer_are_released_and_the_one_it_was_sending_spends_an_attempt(ctx, dispatcher):
    stage(dispatcher, 3)
    with claim_holder(ctx.db) as (conn, key):
        claimed = claim_due(ctx, conn, key=key, limit=10)
        with claim_holder(ctx.db) as (other, _):
            assert release_dead_claims(ctx, other, alive=alive_keys(ctx.db)) == 0  # alive: left alone
    # The first holder is gone without settling anything, as a killed process would be.
    with claim_holder(ctx.db) as (other, _):
        assert release_dead_claims(ctx, other, alive=alive_keys(ctx.db)) == 3
    after = {n.id: n for n in rows(ctx)}
    assert {n.status for n in after.values()} == {"pending"}
    assert after[claimed[0].id].attempts == 1 and sum(n.attempts for n in after.values()) == 1


def test_a_message_that_kills_every_mailer_ends_failed_instead_of_killing_them_for_ever(ctx, dispatcher):
    stage(dispatcher, 1)
    for _ in range(domain.MAX_DELIVERY_ATTEMPTS):
        with claim_holder(ctx.db) as (conn, key):
            assert len(claim_due(ctx, conn, key=key, limit=10)) == 1
        with claim_holder(ctx.db) as (other, _):
            release_dead_claims(ctx, other, alive=alive_keys(ctx.db))
    [row] = rows(ctx)
    assert row.status == "failed" and "the worker died while sending it" in row.error
    with ctx.db.transaction() as session:
        assert [o.event_type for o in session.scalars(select(Outbox))] == ["notification.failed"]


def test_an_unreachable_server_defers_one_message_and_gives_the_rest_of_the_batch_back(ctx, dispatcher, sender):
    stage(dispatcher, 4)
    sender.fail_with = MailServerUnavailable("SMTP unavailable: ConnectionRefusedError")
    mailer = Mailer(ctx, sender=sender, renderer=ctx.extras[RENDERER], poll_interval=60.0, unavailable_pause=60.0)
    mailer.start()
    try:
        wait_for(lambda: mailer.counts[Delivery.UNREACHABLE] == 1 and {n.status for n in rows(ctx)} == {"pending"})
    finally:
        mailer.stop()
    assert sorted(n.attempts for n in rows(ctx)) == [0, 0, 0, 1]
    assert sum(mailer.counts.values()) == 1
