"""`python -m tests.support.crash_consumer BROKER_URL DATABASE_URL inbox|bypassed [single|batch]`: a consumer of
review's queue that runs the guard-less handlers of `tests.support.bus_effects`, commits their effects and then
dies instead of acking (a power cut between the database commit and the ack).

`single` (the default) dies at its first ack; `batch` acks the events it applies one at a time and dies at the
first ack after a batch (`InboxDispatcher.apply_batch`) committed, so that the whole batch is redelivered.
"""

from __future__ import annotations

import os
import sys
import threading

from services.common.bus import EventConsumer
from services.common.db import Database
from tests.support import bus_effects

EXIT_CODE = 17


def main(broker_url: str, database_url: str, mode: str, when: str = "single") -> None:
    # Never outlive a test that stopped waiting for us.
    threading.Timer(60, os._exit, args=(3,)).start()
    ack = EventConsumer._ack

    def die_instead_of_ack(self, message, multiple: bool = False) -> None:
        if when == "batch" and not self.batches:
            ack(self, message, multiple)
            return
        os._exit(EXIT_CODE)

    EventConsumer._ack = die_instead_of_ack
    db = Database(database_url)
    # A long linger: the events waiting in the queue all join the batch that follows the first one.
    EventConsumer(broker_url, "review", bus_effects.dispatcher(db, inbox=mode == "inbox"), linger=1.0).run()


if __name__ == "__main__":
    main(*sys.argv[1:5])
