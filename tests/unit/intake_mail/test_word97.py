"""Word 97-2003 documents: real ones from Apache Tika's tests (tests/corpus/mail/doc/SOURCES.md) and LibreOffice's
saves of the corpus form and letter; what cannot be read gives None, never an error."""

from __future__ import annotations

import pytest

from services.intake.mail.form import form_kind, read_form
from services.intake.mail.parse import parse_mail
from services.intake.mail.word97 import read_word97
from tests.unit.intake_mail.conftest import CORPUS

DOC = CORPUS / "doc"


def test_a_table_word_made_is_its_rows_and_cells():
    """Tika's WordParserTest.testVarious: "Row 1 Col 1 Row 1 Col 2 Row 1 Col 3 Row 2 Col 1 Row 2 Col 2 Row 2 Col 3"."""
    document = read_word97((DOC / "testWORD_various.doc").read_bytes())
    assert document.tables == [[["Row 1 Col 1", "Row 1 Col 2", "Row 1 Col 3"],
                                ["Row 2 Col 1", "Row 2 Col 2", "Row 2 Col 3"]]]
    for expected in ("Here is a list:", "Bullet 1", "Bullet 3", "This is a hyperlink"):  # Tika's assertions
        assert expected in document.text


def test_headings_and_a_table_with_a_table_in_a_cell():
    document = read_word97((DOC / "testWORD.doc").read_bytes())
    assert "Sample Word Document" in document.text and "Heading Level 1" in document.paragraphs
    assert len(document.tables) == 1 and document.tables[0]


@pytest.mark.parametrize("name", ["testWORD_protected_passtika.doc", "testWORD6.doc"])
def test_an_encrypted_or_word_6_document_is_not_read(name):
    assert read_word97((DOC / name).read_bytes()) is None


def _form_doc() -> bytes:
    mail = parse_mail((CORPUS / "word-97-doc-legacy.eml").read_bytes())
    return next(a.data for a in mail.attachments if a.filename.endswith(".doc"))


def test_the_form_saved_as_word_97_by_libreoffice_gives_its_rows_and_details():
    data = _form_doc()
    assert form_kind("Formularz uwag Toruń.doc", "application/msword", data) == "doc"
    form = read_form("Formularz uwag Toruń.doc", "application/msword", data)
    assert [(r.section, r.current_text) for r in form.rows] == [
        ("§ 5 ust. 2", "Współpraca ma charakter finansowy i pozafinansowy."), ("Rozdział 4 pkt 3", "")]
    assert (form.submitter.name, form.submitter.organization, form.submitter.email) == (
        "Anna Nowak", "Stowarzyszenie Przyjaciół Torunia", "anna.nowak@example.org")


def test_a_merged_title_row_spans_the_columns_under_it():
    title = read_word97(_form_doc()).tables[0][0]
    assert title == ["Zgłaszane uwagi", "", "", "", ""]


@pytest.mark.parametrize("cut", [512, 4096, 9000])
def test_a_cut_off_document_gives_none(cut):
    assert read_word97(_form_doc()[:cut]) is None


def test_a_document_whose_piece_table_is_overwritten_gives_none_or_text_never_an_error():
    data = bytearray(_form_doc())
    for offset in range(2048, len(data), 97):
        data[offset] = 0xFF
    result = read_word97(bytes(data))
    assert result is None or isinstance(result.text, str)


def test_an_excel_made_workbook_is_its_cells_as_text():
    """Tika's ExcelParserTest: "Sample Excel Worksheet", "Numbers and their Squares", "Number", "Square", "9" and
    "196" but never "9.0" or "196.0"."""
    from services.intake.imports.plan import first_sheet_values

    grid = first_sheet_values((DOC / "testEXCEL.xls").read_bytes())
    cells = [cell for row in grid for cell in row]
    assert "Sample Excel Worksheet" in grid[0][0] and "Numbers and their Squares" in grid[0][0]
    assert {"Number", "Square", "9", "196"} <= set(cells) and "9.0" not in cells and "196.0" not in cells


def test_the_guides_table_saved_as_excel_97_gives_its_rows():
    data = (CORPUS / "uwagi-tabela.xls").read_bytes()
    for name, media_type in (("uwagi.xls", "application/vnd.ms-excel"), ("uwagi", "application/octet-stream")):
        assert form_kind(name, media_type, data) == "xls"
        form = read_form(name, media_type, data)
        assert [(r.section, r.proposal) for r in form.rows] == [
            ("§ 4 ust. 1", "Zmienić słowo „należy” na „można”"),
            ("Załącznik nr 2, tabela, wiersz 5", "Podnieść limit do 30 kWh")]


@pytest.mark.parametrize("cut", [512, 3000])
def test_a_cut_off_workbook_is_not_a_form_and_not_an_error(cut):
    data = (CORPUS / "uwagi-tabela.xls").read_bytes()[:cut]
    assert read_form("uwagi.xls", "application/vnd.ms-excel", data) is None
