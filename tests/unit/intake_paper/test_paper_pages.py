"""The console's letter and duty-note form, driven like a browser with the staff session cookie."""

from __future__ import annotations

import io
import re
from html import unescape
from datetime import datetime

from PIL import Image

from services.common.auth import SESSION_KEY, StaffIdentity, session_claims
from services.intake.paper import handlers
from tests.support.infra import require_tesseract
from tests.unit.intake_mail.conftest import CORPUS
from tests.unit.intake_paper.support import PDF, WARSAW, book, consultation, received_events

BASE = "/intake/staff/consultations"


def logged_in(app, role="reviewer"):
    client = app.test_client()
    with client.session_transaction() as session:
        session[SESSION_KEY] = session_claims(StaffIdentity("u-1", f"{role}@um.torun.pl", role, "Ewa Urzędnik"))
    return client


def page_text(response) -> str:
    return response.get_data(as_text=True)


def form_of(html: str) -> dict:
    """The hidden fields a browser would send back."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def letter_form(html: str, **overrides) -> dict:
    data = {**form_of(html), "action": "save", "received_on": datetime.now(WARSAW).date().isoformat(),
            "name": "Anna Nowak", "postal_address": "ul. Szeroka 1, 87-100 Toruń", "email": "",
            "c-0-section": "§ 5 ust. 2", "c-0-proposal": "Konkursy dwa razy w roku.",
            "c-0-justification": "Więcej organizacji zdąży.", "c-0-topic": "Procedury konkursowe"}
    data.update(overrides)
    return data


def test_staff_enter_a_letter_with_its_scan_and_get_its_reference(ctx, app):
    found = consultation(ctx)
    client = logged_in(app)
    html = page_text(client.get(f"{BASE}/{found.id}/letters/new"))
    assert "<h1>Wprowadź pismo</h1>" in html and 'enctype="multipart/form-data"' in html
    response = client.post(f"{BASE}/{found.id}/letters/new",
                           data={**letter_form(html), "scan": (io.BytesIO(PDF), "pismo.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    shown = page_text(client.get(response.headers["Location"]))
    reference = re.search(r'<p class="reference"><strong>(UW/\d{4}/\d{6})</strong></p>', shown).group(1)
    assert "Pismo zostało zarejestrowane" in shown and "Potwierdzenie nie zostanie wysłane" in shown
    opened_later = page_text(client.get(response.headers["Location"]))  # from the register, another day
    assert "Pismo zostało zarejestrowane" not in opened_later and f"<h1>Zgłoszenie {reference}</h1>" in opened_later
    assert "reviewer@um.torun.pl" in shown and "ul. Szeroka 1, 87-100 Toruń" in shown and "Konkursy dwa razy w roku." in shown
    event = received_events(ctx, reference)[0]
    assert event["channel"] == "letter" and event["provenance"]["entered_by"] == "reviewer@um.torun.pl"
    assert event["provenance"]["scan_sha256"] and event["comments"][0]["topic"] == "Procedury konkursowe"
    scan = client.get(re.search(r'href="([^"]+/scan)"', shown).group(1))
    assert scan.status_code == 200 and scan.data == PDF and scan.mimetype == "application/pdf"


def test_a_submission_page_of_another_consultation_is_not_found(ctx, app):
    found, other = consultation(ctx), consultation(ctx)
    client = logged_in(app)
    html = page_text(client.get(f"{BASE}/{found.id}/letters/new"))
    saved = client.post(f"{BASE}/{found.id}/letters/new", data=letter_form(html))
    submission_url = saved.headers["Location"]
    assert client.get(submission_url).status_code == 200
    assert client.get(submission_url.replace(found.id, other.id)).status_code == 404
    assert client.get(submission_url + "/scan").status_code == 404  # entered without a scan


def test_a_reload_of_the_saved_form_records_nothing_new_and_says_so(ctx, app):
    found = consultation(ctx)
    client = logged_in(app)
    data = letter_form(page_text(client.get(f"{BASE}/{found.id}/letters/new")))
    first = client.post(f"{BASE}/{found.id}/letters/new", data=data)
    again = client.post(f"{BASE}/{found.id}/letters/new", data=data)
    assert again.headers["Location"] == first.headers["Location"]
    assert "nic nowego nie zarejestrowano" in page_text(client.get(again.headers["Location"]))


def test_a_session_post_without_the_csrf_token_is_refused(ctx, app):
    found = consultation(ctx)
    client = logged_in(app)
    html = page_text(client.get(f"{BASE}/{found.id}/letters/new"))
    data = letter_form(html)
    data.pop("csrf_token")
    assert client.post(f"{BASE}/{found.id}/letters/new", data=data).status_code == 400
    page = page_text(client.get(f"{BASE}/{found.id}/letters/new"))
    assert page.count('name="csrf_token"') == page.count("<form")


def test_without_a_session_the_page_sends_staff_to_the_login(ctx, app):
    found = consultation(ctx)
    response = app.test_client().get(f"{BASE}/{found.id}/letters/new")
    assert response.status_code == 302 and "/review/login" in response.headers["Location"]


def test_adding_a_row_posts_back_keeps_the_typed_text_and_the_checked_scan(ctx, app):
    found = consultation(ctx)
    client = logged_in(app)
    html = page_text(client.get(f"{BASE}/{found.id}/letters/new"))
    data = {**letter_form(html), "action": "add_row", "scan": (io.BytesIO(PDF), "pismo.pdf")}
    again = client.post(f"{BASE}/{found.id}/letters/new", data=data, content_type="multipart/form-data")
    html = page_text(again)
    assert again.status_code == 200 and 'name="c-3-proposal"' in html and "Konkursy dwa razy w roku." in html
    assert "pismo.pdf" in html and form_of(html)["kept_scan"]
    saved = client.post(f"{BASE}/{found.id}/letters/new", data={**letter_form(html), "c-3-proposal": "Druga uwaga."})
    assert saved.status_code == 303
    reference = re.search(r"UW/\d{4}/\d{6}", page_text(client.get(saved.headers["Location"]))).group(0)
    event = received_events(ctx, reference)[0]
    assert len(event["comments"]) == 2 and event["provenance"]["scan_sha256"] == form_of(html)["kept_scan"]


def test_a_hostile_scan_is_refused_with_a_clear_message_and_nothing_is_recorded(ctx, app):
    found = consultation(ctx)
    client = logged_in(app)
    html = page_text(client.get(f"{BASE}/{found.id}/letters/new"))
    response = client.post(f"{BASE}/{found.id}/letters/new", content_type="multipart/form-data", data={
        **letter_form(html), "scan": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 64), "pismo.pdf")})
    shown = page_text(response)
    assert response.status_code == 422 and "Skan musi być plikiem PDF albo obrazem" in shown
    assert 'aria-invalid="true"' in shown and "Anna Nowak" in shown


def test_an_oversized_upload_gets_a_clear_413_page(ctx, app):
    found = consultation(ctx)
    client = logged_in(app)
    html = page_text(client.get(f"{BASE}/{found.id}/letters/new"))
    limit = ctx.settings.max_upload_bytes
    response = client.post(f"{BASE}/{found.id}/letters/new", content_type="multipart/form-data", data={
        **letter_form(html), "scan": (io.BytesIO(PDF + b"0" * limit), "pismo.pdf")})
    assert response.status_code == 413 and "<html" in page_text(response).lower()


def test_missing_fields_are_summarised_in_polish(ctx, app):
    found = consultation(ctx)
    client = logged_in(app)
    html = page_text(client.get(f"{BASE}/{found.id}/letters/new"))
    response = client.post(f"{BASE}/{found.id}/letters/new", data=letter_form(
        html, name="", received_on="21.10.2024", **{"c-0-proposal": "", "c-0-section": "", "c-0-justification": "",
                                                    "c-0-topic": ""}))
    shown = page_text(response)
    assert response.status_code == 422 and 'id="error-summary"' in shown
    assert "To pole jest wymagane." in shown and "rok-miesiąc-dzień" in shown and "co najmniej jedną uwagę" in shown
    # The summary names each field, and links to it.
    assert '<a href="#f-name">Imię i nazwisko: To pole jest wymagane.</a>' in shown
    assert '<a href="#f-c-0-proposal">Uwaga nr 1, Proponowana zmiana: Należy wpisać' in shown


def test_every_problem_of_a_letter_is_shown_at_once(ctx, app):
    """The handler's own checks (postmark date, an address to reply to) come with the form's, in one answer."""
    found = consultation(ctx)
    client = logged_in(app)
    html = page_text(client.get(f"{BASE}/{found.id}/letters/new"))
    response = client.post(f"{BASE}/{found.id}/letters/new", data=letter_form(
        html, name="", received_on="", postal_address="", **{"c-0-proposal": ""}))
    shown = page_text(response)
    assert response.status_code == 422
    for field in ("f-name", "f-received_on", "f-postal_address", "f-c-0-proposal"):
        assert f'<a href="#{field}">' in shown and f'id="{field}-error"' in shown


def test_the_letter_address_is_required_only_without_an_e_mail_and_the_form_says_so(ctx, app):
    """The postal address is needed only when the sender gave no e-mail address: the label and the message say
    that, in Polish and in English, and the browser is not told to require the field."""
    found = consultation(ctx)
    client = logged_in(app)
    html = page_text(client.get(f"{BASE}/{found.id}/letters/new"))
    label = re.search(r'<label for="f-postal_address">(.*?)</label>', html).group(1)
    assert label == 'Adres do korespondencji <span class="req">(wymagany, jeśli nie podano adresu e-mail)</span>'
    assert re.search(r'<textarea id="f-postal_address"[^>]*>', html).group(0).count(" required") == 0
    neither = client.post(f"{BASE}/{found.id}/letters/new", data=letter_form(html, postal_address=""))
    assert neither.status_code == 422
    assert ('<a href="#f-postal_address">Adres do korespondencji: Należy wpisać adres pocztowy nadawcy albo jego '
            'adres e-mail, jeśli go podał.</a>') in page_text(neither)

    english = page_text(client.get(f"{BASE}/{found.id}/letters/new?lang=en"))
    assert 'Postal address <span class="req">(required unless an e-mail address is given)</span>' in english
    neither = client.post(f"{BASE}/{found.id}/letters/new", data=letter_form(english, postal_address=""))
    assert ('<a href="#f-postal_address">Postal address: Enter the sender\'s postal address, or their e-mail '
            'address if they gave one.</a>') in page_text(neither).replace("&#39;", "'")

    e_mail_only = client.post(f"{BASE}/{found.id}/letters/new", data=letter_form(
        html, postal_address="", email="anna.nowak@example.org"))
    assert e_mail_only.status_code == 303, page_text(e_mail_only)[:2000]


def test_the_schedule_links_each_booking_to_its_notes_and_the_notes_are_linked_back(ctx, app):
    found = consultation(ctx)
    booking_id = book(ctx, found.id, name="Jan Kowalski")
    client = logged_in(app)
    schedule = page_text(client.get(f"{BASE}/{found.id}/bookings"))
    link = f"{BASE}/{found.id}/duty-notes/new?booking={booking_id}"
    assert "Zapisz uwagi z rozmowy" in schedule and link in schedule
    html = page_text(client.get(link))
    assert f'<option value="{booking_id}" selected>' in html
    assert 'name="name" type="text" value="Jan Kowalski"' in html  # the person who booked, ready to correct
    data = {**form_of(html), "action": "save", "booking_id": booking_id, "name": "Jan Kowalski",
            "email": "jan@example.pl", "c-0-proposal": "Więcej dyżurów."}
    response = client.post(link, data=data)
    assert response.status_code == 303
    shown = page_text(client.get(response.headers["Location"]))
    assert "Uwagi z rozmowy zostały zarejestrowane" in shown and "Rozmowa na dyżurze" in shown
    assert "Potwierdzenie z kopią uwag zostanie wysłane na adres jan@example.pl" in shown
    assert f'href="{BASE}/{found.id}/bookings"' in shown
    reference = handlers.bookings_for_notes(ctx, found.id)[0]["reference"]
    # The schedule links the notes entered, so that nobody enters them twice.
    schedule = page_text(client.get(f"{BASE}/{found.id}/bookings"))
    assert f'Uwagi z rozmowy zapisane: <a href="{response.headers["Location"]}">{reference}</a>' in schedule


def filled_in(html: str) -> dict:
    """Every value a browser would send back: hidden and text inputs, and text areas."""
    inputs = re.findall(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', html)
    areas = re.findall(r'<textarea[^>]*?name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.DOTALL)
    return {name: unescape(value) for name, value in [*inputs, *areas]}


def read_scan(client, consultation_id: str, filename: str, data: bytes, **fields):
    """"Odczytaj tekst skanu" pressed on a fresh letter form with this scan chosen (and `fields` typed)."""
    html = page_text(client.get(f"{BASE}/{consultation_id}/letters/new"))
    return client.post(f"{BASE}/{consultation_id}/letters/new", content_type="multipart/form-data", data={
        **form_of(html), "action": "read_scan", "rows": "3", **fields, "scan": (io.BytesIO(data), filename)})


SCANNED_LETTER = CORPUS / "letter-federacja-torun-scan.pdf"  # the Federation's letter, scanned by a copier


def test_a_clerk_has_a_scanned_letter_read_and_its_points_fill_the_rows(ctx, app):
    """The letter as the copier scanned it (an image-only PDF): "Read the text of the scan" shows the text OCR
    recognised beside the form, fills the two rows its points name provisions for and the organisation from its
    heading, and the clerk registers them."""
    require_tesseract()
    found = consultation(ctx)
    client = logged_in(app)
    assert "Odczytaj tekst skanu" in page_text(client.get(f"{BASE}/{found.id}/letters/new"))
    read = read_scan(client, found.id, "skan pisma.pdf", SCANNED_LETTER.read_bytes())
    shown = page_text(read)
    assert read.status_code == 200
    assert "Tekst odczytany ze skanu skan pisma.pdf" in shown and "Rozpoznany automatycznie (OCR)" in shown
    assert "2 wiersze uwag wypełniono na podstawie tekstu" in shown
    assert re.search(r'name="c-0-section"[^>]*value="Rozdział VI § 12 ust. 19"', shown)
    assert re.search(r'name="c-1-section"[^>]*value="§ 5 ust. 2"', shown)
    assert re.search(r'name="organization"[^>]*value="Kujawsko-Pomorska Federacja Organizacji Pozarządowych"',
                     shown)
    assert "Zmiana na: „Prezydent Miasta Torunia zatwierdza" in shown
    # Adding a row posts the form back: the text stays beside it, read once (kept beside the scan)
    fields = filled_in(shown)
    again = page_text(client.post(f"{BASE}/{found.id}/letters/new", data={**fields, "action": "add_row"}))
    assert "Tekst odczytany ze skanu" in again and "Zmiana na: „Prezydent Miasta Torunia zatwierdza" in again
    saved = client.post(f"{BASE}/{found.id}/letters/new", data={
        **fields, "action": "save", "received_on": datetime.now(WARSAW).date().isoformat(), "name": "Jan Kowalski",
        "organization": "Kujawsko-Pomorska Federacja Organizacji Pozarządowych",
        "postal_address": "ul. Szeroka 1, 87-100 Toruń"})
    assert saved.status_code == 303
    reference = re.search(r"(UW/\d{4}/\d{6})", page_text(client.get(saved.headers["Location"]))).group(1)
    comments = received_events(ctx, reference)[0]["comments"]
    assert [c["section"] for c in comments] == ["Rozdział VI § 12 ust. 19", "§ 5 ust. 2"]
    assert comments[0]["proposal"] == "Prezydent Miasta Torunia zatwierdza rekomendowane do współfinansowania " \
                                      "przedsięwzięcia"


def test_reading_a_scan_never_overwrites_what_the_clerk_typed(ctx, app):
    require_tesseract()
    found = consultation(ctx)
    client = logged_in(app)
    read = page_text(read_scan(client, found.id, "skan.pdf", SCANNED_LETTER.read_bytes(),
                               organization="Stowarzyszenie Przystań", **{"c-0-proposal": "Już przepisana uwaga."}))
    assert "Tekst odczytany ze skanu skan.pdf" in read and "wypełniono na podstawie tekstu" not in read
    assert re.search(r'name="organization"[^>]*value="Stowarzyszenie Przystań"', read)
    assert "Już przepisana uwaga." in read and 'value="Rozdział VI § 12 ust. 19"' not in read


def test_a_letter_printed_to_pdf_is_read_from_its_own_text_and_a_blank_picture_says_nothing_was_read(ctx, app):
    require_tesseract()
    found = consultation(ctx)
    client = logged_in(app)
    printed = page_text(read_scan(client, found.id, "pismo.pdf", (CORPUS / "letter-federacja-torun.pdf").read_bytes()))
    assert "Odczytany z tekstu zapisanego w pliku PDF" in printed and "(OCR)" not in printed
    assert "2 wiersze uwag wypełniono" in printed
    blank = io.BytesIO()
    Image.new("L", (1200, 1600), 255).save(blank, "PNG")
    nothing = page_text(read_scan(client, found.id, "pusta.png", blank.getvalue()))
    assert "Z tego skanu nie udało się odczytać tekstu" in nothing


def test_reading_without_a_scan_asks_for_one(ctx, app):
    found = consultation(ctx)
    client = logged_in(app)
    html = page_text(client.get(f"{BASE}/{found.id}/letters/new"))
    response = client.post(f"{BASE}/{found.id}/letters/new", data={**form_of(html), "action": "read_scan"})
    assert response.status_code == 422 and "Najpierw wybierz skan do odczytania." in page_text(response)


def test_a_clerk_has_a_scanned_form_read_and_its_table_fills_the_rows(ctx, app):
    """The consultation's form filled in, printed and posted (four scanned pages): its three rows as the table
    has them, a comment over three pages in one row, and the organisation from its details."""
    require_tesseract()
    from tests.corpus.mail.make_corpus import CITY_FORM_ROWS

    found = consultation(ctx)
    client = logged_in(app)
    shown = page_text(read_scan(client, found.id, "formularz.pdf", (CORPUS / "city-form-filled-scan.pdf").read_bytes()))
    assert "3 wiersze odczytano automatycznie (OCR) z tabeli zeskanowanego formularza formularz.pdf" in shown
    fields = filled_in(shown)
    assert [fields[f"c-{i}-section"] for i in range(3)] == [row[0] for row in CITY_FORM_ROWS]
    assert fields["c-1-proposal"].startswith("Proponujemy, aby otwarte konkursy ofert")
    assert fields["organization"] == "Stowarzyszenie Mieszkańców Starego Miasta"
