"""Fixtures shared by the whole suite: real servers on 127.0.0.1."""

from __future__ import annotations

from typing import Iterator

import pytest

from services.common import events
from services.common.settings import S3Settings
from tests.support import infra


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker hands the pages axe-core checked in it to the controller, which prints the summary."""
    from tests.e2e_browser.axe import LEDGER

    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["axe_pages"] = LEDGER.pages


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # noqa: ARG001  (pytest-xdist's hook, on the controller)
    from tests.e2e_browser.axe import LEDGER

    LEDGER.pages.extend(getattr(node, "workeroutput", {}).get("axe_pages", []))


def pytest_terminal_summary(terminalreporter) -> None:
    from tests.e2e_browser.axe import LEDGER

    if LEDGER.pages:
        LEDGER.write_report()
        terminalreporter.write_line(LEDGER.summary())


@pytest.fixture(scope="session", autouse=True)
def validate_every_emitted_payload() -> Iterator[None]:
    """Producers that skip the contract check in production (events.new_envelope) are checked in every test."""
    events.VALIDATE_ALL_PRODUCERS = True
    yield
    events.VALIDATE_ALL_PRODUCERS = False


@pytest.fixture(scope="module", autouse=True)
def empty_memory_broker_per_module() -> None:
    """Each module's in-process systems start on an empty `memory://` broker (see purge_memory_broker).

    Per module, not per test: a module-scoped system's worker keeps consuming across that module's tests.
    Function-scoped fixtures that start a worker on `memory://` purge again themselves.
    """
    infra.purge_memory_broker()


@pytest.fixture
def rabbit() -> Iterator[infra.RabbitVhost]:
    """A vhost of its own for each test: the events queues are durable, so a shared vhost would hand
    one test's unconsumed events to the next test's consumer."""
    vhost = infra.rabbit_vhost()
    yield vhost
    vhost.delete()


@pytest.fixture(scope="module")
def rabbit_module() -> Iterator[infra.RabbitVhost]:
    """A vhost shared by one module's tests, for module-scoped systems."""
    vhost = infra.rabbit_vhost()
    yield vhost
    vhost.delete()


@pytest.fixture(scope="session")
def postgres() -> Iterator[infra.PostgresServer]:
    server = infra.postgres_server()
    yield server
    server.drop_all()


@pytest.fixture
def redis() -> Iterator[infra.RedisServer]:
    server = infra.redis_server()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[infra.WeedServer]:
    server = infra.start_weed(tmp_path_factory.mktemp("weed"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_settings(s3_server: infra.WeedServer) -> S3Settings:
    return S3Settings(endpoint=s3_server.endpoint, access_key=s3_server.access_key,
                      secret_key=s3_server.secret_key, bucket="uwagi-test", secure=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that ran a cluster of processes (tests/e2e, tests/chaos) reports their logs."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "cluster" in item.fixturenames:
        cluster = item.funcargs.get("cluster")
        if hasattr(cluster, "all_logs"):
            report.sections.append(("cluster logs", cluster.all_logs()))
