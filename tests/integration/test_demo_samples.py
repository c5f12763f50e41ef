"""`make run`'s sample comments: each arrives by its channel's own path and reaches review, anchored to the demo
draft, with a proposed and an approved decision; loading the demo again adds nothing. The whole embedded system."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.embedded import embedded_system
from tests.support.infra import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def system(tmp_path: Path) -> Iterator[object]:
    with embedded_system(tmp_path / "var") as running:
        yield running


def review_comments(system) -> list:
    from services.review.models import ReviewComment

    with system.contexts["review"].db.transaction() as session:
        comments = session.scalars(select(ReviewComment)).all()
        session.expunge_all()
        return comments


def test_the_samples_arrive_by_their_channels_and_reach_review_with_two_decisions(system):
    from services.demo import load_demo
    from services.intake.models import InboundMail, Submission

    banner = "\n".join(load_demo(system, samples=True))
    assert "Samples:      9 comments in 7 submissions" in banner

    intake = system.contexts["intake"]
    with intake.db.transaction() as session:
        channels = sorted(s.channel for s in session.scalars(select(Submission)))
        mails = {m.status for m in session.scalars(select(InboundMail))}
    assert channels == ["email", "email", "letter", "web", "web", "web", "web"]
    assert "needs_review" in mails  # the comment written in the mail's text waits for staff

    def decided() -> list | None:
        comments = review_comments(system)
        states = sorted(c.approval_state for c in comments if c.approval_state)
        copies = [c for c in comments if c.section == "§ 9" and c.proposal.endswith("9 500 000 zł.")]
        grouped = len(copies) == 2 and all(c.group_id for c in copies)  # grouping has a transaction of its own
        return comments if len(comments) == 10 and states == ["approved", "proposed"] and grouped else None

    comments = wait_until(decided, timeout=60, what="the samples in review, grouped, with the demo decisions")
    by_section: dict[str, list] = {}
    for comment in comments:
        by_section.setdefault(comment.section, []).append(comment)
    # The filled-in form attached to a mail was read into its two rows.
    assert {c.channel for c in by_section["§ 8 ust. 2"] + by_section["§ 10 ust. 1"]} == {"email"}
    assert by_section["§ 8 ust. 2"][0].proposal.endswith("oraz w newsletterze dla organizacji pozarządowych.")
    assert by_section["§ 6 ust. 1 pkt 5"][0].channel == "letter"
    (accepted,) = by_section["§ 12 ust. 2 pkt 2"]
    assert (accepted.decision, accepted.approval_state) == ("accepted", "approved")
    assert accepted.final_text == accepted.proposal  # the wording the next version takes
    budget = sorted(by_section["§ 9"], key=lambda c: c.received_at)
    assert (budget[0].decision, budget[0].approval_state) == ("rejected", "proposed")
    assert budget[1].decision is None
    # the resident's word-for-word copy of the foundation's comment is grouped with it
    copies = [c for c in budget if c.proposal.endswith("9 500 000 zł.")]
    assert len(copies) == 2 and copies[0].group_id is not None and copies[0].group_id == copies[1].group_id

    # The quotes are the draft's own words, so every sample that names a provision is placed in a chapter.
    placed = [c for c in comments if c.section]
    assert len(placed) == 9 and all(c.chapter_id for c in placed), [(c.section, c.chapter_id) for c in placed]

    # Loading again (a restart of `make run` on the same data) adds nothing.
    again = "\n".join(load_demo(system, samples=True))
    assert "Samples:" not in again
    with intake.db.transaction() as session:
        assert len(session.scalars(select(Submission)).all()) == 7
