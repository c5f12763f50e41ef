"""P1 under wrk: intake's public submission API against a trivial Flask JSON app, in one run.

Both run under `deploy/gunicorn.conf.py` (bind overridden) on this machine; intake on PostgreSQL with its outbox
and the relay publishing to RabbitMQ. `wrk -t2 -c16 -d10s`, rounds interleaved (trivial, submissions, ...),
medians. Submissions: POST /intake/api/v1/consultations/<id>/submissions with 2 comments and an e-mail that varies
per request (bench/wrk_submit.lua); p99 from wrk's latency distribution. During every submission round
pg_stat_activity is sampled (wait_event_type:wait_event of intake's backends) and printed as a table.
After the rounds the data is checked: rows == 2xx answers, the outbox drained, one event per submission queued.

    python bench/intake_wrk.py [--rounds 5] [--seconds 10] [--source /path/to/other/checkout] [--floor]

`--floor` adds three contenders to every round, on a database of their own: `bench/floor_app.py`, the least work
that writes the same rows durably (two round trips, no schema library, ORM, relay or extension), once as a bare
WSGI callable, once inside one route of a bare Flask app, and once in that route with the rows of every waiting
request committed together by one writer thread per process (group commit). Their ratios are how far P1 can go
on this machine, without a framework and with Flask alone.

`--source` serves intake from another checkout (e.g. main before a change) with this one's harness, for a
before/after comparison in the same conditions; `--against DIR` serves a second intake from DIR beside this
checkout's, in the same interleaved rounds (a database and vhost of its own), for a before/after in the same run.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402
from kombu import Connection, Exchange, Queue  # noqa: E402

from tests.support import infra  # noqa: E402

P1_RATIO, P1_P99_MS = 0.3, 50.0
# The floors of --floor: the least work that writes intake's rows durably, bare and inside a bare Flask route.
FLOOR_APPS = {"floor": "bench.floor_app:create_app()", "Flask floor": "bench.floor_app:create_flask_app()",
              "Flask floor, group commit": "bench.floor_app:create_group_commit_app()"}


def wrk(url: str, script: Path, seconds: int, threads: int, connections: int) -> dict:
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                          "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("WRKJSON "))
    result = json.loads(line[len("WRKJSON "):])
    result["rate"] = (result["requests"] - result["non2xx"]) / (result["duration_us"] / 1e6)
    return result


def start_gunicorn(app: str, port: int, env: dict, cwd: Path, log: Path,
                   config: Path = ROOT / "deploy" / "gunicorn.conf.py") -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "--config", str(config),
               "--bind", f"127.0.0.1:{port}", app]
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return process


def wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} not ready: {log.read_text()[-3000:]}")


def process_tree(root: int) -> list[int]:
    """`root` and its descendants, from /proc (gunicorn's master and its workers)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[ppid].append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_of(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process that still exists."""
    seconds = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return seconds


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent between two readings; a process born in between counts from 0 (one that died is lost)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def backend_pids(admin_url: str, database: str) -> list[int]:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        return [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend' "
            "AND pid <> pg_backend_pid()", (database,))]


class CpuMeter:
    """CPU per request of a server's process tree and PostgreSQL's backends of its database over one wrk run.
    Unlike the rate, it hardly moves with what else the machine is doing."""

    def __init__(self, root: int, admin_url: str | None = None, database: str | None = None):
        self.root, self.admin_url, self.database = root, admin_url, database

    def _read(self) -> tuple[dict[int, float], dict[int, float]]:
        backends = backend_pids(self.admin_url, self.database) if self.admin_url else []
        return cpu_of(process_tree(self.root)), cpu_of(backends)

    def measure(self, run) -> tuple[dict, float, float]:
        """wrk's result, and the server's and the database's CPU milliseconds per request."""
        server_before, db_before = self._read()
        result = run()
        server_after, db_after = self._read()
        served = max(1, result["requests"])
        return (result, cpu_spent(server_before, server_after) / served * 1000,
                cpu_spent(db_before, db_after) / served * 1000)


