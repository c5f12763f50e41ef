"""P7, and notify's share of P3: notify worker processes sending to a real SMTP server, with and without SIGKILLs.

On PostgreSQL and RabbitMQ on 127.0.0.1, with `python -m services.notify.worker` processes (each a consumer, a
relay and the mailer), and an aiosmtpd server in this process that counts every message by its Message-ID (the
cause's; see tests/support/notify_load.py). In one run:
- baseline: raw smtplib sending the same receipts, already written out, over one connection to the same server
  (the server's and the client's ceiling; no database, no rendering);
- steady: receipts staged at once in one transaction, drained by the workers; seconds, messages/s and the
  workers' CPU per message (utime + stime from /proc);
- P7: 10,000 receipts staged, a worker SIGKILLed (and a new one started) each time another 1/21 of them has
  arrived, 20 kills in all while messages are outstanding; lost (staged, never received) and duplicates (a cause received
  twice) at the server, rows not `sent` in the database.

    python bench/notify_bench.py [--notifications 10000] [--steady 3000] [--kills 20] [--workers 3]
"""

from __future__ import annotations

import argparse
import os
import smtplib
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.common.db import upgrade  # noqa: E402
from services.notify import domain  # noqa: E402
from services.notify.rendering import Renderer, build_mail  # noqa: E402
from tests.support import infra  # noqa: E402
from tests.support.notify_load import CountingSmtpServer, receipt_rows, run_with_kills  # noqa: E402

P7_SECONDS = 60.0


def raw_smtplib(server: CountingSmtpServer, rows: list[dict]) -> float:
    """Seconds for smtplib to send the rows' messages (written out beforehand) over one connection."""
    renderer = Renderer(timezone=ZoneInfo("Europe/Warsaw"))
    mails = [build_mail(renderer.render(row["template"], row["language"], row["context"]),
                        sender=domain.sender_for(row["context"], "konsultacje@example.org"), recipient=row["recipient"],
                        message_id=row["message_id"]) for row in rows]
    server.reset()
    started = time.perf_counter()
    with smtplib.SMTP(server.host, server.port, timeout=30) as smtp:
        for mail in mails:
            smtp.sendmail(mail.envelope_from, [mail.recipient], mail.data)
    seconds = time.perf_counter() - started
    assert server.total == len(rows), server.total
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--steady", type=int, default=3000, help="receipts of the run without kills (CPU per mail)")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()

    postgres, vhost = infra.postgres_server(), infra.rabbit_vhost()
    url = postgres.create_database("uwagi_bench_notify")
    upgrade("notify", url)
    workdir = Path(tempfile.mkdtemp(prefix="uwagi-notify-bench-"))
    print(f"notify: {args.workers} worker processes, PostgreSQL + RabbitMQ, aiosmtpd on 127.0.0.1 "
          f"(load average at start {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)", flush=True)
    try:
        with CountingSmtpServer() as server:
            env = {**os.environ, "UWAGI_BROKER_URL": vhost.url(), "NOTIFY_DATABASE_URL": url,
                   "UWAGI_SMTP_HOST": server.host, "UWAGI_SMTP_PORT": str(server.port),
                   "UWAGI_SECRET_KEY": "bench-secret-0123456789abcdef", "UWAGI_MAIL_FROM": "konsultacje@example.org"}
            baseline = raw_smtplib(server, receipt_rows(args.notifications, tag="baseline"))
            baseline_rate = args.notifications / baseline
            print(f"baseline, raw smtplib over one connection: {args.notifications:,} messages in {baseline:.1f} s "
                  f"= {baseline_rate:,.0f} msg/s", flush=True)

            steady = run_with_kills(url, env, workdir / "steady", receipt_rows(args.steady, tag="steady"),
                                    workers=args.workers, kills=0, server=server,
                                    timeout=args.timeout, settle=1.0)
            print(f"steady, no kills: {steady.staged:,} receipts in {steady.seconds:.1f} s = {steady.rate:,.0f} msg/s "
                  f"({steady.rate / baseline_rate:.2f}x the baseline); workers' CPU "
                  f"{steady.cpu_seconds * 1000 / steady.staged:.2f} ms per message; lost {steady.lost}, "
                  f"duplicates {steady.duplicates}", flush=True)

            run = run_with_kills(url, env, workdir / "p7", receipt_rows(args.notifications, tag="p7"),
                                 workers=args.workers, kills=args.kills, server=server, timeout=args.timeout)
            ok = (run.seconds <= P7_SECONDS and run.lost == 0 and run.duplicates == 0 and run.kills == args.kills
                  and run.not_sent_rows == 0)
            print(f"P7: {run.staged:,} receipts with {run.kills} SIGKILLs (one each time another "
                  f"1/{args.kills + 1} of them had arrived; each worker restarted): {run.seconds:.1f} s = {run.rate:,.0f} msg/s ({run.rate / baseline_rate:.2f}x "
                  f"the baseline); lost {run.lost}, duplicates {run.duplicates} ({run.extra_copies} extra copies, "
                  f"{run.copies_not_at_a_kill} not of a message handed over at a kill), "
                  f"rows not sent {run.not_sent_rows}; workers' CPU {run.cpu_seconds * 1000 / run.staged:.2f} ms per "
                  f"message with restarts  [target ≤ {P7_SECONDS:.0f} s, 0 lost, 0 duplicates, "
                  f"{args.kills} kills: {'MET' if ok else 'NOT MET'}]", flush=True)
            print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        vhost.delete()
        postgres.drop_all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
