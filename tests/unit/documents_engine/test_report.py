"""The consultation report: content, privacy, languages, exports and determinism."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest

from services.documents.engine.errors import ReportInputError
from services.documents.engine.ooxml import read_package
from services.documents.engine.report import (ReportData, build_report_csv, build_report_docx, build_report_xlsx,
                                              summary)


def report_json() -> dict:
    return {
        "consultation": {"title": "Konsultacje Programu współpracy 2025", "stage": "II etap",
                         "document": "Program współpracy na rok 2025", "organizer": "Wydział Spraw Społecznych",
                         "start": "2024-09-30", "end": "2024-10-21", "channels": ["web", "email", "duty_hours"],
                         "duty_days": [{"date": "2024-10-08", "from": "09:00", "to": "17:00", "place": "sala 34"}]},
        "comments": [
            {"ref": "K-1", "submitter": {"name": "Jan Przykładowy", "organization": "", "kind": "person",
                                         "publish_consent": False},
             "unit_label": "§ 5 ust. 2", "chapter": "Rozdział III",
             "comment": "Proszę o kontakt: jan@example.org, tel. 601 234 567, PESEL 44051401458.",
             "proposal": "Dodać małe granty.", "justification": "Brak środków.", "channel": "email",
             "topic": "finansowanie", "decision": "rejected", "position": "Nie uwzględniono – budżet."},
            {"ref": "K-2", "submitter": {"name": "Anna Zgodna", "organization": "", "kind": "person",
                                         "publish_consent": True},
             "unit_label": "Rozdział II", "comment": "Cele są zbyt ogólne.", "proposal": "Doprecyzować.",
             "justification": "", "channel": "web", "topic": "cele", "decision": "accepted",
             "position": "Uwzględniono."},
            {"ref": "K-3", "submitter": {"name": "Piotr Prezes", "organization": "Fundacja Dobrego Sąsiedztwa",
                                         "kind": "organization", "publish_consent": False},
             "unit_label": "§ 5 ust. 3 pkt 1", "chapter": "Rozdział III", "comment": "Tel. (56) 611 88 88.",
             "proposal": "", "justification": "", "channel": "duty_hours", "topic": "finansowanie",
             "decision": "partially_accepted", "position": "Częściowo."},
        ]}


@pytest.fixture()
def data() -> ReportData:
    return ReportData.from_json(report_json())


def document_text(docx: bytes) -> str:
    xml = read_package(docx)["word/document.xml"].decode()
    return "".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", xml))


def test_published_report_hides_private_people_and_contact_data(data):
    text = document_text(build_report_docx(data))
    assert "Osoba prywatna" in text and "Jan Przykładowy" not in text
    assert "Anna Zgodna" in text  # consented
    assert "Fundacja Dobrego Sąsiedztwa" in text and "Piotr Prezes" not in text
    for secret in ("jan@example.org", "601 234 567", "44051401458", "(56) 611 88 88"):
        assert secret not in text
    assert text.count("[dane usunięte]") == 4


def test_internal_report_keeps_names_and_contact_data(data):
    text = document_text(build_report_docx(data, published=False))
    assert "Jan Przykładowy" in text and "jan@example.org" in text and "44051401458" in text
    assert "Wersja wewnętrzna" in text


def test_report_has_title_page_summary_chart_and_table_columns(data):
    docx = build_report_docx(data)
    text = document_text(docx)
    for expected in ("Raport z konsultacji społecznych", "II etap", "od 2024-09-30 do 2024-10-21",
                     "formularz internetowy", "2024-10-08, 09:00–17:00, sala 34", "Liczba zgłoszonych uwag: 3.",
                     "Uwagi według rozstrzygnięcia", "Uwagi według formy zgłoszenia", "Uwagi według tematu",
                     "Uwagi według części dokumentu", "Lp.", "Zgłaszający", "Część dokumentu", "Treść uwagi",
                     "Proponowana zmiana", "Uzasadnienie uwagi", "Rozstrzygnięcie",
                     "Stanowisko Miasta wraz z uzasadnieniem", "Nieuwzględniona", "Uwzględniona częściowo"):
        assert expected in text, expected
    parts = read_package(docx)
    assert parts["word/media/chart1.png"].startswith(b"\x89PNG")
    assert b'r:embed="rId3"' in parts["word/document.xml"] or b"r:embed=" in parts["word/document.xml"]


def test_summary_counts_by_decision_channel_topic_and_chapter(data):
    counts = summary(data)
    assert dict(counts["decision"]) == {"Uwzględniona": 1, "Uwzględniona częściowo": 1, "Nieuwzględniona": 1,
                                        "Nierozpatrzona": 0}
    assert dict(counts["topic"]) == {"finansowanie": 2, "cele": 1}
    assert counts["chapter"] == [("Rozdział II", 1), ("Rozdział III", 2)]
    assert dict(counts["channel"])["poczta elektroniczna"] == 1


def test_english_report(data):
    text = document_text(build_report_docx(data, lang="en"))
    assert "Public consultation report" in text and "Private individual" in text and "[data removed]" in text
    assert "Partially accepted" in text and "City's position and reasoning" in text


def test_builds_are_byte_identical_and_dated_from_the_consultation(data):
    first, second = build_report_docx(data), build_report_docx(ReportData.from_json(report_json()))
    assert first == second
    assert b"2024-10-21T00:00:00Z" in read_package(first)["docProps/core.xml"]
    assert build_report_xlsx(data) == build_report_xlsx(data)
    assert build_report_csv(data) == build_report_csv(data)


def test_xlsx_and_csv_hold_the_same_table(data):
    sheet = openpyxl.load_workbook(io.BytesIO(build_report_xlsx(data))).active
    xlsx_rows = [[cell if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    csv_rows = list(csv.reader(io.StringIO(build_report_csv(data).decode("utf-8-sig"))))
    assert xlsx_rows == csv_rows
    assert csv_rows[0][:3] == ["Lp.", "Numer zgłoszenia", "Zgłaszający"]
    assert csv_rows[1][2] == "Osoba prywatna" and "[dane usunięte]" in csv_rows[1][5]
    assert len(csv_rows) == 4


def test_control_characters_in_comments_cannot_break_the_package():
    raw = report_json()
    raw["comments"][0]["comment"] = "zły\x00znak\x0b"
    text = document_text(build_report_docx(ReportData.from_json(raw)))
    assert "złyznak" in text


@pytest.mark.parametrize("mutate, field", [
    (lambda raw: raw.pop("comments"), "comments"),
    (lambda raw: raw["comments"][0].update(decision="maybe"), "decision"),
    (lambda raw: raw["comments"][1]["submitter"].update(kind="robot"), "submitter.kind"),
])
def test_malformed_report_input_is_refused_naming_the_field(mutate, field):
    raw = report_json()
    mutate(raw)
    with pytest.raises(ReportInputError) as raised:
        ReportData.from_json(raw)
    assert field in raised.value.message
