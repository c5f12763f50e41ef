"""The consultation's register of submissions, as intake holds them: every channel, newest first, found by
reference (the number staff wrote on a letter), sender, organisation or e-mail address. Staff open a submission's
page from it: to see what was registered, find a letter by the number on the paper, or correct what they typed."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.common.events import CHANNELS
from services.common.runtime import ServiceContext
from services.common.spreadsheets import spreadsheet_safe
from services.intake.handlers import not_reached
from services.intake.models import Comment, InboundMail, Submission, UndeliveredMail

PAGE_SIZE = 50
MAX_QUERY = 200
MAX_EXPORT = 100_000


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
    mail_status: str | None = None  # an e-mail's: needs_review and no_comments are tagged
    undelivered: bool = False  # an e-mail to the submitter came back undelivered


@dataclass(frozen=True)
class RegisterPage:
    rows: tuple[RegisterRow, ...]
    total: int
    page: int
    pages: int


def register(ctx: ServiceContext, consultation_id: str, *, query: str = "", channel: str = "",
             page: int = 1, undelivered: bool = False) -> RegisterPage:
    """One page of the consultation's submissions, newest first; `query` is matched, in any case, within the
    reference, the sender's name, the organisation and the e-mail address; `channel` one of CHANNELS or all;
    `undelivered`: only those an e-mail to came back undelivered (the senders to write to by post)."""
    conditions = _conditions(consultation_id, query, channel, undelivered)
    with ctx.db.transaction() as session:
        total = session.scalar(select(func.count(Submission.id)).where(*conditions)) or 0
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(page, 1), pages)
        rows = _rows(session, conditions, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return RegisterPage(rows, total, page, pages)


def every_row(ctx: ServiceContext, consultation_id: str, *, query: str = "", channel: str = "",
              undelivered: bool = False) -> tuple[RegisterRow, ...]:
    """All the submissions `register` finds (for the register's CSV), newest first, at most MAX_EXPORT."""
    with ctx.db.transaction() as session:
        return _rows(session, _conditions(consultation_id, query, channel, undelivered), limit=MAX_EXPORT, offset=0)


def _conditions(consultation_id: str, query: str, channel: str, undelivered: bool = False) -> list:
    conditions = [Submission.consultation_id == consultation_id]
    words = " ".join(query.split())[:MAX_QUERY]
    if words:
        pattern = "%" + words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(*(func.lower(column).like(pattern, escape="\\") for column in (
            Submission.reference, Submission.submitter_name, Submission.organization, Submission.email))))
    if channel in CHANNELS:
        conditions.append(Submission.channel == channel)
    if undelivered:
        conditions.append(not_reached())
    return conditions


def _rows(session: Session, conditions: list, *, limit: int, offset: int) -> tuple[RegisterRow, ...]:
    found = list(session.scalars(
        select(Submission).where(*conditions)
        .order_by(Submission.received_at.desc(), Submission.reference.desc()).limit(limit).offset(offset)))
    counts: dict[str, int] = {}
    mails: dict[str, str] = {}
    returned: set[tuple[str, str]] = set()  # (reference, address it came back from)
    for chunk in range(0, len(found), 1000):  # the submissions found only (both tables' indexes lead with them)
        ids = [s.id for s in found[chunk:chunk + 1000]]
        counts.update(session.execute(select(Comment.submission_id, func.count(Comment.id))
                                      .where(Comment.submission_id.in_(ids)).group_by(Comment.submission_id)).all())
        mails.update(session.execute(select(InboundMail.submission_id, InboundMail.status)
                                     .where(InboundMail.submission_id.in_(ids))).all())
        returned.update((reference, recipient) for reference, recipient in session.execute(
            select(UndeliveredMail.reference, func.lower(UndeliveredMail.recipient)).where(
                UndeliveredMail.reference.in_([s.reference for s in found[chunk:chunk + 1000]]))))
    return tuple(RegisterRow(s.id, s.reference, s.received_at, s.channel, s.submitter_name, s.organization,
                             s.email, counts.get(s.id, 0), s.late, s.entered_by, s.postmarked_on is not None,
                             mails.get(s.id), (s.reference, (s.email or "").lower()) in returned) for s in found)


def register_csv(rows: tuple[RegisterRow, ...], *, headers: tuple[str, ...], channel_words: dict[str, str],
                 late_word: str, tz: tzinfo) -> bytes:
    """The rows as CSV for Excel in Polish: UTF-8 with a BOM, ";" between cells, local dates; a cell a spreadsheet
    could take for a formula (a sender's name typed "=…") gets a leading quote."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        received = row.received_at.astimezone(tz)
        writer.writerow([spreadsheet_safe(value) for value in (
            row.reference, received.strftime("%Y-%m-%d") if row.postmarked else received.strftime("%Y-%m-%d %H:%M"),
            channel_words.get(row.channel, row.channel), row.sender, row.organization or "", row.email or "",
            str(row.comments), late_word if row.late else "", row.entered_by or "")])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
