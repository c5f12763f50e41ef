"""Calendar invitations (RFC 5545 / iTIP RFC 5546) for booked duty hours, built with `icalendar`.

A confirmation carries METHOD:REQUEST and a cancellation METHOD:CANCEL for the
same UID, with a higher SEQUENCE, so a calendar program removes the meeting it
added. The UID is the booking's id, stable across both messages.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Mapping, cast

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Uwagi//konsultacje//PL"


def booking_invitation(context: Mapping[str, object], *, method: str, stamp: datetime | None = None) -> bytes:
    """The .ics of one booking. `context` is the booking e-mail's context (ISO times, aware)."""
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(method)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", f"{context['booking_id']}@uwagi")
    event.add("dtstamp", stamp or datetime.now(timezone.utc))
    event.add("dtstart", datetime.fromisoformat(str(context["slot_starts_at"])).astimezone(timezone.utc))
    event.add("dtend", datetime.fromisoformat(str(context["slot_ends_at"])).astimezone(timezone.utc))
    title = str(context.get("consultation_title") or "")
    summary = "Dyżur konsultacyjny" if str(context.get("language", "pl")) == "pl" else "Consultation duty hour"
    event.add("summary", f"{summary}: {title}" if title else summary)
    location = ", ".join(part for part in (str(context.get("place") or ""), str(context.get("room") or "")) if part)
    if location:
        event.add("location", location)
    topic = str(context.get("topic") or "")
    cancel_url = str(context.get("cancel_url") or "")
    description = "\n".join(part for part in (topic, cancel_url) if part)
    if description:
        event.add("description", description)
    # The office that signs the e-mail organises the meeting: replies to the invitation reach it.
    office = cast(Mapping[str, object], context.get("office") or {})
    organiser_email = str(office.get("contact_email") or "")
    if organiser_email:
        organizer = vCalAddress(f"mailto:{organiser_email}")
        organizer.params["cn"] = vText(str(office.get("organiser") or organiser_email))
        event["organizer"] = organizer
    if context.get("recipient"):
        attendee = vCalAddress(f"mailto:{context['recipient']}")
        attendee.params["cn"] = vText(str(context.get("name") or ""))
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=0)
    # A cancellation supersedes the request: same UID, higher sequence.
    event.add("sequence", 1 if method == "CANCEL" else 0)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
