"""The public pages of intake: Polish first, English on request, a form that keeps what people typed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from services.intake import domain, handlers
from tests.unit.intake_pages.helpers import (
    WARSAW,
    csrf_token,
    decide,
    form_data,
    open_consultation,
    set_sections,
    submissions_of,
    text,
)


def page_url(consultation_id: str) -> str:
    return f"/intake/c/{consultation_id}"


# --- reading -------------------------------------------------------------------------


def test_the_list_shows_open_consultations_with_stage_and_a_polish_deadline(app, client):
    consultation = open_consultation(app)
    closed = open_consultation(app, opens_at=datetime(2020, 1, 1, tzinfo=UTC),
                               closes_at=datetime(2020, 2, 1, tzinfo=UTC))
    response = client.get("/intake/")
    body = text(response)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert '<html lang="pl">' in body
    assert consultation.title in body and "II etap" in body
    assert "21 października 2099 r." in body
    assert f'href="/intake/c/{consultation.id}"' in body
    open_part, past_part = body.split('id="past-heading"')
    assert closed.title not in open_part and closed.title in past_part  # under the past ones


def test_past_consultations_are_listed_with_their_results_or_how_far_they_have_got(app, client):
    from tests.unit.intake_pages.test_results_page import publish

    old = {"opens_at": datetime(2020, 1, 1, tzinfo=UTC)}
    reported = open_consultation(app, closes_at=datetime(2020, 2, 1, tzinfo=UTC), **old)
    publish(app, reported.id)
    waiting = open_consultation(app, closes_at=datetime(2020, 3, 1, tzinfo=UTC), **old)
    draft = handlers.create_consultation(app.extensions["uwagi"], domain.OpenConsultation(
        title="Szkic, którego nie ogłoszono", opens_at=datetime(2020, 1, 1, tzinfo=UTC),
        closes_at=datetime(2020, 4, 1, tzinfo=UTC), draft=True), actor="test")
    body = text(client.get("/intake/"))
    past = body.split('id="past-heading"')[1]
    assert "Zakończone konsultacje" in body and draft.title not in body  # a draft was never announced
    assert past.index(waiting.title) < past.index(reported.title)  # the latest deadline first
    entry = past.split(reported.title, 1)[1].split("</li>")[0]
    assert "Uwagi przyjmowano do 1 lutego 2020 r." in entry
    assert f'href="/intake/c/{reported.id}/results">Wyniki: raport i dokument po konsultacjach' in entry
    assert f'href="/documents/c/{reported.id}/comments">Uwagi i stanowisko Miasta' in entry
    entry = past.split(waiting.title)[1].split("</li>")[0]
    assert "/results" not in entry and "Uwagi zostaną rozpatrzone, a wyniki opublikowane na tej stronie." in entry


def test_the_consultation_page_in_polish_has_channels_duty_days_topics_and_contact(app, client):
    consultation = open_consultation(app)
    body = text(client.get(page_url(consultation.id)))
    assert "<h1>" + consultation.title + "</h1>" in body
    assert "Na uwagi czekamy do 21 października 2099 r." in body
    for needle in ("Przez internet", "E-mailem", "Listownie", "Osobiście", "Dyżury konsultacyjne",
                   "8 października 2024 r.", "(wtorek)", "9:00–17:00", "sala 34",
                   "7 października 2024 r., godz. 15:30", "zapisy zakończone", "13 października 2099 r., godz. 15:00",
                   "Formy współpracy", "mailto:konsultacje@um.example.pl", "Formularz zgłaszania uwag", "RODO"):
        assert needle in body, needle
    assert body.count("zapisy zakończone") == 1  # only the duty day whose booking deadline has passed
    assert "<p>Rozpoczynamy II etap konsultacji.</p>" in body


def test_english_on_request_and_remembered_in_the_session(app, client):
    consultation = open_consultation(app)
    body = text(client.get(page_url(consultation.id) + "?lang=en"))
    assert '<html lang="en">' in body
    assert "Comment form" in body and "21 October 2099" in body and "Tuesday" in body
    assert f'href="/intake/c/{consultation.id}?lang=pl"' in body  # the visible switch back
    assert '<html lang="en">' in text(client.get("/intake/"))
    assert '<html lang="pl">' in text(client.get("/intake/?lang=pl"))
    assert '<html lang="pl">' in text(client.get("/intake/"))


def test_the_form_offers_the_document_parts_when_the_document_is_known(app, client):
    consultation = open_consultation(app)
    assert "<datalist" not in text(client.get(page_url(consultation.id)))
    set_sections(app, consultation.id, ["§ 1. Postanowienia ogólne", "§ 5. Formy współpracy"])
    body = text(client.get(page_url(consultation.id)))
    assert '<datalist id="document-sections">' in body
    assert '<option value="§ 5. Formy współpracy">' in body
    assert 'list="document-sections"' in body


def test_every_input_has_a_label(app, client):
    body = text(client.get(page_url(open_consultation(app).id)))
    ids = re.findall(r'<(?:input|textarea|select) id="([^"]+)"', body)
    assert len(ids) >= 8
    for field_id in ids:
        assert f'<label for="{field_id}"' in body, field_id


# --- sending -------------------------------------------------------------------------


def test_a_submission_gets_a_reference_and_a_thank_you_page(app, client):
    consultation = open_consultation(app)
    url = page_url(consultation.id)
    response = client.post(url, data=form_data(csrf_token(client, url)))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{url}/thanks")
    thanks = client.get(response.headers["Location"])
    body = text(thanks)
    reference = re.search(r"UW/\d{4}/\d{6}", body).group(0)
    assert "Dziękujemy za zgłoszenie uwag" in body and "Co dalej" in body
    assert "Otrzymaliśmy 1 uwagę" in body and "anna.nowak@example.pl" in body
    assert thanks.headers["Cache-Control"] == "no-store"
    status_link = re.search(r'href="(/intake/status\?reference=[^"]+)"', body).group(1).replace("&amp;", "&")
    status_page = text(client.get(status_link))
    assert "zarejestrowana" in status_page
    assert "Data wpływu" in status_page and "Wpłynął" not in status_page  # "zgłoszenie" is neuter; no gender at all
    [stored] = submissions_of(app, consultation.id)
    assert stored.reference == reference and stored.channel == "web" and stored.language == "pl"
    assert stored.organization == "Stowarzyszenie Przykładowe" and stored.publish_consent is True


def test_an_english_submission_is_recorded_in_english_with_several_rows(app, client):
    consultation = open_consultation(app)
    url = page_url(consultation.id)
    token = csrf_token(client, url + "?lang=en")
    data = form_data(token, publish_consent="", organization="", rows="3", **{
        "c-1-section": "", "c-1-proposal": "",  # an empty row in the middle is skipped
        "c-2-section": "§ 7", "c-2-proposal": "Dodać punkt o wolontariacie.", "c-2-topic": "Formy współpracy"})
    response = client.post(url, data=data, follow_redirects=True)
    assert "We have received 2 comments" in text(response)
    [stored] = submissions_of(app, consultation.id)
    assert stored.language == "en" and stored.publish_consent is False and stored.organization is None


def test_adding_a_row_keeps_what_was_typed_and_sends_nothing(app, client):
    consultation = open_consultation(app)
    url = page_url(consultation.id)
    response = client.post(url, data=form_data(csrf_token(client, url), action="add_row"))
    body = text(response)
    assert response.status_code == 200
    assert 'id="row-2"' in body and "Uwaga nr 2" in body
    assert 'value="Anna Nowak"' in body and "Konkursy ogłasza się dwa razy w roku.</textarea>" in body
    assert 'name="rows" value="2"' in body
    assert submissions_of(app, consultation.id) == []
    body = text(client.post(url, data=form_data(csrf_token(client, url), rows="2", action="remove_row")))
    assert 'id="row-2"' not in body and 'value="Anna Nowak"' in body


def test_the_number_of_rows_can_be_asked_for_and_is_capped(app, client):
    consultation = open_consultation(app)
    url = page_url(consultation.id)
    body = text(client.post(url, data=form_data(csrf_token(client, url), rows="1000", action="add_row")))
    assert 'id="row-50"' in body and 'id="row-51"' not in body


def test_validation_errors_name_the_fields_and_keep_the_data(app, client):
    consultation = open_consultation(app)
    url = page_url(consultation.id)
    response = client.post(url, data=form_data(csrf_token(client, url), name="  ", email="anna-at-example",
                                               **{"c-0-proposal": ""}))
    body = text(response)
    assert response.status_code == 422
    assert "<title>Błąd:" in body and "Prosimy poprawić następujące błędy" in body
    assert "Prosimy podać imię i nazwisko." in body
    assert "Prosimy podać adres e-mail w poprawnym formacie" in body
    assert "Uwaga nr 1: Prosimy wpisać proponowaną zmianę." in body
    assert 'href="#c-0-proposal"' in body and 'href="#f-email"' in body
    assert 'aria-describedby="f-email-hint f-email-error" aria-invalid="true"' in body
    assert 'value="anna-at-example"' in body and "Konkursy ogłasza się raz w roku.</textarea>" in body
    assert submissions_of(app, consultation.id) == []


def test_a_form_without_any_comment_is_refused_with_a_message(app, client):
    consultation = open_consultation(app)
    url = page_url(consultation.id)
    data = form_data(csrf_token(client, url), **{f"c-0-{f}": "" for f in ("section", "current_text", "proposal", "justification")})
    body = text(client.post(url, data=data))
    assert "Prosimy wpisać co najmniej jedną uwagę." in body
    # and what the first comment needs besides, at once, in the pages' polite form
    assert "Prosimy wskazać, której części dokumentu dotyczy uwaga." in body


def test_validation_messages_in_english(app, client):
    consultation = open_consultation(app)
    url = page_url(consultation.id)
    token = csrf_token(client, url + "?lang=en")
    body = text(client.post(url, data=form_data(token, name="", email="anna-at-example")))
    assert "Enter your first name and surname." in body and "Enter an e-mail address in the right format" in body


def test_user_input_is_escaped_everywhere(app, client):
    consultation = open_consultation(app, description="<script>alert('d')</script>\n<b>bold</b>")
    url = page_url(consultation.id)
    body = text(client.get(url))
    assert "<script>" not in body and "&lt;script&gt;" in body
    evil = '"><script>alert(1)</script>'
    body = text(client.post(url, data=form_data(csrf_token(client, url), name=evil, email="bad",
                                                **{"c-0-section": evil, "c-0-proposal": "</textarea><img src=x onerror=alert(2)>"})))
    assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "&lt;/textarea&gt;&lt;img" in body
    client.post(url, data=form_data(csrf_token(client, url), name=evil, **{"c-0-proposal": evil}))
    page = text(client.get(f"{url}/thanks"))
    status_link = re.search(r'href="(/intake/status\?[^"]+)"', page).group(1).replace("&amp;", "&")
    status = text(client.get(status_link))
    assert "<script>alert(1)" not in status and "&lt;script&gt;alert(1)&lt;/script&gt;" in status


# --- protection ----------------------------------------------------------------------


def test_a_post_without_the_csrf_token_gets_a_clear_400_page_and_nothing_is_stored(app, client):
    consultation = open_consultation(app)
    url = page_url(consultation.id)
    client.get(url)
    response = client.post(url, data=form_data(None))
    body = text(response)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "Formularz wygasł albo nie pochodzi z tej strony" in body
    assert 'value="Anna Nowak"' in body  # the text is not lost
    assert re.search(r'name="csrf_token" value="[^"]+"', body)  # and a fresh token lets them send again
    assert client.post(url, data=form_data("forged")).status_code == 400
    assert client.post("/intake/status").status_code in (400, 405)
    assert submissions_of(app, consultation.id) == []


def test_the_json_api_needs_no_csrf_token(app, client):
    consultation = open_consultation(app)
    response = client.post(f"/intake/api/v1/consultations/{consultation.id}/submissions", json={
        "submitter": {"name": "A", "email": "a@example.pl", "publish_consent": False},
        "comments": [{"section": "§ 1", "proposal": "x"}]})
    assert response.status_code == 201, response.json
    assert response.json["reference"].startswith("UW/")


def test_a_filled_honeypot_stores_nothing(app, client):
    consultation = open_consultation(app)
    url = page_url(consultation.id)
    response = client.post(url, data=form_data(csrf_token(client, url), website="http://spam.example"))
    body = text(response)
    assert response.status_code == 400
    assert "Nie udało się wysłać formularza" in body
    assert 'value="http://spam.example"' not in body
    assert submissions_of(app, consultation.id) == []


def test_the_form_post_is_rate_limited_per_client_and_pages_stay_readable(app, client):
    consultation = open_consultation(app)
    url = page_url(consultation.id)
    app.config["INTAKE_FORM_RATE_LIMIT"] = "2/minute"
    try:
        token = csrf_token(client, url)
        statuses = [client.post(url, data=form_data(token, action="add_row")).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        limited = client.post(url, data=form_data(token))
        assert limited.mimetype == "text/html" and "Zbyt wiele prób" in text(limited)
        assert client.get(url).status_code == 200
    finally:
        app.config["INTAKE_FORM_RATE_LIMIT"] = "1000/minute"


def test_a_huge_form_gets_a_413_page(app, client):
    consultation = open_consultation(app)
    url = page_url(consultation.id)
    response = client.post(url, data=form_data(csrf_token(client, url), **{"c-0-proposal": "x" * (2 * 1024 * 1024)}))
    assert response.status_code == 413 and "Formularz jest zbyt duży" in text(response)


def test_pages_send_security_headers(app, client):
    response = client.get(page_url(open_consultation(app).id))
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- timing ----------------------------------------------------------------------------


def test_a_late_submission_is_flagged_and_the_person_is_told(app, client):
    consultation = open_consultation(app, opens_at=datetime(2024, 9, 30, tzinfo=UTC),
                                     closes_at=domain.end_of_day(date(2024, 10, 21), WARSAW))
    url = page_url(consultation.id)
    page = text(client.get(url))
    assert "Termin zgłaszania uwag minął." in page and "Formularz zgłaszania uwag" in page
    body = text(client.post(url, data=form_data(csrf_token(client, url)), follow_redirects=True))
    assert "Uwagi wpłynęły po terminie." in body
    assert "Termin upłynął 21 października 2024 r. Uwagi zostały zarejestrowane" in body
    [stored] = submissions_of(app, consultation.id)
    assert stored.late is True


def test_a_closed_consultation_that_refuses_late_comments_shows_no_form_and_explains(app, client):
    consultation = open_consultation(app, opens_at=datetime(2024, 9, 30, tzinfo=UTC),
                                     closes_at=domain.end_of_day(date(2024, 10, 21), WARSAW),
                                     late_policy=domain.LatePolicy.REFUSE)
    url = page_url(consultation.id)
    page = text(client.get(url))
    assert "Konsultacje zostały zakończone." in page and "<form method=\"post\"" not in page
    token = csrf_token(client, page_url(open_consultation(app).id))
    response = client.post(url, data=form_data(token))
    assert response.status_code == 403
    assert "Termin zgłaszania uwag upłynął 21 października 2024 r. Uwagi nie zostały przyjęte." in text(response)
    assert submissions_of(app, consultation.id) == []


def test_a_consultation_without_the_web_channel_does_not_offer_the_form(app, client):
    consultation = open_consultation(app, channels=("email", "letter"))
    page = text(client.get(page_url(consultation.id)))
    assert "<form method=\"post\"" not in page and "E-mailem" in page and "Przez internet" not in page


# --- status ----------------------------------------------------------------------------


def _submit(app, client, **overrides):
    consultation = open_consultation(app)
    url = page_url(consultation.id)
    client.post(url, data=form_data(csrf_token(client, url), **overrides))
    page = text(client.get(f"{url}/thanks"))
    link = re.search(r'href="(/intake/status\?[^"]+)"', page).group(1).replace("&amp;", "&")
    return re.search(r"UW/\d{4}/\d{6}", page).group(0), link


def test_the_status_page_shows_each_comment_and_its_decision_in_words(app, client):
    reference, link = _submit(app, client, rows="2", **{"c-1-section": "§ 9", "c-1-proposal": "Skreślić."})
    decide(app, reference, 1, "partially_accepted", "Uwzględniono w zakresie terminu.")
    decide(app, reference, 2, "not_considered", "Uwaga wpłynęła po terminie.")
    response = client.get(link)
    body = text(response)
    assert response.status_code == 200 and f"Stan zgłoszenia {reference}" in body
    assert "uwzględniona częściowo" in body and "Uwzględniono w zakresie terminu." in body
    assert "nierozpatrzona" in body and "Skreślić." in body
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
    english = text(client.get(link + "&lang=en"))
    assert "partially accepted" in english and "not considered" in english


def test_the_status_page_with_a_bad_token_is_a_404_page(app, client):
    reference, _link = _submit(app, client)
    response = client.get(f"/intake/status?reference={reference}&token=wrong")
    assert response.status_code == 404 and "Nie znaleziono zgłoszenia" in text(response)
    assert client.get("/intake/status?reference=UW/1999/000001&token=x").status_code == 404
    lookup = client.get("/intake/status")
    assert lookup.status_code == 200 and 'name="reference"' in text(lookup) and 'role="alert"' not in text(lookup)
    assert f"Na przykład UW/{datetime.now().year}/000123." in text(lookup)
    # sent with a value missing: each missing one is named and marked, not the form again in silence
    missing = text(client.get("/intake/status?reference=&token="))
    assert 'role="alert"' in missing and "Prosimy wpisać numer zgłoszenia" in missing and "kod dostępu" in missing
    only_code = text(client.get(f"/intake/status?reference={reference}&token="))
    assert "Prosimy wpisać kod dostępu" in only_code and "Prosimy wpisać numer zgłoszenia" not in only_code
    assert only_code.count('aria-invalid="true"') == 1 and f'value="{reference}"' in only_code


def test_unknown_pages_are_html_404s_while_the_api_keeps_json(app, client):
    response = client.get("/intake/c/no-such-consultation")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "Nie znaleziono strony" in text(response)
    assert client.get("/intake/no-such-page").mimetype == "text/html"
    assert client.get("/intake/api/v1/no-such-thing").is_json
    assert client.get("/intake/api/v1/consultations/nope").is_json


def test_the_stylesheet_is_served(client):
    response = client.get("/intake/static/common/uwagi.css")
    assert response.status_code == 200 and b":focus-visible" in response.data
    response.close()


def test_the_session_cookie_carries_neither_the_status_token_nor_the_address_readable(app, client):
    import base64
    import zlib

    from services.common.sealing import Sealer

    consultation = open_consultation(app)
    url = page_url(consultation.id)
    response = client.post(url, data=form_data(csrf_token(client, url)))
    cookie = client.get_cookie("uwagi_session").value
    payload = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    readable = (zlib.decompress(raw) if cookie.startswith(".") else raw).decode()
    [stored] = submissions_of(app, consultation.id)
    assert stored.reference in readable  # what is not secret stays plain
    body = text(client.get(response.headers["Location"]))
    status_link = re.search(r'href="(/intake/status\?reference=[^"]+)"', body).group(1).replace("&amp;", "&")
    status_token = re.search(r"token=([^&]+)", status_link).group(1)
    assert "anna.nowak@example.pl" not in readable and status_token not in readable
    status_page = client.get(status_link)
    assert status_page.status_code == 200 and stored.reference in text(status_page)
    assert "anna.nowak@example.pl" in body

    sealer = Sealer("a secret", "intake.receipt")
    sealed = sealer.seal({"token": "t"})
    assert sealer.open(sealed) == {"token": "t"}
    assert Sealer("another secret", "intake.receipt").open(sealed) is None
    assert Sealer("a secret", "other use").open(sealed) is None
    # Flip a bit of the sealed bytes themselves: an edited base64 character next to the padding may only
    # change padding bits, which decode to the same bytes.
    raw = bytearray(base64.urlsafe_b64decode(sealed))
    raw[len(raw) // 2] ^= 0x01
    altered = base64.urlsafe_b64encode(bytes(raw)).decode()
    assert sealer.open(altered) is None and sealer.open("") is None and sealer.open(None) is None


def test_a_thank_you_page_with_an_altered_receipt_sends_back_to_the_form(app, client):
    consultation = open_consultation(app)
    url = page_url(consultation.id)
    client.post(url, data=form_data(csrf_token(client, url)))
    with client.session_transaction() as session:
        session["receipt"] = {**session["receipt"], "sealed": "not sealed"}
    response = client.get(f"{url}/thanks")
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
