"""What the bus promises under faults, proved on the real RabbitMQ and PostgreSQL on 127.0.0.1.

The handlers here (tests.support.bus_effects) append a row per call and have no guard of their own, so
every duplicate the inbox fails to absorb shows as a second row. Faults come from killing a consumer
process and from TcpProxy standing between a client and its server (cut, hung, a reply lost).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from kombu import Connection

from services.common.bus import EventConsumer, dead_queue, events_queue, read_dead_letters
from services.common.db import Database, upgrade
from services.common.events import new_envelope
from tests.support import bus_effects
from tests.support.crash_consumer import EXIT_CODE
from tests.support.infra import queue_depth as infra_queue_depth
from tests.support.infra import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = [h.__name__ for h in bus_effects.HANDLERS[bus_effects.EVENT_TYPE]]


@pytest.fixture
def review_db(postgres) -> Iterator[Database]:
    """review's schema (its inbox and parked events) on a fresh PostgreSQL database, plus `bus_effects`."""
    url = postgres.create_database("uwagi_busfaults")
    upgrade("review", url)
    db = Database(url)
    bus_effects.create_effects_table(db)
    yield db
    db.dispose()


def submission_event() -> dict:
    return new_envelope("submission.received", {
        "submission_id": str(uuid.uuid4()), "consultation_id": "c-1", "consultation_title": "Program",
        "reference": f"UW/2026/{uuid.uuid4().int % 1_000_000:06d}", "channel": "web",
        "received_at": datetime.now(timezone.utc), "late": False, "status_url": "http://127.0.0.1/status",
        "language": "pl", "submitter": {"name": "Anna Nowak", "organization": None, "email": "anna@example.org",
                                        "publish_consent": True, "kind": "person"},
        "comments": [{"comment_id": str(uuid.uuid4()), "number": 1, "section": "§ 3", "current_text": "",
                      "proposal": "Zmiana", "justification": "Bo tak"}],
    }, producer="intake")


def declare_review_queues(url: str) -> None:
    """The queues exist before anything is published, as they do once the service has run."""
    with Connection(url) as conn:
        events_queue("review", [bus_effects.EVENT_TYPE]).bind(conn.default_channel).declare()
        dead_queue("review").bind(conn.default_channel).declare()


def queue_depth(url: str) -> int:
    return infra_queue_depth(url, "review.events")


