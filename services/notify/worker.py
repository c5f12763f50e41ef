"""`python -m services.notify.worker`: notify's event consumer, outbox relay and mailer (no Celery tasks)."""

from __future__ import annotations

from services.common.runtime import ServiceContext, WorkerSpec, run_worker_main
from services.common.staff_directory import with_staff_directory
from services.notify import handlers
from services.notify.app import RENDERER, SENDER, build
from services.notify.handlers import EVENT_HANDLERS
from services.notify.mailer import Mailer
from services.notify.models import StaffDirectory


def start_mailer(ctx: ServiceContext) -> Mailer:
    """The process's mailer, woken by every commit that staged a notification in this process."""
    mailer = Mailer(ctx, sender=ctx.extras[SENDER], renderer=ctx.extras[RENDERER])
    handlers.install_wake_after_commit(ctx.db.sessions, mailer.kick)
    return mailer.start()


def worker_spec() -> WorkerSpec:
    return WorkerSpec(handlers=with_staff_directory(EVENT_HANDLERS, StaffDirectory), loops=[start_mailer])


if __name__ == "__main__":
    run_worker_main(build, worker_spec())
