"""RTF forms and letters: real RTF from Apache Tika's tests (tests/corpus/mail/rtf/SOURCES.md) and LibreOffice's
RTF of the corpus form; what is not RTF, or breaks, gives None, never an error."""

from __future__ import annotations

import pytest

from services.intake.mail.form import form_kind, read_form
from services.intake.mail.letter import letter_text
from services.intake.mail.rtf import MAX_DEPTH, read_rtf
from tests.unit.intake_mail.conftest import CORPUS

RTF = CORPUS / "rtf"


def _text(name: str) -> str:
    return read_rtf((RTF / name).read_bytes()).text


def test_words_rtf_gives_its_table_and_text_and_not_its_headers_or_footnotes():
    document = read_rtf((RTF / "testRTFVarious.rtf").read_bytes())
    assert document.tables == [[["Row 1 Col 1", "Row 1 Col 2", "Row 1 Col 3"],
                                ["Row 2 Col 1", "Row 2 Col 2", "Row 2 Col 3"]]]
    for expected in ("Here is a list:", "Bullet 1", "Bullet 3", "Number bullet 2", "This is a hyperlink",
                     "Keyword1 Keyword2"):  # Tika's assertions
        assert expected in document.text
    assert "This is the header text." not in document.text  # Tika reads headers too; a form's text is its body


@pytest.mark.parametrize("name,expected", [
    ("testRTFWindowsCodepage1250.rtf", ["zażółć gęślą jaźń", "ZAŻÓŁĆ GĘŚLĄ JAŹŃ"]),
    ("testRTFWordPadCzechCharacters.rtf", ["Článek týdne", "starověké židovské náboženské texty"]),
    ("testRTFWord2010CzechCharacters.rtf", ["Článek týdne", "starověké židovské náboženské texty"]),
    ("testRTFUnicodeGothic.rtf", ["\U00010332\U0001033f\U00010344\U00010339\U00010343\U0001033a"]),
])
def test_letters_come_out_in_their_code_pages(name, expected):
    text = _text(name)
    assert all(phrase in text for phrase in expected)


def test_table_cells_come_out_in_order():
    assert " ".join(_text("testRTFTableCellSeparation.rtf").replace("|", " ").split()) == "a b c d ä ë ö ü"


def test_binary_data_is_not_text():
    assert _text("testBinControlWord.rtf") == ""


def test_the_form_saved_as_rtf_by_libreoffice_gives_its_rows_and_details():
    data = (CORPUS / "form-a-toruń.rtf").read_bytes()
    assert form_kind("formularz.rtf", "application/rtf", data) == "rtf"
    form = read_form("formularz.rtf", "application/rtf", data)
    assert [(r.section, r.current_text) for r in form.rows] == [
        ("§ 5 ust. 2", "Współpraca ma charakter finansowy i pozafinansowy."), ("Rozdział 4 pkt 3", "")]
    assert (form.submitter.name, form.submitter.organization) == ("Anna Nowak", "Stowarzyszenie Przyjaciół Torunia")


def test_an_rtf_letter_gives_its_text():
    assert "zażółć gęślą jaźń" in letter_text("rtf", (RTF / "testRTFWindowsCodepage1250.rtf").read_bytes())


@pytest.mark.parametrize("data", [b"", b"not rtf", b"{\\rtf1 " + b"{" * (MAX_DEPTH + 5) + b"x",
                                  b"{\\rtf1\\ansi\\ansicpg99999 \\'b3\\u-1\\uc-5 x}"],
                         ids=["empty", "text", "deep", "odd-values"])
def test_what_is_not_rtf_or_breaks_gives_none_or_text(data):
    document = read_rtf(data)
    assert document is None or isinstance(document.text, str)
    assert data[:5] == b"{\\rtf" or document is None


def test_an_rtf_past_the_size_limit_is_not_read():
    from services.intake.mail.rtf import MAX_BYTES

    assert read_rtf(b"{\\rtf1 " + b"x" * MAX_BYTES + b"}") is None


def test_an_asterisk_inside_a_run_hides_no_text():
    """StarWriter writes `\\*` in the middle of a run; only `{\\*\\dest` makes an optional destination."""
    assert _text("testRTFIgnoredControlWord.rtf") == "The quick brown fox jumps over the lazy dog"  # Tika's <p>


def test_bytes_after_the_documents_closing_brace_are_not_its_text():
    assert _text("testRTFListOverride.rtf") == "Body"  # Tika expects "Body"; garbage follows the last brace


def test_an_optional_destination_still_hides_its_text():
    assert read_rtf(b"{\\rtf1\\ansi {\\*\\generator Writer;}{\\*\n\\unknowndest secret}Visible\\par}").text == "Visible"


@pytest.mark.parametrize("name,items", [
    # as LibreOffice's own text of the file shows them (SOURCES.md)
    ("testRTFListLibreOffice.rtf", ["1. one", "2. two", "3. three", "• first", "• second", "• third"]),
    ("testRTFListMicrosoftWord.rtf", ["1. one", "2. two", "3. three", "• first", "• second", "• third",
                                      "1. a", "• aa", "• ab", "2. b", "3. c"]),
])
def test_list_items_carry_the_numbers_their_writer_wrote_out(name, items):
    paragraphs = read_rtf((RTF / name).read_bytes()).paragraphs
    assert [p for p in paragraphs if p[:1].isdigit() or p.startswith("•")] == items


def test_lists_libreoffice_wrote_out_read_as_libreoffice_shows_them_a_cells_list_included():
    """LibreOffice writes each number as `{\\listtext\\pard\\plain 1.\\tab}`: the `\\pard` inside that group must not
    end the table the paragraph stands in, and a cell's last item (ended by `\\cell`) keeps its number too."""
    ours = [" ".join(block.split()) for block in read_rtf((RTF / "testWORD_numbered_list.rtf").read_bytes()).text
            .split("\n\n")]
    theirs = [" ".join(line.split()) for line in (RTF / "testWORD_numbered_list.libreoffice.txt")
              .read_text("utf-8-sig").splitlines() if line.strip()]
    table_at = theirs.index("Intervening table")
    row = " | ".join([theirs[table_at], " ".join(theirs[table_at + 1:table_at + 4])])  # a row is one line
    assert row == "Intervening table | 1. Within cell 1 a. Cell a b. Cell b"
    assert ours == theirs[:table_at] + [row] + theirs[table_at + 4:]


def test_a_nested_tables_text_written_inside_its_row_properties_is_read():
    """RtfPipe's Issue34.rtf (rtf/SOURCES.md): the judges' names stand inside `{\\*\\nesttableprops …}`, which was
    skipped as an unknown destination; only the title was read."""
    text = letter_text("rtf", (RTF / "rtfpipe-Issue34.rtf").read_bytes())
    assert text.startswith("У Х В А Л А")
    assert all(name in text for name in ("Б.І. Гулько", "М.Є.Червинська", "В.А.Черненко"))


def test_outlooks_rtf_of_an_html_mail_with_groups_nested_thousands_deep_is_read():
    """RtfPipe's Issue52.rtf (rtf/SOURCES.md) nests 2,714 groups deep; past the old limit of 400 its text was
    none, and the letter was attached with nothing to show."""
    text = letter_text("rtf", (RTF / "rtfpipe-Issue52.rtf").read_bytes())
    assert text.startswith("Attorney-Client Communication-Privileged/Confidential.")
    assert "Please be advised that the applicant has contracted with a third party" in text
    assert "Chris C.C. Wu" in text and "連邦國際專利商標事務所" in text
