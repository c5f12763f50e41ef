"""P2: the outbox relay against raw kombu publishing, in one run (PostgreSQL and RabbitMQ on 127.0.0.1).

Per round, the same persistent messages (a `submission.received` envelope of 2 comments) go to a durable queue
bound to `uwagi.events`, five ways, in an order that rotates from round to round:
- raw kombu: `Producer.publish(delivery_mode=2)` in a loop, unconfirmed (the ceiling);
- the project's publisher without a database, in transaction mode: batches of 500, one AMQP transaction each;
- the same publisher without a database, in confirm mode (the default): batches of 500 sent back to back, each
  batch's acks read after the next batch is sent;
- the relay: the same number of rows staged in intake's outbox on PostgreSQL (untimed), then
  `OutboxRelay.publish_pending()` with the confirm-mode publisher: claim (FOR UPDATE SKIP LOCKED), send, claim and
  send the next batch, read the previous batch's acks, mark it with one UPDATE;
- the relay with the transaction-mode publisher: claim, publish and commit on the broker, mark, one batch after
  the other (no overlap).
Each is timed (messages per second) and its CPU measured with `time.process_time()` (this process; for the relay
also the CPU of its PostgreSQL backends, read from /proc). CPU per message does not depend on what else the machine
is doing, so it is the steadier figure on a shared machine. The queue is counted and purged after each measurement,
so every message is known to have arrived. Medians, ranges, ratios to raw kombu and the load average are printed.

    python bench/relay_bench.py [--messages 30000] [--rounds 5] [--queue-type classic|quorum]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kombu import Connection, Producer, Queue  # noqa: E402
from sqlalchemy import event, insert  # noqa: E402

from services.common.bus import (  # noqa: E402
    CONFIRMS,
    EVENTS_EXCHANGE,
    TRANSACTIONS,
    BrokerPublisher,
    OutboundMessage,
    OutboxRelay,
)
from services.common.db import Database, upgrade  # noqa: E402
from services.common.events import new_envelope  # noqa: E402
from services.intake.models import Outbox  # noqa: E402
from tests.support import infra  # noqa: E402

P2_RATIO = 0.6
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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
    if count != expected:
        raise SystemExit(f"{count} messages arrived, {expected} were published")
    channel.queue_purge(queue.name)


def process_cpu(pids: set[int]) -> float:
    """CPU seconds (user + system) of other processes on this machine, from /proc (PostgreSQL's backends)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


@dataclass(eq=False)
class Series:
    label: str
    rates: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)  # this process, per message
    backend_cpu_us: list[float] = field(default_factory=list)  # PostgreSQL's backends, per message (relay only)

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_us)


def measure(series: Series, count: int, run: Callable[[], int], backends: set[int] | None = None) -> None:
    backend_cpu = process_cpu(backends) if backends is not None else 0.0
    cpu, started = time.process_time(), time.perf_counter()
    published = run()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert published == count, (series.label, published)
    series.rates.append(count / elapsed)
    series.cpu_us.append(cpu / count * 1e6)
    if backends is not None:
        series.backend_cpu_us.append((process_cpu(backends) - backend_cpu) / count * 1e6)


