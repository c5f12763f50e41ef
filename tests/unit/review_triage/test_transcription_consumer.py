"""`submission.transcribed` in review: the placeholder takes the transcribed text (and is found, anchored and
grouped by it), further comments are added, the change is audited, and a redelivery changes nothing."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from services.review.models import AuditEntry, GroupFingerprint, ReviewComment
from tests.unit.review_triage.support import NOW, bearer, deliver, publish_consultation, publish_draft, staff


def test_the_placeholder_is_replaced_and_new_comments_added_once(client, ctx):
    consultation = publish_consultation(ctx)
    publish_draft(ctx, consultation)
    placeholder, submission, reference = str(uuid.uuid4()), str(uuid.uuid4()), f"UW/2026/{uuid.uuid4().int % 10**6:06d}"
    header = {"submission_id": submission, "consultation_id": consultation, "consultation_title": "Program",
              "reference": reference, "channel": "email", "received_at": NOW, "late": False,
              "status_url": "http://127.0.0.1/intake/status",
              "submitter": {"name": "Anna Nowak", "organization": None, "email": "anna@example.org",
                            "publish_consent": False, "kind": "person"},
              "signed_by": ["Anna Nowak (Stowarzyszenie Przyjaciół Torunia)"]}
    deliver(ctx, "submission.received", {**header, "needs_review": True, "comments": [
        {"comment_id": placeholder, "number": 1, "section": "", "proposal": "[Uwagi w załącznikach: skan.pdf]"}]})
    added = str(uuid.uuid4())
    transcribed = {**header, "transcribed_by": "recenzent@um.torun.pl", "transcribed_at": NOW,
                   "provenance": {"entered_by": "recenzent@um.torun.pl", "entered_at": NOW},
                   "comments": [
                       {"comment_id": placeholder, "number": 1, "section": "§ 5 ust. 2 pkt 2",
                        "proposal": "Dotacje wieloletnie dla organizacji."},
                       {"comment_id": added, "number": 2, "section": "§ 10", "proposal": "Więcej środków."}]}
    deliver(ctx, "submission.transcribed", transcribed)
    deliver(ctx, "submission.transcribed", transcribed)  # redelivered as a new envelope: nothing changes
    with ctx.db.transaction() as session:
        first, second = session.get(ReviewComment, placeholder), session.get(ReviewComment, added)
        assert (first.section, first.proposal, first.unit_id) == ("§ 5 ust. 2 pkt 2", "Dotacje wieloletnie dla organizacji.",
                                                                  "u6")
        assert (second.number, second.reference, second.channel) == (2, reference, "email")
        assert first.provenance["entered_by"] == "recenzent@um.torun.pl"
        # who signed the mailed files stays beside who transcribed them, on the new comment too
        assert first.provenance["signed_by"] == second.provenance["signed_by"] == [
            "Anna Nowak (Stowarzyszenie Przyjaciół Torunia)"]
        assert session.get(GroupFingerprint, placeholder) is not None and session.get(GroupFingerprint, added)
        audits = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "comment.transcribed",
                                                               AuditEntry.subject == placeholder)))
        assert len(audits) == 1 and audits[0].before["proposal"] == "[Uwagi w załącznikach: skan.pdf]"
    headers = bearer(ctx, staff(ctx, f"r-{uuid.uuid4().hex[:6]}@um.example"))
    found = client.get("/review/api/v1/queue", query_string={"q": "dotacje wieloletnie", "consultation": consultation},
                       headers=headers).json["items"]
    assert [c["id"] for c in found] == [placeholder]


def test_a_sender_staff_corrected_from_the_letter_labels_the_comments_in_review(ctx):
    consultation = publish_consultation(ctx)
    placeholder, submission = str(uuid.uuid4()), str(uuid.uuid4())
    header = {"submission_id": submission, "consultation_id": consultation, "consultation_title": "Program",
              "reference": f"UW/2026/{uuid.uuid4().int % 10**6:06d}", "channel": "email", "received_at": NOW,
              "late": False, "status_url": "http://127.0.0.1/intake/status",
              "submitter": {"name": "Biuro Federacji", "organization": None, "email": "biuro@federacja.example.org",
                            "publish_consent": False, "kind": "person"}}
    deliver(ctx, "submission.received", {**header, "needs_review": True, "comments": [
        {"comment_id": placeholder, "number": 1, "section": "", "proposal": "[Uwagi w załącznikach: pismo.pdf]"}]})
    corrected = {**header["submitter"], "organization": "Kujawsko-Pomorska Federacja Organizacji Pozarządowych",
                 "kind": "organization"}
    deliver(ctx, "submission.transcribed", {
        **header, "submitter": corrected, "transcribed_by": "recenzent@um.torun.pl", "transcribed_at": NOW,
        "comments": [{"comment_id": placeholder, "number": 1, "section": "§ 12 ust. 19", "proposal": "Zatwierdza."}]})
    with ctx.db.transaction() as session:
        comment = session.get(ReviewComment, placeholder)
        assert (comment.submitter_kind, comment.submitter_label) == (
            "organization", "Kujawsko-Pomorska Federacja Organizacji Pozarządowych")
