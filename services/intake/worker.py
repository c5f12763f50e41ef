"""`python -m services.intake.worker`: the intake event consumer, outbox relay and Celery worker."""

from __future__ import annotations

from services.common.runtime import WorkerSpec, run_worker_main
from services.common.staff_directory import with_staff_directory
from services.intake.app import build
from services.intake.handlers import EVENT_HANDLERS, close_expired_consultations
from services.intake.models import StaffDirectory


def worker_spec() -> WorkerSpec:
    return WorkerSpec(handlers=with_staff_directory(EVENT_HANDLERS, StaffDirectory), sweeps=[close_expired_consultations])


if __name__ == "__main__":
    run_worker_main(build, worker_spec())
