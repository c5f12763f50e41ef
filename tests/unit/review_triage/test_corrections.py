"""`submission.corrected` in review: staff corrected the comments they entered. A changed comment takes its new
text (audited with the old), a removed one leaves review with its notes, an added one joins as a new comment
entered as its siblings were; a revision older than the one held changes nothing, whatever the order."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from services.common.bus import TransientError
from services.common.events import new_envelope, parse_envelope
from services.review.handlers import on_submission_corrected
from services.review.models import AuditEntry, CommentNote, ReviewComment
from services.review.triage_handlers import add_note
from tests.unit.review_triage.support import NOW, bearer, deliver, publish_consultation, staff


def letter(consultation_id: str) -> dict:
    return {"submission_id": str(uuid.uuid4()), "consultation_id": consultation_id, "consultation_title": "Program",
            "reference": f"UW/2026/{uuid.uuid4().int % 10**6:06d}", "channel": "letter", "received_at": NOW,
            "late": False, "status_url": "http://127.0.0.1/intake/status",
            "submitter": {"name": "Anna Nowak", "organization": None, "email": None, "publish_consent": False,
                          "kind": "person"},
            "provenance": {"entered_by": "k@um.torun.pl", "entered_at": NOW}}


def comment(comment_id: str, number: int, proposal: str, section: str = "§ 5") -> dict:
    return {"comment_id": comment_id, "number": number, "section": section, "proposal": proposal}


def held(ctx, reference: str) -> list[tuple]:
    with ctx.db.transaction() as session:
        return [(c.id, c.number, c.proposal, c.text_revision, (c.provenance or {}).get("entered_by"))
                for c in session.scalars(select(ReviewComment).where(ReviewComment.reference == reference)
                                         .order_by(ReviewComment.number))]


def test_a_correction_changes_removes_and_adds_comments_and_an_older_one_changes_nothing(client, ctx):
    consultation = publish_consultation(ctx)
    coordinator = staff(ctx, f"k-{uuid.uuid4().hex[:6]}@um.example", "coordinator")
    header = letter(consultation)
    first, twice, added = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    deliver(ctx, "submission.received", {**header, "comments": [
        comment(first, 1, "Konkursy dwa razy w rku."), comment(twice, 2, "Konkursy dwa razy w rku.")]})
    add_note(ctx, twice, "Chyba wpisana dwa razy.", coordinator)
    correction = {**{k: v for k, v in header.items() if k != "provenance"},
                  "submitter": {**header["submitter"], "organization": "Fundacja Szeroka", "kind": "organization"},
                  "transcribed_by": "k@um.torun.pl", "transcribed_at": NOW, "revision": 2,
                  "removed_comment_ids": [twice],
                  "comments": [comment(first, 1, "Konkursy dwa razy w roku."), comment(added, 3, "Wkład 5%.", "§ 12")]}
    deliver(ctx, "submission.corrected", correction)
    deliver(ctx, "submission.corrected", correction)  # the same again, as a new envelope: nothing more
    assert held(ctx, header["reference"]) == [(first, 1, "Konkursy dwa razy w roku.", 2, "k@um.torun.pl"),
                                              (added, 3, "Wkład 5%.", 2, "k@um.torun.pl")]
    with ctx.db.transaction() as session:
        assert session.scalar(select(CommentNote).where(CommentNote.comment_id == twice)) is None
        entries = {e.action: e for e in session.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(["comment.corrected", "comment.removed"])))}
        assert entries["comment.corrected"].subject == first
        assert entries["comment.corrected"].before["proposal"] == "Konkursy dwa razy w rku."
        assert entries["comment.corrected"].after["proposal"] == "Konkursy dwa razy w roku."
        assert (entries["comment.removed"].subject, entries["comment.removed"].actor) == (twice, "k@um.torun.pl")
        assert {c.submitter_label for c in session.scalars(select(ReviewComment).where(
            ReviewComment.reference == header["reference"]))} == {"Fundacja Szeroka"}
    found = client.get("/review/api/v1/queue", query_string={"consultation": consultation},
                       headers=bearer(ctx, coordinator)).json
    assert sorted(item["id"] for item in found["items"]) == sorted([first, added])
    # a newer correction applies; the older one coming again late (parked, then retried) changes nothing: the
    # comment it adds stays removed, and the steps that place comments do not ask for the ones it names
    deliver(ctx, "submission.corrected", {**correction, "revision": 3, "removed_comment_ids": [added],
                                          "comments": [comment(first, 1, "Konkursy trzy razy w roku.")]})
    deliver(ctx, "submission.corrected", correction)
    assert held(ctx, header["reference"]) == [(first, 1, "Konkursy trzy razy w roku.", 3, "k@um.torun.pl")]


def test_a_correction_before_its_submission_waits_for_it(ctx):
    consultation = publish_consultation(ctx)
    header = letter(consultation)
    early = parse_envelope(new_envelope("submission.corrected", {
        **header, "transcribed_by": "k@um.torun.pl", "transcribed_at": NOW, "revision": 2,
        "comments": [comment(str(uuid.uuid4()), 1, "Poprawione.")]}, producer="intake"))
    with ctx.db.transaction() as session, pytest.raises(TransientError):
        on_submission_corrected(early, session)


def test_a_decision_taken_before_a_correction_is_flagged_for_a_check_against_the_new_text(client, ctx):
    from services.review import decisions
    from services.review.domain import Decide

    consultation = publish_consultation(ctx)
    reviewer = staff(ctx, f"r-{uuid.uuid4().hex[:6]}@um.example", "reviewer")
    header = letter(consultation)
    first = str(uuid.uuid4())
    deliver(ctx, "submission.received", {**header, "comments": [comment(first, 1, "Konkursy dwa razy w rku.")]})
    page = client.get(f"/review/comments/{first}", headers=bearer(ctx, reviewer)).get_data(as_text=True)
    assert "Popraw przepisane uwagi" in page  # entered by staff, no decision yet: the link to the correction
    register_link = f'href="/intake/staff/consultations/{consultation}/submissions/{header["submission_id"]}"'
    assert register_link in page and f"{header['reference']} w rejestrze zgłoszeń" in page
    decisions.decide(ctx, Decide(first, "rejected", "Jeden konkurs wystarcza."), reviewer)  # a proposal
    page = client.get(f"/review/comments/{first}", headers=bearer(ctx, reviewer)).get_data(as_text=True)
    assert "poprawiono w rejestrze zgłoszeń po podjęciu" not in page and "Popraw przepisane uwagi" not in page
    deliver(ctx, "submission.corrected", {
        **{k: v for k, v in header.items() if k != "provenance"}, "transcribed_by": "k@um.torun.pl",
        "transcribed_at": NOW, "revision": 2, "comments": [comment(first, 1, "Konkursy dwa razy w roku.")]})
    page = client.get(f"/review/comments/{first}", headers=bearer(ctx, reviewer)).get_data(as_text=True)
    assert "Treść uwagi poprawiono w rejestrze zgłoszeń po podjęciu tego rozstrzygnięcia" in page
    assert "Poprawiono przepisaną treść" in page  # the history's entry, with the wording before and after
