"""The morning digest: each staff user's e-mail of the work waiting for them in the review.

A reviewer learns of comments assigned to them in the queue, and of decisions a coordinator returned on the
approvals page; a coordinator of decisions waiting for approval, comments nobody was assigned, consultations
whose every comment is decided, and e-mails still waiting for staff to transcribe their comments. Nobody opens
every page every morning, so on working days, from the hour `UWAGI_STAFF_DIGEST_HOUR` names (local time; 7 in
docker-compose.yml; unset, no digest is sent: a test system or a demo mails nobody unasked), the review worker's
sweep sends each active staff user who has not turned it off one e-mail listing what waits, per consultation, with
a link to the page where it is done (`staff.digest`, rendered and sent by notify). Nothing waiting, no e-mail.

Once a day at most: the sweep writes one `staff_digests` row per user and day in the same transaction as the event,
so its next round (every 15 s), a second worker, or a restart finds the row and sends nothing twice; notify keys the
e-mail by user and day as well.

`digest_lines` is pure; `send_digests` is the sweep.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from services.common.db import utcnow
from services.common.events import DIGEST_KINDS
from services.common.runtime import ServiceContext
from services.common.workdays import is_working_day
from services.review import approval
from services.review.accounts import normalize_email
from services.review.models import ConsultationRef, ReviewComment, StaffDigest, StaffUser
from services.review.triage import UNASSIGNED

log = logging.getLogger(__name__)

COORDINATING_ROLES = ("coordinator", "admin")


@dataclass(frozen=True)
class ConsultationFacts:
    id: str
    title: str
    closed: bool  # the deadline for comments has passed


@dataclass(frozen=True)
class Tally:
    """A count of a consultation's comments that share these columns (one row of a grouped query)."""
    consultation_id: str
    assignee: str | None
    decided_by: str | None
    status: str  # new, decided
    approval_state: str | None
    awaiting_transcription: bool
    count: int


@dataclass(frozen=True)
class DigestLine:
    consultation_id: str
    title: str
    kind: str  # one of events.DIGEST_KINDS
    count: int
    url: str


def _url(base: str, path: str, **query: str) -> str:
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


def digest_lines(email: str, role: str, consultations: dict[str, ConsultationFacts], tallies: list[Tally],
                 base_url: str) -> list[DigestLine]:
    """Pure: what waits for the user (`email`, `role`) in the consultations still under review, as lines of the
    digest in the consultations' title order; empty when nothing waits."""
    counts: dict[tuple[str, str], int] = {}
    pending: set[str] = set()  # consultations with a comment not yet decided for good (not "complete")
    total: dict[str, int] = {}
    me = normalize_email(email)

    def add(consultation_id: str, kind: str, count: int) -> None:
        counts[consultation_id, kind] = counts.get((consultation_id, kind), 0) + count

    coordinating = role in COORDINATING_ROLES
    for tally in tallies:
        if tally.consultation_id not in consultations:
            continue
        total[tally.consultation_id] = total.get(tally.consultation_id, 0) + tally.count
        open_comment = tally.status != "decided" or tally.approval_state in (approval.PROPOSED, approval.RETURNED)
        if tally.awaiting_transcription or open_comment:
            pending.add(tally.consultation_id)
        # A placeholder (one per e-mail waiting for its transcription) is not decided on: the comments read from
        # the e-mail will be.
        if tally.awaiting_transcription:
            if coordinating:
                add(tally.consultation_id, "transcription", tally.count)
            continue
        if tally.status != "decided" and tally.approval_state != approval.RETURNED:
            if normalize_email(tally.assignee or "") == me:
                add(tally.consultation_id, "assigned", tally.count)
            elif not tally.assignee and coordinating:
                add(tally.consultation_id, "unassigned", tally.count)
        if tally.approval_state == approval.RETURNED and normalize_email(tally.decided_by or "") == me:
            add(tally.consultation_id, "returned", tally.count)
        if tally.approval_state == approval.PROPOSED and coordinating:
            add(tally.consultation_id, "approvals", tally.count)
    if coordinating:
        for consultation_id, facts in consultations.items():
            if facts.closed and total.get(consultation_id) and consultation_id not in pending:
                add(consultation_id, "complete", total[consultation_id])

    def link(consultation_id: str, kind: str) -> str:
        if kind == "transcription":
            return _url(base_url, "/intake/staff/mails", consultation=consultation_id)
        if kind == "assigned":
            return _url(base_url, "/review/queue", consultation=consultation_id, assignee=email, status="new")
        if kind == "unassigned":
            return _url(base_url, "/review/queue", consultation=consultation_id, assignee=UNASSIGNED, status="new")
        if kind in ("returned", "approvals"):
            state = approval.RETURNED if kind == "returned" else approval.PROPOSED
            return _url(base_url, "/review/approvals", consultation=consultation_id, state=state)
        return _url(base_url, "/review/", consultation=consultation_id)

    order = {kind: rank for rank, kind in enumerate(DIGEST_KINDS)}
    keys = sorted(counts, key=lambda key: (consultations[key[0]].title.casefold(), key[0], order[key[1]]))
    return [DigestLine(cid, consultations[cid].title, kind, counts[cid, kind], link(cid, kind)) for cid, kind in keys]


