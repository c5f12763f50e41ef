"""A form saved as PDF is read by its table's drawn cells: Word 2007's own PDF of a table (Apache Tika's test file,
as Tika expects it), LibreOffice's PDFs of the corpus forms (the same rows as the DOCX they were saved from, read
in tests/corpus/mail/expected.json), the words a narrow column breaks, and hostile or broken PDFs that give no
form rather than an error."""

from __future__ import annotations

import zlib

import pytest

from services.intake.mail import pdf_form
from services.intake.mail.form import read_form
from services.intake.mail.pdf_form import _joined, _Line, _texts, read_pdf_document
from tests.unit.intake_mail.conftest import CORPUS, spy_on_isolated_child


def test_words_table_in_words_own_pdf_is_read_cell_by_cell_and_is_no_comment_form():
    data = (CORPUS / "pdf" / "testPDFVarious.pdf").read_bytes()
    document = read_pdf_document(data)
    assert document is not None
    assert document.tables == [[["Row 1 Col 1", "Row 1 Col 2", "Row 1 Col 3"],
                                ["Row 2 Col 1", "Row 2 Col 2", "Row 2 Col 3"]]]
    outside = "\n".join(document.outside_tables)
    for expected in ("Here is a list:", "Here is a text box", "Bullet 1", "This is the header text.",
                     "This is the footer text."):
        assert expected in outside
    assert "Row 1 Col 1" not in outside  # the table's text is its cells', not the page's
    assert read_form("testPDFVarious.pdf", "application/pdf", data) is None  # a table, but not of comments


@pytest.mark.parametrize("name", ["form-a-toruń", "form-b-columns-reordered"])
def test_a_form_saved_as_pdf_gives_the_rows_and_sender_of_the_docx_it_was_saved_from(name):
    from_docx = read_form(f"{name}.docx", "", (CORPUS / f"{name}.docx").read_bytes())
    from_pdf = read_form(f"{name}.pdf", "application/pdf", (CORPUS / f"{name}.pdf").read_bytes())
    assert from_docx is not None and from_docx.rows
    assert from_pdf == from_docx


def test_form_a_pdf_joins_the_words_writer_broke_and_the_row_that_ran_onto_the_next_page():
    form = read_form("uwagi.pdf", "application/octet-stream", (CORPUS / "form-a-toruń.pdf").read_bytes())
    assert form is not None
    first, second = form.rows
    # printed as "pozafinanso" | "wy.", "organizacjam" | "i", "międzysektor" | "owych" (read in the PDF)
    assert first.current_text == "Współpraca ma charakter finansowy i pozafinansowy."
    assert "między organizacjami pozarządowymi, sieciowania, nawiązywania relacji międzysektorowych" in first.proposal
    # printed as "działającymi" | "w ich": a whole word at the edge, then a one-letter word
    assert first.proposal.endswith("jednostkami naukowymi i podmiotami działającymi w ich otoczeniu")
    # page 1 ends with "… dialog oraz wzmacnianie", page 2 goes on "zaufania między gminą …"
    assert second.proposal == ("rozwijanie kultury współpracy poprzez dialog oraz wzmacnianie zaufania między gminą "
                               "i organizacjami pozarządowymi oraz wzmacnianie dialogu międzysektorowego")
    assert second.justification == "przeciwdziałanie dyskryminacji i wykluczeniu społecznemu"


def line(text: str, right: float, first_width: float = 6.0, top: float = 0.0) -> _Line:
    return _Line(text, 0.0, right, first_width, top)


def test_a_wider_gap_than_the_tables_usual_line_distance_starts_a_new_paragraph():
    """Word leaves space after each paragraph; a cell that goes on over a page starts again at the page's top."""
    lines = [line("Wiele małych organizacji", 60.0, top=100.0), line("nie śledzi BIP.", 50.0, top=112.0),
             line("Newsletter dociera", 60.0, top=132.0), line("bezpośrednio.", 40.0, top=60.0)]
    assert _joined(lines, 100.0, pitch=12.0) == ("Wiele małych organizacji nie śledzi BIP.\n"
                                                 "Newsletter dociera bezpośrednio.")
    assert _joined(lines, 100.0, pitch=None) == ("Wiele małych organizacji nie śledzi BIP. Newsletter dociera "
                                                 "bezpośrednio.")


