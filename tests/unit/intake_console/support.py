"""Building blocks of the consultation console tests: commands, staff headers, events and the outbox."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.common.bus import InboxDispatcher
from services.common.events import new_envelope, parse_envelope
from services.intake import domain
from services.intake.handlers import EVENT_HANDLERS
from services.intake.models import Inbox, Outbox

WARSAW = ZoneInfo("Europe/Warsaw")


def now() -> datetime:
    return datetime.now(timezone.utc)


def announcement(**overrides: Any) -> domain.OpenConsultation:
    """The 2024 stage II announcement, moved so that it runs from yesterday for two weeks."""
    today = now().astimezone(WARSAW).date()
    first, second = today + timedelta(days=3), today + timedelta(days=9)
    fields: dict[str, Any] = {
        "title": f"Wspólnie o programie współpracy z NGO na 2025 r. – II etap {uuid.uuid4().hex[:6]}",
        "stage": "II etap", "description": "Zbieramy uwagi i opinie do projektu Programu.",
        "organiser": "Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia",
        "legal_basis": "art. 5a ust. 1 ustawy o działalności pożytku publicznego i o wolontariacie",
        "resolution": "uchwała Rady Miasta Torunia w sprawie sposobu konsultowania",
        "opens_at": now() - timedelta(days=1), "closes_at": domain.end_of_day(today + timedelta(days=14), WARSAW),
        "topics": ("Procedury konkursowe", "Zawartość programu współpracy"),
        "contact_email": "konsultacje@um.torun.pl", "contact_phone": "56 611 87 24",
        "postal_address": "Urząd Miasta Torunia – WKSiI, ul. Wały gen. Sikorskiego 8, 87-100 Toruń",
        "duty_days": tuple(domain.DutyDay(day, time(9), time(17), "Urząd Miasta Torunia, ul. Wały gen. Sikorskiego 8",
                                          datetime.combine(day - timedelta(days=1), time(15, 30), WARSAW),
                                          room="sala nr 34") for day in (first, second)),
        "draft": True,
    }
    fields.update(overrides)
    return domain.OpenConsultation(**fields)


def staff(ctx: Any, role: str = "coordinator") -> dict:
    return {"Authorization": f"Bearer {ctx.signer.issue(f'u-{role}', f'{role}@um.torun.pl', role)}"}


def deliver(ctx: Any, event_type: str, data: dict, producer: str) -> None:
    envelope = new_envelope(event_type, data, producer=producer)
    InboxDispatcher(ctx.db, Inbox, EVENT_HANDLERS).dispatch(parse_envelope(envelope))


def published(ctx: Any, consultation_id: str) -> list[dict]:
    """The consultation.published payloads emitted for one consultation, oldest first."""
    with ctx.db.transaction() as session:
        rows = session.scalars(select(Outbox).where(Outbox.event_type == "consultation.published").order_by(Outbox.id))
        return [row.envelope["data"] for row in rows if row.envelope["data"]["consultation_id"] == consultation_id]
