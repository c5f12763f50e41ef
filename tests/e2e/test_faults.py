"""Faults on real infrastructure: a crash before the ack, an unreachable broker, a poison message."""

from __future__ import annotations

import json
import time
import uuid

import psycopg
import pytest
import requests
from kombu import Connection

from services.common.bus import EVENTS_EXCHANGE, handler_name, read_dead_letters
from services.notify.worker import worker_spec
from tests.e2e.crash_before_ack import EXIT_CODE
from tests.e2e.test_slice import open_consultation, submit
from tests.support.infra import queue_depth, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.s3, pytest.mark.smtp]


def notifications_for(cluster, email: str) -> list[dict]:
    log = requests.get(cluster.api("notify", "/notifications"), headers=cluster.staff, timeout=10).json()
    return [n for n in (log["items"] if isinstance(log, dict) else log) if n["recipient"] == email]


def submission_event_id(cluster, reference: str) -> str:
    """The id of the submission.received event intake published for `reference` (from intake's outbox)."""
    with psycopg.connect(cluster.env["INTAKE_DATABASE_URL"].replace("+psycopg", "")) as conn:
        [(event_id,)] = conn.execute("SELECT event_id FROM outbox WHERE event_type = 'submission.received' "
                                     "AND envelope -> 'data' ->> 'reference' = %s", (reference,)).fetchall()
    return event_id


def notify_knows(cluster, consultation_id: str) -> bool:
    with psycopg.connect(cluster.env["NOTIFY_DATABASE_URL"].replace("+psycopg", "")) as conn:
        return conn.execute("SELECT 1 FROM consultations WHERE id = %s", (consultation_id,)).fetchone() is not None


def notify_inbox_handlers(cluster, event_id: str) -> list[str]:
    with psycopg.connect(cluster.env["NOTIFY_DATABASE_URL"].replace("+psycopg", "")) as conn:
        return sorted(row[0] for row in conn.execute("SELECT handler FROM inbox WHERE event_id = %s", (event_id,)))


def test_consumer_killed_after_commit_before_ack_sends_no_second_email(cluster, e2e_smtp, e2e_rabbit):
    """Notify refuses a second receipt by its cause key as well, so this test alone cannot see the inbox
    (tests/integration/test_bus_faults_rabbitmq.py proves it on handlers with no guard of their own). It
    checks what the whole system does: the redelivery is consumed (the queue drains, nothing is
    dead-lettered, one inbox row per handler) and one e-mail leaves."""
    consultation_id = open_consultation(cluster, "Awaria konsumenta")
    # The regular worker takes consultation.published first: a crasher that took it would die on its ack, and
    # every crasher after it on the redelivery, before ever reaching the submission.
    wait_until(lambda: notify_knows(cluster, consultation_id), timeout=30, what="notify to learn the consultation")
    cluster.stop("notify-worker")
    crasher = cluster.start_worker("notify", module="tests.e2e.crash_before_ack")
    email = f"crash-{uuid.uuid4().hex[:6]}@example.org"
    try:
        receipt = submit(cluster, consultation_id, email, "Uwaga wysłana tuż przed awarią.")
        # The crasher's first event is consultation.published or our submission: wait until our effect
        # is committed (the delivery log lists the pending receipt) and the process has died.
        wait_until(lambda: crasher.poll() is not None, timeout=30, what="the crashing consumer to die")
        assert crasher.returncode == EXIT_CODE
        while not notifications_for(cluster, email):
            cluster.processes.pop("notify-worker", None)
            crasher = cluster.start_worker("notify", module="tests.e2e.crash_before_ack")
            wait_until(lambda: crasher.poll() is not None, timeout=30, what="the crashing consumer to die again")
        assert [n["status"] for n in notifications_for(cluster, email)] == ["pending"]
    finally:
        cluster.stop("notify-worker")
    cluster.start_worker("notify")

    wait_until(lambda: len(e2e_smtp.to(email)) >= 1, timeout=60, what="the receipt after restart")
    time.sleep(3)  # give a duplicate every chance to appear
    assert len(e2e_smtp.to(email)) == 1
    assert receipt["reference"] in e2e_smtp.to(email)[0].get_body(preferencelist=("plain",)).get_content()
    assert [n["status"] for n in notifications_for(cluster, email)] == ["sent"]

    event_id = submission_event_id(cluster, receipt["reference"])
    handlers = sorted(handler_name(h) for h in worker_spec().handlers["submission.received"])
    assert notify_inbox_handlers(cluster, event_id) == handlers
    wait_until(lambda: queue_depth(e2e_rabbit.url(), "notify.events") == 0, timeout=30, what="notify.events to drain")
    assert not [d for d in read_dead_letters(e2e_rabbit.url(), "notify") if d.envelope.get("id") == event_id]


def test_submissions_accepted_while_the_broker_is_unreachable_are_delivered_once_it_is_back(
        cluster, e2e_smtp, intake_broker_proxy):
    consultation_id = open_consultation(cluster, "Awaria brokera")
    emails = [f"outage-{n}-{uuid.uuid4().hex[:6]}@example.org" for n in range(3)]
    intake_broker_proxy.cut()
    try:
        references = [submit(cluster, consultation_id, e, f"Uwaga nr {n} w czasie awarii.")["reference"]
                      for n, e in enumerate(emails)]
        time.sleep(2)
        assert not any(e2e_smtp.to(e) for e in emails), "nothing can leave intake while the broker is unreachable"
        readiness = requests.get(cluster.url("intake", "/readyz"), timeout=10)
        assert readiness.status_code == 503 and readiness.json()["checks"]["broker"].startswith("error")
    finally:
        intake_broker_proxy.restore()
    wait_until(lambda: all(e2e_smtp.to(e) for e in emails), timeout=90, what="receipts after the outage")
    time.sleep(2)
    for email, reference in zip(emails, references):
        mails = e2e_smtp.to(email)
        assert len(mails) == 1 and reference in mails[0].get_body(preferencelist=("plain",)).get_content()


def test_a_malformed_event_reaches_the_dead_letter_queues(cluster, e2e_rabbit):
    rabbit = e2e_rabbit
    marker = uuid.uuid4().hex
    with Connection(rabbit.url()) as conn:
        conn.Producer(exchange=EVENTS_EXCHANGE).publish(
            json.dumps({"id": marker, "type": "submission.received", "version": 1, "data": {}}),
            routing_key="submission.received", content_type="application/json")

    def dead_in(service):
        return [d for d in read_dead_letters(rabbit.url(), service) if d.envelope.get("id") == marker]

    for service in ("review", "documents", "notify"):
        letters = wait_until(lambda: dead_in(service), timeout=30, what=f"the poison message in {service}.events.dead")
        assert "invalid" in letters[0].reason
