"""Reference numbers of submissions (`UW/2026/000123`): unique, increasing within a year, gaps allowed.

On PostgreSQL each year has its own sequence, `intake_reference_<year>`, created the first time a
submission of that year arrives. `nextval` takes no row lock, so concurrent submissions never wait for each
other's COMMIT (the counter row used to be locked from the allocation until COMMIT, and under load every
backend queued on it). A rolled-back submission leaves a gap; references promise uniqueness, not density.

SQLite (`make run`) serialises writers anyway and keeps the per-year row of `reference_counters`. A
PostgreSQL sequence created for a year that already has a counter row starts after it, so numbers handed out
before the switch are never given again.
"""

from __future__ import annotations

import threading

from sqlalchemy import select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.common.db import Database
from services.intake.models import ReferenceCounter

# Serialises the creation of a year's sequence across processes (pg_advisory_xact_lock's key).
_CREATE_LOCK_KEY = 0x75776167  # "uwag"
_known: set[tuple[str, int]] = set()
_known_lock = threading.Lock()


# The years a reference can carry ("UW/2026/000123"). A date outside them is a typo (a letter stamped "0001-01-01")
# that the consultation's window refuses before any number is needed (services.intake.handlers.record_submission).
NUMBERED_YEARS = range(1000, 10000)


def sequence_name(year: int) -> str:
    if year not in NUMBERED_YEARS:
        raise ValueError(f"year {year} out of range")
    return f"intake_reference_{year}"


def ensure_sequence(db: Database, year: int) -> str:
    """The year's sequence, created (in its own short transaction) if it does not exist yet."""
    name = sequence_name(year)
    if (db.url, year) in _known:
        return name
    with db.engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATE_LOCK_KEY})
        if conn.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar() is None:
            given = conn.execute(select(ReferenceCounter.last).where(ReferenceCounter.year == year)).scalar() or 0
            conn.execute(text(f"CREATE SEQUENCE {name} START WITH {given + 1} MINVALUE 1"))
    with _known_lock:
        _known.add((db.url, year))
    return name


def allocate(db: Database, session: Session, year: int) -> int:
    """The next number of `year`'s references: on SQLite from the counter row, in the caller's transaction; on
    PostgreSQL from the year's sequence (the submission's writer usually takes it with the consultation's rules,
    services.intake.submission_store)."""
    if db.is_postgres:
        return int(session.execute(text(f"SELECT nextval('{ensure_sequence(db, year)}')")).scalar_one())
    statement = (sqlite_insert(ReferenceCounter).values(year=year, last=1)
                 .on_conflict_do_update(index_elements=[ReferenceCounter.year], set_={"last": ReferenceCounter.last + 1})
                 .returning(ReferenceCounter.last))
    return session.execute(statement).scalar_one()


def allocate_many(db: Database, session: Session, year: int, count: int) -> list[int]:
    """`count` numbers of `year` in one statement, ascending (a bulk import). On PostgreSQL from the year's
    sequence (unique, not necessarily consecutive while others submit); on SQLite a block of the counter row."""
    if count <= 0:
        return []
    if db.is_postgres:
        name = ensure_sequence(db, year)
        numbers = session.execute(text(f"SELECT nextval('{name}') FROM generate_series(1, :count)"),
                                  {"count": count}).scalars().all()
        return sorted(int(n) for n in numbers)
    statement = (sqlite_insert(ReferenceCounter).values(year=year, last=count)
                 .on_conflict_do_update(index_elements=[ReferenceCounter.year],
                                        set_={"last": ReferenceCounter.last + count})
                 .returning(ReferenceCounter.last))
    last = int(session.execute(statement).scalar_one())
    return list(range(last - count + 1, last + 1))