class WaitSampler:
    """Samples pg_stat_activity of one database every few milliseconds while `active` is set."""

    def __init__(self, admin_url: str, database: str):
        self.admin_url, self.database = admin_url, database
        self.counts: collections.Counter = collections.Counter()
        self.samples = 0
        self.active = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while not self.stop.is_set():
                if not self.active.wait(0.1):
                    continue
                rows = conn.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                    (self.database,)).fetchall()
                self.samples += 1
                for state, kind, name in rows:
                    if state == "idle":
                        continue
                    label = f"{kind}:{name}" if kind else "CPU (running, no wait)"
                    self.counts[f"{state} | {label}"] += 1
                time.sleep(0.005)

    def table(self) -> str:
        total = sum(self.counts.values()) or 1
        lines = [f"  {'state | wait_event_type:wait_event':58s} {'samples':>8s} {'share':>7s}"]
        for label, count in self.counts.most_common(12):
            lines.append(f"  {label:58s} {count:8d} {count / total:7.1%}")
        lines.append(f"  ({self.samples} snapshots; non-idle backends counted in each)")
        return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--source", type=Path, default=ROOT, help="checkout to serve intake from")
    parser.add_argument("--floor", action="store_true", help="also run bench/floor_app.py in every round")
    parser.add_argument("--against", type=Path, help="also serve intake from this checkout (e.g. main before a change) "
                                                      "in every round, on a database and vhost of its own")
    args = parser.parse_args()

    postgres = infra.postgres_server()
    vhost = infra.rabbit_vhost()
    workdir = Path(tempfile.mkdtemp(prefix="uwagi-wrk-"))
    database_url = postgres.create_database("uwagi_bench_intake")
    database = database_url.rsplit("/", 1)[-1]
    env = {**os.environ, "UWAGI_BROKER_URL": vhost.url(), "UWAGI_SECRET_KEY": "bench-secret-key-0123456789abcdef",
           "UWAGI_DATA_DIR": str(workdir / "var"), "UWAGI_LOG_LEVEL": "WARNING", "INTAKE_DATABASE_URL": database_url,
           # one client sends the whole load (and may reuse addresses): measure intake, not the rate limits
           "UWAGI_RATE_LIMIT_CLIENT": "off", "UWAGI_RATE_LIMIT_RECIPIENT": "off",
           "PYTHONPATH": str(args.source), "PYTHONUNBUFFERED": "1"}
    processes: list[subprocess.Popen] = []
    sampler = WaitSampler(postgres.admin_url, database)
    try:
        subprocess.run([sys.executable, "-m", "services.cli", "migrate", "intake"], env=env, cwd=args.source,
                       check=True, capture_output=True)
        # Every event lands in one durable queue, so the data check can count them.
        tap = Queue("bench.tap", Exchange("uwagi.events", type="topic", durable=True), routing_key="#", durable=True)
        with Connection(vhost.url()) as conn:
            tap.bind(conn.default_channel).declare()
        consultation = create_consultation(env, args.source)
        if args.floor:
            floor_url = postgres.create_database("uwagi_bench_floor")
            floor_env = {**env, "INTAKE_DATABASE_URL": floor_url, "FLOOR_DATABASE_URL": floor_url,
                         "PYTHONPATH": str(ROOT)}
            subprocess.run([sys.executable, "-m", "services.cli", "migrate", "intake"], env=floor_env, cwd=ROOT,
                           check=True, capture_output=True)
            floor_consultation = create_consultation(floor_env, ROOT)

        get_script, post_script = ROOT / "bench" / "wrk_get.lua", ROOT / "bench" / "wrk_submit.lua"
        trivial_port, intake_port = infra.free_port(), infra.free_port()
        trivial_log, intake_log = workdir / "trivial.log", workdir / "intake.log"
        processes.append(start_gunicorn("bench.trivial_app:create_app()", trivial_port,
                                        {**env, "PYTHONPATH": str(ROOT)}, ROOT, trivial_log))
        processes.append(start_gunicorn("services.intake.app:create_app()", intake_port, env, args.source, intake_log))
        trivial_url = f"http://127.0.0.1:{trivial_port}/json"
        intake_base = f"http://127.0.0.1:{intake_port}"
        submit_url = f"{intake_base}/intake/api/v1/consultations/{consultation}/submissions"
        wait_http(trivial_url, processes[0], trivial_log)
        wait_http(f"{intake_base}/intake/healthz", processes[1], intake_log)
        contenders: dict[str, dict] = {}  # the floors and --against: name -> its URL, meter and runs
        if args.floor:
            for name, app in FLOOR_APPS.items():
                floor_port = infra.free_port()
                processes.append(start_gunicorn(app, floor_port, floor_env, ROOT, workdir / f"{name}.log"))
                url = f"http://127.0.0.1:{floor_port}/consultations/{floor_consultation}/submissions"
                wait_http(url, processes[-1], workdir / f"{name}.log")
                wrk(url, post_script, 2, args.threads, args.connections)
                contenders[name] = {"url": url, "runs": [], "meter": CpuMeter(processes[-1].pid, postgres.admin_url,
                                                                          floor_url.rsplit("/", 1)[-1])}
        if args.against:
            # Its own database and vhost: its rows and events must not enter this checkout's data check.
            other_url, other_vhost = postgres.create_database("uwagi_bench_against"), infra.rabbit_vhost()
            other_env = {**env, "INTAKE_DATABASE_URL": other_url, "UWAGI_BROKER_URL": other_vhost.url(),
                         "UWAGI_DATA_DIR": str(workdir / "against"), "PYTHONPATH": str(args.against)}
            subprocess.run([sys.executable, "-m", "services.cli", "migrate", "intake"], env=other_env,
                           cwd=args.against, check=True, capture_output=True)
            other_port = infra.free_port()
            processes.append(start_gunicorn("services.intake.app:create_app()", other_port, other_env, args.against,
                                            workdir / "against.log"))
            url = (f"http://127.0.0.1:{other_port}/intake/api/v1/consultations/"
                   f"{create_consultation(other_env, args.against)}/submissions")
            wait_http(f"http://127.0.0.1:{other_port}/intake/healthz", processes[-1], workdir / "against.log")
            wrk(url, post_script, 2, args.threads, args.connections)
            contenders[f"intake from {args.against}"] = {
                "url": url, "runs": [], "vhost": other_vhost,
                "meter": CpuMeter(processes[-1].pid, postgres.admin_url, other_url.rsplit("/", 1)[-1])}
        sampler.thread.start()

        # A short warm-up of both, so the first round does not pay for imports and connection pools.
        wrk(trivial_url, get_script, 2, args.threads, args.connections)
        warm = wrk(submit_url, post_script, 2, args.threads, args.connections)
        trivial_runs, submit_runs = [], []
        trivial_meter = CpuMeter(processes[0].pid)
        intake_meter = CpuMeter(processes[1].pid, postgres.admin_url, database)
        for number in range(1, args.rounds + 1):
            result, server_ms, _ = trivial_meter.measure(
                lambda: wrk(trivial_url, get_script, args.seconds, args.threads, args.connections))
            trivial_runs.append({**result, "cpu_ms": server_ms})
            sampler.active.set()
            result, server_ms, db_ms = intake_meter.measure(
                lambda: wrk(submit_url, post_script, args.seconds, args.threads, args.connections))
            submit_runs.append({**result, "cpu_ms": server_ms, "db_cpu_ms": db_ms})
            sampler.active.clear()
            for name, contender in contenders.items():
                result, server_ms, db_ms = contender["meter"].measure(
                    lambda: wrk(contender["url"], post_script, args.seconds, args.threads, args.connections))
                contender["runs"].append({**result, "cpu_ms": server_ms, "db_cpu_ms": db_ms})
                print(f"         {name} {result['rate']:,.0f}/s (p99 {result['p99_us'] / 1000:.1f} ms, "
                      f"non-2xx {result['non2xx']}; CPU per request {server_ms:.2f} ms + PostgreSQL "
                      f"{db_ms:.2f} ms)", flush=True)
            print(f"round {number}: trivial {trivial_runs[-1]['rate']:,.0f} req/s, submissions "
                  f"{submit_runs[-1]['rate']:,.0f}/s (p99 {submit_runs[-1]['p99_us'] / 1000:.1f} ms, "
                  f"non-2xx {submit_runs[-1]['non2xx']}, socket errors "
                  f"{sum(submit_runs[-1][k] for k in ('connect', 'read', 'write', 'timeout'))}; CPU per request: trivial "
                  f"{trivial_runs[-1]['cpu_ms']:.2f} ms, intake {submit_runs[-1]['cpu_ms']:.2f} ms + PostgreSQL "
                  f"{submit_runs[-1]['db_cpu_ms']:.2f} ms; load {os.getloadavg()[0]:.1f})", flush=True)

        accepted = sum(r["requests"] - r["non2xx"] for r in [warm, *submit_runs])
        checks = data_check(database_url, vhost.url(), accepted)
        report(args, trivial_runs, submit_runs, sampler, checks, contenders)
    finally:
        sampler.stop.set()
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        vhost.delete()
        for contender in contenders.values():
            if "vhost" in contender:
                contender["vhost"].delete()
        postgres.drop_all()
    return 0


