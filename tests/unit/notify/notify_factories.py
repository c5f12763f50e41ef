"""Test data for notify: real events built through the published contracts, and a fake sender."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

from services.common.events import Event, new_envelope, parse_envelope
from services.notify.senders import EmailSender, Handover, OutgoingMail, as_outgoing


class FakeSender(EmailSender):
    """Keeps messages in memory; `fail_with` makes the next sends raise (the port's own errors)."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.fail_with: Exception | None = None

    def send(self, message: OutgoingMail | EmailMessage, *, on_handover: Handover | None = None) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(as_outgoing(message).parsed())  # read back as a mail client would
        if on_handover is not None:
            on_handover()


def random_reference() -> str:
    return f"UW/2024/{random.randint(1, 999_999):06d}"


def received_event(*, email: str | None = "anna.nowak@example.org", language: str = "pl", late: bool = False,
                   comments: int = 2, reference: str | None = None, submission_id: str | None = None,
                   consultation_id: str | None = None, needs_review: bool = False) -> Event:
    data = {
        "submission_id": submission_id or str(uuid.uuid4()),
        "consultation_id": consultation_id or str(uuid.uuid4()),
        "consultation_title": "Wspólnie o programie współpracy z NGO na 2025 r. – II etap",
        "reference": reference or random_reference(),
        "channel": "web",
        "received_at": datetime(2024, 10, 8, 7, 30, tzinfo=timezone.utc),
        "late": late,
        "language": language,
        "status_url": "http://127.0.0.1:8000/intake/status?reference=X&token=secret",
        "submitter": {"name": "Anna Nowak", "organization": None, "email": email, "publish_consent": True,
                      "kind": "person"},
        "comments": [
            {"comment_id": str(uuid.uuid4()), "number": n, "section": f"§ {n} ust. 2",
             "current_text": "Dotacje przyznaje się w trybie konkursu.",
             "proposal": f"Zwiększyć pulę środków o {n}0% – z udziałem organizacji pozarządowych",
             "justification": "Większa skala działań w 2025 r."}
            for n in range(1, comments + 1)
        ],
        **({"needs_review": True, "channel": "email"} if needs_review else {}),
    }
    return parse_envelope(new_envelope("submission.received", data, producer="intake", correlation_id=data["reference"]))


def decided_event(received: Event, *, number: int = 1, decision: str = "partially_accepted", revision: int = 1,
                  comment_id: str | None = None) -> Event:
    comment = received.data["comments"][number - 1]
    data = {
        "comment_id": comment_id or comment["comment_id"],
        "consultation_id": received.data["consultation_id"],
        "reference": received.data["reference"],
        "decision": decision,
        "justification": "Środki są ograniczone; zwiększono pulę o połowę proponowanej kwoty.",
        "final_text": "Dotacje przyznaje się w trybie otwartego konkursu ofert.",
        "decided_by": "koordynator@um.example.pl",
        "decided_at": datetime(2024, 11, 4, 10, 0, tzinfo=timezone.utc),
        "revision": revision,
    }
    return parse_envelope(new_envelope("comment.decided", data, producer="review"))


def booking_event(event_type: str = "booking.confirmed", *, language: str = "pl", consultation_id: str | None = None,
                  **details: str) -> Event:
    starts = datetime(2024, 10, 8, 7, 0, tzinfo=timezone.utc)
    data = {
        "booking_id": str(uuid.uuid4()), "consultation_id": consultation_id or str(uuid.uuid4()),
        "slot_starts_at": starts, "slot_ends_at": starts + timedelta(minutes=30),
        "place": "pokój 34, ul. Wały gen. Sikorskiego 8", "name": "Jan Kowalski",
        "email": "jan.kowalski@example.org", "language": language, **details,
    }
    return parse_envelope(new_envelope(event_type, data, producer="intake"))


def consultation_event(consultation_id: str, *, outcome_notice: str = "at_publication", revision: int = 1,
                       **details: str) -> Event:
    opens = datetime(2024, 10, 8, tzinfo=timezone.utc)
    data = {"consultation_id": consultation_id, "title": "Wspólnie o programie współpracy z NGO na 2025 r. – II etap",
            "opens_at": opens, "closes_at": opens + timedelta(days=14), "outcome_notice": outcome_notice,
            "revision": revision, **details}
    return parse_envelope(new_envelope("consultation.published", data, producer="intake"))


def published_event(consultation_id: str, *, build_id: str | None = None) -> Event:
    data = {"consultation_id": consultation_id, "build_id": build_id or str(uuid.uuid4()), "sha256": "ab" * 32,
            "download_url": "http://127.0.0.1:8000/documents/files/a1/raport-z-konsultacji.docx",
            "published_at": datetime(2024, 12, 2, 9, 0, tzinfo=timezone.utc), "published_by": "koordynator@um.example.pl"}
    return parse_envelope(new_envelope("report.published", data, producer="documents"))
