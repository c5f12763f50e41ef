"""Bulk import use case: a checked plan written in one transaction, with one `submission.received` each.

All or nothing: every row is checked before anything is written, and the writes are one transaction.
The writes are SQLAlchemy Core multi-row inserts (submissions, comments, outbox), and references are
allocated for the whole file in one statement per year (services.intake.references), so a campaign of tens of thousands of comments
goes in within seconds.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from services.common.db import bulk_insert
from services.common.events import new_envelopes, utcnow
from services.common.runtime import ServiceContext
from services.common.web import Invalid, NotFound
from services.intake import domain
from services.intake.imports.plan import ImportPlan, PlannedSubmission, RowError, TableError, plan_import, read_table
from services.intake.models import Comment, Consultation, Outbox, Submission, SubmissionImport
from services.intake.references import allocate_many

SERVICE = "intake"


class ImportInvalid(Invalid):
    """422 with every problem by row and column: `details = {"rows": [{row, column, code, message}]}`."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"the file has {len(errors)} problem(s); nothing was imported",
                         details={"rows": [e.as_json() for e in errors]})
        self.errors = errors


@dataclass(frozen=True)
class ImportResult:
    import_id: str
    rows: int
    submissions: int
    comments: int
    references: list[str]  # first and last of each year's block


def import_comments(ctx: ServiceContext, consultation_id: str, filename: str, content: bytes, *, actor: str,
                    now: datetime | None = None) -> ImportResult:
    now = now or utcnow()
    try:
        table = read_table(filename, content)
    except TableError as exc:
        raise Invalid(str(exc), details={"file": [exc.code]}) from None
    tz = ctx.settings.timezone
    with ctx.transaction() as session:
        consultation = session.get(Consultation, consultation_id)
        if consultation is None:
            raise NotFound("no such consultation")
        if consultation.state == domain.State.DRAFT.value:
            raise Invalid("a draft consultation takes no comments; open it first")
        try:
            plan = plan_import(table, topics=consultation.topics or (), channels=consultation.channels or (),
                               today=now.astimezone(tz).date())
        except TableError as exc:
            raise Invalid(str(exc), details={"file": [exc.code]}) from None
        timings = [_timing(consultation, s, now, tz) for s in plan.submissions]
        errors = plan.errors + [error for _, _, error in timings if error is not None]
        if errors:
            raise ImportInvalid(errors)
        references = _write(ctx, session, consultation, plan, [(at, late) for at, late, _ in timings])
        import_id = str(uuid.uuid4())
        session.add(SubmissionImport(id=import_id, consultation_id=consultation.id, filename=filename[:300],
                                     sha256=hashlib.sha256(content).hexdigest(), rows=plan.rows,
                                     submissions=len(plan.submissions), comments=plan.comments,
                                     references=references, imported_by=actor, imported_at=now))
    return ImportResult(import_id, plan.rows, len(plan.submissions), plan.comments, references)


def _timing(consultation: Consultation, planned: PlannedSubmission, now: datetime,
            tz: object) -> tuple[datetime, bool, RowError | None]:
    """When it counts as received (the stamp's day, else now), whether it is late, or why it cannot be taken."""
    if planned.received_on is None:
        received_at, received_on = now, now.astimezone(tz).date()  # type: ignore[arg-type]
    else:
        received_on = planned.received_on
        received_at = max(datetime.combine(received_on, time(0), tzinfo=tz), consultation.opens_at)  # type: ignore[arg-type]
    opens_on: date = consultation.opens_at.astimezone(tz).date()  # type: ignore[arg-type]
    closes_on: date = consultation.closes_at.astimezone(tz).date()  # type: ignore[arg-type]
    if received_on < opens_on:
        return received_at, False, RowError(planned.first_row, "received_on", "not_yet_open",
                                            "received before the consultation opened")
    late = received_on > closes_on if planned.received_on is not None else now > consultation.closes_at
    if late and consultation.late_policy == domain.LatePolicy.REFUSE.value:
        return received_at, late, RowError(planned.first_row, "received_on", "late",
                                           "received after the deadline, and this consultation refuses late comments")
    return received_at, late, None


def _write(ctx: ServiceContext, session: Session, consultation: Consultation, plan: ImportPlan,
           timings: list[tuple[datetime, bool]]) -> list[str]:
    tz = ctx.settings.timezone
    years: dict[int, list[int]] = {}
    for index, (received_at, _) in enumerate(timings):
        years.setdefault(received_at.astimezone(tz).year, []).append(index)
    references: list[str] = [""] * len(plan.submissions)
    blocks: list[str] = []
    for year, indexes in sorted(years.items()):
        numbers = allocate_many(ctx.db, session, year, len(indexes))  # one statement per year
        for index, number in zip(indexes, numbers):
            references[index] = domain.format_reference(year, number)
        blocks += [domain.format_reference(year, numbers[0]), domain.format_reference(year, numbers[-1])]

    submission_rows: list[dict] = []
    comment_rows: list[dict] = []
    payloads: list[dict] = []
    base_url = f"{ctx.settings.public_url}/intake/status?"
    for planned, reference, (received_at, late) in zip(plan.submissions, references, timings):
        submission_id = str(uuid.uuid4())
        token = secrets.token_urlsafe(24)
        submitter = {"name": planned.name, "organization": planned.organization, "email": planned.email,
                     "publish_consent": planned.publish_consent, "kind": planned.kind}
        submission_rows.append({
            "id": submission_id, "reference": reference, "consultation_id": consultation.id,
            "channel": planned.channel, "submitter_name": planned.name, "organization": planned.organization,
            "email": planned.email, "publish_consent": planned.publish_consent, "kind": planned.kind,
            "language": planned.language, "received_at": received_at, "late": late,
            "status_token_hash": hashlib.sha256(token.encode()).hexdigest()})
        comments = []
        for number, c in enumerate(planned.comments, start=1):
            comment_id = str(uuid.uuid4())
            comment_rows.append({
                "id": comment_id, "submission_id": submission_id, "number": number, "section": c.section,
                "current_text": c.current_text, "proposal": c.proposal, "justification": c.justification,
                "topic": c.topic, "status": "received", "decision_justification": "", "decision_revision": 0})
            comments.append({"comment_id": comment_id, "number": number, "section": c.section,
                             "current_text": c.current_text, "proposal": c.proposal,
                             "justification": c.justification, "topic": c.topic})
        payloads.append({
            "submission_id": submission_id, "consultation_id": consultation.id,
            "consultation_title": consultation.title, "reference": reference, "channel": planned.channel,
            "received_at": received_at.isoformat(), "late": late, "language": planned.language,
            "status_url": base_url + urlencode({"reference": reference, "token": token}),
            "submitter": submitter, "comments": comments})
    # The value rules of the contract (channel, e-mail form, kind, language) were checked row by row by
    # plan_import with the same validators; new_envelopes runs the full contract once per payload shape.
    envelopes = new_envelopes("submission.received", payloads, producer=SERVICE,
                              correlation_ids=[p["reference"] for p in payloads])
    created_at = utcnow()
    bulk_insert(session, Submission.__table__, submission_rows)
    bulk_insert(session, Comment.__table__, comment_rows)
    bulk_insert(session, Outbox.__table__, [
        {"event_id": e["id"], "event_type": e["type"], "envelope": e, "created_at": created_at,
         "published_at": None, "attempts": 0, "last_error": None} for e in envelopes])
    return blocks
