"""`python -m services.review.worker`: the review event consumer, outbox relay and Celery worker."""

from __future__ import annotations

from services.common.runtime import WorkerSpec, run_worker_main
from services.review.app import build
from services.review.digests import send_digests
from services.review.groups import place_unplaced
from services.review.handlers import EVENT_HANDLERS


def worker_spec() -> WorkerSpec:
    # The sweeps group comments the event handler has not placed (those from before grouping existed), and send
    # each staff user's morning digest once a working day.
    return WorkerSpec(handlers=EVENT_HANDLERS, sweeps=(place_unplaced, send_digests))


if __name__ == "__main__":
    run_worker_main(build, worker_spec())
