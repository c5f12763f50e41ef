"""Notify under load and kills, for bench/notify_bench.py (P7) and tests/integration/test_notify_kills.py: a
counting SMTP server, many receipts staged at once, and notify worker processes that are killed and restarted.

The SMTP server is aiosmtpd on 127.0.0.1 that counts every accepted message by its Message-ID. Notify derives
the Message-ID from the notification's cause (`domain.message_id_for`), so a count above one is the same cause
received twice, whatever happened to the worker that sent it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent.parent
MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


class CountingHandler:
    """Counts accepted messages by Message-ID; parsing the whole message would make the server the bottleneck."""

    def __init__(self) -> None:
        self.counts: Counter[bytes] = Counter()
        self.total = 0
        self.last_arrival = 0.0  # time.monotonic() of the last message
        self.first_arrival: dict[bytes, float] = {}  # Message-ID -> time.monotonic() of its first copy
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        found = MESSAGE_ID.search(raw)
        with self.lock:
            key = found.group(1) if found else b"<none>"
            self.counts[key] += 1
            self.total += 1
            self.last_arrival = time.monotonic()
            self.first_arrival.setdefault(key, self.last_arrival)
        return "250 OK"


class CountingSmtpServer:
    def __init__(self) -> None:
        from tests.support.infra import free_port

        self.host, self.port = "127.0.0.1", free_port()
        self.handler = CountingHandler()
        self._controller = Controller(self.handler, hostname=self.host, port=self.port)

    def __enter__(self) -> "CountingSmtpServer":
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def snapshot(self) -> Counter[bytes]:
        with self.handler.lock:
            return Counter(self.handler.counts)

    @property
    def total(self) -> int:
        return self.handler.total

    def reset(self) -> None:
        with self.handler.lock:
            self.handler.counts.clear()
            self.handler.total = 0
            self.handler.last_arrival = 0.0
            self.handler.first_arrival.clear()


def receipt_rows(count: int, *, tag: str = "") -> list[dict]:
    """`count` pending submission receipts (two comments each), as `on_submission_received` stages them."""
    from services.notify import domain
    from services.notify.domain import Cause, Template

    now = datetime.now(timezone.utc)
    tag = tag or uuid.uuid4().hex[:8]
    rows = []
    for n in range(count):
        submission_id = str(uuid.uuid4())
        recipient = f"osoba{n}-{tag}@example.org"
        cause_key = Cause("submission.received", submission_id).key(Template.SUBMISSION_RECEIPT, recipient)
        reference = f"UW/2026/{n:06d}"
        rows.append({
            "id": str(uuid.uuid4()), "cause_key": cause_key, "cause_event_id": str(uuid.uuid4()),
            "cause_event_type": "submission.received", "correlation_id": reference,
            "template": Template.SUBMISSION_RECEIPT.value, "language": "pl", "recipient": recipient,
            "message_id": domain.message_id_for(cause_key), "status": "pending", "attempts": 0,
            "attempts_before_resend": 0, "created_at": now,
            "context": {
                "recipient_name": f"Osoba Testowa {n}", "organization": "", "reference": reference,
                "consultation_title": "Wspólnie o programie współpracy z NGO na 2026 r. – II etap",
                "status_url": f"https://uwagi.example/intake/status?reference={reference}&token=abcdefghijklmnop",
                "late": False, "received_at": now.isoformat(),
                "comments": [{"number": i, "section": f"§ {i} ust. 2", "current_text": "Dotacje przyznaje się w trybie konkursu.",
                              "proposal": f"Zwiększyć pulę środków o {i}0%", "justification": "Większa skala działań.",
                              "topic": ""} for i in (1, 2)],
                "office": {"organiser": "Wydział Zdrowia", "contact_email": "konsultacje@um.torun.pl",
                           "contact_phone": "56 611 88 88", "postal_address": "ul. Wały gen. Sikorskiego 8\n87-100 Toruń"},
            },
        })
    return rows


def stage(url: str, rows: list[dict]) -> None:
    """Insert the rows in one transaction, so that workers already running see all of them at once."""
    from sqlalchemy import create_engine, insert

    from services.notify.models import Notification

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for start in range(0, len(rows), 1000):
                conn.execute(insert(Notification.__table__), rows[start:start + 1000])
            conn.exec_driver_sql("ANALYZE notifications")
    finally:
        engine.dispose()


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a live process, from /proc (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class WorkerPool:
    """`python -m services.notify.worker` processes, each with its own data dir; killed ones can be restarted."""

    env: dict[str, str]
    workdir: Path
    cwd: Path = ROOT
    processes: list[subprocess.Popen] = field(default_factory=list)
    started: list[float] = field(default_factory=list)
    # CPU seconds of processes already killed, read just before the kill.
    cpu_of_dead: float = 0.0
    kills: int = 0
    kill_times: list[float] = field(default_factory=list)  # time.monotonic() of each SIGKILL
    _serial: int = 0

    def spawn(self) -> subprocess.Popen:
        self._serial += 1
        data_dir = self.workdir / f"worker-{self._serial}"
        data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / f"worker-{self._serial}.log", "wb")
        process = subprocess.Popen([sys.executable, "-m", "services.notify.worker"], cwd=self.cwd,
                                   env={**self.env, "UWAGI_DATA_DIR": str(data_dir)}, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        process.data_dir = data_dir  # type: ignore[attr-defined]
        self.processes.append(process)
        self.started.append(time.monotonic())
        return process

    def is_up(self, process: subprocess.Popen) -> bool:
        """Started its background threads (the heartbeat is written then) and still running."""
        return process.poll() is None and (process.data_dir / "heartbeat-notify").exists()  # type: ignore[attr-defined]

    def wait_up(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not all(self.is_up(p) for p in self.processes):
            if time.monotonic() > deadline:
                raise SystemExit("notify workers did not start; see " + str(self.workdir))
            if any(p.poll() is not None for p in self.processes):
                raise SystemExit("a notify worker exited at start; see " + str(self.workdir))
            time.sleep(0.05)

    def cpu_seconds(self) -> float:
        return self.cpu_of_dead + sum(proc_cpu_seconds(p.pid) for p in self.processes if p.poll() is None)

    def kill_one(self, rng: Any) -> bool:
        """SIGKILL a running worker that is up (not one still importing) and start another in its place."""
        candidates = [p for p in self.processes if self.is_up(p)]
        if not candidates:
            return False
        victim = rng.choice(candidates)
        self.cpu_of_dead += proc_cpu_seconds(victim.pid)
        os.kill(victim.pid, signal.SIGKILL)
        self.kill_times.append(time.monotonic())
        victim.wait()
        self.processes.remove(victim)
        self.kills += 1
        self.spawn()
        return True

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class KillRun:
    seconds: float  # from staging until every staged message had arrived (or the timeout)
    staged: int
    lost: int  # staged, never received
    duplicates: int  # causes received more than once
    extra_copies: int  # messages beyond one per cause
    kills: int  # all made while messages were still outstanding
    cpu_seconds: float  # of every worker process, killed ones included (read just before their kill)
    not_sent_rows: int  # rows not `sent` in the database at the end
    # extra copies of a message whose first copy did not reach the server within HANDOVER_SLACK of a kill: the
    # one repeat the design allows is of the message a worker was killed handing over (between the final dot of
    # DATA and the COMMIT that marks it sent), so any other is a bug
    copies_not_at_a_kill: int = 0

    @property
    def rate(self) -> float:
        return self.staged / self.seconds if self.seconds else 0.0


HANDOVER_SLACK = 0.25  # seconds between a kill and the server's reading of the message handed over at it


def run_with_kills(url: str, env: dict[str, str], workdir: Path, rows: list[dict], *, workers: int, kills: int,
                   server: CountingSmtpServer, timeout: float = 180.0, seed: int = 9, settle: float = 3.0) -> KillRun:
    """Stage `rows` with `workers` notify worker processes running, SIGKILL one (and start another) each time
    another 1/(kills + 1) of the messages has arrived, and count what the SMTP server received.

    Kills follow progress rather than the clock, so that all of them fall while messages are outstanding
    however fast or loaded the machine is."""
    import random

    from sqlalchemy import create_engine, func, select

    from services.notify.models import Notification

    rng = random.Random(seed)
    expected = {row["message_id"].encode("ascii") for row in rows}
    pool = WorkerPool(env=env, workdir=workdir)
    try:
        for _ in range(workers):
            pool.spawn()
        pool.wait_up()
        server.reset()
        cpu_before = pool.cpu_seconds()
        started = time.monotonic()
        stage(url, rows)
        while time.monotonic() - started < timeout:
            arrived = set(server.snapshot())
            if expected <= arrived:
                break
            due = len(expected & arrived) >= len(expected) * (pool.kills + 1) / (kills + 1)
            if pool.kills < kills and due:
                pool.kill_one(rng)
            time.sleep(0.01)
        seconds = time.monotonic() - started
        finished = server.snapshot()
        if expected <= set(finished):
            seconds = min(seconds, _arrival_seconds(server, started))
        time.sleep(settle)  # late copies (a dead worker's claim sent again) would arrive now
        cpu = pool.cpu_seconds() - cpu_before
    finally:
        pool.stop()
    received = server.snapshot()
    with server.handler.lock:
        first_arrival = dict(server.handler.first_arrival)
    repeated = [key for key in expected if received.get(key, 0) > 1]
    at_a_kill = [key for key in repeated
                 if any(abs(first_arrival.get(key, -1e9) - killed) <= HANDOVER_SLACK for killed in pool.kill_times)]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            not_sent = conn.scalar(select(func.count()).select_from(Notification).where(Notification.status != "sent"))
    finally:
        engine.dispose()
    return KillRun(seconds=seconds, staged=len(rows), lost=len(expected - set(received)),
                   duplicates=sum(1 for key in expected if received.get(key, 0) > 1),
                   extra_copies=sum(max(0, received.get(key, 0) - 1) for key in expected), kills=pool.kills,
                   cpu_seconds=cpu, not_sent_rows=int(not_sent or 0),
                   copies_not_at_a_kill=sum(received[key] - 1 for key in repeated if key not in at_a_kill))


def _arrival_seconds(server: CountingSmtpServer, started: float) -> float:
    last = server.handler.last_arrival
    return last - started if last else float("inf")
