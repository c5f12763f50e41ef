"""The embedded system (`services.embedded.start_system`, as the browser tests run it) on RabbitMQ, under CPU load.

Its four Celery workers are threads of one process. Celery keeps kombu's event loop process-global, so each
worker used to adopt the hub of the one started before it: two threads then polled one hub and read each
other's broker sockets (`UnexpectedFrame`, missed heartbeats, `Bad file descriptor`), and receipts took
minutes while the workers reconnected. These tests keep the machine busy and expect every receipt promptly,
with no worker losing its broker connection.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from services.common.settings import load_settings
from tests.support.infra import wait_until

pytestmark = [pytest.mark.rabbitmq, pytest.mark.smtp, pytest.mark.slow]

BROKER_TROUBLE = re.compile(r"UnexpectedFrame|heartbeats missed|Bad file descriptor|Connection to broker lost",
                            re.IGNORECASE)


@pytest.fixture
def smtp_sink() -> Iterator[object]:
    from tests.support.infra import start_smtp

    sink = start_smtp()
    yield sink
    sink.stop()


@pytest.fixture
def system(tmp_path: Path, rabbit, smtp_sink) -> Iterator[object]:
    from services.demo import load_demo
    from services.embedded import start_system

    settings = load_settings({
        "UWAGI_DATA_DIR": str(tmp_path / "var"), "UWAGI_BROKER_URL": rabbit.url(),
        "UWAGI_SECRET_KEY": "embedded-rabbitmq-test-secret-0123456789", "UWAGI_RELAY_INTERVAL": "0.2",
        "UWAGI_SMTP_HOST": "127.0.0.1", "UWAGI_SMTP_PORT": str(smtp_sink.port),
        "UWAGI_DEMO_PASSWORD": "demo-haslo-do-testow",
    })
    running = start_system(settings)
    banner = "\n".join(load_demo(running))
    running.demo_consultation = re.search(r"Consultation: .* \(id ([0-9a-f-]+)\)", banner).group(1)
    yield running
    running.stop()


@pytest.fixture
def cpu_load() -> Iterator[None]:
    """Both cores busy in other processes, and a thread of this one competing for the interpreter lock."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            sum(i * i for i in range(10_000))

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(5)
    for spinner in spinners:
        spinner.kill()
        spinner.wait()


def test_each_embedded_celery_worker_has_its_own_event_loop(system):
    from kombu.asynchronous import get_event_loop

    hubs = [worker._celery_worker.hub for worker in system.workers.values() if worker.has_tasks]
    assert len(hubs) == 2 and all(hub is not None for hub in hubs)  # intake's and documents'
    # Services without tasks of their own (review; notify, whose mailer sends) start no Celery worker.
    assert [name for name, worker in system.workers.items() if worker._celery_worker is None] == ["review", "notify"]
    assert len({id(hub) for hub in hubs}) == len(hubs)
    assert get_event_loop() not in hubs  # nothing outside the worker threads may drive one


def test_receipts_arrive_promptly_through_the_embedded_workers_under_cpu_load(system, smtp_sink, cpu_load, caplog):
    caplog.set_level(logging.WARNING)
    client = Client(system.wsgi)
    addresses = [f"osoba-{n}@example.org" for n in range(12)]
    references = []
    for address in addresses:
        response = client.post(f"/intake/api/v1/consultations/{system.demo_consultation}/submissions", json={
            "submitter": {"name": "Jan Kowalski", "email": address, "publish_consent": True},
            "comments": [{"section": "§ 3", "current_text": "Tekst obecny.", "proposal": "Tekst nowy.",
                          "justification": "Bo tak jest jaśniej."}],
        })
        assert response.status_code == 201, response.get_data(as_text=True)
        references.append(response.get_json()["reference"])
        time.sleep(0.2)

    wait_until(lambda: all(smtp_sink.to(address) for address in addresses), timeout=60,
               what="a receipt for every submission")
    for address, reference in zip(addresses, references):
        (receipt,) = smtp_sink.to(address)
        assert reference in receipt.get_body(("plain",)).get_content()
    trouble = [record.getMessage() for record in caplog.records if BROKER_TROUBLE.search(
        record.getMessage() + (str(record.exc_info[1]) if record.exc_info else ""))]
    assert trouble == []
