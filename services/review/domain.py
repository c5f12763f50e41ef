"""Review rules, free of I/O: what makes a decision valid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from services.common.events import DECISIONS

NEEDS_WORDING = {"accepted", "partially_accepted"}


class DecisionRejected(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Decide:
    comment_id: str
    decision: str
    justification: str = ""
    final_text: str | None = None


def validate_decision(cmd: Decide) -> Decide:
    """A justification is required unless the comment is accepted; wording belongs to (partial) acceptance."""
    errors: dict[str, list[str]] = {}
    if cmd.decision not in DECISIONS:
        errors["decision"] = [f"must be one of: {', '.join(DECISIONS)}"]
    justification = (cmd.justification or "").strip()
    if cmd.decision != "accepted" and not justification:
        errors["justification"] = ["a justification is required unless the comment is accepted"]
    final_text = (cmd.final_text or "").strip() or None
    if final_text and cmd.decision not in NEEDS_WORDING:
        errors["final_text"] = ["final wording only goes with an accepted or partially accepted comment"]
    if errors:
        raise DecisionRejected(errors)
    return Decide(cmd.comment_id, cmd.decision, justification, final_text)


def completion_blockers(*, closes_at: datetime | None, now: datetime, completed: bool,
                        undecided: Sequence[str]) -> dict[str, str]:
    """Why the review of a consultation cannot be completed now; empty when it can.

    Completing before the consultation closes would strand the comments that
    still arrive (every decision on them is refused once the review is closed).
    """
    blockers: dict[str, str] = {}
    if completed:
        blockers["completed"] = "the review is already completed"
    if closes_at is None or now < closes_at:
        blockers["not_closed"] = "the consultation is still open for comments; complete the review after it closes"
    if undecided:
        blockers["undecided"] = f"{len(undecided)} comment(s) still have no decision"
    return blockers


REOPEN_REASON_MIN = 5


def validate_reopen_reason(reason: str | None) -> str:
    """A reopened review must say why, for the audit log; a few characters are not a reason."""
    text = " ".join((reason or "").split())
    if len(text) < REOPEN_REASON_MIN:
        raise DecisionRejected({"reason": [f"give the reason for reopening (at least {REOPEN_REASON_MIN} characters)"]})
    return text[:2000]
