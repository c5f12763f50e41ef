"""Booking e-mails carry an iCalendar invitation (REQUEST) and its cancellation (CANCEL) for the same UID."""

from __future__ import annotations

import email
from email import policy
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from services.notify.domain import Template
from services.notify.rendering import Renderer, build_message

BOOKING = {
    "name": "Zofia Żółkiewska", "recipient": "zofia@example.pl", "booking_id": "7b0c3c1e-0f49-4c1c-9d6a-1f2e3d4c5b6a",
    "slot_starts_at": "2024-10-08T07:00:00+00:00", "slot_ends_at": "2024-10-08T07:30:00+00:00",
    "place": "Urząd Miasta Torunia, ul. Wały gen. Sikorskiego 8, II piętro", "room": "sala nr 34",
    "topic": "Procedury konkursowe; przecinek, średnik", "consultation_title": "Wspólnie o programie współpracy z NGO",
    "cancel_url": "http://127.0.0.1:8000/intake/bookings/7b0c/cancel?token=abc",
    "office": {"organiser": "Wydział Komunikacji Społecznej i Informacji", "contact_email": "konsultacje@um.torun.pl",
               "contact_phone": "56 611 87 24", "postal_address": "ul. Wały gen. Sikorskiego 8\n87-100 Toruń"},
}


def mail(template: Template, language: str = "pl", context: dict = BOOKING) -> email.message.EmailMessage:
    rendered = Renderer(timezone=ZoneInfo("Europe/Warsaw")).render(template, language, context)
    message = build_message(rendered, sender="konsultacje@um.torun.pl", recipient=BOOKING["recipient"],
                            message_id="<b@uwagi>")
    return email.message_from_bytes(message.as_bytes(), policy=policy.default)


def invitation(message) -> tuple[object, Calendar]:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return parts[0], Calendar.from_ical(parts[0].get_payload(decode=True))


@pytest.mark.parametrize("language", ["pl", "en"])
def test_the_confirmation_has_a_request_for_the_slot_in_utc(language):
    message = mail(Template.BOOKING_CONFIRMED, language)
    part, calendar = invitation(message)
    assert part.get_param("method") == "REQUEST" and part.get_filename() == "zaproszenie.ics"
    assert calendar["method"] == "REQUEST"
    event = calendar.walk("VEVENT")[0]
    assert str(event["uid"]) == f"{BOOKING['booking_id']}@uwagi"
    assert event.decoded("dtstart").isoformat() == "2024-10-08T07:00:00+00:00"
    assert event.decoded("dtend").isoformat() == "2024-10-08T07:30:00+00:00"
    assert str(event["location"]) == "Urząd Miasta Torunia, ul. Wały gen. Sikorskiego 8, II piętro, sala nr 34"
    assert "Procedury konkursowe; przecinek, średnik" in str(event["description"])  # escaped and read back whole
    assert str(event["organizer"]) == "mailto:konsultacje@um.torun.pl"
    assert str(event["attendee"]) == "mailto:zofia@example.pl"
    body = message.get_body(("plain",)).get_content()
    assert BOOKING["cancel_url"] in body


def test_the_cancellation_cancels_the_same_event():
    _, request = invitation(mail(Template.BOOKING_CONFIRMED))
    part, cancel = invitation(mail(Template.BOOKING_CANCELLED))
    assert part.get_param("method") == "CANCEL" and cancel["method"] == "CANCEL"
    first, second = request.walk("VEVENT")[0], cancel.walk("VEVENT")[0]
    assert first["uid"] == second["uid"]
    assert int(second["sequence"]) > int(first["sequence"]) and str(second["status"]) == "CANCELLED"


def test_the_reminder_is_plain_and_formal():
    message = mail(Template.BOOKING_REMINDER)
    assert not [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    body = message.get_body(("plain",)).get_content()
    assert body.startswith("Szanowni Państwo,") and "jutrzejszym" in body and "8 października 2024" in body


@pytest.mark.parametrize("template", [Template.BOOKING_CONFIRMED, Template.BOOKING_CANCELLED, Template.BOOKING_REMINDER])
def test_a_booking_e_mail_staged_before_the_office_signature_keeps_its_organiser(template):
    """A row staged before the booking e-mails were signed like the receipt has the organiser and contact loose."""
    old_row = {key: value for key, value in BOOKING.items() if key != "office"}
    old_row.update(organiser="Wydział Komunikacji Społecznej i Informacji", contact_email="konsultacje@um.torun.pl")
    message = mail(template, context=old_row)
    body = message.get_body(("plain",)).get_content()
    assert "Wydział Komunikacji Społecznej i Informacji" in body and "e-mail: konsultacje@um.torun.pl" in body
    if template is not Template.BOOKING_REMINDER:
        _, calendar = invitation(message)
        assert str(calendar.walk("VEVENT")[0]["organizer"]) == "mailto:konsultacje@um.torun.pl"
