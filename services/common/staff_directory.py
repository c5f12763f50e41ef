"""Each service's local copy of who the staff are, kept from `staff.changed`, and the revocation check.

Review owns staff users. Whenever it creates one or changes a role, the active
flag or the password, it raises the user's *generation* and emits
`staff.changed`. Every other service keeps the latest state per user in its own
`staff_directory` table, so the gate can refuse, without calling review, a
token or session issued for an older generation or for a deactivated user.

The directory vetoes; it does not vouch. A user it has never heard of is
judged by the signed claims alone: the signature already proves review issued
them, and every revocation reaches the directory as an event of its own, so a
missing row can only mean "nothing was revoked yet". This keeps tokens working
in the moment between a user's creation and the event's arrival.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.exceptions import ServiceUnavailable

from services.common.auth import StaffIdentity
from services.common.db import Database, UTCDateTime, utcnow
from services.common.events import Event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaffStanding:
    """What a service knows about a user right now: whether they are active, and their current generation."""

    active: bool
    generation: int


def identity_is_current(identity: StaffIdentity, standing: StaffStanding | None) -> bool:
    """True unless the user is known to be deactivated, or changed since the identity was issued."""
    if standing is None:
        return True
    return standing.active and identity.generation >= standing.generation


def should_apply(stored_generation: int | None, incoming_generation: int) -> bool:
    """Events may arrive out of order or twice: a newer generation replaces, an older one is ignored."""
    return stored_generation is None or incoming_generation >= stored_generation


class StaffDirectoryMixin:
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean)
    generation: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def staff_directory_table(base: Any) -> type:
    """The `staff_directory` model on a service's declarative base (see `services.common.db.service_tables`)."""

    class StaffDirectory(StaffDirectoryMixin, base):
        __tablename__ = "staff_directory"

    return StaffDirectory


def staff_changed_handler(model: type) -> Callable[[Event, Session], None]:
    """The event handler that keeps `model` (a `staff_directory_table`) current."""

    def on_staff_changed(event: Event, session: Session) -> None:
        data = event.data
        row = session.get(model, data["user_id"], with_for_update=True)
        if not should_apply(None if row is None else row.generation, data["generation"]):
            log.info("ignoring staff.changed generation %s for %s: generation %s is already known",
                     data["generation"], data["user_id"], row.generation)
            return
        if row is None:
            row = model(user_id=data["user_id"])
            session.add(row)
        row.email, row.name, row.role = data["email"], data.get("name") or "", data["role"]
        row.active, row.generation, row.updated_at = data["active"], data["generation"], utcnow()

    on_staff_changed.__module__ = __name__
    on_staff_changed.__qualname__ = "on_staff_changed"
    return on_staff_changed


def directory_check(db: Database, model: type) -> Callable[[StaffIdentity, str], bool]:
    """The gate's identity check (`app.extensions["uwagi_identity_check"]`) backed by `model`.

    `model` is a service's `staff_directory_table`, or in review the staff users themselves: any table whose
    primary key is the user id and which has `active` and `generation`.
    """

    def check(identity: StaffIdentity, via: str) -> bool:
        try:
            with db.sessions() as session:
                row = session.get(model, identity.user_id)
                standing = None if row is None else StaffStanding(active=row.active, generation=row.generation)
        except SQLAlchemyError:
            # Neither let a revoked identity in nor log everyone out: answer 503 until the database is back.
            log.warning("cannot read the staff directory", exc_info=True)
            raise ServiceUnavailable("the staff directory cannot be read right now") from None
        return identity_is_current(identity, standing)

    return check


def install_identity_check(app: Any, check: Callable[[StaffIdentity, str], bool]) -> None:
    app.extensions["uwagi_identity_check"] = check


def create_staff_directory(op: Any) -> None:
    """Used by each service's migration, so the table is identical everywhere."""
    import sqlalchemy as sa

    op.create_table(
        "staff_directory",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def drop_staff_directory(op: Any) -> None:
    op.drop_table("staff_directory")


def with_staff_directory(handlers: Mapping[str, Sequence[Any]], model: type) -> dict[str, list[Any]]:
    """A service's event handlers plus the one that keeps its staff directory current."""
    combined = {event_type: list(chain) for event_type, chain in handlers.items()}
    combined.setdefault("staff.changed", []).append(staff_changed_handler(model))
    return combined
