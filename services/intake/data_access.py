"""A person's request to see what the city holds about them (GDPR art. 15), answered from intake: every submission,
duty-hour booking and e-mail across all consultations that carries the e-mail address or the name staff search
for, with everything intake keeps of it, on one page to print or save as the answer's annex.

Intake holds the originals; review, documents and notify keep copies of the same submissions (the names and the
comments, the addresses the e-mails went to), which the page names so the answer is complete."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from services.common.runtime import ServiceContext
from services.intake.models import Booking, Consultation, DutySlot, EmailCorrection, InboundMail, Submission

MIN_QUERY, MAX_QUERY = 3, 254
MOST = 200  # of each kind: a search that finds more is a name too common to answer a request by


@dataclass(frozen=True)
class PersonalData:
    query: str
    submissions: tuple[Submission, ...]
    bookings: tuple[tuple[Booking, DutySlot | None], ...]
    mails: tuple[InboundMail, ...]
    titles: dict[str, str]  # consultation id -> title

    @property
    def nothing(self) -> bool:
        return not (self.submissions or self.bookings or self.mails)

    @property
    def capped(self) -> bool:
        return MOST in (len(self.submissions), len(self.bookings), len(self.mails))


def query_problem(query: str) -> str | None:
    """Why a search cannot answer a request, as a stable code; None when it can."""
    if len(query.strip()) < MIN_QUERY:
        return "too_short"
    if len(query) > MAX_QUERY:
        return "too_long"
    return None


def find_person(ctx: ServiceContext, query: str) -> PersonalData:
    """Everything intake holds that carries `query` as the e-mail address (exactly, in any case) or within the
    name (in any case): submissions with their comments, consent history and corrected addresses (found by a
    former address too), bookings, e-mails."""
    query = query.strip()
    folded = query.casefold()
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = f"%{escaped}%"
    with ctx.db.transaction() as session:
        submissions = tuple(session.scalars(
            select(Submission).where(or_(func.lower(Submission.email) == folded,
                                         func.lower(Submission.submitter_name).like(like, escape="\\"),
                                         Submission.id.in_(select(EmailCorrection.submission_id).where(
                                             func.lower(EmailCorrection.old_email) == folded))))
            .options(selectinload(Submission.comments), selectinload(Submission.consent_changes),
                     selectinload(Submission.email_corrections))
            .order_by(Submission.received_at.desc()).limit(MOST)))
        bookings = tuple((booking, slot) for booking, slot in session.execute(
            select(Booking, DutySlot).join(DutySlot, DutySlot.id == Booking.slot_id, isouter=True)
            .where(or_(func.lower(Booking.email) == folded, func.lower(Booking.name).like(like, escape="\\")))
            .order_by(Booking.created_at.desc()).limit(MOST)))
        mails = tuple(session.scalars(
            select(InboundMail).where(func.lower(InboundMail.sender).like(like, escape="\\"))
            .order_by(InboundMail.received_at.desc()).limit(MOST)))
        ids = {s.consultation_id for s in submissions} | {b.consultation_id for b, _ in bookings} | {
            m.consultation_id for m in mails if m.consultation_id}
        rows = session.execute(select(Consultation.id, Consultation.title).where(Consultation.id.in_(ids))) if ids else []
        titles = {consultation_id: title for consultation_id, title in rows}
    return PersonalData(query, submissions, bookings, mails, titles)