def _facts(session, now: datetime) -> tuple[dict[str, ConsultationFacts], list[Tally]]:
    consultations = {c.id: ConsultationFacts(c.id, c.title, c.closes_at <= now)
                     for c in session.scalars(select(ConsultationRef).where(ConsultationRef.completed_at.is_(None)))}
    if not consultations:
        return consultations, []
    columns = (ReviewComment.consultation_id, ReviewComment.assignee, ReviewComment.decided_by, ReviewComment.status,
               ReviewComment.approval_state, ReviewComment.awaiting_transcription)
    rows = session.execute(select(*columns, func.count()).where(ReviewComment.consultation_id.in_(list(consultations)))
                           .group_by(*columns))
    return consultations, [Tally(*row) for row in rows]


def send_digests(ctx: ServiceContext, now: datetime | None = None) -> int:
    """The sweep: on a working day from the configured hour, emit each staff user's digest once; returns how many
    were sent. Cheap when there is nothing to do (one query for the users and the day's rows): it runs every round."""
    hour = ctx.settings.staff_digest_hour
    now = now or utcnow()
    local = now.astimezone(ctx.settings.timezone)
    day = local.date()
    if hour is None or local.hour < hour or not is_working_day(day):
        return 0
    with ctx.db.transaction() as session:
        done = set(session.scalars(select(StaffDigest.user_id).where(StaffDigest.day == day)))
        users = [(u.id, u.email, u.name, u.role, u.language) for u in session.scalars(
            select(StaffUser).where(StaffUser.active.is_(True), StaffUser.digest.is_(True),
                                    StaffUser.password_hash.is_not(None)).order_by(StaffUser.email))
            if u.id not in done]
        if not users:
            return 0
        consultations, tallies = _facts(session, now)
    base = ctx.settings.public_url
    sent = 0
    for user_id, email, name, role, language in users:
        lines = digest_lines(email, role, consultations, tallies, base)
        try:
            with ctx.transaction() as session:
                session.add(StaffDigest(user_id=user_id, day=day, lines=len(lines), created_at=now))
                session.flush()
                if lines:
                    ctx.emit(session, "staff.digest", {
                        "user_id": user_id, "email": email, "name": name, "day": day.isoformat(), "language": language,
                        "lines": [{"consultation_id": line.consultation_id, "title": line.title, "kind": line.kind,
                                   "count": line.count, "url": line.url} for line in lines],
                        "console_url": f"{base}/review/", "settings_url": f"{base}/review/account",
                    }, correlation_id=f"digest:{day.isoformat()}")
        except IntegrityError:  # another worker took this user today
            continue
        sent += bool(lines)
    if sent:
        log.info("sent %d staff digests for %s", sent, day)
    return sent
