"""From the read model to the document engine's report input (the REPORT.json shape, docs/document-engine.md)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, tzinfo
from typing import Iterable, Mapping

from services.documents.drafts import APPLICABLE_DECISIONS
from services.documents.models import CommentAnchor, CommentView, ConsultationView


def _day(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).date().isoformat()


def report_input(consultation: ConsultationView, comments: Iterable[CommentView], *, tz: tzinfo,
                 document_title: str = "", anchors: Mapping[str, CommentAnchor] | None = None,
                 working_draft: bool = False, now: datetime | None = None) -> tuple[dict, int]:
    """REPORT.json for the decided comments, ordered and JSON-stable so that its sha256 identifies
    the build's inputs; and the number of comments left out because they have no decision yet.

    `unit_label` is the anchored unit's label when the comment is anchored to the consultation's
    document, else the part of the document as the submitter wrote it. The report is dated the day the review
    was completed; a working draft, the day it is built (`now`), never the consultation's closing day to come.
    """
    anchors = anchors or {}
    decided = [c for c in comments if c.decision]
    undecided = sum(1 for c in comments if not c.decision)
    rows = []
    for c in sorted(decided, key=lambda c: (c.received_at, c.reference, c.number)):
        anchor = anchors.get(c.id)
        anchored = anchor is not None and anchor.unit_id is not None
        rows.append({
            "ref": f"{c.reference}#{c.number}",
            "submitter": {
                "name": c.submitter_name,
                "organization": c.organization or "",
                "kind": c.submitter_kind,
                "publish_consent": c.publish_consent,
            },
            "unit_label": anchor.label if anchored else c.section,
            "chapter": (anchor.chapter or "") if anchored else "",
            "comment": c.current_text,
            "proposal": c.proposal,
            "justification": c.justification,
            "channel": c.channel,
            "topic": c.topic or "",
            "decision": c.decision,
            "position": c.position,
            # The wording the decision adopted: only an accepted comment changes the document.
            "adopted": (c.final_text or "").strip() if c.decision in APPLICABLE_DECISIONS else "",
        })
    data = {
        "consultation": {
            "title": consultation.title,
            "stage": consultation.stage,
            "document": document_title,
            "organizer": consultation.organiser or "",
            # The resolution on consultations first: that is what the city cites as the basis of the consultation.
            "legal_basis": "; ".join(part for part in (consultation.resolution, consultation.legal_basis) if part),
            "start": _day(consultation.opens_at, tz),
            "end": _day(consultation.closes_at, tz),
            "channels": list(consultation.channels),
            "duty_days": [{"date": day.get("date", ""), "from": day.get("starts", ""), "to": day.get("ends", ""),
                           "place": day.get("place", "")} for day in consultation.duty_days],
            "working_draft": working_draft,
            "report_date": _day(consultation.review_completed_at or now or consultation.closes_at, tz),
            **({"undecided": undecided} if working_draft and undecided else {}),
        },
        "comments": rows,
    }
    return data, undecided


def inputs_digest(data: dict, language: str, internal: bool) -> str:
    blob = json.dumps({"data": data, "language": language, "internal": internal}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()
