"""Runs the four services as separate OS processes (gunicorn web + worker each) on real servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from services.common.settings import SERVICES
from tests.support.infra import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Cluster:
    workdir: Path
    env: dict[str, str]
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    token: str = ""

    def url(self, service: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[service]}/{service}{path}"

    def api(self, service: str, path: str) -> str:
        return self.url(service, f"/api/v1{path}")

    @property
    def staff(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _env(self, service: str) -> dict[str, str]:
        return {**os.environ, **self.env, **self.service_env.get(service, {}), "PYTHONUNBUFFERED": "1"}

    def run(self, *args: str, service: str = "review") -> str:
        result = subprocess.run([sys.executable, "-m", "services.cli", *args], env=self._env(service), cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"uwagi {' '.join(args)} failed: {result.stderr[-3000:]}")
        return result.stdout

    def start(self, name: str, command: list[str], service: str) -> subprocess.Popen:
        with open(self.workdir / f"{name}.log", "ab") as log:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(command, env=self._env(service), cwd=ROOT, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def start_web(self, service: str, workers: int = 1) -> None:
        self.ports.setdefault(service, free_port())
        self.start(f"{service}-web", [
            sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.ports[service]}", "--workers", str(workers),
            "--threads", "4", "--timeout", "60", f"services.{service}.app:create_app()"], service)

    def start_worker(self, service: str, module: str | None = None) -> subprocess.Popen:
        return self.start(f"{service}-worker", [sys.executable, "-m", module or f"services.{service}.worker"], service)

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20) -> int | None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        os.killpg(process.pid, sig)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            return process.wait(10)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def wait_ready(self, timeout: float = 90) -> None:
        def ready() -> bool:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")
            try:
                return all(requests.get(self.url(s, "/readyz"), timeout=2).status_code == 200 for s in self.ports)
            except requests.RequestException:
                return False

        wait_until(ready, timeout=timeout, interval=0.3, what="all services ready")
        # Workers declare their queues on start; wait for their heartbeat files too.
        wait_until(lambda: all((Path(self.env["UWAGI_DATA_DIR"]) / f"heartbeat-{s}").exists() for s in SERVICES),
                   timeout=timeout, what="worker heartbeats")

    def log_tail(self, name: str, chars: int = 4000) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"

    def all_logs(self) -> str:
        return "\n".join(f"===== {p.stem} =====\n{self.log_tail(p.stem, 3000)}" for p in sorted(self.workdir.glob("*.log")))


def cluster_env(*, broker_url: str, postgres, s3_server, smtp, data_dir: Path, prefix: str,
                **overrides: str) -> dict[str, str]:
    """The environment of a cluster on real servers, with a database of its own per service."""
    return {
        "UWAGI_BROKER_URL": broker_url,
        "UWAGI_SECRET_KEY": f"{prefix}-secret-key-0123456789abcdef",
        "UWAGI_DATA_DIR": str(data_dir),
        "UWAGI_S3_ENDPOINT": s3_server.endpoint,
        "UWAGI_S3_ACCESS_KEY": s3_server.access_key,
        "UWAGI_S3_SECRET_KEY": s3_server.secret_key,
        "UWAGI_S3_BUCKET": f"uwagi-{prefix}",
        "UWAGI_SMTP_HOST": smtp.host,
        "UWAGI_SMTP_PORT": str(smtp.port),
        "UWAGI_MAIL_FROM": "konsultacje@um.example",
        "UWAGI_RELAY_INTERVAL": "0.5",
        "UWAGI_PUBLIC_URL": "http://127.0.0.1:8080",
        "UWAGI_LOG_LEVEL": "INFO",
        **{f"{svc.upper()}_DATABASE_URL": postgres.create_database(f"uwagi_{prefix}_{svc}") for svc in SERVICES},
        **overrides,
    }


def start_cluster(workdir: Path, env: dict[str, str], service_env: dict[str, dict[str, str]] | None = None,
                  web_workers: int = 1) -> Cluster:
    cluster = Cluster(workdir, env, service_env or {})
    for service in SERVICES:
        cluster.run("migrate", service, service=service)
    cluster.token = cluster.run("users", "create", "--email", "koordynator@e2e.example", "--role", "coordinator").strip()
    for service in SERVICES:
        cluster.start_web(service, web_workers)
        cluster.start_worker(service)
    try:
        cluster.wait_ready()
    except Exception:
        print(cluster.all_logs())
        cluster.stop_all()
        raise
    time.sleep(0.5)
    return cluster
