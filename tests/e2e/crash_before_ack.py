"""A notify worker that dies right after committing an event's effect and before acking it.

It runs the real consumer (no Celery, so no e-mail is sent from here) and
replaces the ack by a hard exit: the situation of a machine losing power
between the database commit and the ack.
"""

from __future__ import annotations

import os
import threading

from services.common.bus import EventConsumer
from services.common.runtime import ServiceWorker, configure_logging
from services.common.settings import load_settings
from services.notify.app import build
from services.notify.worker import worker_spec

EXIT_CODE = 17


def _die_instead_of_ack(self, message, multiple: bool = False) -> None:
    os._exit(EXIT_CODE)


if __name__ == "__main__":
    settings = load_settings()
    configure_logging(settings)
    EventConsumer._ack = _die_instead_of_ack
    ServiceWorker(build(settings), worker_spec()).start_background()
    threading.Event().wait(120)
