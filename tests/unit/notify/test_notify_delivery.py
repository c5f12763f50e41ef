"""Delivering one notification: sent once, permanent failures recorded, transient ones retried within a bound."""

from __future__ import annotations

import email
import uuid
from email import policy

import pytest
from notify_factories import booking_event, consultation_event, received_event
from sqlalchemy import select

from services.notify import domain
from services.notify.app import RENDERER, SENDER
from services.notify.handlers import Delivery, deliver_notification
from services.notify.models import Notification, Outbox
from services.notify.senders import (
    FileOutboxSender,
    MailServerUnavailable,
    PermanentDeliveryError,
    SmtpSender,
    TransientDeliveryError,
    make_sender,
)


def staged_receipt(ctx, dispatcher) -> str:
    dispatcher.dispatch(received_event(language="pl"))
    with ctx.db.transaction() as session:
        return session.scalars(select(Notification.id)).one()


def load(ctx, notification_id) -> Notification:
    with ctx.db.transaction() as session:
        return session.get(Notification, notification_id)


def outbox_types(ctx) -> list[str]:
    with ctx.db.transaction() as session:
        return [row.event_type for row in session.scalars(select(Outbox).order_by(Outbox.id))]


def deliver(ctx, notification_id, **kwargs):
    return deliver_notification(ctx, notification_id, sender=ctx.extras[SENDER], renderer=ctx.extras[RENDERER], **kwargs)


def test_a_pending_notification_is_sent_marked_sent_and_announced_in_the_same_transaction(ctx, dispatcher, sender):
    notification_id = staged_receipt(ctx, dispatcher)
    assert deliver(ctx, notification_id) is Delivery.SENT

    [message] = sender.sent
    row = load(ctx, notification_id)
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1 and row.error is None
    assert row.subject == message["Subject"] and row.subject.startswith("Potwierdzenie złożenia uwag UW/")
    assert message["Message-ID"] == row.message_id
    assert message["From"] == "konsultacje@um.example.pl" and message["To"] == "anna.nowak@example.org"
    assert outbox_types(ctx) == ["notification.sent"]


def test_the_receipt_comes_from_the_consultations_contact_address_and_is_signed_by_its_office(ctx, dispatcher, sender):
    """GIVEN an announced consultation with its office WHEN a receipt is sent THEN its From is the contact address,
    named after the department, and the signature gives the office's address and contact."""
    received = received_event(language="pl")
    dispatcher.dispatch(consultation_event(
        received.data["consultation_id"], organiser="Wydział Zdrowia i Polityki Społecznej",
        contact_email="konsultacje@um.torun.pl", contact_phone="56 611 88 88",
        postal_address="ul. Wały gen. Sikorskiego 8\n87-100 Toruń"))
    dispatcher.dispatch(received)
    with ctx.db.transaction() as session:
        notification_id = session.scalars(select(Notification.id)).one()
    assert deliver(ctx, notification_id) is Delivery.SENT
    [message] = sender.sent
    wire = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert wire["From"].addresses[0].addr_spec == "konsultacje@um.torun.pl"
    assert wire["From"].addresses[0].display_name == "Wydział Zdrowia i Polityki Społecznej"
    text = wire.get_body(("plain",)).get_content()
    assert "Szanowni Państwo," in text and "87-100 Toruń" in text and "tel. 56 611 88 88" in text


OFFICE = {"organiser": "Wydział Zdrowia i Polityki Społecznej", "contact_email": "konsultacje@um.torun.pl",
          "contact_phone": "56 611 88 88", "postal_address": "ul. Wały gen. Sikorskiego 8\n87-100 Toruń"}
BOOKING_EVENTS = ["booking.confirmed", "booking.cancelled", "booking.reminder"]


def sent_mail(ctx, dispatcher, sender, *events) -> email.message.EmailMessage:
    """Dispatch `events`, deliver the one notification they stage, and read the message back off the wire."""
    with ctx.db.transaction() as session:
        before = set(session.scalars(select(Notification.id)))
    for event in events:
        dispatcher.dispatch(event)
    with ctx.db.transaction() as session:
        [notification_id] = set(session.scalars(select(Notification.id))) - before
    assert deliver(ctx, notification_id) is Delivery.SENT
    return email.message_from_bytes(sender.sent[-1].as_bytes(), policy=policy.default)