def test_a_line_is_joined_with_a_space_unless_a_word_was_broken_or_ends_in_its_own_hyphen():
    edge = 100.0
    # the next glyph would have fitted: the word ended there
    assert _joined([line("wzmacnianie", 90.0), line("zaufania", 50.0)], edge) == "wzmacnianie zaufania"
    # it would not have fitted, and "organizacjami" is a word: broken
    assert _joined([line("organizacjam", 97.0), line("i", 10.0)], edge) == "organizacjami"
    # it would not have fitted either, but "działającymi" is a word and "działającymiw" none: a space
    assert _joined([line("działającymi", 97.0), line("w ich", 30.0, 9.0)], edge) == "działającymi w ich"
    # neither part nor the whole is a known word: a long rare word, broken
    assert _joined([line("międzysektor", 99.0), line("owych", 40.0)], edge) == "międzysektorowych"
    # two words on the line, upper case after, or punctuation at the end: never a broken word
    assert _joined([line("a relacji", 99.0), line("organizacji", 60.0)], edge) == "a relacji organizacji"
    assert _joined([line("Gmina", 99.0), line("Toruń", 60.0)], edge) == "Gmina Toruń"
    assert _joined([line("sieciowania,", 99.0), line("nawiązywania", 60.0)], edge) == "sieciowania, nawiązywania"
    assert _joined([line("społeczno-", 80.0), line("gospodarczy", 60.0)], edge) == "społeczno-gospodarczy"
    assert _joined([line("gminą –", 80.0), line("organizacje", 60.0)], edge) == "gminą – organizacje"


FONTS = (b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
         # a CID font with no ToUnicode map: which character each glyph is, nobody says
         b"<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /DescendantFonts [<< /Type /Font "
         b"/Subtype /CIDFontType2 /BaseFont /X /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) "
         b"/Supplement 0 >> /DW 500 >>] >>")


def one_page_pdf(content: bytes, *, flate: bool = False, annots: bytes = b"") -> bytes:
    """A valid one-page PDF with `content` as its page's content stream (fonts /F1 Helvetica and /F2 the CID font
    above), its cross-reference table computed."""
    stream = zlib.compress(content, 9) if flate else content
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 300] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Annots [%s] >>" % annots,
               b"<< /Length %d%s >>\nstream\n" % (len(stream), b" /Filter /FlateDecode" if flate else b"")
               + stream + b"\nendstream", *FONTS]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def drawn_table(cells: list[list[bytes]], font: bytes = b"/F1") -> bytes:
    """Content drawing a table of 150 × 40 pt cells with their borders, and each cell's text inside it."""
    rows, ops = len(cells), []
    for row in range(rows + 1):
        ops.append(b"20 %d m %d %d l S" % (260 - 40 * row, 20 + 150 * len(cells[0]), 260 - 40 * row))
    for column in range(len(cells[0]) + 1):
        ops.append(b"%d 260 m %d %d l S" % (20 + 150 * column, 20 + 150 * column, 260 - 40 * rows))
    for row, texts in enumerate(cells):
        for column, text in enumerate(texts):
            ops.append(b"BT %s 10 Tf %d %d Td (%s) Tj ET" % (font, 25 + 150 * column, 235 - 40 * row, text))
    return b"\n".join(ops)


def test_a_table_drawn_with_lines_is_a_comment_form_when_its_header_says_so():
    pdf = one_page_pdf(drawn_table([[b"Propozycja zmiany", b"Uzasadnienie"], [b"Nowy zapis", b"Bo jasniej"]]))
    form = read_form("x.pdf", "application/pdf", pdf)
    assert form is not None and [(r.proposal, r.justification) for r in form.rows] == [("Nowy zapis", "Bo jasniej")]


