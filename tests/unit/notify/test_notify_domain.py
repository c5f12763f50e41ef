"""Pure notify rules: decisions in words, cause keys, Message-IDs, revisions, retry bounds."""

from __future__ import annotations

import re

import pytest

from services.common.events import DECISIONS
from services.notify import domain
from services.notify.domain import Cause, Template


@pytest.mark.parametrize(("decision", "polish", "english"), [
    ("accepted", "uwzględniona", "accepted"),
    ("partially_accepted", "uwzględniona częściowo", "partially accepted"),
    ("rejected", "nieuwzględniona", "rejected"),
    ("not_considered", "nierozpatrzona", "not considered"),
])
def test_each_decision_has_its_official_words_in_polish_and_english(decision, polish, english):
    assert domain.decision_in_words(decision, "pl") == polish
    assert domain.decision_in_words(decision, "en") == english


def test_every_decision_of_the_event_contract_has_words_in_every_language():
    for language in domain.LANGUAGES:
        assert set(domain.DECISION_WORDS[language]) == set(DECISIONS)


def test_an_unknown_decision_is_an_error_not_a_blank():
    with pytest.raises(ValueError, match="unknown decision"):
        domain.decision_in_words("postponed", "pl")


@pytest.mark.parametrize(("raw", "expected"), [("en", "en"), ("EN ", "en"), ("pl", "pl"), ("de", "pl"), (None, "pl"), ("", "pl")])
def test_unsupported_languages_fall_back_to_polish(raw, expected):
    assert domain.normalize_language(raw) == expected


def test_the_cause_key_is_the_same_for_the_same_fact_whatever_the_case_of_the_address():
    cause = Cause("submission.received", "sub-1")
    assert cause.key(Template.SUBMISSION_RECEIPT, "Anna@Example.org") == \
        cause.key(Template.SUBMISSION_RECEIPT, " anna@example.org ")


def test_the_cause_key_separates_subjects_templates_recipients_and_revisions():
    keys = {
        Cause("submission.received", "sub-1").key(Template.SUBMISSION_RECEIPT, "a@example.org"),
        Cause("submission.received", "sub-2").key(Template.SUBMISSION_RECEIPT, "a@example.org"),
        Cause("submission.received", "sub-1").key(Template.SUBMISSION_RECEIPT, "b@example.org"),
        Cause("booking.confirmed", "b-1").key(Template.BOOKING_CONFIRMED, "a@example.org"),
        Cause("booking.cancelled", "b-1").key(Template.BOOKING_CANCELLED, "a@example.org"),
        Cause("comment.decided", "c-1", 1).key(Template.COMMENT_DECISION, "a@example.org"),
        Cause("comment.decided", "c-1", 2).key(Template.COMMENT_DECISION, "a@example.org"),
    }
    assert len(keys) == 7


def test_the_message_id_is_stable_per_cause_and_distinct_between_causes():
    first = Cause("comment.decided", "c-1", 1).key(Template.COMMENT_DECISION, "a@example.org")
    second = Cause("comment.decided", "c-1", 2).key(Template.COMMENT_DECISION, "a@example.org")
    assert domain.message_id_for(first) == domain.message_id_for(first)
    assert domain.message_id_for(first) != domain.message_id_for(second)
    assert re.fullmatch(r"<[0-9a-f]{40}@notify\.uwagi>", domain.message_id_for(first))


@pytest.mark.parametrize(("revision", "last", "expected"), [(1, 0, True), (2, 1, True), (1, 1, False), (1, 2, False)])
def test_only_a_newer_decision_revision_is_mailed(revision, last, expected):
    assert domain.should_send_decision(revision, last) is expected


def test_delivery_gives_up_when_celery_retries_are_exhausted_or_the_row_has_used_its_attempts():
    assert not domain.is_last_attempt(1)
    assert not domain.is_last_attempt(domain.MAX_DELIVERY_ATTEMPTS - 1)
    assert domain.is_last_attempt(domain.MAX_DELIVERY_ATTEMPTS)


def test_the_retry_backoff_doubles_from_ten_seconds_up_to_ten_minutes_and_is_spread():
    from datetime import timedelta

    assert domain.retry_delay(1, 0.0) == timedelta(seconds=5) and domain.retry_delay(1, 0.999) < timedelta(seconds=10)
    assert domain.retry_delay(3, 0.0) == timedelta(seconds=20)
    assert domain.retry_delay(30, 0.999) <= timedelta(minutes=10)


def test_the_same_cause_for_another_address_has_the_key_the_cause_would_give_it():
    cause = domain.Cause("submission.received", "s-1", 2)
    old = cause.key(domain.Template.SUBMISSION_RECEIPT, "Jan.Kowalsky@example.org")
    assert domain.readdressed(old, " Jan.Kowalski@Example.org ") == \
        cause.key(domain.Template.SUBMISSION_RECEIPT, "jan.kowalski@example.org")
