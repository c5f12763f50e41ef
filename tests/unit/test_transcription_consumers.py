"""`submission.transcribed` in documents and notify: the report and the outcome e-mails use the transcribed
comments; notify sends nothing new and keeps the receipt's status link for the added comments."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from datetime import UTC, datetime

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from services.common.events import new_envelope, parse_envelope

NOW = datetime.now(UTC)


SENDER = {"name": "Anna Nowak", "organization": None, "email": "anna@example.org", "publish_consent": False,
          "kind": "person"}
# staff read the organisation in the letter: the mail came from its office's mailbox
CORRECTED = {**SENDER, "name": "Biuro Federacji", "organization": "Kujawsko-Pomorska Federacja Organizacji Pozarządowych",
             "kind": "organization"}


def events(placeholder: str, added: str, transcribed_by: dict = SENDER) -> tuple:
    header = {"submission_id": "s-1", "consultation_id": "c-1", "consultation_title": "Program",
              "reference": "UW/2026/000042", "channel": "email", "received_at": NOW, "late": False,
              "status_url": "http://127.0.0.1/intake/status?reference=UW%2F2026%2F000042&token=secret",
              "submitter": SENDER}
    received = new_envelope("submission.received", {**header, "needs_review": True, "comments": [
        {"comment_id": placeholder, "number": 1, "section": "", "proposal": "[skan]"}]}, producer="intake")
    transcribed = new_envelope("submission.transcribed", {
        **header, "submitter": transcribed_by,
        "status_url": "http://127.0.0.1/intake/status?reference=UW%2F2026%2F000042",
        "transcribed_by": "r@um.torun.pl", "transcribed_at": NOW, "comments": [
            {"comment_id": placeholder, "number": 1, "section": "§ 5", "proposal": "Dwa konkursy."},
            {"comment_id": added, "number": 2, "section": "§ 10", "proposal": "Więcej środków."}]}, producer="intake")
    return parse_envelope(received), parse_envelope(transcribed)


@contextmanager
def applied(handlers: Any, base: Any, received: Any, transcribed: Any) -> Iterator[Session]:
    """A service's read model on in-memory SQLite after the submission and its transcription (delivered twice)."""
    engine = create_engine("sqlite://")
    base.metadata.create_all(engine)
    with Session(engine) as session:
        handlers.on_submission_received(received, session)
        session.flush()
        for _ in range(2):
            handlers.on_submission_transcribed(transcribed, session)
            session.flush()
        yield session


def test_documents_report_the_transcribed_comments():
    from services.documents import handlers
    from services.documents.models import Base, CommentView

    placeholder, added = str(uuid.uuid4()), str(uuid.uuid4())
    with applied(handlers, Base, *events(placeholder, added)) as session:
        rows = [(c.number, c.section, c.proposal) for c in session.scalars(select(CommentView).order_by(CommentView.number))]
    assert rows == [(1, "§ 5", "Dwa konkursy."), (2, "§ 10", "Więcej środków.")]


def test_notify_knows_the_transcribed_comments_sends_nothing_new_and_keeps_the_status_link():
    from services.notify import handlers
    from services.notify.models import Base, KnownComment, Notification

    placeholder, added = str(uuid.uuid4()), str(uuid.uuid4())
    with applied(handlers, Base, *events(placeholder, added)) as session:
        known = {c.comment_id: c for c in session.scalars(select(KnownComment))}
        assert (known[placeholder].proposal, known[added].proposal) == ("Dwa konkursy.", "Więcej środków.")
        assert known[added].status_url.endswith("token=secret") and known[added].recipient == "anna@example.org"
        assert [n.template for n in session.scalars(select(Notification))] == ["submission_receipt"]


