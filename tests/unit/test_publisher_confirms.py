"""Publisher confirms bookkeeping: which batches the broker's acks and nacks settle (no broker; the callbacks are
called as py-amqp calls them, with a delivery tag and the `multiple` flag), and the relay with batches left
unconfirmed (a fake publisher, a subclass of the real port, on SQLite)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.common.bus import TRANSACTIONS, BrokerPublisher, BrokerUnavailable, OutboxRelay, Publication, _Confirms
from services.review.models import Outbox
from tests.unit.test_outbox_relay import RecordingPublisher, db, stage  # noqa: F401 (db is a fixture)


def three_batches() -> tuple[_Confirms, list]:
    confirms = _Confirms()
    return confirms, [confirms.sent(5), confirms.sent(5), confirms.sent(2)]  # tags 1-5, 6-10, 11-12


def test_batches_take_consecutive_delivery_tags():
    _, batches = three_batches()
    assert [(b.first, b.last, b.count) for b in batches] == [(1, 5, 5), (6, 10, 5), (11, 12, 2)]


def test_an_ack_with_multiple_settles_every_batch_up_to_its_tag():
    confirms, (first, second, third) = three_batches()
    confirms.on_ack(7, True)
    assert [confirms.outcome(b) for b in (first, second, third)] == [True, None, None]
    confirms.on_ack(12, True)
    assert [confirms.outcome(b) for b in (first, second, third)] == [True, True, True]


def test_single_acks_out_of_order_settle_a_batch_once_all_its_tags_are_in():
    confirms, (first, second, _) = three_batches()
    for tag in (6, 7, 8, 9, 10):  # the second batch, before the first
        confirms.on_ack(tag, False)
    assert confirms.outcome(first) is None and confirms.outcome(second) is True
    for tag in (5, 4, 3, 2, 1):
        confirms.on_ack(tag, False)
    assert confirms.outcome(first) is True and confirms.settled == 10


def test_a_nack_refuses_only_the_batch_it_falls_in():
    confirms, (first, second, third) = three_batches()
    confirms.on_ack(5, True)
    confirms.on_nack(8, False)
    confirms.on_ack(12, True)
    assert [confirms.outcome(b) for b in (first, second, third)] == [True, False, True]


def test_a_multiple_nack_refuses_every_batch_with_an_unsettled_tag_up_to_its_own():
    confirms, (first, second, third) = three_batches()
    confirms.on_ack(4, True)
    confirms.on_nack(7, True)  # tags 5-7: the first and the second batch
    confirms.on_ack(12, True)
    assert [confirms.outcome(b) for b in (first, second, third)] == [False, False, True]


def test_a_refused_batch_is_known_before_its_other_messages_are_answered():
    confirms, (first, _, _) = three_batches()
    confirms.on_nack(2, False)
    assert confirms.outcome(first) is False


def test_only_batches_still_waiting_for_answers_are_kept():
    confirms, _ = three_batches()
    confirms.on_nack(3, False)
    confirms.on_ack(12, True)
    assert len(confirms._open) == 0 and not confirms._singles


def test_waiting_for_a_batch_of_a_dropped_connection_fails_at_once():
    publisher = BrokerPublisher("amqp://guest:guest@127.0.0.1:1//")
    confirms = _Confirms()
    batch = confirms.sent(3)
    confirms.broken = "the connection failed"
    with pytest.raises(BrokerUnavailable, match="not confirmed: the connection failed"):
        publisher.wait(batch)


def test_a_refused_batch_fails_its_wait():
    publisher = BrokerPublisher("amqp://guest:guest@127.0.0.1:1//")
    confirms = _Confirms()
    batch = confirms.sent(3)
    confirms.on_nack(3, True)
    with pytest.raises(BrokerUnavailable, match="basic.nack"):
        publisher.wait(batch)


def test_the_in_process_transport_has_nothing_to_wait_for_and_an_unknown_mode_is_refused():
    publisher = BrokerPublisher("memory://")
    assert not publisher.confirms and not publisher.transactional
    assert not BrokerPublisher("amqp://guest:guest@127.0.0.1:1//", mode=TRANSACTIONS).confirms
    with pytest.raises(ValueError, match="publisher mode"):
        BrokerPublisher("memory://", mode="fire-and-forget")


class UnconfirmedPublisher(RecordingPublisher):
    """Sends every batch; the broker never confirms the ones numbered in `refused` (from 0)."""

    def __init__(self, refused: set[int]):
        super().__init__()
        self.refused = refused
        self.sent: list[Publication] = []

    def send(self, messages, **kwargs) -> Publication:
        super().send(messages, **kwargs)
        self.sent.append(Publication(len(messages)))
        return self.sent[-1]

    def wait(self, publication: Publication) -> None:
        if self.sent.index(publication) in self.refused:
            raise BrokerUnavailable("publish not confirmed: the broker refused messages of the batch (basic.nack)")


def test_the_rows_of_an_unconfirmed_batch_stay_pending_and_no_further_batch_is_claimed(db):
    stage(db, 12)
    relay = OutboxRelay(db, Outbox, UnconfirmedPublisher(refused={1}), batch_size=5)
    with pytest.raises(BrokerUnavailable, match="basic.nack"):
        relay.publish_pending()
    with db.transaction() as session:
        rows = session.execute(select(Outbox.published_at, Outbox.attempts, Outbox.last_error).order_by(Outbox.id)).all()
    assert [r.published_at is not None for r in rows] == [True] * 5 + [False] * 7
    assert [r.attempts for r in rows] == [1] * 10 + [0] * 2
    assert all("basic.nack" in r.last_error for r in rows[5:10])
    assert relay.publish_pending() == 7 and relay.pending_count() == 0  # the refused are sent again
