"""`python -m services.notify.worker`: notify's event consumer, outbox relay, sweep and Celery worker."""

from __future__ import annotations

import logging

from services.common.runtime import ServiceContext, WorkerSpec, run_worker_main
from services.common.staff_directory import with_staff_directory
from services.notify import domain, handlers
from services.notify.app import RENDERER, SENDER, SERVICE, build
from services.notify.handlers import EVENT_HANDLERS
from services.notify.models import StaffDirectory
from services.notify.senders import TransientDeliveryError

log = logging.getLogger(__name__)

SEND_TASK = handlers.SEND_TASK


def register_tasks(ctx: ServiceContext) -> None:
    """Define notify's Celery tasks on `ctx.celery` and enqueue staged notifications after each commit."""

    @ctx.celery.task(
        name=f"{SERVICE}.{SEND_TASK}", bind=True, acks_late=True, reject_on_worker_lost=True,
        # Not shared: a shared task is added to every Celery app created later in
        # the process, and the first closure (over the first ctx) would answer for all.
        shared=False,
        autoretry_for=(TransientDeliveryError,), max_retries=domain.MAX_RETRIES,
        # A factor of 10 s (10, 20, 40, 80, 160 s, fully jittered) rides out a
        # mail server restart; `True` would mean 1 s and give up within half a minute.
        retry_backoff=10, retry_backoff_max=600, retry_jitter=True,
    )
    def send_notification(self, notification_id: str) -> str:
        # Idempotent: the row lock and the `sent` check make a second run a no-op.
        outcome = handlers.deliver_notification(
            ctx, notification_id, sender=ctx.extras[SENDER], renderer=ctx.extras[RENDERER],
            retries_exhausted=self.request.retries >= self.max_retries,
        )
        return outcome.value

    handlers.install_enqueue_after_commit(
        ctx.db.sessions, lambda notification_id: ctx.enqueue(SEND_TASK, notification_id))


def enqueue_lost_notifications(ctx: ServiceContext) -> None:
    """Sweep: re-enqueue pending notifications whose task never ran or whose retry chain was lost."""
    notification_ids = handlers.claim_notifications_to_enqueue(ctx)
    for notification_id in notification_ids:
        ctx.enqueue(SEND_TASK, notification_id)
    if notification_ids:
        log.info("re-enqueued %d pending notifications", len(notification_ids))


def worker_spec() -> WorkerSpec:
    return WorkerSpec(handlers=with_staff_directory(EVENT_HANDLERS, StaffDirectory), register_tasks=register_tasks, sweeps=[enqueue_lost_notifications])


if __name__ == "__main__":
    run_worker_main(build, worker_spec())
