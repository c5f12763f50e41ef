"""PostgreSQL-only concurrency paths, run with real concurrency (threads, each on its own connection).

On SQLite every transaction holds the database's write lock, so these branches never run there:
- notify's row lock while a message is handed to the SMTP server (two tasks for one notification send once);
- notify's duplicate-insert race on the unique cause key (the loser's savepoint is undone, nothing else);
- documents' `skip_locked` claim of a build (a second worker skips a build another one holds).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from services.common.db import upgrade
from services.common.settings import load_settings

pytestmark = pytest.mark.postgres


def service_ctx(service: str, postgres, tmp_path) -> object:
    import importlib

    url = postgres.create_database(f"uwagi_conc_{service}")
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path / "var"), f"{service.upper()}_DATABASE_URL": url})
    upgrade(service, url)
    return importlib.import_module(f"services.{service}.app").build(settings)


@pytest.fixture
def notify_ctx(postgres, tmp_path) -> Iterator[object]:
    ctx = service_ctx("notify", postgres, tmp_path)
    assert ctx.db.is_postgres
    yield ctx
    ctx.close()


@pytest.fixture
def documents_ctx(postgres, tmp_path) -> Iterator[object]:
    ctx = service_ctx("documents", postgres, tmp_path)
    assert ctx.db.is_postgres
    yield ctx
    ctx.close()


def an_event() -> SimpleNamespace:
    return SimpleNamespace(id=str(uuid.uuid4()), type="submission.received", correlation_id="UW/2026/000001")


def test_two_consumers_staging_one_cause_at_once_insert_one_row(notify_ctx):
    from services.notify.domain import Cause, Template
    from services.notify.handlers import stage_notification
    from services.notify.models import Notification

    cause = Cause("submission.received", "UW/2026/000001")
    first_inserted, results, errors = threading.Event(), {}, []

    def consumer(name: str, *, first: bool) -> None:
        try:
            with notify_ctx.db.transaction() as session:
                if not first:
                    first_inserted.wait(10)  # the other insert is in, uncommitted: this one's check sees nothing
                staged = stage_notification(session, an_event(), cause=cause, template=Template.SUBMISSION_RECEIPT,
                                            recipient="Anna@Example.org", language="pl", context={})
                results[name] = staged is not None
                if first:
                    first_inserted.set()
                    time.sleep(0.5)  # keep the row uncommitted while the other one inserts and waits on it
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=consumer, args=("first",), kwargs={"first": True}),
               threading.Thread(target=consumer, args=("second",), kwargs={"first": False})]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert results == {"first": True, "second": False}
    with notify_ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 1


def test_two_deliveries_of_one_notification_at_once_send_it_once(notify_ctx):
    from services.notify.domain import Cause, Template
    from services.notify.handlers import Delivery, deliver_notification, stage_notification
    from services.notify.models import Notification
    from services.notify.rendering import RenderedEmail

    with notify_ctx.db.transaction() as session:
        notification = stage_notification(
            session, an_event(), cause=Cause("submission.received", "UW/2026/000002"),
            template=Template.SUBMISSION_RECEIPT, recipient="anna@example.org", language="pl",
            context={})
        notification_id = notification.id

    sent, in_send = [], threading.Event()

    class SlowSender:
        def send(self, message, *, on_handover=None) -> None:
            in_send.set()
            time.sleep(0.5)  # the other delivery arrives while this one holds the row
            sent.append(message.data)
            on_handover()

    class PlainRenderer:  # the templates have their own tests; this one is about the lock
        def render(self, template, language, context) -> RenderedEmail:
            return RenderedEmail(subject="Potwierdzenie", text="Dziękujemy.\n", html="<p>Dziękujemy.</p>")

    outcomes, errors = [], []

    def task() -> None:
        try:
            outcomes.append(deliver_notification(notify_ctx, notification_id, sender=SlowSender(),
                                                 renderer=PlainRenderer()))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    first = threading.Thread(target=task)
    first.start()
    assert in_send.wait(10)
    second = threading.Thread(target=task)
    second.start()
    first.join(30)
    second.join(30)
    assert errors == []
    assert sorted(outcome.name for outcome in outcomes) == sorted([Delivery.SENT.name, Delivery.ALREADY_DONE.name])
    assert len(sent) == 1
    with notify_ctx.db.transaction() as session:
        assert session.get(Notification, notification_id).status == "sent"


def test_a_build_another_worker_holds_is_skipped_not_waited_for(documents_ctx):
    from services.documents.builds import claim
    from services.documents.models import ReportBuild

    build_id = str(uuid.uuid4())
    with documents_ctx.db.transaction() as session:
        session.add(ReportBuild(id=build_id, consultation_id=str(uuid.uuid4())))

    holding, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        with documents_ctx.db.transaction() as session:
            session.scalar(select(ReportBuild).where(ReportBuild.id == build_id).with_for_update())
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        assert claim(documents_ctx, ReportBuild, build_id) is None
        assert time.monotonic() - started < 5  # skipped at once, not after the other transaction ended
    finally:
        release.set()
        thread.join(10)

    claimed = claim(documents_ctx, ReportBuild, build_id)
    assert claimed is not None and claimed.state == "running" and claimed.attempts == 1
