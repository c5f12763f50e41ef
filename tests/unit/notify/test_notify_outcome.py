"""Telling submitters the outcome: at publication (one e-mail per submission) or per decision, corrections, re-sends."""

from __future__ import annotations

import pytest
from notify_factories import consultation_event, decided_event, published_event, received_event
from sqlalchemy import select

from services.common.web import Conflict
from services.notify import domain
from services.notify.app import RENDERER, SENDER
from services.notify.domain import DecisionMail, decision_mail
from services.notify.handlers import Delivery, deliver_notification, resend_notification
from services.notify.models import Notification
from services.notify.senders import PermanentDeliveryError


def notifications(ctx, template: str | None = None) -> list[Notification]:
    with ctx.db.transaction() as session:
        query = select(Notification).order_by(Notification.created_at)
        if template:
            query = query.where(Notification.template == template)
        return list(session.scalars(query))


# --- the pure rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("notice, published, revision, last, expected", [
    ("per_decision", False, 1, 0, DecisionMail.DECISION),
    ("per_decision", True, 2, 1, DecisionMail.DECISION),
    ("at_publication", False, 1, 0, DecisionMail.WAIT),
    ("at_publication", False, 3, 0, DecisionMail.WAIT),
    ("at_publication", True, 2, 1, DecisionMail.CORRECTION),
    ("at_publication", True, 1, 0, DecisionMail.CORRECTION),  # decided after the summary went out
    ("at_publication", True, 1, 1, DecisionMail.NONE),  # already in the summary
    ("per_decision", False, 1, 2, DecisionMail.NONE),  # stale
])
def test_which_email_a_decision_calls_for(notice, published, revision, last, expected):
    assert decision_mail(outcome_notice=notice, published=published, revision=revision,
                         last_notified_revision=last) is expected


def test_the_summary_tells_decided_comments_in_order_and_counts_the_rest():
    told, pending = domain.summary_comments([{"comment_number": 2, "decision": "accepted"},
                                             {"comment_number": 1, "decision": None},
                                             {"comment_number": 3, "decision": "rejected"}])
    assert [c["comment_number"] for c in told] == [2, 3] and [c["comment_number"] for c in pending] == [1]


def test_only_a_failed_message_may_be_resent():
    domain.check_resend("failed")
    for status in ("sent", "pending"):
        with pytest.raises(domain.ResendRefused):
            domain.check_resend(status)


# --- the handlers ------------------------------------------------------------------------------------


def test_at_publication_one_email_per_submission_lists_every_outcome_and_is_never_sent_twice(ctx, dispatcher, renderer):
    first = received_event(comments=2)
    consultation_id = first.data["consultation_id"]
    second = received_event(comments=1, language="en", consultation_id=consultation_id)
    for event in (consultation_event(consultation_id), first, second):
        dispatcher.dispatch(event)
    dispatcher.dispatch(decided_event(first, number=1, decision="accepted"))
    dispatcher.dispatch(decided_event(first, number=2, decision="rejected"))
    dispatcher.dispatch(decided_event(first, number=2, decision="partially_accepted", revision=2))
    dispatcher.dispatch(decided_event(second, number=1, decision="not_considered"))
    assert notifications(ctx, "comment_decision") == []  # nothing is told before publication

    publication = published_event(consultation_id)
    dispatcher.dispatch(publication)
    dispatcher.dispatch(published_event(consultation_id))  # a second publication, e.g. a corrected report
    summaries = notifications(ctx, "outcome_summary")
    assert len(summaries) == 2
    polish = next(n for n in summaries if n.language == "pl")
    assert [(c["comment_number"], c["decision_label"]) for c in polish.context["comments"]] == \
        [(1, "uwzględniona"), (2, "uwzględniona częściowo")]
    assert polish.context["report_url"] == publication.data["download_url"]
    assert polish.context["status_url"] == first.data["status_url"]

    rendered = renderer.render("outcome_summary", "pl", polish.context)
    assert rendered.text.startswith("Szanowni Państwo,")
    assert "Uwaga nr 2" in rendered.text and "uwaga uwzględniona częściowo" in rendered.text
    assert publication.data["download_url"] in rendered.text and first.data["status_url"] in rendered.text
    english = next(n for n in summaries if n.language == "en")
    rendered_en = renderer.render("outcome_summary", "en", english.context)
    assert rendered_en.text.startswith("Dear Sir or Madam,") and "Decision: not considered" in rendered_en.text