class WatchedConsumer(EventConsumer):
    """The real consumer, noting for each delivery whether the broker marked it redelivered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deliveries: list[bool] = []

    def on_message(self, message: Any) -> None:
        self.deliveries.append(bool(message.delivery_info.get("redelivered")))
        super().on_message(message)


def run_consumer(url: str, dispatcher, **kwargs: Any) -> WatchedConsumer:
    consumer = WatchedConsumer(url, "review", dispatcher, **kwargs).start()
    assert consumer.wait_ready(15)
    return consumer


def publish_raw(url: str, envelope: dict) -> None:
    from services.common.bus import BrokerPublisher

    publisher = BrokerPublisher(url)
    try:
        publisher.publish_batch([envelope])
    finally:
        publisher.close()


# --- 1. a crash between the commit and the ack ---------------------------------------------------------


@pytest.mark.parametrize("inbox", [True, False], ids=["inbox", "inbox-bypassed"])
def test_a_consumer_killed_after_commit_before_ack_applies_the_redelivery_once(review_db, rabbit, inbox):
    """The consumer process commits both handlers' effects and dies before its ack; the broker hands the
    message to the restarted consumer, which must consume it without applying it again.

    The `inbox-bypassed` variant runs the same steps with `InboxBypassed` (no inbox check, no inbox row)
    and must see every effect twice: so this test does fail when the inbox stops working, which a test on
    a handler with a guard of its own (notify's cause key, review's comment id) could not show.
    """
    declare_review_queues(rabbit.url())
    event = submission_event()
    publish_raw(rabbit.url(), event)

    crasher = subprocess.run([sys.executable, "-m", "tests.support.crash_consumer", rabbit.url(), review_db.url,
                              "inbox" if inbox else "bypassed"], cwd=ROOT, capture_output=True, timeout=60)
    assert crasher.returncode == EXIT_CODE, crasher.stderr.decode()[-2000:]
    once = Counter({(event["id"], name): 1 for name in ("receipt", "tally")})
    assert bus_effects.effects(review_db) == once  # committed before the crash
    assert queue_depth(rabbit.url()) == 1  # never acked: back in the queue

    restarted = run_consumer(rabbit.url(), bus_effects.dispatcher(review_db, inbox=inbox))
    try:
        wait_until(lambda: restarted.processed == 1, timeout=15, what="the redelivery to be consumed")
    finally:
        restarted.stop()
    assert restarted.deliveries == [True]  # the broker's redelivery, not a second publish
    assert queue_depth(rabbit.url()) == 0 and read_dead_letters(rabbit.url(), "review") == []
    if inbox:
        assert bus_effects.effects(review_db) == once
        assert bus_effects.inbox_rows(review_db) == Counter({(event["id"], name): 1 for name in HANDLERS})
    else:
        assert bus_effects.effects(review_db) == once + once  # the duplicate the inbox exists to prevent
        assert bus_effects.inbox_rows(review_db) == Counter()


# --- 2. broker outages beyond a clean cut ----------------------------------------------------------------


def stage_in_outbox(db: Database, count: int) -> list[dict]:
    """Committed events waiting for the relay, as a handler's transaction leaves them."""
    from services.review.models import Outbox

    envelopes = [submission_event() for _ in range(count)]
    with db.transaction() as session:
        session.add_all(Outbox(event_id=e["id"], event_type=e["type"], envelope=e) for e in envelopes)
    return envelopes


def outbox_rows(db: Database) -> list[Any]:
    from services.review.models import Outbox

    with db.transaction() as session:
        return list(session.query(Outbox).order_by(Outbox.id))


def consume_everything(url: str, db: Database, deliveries: int) -> WatchedConsumer:
    consumer = run_consumer(url, bus_effects.dispatcher(db))
    try:
        wait_until(lambda: consumer.processed >= deliveries, timeout=20, what=f"{deliveries} deliveries")
    finally:
        consumer.stop()
    assert consumer.processed == deliveries and consumer.dead_lettered == 0
    return consumer


def assert_applied_once(db: Database, envelopes: list[dict]) -> None:
    assert bus_effects.effects(db) == Counter({(e["id"], name): 1 for e in envelopes for name in ("receipt", "tally")})
    assert bus_effects.inbox_rows(db) == Counter({(e["id"], name): 1 for e in envelopes for name in HANDLERS})


@pytest.mark.parametrize("mode", ["confirms", "transactions"])
def test_a_hung_broker_connection_times_the_relay_out_and_the_events_wait_in_the_outbox(review_db, rabbit, mode):
    """The publisher runs without heartbeats; a link that stops forwarding without closing must not block
    the relay (and the outbox rows it holds FOR UPDATE) for ever. Each attempt gives up after io_timeout,
    the rows stay pending with the error, and once the link forwards again every event goes out.

    The publishes the stalled connection had sent may reach the broker when the link resumes, so the broker
    may hold events twice: the consumer's inbox applies each once.
    """
    import time

    from services.common.bus import BrokerPublisher, BrokerUnavailable, OutboxRelay
    from services.review.models import Outbox
    from tests.support.infra import AMQP_HOST, AMQP_PORT, TcpProxy

    declare_review_queues(rabbit.url())
    envelopes = stage_in_outbox(review_db, 10)
    proxy = TcpProxy(AMQP_HOST, AMQP_PORT)
    publisher = BrokerPublisher(rabbit.url(port=proxy.port), connect_timeout=1, io_timeout=1, mode=mode)
    relay = OutboxRelay(review_db, Outbox, publisher)
    try:
        publisher.ping()  # a working connection, which then stalls
        proxy.hang()
        for attempt in (1, 2):  # the stalled connection, then a new one whose handshake stalls
            started = time.monotonic()
            with pytest.raises(BrokerUnavailable):
                relay.publish_pending()
            assert time.monotonic() - started < 5, "the relay must give up on a hung link within its timeouts"
            rows = outbox_rows(review_db)
            assert all(r.published_at is None and r.attempts == attempt for r in rows)
            assert "Timeout" in rows[0].last_error or "timed out" in rows[0].last_error, rows[0].last_error
        resume_and_deliver(proxy, relay, review_db, rabbit.url(), envelopes)
    finally:
        publisher.close()
        proxy.close()


