"""Completing and reopening a review: the pure guard, the handler on SQLite, and the HTTP edge."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from sqlalchemy import select

from services.common.auth import StaffIdentity
from services.common.bus import InboxDispatcher
from services.common.db import upgrade
from services.common.events import new_envelope, parse_envelope
from services.common.settings import load_settings
from services.common.web import Conflict, Invalid
from services.review import decisions, handlers
from services.review.app import build, create_app
from services.review.domain import Decide, DecisionRejected, completion_blockers, validate_reopen_reason
from services.review.models import AuditEntry, Inbox, Outbox

NOW = datetime(2024, 10, 22, 10, 0, tzinfo=timezone.utc)
COORDINATOR = StaffIdentity("u-k", "koordynator@um.example.pl", "coordinator")


# --- the pure rules ------------------------------------------------------------------------------


def test_a_review_completes_only_after_the_consultation_closes_and_everything_is_decided():
    closed = NOW - timedelta(seconds=1)
    assert completion_blockers(closes_at=closed, now=NOW, completed=False, undecided=[]) == {}
    assert set(completion_blockers(closes_at=NOW + timedelta(hours=1), now=NOW, completed=False,
                                   undecided=[])) == {"not_closed"}
    assert set(completion_blockers(closes_at=closed, now=NOW, completed=False, undecided=["UW/1#1"])) == {"undecided"}
    assert set(completion_blockers(closes_at=closed, now=NOW, completed=True, undecided=[])) == {"completed"}
    assert set(completion_blockers(closes_at=None, now=NOW, completed=False, undecided=["x"])) == {"not_closed",
                                                                                                   "undecided"}


def test_a_reopened_review_needs_a_real_reason():
    assert validate_reopen_reason("  Korekta   stanowiska  w uwadze 3 ") == "Korekta stanowiska w uwadze 3"
    for reason in ("", "   ", "abc", None):
        with pytest.raises(DecisionRejected):
            validate_reopen_reason(reason)


# --- the handlers on SQLite ------------------------------------------------------------------------


@pytest.fixture
def ctx(tmp_path: Any) -> Iterator[Any]:
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_SECRET_KEY": "unit-test-secret-key-0123456789"})
    upgrade("review", settings.database_url("review"))
    context = build(settings)
    yield context
    context.close()


def deliver(ctx: Any, event_type: str, data: dict) -> None:
    InboxDispatcher(ctx.db, Inbox, handlers.EVENT_HANDLERS).dispatch(
        parse_envelope(new_envelope(event_type, data, producer="intake")))


def consultation_with_one_comment(ctx: Any, closes_at: datetime) -> tuple[str, str]:
    consultation_id, comment_id = str(uuid.uuid4()), str(uuid.uuid4())
    deliver(ctx, "consultation.published", {"consultation_id": consultation_id, "title": "Program",
                                            "opens_at": closes_at - timedelta(days=14), "closes_at": closes_at})
    deliver(ctx, "submission.received", {
        "submission_id": str(uuid.uuid4()), "consultation_id": consultation_id, "consultation_title": "Program",
        "reference": f"UW/2024/{uuid.uuid4().int % 10**6:06d}", "channel": "web", "received_at": closes_at - timedelta(days=1),
        "late": False, "status_url": "http://x/status",
        "submitter": {"name": "Anna", "email": "anna@example.org", "publish_consent": False, "kind": "person"},
        "comments": [{"comment_id": comment_id, "number": 1, "section": "§ 1", "proposal": "Zmienić."}]})
    return consultation_id, comment_id


def events(ctx: Any, event_type: str) -> list[dict]:
    with ctx.db.transaction() as session:
        return [row.envelope["data"] for row in session.scalars(select(Outbox).where(Outbox.event_type == event_type))]


def test_completing_before_the_consultation_closes_is_refused_so_later_comments_are_not_stranded(ctx):
    consultation_id, comment_id = consultation_with_one_comment(ctx, closes_at=datetime.now(timezone.utc) + timedelta(days=1))
    decisions.decide(ctx, Decide(comment_id, "accepted"), COORDINATOR)
    with pytest.raises(Conflict) as refused:
        handlers.complete_review(ctx, consultation_id, COORDINATOR)
    assert refused.value.details["reasons"] == ["not_closed"]
    assert events(ctx, "consultation.review_completed") == []
    # A comment that arrives now can still be decided.
    decisions.decide(ctx, Decide(comment_id, "rejected", "Poza zakresem."), COORDINATOR)


def test_a_completed_review_is_reopened_with_its_reason_in_the_audit_log_and_on_the_bus(ctx):
    consultation_id, comment_id = consultation_with_one_comment(ctx, closes_at=datetime.now(timezone.utc) - timedelta(hours=1))
    decisions.decide(ctx, Decide(comment_id, "accepted"), COORDINATOR)
    with pytest.raises(Conflict):
        handlers.reopen_review(ctx, consultation_id, "Korekta stanowiska", COORDINATOR)  # nothing to reopen yet
    handlers.complete_review(ctx, consultation_id, COORDINATOR)
    with pytest.raises(Invalid):
        handlers.reopen_review(ctx, consultation_id, " ", COORDINATOR)

    handlers.reopen_review(ctx, consultation_id, "Korekta stanowiska w uwadze 1", COORDINATOR)
    decisions.decide(ctx, Decide(comment_id, "partially_accepted", "Częściowo.", "Nowe brzmienie."), COORDINATOR)
    handlers.complete_review(ctx, consultation_id, COORDINATOR)

    [reopened] = events(ctx, "consultation.review_reopened")
    assert reopened["reason"] == "Korekta stanowiska w uwadze 1" and reopened["reopened_by"] == COORDINATOR.email
    assert len(events(ctx, "consultation.review_completed")) == 2
    with ctx.db.transaction() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "consultation.review_reopened"))
        assert entry.actor == COORDINATOR.email and entry.details["reason"] == "Korekta stanowiska w uwadze 1"


def test_the_reopen_endpoint_is_for_coordinators_and_answers_422_without_a_reason(ctx):
    consultation_id, comment_id = consultation_with_one_comment(ctx, closes_at=datetime.now(timezone.utc) - timedelta(hours=1))
    decisions.decide(ctx, Decide(comment_id, "accepted"), COORDINATOR)
    client = create_app(ctx=ctx).test_client()

    def as_role(role: str) -> dict:
        return {"Authorization": f"Bearer {ctx.signer.issue('u-' + role, role + '@um.example.pl', role)}"}

    assert client.post(f"/review/api/v1/consultations/{consultation_id}/complete",
                       headers=as_role("coordinator")).status_code == 200
    url = f"/review/api/v1/consultations/{consultation_id}/reopen"
    assert client.post(url, json={"reason": "Korekta stanowiska"}, headers=as_role("reviewer")).status_code == 403
    assert client.post(url, json={"reason": "x"}, headers=as_role("coordinator")).status_code == 422
    response = client.post(url, json={"reason": "Korekta stanowiska"}, headers=as_role("coordinator"))
    assert response.status_code == 200 and response.json["reason"] == "Korekta stanowiska"


def test_the_dashboard_completes_and_reopens_a_review_with_flash_messages(ctx):
    closed_id, closed_comment = consultation_with_one_comment(ctx, closes_at=datetime.now(timezone.utc) - timedelta(hours=1))
    open_id, open_comment = consultation_with_one_comment(ctx, closes_at=datetime.now(timezone.utc) + timedelta(days=3))
    for comment_id in (closed_comment, open_comment):
        decisions.decide(ctx, Decide(comment_id, "accepted"), COORDINATOR)
    client = create_app(ctx=ctx).test_client()
    coordinator = {"Authorization": f"Bearer {ctx.signer.issue('u-k', COORDINATOR.email, 'coordinator')}"}
    reviewer = {"Authorization": f"Bearer {ctx.signer.issue('u-r', 'r@um.example.pl', 'reviewer')}"}

    dashboard = client.get(f"/review/?consultation={closed_id}", headers=coordinator).get_data(as_text=True)
    assert f'action="/review/consultations/{closed_id}/complete"' in dashboard
    assert f'href="/documents/consultations/{closed_id}"' in dashboard and "Zakończ rozpatrywanie uwag" in dashboard
    as_reviewer = client.get(f"/review/?consultation={closed_id}", headers=reviewer).get_data(as_text=True)
    assert "/complete" not in as_reviewer and f'href="/documents/consultations/{closed_id}"' in as_reviewer
    assert client.post(f"/review/consultations/{closed_id}/complete", headers=reviewer).status_code == 403

    # while it is open the button says why it cannot be pressed yet (the server refuses all the same)
    early_page = client.get(f"/review/?consultation={open_id}", headers=coordinator).get_data(as_text=True)
    assert "Jeszcze nie: konsultacje trwają do " in early_page and '-hint" disabled>' in early_page
    assert '-hint" disabled>' not in dashboard
    too_early = client.post(f"/review/consultations/{open_id}/complete", headers=coordinator, follow_redirects=True)
    assert "Konsultacje wciąż przyjmują uwagi" in too_early.get_data(as_text=True)
    done = client.post(f"/review/consultations/{closed_id}/complete", headers=coordinator, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "Rozpatrywanie uwag zostało zakończone." in html and f'action="/review/consultations/{closed_id}/reopen"' in html

    no_reason = client.post(f"/review/consultations/{closed_id}/reopen", data={"reason": "  "}, headers=coordinator,
                            follow_redirects=True)
    assert "Proszę podać powód wznowienia" in no_reason.get_data(as_text=True)
    reopened = client.post(f"/review/consultations/{closed_id}/reopen", data={"reason": "Korekta po skardze"},
                           headers=coordinator, follow_redirects=True)
    assert "Wznowiono rozpatrywanie uwag." in reopened.get_data(as_text=True)
    [event] = events(ctx, "consultation.review_reopened")
    assert event["reason"] == "Korekta po skardze"


def test_an_older_consultation_snapshot_redelivered_late_does_not_overwrite_a_newer_one(ctx):
    """GIVEN revision 3 of a consultation (approval switched off) applied WHEN revision 2 arrives late
    THEN review keeps revision 3; a later revision 4 is applied."""
    from services.review.models import ConsultationRef

    consultation_id = str(uuid.uuid4())
    closes_at = datetime(2099, 10, 21, tzinfo=timezone.utc)

    def publish(revision: int, title: str, approval: bool) -> None:
        deliver(ctx, "consultation.published", {
            "consultation_id": consultation_id, "title": title, "opens_at": closes_at - timedelta(days=14),
            "closes_at": closes_at, "decisions_need_approval": approval, "revision": revision})

    def snapshot() -> tuple:
        with ctx.db.transaction() as session:
            row = session.get(ConsultationRef, consultation_id)
            return row.revision, row.title, row.decisions_need_approval

    publish(3, "Program – wersja 3", False)
    publish(2, "Program – wersja 2", True)
    assert snapshot() == (3, "Program – wersja 3", False)
    publish(4, "Program – wersja 4", True)
    assert snapshot() == (4, "Program – wersja 4", True)


def test_completion_waits_for_a_changed_decision_to_be_approved(ctx):
    """GIVEN every comment decided WHEN a reviewer proposes a different decision THEN the review cannot be
    completed until a coordinator approves it, and the report then carries the approved decision."""
    consultation_id, comment_id = consultation_with_one_comment(ctx, closes_at=datetime.now(timezone.utc) - timedelta(hours=1))
    decisions.decide(ctx, Decide(comment_id, "accepted"), COORDINATOR)
    reviewer = StaffIdentity("u-r", "r@um.example.pl", "reviewer")
    decisions.decide(ctx, Decide(comment_id, "rejected", "Poza zakresem programu."), reviewer)

    with pytest.raises(Conflict) as refused:
        handlers.complete_review(ctx, consultation_id, COORDINATOR)
    assert "1 decision(s) still wait for approval" in str(refused.value.message)
    assert events(ctx, "consultation.review_completed") == []

    decisions.approve(ctx, comment_id, COORDINATOR)
    completed = handlers.complete_review(ctx, consultation_id, COORDINATOR)
    assert completed["counts"] == {"rejected": 1}
    [event] = events(ctx, "consultation.review_completed")
    assert event["counts"] == {"rejected": 1} and event["completed_by"] == COORDINATOR.email


def test_completing_or_reopening_an_unknown_consultation_is_not_found(ctx):
    from services.common.web import NotFound

    with pytest.raises(NotFound):
        handlers.complete_review(ctx, "no-such-consultation", COORDINATOR)
    with pytest.raises(NotFound):
        handlers.reopen_review(ctx, "no-such-consultation", "Korekta stanowiska", COORDINATOR)
    with pytest.raises(NotFound):
        handlers.get_comment(ctx, "no-such-comment")


def test_the_comment_list_filters_by_consultation_status_and_decision_and_pages_in_the_order_received(ctx):
    first, first_comment = consultation_with_one_comment(ctx, closes_at=datetime.now(timezone.utc) + timedelta(days=2))
    second, _ = consultation_with_one_comment(ctx, closes_at=datetime.now(timezone.utc) + timedelta(days=3))
    more = [str(uuid.uuid4()) for _ in range(3)]
    deliver(ctx, "submission.received", {
        "submission_id": str(uuid.uuid4()), "consultation_id": first, "consultation_title": "Program",
        "reference": "UW/2024/999999", "channel": "email", "received_at": datetime.now(timezone.utc),
        "late": False, "status_url": "http://x/status",
        "submitter": {"name": "Jan", "organization": "Fundacja Razem", "email": "jan@example.org",
                      "publish_consent": True, "kind": "organization"},
        "comments": [{"comment_id": c, "number": n, "section": f"§ {n}", "proposal": "Dodać."}
                     for n, c in enumerate(more, start=1)]})
    decisions.decide(ctx, Decide(first_comment, "accepted"), COORDINATOR)

    def listed(**filters: Any) -> tuple[list[str], int]:
        query = {"consultation_id": None, "status": None, "decision": None, "limit": 50, "offset": 0} | filters
        rows, total = handlers.list_comments(ctx, **query)
        return [row.id for row in rows], total

    # Received order, then number: the helper's comment arrived a day before its consultation closes, later
    # than the three received now.
    assert listed(consultation_id=first) == ([*more, first_comment], 4)
    assert listed(consultation_id=second)[1] == 1 and listed()[1] == 5
    assert listed(consultation_id=first, decision="accepted") == ([first_comment], 1)
    assert listed(consultation_id=first, status="new") == (more, 3)
    # A page holds `limit` rows; the total counts every match.
    assert listed(consultation_id=first, limit=2, offset=1) == ([more[1], more[2]], 4)
    assert listed(consultation_id=first, limit=2, offset=4) == ([], 4)
    organisation = handlers.get_comment(ctx, more[0])
    assert organisation.submitter_label == "Fundacja Razem" and organisation.channel == "email"


def test_the_dashboard_says_why_it_cannot_complete_or_reopen(ctx):
    """The refusals the pages turn into messages: decisions awaiting approval, nothing to reopen, and an
    unknown consultation (back to the dashboard, not a 500)."""
    consultation_id, comment_id = consultation_with_one_comment(ctx, closes_at=datetime.now(timezone.utc) - timedelta(hours=1))
    decisions.decide(ctx, Decide(comment_id, "accepted"), COORDINATOR)
    decisions.decide(ctx, Decide(comment_id, "rejected", "Poza zakresem."), StaffIdentity("u-r", "r@um.example.pl", "reviewer"))
    client = create_app(ctx=ctx).test_client()
    coordinator = {"Authorization": f"Bearer {ctx.signer.issue('u-k', COORDINATOR.email, 'coordinator')}"}

    waiting = client.post(f"/review/consultations/{consultation_id}/complete", headers=coordinator, follow_redirects=True)
    assert "Niektóre rozstrzygnięcia wciąż czekają na zatwierdzenie." in waiting.get_data(as_text=True)
    not_completed = client.post(f"/review/consultations/{consultation_id}/reopen", data={"reason": "Korekta po skardze"},
                                headers=coordinator, follow_redirects=True)
    assert "nie ma czego wznawiać" in not_completed.get_data(as_text=True)
    for action in ("complete", "reopen"):
        unknown = client.post(f"/review/consultations/no-such-consultation/{action}", data={"reason": "Korekta po skardze"},
                              headers=coordinator)
        assert unknown.status_code == 303 and unknown.headers["Location"].endswith("/review/")
        assert "Nie ma takich konsultacji." in client.get("/review/", headers=coordinator).get_data(as_text=True)
    assert events(ctx, "consultation.review_completed") == events(ctx, "consultation.review_reopened") == []
