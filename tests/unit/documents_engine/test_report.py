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
    for expected in ("Raport z konsultacji społecznych", "II etap", "od 30 września 2024 r. do 21 października 2024 r.",
                     "formularz internetowy", "8 października 2024 r., 09:00–17:00, sala 34",
                     "Liczba zgłoszonych uwag: 3.",
                     "Uwagi według rozstrzygnięcia", "Uwagi według formy zgłoszenia", "Uwagi według tematu",
                     "Uwagi według części dokumentu", "Lp.", "Zgłaszający", "Część dokumentu", "Obecny zapis",
                     "Proponowana zmiana", "Uzasadnienie uwagi", "Rozstrzygnięcie",
                     "Stanowisko Miasta wraz z uzasadnieniem", "Nieuwzględniona", "Uwzględniona częściowo"):
        assert expected in text, expected
    parts = read_package(docx)
    assert parts["word/media/chart1.png"].startswith(b"\x89PNG")
    assert b'r:embed="rId3"' in parts["word/document.xml"] or b"r:embed=" in parts["word/document.xml"]


def test_the_chart_has_its_data_as_alternative_text_for_screen_readers(data):
    """A public body's documents must be accessible: the chart's picture says in words what it shows."""
    import re

    document = read_package(build_report_docx(data))["word/document.xml"].decode()
    described = set(re.findall(r'<wp:docPr [^>]*descr="([^"]*)"', document))
    assert described == {"Rozstrzygnięcia uwag według rozdziałów. Rozdział II: Uwzględniona 1; "
                         "Rozdział III: Uwzględniona częściowo 1, Nieuwzględniona 1."}
    english = read_package(build_report_docx(data, lang="en"))["word/document.xml"].decode()
    assert 'descr="Decisions on comments by chapter. Chapter II: Accepted 1;' in english


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
    xlsx_rows = [[str(cell) if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)]
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


# ---- the report as an official document ----------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"klik\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\tTAB", "\rCR"]
TEXT_FIELDS = ("ref", "unit_label", "comment", "proposal", "justification", "channel", "topic", "position",
               "chapter", "adopted")


def _poisoned(value: str) -> dict:
    raw = report_json()
    comment = raw["comments"][1]  # accepted: every column is shown, also the adopted wording
    for key in TEXT_FIELDS:
        comment[key] = value
    comment["submitter"] = {"name": value, "organization": value, "kind": "organization", "publish_consent": True}
    return raw


@pytest.mark.parametrize("published", [True, False])
@pytest.mark.parametrize("value", FORMULAS)
def test_no_field_becomes_a_formula_in_xlsx_or_a_raw_formula_cell_in_csv(value, published):
    data = ReportData.from_json(_poisoned(value))
    sheet_xml = read_package(build_report_xlsx(data, published=published))["xl/worksheets/sheet1.xml"]
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml
    sheet = openpyxl.load_workbook(io.BytesIO(build_report_xlsx(data, published=published))).active
    row = [cell.value for cell in sheet[3]]
    assert all(not isinstance(cell, str) or cell.data_type == "s" for cell in sheet[3] if cell.value is not None)
    rows = list(csv.reader(io.StringIO(build_report_csv(data, published=published).decode("utf-8-sig"),
                                        newline="")))
    for cell in rows[2]:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    poisoned_cells = [cell for cell in rows[2] if value.strip("\t\r") in cell]
    assert poisoned_cells and all(cell.startswith("'") for cell in poisoned_cells)
    assert any(isinstance(cell, str) and value.strip("\t\r") in cell for cell in row)


def test_xlsx_has_numbers_a_frozen_header_and_a_filter(data):
    xlsx = build_report_xlsx(data)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert [sheet.cell(row=row, column=1).value for row in (2, 3, 4)] == [1, 2, 3]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:M4"


@pytest.mark.parametrize("field, value, named", [
    ("duty_days", ["2024-10-08", "2024-10-15"], "consultation.duty_days[0]"),
    ("duty_days", "2024-10-08", "consultation.duty_days"),
    ("channels", "web", "consultation.channels"),
    ("title", {"pl": "x"}, "consultation.title"),
    ("working_draft", "yes", "consultation.working_draft"),
])
def test_malformed_report_json_names_the_field(field, value, named):
    raw = report_json()
    raw["consultation"][field] = value
    with pytest.raises(ReportInputError) as raised:
        ReportData.from_json(raw)
    assert named in raised.value.message and named in raised.value.message_pl


def test_the_cli_reports_a_malformed_duty_day_as_bad_input_not_an_internal_error(tmp_path, capsys):
    from services.documents.engine.cli import main

    raw = report_json()
    raw["consultation"]["duty_days"] = ["2024-10-08"]
    path = tmp_path / "REPORT.json"
    path.write_text(__import__("json").dumps(raw), encoding="utf-8")
    code = main(["report", str(path), "--out", str(tmp_path / "r.docx")])
    assert code == 1
    assert "consultation.duty_days[0]" in capsys.readouterr().err


