"""R4 of issue 9: after a broker restart every consumer and relay works again within 30 s, without a process restart.

Two services (review and notify) run their real worker wiring (`build_context` + `ServiceWorker`: outbox relay,
event consumer, inbox, sweeps) in this process against a RabbitMQ node of the test's own. Review commits an event
ten times a second; notify's handler applies it and emits an answer in the same transaction; review's handler
applies the answer, so a round trip needs both relays and both consumers. The node is killed with `kill -9` while
events flow, stays down for `CHAOS_R4_OUTAGE` seconds and is started again on the same port and data directory.

From the moment the node accepts connections again the test times each relay's first confirmed publish, each
consumer's first delivery and the first round trip of an event committed after the restart, and checks at the
handlers that every event committed before, during and after the outage was applied exactly once (the inbox
absorbing the redeliveries).

Two ways to lose the broker:
- `closed`: the services talk to the node directly; the kernel closes the dead node's sockets and every client
  learns of the death at once.
- `silent`: the services reach the node through a path that loses its connections without a FIN or RST (a NAT or
  firewall entry dropped, a host lost); only the clients' own timeouts and heartbeats can tell.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Iterator

import pytest

from services.common.db import upgrade
from services.common.runtime import ServiceContext, ServiceWorker, WorkerSpec, build_context
from services.common.settings import load_settings
from services.notify import models as notify_models
from services.review import models as review_models
from tests.support.chaos import RabbitNode
from tests.support.infra import TcpProxy, wait_until

pytestmark = [pytest.mark.chaos, pytest.mark.rabbitmq, pytest.mark.postgres]

RECOVERY_GOAL = 30.0
OUTAGE = float(os.environ.get("CHAOS_R4_OUTAGE", "5"))
ASKED = "consultation.review_completed"
ANSWERED = "notification.sent"


class Flow:
    """What the handlers applied and what the consumers and relays did, by event id and component, with times."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.committed: dict[str, float] = {}  # asked event id -> commit time
        self.asked: Counter[str] = Counter()  # applied at notify
        self.answered: Counter[str] = Counter()  # applied at review (keyed by the asked event's id)
        self.deliveries: Counter[str] = Counter()  # message ids received by both consumers
        self.activity: dict[str, list[float]] = {}  # "review-consumer", "notify-relay"... -> times of success

    def note(self, component: str) -> None:
        with self.lock:
            self.activity.setdefault(component, []).append(time.monotonic())

    def first_after(self, moment: float) -> dict[str, float | None]:
        with self.lock:
            return {component: next((t - moment for t in times if t >= moment), None)
                    for component, times in sorted(self.activity.items())}


def observe(worker: ServiceWorker, flow: Flow) -> None:
    """Note every delivery (before the inbox sees it) and every confirmed publish of the worker's relay."""
    service, on_message, confirmed = worker.ctx.service, worker.consumer.on_message, worker.ctx.publisher.wait

    def counted(message):
        with flow.lock:
            flow.deliveries[str(message.properties.get("message_id") or "")] += 1
        flow.note(f"{service}-consumer")
        on_message(message)

    def published(publication):
        confirmed(publication)  # the relay's wait for the broker's acks of a batch
        flow.note(f"{service}-relay")

    worker.consumer.on_message = counted
    worker.ctx.publisher.wait = published


@pytest.fixture(params=["closed", "silent"])
def path(request, node: RabbitNode) -> Iterator[TcpProxy | None]:
    """`silent`: the services reach the node through a proxy that can lose their connections without a word."""
    if request.param == "closed":
        yield None
        return
    proxy = TcpProxy("127.0.0.1", node.port)
    yield proxy
    proxy.close()


@pytest.fixture
def system(node: RabbitNode, path: TcpProxy | None, postgres,
           tmp_path: Path) -> Iterator[tuple[ServiceWorker, ServiceWorker, Flow]]:
    urls = {svc: postgres.create_database(f"uwagi_r4_{svc}") for svc in ("review", "notify")}
    for svc, url in urls.items():
        upgrade(svc, url)
    broker_url = node.url.replace(f":{node.port}/", f":{path.port}/") if path else node.url
    settings = load_settings({
        "UWAGI_BROKER_URL": broker_url, "UWAGI_DATA_DIR": str(tmp_path / "var"),
        "UWAGI_SECRET_KEY": "chaos-r4-secret-key-0123456789", "UWAGI_RELAY_INTERVAL": "0.5",
        "REVIEW_DATABASE_URL": urls["review"], "NOTIFY_DATABASE_URL": urls["notify"]})
    flow = Flow()
    notify_ctx = build_context("notify", settings, outbox_model=notify_models.Outbox,
                               inbox_model=notify_models.Inbox, parked_model=notify_models.ParkedEvent)
    review_ctx = build_context("review", settings, outbox_model=review_models.Outbox,
                               inbox_model=review_models.Inbox, parked_model=review_models.ParkedEvent)

    def answer(event, session):
        flow.asked[event.id] += 1
        notify_ctx.emit(session, ANSWERED, {"notification_id": f"n-{event.id}", "cause_event_id": event.id,
                                            "template": "chaos"})

    def record_answer(event, session):
        flow.answered[event.data["cause_event_id"]] += 1

    notify = ServiceWorker(notify_ctx, WorkerSpec(handlers={ASKED: [answer]}, sweep_interval=2.0))
    review = ServiceWorker(review_ctx, WorkerSpec(handlers={ANSWERED: [record_answer]}, sweep_interval=2.0))
    for worker in (notify, review):
        observe(worker, flow)
        worker.start_background()
    try:
        for worker in (notify, review):
            assert worker.consumer.wait_ready(30), f"{worker.ctx.service} consumer not ready"
        yield review, notify, flow
    finally:
        for worker in (review, notify):
            worker.stop()


