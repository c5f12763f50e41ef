"""Notify's SMTP sender and delivery against a real SMTP server (aiosmtpd, started here on 127.0.0.1)."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from services.common.bus import InboxDispatcher
from services.common.db import upgrade
from services.common.events import new_envelope, parse_envelope
from services.common.settings import SmtpSettings, load_settings
from services.common.smtp_server import CollectingSmtpServer
from services.notify.app import RENDERER, SENDER, build
from services.notify.handlers import EVENT_HANDLERS, deliver_notification
from services.notify.models import Inbox, Notification, Outbox
from services.notify.rendering import RenderedEmail, build_message
from services.notify.senders import PermanentDeliveryError, SmtpSender, TransientDeliveryError
from tests.support.infra import free_port, purge_memory_broker

pytestmark = pytest.mark.smtp

SUBJECT = "Potwierdzenie złożenia uwag UW/2024/000123 – Wspólnie o programie współpracy z NGO na 2025 r. – II etap"


@pytest.fixture
def smtp_server():
    with CollectingSmtpServer(port=free_port(), refuse={
        "nieznany@example.org": "550 5.1.1 No such user here",
        "pelna-skrzynka@example.org": "452 4.2.2 Mailbox full, try again later",
    }, refuse_data={"odrzuc-tresc@example.org": "451 4.3.0 Local error in processing"}) as server:
        yield server


def smtp_settings(server: CollectingSmtpServer) -> SmtpSettings:
    return SmtpSettings(host=server.host, port=server.port, user="", password="", starttls=False)


def a_message(recipient: str = "zofia.zolkiewska@example.org") -> object:
    rendered = RenderedEmail(subject=SUBJECT, text="Dzień dobry, Państwa uwagi wpłynęły – dziękujemy.\n",
                             html="<p>Dzień dobry, Państwa uwagi <strong>wpłynęły</strong> – dziękujemy.</p>")
    return build_message(rendered, sender="konsultacje@um.torun.pl", recipient=recipient,
                         message_id=f"<{uuid.uuid4().hex}@notify.uwagi>")


def test_a_message_arrives_with_its_utf8_subject_and_both_parts(smtp_server):
    message = a_message()
    SmtpSender(smtp_settings(smtp_server)).send(message)

    [received] = smtp_server.wait_for(1)
    [envelope] = smtp_server.received
    assert envelope.rcpt_tos == ["zofia.zolkiewska@example.org"]
    assert envelope.mail_from == "konsultacje@um.torun.pl"
    assert b"=?utf-8?" in envelope.raw.lower()  # the subject crossed the wire RFC 2047-encoded
    assert received["Subject"] == SUBJECT
    assert received["Message-ID"] == message["Message-ID"]
    assert received.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in received.iter_parts()}
    assert "Państwa uwagi wpłynęły – dziękujemy." in parts["text/plain"]
    assert "<strong>wpłynęły</strong>" in parts["text/html"]


def test_a_recipient_refused_with_5xx_is_a_permanent_error(smtp_server):
    with pytest.raises(PermanentDeliveryError, match="550 5.1.1"):
        SmtpSender(smtp_settings(smtp_server)).send(a_message("nieznany@example.org"))
    assert smtp_server.received == []


def test_a_recipient_deferred_with_4xx_is_a_transient_error(smtp_server):
    with pytest.raises(TransientDeliveryError, match="452 4.2.2"):
        SmtpSender(smtp_settings(smtp_server)).send(a_message("pelna-skrzynka@example.org"))


def test_a_refused_connection_is_a_transient_error():
    nobody_listens = SmtpSettings(host="127.0.0.1", port=free_port(), user="", password="", starttls=False)
    with pytest.raises(TransientDeliveryError, match="unavailable"):
        SmtpSender(nobody_listens).send(a_message())


def test_one_connection_carries_many_messages_and_a_dropped_one_is_replaced(smtp_server):
    """GIVEN a sender that keeps its SMTP connection WHEN it sends three messages, the server drops the connection,
    and it sends a fourth THEN all four arrive over two sessions, and the handover hook ran once per message."""
    sender = SmtpSender(smtp_settings(smtp_server))
    handed_over = []
    for n in range(3):
        sender.send(a_message(f"osoba{n}@example.org"), on_handover=lambda: handed_over.append(True))
    assert smtp_server.sessions == 1
    sender._smtp.sock.shutdown(socket.SHUT_RDWR)  # as when the server times an idle session out
    sender.send(a_message("osoba3@example.org"), on_handover=lambda: handed_over.append(True))
    assert len(smtp_server.wait_for(4)) == 4 and smtp_server.sessions == 2 and len(handed_over) == 4
    sender.close()


def test_a_refusal_at_the_end_of_data_comes_after_the_handover(smtp_server):
    """The server's verdict on the message is read after the handover: a refusal there is still reported."""
    sender = SmtpSender(smtp_settings(smtp_server))
    handed_over = []
    with pytest.raises(TransientDeliveryError, match="451 4.3.0"):
        sender.send(a_message("odrzuc-tresc@example.org"), on_handover=lambda: handed_over.append(True))
    assert handed_over == [True] and smtp_server.received == []
    sender.send(a_message())  # the session is still good for the next message
    assert len(smtp_server.wait_for(1)) == 1 and smtp_server.sessions == 1


