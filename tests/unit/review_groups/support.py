"""Building blocks for the group tests: submissions as intake sends them, delivered through the inbox."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from services.common.auth import StaffIdentity
from services.common.bus import InboxDispatcher
from services.common.events import new_envelope, parse_envelope
from services.review.handlers import EVENT_HANDLERS
from services.review.models import Inbox

REVIEWER = StaffIdentity("u-reviewer", "recenzent@um.example.pl", "reviewer")

LETTER = ("Wnosimy o zwiększenie środków na małe granty do kwoty co najmniej 300 000 zł rocznie, ponieważ "
          "zapotrzebowanie organizacji działających w dzielnicach peryferyjnych rośnie z roku na rok, a obecny "
          "limit nie pozwala na realizację nawet połowy zgłaszanych inicjatyw sąsiedzkich.")
REASON = "Termin składania ofert jest zbyt krótki dla małych organizacji prowadzonych przez wolontariuszy."
OTHER = ("Proponujemy dopisanie do katalogu zadań priorytetowych integracji cudzoziemców i wsparcia ich rodzin, "
         "w szczególności nauki języka polskiego dla dzieci w wieku szkolnym.")


def submission(consultation_id: str, *proposals: str, justification: str = REASON) -> tuple[dict, list[str]]:
    """A submission.received envelope with one comment per proposal, and the comment ids."""
    ids = [str(uuid.uuid4()) for _ in proposals]
    envelope = new_envelope("submission.received", {
        "submission_id": str(uuid.uuid4()), "consultation_id": consultation_id, "consultation_title": "Program",
        "reference": f"UW/2026/{uuid.uuid4().int % 1_000_000:06d}", "channel": "web",
        "received_at": datetime.now(timezone.utc), "late": False, "status_url": "http://127.0.0.1/status",
        "submitter": {"name": "Anna Nowak", "organization": None, "email": "anna@example.org",
                      "publish_consent": False, "kind": "person"},
        "comments": [{"comment_id": comment_id, "number": n, "section": "§ 3", "proposal": proposal,
                      "justification": justification} for n, (comment_id, proposal) in enumerate(zip(ids, proposals), 1)],
    }, producer="intake")
    return envelope, ids


def deliver(ctx, envelope: dict) -> list[str]:
    """What review's consumer does with an event: every handler, each once, in its own transaction."""
    dispatcher = InboxDispatcher(ctx.db, Inbox, EVENT_HANDLERS)
    return dispatcher.dispatch(parse_envelope(envelope))


def receive(ctx, consultation_id: str, *proposals: str, justification: str = REASON) -> list[str]:
    envelope, ids = submission(consultation_id, *proposals, justification=justification)
    assert deliver(ctx, envelope) == []
    return ids


def publish_consultation(ctx, *, needs_approval: bool = False) -> str:
    """A consultation in review's read model, closed yesterday, whose decisions need approval or not."""
    consultation_id = str(uuid.uuid4())
    now = datetime.now(timezone.utc)
    envelope = new_envelope("consultation.published", {
        "consultation_id": consultation_id, "title": "Program współpracy 2025", "opens_at": now - timedelta(days=14),
        "closes_at": now - timedelta(days=1), "topics": [], "decisions_need_approval": needs_approval},
        producer="intake")
    assert deliver(ctx, envelope) == []
    return consultation_id
