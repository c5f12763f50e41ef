"""The audit log: who did what to which subject, when, with the state before and after.

Every staff action of the review service writes its entry through `record`, in
the same transaction as the change, so the log cannot disagree with the data.
The log is append-only: the ORM refuses to update or delete an entry (here),
and the database refuses it too (triggers in the migration), so neither a bug
nor a hand-written statement can rewrite history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from services.common.auth import StaffIdentity
from services.review.models import AuditEntry, ReviewComment


class AuditLogIsAppendOnly(RuntimeError):
    """Raised on any attempt to change or remove an audit entry."""


def _actor_name(actor: StaffIdentity | str) -> str:
    return actor.email if isinstance(actor, StaffIdentity) else str(actor)


def _json_ready(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_ready(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def record(session: Session, actor: StaffIdentity | str, action: str, subject: str, *,
           before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None,
           consultation_id: str | None = None, **details: Any) -> AuditEntry:
    """Append one entry in the caller's transaction. `before`/`after` hold only the fields that changed."""
    entry = AuditEntry(actor=_actor_name(actor), action=action, subject=str(subject)[:60],
                       consultation_id=consultation_id,
                       before=_json_ready(before) if before is not None else None,
                       after=_json_ready(after) if after is not None else None,
                       details=_json_ready(details))
    session.add(entry)
    return entry


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """The fields whose values differ, as (before, after) dictionaries."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    subject: str | None = None
    consultation_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search(session: Session, filters: AuditFilter, *, limit: int, offset: int) -> tuple[list[AuditEntry], int]:
    """Newest first. Actor and subject match exactly; action also by prefix ("comment." finds all comment steps)."""
    query = select(AuditEntry)
    if filters.actor:
        query = query.where(AuditEntry.actor == filters.actor.strip().lower())
    if filters.action:
        action = filters.action.strip()
        query = query.where(AuditEntry.action.startswith(action, autoescape=True) if action.endswith(".")
                            else AuditEntry.action == action)
    if filters.subject:
        query = query.where(AuditEntry.subject.in_(_subjects(session, filters.subject.strip())))
    if filters.consultation_id:
        query = query.where(AuditEntry.consultation_id == filters.consultation_id)
    if filters.since:
        query = query.where(AuditEntry.at >= filters.since)
    if filters.until:
        query = query.where(AuditEntry.at < filters.until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset))
    return list(rows), total


_REFERENCE = re.compile(r"^(?P<reference>[A-Z]{1,5}/\d{4}/\d{1,9})(?:\s*(?:#|nr)\s*(?P<number>\d+))?$", re.IGNORECASE)


def _subjects(session: Session, subject: str) -> list[str]:
    """A subject is an id, or a submission reference ("UW/2026/000123", "UW/2026/000123 #2") meaning its comments."""
    match = _REFERENCE.match(subject)
    if match is None:
        return [subject]
    query = select(ReviewComment.id).where(ReviewComment.reference == match["reference"].upper())
    if match["number"]:
        query = query.where(ReviewComment.number == int(match["number"]))
    return [subject, *session.scalars(query)]


def read(ctx: Any, filters: AuditFilter, *, limit: int, offset: int) -> tuple[list[AuditEntry], int]:
    with ctx.db.transaction() as session:
        return search(session, filters, limit=limit, offset=offset)


def comment_labels(ctx: Any, entries: list[AuditEntry]) -> dict[str, str]:
    """"UW/2026/000123 #2" for the subjects that are comments, so people read references, not ids."""
    subjects = {e.subject for e in entries if e.action.startswith("comment.")}
    if not subjects:
        return {}
    with ctx.db.transaction() as session:
        rows = session.execute(select(ReviewComment.id, ReviewComment.reference, ReviewComment.number)
                               .where(ReviewComment.id.in_(subjects)))
        return {row.id: f"{row.reference} #{row.number}" for row in rows}


def actions(ctx: Any) -> list[str]:
    with ctx.db.transaction() as session:
        return known_actions(session)


def known_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def history(session: Session, subject: str) -> list[AuditEntry]:
    """A subject's entries, oldest first (a comment's page shows its story)."""
    return list(session.scalars(select(AuditEntry).where(AuditEntry.subject == subject)
                                .order_by(AuditEntry.at, AuditEntry.id)))


# --- append-only, in the ORM -------------------------------------------------------------


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(_mapper: Any, _connection: Any, target: AuditEntry) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {target.id} cannot be changed")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(_mapper: Any, _connection: Any, target: AuditEntry) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {target.id} cannot be deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: Any) -> None:
    """`session.execute(update(AuditEntry))` and `delete(...)` bypass the mapper events above."""
    if not (state.is_update or state.is_delete):
        return
    description = getattr(state.statement, "entity_description", None) or {}
    if description.get("table") is AuditEntry.__table__:
        raise AuditLogIsAppendOnly("the audit log cannot be updated or deleted")
