"""Creating, editing and moving a consultation along its lifecycle, against a migrated SQLite database."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.common.events import parse_envelope
from services.common.web import NotFound
from services.intake import domain, handlers
from services.intake.handlers import DetailsInvalid, LifecycleConflict
from tests.unit.intake_console.support import WARSAW, announcement, deliver, now, published


def log_of(ctx, consultation_id):
    return [(e.action, e.from_state, e.to_state) for e in handlers.consultation_log(ctx, consultation_id)]


def test_a_draft_is_private_and_announces_nothing(ctx):
    draft = handlers.create_consultation(ctx, announcement(), actor="koordynator@um.torun.pl")
    assert draft.state == "draft"
    with pytest.raises(NotFound):
        handlers.get_consultation(ctx, draft.id)
    assert handlers.get_consultation(ctx, draft.id, include_drafts=True).organiser.startswith("Wydział")
    assert draft.id not in {c.id for c in handlers.list_open_consultations(ctx)}
    assert draft.id in {c.id for c in handlers.list_all_consultations(ctx)}
    assert published(ctx, draft.id) == []
    entry = handlers.consultation_log(ctx, draft.id)[0]
    assert (entry.action, entry.to_state, entry.actor) == ("created", "draft", "koordynator@um.torun.pl")
    assert entry.changes["title"]["after"] == draft.title


def test_nobody_can_comment_on_a_draft(ctx):
    draft = handlers.create_consultation(ctx, announcement(), actor="k")
    submit = domain.SubmitComments(draft.id, domain.Submitter("Anna", "anna@example.pl", False),
                                   (domain.CommentDraft("§ 1", "Zmienić"),))
    with pytest.raises(NotFound):
        handlers.submit_comments(ctx, submit)


def test_opening_a_draft_announces_every_field(ctx):
    draft = handlers.create_consultation(ctx, announcement(decisions_need_approval=False,
                                                           outcome_notice="per_decision"), actor="k")
    handlers.take_step(ctx, draft.id, "open", actor="koordynator@um.torun.pl")
    [event] = published(ctx, draft.id)
    data = parse_envelope({"id": "6f1c1d2e-0a6b-4a39-9a55-8d1b9b1c1f00", "type": "consultation.published",
                           "version": 1, "occurred_at": now().isoformat(), "producer": "intake", "data": event}).data
    assert data["state"] == "open" and data["revision"] == 1
    assert data["organiser"] == "Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia"
    assert data["contact_phone"] == "56 611 87 24" and "87-100 Toruń" in data["postal_address"]
    assert data["legal_basis"].startswith("art. 5a") and data["resolution"].startswith("uchwała")
    assert data["decisions_need_approval"] is False and data["outcome_notice"] == "per_decision"
    assert data["duty_days"][0]["room"] == "sala nr 34" and data["duty_days"][0]["slot_minutes"] == 30
    assert handlers.get_consultation(ctx, draft.id).state == "open"
    assert log_of(ctx, draft.id) == [("created", None, "draft"), ("open", "draft", "open")]


def test_the_api_way_creates_and_opens_at_once_with_the_defaults(ctx):
    cmd = domain.OpenConsultation(title="Program", opens_at=now(), closes_at=now() + timedelta(days=3))
    consultation = handlers.open_consultation(ctx, cmd, actor="k")
    [event] = published(ctx, consultation.id)
    assert event["decisions_need_approval"] is True and event["outcome_notice"] == "at_publication"
    assert log_of(ctx, consultation.id) == [("created", None, "draft"), ("open", "draft", "open")]


def test_invalid_details_are_refused_with_field_codes(ctx):
    with pytest.raises(DetailsInvalid) as refused:
        handlers.create_consultation(ctx, announcement(closes_at=now() - timedelta(days=2)), actor="k")
    assert refused.value.details == {"closes_at": "before_opening"}
    assert refused.value.status == 422


def test_a_draft_whose_closing_date_has_passed_does_not_open(ctx):
    draft = handlers.create_consultation(ctx, announcement(opens_at=now() - timedelta(days=9),
                                                           closes_at=now() - timedelta(days=1)), actor="k")
    with pytest.raises(LifecycleConflict) as refused:
        handlers.take_step(ctx, draft.id, "open", actor="k")
    assert refused.value.code == "closes_in_past" and refused.value.status == 409


def test_editing_an_open_consultation_reannounces_it_and_logs_before_and_after(ctx):
    consultation = handlers.create_consultation(ctx, announcement(draft=False), actor="k")
    later = consultation.closes_at + timedelta(days=7)
    handlers.edit_consultation(ctx, consultation.id, {"closes_at": later, "contact_phone": "56 611 00 00"},
                               actor="koordynator@um.torun.pl")
    first, second = published(ctx, consultation.id)
    assert (first["revision"], second["revision"]) == (1, 2)
    assert second["contact_phone"] == "56 611 00 00" and second["closes_at"] == later.isoformat()
    entry = handlers.consultation_log(ctx, consultation.id)[-1]
    assert entry.action == "edited" and set(entry.changes) == {"closes_at", "contact_phone"}
    assert entry.changes["contact_phone"] == {"before": "56 611 87 24", "after": "56 611 00 00"}


def test_an_edit_that_changes_nothing_leaves_no_trace(ctx):
    consultation = handlers.create_consultation(ctx, announcement(draft=False), actor="k")
    handlers.edit_consultation(ctx, consultation.id, {"title": consultation.title}, actor="k")
    assert len(published(ctx, consultation.id)) == 1 and len(handlers.consultation_log(ctx, consultation.id)) == 2


def test_editing_a_draft_announces_nothing(ctx):
    draft = handlers.create_consultation(ctx, announcement(), actor="k")
    edited = handlers.edit_consultation(ctx, draft.id, {"channels": ("web",), "late_policy": "refuse"}, actor="k")
    assert edited.channels == ["web"] and edited.late_policy == "refuse"
    assert published(ctx, draft.id) == []


def test_what_the_state_does_not_allow_is_refused_with_field_codes(ctx):
    consultation = handlers.create_consultation(ctx, announcement(draft=False), actor="k")
    with pytest.raises(DetailsInvalid) as refused:
        handlers.edit_consultation(ctx, consultation.id, {
            "closes_at": consultation.closes_at - timedelta(days=1), "channels": ("web",), "late_policy": "refuse",
        }, actor="k")
    assert refused.value.details == {"closes_at": "only_extend", "channels": "cannot_remove", "late_policy": "frozen"}
    assert len(published(ctx, consultation.id)) == 1


def test_unknown_fields_are_refused(ctx):
    consultation = handlers.create_consultation(ctx, announcement(), actor="k")
    with pytest.raises(DetailsInvalid) as refused:
        handlers.edit_consultation(ctx, consultation.id, {"state": "open"}, actor="k")
    assert refused.value.details == {"state": "unknown"}


def test_closing_early_takes_a_reason_and_moves_the_deadline(ctx):
    consultation = handlers.create_consultation(ctx, announcement(draft=False), actor="k")
    with pytest.raises(LifecycleConflict) as refused:
        handlers.take_step(ctx, consultation.id, "close", actor="k")
    assert refused.value.code == "reason_required"
    moment = now()
    closed = handlers.take_step(ctx, consultation.id, "close", actor="k", reason="Projekt wycofany", now=moment)
    assert closed.state == "closed" and closed.closes_at == moment
    entry = handlers.consultation_log(ctx, consultation.id)[-1]
    assert (entry.action, entry.reason, entry.from_state, entry.to_state) == ("close", "Projekt wycofany", "open",
                                                                            "closed")
    assert published(ctx, consultation.id)[-1]["state"] == "closed"
    assert consultation.id not in {c.id for c in handlers.list_open_consultations(ctx)}


def test_the_sweep_records_the_close_of_passed_deadlines_once(ctx):
    consultation = handlers.create_consultation(ctx, announcement(draft=False), actor="k")
    later = consultation.closes_at + timedelta(seconds=1)
    assert handlers.close_expired_consultations(ctx, now=later) >= 1
    assert handlers.close_expired_consultations(ctx, now=later) == 0
    assert handlers.get_consultation(ctx, consultation.id).state == "closed"
    entry = handlers.consultation_log(ctx, consultation.id)[-1]
    assert (entry.action, entry.actor, entry.reason) == ("close", "system", "deadline passed")


def test_starting_the_review_after_the_deadline_records_the_close_first(ctx):
    consultation = handlers.create_consultation(ctx, announcement(draft=False), actor="k")
    later = consultation.closes_at + timedelta(hours=1)
    handlers.take_step(ctx, consultation.id, "start_review", actor="koordynator", now=later)
    assert log_of(ctx, consultation.id)[-2:] == [("close", "open", "closed"), ("start_review", "closed", "in_review")]


def test_the_review_cannot_start_while_the_consultation_is_open(ctx):
    consultation = handlers.create_consultation(ctx, announcement(draft=False), actor="k")
    with pytest.raises(LifecycleConflict) as refused:
        handlers.take_step(ctx, consultation.id, "start_review", actor="k")
    assert refused.value.code == "not_allowed"


def closed_consultation(ctx):
    consultation = handlers.create_consultation(ctx, announcement(draft=False), actor="k")
    return handlers.take_step(ctx, consultation.id, "close", actor="k", reason="test")


def report_published(consultation_id):
    return {"consultation_id": consultation_id, "build_id": "b1", "sha256": "0" * 64,
            "download_url": "http://127.0.0.1/documents/api/v1/reports/b1/download"}


def test_a_completed_review_starts_the_review_here_and_a_published_report_ends_the_lifecycle(ctx):
    consultation = closed_consultation(ctx)
    deliver(ctx, "consultation.review_completed", {"consultation_id": consultation.id, "completed_at": now(),
                                                   "completed_by": "koordynator@um.torun.pl"}, "review")
    assert handlers.get_consultation(ctx, consultation.id).state == "in_review"
    deliver(ctx, "report.published", report_published(consultation.id), "documents")
    deliver(ctx, "report.published", report_published(consultation.id), "documents")  # a second report
    assert handlers.get_consultation(ctx, consultation.id).state == "report_published"
    assert log_of(ctx, consultation.id)[-2:] == [("start_review", "closed", "in_review"),
                                                 ("publish_report", "in_review", "report_published")]
    assert published(ctx, consultation.id)[-1]["state"] == "report_published"


def test_a_report_published_while_closed_passes_through_the_review(ctx):
    consultation = closed_consultation(ctx)
    deliver(ctx, "report.published", report_published(consultation.id), "documents")
    assert log_of(ctx, consultation.id)[-2:] == [("start_review", "closed", "in_review"),
                                                 ("publish_report", "in_review", "report_published")]


def test_a_report_of_an_open_consultation_is_a_working_draft_and_changes_nothing(ctx):
    consultation = handlers.create_consultation(ctx, announcement(draft=False), actor="k")
    deliver(ctx, "report.published", report_published(consultation.id), "documents")
    deliver(ctx, "report.published", report_published("no-such-consultation"), "documents")
    assert handlers.get_consultation(ctx, consultation.id).state == "open"


def test_the_review_can_be_reopened_after_publication_with_a_reason(ctx):
    consultation = closed_consultation(ctx)
    deliver(ctx, "report.published", report_published(consultation.id), "documents")
    with ctx.transaction() as session:
        assert not handlers.advance_lifecycle(session, consultation.id, "reopen_review", actor="k")
        assert handlers.advance_lifecycle(session, consultation.id, "reopen_review", actor="k", reason="Korekta")
    assert handlers.get_consultation(ctx, consultation.id).state == "in_review"


def test_after_closing_only_informational_fields_change(ctx):
    consultation = closed_consultation(ctx)
    handlers.edit_consultation(ctx, consultation.id, {"contact_phone": "56 000 00 00"}, actor="k")
    with pytest.raises(DetailsInvalid) as refused:
        handlers.edit_consultation(ctx, consultation.id, {"title": "Inny tytuł"}, actor="k")
    assert refused.value.details == {"title": "frozen"}


def test_details_round_trip_through_the_row(ctx):
    cmd = announcement()
    consultation = handlers.create_consultation(ctx, cmd, actor="k")
    fields = {name: getattr(cmd, name) for name in domain.EDITABLE_FIELDS}
    assert handlers.details_of(handlers.get_consultation(ctx, consultation.id, include_drafts=True)) == \
        replace(domain.ConsultationDetails(**fields))
    assert consultation.closes_at.astimezone(WARSAW).hour == 23
