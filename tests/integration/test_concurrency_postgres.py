"""PostgreSQL-only concurrency paths, run with real concurrency (threads, each on its own connection).

On SQLite every transaction holds the database's write lock, so these branches never run there:
- notify's row lock while a message is handed to the SMTP server (two tasks for one notification send once);
- notify's duplicate-insert race on the unique cause key (the loser's savepoint is undone, nothing else);
- documents' `skip_locked` claim of a build (a second worker skips a build another one holds);
- documents' builder key (an advisory lock): a second copy of a build task leaves a build being built alone,
  a build whose builder died is built by the next copy, and the sweep re-sends only builds nobody builds;
- review's morning digest: workers sweeping at once send each staff user one digest a day.
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
from tests.support.infra import wait_until

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


def a_report_build(documents_ctx) -> str:
    from datetime import datetime, timezone

    from services.documents.models import ConsultationView, ReportBuild

    consultation_id, build_id = str(uuid.uuid4()), str(uuid.uuid4())
    with documents_ctx.db.transaction() as session:
        session.add(ConsultationView(id=consultation_id, title="Konsultacje", opens_at=datetime(2026, 11, 19, tzinfo=timezone.utc),
                                     closes_at=datetime(2026, 12, 10, tzinfo=timezone.utc)))
        session.add(ReportBuild(id=build_id, consultation_id=consultation_id, artifacts=[]))
    return build_id


def test_a_second_copy_of_a_build_task_leaves_the_build_to_the_worker_running_it(documents_ctx, monkeypatch):
    """GIVEN a report build whose task was sent twice (the sweep re-sends a build left pending in a long queue)
    WHEN the second copy starts while another worker is rendering the build
    THEN it leaves the build alone: the build is done once, with one attempt and one set of files."""
    from services.documents import builds, handlers
    from services.documents.models import ReportBuild

    build_id = a_report_build(documents_ctx)
    rendering, release = threading.Event(), threading.Event()
    render, media_type, kind = handlers.REPORT_FORMATS["docx"]

    def render_slowly_in_the_first_worker(*args, **kwargs):
        if threading.current_thread().name == "first-worker":
            rendering.set()
            release.wait(30)
        return render(*args, **kwargs)

    monkeypatch.setitem(handlers.REPORT_FORMATS, "docx", (render_slowly_in_the_first_worker, media_type, kind))
    first = threading.Thread(target=handlers.run_report_build, args=(documents_ctx, build_id), name="first-worker")
    first.start()
    try:
        assert rendering.wait(30)
        with pytest.raises(builds.BuildBusy):  # the second copy of the task: the worker task looks again later
            handlers.run_report_build(documents_ctx, build_id)
        with documents_ctx.db.transaction() as session:
            assert session.get(ReportBuild, build_id).state == "running"
    finally:
        release.set()
        first.join(60)
    with documents_ctx.db.transaction() as session:
        build = session.get(ReportBuild, build_id)
        assert (build.state, build.attempts) == ("done", 1)
        assert sorted(a.kind for a in build.artifacts) == ["report_csv", "report_docx", "report_xlsx"]


def a_builder_in_another_process(documents_ctx, build_id: str, *, started_minutes_ago: int = 0):
    """A worker in another process that holds the build's key and has claimed it: a connection of its own."""
    import psycopg

    from services.common import liveness
    from services.documents import builds
    from services.documents.models import ReportBuild

    url = documents_ctx.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("SELECT pg_advisory_lock(%s, %s)", (builds._namespace(ReportBuild), liveness.key_of(build_id)))
    conn.execute("UPDATE report_builds SET state = 'running', attempts = 1, "
                 "started_at = now() - make_interval(mins => %s) WHERE id = %s", (started_minutes_ago, build_id))
    return conn