def resume_and_deliver(proxy: Any, relay: Any, db: Database, url: str, envelopes: list[dict]) -> None:
    """The stalled link forwards again: every pending event goes out. The publishes the stalled connection had
    sent waited in the buffers and reach the broker too, just as that connection closes (the publisher dropped
    it); RabbitMQ routes all of them, some or none (in transaction mode all or none). Everything present is
    consumed, and each event applied once: none lost, none applied twice."""
    proxy.resume()
    assert relay.publish_pending() == len(envelopes)
    assert all(r.published_at is not None for r in outbox_rows(db))
    relay.publisher.close()
    proxy.close()
    consume_everything(url, db, queue_depth(url))
    assert_applied_once(db, envelopes)


@pytest.mark.parametrize("mode", ["confirms", "transactions"], ids=["lost-ack", "lost-commit-ok"])
def test_a_lost_confirmation_publishes_the_batch_twice_and_the_inbox_applies_it_once(review_db, rabbit, mode):
    """The broker takes the relay's batch, but its confirmation never reaches the relay: the proxy drops the
    client right after forwarding the batch's last message (confirm mode: the broker's acks are lost) or its
    tx.commit (transaction mode: tx.commit-ok is lost), and throws the broker's answers away. The relay cannot
    tell this from a batch that never arrived: it keeps the rows pending and publishes them again. The broker
    then holds every event twice, and the consumer's inbox must apply each one once."""
    from services.common.bus import BrokerPublisher, BrokerUnavailable, OutboxRelay
    from services.review.models import Outbox
    from tests.support.infra import AMQP_HOST, AMQP_PORT, AMQP_TX_COMMIT, TcpProxy

    declare_review_queues(rabbit.url())
    envelopes = stage_in_outbox(review_db, 5)
    proxy = TcpProxy(AMQP_HOST, AMQP_PORT)
    publisher = BrokerPublisher(rabbit.url(port=proxy.port), connect_timeout=1, io_timeout=2, mode=mode)
    relay = OutboxRelay(review_db, Outbox, publisher)
    try:
        # tx.commit, or the last message's id (in its frames, the batch's last)
        proxy.lose_replies_after(AMQP_TX_COMMIT if mode == "transactions" else envelopes[-1]["id"].encode())
        with pytest.raises(BrokerUnavailable):
            relay.publish_pending()
        assert proxy.replies_lost.is_set()
        assert all(r.published_at is None and r.attempts == 1 for r in outbox_rows(review_db))
        wait_until(lambda: queue_depth(rabbit.url()) == 5, timeout=5, what="the broker to have taken the batch")

        assert relay.publish_pending() == 5
        assert all(r.published_at is not None and r.attempts == 2 for r in outbox_rows(review_db))
    finally:
        publisher.close()
        proxy.close()
    assert queue_depth(rabbit.url()) == 10
    consumer = consume_everything(rabbit.url(), review_db, 10)
    assert consumer.deliveries == [False] * 10  # ten first deliveries: the duplicates are the relay's, not redeliveries
    assert_applied_once(review_db, envelopes)
    assert queue_depth(rabbit.url()) == 0 and read_dead_letters(rabbit.url(), "review") == []


# --- 3. fallback paths ------------------------------------------------------------------------------------


