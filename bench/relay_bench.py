"""P2: the outbox relay against raw kombu publishing, in one run (PostgreSQL and RabbitMQ on 127.0.0.1).

Per round, the same persistent messages (a `submission.received` envelope of 2 comments) go to a durable queue
bound to `uwagi.events`:
- raw kombu: `Producer.publish(delivery_mode=2)` in a loop, unconfirmed (the ceiling);
- the project's publisher without a database: batches of 500 in one AMQP transaction each (confirmed);
- the relay: the same number of rows staged in intake's outbox on PostgreSQL (untimed), then
  `OutboxRelay.publish_pending()` — claim (FOR UPDATE SKIP LOCKED), publish in a transaction, mark with one
  UPDATE per batch.
Rounds are interleaved; medians and the relay's ratio to raw kombu are printed. The queue is counted and purged
after each measurement, so every message is known to have arrived.

    python bench/relay_bench.py [--messages 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kombu import Connection, Producer, Queue  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from services.common.bus import EVENTS_EXCHANGE, BrokerPublisher, OutboundMessage, OutboxRelay  # noqa: E402
from services.common.db import Database, upgrade  # noqa: E402
from services.common.events import new_envelope  # noqa: E402
from services.intake.models import Outbox  # noqa: E402
from tests.support import infra  # noqa: E402

P2_RATIO = 0.6


def envelope(n: int) -> dict:
    now = datetime.now(timezone.utc)
    return new_envelope("submission.received", {
        "submission_id": f"00000000-0000-4000-8000-{n:012d}", "consultation_id": "c1", "consultation_title": "Benchmark",
        "reference": f"UW/2026/{n:06d}", "channel": "web", "received_at": now, "late": False, "language": "pl",
        "status_url": f"https://uwagi.example/intake/status?reference=UW%2F2026%2F{n:06d}&token=abcdefghijklmnop",
        "submitter": {"name": "Osoba testowa", "organization": None, "email": f"b{n}@example.org",
                      "publish_consent": False, "kind": "person"},
        "comments": [{"comment_id": f"c-{n}-{i}", "number": i, "section": "§ 5 ust. 2", "current_text": "Obecne.",
                      "proposal": f"Propozycja {n}", "justification": "Uzasadnienie.", "topic": None} for i in (1, 2)],
    }, producer="intake", correlation_id=f"UW/2026/{n:06d}")


def drain(queue: Queue, connection: Connection, expected: int) -> None:
    channel = connection.default_channel
    deadline = time.monotonic() + 60
    while (count := channel.queue_declare(queue.name, passive=True).message_count) < expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {count} of {expected} messages arrived")
        time.sleep(0.05)
    channel.queue_purge(queue.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    postgres, vhost = infra.postgres_server(), infra.rabbit_vhost()
    url = postgres.create_database("uwagi_bench_relay")
    upgrade("intake", url)
    db = Database(url)
    envelopes = [envelope(n) for n in range(args.messages)]
    messages = [OutboundMessage(json.dumps(e, ensure_ascii=False), e["type"], e["id"]) for e in envelopes]
    queue = Queue("bench.relay", EVENTS_EXCHANGE, routing_key="#", durable=True)
    results: dict[str, list[float]] = {"raw": [], "publisher": [], "relay": []}
    try:
        with Connection(vhost.url()) as control:
            queue.bind(control.default_channel).declare()
            for number in range(1, args.rounds + 1):
                with Connection(vhost.url()) as raw:
                    producer = Producer(raw.default_channel, exchange=EVENTS_EXCHANGE, auto_declare=False)
                    started = time.perf_counter()
                    for message in messages:
                        producer.publish(message.body, routing_key=message.routing_key,
                                         content_type="application/json", content_encoding="utf-8",
                                         delivery_mode=2, message_id=message.message_id, retry=False)
                    results["raw"].append(args.messages / (time.perf_counter() - started))
                drain(queue, control, args.messages)

                publisher = BrokerPublisher(vhost.url())
                publisher.ping()
                started = time.perf_counter()
                for start in range(0, args.messages, args.batch):
                    publisher.publish_messages(messages[start:start + args.batch])
                results["publisher"].append(args.messages / (time.perf_counter() - started))
                drain(queue, control, args.messages)

                with db.engine.begin() as conn:
                    conn.execute(insert(Outbox.__table__), [
                        # a fresh event id per round: the column is unique, the published rows stay
                        {"event_id": str(uuid.uuid4()), "event_type": e["type"], "envelope": e,
                         "created_at": datetime.now(timezone.utc), "attempts": 0} for e in envelopes])
                    conn.exec_driver_sql("ANALYZE outbox")
                relay = OutboxRelay(db, Outbox, publisher, batch_size=args.batch)
                started = time.perf_counter()
                published = relay.publish_pending()
                results["relay"].append(published / (time.perf_counter() - started))
                assert published == args.messages, published
                drain(queue, control, args.messages)
                publisher.close()
                print(f"round {number}: raw kombu {results['raw'][-1]:,.0f} msg/s, publisher without database "
                      f"{results['publisher'][-1]:,.0f}, relay {results['relay'][-1]:,.0f}", flush=True)
    finally:
        db.dispose()
        vhost.delete()
        postgres.drop_all()
    raw, batch, relay = (statistics.median(results[k]) for k in ("raw", "publisher", "relay"))
    print(f"\noutbox relay, {args.messages:,} persistent messages per round, {args.rounds} interleaved rounds, medians:")
    print(f"  raw kombu, unconfirmed (ceiling): {raw:,.0f} msg/s ({min(results['raw']):,.0f}–{max(results['raw']):,.0f})")
    print(f"  BrokerPublisher without database, tx per {args.batch}: {batch:,.0f} msg/s = {batch / raw:.2f}× raw")
    print(f"  OutboxRelay on PostgreSQL, tx per {args.batch}: {relay:,.0f} msg/s "
          f"({min(results['relay']):,.0f}–{max(results['relay']):,.0f}) = {relay / raw:.2f}× raw  "
          f"[P2 ≥ {P2_RATIO}×: {'ok' if relay / raw >= P2_RATIO else 'MISSED'}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
