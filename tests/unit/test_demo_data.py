"""The demo consultation is Toruń's, for the year it names, and its duty days and booking deadlines fall on
working days whatever day `make run` starts."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.common.workdays import is_working_day, polish_holidays
from services.demo import demo_consultation, demo_title

WARSAW = ZoneInfo("Europe/Warsaw")


def test_polish_public_holidays_include_the_movable_ones():
    assert {date(2026, 4, 5), date(2026, 4, 6), date(2026, 5, 24), date(2026, 6, 4),  # Easter, Easter Monday,
            date(2026, 11, 11), date(2026, 12, 24)} <= polish_holidays(2026)        # Pentecost, Corpus Christi
    assert not is_working_day(date(2026, 11, 29)) and is_working_day(date(2026, 11, 30))


@pytest.mark.parametrize("today", [date(2026, 11, 26) + timedelta(days=offset) for offset in range(0, 42)]
                         + [date(2026, 12, 20), date(2027, 4, 1), date(2026, 10, 28)])
def test_duty_days_and_their_booking_deadlines_fall_on_working_days(today):
    consultation = demo_consultation(today, WARSAW)
    for day in consultation.duty_days:
        assert is_working_day(day.date), (today, day.date)
        deadline = day.booking_deadline.astimezone(WARSAW).date()
        assert is_working_day(deadline) and deadline < day.date, (today, deadline)
        assert deadline > today, (today, deadline)  # open all day, whatever hour `make run` starts
    assert is_working_day(consultation.closes_at.astimezone(WARSAW).date())  # the deadline too


def test_the_title_names_the_year_of_the_programme_the_dates_belong_to():
    assert demo_title(date(2026, 11, 26)) == "Wspólnie o programie współpracy z NGO na 2027 r. – II etap"
    consultation = demo_consultation(date(2026, 11, 26), WARSAW)
    assert "2027 r." in consultation.description and "2025" not in consultation.description
    assert consultation.closes_at.year == 2026
