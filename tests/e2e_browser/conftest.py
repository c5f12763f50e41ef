"""Browser tests: Playwright driving Debian's chromium against a real werkzeug server on 127.0.0.1.

Needs `pip install playwright` and `apt-get install chromium` (Playwright's own browser download is not
used). Run only these with `pytest -m browser`, or leave them out with `-m "not browser"`.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from services.common.db import upgrade
from services.common.settings import load_settings
from services.intake import app as intake_app
from services.review import app as review_app
from tests.support.infra import free_port, unavailable

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright", "the Python package is not installed (pip install playwright)")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        unavailable("chromium", "not on PATH (apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _serve(service_app: Any, data_dir: Path) -> Iterator[tuple[str, object]]:
    """One service's app on SQLite in `data_dir`, on a free port of 127.0.0.1; yields its base URL and the app."""
    settings = load_settings({"UWAGI_DATA_DIR": str(data_dir)})
    upgrade(service_app.SERVICE, settings.database_url(service_app.SERVICE))
    app = service_app.create_app(ctx=service_app.build(settings))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(5)
    app.extensions["uwagi"].close()


@pytest.fixture(scope="module")
def live_intake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    """The intake app on a free port; yields its base URL and the app."""
    yield from _serve(intake_app, tmp_path_factory.mktemp("var"))


@pytest.fixture(scope="module")
def live_review(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    """The review app on a free port; yields its base URL and the app."""
    yield from _serve(review_app, tmp_path_factory.mktemp("var"))


@pytest.fixture(scope="module")
def live_system(tmp_path_factory, postgres, rabbit_module, smtp_sink) -> Iterator[dict]:
    """The whole system as `make run` starts it, with its demo data, but on PostgreSQL, RabbitMQ and SMTP.

    Four services, their consumers, relays and Celery workers in one process, served on a free port
    of 127.0.0.1 by path prefix, exactly like the gateway does. Yields the URL, the system and facts
    a test needs (the demo password, the SMTP sink).
    """
    from services.common.settings import SERVICES
    from services.demo import load_demo
    from services.embedded import start_system

    port = free_port()
    env = {
        "UWAGI_DATA_DIR": str(tmp_path_factory.mktemp("system")),
        "UWAGI_BROKER_URL": rabbit_module.url(),
        "UWAGI_SMTP_HOST": "127.0.0.1",
        "UWAGI_SMTP_PORT": str(smtp_sink.port),
        "UWAGI_PORT": str(port),
        "UWAGI_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "UWAGI_DEMO_PASSWORD": "demo-haslo-do-testow",
        "UWAGI_SECRET_KEY": "browser-tests-shared-secret-0123456789",
        **{f"{svc.upper()}_DATABASE_URL": postgres.create_database(f"uwagi_browser_{svc}") for svc in SERVICES},
    }
    settings = load_settings(env)
    system = start_system(settings)
    load_demo(system)
    server = make_server("127.0.0.1", port, system.wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{port}", "system": system, "password": env["UWAGI_DEMO_PASSWORD"],
           "smtp": smtp_sink}
    server.shutdown()
    thread.join(5)
    # Each service's worker stops and closes its context. An embedded Celery worker whose broker
    # connection is being re-established can take minutes to notice a stop; the daemon threads die
    # with the test process anyway, so the wait is bounded instead of failing the run in teardown.
    stopper = threading.Thread(target=system.stop, name="live-system-stop", daemon=True)
    stopper.start()
    stopper.join(60)
    if stopper.is_alive():
        import logging

        logging.getLogger(__name__).warning("the live system did not stop within 60 s; leaving its daemon threads")


@pytest.fixture(scope="module")
def smtp_sink() -> Iterator[object]:
    from tests.support.infra import start_smtp

    sink = start_smtp()
    yield sink
    sink.stop()
