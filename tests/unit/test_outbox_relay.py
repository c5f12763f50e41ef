"""The relay and the inbox dispatcher with a fake publisher (a subclass of the real port) on SQLite."""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from services.common.bus import (BrokerPublisher, BrokerUnavailable, InboxDispatcher, OutboxRelay, Publication,
                                 batch_delay)
from services.common.db import Database, upgrade
from services.common.events import new_envelope, parse_envelope
from services.review.models import ConsultationRef, Inbox, Outbox, ParkedEvent
from tests.support.infra import wait_until


class RecordingPublisher(BrokerPublisher):
    def __init__(self, fail: bool = False):
        super().__init__("memory://")
        self.batches: list[list[dict]] = []
        self.fail = fail

    def send(self, messages, **kwargs) -> Publication:
        if self.fail:
            raise BrokerUnavailable("broker down")
        self.batches.append([json.loads(m.body) for m in messages])
        return Publication(len(messages))


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'review.db'}"
    upgrade("review", url)
    database = Database(url)
    yield database
    database.dispose()


def completed(n: int) -> dict:
    return new_envelope("consultation.review_completed", {
        "consultation_id": f"c-{n}", "completed_at": datetime.now(timezone.utc), "completed_by": "k"}, producer="review")


def stage(db: Database, count: int) -> None:
    from services.common.db import add_event

    with db.transaction() as session:
        for n in range(count):
            add_event(session, Outbox, completed(n))


def test_relay_publishes_in_batches_and_in_order(db):
    stage(db, 12)
    publisher = RecordingPublisher()
    assert OutboxRelay(db, Outbox, publisher, batch_size=5).publish_pending() == 12
    assert [len(b) for b in publisher.batches] == [5, 5, 2]
    order = [e["data"]["consultation_id"] for batch in publisher.batches for e in batch]
    assert order == [f"c-{n}" for n in range(12)]


def test_a_failed_publish_leaves_rows_pending_with_the_error(db):
    stage(db, 3)
    relay = OutboxRelay(db, Outbox, RecordingPublisher(fail=True))
    with pytest.raises(BrokerUnavailable):
        relay.publish_pending()
    assert relay.pending_count() == 3
    with db.transaction() as session:
        assert {r.last_error for r in session.scalars(select(Outbox))} == {"broker down"}


def test_relay_thread_publishes_after_a_kick(db):
    publisher = RecordingPublisher()
    relay = OutboxRelay(db, Outbox, publisher, interval=60).start()
    try:
        stage(db, 2)
        relay.kick()
        wait_until(lambda: relay.pending_count() == 0, timeout=5, what="relay to publish")
    finally:
        relay.stop()


def test_inbox_applies_each_event_once_per_handler(db):
    applied: list[str] = []

    def upsert_consultation(event, session):
        applied.append(event.id)
        session.merge(ConsultationRef(id=event.data["consultation_id"], title="T", closes_at=event.occurred_at))

    dispatcher = InboxDispatcher(db, Inbox, {"consultation.review_completed": [upsert_consultation]})
    event = parse_envelope(completed(1))
    dispatcher.dispatch(event)
    dispatcher.dispatch(event)
    assert applied == [event.id]
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Inbox)) == 1


def test_a_failing_handler_rolls_back_its_effect_and_its_inbox_row(db):
    def half_done(event, session):
        session.add(ConsultationRef(id="half", title="T", closes_at=event.occurred_at))
        raise RuntimeError("boom")

    dispatcher = InboxDispatcher(db, Inbox, {"consultation.review_completed": [half_done]})
    [failure] = dispatcher.dispatch(parse_envelope(completed(1)))
    assert failure.endswith("half_done: permanent error: RuntimeError: boom")
    with db.transaction() as session:
        assert session.get(ConsultationRef, "half") is None
        assert session.scalar(select(func.count()).select_from(Inbox)) == 0


def parking_dispatcher(db, handlers, **overrides) -> InboxDispatcher:
    from services.common.bus import RetryPolicy

    return InboxDispatcher(db, Inbox, handlers, parked_model=ParkedEvent,
                           retry=RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.001), **overrides)