def test_a_consumer_requeues_while_the_database_is_down_and_applies_the_event_once_it_is_back(review_db, rabbit):
    """With PostgreSQL unreachable the handlers fail, their retries fail and so does parking: the consumer
    gives the message back to the broker (requeue) and slows down, again and again, and applies the event
    once the database answers again: nothing dead-lettered, nothing parked, nothing applied twice."""
    from services.review.models import ParkedEvent
    from tests.support.infra import PG_HOST, PG_PORT, TcpProxy

    declare_review_queues(rabbit.url())
    proxy = TcpProxy(PG_HOST, PG_PORT)
    behind_proxy = Database(review_db.url.replace(f"@{PG_HOST}:{PG_PORT}/", f"@127.0.0.1:{proxy.port}/"))
    proxy.cut()
    consumer = run_consumer(rabbit.url(), bus_effects.dispatcher(behind_proxy), requeue_pause=0.2)
    try:
        event = submission_event()
        publish_raw(rabbit.url(), event)
        wait_until(lambda: len(consumer.deliveries) >= 3, timeout=15, what="the event to be requeued twice")
        assert consumer.processed == consumer.dead_lettered == 0
        proxy.restore()
        wait_until(lambda: consumer.processed == 1, timeout=15, what="the event applied after the outage")
    finally:
        consumer.stop()
        proxy.close()
        behind_proxy.dispose()
    assert consumer.deliveries[0] is False and all(consumer.deliveries[1:])  # the later ones: requeued
    assert_applied_once(review_db, [event])
    with review_db.transaction() as session:
        assert session.query(ParkedEvent).count() == 0
    assert queue_depth(rabbit.url()) == 0 and read_dead_letters(rabbit.url(), "review") == []


def test_when_the_dead_letter_cannot_be_published_the_broker_dead_letters_the_rejected_message(review_db, rabbit):
    """A handler refuses an event for good; the consumer's own dead-letter publish fails (its publisher's
    broker is unreachable), so it rejects the message without requeue and the queue's
    x-dead-letter-exchange takes it to review.events.dead: not lost, not looping, not applied."""
    from services.common.bus import BrokerPublisher, InboxDispatcher
    from services.review.models import Inbox
    from tests.support.infra import AMQP_HOST, AMQP_PORT, TcpProxy

    def refuse(event, session):
        raise ValueError("this event can never be applied")

    declare_review_queues(rabbit.url())
    proxy = TcpProxy(AMQP_HOST, AMQP_PORT)
    proxy.cut()
    dead_publisher = BrokerPublisher(rabbit.url(port=proxy.port), connect_timeout=1)
    dispatcher = InboxDispatcher(review_db, Inbox, {bus_effects.EVENT_TYPE: [refuse]})
    consumer = run_consumer(rabbit.url(), dispatcher, dead_publisher=dead_publisher)
    try:
        event = submission_event()
        publish_raw(rabbit.url(), event)
        wait_until(lambda: consumer.dead_lettered == 1, timeout=15, what="the event to be dead-lettered")
        letters = wait_until(lambda: read_dead_letters(rabbit.url(), "review"), timeout=5,
                             what="the letter in review.events.dead")
    finally:
        consumer.stop()
        proxy.close()
    [letter] = letters
    assert letter.envelope["id"] == event["id"]
    # The broker's dead-lettering, not ours: it records why and where from, but carries no reason header.
    [death] = letter.headers["x-death"]
    assert death["reason"] == "rejected" and death["queue"] == "review.events"
    assert letter.reason == ""
    assert consumer.deliveries == [False] and consumer.processed == 0
    assert queue_depth(rabbit.url()) == 0
    assert bus_effects.inbox_rows(review_db) == Counter()


# --- 4. batches -------------------------------------------------------------------------------------------
# The consumer takes the events waiting in its queue in batches: one transaction and one commit for all of
# them, then an ack each. These prove that a batch keeps every promise of a single event.


