"""Fixtures for the identity tests: review (and intake, for the cross-service gate) on SQLite, a cheap hasher, a clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from argon2 import PasswordHasher

from services.common.db import upgrade
from services.common.runtime import ServiceContext
from services.common.settings import load_settings
from services.review.identity import HASHER_KEY

SECRET = "unit-test-secret-key-0123456789"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 10, 14, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def settings(tmp_path: Any) -> Any:
    return load_settings(environ={"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_SECRET_KEY": SECRET,
                                  "UWAGI_PUBLIC_URL": "https://konsultacje.example.org"})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def review_ctx(settings: Any, clock: FakeClock) -> Iterator[ServiceContext]:
    from services.review.app import build

    upgrade("review", settings.database_url("review"))
    ctx = build(settings)
    # The library's defaults cost ~50 ms a hash; the rules under test do not depend on the cost.
    ctx.extras[HASHER_KEY] = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    ctx.extras["review.clock"] = clock
    yield ctx
    ctx.close()


def outbox_events(ctx: ServiceContext, event_type: str) -> list[dict]:
    from sqlalchemy import select

    with ctx.db.transaction() as session:
        rows = session.scalars(select(ctx.outbox_model).where(ctx.outbox_model.event_type == event_type)
                               .order_by(ctx.outbox_model.id))
        return [row.envelope for row in rows]
