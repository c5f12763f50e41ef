"""Notify sends review's one-time password links once, in the user's language, and then forgets the link."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from services.common.events import new_envelope, parse_envelope
from services.notify import domain
from services.notify.app import RENDERER, SENDER
from services.notify.handlers import Delivery, deliver_notification
from services.notify.models import Notification

URL = "https://konsultacje.example.org/review/password/secret-token"


def link_event(purpose: str = "reset", language: str = "pl", link_id: str | None = None):
    return parse_envelope(new_envelope("staff.password_link", {
        "link_id": link_id or str(uuid.uuid4()), "user_id": "u-1", "email": "anna@um.example", "name": "Anna Nowak",
        "purpose": purpose, "url": URL, "expires_at": datetime(2026, 10, 14, 10, 0, tzinfo=timezone.utc),
        "language": language}, producer="review"))


def notifications(ctx) -> list[Notification]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(Notification)))


@pytest.mark.parametrize("purpose, language, subject, wording", [
    ("reset", "pl", "Ustawienie nowego hasła do konsoli konsultacji", "Link działa jeden raz, do 14 października 2026 r., godz. 12:00"),
    ("invite", "pl", "Zaproszenie do konsoli konsultacji – ustawienie hasła", "założyliśmy dla Państwa konto"),
    ("invite", "en", "Invitation to the consultation console – set your password", "an account has been created for you"),
])
def test_a_password_link_is_mailed_once_in_the_users_language(ctx, dispatcher, sender, purpose, language, subject, wording):
    event = link_event(purpose, language)
    assert dispatcher.dispatch(event) == []
    dispatcher.dispatch(parse_envelope({**event.to_envelope(), "id": str(uuid.uuid4())}))  # the same link published again
    [row] = notifications(ctx)
    assert row.template == "staff_password_link" and row.recipient == "anna@um.example"
    assert deliver_notification(ctx, row.id, sender=ctx.extras[SENDER], renderer=ctx.extras[RENDERER]) is Delivery.SENT
    [message] = sender.sent
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert message["Subject"] == subject and URL in text and wording in text
    assert URL in message.get_body(preferencelist=("html",)).get_content()


def test_the_delivery_log_drops_the_link_once_it_is_sent(ctx, dispatcher, sender):
    dispatcher.dispatch(link_event())
    [row] = notifications(ctx)
    assert row.context["url"] == URL  # needed until it is sent
    deliver_notification(ctx, row.id, sender=ctx.extras[SENDER], renderer=ctx.extras[RENDERER])
    [row] = notifications(ctx)
    assert row.context["url"] == domain.REDACTED and row.context["email"] == "anna@um.example"


def test_only_secret_keys_of_secret_templates_are_redacted():
    assert domain.without_secrets("staff_password_link", {"url": "x", "name": "A"}) == {"url": domain.REDACTED, "name": "A"}
    assert domain.without_secrets("submission_receipt", {"status_url": "x"}) == {"status_url": "x"}
