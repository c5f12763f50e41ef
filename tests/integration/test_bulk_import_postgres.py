"""Bulk import on PostgreSQL: the unnest inserts, one reference block, all or nothing, events in the outbox."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.common.db import upgrade
from services.common.settings import load_settings
from services.common.web import Invalid
from services.intake import app as intake_app
from services.intake import domain, handlers
from services.intake.imports.handlers import ImportInvalid, import_comments
from services.intake.models import Comment, Outbox, Submission
from tests.unit.intake_pages.helpers import WARSAW, open_consultation

pytestmark = pytest.mark.postgres
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bulk-import.csv"


@pytest.fixture
def app(tmp_path, postgres):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_SECRET_KEY": "bulk-import-secret-0123456789",
                              "INTAKE_DATABASE_URL": postgres.create_database("uwagi_bulk")})
    upgrade("intake", settings.database_url("intake"))
    built = intake_app.create_app(ctx=intake_app.build(settings))
    yield built
    built.extensions["uwagi"].close()


def counts(ctx) -> tuple[int, int, int]:
    with ctx.db.transaction() as session:
        return tuple(session.scalar(select(func.count()).select_from(m)) for m in (Submission, Comment, Outbox))


def test_an_import_takes_a_block_of_references_and_writes_rows_and_events_in_one_go(app):
    ctx = app.extensions["uwagi"]
    assert ctx.db.is_postgres
    consultation = open_consultation(app, opens_at=datetime(2024, 10, 1, tzinfo=WARSAW),
                                     topics=("Procedury konkursowe", "Priorytetowe zadania publiczne"))
    before = handlers.submit_comments(ctx, domain.SubmitComments(
        consultation_id=consultation.id, submitter=domain.Submitter("Ewa", "ewa@example.org", False),
        comments=(domain.CommentDraft("§ 1", "Dodać słowniczek."),)))
    result = import_comments(ctx, consultation.id, "bulk-import.csv", EXAMPLE.read_bytes(), actor="k@um.example")
    assert (result.submissions, result.comments) == (3, 4)
    assert result.references == ["UW/2024/000001", "UW/2024/000003"]  # the stamps are of 2024
    assert counts(ctx) == (4, 5, 5)  # plus the web one; outbox: announcement, web, three imported
    with ctx.db.transaction() as session:
        rows = session.scalars(select(Submission).where(Submission.channel != "web")
                               .order_by(Submission.reference)).all()
        assert [r.reference for r in rows] == ["UW/2024/000001", "UW/2024/000002", "UW/2024/000003"]
        assert rows[0].received_at == datetime(2024, 10, 15, tzinfo=WARSAW) and rows[0].publish_consent
        envelope = session.scalars(select(Outbox.envelope).where(Outbox.event_type == "submission.received")
                                   .order_by(Outbox.id.desc())).first()
        assert envelope["data"]["comments"][0]["proposal"] == "=Zwiększyć pulę środków o 10%"
    assert before.reference.startswith("UW/")


def test_a_bad_row_leaves_nothing_behind(app):
    ctx = app.extensions["uwagi"]
    consultation = open_consultation(app, opens_at=datetime(2024, 10, 1, tzinfo=WARSAW), topics=())
    before = counts(ctx)
    content = EXAMPLE.read_text().replace("anna.kowalska@example.org,tak,§ 7", "anna.kowalska@example.org,nie,§ 7")
    with pytest.raises(ImportInvalid) as refused:
        import_comments(ctx, consultation.id, "x.csv", content.encode(), actor="k@um.example")
    assert {(e.row, e.column, e.code) for e in refused.value.errors} == {(3, "publish_consent", "differs_in_submission")}
    assert counts(ctx) == before
    with pytest.raises(Invalid):
        import_comments(ctx, consultation.id, "x.csv", b"\xff\xfe not utf-8", actor="k@um.example")
