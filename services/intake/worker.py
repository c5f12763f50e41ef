"""`python -m services.intake.worker`: intake's event consumer, outbox relay and Celery worker."""

from __future__ import annotations

from services.common.runtime import ServiceContext, WorkerSpec, run_worker_main
from services.common.settings import Settings
from services.intake.app import SERVICE, build
from services.intake.handlers import EVENT_HANDLERS


def register_tasks(ctx: ServiceContext) -> None:
    """Intake has no Celery tasks yet (mailbox polling and reminders come with their issues)."""


def worker_spec() -> WorkerSpec:
    return WorkerSpec(handlers=EVENT_HANDLERS, register_tasks=register_tasks)


def build_worker(settings: Settings) -> tuple[ServiceContext, WorkerSpec]:
    return build(settings), worker_spec()


if __name__ == "__main__":
    run_worker_main(SERVICE, build_worker)
