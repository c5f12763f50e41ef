"""`mail.delivery_failed` in notify: the message a mail server returned is marked `bounced` with the server's words
and announced to intake (`notification.bounced`), matched by its Message-ID, else by the address it was sent to;
a report about a message notify did not send, or one already marked, changes nothing; a returned message can be
sent again."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from notify_factories import booking_event, received_event
from sqlalchemy import select

from services.common.events import new_envelope, parse_envelope
from services.common.web import Conflict
from services.notify.app import RENDERER, SENDER
from services.notify.handlers import Delivery, deliver_notification, resend_notification
from services.notify.models import Notification, Outbox


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
