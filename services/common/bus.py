"""The message bus: topology, confirmed publishing, the outbox relay and the inbox consumer.

Delivery is at least once end to end:
- a handler writes its change and its events in one transaction (outbox);
- the relay publishes pending rows in batches on a channel in publisher-confirm mode and marks
  them sent only once the broker has acked every message of the batch (a nack, a broken
  connection or no answer within the publisher's `io_timeout` leaves them pending, to go out again);
- a consumer applies an event and records `(event_id, handler)` in one
  transaction (inbox), and acks only after that commit.
"""

from __future__ import annotations

import json
import logging
import math
import random
import socket
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from amqp import spec
from amqp.method_framing import frame_writer
from amqp.serialization import dumps
from kombu import Connection, Consumer, Exchange, Queue, binding
from kombu.mixins import ConsumerMixin
from sqlalchemy import Text, cast, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from services.common.db import Database, among, utcnow
from services.common.events import ContractError, Event, parse_envelope
from services.common.metrics import EVENTS
from services.common.observability import correlated

log = logging.getLogger(__name__)

EVENTS_EXCHANGE = Exchange("uwagi.events", type="topic", durable=True)
DEAD_EXCHANGE = Exchange("uwagi.dead", type="topic", durable=True)
REASON_HEADER = "x-uwagi-dead-reason"


# Quorum queues (RabbitMQ 3.8+, delivery limits honoured since 3.10): replicated with Raft on a cluster, and a
# message redelivered more than DELIVERY_LIMIT times (a consumer that crashes on it, again and again) leaves the
# queue through its dead-letter exchange instead of looping forever. The limit is generous because a consumer
# also requeues on purpose while the database is down (one requeue per `requeue_pause`).
QUORUM = "quorum"
DELIVERY_LIMIT = 200
RELAY_MAX_BACKOFF = 5.0
# A broker that dies without closing the TCP connection (its host lost, a NAT or firewall entry dropped) is noticed
# by a consumer only through missed heartbeats, after two intervals: 20 s here, so that it is consuming again within
# 30 s. Handlers only touch their database, far shorter than that; one that
# blocked longer would lose its connection, and the redelivery would be absorbed by the inbox.
CONSUMER_HEARTBEAT = 10.0


def events_queue(service: str, routing_keys: Iterable[str]) -> Queue:
    return Queue(
        f"{service}.events",
        bindings=[binding(EVENTS_EXCHANGE, routing_key=key) for key in sorted(set(routing_keys))],
        durable=True,
        queue_arguments={
            "x-queue-type": QUORUM,
            "x-delivery-limit": DELIVERY_LIMIT,
            # Rejected messages also reach the dead-letter queue (RabbitMQ only;
            # the consumer dead-letters explicitly so the reason travels too).
            "x-dead-letter-exchange": DEAD_EXCHANGE.name,
            "x-dead-letter-routing-key": f"{service}.events",
        },
    )


def dead_queue(service: str) -> Queue:
    return Queue(f"{service}.events.dead", exchange=DEAD_EXCHANGE, routing_key=f"{service}.events", durable=True,
                 queue_arguments={"x-queue-type": QUORUM})


class BrokerUnavailable(RuntimeError):
    pass


class TransientError(RuntimeError):
    """Raised by handlers for failures worth retrying (a peer is down, a lock timed out)."""


class PermanentError(RuntimeError):
    """Raised by handlers for input that will never succeed: dead-letter it."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (TransientError, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, IntegrityError):
        return False
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return False


def _describe(exc: BaseException) -> str:
    """The exception's type as well: a socket timeout's message is empty, which left the outbox's last_error blank."""
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


@dataclass(frozen=True)
class OutboundMessage:
    """One envelope ready for the wire: its JSON text, routing key (the event type) and message id (the event id)."""

    body: str
    routing_key: str
    message_id: str


# How a publisher learns that the broker has taken a batch (on AMQP; `memory://` has neither, and a publish
# there is complete when the call returns).
CONFIRMS = "confirms"  # RabbitMQ publisher confirms: the batch streams out, the broker's acks come back behind it
TRANSACTIONS = "transactions"  # one AMQP channel transaction per batch: `tx.commit-ok` confirms it
WRITE_CHUNK = 64 * 1024  # a batch's publish frames go to the socket in writes of about this size


@dataclass(eq=False)
class Publication:
    """A batch handed to the broker. `BrokerPublisher.wait` returns once the broker has taken all of it.

    Without `confirms` (a transaction, or the in-process transport) it was taken when `send` returned; with
    them it holds its delivery tags, first..last, on its channel.
    """

    count: int
    confirms: "_Confirms | None" = None
    first: int = 0
    last: int = 0
    refused: bool = False  # the broker nacked at least one of its messages