def ask(ctx: ServiceContext, flow: Flow, n: int) -> None:
    with ctx.transaction() as session:
        envelope = ctx.emit(session, ASKED, {"consultation_id": f"c-{n}", "completed_at": "2026-01-01T00:00:00+00:00",
                                             "completed_by": "chaos"})
    with flow.lock:
        flow.committed[str(envelope["id"])] = time.monotonic()


def keep_asking(ctx: ServiceContext, flow: Flow, stop: threading.Event, pause: float = 0.1) -> threading.Thread:
    def run() -> None:
        n = 0
        while not stop.is_set():
            ask(ctx, flow, n)
            n += 1
            stop.wait(pause)

    thread = threading.Thread(target=run, name="r4-producer", daemon=True)
    thread.start()
    return thread


def round_tripped_after(flow: Flow, moment: float) -> bool:
    with flow.lock:
        return any(committed >= moment and event_id in flow.answered
                   for event_id, committed in flow.committed.items())


def all_round_tripped(flow: Flow, before: float = float("inf")) -> bool:
    with flow.lock:
        return all(event_id in flow.answered for event_id, t in flow.committed.items() if t < before)


def test_r4_after_a_broker_restart_relays_and_consumers_work_again_within_30_s(node, path, system):
    review, notify, flow = system
    mode = "silent" if path else "closed"
    stop = threading.Event()
    producer = keep_asking(review.ctx, flow, stop)
    try:
        wait_until(lambda: len(flow.answered) >= 30, timeout=60, what="30 round trips before the kill")
        if path:
            path.lose_connections()
        node.kill()
        killed_at = time.monotonic()
        time.sleep(OUTAGE)
        node.start()
        up_at = time.monotonic()
        try:
            wait_until(lambda: round_tripped_after(flow, up_at) and len(flow.first_after(up_at)) == 4
                       and None not in flow.first_after(up_at).values(),
                       timeout=120, interval=0.1, what="every relay and consumer to work again")
        except AssertionError:
            print(f"\nR4 ({mode}) stalled; first activity after the restart: {flow.first_after(up_at)}")
            faulthandler.dump_traceback(file=sys.stdout, all_threads=True)
            raise
        round_trip_after = time.monotonic() - up_at
        wait_until(lambda: all_round_tripped(flow, before=up_at), timeout=120, interval=0.2,
                   what="every event committed before the restart to make the round trip")
        backlog_after = time.monotonic() - up_at
        time.sleep(3)
    finally:
        stop.set()
        producer.join(10)
    wait_until(lambda: all_round_tripped(flow), timeout=120, interval=0.2,
               what="every committed event to make the round trip")
    time.sleep(2)  # anything still redelivered lands now, and must be absorbed
    with flow.lock:
        committed = set(flow.committed)
        before_up = sum(1 for t in flow.committed.values() if t < up_at)
    first = flow.first_after(up_at)
    deliveries = sum(flow.deliveries.values())
    print(f"\nR4 ({mode}) figures: broker_down_s={up_at - killed_at:.1f} "
          + " ".join(f"{component}_again_after_s={seconds:.1f}" for component, seconds in first.items())
          + f" new_event_round_trip_after_s={round_trip_after:.1f} backlog_delivered_after_s={backlog_after:.1f} "
          f"committed={len(committed)} committed_before_restart={before_up} deliveries={deliveries} "
          f"duplicates_absorbed={deliveries - len(flow.deliveries)} applied_notify={sum(flow.asked.values())} "
          f"applied_review={sum(flow.answered.values())}")
    assert max(first.values()) <= RECOVERY_GOAL, f"not every component was back within {RECOVERY_GOAL} s: {first}"
    assert round_trip_after <= RECOVERY_GOAL
    assert set(flow.asked) == committed == set(flow.answered), "an event was lost"
    assert max(flow.asked.values()) == 1 and max(flow.answered.values()) == 1, "a handler applied an event twice"
