"""`/review/api/v1/groups`: listing with member ids, splitting and merging, clear errors, staff only."""

from __future__ import annotations

import uuid

from tests.unit.review_groups.support import LETTER, OTHER, publish_consultation, receive


def bearer(ctx, role: str = "reviewer") -> dict:
    return {"Authorization": f"Bearer {ctx.signer.issue('u-' + role, role + '@um.example.pl', role)}"}


def test_groups_need_a_staff_token(ctx, client):
    assert client.get("/review/api/v1/groups").status_code == 401
    assert client.post("/review/api/v1/groups/x/split", json={"comment_ids": ["a"]}).status_code == 401


def test_groups_are_listed_with_their_member_ids(ctx, client):
    consultation, elsewhere = str(uuid.uuid4()), str(uuid.uuid4())
    letters = receive(ctx, consultation, LETTER, LETTER + "!", "Szanowni Państwo, " + LETTER)
    receive(ctx, elsewhere, OTHER, OTHER)
    response = client.get(f"/review/api/v1/groups?consultation={consultation}", headers=bearer(ctx))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["total"] == 1 and body["limit"] == 50 and body["offset"] == 0
    (group,) = body["items"]
    assert sorted(group["member_ids"]) == sorted(letters) and group["size"] == 3
    assert group["consultation_id"] == consultation and group["curated"] is False
    everything = client.get("/review/api/v1/groups", headers=bearer(ctx)).json
    assert everything["total"] == 2
    comment = client.get(f"/review/api/v1/comments/{letters[0]}", headers=bearer(ctx)).json
    assert comment["group_id"] == group["id"]
    assert client.get(f"/review/api/v1/groups/{group['id']}", headers=bearer(ctx)).json == group


def test_paging_is_bounded_and_bad_queries_are_422(ctx, client):
    for query in ("limit=0", "limit=201", "offset=-1", "limit=abc"):
        response = client.get(f"/review/api/v1/groups?{query}", headers=bearer(ctx))
        assert response.status_code == 422, query
    assert client.get("/review/api/v1/groups/nope", headers=bearer(ctx)).status_code == 404


def test_split_and_merge_over_the_api(ctx, client):
    consultation = str(uuid.uuid4())
    letters = receive(ctx, consultation, LETTER, LETTER + "!", LETTER + "?")
    (group,) = client.get(f"/review/api/v1/groups?consultation={consultation}", headers=bearer(ctx)).json["items"]
    split = client.post(f"/review/api/v1/groups/{group['id']}/split", headers=bearer(ctx),
                        json={"comment_ids": letters[1:]})
    assert split.status_code == 200, split.json
    assert split.json == {"group_id": None, "new_group_id": split.json["new_group_id"]}
    others = receive(ctx, consultation, OTHER, OTHER)
    other_group = client.get(f"/review/api/v1/comments/{others[0]}", headers=bearer(ctx)).json["group_id"]
    merged = client.post(f"/review/api/v1/groups/{split.json['new_group_id']}/merge", headers=bearer(ctx),
                         json={"group_ids": [other_group]})
    assert merged.status_code == 200, merged.json
    assert sorted(merged.json["member_ids"]) == sorted(letters[1:] + others) and merged.json["curated"] is True


def test_bad_split_and_merge_requests_get_clear_client_errors(ctx, client):
    consultation = str(uuid.uuid4())
    letters = receive(ctx, consultation, LETTER, LETTER + "!")
    group_id = client.get(f"/review/api/v1/comments/{letters[0]}", headers=bearer(ctx)).json["group_id"]
    url = f"/review/api/v1/groups/{group_id}"
    assert client.post(f"{url}/split", headers=bearer(ctx), json={"comment_ids": []}).status_code == 422
    assert client.post(f"{url}/split", headers=bearer(ctx), json={"ids": letters}).status_code == 422
    assert client.post(f"{url}/split", headers=bearer(ctx), json={"comment_ids": letters}).status_code == 422
    assert client.post(f"{url}/split", headers=bearer(ctx), data="{", content_type="application/json").status_code == 400
    assert client.post(f"{url}/merge", headers=bearer(ctx), json={"group_ids": ["nope"]}).status_code == 404
    assert client.post(f"{url}/merge", headers=bearer(ctx), json={"group_ids": [group_id]}).status_code == 422
    assert client.post("/review/api/v1/groups/nope/split", headers=bearer(ctx),
                       json={"comment_ids": letters[:1]}).status_code == 404


def test_the_groups_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/review/api/v1/openapi.json").json["paths"]
    assert {"/review/api/v1/groups", "/review/api/v1/groups/{group_id}/split",
            "/review/api/v1/groups/{group_id}/merge"} <= set(paths)


def test_a_group_decision_over_the_api(ctx, client):
    consultation = publish_consultation(ctx, needs_approval=False)
    letters = receive(ctx, consultation, LETTER, LETTER + "!")
    group_id = client.get(f"/review/api/v1/comments/{letters[0]}", headers=bearer(ctx)).json["group_id"]
    url = f"/review/api/v1/groups/{group_id}/decision"
    missing = client.post(url, headers=bearer(ctx), json={"decision": "rejected"})
    assert missing.status_code == 422 and "justification" in str(missing.json)
    assert client.post(url, headers=bearer(ctx), json={"decision": "x", "comment_ids": letters}).status_code == 422
    response = client.post(url, headers=bearer(ctx), json={"decision": "rejected",
                                                             "justification": "Poza zakresem Programu."})
    assert response.status_code == 200, response.json
    assert sorted(response.json["decided"]) == sorted(letters)
    for comment_id in letters:
        assert client.get(f"/review/api/v1/comments/{comment_id}", headers=bearer(ctx)).json["decision"] == "rejected"
    assert client.post("/review/api/v1/groups/nope/decision", headers=bearer(ctx),
                       json={"decision": "accepted"}).status_code == 404
