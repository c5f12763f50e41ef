"""R2 of issue 9: SIGKILLs of the processes that consume events and run Celery tasks while e-mails go out and
documents are built.

The four services run as real processes (gunicorn web + worker each) on PostgreSQL, a RabbitMQ vhost of the test's
own, weed mini (S3) and an aiosmtpd server. Notify and documents run two workers each:
- a notify worker consumes events, relays its outbox and sends e-mail from its mailer loop (no Celery);
- a documents worker consumes events, relays its outbox and runs the build tasks in a Celery worker;
- review's worker consumes events; intake's consumes events and runs Celery for its mailbox.

While `CHAOS_R2_SUBMISSIONS` submissions go in, and version builds (a chain per document, each waiting for the one
before) and report builds are requested through documents' staff API, one worker process after the other is killed
with SIGKILL (`CHAOS_R2_KILLS` times, every 2-5 s; documents' workers most often) and started again. Then:
- every submission has exactly one receipt at the SMTP server: no e-mail lost, none sent twice;
- every requested build is done, and done once: its row `done`, one version (numbers without gaps) or one set of
  report files per build, each stored object in S3 with the row's sha256, no build left pending or running;
- each new version's `document.version_created` was staged once, published, and applied by intake and review
  (a republish after a relay's death is counted at a tap queue and absorbed by the inboxes);
- nothing was dead-lettered.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
from kombu import Connection, Queue
from minio import Minio
from sqlalchemy import create_engine, text

from services.common.bus import EVENTS_EXCHANGE, read_dead_letters
from services.common.settings import SERVICES
from services.documents.engine.demo_draft import make_demo_draft
from tests.e2e.cluster import Cluster, cluster_env, start_cluster
from tests.e2e.test_slice import open_consultation, submit
from tests.support.infra import SmtpSink, wait_until

pytestmark = [pytest.mark.chaos, pytest.mark.rabbitmq, pytest.mark.postgres, pytest.mark.s3, pytest.mark.smtp]

KILLS = int(os.environ.get("CHAOS_R2_KILLS", "20"))
SUBMISSIONS = int(os.environ.get("CHAOS_R2_SUBMISSIONS", "150"))
SECONDS_PER_KILL = 3.5  # the killer waits 2-5 s before each kill
# Who is killed, in turn: documents' two workers (Celery builds, consumer, relay) every other kill, notify's two
# (consumer, relay, mailer) and the consumers of review and intake (intake's with its Celery worker).
KILL_ORDER = ("documents-worker", "notify-worker", "documents-worker-2", "notify-worker-2",
              "documents-worker", "review-worker", "documents-worker-2", "intake-worker")
REPORT_EVERY_S = 1.0
DOCUMENTS = 4  # version chains built side by side, one consultation each
BUILD_WAIT_S = 240.0  # far above a redelivery after a kill; a build stuck in `running` stays stuck longer
TAP_QUEUE = "r2.tap.version_created"


def start_worker(cluster: Cluster, name: str) -> None:
    """`documents-worker-2` is a second `services.documents.worker` process, `notify-worker` the first of notify's."""
    service = name.split("-")[0]
    cluster.start(name, [sys.executable, "-m", f"services.{service}.worker"], service)


@pytest.fixture
def cluster(rabbit, postgres, s3_server, smtp: SmtpSink, tmp_path: Path) -> Iterator[Cluster]:
    env = cluster_env(broker_url=rabbit.url(), postgres=postgres, s3_server=s3_server, smtp=smtp,
                      data_dir=tmp_path / "var", prefix="r2", UWAGI_RATE_LIMIT_CLIENT="off",
                      UWAGI_RATE_LIMIT_RECIPIENT="off", UWAGI_LOG_LEVEL="WARNING")
    workdir = tmp_path / "cluster"
    workdir.mkdir()
    cluster = start_cluster(workdir, env)
    for name in ("notify-worker-2", "documents-worker-2"):
        start_worker(cluster, name)
    yield cluster
    cluster.stop_all()


def keep_killing(cluster: Cluster, stop: threading.Event, kills: list[float], died: list[str],
                 victims: Counter) -> None:
    rng = random.Random(9)
    while not stop.is_set() and len(kills) < KILLS:
        stop.wait(rng.uniform(2.0, 5.0))
        name = KILL_ORDER[(len(kills) + len(died)) % len(KILL_ORDER)]
        process = cluster.processes.get(name)
        if process is None or process.poll() is not None:
            died.append(f"{name}: {cluster.log_tail(name, 1500)}")  # it exited on its own
            start_worker(cluster, name)
            continue
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        kills.append(time.monotonic())
        victims[name] += 1
        start_worker(cluster, name)


