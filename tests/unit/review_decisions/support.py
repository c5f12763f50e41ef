"""Building blocks for the review decision tests: staff, read-model events, outbox rows, audit entries."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from services.common.auth import StaffIdentity
from services.common.bus import InboxDispatcher
from services.common.events import new_envelope, parse_envelope
from services.review.handlers import EVENT_HANDLERS
from services.review.models import AuditEntry, Inbox, Outbox

REVIEWER = StaffIdentity("u-reviewer", "recenzent@um.example.pl", "reviewer")
OTHER_REVIEWER = StaffIdentity("u-reviewer-2", "recenzentka@um.example.pl", "reviewer")
COORDINATOR = StaffIdentity("u-coordinator", "koordynator@um.example.pl", "coordinator")


def bearer(ctx: Any, who: StaffIdentity) -> dict:
    return {"Authorization": f"Bearer {ctx.signer.issue(who.user_id, who.email, who.role)}"}


def deliver(ctx: Any, event_type: str, data: dict, producer: str = "intake") -> None:
    envelope = new_envelope(event_type, data, producer=producer)
    InboxDispatcher(ctx.db, Inbox, EVENT_HANDLERS).dispatch(parse_envelope(envelope))


def publish_consultation(ctx: Any, *, needs_approval: bool | None = True, title: str = "Program współpracy 2025") -> str:
    consultation_id = str(uuid.uuid4())
    now = datetime.now(timezone.utc)
    data = {"consultation_id": consultation_id, "title": title, "stage": "II etap",
            "opens_at": now - timedelta(days=14), "closes_at": now - timedelta(days=1), "topics": ["finansowanie"]}
    if needs_approval is not None:
        data["decisions_need_approval"] = needs_approval
    deliver(ctx, "consultation.published", data)
    return consultation_id


def submit(ctx: Any, consultation_id: str, sections: list[str]) -> list[str]:
    """One submission with a comment per section; returns the comment ids in order."""
    reference = f"UW/2026/{uuid.uuid4().int % 10**6:06d}"
    ids = [str(uuid.uuid4()) for _ in sections]
    deliver(ctx, "submission.received", {
        "submission_id": str(uuid.uuid4()), "consultation_id": consultation_id, "consultation_title": "Program",
        "reference": reference, "channel": "web", "received_at": datetime.now(timezone.utc) - timedelta(days=2),
        "late": False, "status_url": "http://127.0.0.1:8000/intake/status",
        "submitter": {"name": "Anna Nowak", "organization": None, "email": "anna.nowak@example.org",
                      "publish_consent": False, "kind": "person"},
        "comments": [{"comment_id": cid, "number": n, "section": section, "proposal": "Dopisać organizacje seniorów.",
                      "justification": "Bo ich brakuje."} for n, (cid, section) in enumerate(zip(ids, sections), 1)],
    })
    return ids


def decided_events(ctx: Any) -> list[dict]:
    with ctx.db.transaction() as session:
        return [row.envelope["data"] for row in session.scalars(
            select(Outbox).where(Outbox.event_type == "comment.decided").order_by(Outbox.id))]


def audit_entries(ctx: Any, action: str | None = None) -> list[AuditEntry]:
    with ctx.db.transaction() as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(session.scalars(query))