def test_a_build_whose_builder_died_is_built_by_the_next_copy_of_its_task(documents_ctx):
    """GIVEN a report build claimed by a worker in another process
    WHEN a copy of its task runs while that worker lives, and again after it died (its connection gone with it)
    THEN the first copy leaves the build alone (to look again later) and the second builds it, on its second attempt."""
    from services.common import liveness
    from services.documents import builds, handlers
    from services.documents.models import ReportBuild

    build_id = a_report_build(documents_ctx)
    builder = a_builder_in_another_process(documents_ctx, build_id)
    with pytest.raises(builds.BuildBusy):
        handlers.run_report_build(documents_ctx, build_id)
    with documents_ctx.db.transaction() as session:
        assert (session.get(ReportBuild, build_id).state, session.get(ReportBuild, build_id).attempts) == ("running", 1)
    builder.close()  # killed: PostgreSQL ends its session and frees its key, a moment later
    building = liveness.holders(documents_ctx.db, builds._namespace(ReportBuild))

    def key_free() -> bool:
        with documents_ctx.db.engine.connect() as conn:
            return liveness.key_of(build_id) not in building(conn)

    wait_until(key_free, timeout=10, what="PostgreSQL to end the dead builder's session")
    handlers.run_report_build(documents_ctx, build_id)
    with documents_ctx.db.transaction() as session:
        build = session.get(ReportBuild, build_id)
        assert (build.state, build.attempts) == ("done", 2) and len(build.artifacts) == 3


def test_the_sweep_re_sends_a_running_build_only_when_nobody_builds_it(documents_ctx):
    """A running build is re-sent by the sweep when its key is free and it has waited longer than a storage retry;
    never while a worker (in any process) holds its key, however long it has been running."""
    from services.documents import builds
    from services.documents.models import ReportBuild

    long_running, just_started = a_report_build(documents_ctx), a_report_build(documents_ctx)
    builder = a_builder_in_another_process(documents_ctx, long_running, started_minutes_ago=30)
    fresh = a_builder_in_another_process(documents_ctx, just_started)
    fresh.close()  # nobody holds it, but it may be waiting for a retry's countdown
    try:
        assert builds.stalled(documents_ctx, ReportBuild) == []
    finally:
        builder.close()
    wait_until(lambda: builds.stalled(documents_ctx, ReportBuild), timeout=10, what="the dead builder's session ended")
    assert builds.stalled(documents_ctx, ReportBuild) == [long_running]


def test_two_review_workers_sweeping_the_morning_digests_at_once_send_each_user_one(postgres, tmp_path):
    """The digest's once-a-day row is the staff_digests primary key: workers racing on it emit one event a user."""
    from dataclasses import replace
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from services.review import identity
    from services.review.digests import send_digests
    from services.review.models import Outbox, StaffDigest
    from tests.unit.review_decisions import support

    ctx = service_ctx("review", postgres, tmp_path)
    try:
        ctx.settings = replace(ctx.settings, staff_digest_hour=7)
        for number in range(3):
            identity.create_staff_user(ctx, f"koordynator{number}@um.torun.pl", "coordinator",
                                       password=f"długie hasło numer {number}")
        support.submit(ctx, support.publish_consultation(ctx), ["§ 1", "§ 2"])
        monday = datetime(2026, 11, 30, 7, 30, tzinfo=ZoneInfo("Europe/Warsaw"))
        start, sent, failures = threading.Barrier(4), [], []

        def sweep() -> None:
            start.wait()
            try:
                sent.append(send_digests(ctx, now=monday))
            except Exception as exc:  # a race must never fail the sweep
                failures.append(exc)

        threads = [threading.Thread(target=sweep) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert failures == [] and sum(sent) == 3
        with ctx.db.transaction() as session:
            events = session.scalars(select(Outbox).where(Outbox.event_type == "staff.digest")).all()
            assert sorted(e.envelope["data"]["email"] for e in events) == [
                f"koordynator{n}@um.torun.pl" for n in range(3)]
            assert session.scalar(select(func.count()).select_from(StaffDigest)) == 3
    finally:
        ctx.close()