def test_a_sender_staff_corrected_reaches_the_report_the_review_queue_and_the_outcome_greeting():
    from services.documents import handlers as documents
    from services.documents.models import Base as DocumentsBase, CommentView
    from services.notify import handlers as notify
    from services.notify.models import Base as NotifyBase, KnownComment

    placeholder, added = str(uuid.uuid4()), str(uuid.uuid4())
    with applied(documents, DocumentsBase, *events(placeholder, added, CORRECTED)) as session:
        rows = {(c.submitter_name, c.organization, c.submitter_kind) for c in session.scalars(select(CommentView))}
    assert rows == {("Biuro Federacji", "Kujawsko-Pomorska Federacja Organizacji Pozarządowych", "organization")}
    with applied(notify, NotifyBase, *events(placeholder, added, CORRECTED)) as session:
        assert {c.recipient_name for c in session.scalars(select(KnownComment))} == {"Biuro Federacji"}


def dismissed(placeholder: str) -> Any:
    return parse_envelope(new_envelope("submission.dismissed", {
        "submission_id": "s-1", "consultation_id": "c-1", "reference": "UW/2026/000042", "comment_ids": [placeholder],
        "reason": "booking", "note": "Zapis na dyżur 8 października.", "dismissed_by": "r@um.torun.pl",
        "dismissed_at": NOW}, producer="intake"))


def test_a_mail_with_no_comments_leaves_the_report_and_the_outcome_e_mails_and_waits_for_its_submission():
    import pytest

    from services.common.bus import TransientError
    from services.documents import handlers as documents
    from services.documents.models import Base as DocumentsBase, CommentAnchor, CommentView
    from services.notify import handlers as notify
    from services.notify.models import Base as NotifyBase, KnownComment, Notification

    placeholder = str(uuid.uuid4())
    received, _transcribed = events(placeholder, str(uuid.uuid4()))
    for handlers, base, rows in ((documents, DocumentsBase, (CommentView, CommentAnchor)),
                                 (notify, NotifyBase, (KnownComment,))):
        engine = create_engine("sqlite://")
        base.metadata.create_all(engine)
        with Session(engine) as session:
            with pytest.raises(TransientError):  # before its submission: retried until that has landed
                handlers.on_submission_dismissed(dismissed(placeholder), session)
            handlers.on_submission_received(received, session)
            if handlers is documents:
                session.add(CommentAnchor(comment_id=placeholder, document_id="d-1", version=1, confidence=0.0))
            session.flush()
            handlers.on_submission_dismissed(dismissed(placeholder), session)
            session.flush()
            if handlers is documents:
                assert [session.scalars(select(model)).all() for model in rows] == [[] for _ in rows]
            if handlers is notify:  # kept, marked, for the receipt's link should the mail be reopened
                assert [(c.comment_id, c.dismissed) for c in session.scalars(select(KnownComment))] == [
                    (placeholder, True)]
                # the receipt staged on arrival stays: it went out before anyone read the mail
                assert [n.template for n in session.scalars(select(Notification))] == ["submission_receipt"]


def reopened(dismissed_id: str, placeholder: str) -> Any:
    return parse_envelope(new_envelope("submission.reopened", {
        "submission_id": "s-1", "consultation_id": "c-1", "consultation_title": "Program",
        "reference": "UW/2026/000042", "channel": "email", "received_at": NOW, "late": False,
        "status_url": "http://127.0.0.1/intake/status?reference=UW%2F2026%2F000042", "submitter": SENDER,
        "needs_review": True, "dismissed_comment_ids": [dismissed_id], "reopened_by": "r@um.torun.pl",
        "reopened_at": NOW, "comments": [{"comment_id": placeholder, "number": 1, "section": "", "proposal": "[skan]"}],
    }, producer="intake"))


def decided(comment_id: str) -> Any:
    return parse_envelope(new_envelope("comment.decided", {
        "comment_id": comment_id, "consultation_id": "c-1", "reference": "UW/2026/000042", "decision": "rejected",
        "justification": "Nie.", "final_text": None, "revision": 1, "decided_at": NOW,
        "decided_by": "r@um.torun.pl"}, producer="review"))


