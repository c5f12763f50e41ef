"""Fixtures of the chaos tests: servers of their own that a test may kill."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.support.chaos import RabbitNode
from tests.support.infra import SmtpSink, start_smtp


@pytest.fixture
def node(tmp_path: Path) -> Iterator[RabbitNode]:
    """A RabbitMQ node of the test's own, on free ports under the test's temporary directory."""
    node = RabbitNode(tmp_path / "rabbit").start()
    yield node
    node.destroy()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = start_smtp()
    yield sink
    sink.stop()