def publish_all(url: str, envelopes: list[dict]) -> None:
    """All in the queue before the consumer starts, so that they reach it together."""
    from services.common.bus import BrokerPublisher

    publisher = BrokerPublisher(url)
    try:
        publisher.publish_batch(envelopes)
    finally:
        publisher.close()


def test_a_poison_event_in_a_batch_is_dead_lettered_alone_and_the_others_are_applied_once(review_db, rabbit):
    """One event of twelve is refused for good by a handler, another only fails for now (its prerequisite has
    not arrived). The batch they share rolls back whole; its events are then applied one at a time: the poison
    goes to the dead-letter queue with its reason, the early one's failing handler is parked, every handler
    that can be applied is applied once, and nothing stays in the queue."""
    from services.common.bus import InboxDispatcher, RetryPolicy, TransientError
    from services.review.models import Inbox, ParkedEvent

    events = [submission_event() for _ in range(12)]
    poison, early = events[5]["id"], events[8]["id"]

    def refuse_poison(event, session):
        if event.id == poison:
            raise ValueError("this event can never be applied")
        if event.id == early:
            raise TransientError("its consultation has not arrived")

    handlers = {bus_effects.EVENT_TYPE: [bus_effects.record_receipt, refuse_poison, bus_effects.record_tally]}
    dispatcher = InboxDispatcher(review_db, Inbox, handlers, parked_model=ParkedEvent,
                                 retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02))
    declare_review_queues(rabbit.url())
    publish_all(rabbit.url(), events)
    consumer = run_consumer(rabbit.url(), dispatcher, linger=1.0)
    try:
        wait_until(lambda: consumer.processed + consumer.dead_lettered == 12, timeout=30,
                   what="every event consumed or dead-lettered")
    finally:
        consumer.stop()
    assert consumer.failed_batches >= 1  # the poison's batch, applied again one event at a time
    assert consumer.dead_lettered == 1 and consumer.processed == 11
    [letter] = read_dead_letters(rabbit.url(), "review", ack=True)
    assert letter.envelope["id"] == poison and "permanent error: ValueError: this event can never be applied" in letter.reason
    # Applied one at a time, each handler has its own transaction: the poison's and the early event's other
    # handlers took effect once, as they would have without batches; the rolled-back batch left nothing.
    assert bus_effects.effects(review_db) == Counter({(e["id"], name): 1 for e in events for name in ("receipt", "tally")})
    names = [h.__name__ for h in handlers[bus_effects.EVENT_TYPE]]
    good = [e for e in events if e["id"] not in (poison, early)]
    assert bus_effects.inbox_rows(review_db) == Counter({(e["id"], name): 1 for e in good for name in names}) + Counter(
        {(refused, name): 1 for refused in (poison, early) for name in ("record_receipt", "record_tally")})
    with review_db.transaction() as session:
        [parked] = session.query(ParkedEvent).all()
        assert parked.event_id == early and parked.handler.endswith("refuse_poison")
    assert queue_depth(rabbit.url()) == 0


