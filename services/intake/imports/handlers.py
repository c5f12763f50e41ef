"""Bulk import use case: a checked plan written in one transaction, with one `submission.received` each.

All or nothing: every row is checked before anything is written, and the writes are one transaction. The
writing itself, in bulk and without ORM objects, is services.intake.imports.store's.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select

from services.common.bulk import gc_paused
from services.common.events import utcnow
from services.common.runtime import ServiceContext
from services.common.web import Conflict, Invalid, NotFound
from services.intake import domain
from services.intake.imports.plan import ImportPlan, RowError, TableError, plan_import, read_table
from services.intake.imports.survey import survey_table
from services.intake.imports.store import write_import
from services.intake.models import Consultation, SubmissionImport

# Why a submission's stamp cannot be taken, by problem code (see _timing).
TIMING_PROBLEMS = {"not_yet_open": "received before the consultation opened",
                   "late": "received after the deadline, and this consultation refuses late comments"}


class ImportInvalid(Invalid):
    """422 with every problem by row and column: `details = {"rows": [{row, column, code, message}]}`."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"the file has {len(errors)} problem(s); nothing was imported",
                         details={"rows": [e.as_json() for e in errors]})
        self.errors = errors


@dataclass(frozen=True)
class EarlierImport:
    import_id: str
    filename: str
    imported_by: str
    imported_at: datetime
    submissions: int
    references: list[str]


class RepeatedImport(Conflict):
    """409: the same file (by its sha256) was already imported into this consultation; `earlier` tells when."""

    def __init__(self, earlier: SubmissionImport):
        super().__init__("this file was already imported into the consultation",
                         details={"file": ["repeated"], "import_id": [earlier.id]})
        # A copy: the row is gone with the session the refusal rolls back.
        self.earlier = EarlierImport(earlier.id, earlier.filename, earlier.imported_by, earlier.imported_at,
                                     earlier.submissions, list(earlier.references))


@dataclass(frozen=True)
class ImportResult:
    import_id: str
    rows: int
    submissions: int
    comments: int
    references: list[str]  # first and last of each year's block
    survey_left_out: tuple[str, ...] | None = None  # an online survey's export: the questions no column took


@gc_paused()
def import_comments(ctx: ServiceContext, consultation_id: str, filename: str, content: bytes, *, actor: str,
                    now: datetime | None = None, refuse_repeat: bool = False) -> ImportResult:
    """`refuse_repeat`: refuse a file already imported into the consultation (the console asks first; the API
    has Idempotency-Key for retries)."""
    now = now or utcnow()
    digest = hashlib.sha256(content).hexdigest()
    try:
        table = read_table(filename, content)
    except TableError as exc:
        raise Invalid(str(exc), details={"file": [exc.code]}) from None
    survey = survey_table(table)  # Google or Microsoft Forms' answers, translated to the import's columns
    if survey is not None:
        table = survey.table
    tz = ctx.settings.timezone
    with ctx.transaction() as session:
        consultation = session.get(Consultation, consultation_id)
        if consultation is None:
            raise NotFound("no such consultation")
        if consultation.state == domain.State.DRAFT.value:
            raise Invalid("a draft consultation takes no comments; open it first", details={"file": ["draft"]})
        if refuse_repeat:
            earlier = session.scalar(select(SubmissionImport).where(
                SubmissionImport.consultation_id == consultation.id, SubmissionImport.sha256 == digest)
                .order_by(SubmissionImport.imported_at.desc()).limit(1))
            if earlier is not None:
                raise RepeatedImport(earlier)
        try:
            plan = plan_import(table, topics=consultation.topics or (), channels=consultation.channels or (),
                               today=now.astimezone(tz).date())
        except TableError as exc:
            raise Invalid(str(exc), details={"file": [exc.code]}) from None
        arrivals, late_errors = _arrivals(consultation, plan, now, tz)
        errors = plan.errors + late_errors
        if errors:
            raise ImportInvalid(errors)
        references = write_import(ctx, session, consultation, plan, arrivals, actor=actor, now=now)
        import_id = str(uuid.uuid4())
        session.add(SubmissionImport(id=import_id, consultation_id=consultation.id, filename=filename[:300],
                                     sha256=digest, rows=plan.rows,
                                     submissions=len(plan.submissions), comments=plan.comments,
                                     references=references, imported_by=actor, imported_at=now))
    return ImportResult(import_id, plan.rows, len(plan.submissions), plan.comments, references,
                        survey.left_out if survey is not None else None)


def list_imports(ctx: ServiceContext, consultation_id: str) -> list[SubmissionImport]:
    """The consultation's imports, newest first: what came in from which file, by whom, with which references."""
    with ctx.db.transaction() as session:
        return list(session.scalars(select(SubmissionImport).where(SubmissionImport.consultation_id == consultation_id)
                                    .order_by(SubmissionImport.imported_at.desc(), SubmissionImport.id)))


def _arrivals(consultation: Consultation, plan: ImportPlan, now: datetime,
              tz: object) -> tuple[list[tuple[datetime, bool]], list[RowError]]:
    """When each submission counts as received (its stamp's day, else now) and whether it is late, with the
    problems of those that cannot be taken. A campaign's stamps share a few days: each is worked out once."""
    timing: dict[date | None, tuple[datetime, bool, str | None]] = {}
    arrivals: list[tuple[datetime, bool]] = []
    errors: list[RowError] = []
    for planned in plan.submissions:
        if planned.received_on not in timing:
            timing[planned.received_on] = _timing(consultation, planned.received_on, now, tz)
        received_at, late, problem = timing[planned.received_on]
        arrivals.append((received_at, late))
        if problem is not None:
            errors.append(RowError(planned.first_row, "received_on", problem, TIMING_PROBLEMS[problem]))
    return arrivals, errors


def _timing(consultation: Consultation, received_on: date | None, now: datetime,
            tz: object) -> tuple[datetime, bool, str | None]:
    """When a stamp of `received_on` (None: no stamp) counts as received, whether it is late, and the problem's
    code (TIMING_PROBLEMS) if it cannot be taken."""
    if received_on is None:
        received_at, day = now, now.astimezone(tz).date()  # type: ignore[arg-type]
    else:
        day = received_on
        received_at = max(datetime.combine(received_on, time(0), tzinfo=tz), consultation.opens_at)  # type: ignore[arg-type]
    opens_on: date = consultation.opens_at.astimezone(tz).date()  # type: ignore[arg-type]
    closes_on: date = consultation.closes_at.astimezone(tz).date()  # type: ignore[arg-type]
    if day < opens_on:
        return received_at, False, "not_yet_open"
    late = day > closes_on if received_on is not None else now > consultation.closes_at
    if late and consultation.late_policy == domain.LatePolicy.REFUSE.value:
        return received_at, late, "late"
    return received_at, late, None
