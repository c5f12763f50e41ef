"""The comment page shows where a letter or a duty-hour note came from: who entered it, when, and from what; and
who signed the files an e-mail's comments came in."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.unit.review_triage.support import NOW, bearer, deliver, publish_consultation, staff


def received(ctx, consultation_id, channel, provenance=None, **more):
    comment_id = str(uuid.uuid4())
    deliver(ctx, "submission.received", {
        "submission_id": str(uuid.uuid4()), "consultation_id": consultation_id, "consultation_title": "Program",
        "reference": f"UW/2026/{uuid.uuid4().int % 10**6:06d}", "channel": channel, "received_at": NOW,
        "late": False, "status_url": "http://127.0.0.1/intake/status",
        "submitter": {"name": "Anna Nowak", "organization": None, "email": None, "publish_consent": False,
                      "kind": "person"},
        "comments": [{"comment_id": comment_id, "number": 1, "section": "§ 5", "proposal": "Dwa konkursy."}],
        **({"provenance": provenance} if provenance else {}), **more})
    return comment_id


def test_a_letter_shows_who_entered_it_when_and_its_postmark_and_scan(client, ctx):
    consultation = publish_consultation(ctx)
    headers = bearer(ctx, staff(ctx, f"r-{uuid.uuid4().hex[:6]}@um.example"))
    letter = received(ctx, consultation, "letter", {
        "entered_by": "sekretariat@um.torun.pl", "entered_at": NOW.isoformat(), "postmarked_on": "2024-10-21",
        "scan_sha256": "ab" * 32})
    html = client.get(f"/review/comments/{letter}", headers=headers).get_data(as_text=True)
    assert "<dd>Pismo</dd>" in html and 'id="provenance-heading">Pochodzenie</h2>' in html
    assert "sekretariat@um.torun.pl" in html and "21 października 2024 r." in html and "abababab" in html


def test_duty_hour_notes_show_the_conversation_and_web_comments_have_no_provenance_block(client, ctx):
    consultation = publish_consultation(ctx)
    headers = bearer(ctx, staff(ctx, f"r-{uuid.uuid4().hex[:6]}@um.example"))
    notes = received(ctx, consultation, "duty_hours", {
        "entered_by": "dyzur@um.torun.pl", "entered_at": NOW.isoformat(), "booking_id": "b-1",
        "booking_starts_at": (NOW - timedelta(hours=1)).isoformat()})
    web = received(ctx, consultation, "web")
    html = client.get(f"/review/comments/{notes}", headers=headers).get_data(as_text=True)
    assert "Rozmowa na dyżurze" in html and "dyzur@um.torun.pl" in html and "Dyżur" in html
    assert "provenance-heading" not in client.get(f"/review/comments/{web}", headers=headers).get_data(as_text=True)


def test_comments_from_a_signed_form_name_who_signed_it_and_say_it_is_not_verified(client, ctx):
    consultation = publish_consultation(ctx)
    headers = bearer(ctx, staff(ctx, f"r-{uuid.uuid4().hex[:6]}@um.example"))
    signed = received(ctx, consultation, "email",
                      signed_by=["Anna Nowak (Stowarzyszenie Przyjaciół Torunia)", "Jan Kowalski"])
    html = client.get(f"/review/comments/{signed}", headers=headers).get_data(as_text=True)
    assert 'id="provenance-heading">Pochodzenie</h2>' in html
    assert "Pliki podpisane elektronicznie przez" in html
    assert "Anna Nowak (Stowarzyszenie Przyjaciół Torunia), Jan Kowalski" in html
    assert "Uwagi nie weryfikuje podpisów" in html
    assert "Wprowadził(a)" not in html  # no one on the staff entered it: the resident sent it
    unsigned = received(ctx, consultation, "email")
    assert "provenance-heading" not in client.get(f"/review/comments/{unsigned}", headers=headers).get_data(
        as_text=True)
