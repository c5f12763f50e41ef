"""R1 of issue 9: the broker killed (`kill -9`) and restarted under the outbox relay and an inbox consumer.

Each test runs its own RabbitMQ node (tests/support/chaos.py), so killing it harms nothing else. The outbox lives
in a fresh database on the shared PostgreSQL; the consumer applies events through the real inbox, and the test
counts at the consumer: every delivery, every event applied, the duplicates the inbox absorbed.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, insert, select

from services.common.bus import BrokerPublisher, EventConsumer, InboxDispatcher, OutboxRelay
from services.common.db import Database, upgrade
from services.common.events import new_envelope
from services.review.models import Inbox, Outbox
from tests.support.infra import wait_until

pytestmark = [pytest.mark.chaos, pytest.mark.rabbitmq, pytest.mark.postgres]

EVENT_TYPE = "consultation.review_completed"
R1_MESSAGES = int(os.environ.get("CHAOS_R1_MESSAGES", "100000"))


class CountingConsumer(EventConsumer):
    """The real consumer, with every delivery counted by event id before the inbox sees it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.deliveries: Counter[str] = Counter()
        self.connected = threading.Event()

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        self.connected.set()
        super().on_consume_ready(connection, channel, consumers, **kwargs)

    def on_connection_error(self, exc, interval):
        self.connected.clear()
        super().on_connection_error(exc, interval)

    def on_message(self, message):
        self.deliveries[str(message.properties.get("message_id") or "")] += 1
        super().on_message(message)


@pytest.fixture
def review_db(postgres):
    url = postgres.create_database("uwagi_chaos")
    upgrade("review", url)
    db = Database(url)
    yield db
    db.engine.dispose()


def make_consumer(url: str, db: Database, applied: Counter) -> CountingConsumer:
    def record(event, session):
        applied[event.id] += 1

    dispatcher = InboxDispatcher(db, Inbox, {EVENT_TYPE: [record]})
    return CountingConsumer(url, "chaos", dispatcher, requeue_pause=0.2)


def stage_events(db: Database, count: int, batch: int = 5000) -> list[str]:
    ids = []
    now = datetime.now(timezone.utc)
    for start in range(0, count, batch):
        rows = []
        for n in range(start, min(count, start + batch)):
            envelope = new_envelope(EVENT_TYPE, {"consultation_id": f"c-{n}", "completed_at": now.isoformat(),
                                                 "completed_by": "chaos"}, producer="review", validate=False)
            ids.append(envelope["id"])
            rows.append({"event_id": envelope["id"], "event_type": EVENT_TYPE, "envelope": envelope,
                         "created_at": now, "attempts": 0})
        with db.engine.begin() as conn:
            conn.execute(insert(Outbox), rows)
    return ids


def pending(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Outbox).where(Outbox.published_at.is_(None)))


def test_r1_broker_killed_during_confirmed_publishes_loses_nothing_and_the_inbox_absorbs_duplicates(node, review_db):
    applied: Counter[str] = Counter()
    consumer = make_consumer(node.url, review_db, applied).start()
    assert consumer.wait_ready(30), "the consumer did not declare its queue"
    ids = stage_events(review_db, R1_MESSAGES)
    relay = OutboxRelay(review_db, Outbox, BrokerPublisher(node.url, connect_timeout=2), interval=0.5).start()
    started = time.monotonic()
    try:
        kill_at = R1_MESSAGES // 3
        wait_until(lambda: R1_MESSAGES - pending(review_db) >= kill_at, timeout=600, interval=0.05,
                   what=f"{kill_at} confirmed publishes")
        confirmed_before_kill = R1_MESSAGES - pending(review_db)
        node.kill()
        killed_at = time.monotonic()
        time.sleep(2)
        node.start()
        restarted_at = time.monotonic()
        relay.kick()
        wait_until(lambda: pending(review_db) == 0, timeout=900, interval=0.5, what="the outbox to drain")
        published_again_after = time.monotonic() - restarted_at
        wait_until(lambda: len(applied) >= R1_MESSAGES, timeout=1800, interval=0.5,
                   what=f"{R1_MESSAGES} events applied at the consumer (have {len(applied)})")
        time.sleep(1)  # anything still redelivered lands now, and must be absorbed
    finally:
        relay.stop()
        consumer.stop()
    deliveries = sum(consumer.deliveries.values())
    duplicates = deliveries - len(consumer.deliveries)
    lost = set(ids) - set(applied)
    print(f"\nR1 figures: staged={R1_MESSAGES} confirmed_before_kill={confirmed_before_kill} "
          f"confirmed={R1_MESSAGES - pending(review_db)} deliveries={deliveries} consumed_unique={len(consumer.deliveries)} "
          f"applied={sum(applied.values())} duplicates_delivered={duplicates} lost={len(lost)} "
          f"broker_down_s={restarted_at - killed_at:.1f} outbox_drained_after_restart_s={published_again_after:.1f} "
          f"total_s={time.monotonic() - started:.1f}")
    assert not lost, f"{len(lost)} confirmed events never reached the consumer"
    assert max(applied.values()) == 1, "the inbox let a duplicate through to the handler"
    assert len(applied) == R1_MESSAGES