def test_a_table_whose_glyphs_name_no_characters_is_no_form():
    """A font without a ToUnicode map makes pdfminer print "(cid:33)": staff must read such a file themselves."""
    pdf = one_page_pdf(drawn_table([[b"\x00\x21\x00\x22", b"\x00\x23"], [b"\x00\x24", b"\x00\x25"]], b"/F2"))
    assert pdf_form.read_in_child(pdf)["tables"] == []
    assert read_form("x.pdf", "application/pdf", pdf) is None


@pytest.mark.parametrize("data", [b"%PDF-1.7\n", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF",
                                  b"%PDF-" + bytes(range(256)) * 40],
                         ids=["header-only", "no-pages", "garbage"])
def test_a_broken_pdf_gives_no_form(data):
    assert read_pdf_document(data) is None
    assert read_form("x.pdf", "application/pdf", data) is None


def test_a_pdf_made_here_is_read_so_the_bomb_below_is_one():
    text = one_page_pdf(b"BT /F1 12 Tf 20 100 Td (Uwagi) Tj ET")
    assert pdf_form.read_in_child(text) == {"paragraphs": ["Uwagi"], "tables": []}


def test_a_decompression_bomb_is_stopped_by_the_child_limits_and_gives_no_form(caplog):
    """1 GB of content stream from 1 MB: pdfminer inflates it whole, past the child's address-space limit."""
    bomb = one_page_pdf(b"0 0 m " * (1 << 28), flate=True)
    assert len(bomb) < 4 << 20
    with caplog.at_level("INFO", logger="uwagi.intake.mail"):
        assert read_pdf_document(bomb) is None
    assert "Unable to allocate" in caplog.text  # zlib could not have the memory: the limit held


def test_a_reader_that_overruns_its_time_gives_no_form(monkeypatch):
    monkeypatch.setattr(pdf_form, "WALL_SECONDS", 0.001)
    assert read_pdf_document((CORPUS / "form-a-toruń.pdf").read_bytes()) is None


def test_the_citys_own_form_saved_as_pdf_keeps_a_comment_that_runs_over_three_pages():
    """Writer repeats the form's header on every page; the second comment's proposal fills pages 1 to 3."""
    pdf = read_form("formularz.pdf", "application/pdf", (CORPUS / "city-form-filled.pdf").read_bytes())
    docx = read_form("formularz.docx", "", (CORPUS / "city-form-filled.docx").read_bytes())
    assert pdf == docx
    assert [row.section for row in pdf.rows] == ["§ 8 ust. 2", "§ 7", "§ 10 ust. 1"]
    long = pdf.rows[1].proposal
    assert long.count("Proponujemy, aby otwarte konkursy ofert") == 6 and long.endswith("terminu składania ofert.")
    assert "społeczno-gospodarczy rozwój dzielnic" in pdf.rows[1].justification
    assert pdf.rows[2].proposal == ("Dodać miernik: „liczba organizacji korzystających z lokali udostępnianych przez "
                                    "Gminę”.")
    assert (pdf.submitter.name, pdf.submitter.organization, pdf.submitter.email) == (
        "Jan Kamiński", "Stowarzyszenie Mieszkańców Starego Miasta", "jan.kaminski@example.org")


def test_the_child_reads_the_pdf_isolated_and_without_the_services_secrets(monkeypatch):
    """Whatever a hostile file made the parser do, it would find no database URL or key in its environment."""
    seen = spy_on_isolated_child(monkeypatch)
    assert read_pdf_document((CORPUS / "form-a-toruń.pdf").read_bytes()) is not None
    assert seen["args"][1] == "-I"
    assert {name for name in seen["env"] if not name.startswith("COVERAGE_")} == {"PATH", "LC_ALL"}


