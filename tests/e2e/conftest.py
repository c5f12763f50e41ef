"""One cluster of real processes for the end-to-end tests, on PostgreSQL, RabbitMQ, weed mini and aiosmtpd."""

from __future__ import annotations

from typing import Iterator

import pytest

from services.common.settings import SERVICES
from tests.e2e.cluster import Cluster, start_cluster
from tests.support.infra import AMQP_HOST, AMQP_PORT, RabbitVhost, SmtpSink, TcpProxy, rabbit_vhost, start_smtp


@pytest.fixture(scope="session")
def e2e_smtp() -> Iterator[SmtpSink]:
    sink = start_smtp()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def intake_broker_proxy() -> Iterator[TcpProxy]:
    """Intake reaches RabbitMQ through this proxy, so a test can make the broker unreachable for it alone."""
    proxy = TcpProxy(AMQP_HOST, AMQP_PORT)
    yield proxy
    proxy.close()


@pytest.fixture(scope="session")
def e2e_rabbit() -> Iterator[RabbitVhost]:
    """The cluster's own vhost: its long-running consumers must not take other tests' messages."""
    vhost = rabbit_vhost()
    yield vhost
    vhost.delete()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, postgres, e2e_rabbit, s3_server, e2e_smtp, intake_broker_proxy) -> Iterator[Cluster]:
    rabbit = e2e_rabbit
    workdir = tmp_path_factory.mktemp("cluster")
    env = {
        "UWAGI_BROKER_URL": rabbit.url(),
        "UWAGI_SECRET_KEY": "e2e-secret-key-0123456789abcdef",
        "UWAGI_DATA_DIR": str(workdir / "var"),
        "UWAGI_S3_ENDPOINT": s3_server.endpoint,
        "UWAGI_S3_ACCESS_KEY": s3_server.access_key,
        "UWAGI_S3_SECRET_KEY": s3_server.secret_key,
        "UWAGI_S3_BUCKET": "uwagi-e2e",
        "UWAGI_SMTP_HOST": e2e_smtp.host,
        "UWAGI_SMTP_PORT": str(e2e_smtp.port),
        "UWAGI_MAIL_FROM": "konsultacje@um.example",
        "UWAGI_RELAY_INTERVAL": "0.5",
        "UWAGI_PUBLIC_URL": "http://127.0.0.1:8080",
        "UWAGI_LOG_LEVEL": "INFO",
        # Every test's calls come from 127.0.0.1; the limits themselves are proved in tests/integration.
        "UWAGI_RATE_LIMIT_CLIENT": "600/minute",
        **{f"{svc.upper()}_DATABASE_URL": postgres.create_database(f"uwagi_e2e_{svc}") for svc in SERVICES},
    }
    service_env = {"intake": {"UWAGI_BROKER_URL": rabbit.url(port=intake_broker_proxy.port)}}
    cluster = start_cluster(workdir, env, service_env)
    yield cluster
    cluster.stop_all()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "cluster" in item.fixturenames:
        cluster = item.funcargs.get("cluster")
        if cluster is not None:
            report.sections.append(("cluster logs", cluster.all_logs()))
