"""`make run`'s way in: a resident's filled form mailed as an .eml into the inbox folder gets a receipt e-mail,
and review sees the comments with their sections. The whole embedded system, as `uwagi run` starts it."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.embedded import embedded_system
from tests.support.infra import wait_until

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "mail"

pytestmark = pytest.mark.slow


@pytest.fixture
def system(tmp_path: Path) -> Iterator[object]:
    from services.demo import load_demo

    with embedded_system(tmp_path / "var") as running:
        load_demo(running)
        yield running


def receipts(folder: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in sorted(folder.glob("*.eml"))]


def test_a_form_dropped_into_the_inbox_gets_a_receipt_and_reaches_review(system):
    from services.review.models import ReviewComment

    inbox = system.settings.data_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / ".resident.eml.part").write_bytes((CORPUS / "zimbra-forward-rfc822-form.eml").read_bytes())
    (inbox / ".resident.eml.part").rename(inbox / "resident.eml")
    system.workers["intake"].run_sweeps()  # the sweep runs every 15 s; do not wait for it
    assert (inbox / "done" / "resident.eml").exists()

    mail_folder = system.settings.data_dir / "mail"
    receipt = wait_until(lambda: [m for m in receipts(mail_folder) if "anna.nowak@example.org" in str(m["To"])],
                         timeout=30, what="the receipt e-mail")[0]
    text = receipt.get_body(("plain",)).get_content()
    assert "UW/" in text and "§ 5 ust. 2" in text

    review = system.contexts["review"]

    def sections() -> list[str]:
        with review.db.transaction() as session:
            return sorted(c.section for c in session.scalars(select(ReviewComment)) if c.section)

    assert wait_until(lambda: {"§ 5 ust. 2", "Rozdział 4 pkt 3"} <= set(sections()), timeout=30,
                      what="the comments in review")


def test_a_question_mailed_in_is_acknowledged_as_a_message_once_closed_leaves_every_service_and_comes_back_reopened(
        system):
    from services.documents.models import CommentView
    from services.intake import domain
    from services.intake.mail.transcribe import dismiss_mail, reopen_mail, transcribe_mail
    from services.intake.models import InboundMail, Submission
    from services.notify.models import KnownComment
    from services.review.models import ReviewComment

    inbox = system.settings.data_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "question.eml").write_bytes(
        b"From: Ewa Lis <ewa.lis@example.org>\r\nTo: konsultacje@um.torun.pl\r\nSubject: Dyzur\r\n"
        b"Message-ID: <question-1@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + "Dzień dobry, czy mogę zapisać się na dyżur?\r\n".encode())
    system.workers["intake"].run_sweeps()
    receipt = wait_until(lambda: [m for m in receipts(system.settings.data_dir / "mail")
                                  if "ewa.lis@example.org" in str(m["To"])], timeout=30, what="the receipt")[0]
    assert str(receipt["Subject"]).startswith("Potwierdzenie otrzymania wiadomości UW/")
    assert "czy mogę zapisać się" not in receipt.get_body(("plain",)).get_content()

    intake, review, documents, notify = (system.contexts[name] for name in ("intake", "review", "documents", "notify"))
    with intake.db.transaction() as session:
        mail = session.scalar(select(InboundMail).where(InboundMail.message_id == "question-1@example.org"))
        mail_id, reference = mail.id, session.get(Submission, mail.submission_id).reference

    def placeholders(context, model, column) -> list:
        with context.db.transaction() as session:
            return list(session.scalars(select(column).where(model.reference == reference)))
    assert wait_until(lambda: placeholders(review, ReviewComment, ReviewComment.awaiting_transcription) == [True],
                      timeout=30, what="the placeholder in review, awaiting transcription")
    wait_until(lambda: placeholders(documents, CommentView, CommentView.id) and
               placeholders(notify, KnownComment, KnownComment.comment_id), timeout=30, what="the other read models")

    [dismissed] = placeholders(review, ReviewComment, ReviewComment.id)
    dismiss_mail(intake, mail_id, "booking", actor="sekretariat@um.torun.pl")
    wait_until(lambda: not placeholders(review, ReviewComment, ReviewComment.id) and
               not placeholders(documents, CommentView, CommentView.id) and
               placeholders(notify, KnownComment, KnownComment.dismissed) == [True], timeout=30,
               what="the placeholder gone from review and documents, and never to be told of by notify")

    # closed by mistake: reopened, it comes back to every service as a new placeholder, then is transcribed
    reopen_mail(intake, mail_id, actor="sekretariat@um.torun.pl")
    wait_until(lambda: placeholders(review, ReviewComment, ReviewComment.awaiting_transcription) == [True] and
               len(placeholders(documents, CommentView, CommentView.id)) == 1 and
               sorted(placeholders(notify, KnownComment, KnownComment.dismissed)) == [False, True], timeout=30,
               what="the reopened placeholder in review, documents and notify")
    assert placeholders(review, ReviewComment, ReviewComment.id) != [dismissed]
    transcribe_mail(intake, mail_id, (domain.CommentDraft(section="§ 7", proposal="Dyżury także w soboty."),),
                    actor="sekretariat@um.torun.pl", tell_sender=True)
    assert wait_until(lambda: placeholders(review, ReviewComment, ReviewComment.section) == ["§ 7"] and
                      placeholders(review, ReviewComment, ReviewComment.awaiting_transcription) == [False],
                      timeout=30, what="the transcribed comment in review")
    # the sender was written to on arrival and, as staff asked, with the transcribed comment to check; neither
    # the closing nor the reopening sent anything
    copy = wait_until(lambda: [m for m in receipts(system.settings.data_dir / "mail")
                               if "ewa.lis@example.org" in str(m["To"]) and
                               str(m["Subject"]).startswith("Uwagi przepisane do rejestru")],
                      timeout=30, what="the transcribed comments sent to the sender")[0]
    body = copy.get_body(("plain",)).get_content()
    assert "Propozycja zmiany: Dyżury także w soboty." in body and "token=" in body
    assert len([m for m in receipts(system.settings.data_dir / "mail") if "ewa.lis@example.org" in str(m["To"])]) == 2
