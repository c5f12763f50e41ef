"""Who is alive: a key that stays held exactly as long as the database connection holding it.

On PostgreSQL a key is a session-level advisory lock `(namespace, key)` on a connection of its own; a process
that is killed takes its connections with it, so its keys are free at once, with no lease to wait out and no
clock to trust. SQLite serves one process (the embedded mode), so there a key is held while this process holds it.

Notify's mailers hold one key each while they claim and send e-mail; documents' build tasks hold their build's key
while they build it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from services.common.db import Database

log = logging.getLogger(__name__)

# The keys held in this process (SQLite's notion of alive), by namespace.
_LOCAL: set[tuple[int, int]] = set()
_LOCAL_LOCK = threading.Lock()


def key_of(name: str) -> int:
    """A stable key for a string id: a non-negative int4 (PostgreSQL's two-key advisory locks take two int4, and
    `pg_locks` shows them as unsigned oids, which agree with the int4 only when it is not negative)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "big") & 0x7FFFFFFF


@contextmanager
def held(db: Database, namespace: int, key: int) -> Iterator[Connection | None]:
    """Hold `(namespace, key)` for the block on a connection of its own, which the block may use.

    Yields None, holding nothing, when someone else holds the key now (on PostgreSQL: any live session)."""
    conn = db.engine.connect()
    taken = False
    try:
        if db.is_postgres:
            with conn.begin():
                # Session-level: held past this transaction, until unlocked or the connection ends.
                taken = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:ns, :key)"), {"ns": namespace, "key": key}))
        else:
            with _LOCAL_LOCK:
                taken = (namespace, key) not in _LOCAL
                if taken:
                    _LOCAL.add((namespace, key))
        yield conn if taken else None
    finally:
        try:
            if taken and db.is_postgres and not conn.invalidated:
                if conn.in_transaction():
                    conn.rollback()
                with conn.begin():
                    conn.execute(text("SELECT pg_advisory_unlock(:ns, :key)"), {"ns": namespace, "key": key})
        except DBAPIError:
            log.debug("could not unlock key (%d, %d); its connection is closing anyway", namespace, key, exc_info=True)
        finally:
            if taken and not db.is_postgres:
                with _LOCAL_LOCK:
                    _LOCAL.discard((namespace, key))
            conn.close()


def holders(db: Database, namespace: int) -> Callable[[Connection], set[int]]:
    """A function telling, inside a transaction on the connection it is given, the keys of `namespace` held now."""
    if not db.is_postgres:
        def local(_conn: Connection) -> set[int]:
            with _LOCAL_LOCK:
                return {key for ns, key in _LOCAL if ns == namespace}
        return local

    def locked(conn: Connection) -> set[int]:
        # Two-key advisory locks show the first key as classid and the second as objid, with objsubid 2.
        return set(conn.scalars(text(
            "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
            " AND classid::bigint = :ns AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
            {"ns": namespace}))
    return locked
