"""Writing a checked bulk import: its references, submissions, comments and one `submission.received` each,
in the caller's transaction.

No ORM objects: a campaign of tens of thousands of comments goes in as tuples through
services.common.db.bulk_insert (COPY on PostgreSQL, multi-row inserts on SQLite), generated while they
stream; the events are built, contract-checked and serialised once on their way into the outbox. References
come in one statement per year (services.intake.references.allocate_many).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterator, Mapping, Sequence
from urllib.parse import quote_plus

from sqlalchemy.orm import Session

from services.common.db import bulk_insert
from services.common.events import new_envelopes, utcnow
from services.common.bulk import new_ids
from services.common.runtime import ServiceContext
from services.intake import domain
from services.intake.imports.plan import ImportPlan, PlannedSubmission
from services.intake.models import Comment, Consultation, Outbox, Submission
from services.intake.references import allocate_many

SERVICE = "intake"
SUBMISSION_COLUMNS = ("id", "reference", "consultation_id", "channel", "submitter_name", "organization", "email",
                      "publish_consent", "kind", "language", "received_at", "late", "status_token_hash",
                      "entered_by", "entered_at", "postmarked_on")
COMMENT_COLUMNS = ("id", "submission_id", "number", "section", "current_text", "proposal", "justification", "topic",
                   "status", "decision_justification", "decision_revision")
OUTBOX_COLUMNS = ("event_id", "event_type", "envelope", "created_at", "attempts")


def write_import(ctx: ServiceContext, session: Session, consultation: Consultation, plan: ImportPlan,
                 arrivals: Sequence[tuple[datetime, bool]], *, actor: str, now: datetime) -> list[str]:
    """Write `plan` (`arrivals`: each submission's received_at and late flag); returns the first and last
    reference of each year's block. Each submission's provenance is the import: who brought the file, when,
    and a letter's stamp date, as for a letter entered by hand.

    Each table's rows are generated while its COPY streams, so that building them overlaps with the
    server's work on the rows sent before; ids, tokens and references are drawn up front, and the comments'
    ids are handed out in the same order to the comment rows and to the events.
    """
    references, blocks = _references(ctx, session, [received_at for received_at, _ in arrivals])
    submissions = plan.submissions
    submission_ids = new_ids(len(submissions))
    comment_ids = new_ids(plan.comments)
    tokens = [domain.new_status_token() for _ in submissions]
    postmarks = [_postmark(planned) for planned in submissions]
    postmark_text = {day: day.isoformat() for day in set(postmarks) if day is not None}  # a campaign has few

    def submission_rows() -> Iterator[tuple]:
        for planned, submission_id, reference, token, (received_at, late), postmark in zip(
                submissions, submission_ids, references, tokens, arrivals, postmarks):
            yield (submission_id, reference, consultation.id, planned.channel, planned.name, planned.organization,
                   planned.email, planned.publish_consent, planned.kind, planned.language, received_at, late,
                   domain.hash_token(token), actor, now, postmark)

    def comment_rows() -> Iterator[tuple]:
        ids = iter(comment_ids)
        for planned, submission_id in zip(submissions, submission_ids):
            for number, c in enumerate(planned.comments, start=1):
                yield (next(ids), submission_id, number, c.section, c.current_text, c.proposal, c.justification,
                       c.topic, "received", "", 0)

    status_url = f"{ctx.settings.public_url}/intake/status?reference="
    entered_at = now.isoformat()

    def payloads() -> Iterator[dict[str, Any]]:
        """The web form's payload (services.intake.handlers.record_submission), field for field; the token is
        URL-safe already, so the query is what urlencode gives."""
        ids = iter(comment_ids)
        for planned, submission_id, reference, token, (received_at, late), postmark in zip(
                submissions, submission_ids, references, tokens, arrivals, postmarks):
            yield {
                "submission_id": submission_id, "consultation_id": consultation.id,
                "consultation_title": consultation.title, "reference": reference, "channel": planned.channel,
                "received_at": received_at.isoformat(), "late": late, "language": planned.language,
                "status_url": f"{status_url}{quote_plus(reference)}&token={token}",
                "submitter": {"name": planned.name, "organization": planned.organization, "email": planned.email,
                              "publish_consent": planned.publish_consent, "kind": planned.kind},
                "comments": [{"comment_id": next(ids), "number": number, "section": c.section,
                              "current_text": c.current_text, "proposal": c.proposal,
                              "justification": c.justification, "topic": c.topic}
                             for number, c in enumerate(planned.comments, start=1)],
                "provenance": {"entered_by": actor, "entered_at": entered_at,
                               "postmarked_on": postmark_text.get(postmark)}}

    bulk_insert(session, Submission.__table__, SUBMISSION_COLUMNS, submission_rows())
    bulk_insert(session, Comment.__table__, COMMENT_COLUMNS, comment_rows())
    # The value rules of the contract (channel, e-mail form, kind, language) were checked row by row by
    # plan_import with the same validators; the full contract runs once per payload shape.
    envelopes = new_envelopes("submission.received", payloads(), producer=SERVICE, correlation_ids=references,
                              shape_of=_shape)
    created_at = utcnow()
    bulk_insert(session, Outbox.__table__, OUTBOX_COLUMNS,
                ((envelope["id"], envelope["type"], envelope, created_at, 0) for envelope in envelopes))
    return blocks


def _shape(payload: Mapping[str, Any]) -> tuple:
    """What can vary in the shape of the payloads built above: the fields that may be None."""
    submitter = payload["submitter"]
    return (submitter["organization"] is None, submitter["email"] is None,
            payload["provenance"]["postmarked_on"] is None, frozenset(comment["topic"] is None for comment in payload["comments"]))


def _postmark(planned: PlannedSubmission) -> date | None:
    """A letter's stamp date decided whether it came in time; other channels' dates are no postmark."""
    return planned.received_on if planned.channel == "letter" else None


def _references(ctx: ServiceContext, session: Session, received: Sequence[datetime]) -> tuple[list[str], list[str]]:
    """A reference for each submission, of the year it was received in (one statement per year), and the first
    and last of each year's block."""
    tz = ctx.settings.timezone
    years: dict[int, list[int]] = {}
    for index, received_at in enumerate(received):
        years.setdefault(received_at.astimezone(tz).year, []).append(index)
    references: list[str] = [""] * len(received)
    blocks: list[str] = []
    for year, indexes in sorted(years.items()):
        numbers = allocate_many(ctx.db, session, year, len(indexes))
        for index, number in zip(indexes, numbers):
            references[index] = domain.format_reference(year, number)
        blocks += [references[indexes[0]], references[indexes[-1]]]
    return references, blocks
