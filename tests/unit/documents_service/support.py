"""Building blocks for the documents service tests: staff tokens, read-model events, uploads."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from services.common.bus import InboxDispatcher
from services.common.events import new_envelope, parse_envelope
from services.documents.handlers import EVENT_HANDLERS
from services.documents.models import Inbox, Outbox

# The quote and final wording of § 5 ust. 2 pkt 2 of the demo draft.
QUOTE = "wspieranie wykonywania zadań publicznych"
FINAL_TEXT = "wspieranie wykonywania zadań publicznych wraz z udzieleniem dotacji, także na wkład własny;"


def staff(ctx: Any, role: str = "coordinator") -> dict:
    token = ctx.signer.issue(f"u-{role}", f"{role}@um.example.pl", role)
    return {"Authorization": f"Bearer {token}"}


def deliver(ctx: Any, event_type: str, data: dict, producer: str) -> None:
    """An event as the consumer would hand it over: validated, then applied through the inbox."""
    envelope = new_envelope(event_type, data, producer=producer)
    InboxDispatcher(ctx.db, Inbox, EVENT_HANDLERS).dispatch(parse_envelope(envelope))


def publish_consultation(ctx: Any) -> str:
    consultation_id = str(uuid.uuid4())
    now = datetime.now(timezone.utc)
    deliver(ctx, "consultation.published", {
        "consultation_id": consultation_id, "title": "Program współpracy z NGO na 2025 r.", "stage": "II etap",
        "opens_at": now - timedelta(days=7), "closes_at": now + timedelta(days=7),
        "channels": ["web", "email"], "topics": ["finansowanie"],
        "duty_days": [{"date": "2024-10-08", "starts": "09:00", "ends": "17:00", "place": "pokój 34"}],
    }, "intake")
    return consultation_id


def submit(ctx: Any, consultation_id: str, comments: list[dict], *, name: str = "Anna Nowak",
           consent: bool = False) -> tuple[str, list[str]]:
    """A submission of `comments` ({section, current_text, proposal, justification}); returns reference and ids."""
    reference = f"UW/2024/{uuid.uuid4().int % 10**6:06d}"
    ids = [str(uuid.uuid4()) for _ in comments]
    deliver(ctx, "submission.received", {
        "submission_id": str(uuid.uuid4()), "consultation_id": consultation_id, "consultation_title": "Program",
        "reference": reference, "channel": "web", "received_at": datetime.now(timezone.utc), "late": False,
        "status_url": "http://127.0.0.1:8000/intake/status",
        "submitter": {"name": name, "organization": None, "email": "anna.nowak@example.org",
                      "publish_consent": consent, "kind": "person"},
        "comments": [{"comment_id": comment_id, "number": number, "proposal": "Zmienić brzmienie.",
                      "justification": "Bo tak.", **comment}
                     for number, (comment_id, comment) in enumerate(zip(ids, comments), start=1)],
    }, "intake")
    return reference, ids


def decide(ctx: Any, consultation_id: str, comment_id: str, reference: str, decision: str,
           final_text: str | None = None, justification: str = "Uzasadnienie stanowiska.") -> None:
    deliver(ctx, "comment.decided", {
        "comment_id": comment_id, "consultation_id": consultation_id, "reference": reference,
        "decision": decision, "justification": justification, "final_text": final_text,
        "decided_by": "koordynator@um.example.pl", "decided_at": datetime.now(timezone.utc),
    }, "review")


def upload(client: Any, ctx: Any, data: bytes, *, consultation_id: str | None = None, title: str = "Projekt programu",
           filename: str = "projekt.docx", role: str = "coordinator") -> Any:
    form: dict[str, Any] = {"file": (io.BytesIO(data), filename), "title": title}
    if consultation_id:
        form["consultation_id"] = consultation_id
    return client.post("/documents/api/v1/documents", data=form, headers=staff(ctx, role),
                       content_type="multipart/form-data")


def outbox(ctx: Any, event_type: str) -> list[dict]:
    with ctx.db.transaction() as session:
        return [row.envelope["data"] for row in session.scalars(
            select(Outbox).where(Outbox.event_type == event_type).order_by(Outbox.id))]