# --- delivery end to end through the real sender ----------------------------------------


@pytest.fixture
def notify_ctx(tmp_path, smtp_server):
    settings = load_settings(environ={"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_SECRET_KEY": "integration-secret-0123456789",
                                      "UWAGI_MAIL_FROM": "konsultacje@um.torun.pl"})
    settings = replace(settings, smtp=smtp_settings(smtp_server))
    upgrade("notify", settings.database_url("notify"))
    ctx = build(settings)
    yield ctx
    ctx.close()


def stage_receipt(ctx, recipient: str = "zofia.zolkiewska@example.org") -> str:
    data = {
        "submission_id": str(uuid.uuid4()), "consultation_id": str(uuid.uuid4()),
        "consultation_title": "Wspólnie o programie współpracy z NGO na 2025 r. – II etap",
        "reference": "UW/2024/000123", "channel": "web", "received_at": datetime(2024, 10, 8, 7, 30, tzinfo=timezone.utc),
        "late": False, "language": "pl", "status_url": "http://127.0.0.1:8000/intake/status?reference=UW/2024/000123&token=t",
        "submitter": {"name": "Zofia Żółkiewska", "organization": None, "email": recipient, "publish_consent": True,
                      "kind": "person"},
        "comments": [{"comment_id": str(uuid.uuid4()), "number": 1, "section": "§ 3 ust. 1",
                      "current_text": "Program obowiązuje w 2025 r.", "proposal": "Wydłużyć okres programu do 2026 r.",
                      "justification": "Ciągłość działań organizacji."}],
    }
    event = parse_envelope(new_envelope("submission.received", data, producer="intake"))
    InboxDispatcher(ctx.db, Inbox, EVENT_HANDLERS).dispatch(event)
    with ctx.db.transaction() as session:
        return session.scalars(select(Notification.id)).one()


def notification_events(ctx) -> list[str]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(Outbox.event_type).order_by(Outbox.id)))


def deliver(ctx, notification_id: str) -> str:
    return deliver_notification(ctx, notification_id, sender=ctx.extras[SENDER], renderer=ctx.extras[RENDERER]).value


def test_delivering_twice_sends_exactly_one_message(notify_ctx, smtp_server):
    notification_id = stage_receipt(notify_ctx)

    assert (deliver(notify_ctx, notification_id), deliver(notify_ctx, notification_id)) == ("sent", "already_done")
    [received] = smtp_server.wait_for(1)
    assert received["Subject"] == SUBJECT
    assert "Wydłużyć okres programu do 2026 r." in received.get_body(("plain",)).get_content()
    with notify_ctx.db.transaction() as session:
        row = session.get(Notification, notification_id)
        assert (row.status, row.attempts, row.message_id) == ("sent", 1, received["Message-ID"])
    assert notification_events(notify_ctx) == ["notification.sent"]
    assert len(smtp_server.received) == 1


