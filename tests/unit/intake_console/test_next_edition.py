"""Next year's consultation from last year's: the copied form's dates and years, and the days the office is shut.

The expected dates were counted on a calendar from the 2024 announcement (duty days on Tuesday 8 and Monday
14 October 2024, bookings until 7 October 15:30 and 13 October 15:00, comments until 21 October)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from services.intake import domain
from services.intake.console_forms import ConsultationForm, editions_ahead, years_moved
from tests.unit.intake_console.test_consultation_domain import WARSAW, details, duty_day

ANNOUNCEMENT_2024 = details(
    title="Wspólnie o programie współpracy z NGO na 2025 r. - II etap",
    description=("Na uwagi czekamy do 21 października 2024.\n\n"
                 "Program na rok 2025 powstaje w procedurze partycypacyjnej."),
    legal_basis="art. 5a ust. 1 ustawy (Dz. U. z 2024 r. poz. 1491)",
    duty_days=(duty_day(date(2024, 10, 8), booking_deadline=datetime(2024, 10, 7, 15, 30, tzinfo=WARSAW)),
               duty_day(date(2024, 10, 14), booking_deadline=datetime(2024, 10, 13, 15, 0, tzinfo=WARSAW),
                        slot_minutes=20)),
)


def test_a_copy_made_in_the_next_summer_moves_one_year_on_the_same_weekdays():
    form, years = ConsultationForm.next_edition(ANNOUNCEMENT_2024, WARSAW, date(2025, 8, 20))
    assert years == 1
    values = form.values
    assert (values["opens_on"], values["opens_time"]) == ("2025-09-30", "00:00")  # Tuesday 1 Oct 2024 + 52 weeks
    assert (values["closes_on"], values["closes_time"]) == ("2025-10-20", "")  # a Monday, to the end of the day
    assert values["title"] == "Wspólnie o programie współpracy z NGO na 2026 r. - II etap"
    assert values["description"] == ("Na uwagi czekamy do 21 października 2025.\n\n"
                                     "Program na rok 2026 powstaje w procedurze partycypacyjnej.")
    assert values["legal_basis"] == "art. 5a ust. 1 ustawy (Dz. U. z 2024 r. poz. 1491)"  # a citation keeps its year
    first, second, blank = form.days
    assert (first["date"], first["starts"], first["ends"]) == ("2025-10-07", "09:00", "17:00")  # a Tuesday again
    assert (first["booking_date"], first["booking_time"]) == ("2025-10-06", "15:30")
    assert (second["date"], second["booking_date"], second["booking_time"]) == ("2025-10-13", "2025-10-12", "15:00")
    assert (second["place"], second["room"], second["slot_minutes"]) == (
        "Urząd Miasta Torunia, ul. Wały gen. Sikorskiego 8", "sala nr 34", "20")
    assert blank["date"] == ""
    assert form.channels == list(ANNOUNCEMENT_2024.channels)
    assert values["topics"] == "\n".join(ANNOUNCEMENT_2024.topics)
    assert values["late_policy"] == "flag" and values["decisions_need_approval"] == "yes"


def test_the_copied_form_saves_as_it_reads():
    form, _ = ConsultationForm.next_edition(ANNOUNCEMENT_2024, WARSAW, date(2025, 8, 20))
    fields = form.to_fields(WARSAW)
    assert fields is not None, form.errors
    assert fields["opens_at"] == datetime(2025, 9, 30, 0, 0, tzinfo=WARSAW)
    assert fields["closes_at"] == domain.end_of_day(date(2025, 10, 20), WARSAW)
    assert [d.date for d in fields["duty_days"]] == [date(2025, 10, 7), date(2025, 10, 13)]
    assert fields["duty_days"][1].booking_deadline == datetime(2025, 10, 12, 15, 0, tzinfo=WARSAW)
    assert domain.validate_details(domain.ConsultationDetails(**fields), WARSAW) == {}


def test_a_copy_of_an_older_consultation_moves_as_many_years_as_it_takes():
    assert editions_ahead(date(2024, 10, 1), date(2026, 11, 29)) == 3  # 2025-09-30, 2026-09-29 passed
    form, years = ConsultationForm.next_edition(ANNOUNCEMENT_2024, WARSAW, date(2026, 11, 29))
    assert years == 3 and form.values["opens_on"] == "2027-09-28"
    assert form.values["title"] == "Wspólnie o programie współpracy z NGO na 2028 r. - II etap"


def test_a_copy_of_a_consultation_not_yet_open_keeps_its_dates():
    form, years = ConsultationForm.next_edition(ANNOUNCEMENT_2024, WARSAW, date(2024, 9, 15))
    assert years == 0 and form.values["opens_on"] == "2024-10-01" and form.days[0]["date"] == "2024-10-08"
    assert form.values["title"] == ANNOUNCEMENT_2024.title
    assert editions_ahead(date(2024, 10, 1), date(2024, 9, 30)) == 0
    assert editions_ahead(date(2024, 10, 1), date(2024, 10, 1)) == 1  # opened today: next year's


def test_years_move_only_as_years():
    assert years_moved("Program na 2025 r., uchwała nr XII/2025/24, tel. 56 611 2025, (2025), 2025-10-21", 1) == \
        "Program na 2026 r., uchwała nr XII/2025/24, tel. 56 611 2025, (2026), 2026-10-21"
    assert years_moved("kod 120251, rok 1999, 2100 zł", 1) == "kod 120251, rok 1999, 2100 zł"
    assert years_moved("na 2025 r.", 0) == "na 2025 r."


def test_duty_days_and_a_deadline_on_days_the_office_is_shut_are_found():
    shut = replace(ANNOUNCEMENT_2024,
                   opens_at=datetime(2027, 10, 25, tzinfo=WARSAW),
                   closes_at=domain.end_of_day(date(2027, 11, 14), WARSAW),  # a Sunday
                   duty_days=(duty_day(date(2027, 10, 26)),  # a Tuesday
                              duty_day(date(2027, 11, 1)),  # All Saints' Day, a Monday
                              duty_day(date(2027, 11, 11)),  # Independence Day, a Thursday
                              duty_day(date(2027, 11, 13))))  # a Saturday
    assert domain.days_off_ahead(shut, WARSAW, date(2027, 10, 1)) == [
        ("duty_day_off", date(2027, 11, 1)), ("duty_day_off", date(2027, 11, 11)),
        ("duty_day_off", date(2027, 11, 13)), ("deadline_day_off", date(2027, 11, 14))]
    # Days that have passed are past worrying about.
    assert domain.days_off_ahead(shut, WARSAW, date(2027, 11, 12)) == [
        ("duty_day_off", date(2027, 11, 13)), ("deadline_day_off", date(2027, 11, 14))]
    assert domain.days_off_ahead(ANNOUNCEMENT_2024, WARSAW, date(2024, 9, 1)) == []
