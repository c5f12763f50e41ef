"""The delivery log page: coordinators only, filters and search, re-send of a failed message with CSRF."""

from __future__ import annotations

import re

import pytest
from notify_factories import received_event
from sqlalchemy import select

from services.common.auth import SESSION_KEY, StaffIdentity, session_claims
from services.notify.app import RENDERER, SENDER, create_app
from services.notify.handlers import Delivery, deliver_notification
from services.notify.models import Notification
from services.notify.senders import PermanentDeliveryError


@pytest.fixture
def client(ctx):
    return create_app(ctx=ctx).test_client()


def bearer(ctx, role: str) -> dict:
    return {"Authorization": f"Bearer {ctx.signer.issue('u-' + role, role + '@um.example.pl', role)}"}


def failed_and_sent(ctx, dispatcher, sender) -> tuple[Notification, Notification]:
    dispatcher.dispatch(received_event(email="zla.skrzynka@example.org", reference="UW/2024/000111"))
    dispatcher.dispatch(received_event(email="anna.nowak@example.org", reference="UW/2024/000222"))
    with ctx.db.transaction() as session:
        rows = {n.recipient: n for n in session.scalars(select(Notification))}
    sender.fail_with = PermanentDeliveryError("550 5.1.1 mailbox unavailable")
    assert deliver_notification(ctx, rows["zla.skrzynka@example.org"].id, sender=ctx.extras[SENDER],
                                renderer=ctx.extras[RENDERER]) is Delivery.FAILED
    sender.fail_with = None
    deliver_notification(ctx, rows["anna.nowak@example.org"].id, sender=ctx.extras[SENDER], renderer=ctx.extras[RENDERER])
    return rows["zla.skrzynka@example.org"], rows["anna.nowak@example.org"]


def test_the_log_is_for_coordinators(ctx, client):
    assert client.get("/notify/").status_code == 302
    assert client.get("/notify/", headers=bearer(ctx, "reviewer")).status_code == 403


def test_the_log_filters_searches_and_offers_a_resend_only_for_failed_messages(ctx, client, dispatcher, sender):
    failed, sent = failed_and_sent(ctx, dispatcher, sender)
    html = client.get("/notify/", headers=bearer(ctx, "coordinator")).get_data(as_text=True)
    assert "<h1>Dziennik wysyłek</h1>" in html and "Znalezione wiadomości: 2" in html
    assert html.count('/resend"') == 1 and f"/notify/notifications/{failed.id}/resend" in html
    assert "550 5.1.1 mailbox unavailable" in html and '<label for="f-q">Szukaj</label>' in html

    only_failed = client.get("/notify/?status=failed", headers=bearer(ctx, "coordinator")).get_data(as_text=True)
    assert "zla.skrzynka@example.org" in only_failed and "anna.nowak@example.org" not in only_failed
    by_reference = client.get("/notify/?q=000222", headers=bearer(ctx, "coordinator")).get_data(as_text=True)
    assert "anna.nowak@example.org" in by_reference and "zla.skrzynka" not in by_reference
    by_address = client.get("/notify/?q=ZLA.SKRZYNKA", headers=bearer(ctx, "coordinator")).get_data(as_text=True)
    assert "Znalezione wiadomości: 1" in by_address
    nonsense = client.get("/notify/?status=exploded&template=x&page=abc", headers=bearer(ctx, "coordinator"))
    assert nonsense.status_code == 200
    english = client.get("/notify/?lang=en", headers=bearer(ctx, "coordinator")).get_data(as_text=True)
    assert "Delivery log" in english and "Send again" in english


def status_of(ctx, notification_id: str) -> tuple[str, object]:
    with ctx.db.transaction() as session:
        row = session.get(Notification, notification_id)
        return row.status, row.next_attempt_at


def test_a_failed_message_is_sent_again_from_the_page_with_its_csrf_token(ctx, client, dispatcher, sender):
    failed, sent = failed_and_sent(ctx, dispatcher, sender)
    with client.session_transaction() as session:
        session[SESSION_KEY] = session_claims(StaffIdentity("u-k", "koordynator@um.example.pl", "coordinator", "K"))
    assert client.post(f"/notify/notifications/{failed.id}/resend").status_code == 400  # no CSRF token
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/notify/").get_data(as_text=True)).group(1)
    response = client.post(f"/notify/notifications/{failed.id}/resend",
                           data={"csrf_token": token, "next": "/notify/?status=failed"})
    assert response.status_code == 303 and response.headers["Location"] == "/notify/?status=failed"
    assert status_of(ctx, failed.id) == ("pending", None)  # due: the mailer's next claim takes it
    page = client.get("/notify/").get_data(as_text=True)
    assert "zostanie wysłana ponownie" in page and "oczekuje na wysłanie" in page
    # A sent message is never sent again, from the page or the API.
    client.post(f"/notify/notifications/{sent.id}/resend", data={"csrf_token": token})
    assert "(już) nie jest żadną z nich" in client.get("/notify/").get_data(as_text=True)
    api = client.post(f"/notify/api/v1/notifications/{sent.id}/resend", headers=bearer(ctx, "coordinator"))
    assert api.status_code == 409 and status_of(ctx, sent.id) == ("sent", None)


def test_the_navigation_offers_the_log_to_coordinators_only(ctx, client):
    from flask import g

    from services.common.ui import staff_nav

    for role, shown in (("reviewer", False), ("coordinator", True), ("admin", True)):
        with client.application.test_request_context("/notify/"):
            g.staff = StaffIdentity(f"u-{role}", f"{role}@um.example.pl", role, role)
            assert any(item["href"] == "/notify/" for item in staff_nav()) is shown
