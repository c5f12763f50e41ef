"""R2 of issue 9: SIGKILLs of the processes that consume events and run Celery tasks while e-mails are being sent.

The four services run as real processes (gunicorn web + worker each) on PostgreSQL, a RabbitMQ vhost of the test's
own, weed mini and an aiosmtpd server. Notify runs two workers (each: event consumer, outbox relay, sweeps and a
Celery worker in one process). While `CHAOS_R2_SUBMISSIONS` submissions go in, one notify worker after the other is
killed with SIGKILL (`CHAOS_R2_KILLS` times, every 2-5 s) and started again. Every submission must get its receipt
at the SMTP server exactly once: no task lost, no e-mail sent twice.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.cluster import Cluster, cluster_env, start_cluster
from tests.e2e.test_slice import open_consultation, submit
from tests.support.infra import SmtpSink, wait_until

pytestmark = [pytest.mark.chaos, pytest.mark.rabbitmq, pytest.mark.postgres, pytest.mark.s3, pytest.mark.smtp]

KILLS = int(os.environ.get("CHAOS_R2_KILLS", "20"))
SUBMISSIONS = int(os.environ.get("CHAOS_R2_SUBMISSIONS", "150"))
NOTIFY_WORKERS = ("notify-worker", "notify-worker-2")


@pytest.fixture
def cluster(rabbit, postgres, s3_server, smtp: SmtpSink, tmp_path: Path) -> Iterator[Cluster]:
    env = cluster_env(broker_url=rabbit.url(), postgres=postgres, s3_server=s3_server, smtp=smtp,
                      data_dir=tmp_path / "var", prefix="r2", UWAGI_RATE_LIMIT_CLIENT="off",
                      UWAGI_RATE_LIMIT_RECIPIENT="off", UWAGI_LOG_LEVEL="WARNING")
    workdir = tmp_path / "cluster"
    workdir.mkdir()
    cluster = start_cluster(workdir, env)
    start_second_notify_worker(cluster)
    yield cluster
    cluster.stop_all()


def start_second_notify_worker(cluster: Cluster) -> None:
    cluster.start("notify-worker-2", [sys.executable, "-m", "services.notify.worker"], "notify")


def restart(cluster: Cluster, name: str) -> None:
    if name == "notify-worker":
        cluster.start_worker("notify")
    else:
        start_second_notify_worker(cluster)


def keep_killing(cluster: Cluster, stop: threading.Event, kills: list[float], died: list[str]) -> None:
    rng = random.Random(9)
    while not stop.is_set() and len(kills) < KILLS:
        stop.wait(rng.uniform(2.0, 5.0))
        name = NOTIFY_WORKERS[len(kills) % 2]
        process = cluster.processes.get(name)
        if process is None or process.poll() is not None:
            died.append(f"{name}: {cluster.log_tail(name, 1500)}")  # it exited on its own
            restart(cluster, name)
            continue
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        kills.append(time.monotonic())
        restart(cluster, name)


def test_r2_sigkills_of_notify_workers_lose_no_e_mail_and_send_none_twice(cluster, smtp):
    consultation_id = open_consultation(cluster, "Awarie workerów")
    emails = [f"r2-{n}-{uuid.uuid4().hex[:6]}@example.org" for n in range(SUBMISSIONS)]
    stop = threading.Event()
    kills: list[float] = []
    died: list[str] = []
    killer = threading.Thread(target=keep_killing, args=(cluster, stop, kills, died), name="r2-killer", daemon=True)
    started = time.monotonic()
    killer.start()
    try:
        for n, email in enumerate(emails):
            submit(cluster, consultation_id, email, f"Uwaga {n} w czasie awarii workerów.")
            time.sleep(max(0.0, started + n * 0.4 - time.monotonic()))  # spread over the kills
        killer.join(timeout=KILLS * 6 + 60)
    finally:
        stop.set()
        killer.join(10)
    last_kill = kills[-1] if kills else started
    wait_until(lambda: all(smtp.to(e) for e in emails), timeout=300, interval=1,
               what=f"a receipt for every submission (have {sum(1 for e in emails if smtp.to(e))})")
    delivered_after = time.monotonic() - last_kill
    time.sleep(10)  # sweeps and redeliveries get their chance to send a duplicate
    counts = Counter({email: len(smtp.to(email)) for email in emails})
    message_ids = Counter(str(m["Message-ID"]) for m in smtp.messages if str(m["To"]).startswith("r2-"))
    print(f"\nR2 figures: submissions={SUBMISSIONS} kills={len(kills)} run_s={time.monotonic() - started:.1f} "
          f"all_delivered_after_last_kill_s={delivered_after:.1f} e_mails={sum(counts.values())} "
          f"lost={sum(1 for c in counts.values() if c == 0)} duplicates={sum(c - 1 for c in counts.values() if c > 1)} "
          f"duplicate_message_ids={sum(c - 1 for c in message_ids.values() if c > 1)}")
    assert not died, f"a worker exited without being killed: {died}"
    assert len(kills) == KILLS
    assert all(c == 1 for c in counts.values()), {e: c for e, c in counts.items() if c != 1}
