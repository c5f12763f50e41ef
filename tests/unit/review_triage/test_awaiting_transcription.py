"""An e-mail intake staff must transcribe reaches review as one comment holding the mail's text: review says so on
the queue and the comment's page, and refuses a decision on it until `submission.transcribed` replaces it (a
decision on the placeholder would make intake refuse the transcription, leaving the whole mail as one comment)."""

from __future__ import annotations

import uuid

import pytest

from services.common.web import Conflict
from services.review import decisions
from services.review.domain import Decide
from services.review.models import ReviewComment
from tests.unit.review_triage.support import NOW, bearer, deliver, publish_consultation, staff


def mailed(ctx, consultation_id: str, *, needs_review: bool) -> tuple[str, dict]:
    comment_id = str(uuid.uuid4())
    header = {"submission_id": str(uuid.uuid4()), "consultation_id": consultation_id, "consultation_title": "Program",
              "reference": f"UW/2026/{uuid.uuid4().int % 10**6:06d}", "channel": "email", "received_at": NOW,
              "late": False, "status_url": "http://127.0.0.1/intake/status",
              "submitter": {"name": "Anna Nowak", "organization": None, "email": "anna@example.org",
                            "publish_consent": False, "kind": "person"}}
    deliver(ctx, "submission.received", {**header, **({"needs_review": True} if needs_review else {}), "comments": [
        {"comment_id": comment_id, "number": 1, "section": "",
         "proposal": "Dzień dobry, w § 5 proponuję dwa konkursy w roku."}]})
    return comment_id, header


def awaiting(ctx, comment_id: str) -> bool:
    with ctx.db.transaction() as session:
        return session.get(ReviewComment, comment_id).awaiting_transcription


def test_a_mail_awaiting_transcription_is_marked_and_refuses_a_decision_until_it_is_transcribed(client, ctx):
    consultation = publish_consultation(ctx)
    reviewer = staff(ctx, f"r-{uuid.uuid4().hex[:6]}@um.example", "coordinator")
    placeholder, header = mailed(ctx, consultation, needs_review=True)
    formed, _ = mailed(ctx, consultation, needs_review=False)  # a mail whose form was read: comments as sent
    assert awaiting(ctx, placeholder) and not awaiting(ctx, formed)

    headers = bearer(ctx, reviewer)
    queue = client.get("/review/queue", query_string={"consultation": consultation}, headers=headers)
    rows = queue.get_data(as_text=True).split("<tr data-row")[1:]
    assert len(rows) == 2 and [placeholder in row for row in rows if "do przepisania" in row] == [True]
    page = client.get(f"/review/comments/{placeholder}", headers=headers).get_data(as_text=True)
    assert "To treść e-maila, której pracownicy nie przepisali jeszcze na uwagi" in page
    assert "Decyzja będzie możliwa po przepisaniu e-maila." in page and 'name="decision"' not in page
    assert "To treść e-maila" not in client.get(f"/review/comments/{formed}", headers=headers).get_data(as_text=True)

    with pytest.raises(Conflict):
        decisions.decide(ctx, Decide(placeholder, "not_considered", "Nie dotyczy projektu."), reviewer)
    with pytest.raises(Conflict):  # a bulk decision is all or nothing: the comment beside it stays undecided too
        decisions.decide_many(ctx, [formed, placeholder], "rejected", "Niezgodne z ustawą.", None, reviewer)
    with ctx.db.transaction() as session:
        assert session.get(ReviewComment, formed).decision is None
    api = client.post(f"/review/api/v1/comments/{placeholder}/decision", headers=headers,
                      json={"decision": "not_considered", "justification": "Nie dotyczy projektu."})
    assert api.status_code == 409 and "not transcribed yet" in api.json["message"]

    deliver(ctx, "submission.transcribed", {
        **header, "transcribed_by": "recenzent@um.torun.pl", "transcribed_at": NOW,
        "comments": [{"comment_id": placeholder, "number": 1, "section": "§ 5", "proposal": "Dwa konkursy w roku."}]})
    assert not awaiting(ctx, placeholder)
    decisions.decide(ctx, Decide(placeholder, "rejected", "Jeden konkurs wystarcza."), reviewer)
    with ctx.db.transaction() as session:
        assert session.get(ReviewComment, placeholder).decision == "rejected"


