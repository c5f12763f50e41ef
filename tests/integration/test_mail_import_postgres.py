"""E-mail intake on PostgreSQL: two pollers taking the same mail at once make one submission, never two."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.common.db import upgrade
from services.common.settings import load_settings
from services.intake.app import build
from services.intake.mail.importer import import_mail
from services.intake.models import InboundMail, Submission
from tests.unit.intake_mail.conftest import open_consultation

pytestmark = [pytest.mark.postgres]

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "mail"


def test_the_same_mail_imported_concurrently_is_one_submission_and_duplicates(tmp_path, postgres):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "INTAKE_DATABASE_URL": postgres.create_database("uwagi_mail"),
                              "UWAGI_RELAY_INTERVAL": "30"})
    upgrade("intake", settings.database_url("intake"))
    ctx = build(settings)
    try:
        consultation = open_consultation(ctx)
        raw = (CORPUS / "gmail-reply-iso-8859-2-form.eml").read_bytes()
        arrived = datetime.now(timezone.utc)
        with ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(lambda n: import_mail(ctx, raw, received_at=arrived, source=f"poller-{n}",
                                                          consultation_id=consultation), range(6)))
        assert sorted(r.status for r in results) == ["created"] + ["duplicate"] * 5
        with ctx.db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(InboundMail)) == 1
            assert session.scalar(select(func.count()).select_from(Submission)) == 1
    finally:
        ctx.close()
