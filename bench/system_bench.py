"""P3: the whole system's CPU per submission and the receipt's delay, in the production shape on this machine.

Started here, as the README's "Against real servers" and docker-compose.yml run them: for each of intake, review,
documents and notify a gunicorn web process (deploy/gunicorn.conf.py, WEB_CONCURRENCY=2, JSON logs at INFO, the
Prometheus multiprocess directory) and `python -m services.<service>.worker`; each service on its own PostgreSQL
database, all on a fresh RabbitMQ vhost, objects in the local folder (`--weed`: weed mini's S3), and a local
aiosmtpd server in a process of its own that records every message's arrival time, recipient and reference.

An open-loop client in this process fires POST /intake/api/v1/consultations/<id>/submissions (2 comments, an
e-mail address of its own per submission) at fixed times, `--rate` per second for `--seconds`: a scheduler thread
hands each request to a pool of threads at its scheduled instant, and latency counts from that instant, so a slow
server cannot slow the clock. Then it waits until every accepted submission is in review's and documents' inbox
and its receipt has reached the SMTP server.

Measured: CPU (utime + stime from /proc, sampled every 0.5 s) of every process tree over that window, attributed
by process: each service's web and worker, each database's PostgreSQL backends (pg_stat_activity), PostgreSQL's
shared background processes, and RabbitMQ's beam; divided by the accepted submissions. The 201's latency p50/p99
from the scheduled send time, the receipt's arrival at the SMTP server minus the 201, p50/p99, and receipts lost
or received twice. Baseline, in the same run and through the same client: a trivial Flask JSON app
(bench/trivial_app.py) under the same gunicorn config at the same rate, its CPU per request and latency.

    python bench/system_bench.py [--rate 100] [--seconds 60] [--baseline-seconds 10] [--weed]
    python bench/system_bench.py --rate 100 --seconds 60 --profile review,notify,intake-web   # cProfile
    python bench/system_bench.py --source /path/to/other/checkout   # the services of another commit, this harness
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.intake_wrk import create_consultation, start_gunicorn, wait_http  # noqa: E402
from bench.thread_profile import profile_new_threads, thread_cpu_profiler  # noqa: E402
from tests.support import infra  # noqa: E402

SERVICES = ("intake", "review", "documents", "notify")
P3_CPU_MS, P3_RECEIPT_P50, P3_RECEIPT_P99 = 12.0, 0.5, 2.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
BODY = ('{"submitter":{"name":"Osoba testowa","email":"%s@bench.example.org","publish_consent":false},'
        '"comments":[{"section":"§ 5 ust. 2","current_text":"Obecne brzmienie.","proposal":"Propozycja %d",'
        '"justification":"Uzasadnienie."},{"section":"§ 7","proposal":"Skreślić ust. 3.","justification":"Zbędny."}]}')
REFERENCE = re.compile(rb"UW/\d{4}/\d{6}")


# --- the SMTP server (a process of its own) ----------------------------------------------------------------------


def smtp_child(port: int) -> None:
    """aiosmtpd on 127.0.0.1:port; one line per accepted message on stdout: time.time(), recipients, reference."""
    from aiosmtpd.controller import Controller

    lock = threading.Lock()

    class Recorder:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
            arrived = time.time()
            raw = envelope.original_content or envelope.content
            if isinstance(raw, str):
                raw = raw.encode("utf-8")
            found = REFERENCE.search(raw)
            line = json.dumps([arrived, list(envelope.rcpt_tos), found.group(0).decode() if found else ""])
            with lock:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            return "250 OK"

    controller = Controller(Recorder(), hostname="127.0.0.1", port=port)
    controller.start()
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


class SmtpRecorder:
    def __init__(self, workdir: Path):
        self.port = infra.free_port()
        self.process = subprocess.Popen([sys.executable, __file__, "--smtp-child", str(self.port)],
                                        stdout=subprocess.PIPE, stderr=open(workdir / "smtp.log", "wb"), text=True,
                                        cwd=ROOT, start_new_session=True)
        if self.process.stdout.readline().strip() != "READY":
            raise SystemExit("the SMTP server did not start; see " + str(workdir / "smtp.log"))
        self.lock = threading.Lock()
        self.arrivals: dict[str, list[tuple[float, str]]] = {}  # recipient -> [(arrival time, reference)]
        self.total = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            arrived, recipients, reference = json.loads(line)
            with self.lock:
                for recipient in recipients:
                    self.arrivals.setdefault(recipient.lower(), []).append((arrived, reference))
                self.total += 1

    def count_of(self, recipients: list[str]) -> int:
        with self.lock:
            return sum(1 for r in recipients if r in self.arrivals)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(10)


# --- CPU of process trees, from /proc -------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, utime + stime in seconds) of a live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def _all_stats() -> dict[int, tuple[int, float]]:
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _stat(int(entry))
            if found is not None:
                stats[int(entry)] = found
    return stats


def _tree(root: int, stats: dict[int, tuple[int, float]]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in stats and pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


def _rabbit_pid(port: int = infra.AMQP_PORT) -> int | None:
    """The process listening on the broker's port (chaos tests may run RabbitMQ nodes of their own beside it)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[1].rsplit(":", 1)[1] == f"{port:04X}" and fields[3] == "0A":  # LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                if os.readlink(f"/proc/{entry}/fd/{fd}") in inodes:
                    return int(entry)
        except OSError:
            continue
    return None


