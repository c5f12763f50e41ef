"""An online survey's answers (Google Forms, Microsoft Forms) imported as they are downloaded: recognised by the
answer-time column, each question matched to the import's columns, one submission per answer, sent on the web.

The shapes are Google Forms' own: a CSV with every cell quoted, the first column "Sygnatura czasowa" (Polish) or
"Timestamp" (English) with values like "2024/11/29 1:22:09 AM CET" (as in public exports of Polish Google Forms
on GitHub, e.g. a 2024 gamers' survey and a 2013 Gdynia Critical Mass survey); Microsoft Forms' XLSX starts with
ID, Start time, Completion time, Email, Name."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

from openpyxl import Workbook
from sqlalchemy import select

from services.intake.imports.survey import survey_table
from services.intake.models import Comment, Submission
from tests.unit.api_robustness.test_bulk_import import app, consultation_of_2024, post  # noqa: F401 - fixture
from tests.unit.intake_pages.helpers import WARSAW

QUESTIONS = ["Sygnatura czasowa", "Imię i nazwisko", "Nazwa organizacji (jeśli dotyczy)", "Adres e-mail",
             "Część dokumentu, do której odnosi się uwaga (rozdział, paragraf, ustęp)", "Obecny zapis",
             "Proponowana zmiana zapisu", "Uzasadnienie",
             "Wyrażam zgodę na publikację mojego imienia i nazwiska w raporcie z konsultacji",
             "Skąd dowiedziałeś(-aś) się o konsultacjach?"]
ANSWERS = [["2024/10/18 9:12:45 AM CEST", "Anna Nowak", "Stowarzyszenie Przyjaciół Torunia", "anna.nowak@example.org",
            "§ 5 ust. 2", "Współpraca ma charakter finansowy i pozafinansowy.",
            "Dopisać: tworzenie warunków do współpracy między organizacjami pozarządowymi.",
            "Sieciowanie organizacji.", "Tak", "Z Facebooka"],
           ["2024/10/20 11:03:02 PM CEST", "Jan Kowalski", "", "jan.kowalski@example.org", "Rozdział 4 pkt 3", "",
            "Dodać: przeciwdziałanie dyskryminacji i wykluczeniu społecznemu.", "", "", "Od znajomych"]]


def google_csv(header=QUESTIONS, rows=ANSWERS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def test_a_google_forms_export_becomes_the_imports_own_table():
    survey = survey_table([QUESTIONS, *ANSWERS])
    assert survey.table[0] == ["Imię i nazwisko", "Organizacja", "Adres e-mail", "Zgoda na publikację",
                               "Część dokumentu", "Zapis w projekcie", "Propozycja zmiany", "Uzasadnienie",
                               "Sposób złożenia", "Data wpływu"]
    assert survey.table[1][3:4] + survey.table[1][-2:] == ["tak", "www", "2024-10-18"]
    assert survey.table[2][3] == "nie" and survey.table[2][-1] == "2024-10-20"
    assert survey.left_out == ("Skąd dowiedziałeś(-aś) się o konsultacjach?",)


def test_a_file_in_the_imports_own_columns_is_not_a_survey():
    assert survey_table([["Imię i nazwisko", "Część dokumentu", "Propozycja zmiany", "Data wpływu"]]) is None
    assert survey_table([["Pytanie 1", "Pytanie 2"], ["a", "b"]]) is None  # no answer time


def test_the_answers_are_imported_one_submission_each_sent_on_the_web(app):  # noqa: F811 - the fixture
    consultation = consultation_of_2024(app)
    response = post(app, consultation.id, "Uwagi do programu (Odpowiedzi).csv", google_csv())
    assert response.status_code == 201, response.get_json()
    result = response.get_json()
    assert (result["submissions"], result["comments"]) == (2, 2)
    assert result["survey_left_out"] == ["Skąd dowiedziałeś(-aś) się o konsultacjach?"]
    with app.extensions["uwagi"].db.transaction() as session:
        submissions = session.scalars(select(Submission).order_by(Submission.reference)).all()
        assert [(s.submitter_name, s.channel, s.publish_consent) for s in submissions] == [
            ("Anna Nowak", "web", True), ("Jan Kowalski", "web", False)]
        assert [s.received_at for s in submissions] == [datetime(2024, 10, 18, tzinfo=WARSAW),
                                                        datetime(2024, 10, 20, tzinfo=WARSAW)]
        assert submissions[0].organization == "Stowarzyszenie Przyjaciół Torunia"
        assert sorted(session.scalars(select(Comment.section))) == ["Rozdział 4 pkt 3", "§ 5 ust. 2"]


def test_an_english_google_export_and_a_microsoft_forms_workbook_are_read_too(app):  # noqa: F811
    consultation = consultation_of_2024(app)
    english = google_csv(["Timestamp", "Email Address", "Your name", "Part of the document",
                          "Proposed change", "Justification"],
                         [["2024/10/19 4:20:00 PM GMT+2", "ewa@example.org", "Ewa Zielińska", "§ 9",
                           "Dodać sprawozdanie z konsultacji.", "Jawność."]])
    assert post(app, consultation.id, "answers.csv", english).status_code == 201
    workbook = Workbook()
    for row in (["ID", "Start time", "Completion time", "Email", "Name", "Imię i nazwisko",
                 "Część dokumentu", "Propozycja zmiany"],
                [1, "10/21/24 10:01:02", "2024-10-21 10:05:40", "anonymous", "", "Piotr Wiśniewski", "§ 3",
                 "Skrócić termin."]):
        workbook.active.append(row)
    data = io.BytesIO()
    workbook.save(data)
    response = post(app, consultation.id, "Uwagi(1-1).xlsx", data.getvalue())
    assert response.status_code == 201, response.get_json()
    with app.extensions["uwagi"].db.transaction() as session:
        names = sorted(session.scalars(select(Submission.submitter_name)))
    assert names == ["Ewa Zielińska", "Piotr Wiśniewski"]


def test_a_survey_answer_without_a_name_is_refused_by_row_like_any_import(app):  # noqa: F811
    consultation = consultation_of_2024(app)
    rows = [[*ANSWERS[0][:1], "", *ANSWERS[0][2:]]]
    response = post(app, consultation.id, "answers.csv", google_csv(rows=rows))
    assert response.status_code == 422
    errors = response.get_json()["errors"]["rows"]
    assert [(e["row"], e["column"], e["code"]) for e in errors] == [(2, "name", "required")]


def test_the_console_page_says_the_file_was_read_as_a_survey_and_names_the_questions_left_out(app):  # noqa: F811
    from tests.unit.api_robustness.test_bulk_import import TOKEN

    consultation = consultation_of_2024(app)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    url = f"/intake/staff/consultations/{consultation.id}/import"
    done = client.post(url, headers=auth, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(google_csv()), "Uwagi (Odpowiedzi).csv")})
    assert done.status_code == 303
    page = client.get(done.headers["Location"], headers=auth).get_data(as_text=True)
    assert "Plik odczytano jako odpowiedzi z ankiety internetowej" in page
    assert "Pominięte pytania: Skąd dowiedziałeś(-aś) się o konsultacjach?" in page


@pytest.mark.parametrize("moment,day", [
    ("2024/11/29 1:22:09 AM CET", "2024-11-29"),  # Google Forms' CSV
    ("29.11.2024 01:22:09", "2024-11-29"),  # a Polish sheet
    ("2024-11-29 13:22:09", "2024-11-29"),  # Microsoft Forms' workbook, read as text
    ("11/29/2024 1:22:09", "2024-11-29"), ("10/18/2024 9:12:45", "2024-10-18"),  # an American sheet: month first
    ("29/11/2024 10:00", "2024-11-29"),  # day first where the month cannot come first
    ("wczoraj", "wczoraj"),  # not a moment: left for the import to refuse by row
])
def test_an_answer_time_becomes_its_day(moment, day):
    from services.intake.imports.survey import _day

    assert _day(moment) == day