def test_a_mail_staff_found_no_comments_in_leaves_review_with_its_notes_and_an_audit_entry(client, ctx):
    from sqlalchemy import func, select

    from services.common.events import new_envelope, parse_envelope
    from services.review.models import AuditEntry, CommentNote
    from services.review.triage_handlers import add_note

    consultation = publish_consultation(ctx)
    coordinator = staff(ctx, f"k-{uuid.uuid4().hex[:6]}@um.example", "coordinator")
    placeholder, header = mailed(ctx, consultation, needs_review=True)
    kept, _ = mailed(ctx, consultation, needs_review=False)
    add_note(ctx, placeholder, "Pyta o termin dyżuru.", coordinator)
    data = {"submission_id": header["submission_id"], "consultation_id": consultation,
            "reference": header["reference"], "comment_ids": [placeholder], "reason": "question", "note": "",
            "dismissed_by": "sekretariat@um.torun.pl", "dismissed_at": NOW}
    deliver(ctx, "submission.dismissed", data)
    deliver(ctx, "submission.dismissed", data)  # the same again, as a new envelope: nothing left to do, no error
    with ctx.db.transaction() as session:
        assert session.get(ReviewComment, placeholder) is None and session.get(ReviewComment, kept) is not None
        assert session.scalar(select(func.count()).select_from(CommentNote)) == 0
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "comment.dismissed"))
        assert (entry.subject, entry.actor, entry.details["reason"]) == (placeholder, "sekretariat@um.torun.pl",
                                                                         "question")
        assert entry.before["reference"] == header["reference"]
        # the note a coordinator wrote on the mail is not lost with it: the audit entry keeps it
        [note] = entry.before["notes"]
        assert (note["author"], note["body"]) == (coordinator.email, "Pyta o termin dyżuru.")
    headers = bearer(ctx, coordinator)
    audit_page = client.get(f"/review/audit?consultation={consultation}&lang=pl", headers=headers)
    assert f"{coordinator.email}: Pyta o termin dyżuru." in audit_page.get_data(as_text=True)
    found = client.get("/review/api/v1/queue", query_string={"consultation": consultation}, headers=headers).json
    assert [item["id"] for item in found["items"]] == [kept]
    assert client.get(f"/review/comments/{placeholder}", headers=headers).status_code == 404
    # one that comes before its submission waits for it (the dispatcher parks it) instead of being lost
    early = str(uuid.uuid4())
    from services.common.bus import TransientError
    from services.review.handlers import on_submission_dismissed
    with ctx.db.transaction() as session, pytest.raises(TransientError):
        on_submission_dismissed(parse_envelope(new_envelope("submission.dismissed", {**data, "comment_ids": [early]},
                                                            producer="intake")), session)


def test_a_reopened_mail_comes_back_as_a_new_placeholder_once_its_dismissal_has_landed(client, ctx):
    from sqlalchemy import select

    from services.common.bus import TransientError
    from services.common.events import new_envelope, parse_envelope
    from services.review.handlers import on_submission_reopened
    from services.review.models import AuditEntry

    consultation = publish_consultation(ctx)
    coordinator = staff(ctx, f"k-{uuid.uuid4().hex[:6]}@um.example", "coordinator")
    dismissed, header = mailed(ctx, consultation, needs_review=True)
    placeholder = str(uuid.uuid4())
    reopened = {**header, "needs_review": True, "dismissed_comment_ids": [dismissed],
                "reopened_by": "sekretariat@um.torun.pl", "reopened_at": NOW,
                "comments": [{"comment_id": placeholder, "number": 1, "section": "",
                              "proposal": "Dzień dobry, w § 5 proponuję dwa konkursy w roku."}]}
    # before the dismissal has landed it waits (parked by the dispatcher): the dismissed placeholder is still here
    with ctx.db.transaction() as session, pytest.raises(TransientError):
        on_submission_reopened(parse_envelope(new_envelope("submission.reopened", reopened, producer="intake")),
                               session)
    deliver(ctx, "submission.dismissed", {
        "submission_id": header["submission_id"], "consultation_id": consultation, "reference": header["reference"],
        "comment_ids": [dismissed], "reason": "question", "note": "", "dismissed_by": "sekretariat@um.torun.pl",
        "dismissed_at": NOW})
    deliver(ctx, "submission.reopened", reopened)
    deliver(ctx, "submission.reopened", reopened)  # the same again, as a new envelope: no second comment or entry
    assert awaiting(ctx, placeholder)
    with ctx.db.transaction() as session:
        assert session.get(ReviewComment, dismissed) is None
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "comment.reopened"))
        assert (entry.subject, entry.actor, entry.details["dismissed"]) == (
            placeholder, "sekretariat@um.torun.pl", [dismissed])
    headers = bearer(ctx, coordinator)
    found = client.get("/review/api/v1/queue", query_string={"consultation": consultation}, headers=headers).json
    assert [item["id"] for item in found["items"]] == [placeholder]
    page = client.get(f"/review/comments/{placeholder}", headers=headers).get_data(as_text=True)
    assert "To treść e-maila, której pracownicy nie przepisali jeszcze na uwagi" in page
    with pytest.raises(Conflict):
        decisions.decide(ctx, Decide(placeholder, "not_considered", "Nie dotyczy projektu."), coordinator)
    # a reopening whose submission review never saw (nor its dismissal) waits too, rather than adding a comment
    # that the late submission's placeholder would then sit beside
    with ctx.db.transaction() as session, pytest.raises(TransientError):
        on_submission_reopened(parse_envelope(new_envelope("submission.reopened", {
            **reopened, "dismissed_comment_ids": [str(uuid.uuid4())],
            "comments": [{**reopened["comments"][0], "comment_id": str(uuid.uuid4())}]}, producer="intake")), session)
