"""The JSON API of decisions under /review/api/v1: roles, validation, bounded paging."""

from __future__ import annotations

from tests.unit.review_decisions.support import (
    COORDINATOR,
    REVIEWER,
    bearer,
    decided_events,
    publish_consultation,
    submit,
)

API = "/review/api/v1"


def test_a_reviewer_proposes_and_a_coordinator_approves_over_http(ctx, client):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 5"])

    proposed = client.post(f"{API}/comments/{comment_id}/decision", headers=bearer(ctx, REVIEWER),
                           json={"decision": "rejected", "justification": "Poza zakresem"})
    assert proposed.status_code == 200, proposed.json
    assert proposed.json["approval_state"] == "proposed" and proposed.json["approved_revision"] is None

    waiting = client.get(f"{API}/approvals?state=proposed&consultation={consultation}", headers=bearer(ctx, REVIEWER))
    assert [c["id"] for c in waiting.json["items"]] == [comment_id] and waiting.json["total"] == 1

    assert client.post(f"{API}/comments/{comment_id}/approval", headers=bearer(ctx, REVIEWER), json={}).status_code == 403
    approved = client.post(f"{API}/comments/{comment_id}/approval", headers=bearer(ctx, COORDINATOR), json={})
    assert approved.status_code == 200 and approved.json["approval_state"] == "approved"
    assert client.post(f"{API}/comments/{comment_id}/approval", headers=bearer(ctx, COORDINATOR),
                       json={}).status_code == 409
    assert [e["comment_id"] for e in decided_events(ctx)] == [comment_id]

    revisions = client.get(f"{API}/comments/{comment_id}/decisions", headers=bearer(ctx, REVIEWER)).json["items"]
    assert [(r["revision"], r["state"], r["reviewed_by"]) for r in revisions] == [(1, "approved", COORDINATOR.email)]


def test_returning_needs_a_note_and_rejects_unknown_fields(ctx, client):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 5"])
    client.post(f"{API}/comments/{comment_id}/decision", headers=bearer(ctx, REVIEWER),
                json={"decision": "rejected", "justification": "Nie"})
    url = f"{API}/comments/{comment_id}/return"
    assert client.post(url, headers=bearer(ctx, COORDINATOR), json={}).status_code == 422
    assert client.post(url, headers=bearer(ctx, COORDINATOR), json={"note": "x", "extra": 1}).status_code == 422
    assert client.post(url, headers=bearer(ctx, COORDINATOR), json={"note": "  "}).status_code == 422
    returned = client.post(url, headers=bearer(ctx, COORDINATOR), json={"note": "Proszę poprawić"})
    assert (returned.status_code, returned.json["approval_state"], returned.json["approval_note"]) == \
        (200, "returned", "Proszę poprawić")
    assert client.post(f"{API}/comments/missing/return", headers=bearer(ctx, COORDINATOR),
                       json={"note": "x"}).status_code == 404


def test_a_reviewer_asking_to_approve_their_own_decision_is_refused(ctx, client):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 5"])
    response = client.post(f"{API}/comments/{comment_id}/decision", headers=bearer(ctx, REVIEWER),
                           json={"decision": "accepted", "approve": True})
    assert response.status_code == 403 and "coordinator" in response.json["message"]


def test_bulk_endpoints_decide_approve_and_assign(ctx, client):
    consultation = publish_consultation(ctx)
    ids = submit(ctx, consultation, ["§ 1", "§ 2", "§ 3"])

    decided = client.post(f"{API}/bulk/decide", headers=bearer(ctx, REVIEWER),
                          json={"comment_ids": ids[:2], "decision": "not_considered", "justification": "Po terminie"})
    assert decided.status_code == 200 and decided.json == {"done": ids[:2], "skipped": {}}
    approved = client.post(f"{API}/bulk/approve", headers=bearer(ctx, COORDINATOR), json={"comment_ids": ids})
    assert approved.json == {"done": ids[:2], "skipped": {ids[2]: "undecided"}}
    assert client.post(f"{API}/bulk/approve", headers=bearer(ctx, REVIEWER), json={"comment_ids": ids}).status_code == 403
    assigned = client.post(f"{API}/bulk/assign", headers=bearer(ctx, COORDINATOR),
                           json={"comment_ids": ids, "assignee": REVIEWER.email})
    assert assigned.status_code == 200 and assigned.json["done"] == ids
    assert client.post(f"{API}/bulk/assign", headers=bearer(ctx, COORDINATOR),
                       json={"comment_ids": ids, "assignee": "not an e-mail"}).status_code == 422
    assert client.post(f"{API}/bulk/decide", headers=bearer(ctx, REVIEWER),
                       json={"comment_ids": [], "decision": "accepted"}).status_code == 422
    too_many = {"comment_ids": [f"c{i}" for i in range(1001)], "decision": "accepted"}
    assert client.post(f"{API}/bulk/decide", headers=bearer(ctx, REVIEWER), json=too_many).status_code == 422