def signature(text: str, opening: str) -> str:
    return text[text.index(opening):]


@pytest.mark.parametrize("event_type", BOOKING_EVENTS)
@pytest.mark.parametrize(("language", "greeting", "closing"), [("pl", "Szanowni Państwo,", "Z poważaniem"),
                                                                 ("en", "Dear Sir or Madam,", "Kind regards")])
def test_a_booking_e_mail_comes_from_the_contact_address_and_is_signed_like_the_receipt(
        ctx, dispatcher, sender, event_type, language, greeting, closing):
    """GIVEN an announced consultation with its office WHEN a booking e-mail is sent THEN its From is the contact
    address named after the department, and its signature is the receipt's, word for word, in both parts."""
    consultation_id = str(uuid.uuid4())
    announced = consultation_event(consultation_id, **OFFICE)
    booking = sent_mail(ctx, dispatcher, sender, announced, booking_event(event_type, language=language,
                                                                          consultation_id=consultation_id))
    assert booking["From"].addresses[0].addr_spec == "konsultacje@um.torun.pl"
    assert booking["From"].addresses[0].display_name == "Wydział Zdrowia i Polityki Społecznej"
    assert booking["To"] == "jan.kowalski@example.org" and booking["Auto-Submitted"] == "auto-generated"
    text, html = (booking.get_body((kind,)).get_content() for kind in ("plain", "html"))
    assert text.startswith(greeting) and not any(word in text for word in ("Twoj", "Twój", "Ciebie", "Cię"))
    assert "87-100 Toruń" in text and "56 611 88 88" in text and "konsultacje@um.torun.pl" in text
    assert "nie odpowiadać" not in text and "do not reply" not in text  # replies reach the office
    assert "Wydział Zdrowia i Polityki Społecznej" in html and 'href="mailto:konsultacje@um.torun.pl"' in html

    received = received_event(language=language)
    receipt = sent_mail(ctx, dispatcher, sender, consultation_event(received.data["consultation_id"], **OFFICE),
                         received)
    assert receipt["From"] == booking["From"]
    for kind in ("plain", "html"):
        opening = closing if kind == "plain" else f"<p>{closing}"
        assert signature(booking.get_body((kind,)).get_content(), opening) == \
            signature(receipt.get_body((kind,)).get_content(), opening)


@pytest.mark.parametrize("event_type", BOOKING_EVENTS)
def test_before_the_consultation_is_announced_a_booking_e_mail_is_signed_by_the_office_the_booking_names(
        ctx, dispatcher, sender, event_type):
    message = sent_mail(ctx, dispatcher, sender, booking_event(
        event_type, organiser="Wydział Komunikacji Społecznej", contact_email="dialog@um.torun.pl"))
    assert message["From"].addresses[0].addr_spec == "dialog@um.torun.pl"
    assert message["From"].addresses[0].display_name == "Wydział Komunikacji Społecznej"
    text = message.get_body(("plain",)).get_content()
    assert "Z poważaniem\nWydział Komunikacji Społecznej\n" in text and "e-mail: dialog@um.torun.pl" in text


@pytest.mark.parametrize("event_type", BOOKING_EVENTS)
def test_without_a_contact_address_a_booking_e_mail_comes_from_uwagi_mail_from_and_says_not_to_reply(
        ctx, dispatcher, sender, event_type):
    message = sent_mail(ctx, dispatcher, sender, booking_event(event_type))
    assert message["From"] == ctx.settings.mail_from == "konsultacje@um.example.pl"
    text = message.get_body(("plain",)).get_content()
    assert "Z poważaniem\nZespół ds. konsultacji społecznych\n" in text
    assert "prosimy na nią nie odpowiadać" in text


def test_delivering_twice_sends_once(ctx, dispatcher, sender):
    notification_id = staged_receipt(ctx, dispatcher)
    assert deliver(ctx, notification_id) is Delivery.SENT
    assert deliver(ctx, notification_id) is Delivery.ALREADY_DONE
    assert len(sender.sent) == 1
    assert outbox_types(ctx) == ["notification.sent"]


def test_a_notification_that_no_longer_exists_is_skipped(ctx, sender):
    assert deliver(ctx, "00000000-0000-0000-0000-000000000000") is Delivery.MISSING
    assert sender.sent == []