def test_a_reopened_mail_is_a_new_comment_in_the_report_and_keeps_the_receipts_link_for_its_outcome():
    from services.documents import handlers as documents
    from services.documents.models import Base as DocumentsBase, CommentView
    from services.notify import handlers as notify
    from services.notify.models import Base as NotifyBase, KnownComment, Notification

    first, placeholder = str(uuid.uuid4()), str(uuid.uuid4())
    received, _transcribed = events(first, str(uuid.uuid4()))
    for handlers, base in ((documents, DocumentsBase), (notify, NotifyBase)):
        engine = create_engine("sqlite://")
        base.metadata.create_all(engine)
        with Session(engine) as session:
            handlers.on_submission_received(received, session)
            session.flush()
            handlers.on_submission_dismissed(dismissed(first), session)
            for _ in range(2):  # and once more, as a redelivery
                for handle in handlers.EVENT_HANDLERS["submission.reopened"]:
                    handle(reopened(first, placeholder), session)
                session.flush()
            if handlers is documents:
                assert [c.id for c in session.scalars(select(CommentView))] == [placeholder]
                continue
            known = {c.comment_id: c for c in session.scalars(select(KnownComment))}
            assert (known[first].dismissed, known[placeholder].dismissed) == (True, False)
            assert known[placeholder].status_url.endswith("token=secret")  # the receipt's link, with its code
            assert known[placeholder].recipient == "anna@example.org"
            assert [n.template for n in session.scalars(select(Notification))] == ["submission_receipt"]
            # a decision on the dismissed placeholder (none can be taken; a defence) is never mailed
            session.add(notify.ConsultationPrefs(id="c-1", title="Program", outcome_notice=notify.domain.PER_DECISION))
            session.flush()
            notify.on_comment_decided(decided(first), session)
            notify.on_comment_decided(decided(placeholder), session)
            session.flush()
            assert sorted(n.template for n in session.scalars(select(Notification))) == [
                "comment_decision", "submission_receipt"]


def corrected(placeholder: str, added: str, removed: list[str], revision: int, proposal: str) -> Any:
    return parse_envelope(new_envelope("submission.corrected", {
        "submission_id": "s-1", "consultation_id": "c-1", "consultation_title": "Program",
        "reference": "UW/2026/000042", "channel": "email", "received_at": NOW, "late": False,
        "status_url": "http://127.0.0.1/intake/status?reference=UW%2F2026%2F000042", "submitter": CORRECTED,
        "transcribed_by": "r@um.torun.pl", "transcribed_at": NOW, "revision": revision,
        "removed_comment_ids": removed, "comments": [
            {"comment_id": placeholder, "number": 1, "section": "§ 5", "proposal": proposal},
            {"comment_id": added, "number": 3, "section": "§ 12", "proposal": "Wkład własny 5%."}]},
        producer="intake"))


def test_a_correction_reaches_the_report_and_the_outcome_e_mails_whatever_order_the_events_come_in():
    """Received, transcribed (rev 2: the placeholder and a second comment), corrected (rev 3: the second removed,
    a third added); the transcription coming again after the correction changes nothing."""
    import pytest

    from services.common.bus import TransientError
    from services.documents import handlers as documents
    from services.documents.models import Base as DocumentsBase, CommentAnchor, CommentView
    from services.notify import handlers as notify
    from services.notify.models import Base as NotifyBase, KnownComment, Notification

    placeholder, second, third = (str(uuid.uuid4()) for _ in range(3))
    received, transcribed = events(placeholder, second)
    correction = corrected(placeholder, third, [second], 3, "Dwa konkursy w roku.")
    for handlers, base in ((documents, DocumentsBase), (notify, NotifyBase)):
        engine = create_engine("sqlite://")
        base.metadata.create_all(engine)
        with Session(engine) as session:
            with pytest.raises(TransientError):  # before its submission: retried until that has landed
                for handle in handlers.EVENT_HANDLERS["submission.corrected"]:
                    handle(correction, session)
            handlers.on_submission_received(received, session)
            handlers.on_submission_transcribed(transcribed, session)
            if handlers is documents:
                session.add(CommentAnchor(comment_id=second, document_id="d-1", version=1, confidence=0.0))
            session.flush()
            for event in (correction, correction, transcribed):  # a redelivery, then the older one late
                for handle in handlers.EVENT_HANDLERS[event.type]:
                    handle(event, session)
                session.flush()
            if handlers is documents:
                rows = [(c.id, c.proposal, c.organization, c.text_revision)
                        for c in session.scalars(select(CommentView).order_by(CommentView.number))]
                assert rows == [(placeholder, "Dwa konkursy w roku.", CORRECTED["organization"], 3),
                                (third, "Wkład własny 5%.", CORRECTED["organization"], 3)]
                assert session.scalars(select(CommentAnchor)).all() == []
                continue
            known = {c.comment_id: c for c in session.scalars(select(KnownComment))}
            assert (known[placeholder].proposal, known[placeholder].text_revision) == ("Dwa konkursy w roku.", 3)
            assert known[second].dismissed and not known[third].dismissed
            assert known[third].status_url.endswith("token=secret")  # the receipt's link, with its code
            assert known[third].recipient_name == "Biuro Federacji"
            assert [n.template for n in session.scalars(select(Notification))] == ["submission_receipt"]