def test_standard_justifications_are_managed_by_coordinators(ctx, client):
    consultation = publish_consultation(ctx)
    url = f"{API}/consultations/{consultation}/standard-justifications"
    body = {"title": "Poza zakresem", "text": "Uwaga wykracza poza zakres Programu."}
    assert client.post(url, headers=bearer(ctx, REVIEWER), json=body).status_code == 403
    created = client.post(url, headers=bearer(ctx, COORDINATOR), json=body)
    assert created.status_code == 201 and created.json["active"] is True
    standard_id = created.json["id"]
    assert [s["title"] for s in client.get(url, headers=bearer(ctx, REVIEWER)).json["items"]] == ["Poza zakresem"]

    patched = client.patch(f"{API}/standard-justifications/{standard_id}", headers=bearer(ctx, COORDINATOR),
                           json={"active": False})
    assert patched.status_code == 200 and patched.json["active"] is False
    assert client.get(url, headers=bearer(ctx, REVIEWER)).json["items"] == []
    assert len(client.get(f"{url}?archived=true", headers=bearer(ctx, REVIEWER)).json["items"]) == 1
    assert client.patch(f"{API}/standard-justifications/999", headers=bearer(ctx, COORDINATOR),
                        json={"active": False}).status_code == 404
    assert client.post(f"{API}/consultations/none/standard-justifications", headers=bearer(ctx, COORDINATOR),
                       json=body).status_code == 404


def test_the_audit_api_filters_and_bounds_its_pages(ctx, client):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 1"])
    client.post(f"{API}/comments/{comment_id}/decision", headers=bearer(ctx, COORDINATOR),
                json={"decision": "accepted"})

    page = client.get(f"{API}/audit?subject={comment_id}", headers=bearer(ctx, REVIEWER)).json
    (entry,) = page["items"]
    assert (entry["actor"], entry["action"], entry["after"]["approval_state"]) == \
        (COORDINATOR.email, "comment.decided", "approved")
    assert client.get(f"{API}/audit?action=comment.&actor={REVIEWER.email}", headers=bearer(ctx, REVIEWER)).json[
        "total"] == 0
    assert client.get(f"{API}/audit?limit=501", headers=bearer(ctx, REVIEWER)).status_code == 422
    assert client.get(f"{API}/audit?since=yesterday", headers=bearer(ctx, REVIEWER)).status_code == 422
    assert client.get(f"{API}/audit?since=2026-01-02T00:00:00&until=2026-01-01T00:00:00",
                      headers=bearer(ctx, REVIEWER)).status_code == 422
    assert client.get(f"{API}/audit").status_code == 401


def test_progress_over_http(ctx, client):
    consultation = publish_consultation(ctx)
    submit(ctx, consultation, ["§ 1", "§ 2"])
    (item,) = client.get(f"{API}/progress?consultation={consultation}", headers=bearer(ctx, REVIEWER)).json["items"]
    assert item["overall"] == {"total": 2, "undecided": 2, "proposed": 0, "returned": 0, "approved": 0,
                               "unapproved": 0}
    assert set(item["by_chapter"]) == {"§ 1", "§ 2"} and item["by_reviewer"][""]["total"] == 2
    assert client.get(f"{API}/progress?consultation=none", headers=bearer(ctx, REVIEWER)).status_code == 404


def test_a_group_is_approved_at_once_by_its_id(ctx, client):
    from services.review.models import ReviewComment

    consultation = publish_consultation(ctx)
    first, second = submit(ctx, consultation, ["§ 1"]) + submit(ctx, consultation, ["§ 1"])
    with ctx.db.transaction() as session:
        group_ids = {session.get(ReviewComment, i).group_id for i in (first, second)}
    (group_id,) = group_ids  # identical proposals are grouped as they arrive
    client.post(f"{API}/bulk/decide", headers=bearer(ctx, REVIEWER),
                json={"comment_ids": [first, second], "decision": "rejected", "justification": "Kampania"})

    both = client.post(f"{API}/bulk/approve", headers=bearer(ctx, COORDINATOR),
                       json={"comment_ids": [first], "group_id": group_id})
    assert both.status_code == 422
    assert client.post(f"{API}/bulk/approve", headers=bearer(ctx, COORDINATOR),
                       json={"group_id": "no-such-group"}).status_code == 404
    approved = client.post(f"{API}/bulk/approve", headers=bearer(ctx, COORDINATOR), json={"group_id": group_id})

    assert approved.status_code == 200 and sorted(approved.json["done"]) == sorted([first, second])
    assert sorted(e["comment_id"] for e in decided_events(ctx)) == sorted([first, second])
