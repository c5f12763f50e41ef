"""`python -m tests.support.crash_consumer BROKER_URL DATABASE_URL inbox|bypassed`: a consumer of review's
queue that runs the guard-less handlers of `tests.support.bus_effects`, commits their effects and then dies
instead of acking (a power cut between the database commit and the ack)."""

from __future__ import annotations

import os
import sys
import threading

from services.common.bus import EventConsumer
from services.common.db import Database
from tests.support import bus_effects

EXIT_CODE = 17


def _die_instead_of_ack(self, message) -> None:
    os._exit(EXIT_CODE)


def main(broker_url: str, database_url: str, mode: str) -> None:
    # Never outlive a test that stopped waiting for us.
    threading.Timer(60, os._exit, args=(3,)).start()
    EventConsumer._ack = _die_instead_of_ack
    db = Database(database_url)
    EventConsumer(broker_url, "review", bus_effects.dispatcher(db, inbox=mode == "inbox")).run()


if __name__ == "__main__":
    main(*sys.argv[1:4])
