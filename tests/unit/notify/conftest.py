"""Fixtures for notify's unit tests: a migrated SQLite database per test and a fake sender."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from notify_factories import FakeSender

from datetime import timedelta

from services.common.bus import InboxDispatcher, RetryPolicy
from services.common.db import upgrade
from services.common.runtime import ServiceContext
from services.common.settings import load_settings
from services.notify.app import RENDERER, SENDER, build
from services.notify.handlers import EVENT_HANDLERS, install_wake_after_commit
from services.notify.models import Inbox, ParkedEvent


@pytest.fixture
def settings(tmp_path: Any) -> Any:
    return load_settings(environ={"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_SECRET_KEY": "unit-test-secret-key-0123456789",
                                  "UWAGI_MAIL_FROM": "konsultacje@um.example.pl"})


@pytest.fixture
def ctx(settings: Any) -> Iterator[ServiceContext]:
    upgrade("notify", settings.database_url("notify"))
    context = build(settings)
    context.extras[SENDER] = FakeSender()
    yield context
    context.close()


@pytest.fixture
def sender(ctx: ServiceContext) -> FakeSender:
    return ctx.extras[SENDER]


@pytest.fixture
def renderer(ctx: ServiceContext) -> Any:
    return ctx.extras[RENDERER]


@pytest.fixture
def woken(ctx: ServiceContext) -> list[str]:
    """Ids of the notifications whose staging commit woke the mailer."""
    ids: list[str] = []
    install_wake_after_commit(ctx.db.sessions, ids.extend)
    return ids


@pytest.fixture
def dispatcher(ctx: ServiceContext) -> InboxDispatcher:
    # Fast retries, and parked events due at once, so tests need not wait.
    return InboxDispatcher(ctx.db, Inbox, EVENT_HANDLERS, parked_model=ParkedEvent,
                           retry=RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.001),
                           first_parked_retry=timedelta(0))
