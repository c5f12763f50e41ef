"""Browser tests: Playwright driving Debian's chromium against a real werkzeug server on 127.0.0.1.

Needs `pip install playwright` and `apt-get install chromium` (Playwright's own browser download is not
used). Run only these with `pytest -m browser`, or leave them out with `-m "not browser"`.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from services.common.db import upgrade
from services.common.settings import load_settings
from services.intake import app as intake_app
from tests.support.infra import unavailable

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


@pytest.fixture(scope="module")
def live_intake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    """The intake app on a free port; yields its base URL and the app."""
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path_factory.mktemp("var"))})
    upgrade("intake", settings.database_url("intake"))
    app = intake_app.create_app(ctx=intake_app.build(settings))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(5)
    app.extensions["uwagi"].close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    from tests.e2e_browser.axe import LEDGER

    if LEDGER.pages:
        terminalreporter.write_line(LEDGER.summary())