def create_consultation(env: dict, source: Path) -> str:
    code = (
        "from datetime import datetime, timedelta, timezone\n"
        "from services.common.settings import load_settings\n"
        "from services.intake import domain, handlers\n"
        "from services.intake.app import build\n"
        "ctx = build(load_settings())\n"
        "now = datetime.now(timezone.utc)\n"
        "c = handlers.open_consultation(ctx, domain.OpenConsultation(title='Benchmark', "
        "opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30)), actor='bench')\n"
        "print(c.id)\n"
        "ctx.relay.publish_pending(); ctx.close()\n")
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=source, check=True, capture_output=True,
                          text=True).stdout.strip().splitlines()[-1]


def data_check(database_url: str, broker_url: str, accepted: int) -> dict:
    plain = database_url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + 60
    with psycopg.connect(plain, autocommit=True) as conn:
        while True:
            pending = conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]
            if pending == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        drained_after = 60 - (deadline - time.monotonic())
        rows = conn.execute("SELECT count(*) FROM submissions").fetchone()[0]
        distinct = conn.execute("SELECT count(DISTINCT reference) FROM submissions").fetchone()[0]
    with Connection(broker_url) as conn:
        queued = conn.default_channel.queue_declare("bench.tap", passive=True).message_count
    return {"accepted": accepted, "rows": rows, "distinct_references": distinct, "outbox_pending": pending,
            "drained_after_s": drained_after, "queued_events": queued}


