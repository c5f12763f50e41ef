"""The console pages of decisions, driven with the Flask test client (bearer header or a staff session)."""

from __future__ import annotations

import re

from services.common.auth import SESSION_KEY, session_claims
from services.review import decisions
from services.review.domain import Decide
from tests.unit.review_decisions.support import (
    COORDINATOR,
    REVIEWER,
    audit_entries,
    bearer,
    decided_events,
    publish_consultation,
    submit,
)


def html(response) -> str:
    return response.get_data(as_text=True)


def log_in(client, who) -> None:
    with client.session_transaction() as session:
        session[SESSION_KEY] = session_claims(who)


def csrf_from(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_the_dashboard_shows_progress_in_polish_by_status_reviewer_and_chapter(ctx, client):
    consultation = publish_consultation(ctx, title="Program współpracy 2025")
    a, b, _c = submit(ctx, consultation, ["§ 1", "§ 2 ust. 1", "§ 2 ust. 2"])
    decisions.assign_many(ctx, [a], REVIEWER.email, COORDINATOR)
    decisions.decide(ctx, Decide(a, "rejected", "Nie"), REVIEWER)
    decisions.decide(ctx, Decide(b, "accepted"), COORDINATOR)

    page = html(client.get("/review/", headers=bearer(ctx, REVIEWER)))

    assert "<h1>Postęp rozpatrywania uwag</h1>" in page and "Program współpracy 2025" in page
    assert "Według recenzentów" in page and REVIEWER.email in page and "Nieprzypisane" in page
    assert "Według rozdziałów" in page and '<th scope="row">§ 2</th>' in page
    assert f'/review/approvals?consultation={consultation}&amp;state=proposed' in page
    assert "Standardowe uzasadnienia" not in page  # coordinators manage them
    english = html(client.get("/review/?lang=en", headers=bearer(ctx, COORDINATOR)))
    assert "Progress of the review" in english and "By chapter" in english
    assert f"/review/consultations/{consultation}/justifications" in english


def test_an_empty_approvals_list_says_what_is_missing(ctx, client):
    publish_consultation(ctx)
    waiting = html(client.get("/review/approvals", headers=bearer(ctx, COORDINATOR)))
    assert "Żadna decyzja nie czeka na zatwierdzenie." in waiting
    returned = html(client.get("/review/approvals?state=returned", headers=bearer(ctx, COORDINATOR)))
    assert "Żadna decyzja nie została zwrócona do poprawy." in returned


def test_a_page_without_identity_redirects_to_login(ctx, client):
    response = client.get("/review/audit")
    assert response.status_code == 302 and response.headers["Location"].startswith("/review/login?next=")


def test_a_reviewer_proposes_through_the_form_and_is_told_it_awaits_approval(ctx, client):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 5"])
    form_page = html(client.get(f"/review/comments/{comment_id}/decision", headers=bearer(ctx, REVIEWER)))
    assert 'name="decision" value="not_considered"' in form_page and 'name="csrf_token"' in form_page
    assert "Państwa decyzja" not in form_page  # the console addresses staff plainly, the form is labelled
    assert "Zatwierdź" not in form_page  # a reviewer gets no approval buttons

    response = client.post(f"/review/comments/{comment_id}/decision", headers=bearer(ctx, REVIEWER),
                           data={"decision": "rejected", "justification": "Poza zakresem Programu.",
                                 "next": "/review/approvals"})

    assert response.status_code == 302 and response.headers["Location"] == "/review/approvals"
    assert decided_events(ctx) == []
    page = html(client.get("/review/approvals", headers=bearer(ctx, REVIEWER)))
    assert "propozycja" in page.lower() and "Poza zakresem Programu." in page


def test_a_missing_justification_shows_the_form_again_with_the_error(ctx, client):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 5"])
    response = client.post(f"/review/comments/{comment_id}/decision", headers=bearer(ctx, REVIEWER),
                           data={"decision": "rejected", "justification": "  "})
    assert response.status_code == 422
    page = html(response)
    assert 'aria-invalid="true"' in page and "Proszę podać uzasadnienie" in page
    assert 'value="rejected" checked' in page
    missing = client.post(f"/review/comments/{comment_id}/decision", headers=bearer(ctx, REVIEWER), data={})
    assert missing.status_code == 422 and "Proszę wybrać jedno z czterech rozstrzygnięć" in html(missing)
    # sent from the comment's page: the errors are shown there, with the comment, its extract and its history
    from_page = client.post(f"/review/comments/{comment_id}/decision", headers=bearer(ctx, REVIEWER), data={
        "decision": "rejected", "justification": "", "next": f"/review/comments/{comment_id}?pos=0"})
    shown = html(from_page)
    assert from_page.status_code == 422 and "Proszę podać uzasadnienie" in shown and 'value="rejected" checked' in shown
    assert 'id="decision-heading"' in shown and f'name="next" value="/review/comments/{comment_id}?pos=0"' in shown


def test_a_coordinator_approves_and_returns_from_the_page(ctx, client):
    consultation = publish_consultation(ctx)
    first, second = submit(ctx, consultation, ["§ 1", "§ 2"])
    for comment_id in (first, second):
        decisions.decide(ctx, Decide(comment_id, "accepted", "", "Nowe brzmienie."), REVIEWER)

    page = html(client.get(f"/review/comments/{first}/decision", headers=bearer(ctx, COORDINATOR)))
    assert f'action="/review/comments/{first}/approval"' in page and "Zwróć do poprawy" in page

    approved = client.post(f"/review/comments/{first}/approval", headers=bearer(ctx, COORDINATOR), data={})
    assert approved.status_code == 302
    no_note = client.post(f"/review/comments/{second}/return", headers=bearer(ctx, COORDINATOR), data={"note": ""})
    assert no_note.status_code == 302
    returned = client.post(f"/review/comments/{second}/return", headers=bearer(ctx, COORDINATOR),
                           data={"note": "Proszę doprecyzować."})
    assert returned.status_code == 302

    assert [e["comment_id"] for e in decided_events(ctx)] == [first]
    reviewer_view = html(client.get(f"/review/comments/{second}/decision", headers=bearer(ctx, REVIEWER)))
    assert "Zwrócona do poprawy" in reviewer_view and "Proszę doprecyzować." in reviewer_view
    assert client.post(f"/review/comments/{second}/approval", headers=bearer(ctx, REVIEWER)).status_code == 403


def test_a_coordinator_can_leave_their_own_decision_as_a_proposal(ctx, client):
    consultation = publish_consultation(ctx)
    first, second = submit(ctx, consultation, ["§ 1", "§ 2"])
    client.post(f"/review/comments/{first}/decision", headers=bearer(ctx, COORDINATOR),
                data={"decision": "accepted"})
    client.post(f"/review/comments/{second}/decision", headers=bearer(ctx, COORDINATOR),
                data={"decision": "accepted", "approval": "later"})
    assert [e["comment_id"] for e in decided_events(ctx)] == [first]


def test_a_standard_justification_is_picked_in_the_form(ctx, client):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 1"])
    standard = decisions.create_standard_justification(ctx, consultation, "Poza zakresem",
                                                       "Uwaga wykracza poza zakres Programu.", COORDINATOR)
    page = html(client.get(f"/review/comments/{comment_id}/decision", headers=bearer(ctx, REVIEWER)))
    assert f'<option value="{standard.id}" data-text="Uwaga wykracza poza zakres Programu.">Poza zakresem</option>' \
        in page
    client.post(f"/review/comments/{comment_id}/decision", headers=bearer(ctx, REVIEWER),
                data={"decision": "rejected", "justification": "", "standard_justification_id": str(standard.id)})
    assert decisions.revisions(ctx, comment_id)[0].justification == "Uwaga wykracza poza zakres Programu."


def test_coordinators_manage_standard_justifications_in_the_console(ctx, client):
    consultation = publish_consultation(ctx)
    url = f"/review/consultations/{consultation}/justifications"
    assert client.get(url, headers=bearer(ctx, REVIEWER)).status_code == 403
    empty = client.post(url, headers=bearer(ctx, COORDINATOR), data={"title": "", "text": ""})
    assert empty.status_code == 422 and "Proszę podać krótki tytuł" in html(empty)

    created = client.post(url, headers=bearer(ctx, COORDINATOR),
                          data={"title": "Poza zakresem", "text": "Uwaga wykracza poza zakres Programu."})
    assert created.status_code == 302
    (standard,) = decisions.standard_justifications(ctx, consultation)
    archived = client.post(f"/review/justifications/{standard.id}", headers=bearer(ctx, COORDINATOR),
                           data={"title": "Poza zakresem", "text": "Wykracza poza zakres.", "active": "no"})
    assert archived.status_code == 302
    page = html(client.get(url, headers=bearer(ctx, COORDINATOR)))
    assert "Wykracza poza zakres." in page and "zarchiwizowane" in page
    assert decisions.standard_justifications(ctx, consultation) == []
    assert client.get("/review/consultations/none/justifications",
                      headers=bearer(ctx, COORDINATOR)).status_code == 404


def test_a_coordinator_copies_last_years_standard_justifications(ctx, client):
    last_year = publish_consultation(ctx, title="Wspólnie o programie na 2026 r.")
    for title, text in (("Poza zakresem", "Uwaga wykracza poza zakres Programu."),
                        ("Po terminie", "Uwaga wpłynęła po terminie."),
                        ("Nieaktualne", "Zapis usunięto w poprzednim roku.")):
        decisions.create_standard_justification(ctx, last_year, title, text, COORDINATOR)
    retired = [s for s in decisions.standard_justifications(ctx, last_year) if s.title == "Nieaktualne"][0]
    decisions.update_standard_justification(ctx, retired.id, COORDINATOR, active=False)
    this_year = publish_consultation(ctx, title="Wspólnie o programie na 2027 r.")
    decisions.create_standard_justification(ctx, this_year, " po  TERMINIE", "Wpłynęła po terminie.", COORDINATOR)
    url = f"/review/consultations/{this_year}/justifications"

    page = html(client.get(url, headers=bearer(ctx, COORDINATOR)))
    assert "Skopiuj z innej konsultacji" in page
    assert f'<option value="{last_year}">Wspólnie o programie na 2026 r. (2 uzasadnienia)</option>' in page
    assert f'<option value="{this_year}">' not in page  # not from itself
    copied = client.post(url + "/copy", headers=bearer(ctx, COORDINATOR), data={"source": last_year},
                         follow_redirects=True)
    assert "Skopiowano 1 standardowe uzasadnienie. 1 już tu było pod tym samym tytułem" in html(copied)
    now_here = {s.title: s.text for s in decisions.standard_justifications(ctx, this_year)}
    assert now_here == {"Poza zakresem": "Uwaga wykracza poza zakres Programu.",
                        "po  TERMINIE": "Wpłynęła po terminie."}  # the one typed here stays; archived not copied
    [entry] = [e for e in audit_entries(ctx, "standard_justification.created")
               if e.consultation_id == this_year and (e.after or {}).get("copied_from")]
    assert entry.after == {"title": "Poza zakresem", "text": "Uwaga wykracza poza zakres Programu.",
                           "copied_from": "Wspólnie o programie na 2026 r."}
    # A second copy adds nothing twice; the originals are untouched.
    again = client.post(url + "/copy", headers=bearer(ctx, COORDINATOR), data={"source": last_year},
                        follow_redirects=True)
    assert "Skopiowano 0 standardowych uzasadnień. 2 już tu były" in html(again)
    assert len(decisions.standard_justifications(ctx, this_year)) == 2
    assert len(decisions.standard_justifications(ctx, last_year)) == 2


def test_copying_standard_justifications_refuses_what_it_cannot_do(ctx, client):
    consultation = publish_consultation(ctx)
    url = f"/review/consultations/{consultation}/justifications/copy"
    assert client.post(url, headers=bearer(ctx, REVIEWER), data={"source": consultation}).status_code == 403
    for source in (consultation, "nope", ""):
        refused = client.post(url, headers=bearer(ctx, COORDINATOR), data={"source": source}, follow_redirects=True)
        assert refused.status_code == 200 and "Proszę wybrać inną konsultację" in html(refused), source
    assert client.post("/review/consultations/nope/justifications/copy", headers=bearer(ctx, COORDINATOR),
                       data={"source": consultation}).status_code == 404
    assert decisions.standard_justifications(ctx, consultation) == []


def test_bulk_steps_from_a_selection(ctx, client):
    consultation = publish_consultation(ctx)
    ids = submit(ctx, consultation, ["§ 1", "§ 2", "§ 3"])
    form = {"action": "decide", "decision": "not_considered", "justification": "Uwaga wpłynęła po terminie.",
            "comment_ids": ids[:2], "next": "/review/approvals?state=proposed"}
    response = client.post("/review/bulk", headers=bearer(ctx, REVIEWER), data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/review/approvals?state=proposed"

    page = html(client.get("/review/approvals?state=proposed", headers=bearer(ctx, COORDINATOR)))
    assert page.count('name="comment_ids"') == 2 and "Zatwierdź zaznaczone decyzje" in page

    client.post("/review/bulk", headers=bearer(ctx, COORDINATOR),
                data={"action": "approve", "comment_ids": ids})
    assert sorted(e["comment_id"] for e in decided_events(ctx)) == sorted(ids[:2])
    client.post("/review/bulk", headers=bearer(ctx, COORDINATOR),
                data={"action": "assign", "assignee": REVIEWER.email, "comment_ids": ids})
    assert len(audit_entries(ctx, "comment.assigned")) == 3
    refused = client.post("/review/bulk", headers=bearer(ctx, REVIEWER),
                          data={"action": "approve", "comment_ids": ids, "next": "/review/"})
    assert refused.status_code == 302  # told why on the next page, nothing changed
    assert len(decided_events(ctx)) == 2
    assert client.post("/review/bulk", headers=bearer(ctx, REVIEWER), data={"action": "explode"}).status_code == 302


def test_the_audit_log_page_shows_who_when_before_and_after_with_filters(ctx, client):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 1"])
    decisions.decide(ctx, Decide(comment_id, "rejected", "Nie"), REVIEWER)
    decisions.return_decision(ctx, comment_id, COORDINATOR, "Za krótko.")

    page = html(client.get("/review/audit", headers=bearer(ctx, REVIEWER)))
    assert "<h1>Dziennik zmian</h1>" in page and "Decyzja zwrócona" in page and "Podjęto decyzję" in page
    assert "Za krótko." in page and "Nieuwzględniona" in page and REVIEWER.email in page

    only_returns = html(client.get(f"/review/audit?action=comment.decision_returned&actor={COORDINATOR.email}",
                                   headers=bearer(ctx, REVIEWER)))
    assert "Znaleziono wpisów: 1" in only_returns
    future = html(client.get("/review/audit?since=2999-01-01", headers=bearer(ctx, REVIEWER)))
    assert "Znaleziono wpisów: 0" in future
    bad = client.get("/review/audit?since=wczoraj", headers=bearer(ctx, REVIEWER))
    assert bad.status_code == 200 and "RRRR-MM-DD" in html(bad)


def test_forms_sent_with_the_session_cookie_need_the_csrf_token(ctx, client):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 1"])
    log_in(client, COORDINATOR)
    refused = client.post(f"/review/comments/{comment_id}/decision", data={"decision": "accepted"})
    assert refused.status_code == 400 and decided_events(ctx) == []

    token = csrf_from(html(client.get(f"/review/comments/{comment_id}/decision")))
    accepted = client.post(f"/review/comments/{comment_id}/decision",
                           data={"decision": "accepted", "csrf_token": token})
    assert accepted.status_code == 302 and len(decided_events(ctx)) == 1


def test_the_queue_selection_decides_and_approves_through_the_bulk_step(ctx, client):
    consultation = publish_consultation(ctx)
    ids = submit(ctx, consultation, ["§ 1", "§ 2"])
    queue = html(client.get(f"/review/queue?consultation={consultation}", headers=bearer(ctx, REVIEWER)))
    assert 'formaction="/review/bulk" name="action" value="decide"' in queue
    assert 'value="approve"' not in queue and 'name="comment"' in queue

    back = f"/review/queue?consultation={consultation}"
    response = client.post("/review/bulk", headers=bearer(ctx, REVIEWER),
                           data={"action": "decide", "decision": "rejected", "justification": "Poza zakresem.",
                                 "assignee": "", "comment": ids, "back": back})
    assert response.status_code == 302 and response.headers["Location"] == back
    coordinator_queue = html(client.get(back, headers=bearer(ctx, COORDINATOR)))
    assert 'formaction="/review/bulk" name="action" value="approve"' in coordinator_queue
    # a proposal is not decided yet: the queue says it waits, not "Rozpatrzona"
    assert coordinator_queue.count("Propozycja, czeka na zatwierdzenie (Nieuwzględniona)") == 2
    assert "Rozpatrzona (" not in coordinator_queue
    client.post("/review/bulk", headers=bearer(ctx, COORDINATOR), data={"action": "approve", "comment": ids})
    assert sorted(e["comment_id"] for e in decided_events(ctx)) == sorted(ids)
    assert html(client.get(back, headers=bearer(ctx, COORDINATOR))).count("Rozpatrzona (Nieuwzględniona)") == 2


def test_the_comment_page_carries_the_decision_panel(ctx, client):
    consultation = publish_consultation(ctx)
    (comment_id,) = submit(ctx, consultation, ["§ 1"])
    decisions.decide(ctx, Decide(comment_id, "rejected", "Nie"), REVIEWER)
    page = html(client.get(f"/review/comments/{comment_id}", headers=bearer(ctx, COORDINATOR)))
    assert f'action="/review/comments/{comment_id}/decision"' in page
    assert f'action="/review/comments/{comment_id}/approval"' in page
    assert f'name="next" value="/review/comments/{comment_id}' in page
    assert "Wszystkie wersje decyzji" in page


def test_the_navigation_leads_to_approvals_and_marks_the_current_page(ctx, client):
    page = html(client.get("/review/approvals", headers=bearer(ctx, REVIEWER)))
    assert '<a href="/review/approvals" aria-current="page">Zatwierdzanie decyzji</a>' in page
