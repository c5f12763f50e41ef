"""`/review/groups`: the list and a group's page, split, merge and a group decision from the console."""

from __future__ import annotations

import re

from sqlalchemy import select

from services.common.auth import SESSION_KEY, StaffIdentity, session_claims
from services.review import groups
from services.review.models import ReviewComment
from tests.unit.review_groups.support import LETTER, OTHER, REVIEWER, publish_consultation, receive

COORDINATOR = StaffIdentity("u-coordinator", "koordynator@um.example.pl", "coordinator")


def bearer(ctx, who: StaffIdentity = REVIEWER) -> dict:
    return {"Authorization": f"Bearer {ctx.signer.issue(who.user_id, who.email, who.role)}"}


def html(response) -> str:
    return response.get_data(as_text=True)


def group_of(ctx, comment_id: str) -> str | None:
    with ctx.db.transaction() as session:
        return session.scalar(select(ReviewComment.group_id).where(ReviewComment.id == comment_id))


def campaign(ctx, consultation: str) -> list[str]:
    return receive(ctx, consultation, LETTER, LETTER + "!", "Szanowni Państwo, " + LETTER, LETTER + " Pozdrawiam")


def test_pages_need_a_staff_identity(ctx, client):
    response = client.get("/review/groups")
    assert response.status_code == 302 and response.headers["Location"].startswith("/review/login?next=")
    assert client.post("/review/groups/merge", data={"group_ids": ["a", "b"]}).status_code in (302, 401, 403)


def test_the_list_shows_groups_largest_first_in_polish_and_english(ctx, client):
    consultation = publish_consultation(ctx)
    letters = campaign(ctx, consultation)
    receive(ctx, consultation, OTHER, OTHER)
    page = html(client.get(f"/review/groups?consultation={consultation}", headers=bearer(ctx)))
    assert "<h1>Grupy jednakowych uwag</h1>" in page and "Znaleziono grup: 2" in page
    assert page.index(f'/review/groups/{group_of(ctx, letters[0])}"') < page.index("Proponujemy dopisanie")
    assert '<th scope="col">Uwagi</th>' in page and 'name="csrf_token"' in page
    assert 'aria-current="page"' in page  # "Groups" in the navigation
    english = html(client.get(f"/review/groups?consultation={consultation}&lang=en", headers=bearer(ctx)))
    assert "Groups of identical comments" in english and "Merge the selected groups" in english


def test_a_group_page_lists_its_members_with_the_split_merge_and_decision_forms(ctx, client):
    consultation = publish_consultation(ctx)
    letters = campaign(ctx, consultation)
    receive(ctx, consultation, OTHER, OTHER)
    group_id = group_of(ctx, letters[0])
    page = html(client.get(f"/review/groups/{group_id}", headers=bearer(ctx)))
    for comment_id in letters:
        assert f'name="comment_ids" value="{comment_id}"' in page
    assert f'action="/review/groups/{group_id}/split"' in page and f'action="/review/groups/{group_id}/merge"' in page
    assert f'action="/review/groups/{group_id}/decision"' in page and 'name="decision" value="rejected"' in page
    assert f"/review/queue?group={group_id}" in page
    assert client.get("/review/groups/nope", headers=bearer(ctx)).status_code == 404