def report(args, trivial_runs: list[dict], submit_runs: list[dict], sampler: WaitSampler, checks: dict,
           contenders: dict[str, dict]) -> None:
    ceiling = statistics.median(r["rate"] for r in trivial_runs)
    rate = statistics.median(r["rate"] for r in submit_runs)
    p99 = statistics.median(r["p99_us"] for r in submit_runs) / 1000
    trend = [r["rate"] for r in submit_runs]
    declining = trend[-1] < 0.9 * trend[0]
    ratio = rate / ceiling
    print(f"\nintake under wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, {args.rounds} interleaved "
          f"rounds, medians ({os.cpu_count()} CPUs; intake from {args.source}):")
    print(f"  trivial Flask JSON (ceiling): {ceiling:,.0f} req/s "
          f"({min(r['rate'] for r in trivial_runs):,.0f}–{max(r['rate'] for r in trivial_runs):,.0f}), "
          f"p99 {statistics.median(r['p99_us'] for r in trivial_runs) / 1000:.1f} ms")
    print(f"  POST submissions (2 comments): {rate:,.0f}/s ({min(trend):,.0f}–{max(trend):,.0f}), "
          f"p50 {statistics.median(r['p50_us'] for r in submit_runs) / 1000:.1f} ms, p99 {p99:.1f} ms")
    print(f"  ratio to the ceiling: {ratio:.3f}  [P1 ≥ {P1_RATIO}: {'ok' if ratio >= P1_RATIO else 'MISSED'}]; "
          f"p99 [≤ {P1_P99_MS:.0f} ms: {'ok' if p99 <= P1_P99_MS else 'MISSED'}]")
    trivial_cpu = statistics.median(r["cpu_ms"] for r in trivial_runs)
    intake_cpu = statistics.median(r["cpu_ms"] for r in submit_runs)
    db_cpu = statistics.median(r["db_cpu_ms"] for r in submit_runs)
    print(f"  CPU per request (less sensitive to the machine's other load): trivial {trivial_cpu:.2f} ms; "
          f"submission {intake_cpu:.2f} ms in intake's processes (gunicorn, app, relay thread) + {db_cpu:.2f} ms "
          f"in PostgreSQL = {(intake_cpu + db_cpu) / trivial_cpu:.1f}× the trivial request")
    print(f"  five consecutive runs on one database: {' → '.join(f'{t:,.0f}' for t in trend)}  "
          f"[no decline (last ≥ 0.9 × first): {'MISSED' if declining else 'ok'}]")
    # A rate that falls with the same round's ceiling is the machine (another tenant, steal), not a growing
    # database; the work per submission tells them apart.
    ceilings = " → ".join(f"{r['rate']:,.0f}" for r in trivial_runs)
    work = " → ".join(f"{r['cpu_ms'] + r['db_cpu_ms']:.2f}" for r in submit_runs)
    print(f"    the same rounds' ceilings: {ceilings}; CPU per submission (intake + PostgreSQL): {work} ms")
    in_flight = checks["rows"] - checks["accepted"]  # wrk stops without waiting for its open requests
    print(f"  data: {checks['accepted']} answered 2xx, {checks['rows']} rows (+{in_flight} in flight when wrk "
          f"stopped, at most {args.connections * (args.rounds + 1)}; "
          f"{checks['distinct_references']} distinct references), outbox pending {checks['outbox_pending']} "
          f"after {checks['drained_after_s']:.1f} s, {checks['queued_events']} events queued "
          f"(one per submission plus the consultation's own)")
    for name, contender in contenders.items():
        runs = contender["runs"]
        floor_rate = statistics.median(r["rate"] for r in runs)
        floor_cpu = statistics.median(r["cpu_ms"] for r in runs)
        floor_db = statistics.median(r["db_cpu_ms"] for r in runs)
        if name not in FLOOR_APPS:  # --against
            its_trend = " → ".join(f"{r['rate']:,.0f}" for r in runs)
            print(f"  {name}: {floor_rate:,.0f}/s ({its_trend}) = "
                  f"{floor_rate / ceiling:.3f} of the ceiling, p99 "
                  f"{statistics.median(r['p99_us'] for r in runs) / 1000:.1f} ms, CPU {floor_cpu:.2f} + "
                  f"{floor_db:.2f} ms; this checkout's intake: {rate / floor_rate:.2f}× its rate, "
                  f"{(intake_cpu + db_cpu) / (floor_cpu + floor_db):.2f}× its CPU per submission")
            continue
        trips = "2 round trips a batch" if "group" in name else "2 round trips"
        print(f"  {name} ({FLOOR_APPS[name]}: same rows, {trips}): {floor_rate:,.0f}/s = "
              f"{floor_rate / ceiling:.3f} of the ceiling, p99 "
              f"{statistics.median(r['p99_us'] for r in runs) / 1000:.1f} ms, CPU {floor_cpu:.2f} + {floor_db:.2f} ms "
              f"({(floor_cpu + floor_db) / trivial_cpu:.1f}× trivial); intake reaches {rate / floor_rate:.2f} of it")
    print("  pg_stat_activity of intake's database during the submission rounds:")
    print(sampler.table())


if __name__ == "__main__":
    raise SystemExit(main())