class _Confirms:
    """The broker's answers on one channel in confirm mode, by delivery tag (1, 2, 3 ... per channel).

    An ack or nack with `multiple` settles every tag up to its own; RabbitMQ acks in ranges, so a batch of
    hundreds usually costs a handful of frames. Only the publications still waiting for answers are kept.
    `broken` says why no more answers will come: the channel was dropped (a failure, an idle replacement,
    close), and whatever it had not confirmed never will be.
    """

    __slots__ = ("published", "settled", "_singles", "_open", "broken")

    def __init__(self) -> None:
        self.published = 0  # the last tag handed out
        self.settled = 0  # every tag up to this one was acked or nacked
        self._singles: set[int] = set()  # settled one by one above `settled`
        self._open: deque[Publication] = deque()  # sent, not all settled yet, in tag order
        self.broken: str | None = None

    def sent(self, count: int) -> Publication:
        publication = Publication(count, self, self.published + 1, self.published + count)
        self.published = publication.last
        self._open.append(publication)
        return publication

    def on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple)

    def on_nack(self, delivery_tag: int, multiple: bool) -> None:
        # A multiple nack refuses every tag not settled before it; a tag acked singly in that range counts as
        # refused too, which only sends it again.
        first = self.settled + 1 if multiple else delivery_tag
        for publication in self._open:
            if publication.first <= delivery_tag and first <= publication.last:
                publication.refused = True
        self._settle(delivery_tag, multiple)

    def _settle(self, tag: int, multiple: bool) -> None:
        if tag <= self.settled:
            return
        if multiple:
            self.settled = tag
            if self._singles:
                self._singles = {t for t in self._singles if t > tag}
        elif tag == self.settled + 1:
            self.settled = tag
        else:
            self._singles.add(tag)
            return
        while self._singles and self.settled + 1 in self._singles:
            self.settled += 1
            self._singles.remove(self.settled)
        while self._open and self._open[0].last <= self.settled:
            self._open.popleft()

    def outcome(self, publication: Publication) -> bool | None:
        """True when every message of the publication was acked, False when one was refused, None while any
        is unanswered."""
        if publication.refused:
            return False
        if self.settled >= publication.last or all(
                t <= self.settled or t in self._singles for t in range(publication.first, publication.last + 1)):
            return True
        return None