def test_splitting_and_merging_from_the_pages(ctx, client):
    consultation = publish_consultation(ctx)
    letters = campaign(ctx, consultation)
    group_id = group_of(ctx, letters[0])
    response = client.post(f"/review/groups/{group_id}/split", headers=bearer(ctx),
                           data={"comment_ids": letters[2:]})
    assert response.status_code == 302
    new_group = group_of(ctx, letters[2])
    assert response.headers["Location"] == f"/review/groups/{new_group}" and new_group != group_id
    assert "tworzą teraz osobną grupę" in html(client.get(response.headers["Location"], headers=bearer(ctx)))

    refused = client.post(f"/review/groups/{group_id}/split", headers=bearer(ctx), data={})
    assert refused.status_code == 302
    assert "Proszę zaznaczyć co najmniej jedną uwagę." in html(client.get(refused.headers["Location"],
                                                                          headers=bearer(ctx)))

    merged = client.post("/review/groups/merge", headers=bearer(ctx), data={"group_ids": [group_id, new_group]})
    assert merged.status_code == 302
    assert {group_of(ctx, c) for c in letters} == {merged.headers["Location"].rsplit("/", 1)[1]}

    others = receive(ctx, consultation, OTHER, OTHER)
    target = group_of(ctx, letters[0])
    into = client.post(f"/review/groups/{target}/merge", headers=bearer(ctx), data={"group_ids": group_of(ctx, others[0])})
    assert into.status_code == 302 and {group_of(ctx, c) for c in letters + others} == {target}


def test_a_group_decision_from_the_page(ctx, client):
    consultation = publish_consultation(ctx, needs_approval=True)
    letters = campaign(ctx, consultation)
    group_id = group_of(ctx, letters[0])
    invalid = client.post(f"/review/groups/{group_id}/decision", headers=bearer(ctx), data={"decision": "rejected"})
    assert invalid.status_code == 422 and 'aria-invalid="true"' in html(invalid)
    response = client.post(f"/review/groups/{group_id}/decision", headers=bearer(ctx, COORDINATOR),
                           data={"decision": "rejected", "justification": "Poza zakresem Programu.", "approval": "now"})
    assert response.status_code == 302
    page = html(client.get(response.headers["Location"], headers=bearer(ctx)))
    assert "Decyzję zastosowano do 4 uwag grupy" in page
    with ctx.db.transaction() as session:
        states = {(c.decision, c.approval_state) for c in session.scalars(
            select(ReviewComment).where(ReviewComment.id.in_(letters)))}
    assert states == {("rejected", "approved")}
    assert groups.list_groups(ctx, consultation_id=consultation, limit=5, offset=0)[0][0].decided == 4


def test_a_session_form_needs_its_csrf_token(ctx, client):
    consultation = publish_consultation(ctx)
    letters = campaign(ctx, consultation)
    group_id = group_of(ctx, letters[0])
    with client.session_transaction() as session:
        session[SESSION_KEY] = session_claims(REVIEWER)
    assert client.post(f"/review/groups/{group_id}/split", data={"comment_ids": letters[:2]}).status_code == 400
    assert group_of(ctx, letters[3]) == group_id
    token = re.search(r'name="csrf_token" value="([^"]+)"', html(client.get(f"/review/groups/{group_id}"))).group(1)
    response = client.post(f"/review/groups/{group_id}/split", data={"comment_ids": letters[:2], "csrf_token": token})
    assert response.status_code == 302 and group_of(ctx, letters[0]) != group_id


def test_a_coordinator_approves_the_proposals_of_a_group_from_its_page(ctx, client):
    consultation = publish_consultation(ctx, needs_approval=True)
    letters = campaign(ctx, consultation)
    group_id = group_of(ctx, letters[0])
    groups.decide_group(ctx, group_id, "accepted", "", None, REVIEWER)
    assert "Zatwierdź propozycje w grupie" not in html(client.get(f"/review/groups/{group_id}", headers=bearer(ctx)))
    page = html(client.get(f"/review/groups/{group_id}", headers=bearer(ctx, COORDINATOR)))
    assert "Propozycje czekające na zatwierdzenie: 4" in page and f'name="group_id" value="{group_id}"' in page
    token_free = {"action": "approve", "group_id": group_id, "next": f"/review/groups/{group_id}"}
    response = client.post("/review/bulk", headers=bearer(ctx, COORDINATOR), data=token_free)
    assert response.status_code == 302 and response.headers["Location"] == f"/review/groups/{group_id}"
    with ctx.db.transaction() as session:
        states = {c.approval_state for c in session.scalars(select(ReviewComment).where(ReviewComment.id.in_(letters)))}
    assert states == {"approved"}


