"""Reading a consultation's rules and writing a submission: the public API's hot path, in few round trips.

On PostgreSQL the work goes through psycopg's own connection, inside the caller's transaction
(`services.common.db.on_driver`): the rules come back with the year's next reference number in one query; the
submission, its comments and its outbox event go together in one flush of psycopg's pipeline mode. With the
transaction's BEGIN and COMMIT that makes four round trips. Through SQLAlchemy the same work took six (the
reference read back with RETURNING, the event's primary key read back, the comments in a pipeline of their own),
and SQLAlchemy's per-statement work was the largest share of the request's CPU. (Pipelining the read as well, to
send BEGIN with it, cost more CPU than the round trip it saved: measured, 0.51 against 0.44 ms a submission.)
A consultation that refuses the submission (a draft, closed, the wrong channel) has used up a number then:
references promise uniqueness, not density (`services.intake.references`).

Elsewhere (SQLite, `make run`) the same rows are written with cached Core statements, the number from the
year's counter row.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import JSON, bindparam, insert, select
from sqlalchemy.orm import Session

from services.common.db import Database, add_event, driver_json, insert_sql, on_driver, outbox_row
from services.intake import references
from services.intake.models import Comment, Consultation, Outbox, Submission


class Rules(NamedTuple):
    """What decides whether a consultation takes a submission now."""

    id: str
    title: str
    state: str
    channels: list
    opens_at: Any
    closes_at: Any
    late_policy: str


_RULE_COLUMNS = ("id", "title", "state", "channels", "opens_at", "closes_at", "late_policy")
_RULES_AND_NUMBER = (f"SELECT {', '.join(_RULE_COLUMNS)}, nextval(%(sequence)s::regclass) FROM consultations "
                     "WHERE id = %(consultation_id)s")
_RULES = select(*(Consultation.__table__.c[name] for name in _RULE_COLUMNS)).where(
    Consultation.id == bindparam("consultation_id"))
_INSERT_SUBMISSION = insert(Submission.__table__)
_INSERT_COMMENTS = insert(Comment.__table__)


def read_rules(db: Database, session: Session, consultation_id: str, year: int) -> tuple[Rules | None, int | None]:
    """The consultation's rules (None if there is no such consultation) and, on PostgreSQL, the next number of
    `year`'s references, taken in the same round trip (None elsewhere, and for a year no reference can carry:
    `references.allocate` gives it once the rules take the submission)."""
    if not db.is_postgres or year not in references.NUMBERED_YEARS:
        row = session.connection().execute(_RULES, {"consultation_id": consultation_id}).one_or_none()
        return (Rules(*row) if row is not None else None), None
    sequence = references.ensure_sequence(db, year)
    with on_driver(session, "read a consultation's rules") as driver:
        row = driver.execute(_RULES_AND_NUMBER, {"sequence": sequence, "consultation_id": consultation_id}).fetchone()
    if row is None:
        return None, None
    return Rules(*row[:-1]), row[-1]


def write_submission(db: Database, session: Session, submission: dict, comments: list[dict], envelope: dict) -> None:
    """Insert the submission's row, its comments' rows and its event in the caller's transaction. Each comment dict
    has every column of `comments`; `submission` has those it sets."""
    if not db.is_postgres:
        conn = session.connection()
        conn.execute(_INSERT_SUBMISSION, submission)
        if comments:
            conn.execute(_INSERT_COMMENTS, comments)  # one multi-row INSERT from one cached statement
        add_event(session, Outbox, envelope)
        return
    submission = {name: driver_json(value) if name in _JSON_COLUMNS else value for name, value in submission.items()}
    with on_driver(session, "write a submission") as driver, driver.pipeline(), driver.cursor() as cursor:
        cursor.execute(insert_sql(Submission.__table__, tuple(submission)), submission)
        if comments:
            cursor.executemany(insert_sql(Comment.__table__, tuple(comments[0])), comments)
        event = outbox_row(envelope)
        cursor.execute(insert_sql(Outbox.__table__, tuple(event)), {**event, "envelope": driver_json(envelope)})


_JSON_COLUMNS = frozenset(column.name for column in Submission.__table__.c if isinstance(column.type, JSON))
