"""R3 of issue 9: a PostgreSQL outage during submissions. Intake answers 503 with Retry-After, never 500, and
everything it accepted is delivered once the database is back.

Intake's database lives on a PostgreSQL cluster of the test's own (tests/support/chaos.py); intake's WSGI app runs
behind a real threaded HTTP server with its outbox relay, on a RabbitMQ vhost of its own. Client threads keep
submitting comments before, during and after the outage (`pg_ctl stop -m fast`, `CHAOS_R3_OUTAGE` seconds,
`pg_ctl start`). A consumer on the shared PostgreSQL, behind the real inbox, counts `submission.received` by
reference: every 201 must arrive there exactly once, and nothing else.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from services.common.bus import EventConsumer, InboxDispatcher
from services.common.db import Database, upgrade
from services.intake.app import build, create_app
from services.intake.models import Outbox as IntakeOutbox
from services.review.models import Inbox as ReviewInbox
from tests.integration.test_postgres import open_consultation
from tests.support.chaos import PgCluster
from tests.support.infra import free_port, wait_until

pytestmark = [pytest.mark.chaos, pytest.mark.rabbitmq, pytest.mark.postgres]

OUTAGE = float(os.environ.get("CHAOS_R3_OUTAGE", "60"))
CLIENTS = 3


@dataclass
class Answer:
    at: float
    status: int  # 0: no answer at all (the connection failed or timed out)
    retry_after: str | None
    reference: str | None


@pytest.fixture
def pg() -> Iterator[PgCluster]:
    pg = PgCluster().start()  # under /tmp: as root it runs as `postgres`, who cannot enter pytest's tmp_path
    yield pg
    pg.destroy()


@pytest.fixture
def intake(pg: PgCluster, rabbit, tmp_path: Path):
    from services.common.settings import load_settings

    url = pg.create_database("uwagi_intake")
    upgrade("intake", url)
    settings = load_settings({
        "UWAGI_DATA_DIR": str(tmp_path / "var"), "UWAGI_SECRET_KEY": "chaos-r3-secret-key-0123456789",
        "UWAGI_BROKER_URL": rabbit.url(), "INTAKE_DATABASE_URL": url, "UWAGI_RELAY_INTERVAL": "0.5",
        "UWAGI_RATE_LIMIT_CLIENT": "off", "UWAGI_RATE_LIMIT_RECIPIENT": "off"})
    ctx = build(settings)
    consultation = open_consultation(ctx)
    app = create_app(settings, ctx=ctx)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="intake-http", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/intake/api/v1", consultation.id, ctx
    server.shutdown()
    thread.join(10)
    ctx.close()


@pytest.fixture
def receiver(postgres, rabbit):
    """A consumer of `submission.received` behind the real inbox, counting each reference it applies."""
    url = postgres.create_database("uwagi_r3_receiver")
    upgrade("review", url)
    db = Database(url)
    applied: Counter[str] = Counter()

    def record(event, session):
        applied[event.data["reference"]] += 1

    consumer = EventConsumer(rabbit.url(), "r3receiver",
                             InboxDispatcher(db, ReviewInbox, {"submission.received": [record]})).start()
    assert consumer.wait_ready(30)
    yield applied
    consumer.stop()
    db.dispose()


def keep_submitting(base: str, consultation_id: str, answers: list[Answer], lock: threading.Lock,
                    stop: threading.Event, client: int) -> None:
    session = requests.Session()
    n = 0
    while not stop.is_set():
        n += 1
        try:
            response = session.post(f"{base}/consultations/{consultation_id}/submissions", timeout=15, json={
                "submitter": {"name": "Jan Nowak", "email": f"r3-{client}-{n}@example.org", "publish_consent": False},
                "comments": [{"section": "§ 1", "proposal": f"Uwaga {client}/{n} w czasie awarii bazy."}]})
            answer = Answer(time.monotonic(), response.status_code, response.headers.get("Retry-After"),
                            response.json().get("reference") if response.status_code == 201 else None)
        except requests.RequestException:
            answer = Answer(time.monotonic(), 0, None, None)
        with lock:
            answers.append(answer)
        stop.wait(0.05 if answer.status == 201 else 0.2)


def test_r3_a_postgres_outage_answers_503_with_retry_after_and_loses_nothing_accepted(pg, intake, receiver):
    base, consultation_id, ctx = intake
    applied = receiver
    answers: list[Answer] = []
    lock = threading.Lock()
    stop = threading.Event()
    clients = [threading.Thread(target=keep_submitting, args=(base, consultation_id, answers, lock, stop, c),
                                daemon=True) for c in range(CLIENTS)]
    for thread in clients:
        thread.start()
    try:
        wait_until(lambda: sum(a.status == 201 for a in answers) >= 20, timeout=60, what="20 submissions before")
        stopping = time.monotonic()
        pg.stop("fast")
        down_at = time.monotonic()
        time.sleep(OUTAGE)
        starting = time.monotonic()
        pg.start()
        up_at = time.monotonic()
        wait_until(lambda: any(a.status == 201 and a.at > up_at for a in answers), timeout=60,
                   what="a 201 after the restart")
        accepting_after = min(a.at for a in answers if a.status == 201 and a.at > up_at) - up_at
        time.sleep(3)
    finally:
        stop.set()
        for thread in clients:
            thread.join(20)
    accepted = [a.reference for a in answers if a.status == 201]
    wait_until(lambda: ctx.relay.pending_count() == 0, timeout=60, what="intake's outbox to drain")
    drained_after = time.monotonic() - up_at
    wait_until(lambda: set(applied) >= set(accepted), timeout=120, interval=0.5,
               what="every accepted submission at the consumer")
    time.sleep(2)  # a redelivery gets its chance to show
    with ctx.db.transaction() as session:
        stored = [envelope["data"]["reference"] for envelope in session.scalars(
            select(IntakeOutbox.envelope).where(IntakeOutbox.event_type == "submission.received"))]
    during = [a for a in answers if down_at <= a.at <= starting]
    statuses = Counter(a.status for a in answers)
    print(f"\nR3 figures: outage_s={starting - stopping:.1f} answers={len(answers)} statuses={dict(statuses)} "
          f"during_outage={len(during)} ({dict(Counter(a.status for a in during))}) accepted={len(accepted)} "
          f"accepting_again_after_s={accepting_after:.1f} outbox_drained_after_restart_s={drained_after:.1f} "
          f"stored={len(stored)} delivered={len(applied)} applied={sum(applied.values())}")
    assert 500 not in statuses and set(statuses) <= {201, 503}, f"answers other than 201 and 503: {dict(statuses)}"
    assert during and all(a.status == 503 for a in during), "every answer while the database is down is a 503"
    assert all(a.retry_after and a.retry_after.isdigit() for a in answers if a.status == 503), "503 without Retry-After"
    assert len(set(accepted)) == len(accepted) and len(set(stored)) == len(stored)
    # A COMMIT cut by the shutdown may have been durable although its client got a 503: stored, not accepted.
    assert set(accepted) <= set(stored), "a 201 without its submission and event"
    assert set(applied) == set(stored), "a stored submission was not delivered, or an unknown one was"
    assert max(applied.values()) == 1, "the consumer applied a submission twice"
