"""E-mail intake against a migrated SQLite intake database and the filesystem object store, in a temporary folder."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from services.common.db import upgrade
from services.common.events import parse_envelope
from services.common.runtime import ServiceContext
from services.common.settings import load_settings
from services.intake import app as intake_app
from services.intake import handlers
from services.intake.models import InboundMail, Outbox
from tests.unit.intake_console.support import announcement

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "mail"


def make_ctx(folder: Path, **env: str) -> ServiceContext:
    settings = load_settings({"UWAGI_DATA_DIR": str(folder), "UWAGI_RELAY_INTERVAL": "30", **env})
    upgrade("intake", settings.database_url("intake"))
    return intake_app.build(settings)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceContext]:
    context = make_ctx(tmp_path_factory.mktemp("var"), UWAGI_MAIL_MAX_MB="1")
    yield context
    context.close()


@pytest.fixture
def fresh_ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    """A database of its own, for tests that pick the consultation by the mail's address."""
    context = make_ctx(tmp_path / "var")
    yield context
    context.close()


def open_consultation(ctx: ServiceContext, **overrides) -> str:
    fields = {"draft": False, "channels": ("web", "email"), "contact_email": f"k-{uuid.uuid4().hex[:8]}@um.torun.pl"}
    fields.update(overrides)
    return handlers.create_consultation(ctx, announcement(**fields), actor="koordynator@um.torun.pl").id


@pytest.fixture
def consultation(ctx: ServiceContext) -> str:
    return open_consultation(ctx)


def now() -> datetime:
    return datetime.now(timezone.utc)


def yesterday() -> datetime:
    return now() - timedelta(hours=1)


def expected() -> dict:
    return json.loads((CORPUS / "expected.json").read_text())


def mail_row(ctx: ServiceContext, message_id: str) -> InboundMail | None:
    with ctx.db.transaction() as session:
        return session.scalar(select(InboundMail).where(InboundMail.message_id == message_id))


def received_events(ctx: ServiceContext, reference: str) -> list[dict]:
    """The submission.received payloads of one reference, validated against the contract as a consumer would."""
    with ctx.db.transaction() as session:
        rows = session.scalars(select(Outbox).where(Outbox.event_type == "submission.received"))
        return [parse_envelope(row.envelope).data for row in rows if row.envelope["data"]["reference"] == reference]


def spy_on_isolated_child(monkeypatch) -> dict:
    """What the first child process started by `isolated.run_isolated` is given (its arguments and environment),
    with the service's database URL and secret key set in the parent's environment."""
    import subprocess

    from services.intake.mail import isolated

    monkeypatch.setenv("INTAKE_DATABASE_URL", "postgresql://secret@localhost/intake")
    monkeypatch.setenv("UWAGI_SECRET_KEY", "not-for-the-child")
    seen: dict = {}
    real = subprocess.run

    def spy(args, **kwargs):
        seen.setdefault("args", args)
        seen.setdefault("env", kwargs.get("env"))
        return real(args, **kwargs)

    monkeypatch.setattr(isolated.subprocess, "run", spy)
    return seen


def close(read: str, text: str) -> bool:
    """What OCR read is the text but for a letter in 33 (at least one may differ: "ul. szeroka" for "ul. Szeroka"),
    whitespace aside."""
    from rapidfuzz.distance import Levenshtein

    read, text = " ".join(read.split()), " ".join(text.split())
    return Levenshtein.distance(read, text) <= max(1, len(text) * 0.03)

