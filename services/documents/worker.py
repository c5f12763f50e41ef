"""`python -m services.documents.worker`: version and report builds, the event consumer and the outbox relay."""

from __future__ import annotations

import logging
from typing import Any, Callable

from services.common.runtime import ServiceContext, WorkerSpec, run_worker_main
from services.common.staff_directory import with_staff_directory
from services.common.storage import StorageUnavailable
from services.documents import builds, drafts, handlers
from services.documents.app import build
from services.documents.models import ReportBuild, StaffDirectory, VersionBuild

log = logging.getLogger(__name__)

BUSY_RETRY_SECONDS = 5  # a copy of a build task that found the build's key held looks again after 5, 10, 15… s


def _build_task(ctx: ServiceContext, name: str, model: type, run: Callable[[ServiceContext, str], None]) -> None:
    """One build task: storage outages are retried with backoff and jitter, anything else fails the build."""

    # shared=False: the task closes over this ctx, so it must not leak into other Celery apps.
    @ctx.celery.task(name=f"documents.{name}", bind=True, acks_late=True, reject_on_worker_lost=True, shared=False,
                     autoretry_for=(StorageUnavailable,), retry_backoff=True, retry_backoff_max=120,
                     retry_jitter=True, max_retries=5)
    def task(self: Any, build_id: str) -> None:
        try:
            run(ctx, build_id)
        except builds.BuildBusy:
            # Being built by a live worker (this is a second copy of the task), or by a killed one whose session
            # has not ended yet: look again shortly. After the last look the sweep re-sends it if nobody builds it.
            if self.request.retries >= self.max_retries:
                return
            raise self.retry(countdown=BUSY_RETRY_SECONDS * (self.request.retries + 1)) from None
        except StorageUnavailable as exc:
            if self.request.retries >= self.max_retries:
                builds.mark_failed(ctx, model, build_id, f"storage unavailable: {exc}")
            raise
        except Exception as exc:  # permanent: record it on the build instead of leaving it running
            log.exception("documents.%s %s failed", name, build_id)
            builds.mark_failed(ctx, model, build_id, f"{type(exc).__name__}: {exc}")


def register_tasks(ctx: ServiceContext) -> None:
    _build_task(ctx, handlers.REPORT_TASK, ReportBuild, handlers.run_report_build)
    _build_task(ctx, drafts.BUILD_TASK, VersionBuild, drafts.run_version_build)


def worker_spec() -> WorkerSpec:
    return WorkerSpec(handlers=with_staff_directory(handlers.EVENT_HANDLERS, StaffDirectory), register_tasks=register_tasks,
                      sweeps=[handlers.requeue_stalled_builds, drafts.requeue_stalled_version_builds])


if __name__ == "__main__":
    run_worker_main(build, worker_spec())