def test_two_deliveries_racing_for_one_notification_send_one_message(notify_ctx, smtp_server):
    notification_id = stage_receipt(notify_ctx)
    outcomes: list[str] = []
    threads = [threading.Thread(target=lambda: outcomes.append(deliver(notify_ctx, notification_id))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["already_done", "sent"]
    assert len(smtp_server.received) == 1


def test_a_refused_recipient_is_recorded_as_failed(notify_ctx, smtp_server):
    notification_id = stage_receipt(notify_ctx, recipient="nieznany@example.org")
    assert deliver(notify_ctx, notification_id) == "failed"
    with notify_ctx.db.transaction() as session:
        row = session.get(Notification, notification_id)
        assert row.status == "failed" and "550 5.1.1" in row.error
        assert session.scalar(select(func.count()).select_from(Notification)) == 1
    assert notification_events(notify_ctx) == ["notification.failed"]
    assert smtp_server.received == []


@pytest.mark.parametrize("reply, status, events", [
    ("451 4.3.0 Try again later", "pending", ["notification.sent"]),
    ("554 5.7.1 Message rejected", "failed", ["notification.sent", "notification.failed"]),
])
def test_a_message_refused_at_the_end_of_its_data_is_taken_back_from_sent(notify_ctx, smtp_server, reply, status,
                                                                           events):
    """GIVEN `sent` committed at the handover WHEN the server then refuses the message THEN the row goes back:
    pending again after its backoff (4xx), or failed and announced (5xx); nothing arrived."""
    smtp_server.handler.refuse_data["odrzuc-tresc@example.org"] = reply
    notification_id = stage_receipt(notify_ctx, recipient="odrzuc-tresc@example.org")
    assert deliver(notify_ctx, notification_id) in ("deferred", "failed")
    with notify_ctx.db.transaction() as session:
        row = session.get(Notification, notification_id)
        assert row.status == status and reply.split()[0] in row.error and row.sent_at is None
        assert row.attempts == 1
    assert notification_events(notify_ctx) == events
    assert smtp_server.received == []


def test_an_event_from_the_bus_reaches_the_smtp_server_once_even_when_redelivered(tmp_path, smtp_server):
    """GIVEN notify's worker (consumer, relay, sweep, Celery) on the in-process broker and a real SMTP server
    WHEN submission.received is published, and then published again with the same id
    THEN the staging commit wakes the mailer and exactly one receipt arrives."""
    from services.common.runtime import ServiceWorker
    from services.notify.app import build
    from services.notify.worker import worker_spec

    settings = load_settings(environ={"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_RELAY_INTERVAL": "0.2"})
    settings = replace(settings, smtp=smtp_settings(smtp_server))
    upgrade("notify", settings.database_url("notify"))
    ctx = build(settings)
    purge_memory_broker()
    worker = ServiceWorker(ctx, worker_spec()).start_background()
    worker.start_celery_thread()
    try:
        assert worker.consumer.wait_ready(10)
        submission_id = str(uuid.uuid4())
        envelope = new_envelope("submission.received", {
            "submission_id": submission_id, "consultation_id": str(uuid.uuid4()),
            "consultation_title": "Wspólnie o programie współpracy z NGO na 2025 r. – II etap",
            "reference": "UW/2024/000777", "channel": "web", "received_at": datetime.now(timezone.utc), "late": True,
            "language": "en", "status_url": "http://127.0.0.1:8000/intake/status?reference=UW/2024/000777&token=t",
            "submitter": {"name": "Jan Kowalski", "organization": None, "email": "jan.kowalski@example.org",
                          "publish_consent": False, "kind": "person"},
            "comments": [{"comment_id": str(uuid.uuid4()), "number": 1, "section": "§ 5", "proposal": "Dodać dyżur w sobotę"}],
        }, producer="intake")
        ctx.publisher.publish_batch([envelope])
        ctx.publisher.publish_batch([envelope])

        [received] = smtp_server.wait_for(1, timeout=30)
        assert received["Subject"].startswith("Your comments were received: UW/2024/000777")
        assert "after the consultation deadline" in received.get_body(("plain",)).get_content()
        deadline = time.monotonic() + 10
        while worker.consumer.processed < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.consumer.processed == 2
        # One row for the cause is what guarantees one message: the redelivery staged nothing.
        with ctx.db.transaction() as session:
            assert [n.status for n in session.scalars(select(Notification))] == ["sent"]
        assert len(smtp_server.received) == 1
    finally:
        worker.stop()
