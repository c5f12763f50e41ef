"""Event handlers against a real, migrated SQLite database, dispatched through the real inbox."""

from __future__ import annotations

import uuid

import pytest
from notify_factories import booking_event, consultation_event, decided_event, received_event
from sqlalchemy import func, select

from services.common.events import new_envelope, parse_envelope
from services.notify.domain import Cause, Template
from services.notify.handlers import stage_notification
from services.notify.models import KnownComment, Notification, ParkedEvent


def notifications(ctx) -> list[Notification]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(Notification).order_by(Notification.created_at)))


def count(ctx, model) -> int:
    with ctx.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_submission_with_an_email_stages_one_pending_receipt_and_wakes_the_mailer_after_commit(ctx, dispatcher, woken):
    event = received_event(comments=2)
    dispatcher.dispatch(event)

    [row] = notifications(ctx)
    assert row.template == "submission_receipt" and row.status == "pending" and row.attempts == 0
    assert row.recipient == "anna.nowak@example.org" and row.language == "pl"
    assert row.cause_event_id == event.id and row.correlation_id == event.data["reference"]
    assert row.context["reference"] == event.data["reference"]
    assert [c["proposal"] for c in row.context["comments"]] == [c["proposal"] for c in event.data["comments"]]
    assert row.message_id.endswith("@notify.uwagi>")
    assert woken == [row.id]


def test_an_email_staff_must_transcribe_gets_a_receipt_that_says_so(ctx, dispatcher):
    dispatcher.dispatch(received_event(comments=1))
    dispatcher.dispatch(received_event(comments=1, needs_review=True))
    assert [row.context["needs_review"] for row in notifications(ctx)] == [False, True]


def test_a_submission_stores_who_to_tell_about_each_comment(ctx, dispatcher):
    event = received_event(comments=3, language="en")
    dispatcher.dispatch(event)
    with ctx.db.transaction() as session:
        known = {k.comment_id: k for k in session.scalars(select(KnownComment))}
    assert set(known) == {c["comment_id"] for c in event.data["comments"]}
    first = known[event.data["comments"][0]["comment_id"]]
    assert (first.recipient, first.reference, first.language, first.number) == \
        ("anna.nowak@example.org", event.data["reference"], "en", 1)
    assert first.consultation_title == event.data["consultation_title"]
    assert first.section == "§ 1 ust. 2" and first.proposal.startswith("Zwiększyć pulę")


def test_a_redelivered_submission_stages_nothing_more(ctx, dispatcher, woken):
    event = received_event()
    dispatcher.dispatch(event)
    dispatcher.dispatch(event)
    assert len(notifications(ctx)) == 1
    assert len(woken) == 1


def test_the_same_submission_published_again_under_a_new_event_id_is_not_mailed_twice(ctx, dispatcher, woken):
    first = received_event()
    again = parse_envelope(new_envelope("submission.received", dict(first.data), producer="intake"))
    assert again.id != first.id
    dispatcher.dispatch(first)
    dispatcher.dispatch(again)
    assert len(notifications(ctx)) == 1
    assert len(woken) == 1


def test_a_submission_without_an_email_sends_nothing_but_its_comments_are_known(ctx, dispatcher, woken):
    event = received_event(email=None)
    dispatcher.dispatch(event)
    assert notifications(ctx) == []
    assert woken == []
    assert count(ctx, KnownComment) == 2
    # ...so a later decision is recognised and quietly not mailed, instead of being retried.
    dispatcher.dispatch(decided_event(event))
    assert notifications(ctx) == []


def test_a_decision_on_an_unknown_comment_is_a_transient_error_so_that_it_is_parked(ctx, dispatcher, woken):
    orphan = decided_event(received_event(), comment_id=str(uuid.uuid4()))
    assert dispatcher.dispatch(orphan) == []
    assert notifications(ctx) == []
    assert woken == []
    with ctx.db.transaction() as session:
        [parked] = session.scalars(select(ParkedEvent)).all()
    assert parked.event_id == orphan.id and "not known yet" in parked.reason


def test_a_decision_that_arrived_before_its_submission_succeeds_on_retry(ctx, dispatcher):
    received = received_event()
    dispatcher.dispatch(consultation_event(received.data["consultation_id"], outcome_notice="per_decision"))
    decided = decided_event(received)
    dispatcher.dispatch(decided)  # parked: its submission has not arrived
    dispatcher.dispatch(received)
    assert dispatcher.retry_parked(dead_letter=lambda envelope, reason: pytest.fail(reason)) == 1
    assert sorted(n.template for n in notifications(ctx)) == ["comment_decision", "submission_receipt"]


def test_a_decision_stages_a_mail_in_the_submitters_language_with_the_decision_in_words(ctx, dispatcher):
    received = received_event(language="en")
    dispatcher.dispatch(consultation_event(received.data["consultation_id"], outcome_notice="per_decision"))
    dispatcher.dispatch(received)
    decided = decided_event(received, number=2, decision="rejected")
    dispatcher.dispatch(decided)
    decision = next(n for n in notifications(ctx) if n.template == "comment_decision")
    assert decision.language == "en" and decision.recipient == "anna.nowak@example.org"
    assert decision.cause_event_id == decided.id
    assert decision.context["decision_label"] == "rejected"
    assert decision.context["comment_number"] == 2
    assert decision.context["final_text"] == decided.data["final_text"]
    assert decision.context["justification"] == decided.data["justification"]


def test_each_new_revision_of_a_decision_is_mailed_once_and_stale_or_repeated_ones_not_at_all(ctx, dispatcher):
    received = received_event()
    dispatcher.dispatch(consultation_event(received.data["consultation_id"], outcome_notice="per_decision"))
    dispatcher.dispatch(received)
    dispatcher.dispatch(decided_event(received, revision=1, decision="rejected"))
    dispatcher.dispatch(decided_event(received, revision=1, decision="rejected"))  # same revision, new event id
    dispatcher.dispatch(decided_event(received, revision=2, decision="accepted"))
    dispatcher.dispatch(decided_event(received, revision=1, decision="rejected"))  # stale, arrives late
    decisions = [n for n in notifications(ctx) if n.template == "comment_decision"]
    assert [(n.context["revision"], n.context["decision_label"]) for n in decisions] == \
        [(1, "nieuwzględniona"), (2, "uwzględniona")]
    assert len({n.message_id for n in decisions}) == 2


@pytest.mark.parametrize(("event_type", "template"), [("booking.confirmed", "booking_confirmed"),
                                                      ("booking.cancelled", "booking_cancelled")])
def test_a_booking_event_stages_its_mail_once(ctx, dispatcher, woken, event_type, template):
    event = booking_event(event_type, language="en")
    dispatcher.dispatch(event)
    dispatcher.dispatch(event)
    [row] = notifications(ctx)
    assert (row.template, row.recipient, row.language) == (template, "jan.kowalski@example.org", "en")
    assert row.context["slot_starts_at"] == "2024-10-08T07:00:00+00:00"
    assert woken == [row.id]


def test_a_rolled_back_transaction_wakes_nothing(ctx, woken):
    event = received_event()
    with pytest.raises(RuntimeError):
        with ctx.db.transaction() as session:
            stage_notification(session, event, cause=Cause(event.type, "sub-1"), template=Template.SUBMISSION_RECEIPT,
                               recipient="a@example.org", language="pl", context={})
            raise RuntimeError("the handler failed after staging")
    assert woken == []
    assert notifications(ctx) == []
