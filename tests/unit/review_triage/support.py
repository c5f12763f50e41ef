"""Building blocks for the triage tests: events as the consumer hands them over, staff, a small draft."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from services.common.auth import StaffIdentity
from services.common.bus import InboxDispatcher
from services.common.events import new_envelope, parse_envelope
from services.review.handlers import EVENT_HANDLERS
from services.review.identity import create_staff_user, identity_of
from services.review.models import Inbox

NOW = datetime(2026, 10, 10, 12, 0, tzinfo=timezone.utc)

# A small draft in the shape documents announces: chapter > paragraph > section > point.
UNITS = [
    {"id": "u1", "kind": "chapter", "label": "Rozdział I", "parent": None, "text": "Postanowienia ogólne"},
    {"id": "u2", "kind": "paragraph", "label": "§ 1", "parent": "u1", "text": "Program określa cele współpracy."},
    {"id": "u3", "kind": "chapter", "label": "Rozdział II", "parent": None, "text": "Formy współpracy"},
    {"id": "u4", "kind": "paragraph", "label": "§ 5", "parent": "u3", "text": "Formy współpracy"},
    {"id": "u5", "kind": "section", "label": "§ 5 ust. 2", "parent": "u4", "text": "Współpraca finansowa obejmuje:"},
    {"id": "u6", "kind": "point", "label": "§ 5 ust. 2 pkt 2", "parent": "u5",
     "text": "wspieranie wykonywania zadań publicznych wraz z udzieleniem dotacji;"},
    {"id": "u7", "kind": "paragraph", "label": "§ 10", "parent": "u3", "text": "Źródła finansowania programu."},
]


def deliver(ctx: Any, event_type: str, data: dict, *, occurred_at: datetime | None = None,
            envelope: dict | None = None) -> dict:
    """An event validated and applied through the inbox, as the consumer would; returns the envelope."""
    envelope = envelope or new_envelope(event_type, data, producer="test", occurred_at=occurred_at)
    failures = InboxDispatcher(ctx.db, Inbox, EVENT_HANDLERS).dispatch(parse_envelope(envelope))
    assert failures == []
    return envelope


def publish_consultation(ctx: Any, topics: tuple[str, ...] = ("finansowanie", "zdrowie")) -> str:
    consultation_id = str(uuid.uuid4())
    deliver(ctx, "consultation.published", {
        "consultation_id": consultation_id, "title": "Program współpracy 2025", "opens_at": NOW - timedelta(days=7),
        "closes_at": NOW + timedelta(days=7), "topics": list(topics)})
    return consultation_id


def publish_draft(ctx: Any, consultation_id: str, units: list[dict] | None = None, *, document_id: str | None = None,
                  version: int = 1, parent_version: int | None = None, occurred_at: datetime | None = None) -> dict:
    return deliver(ctx, "document.version_created", {
        "document_id": document_id or str(uuid.uuid4()), "version": version, "consultation_id": consultation_id,
        "title": "Projekt programu", "units": units if units is not None else UNITS,
        "parent_version": parent_version}, occurred_at=occurred_at)


def submit(ctx: Any, consultation_id: str, comments: list[dict], *, channel: str = "web", late: bool = False,
           received_at: datetime | None = None, organization: str | None = None) -> list[str]:
    """A submission of `comments` (each at least a section and a proposal); returns the comment ids."""
    ids = [str(uuid.uuid4()) for _ in comments]
    deliver(ctx, "submission.received", {
        "submission_id": str(uuid.uuid4()), "consultation_id": consultation_id, "consultation_title": "Program",
        "reference": f"UW/2026/{uuid.uuid4().int % 10**6:06d}", "channel": channel,
        "received_at": received_at or NOW, "late": late, "status_url": "http://127.0.0.1/intake/status",
        "submitter": {"name": "Anna Nowak", "organization": organization, "email": "anna@example.org",
                      "publish_consent": True, "kind": "organization" if organization else "person"},
        "comments": [{"comment_id": comment_id, "number": number, "justification": "", **comment}
                     for number, (comment_id, comment) in enumerate(zip(ids, comments), start=1)]})
    return ids


def staff(ctx: Any, email: str, role: str = "reviewer") -> StaffIdentity:
    user, _token = create_staff_user(ctx, email, role)
    return identity_of(user)


def bearer(ctx: Any, identity: StaffIdentity) -> dict:
    token = ctx.signer.issue(identity.user_id, identity.email, identity.role, generation=identity.generation)
    return {"Authorization": f"Bearer {token}"}
