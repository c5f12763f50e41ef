"""Notify mails review's morning digest to a staff user once per day, listing the work per consultation."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select

from services.common.events import new_envelope, parse_envelope
from services.notify.app import RENDERER, SENDER
from services.notify.handlers import Delivery, deliver_notification
from services.notify.models import Notification

BASE = "https://konsultacje.torun.pl"
QUEUE = f"{BASE}/review/queue?consultation=k1&assignee=anna%40um.torun.pl&status=new"


def digest_event(day: date = date(2026, 11, 30), language: str = "pl"):
    return parse_envelope(new_envelope("staff.digest", {
        "user_id": "u-1", "email": "anna@um.torun.pl", "name": "Anna Nowak", "day": day.isoformat(),
        "language": language, "console_url": f"{BASE}/review/", "settings_url": f"{BASE}/review/account",
        "lines": [
            {"consultation_id": "k1", "title": "Program współpracy na 2026 r.", "kind": "assigned", "count": 3,
             "url": QUEUE},
            {"consultation_id": "k1", "title": "Program współpracy na 2026 r.", "kind": "approvals", "count": 2,
             "url": f"{BASE}/review/approvals?consultation=k1&state=proposed"},
            {"consultation_id": "k1", "title": "Program współpracy na 2026 r.", "kind": "transcription", "count": 1,
             "url": f"{BASE}/intake/staff/mails?consultation=k1"},
            {"consultation_id": "k2", "title": "Budżet <obywatelski>", "kind": "complete", "count": 41,
             "url": f"{BASE}/review/?consultation=k2"},
        ]}, producer="review"))


def notifications(ctx) -> list[Notification]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(Notification)))


@pytest.mark.parametrize("language, subject, lines", [
    ("pl", "Praca czekająca w konsultacjach – 30 listopada 2026 r.",
     ["– Przydzielone Pani/Panu uwagi bez rozstrzygnięcia: 3", "– Rozstrzygnięcia czekające na zatwierdzenie: 2",
      "– Wszystkie uwagi (41) mają rozstrzygnięcie: można zakończyć rozpatrywanie"]),
    ("en", "Work waiting in the consultations – 30 November 2026",
     ["– Comments assigned to you without a decision: 3", "– Decisions waiting for approval: 2",
      "– Every comment (41) has a decision: the review can be completed"]),
])
def test_the_digest_lists_each_consultations_work_with_its_links_once_a_day(ctx, dispatcher, sender, language,
                                                                            subject, lines):
    event = digest_event(language=language)
    dispatcher.dispatch(event)
    dispatcher.dispatch(parse_envelope({**event.to_envelope(), "id": str(uuid.uuid4())}))  # published again
    [row] = notifications(ctx)
    assert row.template == "staff_digest" and row.recipient == "anna@um.torun.pl"
    assert deliver_notification(ctx, row.id, sender=ctx.extras[SENDER], renderer=ctx.extras[RENDERER]) is Delivery.SENT
    [message] = sender.sent
    assert message["Subject"] == subject
    text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    body = text.split("\n\n", 2)[2]
    assert body.index("Program współpracy na 2026 r.") < body.index(lines[0]) < body.index(lines[1]) \
        < body.index("Budżet <obywatelski>") < body.index(lines[2])
    assert f"  {QUEUE}\n" in text and f"{BASE}/review/account" in text
    assert ("– E-maile czekające na przepisanie uwag: 1" if language == "pl"
            else "– E-mails waiting for their comments to be transcribed: 1") in body
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f'<a href="{QUEUE.replace("&", "&amp;")}">{lines[0][2:]}</a>' in html
    assert "Budżet &lt;obywatelski&gt;" in html and "<obywatelski>" not in html


def test_the_next_day_brings_a_new_digest(ctx, dispatcher):
    dispatcher.dispatch(digest_event(date(2026, 11, 30)))
    dispatcher.dispatch(digest_event(date(2026, 12, 1)))
    assert len(notifications(ctx)) == 2
