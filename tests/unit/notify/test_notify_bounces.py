"""`mail.delivery_failed` in notify: the message a mail server returned is marked `bounced` with the server's words
and announced to intake (`notification.bounced`), matched by its Message-ID, else by the address it was sent to;
a report about a message notify did not send, or one already marked, changes nothing; a returned message can be
sent again; a corrected address (`submission.email_corrected`) gets what came back, once, and every later e-mail."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from notify_factories import booking_event, received_event
from sqlalchemy import select

from services.common.events import new_envelope, parse_envelope
from services.common.web import Conflict
from services.notify.app import RENDERER, SENDER, create_app
from services.notify.handlers import Delivery, deliver_notification, resend_notification
from services.notify.models import KnownComment, Notification, Outbox, ParkedEvent


def delivery_failed(*, original: str | None, recipients: list[dict], received_at: datetime | None = None):
    return parse_envelope(new_envelope("mail.delivery_failed", {
        "mail_id": str(uuid.uuid4()), "received_at": received_at or datetime.now(timezone.utc),
        "original_message_id": original, "recipients": recipients}, producer="intake"))


def sent(ctx, dispatcher, event) -> Notification:
    dispatcher.dispatch(event)
    with ctx.db.transaction() as session:
        row = session.scalars(select(Notification).where(Notification.cause_event_id == event.id)).one()
    assert deliver_notification(ctx, row.id, sender=ctx.extras[SENDER], renderer=ctx.extras[RENDERER]) is Delivery.SENT
    return load(ctx, row.id)


def load(ctx, notification_id: str) -> Notification:
    with ctx.db.transaction() as session:
        return session.get(Notification, notification_id)


def announced(ctx) -> list[dict]:
    with ctx.db.transaction() as session:
        rows = session.scalars(select(Outbox).where(Outbox.event_type == "notification.bounced").order_by(Outbox.id))
        return [row.envelope for row in rows]


def test_a_returned_receipt_is_marked_by_its_message_id_and_announced_once(ctx, dispatcher):
    receipt = sent(ctx, dispatcher, received_event(email="Anna.Nowak@example.org"))
    report = delivery_failed(original=receipt.message_id, recipients=[
        {"address": "anna.nowak@example.org", "status": "5.1.1",
         "diagnostic": "550 5.1.1 <anna.nowak@example.org>: Recipient address rejected: User unknown"}])
    dispatcher.dispatch(report)
    dispatcher.dispatch(report)  # redelivered
    dispatcher.dispatch(delivery_failed(original=receipt.message_id, recipients=report.data["recipients"]))  # twice
    row = load(ctx, receipt.id)
    assert row.status == "bounced" and row.bounced_at == report.data["received_at"]
    assert row.error == "5.1.1 550 5.1.1 <anna.nowak@example.org>: Recipient address rejected: User unknown"
    [envelope] = announced(ctx)
    assert envelope["correlation_id"] == receipt.correlation_id
    data = envelope["data"]
    assert data["notification_id"] == receipt.id and data["template"] == "submission_receipt"
    assert data["reference"] == receipt.context["reference"] and data["booking_id"] is None
    assert data["recipient"] == "Anna.Nowak@example.org" and data["subject"] == receipt.subject


def test_a_report_without_the_message_id_is_matched_by_the_newest_message_to_the_address(ctx, dispatcher):
    older = sent(ctx, dispatcher, booking_event(email="jan@example.net"))
    newer = sent(ctx, dispatcher, received_event(email="jan@example.net"))
    other = sent(ctx, dispatcher, received_event(email="ewa@example.net"))
    dispatcher.dispatch(delivery_failed(original=None, recipients=[
        {"address": "JAN@example.net", "status": None, "diagnostic": "mailbox unavailable"}]))
    assert load(ctx, newer.id).status == "bounced" and load(ctx, newer.id).error == "mailbox unavailable"
    assert load(ctx, older.id).status == "sent" and load(ctx, other.id).status == "sent"
    # a report that comes long after any message to the address matches nothing
    dispatcher.dispatch(delivery_failed(original=None, recipients=[{"address": "ewa@example.net", "status": "5.2.1"}],
                                        received_at=datetime.now(timezone.utc) + timedelta(days=30)))
    assert load(ctx, other.id).status == "sent"
    assert len(announced(ctx)) == 1


def test_a_booking_confirmation_names_its_booking_and_a_forwarded_address_is_kept_in_the_words(ctx, dispatcher):
    booking = booking_event(email="sekretariat@fundacja.example.org")
    confirmation = sent(ctx, dispatcher, booking)
    dispatcher.dispatch(delivery_failed(original=confirmation.message_id, recipients=[
        {"address": "prezes@gmail.example", "status": "5.2.2", "diagnostic": "mailbox full"}]))
    row = load(ctx, confirmation.id)
    assert row.status == "bounced" and row.error == "prezes@gmail.example: 5.2.2 mailbox full"
    [envelope] = announced(ctx)
    assert envelope["data"]["booking_id"] == booking.data["booking_id"] and envelope["data"]["reference"] is None


def test_reports_about_other_messages_or_unsent_ones_change_nothing(ctx, dispatcher):
    pending_event = received_event(email="ola@example.org")
    dispatcher.dispatch(pending_event)  # staged, never sent
    dispatcher.dispatch(delivery_failed(original="<clerks-own-reply@um.example.pl>", recipients=[
        {"address": "ola@example.org", "status": "5.1.1"}]))
    with ctx.db.transaction() as session:
        pending = session.scalars(select(Notification).where(Notification.cause_event_id == pending_event.id)).one()
    assert pending.status == "pending"
    dispatcher.dispatch(delivery_failed(original=pending.message_id, recipients=[
        {"address": "ola@example.org", "status": "5.1.1"}]))
    assert load(ctx, pending.id).status == "pending" and announced(ctx) == []


def test_a_returned_message_can_be_sent_again_once(ctx, dispatcher):
    receipt = sent(ctx, dispatcher, received_event(email="kasia@example.org"))
    dispatcher.dispatch(delivery_failed(original=receipt.message_id, recipients=[
        {"address": "kasia@example.org", "status": "4.2.2", "diagnostic": "over quota, gave up after 5 days"}]))
    again = resend_notification(ctx, receipt.id, actor="urzednik@um.example.pl")
    assert again.status == "pending" and again.resent_by == "urzednik@um.example.pl"
    with pytest.raises(Conflict):
        resend_notification(ctx, receipt.id, actor="urzednik@um.example.pl")


def email_corrected(received, email: str | None, revision: int):
    data = received.data
    return parse_envelope(new_envelope("submission.email_corrected", {
        "submission_id": data["submission_id"], "consultation_id": data["consultation_id"],
        "reference": data["reference"], "email": email, "revision": revision,
        "corrected_at": datetime.now(timezone.utc)}, producer="intake"))


def to(ctx, address: str) -> list[Notification]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(Notification).where(Notification.recipient == address)
                                    .order_by(Notification.created_at)))


def test_a_corrected_address_gets_what_came_back_once_and_every_later_e_mail(ctx, dispatcher):
    received = received_event(email="jan.kowalsky@example.org")
    receipt = sent(ctx, dispatcher, received)
    dispatcher.dispatch(delivery_failed(original=receipt.message_id, recipients=[
        {"address": "jan.kowalsky@example.org", "status": "5.1.1"}]))
    other = sent(ctx, dispatcher, received_event(email="ewa@example.org"))  # someone else's mail stays where it is
    dispatcher.dispatch(delivery_failed(original=other.message_id, recipients=[{"address": "ewa@example.org"}]))
    corrected = email_corrected(received, "jan.kowalski@example.org", 2)
    dispatcher.dispatch(corrected)
    dispatcher.dispatch(corrected)  # redelivered
    dispatcher.dispatch(email_corrected(received, "jan.kowalski@example.org", 2))  # the same correction again
    [again] = to(ctx, "jan.kowalski@example.org")
    assert again.template == "submission_receipt" and again.status == "pending" and again.context == receipt.context
    assert again.message_id != receipt.message_id and load(ctx, receipt.id).status == "bounced"
    assert to(ctx, "ewa@example.org")[0].status == "bounced" and len(to(ctx, "ewa@example.org")) == 1
    # every later e-mail about the submission (decisions, the outcome) is addressed from here
    with ctx.db.transaction() as session:
        assert {c.recipient for c in session.scalars(select(KnownComment).where(
            KnownComment.submission_id == received.data["submission_id"]))} == {"jan.kowalski@example.org"}
    # an older correction arriving late changes nothing; removing the address stops every e-mail
    dispatcher.dispatch(email_corrected(received, "stary@example.org", 2))
    dispatcher.dispatch(email_corrected(received, None, 3))
    with ctx.db.transaction() as session:
        assert {c.recipient for c in session.scalars(select(KnownComment).where(
            KnownComment.submission_id == received.data["submission_id"]))} == {None}
    assert to(ctx, "stary@example.org") == []


def test_a_correction_that_overtakes_its_submission_waits_for_it(ctx, dispatcher):
    received = received_event(email="ola@example.org")
    dispatcher.dispatch(email_corrected(received, "ola.nowa@example.org", 2))
    with ctx.db.transaction() as session:
        assert "not known yet" in session.scalars(select(ParkedEvent)).one().reason


def test_the_delivery_log_lists_returned_messages_and_sends_one_again(ctx, dispatcher):
    receipt = sent(ctx, dispatcher, received_event(email="pelna.skrzynka@example.org"))
    dispatcher.dispatch(delivery_failed(original=receipt.message_id, recipients=[
        {"address": "pelna.skrzynka@example.org", "status": "4.2.2", "diagnostic": "mailbox full, gave up"}]))
    client = create_app(ctx=ctx).test_client()
    token = ctx.signer.issue("u-k", "koordynator@um.example.pl", "coordinator")
    headers = {"Authorization": f"Bearer {token}"}
    page = client.get("/notify/?status=bounced", headers=headers).get_data(as_text=True)
    assert "pelna.skrzynka@example.org" in page and "zwrócona jako niedoręczona" in page
    assert "Zwrócona przez serwer poczty" in page and "4.2.2 mailbox full, gave up" in page
    assert f'action="/notify/notifications/{receipt.id}/resend"' in page
    response = client.post(f"/notify/notifications/{receipt.id}/resend", headers=headers, data={"next": "/notify/"})
    assert response.status_code == 303 and load(ctx, receipt.id).status == "pending"
