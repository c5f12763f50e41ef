"""The triage queue's JSON API and pages through the Flask test client (bearer token or staff session)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from services.common.auth import SESSION_KEY, session_claims
from services.review import decisions
from services.review.decisions import Decide
from services.review.identity import create_staff_user
from tests.unit.review_triage.support import NOW, bearer, publish_consultation, publish_draft, staff, submit


@pytest.fixture
def world(ctx):
    consultation = publish_consultation(ctx)
    publish_draft(ctx, consultation)
    reviewer = staff(ctx, "recenzent@um.example", "reviewer")
    coordinator = staff(ctx, "koordynator@um.example", "coordinator")
    funding, general = submit(ctx, consultation, [
        {"section": "§ 5 ust. 2 pkt 2", "proposal": "Zwiększyć Źródła Finansowania dotacji.", "topic": "finansowanie"},
        {"section": "Uwaga ogólna", "proposal": "Program jest zbyt ogólny."}])
    later, = submit(ctx, consultation, [{"section": "§ 1", "proposal": "Dodać definicję."}], late=True,
                    channel="letter", received_at=NOW + timedelta(hours=2))
    return {"consultation": consultation, "reviewer": reviewer, "coordinator": coordinator,
            "funding": funding, "general": general, "later": later,
            "as_reviewer": bearer(ctx, reviewer), "as_coordinator": bearer(ctx, coordinator)}


# --- API ------------------------------------------------------------------------------------


def test_the_api_queue_filters_searches_and_pages(client, world):
    response = client.get("/review/api/v1/queue", query_string={"q": "zrodla finansowania"},
                          headers=world["as_reviewer"])
    assert response.status_code == 200
    assert [c["id"] for c in response.json["items"]] == [world["funding"]]
    assert response.json["items"][0]["unit_id"] == "u6"
    assert response.json["filters"] == {"q": "zrodla finansowania"}
    late = client.get("/review/api/v1/queue?late=true&channel=letter", headers=world["as_reviewer"]).json
    assert [c["id"] for c in late["items"]] == [world["later"]]
    chapter = client.get(f"/review/api/v1/queue?consultation={world['consultation']}&unit=u3",
                         headers=world["as_reviewer"]).json
    assert [c["id"] for c in chapter["items"]] == [world["funding"]]
    paged = client.get("/review/api/v1/queue?per_page=25&page=2", headers=world["as_reviewer"]).json
    assert (paged["items"], paged["total"], paged["pages"]) == ([], 3, 1)


@pytest.mark.parametrize("query, field", [
    ("page=99999999999999999999999", "page"), ("page=0", "page"), ("per_page=1000000", "per_page"),
    ("late=maybe", "late"), ("channel=fax", "channel"), ("sort=id;drop", "sort"), ("mine=sure", "mine"),
])
def test_bad_queue_parameters_are_a_422_naming_the_field_never_a_500(client, world, query, field):
    response = client.get(f"/review/api/v1/queue?{query}", headers=world["as_reviewer"])
    assert response.status_code == 422
    assert field in str(response.json["errors"])


def test_mine_in_the_api_is_the_callers_own_comments(client, world):
    client.post("/review/api/v1/bulk/assign", json={"comment_ids": [world["later"]], "assignee": "recenzent@um.example"},
                headers=world["as_coordinator"])
    mine = client.get("/review/api/v1/queue?mine=1", headers=world["as_reviewer"]).json
    assert [c["id"] for c in mine["items"]] == [world["later"]]
    everything = client.get("/review/api/v1/queue", headers=world["as_reviewer"]).json
    assert everything["items"][0]["id"] == world["later"] and everything["mine_total"] == 1


def test_chapter_assignment_through_the_api(client, world):
    url = f"/review/api/v1/consultations/{world['consultation']}/chapters/u3/assignee"
    assert client.put(url, json={"assignee": "recenzent@um.example"}, headers=world["as_reviewer"]).status_code == 403
    done = client.put(url, json={"assignee": "recenzent@um.example"}, headers=world["as_coordinator"])
    assert (done.status_code, done.json["changed"]) == (200, 1)
    wrong = url.replace("/u3/", "/u6/")
    assert client.put(wrong, json={"assignee": "recenzent@um.example"}, headers=world["as_coordinator"]).status_code == 422


def test_reanchoring_and_units_through_the_api(client, world):
    units = client.get(f"/review/api/v1/consultations/{world['consultation']}/units", headers=world["as_reviewer"])
    assert [u["id"] for u in units.json][:3] == ["u1", "u2", "u3"] and units.json[5]["text"].startswith("wspieranie")
    moved = client.put(f"/review/api/v1/comments/{world['general']}/anchor", json={"unit": "u7"},
                       headers=world["as_reviewer"])
    assert (moved.status_code, moved.json["unit_id"], moved.json["chapter_id"]) == (200, "u7", "u3")
    assert client.put(f"/review/api/v1/comments/{world['general']}/anchor", json={"unit": "zz"},
                      headers=world["as_reviewer"]).status_code == 422
    assert client.put("/review/api/v1/comments/nope/anchor", json={"unit": "u7"},
                      headers=world["as_reviewer"]).status_code == 404
    assert client.put(f"/review/api/v1/comments/{world['general']}/anchor", json={},
                      headers=world["as_reviewer"]).status_code == 422


def test_notes_through_the_api(client, world):
    url = f"/review/api/v1/comments/{world['general']}/notes"
    created = client.post(url, json={"body": "Do konsultacji z Wydziałem Zdrowia."}, headers=world["as_reviewer"])
    assert created.status_code == 201 and created.json["author"] == "recenzent@um.example"
    assert [n["body"] for n in client.get(url, headers=world["as_reviewer"]).json] == ["Do konsultacji z Wydziałem Zdrowia."]
    assert client.post(url, json={"body": ""}, headers=world["as_reviewer"]).status_code == 422
    assert client.get(url).status_code == 401


def test_remembered_filters_through_the_api_are_what_the_queue_page_restores(client, world):
    url, headers = "/review/api/v1/queue/filters", world["as_reviewer"]
    assert client.get(url, headers=headers).json["sort"] == "received"
    saved = client.put(url, json={"consultation": world["consultation"], "channel": "letter", "late": True},
                       headers=headers)
    assert saved.status_code == 200 and (saved.json["channel"], saved.json["late"]) == ("letter", True)
    assert client.get(url, headers=headers).json["channel"] == "letter"
    page = client.get("/review/queue", headers=headers).get_data(as_text=True)
    assert "Dodać definicję." in page and "Program jest zbyt ogólny." not in page
    assert client.put(url, json={"channel": "fax"}, headers=headers).status_code == 422
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).json["channel"] is None
    assert client.get(url, headers=world["as_coordinator"]).json["channel"] is None  # per staff member


def test_the_triage_api_is_in_the_openapi_document(client):
    paths = client.get("/review/api/v1/openapi.json").json["paths"]
    assert {"/review/api/v1/queue", "/review/api/v1/consultations/{consultation_id}/chapters/{chapter_id}/assignee",
            "/review/api/v1/comments/{comment_id}/anchor",
            "/review/api/v1/comments/{comment_id}/notes"} <= set(paths)


# --- pages ------------------------------------------------------------------------------------


def log_in(client, identity):
    with client.session_transaction() as session:
        session[SESSION_KEY] = session_claims(identity)


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_queue_page_needs_a_login(client):
    response = client.get("/review/queue")
    assert response.status_code == 302 and response.headers["Location"].startswith("/review/login")


def test_the_queue_page_lists_filters_in_polish_and_remembers_them(client, world):
    headers = world["as_reviewer"]
    html = client.get("/review/queue?q=ZRODLA&consultation=" + world["consultation"], headers=headers).get_data(as_text=True)
    assert '<html lang="pl">' in html and "Uwagi do rozpatrzenia" in html
    assert "Zwiększyć Źródła Finansowania dotacji." in html and "Program jest zbyt ogólny." not in html
    assert '<th scope="col">' in html and '<label for="f-q">' in html
    # the next visit without parameters shows the same filtered list
    again = client.get("/review/queue", headers=headers).get_data(as_text=True)
    assert 'value="ZRODLA"' in again and "Program jest zbyt ogólny." not in again
    cleared = client.get("/review/queue?reset=1", headers=headers).get_data(as_text=True)
    assert "Program jest zbyt ogólny." in cleared
    english = client.get("/review/queue?lang=en", headers=headers).get_data(as_text=True)
    assert "Comments to review" in english


def test_the_queue_page_shows_a_field_error_for_a_bad_filter(client, world):
    response = client.get("/review/queue?channel=fax", headers=world["as_reviewer"])
    assert response.status_code == 422 and 'href="#f-channel"' in response.get_data(as_text=True)


def test_the_queue_page_lists_the_keyboard_shortcuts_and_ships_the_script(client, world):
    html = client.get("/review/queue", headers=world["as_reviewer"]).get_data(as_text=True)
    assert "Skróty klawiszowe" in html and "<kbd>j</kbd>" in html and "triage.js" in html
    assert client.get("/review/static/triage.js").status_code == 200


def test_the_comment_page_shows_the_unit_text_beside_the_comment_and_navigates_the_queue(client, world):
    headers = world["as_reviewer"]
    client.get(f"/review/queue?consultation={world['consultation']}", headers=headers)
    html = client.get(f"/review/comments/{world['funding']}?pos=0", headers=headers).get_data(as_text=True)
    assert "wspieranie wykonywania zadań publicznych wraz z udzieleniem dotacji;" in html
    assert "Rozdział II" in html and "§ 5 ust. 2 pkt 2" in html
    assert 'id="decision"' in html
    assert "Program jest zbyt ogólny." in html  # the submission's other comment
    assert f'/review/comments/{world["general"]}?pos=1' in html and 'rel="next"' in html and 'rel="prev"' not in html
    last = client.get(f"/review/comments/{world['later']}?pos=2", headers=headers).get_data(as_text=True)
    assert 'rel="prev"' in last and 'rel="next"' not in last
    assert client.get("/review/comments/nope", headers=headers).status_code == 404
    # "²" is a digit to str.isdigit() but not to int(): a position like it is no position, never a 500
    assert client.get(f"/review/comments/{world['funding']}?pos=%C2%B2", headers=headers).status_code == 200


def test_page_forms_reanchor_add_notes_and_assign_then_show_the_history(client, world):
    reviewer, coordinator = world["as_reviewer"], world["as_coordinator"]
    url = f"/review/comments/{world['general']}"
    unanchored = client.get(url, headers=reviewer).get_data(as_text=True)
    assert "Przypisz do jednostki redakcyjnej projektu" in unanchored and "do innej jednostki</label>" not in unanchored
    assert '<option value="" selected>' in unanchored  # no unit of the draft is preselected
    empty = client.post(url + "/anchor", data={"unit": "", "back": url}, headers=reviewer, follow_redirects=True)
    assert empty.status_code == 200 and "Przypisz do jednostki redakcyjnej projektu" in empty.get_data(as_text=True)
    assert client.post(url + "/anchor", data={"unit": "u2", "back": url}, headers=reviewer).status_code == 303
    assert client.post(url + "/notes", data={"body": "Notatka wewnętrzna"}, headers=reviewer).status_code == 303
    assert client.post(url + "/assign", data={"assignee": "recenzent@um.example"}, headers=reviewer).status_code == 403
    assert client.post(url + "/assign", data={"assignee": "recenzent@um.example"}, headers=coordinator).status_code == 303
    html = client.get(url, headers=reviewer).get_data(as_text=True)
    assert "Notatka wewnętrzna" in html and "Program określa cele współpracy." in html
    assert "Zmieniono miejsce uwagi w dokumencie" in html and "Przypisano uwagę" in html
    assert "Dodano notatkę wewnętrzną" in html
    assert "Przypisz do innej jednostki redakcyjnej</label>" in html and '<option value="" selected>' not in html
    bad = client.post(url + "/anchor", data={"unit": "zz", "back": url}, headers=reviewer)
    assert bad.status_code == 303
    assert "Nie ma takiej jednostki" in client.get(url, headers=reviewer).get_data(as_text=True)
    assert client.post(url + "/anchor", data={"unit": "u2", "back": "https://evil.example/"},
                       headers=reviewer).headers["Location"].endswith(url)


def test_a_coordinator_assigns_a_selection_and_a_chapter_from_the_queue(client, world):
    coordinator = world["as_coordinator"]
    html = client.get(f"/review/queue?consultation={world['consultation']}", headers=coordinator).get_data(as_text=True)
    assert 'name="comment"' in html and "Przypisz cały rozdział" in html
    done = client.post("/review/queue/assign", data={"comment": [world["funding"], world["later"]],
                                                     "assignee": "recenzent@um.example"}, headers=coordinator)
    assert done.status_code == 303
    mine = client.get("/review/api/v1/queue?mine=1", headers=world["as_reviewer"]).json
    assert sorted(c["id"] for c in mine["items"]) == sorted([world["funding"], world["later"]])
    chapter = client.post(f"/review/consultations/{world['consultation']}/chapters/assign",
                          data={"chapter": "u1", "assignee": "koordynator@um.example"}, headers=coordinator)
    assert chapter.status_code == 303
    assert client.post("/review/queue/assign", data={"comment": [world["funding"]]},
                       headers=world["as_reviewer"]).status_code == 403


def test_session_forms_need_the_csrf_token(client, world):
    log_in(client, world["reviewer"])
    url = f"/review/comments/{world['general']}"
    assert client.post(url + "/notes", data={"body": "x"}).status_code == 400
    token = csrf_from(client.get(url).get_data(as_text=True))
    assert client.post(url + "/notes", data={"body": "x", "csrf_token": token}).status_code == 303


def test_the_units_to_anchor_to_read_each_label_once(client, ctx):
    """An annex's heading opens with its label ("Załącznik" – "Załącznik do uchwały …"): the choice shows the heading
    alone; other units show their label, then their text."""
    from tests.unit.review_triage.support import UNITS

    consultation = publish_consultation(ctx)
    publish_draft(ctx, consultation, [*UNITS, {"id": "u8", "kind": "annex", "label": "Załącznik", "parent": None,
                                               "text": "Załącznik do uchwały nr …/24 Rady Miasta Torunia"}])
    reviewer = bearer(ctx, staff(ctx, "recenzent@um.example", "reviewer"))
    comment, = submit(ctx, consultation, [{"section": "Uwaga ogólna", "proposal": "Program jest zbyt ogólny."}])
    html = client.get(f"/review/comments/{comment}", headers=reviewer).get_data(as_text=True)
    options = dict(re.findall(r'<option value="(u\d+)"[^>]*>([^<]*)</option>', html))
    assert options["u8"] == "Załącznik do uchwały nr …/24 Rady Miasta Torunia"
    assert options["u2"] == "§ 1 – Program określa cele współpracy."


def test_a_comment_decided_out_of_a_filtered_list_leads_to_the_one_that_took_its_place(client, ctx, world):
    headers = world["as_coordinator"]
    client.get(f"/review/queue?consultation={world['consultation']}&status=new", headers=headers)
    before = client.get(f"/review/comments/{world['funding']}?pos=0", headers=headers).get_data(as_text=True)
    assert f'/review/comments/{world["general"]}?pos=1" rel="next"' in before
    decisions.decide(ctx, Decide(world["funding"], "rejected", "Poza zakresem."), world["coordinator"])
    after = client.get(f"/review/comments/{world['funding']}?pos=0", headers=headers).get_data(as_text=True)
    # the decided comment left the "new" list: the next one now stands at its place, and is not skipped
    assert f'/review/comments/{world["general"]}?pos=0" rel="next"' in after


def test_staff_are_offered_by_name_with_their_address(client, ctx, world):
    create_staff_user(ctx, "ewa.nowak@um.example", "reviewer", "Ewa Nowak")
    queue = client.get(f"/review/queue?consultation={world['consultation']}",
                       headers=world["as_coordinator"]).get_data(as_text=True)
    assert '<option value="ewa.nowak@um.example">Ewa Nowak (ewa.nowak@um.example)</option>' in queue
    page = client.get(f"/review/comments/{world['funding']}", headers=world["as_coordinator"]).get_data(as_text=True)
    assert '<option value="ewa.nowak@um.example">Ewa Nowak (ewa.nowak@um.example)</option>' in page
