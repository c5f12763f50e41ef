"""The approval state machine on its own: who may take which step from which state."""

from __future__ import annotations

import pytest

from services.review import approval
from services.review.approval import APPROVED, PROPOSED, RETURNED, SUPERSEDED


@pytest.mark.parametrize("approve_now", [None, False])
def test_a_reviewers_decision_is_a_proposal_when_the_consultation_needs_approval(approve_now):
    step = approval.after_decision(needs_approval=True, by_coordinator=False, approve_now=approve_now)
    assert step == approval.Step(PROPOSED, emit=False)


def test_a_coordinators_own_decision_is_approved_at_once_by_default():
    assert approval.after_decision(needs_approval=True, by_coordinator=True, approve_now=None) == \
        approval.Step(APPROVED, emit=True)
    assert approval.after_decision(needs_approval=True, by_coordinator=True, approve_now=True).emit


def test_a_coordinator_may_leave_their_decision_as_a_proposal():
    assert approval.after_decision(needs_approval=True, by_coordinator=True, approve_now=False).state == PROPOSED


@pytest.mark.parametrize("by_coordinator", [False, True])
def test_without_approval_every_decision_counts_at_once(by_coordinator):
    step = approval.after_decision(needs_approval=False, by_coordinator=by_coordinator, approve_now=None)
    assert step == approval.Step(APPROVED, emit=True)


@pytest.mark.parametrize("needs_approval", [False, True])
def test_a_reviewer_cannot_approve_their_own_decision(needs_approval):
    with pytest.raises(approval.NotAllowed):
        approval.after_decision(needs_approval=needs_approval, by_coordinator=False, approve_now=True)


def test_only_a_proposal_can_be_approved_and_only_by_a_coordinator():
    assert approval.after_approval(PROPOSED, by_coordinator=True) == approval.Step(APPROVED, emit=True)
    with pytest.raises(approval.NotAllowed):
        approval.after_approval(PROPOSED, by_coordinator=False)
    for state in (None, RETURNED, APPROVED):
        with pytest.raises(approval.WrongState):
            approval.after_approval(state, by_coordinator=True)


def test_returning_needs_a_coordinator_a_proposal_and_a_note():
    assert approval.after_return(PROPOSED, "Proszę doprecyzować brzmienie.", by_coordinator=True) == \
        approval.Step(RETURNED, emit=False)
    with pytest.raises(approval.NoteRequired):
        approval.after_return(PROPOSED, "   ", by_coordinator=True)
    with pytest.raises(approval.NotAllowed):
        approval.after_return(PROPOSED, "note", by_coordinator=False)
    with pytest.raises(approval.WrongState) as error:
        approval.after_return(APPROVED, "note", by_coordinator=True)
    assert "approved" in error.value.message


def test_a_replaced_revision_keeps_its_verdict_but_an_unreviewed_proposal_is_superseded():
    assert approval.replaced_record_state(APPROVED) == APPROVED
    assert approval.replaced_record_state(RETURNED) == RETURNED
    assert approval.replaced_record_state(PROPOSED) == SUPERSEDED


def test_error_kinds_map_to_http_answers():
    assert (approval.NotAllowed("x").kind, approval.WrongState("x").kind, approval.NoteRequired("x").kind) == \
        ("forbidden", "conflict", "invalid")
