"""Servers of one's own for chaos tests: a RabbitMQ node and a PostgreSQL cluster that a test may kill.

Each runs on free ports under its own temporary directory, bound to 127.0.0.1, so `kill -9` harms nothing the
rest of the suite (or another helper's run) uses. Both can be killed, stopped and started again on the same
ports and data, which is what a restart after a crash looks like to the services.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.support.infra import free_port, port_open, unavailable, wait_until

RABBIT_BIN = "/usr/lib/rabbitmq/bin"


def _kill_group(process: subprocess.Popen | None, sig: int = signal.SIGKILL) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class RabbitNode:
    """`rabbitmq-server` as a child of the test: its own node name, ports, mnesia and log directories."""

    def __init__(self, base: Path | None = None) -> None:
        if not os.path.exists(f"{RABBIT_BIN}/rabbitmq-server"):
            unavailable("RabbitMQ", f"{RABBIT_BIN}/rabbitmq-server is missing")
        self.base = Path(base or tempfile.mkdtemp(prefix="uwagi-chaos-rabbit-"))
        self.nodename = f"chaos-{uuid.uuid4().hex[:10]}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        self.process: subprocess.Popen | None = None
        (self.base / "mnesia").mkdir(parents=True, exist_ok=True)
        (self.base / "log").mkdir(exist_ok=True)
        (self.base / "enabled_plugins").write_text("[].\n")
        (self.base / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
            "loopback_users.guest = true\n"
            "vm_memory_high_watermark.relative = 0.6\n"
            "disk_free_limit.absolute = 50MB\n")
        (self.base / "rabbitmq-env.conf").write_text("")

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        })
        return env

    def start(self, timeout: float = 90.0) -> "RabbitNode":
        self.process = subprocess.Popen([f"{RABBIT_BIN}/rabbitmq-server"], env=self._env(), start_new_session=True,
                                        stdout=open(self.base / "stdout.log", "ab"), stderr=subprocess.STDOUT)
        wait_until(self.ready, timeout=timeout, interval=0.3, what=f"RabbitMQ node {self.nodename}")
        return self

    def ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            log = (self.base / "stdout.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"rabbitmq-server exited with {self.process.returncode}:\n{log}")
        if not port_open("127.0.0.1", self.port, 0.2):
            return False
        from kombu import Connection

        try:
            with Connection(self.url, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
                conn.channel()
            return True
        except Exception:
            return False

    def kill(self) -> None:
        """`kill -9` of the whole node (beam and its helpers): no clean shutdown, no flush."""
        _kill_group(self.process, signal.SIGKILL)

    def stop(self) -> None:
        _kill_group(self.process, signal.SIGTERM)

    def restart(self, timeout: float = 90.0) -> "RabbitNode":
        self.kill()
        return self.start(timeout)

    def destroy(self) -> None:
        self.kill()
        shutil.rmtree(self.base, ignore_errors=True)


def _postgres_bin() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        unavailable("PostgreSQL", "no /usr/lib/postgresql/*/bin/pg_ctl")
    return Path(candidates[-1]).parent


class PgCluster:
    """`initdb` + `pg_ctl` on a free port under its own data directory; as `postgres` when the tests run as root."""

    def __init__(self, base: Path | None = None) -> None:
        self.bin = _postgres_bin()
        self.base = Path(base or tempfile.mkdtemp(prefix="uwagi-chaos-pg-"))
        self.data = self.base / "data"
        self.port = free_port()
        self.as_user = "postgres" if os.geteuid() == 0 else None
        os.chmod(self.base, 0o755)
        if self.as_user:
            entry = pwd.getpwnam(self.as_user)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        self._run(["initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.base}'\n"
                       "fsync = off\nmax_connections = 200\n")

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_user:
            entry = pwd.getpwnam(self.as_user)

            def demote() -> None:
                os.setgid(entry.pw_gid)
                os.setuid(entry.pw_uid)

            return subprocess.run(command, check=check, capture_output=True, timeout=120, preexec_fn=demote,
                                  cwd=str(self.base))
        return subprocess.run(command, check=check, capture_output=True, timeout=120)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str = "uwagi") -> str:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def start(self) -> "PgCluster":
        self._run(["pg_ctl", "-D", str(self.data), "-l", str(self.base / "server.log"), "-w", "-t", "60", "start"])
        wait_until(lambda: port_open("127.0.0.1", self.port, 0.2), timeout=30, what="PostgreSQL port")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"], check=False)

    def kill(self) -> None:
        """SIGKILL of the postmaster (its backends follow as they notice)."""
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and port_open("127.0.0.1", self.port, 0.1):
                time.sleep(0.1)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)
