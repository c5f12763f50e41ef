"""The relay with publisher confirms on the real RabbitMQ and PostgreSQL on 127.0.0.1: batches overlap, and a row is
marked published only once the broker has acked it; a nack and a link that stalls with two batches in flight leave
the rows pending, and the inbox absorbs what went out twice. (An ack lost with the connection:
tests/integration/test_bus_faults_rabbitmq.py, beside the lost tx.commit-ok.)

Events are `submission.received` envelopes applied by `tests.support.bus_effects`, whose handlers have no guard of
their own: every duplicate the inbox let through would show as a second effect row.
"""

from __future__ import annotations

from typing import Any

import pytest
from kombu import Connection, Queue
from sqlalchemy import func, select

from services.common.bus import EVENTS_EXCHANGE, BrokerPublisher, BrokerUnavailable, OutboxRelay, Publication
from services.review.models import Outbox
from tests.integration.test_bus_faults_rabbitmq import (  # noqa: F401 (review_db is a fixture)
    assert_applied_once,
    consume_everything,
    declare_review_queues,
    outbox_rows,
    queue_depth,
    resume_and_deliver,
    review_db,
    stage_in_outbox,
)
from tests.support.infra import AMQP_HOST, AMQP_PORT, TcpProxy
from tests.support.infra import queue_depth as depth_of
from tests.support.infra import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


class WatchedPublisher(BrokerPublisher):
    """The real publisher, noting what the relay asks of it, and how many rows of a batch were already marked
    published when the relay began to wait for the batch's acks."""

    def __init__(self, url: str, db: Any, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self.db = db
        self.calls: list[tuple] = []
        self._event_ids: dict[int, list[str]] = {}

    def send(self, messages, **kwargs) -> Publication:
        publication = super().send(messages, **kwargs)
        self._event_ids[id(publication)] = [m.message_id for m in messages]
        self.calls.append(("send", len(messages)))
        return publication

    def wait(self, publication: Publication) -> None:
        event_ids = self._event_ids[id(publication)]
        with self.db.engine.connect() as conn:  # a plain read: the relay's row locks do not block it
            marked = conn.scalar(select(func.count()).select_from(Outbox).where(
                Outbox.event_id.in_(event_ids), Outbox.published_at.is_not(None)))
        super().wait(publication)
        self.calls.append(("confirmed", publication.count, f"{marked} marked before"))


def test_the_relay_sends_the_next_batch_before_the_acks_of_the_last_and_marks_rows_only_once_acked(review_db, rabbit):
    declare_review_queues(rabbit.url())
    envelopes = stage_in_outbox(review_db, 12)
    publisher = WatchedPublisher(rabbit.url(), review_db)
    try:
        assert OutboxRelay(review_db, Outbox, publisher, batch_size=5).publish_pending() == 12
    finally:
        publisher.close()
    assert publisher.calls == [
        ("send", 5), ("send", 5), ("confirmed", 5, "0 marked before"),
        ("send", 2), ("confirmed", 5, "0 marked before"), ("confirmed", 2, "0 marked before")]
    assert all(r.published_at is not None and r.attempts == 1 for r in outbox_rows(review_db))
    assert queue_depth(rabbit.url()) == 12
    consume_everything(rabbit.url(), review_db, 12)
    assert_applied_once(review_db, envelopes)


def test_a_batch_the_broker_refuses_stays_in_the_outbox_and_the_inbox_absorbs_what_was_taken_twice(review_db, rabbit):
    """RabbitMQ nacks a publish when a queue it is routed to refuses it: here a queue bound to every event that
    holds at most 7 messages (`x-overflow: reject-publish`). Twelve events go out in batches of 5. The first batch
    is acked and marked; of the second, sent before the first's acks were read, 2 are taken and 3 refused; the
    third is refused. Both stay pending with the error and go out again once the queue has room, so review's queue
    holds the second batch's first two events twice, and the inbox applies each event once."""
    declare_review_queues(rabbit.url())
    gate = Queue("review.gate", EVENTS_EXCHANGE, routing_key="#", durable=True,
                 queue_arguments={"x-max-length": 7, "x-overflow": "reject-publish"})
    with Connection(rabbit.url()) as conn:
        gate.bind(conn.default_channel).declare()
    envelopes = stage_in_outbox(review_db, 12)
    relay = OutboxRelay(review_db, Outbox, BrokerPublisher(rabbit.url()), batch_size=5)
    try:
        with pytest.raises(BrokerUnavailable, match="basic.nack"):
            relay.publish_pending()
        rows = outbox_rows(review_db)
        assert [r.published_at is not None for r in rows] == [True] * 5 + [False] * 7
        assert all(r.attempts == 1 and "basic.nack" in r.last_error for r in rows[5:])
        assert depth_of(rabbit.url(), "review.gate") == 7 and queue_depth(rabbit.url()) == 12

        with Connection(rabbit.url()) as conn:
            conn.default_channel.queue_purge("review.gate")
        assert relay.publish_pending() == 7
    finally:
        relay.publisher.close()
    assert all(r.published_at is not None for r in outbox_rows(review_db))
    assert queue_depth(rabbit.url()) == 19
    consume_everything(rabbit.url(), review_db, 19)
    assert_applied_once(review_db, envelopes)


def test_a_link_that_stalls_with_two_batches_in_flight_fails_both_and_they_go_out_once_it_forwards(review_db, rabbit):
    """The publisher has no heartbeats; the relay has sent two batches when the link stops forwarding without
    closing. Waiting for the first batch's acks gives up after io_timeout and drops the connection, which fails the
    second batch at once; no third batch is claimed. Once the link forwards again every event goes out, and
    whatever the stalled connection had delivered as well is absorbed by the inbox."""
    declare_review_queues(rabbit.url())
    envelopes = stage_in_outbox(review_db, 10)
    proxy = TcpProxy(AMQP_HOST, AMQP_PORT)
    publisher = WatchedPublisher(rabbit.url(port=proxy.port), review_db, connect_timeout=1, io_timeout=1)
    relay = OutboxRelay(review_db, Outbox, publisher, batch_size=4)
    try:
        publisher.ping()  # a working connection, which then stalls
        proxy.hang()
        with pytest.raises(BrokerUnavailable, match="timed out"):
            relay.publish_pending()
        assert publisher.calls == [("send", 4), ("send", 4)]
        rows = outbox_rows(review_db)
        assert [r.attempts for r in rows] == [1] * 8 + [0] * 2 and all(r.published_at is None for r in rows)
        assert "timed out" in rows[0].last_error and "no confirmation came in time" in rows[4].last_error
        resume_and_deliver(proxy, relay, review_db, rabbit.url(), envelopes)
    finally:
        publisher.close()
        proxy.close()
