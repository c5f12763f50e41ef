"""`python -m services.intake.worker`: the intake event consumer, outbox relay and Celery worker."""

from __future__ import annotations

import logging
import threading
import time

from services.common.runtime import ServiceContext, WorkerSpec, run_worker_main
from services.common.staff_directory import with_staff_directory
from services.intake.app import build
from services.intake.bookings.handlers import send_due_reminders
from services.intake.handlers import EVENT_HANDLERS, close_expired_consultations
from services.intake.models import StaffDirectory

log = logging.getLogger(__name__)

POLL_TASK = "poll_mailbox"


def register_tasks(ctx: ServiceContext) -> None:
    """Intake's Celery task: one poll of the consultation mailbox (enqueued by the sweep below)."""
    from services.intake.mail.imap import MailboxUnavailable, poll_mailbox

    lock = threading.Lock()

    @ctx.celery.task(name=f"intake.{POLL_TASK}", acks_late=True, reject_on_worker_lost=True, shared=False,
                     ignore_result=True)
    def poll_mailbox_task() -> int:
        if ctx.settings.imap is None or not lock.acquire(blocking=False):
            return 0  # not configured, or a poll is running in this process already
        try:
            return len(poll_mailbox(ctx, ctx.settings.imap))
        except MailboxUnavailable as error:  # the next sweep tries again; nothing is lost in the mailbox
            log.warning("mailbox not polled: %s", error)
            return 0
        finally:
            lock.release()


def enqueue_mailbox_poll(ctx: ServiceContext) -> None:
    """Sweep: enqueue a poll of the mailbox every UWAGI_IMAP_INTERVAL seconds."""
    imap = ctx.settings.imap
    if imap is None:
        return
    last = ctx.extras.get("imap_last_poll", 0.0)
    if time.monotonic() - last < imap.interval:
        return
    ctx.extras["imap_last_poll"] = time.monotonic()
    ctx.enqueue(POLL_TASK)


def import_dropped_mail(ctx: ServiceContext) -> None:
    """Sweep of `make run` (embedded mode): `.eml` files dropped into $UWAGI_DATA_DIR/inbox/."""
    if not ctx.settings.embedded_broker:
        return
    from services.intake.mail.dropfolder import import_drop_folder

    folder = ctx.settings.data_dir / "inbox"
    folder.mkdir(parents=True, exist_ok=True)
    for path, result in import_drop_folder(ctx, folder):
        log.info("inbox %s: %s %s", path.name, result.status, result.reference or result.reason)


def worker_spec() -> WorkerSpec:
    return WorkerSpec(handlers=with_staff_directory(EVENT_HANDLERS, StaffDirectory), register_tasks=register_tasks,
                      sweeps=[close_expired_consultations, enqueue_mailbox_poll, import_dropped_mail,
                              send_due_reminders])


if __name__ == "__main__":
    run_worker_main(build, worker_spec())
