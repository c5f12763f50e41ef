"""One cluster of real processes for the end-to-end tests, on PostgreSQL, RabbitMQ, weed mini and aiosmtpd."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.e2e.cluster import Cluster, cluster_env, start_cluster
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
    # Every test's calls come from 127.0.0.1; the limits themselves are proved in tests/integration.
    env = cluster_env(broker_url=rabbit.url(), postgres=postgres, s3_server=s3_server, smtp=e2e_smtp,
                      data_dir=workdir / "var", prefix="e2e", UWAGI_RATE_LIMIT_CLIENT="600/minute")
    service_env = {"intake": {"UWAGI_BROKER_URL": rabbit.url(port=intake_broker_proxy.port)}}
    cluster = start_cluster(workdir, env, service_env)
    yield cluster
    cluster.stop_all()