def load() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--queue-type", choices=["classic", "quorum"], default="classic",
                        help="the durable queue the messages land in (the services' own queues are quorum queues)")
    args = parser.parse_args()

    postgres, vhost = infra.postgres_server(), infra.rabbit_vhost()
    url = postgres.create_database("uwagi_bench_relay")
    upgrade("intake", url)
    db = Database(url)
    backends: set[int] = set()

    @event.listens_for(db.engine, "connect")
    def _note_backend(dbapi_connection, _record):  # the relay's PostgreSQL backends, for their CPU
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backends.add(cursor.fetchone()[0])

    envelopes = [envelope(n) for n in range(args.messages)]
    messages = [OutboundMessage(json.dumps(e, ensure_ascii=False), e["type"], e["id"]) for e in envelopes]
    queue = Queue("bench.relay", EVENTS_EXCHANGE, routing_key="#", durable=True,
                  queue_arguments={"x-queue-type": args.queue_type})
    raw, tx, confirms, relay, relay_tx = series = [
        Series("raw kombu"), Series("publisher, transactions"), Series("publisher, confirms"),
        Series("relay, confirms"), Series("relay, transactions")]
    loads = [load()]

    def publish_raw() -> int:
        with Connection(vhost.url()) as connection:
            producer = Producer(connection.default_channel, exchange=EVENTS_EXCHANGE, auto_declare=False)
            for message in messages:
                producer.publish(message.body, routing_key=message.routing_key, content_type="application/json",
                                 content_encoding="utf-8", delivery_mode=2, message_id=message.message_id,
                                 retry=False)
        return len(messages)

    def publisher_run(mode: str) -> Callable[[], int]:
        def run() -> int:
            publisher = BrokerPublisher(vhost.url(), mode=mode)
            try:
                publisher.ping()  # connected before the clock starts, as the raw connection is in `publish_raw`
                sent = None
                for start in range(0, len(messages), args.batch):
                    publication = publisher.send(messages[start:start + args.batch])
                    if sent is not None:
                        publisher.wait(sent)
                    sent = publication
                publisher.wait(sent)
            finally:
                publisher.close()
            return len(messages)
        return run

    def relay_run(mode: str) -> Callable[[], int]:
        def run() -> int:
            publisher = BrokerPublisher(vhost.url(), mode=mode)
            try:
                publisher.ping()
                return OutboxRelay(db, Outbox, publisher, batch_size=args.batch).publish_pending()
            finally:
                publisher.close()
        return run

    def stage() -> None:
        with db.engine.begin() as conn:
            conn.execute(insert(Outbox.__table__), [
                # a fresh event id per round: the column is unique, the published rows stay
                {"event_id": str(uuid.uuid4()), "event_type": e["type"], "envelope": e,
                 "created_at": datetime.now(timezone.utc), "attempts": 0} for e in envelopes])
            conn.exec_driver_sql("ANALYZE outbox")

    steps = [(raw, publish_raw), (tx, publisher_run(TRANSACTIONS)), (confirms, publisher_run(CONFIRMS)),
             (relay, relay_run(CONFIRMS)), (relay_tx, relay_run(TRANSACTIONS))]
    try:
        with Connection(vhost.url()) as control:
            queue.bind(control.default_channel).declare()
            for number in range(1, args.rounds + 1):
                shift = (number - 1) % len(steps)
                for measured, run in steps[shift:] + steps[:shift]:
                    on_database = measured in (relay, relay_tx)
                    if on_database:
                        stage()
                        # the pool's connections are open before the clock starts, as the raw connection is
                        with db.engine.connect() as warm, db.engine.connect():
                            warm.exec_driver_sql("SELECT 1")
                    measure(measured, args.messages, run, backends if on_database else None)
                    drain(queue, control, args.messages)
                loads.append(load())
                print(f"round {number} (load {loads[-1]}): " + ", ".join(
                    f"{s.label} {s.rates[-1]:,.0f} msg/s {s.cpu_us[-1]:.1f} µs" for s in series), flush=True)
    finally:
        db.dispose()
        vhost.delete()
        postgres.drop_all()

    print(f"\noutbox relay, {args.messages:,} persistent messages per round to a durable {args.queue_type} queue, "
          f"{args.rounds} interleaved rounds, medians (range); CPU of this process per message; "
          f"load average (1/5/15 min) {loads[0]} at the start, {loads[-1]} at the end:")
    for s in series:
        ratio = "(the ceiling)" if s is raw else f"= {s.rate / raw.rate:.2f}× raw"
        extra = ""
        if s.backend_cpu_us:
            extra = (f" + {statistics.median(s.backend_cpu_us):.1f} µs in PostgreSQL's backends"
                     f" ({statistics.median(s.backend_cpu_us) + s.cpu:.1f} µs in all)")
        print(f"  {s.label:<24} {s.rate:>9,.0f} msg/s ({min(s.rates):,.0f}–{max(s.rates):,.0f}) {ratio:<14}"
              f"  CPU {s.cpu:5.1f} µs/msg ({min(s.cpu_us):.1f}–{max(s.cpu_us):.1f}){extra}")
    ratios = [r / w for r, w in zip(relay.rates, raw.rates)]
    print(f"  relay / raw kombu per round: {', '.join(f'{r:.2f}' for r in ratios)}; median "
          f"{statistics.median(ratios):.2f}  [P2 ≥ {P2_RATIO}×: "
          f"{'ok' if relay.rate / raw.rate >= P2_RATIO else 'MISSED'}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
