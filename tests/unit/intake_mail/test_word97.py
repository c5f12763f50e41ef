"""Word 97-2003 documents: real ones from Apache Tika's tests (tests/corpus/mail/doc/SOURCES.md) and LibreOffice's
saves of the corpus form and letter; what cannot be read gives None, never an error."""

from __future__ import annotations

import re

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


# WordParserTest.testDOCParagraphNumbering in Apache Tika (doc/SOURCES.md), whitespace normalised
TIKA_NUMBERED_LIST = [
    "1) This", "a) Is", "i) A multi", "ii) Level", "1. Within cell 1", "b. Cell b", "iii) List", "2) foo",
    "ii) baz", "ii) foo", "II. bar", "6. six", "7. seven", "a. seven a", "e. seven e", "2. A ii 2",
    "3. page break list 3", "Some-1-CrazyFormat Greek numbering with crazy format - alpha", "1.1.1. 1.1.1",
    "1.1. 1.2->1.1 //set the value",
]


def _lines(document) -> list[str]:
    """Each paragraph and each cell's paragraph, whitespace normalised."""
    lines = [line for paragraph in document.paragraphs for line in paragraph.split("\n")]
    lines += [line for table in document.tables for row in table for cell in row for line in cell.split("\n")]
    return [" ".join(line.split()) for line in lines if line.strip()]


def test_word_97_list_paragraphs_carry_the_numbers_word_shows():
    """Word 97 keeps list numbers in its table stream (lists, their levels, the instances paragraphs name);
    against what Tika's test expects of Word's own file, a list in a table cell included."""
    lines = _lines(read_word97((DOC / "testWORD_numbered_list.doc").read_bytes()))
    assert [expected for expected in TIKA_NUMBERED_LIST if not any(line.startswith(expected) for line in lines)] == []


def test_word_97_numbers_as_word_shows_them_where_each_paragraph_says_its_own_number():
    """Tika's override file: every numbered paragraph's text is the number Word shows before it (restarts,
    skipped levels, legal numbering, an instance's own start and format). English ordinals ("1st", "5th") are read
    as the digits a Polish document shows, and a bullet as "•"."""
    lines = _lines(read_word97((DOC / "testWORD_override_list_numbering.doc").read_bytes()))
    numbered = [line.split(" ", 1) for line in lines if not line.startswith("Test ")]
    assert len(numbered) == 44  # as many as LibreOffice's text of the file has
    ordinal = re.compile(r"(\d+)(?:st|nd|rd|th)")
    differing = [(label, text) for label, text in numbered if label != ordinal.sub(r"\1", text)]
    assert differing == [("•", "·")]


def test_damaged_list_tables_lose_the_numbers_never_the_document():
    """The list table, its instances and the style sheet overwritten or cut anywhere: numbers or none, no error."""
    import io
    import random

    import olefile

    from services.intake.mail import word97, word97_lists

    with olefile.OleFileIO(io.BytesIO((DOC / "testWORD_numbered_list.doc").read_bytes())) as ole:
        fib = word97._Fib(ole.openstream("WordDocument").read())
        table = ole.openstream("1Table" if fib.which_table else "0Table").read()
    assert word97_lists.word97_numbering(table, fib.plf_lst, fib.plf_lfo).abstract_levels  # read when intact
    generator = random.Random(97)
    for _ in range(300):
        damaged = bytearray(table)
        region = generator.choice([fib.plf_lst, fib.plf_lfo, fib.stshf])
        start = region[0] + generator.randrange(max(region[1], 1) + 200)
        damaged[start:start + generator.randrange(1, 16)] = generator.randbytes(generator.randrange(1, 16))
        if generator.random() < 0.3:
            damaged = damaged[:generator.randrange(len(damaged))]
        numbering = word97_lists.word97_numbering(bytes(damaged), fib.plf_lst, fib.plf_lfo)
        numbering.label("1", 0)
        word97_lists.style_lists(bytes(damaged), fib.stshf, word97._list_of)


def test_a_list_started_at_two_billion_is_shown_in_digits_not_spelled_out():
    """A lowerLetter list a hostile file starts at 2,147,483,647 would be "a" repeated 82 million times."""
    from services.common.word_numbering import format_number

    assert format_number(2_147_483_647, "lowerLetter") == "2147483647"
    assert format_number(4_000_000, "upperRoman") == "4000000"
    assert (format_number(28, "lowerLetter"), format_number(3999, "upperRoman")) == ("bb", "MMMCMXCIX")


def test_a_word_97_letters_header_text_boxes_notes_and_footer_are_read_in_a_letters_order():
    """As a DOCX letter is read: the letterhead first, the footer last (Tika's testVarious expects each story's
    text of this file)."""
    from services.intake.mail.letter import letter_text

    blocks = letter_text("doc", (DOC / "testWORD_various.doc").read_bytes()).split("\n\n")
    assert blocks[0] == "This is the header text." and blocks[-1] == "This is the footer text."
    assert blocks.index("Footnote appears here") < blocks.index("Here is a text box") < blocks.index(
        "This is a footnote.")
    assert blocks.count("This is the header text.") == blocks.count("This is the footer text.") == 1


def test_a_word_97_letterheads_links_show_their_text_not_their_field_code():
    from services.intake.mail.letter import letter_text

    text = letter_text("doc", (DOC / "testWORD_header_hyperlink.doc").read_bytes())
    assert "ab@example.com" in text and "http://tw-systemhaus.de" in text and "HYPERLINK" not in text


def test_a_word_97_letters_text_box_and_footnote_lists_are_numbered_within_their_story():
    """Tika's numbered list file: its text box's and footnotes' lists, as the DOCX of the same file reads."""
    from services.intake.mail.letter import letter_text

    blocks = letter_text("doc", (DOC / "testWORD_numbered_list.doc").read_bytes()).split("\n\n")
    assert blocks[blocks.index("I’m a little text box"):] == [
        "I’m a little text box", "1. Short", "2. Stout", "a. 2 a", "i. 2 a i",
        "Footnote list", "1. Footnote list 1", "2. Footnote list 2", "a. Footnote list 2a"]
