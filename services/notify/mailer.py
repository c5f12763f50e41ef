"""The mailer: the loop in each notify worker process that sends pending notifications.

It claims due rows in batches (`sending`, with its key) and sends them one after another over a kept SMTP
connection, with no broker round trip per message; the handler steps are in `handlers` (`claim_due`,
`deliver_claimed`, `release_dead_claims`). A staging commit in the same process wakes it at once; otherwise it
polls, which also picks up a failed message a member of staff re-sent and the retries whose backoff is over.

Who is alive: on PostgreSQL a mailer holds a session-level advisory lock on its key for as long as its database
connection lives, and a killed process's connection closes with it, so a `sending` row whose key nobody holds
belongs to a dead mailer and is released. No lease to wait out, and no clock to trust. SQLite serves one
process (the embedded mode), so there a key is alive while this process has it (`services.common.liveness`).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from services.common import liveness
from services.common.db import Database
from services.common.runtime import ServiceContext
from services.notify import handlers
from services.notify.handlers import Delivery
from services.notify.rendering import Renderer
from services.notify.senders import EmailSender

log = logging.getLogger(__name__)

# The advisory lock space of mailer keys (the first of the two int4 keys); the second is the mailer's key.
LOCK_NAMESPACE = 0x6E746679  # "ntfy"


def _new_key() -> int:
    return random.randint(1, 2**31 - 1)


@contextmanager
def claim_holder(db: Database) -> Iterator[tuple[Connection, int]]:
    """A connection of its own and a key that stays alive exactly as long as that connection."""
    while True:
        key = _new_key()
        with liveness.held(db, LOCK_NAMESPACE, key) as conn:
            if conn is not None:
                yield conn, key
                return


def alive_keys(db: Database) -> Any:
    """A function telling, inside a transaction on `conn`, the keys of mailers alive now."""
    return liveness.holders(db, LOCK_NAMESPACE)


class Mailer:
    """Drains due notifications in batches, in a thread of the worker process; `kick()` wakes it."""

    def __init__(self, ctx: ServiceContext, *, sender: EmailSender, renderer: Renderer, batch_size: int = 50,
                 poll_interval: float = 1.0, recover_interval: float = 1.0, unavailable_pause: float = 5.0):
        self.ctx = ctx
        self.sender = sender
        self.renderer = renderer
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.recover_interval = recover_interval
        # After the mail server could not be reached, the rest of the batch waits this long rather than
        # spending each message's attempts (and connection timeouts) on a server that is down.
        self.unavailable_pause = unavailable_pause
        self._alive = alive_keys(ctx.db)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.counts: dict[Delivery, int] = {outcome: 0 for outcome in Delivery}

    def kick(self, _staged: Any = None) -> None:
        self._wake.set()

    def start(self) -> "Mailer":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"{self.ctx.service}-mailer", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.sender.close()

    def _run(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            try:
                with claim_holder(self.ctx.db) as (conn, key):
                    backoff = 0.0
                    self._serve(conn, key)
            except (OperationalError, DBAPIError) as exc:
                # The database went away: our claims died with our connection and are released by others.
                backoff = min(30.0, max(0.5, backoff * 2))
                log.warning("mailer: database unavailable, retrying in %.1f s: %s", backoff, exc)
                self.sender.close()
                self._stop.wait(backoff)
            except Exception:  # a stopped mailer would silently stop all e-mail
                log.exception("mailer: unexpected error")
                self.sender.close()
                self._stop.wait(5.0)

    def _serve(self, conn: Connection, key: int) -> None:
        recovered_at = 0.0
        started, done = time.monotonic(), 0
        while not self._stop.is_set():
            if time.monotonic() - recovered_at >= self.recover_interval:
                handlers.release_dead_claims(self.ctx, conn, alive=self._alive)
                recovered_at = time.monotonic()
            self._wake.clear()
            rows = handlers.claim_due(self.ctx, conn, key=key, limit=self.batch_size)
            if not rows:
                if done:
                    log.info("mailer: %d notifications in %.1f s (%s)", done, time.monotonic() - started,
                             ", ".join(f"{k.value} {v}" for k, v in self.counts.items() if v))
                    done = 0
                    self.sender.close()  # nothing more to send: no connection kept idle
                self._wake.wait(self.poll_interval)
                started = time.monotonic()
                continue
            unreachable = False
            for row in rows:
                if self._stop.is_set() or unreachable:
                    break
                outcome = handlers.deliver_claimed(self.ctx, conn, row, key=key, sender=self.sender,
                                                   renderer=self.renderer)
                self.counts[outcome] += 1
                done += 1
                unreachable = outcome is Delivery.UNREACHABLE
            if self._stop.is_set() or unreachable:
                # The rest of the batch goes back unstarted, no attempt spent.
                handlers.release_claims(conn, key=key)
                if unreachable:
                    self._stop.wait(self.unavailable_pause)
            self.ctx.relay.kick()