def test_a_permanent_refusal_marks_the_notification_failed_with_the_reason_and_announces_it(ctx, dispatcher, sender):
    notification_id = staged_receipt(ctx, dispatcher)
    sender.fail_with = PermanentDeliveryError("recipient refused: 550 5.1.1 No such user")
    assert deliver(ctx, notification_id) is Delivery.FAILED
    row = load(ctx, notification_id)
    assert row.status == "failed" and "550 5.1.1" in row.error and row.sent_at is None
    assert outbox_types(ctx) == ["notification.failed"]
    # A failed notification is settled: a later task does not try again.
    sender.fail_with = None
    assert deliver(ctx, notification_id) is Delivery.ALREADY_DONE
    assert sender.sent == []


def test_a_transient_error_records_the_attempt_and_defers_the_notification_by_its_backoff(ctx, dispatcher, sender):
    notification_id = staged_receipt(ctx, dispatcher)
    sender.fail_with = TransientDeliveryError("recipient deferred: 452 4.2.2 Mailbox full")
    assert deliver(ctx, notification_id) is Delivery.DEFERRED
    row = load(ctx, notification_id)
    assert row.status == "pending" and row.attempts == 1 and "452 4.2.2" in row.error
    assert row.last_attempt_at is not None and row.claim_key is None
    assert domain.retry_delay(1, 0.0) <= row.next_attempt_at - row.last_attempt_at <= domain.retry_delay(1, 0.999)
    assert outbox_types(ctx) == []

    sender.fail_with = None
    assert deliver(ctx, notification_id) is Delivery.SENT
    row = load(ctx, notification_id)
    assert row.attempts == 2 and row.error is None and row.next_attempt_at is None


def test_an_unreachable_mail_server_is_told_apart_so_the_mailer_pauses(ctx, dispatcher, sender):
    notification_id = staged_receipt(ctx, dispatcher)
    sender.fail_with = MailServerUnavailable("SMTP unavailable: ConnectionRefusedError")
    assert deliver(ctx, notification_id) is Delivery.UNREACHABLE
    assert load(ctx, notification_id).status == "pending"


def test_the_attempt_cap_fails_the_notification_instead_of_retrying_forever(ctx, dispatcher, sender):
    notification_id = staged_receipt(ctx, dispatcher)
    sender.fail_with = TransientDeliveryError("451 4.3.0 try later")
    for _ in range(domain.MAX_DELIVERY_ATTEMPTS - 1):
        assert deliver(ctx, notification_id) is Delivery.DEFERRED
    assert deliver(ctx, notification_id) is Delivery.FAILED
    row = load(ctx, notification_id)
    assert row.attempts == domain.MAX_DELIVERY_ATTEMPTS
    assert row.status == "failed" and row.error.startswith(f"gave up after {domain.MAX_DELIVERY_ATTEMPTS} attempts")
    assert outbox_types(ctx) == ["notification.failed"]


def test_without_smtp_settings_mail_goes_to_eml_files_in_the_data_dir(ctx, settings, dispatcher):
    ctx.extras[SENDER] = make_sender(settings)
    assert isinstance(ctx.extras[SENDER], FileOutboxSender)
    notification_id = staged_receipt(ctx, dispatcher)
    assert deliver(ctx, notification_id) is Delivery.SENT
    [path] = (settings.data_dir / "mail").glob("*.eml")
    assert not list((settings.data_dir / "mail").glob(".tmp-*"))
    parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == load(ctx, notification_id).message_id
    assert parsed["Subject"].startswith("Potwierdzenie złożenia uwag")


def test_with_smtp_settings_the_smtp_sender_is_chosen(settings):
    from dataclasses import replace

    from services.common.settings import SmtpSettings

    smtp = SmtpSettings(host="127.0.0.1", port=2525, user="", password="", starttls=False)
    assert isinstance(make_sender(replace(settings, smtp=smtp)), SmtpSender)


def test_an_unwritable_mail_folder_is_a_transient_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    from services.notify.rendering import RenderedEmail, build_message

    message = build_message(RenderedEmail("s", "t", "<p>h</p>"), sender="a@example.org", recipient="b@example.org",
                            message_id="<x@notify.uwagi>")
    with pytest.raises(MailServerUnavailable):
        FileOutboxSender(blocker / "mail").send(message)
