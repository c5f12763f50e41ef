"""`submission.consent_changed` in documents: reports built from then on name the person only with consent, in
whatever order the events come; a withdrawal after the results were published is shown to the coordinator, and
the new publication replaces the earlier one, whose files lead to the new ones."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from html import unescape

import pytest
from sqlalchemy import select

from services.common.bus import TransientError
from services.common.events import new_envelope, parse_envelope
from services.documents import handlers
from services.documents.models import CommentView
from tests.support.infra import wait_until
from tests.unit.documents_service.support import (FINAL_TEXT, QUOTE, decide, deliver, outbox, publish_consultation,
                                                   staff, submit, upload)
from tests.unit.documents_service.test_documents_publishing import api, build_report, complete_review


def consent_changed(ctx, consultation_id: str, reference: str, publish_consent: bool, revision: int,
                    changed_at: datetime | None = None) -> None:
    deliver(ctx, "submission.consent_changed", {
        "submission_id": str(uuid.uuid4()), "consultation_id": consultation_id, "reference": reference,
        "publish_consent": publish_consent, "revision": revision,
        "changed_at": changed_at or datetime.now(timezone.utc), "via": "status_page"}, "intake")


def consents(ctx, reference: str) -> list[bool]:
    with ctx.db.transaction() as session:
        return [c.publish_consent for c in session.scalars(
            select(CommentView).where(CommentView.reference == reference).order_by(CommentView.number))]


def test_the_newest_consent_wins_whatever_order_the_events_come_in(ctx):
    consultation_id = publish_consultation(ctx)
    reference, ids = submit(ctx, consultation_id, [{"section": "§ 1"}, {"section": "§ 2"}], consent=True)
    consent_changed(ctx, consultation_id, reference, False, 2)
    assert consents(ctx, reference) == [False, False]
    consent_changed(ctx, consultation_id, reference, False, 2)  # the same change under a new event id
    consent_changed(ctx, consultation_id, reference, True, 3)
    consent_changed(ctx, consultation_id, reference, False, 2)  # an older one, late
    assert consents(ctx, reference) == [True, True]


def test_a_change_that_overtakes_its_submission_or_a_correction_still_holds(ctx):
    consultation_id = publish_consultation(ctx)
    # the change is delivered before the submission it belongs to: retried until the comments have come
    early_reference = f"UW/2024/{uuid.uuid4().int % 10**6:06d}"
    early = parse_envelope(new_envelope("submission.consent_changed", {
        "submission_id": str(uuid.uuid4()), "consultation_id": consultation_id, "reference": early_reference,
        "publish_consent": False, "revision": 2, "changed_at": datetime.now(timezone.utc), "via": "status_page"},
        producer="intake"))
    with pytest.raises(TransientError), ctx.db.transaction() as session:
        handlers.on_submission_consent_changed(early, session)
    reference, ids = submit(ctx, consultation_id, [{"section": "§ 1"}], consent=True)
    consent_changed(ctx, consultation_id, reference, False, 2)
    # a correction made before the withdrawal, delivered after it, adds a comment with the consent it knew
    deliver(ctx, "submission.corrected", {
        "submission_id": str(uuid.uuid4()), "consultation_id": consultation_id, "consultation_title": "Program",
        "reference": reference, "channel": "letter", "received_at": datetime.now(timezone.utc), "late": False,
        "status_url": "http://127.0.0.1:8000/intake/status",
        "submitter": {"name": "Anna Nowak", "organization": None, "email": None, "publish_consent": True,
                      "kind": "person"},
        "comments": [{"comment_id": ids[0], "number": 1, "section": "§ 1", "proposal": "Zmienić brzmienie."},
                     {"comment_id": str(uuid.uuid4()), "number": 2, "section": "§ 4", "proposal": "Dodać pkt 3."}],
        "revision": 2, "removed_comment_ids": [], "transcribed_by": "k@um.example.pl",
        "transcribed_at": datetime.now(timezone.utc)}, "intake")
    assert consents(ctx, reference) == [False, False]
    # the early change, retried once its submission has arrived, applies
    deliver(ctx, "submission.received", {
        "submission_id": str(uuid.uuid4()), "consultation_id": consultation_id, "consultation_title": "Program",
        "reference": early_reference, "channel": "web", "received_at": datetime.now(timezone.utc), "late": False,
        "status_url": "http://127.0.0.1:8000/intake/status",
        "submitter": {"name": "Jan Kowalski", "organization": None, "email": None, "publish_consent": True,
                      "kind": "person"},
        "comments": [{"comment_id": str(uuid.uuid4()), "number": 1, "section": "§ 2", "proposal": "Skreślić."}]},
        "intake")
    assert consents(ctx, early_reference) == [True]
    with ctx.db.transaction() as session:
        handlers.on_submission_consent_changed(early, session)
    assert consents(ctx, early_reference) == [False]


def test_a_withdrawal_after_publication_is_shown_and_the_new_publication_replaces_the_old_files(ctx, client, worker):
    consultation_id = publish_consultation(ctx)
    named, ids = submit(ctx, consultation_id, [{"section": "§ 1"}], name="Zofia Wiśniewska", consent=True)
    decide(ctx, consultation_id, ids[0], named, "rejected")
    complete_review(ctx, consultation_id)
    first = build_report(client, ctx, consultation_id)
    published = client.post(api(f"/consultations/{consultation_id}/publications"), headers=staff(ctx),
                            json={"report_build_id": first["id"]})
    assert published.status_code == 201
    [event] = outbox(ctx, "report.published")
    old = {f["kind"]: f["public_url"].removeprefix(ctx.settings.public_url) for f in event["files"]}
    anonymous = client.application.test_client()
    assert "Zofia Wiśniewska" in anonymous.get(old["report_csv"]).get_data(as_text=True)

    console = f"/documents/consultations/{consultation_id}"
    assert "wycofał" not in unescape(client.get(console, headers=staff(ctx)).get_data(as_text=True))
    # withdrawn on the status page a day before the publication, but documents heard of it only after the report
    # had read its comments: the published files name her, so the coordinator is told all the same
    consent_changed(ctx, consultation_id, named, False, 2, changed_at=datetime.now(timezone.utc) - timedelta(days=1))
    page = unescape(client.get(console, headers=staff(ctx)).get_data(as_text=True))
    assert "Po publikacji wyników 1 osoba wycofała zgodę na publikację imienia i nazwiska:" in page
    assert named in page and "Zbuduj raport ponownie (3.) i opublikuj go" in page

    second = build_report(client, ctx, consultation_id)
    republished = client.post(api(f"/consultations/{consultation_id}/publications"), headers=staff(ctx),
                              json={"report_build_id": second["id"]})
    assert republished.status_code == 201
    new = {f["kind"]: f["public_url"].removeprefix(ctx.settings.public_url)
           for f in outbox(ctx, "report.published")[-1]["files"]}
    csv = anonymous.get(new["report_csv"]).get_data(as_text=True)
    assert "Zofia Wiśniewska" not in csv and "Osoba prywatna" in csv
    for kind, path in old.items():  # the outcome e-mails' links lead to the files that replaced them
        replaced = anonymous.get(path)
        assert (replaced.status_code, replaced.headers["Location"]) == (302, new[kind]), kind
        assert replaced.headers["Cache-Control"] == "no-cache"
    assert anonymous.get(new["report_docx"]).headers["Cache-Control"] == "public, max-age=3600"
    page = unescape(client.get(console, headers=staff(ctx)).get_data(as_text=True))
    assert "wycofała" not in page and "Zastąpiona późniejszą publikacją: jej pliki nie są już publiczne." in page
    assert page.count("raport-z-konsultacji.csv") == 1  # only the current publication's files are listed
    # the published table reads the new publication
    table = anonymous.get(f"/documents/c/{consultation_id}/comments").get_data(as_text=True)
    assert "Zofia Wiśniewska" not in table and named in table
    # consent given again: a publication without the name harms no one, nothing to publish again
    consent_changed(ctx, consultation_id, named, True, 3)
    assert "wycofał" not in unescape(client.get(console, headers=staff(ctx)).get_data(as_text=True))


def test_the_document_after_the_consultation_stays_public_through_a_new_publication(ctx, client, worker, draft):
    """Publishing again replaces the report; the new version, the same artifacts in both publications, stays."""
    consultation_id = publish_consultation(ctx)
    document_id = upload(client, ctx, draft, consultation_id=consultation_id).json["id"]
    reference, ids = submit(ctx, consultation_id, [{"section": "§ 5 ust. 2", "current_text": QUOTE}])
    decide(ctx, consultation_id, ids[0], reference, "accepted", FINAL_TEXT)
    complete_review(ctx, consultation_id)
    version = client.post(api(f"/documents/{document_id}/versions"), headers=staff(ctx))
    wait_until(lambda: client.get(api(f"/documents/{document_id}/builds/{version.json['id']}"),
                                  headers=staff(ctx)).json["state"] == "done", timeout=30, what="version 2")
    for _ in range(2):
        report = build_report(client, ctx, consultation_id)
        assert client.post(api(f"/consultations/{consultation_id}/publications"), headers=staff(ctx),
                           json={"report_build_id": report["id"]}).status_code == 201
    first, second = ({f["kind"]: f for f in event["files"]} for event in outbox(ctx, "report.published"))
    assert {"version_clean", "version_tracked"} <= set(first)
    anonymous = client.application.test_client()

    def path(described: dict) -> str:
        return described["public_url"].removeprefix(ctx.settings.public_url)

    assert anonymous.get(path(first["report_docx"])).headers["Location"] == path(second["report_docx"])
    for kind in ("version_clean", "version_tracked"):
        assert first[kind]["artifact_id"] == second[kind]["artifact_id"]
        assert anonymous.get(path(first[kind])).status_code == 200, kind