class CpuMeter:
    """CPU seconds per component over a window: each pid's CPU at its last sighting minus at its first (or 0 for a
    process born inside the window), sampled every `interval` so that short-lived processes count too."""

    def __init__(self, groups: dict[str, int], pg_admin_url: str, databases: dict[str, str], interval: float = 0.5):
        self.groups, self.databases, self.interval = groups, databases, interval
        self.pg = psycopg.connect(pg_admin_url, autocommit=True)
        self.own_backend = self.pg.execute("SELECT pg_backend_pid()").fetchone()[0]
        self.postmaster = _stat(self.own_backend)[0]
        self.rabbit = _rabbit_pid()
        self.excluded: set[int] = {self.own_backend}  # the bench's own database connections
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.owner: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def exclude(self, pid: int) -> None:
        self.excluded.add(pid)

    def _classify(self, stats: dict[int, tuple[int, float]]) -> dict[int, str]:
        owner: dict[int, str] = {}
        for name, root in self.groups.items():
            for pid in _tree(root, stats):
                owner[pid] = name
        if self.rabbit is not None:
            for pid in _tree(self.rabbit, stats):
                owner[pid] = "RabbitMQ (beam, shared)"
        rows = self.pg.execute("SELECT pid, datname, backend_type FROM pg_stat_activity").fetchall()
        by_pid = {pid: (datname, kind) for pid, datname, kind in rows}
        for pid, (parent, _) in stats.items():
            if parent != self.postmaster or pid in self.excluded:
                continue
            datname, kind = by_pid.get(pid, (None, None))
            service = self.databases.get(datname or "")
            if service is not None:
                owner[pid] = f"PostgreSQL {service}"
            elif kind in ("checkpointer", "background writer", "walwriter", "autovacuum launcher",
                          "logical replication launcher", None) and datname is None:
                # None: a process pg_stat_activity does not list (the stats collector, the archiver)
                owner[pid] = "PostgreSQL background (shared)"
        return owner

    def sample(self, first: bool = False) -> None:
        stats = _all_stats()
        owners = self._classify(stats)
        for pid, name in owners.items():
            cpu = stats[pid][1]
            if pid not in self.first:
                self.first[pid] = cpu if first else 0.0
            self.last[pid] = cpu
        for pid in self.first:
            if pid in stats:  # the latest word: a backend pg_stat_activity did not list yet may be someone else's
                self.owner[pid] = owners.get(pid, "")

    def start(self) -> None:
        self.first.clear(), self.last.clear(), self.owner.clear()
        self.sample(first=True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self.sample()
        totals: dict[str, float] = {}
        for pid, name in self.owner.items():
            if name:
                totals[name] = totals.get(name, 0.0) + self.last[pid] - self.first[pid]
        return totals


class QuerySampler:
    """`--pg-sample`: which statements our databases' backends are running, sampled from pg_stat_activity."""

    def __init__(self, admin_url: str, databases: dict[str, str], interval: float = 0.01):
        self.admin_url, self.databases, self.interval = admin_url, databases, interval
        self.counts: dict[tuple[str, str], int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "QuerySampler":
        self._thread.start()
        return self

    def _run(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while not self._stop.wait(self.interval):
                for datname, query in conn.execute(
                        "SELECT datname, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) FROM pg_stat_activity "
                        "WHERE state = 'active' AND datname = ANY(%s) AND pid <> pg_backend_pid()",
                        (list(self.databases),)).fetchall():
                    key = (self.databases[datname], query)
                    self.counts[key] = self.counts.get(key, 0) + 1

    def report(self) -> None:
        self._stop.set()
        self._thread.join()
        total = sum(self.counts.values()) or 1
        print("\n  statements running in our databases (pg_stat_activity samples, state 'active'):")
        for (service, query), count in sorted(self.counts.items(), key=lambda item: -item[1])[:25]:
            print(f"  {count / total:6.1%} {service:9s} {query}")


# --- the open-loop client -------------------------------------------------------------------------------------------


@dataclass
class Shot:
    index: int
    scheduled: float  # time.monotonic() it was due
    recipient: str = ""
    status: int = 0
    latency: float = 0.0  # from the scheduled instant to the whole answer
    answered_at: float = 0.0  # time.time() of the answer (compared with the SMTP server's clock)
    reference: str = ""
    error: str = ""


@dataclass
class LoadResult:
    shots: list[Shot] = field(default_factory=list)
    seconds: float = 0.0
    late_starts: int = 0  # requests handed to a thread more than 10 ms after their time (the client's own lag)
    client_cpu: float = 0.0

    @property
    def accepted(self) -> list[Shot]:
        return [s for s in self.shots if s.status == 201]


def open_loop(host: str, port: int, path: str, *, rate: float, seconds: float, tag: str, method: str = "POST",
              threads: int = 200) -> LoadResult:
    """Fire requests at t0 + i/rate whatever the server does; up to `threads` in flight."""
    total = int(rate * seconds)
    jobs: queue.Queue = queue.Queue()
    result = LoadResult(shots=[Shot(i, 0.0) for i in range(total)])
    late = [0]

    def worker() -> None:
        connection = None
        while True:
            shot = jobs.get()
            if shot is None:
                return
            if time.monotonic() - shot.scheduled > 0.01:
                late[0] += 1
            shot.recipient = f"{tag}-{shot.index:06d}@bench.example.org"
            body = (BODY % (shot.recipient.split("@")[0], shot.index)).encode() if method == "POST" else None
            for attempt in (1, 2):
                try:
                    if connection is None:
                        connection = http.client.HTTPConnection(host, port, timeout=60)
                    connection.request(method, path, body=body,
                                       headers={"Content-Type": "application/json"} if body else {})
                    response = connection.getresponse()
                    payload = response.read()
                    shot.answered_at = time.time()
                    shot.latency = time.monotonic() - shot.scheduled
                    shot.status = response.status
                    if response.status == 201:
                        shot.reference = json.loads(payload)["reference"]
                    if response.getheader("Connection", "").lower() == "close":
                        connection.close()
                        connection = None
                    break
                except (OSError, http.client.HTTPException) as exc:
                    if connection is not None:
                        connection.close()
                        connection = None
                    # A kept-alive connection the server closed meanwhile: the request never reached it.
                    if attempt == 2 or not isinstance(exc, (http.client.RemoteDisconnected, BrokenPipeError,
                                                            ConnectionResetError)):
                        shot.error = f"{type(exc).__name__}: {exc}"
                        break

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    cpu_before = time.process_time()
    started = time.monotonic() + 0.05
    for shot in result.shots:
        shot.scheduled = started + shot.index / rate
        delay = shot.scheduled - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        jobs.put(shot)
    for _ in pool:
        jobs.put(None)
    for thread in pool:
        thread.join(120)
    result.seconds = time.monotonic() - started
    result.late_starts = late[0]
    result.client_cpu = time.process_time() - cpu_before
    return result


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


# --- the system -----------------------------------------------------------------------------------------------------


class System:
    def __init__(self, workdir: Path, env: dict[str, str], profile: set[str], source: Path = ROOT):
        self.workdir, self.env, self.profile, self.source = workdir, env, profile, source
        self.processes: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}

    def start(self) -> None:
        for service in SERVICES:
            port = infra.free_port()
            self.ports[service] = port
            metrics = self.workdir / f"metrics-{service}"
            metrics.mkdir(parents=True, exist_ok=True)
            web_env = {**self.env, "WEB_CONCURRENCY": "2", "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
            config = ROOT / "deploy" / "gunicorn.conf.py"
            if f"{service}-web" in self.profile:
                (self.workdir / f"{service}-web-prof").mkdir(exist_ok=True)
                web_env["PROFILE_DIR"] = str(self.workdir / f"{service}-web-prof")
                config = ROOT / "bench" / "profiled_gunicorn.conf.py"
            self.processes[f"{service} web"] = start_gunicorn(
                f"services.{service}.app:create_app()", port, web_env, self.source,
                self.workdir / f"{service}-web.log", config)
            command = [sys.executable, "-m", f"services.{service}.worker"]
            if service in self.profile:
                command = [sys.executable, str(ROOT / "bench" / "system_bench.py"), "--profiled-worker", service,
                           "--profile-out", str(self.workdir / f"{service}-worker.prof")]
            with open(self.workdir / f"{service}-worker.log", "ab") as log:
                self.processes[f"{service} worker"] = subprocess.Popen(
                    command, env=self.env, cwd=self.source, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True)
        for service in SERVICES:
            wait_http(f"http://127.0.0.1:{self.ports[service]}/{service}/healthz", self.processes[f"{service} web"],
                      self.workdir / f"{service}-web.log")
        data_dir = Path(self.env["UWAGI_DATA_DIR"])
        deadline = time.monotonic() + 90
        while not all((data_dir / f"heartbeat-{s}").exists() for s in SERVICES):
            for service in SERVICES:
                if self.processes[f"{service} worker"].poll() is not None:
                    raise SystemExit(f"{service} worker exited; see {self.workdir / (service + '-worker.log')}")
            if time.monotonic() > deadline:
                raise SystemExit(f"workers not up; see {self.workdir}")
            time.sleep(0.2)

    def roots(self) -> dict[str, int]:
        return {name: process.pid for name, process in self.processes.items()}

    def stop(self) -> None:
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in self.processes.values():
            try:
                process.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def profiled_worker(service: str, out: str) -> None:
    """`python -m services.<service>.worker` with a cProfile per thread, merged and written out at SIGTERM."""
    import importlib
    import pstats

    sys.path.insert(0, os.getcwd())  # the checkout the services run from (--source)
    profilers: list = []
    profile_new_threads(profilers)
    from services.common.runtime import run_worker_main

    main_profiler = thread_cpu_profiler(profilers)
    try:
        main_profiler.enable()
        run_worker_main(importlib.import_module(f"services.{service}.app").build,
                        importlib.import_module(f"services.{service}.worker").worker_spec())
    finally:
        main_profiler.disable()
        pstats.Stats(*profilers).dump_stats(out)


def count_inbox(url: str) -> int:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        return conn.execute("SELECT count(DISTINCT event_id) FROM inbox WHERE event_type = 'submission.received'"
                            ).fetchone()[0]


def wait_drained(urls: dict[str, str], smtp: SmtpRecorder, recipients: list[str], submissions: int,
                 meter: CpuMeter | None, timeout: float) -> float:
    """Seconds until every submission is in review's, documents' and notify's inbox and every receipt arrived."""
    started = time.monotonic()
    connections = {s: psycopg.connect(urls[s].replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
                   for s in ("review", "documents", "notify")}
    try:
        for conn in connections.values():
            if meter is not None:
                meter.exclude(conn.execute("SELECT pg_backend_pid()").fetchone()[0])
        while time.monotonic() - started < timeout:
            if smtp.count_of(recipients) >= len(recipients) and all(
                    conn.execute("SELECT count(DISTINCT event_id) FROM inbox "
                                 "WHERE event_type = 'submission.received'").fetchone()[0] >= submissions
                    for conn in connections.values()):
                return time.monotonic() - started
            time.sleep(0.25)
    finally:
        for conn in connections.values():
            conn.close()
    return float("inf")


def run_load(system: System, smtp: SmtpRecorder, consultation: str, urls: dict[str, str], *, rate: float,
             seconds: float, tag: str, submitted_before: int, meter: CpuMeter | None,
             timeout: float) -> tuple[LoadResult, float]:
    path = f"/intake/api/v1/consultations/{consultation}/submissions"
    load = open_loop("127.0.0.1", system.ports["intake"], path, rate=rate, seconds=seconds, tag=tag)
    accepted = load.accepted
    drained = wait_drained(urls, smtp, [s.recipient for s in accepted], submitted_before + len(accepted), meter,
                           timeout)
    return load, drained


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100.0, help="submissions per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=int, default=200, help="submissions before the measured run")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the last receipt")
    parser.add_argument("--weed", action="store_true", help="objects in weed mini's S3 instead of the local folder")
    parser.add_argument("--profile", default="", help="services whose worker runs under cProfile, comma-separated; "
                        "`intake-web` (and so on) profiles that service's gunicorn workers")
    parser.add_argument("--pg-sample", action="store_true", help="sample the statements PostgreSQL runs")
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="checkout to run the services from (e.g. main before a change), with this harness")
    parser.add_argument("--keep", action="store_true", help="leave the work directory (logs, profiles) and the databases")
    parser.add_argument("--smtp-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profiled-worker", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smtp_child:
        smtp_child(args.smtp_child)
        return 0
    if args.profiled_worker:
        profiled_worker(args.profiled_worker, args.profile_out)
        return 0

    postgres, vhost = infra.postgres_server(), infra.rabbit_vhost()
    workdir = Path(tempfile.mkdtemp(prefix="uwagi-system-bench-"))
    urls = {s: postgres.create_database(f"uwagi_bench_{s}") for s in SERVICES}
    databases = {url.rsplit("/", 1)[-1]: s for s, url in urls.items()}
    env = {**os.environ, "UWAGI_BROKER_URL": vhost.url(), "UWAGI_SECRET_KEY": "bench-secret-key-0123456789abcdef",
           "UWAGI_DATA_DIR": str(workdir / "var"), "UWAGI_LOG_LEVEL": "INFO", "UWAGI_LOG_FORMAT": "json",
           "UWAGI_MAIL_FROM": "konsultacje@example.org", "UWAGI_TIMEZONE": "Europe/Warsaw",
           # one client sends the whole load: measure the system, not the rate limits
           "UWAGI_RATE_LIMIT_CLIENT": "off", "UWAGI_RATE_LIMIT_RECIPIENT": "off",
           "PYTHONPATH": str(args.source), "PYTHONUNBUFFERED": "1",
           **{f"{s.upper()}_DATABASE_URL": url for s, url in urls.items()}}
    weed = None
    system = System(workdir, env, {s for s in args.profile.split(",") if s}, args.source)
    smtp = None
    trivial = None
    print(f"P3: the whole system (from {args.source}) at {args.rate:.0f} submissions/s for {args.seconds:.0f} s, "
          f"production shape on this machine ({os.cpu_count()} CPUs, load average at start "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}); work directory {workdir}", flush=True)
    try:
        if args.weed:
            weed = infra.start_weed(workdir / "weed")
            env.update(UWAGI_S3_ENDPOINT=weed.endpoint, UWAGI_S3_ACCESS_KEY=weed.access_key,
                       UWAGI_S3_SECRET_KEY=weed.secret_key)
        smtp = SmtpRecorder(workdir)
        env.update(UWAGI_SMTP_HOST="127.0.0.1", UWAGI_SMTP_PORT=str(smtp.port))
        subprocess.run([sys.executable, "-m", "services.cli", "migrate", "all"], env=env, cwd=args.source,
                       check=True, capture_output=True)
        system.start()
        consultation = create_consultation(env, args.source)
        time.sleep(2)  # consultation.published reaches every consumer

        # Baseline: the trivial app under the same gunicorn config, the same client, the same rate.
        trivial_port = infra.free_port()
        trivial = start_gunicorn("bench.trivial_app:create_app()", trivial_port,
                                 {**env, "WEB_CONCURRENCY": "2", "PYTHONPATH": str(ROOT)}, ROOT, workdir / "trivial.log")
        wait_http(f"http://127.0.0.1:{trivial_port}/json", trivial, workdir / "trivial.log")
        open_loop("127.0.0.1", trivial_port, "/json", rate=args.rate, seconds=2, tag="t", method="GET")
        base_meter = CpuMeter({"trivial web": trivial.pid}, postgres.admin_url, {})
        base_meter.start()
        baseline = open_loop("127.0.0.1", trivial_port, "/json", rate=args.rate, seconds=args.baseline_seconds,
                             tag="t", method="GET")
        base_cpu = base_meter.stop().get("trivial web", 0.0)
        base_meter.pg.close()
        os.killpg(trivial.pid, signal.SIGTERM)
        trivial.wait(30)
        trivial = None
        base_ok = [s for s in baseline.shots if s.status == 200]
        base_ms = base_cpu * 1000 / max(1, len(base_ok))

        warm_rate = min(args.rate, 50.0)
        warm, warm_drained = run_load(system, smtp, consultation, urls, rate=warm_rate,
                                      seconds=args.warmup / warm_rate, tag="warm", submitted_before=0, meter=None,
                                      timeout=args.timeout)
        print(f"warm-up: {len(warm.accepted)} of {len(warm.shots)} accepted, drained "
              f"{warm_drained:.1f} s after the last", flush=True)
        # Statistics, as autovacuum keeps them on a live system: plans made while the tables were empty (psycopg
        # prepares a statement at its fifth use, and PostgreSQL may keep a generic plan) would scan whole tables.
        for url in urls.values():
            with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
                conn.execute("ANALYZE")

        meter = CpuMeter(system.roots(), postgres.admin_url, databases)
        load_before = os.getloadavg()
        sampler = QuerySampler(postgres.admin_url, databases).start() if args.pg_sample else None
        meter.start()
        started = time.monotonic()
        load, drained = run_load(system, smtp, consultation, urls, rate=args.rate, seconds=args.seconds,
                                 tag="run", submitted_before=len(warm.accepted), meter=meter, timeout=args.timeout)
        window = time.monotonic() - started
        cpu = meter.stop()
        load_after = os.getloadavg()
        time.sleep(2)  # late duplicates would arrive now
        report(args, load, drained, window, cpu, smtp, baseline, base_ms, load_before, load_after, urls)
        if sampler is not None:
            sampler.report()
        meter.pg.close()
    finally:
        if trivial is not None:
            os.killpg(trivial.pid, signal.SIGTERM)
        system.stop()
        if smtp is not None:
            smtp.stop()
        if weed is not None:
            weed.stop()
        vhost.delete()
        if args.keep:
            print(f"kept the databases: {', '.join(url.rsplit('/', 1)[-1] for url in urls.values())}")
        else:
            postgres.drop_all()
        if not args.keep and not args.profile:
            subprocess.run(["rm", "-rf", str(workdir)], check=False)
    return 0


def report(args, load: LoadResult, drained: float, window: float, cpu: dict[str, float], smtp: SmtpRecorder,
           baseline: LoadResult, base_ms: float, load_before, load_after, urls: dict[str, str]) -> None:
    accepted = load.accepted
    n = max(1, len(accepted))
    statuses: dict[str, int] = {}
    for shot in load.shots:
        key = str(shot.status) if shot.status else (shot.error.split(":")[0] or "no answer")
        statuses[key] = statuses.get(key, 0) + 1
    latencies = [s.latency for s in accepted]
    delays, lost, duplicates, wrong_reference = [], 0, 0, 0
    with smtp.lock:
        for shot in accepted:
            arrivals = smtp.arrivals.get(shot.recipient, [])
            if not arrivals:
                lost += 1
                continue
            if len(arrivals) > 1:
                duplicates += 1
            if arrivals[0][1] != shot.reference:
                wrong_reference += 1
            delays.append(arrivals[0][0] - shot.answered_at)
    print(f"\nP3, {len(load.shots)} submissions scheduled at {args.rate:.0f}/s over {args.seconds:.0f} s "
          f"(open loop; {load.late_starts} handed to a client thread > 10 ms late): {statuses}")
    print(f"  the client sent for {load.seconds:.1f} s; everything drained {drained:.1f} s after its last answer; "
          f"CPU window {window:.1f} s")
    print(f"\n  {'component':40s} {'CPU s':>8s} {'ms/submission':>14s}")
    order = [f"{s} {kind}" for s in SERVICES for kind in ("web", "worker")]
    order += [f"PostgreSQL {s}" for s in SERVICES] + ["PostgreSQL background (shared)", "RabbitMQ (beam, shared)"]
    total = 0.0
    for name in order:
        seconds = cpu.get(name, 0.0)
        total += seconds
        print(f"  {name:40s} {seconds:8.2f} {seconds * 1000 / n:14.2f}")
    per = total * 1000 / n
    print(f"  {'total':40s} {total:8.2f} {per:14.2f}  [P3 ≤ {P3_CPU_MS:.0f} ms: "
          f"{'ok' if per <= P3_CPU_MS else 'MISSED'}]")
    python = sum(cpu.get(name, 0.0) for name in order[:8])
    print(f"  (the Uwagi processes {python * 1000 / n:.2f} ms, PostgreSQL "
          f"{sum(v for k, v in cpu.items() if k.startswith('PostgreSQL')) * 1000 / n:.2f} ms, RabbitMQ "
          f"{cpu.get('RabbitMQ (beam, shared)', 0.0) * 1000 / n:.2f} ms; the client's own CPU "
          f"{load.client_cpu * 1000 / max(1, len(load.shots)):.2f} ms/request, not counted)")
    print(f"\n  baseline, same run, same client: trivial Flask JSON under deploy/gunicorn.conf.py at "
          f"{args.rate:.0f} req/s: {base_ms:.2f} ms CPU per request, p50 "
          f"{percentile([s.latency for s in baseline.shots if s.status == 200], 0.5) * 1000:.1f} ms, p99 "
          f"{percentile([s.latency for s in baseline.shots if s.status == 200], 0.99) * 1000:.1f} ms")
    print(f"  system CPU per submission = {per / base_ms:.1f}× the trivial request's")
    print(f"\n  201 latency from the scheduled send: p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies, default=0) * 1000:.1f} ms")
    p50, p99 = percentile(delays, 0.5), percentile(delays, 0.99)
    ok = p50 <= P3_RECEIPT_P50 and p99 <= P3_RECEIPT_P99
    print(f"  receipt at the SMTP server after the 201: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
          f"max {max(delays, default=0) * 1000:.0f} ms  [P3 p50 ≤ {P3_RECEIPT_P50} s, p99 ≤ {P3_RECEIPT_P99} s: "
          f"{'ok' if ok else 'MISSED'}]")
    print(f"  receipts: {len(accepted)} accepted, {len(accepted) - lost} received, lost {lost}, received twice "
          f"{duplicates}, reference differs from the 201's {wrong_reference}")
    inbox = {s: count_inbox(urls[s]) for s in ("review", "documents", "notify")}
    print(f"  submission.received in each inbox (warm-up included): {inbox}")
    print(f"  load average: before {' '.join(f'{x:.1f}' for x in load_before)}, after "
          f"{' '.join(f'{x:.1f}' for x in load_after)}")


if __name__ == "__main__":
    raise SystemExit(main())