@pytest.mark.parametrize("inbox", [True, False], ids=["inbox", "inbox-bypassed"])
def test_a_consumer_killed_after_a_batch_commit_before_its_acks_applies_the_redelivered_batch_once(
        review_db, rabbit, inbox):
    """Ten events wait in the queue. The consumer process applies the first alone, then the other nine as one
    batch, commits it and dies at its first ack. The broker hands all nine back to the restarted consumer, which
    takes the redeliveries one at a time and must apply none of them again. Bypassing the inbox shows the nine
    applied twice, so the test does see a batch that the inbox fails to absorb."""
    events = [submission_event() for _ in range(10)]
    declare_review_queues(rabbit.url())
    publish_all(rabbit.url(), events)

    crasher = subprocess.run([sys.executable, "-m", "tests.support.crash_consumer", rabbit.url(), review_db.url,
                              "inbox" if inbox else "bypassed", "batch"], cwd=ROOT, capture_output=True, timeout=60)
    assert crasher.returncode == EXIT_CODE, crasher.stderr.decode()[-2000:]
    once = Counter({(e["id"], name): 1 for e in events for name in ("receipt", "tally")})
    assert bus_effects.effects(review_db) == once  # all ten committed before the crash
    assert queue_depth(rabbit.url()) == 9  # the batch, never acked, is back in the queue

    restarted = run_consumer(rabbit.url(), bus_effects.dispatcher(review_db, inbox=inbox))
    try:
        wait_until(lambda: restarted.processed == 9, timeout=20, what="the redelivered batch to be consumed")
    finally:
        restarted.stop()
    assert restarted.deliveries == [True] * 9 and restarted.batches == 0  # redeliveries are applied one by one
    assert queue_depth(rabbit.url()) == 0 and read_dead_letters(rabbit.url(), "review") == []
    if inbox:
        assert bus_effects.effects(review_db) == once
        assert bus_effects.inbox_rows(review_db) == Counter({(e["id"], name): 1 for e in events for name in HANDLERS})
    else:
        batch = Counter({(e["id"], name): 1 for e in events[1:] for name in ("receipt", "tally")})
        assert bus_effects.effects(review_db) == once + batch  # the duplicates the inbox exists to prevent


def test_a_batch_skips_what_the_inbox_already_holds_and_an_event_it_carries_twice(review_db, rabbit):
    """A batch holding an event already applied (published again by a relay that lost its confirmation) and
    the same new event twice applies each (event, handler) once, in one commit."""
    applied_before = submission_event()
    bus_effects.dispatcher(review_db).dispatch(parse(applied_before))
    fresh = [submission_event() for _ in range(4)]
    declare_review_queues(rabbit.url())
    publish_all(rabbit.url(), [submission_event(), applied_before, fresh[0], fresh[0], *fresh[1:]])
    consumer = run_consumer(rabbit.url(), bus_effects.dispatcher(review_db), linger=1.0)
    try:
        wait_until(lambda: consumer.processed == 7, timeout=20, what="seven deliveries consumed")
    finally:
        consumer.stop()
    assert consumer.batches >= 1 and consumer.failed_batches == 0 and consumer.dead_lettered == 0
    effects = bus_effects.effects(review_db)
    assert set(effects.values()) == {1} and len(effects) == 2 * 6  # six distinct events, two handlers each
    assert all(effects[(e["id"], "receipt")] == 1 for e in [applied_before, *fresh])
    assert queue_depth(rabbit.url()) == 0


def parse(envelope: dict):
    from services.common.events import parse_envelope

    return parse_envelope(envelope)


def test_an_idle_consumer_applies_a_lone_event_at_once_and_a_busy_one_gathers_its_window(review_db, rabbit):
    """Batches close by `batch_delay`: after an idle spell at once, else a window after the previous batch. The
    window here (30 s) is far longer than the test, so only the idle rule can apply the first event in time, and
    the events that follow it must still be waiting, as one batch, when the consumer is stopped."""
    declare_review_queues(rabbit.url())
    consumer = run_consumer(rabbit.url(), bus_effects.dispatcher(review_db), linger=30.0)
    try:
        publish_raw(rabbit.url(), submission_event())
        wait_until(lambda: consumer.processed == 1, timeout=10, what="the lone event applied at once")
        publish_all(rabbit.url(), [submission_event() for _ in range(5)])
        wait_until(lambda: len(consumer.deliveries) == 6, timeout=10, what="the next five delivered")
        assert consumer.processed == 1 and consumer.batches == 0  # gathering: the window is not over
    finally:
        consumer.stop()  # a stopping consumer applies and acks what it holds
    assert consumer.processed == 6 and consumer.batches == 1 and consumer.failed_batches == 0
    effects = bus_effects.effects(review_db)
    assert len(effects) == 2 * 6 and set(effects.values()) == {1}
    assert queue_depth(rabbit.url()) == 0