def test_a_decision_changed_after_publication_sends_one_correction(ctx, dispatcher, renderer):
    received = received_event(comments=1)
    consultation_id = received.data["consultation_id"]
    for event in (consultation_event(consultation_id), received, decided_event(received, decision="rejected"),
                  published_event(consultation_id)):
        dispatcher.dispatch(event)
    dispatcher.dispatch(decided_event(received, decision="rejected"))  # the same revision again: nothing
    assert notifications(ctx, "outcome_correction") == []

    change = decided_event(received, decision="accepted", revision=2)
    dispatcher.dispatch(change)
    dispatcher.dispatch(change)  # redelivered
    dispatcher.dispatch(decided_event(received, decision="accepted", revision=2))  # same fact, new event id
    [correction] = notifications(ctx, "outcome_correction")
    assert correction.context["changed"] is True and correction.context["decision_label"] == "uwzględniona"
    text = renderer.render("outcome_correction", "pl", correction.context).text
    assert "zmieniono rozstrzygnięcie" in text and text.startswith("Szanowni Państwo,")


def test_per_decision_consultations_get_no_summary_at_publication(ctx, dispatcher):
    received = received_event(comments=1)
    consultation_id = received.data["consultation_id"]
    for event in (consultation_event(consultation_id, outcome_notice="per_decision"), received,
                  decided_event(received), published_event(consultation_id)):
        dispatcher.dispatch(event)
    assert [n.template for n in notifications(ctx)] == ["submission_receipt", "comment_decision"]


def test_a_failed_message_is_resent_as_a_new_attempt_of_the_same_row(ctx, dispatcher, sender):
    dispatcher.dispatch(received_event())
    [row] = notifications(ctx)
    sender.fail_with = PermanentDeliveryError("550 mailbox unavailable")
    deliver = lambda: deliver_notification(ctx, row.id, sender=ctx.extras[SENDER], renderer=ctx.extras[RENDERER])  # noqa: E731
    assert deliver() is Delivery.FAILED

    resent = resend_notification(ctx, row.id, actor="koordynator@um.example.pl")
    assert resent.status == "pending" and resent.next_attempt_at is None  # due: the mailer's next claim takes it
    sender.fail_with = None
    assert deliver() is Delivery.SENT
    [after] = notifications(ctx)
    assert after.id == row.id and after.attempts == 2 and after.resent_by == "koordynator@um.example.pl"
    assert len(sender.sent) == 1 and sender.sent[0]["Message-ID"] == row.message_id
    with pytest.raises(Conflict):
        resend_notification(ctx, row.id, actor="koordynator@um.example.pl")  # sent: never again


def test_an_older_announcement_arriving_late_does_not_undo_the_outcome_notice(ctx, dispatcher):
    received = received_event(comments=1)
    consultation_id = received.data["consultation_id"]
    dispatcher.dispatch(consultation_event(consultation_id, outcome_notice="per_decision", revision=3))
    dispatcher.dispatch(consultation_event(consultation_id, outcome_notice="at_publication", revision=2))
    for event in (received, decided_event(received)):
        dispatcher.dispatch(event)
    assert "comment_decision" in [n.template for n in notifications(ctx)]


def test_the_summary_of_a_reopened_mail_leaves_out_the_placeholder_closed_before(ctx, dispatcher):
    from services.common.events import new_envelope, parse_envelope

    received = received_event(comments=1, needs_review=True)
    data, consultation_id = received.data, received.data["consultation_id"]
    dismissed_id = data["comments"][0]["comment_id"]
    placeholder = {**data["comments"][0], "comment_id": "reopened-placeholder"}
    for event in (consultation_event(consultation_id), received, parse_envelope(new_envelope(
            "submission.dismissed", {**{k: data[k] for k in ("submission_id", "consultation_id", "reference")},
                                     "comment_ids": [dismissed_id], "reason": "question",
                                     "dismissed_by": "r@um.example", "dismissed_at": data["received_at"]},
            producer="intake")), parse_envelope(new_envelope("submission.reopened", {
                **data, "comments": [placeholder], "dismissed_comment_ids": [dismissed_id],
                "reopened_by": "r@um.example", "reopened_at": data["received_at"]}, producer="intake"))):
        dispatcher.dispatch(event)
    reopened = parse_envelope(new_envelope("submission.received", {**data, "comments": [placeholder]},
                                           producer="intake"))
    dispatcher.dispatch(decided_event(reopened, number=1, decision="accepted"))
    dispatcher.dispatch(published_event(consultation_id))
    [summary] = notifications(ctx, "outcome_summary")
    assert [(c["comment_number"], c["decision_label"]) for c in summary.context["comments"]] == [(1, "uwzględniona")]
    assert summary.context["pending_count"] == 0  # the closed placeholder is no comment still to be decided
    assert summary.context["status_url"] == data["status_url"]  # the receipt's link, with its access code
    assert len(notifications(ctx, "submission_receipt")) == 1