def test_title_page_reads_like_an_official_document():
    raw = report_json()
    raw["consultation"].update({"organizer": "Prezydent Miasta Torunia",
                                "legal_basis": "uchwała nr 1/2024 Rady Miasta Torunia w sprawie konsultacji",
                                "report_date": "2024-11-04"})
    text = document_text(build_report_docx(ReportData.from_json(raw)))
    for expected in ("Prowadzący konsultacje: Prezydent Miasta Torunia",
                     "Podstawa prawna: uchwała nr 1/2024 Rady Miasta Torunia w sprawie konsultacji",
                     "Liczba podmiotów, które zgłosiły uwagi: 3; liczba uwag: 3.",
                     "Uwagi według formy zgłoszenia: ", "poczta elektroniczna – 1",
                     "Konsultacje trwały od 30 września 2024 r. do 21 października 2024 r.",
                     "Odbyły się dyżury konsultacyjne (1): 8 października 2024 r., 09:00–17:00, sala 34.",
                     "Data sporządzenia raportu: 4 listopada 2024 r."):
        assert expected in text, expected


def test_a_working_draft_says_how_many_comments_it_leaves_out_and_a_final_report_never_does():
    raw = report_json()
    raw["consultation"].update({"working_draft": True, "undecided": 8})
    text = document_text(build_report_docx(ReportData.from_json(raw)))
    assert "Wersja robocza – przed zakończeniem rozpatrywania uwag" in text
    assert "Uwagi jeszcze bez zatwierdzonego rozstrzygnięcia, nieujęte w tej wersji raportu: 8." in text
    english = document_text(build_report_docx(ReportData.from_json(raw), lang="en"))
    assert "Comments without an approved decision yet, not included in this version: 8." in english
    raw["consultation"]["working_draft"] = False
    assert "nieujęte w tej wersji" not in document_text(build_report_docx(ReportData.from_json(raw)))
    for bad in (-1, "8", True, 1.5):
        raw["consultation"]["undecided"] = bad
        with pytest.raises(ReportInputError, match="consultation.undecided"):
            ReportData.from_json(raw)


def test_comment_table_is_landscape_with_a_repeated_header_and_the_wordings(data):
    raw = report_json()
    raw["comments"][1]["adopted"] = "Cele programu są mierzalne."
    raw["comments"][0]["adopted"] = "Nie powinno się pokazać."
    document = read_package(build_report_docx(ReportData.from_json(raw)))["word/document.xml"].decode()
    assert "<w:tblHeader/>" in document and 'w:orient="landscape"' in document
    text = document_text(build_report_docx(ReportData.from_json(raw)))
    assert "Przyjęte brzmienie" in text and "Cele programu są mierzalne." in text
    assert "Nie powinno się pokazać." not in text  # only accepted comments have an adopted wording


def test_columns_are_wide_enough_for_their_header_words():
    from services.documents.engine.report import _COLUMN_WIDTHS, TEXTS

    usable = [width - 2 * 108 for width in _COLUMN_WIDTHS]  # default cell margins
    for lang in ("pl", "en"):
        for header, width in zip(TEXTS[lang]["columns"], usable):
            longest = max(header.split(), key=len)
            assert len(longest) * 95 <= width, (lang, longest, width)  # 9 pt bold: under 95 twips a letter
    assert sum(_COLUMN_WIDTHS) <= 14570
    assert len("UW/2026/000123#12") * 85 <= usable[0]  # the reference under Lp. at 8 pt stays on one line


@pytest.mark.parametrize("kind, consent, published, shown", [
    ("person", True, True, "Anna Zgodna (Stowarzyszenie Razem)"),
    ("person", False, True, "Osoba prywatna"),
    ("organization", True, True, "Stowarzyszenie Razem (Anna Zgodna)"),
    ("organization", False, True, "Stowarzyszenie Razem"),
    ("organization", False, False, "Stowarzyszenie Razem (Anna Zgodna)"),
])
def test_a_consenting_person_is_named(kind, consent, published, shown):
    from services.documents.engine.privacy import submitter_display

    assert submitter_display("Anna Zgodna", "Stowarzyszenie Razem", kind, consent, "pl", published) == shown


@pytest.mark.parametrize("top, ticks", [(1, [0, 1]), (3, [0, 1, 2, 3]), (5, [0, 1, 2, 3, 4, 5]),
                                        (7, [0, 2, 4, 6, 8]), (23, [0, 5, 10, 15, 20, 25])])
def test_chart_ticks_are_whole_numbers(top, ticks):
    from services.documents.engine.chart import _nice_ceiling, axis_ticks

    assert axis_ticks(_nice_ceiling(top)) == ticks


def test_letters_and_duty_hours_are_counted_and_named_in_polish_on_the_title_page_and_in_the_exports():
    raw = report_json()
    raw["consultation"]["channels"] = ["web", "email", "letter", "duty_hours"]
    raw["comments"][1]["channel"] = "letter"
    data = ReportData.from_json(raw)
    text = document_text(build_report_docx(data))
    assert "pismo – 1" in text and "dyżur konsultacyjny – 1" in text and "poczta elektroniczna – 1" in text
    assert dict(summary(data)["channel"]) == {"pismo": 1, "dyżur konsultacyjny": 1, "poczta elektroniczna": 1}
    channels = {row[0]: row[8] for row in list(csv.reader(io.StringIO(build_report_csv(data).decode("utf-8-sig"))))[1:]}
    assert sorted(channels.values()) == ["dyżur konsultacyjny", "pismo", "poczta elektroniczna"]
