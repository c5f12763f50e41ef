"""The outbox relay, the inbox consumer and dead-lettering against the real RabbitMQ on 127.0.0.1:5672."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from kombu import Connection, Queue, binding
from sqlalchemy import func, select

from services.common.bus import (
    EVENTS_EXCHANGE,
    BrokerPublisher,
    BrokerUnavailable,
    EventConsumer,
    InboxDispatcher,
    OutboxRelay,
    RetryPolicy,
    TransientError,
    read_dead_letters,
)
from services.common.db import upgrade
from services.common.events import new_envelope
from services.common.settings import load_settings
from services.review import handlers as review_handlers
from services.review.app import build as build_review
from services.review.models import Inbox, Outbox, ParkedEvent, ReviewComment
from tests.support.infra import AMQP_HOST, AMQP_PORT, TcpProxy, wait_until

pytestmark = [pytest.mark.rabbitmq]


def submission_event(reference: str | None = None, comments: int = 1) -> dict:
    reference = reference or f"UW/2026/{uuid.uuid4().int % 1_000_000:06d}"
    return new_envelope("submission.received", {
        "submission_id": str(uuid.uuid4()), "consultation_id": "c-1", "consultation_title": "Program",
        "reference": reference, "channel": "web", "received_at": datetime.now(timezone.utc), "late": False,
        "status_url": "http://127.0.0.1/status", "language": "pl",
        "submitter": {"name": "Anna Nowak", "organization": None, "email": "anna@example.org",
                      "publish_consent": True, "kind": "person"},
        "comments": [{"comment_id": str(uuid.uuid4()), "number": n, "section": "§ 3", "current_text": "",
                      "proposal": f"Zmiana {n}", "justification": "Bo tak"} for n in range(1, comments + 1)],
    }, producer="intake")


@pytest.fixture
def review_ctx(tmp_path: Path, rabbit):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_BROKER_URL": rabbit.url(),
                              "UWAGI_SECRET_KEY": "integration-secret-key-0123456789"})
    upgrade("review", settings.database_url("review"))
    ctx = build_review(settings)
    yield ctx
    ctx.close()


def tap_queue(url: str, keys: list[str]) -> Queue:
    """A test-only queue bound to the events exchange, to see what the relay published."""
    queue = Queue(f"tap-{uuid.uuid4().hex[:8]}", bindings=[binding(EVENTS_EXCHANGE, routing_key=k) for k in keys],
                  auto_delete=False, durable=False)
    with Connection(url) as conn:
        EVENTS_EXCHANGE(conn.default_channel).declare()
        queue.bind(conn.default_channel).declare()
    return queue


def drain(url: str, queue: Queue) -> list[dict]:
    bodies = []
    with Connection(url) as conn:
        bound = queue.bind(conn.default_channel)
        while (message := bound.get(no_ack=True, accept=None)) is not None:
            bodies.append(json.loads(message.body))
    return bodies


def test_relay_publishes_committed_events_in_one_confirmed_batch_and_marks_them_sent(review_ctx, rabbit):
    tap = tap_queue(rabbit.url(), ["comment.decided", "consultation.review_completed"])
    with review_ctx.db.transaction() as session:
        for n in range(25):
            review_ctx.emit(session, "consultation.review_completed", {
                "consultation_id": f"c-{n}", "completed_at": datetime.now(timezone.utc), "completed_by": "k@x.pl"})

    assert review_ctx.relay.publish_pending() == 25

    published = drain(rabbit.url(), tap)
    assert sorted(e["data"]["consultation_id"] for e in published) == sorted(f"c-{n}" for n in range(25))
    assert review_ctx.relay.pending_count() == 0
    assert review_ctx.relay.publish_pending() == 0  # nothing is published twice


def test_rolled_back_transaction_publishes_nothing(review_ctx, rabbit):
    tap = tap_queue(rabbit.url(), ["consultation.review_completed"])
    with pytest.raises(RuntimeError):
        with review_ctx.db.transaction() as session:
            review_ctx.emit(session, "consultation.review_completed", {
                "consultation_id": "c-x", "completed_at": datetime.now(timezone.utc), "completed_by": "k@x.pl"})
            raise RuntimeError("the state change failed")
    review_ctx.relay.publish_pending()
    assert drain(rabbit.url(), tap) == []


def test_outbox_keeps_events_while_the_broker_is_unreachable_and_delivers_them_once_it_is_back(review_ctx, rabbit):
    proxy = TcpProxy(AMQP_HOST, AMQP_PORT)
    try:
        tap = tap_queue(rabbit.url(), ["consultation.review_completed"])
        relay = OutboxRelay(review_ctx.db, Outbox, BrokerPublisher(rabbit.url(port=proxy.port), connect_timeout=1))
        proxy.cut()
        with review_ctx.db.transaction() as session:
            for n in range(10):
                review_ctx.emit(session, "consultation.review_completed", {
                    "consultation_id": f"outage-{n}", "completed_at": datetime.now(timezone.utc), "completed_by": "k"})
        with pytest.raises(BrokerUnavailable):
            relay.publish_pending()
        with review_ctx.db.transaction() as session:
            rows = list(session.scalars(select(Outbox)))
        assert all(r.published_at is None and r.attempts == 1 and r.last_error for r in rows)

        proxy.restore()
        assert relay.publish_pending() == 10
        delivered = [e["data"]["consultation_id"] for e in drain(rabbit.url(), tap)]
        assert sorted(delivered) == sorted(f"outage-{n}" for n in range(10))
        relay.publisher.close()
    finally:
        proxy.close()


def run_consumer(ctx, dispatcher: InboxDispatcher, **kwargs) -> EventConsumer:
    consumer = EventConsumer(ctx.settings.broker_url, "review", dispatcher, **kwargs).start()
    assert consumer.wait_ready(15)
    return consumer


def test_redelivered_event_is_applied_once(review_ctx, rabbit):
    dispatcher = InboxDispatcher(review_ctx.db, Inbox, review_handlers.EVENT_HANDLERS)
    consumer = run_consumer(review_ctx, dispatcher)
    try:
        event = submission_event(comments=2)
        publisher = BrokerPublisher(rabbit.url())
        publisher.publish_batch([event])
        publisher.publish_batch([event])  # the broker redelivers, or a producer retried
        wait_until(lambda: consumer.processed >= 2, what="two deliveries")
        with review_ctx.db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(ReviewComment)) == 2
            # one inbox row per (event, handler): the redelivery added none
            handlers = len(review_handlers.EVENT_HANDLERS["submission.received"])
            assert session.scalar(select(func.count()).select_from(Inbox)) == handlers
        publisher.close()
    finally:
        consumer.stop()


def test_malformed_and_unknown_messages_go_to_the_dead_letter_queue_with_a_reason(review_ctx, rabbit):
    dispatcher = InboxDispatcher(review_ctx.db, Inbox, review_handlers.EVENT_HANDLERS)
    consumer = run_consumer(review_ctx, dispatcher)
    try:
        with Connection(rabbit.url()) as conn:
            producer = conn.Producer(exchange=EVENTS_EXCHANGE)
            producer.publish(b"{not json", routing_key="submission.received", content_type="application/json")
        unknown = submission_event()
        unknown["version"] = 99
        broken = submission_event()
        del broken["data"]["reference"]
        publisher = BrokerPublisher(rabbit.url())
        publisher.publish_batch([unknown, broken])
        publisher.close()
        wait_until(lambda: consumer.dead_lettered >= 3, what="three dead letters")
        letters = read_dead_letters(rabbit.url(), "review", ack=True)
        reasons = sorted(letter.reason for letter in letters)
        assert len(letters) == 3
        assert any(r.startswith("invalid message: Expecting") for r in reasons)
        assert any("no contract for submission.received v99" in r for r in reasons)
        assert any("reference" in r for r in reasons)
        with review_ctx.db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(ReviewComment)) == 0
    finally:
        consumer.stop()


def test_transient_errors_are_retried_then_parked_and_permanent_ones_go_to_the_dead_letter_queue(review_ctx, rabbit):
    calls: list[str] = []
    peer_up = False

    def flaky(event, session):
        calls.append("flaky")
        if not peer_up:
            raise TransientError("the peer is down")
        session.add(ReviewComment(**comment_row(event)))

    def broken(event, session):
        calls.append("broken")
        raise ValueError("this will never work")

    dispatcher = InboxDispatcher(review_ctx.db, Inbox, {"submission.received": [flaky],
                                                         "consultation.review_completed": [broken]},
                                 parked_model=ParkedEvent, retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05),
                                 first_parked_retry=timedelta(0))
    consumer = run_consumer(review_ctx, dispatcher)
    try:
        publisher = BrokerPublisher(rabbit.url())
        publisher.publish_batch([submission_event()])
        publisher.publish_batch([new_envelope("consultation.review_completed", {
            "consultation_id": "c", "completed_at": datetime.now(timezone.utc), "completed_by": "k"}, producer="review")])
        publisher.close()
        wait_until(lambda: consumer.processed >= 1 and consumer.dead_lettered >= 1, what="one parked, one dead letter")
        assert calls.count("flaky") == 3 and calls.count("broken") == 1
        reasons = [letter.reason for letter in read_dead_letters(rabbit.url(), "review", ack=True)]
        assert len(reasons) == 1 and "permanent error: ValueError: this will never work" in reasons[0]
        with review_ctx.db.transaction() as session:
            [parked] = session.scalars(select(ParkedEvent)).all()
            assert "the peer is down" in parked.reason

        peer_up = True
        assert dispatcher.retry_parked(dead_letter=consumer.dead_letter_envelope) == 1
        with review_ctx.db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(ParkedEvent)) == 0
            assert session.scalar(select(func.count()).select_from(ReviewComment)) == 1
            assert session.scalar(select(func.count()).select_from(Inbox)) == 1
    finally:
        consumer.stop()


def comment_row(event) -> dict:
    item = event.data["comments"][0]
    return dict(id=item["comment_id"], consultation_id=event.data["consultation_id"],
                submission_id=event.data["submission_id"], reference=event.data["reference"], number=1,
                channel="web", received_at=event.data["received_at"], late=False, submitter_kind="person",
                submitter_label="Anna Nowak", section=item["section"], proposal=item["proposal"])
