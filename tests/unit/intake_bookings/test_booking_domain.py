"""Duty days split into slots; booking closes at the day's deadline; the person's data is checked."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.intake.bookings.domain import (
    BookingRefused,
    BookSlot,
    InvalidBooking,
    check_open_for_booking,
    plan_slots,
    validate_booking,
)
from services.intake.domain import DutyDay

WARSAW = ZoneInfo("Europe/Warsaw")


def day(slot_minutes=30, starts=time(9), ends=time(17)):
    # The announcement's first duty day: 8 October 2024, booking until 15:30 the day before.
    return DutyDay(date(2024, 10, 8), starts, ends, "Urząd Miasta Torunia, ul. Wały gen. Sikorskiego 8",
                   datetime(2024, 10, 7, 15, 30, tzinfo=WARSAW), slot_minutes=slot_minutes, room="sala nr 34")


def test_a_working_day_of_nine_to_five_gives_sixteen_half_hour_slots_in_local_time():
    slots = plan_slots(day(), WARSAW)
    assert len(slots) == 16
    assert slots[0].starts_at == datetime(2024, 10, 8, 9, 0, tzinfo=WARSAW)
    assert slots[-1].ends_at == datetime(2024, 10, 8, 17, 0, tzinfo=WARSAW)
    assert all(s.capacity == 1 and s.room == "sala nr 34" for s in slots)
    assert all(b.starts_at == a.ends_at for a, b in zip(slots, slots[1:]))


def test_a_remainder_shorter_than_a_slot_is_not_offered():
    slots = plan_slots(day(slot_minutes=45), WARSAW)
    assert len(slots) == 10  # 9:00 … 16:30–17:15 would overrun the day
    assert slots[-1].ends_at == datetime(2024, 10, 8, 16, 30, tzinfo=WARSAW)


def test_slots_across_the_autumn_clock_change_keep_local_times():
    october_27 = DutyDay(date(2024, 10, 27), time(9), time(11), "Urząd", datetime(2024, 10, 25, 15, tzinfo=WARSAW))
    slots = plan_slots(october_27, WARSAW)
    assert [s.starts_at.astimezone(WARSAW).strftime("%H:%M") for s in slots] == ["09:00", "09:30", "10:00", "10:30"]
    assert slots[0].starts_at.utcoffset() == timedelta(hours=1)  # CET after the change


@pytest.mark.parametrize("now, code", [
    (datetime(2024, 10, 7, 15, 30, tzinfo=WARSAW), None),  # at the deadline itself: still open
    (datetime(2024, 10, 7, 15, 31, tzinfo=WARSAW), "deadline_passed"),
    (datetime(2024, 10, 8, 9, 0, tzinfo=WARSAW), "slot_past"),
])
def test_booking_closes_at_the_days_deadline_in_local_time(now, code):
    args = dict(booking_deadline=datetime(2024, 10, 7, 15, 30, tzinfo=WARSAW),
                starts_at=datetime(2024, 10, 8, 9, 0, tzinfo=WARSAW), now=now)
    if code is None:
        check_open_for_booking(**args)
    else:
        with pytest.raises(BookingRefused) as refused:
            check_open_for_booking(**args)
        assert refused.value.code == code


def test_the_public_must_give_a_name_and_an_email_and_data_is_trimmed():
    with pytest.raises(InvalidBooking) as invalid:
        validate_booking(BookSlot("c", "s", name="  ", email="", phone="abc"))
    assert invalid.value.errors == {"name": ["required"], "email": ["required"], "phone": ["phone"]}
    ok = validate_booking(BookSlot("c", "s", name="  Anna   Nowak ", email=" anna@example.pl ", phone=" 56 611 87 24 "))
    assert (ok.name, ok.email, ok.phone, ok.topic) == ("Anna Nowak", "anna@example.pl", "56 611 87 24", None)


def test_staff_may_book_for_a_caller_without_email():
    booked = validate_booking(BookSlot("c", "s", name="Jan Kowalski", email=None, phone="+48 600 100 200",
                                       booked_by="koordynator@example.org"))
    assert booked.email is None and booked.booked_by == "koordynator@example.org"
