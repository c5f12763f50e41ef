"""Review rules, free of I/O: what makes a decision valid."""

from __future__ import annotations

from dataclasses import dataclass

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
