"""Database plumbing shared by the services: engines, sessions, outbox and inbox tables, migrations."""

from __future__ import annotations

import functools
import logging
from contextlib import contextmanager
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import orjson
import psycopg
from psycopg.types.json import Json
from sqlalchemy import (
    ARRAY,
    JSON,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    any_,
    bindparam,
    create_engine,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes on SQLite and PostgreSQL alike (stored as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # SQLite's lower() folds ASCII only: "Żak" would not match "żak" in a search, as on PostgreSQL it does.
            dbapi_conn.create_function("lower", 1, _unicode_lower, deterministic=True)

        @event.listens_for(engine, "begin")
        def _sqlite_begin_immediate(conn: Any) -> None:
            # Take the write lock up front: SQLite's deferred transactions deadlock
            # when two threads upgrade from read to write at once.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        # Let SQLAlchemy not emit its own BEGIN (pysqlite would otherwise start one lazily).
        @event.listens_for(engine, "connect")
        def _sqlite_no_autobegin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        return engine
    engine = create_engine(url, pool_size=5, max_overflow=10, pool_recycle=1800, connect_args={"connect_timeout": 5})
    _ping_idle_connections(engine)
    return engine


# A connection that came back to the pool less than this long ago is used without a ping: under load
# the pool's connections are busy all the time, and `pool_pre_ping` cost a round trip per transaction.
# One that sat idle longer may have been cut (a database restart, a firewall) and is tested first. A
# disconnect seen on a busy connection still invalidates the whole pool (SQLAlchemy's default).
IDLE_PING_SECONDS = 5.0


def _ping_idle_connections(engine: Engine) -> None:
    import time

    from sqlalchemy import exc

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_conn.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        except Exception as error:
            # The pool discards this connection and checks out another (a fresh one if need be).
            raise exc.DisconnectionError(f"idle connection is dead: {error}") from error


class Database:
    """One service's engine and session factory."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any error."""
        session = self.sessions()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


class OutboxMixin:
    """Events waiting to be published; written in the same transaction as the change."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    event_type: Mapped[str] = mapped_column(String(80), nullable=False)
    envelope: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class InboxMixin:
    """Events a handler has already applied; the primary key makes redelivery a no-op."""

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    handler: Mapped[str] = mapped_column(String(120), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(80), nullable=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class ParkedEventMixin:
    """An event one handler could not apply yet (its prerequisite has not arrived); retried by a sweep.

    Parking instead of dead-lettering keeps a valid event that merely came too
    early, e.g. a decision overtaking its submission on a busy or restarted consumer.
    """

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    handler: Mapped[str] = mapped_column(String(120), nullable=False)
    envelope: Mapped[dict] = mapped_column(JSON, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    parked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


def service_tables() -> tuple[Any, Any, Any, Any]:
    """A service's declarative base and its bus tables: `Base, Outbox, Inbox, ParkedEvent = service_tables()`."""

    class Base(DeclarativeBase):
        pass

    class Outbox(OutboxMixin, Base):
        __tablename__ = "outbox"
        __table_args__ = (Index(OUTBOX_PENDING_INDEX, "id", postgresql_where=text("published_at IS NULL"),
                                sqlite_where=text("published_at IS NULL")),)

    class Inbox(InboxMixin, Base):
        __tablename__ = "inbox"

    class ParkedEvent(ParkedEventMixin, Base):
        __tablename__ = "parked_events"
        __table_args__ = (UniqueConstraint("event_id", "handler"),)

    return Base, Outbox, Inbox, ParkedEvent


def add_event(session: Session | Connection, outbox_model: type, envelope: dict) -> None:
    """Write an envelope (from `events.new_envelope`) to the outbox in the caller's transaction.

    One Core INSERT at once rather than an ORM object flushed later: the outbox row has no relations,
    and the unit of work cost more CPU than the insert itself on the submission path. The envelope is
    serialised now, so later changes to the caller's dicts cannot reach the stored event.
    """
    # On the session's connection with parameters, not `.values()`: the statement is then built and compiled
    # once per table, where the ORM path rebuilt and recompiled it for every event.
    conn = session.connection() if isinstance(session, Session) else session  # notify's mailer passes a Connection
    conn.execute(_outbox_insert(outbox_model.__table__), outbox_row(envelope))


@functools.lru_cache(maxsize=None)
def _outbox_insert(table: Any) -> Any:
    return insert(table)


# --- migrations -------------------------------------------------------------

SERVICES_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(service: str, url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_ROOT / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["service"] = service
    return cfg


def upgrade(service: str, url: str, revision: str = "head") -> None:
    """Bring a service's database to `revision` with its Alembic migrations."""
    from alembic import command

    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(service, url), revision)


def create_outbox_and_inbox(op: Any) -> None:
    """Used by each service's first migration, so the tables are identical everywhere."""
    import sqlalchemy as sa

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(80), nullable=False),
        sa.Column("envelope", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("handler", sa.String(120), primary_key=True),
        sa.Column("event_type", sa.String(80), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )


# The relay's claim, `WHERE published_at IS NULL ORDER BY id LIMIT n`, walks this partial index: its cost is
# the batch, not the published history or the backlog (with the index on published_at alone, every batch
# sorted the whole backlog, and sweeps slowed as the outbox grew).
OUTBOX_PENDING_INDEX = "ix_outbox_pending"


def create_outbox_pending_index(op: Any) -> None:
    import sqlalchemy as sa

    op.create_index(OUTBOX_PENDING_INDEX, "outbox", ["id"], postgresql_where=sa.text("published_at IS NULL"),
                    sqlite_where=sa.text("published_at IS NULL"))


def drop_outbox_pending_index(op: Any) -> None:
    op.drop_index(OUTBOX_PENDING_INDEX, table_name="outbox")


def drop_outbox_and_inbox(op: Any) -> None:
    op.drop_index("ix_outbox_published_at", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("inbox")


def create_parked_events(op: Any) -> None:
    import sqlalchemy as sa

    op.create_table(
        "parked_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("handler", sa.String(120), nullable=False),
        sa.Column("envelope", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("event_id", "handler"),
    )
    op.create_index("ix_parked_events_next_attempt_at", "parked_events", ["next_attempt_at"])


def drop_parked_events(op: Any) -> None:
    op.drop_index("ix_parked_events_next_attempt_at", table_name="parked_events")
    op.drop_table("parked_events")


def _json_text(value: Any) -> str:
    """JSON for COPY, non-ASCII text as is. orjson: six times the speed of json.dumps on outbox envelopes, whose
    serialisation was the largest share of a bulk import's CPU after parsing."""
    return orjson.dumps(value).decode()


def bulk_insert(session: Session, table: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert many rows (tuples in the order of `columns`) in the caller's transaction, as fast as the database
    takes them. `rows` is consumed lazily, so a generator's work overlaps with the database's.

    On PostgreSQL: `COPY … FROM STDIN` on the session's own connection, so inside the same transaction as
    everything else the caller writes (measured on 10,000 outbox envelopes: COPY 1.4 s, one
    `INSERT … SELECT * FROM unnest(arrays)` 18 s, a multi-row INSERT … VALUES spent its time in psycopg's
    query parsing). The server parses each chunk as it arrives while the caller builds the next. Values go
    in as the driver adapts them; datetimes must be aware, JSON columns take Python objects, serialised here
    once. Elsewhere (SQLite): Core multi-row inserts of the same rows, a block at a time.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        statement = insert(table)
        rows = iter(rows)
        while block := [dict(zip(columns, row)) for row in islice(rows, 500)]:
            session.execute(statement, block)
        return
    json_at = [index for index, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
    statement = f'COPY {table.name} ({", ".join(columns)}) FROM STDIN'
    with on_driver(session, statement) as driver, driver.cursor() as cursor, cursor.copy(statement) as copy:
        write = copy.write_row
        if not json_at:
            for row in rows:
                write(row)
            return
        for row in rows:
            values = list(row)
            for index in json_at:
                if values[index] is not None:
                    values[index] = _json_text(values[index])
            write(values)


@contextmanager
def on_driver(session: Session, what: str) -> Iterator[psycopg.Connection]:
    """psycopg's own connection under a PostgreSQL session's, inside the caller's transaction: for the hot paths
    where SQLAlchemy's per-statement work costs more than the statement (COPY, pipelined writes).

    psycopg's errors are raised as SQLAlchemy raises them for its own statements (IntegrityError for a key stored
    twice, OperationalError for a lost connection), which callers and the web layer tell apart (a 409, a 503 with
    Retry-After, a retry). A connection lost on the way is invalidated at once, so the pool never hands it out
    again (the caller's rollback would find it dead too, one failed round trip later).
    `what` names the work in those errors.
    """
    connection = session.connection()
    driver = connection.connection.driver_connection
    try:
        yield driver
    except psycopg.Error as error:
        lost = driver.closed or driver.broken
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(what, None, error, psycopg.Error, connection_invalidated=lost) from None


@functools.lru_cache(maxsize=64)
def insert_sql(table: Any, columns: tuple[str, ...]) -> str:
    """`INSERT INTO table (columns) VALUES (%(column)s, …)` for psycopg, with the names checked against the table;
    built once for each table and column tuple (a hot path's few shapes)."""
    unknown = [name for name in columns if name not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column {', '.join(unknown)}")
    return (f'INSERT INTO {table.name} ({", ".join(columns)}) '
            f'VALUES ({", ".join(f"%({name})s" for name in columns)})')


def driver_json(value: Any) -> Any:
    """A value for a JSON column written through the driver (`on_driver`): serialised once, by orjson."""
    return None if value is None else Json(value, dumps=_json_text)


def outbox_row(envelope: dict) -> dict:
    """The outbox row of an envelope, for `add_event` and for writers on the driver (`on_driver`)."""
    return {"event_id": envelope["id"], "event_type": envelope["type"], "envelope": envelope, "created_at": utcnow(),
            "attempts": 0}


def among(session: Session | Connection, column: Any, values: Iterable[Any]) -> Any:
    """`column IN (values)`; on PostgreSQL `column = ANY(:values)`, one array parameter.

    An IN list renders one placeholder per value, so every batch size is a statement text of its own: psycopg
    does not cache the conversion of a query with more than 50 parameters (it re-parses it on every execution),
    and PostgreSQL parses and plans each text anew. With one array the text is the same for any batch size,
    converted once, prepared once and planned once. A batch of 15 submissions asks about some 500 buckets.
    """
    values = list(values)
    bind = session.get_bind() if isinstance(session, Session) else session
    if bind.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type), unique=True))
    return column.in_(values)


def insert_missing(session: Session, model: type, rows: dict[Any, dict], key: str = "id") -> None:
    """Insert those of `rows` (by their primary key `key`) that are not stored yet, in one INSERT: the batch form
    of a get-then-add per row, for event handlers that may see a row again (a redelivery, a replay)."""
    if not rows:
        return
    session.flush()
    column = getattr(model, key)
    stored = set(session.scalars(select(column).where(among(session, column, rows))))
    new = [row for row_key, row in rows.items() if row_key not in stored]
    if new:
        session.execute(insert(model.__table__), new)  # Core: the rows are plain columns, no ORM bookkeeping
