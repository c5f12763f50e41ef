"""Fixtures shared by the integration tests."""

from __future__ import annotations

import pytest

from services.common.db import upgrade
from services.intake.app import build as build_intake
from tests.integration.test_postgres import settings_for


@pytest.fixture
def intake_pg(tmp_path, postgres):
    """Intake on a PostgreSQL database of its own, events staged in its outbox (an in-memory broker)."""
    settings = settings_for(tmp_path, postgres, broker="memory://")
    upgrade("intake", settings.database_url("intake"))
    context = build_intake(settings)
    yield context
    context.close()