class BrokerPublisher:
    """Publishes envelopes with broker confirmation, a batch at a time.

    On AMQP the default (`mode=CONFIRMS`) puts the channel in publisher-confirm mode: `send` writes a batch without
    waiting, and `wait` reads the broker's acks for it, which RabbitMQ sends once the messages are routed and, for
    persistent messages on durable queues, written to disk. A caller (the relay) can prepare and send the next batch
    while the broker syncs the previous one; `publish_messages` is `send` followed by `wait`. A nack, a connection
    that breaks with acks outstanding, or no answer within `io_timeout` means the batch is not confirmed, and
    `wait` raises. `mode=TRANSACTIONS` runs each batch in one channel transaction instead: `send` returns after
    `tx.commit-ok`, so nothing overlaps the broker's sync (bench/relay_bench.py compares the two). Either is
    several times faster than kombu's `confirm_publish`, which waits for each message's ack before sending the
    next. The in-process `memory://` transport has neither; a publish there is complete when the call returns.

    The connection runs without heartbeats, so a link that stalls without closing (a dead peer, a dropped route)
    would block a wait for acks forever, with the relay's outbox rows locked; `io_timeout` bounds every socket
    read and write, and every wait for acks, instead. A connection left unused for `max_idle` seconds is replaced
    before the next publish rather than trusted: nothing has exercised it, so it may have died unseen (the broker
    restarted behind a path that lost it), and finding out would cost that publish the whole `io_timeout`. After
    a broker restart the relay then publishes at its first try.
    """

    def __init__(self, broker_url: str, *, connect_timeout: float = 3.0, io_timeout: float = 15.0,
                 max_idle: float = 10.0, mode: str = CONFIRMS):
        if mode not in (CONFIRMS, TRANSACTIONS):
            raise ValueError(f"publisher mode must be {CONFIRMS!r} or {TRANSACTIONS!r}, not {mode!r}")
        self.broker_url = broker_url
        self.connect_timeout = connect_timeout
        self.io_timeout = io_timeout
        self.max_idle = max_idle
        self.mode = mode
        self._connection: Connection | None = None
        self._channel: Any = None
        self._confirms: _Confirms | None = None
        self._used_at = 0.0
        self._lock = threading.Lock()

    @property
    def in_process(self) -> bool:
        return self.broker_url.startswith("memory://")

    @property
    def transactional(self) -> bool:
        return not self.in_process and self.mode == TRANSACTIONS

    @property
    def confirms(self) -> bool:
        """Whether a sent batch may still be unconfirmed: `wait` has to read the broker's acks."""
        return not self.in_process and self.mode == CONFIRMS

    def _ensure_channel(self) -> Any:
        if self._channel is not None:
            if self.in_process or time.monotonic() - self._used_at <= self.max_idle:
                return self._channel
            self._retire()
        connection = Connection(self.broker_url, connect_timeout=self.connect_timeout, heartbeat=0,
                                transport_options={"read_timeout": self.io_timeout,
                                                   "write_timeout": self.io_timeout})
        confirms = None
        try:
            connection.ensure_connection(max_retries=1, timeout=self.connect_timeout)
            channel = connection.channel()
            EVENTS_EXCHANGE(channel).declare()
            DEAD_EXCHANGE(channel).declare()
            if self.transactional:
                channel.tx_select()
            elif self.confirms:
                confirms = _Confirms()
                channel.events["basic_ack"].add(confirms.on_ack)
                channel.events["basic_nack"].add(confirms.on_nack)
                channel.confirm_select()
        except Exception as exc:
            connection.release()
            raise BrokerUnavailable(f"cannot reach the broker: {_describe(exc)}") from exc
        self._connection, self._channel, self._confirms = connection, channel, confirms
        return channel

    def _drop(self, reason: str) -> Connection | None:
        """Forget the connection; batches sent on it and not yet confirmed never will be."""
        if self._confirms is not None:
            self._confirms.broken = reason
        connection, self._connection, self._channel, self._confirms = self._connection, None, None, None
        return connection

    def _retire(self) -> None:
        """Replace the idle connection; close the old one politely in the background (its close handshake is
        bounded by `io_timeout` if it died, and the broker logs no abrupt close if it did not)."""
        connection = self._drop(f"the connection was replaced after {self.max_idle:g} s idle")

        def close() -> None:
            try:
                connection.release()
            except Exception:  # it was dead after all; nothing to release
                pass

        threading.Thread(target=close, name="publisher-retire", daemon=True).start()

    def _reset(self, *, broken: bool = True, reason: str = "the connection failed") -> None:
        connection = self._drop(reason)
        try:
            if connection is not None:
                if broken:
                    # No connection.close handshake on a link that just failed: on a stalled one, waiting
                    # for close-ok would cost another io_timeout.
                    connection.collect()
                else:
                    connection.release()
        except Exception:  # the connection is already broken; nothing to release
            pass

    def publish_batch(self, envelopes: Sequence[Mapping[str, Any]], *, exchange: Exchange = EVENTS_EXCHANGE,
                      routing_key: str | None = None, headers: Mapping[str, Any] | None = None) -> None:
        """Publish all envelopes or raise BrokerUnavailable; never a partial success that looks whole."""
        self.publish_messages([OutboundMessage(json.dumps(envelope, ensure_ascii=False), routing_key or envelope["type"],
                                               str(envelope.get("id", ""))) for envelope in envelopes],
                              exchange=exchange, headers=headers)

    def publish_messages(self, messages: Sequence["OutboundMessage"], *, exchange: Exchange = EVENTS_EXCHANGE,
                         headers: Mapping[str, Any] | None = None) -> None:
        """Publish serialised envelopes (the outbox stores them as JSON text) all or none; see publish_batch."""
        self.wait(self.send(messages, exchange=exchange, headers=headers))

    def send(self, messages: Sequence["OutboundMessage"], *, exchange: Exchange = EVENTS_EXCHANGE,
             headers: Mapping[str, Any] | None = None) -> Publication:
        """Write a batch to the broker; `wait` for the returned publication before counting it as published.

        Raises BrokerUnavailable if the batch could not be written (or, in a transaction, committed)."""
        if not messages:
            return Publication(0)
        with self._lock:
            channel = self._ensure_channel()
            confirms = self._confirms
            try:
                if self.in_process:
                    self._publish_each(channel, messages, exchange.name, dict(headers or {}))
                else:
                    self._write_frames(channel, messages, exchange.name, dict(headers or {}))
                if self.transactional:
                    channel.tx_commit()
            except Exception as exc:
                self._reset()
                raise BrokerUnavailable(f"publish failed: {_describe(exc)}") from exc
            self._used_at = time.monotonic()
            if confirms is None:
                return Publication(len(messages))
            return confirms.sent(len(messages))

    @staticmethod
    def _publish_each(channel: Any, messages: Sequence["OutboundMessage"], exchange: str,
                      headers: dict[str, Any]) -> None:
        # The channel's own prepare/publish, as kombu's Producer.publish ends up calling, without its per-message
        # serializer lookup, declaration checks and retry wrapper: the body is JSON text already and the
        # exchanges were declared with the channel.
        prepare, publish = channel.prepare_message, channel.basic_publish
        for message in messages:
            publish(prepare(message.body.encode("utf-8"), None, "application/json", "utf-8", dict(headers),
                            {"delivery_mode": 2, "message_id": message.message_id}),
                    exchange=exchange, routing_key=message.routing_key)

    @staticmethod
    def _write_frames(channel: Any, messages: Sequence["OutboundMessage"], exchange: str,
                      headers: dict[str, Any]) -> None:
        """The same basic.publish frames py-amqp's `basic_publish` writes, encoded by its own frame writer into a
        buffer and written in chunks of WRITE_CHUNK bytes: one `sendall` per chunk instead of one per message
        (which, with a non-blocking read per publish for a `connection.blocked` notice, was most of the
        publisher's CPU). A broker that blocks publishers stops reading; the write then times out after
        `io_timeout` and the batch fails, as any write to a stalled link does."""
        connection = channel.connection
        buffer = bytearray()
        write_frame = frame_writer(connection, SimpleNamespace(write=buffer.extend))
        arguments: dict[str, bytes] = {}  # the method frame's arguments, per routing key
        for message in messages:
            key = message.routing_key
            if (args := arguments.get(key)) is None:
                args = arguments[key] = dumps("Bssbb", (0, exchange, key, False, False))
            write_frame(1, channel.channel_id, spec.Basic.Publish, args,
                        channel.prepare_message(message.body.encode("utf-8"), None, "application/json", "utf-8",
                                                dict(headers), {"delivery_mode": 2, "message_id": message.message_id}))
            if len(buffer) >= WRITE_CHUNK:
                connection.transport.write(buffer)
                buffer.clear()
        if buffer:
            connection.transport.write(buffer)

    def wait(self, publication: Publication) -> None:
        """Return once the broker has confirmed every message of `publication`.

        Raises BrokerUnavailable if it refused one (a nack), the connection broke before every ack arrived, or
        no answer came for `io_timeout` seconds (the connection is then dropped: a stalled link must not hold
        the caller, or the outbox rows it has locked, any longer)."""
        confirms = publication.confirms
        if confirms is None:
            return
        deadline = time.monotonic() + self.io_timeout
        with self._lock:
            while (outcome := confirms.outcome(publication)) is None:
                if confirms.broken is not None:
                    raise BrokerUnavailable(f"publish not confirmed: {confirms.broken}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._reset(reason="no confirmation came in time")
                    raise BrokerUnavailable(f"publish not confirmed: timed out, no answer from the broker "
                                            f"within {self.io_timeout:g} s")
                try:
                    # Reads one frame (an ack, usually for many messages) and dispatches it to `confirms`.
                    self._channel.connection.drain_events(timeout=remaining)
                except socket.timeout:
                    continue
                except Exception as exc:
                    self._reset()
                    raise BrokerUnavailable(f"publish not confirmed: {_describe(exc)}") from exc
            self._used_at = time.monotonic()
        if not outcome:
            raise BrokerUnavailable("publish not confirmed: the broker refused messages of the batch (basic.nack)")

    def ping(self) -> None:
        """A round trip to the broker; a cached channel alone would not notice a dead connection."""
        with self._lock:
            channel = self._ensure_channel()
            try:
                EVENTS_EXCHANGE(channel).declare(passive=True)
            except Exception as exc:
                self._reset()
                raise BrokerUnavailable(f"broker did not answer: {_describe(exc)}") from exc
            self._used_at = time.monotonic()

    def close(self) -> None:
        with self._lock:
            self._reset(broken=False, reason="the publisher was closed")


@dataclass
class _ClaimedBatch:
    """Outbox rows locked in an open transaction of their own, on their way to the broker."""

    conn: Any  # sqlalchemy Connection
    transaction: Any
    ids: list[int]
    messages: list[OutboundMessage]
    publication: Publication | None = None
    failure: BrokerUnavailable | None = None

    def abandon(self) -> None:
        """After an unexpected error: close the connection, which rolls the claim back (the rows stay pending)."""
        self.conn.close()


def batch_delay(last_batch: float, now: float, window: float) -> float:
    """How long to gather before acting on new work, given when the previous batch was taken (monotonic seconds).

    Idle (the last batch is more than `window` old): at once, so a lone event is not kept waiting. Busy: until
    `window` after the last batch, so the work of each window shares one transaction, commit and confirm. The
    relay and the consumers both batch by this rule; under a steady load a batch holds about `window` × the rate.
    """
    return max(0.0, last_batch + window - now)


class OutboxRelay:
    """Moves committed outbox rows to the broker; kicked after commits and swept periodically."""

    def __init__(self, db: Database, outbox_model: type, publisher: BrokerPublisher, *, batch_size: int = 500,
                 interval: float = 2.0, name: str = "relay", on_tick: Callable[[], None] | None = None,
                 window: float = 0.15):
        self.db = db
        self.outbox_model = outbox_model
        self.publisher = publisher
        self.batch_size = batch_size
        self.interval = interval
        self.name = name
        self.on_tick = on_tick
        # A kicked relay sweeps at once if it has not swept for `window` seconds, else when `window` has passed
        # since its last sweep ended: an idle system publishes a commit's events at once, and a busy one sends the
        # commits of each window in one batch (one claim, one confirm, one mark) instead of a sweep per commit.
        self.window = window
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def publish_pending(self) -> int:
        """Publish until the outbox is empty; returns the number published. Raises BrokerUnavailable.

        Each batch is claimed in a database transaction of its own (Core statements, no ORM objects), sent, and
        marked published in that transaction once the broker has confirmed it. With publisher confirms on
        PostgreSQL the batches overlap: the next batch is claimed (SKIP LOCKED passes over the rows still held)
        and sent while the broker syncs the previous one, whose rows are marked when its acks are in. The
        batches of one sweep may therefore reach the broker out of id order after a failure (a batch refused,
        then sent again after the next one), as they may with concurrent relays; consumers already take events
        in any order (one that comes before its prerequisite is parked). After a failure no new batch is
        claimed; the batch in flight is settled, then the first failure raised.
        """
        pipelined = self.publisher.confirms and self.db.is_postgres
        total, failures = 0, []
        in_flight: _ClaimedBatch | None = None
        batch: _ClaimedBatch | None = None
        try:
            while True:
                batch = None if failures else self._claim()
                if batch is not None:
                    self._send(batch)
                if in_flight is not None:
                    total += self._settle(in_flight, failures)
                    in_flight = None
                if batch is None:
                    return self._finish(total, failures)
                if pipelined and batch.failure is None and len(batch.ids) == self.batch_size:
                    in_flight, batch = batch, None  # its acks are read after the next batch is on its way
                    continue
                total += self._settle(batch, failures)
                if len(batch.ids) < self.batch_size:
                    return self._finish(total, failures)
                batch = None
        except BaseException:
            for open_batch in (in_flight, batch):
                if open_batch is not None:
                    open_batch.abandon()
            raise

    @staticmethod
    def _finish(total: int, failures: list[BrokerUnavailable]) -> int:
        if failures:
            raise failures[0]
        return total

    def _claim(self) -> "_ClaimedBatch | None":
        """Open a transaction and lock up to `batch_size` pending rows in it; None (and no transaction) if none."""
        table = self.outbox_model.__table__
        conn = self.db.engine.connect()
        try:
            transaction = conn.begin()
            if self.db.is_postgres:
                # The mark need not wait for its WAL flush: lost in a crash, it only makes the rows go out
                # again, and the consumers' inbox absorbs the duplicates. The broker's confirmation stays synchronous.
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            # The stored JSON as text goes to the broker as it is: no parse and re-serialise per event.
            query = (select(table.c.id, table.c.event_id, table.c.event_type, cast(table.c.envelope, Text))
                     .where(table.c.published_at.is_(None)).order_by(table.c.id).limit(self.batch_size))
            if self.db.is_postgres:
                # Several relays (one per process) may sweep at once; each takes its own rows.
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
        except BaseException:
            conn.close()
            raise
        if not rows:
            transaction.commit()
            conn.close()
            return None
        return _ClaimedBatch(conn, transaction, [row[0] for row in rows],
                             [OutboundMessage(body, event_type, event_id) for _, event_id, event_type, body in rows])

    def _send(self, batch: "_ClaimedBatch") -> None:
        try:
            batch.publication = self.publisher.send(batch.messages)
        except BrokerUnavailable as exc:
            batch.failure = exc
        batch.messages = []

    def _settle(self, batch: "_ClaimedBatch", failures: list[BrokerUnavailable]) -> int:
        """Wait for the broker's confirmation, then mark the rows published (or note the failure) and commit."""
        if batch.failure is None:
            try:
                self.publisher.wait(batch.publication)
            except BrokerUnavailable as exc:
                batch.failure = exc
        table = self.outbox_model.__table__
        if batch.failure is None:
            values = {"published_at": utcnow(), "attempts": table.c.attempts + 1}
        else:  # recorded on the rows and committed, then raised
            values = {"attempts": table.c.attempts + 1, "last_error": str(batch.failure)[:500]}
            failures.append(batch.failure)
        try:
            batch.conn.execute(update(table).where(among(batch.conn, table.c.id, batch.ids)).values(**values))
            batch.transaction.commit()
        finally:
            batch.conn.close()
        return 0 if batch.failure is not None else len(batch.ids)

    def pending_count(self) -> int:
        from sqlalchemy import func

        with self.db.transaction() as session:
            return session.scalar(
                select(func.count()).select_from(self.outbox_model).where(self.outbox_model.published_at.is_(None))
            ) or 0

    def kick(self) -> None:
        self._wake.set()

    def start(self) -> "OutboxRelay":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        backoff = 0.0
        last_sweep = -math.inf
        while not self._stop.is_set():
            if self._wake.wait(timeout=max(self.interval, backoff)):
                delay = batch_delay(last_sweep, time.monotonic(), self.window)
                if delay > 0:
                    self._stop.wait(delay)
            self._wake.clear()
            if self._stop.is_set():
                break
            if self.on_tick is not None:
                self.on_tick()
            try:
                published = self.publish_pending()
                if published:
                    log.debug("%s published %d events", self.name, published)
                backoff = 0.0
            except BrokerUnavailable as exc:
                # Capped low: after a broker restart the relay must publish again within seconds.
                backoff = min(RELAY_MAX_BACKOFF, max(0.5, backoff * 2))
                log.warning("%s: broker unavailable, retrying in %.0fs: %s", self.name, backoff, exc)
            except Exception:  # keep sweeping: a crashed relay would silently stop all publishing
                log.exception("%s: unexpected error", self.name)
                backoff = 5.0
            last_sweep = time.monotonic()  # the window runs from the end, as a consumer's from its last commit


EventHandler = Callable[[Event, Session], None]
DeadLetterSink = Callable[[Mapping[str, Any], str], None]


def handles_many(many: Callable[[Sequence[Event], Session], None]) -> Callable[[EventHandler], EventHandler]:
    """Give a handler a batch form: `many(events, session)` must leave what calling the handler for each event in
    turn leaves, with fewer statements. `InboxDispatcher.apply_batch` calls it for a run of events of one type."""

    def mark(handler: EventHandler) -> EventHandler:
        handler.many = many  # type: ignore[attr-defined]
        return handler

    return mark


def _runs_of_one_type(events: Sequence[Event]) -> list[list[Event]]:
    runs: list[list[Event]] = []
    for event in events:
        if runs and runs[-1][0].type == event.type:
            runs[-1].append(event)
        else:
            runs.append([event])
    return runs


def handler_name(handler: EventHandler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"[-120:]


@dataclass
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        exp = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return exp / 2 + random.uniform(0, exp / 2)


@dataclass
class InboxDispatcher:
    """Applies an event to every handler registered for its type, each at most once.

    `dispatch` runs each handler in its own transaction with its inbox row, so one
    failing handler neither blocks nor repeats the others. A transient error is
    retried in place with backoff; if it persists, the (event, handler) pair is
    parked in the service's `parked_events` table and retried by a sweep, so an
    event that merely came early is not lost. `after_commit` runs once the work
    is durable.

    `apply_batch` is the consumer's fast path: every handler of several events in
    one transaction, with one inbox row per (event, handler) and one commit. It is
    all or nothing: if anything in it fails, it rolls back whole and the consumer
    applies the same events one by one with `dispatch`, so a poison event is parked
    or dead-lettered on its own and the others are applied.
    """

    db: Database
    inbox_model: type
    handlers: Mapping[str, Sequence[EventHandler]]
    after_commit: Callable[[], None] | None = None
    parked_model: type | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    park_for: timedelta = timedelta(days=7)
    first_parked_retry: timedelta = timedelta(seconds=30)
    max_parked_backoff: timedelta = timedelta(hours=1)
    service: str = ""  # the metrics' label

    @property
    def routing_keys(self) -> list[str]:
        return sorted(self.handlers)

    def dispatch(self, event: Event) -> list[str]:
        """Apply every handler; return the reasons of permanent failures (none when all applied or parked)."""
        with correlated(event.correlation_id):
            failures = [f for f in (self._apply_with_retries(h, event) for h in self.handlers.get(event.type, ()))
                        if f]
        if self.after_commit is not None:
            self.after_commit()
        return failures

    def _apply_with_retries(self, handler: EventHandler, event: Event) -> str | None:
        name = handler_name(handler)
        for attempt in range(1, self.retry.attempts + 1):
            try:
                self._apply(handler, event)
                return None
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("%s failed permanently on %s (%s)", name, event.id, event.type)
                    return f"{name}: permanent error: {type(exc).__name__}: {exc}"
                if attempt < self.retry.attempts:
                    delay = self.retry.delay(attempt)
                    log.warning("transient error in %s on %s, try %d, retrying in %.2fs: %s",
                                name, event.id, attempt, delay, exc)
                    time.sleep(delay)
                    continue
                if self.parked_model is None:
                    return f"{name}: transient error, retries exhausted: {type(exc).__name__}: {exc}"
                self._park(event, name, exc)
                return None
        return None

    def _apply(self, handler: EventHandler, event: Event) -> None:
        name = handler_name(handler)
        with self.db.transaction() as session:
            if self._already_applied(session, [(event.id, name)]):
                log.info("skipping %s for %s: already applied", event.id, name)
                return
            handler(event, session)
            self._mark_applied(session, [(event, name)])
            # A concurrent consumer applying the same event loses on the primary key
            # and rolls back its whole effect, which is what we want.

    def apply_batch(self, events: Sequence[Event]) -> None:
        """Apply every handler of every event in one transaction, skipping the (event, handler) pairs the inbox
        already holds (a redelivery; the same event twice in one batch, as a relay's duplicate publish). All or
        nothing: raises, with nothing committed, if any handler or the commit fails.

        Consecutive events of one type form a run, and a run is applied handler by handler (the first handler
        for each event of the run, then the second, ...), so that a handler with a batch form (`handles_many`)
        is called once for the run. Runs keep the order of the events, so an event of another type in between
        still sees the events before it applied, and none after it."""
        with self.db.transaction() as session:
            done = self._already_applied(session, [(event.id, handler_name(handler)) for event in events
                                                   for handler in self.handlers.get(event.type, ())])
            applied: list[tuple[Event, str]] = []
            for run in _runs_of_one_type(events):
                for handler in self.handlers.get(run[0].type, ()):
                    name = handler_name(handler)
                    todo = []
                    for event in run:
                        if (event.id, name) in done:
                            log.info("skipping %s for %s: already applied", event.id, name)
                            continue
                        done.add((event.id, name))
                        todo.append(event)
                    many = getattr(handler, "many", None)
                    if many is not None and len(todo) > 1:
                        many(todo, session)
                    else:
                        for event in todo:
                            with correlated(event.correlation_id):
                                handler(event, session)
                    applied.extend((event, name) for event in todo)
            self._mark_applied(session, applied)
        if self.after_commit is not None:
            self.after_commit()

    def _already_applied(self, session: Session, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """The (event id, handler) pairs among `keys` that the inbox holds: one query for any number."""
        if not keys:
            return set()
        if len(keys) == 1:
            found = session.get(self.inbox_model, keys[0])
            return {keys[0]} if found is not None else set()
        table = self.inbox_model.__table__
        rows = session.execute(select(table.c.event_id, table.c.handler)
                               .where(among(session, table.c.event_id, sorted({event_id for event_id, _ in keys}))))
        wanted = set(keys)
        return {(event_id, name) for event_id, name in rows if (event_id, name) in wanted}

    def _mark_applied(self, session: Session, applied: Sequence[tuple[Event, str]]) -> None:
        """The inbox rows of what was applied, written with the handlers' effects."""
        if not applied:
            return
        session.flush()  # the handlers' ORM objects first, in the order they were added
        now = utcnow()
        session.execute(insert(self.inbox_model.__table__), [
            {"event_id": event.id, "handler": name, "event_type": event.type, "processed_at": now}
            for event, name in applied])

    def _park(self, event: Event, name: str, exc: BaseException) -> None:
        model = self.parked_model
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        with self.db.transaction() as session:
            parked = session.scalar(select(model).where(model.event_id == event.id, model.handler == name))
            if parked is None:
                session.add(model(event_id=event.id, handler=name, envelope=event.to_envelope(), reason=reason,
                                  attempts=0, next_attempt_at=utcnow() + self.first_parked_retry))
            else:
                parked.reason = reason
        log.warning("parked %s (%s) for %s: %s", event.id, event.type, name, reason)
        EVENTS.labels(self.service, event.type, "parked").inc()

    def retry_parked(self, *, dead_letter: DeadLetterSink, limit: int = 200) -> int:
        """Sweep: apply parked events that are due; give up (dead-letter) after `park_for`. Returns how many applied."""
        if self.parked_model is None:
            return 0
        model, now = self.parked_model, utcnow()
        with self.db.transaction() as session:
            due = [(row.id, row.handler, row.envelope, row.parked_at, row.attempts) for row in session.scalars(
                select(model).where(model.next_attempt_at <= now).order_by(model.id).limit(limit))]
        applied = 0
        for row_id, name, envelope, parked_at, attempts in due:
            event = parse_envelope(envelope)
            handler = next((h for h in self.handlers.get(event.type, ()) if handler_name(h) == name), None)
            try:
                if handler is None:
                    raise PermanentError(f"no handler {name} for {event.type} any more")
                self._apply(handler, event)
            except Exception as exc:
                if is_transient(exc) and now - parked_at < self.park_for:
                    backoff = min(self.max_parked_backoff, self.first_parked_retry * (2 ** (attempts + 1)))
                    self._update_parked(row_id, attempts=attempts + 1, next_attempt_at=now + backoff,
                                        reason=f"{type(exc).__name__}: {exc}"[:2000])
                    continue
                kind = "parked too long" if is_transient(exc) else "permanent error"
                dead_letter(envelope, f"{name}: {kind}: {type(exc).__name__}: {exc}")
            else:
                applied += 1
            self._delete_parked(row_id)
        if applied and self.after_commit is not None:
            self.after_commit()
        return applied

    def _update_parked(self, row_id: int, **values: Any) -> None:
        with self.db.transaction() as session:
            row = session.get(self.parked_model, row_id)
            for key, value in values.items():
                setattr(row, key, value)

    def _delete_parked(self, row_id: int) -> None:
        with self.db.transaction() as session:
            row = session.get(self.parked_model, row_id)
            if row is not None:
                session.delete(row)


class EventConsumer(ConsumerMixin):
    """Consumes `<service>.events`: validate, dispatch through the inbox, ack after commit.

    Messages are taken in batches: up to `prefetch` unacknowledged at once, gathered until `linger` seconds after
    the previous batch (at once after an idle spell; see `batch_delay`), so a burst shares one transaction
    and one commit, then
    applies them with `InboxDispatcher.apply_batch` and acks each after that commit. If the batch fails, it is
    rolled back and its events are applied one at a time (`dispatch`), each acked, parked or dead-lettered on
    its own, as they would be with a prefetch of one. A batch of one event takes that path directly.

    A message that is not JSON or breaks its contract, or that a handler refuses
    permanently, is published to `uwagi.dead` with the reason in a header, then
    acked. Transient failures are the dispatcher's to retry or park.

    A message the broker redelivers (a consumer died holding it) is applied alone, and each connection starts
    with a prefetch of one until a message arrives that is not a redelivery: a message that kills its consumer
    every time is then delivered alone, and its neighbours in the queue are not returned with it again and
    again (each return counts towards the queue's delivery limit, after which the broker dead-letters it).
    """

    def __init__(self, broker_url: str, service: str, dispatcher: InboxDispatcher, *,
                 dead_publisher: BrokerPublisher | None = None, requeue_pause: float = 5.0,
                 heartbeat: float = CONSUMER_HEARTBEAT, prefetch: int = 100, linger: float = 0.15):
        self.broker_url = broker_url
        self.connection = Connection(broker_url, heartbeat=heartbeat)
        self.service = service
        self.dispatcher = dispatcher
        self.dead_publisher = dead_publisher or BrokerPublisher(broker_url)
        self.queue = events_queue(service, dispatcher.routing_keys)
        self.requeue_pause = requeue_pause
        self.prefetch = max(1, prefetch)
        self.linger = linger
        self.processed = 0
        self.dead_lettered = 0
        self.batches = 0  # committed with apply_batch
        self.failed_batches = 0  # rolled back and applied one event at a time
        self._pending: list[Any] = []
        self._consumer: Consumer | None = None
        self._prefetch_now = 1
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def establish_connection(self) -> Iterator[Connection]:
        # kombu's default backoff grows to 30 s between attempts; after a broker restart a consumer must be back
        # within seconds, without a process restart.
        conn = self.create_connection()
        try:
            conn.ensure_connection(self.on_connection_error, self.connect_max_retries,
                                   interval_start=0.5, interval_step=0.5, interval_max=2.0)
            yield conn
        except BaseException:
            # The connection failed (missed heartbeats, a reset): drop it without the close handshake. kombu's
            # release() sends channel.close and waits for close-ok with no timeout, which on a link that died
            # silently never comes, and the consumer would never reconnect.
            conn.collect()
            raise
        conn.release()

    def get_consumers(self, consumer_cls: type[Consumer], channel: Any) -> list[Consumer]:
        dead_queue(self.service).bind(channel).declare()
        # A prefetch of one until the first message that is not a redelivery (see the class's notes).
        self._prefetch_now = 1
        self._consumer = consumer_cls(queues=[self.queue], on_message=self.on_message, accept=None, prefetch_count=1)
        return [self._consumer]

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **kwargs: Any) -> None:
        self._ready.set()

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return self._ready.wait(timeout)

    def consume(self, limit: int | None = None, timeout: float | None = None, safety_interval: float = 1,
                **kwargs: Any) -> Iterator[None]:
        """kombu's loop, with batches: deliveries collect in `_pending` (see `on_message`) and are applied when the
        batch is full, or when it closes (`batch_delay`: at once after an idle spell, else `linger` seconds after
        the previous batch), or when no more are waiting."""
        with self.consumer_context(**kwargs) as (conn, _channel, _consumers):
            self._pending = []  # deliveries of an earlier, dead channel cannot be acked any more
            last_batch = -math.inf  # when the previous batch was applied
            closes_at = 0.0  # when the batch being gathered is applied
            while not self.should_stop:
                self.on_iteration()
                waiting = len(self._pending)
                # A frame at a time; a message is whole after several, so a short wait still reads them all.
                # Capped, so that a long window does not keep a stopping consumer waiting.
                wait = min(safety_interval, max(0.001, closes_at - time.monotonic())) if waiting else safety_interval
                timed_out = False
                try:
                    conn.drain_events(timeout=wait)
                except socket.timeout:
                    timed_out = True  # handled below, so that the handlers' errors do not chain to it
                except OSError:
                    if not self.should_stop:
                        raise
                    continue
                if self._pending and not waiting:
                    now = time.monotonic()
                    # Even at once means after the frames already in the socket: a burst after an idle spell
                    # is one batch.
                    closes_at = now + max(0.002, batch_delay(last_batch, now, self.linger))
                if self._pending and (len(self._pending) >= self._prefetch_now or time.monotonic() >= closes_at):
                    conn.heartbeat_check()
                    self._flush()
                    last_batch = time.monotonic()
                elif timed_out:
                    conn.heartbeat_check()
                if not timed_out:
                    yield
            if self._pending:  # stopping: what was delivered is applied and acked, not handed back
                self._flush()

    def on_message(self, message: Any) -> None:
        """A delivery: kept for the batch (the consume loop applies it)."""
        self._pending.append(message)

    def apply_pending(self) -> None:
        """Apply the deliveries collected so far (the consume loop calls this)."""
        self._flush()

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        if (self._prefetch_now < self.prefetch and self._consumer is not None
                and not any(message.delivery_info.get("redelivered") for message in pending)):
            # Widened while these are unacknowledged, so that nothing more is on its way to the old subscription.
            self._widen_prefetch()
        alone: list[tuple[Any, Event]] = []  # redeliveries: applied one at a time (see the class's notes)
        batch: list[tuple[Any, Event]] = []
        for message in pending:
            try:
                event = parse_envelope(json.loads(message.body))
            except (ValueError, ContractError) as exc:
                self._dead_letter(message, f"invalid message: {exc}")
                continue
            (alone if message.delivery_info.get("redelivered") else batch).append((message, event))
        for index, (message, event) in enumerate(alone):
            if not self._handle(message, event):
                self._requeue([later for later, _ in alone[index + 1:] + batch])
                return
        # One event alone takes the per-event path: the same transactions, retries and counts as ever.
        if len(batch) > 1:
            try:
                self.dispatcher.apply_batch([event for _, event in batch])
            except Exception as exc:
                self.failed_batches += 1
                log.warning("%s: a batch of %d events failed (%s); applying them one at a time", self.service,
                            len(batch), _describe(exc))
            else:
                self.batches += 1
                # One ack for the batch: every delivery before its last is in it or settled already (the
                # redeliveries above, the dead letters).
                self._ack(batch[-1][0], multiple=True)
                for _, event in batch:
                    self.processed += 1
                    EVENTS.labels(self.service, event.type, "consumed").inc()
                return
        for index, (message, event) in enumerate(batch):
            if not self._handle(message, event):
                self._requeue([later for later, _ in batch[index + 1:]])
                return

    @staticmethod
    def _requeue(messages: list[Any]) -> None:
        """The database is down: what is left of the batch would fail the same way."""
        for message in messages:
            message.requeue()

    def _widen_prefetch(self) -> None:
        """From a prefetch of one to the whole batch. RabbitMQ applies a prefetch to the consumers that subscribe
        after it is set, so the consumer subscribes again."""
        self._consumer.prefetch_count = self.prefetch
        self._consumer.qos(prefetch_count=self.prefetch)
        self._consumer.cancel()
        self._consumer.consume()
        self._prefetch_now = self.prefetch

    def _handle(self, message: Any, event: Event) -> bool:
        """Apply one event on its own and ack, dead-letter or requeue it; False when it was requeued."""
        try:
            failures = self.dispatcher.dispatch(event)
        except Exception:
            # Not even parking worked (the database is down): give the message back and slow down.
            log.exception("could not apply or park %s (%s); requeueing it", event.id, event.type)
            message.requeue()
            time.sleep(self.requeue_pause)
            return False
        if failures:
            self._dead_letter(message, "; ".join(failures))
            return True
        self._ack(message)
        self.processed += 1
        EVENTS.labels(self.service, event.type, "consumed").inc()
        return True

    def _ack(self, message: Any, multiple: bool = False) -> None:
        """`multiple`: this delivery and every earlier one of the channel not settled yet."""
        message.ack(multiple=multiple)

    def dead_letter_envelope(self, envelope: Mapping[str, Any], reason: str, original_routing_key: str = "") -> None:
        """Publish to `uwagi.dead` → `<service>.events.dead`, with the reason in a header. Raises BrokerUnavailable."""
        self.dead_publisher.publish_batch(
            [envelope], exchange=DEAD_EXCHANGE, routing_key=f"{self.service}.events",
            headers={REASON_HEADER: reason[:1000], "x-uwagi-original-routing-key": original_routing_key})
        EVENTS.labels(self.service, str(envelope.get("type", "unparseable")), "dead_lettered").inc()

    def _dead_letter(self, message: Any, reason: str) -> None:
        body = message.body
        if isinstance(body, bytes):
            try:
                body = body.decode("utf-8")
            except UnicodeDecodeError:
                body = body.decode("latin-1")
        try:
            envelope = json.loads(body)
            if not isinstance(envelope, dict):
                raise ValueError
        except ValueError:
            envelope = {"unparseable_body": body[:100_000]}
        try:
            self.dead_letter_envelope(envelope, reason, message.delivery_info.get("routing_key", ""))
        except BrokerUnavailable:
            # Let the broker's own dead-lettering take it (x-dead-letter-exchange).
            message.reject(requeue=False)
            self.dead_lettered += 1
            EVENTS.labels(self.service, str(envelope.get("type", "unparseable")), "dead_lettered").inc()
            return
        self._ack(message)
        self.dead_lettered += 1

    def start(self) -> "EventConsumer":
        self._thread = threading.Thread(target=self.run, name=f"{self.service}-consumer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self.should_stop = True
        if self._thread is not None:
            self._thread.join(timeout)
        self.dead_publisher.close()


@dataclass
class DeadLetter:
    envelope: dict
    reason: str
    headers: dict = field(default_factory=dict)


def read_dead_letters(broker_url: str, service: str, *, limit: int = 100, ack: bool = False) -> list[DeadLetter]:
    """Inspect (and optionally drain) a service's dead-letter queue, for operators and tests."""
    found: list[DeadLetter] = []
    with Connection(broker_url) as conn:
        queue = dead_queue(service).bind(conn.default_channel)
        queue.declare()
        held = []
        for _ in range(limit):
            message = queue.get(no_ack=False, accept=None)
            if message is None:
                break
            try:
                envelope = json.loads(message.body)
            except ValueError:
                envelope = {"unparseable_body": str(message.body)[:1000]}
            headers = dict(message.headers or {})
            found.append(DeadLetter(envelope=envelope, reason=str(headers.get(REASON_HEADER, "")), headers=headers))
            held.append(message)
        for message in held:
            if ack:
                message.ack()
            else:
                message.requeue()
    return found
