"""`python -m services.intake.worker`: the intake event consumer, outbox relay and Celery worker."""

from __future__ import annotations

from services.common.runtime import WorkerSpec, run_worker_main
from services.intake.app import build
from services.intake.handlers import EVENT_HANDLERS, close_expired_consultations


def worker_spec() -> WorkerSpec:
    return WorkerSpec(handlers=EVENT_HANDLERS, sweeps=[close_expired_consultations])


if __name__ == "__main__":
    run_worker_main(build, worker_spec())
