from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.intake import domain as intake
from services.review.domain import Decide, DecisionRejected, validate_decision

WARSAW = ZoneInfo("Europe/Warsaw")


def test_a_deadline_day_ends_at_local_midnight_across_the_dst_change():
    # 26 Oct 2025 has 25 hours in Warsaw; "until 26 October" still ends at local midnight.
    end = intake.end_of_day(date(2025, 10, 26), WARSAW)
    assert end.astimezone(WARSAW).date() == date(2025, 10, 26)
    assert (end + timedelta(microseconds=1)).astimezone(WARSAW).hour == 0
    assert end.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("received, expected", [
    (datetime(2024, 10, 21, 23, 59, tzinfo=WARSAW), intake.Timing.ON_TIME),
    (datetime(2024, 10, 22, 0, 0, 1, tzinfo=WARSAW), intake.Timing.LATE),
    (datetime(2024, 10, 7, 23, 0, tzinfo=WARSAW), intake.Timing.NOT_YET_OPEN),
])
def test_timing_of_a_submission(received, expected):
    opens = datetime(2024, 10, 8, tzinfo=WARSAW)
    closes = intake.end_of_day(date(2024, 10, 21), WARSAW)
    assert intake.classify_timing(received, opens, closes) is expected


def test_reference_numbers_are_human_and_sortable():
    assert intake.format_reference(2024, 123) == "UW/2024/000123"


def test_status_tokens_are_checked_by_hash_in_constant_time():
    token = intake.new_status_token()
    stored = intake.hash_token(token)
    assert token not in stored
    assert intake.token_matches(token, stored)
    assert not intake.token_matches(token + "x", stored)


def test_submitter_with_an_organisation_is_an_organisation():
    assert intake.Submitter("Jan", "j@x.pl", True, organization="Fundacja").kind == "organization"
    assert intake.Submitter("Jan", "j@x.pl", True, organization="  ").kind == "person"


@pytest.mark.parametrize("decision", ["partially_accepted", "rejected", "not_considered"])
def test_a_justification_is_required_unless_accepted(decision):
    with pytest.raises(DecisionRejected) as error:
        validate_decision(Decide("c", decision, "   "))
    assert "justification" in error.value.errors


def test_an_accepted_comment_needs_no_justification_and_may_carry_final_wording():
    decided = validate_decision(Decide("c", "accepted", "", "  Nowe brzmienie  "))
    assert decided.final_text == "Nowe brzmienie"


def test_final_wording_does_not_go_with_a_rejection():
    with pytest.raises(DecisionRejected) as error:
        validate_decision(Decide("c", "rejected", "Nie", "Brzmienie"))
    assert "final_text" in error.value.errors


def test_unknown_decisions_are_refused():
    with pytest.raises(DecisionRejected):
        validate_decision(Decide("c", "approved-ish", "x"))
