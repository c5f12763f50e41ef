"""`python -m services.documents.worker`: document builds, the event consumer and the outbox relay."""

from __future__ import annotations

from services.common.runtime import ServiceContext, WorkerSpec, run_worker_main
from services.common.storage import StorageUnavailable
from services.documents import handlers
from services.documents.app import build
from services.documents.basic_report import render_basic_report


def register_tasks(ctx: ServiceContext) -> None:
    # shared=False: the task closes over this ctx, so it must not leak into other Celery apps.
    @ctx.celery.task(name="documents.build_report", bind=True, acks_late=True, shared=False, autoretry_for=(StorageUnavailable,),
                     retry_backoff=True, retry_jitter=True, max_retries=5)
    def build_report(task: object, build_id: str) -> None:
        try:
            handlers.run_report_build(ctx, build_id, render_basic_report)
        except StorageUnavailable as exc:
            if task.request.retries >= task.max_retries:  # type: ignore[attr-defined]
                handlers.mark_failed(ctx, build_id, f"storage unavailable: {exc}")
            raise


def worker_spec() -> WorkerSpec:
    return WorkerSpec(handlers=handlers.EVENT_HANDLERS, register_tasks=register_tasks,
                      sweeps=[handlers.requeue_stalled_builds])


if __name__ == "__main__":
    run_worker_main(build, worker_spec())
