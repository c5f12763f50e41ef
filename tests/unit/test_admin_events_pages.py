"""The shared dead-letter and parked-event page, on one service app with the in-process broker."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from kombu import Connection

from services.common.auth import SESSION_KEY, StaffIdentity, session_claims
from services.common.bus import DEAD_EXCHANGE, REASON_HEADER, BrokerPublisher, events_queue
from services.common.db import upgrade, utcnow
from services.common.settings import load_settings
from services.notify import app as notify_app
from services.notify.models import ParkedEvent


@pytest.fixture
def app(tmp_path):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_SECRET_KEY": "unit-test-secret-key-0123456789"})
    upgrade("notify", settings.database_url("notify"))
    built = notify_app.create_app(ctx=notify_app.build(settings))
    yield built
    built.extensions["uwagi"].close()


def bearer(app, role: str) -> dict:
    return {"Authorization": f"Bearer {app.extensions['uwagi'].signer.issue('u-' + role, role + '@um.example', role)}"}


def dead_letter(app) -> dict:
    envelope = {"id": str(uuid.uuid4()), "type": "comment.decided", "version": 1,
                "occurred_at": "2024-10-22T10:00:00+00:00", "producer": "review", "data": {}}
    publisher = BrokerPublisher(app.extensions["uwagi"].settings.broker_url)
    # Seen by the page before anything arrives, so that the queue exists on the in-process broker.
    app.test_client().get("/notify/admin/events/", headers=bearer(app, "admin"))
    publisher.publish_batch([envelope], exchange=DEAD_EXCHANGE, routing_key="notify.events",
                            headers={REASON_HEADER: "notify.handlers: permanent error: KeyError"})
    publisher.close()
    return envelope


def parked_row(app) -> int:
    with app.extensions["uwagi"].db.transaction() as session:
        row = ParkedEvent(event_id=str(uuid.uuid4()), handler="services.notify.handlers.on_comment_decided",
                          envelope={"type": "comment.decided", "id": "x"}, reason="TransientError: not known yet",
                          attempts=3, next_attempt_at=utcnow() + timedelta(hours=1))
        session.add(row)
        session.flush()
        return row.id


def test_only_admins_see_the_page(app):
    client = app.test_client()
    assert client.get("/notify/admin/events/").status_code == 302  # to the login page
    assert client.get("/notify/admin/events/", headers=bearer(app, "coordinator")).status_code == 403


def test_dead_letters_and_parked_events_are_listed_and_can_be_retried_or_discarded(app):
    letter = dead_letter(app)
    row_id = parked_row(app)
    client = app.test_client()
    html = client.get("/notify/admin/events/", headers=bearer(app, "admin")).get_data(as_text=True)
    assert "Nieobsłużone i wstrzymane zdarzenia" in html and letter["id"] in html and "KeyError" in html
    assert "TransientError: not known yet" in html and 'href="/review/admin/events/"' in html
    keys = re.findall(r'action="/notify/admin/events/dead/([0-9a-f]+)"', html)
    with Connection(app.extensions["uwagi"].settings.broker_url) as conn:
        events_queue("notify", ["comment.decided"]).bind(conn.default_channel).declare()
        target = next(k for k in keys if letter["id"] in html.split(k)[0][-400:])
        response = client.post(f"/notify/admin/events/dead/{target}", data={"action": "retry"},
                               headers=bearer(app, "admin"))
        assert response.status_code == 303
        returned = []
        while (message := events_queue("notify", []).bind(conn.default_channel).get(no_ack=True, accept=None)):
            returned.append(message.body)
        assert any(letter["id"] in (body.decode() if isinstance(body, bytes) else body) for body in returned)
    after = client.get("/notify/admin/events/", headers=bearer(app, "admin")).get_data(as_text=True)
    assert letter["id"] not in after and "Komunikat wrócił do kolejki tej usługi." in after

    assert client.post(f"/notify/admin/events/parked/{row_id}", data={"action": "retry"},
                       headers=bearer(app, "admin")).status_code == 303
    with app.extensions["uwagi"].db.transaction() as session:
        assert session.get(ParkedEvent, row_id).next_attempt_at <= utcnow()
    client.post(f"/notify/admin/events/parked/{row_id}", data={"action": "discard"}, headers=bearer(app, "admin"))
    with app.extensions["uwagi"].db.transaction() as session:
        assert session.get(ParkedEvent, row_id) is None
    gone = client.post(f"/notify/admin/events/parked/{row_id}", data={"action": "discard"},
                       headers=bearer(app, "admin"), follow_redirects=True).get_data(as_text=True)
    assert "Tego komunikatu już nie ma" in gone


def test_a_form_posted_with_the_session_cookie_needs_its_csrf_token(app):
    row_id = parked_row(app)
    client = app.test_client()
    with client.session_transaction() as session:
        session[SESSION_KEY] = session_claims(StaffIdentity("u-a", "admin@um.example", "admin", "Admin"))
    assert client.post(f"/notify/admin/events/parked/{row_id}", data={"action": "discard"}).status_code == 400
    html = client.get("/notify/admin/events/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post(f"/notify/admin/events/parked/{row_id}",
                       data={"action": "discard", "csrf_token": token}).status_code == 303
