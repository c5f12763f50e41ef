"""From the read model to the report input of the document engine (the REPORT.json shape)."""

from __future__ import annotations

import hashlib
import json
from typing import Iterable

from services.documents.models import CommentView, ConsultationView


def report_input(consultation: ConsultationView, comments: Iterable[CommentView]) -> dict:
    """The engine's input; ordered and JSON-stable so that its sha256 identifies the build's inputs."""
    return {
        "consultation": {
            "id": consultation.id,
            "title": consultation.title,
            "stage": consultation.stage,
            "opens_at": consultation.opens_at.isoformat(),
            "closes_at": consultation.closes_at.isoformat(),
            "channels": list(consultation.channels),
            "topics": list(consultation.topics),
            "duty_days": list(consultation.duty_days),
            "contact_email": consultation.contact_email,
        },
        "comments": [
            {
                "ref": f"{c.reference}#{c.number}",
                "submitter": {
                    "name": c.submitter_name,
                    "organization": c.organization,
                    "kind": c.submitter_kind,
                    "publish_consent": c.publish_consent,
                },
                "unit_label": c.section,
                "comment": c.current_text,
                "proposal": c.proposal,
                "justification": c.justification,
                "channel": c.channel,
                "topic": c.topic or "",
                "late": c.late,
                "decision": c.decision or "",
                "position": c.position,
                "final_text": c.final_text or "",
            }
            for c in sorted(comments, key=lambda c: (c.received_at, c.reference, c.number))
        ],
    }


def inputs_digest(data: dict, language: str, internal: bool) -> str:
    blob = json.dumps({"data": data, "language": language, "internal": internal}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()
