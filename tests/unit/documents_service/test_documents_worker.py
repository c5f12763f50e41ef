"""Builds on the in-process worker: version and report tasks end to end, retries, sweeps and the demo document."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from types import SimpleNamespace

from docx import Document as WordDocument
from openpyxl import load_workbook

from services.common.db import utcnow
from services.common.storage import StorageUnavailable
from services.documents import drafts, handlers
from services.documents.models import ReportBuild, VersionBuild
from tests.support.infra import wait_until
from tests.unit.documents_service.support import (FINAL_TEXT, QUOTE, decide, outbox, publish_consultation, staff,
                                                   submit, upload)


def api(path: str) -> str:
    return f"/documents/api/v1{path}"


def finished(client, ctx, path: str):
    def check():
        row = client.get(api(path), headers=staff(ctx, "reviewer")).json
        return row if row["state"] in ("done", "failed") else None

    return wait_until(check, timeout=30, what=path)


def test_a_version_and_the_report_are_built_by_the_celery_worker_with_all_artifacts(ctx, client, draft, worker, tmp_path):
    consultation_id = publish_consultation(ctx)
    document_id = upload(client, ctx, draft, consultation_id=consultation_id, title="Program współpracy").json["id"]
    reference, ids = submit(ctx, consultation_id, [
        {"section": "§ 5 ust. 2", "current_text": QUOTE,
         "justification": "Kontakt: jan.przykladowy@example.org, tel. 601 234 567."},
        {"section": "w całym dokumencie", "current_text": ""},
        {"section": "§ 1", "current_text": ""}])
    decide(ctx, consultation_id, ids[0], reference, "accepted", FINAL_TEXT)
    decide(ctx, consultation_id, ids[1], reference, "partially_accepted", None, "Drugi nabór tylko w lipcu.")

    started = client.post(api(f"/documents/{document_id}/versions"), headers=staff(ctx))
    assert started.status_code == 202, started.json
    build = finished(client, ctx, f"/documents/{document_id}/builds/{started.json['id']}")
    assert build["state"] == "done" and build["progress"] == 100, build
    assert [v["number"] for v in client.get(api(f"/documents/{document_id}/versions"), headers=staff(ctx)).json] == [1, 2]

    published = client.post(api(f"/consultations/{consultation_id}/report"), headers=staff(ctx), json={})
    internal = client.post(api(f"/consultations/{consultation_id}/report"), headers=staff(ctx),
                           json={"language": "en", "internal": True})
    assert published.status_code == internal.status_code == 202
    report = finished(client, ctx, f"/reports/{published.json['id']}")
    internal_report = finished(client, ctx, f"/reports/{internal.json['id']}")
    assert report["state"] == internal_report["state"] == "done", (report, internal_report)
    assert report["comment_count"] == 2 and report["undecided_count"] == 1
    assert {e["format"] for e in report["exports"]} == {"docx", "xlsx", "csv"}
    assert report["sha256"] == next(e["sha256"] for e in report["exports"] if e["format"] == "docx")

    docx = client.get(api(f"/reports/{report['id']}/download"), headers=staff(ctx, "reviewer"))
    assert docx.status_code == 200 and docx.headers["ETag"].strip('"') == report["sha256"]
    assert re.search(r'filename="raport-z-konsultacji-[a-z0-9-]+-\d{4}-\d{2}-\d{2}\.docx"',
                     docx.headers["Content-Disposition"]), docx.headers["Content-Disposition"]
    cells = [cell.text for table in WordDocument(io.BytesIO(docx.data)).tables for row in table.rows for cell in row.cells]
    assert "§ 5 ust. 2 pkt 2" in cells  # the anchored unit's label, not the submitter's "§ 5 ust. 2"
    assert "w całym dokumencie" in cells  # unanchored: the submitter's own words
    assert "Drugi nabór tylko w lipcu." in cells and "uwzględniona częściowo" in [c.lower() for c in cells]
    assert "Osoba prywatna" in cells and not any("jan.przykladowy@example.org" in c for c in cells)
    table = WordDocument(io.BytesIO(docx.data)).tables[-1]
    header = [cell.text for cell in table.rows[0].cells]
    adopted = header.index("Przyjęte brzmienie")
    by_label = {row.cells[2].text: row.cells[adopted].text for row in table.rows[1:]}
    # The accepted comment carries the wording its decision adopted; the one decided without wording stays empty.
    assert by_label == {"§ 5 ust. 2 pkt 2": FINAL_TEXT, "w całym dokumencie": ""}

    rows = list(csv.reader(io.StringIO(client.get(api(f"/reports/{report['id']}/download?format=csv"),
                                                  headers=staff(ctx)).data.decode("utf-8-sig"))))
    assert rows[1][1] == f"{reference}#1" and rows[1][3] == "§ 5 ust. 2 pkt 2" and rows[1][4] == "Rozdział III"
    assert rows[0][-1] == "Przyjęte brzmienie" and rows[1][-1] == FINAL_TEXT
    xlsx = client.get(api(f"/reports/{internal_report['id']}/download?format=xlsx"), headers=staff(ctx))
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [str(cell.value) for row in sheet.iter_rows() for cell in row]
    assert "Anna Nowak" in values and any("jan.przykladowy@example.org" in v for v in values)  # internal edition

    # Only DOCX reports live under reports/<consultation>/; the exports have their own prefix.
    objects = ctx.settings.data_dir / "objects"
    assert {p.suffix for p in (objects / "reports" / consultation_id).iterdir()} == {".docx"}
    assert {p.suffix for p in (objects / "exports" / consultation_id).iterdir()} == {".xlsx", ".csv"}
    assert outbox(ctx, "report.published") == []  # a build makes files; publishing is a separate step


def test_build_tasks_are_late_acked_and_retry_only_storage_outages(ctx, worker):
    for name in ("documents.build_version", "documents.build_report"):
        task = ctx.celery.tasks[name]
        assert task.acks_late and task.reject_on_worker_lost
        assert task.autoretry_for == (StorageUnavailable,) and task.max_retries == 5 and task.retry_jitter


def test_a_task_due_later_runs_on_the_in_process_worker(ctx):
    """On `memory://` Celery has no event loop and runs tasks that are due later (a retry's countdown) from a
    timer thread of their own. That thread looked the task up in Celery's default app, not the service's,
    and dropped it as NotRegistered: a build retried after a storage outage never ran again."""
    import threading

    from services.common.runtime import ServiceWorker
    from services.documents.worker import worker_spec

    ran = threading.Event()

    @ctx.celery.task(name="documents.probe_later", shared=False)
    def probe() -> None:
        ran.set()

    running = ServiceWorker(ctx, worker_spec()).start_background()
    running.start_celery_thread()
    try:
        ctx.celery.send_task("documents.probe_later", queue="documents.tasks", countdown=0.3)
        assert ran.wait(15), "a task with a countdown never ran"
    finally:
        running.stop()


def test_a_build_whose_store_fails_once_is_retried_by_the_in_process_worker_and_completes(ctx, worker, monkeypatch):
    """The retry runs from Celery's timer thread here (no event loop on `memory://`); it used to look the
    task up in Celery's default app there and drop the retry as NotRegistered."""
    consultation_id = publish_consultation(ctx)
    real_put, failures = ctx.store.put, []

    def put_failing_once(key, data, content_type):
        if not failures:
            failures.append(key)
            raise StorageUnavailable("the store is restarting")
        return real_put(key, data, content_type)

    monkeypatch.setattr(ctx.store, "put", put_failing_once)
    build = handlers.request_report(ctx, consultation_id, language="pl", internal=False, actor="k")
    done = wait_until(lambda: (b := handlers.get_report(ctx, build.id)).state in ("done", "failed") and b,
                      timeout=30, what="the retried build")
    assert done.state == "done" and done.attempts == 2 and len(failures) == 1
    assert ctx.store.get(done.object_key, done.version_id)[:2] == b"PK"


def test_a_build_task_that_finds_the_build_being_built_looks_again_later_and_finds_it_done(ctx, worker, monkeypatch):
    """A copy of a build task that finds the build's key held (another worker builds it, or a killed one whose
    session has not ended yet) neither builds it a second time nor fails it: it looks again a little later."""
    import threading
    from contextlib import contextmanager

    from services.common import liveness
    from services.documents import builds, worker as documents_worker

    monkeypatch.setattr(documents_worker, "BUSY_RETRY_SECONDS", 0.2)
    found_busy, claimed = threading.Event(), builds.claimed

    @contextmanager
    def watched(*args):
        try:
            with claimed(*args) as row:
                yield row
        except builds.BuildBusy:
            found_busy.set()
            raise

    monkeypatch.setattr(builds, "claimed", watched)
    consultation_id = publish_consultation(ctx)
    with liveness.held(ctx.db, builds._namespace(ReportBuild), liveness.key_of("r-busy")) as other_builder:
        assert other_builder is not None
        with ctx.db.transaction() as session:
            session.add(ReportBuild(id="r-busy", consultation_id=consultation_id, state="pending"))
        ctx.enqueue(handlers.REPORT_TASK, "r-busy")
        assert found_busy.wait(15), "the task never ran"
        assert (handlers.get_report(ctx, "r-busy").state, handlers.get_report(ctx, "r-busy").attempts) == ("pending", 0)
    done = wait_until(lambda: (b := handlers.get_report(ctx, "r-busy")).state in ("done", "failed") and b,
                      timeout=30, what="the build, once its key is free")
    assert (done.state, done.attempts) == ("done", 1)


def test_a_build_that_raises_is_recorded_as_failed_not_left_running(ctx, worker, monkeypatch):
    consultation_id = publish_consultation(ctx)

    def broken(*args, **kwargs):
        raise ValueError("renderer exploded")

    monkeypatch.setitem(handlers.REPORT_FORMATS, "docx", (broken, "x", "report_docx"))
    build = handlers.request_report(ctx, consultation_id, language="pl", internal=False, actor="k")
    wait_until(lambda: handlers.get_report(ctx, build.id).state == "failed", timeout=30, what="failed build")
    assert "renderer exploded" in handlers.get_report(ctx, build.id).error


def test_sweeps_re_enqueue_stalled_version_and_report_builds(ctx, client, draft, monkeypatch):
    document_id = upload(client, ctx, draft).json["id"]
    old = utcnow() - timedelta(minutes=20)
    with ctx.db.transaction() as session:
        session.add(VersionBuild(id="v-stalled", document_id=document_id, state="running", parent_number=1, number=2,
                                 changes=[], unanchored=[], approved_by="P", approved_at=old, created_at=old,
                                 started_at=old))
        session.add(VersionBuild(id="v-fresh", document_id=document_id, state="pending", parent_number=1, number=2,
                                 changes=[], unanchored=[], approved_by="P", approved_at=old))
        session.add(ReportBuild(id="r-stalled", consultation_id="c", state="pending", created_at=old))
    enqueued = []
    monkeypatch.setattr(ctx, "enqueue", lambda task, *args: enqueued.append((task, *args)))
    drafts.requeue_stalled_version_builds(ctx)
    handlers.requeue_stalled_builds(ctx)
    assert enqueued == [("build_version", "v-stalled"), ("build_report", "r-stalled")]


def test_the_demo_document_is_uploaded_once_for_the_demo_consultation(ctx):
    from services.demo import load_demo_document

    system = SimpleNamespace(contexts={"documents": ctx})
    first = load_demo_document(system, "demo-consultation")
    again = load_demo_document(system, "demo-consultation")
    assert again.id == first.id and len(drafts.list_documents(ctx, "demo-consultation")) == 1
    [announced] = outbox(ctx, "document.version_created")
    assert announced["consultation_id"] == "demo-consultation"
    assert {"chapter", "paragraph", "section", "point", "letter"} <= {u["kind"] for u in announced["units"]}


def test_download_names_are_readable_slugs():
    from services.documents.handlers import slug

    assert slug("Wspólnie o programie współpracy z NGO na 2025 r. – II etap") == \
        "wspolnie-o-programie-wspolpracy-z-ngo-na-2025-r-ii-etap"
    assert slug("Łódź: Żółć & „cudzysłów”") == "lodz-zolc-cudzyslow"
    assert slug("") == "konsultacje"


def test_the_report_input_names_the_organiser_and_the_legal_basis_of_the_consultation():
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from services.documents.models import ConsultationView
    from services.documents.reporting import report_input

    view = ConsultationView(
        id="c-1", title="Wspólnie o programie", stage="II etap", channels=["web"], topics=[], duty_days=[],
        opens_at=datetime(2026, 11, 19, 8, tzinfo=timezone.utc), closes_at=datetime(2026, 12, 10, 22, tzinfo=timezone.utc),
        review_completed_at=datetime(2026, 12, 18, 12, tzinfo=timezone.utc),
        organiser="Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia",
        legal_basis="art. 5a ust. 1 ustawy o działalności pożytku publicznego i o wolontariacie",
        resolution="uchwała Rady Miasta Torunia w sprawie konsultowania projektów aktów prawa miejscowego")
    data, _ = report_input(view, [], tz=ZoneInfo("Europe/Warsaw"))
    consultation = data["consultation"]
    assert consultation["organizer"] == "Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia"
    assert consultation["legal_basis"].startswith("uchwała Rady Miasta Torunia w sprawie konsultowania")
    assert consultation["legal_basis"].endswith("o wolontariacie") and consultation["report_date"] == "2026-12-18"


def test_a_working_draft_is_dated_the_day_it_is_built_and_counts_what_it_leaves_out():
    """Not the consultation's closing day, which may be weeks ahead ("Data sporządzenia raportu: 11 grudnia")."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from services.documents.models import CommentView, ConsultationView
    from services.documents.reporting import report_input

    view = ConsultationView(id="c-1", title="Wspólnie o programie", stage="", channels=["web"], topics=[],
                            duty_days=[], opens_at=datetime(2026, 11, 19, 8, tzinfo=timezone.utc),
                            closes_at=datetime(2026, 12, 10, 22, tzinfo=timezone.utc), review_completed_at=None)
    comments = [CommentView(id=f"k-{n}", consultation_id="c-1", reference=f"UW/2026/00000{n}", number=1,
                            received_at=datetime(2026, 11, 20, tzinfo=timezone.utc), submitter_name="Anna",
                            submitter_kind="person", publish_consent=False, section="§ 1", current_text="",
                            proposal="Nowy zapis", justification="", channel="web",
                            decision="accepted" if n == 1 else None) for n in (1, 2, 3)]
    data, undecided = report_input(view, comments, tz=ZoneInfo("Europe/Warsaw"), working_draft=True,
                                   now=datetime(2026, 11, 27, 12, tzinfo=timezone.utc))
    assert undecided == 2 and data["consultation"]["undecided"] == 2
    assert data["consultation"]["report_date"] == "2026-11-27"
    assert len(data["comments"]) == 1


def test_the_read_model_keeps_the_organiser_legal_basis_and_resolution_from_the_event(ctx):
    from datetime import datetime, timezone

    from services.documents.handlers import on_consultation_published
    from services.documents.models import ConsultationView

    event = SimpleNamespace(data={
        "consultation_id": "c-organiser", "title": "Konsultacje", "stage": "", "channels": [], "topics": [],
        "duty_days": [], "contact_email": None, "opens_at": datetime(2026, 11, 19, tzinfo=timezone.utc),
        "closes_at": datetime(2026, 12, 10, tzinfo=timezone.utc), "organiser": "Prezydent Miasta Torunia",
        "legal_basis": "art. 5a ust. 1 ustawy", "resolution": "uchwała w sprawie konsultacji"})
    with ctx.db.transaction() as session:
        on_consultation_published(event, session)
    with ctx.db.transaction() as session:
        view = session.get(ConsultationView, "c-organiser")
        assert (view.organiser, view.legal_basis, view.resolution) == (
            "Prezydent Miasta Torunia", "art. 5a ust. 1 ustawy", "uchwała w sprawie konsultacji")


def test_the_report_input_carries_the_adopted_wording_of_accepted_comments_only(ctx):
    from zoneinfo import ZoneInfo

    from services.documents.models import CommentView, ConsultationView
    from services.documents.reporting import report_input

    consultation_id = publish_consultation(ctx)
    reference, ids = submit(ctx, consultation_id, [{"section": f"§ {n}", "current_text": ""} for n in (1, 2, 3)])
    decide(ctx, consultation_id, ids[0], reference, "accepted", f"  {FINAL_TEXT}\n")
    decide(ctx, consultation_id, ids[1], reference, "partially_accepted", "Nowe brzmienie § 2.")
    decide(ctx, consultation_id, ids[2], reference, "rejected")
    with ctx.db.transaction() as session:
        view = session.get(ConsultationView, consultation_id)
        comments = session.query(CommentView).filter_by(consultation_id=consultation_id).all()
        data, undecided = report_input(view, comments, tz=ZoneInfo("Europe/Warsaw"))
    assert undecided == 0
    assert {row["unit_label"]: row["adopted"] for row in data["comments"]} == {
        "§ 1": FINAL_TEXT, "§ 2": "Nowe brzmienie § 2.", "§ 3": ""}