def test_the_group_page_links_to_the_queue_filtered_by_the_group(ctx, client):
    consultation = publish_consultation(ctx)
    letters = campaign(ctx, consultation)
    others = receive(ctx, consultation, OTHER)
    group_id = group_of(ctx, letters[0])
    queue = html(client.get(f"/review/queue?group={group_id}", headers=bearer(ctx)))
    assert all(f"/review/comments/{c}" in queue for c in letters)
    assert f"/review/comments/{others[0]}" not in queue


def test_refused_merges_come_back_as_messages_and_an_unknown_group_is_404(ctx, client):
    """GIVEN groups in two consultations WHEN a reviewer merges one group alone, a group with itself, with a
    group of another consultation or with one that is gone THEN the page explains it in Polish and nothing
    moves; only the group being acted on not existing is a 404."""
    consultation, elsewhere = publish_consultation(ctx), publish_consultation(ctx)
    group_id = group_of(ctx, campaign(ctx, consultation)[0])
    foreign = group_of(ctx, receive(ctx, elsewhere, OTHER, OTHER)[0])
    list_page = f"http://localhost/review/groups?consultation={consultation}"

    alone = client.post("/review/groups/merge", headers={**bearer(ctx), "Referer": list_page},
                        data={"group_ids": [group_id]})
    assert alone.status_code == 302 and alone.headers["Location"] == list_page  # back to the filtered list
    assert "Proszę zaznaczyć co najmniej dwie grupy do połączenia." in html(client.get(list_page, headers=bearer(ctx)))
    outside = client.post("/review/groups/merge", headers={**bearer(ctx), "Referer": "http://evil.example/"},
                          data={"group_ids": [group_id, foreign]})
    assert outside.headers["Location"] == "/review/groups"  # never back to a page outside the groups

    for others, message in (([group_id], "Proszę wybrać inną grupę do połączenia."),
                            ([foreign], "Nie można łączyć grup z różnych konsultacji."),
                            (["gone"], "Nie ma takiej grupy.")):
        refused = client.post(f"/review/groups/{group_id}/merge", headers=bearer(ctx), data={"group_ids": others})
        assert refused.status_code == 302 and refused.headers["Location"] == f"/review/groups/{group_id}"
        assert message in html(client.get(refused.headers["Location"], headers=bearer(ctx)))
    assert len(groups.list_groups(ctx, consultation_id=consultation, limit=5, offset=0)[0][0].member_ids) == 4

    assert client.post("/review/groups/gone/merge", headers=bearer(ctx), data={"group_ids": [group_id]}).status_code == 404
    assert client.post("/review/groups/gone/split", headers=bearer(ctx), data={"comment_ids": ["x"]}).status_code == 404
    assert client.post("/review/groups/gone/decision", headers=bearer(ctx),
                       data={"decision": "rejected", "justification": "Poza zakresem."}).status_code == 404


def test_a_page_number_that_is_not_a_number_shows_the_first_page(ctx, client):
    consultation = publish_consultation(ctx)
    group_id = group_of(ctx, campaign(ctx, consultation)[0])
    for page in ("abc", "-3", "0"):
        response = client.get(f"/review/groups?consultation={consultation}&page={page}", headers=bearer(ctx))
        assert response.status_code == 200 and f'/review/groups/{group_id}"' in html(response)
    beyond = client.get(f"/review/groups?consultation={consultation}&page=99999999999999999999", headers=bearer(ctx))
    assert beyond.status_code == 200 and f'/review/groups/{group_id}"' not in html(beyond)  # a page past the end
    members = client.get(f"/review/groups/{group_id}?page=x", headers=bearer(ctx))
    assert members.status_code == 200 and html(members).count('name="comment_ids"') == 4
