"""The text of a letter attached instead of the form: LibreOffice's own DOCX, ODT and PDF of a real comment
(tests/corpus/mail/SOURCES.md), Word's style numbering, and PDFs that give no text rather than an error."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest
from docx import Document
from pypdf import PdfReader, PdfWriter

from services.intake.mail.letter import MAX_CHARS, letter_text
from services.intake.mail.pdf_form import is_pdf
from services.intake.mail.parse import repaired_polish
from services.intake.mail.suggest import suggested_rows
from tests.support.mime_shapes import nested_multiparts
from tests.unit.intake_mail.conftest import CORPUS

CURRENT = ("Prezydent Miasta Torunia podejmuje ostateczną decyzję w sprawie wyboru ofert i wysokości dotacji w oparciu "
           "o przedłożone przez Komisje oceny i propozycje kwot dotacji")
PROPOSAL = "Prezydent Miasta Torunia zatwierdza rekomendowane do współfinansowania przedsięwzięcia"


@pytest.mark.parametrize("kind", ["docx", "odt", "pdf", "doc"])
def test_the_letter_as_libreoffice_writes_it_reads_as_its_paragraphs_in_order(kind):
    text = letter_text(kind, (CORPUS / f"letter-federacja-torun.{kind}").read_bytes())
    paragraphs = text.split("\n\n")
    # read from the letter: sender, date, addressee, title, introduction, two points, closing
    assert paragraphs[0] == "Kujawsko-Pomorska Federacja Organizacji Pozarządowych"
    assert paragraphs[1] == "Toruń, 8 września 2011 r."
    assert "Uwagi do projektu Programu Współpracy Gminy Miasta Toruń w 2012 roku z organizacjami pozarządowymi" \
        in paragraphs
    first = next(p for p in paragraphs if "§ 12 ust. 19" in p)
    # the number as the PDF printed from the same document shows it
    assert first.startswith("1. Rozdział VI")
    assert f"„{CURRENT}”" in " ".join(first.split())
    assert paragraphs[-2:] == ["Z poważaniem", "Prezes Zarządu"]
    assert text.index("§ 12 ust. 19") < text.index("§ 5 ust. 2") < text.index("Uzasadnienie:")


@pytest.mark.parametrize("kind", ["docx", "odt", "pdf", "doc"])
def test_the_rows_suggested_from_the_letter_are_what_a_clerk_reads_in_it(kind):
    rows = suggested_rows(letter_text(kind, (CORPUS / f"letter-federacja-torun.{kind}").read_bytes()))
    assert [(r.section, r.current_text, r.proposal) for r in rows][0] == ("Rozdział VI § 12 ust. 19", CURRENT, PROPOSAL)
    assert rows[1].section == "§ 5 ust. 2" and rows[1].current_text == ""
    assert rows[1].proposal.startswith("§ 5 ust. 2 – proponujemy dopisać nowy punkt: „tworzenie warunków")
    assert rows[1].justification.startswith("zwiększanie świadomości") and len(rows) == 2


def test_word_numbering_from_a_style_numbers_the_points_and_a_table_row_is_one_line():
    document = Document()
    document.add_paragraph("Uwagi stowarzyszenia:")
    document.add_paragraph("w § 5 ust. 2 dopisać pkt 7", style="List Number")
    document.add_paragraph("w § 9 skreślić ust. 3", style="List Number")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Osoba do kontaktu", "Anna Nowak"
    data = io.BytesIO()
    document.save(data)
    assert letter_text("docx", data.getvalue()).split("\n\n") == [
        "Uwagi stowarzyszenia:", "1. w § 5 ust. 2 dopisać pkt 7", "2. w § 9 skreślić ust. 3",
        "Osoba do kontaktu | Anna Nowak"]


@pytest.mark.parametrize("name", ["testWORD_numbered_list.docx", "testWORD_override_list_numbering.docx"])
def test_a_letters_points_carry_the_numbers_word_shows(name):
    """Word's own files from Apache Tika's tests, against the numbers Tika's tests expect for them; a table's
    row is one line, its cells' lists with their numbers, counted with the document's."""
    from tests.unit.documents_engine.test_word_files import CORPUS as WORD, NUMBERED_LIST, OVERRIDE_LIST

    expected = NUMBERED_LIST if name == "testWORD_numbered_list.docx" else OVERRIDE_LIST
    blocks = letter_text("docx", (WORD / name).read_bytes()).split("\n\n")
    rows = [cell for block in blocks if " | " in block for cell in block.split(" | ")]
    missing = [number for number in expected if not any(block.startswith(number) for block in blocks)
               and not any(number in cell for cell in rows)]
    assert missing == []
    if name == "testWORD_numbered_list.docx":  # LibreOffice shows the cell's middle item, which Tika's test skips
        assert "Intervening table | 1. Within cell 1 a. Cell a b. Cell b" in blocks


ODT_LISTS = CORPUS / "odt"
# Where LibreOffice's number differs and why: an English ordinal (Word's `ordinal` format: a Polish document shows
# "1."), the glyph of a bullet, and zero in the "01, 02, …" format (LibreOffice pads only 1–9; Word shows "00", as
# Tika's test expects of the DOCX), and Word's "%1..%2" label, whose second dot LibreOffice's text drops while its
# own `loext:num-list-format` keeps it (Word and Tika show "01..1")
ODT_KNOWN_DIFFERENCES = {"1st": "1", "1st.1": "1.1", "1st.2": "1.2", "1st.2.1someText": "1.2.1someText",
                         "1st.2.2someText": "1.2.2someText", "1st.2.2someOtherText.1": "1.2.2someOtherText.1",
                         "1st.2.3someText": "1.2.3someText", "1st.3": "1.3", "2nd": "2", "3rd": "3", "4th": "4",
                         "5th": "5", "◦": "•", "0 00": "00", "01.1 01..1": "01..1"}  # by label, or whole line


@pytest.mark.parametrize("name", ["testWORD_numbered_list", "testWORD_override_list_numbering"])
def test_an_odt_letters_points_carry_the_numbers_libreoffice_shows(name):
    """Word's lists saved as ODT by LibreOffice, against LibreOffice's own text of the same file; a table's row
    is one line in a letter (its cells' lists keep their numbers). LibreOffice's text leaves out the text box and
    the footnotes, which a letter reads after the box's paragraph and after the text, as it reads the DOCX."""
    oracle = [line.strip() for line in (ODT_LISTS / f"{name}.libreoffice.txt").read_text("utf-8-sig").splitlines()]
    ours = letter_text("odt", (ODT_LISTS / f"{name}.odt").read_bytes()).split("\n\n")
    if name == "testWORD_numbered_list":
        text_box = ["I’m a little text box", "1. Short", "2. Stout", "a. 2 a", "i. 2 a i"]
        footnotes = ["Footnote list", "1. Footnote list 1", "2. Footnote list 2", "a. Footnote list 2a"]
        from tests.unit.documents_engine.test_word_files import CORPUS as WORD

        as_docx = letter_text("docx", (WORD / f"{name}.docx").read_bytes()).split("\n\n")
        for part in (text_box, footnotes):
            at = ours.index(part[0])
            assert ours[at:at + len(part)] == part == as_docx[as_docx.index(part[0]):][:len(part)]
            del ours[at:at + len(part)]
        # the table: its first cell's text, then its second cell's list
        cell_list = oracle[oracle.index("Intervening table") + 1:oracle.index("Intervening table") + 4]
        assert cell_list == ["1. Within cell 1", "a. Cell a", "b. Cell b"]
        row = "Intervening table | " + " ".join(cell_list)
        assert row in ours
        ours.remove(row)
    theirs = [line for line in oracle
              if line and line not in ("Intervening table", "1. Within cell 1", "a. Cell a", "b. Cell b", "1")]
    assert len(ours) == len(theirs)
    for our, their in zip(ours, theirs):
        label = their.split(" ")[0]
        assert our.split(" ")[0] == ODT_KNOWN_DIFFERENCES.get(their, ODT_KNOWN_DIFFERENCES.get(label, label)), (
            our, their)


def test_a_long_letter_is_cut_at_the_limit():
    document = Document()
    for number in range(3000):
        document.add_paragraph(f"Akapit {number}: " + "treść pisma " * 5)
    data = io.BytesIO()
    document.save(data)
    text = letter_text("docx", data.getvalue())
    assert len(text) == MAX_CHARS and text.startswith("Akapit 0:")


def _pdf_with_stream(content: bytes, *, filter_name: str = "") -> bytes:
    """A one-page PDF whose page content is `content` (already encoded by `filter_name`)."""
    flt = f"/Filter /{filter_name} " if filter_name else ""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               f"<< {flt}/Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def test_a_hand_made_pdf_gives_its_text():
    pdf = _pdf_with_stream(b"BT /F1 12 Tf 72 720 Td (W par. 5 ust. 2 dopisac pkt 7.) Tj ET")
    assert letter_text("pdf", pdf) == "W par. 5 ust. 2 dopisac pkt 7."


@pytest.mark.parametrize("data", [
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog",  # cut off after the first object
    b"%PDF-1.7\nnot a pdf at all\n%%EOF",
    _pdf_with_stream(b"BT /F1 12 Tf (unterminated", filter_name=""),
    _pdf_with_stream(b"\x00\x01garbage", filter_name="FlateDecode"),  # a stream that does not inflate
], ids=["truncated", "garbage", "broken-content", "bad-flate"])
def test_a_pdf_that_cannot_be_read_gives_no_text_and_no_error(data):
    assert letter_text("pdf", data) == ""


def test_a_pdf_whose_stream_inflates_past_pypdfs_limit_gives_no_text():
    bomb = zlib.compress(b" " * 120_000_000, 9)  # 120 MB of spaces in about 120 KB
    assert len(bomb) < 200_000
    assert letter_text("pdf", _pdf_with_stream(bomb, filter_name="FlateDecode")) == ""


def test_an_encrypted_pdf_gives_no_text_unless_it_opens_without_a_password():
    source = PdfReader(io.BytesIO((CORPUS / "letter-federacja-torun.pdf").read_bytes()))

    def encrypted(user_password: str) -> bytes:
        writer = PdfWriter()
        for page in source.pages:
            writer.add_page(page)
        writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    assert letter_text("pdf", encrypted("tajne")) == ""
    assert "Zmiana na:" in letter_text("pdf", encrypted(""))  # only printing is restricted: it opens for all


def test_a_scan_has_no_text_layer():
    assert letter_text("pdf", (CORPUS / "scan.pdf").read_bytes()) == ""


@pytest.mark.parametrize("kind,data", [("docx", b"PK\x03\x04 not a zip"), ("odt", b"PK\x05\x06" + b"\0" * 18),
                                       ("xlsx", b"PK"), (None, b"anything")])
def test_other_files_give_no_text(kind, data):
    assert letter_text(kind, data) == ""


def test_a_pdf_is_known_by_its_bytes():
    pdf = (CORPUS / "letter-federacja-torun.pdf").read_bytes()
    assert is_pdf(pdf) and is_pdf(b"\r\n" + pdf)  # some tools write a line before the header
    assert not is_pdf(b"PK\x03\x04") and not is_pdf(b"")


# A real PDF text layer with Polish letters misread: 9lib.org's text of a published commentary to art. 5a of the
# act on public benefit activity ("Program wspó³pracy z organizacjami pozarz¹dowymi…", document y6emv9m5, a PDF set
# with a font that names windows-1250 codes by Western glyphs), quoted as 9lib extracted it.
MISREAD_PDF_TEXT = (
    "4. Program wspó³pracy z organizacjami pozarz¹dowymi oraz podmiotami wymienionymi\n"
    "o dzia³alnoœci po¿ytku publicznego i o wolontariacie (tekst jedn.: Dz.U. z 2010 r. nr 234, poz. 1536 ze zm.)\n"
    "Art. 5a. 1. Organ stanowi¹cy jednostki samorz¹du terytorialnego uchwala, po konsultacjach z organizacjami "
    "pozarz¹dowymi oraz podmiotami wymienio- nymi w art. 3 ust. 3, przeprowadzonych w sposób okreœlony w art. 5 "
    "ust. 5, roczny program wspó³pracy\n"
    "3. Organ wykonawczy jednostki samorz¹du terytorialnego, nie póŸniej ni¿ do dnia 30 kwietnia ka¿dego roku, jest "
    "obowi¹zany przed³o¿yæ organowi stano- wi¹cemu\n"
    "* Dr Jakub Kosowski – prawnik, adiunkt w Katedrze Postêpo")


def test_a_text_layer_with_polish_letters_misread_as_western_symbols_is_repaired():
    # what the commentary says, read in the published text
    assert repaired_polish(MISREAD_PDF_TEXT) == (
        "4. Program współpracy z organizacjami pozarządowymi oraz podmiotami wymienionymi\n"
        "o działalności pożytku publicznego i o wolontariacie (tekst jedn.: Dz.U. z 2010 r. nr 234, poz. 1536 ze zm.)\n"
        "Art. 5a. 1. Organ stanowiący jednostki samorządu terytorialnego uchwala, po konsultacjach z organizacjami "
        "pozarządowymi oraz podmiotami wymienio- nymi w art. 3 ust. 3, przeprowadzonych w sposób określony w art. 5 "
        "ust. 5, roczny program współpracy\n"
        "3. Organ wykonawczy jednostki samorządu terytorialnego, nie później niż do dnia 30 kwietnia każdego roku, jest "
        "obowiązany przedłożyć organowi stano- wiącemu\n"
        "* Dr Jakub Kosowski – prawnik, adiunkt w Katedrze Postępo")


@pytest.mark.parametrize("text", [
    "Program współpracy z organizacjami pozarządowymi na 2025 r.",  # right already
    "Sala o kubaturze 1000 m³, koszt ± 5%",  # one symbol, a Western text
    "¿Qué? Une sœur, une fête.",  # Spanish and French
])
def test_text_that_is_not_misread_polish_stays_as_it_is(text):
    assert repaired_polish(text) == text


@pytest.mark.parametrize("data,text", [
    ("école (00E9)\r\neuro : € (20AC)".encode(), "école (00E9)\neuro : € (20AC)"),  # UTF-8, as Tika's pj1.txt
    ("\ufeffUwagi do § 5".encode(), "Uwagi do § 5"),  # Notepad's UTF-8 with a BOM
    ("Uwagi do programu współpracy".encode("cp1250"), "Uwagi do programu współpracy"),  # an old Notepad
    (b"\x00\x01\x02binary", ""),
], ids=["utf-8", "bom", "cp1250", "binary"])
def test_a_text_file_is_a_letter_in_its_charset(data, text):
    assert letter_text("txt", data) == text


def test_what_was_typed_into_a_fillable_pdf_form_is_part_of_its_text():
    """Tika's PDFParserTest.testSignatureInAcroForm: testPDF_acroform3.pdf gives "aTextField: TIKA-1226" (its box,
    choices and signature field are there too: a ticked box says so, an unsigned signature field says nothing)."""
    text = letter_text("pdf", (CORPUS / "doc" / "testPDF_acroform3.pdf").read_bytes())
    assert "Example PDF file that contains a form with a signature field." in text
    lines = text.splitlines()
    assert "aTextField: TIKA-1226" in lines and "aCheckBox: Yes" in lines
    assert not any(line.startswith("aSignature") for line in lines)


def test_an_odt_claiming_a_billion_spaces_gives_a_bounded_text():
    """<text:s text:c="999999999"/> is a space repeated as the file says: at most 100 are made (a billion was a
    gigabyte string before a line's spaces were collapsed), so the paragraph reads as its words."""
    import zipfile as zip_module

    content = ('<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
               'office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
               '<text:p>§ 5<text:s text:c="999999999"/>dopisać</text:p></office:text></office:body>'
               '</office:document-content>')
    out = io.BytesIO()
    with zip_module.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", content)
    assert letter_text("odt", out.getvalue()) == "§ 5 dopisać"
    from lxml import etree

    from services.intake.mail.annotations import odf_spaces

    space = etree.fromstring('<s xmlns="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
                             'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" text:c="999999999"/>')
    assert odf_spaces(space) == " " * 100


DOCX = CORPUS / "docx"  # Word's own files from Apache Tika's tests (docx/SOURCES.md)


def read_docx(name: str) -> str:
    return letter_text("docx", (DOCX / name).read_bytes())


@pytest.mark.parametrize("name", ["testAltChunkHTML.docx", "testAltChunkMHT.docx"])
def test_a_document_word_imports_whole_from_html_or_mht_gives_that_text(name):
    assert "Example of a table" in read_docx(name)  # as Tika's OOXMLDocxSAXPackageTest expects


def test_an_imported_web_archive_with_a_content_type_longer_than_any_writers_is_left_unread():
    """The standard library takes seconds to parse a Content-Type of tens of kilobytes: the chunk is skipped."""
    source = zipfile.ZipFile(io.BytesIO((DOCX / "testAltChunkMHT.docx").read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/htmlDoc.mht":
                data = data.replace(b'type="text/html";', b'type="text/html";' + b"\r\n\tx-a=b;" * 8000, 1)
            target.writestr(item, data)
    text = letter_text("docx", out.getvalue())
    assert "Example of a table" not in text


def test_an_imported_web_archive_nested_thousands_deep_is_left_unread():
    """The standard library's parser recursed once per level and raised RecursionError out of letter_text."""
    source = zipfile.ZipFile(io.BytesIO((DOCX / "testAltChunkMHT.docx").read_bytes()))
    nested = nested_multiparts(3000)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, b"MIME-Version: 1.0\r\n" + nested if item.filename == "word/htmlDoc.mht"
                            else source.read(item))
    assert "Example of a table" not in letter_text("docx", out.getvalue())


def test_text_boxes_in_the_body_header_and_footer_are_read_once_each():
    text = read_docx("testWORD_text_box.docx")
    for sentence in ("This text is directly in the body of the document.",
                     "This text is inside of a text box in the body of the document.",
                     "This text is inside of a text box in the header of the document.",
                     "This text is inside of a text box in the footer of the document."):
        assert text.count(sentence) == 1, sentence
    assert text.index("in the header") < text.index("directly in the body") < text.index("in the footer")


def test_a_content_control_inside_a_text_box_is_read_once():
    assert read_docx("testWORD_sdtInTextBox.docx").count("inside-text") == 1  # Tika's testSDTInTextBox


def test_a_table_anchored_inside_a_paragraph_is_read_as_rows_once():
    text = read_docx("testWORD_tableInRunInsideParagraph.docx")
    assert text.count("accusam et justo duo | AAAA") == 1 and text.count("AAAA") == 1


def test_words_various_parts_are_read_as_tika_expects():
    text = read_docx("testWORD_various.docx")
    for expected in ("This is the header text.", "This is the footer text.", "Here is a text box",
                     "This is a footnote.", "Footnote appears here", "Here is a citation:", "(Kramer)",
                     "Figure 1 This is a caption for Figure 1", "This is a hyperlink", "Here is a list:",
                     "• Bullet 1", "Row 1 Col 1 | Row 1 Col 2 | Row 1 Col 3", "Row 2 Col 1 | Row 2 Col 2 | Row 2 Col 3"):
        assert expected in text, expected
    assert text.count("Here is a text box") == 1
    assert text.startswith("This is the header text.") and text.endswith("This is the footer text.")


def test_an_ngos_letterhead_in_the_page_header_names_the_organisation():
    """NGOs write on a letterhead template, whose name and address sit in the page header, not the body."""
    from services.intake.mail.suggest import suggested_organisation

    document = Document()
    header = document.sections[0].header
    header.paragraphs[0].text = "Stowarzyszenie Przyjaciół Torunia"
    header.add_paragraph("ul. Szeroka 12, 87-100 Toruń, KRS 0000123456")
    document.add_paragraph("Toruń, 20 października 2024 r.")
    document.add_paragraph("Uwagi do projektu Programu Współpracy")
    document.add_paragraph("1. § 5 ust. 2 – proponujemy dopisać nowy punkt: „wspieranie wolontariatu”.")
    out = io.BytesIO()
    document.save(out)
    text = letter_text("docx", out.getvalue())
    assert text.split("\n\n")[:2] == ["Stowarzyszenie Przyjaciół Torunia", "ul. Szeroka 12, 87-100 Toruń, KRS 0000123456"]
    assert suggested_organisation(text) == "Stowarzyszenie Przyjaciół Torunia"


@pytest.mark.parametrize("kind,part", [("odt", "styles.xml"), ("docx", "word/numbering.xml")])
def test_a_broken_list_definition_costs_the_numbers_not_the_letter(kind, part):
    source = (CORPUS / f"letter-federacja-torun.{kind}").read_bytes()
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as original, zipfile.ZipFile(broken, "w") as target:
        for item in original.infolist():
            target.writestr(item, b"<not xml" if item.filename == part else original.read(item))
    text = letter_text(kind, broken.getvalue())
    assert "• Rozdział VI" in text and "§ 5 ust. 2" in text


def test_an_odt_letters_header_text_box_footnote_and_footer_are_read_as_a_docx_letters_are():
    """The page style's header (a letterhead) first and footer last, a text box after its paragraph, the notes after
    the text (tests/corpus/mail/odt/SOURCES.md: what Tika's tests expect of these files)."""
    blocks = letter_text("odt", (ODT_LISTS / "testWORD_various.odt").read_bytes()).split("\n\n")
    assert blocks[0] == "This is the header text." and blocks[-1] == "This is the footer text."
    assert blocks[-2] == "This is a footnote."
    assert blocks.index("Footnote appears here") < blocks.index("Here is a text box") < blocks.index(
        "Row 1 Col 1 | Row 1 Col 2 | Row 1 Col 3")
    assert letter_text("odt", (ODT_LISTS / "testFooter.odt").read_bytes()).split("\n\n") == [
        "Here is some text...", "Here is some text on page 2", "Here is footer text"]


PDF = CORPUS / "pdf"


def test_a_pdf_letters_running_header_and_page_numbers_are_not_its_text_and_a_cut_paragraph_is_whole():
    """tests/corpus/mail/pdf/SOURCES.md: real programmes printed with a running header and "Strona X z Y"."""
    blocks = [" ".join(block.split()) for block in
              letter_text("pdf", (PDF / "programy-wspolpracy-naglowek-stopka.pdf").read_bytes()).split("\n\n")]
    assert blocks[0] == "Programy współpracy z organizacjami pozarządowymi – wybór"
    assert blocks.count(blocks[0]) == 1 and not [block for block in blocks if block.startswith("Strona ")]
    # page 2 ends inside this sentence of the source text, page 3 goes on with it
    katowice = next(line for line in (CORPUS.parent / "drafting" / "program-katowice-2010.txt").read_text("utf-8")
                    .splitlines() if "Rada Miasta Katowice przyjmując niniejszy dokument" in line)
    sentence = " ".join(katowice[katowice.index("Rada Miasta Katowice przyjmując"):].split())
    assert sentence.endswith("nieustannie się rozwijała.") and any(block.endswith(sentence) for block in blocks)
    # 46 of the three programmes' 49 paragraphs come out whole (43 when only a short last line ended a paragraph,
    # 44 with the fit test, 46 with the space after a paragraph read from the page)
    assert sum(paragraph in blocks for paragraph in _paragraphs_of(
        "program-gorzow-2015", "program-katowice-2010", "program-czerwionka-2016")) >= 46


def test_a_pdf_line_ends_its_paragraph_where_the_next_word_would_have_fitted_or_a_point_opens():
    from services.intake.mail.letter import _pdf_paragraphs

    full, long = "x" * 60, "x" * 45  # 45 is not short of 60 (0.7 × 60 = 42)
    assert _pdf_paragraphs("\n".join([full, long, "dalej"])) == f"{full} {long}\n\ndalej"  # 45+1+5 < 0.9 × 60
    assert _pdf_paragraphs("\n".join([full, long, "kontynuacja"])) == f"{full} {long} kontynuacja"  # 57: no room
    sentence = "x" * 48 + "."
    assert _pdf_paragraphs("\n".join([full, sentence, "Dalej"])) == f"{full} {sentence}\n\nDalej"  # 55 < 0.95 × 60
    assert _pdf_paragraphs("\n".join([full, sentence, "dalej"])) == f"{full} {sentence} dalej"  # 55 > 0.9 × 60
    assert _pdf_paragraphs("\n".join([full, "ROZDZIAŁ PIERWSZY WSTĘPNY I OGÓLNY PRZEPISY", "NA 2026"])) == (
        f"{full}\n\nROZDZIAŁ PIERWSZY WSTĘPNY I OGÓLNY PRZEPISY NA 2026")  # capitals: no fit test
    wrapped = "o którym mowa w " + "x" * 42  # 58 characters
    assert _pdf_paragraphs("\n".join([full, "a) pierwsza", "Art. 7", wrapped, "art. 3 ustawy"])) == (
        f"{full}\n\na) pierwsza\n\nArt. 7\n\n{wrapped} art. 3 ustawy")  # "art." in a sentence opens nothing
    cited = "Proponujemy zmienić zapis zawarty w " + "x" * 22  # 58 characters, a sentence going on
    assert _pdf_paragraphs("\n".join([full, cited, "§ 5 ust. 2 programu.", "§ 6. Nowy."])) == (
        f"{full} {cited} § 5 ust. 2 programu.\n\n§ 6. Nowy.")  # a cited § goes on, a § after a sentence opens
    assert _pdf_paragraphs("\n".join([full, "Proponujemy zmienić zapis zawarty w § 5 " + "x" * 14 + " ust.",
                                       "2. programu."])).count("\n") == 0  # "ust." / "2." is one citation
    orphan = "Proponujemy dopisać nowy punkt do zapisu zawartego"  # 50 characters
    assert _pdf_paragraphs("\n".join([full, orphan, "w § 5 ust. 2."])) == f"{full} {orphan} w § 5 ust. 2."  # "w § 5"
    assert _pdf_paragraphs("\n".join([full, orphan, "to nowy akapit."])) == f"{full} {orphan}\n\nto nowy akapit."
    assert _pdf_paragraphs("\n".join([full, "Rozdział 1", "Postanowienia ogólne", "§ 1. Treść."])) == (
        f"{full}\n\nRozdział 1\n\nPostanowienia ogólne\n\n§ 1. Treść.")
    point_a, point_b = "a. zajęcia " + "x" * 49, "b. zawody " + "x" * 50  # full lines: no length rule splits them
    colon = "Zadanie obejmuje " + "x" * 42 + ":"
    assert _pdf_paragraphs("\n".join([colon, point_a, point_b, "c. warsztaty."])) == (
        f"{colon}\n\n{point_a}\n\n{point_b}\n\nc. warsztaty.")
    assert _pdf_paragraphs("\n".join([colon, point_a, "c. warsztaty."])).count("\n") == 2  # c. does not follow a.
    assert _pdf_paragraphs("\n".join([full, "Na podstawie art. 18 ustawy z dnia 8 marca 1990 " + "x" * 11,
                                       "r. o samorządzie gminnym"])).count("\n") == 0  # "r." is no point


def _paragraphs_of(*names: str) -> list[str]:
    """The paragraphs of drafting corpus texts (one a line, as published), spaces normalised."""
    return [" ".join(line.split()) for name in names
            for line in (CORPUS.parent / "drafting" / f"{name}.txt").read_text("utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("layout,at_least", [("typed-lo", 474), ("onehalf-lo", 470)])
def test_a_pdfs_lines_come_together_as_the_paragraphs_the_text_was_written_in(layout, at_least):
    """24 public texts as LibreOffice prints them to PDF (pdf/SOURCES.md): a paragraph ends where the space above
    a line is a step wider than its neighbours' (the space after a paragraph), where its last line ends short,
    where the next word would have fitted on its line, or where the next line opens a point.
    `typed-lo` (6 pt after a paragraph): 474 of 483 paragraphs come out whole (the short last line alone: 432;
    with "a)" and "Art. 7" opening points: 445; with the fit test: 466; with points lettered "a.", "b.", "c." in
    their sequence: 468; with the space after a paragraph: 474). `onehalf-lo` (lines 1.5 apart, nothing after a
    paragraph, long paragraphs justified, as offices set official texts): 470 (468 without the page's geometry,
    which here says only where a paragraph set single-spaced meets one set at 1.5)."""
    whole = total = 0
    for pdf in sorted((PDF / layout).glob("*.pdf")):
        blocks = {" ".join(block.split()) for block in letter_text("pdf", pdf.read_bytes()).split("\n\n")}
        expected = _paragraphs_of(pdf.stem)
        found = sum(paragraph in blocks for paragraph in expected)
        assert found >= 0.75 * len(expected), (pdf.name, found, len(expected))
        whole, total = whole + found, total + len(expected)
    assert total == 483 and whole >= at_least


def test_words_pdf_header_and_footer_on_each_page_are_read_once():
    """Word's own PDF of Tika's testWORD_various (pdf/SOURCES.md): Word writes the header and footer first."""
    blocks = letter_text("pdf", (PDF / "testPDFVarious.pdf").read_bytes()).split("\n\n")
    assert blocks.count("This is the header text.") == 1 and blocks.count("This is the footer text.") == 1


def test_what_only_looks_like_page_furniture_stays_text():
    """A point's label at the top of pages, an equation's number at their foot, numbers that do not count with the
    pages: text. One page: nothing is furniture."""
    from services.intake.mail.letter import _without_page_furniture

    pages = [["Uwagi Stowarzyszenia", "1. Zmiana w § 5", "treść"], ["Uzasadnienie:", "dalsza treść", "(3)"],
             ["Uzasadnienie:", "kolejna treść", "(3)", "12"], ["Uzasadnienie:", "ostatnia treść", "(3)", "12"]]
    header, body, footer = _without_page_furniture(pages)
    assert (header, footer) == ([], []) and body == [line for lines in pages for line in lines]
    assert _without_page_furniture([["Strona 1 z 1", "Treść"]]) == ([], ["Strona 1 z 1", "Treść"], [])