def test_a_row_at_the_top_of_the_next_page_joins_a_numbered_row_but_never_the_header():
    from services.intake.mail.pdf_form import _Cell, _merged, _Table

    def row(*texts: str) -> list[_Cell]:
        return [_Cell(0.0, 100.0, [line(text, 50.0)] if text else []) for text in texts]

    header = row("Lp.", "Propozycja zmiany", "Uzasadnienie")
    first = _Table(0, (10.0, 40.0, 200.0), [header, row("1.", "Dopisać", "Bo")])
    going_on = _Table(1, (10.0, 40.0, 200.0), [header, row("", "pkt 5.", "tak.")])
    (table,) = _merged([first, going_on])
    assert [_texts(r) for r in table.rows] == [["Lp.", "Propozycja zmiany", "Uzasadnienie"],
                                                ["1.", "Dopisać pkt 5.", "Bo tak."]]
    # the page broke right under the header: an unnumbered first row is a row of its own, not the header's end
    only_header = _Table(0, (10.0, 40.0, 200.0), [row("Lp.", "Propozycja zmiany", "Uzasadnienie")])
    rows_next = _Table(1, (10.0, 40.0, 200.0), [row("", "Dopisać pkt 5.", "Bo tak.")])
    (table,) = _merged([only_header, rows_next])
    assert [_texts(r) for r in table.rows] == [["Lp.", "Propozycja zmiany", "Uzasadnienie"],
                                                ["", "Dopisać pkt 5.", "Bo tak."]]


@pytest.mark.parametrize("name", ["form-a-toruń.pdf", "city-form-filled.pdf"])
def test_a_pdf_form_with_a_few_damaged_bytes_gives_rows_or_no_form_never_an_error(name):
    """A few bytes changed in place (a bad download, a mail gateway): pdfminer often still reads the file, and the
    table reader then meets broken streams, fonts or lines; it gives the rows it can, or no form."""
    import random

    data = (CORPUS / name).read_bytes()
    chance = random.Random(zlib.crc32(name.encode()))  # repeatable in every process
    outcomes = []
    for _ in range(6):  # both outcomes come within six; test_container_fuzz.py damages the same files at random too
        damaged = bytearray(data)
        for _flip in range(chance.randint(1, 8)):
            damaged[chance.randrange(len(damaged))] = chance.randrange(256)
        form = read_form(name, "application/pdf", bytes(damaged))
        outcomes.append(None if form is None else len(form.rows))
    assert set(outcomes) - {None} and None in outcomes, outcomes  # both kinds happened: the test reaches the reader


def test_text_typed_onto_a_pdf_is_read_where_it_lies_as_tikas_tests_expect():
    """A text box (FreeText) in Tika's testAnnotations.pdf ("Here is a comment", as PDFParserTest.testAnnotations
    expects) and a filled text field in its testPDF_acroform3.pdf ("TIKA-1226")."""
    import pdfplumber

    from services.intake.mail.pdf_form import _typed_on

    for path, expected in ((CORPUS / "pdf" / "testAnnotations.pdf", ["Here is a comment"]),
                           (CORPUS / "doc" / "testPDF_acroform3.pdf", ["TIKA-1226"])):
        with pdfplumber.open(path) as pdf:
            assert [typed.text for page in pdf.pages for typed in _typed_on(page)] == expected


def test_a_form_filled_with_text_boxes_laid_over_its_cells_gives_the_row():
    """The city's form as a PDF without fields, filled as macOS Preview and Fill & Sign do (corpus, make_corpus.py):
    the words are in FreeText annotations, one over each cell; "§" is a PDFDocEncoding byte there."""
    form = read_form("formularz.pdf", "application/pdf", (CORPUS / "city-form-text-boxes.pdf").read_bytes())
    assert form is not None
    assert [(r.section, r.current_text, r.proposal, r.justification) for r in form.rows] == [(
        "§ 6 ust. 1 pkt 5", "działalności na rzecz osób w wieku emerytalnym;",
        "działalności na rzecz osób w wieku emerytalnym, w tym przeciwdziałania samotności seniorów;",
        "Coraz więcej starszych mieszkańców żyje samotnie.")]
    # the sender's name and address typed over the details table's cells
    assert (form.submitter.name, form.submitter.email) == ("Halina Dąbrowska", "h.dabrowska@example.org")


