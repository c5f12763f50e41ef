"""`uwagi run` / `make run`: the whole system in one process on embedded defaults.

The four services keep their own databases, apps, consumers, relays and Celery
workers; only the transport is in-process (`memory://`) and the web apps share
one port, dispatched by their path prefix like the gateway does in production.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.utils import redirect

from services.common.db import upgrade
from services.common.observability import redact_request_line
from services.common.runtime import ServiceContext, ServiceWorker, configure_logging
from services.common.settings import SERVICES, Settings, load_settings_for_cli

log = logging.getLogger("uwagi.embedded")


class RedactingRequestHandler(WSGIRequestHandler):
    """werkzeug's request log, with status tokens and signed links in query strings shown as [redacted]."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        line = self.requestline
        try:
            self.requestline = redact_request_line(line)
            super().log_request(code, size)
        finally:
            self.requestline = line


class PrefixDispatcher:
    """Routes `/intake/...`, `/review/...` etc. to the service's own WSGI app, unchanged."""

    def __init__(self, apps: dict[str, Callable], default_path: str = "/intake/"):
        self.apps = apps
        self.default_path = default_path

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        prefix = environ.get("PATH_INFO", "/").lstrip("/").split("/", 1)[0]
        app = self.apps.get(prefix)
        if app is None:
            return redirect(self.default_path)(environ, start_response)
        return app(environ, start_response)


@dataclass
class EmbeddedSystem:
    settings: Settings
    contexts: dict[str, ServiceContext]
    workers: dict[str, ServiceWorker]
    wsgi: PrefixDispatcher

    def stop(self) -> None:
        for worker in self.workers.values():
            worker.stop()


def _service_modules(service: str) -> tuple[Any, Any]:
    import importlib

    return importlib.import_module(f"services.{service}.app"), importlib.import_module(f"services.{service}.worker")


def start_system(settings: Settings, *, celery_threads: bool = True) -> EmbeddedSystem:
    contexts: dict[str, ServiceContext] = {}
    workers: dict[str, ServiceWorker] = {}
    apps: dict[str, Callable] = {}
    for service in SERVICES:
        upgrade(service, settings.database_url(service))
        app_module, worker_module = _service_modules(service)
        ctx = app_module.build(settings)
        contexts[service] = ctx
        apps[service] = app_module.create_app(ctx=ctx)
        worker = ServiceWorker(ctx, worker_module.worker_spec())
        worker.start_background()
        if celery_threads:
            worker.start_celery_thread()
        workers[service] = worker
    for worker in workers.values():
        worker.consumer.wait_ready(10)
    return EmbeddedSystem(settings, contexts, workers, PrefixDispatcher(apps))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="uwagi run", description=__doc__)
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo consultation")
    parser.add_argument("--no-samples", action="store_true",
                        help="load the demo consultation without its sample comments")
    args = parser.parse_args((argv or ["run"])[1:])
    settings = load_settings_for_cli()
    if settings is None:
        return 2
    configure_logging(settings)
    system = start_system(settings)
    banner = []
    if not args.no_demo:
        from services.demo import load_demo

        banner = load_demo(system, samples=not args.no_samples)
    server = make_server("127.0.0.1", settings.port, system.wsgi, threaded=True, request_handler=RedactingRequestHandler)
    stop = threading.Event()

    def _shutdown(signum: int, _frame: Any) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _shutdown)
    signal.signal(signal.SIGINT, _shutdown)
    mail = f"SMTP {settings.smtp.host}:{settings.smtp.port}" if settings.smtp else f"{settings.data_dir / 'mail'} (.eml files)"
    print("\n".join([
        "",
        "Uwagi is running (embedded mode).",
        f"  URL:          http://127.0.0.1:{settings.port}/intake/",
        f"  API docs:     http://127.0.0.1:{settings.port}/<service>/api/v1/openapi.json",
        f"  Data:         {settings.data_dir}",
        f"  Mail goes to: {mail}",
        f"  Mail comes in: .eml files dropped into {settings.data_dir / 'inbox'}"
        + (f" and IMAP {settings.imap.host} ({settings.imap.mailbox})" if settings.imap else ""),
        *banner,
        "Press Ctrl+C to stop.",
        "",
    ]), flush=True)
    try:
        server.serve_forever()
    finally:
        system.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
