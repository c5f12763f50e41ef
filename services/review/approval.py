"""The approval of decisions, free of I/O: who may take which step from which state.

When a consultation needs approval, a reviewer's decision is a proposal. A
coordinator approves it (then, and only then, the rest of the system hears of
it through `comment.decided`) or returns it with a note; the reviewer then
proposes again. A coordinator's own decision is approved at once unless they
ask for it to wait. Without approval every decision counts at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common.ui import N_

PROPOSED = "proposed"
RETURNED = "returned"
APPROVED = "approved"
APPROVAL_STATES = (PROPOSED, RETURNED, APPROVED)
# A decision record replaced by a newer revision before it was approved.
SUPERSEDED = "superseded"
RECORD_STATES = (*APPROVAL_STATES, SUPERSEDED)


class ApprovalError(Exception):
    """A step the approval rules do not allow; `kind` says how the edge should answer."""

    kind = "conflict"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotAllowed(ApprovalError):
    """The actor's role does not allow the step (403)."""

    kind = "forbidden"


class WrongState(ApprovalError):
    """The decision is not in a state the step applies to (409)."""

    kind = "conflict"


class NoteRequired(ApprovalError):
    """Returning a proposal needs a note saying what to change (422)."""

    kind = "invalid"


@dataclass(frozen=True)
class Step:
    """The approval state after a step, and whether `comment.decided` goes out now."""

    state: str
    emit: bool


def after_decision(*, needs_approval: bool, by_coordinator: bool, approve_now: bool | None) -> Step:
    """A new revision's state. `approve_now=None` means the default: a coordinator's decision is approved."""
    if approve_now and not by_coordinator:
        raise NotAllowed(N_("Only a coordinator can approve a decision."))
    if not needs_approval:
        return Step(APPROVED, emit=True)
    if by_coordinator and approve_now is not False:
        return Step(APPROVED, emit=True)
    return Step(PROPOSED, emit=False)


def after_approval(state: str | None, *, by_coordinator: bool) -> Step:
    if not by_coordinator:
        raise NotAllowed(N_("Only a coordinator can approve a decision."))
    if state != PROPOSED:
        raise WrongState(_not_proposed(state))
    return Step(APPROVED, emit=True)


def after_return(state: str | None, note: str, *, by_coordinator: bool) -> Step:
    if not by_coordinator:
        raise NotAllowed(N_("Only a coordinator can return a decision."))
    if state != PROPOSED:
        raise WrongState(_not_proposed(state))
    if not (note or "").strip():
        raise NoteRequired(N_("Say what should change: a returned decision needs a note."))
    return Step(RETURNED, emit=False)


def _not_proposed(state: str | None) -> str:
    if state is None:
        return N_("This comment has no decision yet.")
    if state == APPROVED:
        return N_("This decision is already approved.")
    return N_("Only a proposed decision can be approved or returned; this one was returned.")


def replaced_record_state(previous: str) -> str:
    """The record of the revision a new decision replaces keeps its verdict; an unreviewed proposal is superseded."""
    return SUPERSEDED if previous == PROPOSED else previous
