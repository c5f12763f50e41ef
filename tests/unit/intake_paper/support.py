"""Building blocks of the letter and duty-note tests: consultations, bookings, scans and the outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.intake import domain, handlers
from services.intake.bookings import handlers as booking_handlers
from services.intake.bookings.domain import BookSlot
from services.intake.models import Outbox
from services.intake.paper.handlers import EnterPaperSubmission

WARSAW = ZoneInfo("Europe/Warsaw")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def consultation(ctx: Any, *, closes_on: date | None = None, opens_at: datetime | None = None,
                 late_policy: str = "flag", duty_day: date | None = None) -> Any:
    today = datetime.now(WARSAW).date()
    duty_day = duty_day or today + timedelta(days=5)
    return handlers.open_consultation(ctx, domain.OpenConsultation(
        title=f"Program współpracy z NGO {uuid.uuid4().hex[:6]}", opens_at=opens_at or datetime.now(UTC) - timedelta(days=20),
        closes_at=domain.end_of_day(closes_on or today + timedelta(days=30), WARSAW), late_policy=late_policy,
        topics=("Procedury konkursowe",), postal_address="Urząd Miasta Torunia, ul. Wały gen. Sikorskiego 8",
        duty_days=(domain.DutyDay(duty_day, time(9), time(10), "Urząd Miasta Torunia",
                                  datetime.combine(duty_day - timedelta(days=1), time(15), WARSAW), room="sala 34"),)),
        actor="test")


def book(ctx: Any, consultation_id: str, name: str = "Jan Kowalski") -> str:
    slots = booking_handlers.list_slots(ctx, consultation_id)
    free = next(s for s in slots if s["available"])
    return booking_handlers.book_slot(ctx, BookSlot(consultation_id=consultation_id, slot_id=free["id"], name=name,
                                                    email=None, phone="56 611 87 24", booked_by="k@um.torun.pl")
                                      ).booking_id


def letter(consultation_id: str, **overrides: Any) -> EnterPaperSubmission:
    fields: dict[str, Any] = {
        "consultation_id": consultation_id, "channel": "letter", "received_on": datetime.now(WARSAW).date(),
        "submitter": domain.Submitter(name="Anna Nowak", email=None, publish_consent=False),
        "postal_address": "ul. Szeroka 1, 87-100 Toruń",
        "comments": (domain.CommentDraft(section="§ 5 ust. 2", current_text="Konkursy raz w roku.",
                                         proposal="Konkursy dwa razy w roku.", justification="Więcej organizacji."),),
    }
    fields.update(overrides)
    return EnterPaperSubmission(**fields)


def received_events(ctx: Any, reference: str) -> list[dict]:
    with ctx.db.transaction() as session:
        rows = session.scalars(select(Outbox).where(Outbox.event_type == "submission.received"))
        return [row.envelope["data"] for row in rows if row.envelope["data"]["reference"] == reference]