def test_an_event_that_came_too_early_is_parked_and_applied_by_the_sweep(db):
    from services.common.bus import TransientError

    ready = {"now": False}

    def needs_prerequisite(event, session):
        if not ready["now"]:
            raise TransientError("prerequisite not here yet")
        session.merge(ConsultationRef(id="late", title="T", closes_at=event.occurred_at))

    dispatcher = parking_dispatcher(db, {"consultation.review_completed": [needs_prerequisite]},
                                    first_parked_retry=timedelta(0))
    assert dispatcher.dispatch(parse_envelope(completed(1))) == []
    assert dispatcher.retry_parked(dead_letter=lambda e, r: pytest.fail(r)) == 0  # still not ready: stays parked
    ready["now"] = True
    assert dispatcher.retry_parked(dead_letter=lambda e, r: pytest.fail(r)) == 1
    with db.transaction() as session:
        assert session.get(ConsultationRef, "late") is not None
        assert session.scalar(select(func.count()).select_from(ParkedEvent)) == 0


def test_a_parked_event_is_dead_lettered_when_it_waited_too_long_or_its_handler_is_gone(db):
    from services.common.bus import TransientError

    def never_ready(event, session):
        raise TransientError("still missing")

    dead: list[tuple[str, str]] = []
    dispatcher = parking_dispatcher(db, {"consultation.review_completed": [never_ready]},
                                    first_parked_retry=timedelta(0), park_for=timedelta(0))
    event = parse_envelope(completed(1))
    dispatcher.dispatch(event)
    dispatcher.retry_parked(dead_letter=lambda envelope, reason: dead.append((envelope["id"], reason)))
    assert dead == [(event.id, dead[0][1])] and "parked too long" in dead[0][1]

    dispatcher.dispatch(parse_envelope(completed(2)))
    renamed = parking_dispatcher(db, {"consultation.review_completed": []}, first_parked_retry=timedelta(0))
    renamed.retry_parked(dead_letter=lambda envelope, reason: dead.append((envelope["id"], reason)))
    assert "no handler" in dead[1][1]
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ParkedEvent)) == 0


def test_batch_delay_acts_at_once_when_idle_and_gathers_for_the_rest_of_the_window_when_busy():
    assert batch_delay(last_batch=100.0, now=100.5, window=0.15) == 0.0  # idle: the last batch is old
    assert batch_delay(last_batch=-math.inf, now=0.0, window=0.15) == 0.0  # nothing taken yet
    assert batch_delay(last_batch=100.0, now=100.05, window=0.15) == pytest.approx(0.10)  # busy: the rest
    assert batch_delay(last_batch=100.0, now=100.05, window=0.0) == 0.0  # batching by time turned off


def test_an_idle_relay_sweeps_at_once_and_a_busy_one_waits_out_its_window(db):
    publisher = RecordingPublisher()
    # A window far longer than the test: an idle relay must not wait for it, a busy one must.
    relay = OutboxRelay(db, Outbox, publisher, interval=60, window=30).start()
    try:
        stage(db, 2)
        relay.kick()
        wait_until(lambda: relay.pending_count() == 0, timeout=10, what="the idle relay to publish at once")
        stage(db, 3)
        relay.kick()
        time.sleep(0.5)
        assert relay.pending_count() == 3  # gathered until 30 s after the first sweep
    finally:
        relay.stop()
    assert relay.pending_count() == 3  # stopping does not sweep; the next process's relay will


def test_settings_read_the_batch_window_once_with_bounds():
    from services.common.settings import SettingsError, load_settings

    assert load_settings({"UWAGI_DATA_DIR": "/tmp/uwagi-settings-test"}).batch_window == 0.15
    assert load_settings({"UWAGI_DATA_DIR": "/tmp/uwagi-settings-test", "UWAGI_BATCH_WINDOW": "0"}).batch_window == 0
    for bad in ("nan", "inf", "-0.1", "5.5", "soon"):
        with pytest.raises(SettingsError, match="UWAGI_BATCH_WINDOW"):
            load_settings({"UWAGI_DATA_DIR": "/tmp/uwagi-settings-test", "UWAGI_BATCH_WINDOW": bad})
