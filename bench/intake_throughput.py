"""Throughput probe: submissions per second accepted by intake on PostgreSQL with the outbox.

Starts the four services as real processes (gunicorn + workers) on the local PostgreSQL and
RabbitMQ, with an aiosmtpd server catching the receipts, then:
1. baseline: GET /intake/healthz from the same client threads for the same time;
2. load: POST submissions for 10 s;
3. drain: waits until every accepted submission's receipt has reached the SMTP server.
Prints the figures and the ratio of submissions/s to the baseline's requests/s.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from services.common.settings import SERVICES  # noqa: E402
from tests.e2e.cluster import start_cluster  # noqa: E402
from tests.support import infra  # noqa: E402


def hammer(seconds: float, threads: int, call) -> tuple[int, int, list[float]]:
    ok, failed, latencies, lock = 0, 0, [], threading.Lock()
    stop_at = time.monotonic() + seconds

    def loop() -> None:
        nonlocal ok, failed
        session = requests.Session()
        n = 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            success = call(session, threading.get_ident(), n)
            elapsed = time.perf_counter() - started
            n += 1
            with lock:
                latencies.append(elapsed)
                ok += success
                failed += not success

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return ok, failed, latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--isolate", action="store_true",
                        help="pause (SIGSTOP) every other service's worker and web process during the load, "
                             "so intake has the CPU to itself; they resume and drain the backlog afterwards")
    args = parser.parse_args()

    postgres = infra.postgres_server()
    vhost = infra.rabbit_vhost()
    smtp = infra.start_smtp()
    workdir = Path(tempfile.mkdtemp(prefix="uwagi-bench-"))
    env = {
        "UWAGI_BROKER_URL": vhost.url(), "UWAGI_SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "UWAGI_DATA_DIR": str(workdir / "var"), "UWAGI_SMTP_HOST": smtp.host, "UWAGI_SMTP_PORT": str(smtp.port),
        "UWAGI_RELAY_INTERVAL": "1", "UWAGI_LOG_LEVEL": "WARNING",
        "UWAGI_RATE_LIMIT_CLIENT": "off",  # one client sends the whole load: measure intake, not the limiter
        **{f"{s.upper()}_DATABASE_URL": postgres.create_database(f"uwagi_bench_{s}") for s in SERVICES},
    }
    cluster = start_cluster(workdir, env, web_workers=args.web_workers)
    try:
        now = datetime.now(timezone.utc)
        consultation = requests.post(cluster.api("intake", "/consultations"), headers=cluster.staff, json={
            "title": "Benchmark", "opens_at": (now - timedelta(days=1)).isoformat(),
            "closes_at": (now + timedelta(days=1)).isoformat()}, timeout=10).json()["id"]
        health_url = cluster.url("intake", "/healthz")
        submit_url = cluster.api("intake", f"/consultations/{consultation}/submissions")

        def health(session, thread, n):
            return session.get(health_url, timeout=10).status_code == 200

        def submit(session, thread, n):
            response = session.post(submit_url, timeout=30, json={
                "submitter": {"name": "Osoba testowa", "email": f"b{thread}-{n}@example.org", "publish_consent": False},
                "comments": [{"section": "§ 5 ust. 2", "current_text": "Obecne brzmienie.",
                              "proposal": f"Propozycja {n}", "justification": "Uzasadnienie."}]})
            return response.status_code == 201

        base_ok, base_failed, base_lat = hammer(args.seconds, args.threads, health)
        paused = [p for name, p in cluster.processes.items() if not name.startswith("intake")] if args.isolate else []
        for process in paused:
            os.killpg(process.pid, signal.SIGSTOP)
        load_started = time.monotonic()
        ok, failed, latencies = hammer(args.seconds, args.threads, submit)
        load_ended = time.monotonic()
        for process in paused:
            os.killpg(process.pid, signal.SIGCONT)
        infra.wait_until(lambda: len(smtp.messages) >= ok, timeout=600, interval=0.2, what="all receipts")
        drained = time.monotonic()

        quantiles = statistics.quantiles(latencies, n=100)
        base_rate, rate = base_ok / args.seconds, ok / args.seconds
        print(f"machine: {os.cpu_count()} cores; intake gunicorn workers={args.web_workers} threads=4; "
              f"{args.threads} client threads; PostgreSQL + RabbitMQ on 127.0.0.1; "
              f"{'other services paused during the load' if args.isolate else 'all services running'}")
        print(f"baseline GET /intake/healthz: {base_rate:,.0f} req/s ({base_failed} failed)")
        print(f"POST submissions (1 comment each), outbox on PostgreSQL: {rate:,.0f} submissions/s over "
              f"{args.seconds:.0f} s, {ok} accepted, {failed} failed; latency p50 {quantiles[49]*1000:.0f} ms, "
              f"p95 {quantiles[94]*1000:.0f} ms")
        print(f"ratio submissions/s to healthz req/s: {rate / base_rate:.2f}")
        print(f"receipts: all {len(smtp.messages)} delivered to SMTP {drained - load_ended:.1f} s after the load "
              f"ended ({drained - load_started:.1f} s after it started)")
    finally:
        cluster.stop_all()
        smtp.stop()
        vhost.delete()
        postgres.drop_all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