# --- builds through documents' staff API ---------------------------------------------------------------------


@dataclass
class Builds:
    """What was requested, and what went wrong on the way (recorded by the threads, asserted by the test)."""

    versions: dict[str, list[str]] = field(default_factory=dict)  # document id -> version build ids, in order
    reports: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def guarded(self, work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except Exception as exc:  # a thread's failure is the test's failure, told at the end
                self.problems.append(f"{type(exc).__name__}: {exc}")
        return run


def post_build(cluster: Cluster, path: str, body: dict) -> dict:
    """POST a build request; a timeout on a loaded machine is retried with the same Idempotency-Key."""
    headers = {**cluster.staff, "Idempotency-Key": str(uuid.uuid4())}
    for _ in range(10):
        try:
            answer = requests.post(cluster.api("documents", path), headers=headers, json=body, timeout=30)
        except requests.RequestException:
            time.sleep(1)
            continue
        if answer.status_code == 409 and "idempotency_key_in_progress" in answer.text:
            time.sleep(1)
            continue
        if answer.status_code != 202:
            raise AssertionError(f"POST {path}: {answer.status_code} {answer.text[:500]}")
        return answer.json()
    raise AssertionError(f"POST {path}: no answer after 10 tries")


def build_state(cluster: Cluster, path: str) -> str | None:
    try:
        return requests.get(cluster.api("documents", path), headers=cluster.staff, timeout=30).json()["state"]
    except (requests.RequestException, ValueError, KeyError):
        return None


def build_versions(cluster: Cluster, document_id: str, stop: threading.Event, builds: Builds) -> None:
    """The next version of the document, again and again, each requested once the one before is done."""
    chain = builds.versions.setdefault(document_id, [])
    while not stop.is_set():
        number = len(chain) + 2
        build = post_build(cluster, f"/documents/{document_id}/versions", {"changes": [
            {"unit": "§ 4", "op": "replace", "comment_refs": [f"R2/{number}"],
             "text": f"Współpraca opiera się na zasadach pomocniczości i jawności (wersja {number})."}]})
        chain.append(build["id"])
        deadline = time.monotonic() + BUILD_WAIT_S
        while (state := build_state(cluster, f"/documents/{document_id}/builds/{build['id']}")) != "done":
            if state == "failed" or time.monotonic() > deadline:
                builds.problems.append(f"version build {build['id']} (v{number}) ended {state!r}")
                return
            time.sleep(0.2)


def build_reports(cluster: Cluster, consultation_id: str, stop: threading.Event, builds: Builds) -> None:
    languages = ("pl", "en")
    while not stop.wait(REPORT_EVERY_S):
        build = post_build(cluster, f"/consultations/{consultation_id}/report",
                           {"language": languages[len(builds.reports) % 2]})
        builds.reports.append(build["id"])


def upload_draft(cluster: Cluster, consultation_id: str) -> str:
    answer = requests.post(cluster.api("documents", "/documents"), headers=cluster.staff, timeout=60,
                           data={"title": "Program współpracy", "consultation_id": consultation_id},
                           files={"file": ("projekt.docx", make_demo_draft("auto"))})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def first_report(cluster: Cluster, consultation_id: str) -> str:
    """The first report build, requested once documents has learnt of the consultation (404 before that)."""
    def requested() -> str | None:
        answer = requests.post(cluster.api("documents", f"/consultations/{consultation_id}/report"),
                               headers=cluster.staff, json={}, timeout=30)
        assert answer.status_code in (202, 404), answer.text
        return answer.json()["id"] if answer.status_code == 202 else None

    return wait_until(requested, timeout=60, interval=1, what="documents to know the consultation")  # type: ignore[return-value]


def declare_tap(broker_url: str) -> None:
    """A queue of the test's own that receives every `document.version_created` the relays publish."""
    with Connection(broker_url) as conn:
        Queue(TAP_QUEUE, EVENTS_EXCHANGE, routing_key="document.version_created", durable=True)(conn.default_channel).declare()


def drain_tap(broker_url: str) -> Counter:
    deliveries: Counter = Counter()
    with Connection(broker_url) as conn:
        queue = Queue(TAP_QUEUE, EVENTS_EXCHANGE, routing_key="document.version_created")(conn.default_channel)
        while (message := queue.get(no_ack=True)) is not None:
            envelope = json.loads(message.body)
            deliveries[envelope["id"]] += 1
    return deliveries


# --- the test ---------------------------------------------------------------------------------------------


def test_r2_sigkills_of_workers_lose_no_e_mail_or_build_and_do_nothing_twice(cluster, smtp, s3_server, rabbit):
    consultations = [open_consultation(cluster, f"Awarie workerów {n + 1}") for n in range(DOCUMENTS)]
    consultation_id = consultations[0]  # takes the submissions, so its reports grow during the run
    documents = [upload_draft(cluster, consultation) for consultation in consultations]
    declare_tap(rabbit.url())
    emails = [f"r2-{n}-{uuid.uuid4().hex[:6]}@example.org" for n in range(SUBMISSIONS)]
    spacing = KILLS * SECONDS_PER_KILL / max(SUBMISSIONS, 1)  # submissions spread over the kills
    stop, stop_builds = threading.Event(), threading.Event()
    kills: list[float] = []
    died: list[str] = []
    victims: Counter = Counter()
    builds = Builds(reports=[first_report(cluster, consultation_id)])
    threads = [threading.Thread(target=keep_killing, args=(cluster, stop, kills, died, victims), name="r2-killer",
                                daemon=True)]
    threads += [threading.Thread(target=builds.guarded(lambda d=d: build_versions(cluster, d, stop_builds, builds)),
                                 name=f"r2-versions-{d[:8]}", daemon=True) for d in documents]
    threads.append(threading.Thread(target=builds.guarded(lambda: build_reports(cluster, consultation_id, stop_builds,
                                                                                builds)), name="r2-reports", daemon=True))
    started = time.monotonic()
    load_before = os.getloadavg()
    for thread in threads:
        thread.start()
    try:
        for n, email in enumerate(emails):
            submit(cluster, consultation_id, email, f"Uwaga {n} w czasie awarii workerów.")
            time.sleep(max(0.0, started + n * spacing - time.monotonic()))
        threads[0].join(timeout=KILLS * 6 + 60)
    finally:
        stop.set()
        stop_builds.set()
        threads[0].join(10)
    load_during = os.getloadavg()
    last_kill = kills[-1] if kills else started
    for thread in threads[1:]:
        thread.join(BUILD_WAIT_S + 30)
    wait_until(lambda: all(smtp.to(e) for e in emails), timeout=300, interval=1,
               what=f"a receipt for every submission (have {sum(1 for e in emails if smtp.to(e))})")
    delivered_after = time.monotonic() - last_kill

    version_ids = [b for chain in builds.versions.values() for b in chain]
    requested = {"version_builds": version_ids, "report_builds": builds.reports}
    documents_db = create_engine(cluster.env["DOCUMENTS_DATABASE_URL"])

    def unfinished() -> list[tuple[str, str]]:
        with documents_db.connect() as conn:
            return [(row.id, row.state) for table, ids in requested.items() for row in conn.execute(
                text(f"SELECT id, state FROM {table} WHERE id = ANY(:ids)"), {"ids": ids}) if row.state != "done"]

    wait_until(lambda: not unfinished(), timeout=BUILD_WAIT_S, interval=1,
               what=f"every build done (not yet: {unfinished()[:5]})")
    built_after = time.monotonic() - last_kill
    time.sleep(10)  # sweeps, redeliveries and relays get their chance to do something twice
    counts = Counter({email: len(smtp.to(email)) for email in emails})
    message_ids = Counter(str(m["Message-ID"]) for m in smtp.messages if str(m["To"]).startswith("r2-"))
    with documents_db.connect() as conn:
        leftover = conn.execute(text("SELECT 'report', id, state FROM report_builds WHERE state <> 'done' UNION ALL "
                                     "SELECT 'version', id, state FROM version_builds WHERE state <> 'done'")).all()
        reruns = conn.execute(text("SELECT count(*) FROM (SELECT attempts FROM report_builds UNION ALL "
                                   "SELECT attempts FROM version_builds) b WHERE attempts > 1")).scalar_one()
        report_files = conn.execute(text(
            "SELECT b.id, b.sha256, b.object_key, b.version_id, a.kind, a.key, a.version_id AS object_version, "
            "a.sha256 AS artifact_sha256 FROM report_builds b JOIN artifacts a ON a.report_build_id = b.id "
            "WHERE b.id = ANY(:ids)"), {"ids": builds.reports}).all()
        versions = conn.execute(text(
            "SELECT v.document_id, v.number, v.build_id, a.kind, a.key, a.version_id AS object_version, a.sha256 "
            "FROM document_versions v JOIN artifacts a ON a.document_version_id = v.id "
            "WHERE v.number > 1")).all()
        announced = conn.execute(text(
            "SELECT event_id, envelope->'data'->>'document_id' AS document_id, "
            "(envelope->'data'->>'version')::int AS version, published_at FROM outbox "
            "WHERE event_type = 'document.version_created'")).all()
    documents_db.dispose()
    applied = {}
    for service in ("intake", "review"):
        engine = create_engine(cluster.env[f"{service.upper()}_DATABASE_URL"])
        with engine.connect() as conn:
            applied[service] = Counter(conn.scalars(text(
                "SELECT event_id FROM inbox WHERE event_type = 'document.version_created'")))
        engine.dispose()
    taps = drain_tap(rabbit.url())
    dead = {service: len(read_dead_letters(rabbit.url(), service)) for service in SERVICES}

    print(f"\nR2 figures: kills={len(kills)} ({dict(victims)}) run_s={time.monotonic() - started:.1f} "
          f"submissions={SUBMISSIONS} e_mails={sum(counts.values())} lost={sum(1 for c in counts.values() if c == 0)} "
          f"duplicates={sum(c - 1 for c in counts.values() if c > 1)} "
          f"duplicate_message_ids={sum(c - 1 for c in message_ids.values() if c > 1)} "
          f"version_builds={len(version_ids)} report_builds={len(builds.reports)} builds_run_again={reruns} "
          f"builds_left={len(leftover)} version_created_at_tap={len(taps)} "
          f"republished={sum(n - 1 for n in taps.values())} all_delivered_after_last_kill_s={delivered_after:.1f} "
          f"all_built_after_last_kill_s={built_after:.1f} dead_letters={sum(dead.values())} "
          f"load_before={load_before[0]:.2f} load_during={load_during[0]:.2f} load_after={os.getloadavg()[0]:.2f}")

    assert not died, f"a worker exited without being killed: {died}"
    assert len(kills) == KILLS
    assert all(c == 1 for c in counts.values()), {e: c for e, c in counts.items() if c != 1}
    assert not builds.problems, builds.problems
    assert all(version_ids for version_ids in builds.versions.values()) and builds.reports
    assert not leftover, f"builds not done after the run: {leftover}"

    minio = Minio(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, secure=False)
    bucket = cluster.env["UWAGI_S3_BUCKET"]

    def stored_sha256(key: str, version_id: str) -> str:
        response = minio.get_object(bucket, key, version_id=version_id)
        try:
            return hashlib.sha256(response.read()).hexdigest()
        finally:
            response.close()
            response.release_conn()

    # Reports: one DOCX, XLSX and CSV per build, each in S3 as recorded; the row points at its DOCX.
    kinds = Counter((row.id, row.kind) for row in report_files)
    assert sorted(kinds.values()) == [1] * (3 * len(builds.reports)), [k for k, n in kinds.items() if n != 1]
    for row in report_files:
        assert stored_sha256(row.key, row.object_version) == row.artifact_sha256, row
        if row.kind == "report_docx":
            assert (row.object_key, row.version_id, row.sha256) == (row.key, row.object_version, row.artifact_sha256)

    # Versions: one per build, numbered 2, 3, ... without a gap, clean and tracked once each, in S3 as recorded.
    for document_id, chain in builds.versions.items():
        mine = [row for row in versions if row.document_id == document_id]
        assert sorted(Counter((row.build_id, row.kind) for row in mine).items()) == sorted(
            ((build_id, kind), 1) for build_id in chain for kind in ("clean", "tracked"))
        assert sorted({(row.number, row.build_id) for row in mine}) == [(n + 2, b) for n, b in enumerate(chain)]
    for row in versions:
        assert stored_sha256(row.key, row.object_version) == row.sha256, row

    # Each new version announced once, published, and applied once by each consumer of the event.
    new_versions = Counter((row.document_id, row.version) for row in announced if row.version > 1)
    assert new_versions == Counter({(d, n + 2): 1 for d, chain in builds.versions.items() for n in range(len(chain))})
    assert all(row.published_at is not None for row in announced)
    events = {row.event_id for row in announced if row.version > 1}
    for service, seen in applied.items():
        assert events <= set(seen), f"{service} did not apply {events - set(seen)}"
    assert events <= set(taps), "every announcement reached the broker"
    assert not any(dead.values()), dead
