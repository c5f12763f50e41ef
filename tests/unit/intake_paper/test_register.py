"""The consultation's register of submissions: every channel, newest first, found by reference, sender,
organisation or address, filtered by channel, a page at a time; hostile parameters get a page, not an error."""

from __future__ import annotations

from html import unescape

from services.intake import domain
from services.intake import handlers as intake_handlers
from services.intake.paper import handlers, register
from tests.unit.intake_paper.support import consultation, letter
from tests.unit.intake_paper.test_paper_pages import BASE, logged_in, page_text


def letter_and_web_form(ctx, letter_sender: str, organization: str, web_address: str) -> tuple:
    """A consultation with a letter staff entered, then a web form's submission (newer) by Jan Kowalski."""
    found = consultation(ctx)
    paper = handlers.enter_paper_submission(ctx, letter(found.id, submitter=domain.Submitter(
        name=letter_sender, email=None, publish_consent=False, organization=organization)), actor="k@um.torun.pl")
    web = intake_handlers.submit_comments(ctx, domain.SubmitComments(
        consultation_id=found.id, comments=(domain.CommentDraft(section="§ 1", proposal="Dwa konkursy."),),
        submitter=domain.Submitter(name="Jan Kowalski", email=web_address, publish_consent=True)))
    return found, paper, web


def test_staff_find_a_letter_by_the_number_on_the_paper_or_a_sender_by_name_and_open_it(ctx, app):
    found, paper, web = letter_and_web_form(ctx, "Anna Nowak", "Fundacja Szeroka", "Jan.Kowalski@example.org")
    other = consultation(ctx)
    intake_handlers.submit_comments(ctx, domain.SubmitComments(
        consultation_id=other.id, comments=(domain.CommentDraft(section="§ 1", proposal="Inna."),),
        submitter=domain.Submitter(name="Anna Nowak", email=None, publish_consent=False)))
    client = logged_in(app)
    console = page_text(client.get(f"/intake/staff/consultations/{found.id}"))
    assert f"/intake/staff/consultations/{found.id}/submissions" in console and "Rejestr zgłoszeń" in console
    everything = unescape(page_text(client.get(f"{BASE}/{found.id}/submissions")))
    assert "2 zgłoszenia" in everything  # the other consultation's submission is not in this register
    assert everything.index(web.reference) < everything.index(paper.reference)  # newest first
    assert "k@um.torun.pl" in everything and "Fundacja Szeroka" in everything and "<td>pismo</td>" in everything
    assert "godz. 0:00" not in everything  # a letter's day of receipt, without a meaningless hour

    by_number = unescape(page_text(client.get(f"{BASE}/{found.id}/submissions", query_string={
        "q": f"  {paper.reference[-6:]} "})))
    assert paper.reference in by_number and web.reference not in by_number and "(po zawężeniu)" in by_number
    link = f'href="/intake/staff/consultations/{found.id}/submissions/{paper.submission_id}"'
    assert link in by_number
    assert web.reference in page_text(client.get(f"{BASE}/{found.id}/submissions", query_string={"q": "jan.KOWALSKI@"}))
    assert paper.reference in page_text(client.get(f"{BASE}/{found.id}/submissions", query_string={"q": "szeroka"}))
    letters = page_text(client.get(f"{BASE}/{found.id}/submissions", query_string={"channel": "letter"}))
    assert paper.reference in letters and web.reference not in letters
    none = unescape(page_text(client.get(f"{BASE}/{found.id}/submissions", query_string={"q": "100%_\\"})))
    assert "Żadne zgłoszenie nie pasuje" in none  # LIKE's wildcards are the text searched for, not patterns


def test_hostile_parameters_get_a_page_and_long_registers_are_paged(ctx, app, monkeypatch):
    found = consultation(ctx)
    for number in range(5):
        handlers.enter_paper_submission(ctx, letter(found.id), actor="k@um.torun.pl")
    monkeypatch.setattr(register, "PAGE_SIZE", 2)
    client = logged_in(app)
    for query in ({"page": "x"}, {"page": "-5"}, {"page": "99999999999999999999"}, {"channel": "<script>"},
                  {"q": "x" * 10_000}, {"q": "' OR 1=1 --"}):
        response = client.get(f"{BASE}/{found.id}/submissions", query_string=query)
        assert response.status_code == 200, query
    last = register.register(ctx, found.id, page=10**6)
    assert (last.page, last.pages, last.total, len(last.rows)) == (3, 3, 5, 1)
    assert client.get(f"{BASE}/nope/submissions").status_code == 404
    assert app.test_client().get(f"{BASE}/{found.id}/submissions").status_code in (302, 303)  # staff only


def test_the_register_downloads_as_csv_for_polish_excel_with_formulas_neutralised(ctx, app):
    import csv
    import io

    found, paper, web = letter_and_web_form(ctx, "=HYPERLINK(\"http://example.org\")", "Fundacja Ąę",
                                            "jan@example.org")
    client = logged_in(app)
    page = page_text(client.get(f"{BASE}/{found.id}/submissions", query_string={"channel": "letter"}))
    assert f"{BASE}/{found.id}/submissions.csv?channel=letter" in unescape(page)
    response = client.get(f"{BASE}/{found.id}/submissions.csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"] and response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Numer zgłoszenia", "Data wpływu", "Sposób złożenia", "Nadawca"]
    assert [row[0] for row in rows[1:]] == [web.reference, paper.reference]  # newest first
    letter_row = rows[2]
    assert letter_row[3] == "'=HYPERLINK(\"http://example.org\")" and letter_row[4] == "Fundacja Ąę"
    assert letter_row[2] == "pismo" and len(letter_row[1]) == 10 and letter_row[8] == "k@um.torun.pl"
    assert rows[1][5] == "jan@example.org" and rows[1][6] == "1"
    only_letters = client.get(f"{BASE}/{found.id}/submissions.csv", query_string={"channel": "letter"})
    assert only_letters.data.decode("utf-8-sig").count("\r\n") == 2  # the header and the letter
    assert app.test_client().get(f"{BASE}/{found.id}/submissions.csv").status_code in (302, 303, 401)
