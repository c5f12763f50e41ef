"""Booking duty hours through the API and the pages, on SQLite: capacity, deadline, cancel link, reminders."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.common.db import upgrade
from services.common.settings import load_settings
from services.intake import app as intake_app
from services.intake import domain
from services.intake.bookings import handlers
from services.intake.models import Booking, DutySlot, Outbox
from tests.unit.intake_pages.helpers import csrf_token, open_consultation

WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path_factory.mktemp("var"))})
    upgrade("intake", settings.database_url("intake"))
    built = intake_app.create_app(ctx=intake_app.build(settings))
    built.config["INTAKE_FORM_RATE_LIMIT"] = "1000/minute"
    yield built
    built.extensions["uwagi"].close()


def warsaw_today() -> date:
    """The consultation's calendar day: between midnight in Warsaw and midnight UTC the machine's date is a day
    behind, and "the day before" a duty day is reckoned in Warsaw."""
    return datetime.now(WARSAW).date()


def future_day(days=10):
    day = warsaw_today() + timedelta(days=days)
    return domain.DutyDay(day, time(9), time(11), "Urząd Miasta Torunia, ul. Wały gen. Sikorskiego 8",
                          datetime.combine(day - timedelta(days=1), time(15, 30), tzinfo=WARSAW),
                          slot_minutes=30, room="sala nr 34")


def past_deadline_day():
    day = warsaw_today() + timedelta(days=1)
    return domain.DutyDay(day, time(9), time(10), "Urząd", datetime.now(WARSAW) - timedelta(hours=1), slot_minutes=30)


def events(app, event_type):
    with app.extensions["uwagi"].db.transaction() as session:
        return [row for row in session.scalars(select(Outbox)) if row.event_type == event_type]


def slot_of(app, slot_id):
    with app.extensions["uwagi"].db.transaction() as session:
        return session.get(DutySlot, slot_id)


def test_slots_are_listed_with_what_is_left(app):
    consultation = open_consultation(app, duty_days=(future_day(), past_deadline_day()))
    slots = app.test_client().get(f"/intake/api/v1/consultations/{consultation.id}/slots").get_json()
    assert len(slots) == 6
    open_ones = [s for s in slots if s["available"] == 1]
    assert len(open_ones) == 4 and all(s["capacity"] == 1 for s in slots)
    assert {"id", "starts_at", "ends_at", "capacity", "available"} <= set(slots[0])


def test_a_slot_of_capacity_one_takes_one_booking_then_409(app):
    consultation = open_consultation(app, duty_days=(future_day(),))
    client = app.test_client()
    slot = client.get(f"/intake/api/v1/consultations/{consultation.id}/slots").get_json()[0]
    body = {"slot_id": slot["id"], "name": "Anna Nowak", "email": "anna@example.pl", "phone": "56 611 87 24",
            "topic": "Procedury konkursowe"}
    first = client.post(f"/intake/api/v1/consultations/{consultation.id}/bookings", json=body)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["cancel_url"].startswith("http://127.0.0.1")
    second = client.post(f"/intake/api/v1/consultations/{consultation.id}/bookings", json={**body, "email": "b@example.pl"})
    assert second.status_code == 409 and second.get_json()["errors"] == {"slot_id": ["full"]}
    assert slot_of(app, slot["id"]).booked == 1
    confirmed = [e for e in events(app, "booking.confirmed") if e.envelope["data"]["consultation_id"] == consultation.id]
    assert len(confirmed) == 1
    data = confirmed[0].envelope["data"]
    assert data["room"] == "sala nr 34" and data["topic"] == "Procedury konkursowe" and data["cancel_url"]


@pytest.mark.parametrize("slot_id, code", [("no-such-slot", "unknown_slot"), (None, "deadline_passed")])
def test_a_bad_slot_or_a_passed_deadline_is_422(app, slot_id, code):
    consultation = open_consultation(app, duty_days=(past_deadline_day(),))
    client = app.test_client()
    if slot_id is None:
        slot_id = client.get(f"/intake/api/v1/consultations/{consultation.id}/slots").get_json()[0]["id"]
    response = client.post(f"/intake/api/v1/consultations/{consultation.id}/bookings",
                           json={"slot_id": slot_id, "name": "Anna", "email": "anna@example.pl"})
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]["slot_id"] == [code]


def test_the_cancel_link_frees_the_slot_once_and_tells_notify_once(app):
    consultation = open_consultation(app, duty_days=(future_day(),))
    ctx = app.extensions["uwagi"]
    slot_id = handlers.list_slots(ctx, consultation.id)[0]["id"]
    receipt = handlers.book_slot(ctx, handlers.BookSlot(consultation.id, slot_id, "Anna Nowak", "anna@example.pl"))
    client = app.test_client()
    manage_url = receipt.cancel_url.split("127.0.0.1:8000", 1)[1]
    page = client.get(manage_url).get_data(as_text=True)
    assert "Odwołaj rezerwację" in page
    assert client.get(manage_url).headers["Cache-Control"] == "no-store"
    token = csrf_token(client, manage_url)
    for _ in range(2):  # a second click changes nothing
        response = client.post(manage_url, data={"csrf_token": token, "token": receipt.token})
        assert response.status_code == 200 and "Rezerwacja odwołana" in response.get_data(as_text=True)
    assert slot_of(app, slot_id).booked == 0
    cancelled = [e for e in events(app, "booking.cancelled") if e.envelope["data"]["booking_id"] == receipt.booking_id]
    assert len(cancelled) == 1
    # the freed slot can be booked again
    handlers.book_slot(ctx, handlers.BookSlot(consultation.id, slot_id, "Jan Kowalski", "jan@example.pl"))


def test_a_wrong_cancel_token_is_404(app):
    consultation = open_consultation(app, duty_days=(future_day(),))
    ctx = app.extensions["uwagi"]
    slot_id = handlers.list_slots(ctx, consultation.id)[0]["id"]
    receipt = handlers.book_slot(ctx, handlers.BookSlot(consultation.id, slot_id, "Anna", "anna@example.pl"))
    assert app.test_client().get(f"/intake/bookings/{receipt.booking_id}/cancel?token=wrong").status_code == 404


def test_the_public_booking_page_works_without_javascript(app):
    consultation = open_consultation(app, duty_days=(future_day(),))
    client = app.test_client()
    url = f"/intake/c/{consultation.id}/booking"
    page = client.get(url).get_data(as_text=True)
    slot_ids = re.findall(r'name="slot_id" value="([^"]+)"', page)
    assert len(slot_ids) == 4 and "Zarezerwuj termin dyżuru" in page
    token = csrf_token(client, url)
    missing = client.post(url, data={"csrf_token": token, "name": "", "email": "x"})
    body = missing.get_data(as_text=True)
    assert missing.status_code == 422 and "Prosimy wybrać termin." in body
    # every problem at once: the time, the name and the address, not one kind after another
    assert "Prosimy podać imię i nazwisko." in body and "w poprawnym formacie" in body
    done = client.post(url, data={"csrf_token": token, "slot_id": slot_ids[0], "name": "Anna Nowak",
                                  "email": "anna@example.pl", "phone": "", "topic": ""})
    assert done.status_code == 303 and "/intake/bookings/" in done.headers["Location"]
    confirmation = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Termin dyżuru zarezerwowany" in confirmation and "anna@example.pl" in confirmation
    taken = client.post(url, data={"csrf_token": token, "slot_id": slot_ids[0], "name": "Jan", "email": "jan@example.pl"})
    assert taken.status_code == 409 and "przed chwilą zarezerwowany" in taken.get_data(as_text=True)
    # the consultation page links the booking
    assert url in client.get(f"/intake/c/{consultation.id}").get_data(as_text=True)


def test_staff_book_for_a_caller_by_phone_and_print_the_day(app):
    consultation = open_consultation(app, duty_days=(future_day(),))
    ctx = app.extensions["uwagi"]
    headers = {"Authorization": "Bearer " + ctx.signer.issue("u-k", "koordynator@example.org", "coordinator")}
    client = app.test_client()
    url = f"/intake/staff/consultations/{consultation.id}/bookings"
    page = client.get(url, headers=headers).get_data(as_text=True)
    slot_id = re.search(r'<option value="([0-9a-f-]{36})"', page).group(1)
    response = client.post(url, headers=headers, data={"slot_id": slot_id, "name": "Jan Kowalski",
                                                      "phone": "+48 600 100 200", "email": "", "topic": "Dotacje"})
    assert response.status_code == 303
    schedule = client.get(url, headers=headers).get_data(as_text=True)
    assert "Jan Kowalski" in schedule and "+48 600 100 200" in schedule and "telefonicznie" in schedule
    with ctx.db.transaction() as session:
        booking = session.scalar(select(Booking).where(Booking.slot_id == slot_id))
        assert booking.booked_by == "koordynator@example.org" and booking.email is None
    # without an e-mail address there is nobody to write to
    assert not [e for e in events(app, "booking.confirmed") if e.envelope["data"]["booking_id"] == booking.id]


def test_the_reminder_goes_once_the_day_before_and_not_for_cancelled_bookings(app):
    consultation = open_consultation(app, duty_days=(future_day(days=1),))
    ctx = app.extensions["uwagi"]
    slots = handlers.list_slots(ctx, consultation.id)
    kept = handlers.book_slot(ctx, handlers.BookSlot(consultation.id, slots[0]["id"], "Anna", "anna@example.pl"),
                              now=datetime.now(UTC) - timedelta(days=1))
    dropped = handlers.book_slot(ctx, handlers.BookSlot(consultation.id, slots[1]["id"], "Jan", "jan@example.pl"),
                                 now=datetime.now(UTC) - timedelta(days=1))
    handlers.cancel_booking(ctx, dropped.booking_id, token=dropped.token)
    assert handlers.send_due_reminders(ctx) >= 1
    assert handlers.send_due_reminders(ctx) == 0  # a second sweep sends nothing
    reminded = {e.envelope["data"]["booking_id"] for e in events(app, "booking.reminder")}
    assert kept.booking_id in reminded and dropped.booking_id not in reminded


def test_editing_duty_days_keeps_booked_slots_and_drops_unbooked_ones(app):
    consultation = open_consultation(app, duty_days=(future_day(days=10), future_day(days=11)))
    ctx = app.extensions["uwagi"]
    slots = handlers.list_slots(ctx, consultation.id)
    booked = handlers.book_slot(ctx, handlers.BookSlot(consultation.id, slots[-1]["id"], "Anna", "anna@example.pl"))
    from services.intake import handlers as intake_handlers

    intake_handlers.edit_consultation(ctx, consultation.id, {"duty_days": (future_day(days=10),)}, actor="test")
    remaining = {s["id"] for s in handlers.list_slots(ctx, consultation.id)}
    assert booked.slot.id in remaining and len(remaining) == 5
