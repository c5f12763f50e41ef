"""The consultation's register of submissions, as intake holds them: every channel, newest first, found by
reference (the number staff wrote on a letter), sender, organisation or e-mail address. Staff open a submission's
page from it: to see what was registered, find a letter by the number on the paper, or correct what they typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from services.common.events import CHANNELS
from services.common.runtime import ServiceContext
from services.intake.models import Comment, Submission

PAGE_SIZE = 50
MAX_QUERY = 200


@dataclass(frozen=True)
class RegisterRow:
    submission_id: str
    reference: str
    received_at: datetime
    channel: str
    sender: str
    organization: str | None
    email: str | None
    comments: int
    late: bool
    entered_by: str | None
    postmarked: bool  # a letter counts for its stamp's whole day: its hour says nothing


@dataclass(frozen=True)
class RegisterPage:
    rows: tuple[RegisterRow, ...]
    total: int
    page: int
    pages: int


def register(ctx: ServiceContext, consultation_id: str, *, query: str = "", channel: str = "",
             page: int = 1) -> RegisterPage:
    """One page of the consultation's submissions, newest first; `query` is matched, in any case, within the
    reference, the sender's name, the organisation and the e-mail address; `channel` one of CHANNELS or all."""
    conditions = [Submission.consultation_id == consultation_id]
    words = " ".join(query.split())[:MAX_QUERY]
    if words:
        pattern = "%" + words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(*(func.lower(column).like(pattern, escape="\\") for column in (
            Submission.reference, Submission.submitter_name, Submission.organization, Submission.email))))
    if channel in CHANNELS:
        conditions.append(Submission.channel == channel)
    with ctx.db.transaction() as session:
        total = session.scalar(select(func.count(Submission.id)).where(*conditions)) or 0
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(page, 1), pages)
        found = list(session.scalars(
            select(Submission).where(*conditions)
            .order_by(Submission.received_at.desc(), Submission.reference.desc())
            .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
        counts = dict(session.execute(  # the page's submissions only (the comment table's index leads with them)
            select(Comment.submission_id, func.count(Comment.id))
            .where(Comment.submission_id.in_([s.id for s in found])).group_by(Comment.submission_id)).all())
        rows = tuple(RegisterRow(s.id, s.reference, s.received_at, s.channel, s.submitter_name, s.organization,
                                 s.email, counts.get(s.id, 0), s.late, s.entered_by, s.postmarked_on is not None)
                     for s in found)
    return RegisterPage(rows, total, page, pages)