def test_the_sender_is_sent_the_comments_as_registered_once_per_revision_when_staff_ask():
    """Staff ticked "send the sender the comments" on the transcription and on one correction: one e-mail for
    each, in the receipt's layout, with the receipt's status link; a redelivery or a late older event sends
    nothing more, and a correction nobody asked to tell sends nothing."""
    from zoneinfo import ZoneInfo

    from services.notify import handlers
    from services.notify.models import Base, Notification
    from services.notify.rendering import Renderer

    placeholder, second, third = (str(uuid.uuid4()) for _ in range(3))
    received, transcribed = events(placeholder, second)
    transcribed = parse_envelope(new_envelope("submission.transcribed", {**transcribed.data, "tell_sender": True},
                                              producer="intake"))
    told = corrected(placeholder, third, [second], 3, "Dwa konkursy w roku.")
    told = parse_envelope(new_envelope("submission.corrected", {**told.data, "tell_sender": True}, producer="intake"))
    quiet = corrected(placeholder, third, [second], 4, "Dwa konkursy w każdym roku.")
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        handlers.on_submission_received(received, session)
        for event in (transcribed, transcribed, told, told, transcribed, quiet):
            handlers.on_submission_transcribed(event, session)
            session.flush()
        copies = {n.cause_event_type: n for n in session.scalars(
            select(Notification).where(Notification.template == "comments_registered"))}
        assert len(session.scalars(select(Notification).where(Notification.template == "comments_registered"))
                   .all()) == 2
        assert {kind: n.recipient for kind, n in copies.items()} == {
            "submission.transcribed": "anna@example.org", "submission.corrected": "anna@example.org"}
        first, second_copy = (Renderer(timezone=ZoneInfo("Europe/Warsaw")).render(n.template, n.language, n.context)
                              for n in (copies["submission.transcribed"], copies["submission.corrected"]))
    assert first.subject == "Uwagi przepisane do rejestru UW/2026/000042 – Program"
    assert "zostały przepisane do rejestru konsultacji „Program”" in first.text
    assert "Uwaga nr 2\nCzęść dokumentu: § 10" in first.text and "Propozycja zmiany: Więcej środków." in first.text
    assert "token=secret" in first.text and "token=secret" in first.html  # the receipt's link, with its code
    assert second_copy.subject == "Poprawiony zapis uwag UW/2026/000042 – Program"
    assert "poprawiliśmy zapis Państwa uwag" in second_copy.text
    assert "Propozycja zmiany: Dwa konkursy w roku." in second_copy.text and "Więcej środków" not in second_copy.text
    assert "w imieniu organizacji „Kujawsko-Pomorska Federacja" in second_copy.text
    assert "<td style=\"white-space: pre-wrap;\">Wkład własny 5%.</td>" in second_copy.html
