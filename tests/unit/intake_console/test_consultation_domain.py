"""The consultation's lifecycle and edit rules, as pure functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.intake import domain
from services.intake.domain import LifecycleRefused, State, Step

WARSAW = ZoneInfo("Europe/Warsaw")
OPENS = datetime(2024, 10, 1, 0, 0, tzinfo=WARSAW)
CLOSES = domain.end_of_day(date(2024, 10, 21), WARSAW)
DURING = datetime(2024, 10, 10, 12, 0, tzinfo=WARSAW)
AFTER = datetime(2024, 10, 22, 9, 0, tzinfo=WARSAW)


def duty_day(day: date, **overrides) -> domain.DutyDay:
    fields = {"date": day, "starts": time(9), "ends": time(17), "place": "Urząd Miasta Torunia, ul. Wały gen. Sikorskiego 8",
              "room": "sala nr 34", "booking_deadline": datetime.combine(day - timedelta(days=1), time(15, 30), WARSAW),
              "slot_minutes": 30}
    return domain.DutyDay(**{**fields, **overrides})


def details(**overrides) -> domain.ConsultationDetails:
    fields = {"title": "Wspólnie o programie współpracy z NGO na 2025 r.", "stage": "II etap", "opens_at": OPENS,
              "closes_at": CLOSES, "organiser": "Wydział Komunikacji Społecznej i Informacji",
              "topics": ("Procedury konkursowe",), "contact_email": "konsultacje@um.torun.pl",
              "contact_phone": "56 611 87 24", "postal_address": "ul. Wały gen. Sikorskiego 8, 87-100 Toruń",
              "duty_days": (duty_day(date(2024, 10, 8)), duty_day(date(2024, 10, 14)))}
    return domain.ConsultationDetails(**{**fields, **overrides})


# --- the lifecycle -------------------------------------------------------------------


@pytest.mark.parametrize("state, step, now, expected", [
    (State.DRAFT, Step.OPEN, DURING, State.OPEN),
    (State.OPEN, Step.CLOSE, AFTER, State.CLOSED),
    (State.CLOSED, Step.START_REVIEW, AFTER, State.IN_REVIEW),
    (State.IN_REVIEW, Step.PUBLISH_REPORT, AFTER, State.REPORT_PUBLISHED),
])
def test_each_step_leads_to_the_next_state(state, step, now, expected):
    transition = domain.plan_step(state, step, closes_at=CLOSES, channels=["web"], now=now)
    assert transition.to_state is expected and transition.from_state is state


@pytest.mark.parametrize("state, step", [
    (State.DRAFT, Step.CLOSE), (State.DRAFT, Step.START_REVIEW), (State.DRAFT, Step.PUBLISH_REPORT),
    (State.OPEN, Step.OPEN), (State.OPEN, Step.PUBLISH_REPORT), (State.CLOSED, Step.PUBLISH_REPORT),
    (State.CLOSED, Step.CLOSE), (State.IN_REVIEW, Step.START_REVIEW), (State.REPORT_PUBLISHED, Step.PUBLISH_REPORT),
    (State.REPORT_PUBLISHED, Step.CLOSE),
])
def test_steps_out_of_order_are_refused(state, step):
    now = DURING if state in (State.DRAFT, State.OPEN) else AFTER
    with pytest.raises(LifecycleRefused) as refused:
        domain.plan_step(state, step, closes_at=CLOSES, channels=["web"], now=now, reason="bo tak")
    assert refused.value.code == "not_allowed"


def test_an_open_consultation_reads_as_closed_once_its_deadline_passes():
    assert domain.effective_state(State.OPEN, CLOSES, CLOSES) is State.OPEN
    assert domain.effective_state(State.OPEN, CLOSES, CLOSES + timedelta(microseconds=1)) is State.CLOSED
    assert domain.effective_state("draft", CLOSES, AFTER) is State.DRAFT
    assert domain.effective_state("in_review", CLOSES, AFTER) is State.IN_REVIEW


def test_a_passed_deadline_still_lets_the_close_be_recorded_and_the_review_started():
    transition = domain.plan_step(State.OPEN, Step.CLOSE, closes_at=CLOSES, channels=["web"], now=AFTER)
    assert transition.to_state is State.CLOSED and transition.closes_at == CLOSES
    assert domain.available_steps(State.OPEN, CLOSES, AFTER) == [Step.CLOSE, Step.START_REVIEW]


def test_closing_early_needs_a_reason_and_moves_the_deadline_to_now():
    with pytest.raises(LifecycleRefused) as refused:
        domain.plan_step(State.OPEN, Step.CLOSE, closes_at=CLOSES, channels=["web"], now=DURING, reason="  ")
    assert refused.value.code == "reason_required"
    transition = domain.plan_step(State.OPEN, Step.CLOSE, closes_at=CLOSES, channels=["web"], now=DURING,
                                  reason="Projekt wycofany")
    assert transition.closes_at == DURING and transition.reason == "Projekt wycofany"


def test_a_draft_opens_only_with_a_closing_date_ahead_and_a_channel():
    with pytest.raises(LifecycleRefused) as refused:
        domain.plan_step(State.DRAFT, Step.OPEN, closes_at=CLOSES, channels=["web"], now=AFTER)
    assert refused.value.code == "closes_in_past"
    with pytest.raises(LifecycleRefused) as refused:
        domain.plan_step(State.DRAFT, Step.OPEN, closes_at=CLOSES, channels=[], now=DURING)
    assert refused.value.code == "no_channels"


def test_reopening_the_review_after_publication_needs_a_reason():
    with pytest.raises(LifecycleRefused) as refused:
        domain.plan_step(State.REPORT_PUBLISHED, Step.REOPEN_REVIEW, closes_at=CLOSES, channels=["web"], now=AFTER)
    assert refused.value.code == "reason_required"
    transition = domain.plan_step(State.REPORT_PUBLISHED, Step.REOPEN_REVIEW, closes_at=CLOSES, channels=["web"],
                                  now=AFTER, reason="Korekta stanowiska")
    assert transition.to_state is State.IN_REVIEW


def test_the_console_offers_only_the_manual_steps_of_the_state():
    assert domain.available_steps(State.DRAFT, CLOSES, DURING) == [Step.OPEN]
    assert domain.available_steps(State.OPEN, CLOSES, DURING) == [Step.CLOSE]
    assert domain.available_steps(State.CLOSED, CLOSES, AFTER) == [Step.START_REVIEW]
    assert domain.available_steps(State.IN_REVIEW, CLOSES, AFTER) == []
    assert domain.available_steps(State.REPORT_PUBLISHED, CLOSES, AFTER) == []


# --- validation ------------------------------------------------------------------------


def test_the_2024_announcement_is_valid_and_ready():
    assert domain.validate_details(details(), WARSAW) == {}
    assert domain.readiness_warnings(details()) == []


def test_inconsistent_details_are_reported_per_field():
    bad = details(closes_at=OPENS, topics=("Sport", "sport"), duty_days=(
        duty_day(date(2024, 10, 8), ends=time(8)),
        duty_day(date(2024, 10, 14), starts=time(9), ends=time(9, 20), slot_minutes=30),
        duty_day(date(2024, 10, 15), booking_deadline=datetime(2024, 10, 15, 10, tzinfo=WARSAW)),
    ))
    assert domain.validate_details(bad, WARSAW) == {
        "closes_at": "before_opening", "topics": "duplicate", "duty_days.0.ends": "ends_before_start",
        "duty_days.1.slot_minutes": "slot_too_long", "duty_days.2.booking_deadline": "booking_after_start",
    }


def test_missing_contact_data_for_the_offered_channels_is_a_warning_not_an_error():
    bare = details(contact_email=None, postal_address="", duty_days=(), organiser="")
    assert domain.validate_details(bare, WARSAW) == {}
    assert domain.readiness_warnings(bare) == ["email_channel_without_address", "letter_channel_without_address",
                                               "duty_hours_without_days", "no_organiser"]
    assert domain.readiness_warnings(replace(bare, channels=("web",), organiser="WKSiI")) == []


def test_details_compare_equal_whatever_shape_they_were_given_in():
    assert details(channels=["web", "email"], late_policy="flag", outcome_notice="at_publication") == details(
        channels=("web", "email"), late_policy=domain.LatePolicy.FLAG)
    assert domain.DutyDay.from_json(duty_day(date(2024, 10, 8)).as_json()) == duty_day(date(2024, 10, 8))


# --- what may change, by state -------------------------------------------------------------


def violations(state, **changes):
    current = details()
    return domain.edit_violations(state, current, replace(current, **changes), now=DURING, tz=WARSAW)


def test_a_draft_may_change_anything():
    assert violations(State.DRAFT, late_policy=domain.LatePolicy.REFUSE, channels=("web",), topics=(),
                      closes_at=CLOSES - timedelta(days=5), duty_days=()) == {}


def test_an_open_consultation_may_be_extended_and_added_to():
    assert violations(State.OPEN, closes_at=CLOSES + timedelta(days=7), topics=("Procedury konkursowe", "Sport"),
                      title="Nowy tytuł", contact_phone="56 611 00 00", outcome_notice="per_decision",
                      decisions_need_approval=False,
                      duty_days=(duty_day(date(2024, 10, 8)), duty_day(date(2024, 10, 15)))) == {}


def test_an_open_consultation_cannot_take_back_what_it_announced():
    assert violations(State.OPEN, closes_at=CLOSES - timedelta(days=1)) == {"closes_at": "only_extend"}
    assert violations(State.OPEN, channels=("web", "email")) == {"channels": "cannot_remove"}
    assert violations(State.OPEN, topics=()) == {"topics": "cannot_remove"}
    assert violations(State.OPEN, late_policy=domain.LatePolicy.REFUSE) == {"late_policy": "frozen"}
    assert violations(State.OPEN, opens_at=OPENS + timedelta(days=1)) == {"opens_at": "frozen"}


def test_a_duty_day_that_has_passed_stays_as_it_was():
    past, future = duty_day(date(2024, 10, 8)), duty_day(date(2024, 10, 14))
    assert violations(State.OPEN, duty_days=(future,)) == {"duty_days": "past_day_changed"}
    assert violations(State.OPEN, duty_days=(replace(past, room="sala 12"), future)) == {
        "duty_days": "past_day_changed"}
    assert violations(State.OPEN, duty_days=(past, replace(future, room="sala 12"))) == {}


@pytest.mark.parametrize("state, allowed, frozen", [
    (State.CLOSED, {"contact_phone": "56 000", "decisions_need_approval": False}, {"title": "X y z"}),
    (State.IN_REVIEW, {"postal_address": "ul. Nowa 1", "outcome_notice": "per_decision"},
     {"decisions_need_approval": False}),
    (State.REPORT_PUBLISHED, {"description": "Dziękujemy."}, {"outcome_notice": "per_decision"}),
])
def test_after_closing_only_what_informs_people_and_the_policies_ahead_may_change(state, allowed, frozen):
    assert violations(state, **allowed) == {}
    assert violations(state, **allowed, **frozen) == {name: "frozen" for name in frozen}


def test_an_edit_records_each_changed_field_before_and_after():
    before = details()
    after = replace(before, title="Inny tytuł", topics=("Procedury konkursowe", "Sport"))
    assert domain.changed_fields(before, after) == {
        "title": {"before": before.title, "after": "Inny tytuł"},
        "topics": {"before": ["Procedury konkursowe"], "after": ["Procedury konkursowe", "Sport"]},
    }


def test_the_demo_consultation_fills_every_field_of_the_announcement():
    from services.demo import demo_consultation

    demo = demo_consultation(date(2026, 11, 26), WARSAW)
    assert domain.validate_details(demo, WARSAW) == {} and domain.readiness_warnings(demo) == []
    assert demo.organiser == "Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia"
    assert demo.contact_phone == "56 611 87 24" and "87-100 Toruń" in demo.postal_address
    assert all(day.room == "sala nr 34" for day in demo.duty_days) and demo.legal_basis and demo.resolution
    assert demo.decisions_need_approval and demo.outcome_notice is domain.OutcomeNotice.AT_PUBLICATION


def test_the_console_knows_which_fields_are_frozen_in_each_state():
    assert domain.frozen_fields(State.DRAFT, OPENS, DURING) == frozenset()
    assert domain.frozen_fields(State.OPEN, OPENS, DURING) == {"late_policy", "opens_at"}
    assert domain.frozen_fields(State.OPEN, AFTER, DURING) == {"late_policy"}  # not started yet
    assert "title" in domain.frozen_fields(State.CLOSED, OPENS, AFTER)
    assert "contact_phone" not in domain.frozen_fields(State.REPORT_PUBLISHED, OPENS, AFTER)
    for state in (State.CLOSED, State.IN_REVIEW, State.REPORT_PUBLISHED):
        # every frozen field is refused by the edit rules too
        current = details()
        for name in domain.frozen_fields(state, OPENS, AFTER) - {"duty_days", "channels", "topics", "opens_at",
                                                                 "closes_at", "late_policy", "outcome_notice",
                                                                 "decisions_need_approval"}:
            changed = replace(current, **{name: getattr(current, name) + " (zmiana)"})
            assert domain.edit_violations(state, current, changed, now=AFTER, tz=WARSAW) == {name: "frozen"}
