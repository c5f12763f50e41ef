"""Decisions, approvals and bulk steps through the handlers, on SQLite; the outbox shows what left the service."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.common.web import Conflict, Invalid, NotFound, Refused
from services.review import decisions, handlers
from services.review.domain import Decide
from services.review.models import ReviewComment
from tests.unit.review_decisions.support import (
    COORDINATOR,
    OTHER_REVIEWER,
    REVIEWER,
    audit_entries,
    decided_events,
    publish_consultation,
    submit,
)


def test_a_reviewers_decision_is_a_proposal_and_nothing_is_emitted(ctx):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 5 ust. 2"])

    comment = decisions.decide(ctx, Decide(comment_id, "rejected", "Uwaga wykracza poza zakres Programu"), REVIEWER)

    assert (comment.decision, comment.approval_state, comment.revision) == ("rejected", "proposed", 1)
    assert comment.approved_revision is None
    assert decided_events(ctx) == []


def test_approval_emits_comment_decided_with_the_proposers_decision(ctx):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 5"])
    decisions.decide(ctx, Decide(comment_id, "partially_accepted", "W części", "Nowe brzmienie § 5."), REVIEWER)

    comment = decisions.approve(ctx, comment_id, COORDINATOR)

    assert (comment.approval_state, comment.approved_by, comment.approved_revision) == \
        ("approved", COORDINATOR.email, 1)
    (event,) = decided_events(ctx)
    assert event["decision"] == "partially_accepted" and event["final_text"] == "Nowe brzmienie § 5."
    assert (event["decided_by"], event["approved_by"], event["revision"]) == (REVIEWER.email, COORDINATOR.email, 1)
    with pytest.raises(Conflict):
        decisions.approve(ctx, comment_id, COORDINATOR)
    assert len(decided_events(ctx)) == 1


def test_a_returned_proposal_carries_the_note_and_the_next_proposal_supersedes_it(ctx):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 3"])
    decisions.decide(ctx, Decide(comment_id, "rejected", "Nie"), REVIEWER)

    returned = decisions.return_decision(ctx, comment_id, COORDINATOR, "  Proszę rozwinąć uzasadnienie.  ")
    assert (returned.approval_state, returned.approval_note) == ("returned", "Proszę rozwinąć uzasadnienie.")
    with pytest.raises(Conflict):
        decisions.approve(ctx, comment_id, COORDINATOR)

    again = decisions.decide(ctx, Decide(comment_id, "rejected", "Propozycja wykracza poza zakres Programu."),
                             REVIEWER)
    assert (again.approval_state, again.approval_note, again.revision) == ("proposed", "", 2)
    decisions.approve(ctx, comment_id, COORDINATOR)

    records = decisions.revisions(ctx, comment_id)
    assert [(r.revision, r.state) for r in records] == [(1, "returned"), (2, "approved")]
    assert records[0].review_note == "Proszę rozwinąć uzasadnienie."
    assert [e["revision"] for e in decided_events(ctx)] == [2]


def test_returning_needs_a_note_and_a_coordinator(ctx):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 3"])
    decisions.decide(ctx, Decide(comment_id, "rejected", "Nie"), REVIEWER)
    with pytest.raises(Invalid):
        decisions.return_decision(ctx, comment_id, COORDINATOR, " ")
    with pytest.raises(Refused):
        decisions.return_decision(ctx, comment_id, REVIEWER, "Sam sobie zwracam")
    with pytest.raises(Refused):
        decisions.approve(ctx, comment_id, REVIEWER)


def test_a_coordinators_decision_is_approved_at_once_unless_they_ask_it_to_wait(ctx):
    consultation = publish_consultation(ctx)
    first, second = submit(ctx, consultation, ["§ 1", "§ 2"])

    assert decisions.decide(ctx, Decide(first, "accepted"), COORDINATOR).approval_state == "approved"
    assert decisions.decide(ctx, Decide(second, "accepted"), COORDINATOR, approve=False).approval_state == "proposed"
    assert [e["comment_id"] for e in decided_events(ctx)] == [first]
    with pytest.raises(Refused):
        decisions.decide(ctx, Decide(second, "accepted"), REVIEWER, approve=True)


@pytest.mark.parametrize("needs_approval", [False, None])
def test_without_approval_a_reviewers_decision_is_emitted_at_once(ctx, needs_approval):
    consultation = publish_consultation(ctx, needs_approval=needs_approval)
    (comment_id,) = submit(ctx, consultation, ["§ 1"])

    comment = decisions.decide(ctx, Decide(comment_id, "accepted", "", "Brzmienie"), REVIEWER)

    # An event without the flag (an older intake) means approval is needed, the safe default.
    expected = "approved" if needs_approval is False else "proposed"
    assert comment.approval_state == expected
    assert len(decided_events(ctx)) == (1 if needs_approval is False else 0)


def test_changing_an_approved_decision_makes_a_new_revision_and_a_new_event_once_approved(ctx):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 7"])
    decisions.decide(ctx, Decide(comment_id, "rejected", "Nie"), REVIEWER)
    decisions.approve(ctx, comment_id, COORDINATOR)

    changed = decisions.decide(ctx, Decide(comment_id, "accepted"), REVIEWER)
    assert (changed.revision, changed.approval_state, changed.approved_revision) == (2, "proposed", 1)
    assert [e["revision"] for e in decided_events(ctx)] == [1]

    decisions.approve(ctx, comment_id, COORDINATOR)
    assert [(e["revision"], e["decision"]) for e in decided_events(ctx)] == [(1, "rejected"), (2, "accepted")]
    assert [r.state for r in decisions.revisions(ctx, comment_id)] == ["approved", "approved"]


def test_every_step_leaves_an_audit_entry_with_before_and_after(ctx):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 7"])
    decisions.decide(ctx, Decide(comment_id, "rejected", "Nie"), REVIEWER)
    decisions.return_decision(ctx, comment_id, COORDINATOR, "Za krótko")
    decisions.decide(ctx, Decide(comment_id, "rejected", "Poza zakresem"), REVIEWER)
    decisions.approve(ctx, comment_id, COORDINATOR)

    entries = [e for e in audit_entries(ctx) if e.subject == comment_id]
    assert [(e.action, e.actor) for e in entries] == [
        ("comment.decided", REVIEWER.email), ("comment.decision_returned", COORDINATOR.email),
        ("comment.decided", REVIEWER.email), ("comment.decision_approved", COORDINATOR.email)]
    first = entries[0]
    assert first.before == {"decision": None, "justification": "", "approval_state": None, "revision": 0}
    assert first.after == {"decision": "rejected", "justification": "Nie", "approval_state": "proposed",
                           "revision": 1}
    assert entries[1].details["note"] == "Za krótko"
    assert entries[2].before["justification"] == "Nie" and entries[2].after["justification"] == "Poza zakresem"
    assert entries[3].after == {"approval_state": "approved", "approved_revision": 2}
    assert all(e.consultation_id == consultation for e in entries)


def test_decisions_close_with_the_review_and_unknown_comments_are_404(ctx):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 1"])
    with pytest.raises(NotFound):
        decisions.decide(ctx, Decide("missing", "accepted"), REVIEWER)
    decisions.decide(ctx, Decide(comment_id, "accepted"), COORDINATOR)
    handlers.complete_review(ctx, consultation, COORDINATOR)
    with pytest.raises(Conflict):
        decisions.decide(ctx, Decide(comment_id, "rejected", "Jednak nie"), COORDINATOR)


def test_the_review_cannot_be_completed_while_decisions_wait_for_approval(ctx):
    consultation = publish_consultation(ctx)
    first, second = submit(ctx, consultation, ["§ 1", "§ 2"])
    decisions.decide(ctx, Decide(first, "accepted"), COORDINATOR)
    decisions.decide(ctx, Decide(second, "rejected", "Nie"), REVIEWER)
    with pytest.raises(Conflict) as error:
        handlers.complete_review(ctx, consultation, COORDINATOR)
    assert "approval" in error.value.message
    decisions.approve(ctx, second, COORDINATOR)
    assert handlers.complete_review(ctx, consultation, COORDINATOR)["counts"] == {"accepted": 1, "rejected": 1}


# --- bulk ---------------------------------------------------------------------------------------


def test_a_bulk_decision_gives_each_comment_its_own_revision_record_and_event(ctx):
    consultation = publish_consultation(ctx)
    ids = submit(ctx, consultation, ["§ 1", "§ 2", "§ 3"])

    decided = decisions.decide_many(ctx, ids, "rejected", "Uwaga wykracza poza zakres Programu", None, COORDINATOR,
                                    group_id="g-1")

    assert [c.approval_state for c in decided] == ["approved"] * 3
    events = decided_events(ctx)
    assert sorted(e["comment_id"] for e in events) == sorted(ids)
    assert {e["justification"] for e in events} == {"Uwaga wykracza poza zakres Programu"}
    entries = audit_entries(ctx, "comment.decided")
    assert {e.details["group_id"] for e in entries} == {"g-1"} and {e.details["bulk"] for e in entries} == {3}
    assert all(len(decisions.revisions(ctx, i)) == 1 for i in ids)


def test_a_bulk_decision_is_all_or_nothing(ctx):
    consultation = publish_consultation(ctx)
    ids = submit(ctx, consultation, ["§ 1", "§ 2"])
    with pytest.raises(NotFound) as error:
        decisions.decide_many(ctx, [*ids, "missing"], "accepted", "", None, REVIEWER)
    assert error.value.details == {"missing": ["missing"]}
    with pytest.raises(Invalid):
        decisions.decide_many(ctx, ids, "rejected", "", None, REVIEWER)
    with pytest.raises(Invalid):
        decisions.decide_many(ctx, [], "accepted", "", None, REVIEWER)
    with ctx.db.transaction() as session:
        assert set(session.scalars(select(ReviewComment.approval_state))) == {None}


def test_bulk_approval_approves_the_proposals_and_skips_the_rest(ctx):
    consultation = publish_consultation(ctx)
    proposed, returned, undecided, approved = submit(ctx, consultation, ["§ 1", "§ 2", "§ 3", "§ 4"])
    decisions.decide_many(ctx, [proposed, returned], "accepted", "", None, REVIEWER)
    decisions.return_decision(ctx, returned, COORDINATOR, "Proszę o brzmienie")
    decisions.decide(ctx, Decide(approved, "accepted"), COORDINATOR)

    outcome = decisions.approve_many(ctx, [proposed, returned, undecided, approved], COORDINATOR)

    assert outcome.done == [proposed]
    assert outcome.skipped == {returned: "returned", undecided: "undecided", approved: "approved"}
    assert sorted(e["comment_id"] for e in decided_events(ctx)) == sorted([approved, proposed])
    with pytest.raises(Refused):
        decisions.approve_many(ctx, [proposed], REVIEWER)


def test_bulk_assignment_is_audited_and_skips_unchanged_comments(ctx):
    consultation = publish_consultation(ctx)
    ids = submit(ctx, consultation, ["§ 1", "§ 2"])
    decisions.assign_many(ctx, ids[:1], OTHER_REVIEWER.email, COORDINATOR)

    outcome = decisions.assign_many(ctx, ids, " Recenzentka@UM.example.pl ", COORDINATOR)

    assert outcome.done == [ids[1]] and outcome.skipped == {ids[0]: "unchanged"}
    last = audit_entries(ctx, "comment.assigned")[-1]
    assert (last.before, last.after) == ({"assignee": None}, {"assignee": OTHER_REVIEWER.email})
    with pytest.raises(Refused):
        decisions.assign_many(ctx, ids, REVIEWER.email, REVIEWER)


# --- standard justifications ------------------------------------------------------------------


def test_a_standard_justification_fills_an_empty_justification(ctx):
    consultation = publish_consultation(ctx)
    first, second = submit(ctx, consultation, ["§ 1", "§ 2"])
    standard = decisions.create_standard_justification(
        ctx, consultation, "Poza zakresem", "Uwaga wykracza poza zakres Programu.", COORDINATOR)

    picked = decisions.decide(ctx, Decide(first, "rejected", ""), REVIEWER, standard_justification_id=standard.id)
    edited = decisions.decide(ctx, Decide(second, "rejected", "Własne uzasadnienie."), REVIEWER,
                              standard_justification_id=standard.id)

    assert picked.decision_justification == "Uwaga wykracza poza zakres Programu."
    assert edited.decision_justification == "Własne uzasadnienie."
    assert decisions.revisions(ctx, first)[0].standard_justification_id == standard.id


def test_standard_justifications_belong_to_their_consultation_and_can_be_archived(ctx):
    consultation, other = publish_consultation(ctx), publish_consultation(ctx)
    (comment_id,) = submit(ctx, other, ["§ 1"])
    standard = decisions.create_standard_justification(ctx, consultation, "Poza zakresem", "Poza zakresem.",
                                                       COORDINATOR)
    with pytest.raises(Invalid):
        decisions.decide(ctx, Decide(comment_id, "rejected", ""), REVIEWER, standard_justification_id=standard.id)

    decisions.update_standard_justification(ctx, standard.id, COORDINATOR, text="Wykracza poza zakres.", active=False)

    assert decisions.standard_justifications(ctx, consultation) == []
    (archived,) = decisions.standard_justifications(ctx, consultation, include_archived=True)
    assert (archived.text, archived.active) == ("Wykracza poza zakres.", False)
    change = audit_entries(ctx, "standard_justification.changed")[-1]
    assert change.before == {"text": "Poza zakresem.", "active": True}
    with pytest.raises(Invalid):
        decisions.create_standard_justification(ctx, consultation, " ", "tekst", COORDINATOR)
    with pytest.raises(NotFound):
        decisions.create_standard_justification(ctx, "no-such-consultation", "T", "tekst", COORDINATOR)


# --- progress -----------------------------------------------------------------------------------


@pytest.mark.parametrize("section, chapter", [
    ("§ 5 ust. 2 pkt 2", "§ 5"), ("§5", "§ 5"), ("Rozdział III. Cele programu", "Rozdział III"),
    ("  Preambuła  ", "Preambuła"), ("", "—"),
])
def test_the_chapter_of_a_comment_comes_from_its_section(section, chapter):
    assert decisions.chapter_of(section) == chapter


def test_progress_counts_by_status_reviewer_and_chapter(ctx):
    consultation = publish_consultation(ctx, title="Program 2025")
    a, b, c, d = submit(ctx, consultation, ["§ 1 ust. 1", "§ 1 ust. 2", "§ 2", "§ 10"])
    decisions.assign_many(ctx, [a, b], REVIEWER.email, COORDINATOR)
    decisions.decide(ctx, Decide(a, "rejected", "Nie"), REVIEWER)
    decisions.decide(ctx, Decide(b, "accepted"), COORDINATOR)
    decisions.decide(ctx, Decide(c, "rejected", "Nie"), REVIEWER)
    decisions.return_decision(ctx, c, COORDINATOR, "Popraw")

    (report,) = decisions.progress(ctx, consultation)

    assert (report.title, report.needs_approval, report.completed) == ("Program 2025", True, False)
    overall = report.overall
    assert (overall.total, overall.undecided, overall.proposed, overall.returned, overall.approved) == (4, 1, 1, 1, 1)
    assert overall.unapproved == 2
    assert report.by_decision == {"accepted": 1, "rejected": 2}
    assert list(report.by_reviewer) == [REVIEWER.email, ""]
    assert (report.by_reviewer[REVIEWER.email].approved, report.by_reviewer[""].undecided) == (1, 1)
    assert list(report.by_chapter) == ["§ 1", "§ 2", "§ 10"]
    assert report.by_chapter["§ 1"].total == 2 and report.by_chapter["§ 10"].undecided == 1
    with pytest.raises(NotFound):
        decisions.progress(ctx, "no-such-consultation")


def test_progress_counts_by_the_draft_chapter_a_comment_is_anchored_to(ctx):
    from tests.unit.review_decisions.support import deliver

    consultation = publish_consultation(ctx)
    deliver(ctx, "document.version_created", {
        "document_id": "d-1", "version": 1, "consultation_id": consultation, "title": "Projekt", "units": [
            {"id": "u1", "kind": "chapter", "label": "Rozdział I. Postanowienia ogólne", "parent": None, "text": ""},
            {"id": "u2", "kind": "paragraph", "label": "§ 1", "parent": "u1", "text": "Cele."},
            {"id": "u3", "kind": "chapter", "label": "Rozdział II. Formy współpracy", "parent": None, "text": ""},
            {"id": "u4", "kind": "paragraph", "label": "§ 5", "parent": "u3", "text": "Formy."},
        ]}, producer="documents")
    first, second, third = submit(ctx, consultation, ["§ 5", "§ 1", "Uwaga ogólna"])
    decisions.decide(ctx, Decide(first, "accepted"), COORDINATOR)

    (report,) = decisions.progress(ctx, consultation)

    assert list(report.by_chapter)[:2] == ["Rozdział I. Postanowienia ogólne", "Rozdział II. Formy współpracy"]
    assert report.by_chapter["Rozdział II. Formy współpracy"].approved == 1
    assert report.by_chapter["Rozdział I. Postanowienia ogólne"].undecided == 1
    assert sum(t.total for t in report.by_chapter.values()) == 3
