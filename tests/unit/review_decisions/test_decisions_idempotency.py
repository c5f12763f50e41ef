"""Idempotency-Key on review's creating POSTs: a retry gets the first answer and no second revision, note,
standard justification or group; another body under the key is a 422; a retry while the first runs is a 409."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

import pytest

from services.common.db import utcnow
from services.common.idempotency import HEADER, stored_keys
from services.common.runtime import ServiceWorker
from services.review import decisions_api
from services.review.models import (CommentGroup, CommentNote, DecisionRecord, IdempotencyKey, ReviewComment,
                                     StandardJustification)
from services.review.worker import worker_spec
from tests.support.idempotency import (assert_in_progress, assert_replayed, assert_reused, count, keyed,
                                       while_first_runs)
from tests.unit.review_decisions.support import (COORDINATOR, OTHER_REVIEWER, REVIEWER, bearer, decided_events,
                                                 publish_consultation, submit)
from tests.unit.review_groups.support import LETTER, receive

API = "/review/api/v1"
DECISION = {"decision": "rejected", "justification": "Poza zakresem programu."}
OTHER_DECISION = {"decision": "rejected", "justification": "Inne uzasadnienie."}


def _decision(ctx: Any) -> tuple[str, Callable[[], int]]:
    (comment_id,) = submit(ctx, publish_consultation(ctx, needs_approval=False), ["§ 5"])
    return f"{API}/comments/{comment_id}/decision", lambda: count(ctx, DecisionRecord)


def _bulk_decision(ctx: Any) -> tuple[str, Callable[[], int]]:
    ids = submit(ctx, publish_consultation(ctx, needs_approval=False), ["§ 5", "§ 6"])
    ctx.extras["test_bulk_ids"] = ids
    return f"{API}/bulk/decide", lambda: count(ctx, DecisionRecord)


def _group_decision(ctx: Any) -> tuple[str, Callable[[], int]]:
    consultation = publish_consultation(ctx, needs_approval=False)
    first, *_ = receive(ctx, consultation, LETTER, LETTER + "!", LETTER + "?")
    with ctx.db.transaction() as session:
        group_id = session.get(ReviewComment, first).group_id
    return f"{API}/groups/{group_id}/decision", lambda: count(ctx, DecisionRecord)


def _note(ctx: Any) -> tuple[str, Callable[[], int]]:
    (comment_id,) = submit(ctx, publish_consultation(ctx), ["§ 5"])
    return f"{API}/comments/{comment_id}/notes", lambda: count(ctx, CommentNote)


def _standard_justification(ctx: Any) -> tuple[str, Callable[[], int]]:
    return (f"{API}/consultations/{publish_consultation(ctx)}/standard-justifications",
            lambda: count(ctx, StandardJustification))


def _split(ctx: Any) -> tuple[str, Callable[[], int]]:
    consultation = publish_consultation(ctx)
    members = receive(ctx, consultation, LETTER, LETTER + "!", LETTER + "?", "Szanowni Państwo, " + LETTER)
    with ctx.db.transaction() as session:
        group_id = session.get(ReviewComment, members[0]).group_id
    ctx.extras["test_members"] = members
    return f"{API}/groups/{group_id}/split", lambda: count(ctx, CommentGroup)


# (setup, who, body, another body); the bodies may name what the setup made, through ctx.extras.
CASES = {
    "decision": (_decision, REVIEWER, lambda ctx: DECISION, lambda ctx: OTHER_DECISION),
    "bulk decision": (_bulk_decision, REVIEWER, lambda ctx: {"comment_ids": ctx.extras["test_bulk_ids"], **DECISION},
                      lambda ctx: {"comment_ids": ctx.extras["test_bulk_ids"][:1], **DECISION}),
    "group decision": (_group_decision, REVIEWER, lambda ctx: DECISION, lambda ctx: OTHER_DECISION),
    "note": (_note, REVIEWER, lambda ctx: {"body": "Sprawdzić z wydziałem."}, lambda ctx: {"body": "Inna notatka."}),
    "standard justification": (_standard_justification, COORDINATOR,
                               lambda ctx: {"title": "Poza zakresem", "text": "Uwaga wykracza poza zakres."},
                               lambda ctx: {"title": "Poza zakresem", "text": "Inny tekst."}),
    "split": (_split, REVIEWER, lambda ctx: {"comment_ids": ctx.extras["test_members"][2:]},
              lambda ctx: {"comment_ids": ctx.extras["test_members"][1:]}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_retry_gets_the_first_answer_and_another_body_under_the_key_is_a_422(ctx, client, case):
    setup, who, body, other = CASES[case]
    url, created = setup(ctx)
    before = created()
    headers = keyed(bearer(ctx, who), case.replace(" ", "-"))
    first = client.post(url, json=body(ctx), headers=headers)
    after_first = created()
    assert after_first > before, (case, first.get_json())
    again = client.post(url, json=body(ctx), headers=headers)
    assert_replayed(first, again)
    assert created() == after_first
    assert_reused(client.post(url, json=other(ctx), headers=headers))
    assert created() == after_first
    (key,) = stored_keys(ctx, IdempotencyKey)
    assert key.committed and key.status == first.status_code


def test_a_retried_decision_emits_one_event_and_the_key_belongs_to_one_staff_member(ctx, client):
    url, revisions = _decision(ctx)
    first = client.post(url, json=DECISION, headers=keyed(bearer(ctx, REVIEWER), "d-1"))
    assert_replayed(first, client.post(url, json=DECISION, headers=keyed(bearer(ctx, REVIEWER), "d-1")))
    assert first.get_json()["revision"] == 1 and len(decided_events(ctx)) == 1
    # Another reviewer's key of the same spelling is another key: their decision is a revision of its own.
    theirs = client.post(url, json=DECISION, headers=keyed(bearer(ctx, OTHER_REVIEWER), "d-1"))
    assert theirs.status_code == 200 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["revision"] == 2 and revisions() == 2


def test_a_refused_decision_keeps_no_key_and_may_be_retried_with_it(ctx, client):
    url, revisions = _decision(ctx)
    headers = keyed(bearer(ctx, REVIEWER), "d-2")
    refused = client.post(url, json={"decision": "rejected", "justification": " "}, headers=headers)
    assert refused.status_code == 422 and stored_keys(ctx, IdempotencyKey) == []
    assert client.post(url, json=DECISION, headers=headers).status_code == 200 and revisions() == 1


def test_a_retry_while_the_first_decision_runs_is_a_409_and_nothing_is_decided_twice(ctx, client, monkeypatch):
    url, revisions = _decision(ctx)
    app = client.application

    def send() -> Any:
        return app.test_client().post(url, json=DECISION, headers=keyed(bearer(ctx, REVIEWER), "slow"))

    first, second = while_first_runs(monkeypatch, decisions_api.decisions, "decide", send)
    assert first.status_code == 200, first.get_json()
    assert_in_progress(second)
    assert_replayed(first, send())
    assert revisions() == 1 and len(decided_events(ctx)) == 1


def test_the_review_worker_sweeps_expired_keys(ctx, client):
    url, _ = _decision(ctx)
    client.post(url, json=DECISION, headers=keyed(bearer(ctx, REVIEWER), "old"))
    with ctx.db.transaction() as session:
        session.get(IdempotencyKey, (f"POST {url} {REVIEWER.user_id}", "old")).expires_at = utcnow() - timedelta(1)
    fresh = client.post(url, json=OTHER_DECISION, headers=keyed(bearer(ctx, REVIEWER), "new"))
    assert fresh.status_code == 200
    ServiceWorker(ctx, worker_spec()).run_sweeps()
    assert [k.key for k in stored_keys(ctx, IdempotencyKey)] == ["new"]


def test_the_openapi_document_offers_the_header_exactly_on_the_creating_posts(ctx, client):
    spec = client.get(f"{API}/openapi.json").get_json()
    header = spec["components"]["parameters"]["IdempotencyKey"]
    assert header["name"] == HEADER and header["in"] == "header" and header["required"] is False
    with_key = {path.removeprefix(API) for path, operations in spec["paths"].items()
                for method, operation in operations.items() if method == "post"
                and {"$ref": "#/components/parameters/IdempotencyKey"} in operation.get("parameters", [])}
    assert with_key == {"/comments/{comment_id}/decision", "/bulk/decide", "/groups/{group_id}/decision",
                        "/comments/{comment_id}/notes", "/consultations/{consultation_id}/standard-justifications",
                        "/groups/{group_id}/split"}
    decision = spec["paths"][f"{API}/comments/{{comment_id}}/decision"]["post"]["responses"]
    assert "idempotency_key_in_progress" in decision["409"]["description"] and "422" in decision