def test_a_text_box_beside_a_printed_label_outside_the_table_completes_that_line():
    """A form that asks "Imię i nazwisko:" in its text, not in a table: the box typed after the label is its value."""
    content = drawn_table([[b"Propozycja zmiany", b"Uzasadnienie"], [b"Nowy zapis", b"Bo jasniej"]]) + \
        b"\nBT /F1 10 Tf 20 280 Td (Imie i nazwisko:) Tj ET\nBT /F1 10 Tf 20 265 Td (Telefon:) Tj ET"
    boxes = (b"<< /Type /Annot /Subtype /FreeText /Contents (Anna Nowak) /Rect [110 276 300 292] /DA (/Helv 10 Tf) >> "
             b"<< /Type /Annot /Subtype /FreeText /Contents (Dopisek na marginesie) /Rect [20 5 200 20] >>")
    data = one_page_pdf(content, annots=boxes)
    assert pdf_form.read_in_child(data)["paragraphs"] == ["Imie i nazwisko: Anna Nowak", "Telefon:",
                                                          "Dopisek na marginesie"]
    form = read_form("x.pdf", "application/pdf", data)
    assert form is not None and form.submitter.name == "Anna Nowak"


def test_a_filled_field_inside_a_cell_is_that_cells_text():
    table = drawn_table([[b"Propozycja zmiany", b"Uzasadnienie"], [b"", b""]])
    fields = (b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (p1) /V (Nowy zapis) /Rect [25 180 165 215] >> "
              b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (u1) /V <FEFF0042006F0020006A0061015B006E00690065006A> "
              b"/Rect [175 180 315 215] >>")
    form = read_form("x.pdf", "application/pdf", one_page_pdf(table, annots=fields))
    assert form is not None and [(r.proposal, r.justification) for r in form.rows] == [("Nowy zapis", "Bo jaśniej")]


def test_a_text_box_of_several_lines_reads_as_one_text_and_leaves_the_printed_paragraphs_alone():
    """A box's lines lie a thousandth of a point apart in the cell: they must not set the table's line distance."""
    table = drawn_table([[b"Propozycja zmiany", b"Uzasadnienie"], [b"", b""]])
    box = (b"<< /Type /Annot /Subtype /FreeText /Contents (Dopisac punkt 5\\nw paragrafie 6.) "
           b"/Rect [25 180 165 215] >>")
    form = read_form("x.pdf", "application/pdf", one_page_pdf(table, annots=box))
    assert form is not None and form.rows[0].proposal == "Dopisac punkt 5 w paragrafie 6."


def test_a_long_form_over_many_pages_gives_every_comment_once_and_whole():
    """120 comments over Writer's pages, a row broken at nearly every page's foot (corpus, make_corpus.py)."""
    pdf = read_form("uwagi.pdf", "application/pdf", (CORPUS / "city-form-long.pdf").read_bytes())
    assert pdf is not None and len(pdf.rows) == 120
    assert pdf == read_form("uwagi.docx", "", (CORPUS / "city-form-long.docx").read_bytes())
    assert [row.proposal.split(":")[0] for row in pdf.rows] == [f"Dopisać punkt {n}" for n in range(1, 121)]
    assert all(row.justification == "Tak będzie jaśniej dla mieszkańców i organizacji, które korzystają z programu."
               for row in pdf.rows)


def test_a_comment_whose_words_start_like_a_header_still_takes_its_end_from_the_next_page():
    from services.intake.mail.pdf_form import _Cell, _merged, _Table

    def row(*texts: str) -> list[_Cell]:
        return [_Cell(0.0, 100.0, [line(text, 50.0)] if text else []) for text in texts]

    header = row("Lp.", "Propozycja zmiany", "Uzasadnienie")
    first = _Table(0, (10.0, 40.0, 200.0), [header, row("1.", "Dopisać", "Bo"),
                                            row("2.", "Propozycja zmiany brzmienia", "Uzasadnienie: bo")])
    going_on = _Table(1, (10.0, 40.0, 200.0), [header, row("", "§ 5.", "tak jest jaśniej.")])
    (table,) = _merged([first, going_on])
    assert [_texts(r) for r in table.rows][-1] == ["2.", "Propozycja zmiany brzmienia § 5.",
                                                   "Uzasadnienie: bo tak jest jaśniej."]
