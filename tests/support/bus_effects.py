"""Event handlers with no guard of their own, for proving what the inbox alone guarantees.

Each handler appends a row to `bus_effects`, a table without any uniqueness: applied twice, an event
leaves two rows. Only the inbox (`InboxDispatcher`) stands between a redelivery and a duplicate effect.
The handlers live in an importable module, not in a script's `__main__`, so that a consumer process
and the test process record them in the inbox under the same name.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import text
from sqlalchemy.orm import Session

from services.common.bus import InboxDispatcher, RetryPolicy
from services.common.db import Database
from services.common.events import Event
from services.review.models import Inbox, ParkedEvent

EVENT_TYPE = "submission.received"


def create_effects_table(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS bus_effects (n SERIAL PRIMARY KEY, event_id TEXT NOT NULL, "
                             "handler TEXT NOT NULL)")


def _append(session: Session, event: Event, handler: str) -> None:
    session.execute(text("INSERT INTO bus_effects (event_id, handler) VALUES (:event_id, :handler)"),
                    {"event_id": event.id, "handler": handler})


def record_receipt(event: Event, session: Session) -> None:
    _append(session, event, "receipt")


def record_tally(event: Event, session: Session) -> None:
    _append(session, event, "tally")


HANDLERS = {EVENT_TYPE: [record_receipt, record_tally]}


def effects(db: Database) -> Counter:
    """How many times each (event id, handler) took effect."""
    with db.engine.connect() as conn:
        return Counter((row.event_id, row.handler) for row in conn.execute(text("SELECT event_id, handler FROM bus_effects")))


def inbox_rows(db: Database) -> Counter:
    with db.transaction() as session:
        return Counter((row.event_id, row.handler.rsplit(".", 1)[-1]) for row in session.query(Inbox))


class InboxBypassed(InboxDispatcher):
    """The dispatcher with its inbox taken out (no check, no row), one event at a time or in a batch: what a
    consumer without one would do."""

    def _already_applied(self, session, keys) -> set:  # type: ignore[override]
        return set()

    def _mark_applied(self, session, applied) -> None:  # type: ignore[override]
        return None


def dispatcher(db: Database, *, inbox: bool = True, **options) -> InboxDispatcher:
    kind = InboxDispatcher if inbox else InboxBypassed
    options.setdefault("retry", RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02))
    return kind(db, Inbox, HANDLERS, parked_model=ParkedEvent, **options)
