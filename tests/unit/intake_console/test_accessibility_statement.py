"""The accessibility statement: the admin keeps the city's part of it, the public page renders it in the structure
(and under the element ids) of the Minister's technical conditions, linked from every public page."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest

from services.common.auth import SESSION_KEY, StaffIdentity, session_claims
from services.common.db import upgrade
from services.common.settings import load_settings
from services.intake import accessibility
from services.intake import app as intake_app

TODAY = date(2026, 11, 29)
FILLED = {
    "site_owner": "Urząd Miasta Torunia", "published_on": "2024-09-23", "updated_on": "2026-10-01",
    "status": "partial", "inaccessible": "- Skany pism nie mają warstwy tekstowej.\n\n• Raport w XLSX bez nagłówków.",
    "exclusions": "", "prepared_on": "2024-09-23", "reviewed_on": "2026-03-31",
    "assessment": "samooceny przeprowadzonej przez podmiot publiczny", "contact_person": "Anna Kowalska",
    "contact_email": "dostepnosc@um.torun.pl", "contact_phone": "+48 56 611 88 88",
    "buildings": "Wejście od ul. Wały gen. Sikorskiego 8 jest bez progów.\n\nW budynku jest winda.",
}


@pytest.fixture
def ctx(tmp_path):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path / "var"), "UWAGI_RELAY_INTERVAL": "30"})
    upgrade("intake", settings.database_url("intake"))
    context = intake_app.build(settings)
    yield context
    context.close()


@pytest.fixture
def app(ctx):
    return intake_app.create_app(ctx=ctx)


def staff(app, role: str):
    client = app.test_client()
    with client.session_transaction() as session:
        session[SESSION_KEY] = session_claims(StaffIdentity("u-1", f"{role}@um.torun.pl", role, "Ewa Urzędnik"))
    return client


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def by_id(page: str, element_id: str) -> str:
    """The text inside the element with that id (no nested tags of the same name in these pages)."""
    match = re.search(rf'<(\w+) id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    assert match, f"no element #{element_id}"
    return re.sub(r"<[^>]+>", "", match.group(2)).strip()


def test_a_complete_form_reads_into_a_statement():
    statement, problems = accessibility.read_form(FILLED, TODAY)
    assert problems == {} and statement.published_on == date(2024, 9, 23)
    assert statement.inaccessible_items == ["Skany pism nie mają warstwy tekstowej.", "Raport w XLSX bez nagłówków."]
    assert statement.exclusion_items == [] and statement.phone_link == "tel:+48566118888"
    assert not statement.review_due(TODAY) and statement.review_due(date(2027, 4, 1))


@pytest.mark.parametrize(("changes", "problems"), [
    ({"site_owner": "  ", "contact_person": ""}, {"site_owner": "required", "contact_person": "required"}),
    ({"inaccessible": ""}, {"inaccessible": "required"}),  # partially compliant: say what is not accessible
    ({"inaccessible": "", "status": "full"}, {}),
    ({"status": "mostly"}, {"status": "unknown"}),
    ({"contact_email": "dostepnosc(at)um.torun.pl", "contact_phone": "611-88"},
     {"contact_email": "email", "contact_phone": "phone"}),
    ({"published_on": "23.09.2024", "prepared_on": ""}, {"published_on": "date", "prepared_on": "required"}),
    ({"reviewed_on": "2026-11-30"}, {"reviewed_on": "in_future"}),
    ({"updated_on": "2024-01-01", "reviewed_on": "2024-01-01"},
     {"updated_on": "before_publication", "reviewed_on": "before_preparation"}),
    ({"buildings": "x" * 5001}, {"buildings": "too_long"}),
])
def test_every_problem_of_the_form_at_once(changes, problems):
    statement, found = accessibility.read_form({**FILLED, **changes}, TODAY)
    assert found == problems and (statement is None) == bool(problems)


def test_before_an_admin_fills_it_the_public_page_still_gives_the_procedure_and_the_footer_links_it(app):
    client = app.test_client()
    index = text(client.get("/intake/"))
    assert '<a href="/intake/accessibility">Deklaracja dostępności</a>' in index
    page = text(client.get("/intake/accessibility"))
    assert "<h1 id=\"a11y-deklaracja\">Deklaracja dostępności</h1>" in page
    assert "Urząd uzupełnia dane kontaktowe tej deklaracji" in page
    for element_id in ("a11y-kontakt", "a11y-procedura", "a11y-architektura", "a11y-aplikacje"):
        assert by_id(page, element_id)
    assert "Rzecznika Praw Obywatelskich" in page and "7 dni" in page and "2 miesiące" in page


def test_only_an_admin_keeps_the_statement(app):
    assert staff(app, "coordinator").get("/intake/staff/accessibility").status_code == 403
    assert app.test_client().get("/intake/staff/accessibility").status_code in (302, 401)
    form = text(staff(app, "admin").get("/intake/staff/accessibility"))
    assert "Deklaracja nie została jeszcze uzupełniona" in form
    assert "samooceny przeprowadzonej przez podmiot publiczny" in form  # the suggestions, to be checked
    assert '<option value="partial" selected>częściowo zgodna</option>' in form
    assert 'href="/intake/staff/accessibility" aria-current="page">Deklaracja dostępności</a>' in form


def test_the_admin_saves_it_and_the_public_page_carries_every_part_under_its_id(app, ctx):
    admin = staff(app, "admin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', text(admin.get("/intake/staff/accessibility"))).group(1)
    refused = admin.post("/intake/staff/accessibility", data={**FILLED, "contact_email": "", "csrf_token": token})
    assert refused.status_code == 422
    shown = text(refused)
    assert 'href="#f-contact_email"' in shown and 'id="f-contact_email" name="contact_email" type="email" value=""' \
        in shown and 'aria-invalid="true"' in shown
    assert 'value="Anna Kowalska"' in shown and accessibility.current(ctx) is None  # kept, nothing saved
    saved = admin.post("/intake/staff/accessibility", data={**FILLED, "csrf_token": token})
    assert saved.status_code == 303
    assert "Deklaracja dostępności została zapisana i opublikowana." in text(admin.get(saved.headers["Location"]))
    assert accessibility.current(ctx)[1] == "admin@um.torun.pl"

    page = text(app.test_client().get("/intake/accessibility"))
    assert by_id(page, "a11y-podmiot") == "Urząd Miasta Torunia"
    assert re.search(r'<a id="a11y-url" href="http://[^"]+/intake/">Konsultacje społeczne</a>', page)
    assert '<time id="a11y-data-publikacja" datetime="2024-09-23">2024-09-23</time>' in page
    assert '<time id="a11y-data-aktualizacja" datetime="2026-10-01">2026-10-01</time>' in page
    assert by_id(page, "a11y-status") == "częściowo zgodna"
    assert "Strona internetowa jest częściowo zgodna z ustawą z dnia 4 kwietnia 2019 r." in re.sub(r"<[^>]+>", "", page)
    assert "<li>Skany pism nie mają warstwy tekstowej.</li>" in page and "Wyłączenia" not in page
    assert '<time id="a11y-data-sporzadzenie" datetime="2024-09-23">' in page
    assert '<time id="a11y-data-przeglad" datetime="2026-03-31">' in page
    assert by_id(page, "a11y-audytor").endswith("samooceny przeprowadzonej przez podmiot publiczny.")
    assert by_id(page, "a11y-osoba") == "Anna Kowalska"
    assert '<a id="a11y-email" href="mailto:dostepnosc@um.torun.pl">' in page
    assert '<a id="a11y-telefon" href="tel:+48566118888">+48 56 611 88 88</a>' in page
    assert "<p>Wejście od ul. Wały gen. Sikorskiego 8 jest bez progów.</p>\n<p>W budynku jest winda.</p>" in page \
        or "<p>Wejście od ul. Wały gen. Sikorskiego 8 jest bez progów.</p><p>W budynku jest winda.</p>" in page
    english = text(app.test_client().get("/intake/accessibility?lang=en"))
    assert "<h1 id=\"a11y-deklaracja\">Accessibility statement</h1>" in english
    assert by_id(english, "a11y-status") == "partially compliant"


def test_a_statement_not_reviewed_for_a_year_is_flagged_to_the_admin(app, ctx):
    old = date.today() - timedelta(days=400)
    statement, _ = accessibility.read_form({**FILLED, "published_on": old.isoformat(), "updated_on": old.isoformat(),
                                            "prepared_on": old.isoformat(), "reviewed_on": old.isoformat()},
                                           date.today())
    accessibility.save(ctx, statement, actor="admin@um.torun.pl")
    form = text(staff(app, "admin").get("/intake/staff/accessibility"))
    assert "ponad rok temu: przejrzyj ją i wpisz datę ostatniego przeglądu" in form


# --- the information on personal data (GDPR art. 13) -------------------------------------------------------------

NOTICE = {"controller": "Prezydent Miasta Torunia\nul. Wały gen. Sikorskiego 8, 87-100 Toruń",
          "dpo_email": "iod@um.torun.pl", "dpo_address": "", "recipients": "Dostawcy usług IT.",
          "retention": "Zgodnie z instrukcją kancelaryjną."}


@pytest.mark.parametrize(("changes", "problems"), [
    ({}, {}),
    ({"controller": " ", "retention": ""}, {"controller": "required", "retention": "required"}),
    ({"dpo_email": "iod(at)um.torun.pl"}, {"dpo_email": "email"}),
    ({"recipients": "x" * 2001}, {"recipients": "too_long"}),
])
def test_the_information_on_personal_data_names_a_controller_and_a_reachable_officer(changes, problems):
    from services.intake import privacy

    notice, found = privacy.read_form({**NOTICE, **changes})
    assert found == problems and (notice is None) == bool(problems)


def test_the_information_on_personal_data_is_linked_from_the_forms_and_kept_by_the_admin(app, ctx):
    from services.intake import privacy

    client = app.test_client()
    assert '<a href="/intake/privacy">Dane osobowe</a>' in text(client.get("/intake/"))
    before = text(client.get("/intake/privacy"))
    assert "Jak przetwarzamy dane osobowe" in before and "art. 6 ust. 1 lit. e RODO" in before
    assert "Administratorem danych jest urząd prowadzący konsultacje" in before
    assert "ul. Stawki 2, 00-193 Warszawa" in before
    assert staff(app, "coordinator").get("/intake/staff/privacy").status_code == 403
    admin = staff(app, "admin")
    form = text(admin.get("/intake/staff/privacy"))
    assert "Informacja nie została jeszcze uzupełniona" in form and "umów powierzenia" in form
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    refused = admin.post("/intake/staff/privacy", data={**NOTICE, "dpo_email": "", "csrf_token": token})
    assert refused.status_code == 422 and 'href="#f-dpo_email"' in text(refused) and privacy.current(ctx) is None
    saved = admin.post("/intake/staff/privacy", data={**NOTICE, "csrf_token": token})
    assert saved.status_code == 303
    page = text(client.get("/intake/privacy"))
    assert "<p>Prezydent Miasta Torunia</p><p>ul. Wały gen. Sikorskiego 8, 87-100 Toruń</p>" in page
    assert 'Inspektor ochrony danych: <a href="mailto:iod@um.torun.pl">iod@um.torun.pl</a>.' in page
    assert "<p>Zgodnie z instrukcją kancelaryjną.</p>" in page
    assert "Data protection officer" in text(client.get("/intake/privacy?lang=en"))
