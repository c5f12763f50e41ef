"""The delivery log over HTTP: coordinators only, filters and paging."""

from __future__ import annotations

import pytest
from notify_factories import booking_event, received_event

from services.notify.app import RENDERER, SENDER, create_app
from services.notify.handlers import deliver_notification, list_notifications


@pytest.fixture
def client(ctx):
    return create_app(ctx=ctx).test_client()


def token(ctx, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.signer.issue('u-1', f'{role}@um.example.pl', role)}"}


def test_the_log_needs_a_token_and_the_coordinator_role(ctx, client):
    assert client.get("/notify/api/v1/notifications").status_code == 401
    assert client.get("/notify/api/v1/notifications", headers=token(ctx, "reviewer")).status_code == 403
    assert client.get("/notify/api/v1/notifications", headers=token(ctx, "coordinator")).status_code == 200


def test_the_log_lists_notifications_with_their_delivery_state_and_filters_them(ctx, client, dispatcher):
    dispatcher.dispatch(received_event())
    dispatcher.dispatch(booking_event())
    receipt = next(n for n in list_notifications(ctx) if n.template == "submission_receipt")
    deliver_notification(ctx, receipt.id, sender=ctx.extras[SENDER], renderer=ctx.extras[RENDERER])

    response = client.get("/notify/api/v1/notifications", headers=token(ctx, "coordinator"))
    assert response.status_code == 200
    rows = {row["template"]: row for row in response.get_json()}
    assert set(rows) == {"submission_receipt", "booking_confirmed"}
    sent = rows["submission_receipt"]
    assert set(sent) == {"id", "template", "recipient", "subject", "status", "attempts", "created_at", "sent_at",
                         "error", "cause_event_id", "correlation_id", "resent_by", "resent_at", "bounced_at"}
    assert sent["status"] == "sent" and sent["attempts"] == 1 and sent["sent_at"]
    assert sent["subject"].startswith("Potwierdzenie złożenia uwag")
    assert rows["booking_confirmed"]["status"] == "pending" and rows["booking_confirmed"]["subject"] is None

    only_pending = client.get("/notify/api/v1/notifications?status=pending", headers=token(ctx, "coordinator"))
    assert [row["template"] for row in only_pending.get_json()] == ["booking_confirmed"]
    by_template = client.get("/notify/api/v1/notifications?template=submission_receipt", headers=token(ctx, "coordinator"))
    assert [row["id"] for row in by_template.get_json()] == [receipt.id]
    paged = client.get("/notify/api/v1/notifications?limit=1&offset=1", headers=token(ctx, "coordinator"))
    assert len(paged.get_json()) == 1


def test_nonsense_filters_are_refused_with_field_messages(ctx, client):
    response = client.get("/notify/api/v1/notifications?status=lost&limit=0", headers=token(ctx, "coordinator"))
    assert response.status_code == 422
    assert set(response.get_json()["errors"]["query"]) == {"status", "limit"}


def test_health_endpoints_are_public(client):
    assert client.get("/notify/healthz").status_code == 200
