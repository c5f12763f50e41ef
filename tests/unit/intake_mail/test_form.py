"""Filled comment forms (DOCX, ODT) to comment rows: the table found by its header wording, hostile files refused."""

from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document

from services.intake.mail.form import (FormUnreadable, assemble, classify_header, read_form, rows_from_grid,
                                       rows_from_vertical_grid)
from tests.unit.intake_mail.conftest import CORPUS

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"


def docx_with(table_rows: list[list[str]], *, before: list[str] = (), after: list[str] = (),
              title_row: str | None = None) -> bytes:
    document = Document()
    for text in before:
        document.add_paragraph(text)
    columns = max(len(r) for r in table_rows)
    table = document.add_table(rows=0, cols=columns)
    if title_row is not None:
        cells = table.add_row().cells
        merged = cells[0].merge(cells[-1])
        merged.text = title_row
    for values in table_rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values):
            cell.text = text
    for text in after:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("header,field", [
    ("Część dokumentu, do którego odnosi się uwaga", "section"),
    ("Część dokumentu, do którego odnosi się uwaga (rozdział, paragraf, ustęp, punkt)", "section"),
    ("CZĘŚĆ DOKUMENTU DO KTÓREJ ODNOSI SIĘ UWAGA", "section"),
    ("Zapis w projekcie", "current_text"),
    ("Obecny zapis", "current_text"),
    ("Treść uwagi", "comment"),
    ("Propozycja zmiany", "proposal"),
    ("Propozycja zmiany (konkretny sugerowany zapis)", "proposal"),
    ("Proponowane brzmienie", "proposal"),
    ("Uzasadnienie zmiany", "justification"),
    ("Proponowana treść zapisu", "proposal"),  # names the provision, but proposes
    ("Propozycja zmiany zapisu w projekcie", "proposal"),
    ("Wnioskowana zmiana", "proposal"),
    ("Treść opinii/uwagi", "comment"),  # forms "zgłaszania opinii"
    ("Uzasadnienie", "justification"),
    ("Lp.", "number"),
    ("Imię i nazwisko", "submitter"),  # a column of who comments: never a comment column
    ("Podmiot wnoszący propozycję", "submitter"),
    ("Telefon", None),
    # the fields of a real e-consultation platform (estryszow.eu "ekonsultacje": "Wskaż miejsce", "Tekst aktualny
    # dokumentu", "Twoja propozycja zmiany", "Zgłoszone opinie oraz propozycje zmian"), as column headers
    ("Wskaż miejsce", "section"),
    ("Tekst aktualny dokumentu", "current_text"),
    ("Twoja propozycja zmiany", "proposal"),
    ("Propozycje zmian", "proposal"),
    # the same words inflected as headers inflect them
    ("Wskazanie zapisu w projekcie", "section"),
    ("Brzmienie zapisu w projekcie", "current_text"),
    ("Aktualna treść", "current_text"),
    ("Uzasadnienie propozycji", "justification"),
    # the word order of a two-row header read together ("Zapis" over "obecny"), and its lower cell alone
    ("Zapis obecny", "current_text"),
    ("Brzmienie dotychczasowe", "current_text"),
    ("obecny", "current_text"),
    ("Zapis proponowany", "proposal"),
    # a header that asks for the units by name asks where the comment belongs, whatever else it says
    ("Zapis w projekcie, do którego zgłaszane są uwagi (nr paragrafu, ustępu, punktu)", "section"),
    ("Zapis w projekcie programu, którego dotyczy uwaga (rozdział, paragraf)", "section"),
    ("Propozycja zmiany brzmienia paragrafu, ustępu", "proposal"),  # proposes first
    ("Uzasadnienie (paragraf, ustęp)", "justification"),
    ("Obecny zapis paragrafu", "current_text"),  # one unit word names what is quoted, not where
    # what the text becomes is proposed, whatever it is called
    ("Brzmienie zapisu po zmianie", "proposal"),
    ("Treść zapisu po zmianie", "proposal"),
    ("Opinia", "comment"),
    ("Opinia/uwaga", "comment"),
    ("Uwagi i opinie", "comment"),
    ("Zgłaszane uwagi", None),  # the city form's title row above its header, never a column
])
def test_header_wording_and_its_close_variants_name_their_column(header, field):
    assert classify_header(header) == field


def test_columns_in_any_order_with_an_extra_column_and_the_column_number_row():
    rows = rows_from_grid([
        ["Zgłaszane uwagi", "", "", "", "", ""],
        ["Uzasadnienie zmiany", "Lp.", "Propozycja zmiany", "Podpis", "Zapis w projekcie",
         "Część dokumentu, do którego odnosi się uwaga"],
        ["1", "2", "3", "4", "5", "6"],
        ["Bo tak.", "1", "Nowy zapis", "AN", "Stary zapis", "§ 1"],
        ["", "2", "", "", "", ""],
        ["", "3", "Drugi zapis", "", "", "§ 2"],
    ])
    assert [(r.section, r.current_text, r.proposal, r.justification) for r in rows] == [
        ("§ 1", "Stary zapis", "Nowy zapis", "Bo tak."), ("§ 2", "", "Drugi zapis", "")]


def test_units_cited_at_the_start_of_the_current_text_are_the_section_when_the_form_has_none():
    # A form whose one column for the place asks for "the provision the comment concerns": people write the
    # units, the wording, or both in it.
    rows = rows_from_grid([
        ["Lp.", "Zapis w projekcie, do którego zgłaszane są uwagi", "Proponowany zapis", "Uzasadnienie"],
        ["1", "§ 5 ust. 2 – „Program realizowany jest we współpracy z organizacjami.”", "Dopisać „i grupami”.",
         "Szerszy krąg."],
        ["2", "§ 9", "Kwota 9 500 000 zł.", "Inflacja."],
        ["3", "Rozdział III pkt 4 lit. b)\nkonsultowanie projektów aktów prawa miejscowego", "Skreślić.", ""],
        ["4", "Załącznik nr 1, rozdz. 2: Cele programu", "Nowy cel.", ""],
        ["5", "Punkt widzenia organizacji nie jest brany pod uwagę.", "Uwzględnić.", ""],
        ["6", "2) organizacje pozarządowe", "3) grupy nieformalne", ""],
    ])
    assert [(r.section, r.current_text) for r in rows] == [
        ("§ 5 ust. 2", "Program realizowany jest we współpracy z organizacjami."),
        ("§ 9", ""),
        ("Rozdział III pkt 4 lit. b)", "konsultowanie projektów aktów prawa miejscowego"),
        ("Załącznik nr 1, rozdz. 2", "Cele programu"),
        ("", "Punkt widzenia organizacji nie jest brany pod uwagę."),  # a unit word without its number
        ("", "2) organizacje pozarządowe"),  # the point's own number, no unit named
    ]
    assert rows[0].proposal == "Dopisać „i grupami”." and rows[0].justification == "Szerszy krąg."


def test_a_justification_written_after_its_label_in_the_comment_cell_is_the_justification():
    # A form with one column for the comment and its reasons ("Treść uwagi (wraz z uzasadnieniem)")
    rows = rows_from_grid([
        ["Lp.", "Część dokumentu", "Treść uwagi (wraz z uzasadnieniem)"],
        ["1", "§ 5 ust. 2", "Dopisać pkt 7: wsparcie wolontariatu. Uzasadnienie: brak takiej formy współpracy."],
        ["2", "§ 9", "Zwiększyć kwotę do 9 500 000 zł.\nUZASADNIENIE : inflacja."],
        ["3", "§ 10", "Zmienić uzasadnienie: projekt ma je za krótkie."],  # the word inside the sentence
        ["4", "§ 11", "Uzasadnienie: nic przed nim."],  # nothing proposed before it: the cell stays whole
    ])
    assert [(r.proposal, r.justification) for r in rows] == [
        ("Dopisać pkt 7: wsparcie wolontariatu.", "brak takiej formy współpracy."),
        ("Zwiększyć kwotę do 9 500 000 zł.", "inflacja."),
        ("Zmienić uzasadnienie: projekt ma je za krótkie.", ""),
        ("Uzasadnienie: nic przed nim.", ""),
    ]
    # a justification column filled in keeps the cell as written
    [row] = rows_from_grid([["Część dokumentu", "Propozycja zmiany", "Uzasadnienie"],
                            ["§ 5", "Dodać zdanie. Uzasadnienie: w tekście.", "W kolumnie."]])
    assert (row.proposal, row.justification) == ("Dodać zdanie. Uzasadnienie: w tekście.", "W kolumnie.")


def test_a_section_given_in_its_column_leaves_the_current_text_as_written():
    rows = rows_from_grid([
        ["Lp.", "Część dokumentu", "Obecny zapis", "Propozycja zmiany"],
        ["1", "§ 5", "§ 5 ust. 2 stanowi: „Program …”", "Nowe brzmienie."],
        ["2", "", "§ 7 ust. 1 – „Konkursy ogłasza Prezydent.”", "Dodać termin."],
    ])
    assert [(r.section, r.current_text) for r in rows] == [
        ("§ 5", "§ 5 ust. 2 stanowi: „Program …”"), ("§ 7 ust. 1", "Konkursy ogłasza Prezydent.")]


def test_a_cell_left_empty_with_a_dash_or_brak_is_empty_and_a_row_of_such_cells_is_no_comment():
    rows = rows_from_grid([
        ["Lp.", "Część dokumentu", "Obecny zapis", "Propozycja zmiany", "Uzasadnienie"],
        ["1", "§ 5 ust. 2", "-", "Dodać pkt 7: wsparcie wolontariatu.", "Brak."],
        ["2", "nie dotyczy", "—", "Nowy rozdział o seniorach.", "x"],
        ["3", "–", "brak", "n/d", "---"],
        ["4", "§ 1", "Bez zmian w pkt 1", "Xenia – dopisać", "-- patrz wyżej"],
    ])
    assert [(r.section, r.current_text, r.proposal, r.justification) for r in rows] == [
        ("§ 5 ust. 2", "", "Dodać pkt 7: wsparcie wolontariatu.", ""),
        ("", "", "Nowy rozdział o seniorach.", ""),
        ("§ 1", "Bez zmian w pkt 1", "Xenia – dopisać", "-- patrz wyżej"),
    ]


def test_the_governments_table_of_comments_with_who_comments_per_row():
    # The table a public guide to commenting on a draft regulation shows (polskapv.pl, "Jak złożyć uwagi do
    # projektu rozporządzenia"), its example rows as given; "Podmiot wnoszący propozycję" names who comments,
    # not the proposal, and "Treść uwagi i uzasadnienie" holds the reasoning.
    rows = rows_from_grid([
        ["Podmiot wnoszący propozycję", "Jednostka redakcyjna", "Treść uwagi i uzasadnienie", "Propozycja zmiany"],
        ["Fundacja Edukacja i Prawo", "§ 4 ust. 1", "W obecnym brzmieniu przepis może sugerować obowiązek, mimo że "
         "intencją wydaje się być jedynie zalecenie. Taki zapis może budzić wątpliwości interpretacyjne.",
         "Zmienić słowo „należy” na „można”"],
        ["Jan Kowalski", "Załącznik nr 2, tabela, wiersz 5", "Limit 10 kWh  jest zbyt niski, co ograniczy "
         "możliwości rozwoju.", "Podnieść limit do  30 kWh"],
    ])
    assert [(r.section, r.proposal, r.justification[:40]) for r in rows] == [
        ("§ 4 ust. 1", "Zmienić słowo „należy” na „można”", "W obecnym brzmieniu przepis może sugerow"),
        ("Załącznik nr 2, tabela, wiersz 5", "Podnieść limit do 30 kWh", "Limit 10 kWh jest zbyt niski, co ogranic"),
    ]


# The fields of a real one-comment-per-form consultation form (ankieta.deltapartner.org.pl, comments on the
# Strategia Rozwoju Subregionu Południowego 2021-2030: "Dla każdej zgłaszanej uwagi prosimy o ponowne wypełnienie
# całego formularza"), as a table down its first column.
_VERTICAL_LABELS = ["1. Część dokumentu Prognozy, do którego odnosi się uwaga (rozdział/ punkt/ strona)",
                    "2. Dotychczasowy zapis w Prognozie", "3. Proponowany zmieniony zapis", "4. Uzasadnienie uwagi",
                    "5. Imię i nazwisko/ nazwa podmiotu zgłaszającego uwagę"]


def test_a_form_laid_out_down_its_first_column_gives_one_comment_per_run_of_labels():
    one = [[_VERTICAL_LABELS[0], "rozdz. 4, s. 12"], [_VERTICAL_LABELS[1], "-"],
           [_VERTICAL_LABELS[2], "Dodać ocenę wpływu na małą retencję."], [_VERTICAL_LABELS[3], "Brak takiej oceny."],
           [_VERTICAL_LABELS[4], "Jan Kowalski"]]
    assert [(r.section, r.current_text, r.proposal, r.justification) for r in rows_from_vertical_grid(one)] == [
        ("rozdz. 4, s. 12", "", "Dodać ocenę wpływu na małą retencję.", "Brak takiej oceny.")]
    two = one[:4] + [[_VERTICAL_LABELS[0], "rozdz. 5"], [_VERTICAL_LABELS[2], "Skreślić akapit drugi.", ""]]
    assert [r.section for r in rows_from_vertical_grid(two)] == ["rozdz. 4, s. 12", "rozdz. 5"]
    assert rows_from_vertical_grid([["Imię i nazwisko", "Jan"], ["Uwagi", "Brak"]]) is None  # details, not a form


def test_a_docx_form_down_its_first_column_one_table_per_comment_with_the_submitter_in_another():
    document = Document()
    document.add_paragraph("FORMULARZ ZGŁASZANIA UWAG")
    for section, proposal in (("§ 5 ust. 2", "Dopisać pkt 7."), ("§ 8", "Zwiększyć kwotę do 9 mln zł.")):
        table = document.add_table(rows=0, cols=2)
        for label, value in ((_VERTICAL_LABELS[0], section), (_VERTICAL_LABELS[2], proposal),
                             (_VERTICAL_LABELS[3], "Potrzeby organizacji.")):
            cells = table.add_row().cells
            cells[0].text, cells[1].text = label, value
    details = document.add_table(rows=0, cols=2)
    for label, value in ((_VERTICAL_LABELS[4], "Fundacja Dialog"), ("Adres e-mail", "biuro@dialog.example.org")):
        cells = details.add_row().cells
        cells[0].text, cells[1].text = label, value
    buffer = io.BytesIO()
    document.save(buffer)
    form = read_form("uwagi.docx", DOCX, buffer.getvalue())
    assert [(r.section, r.proposal) for r in form.rows] == [("§ 5 ust. 2", "Dopisać pkt 7."),
                                                            ("§ 8", "Zwiększyć kwotę do 9 mln zł.")]
    assert form.submitter.email == "biuro@dialog.example.org"


def test_a_table_without_the_comment_headers_is_not_the_form():
    assert rows_from_grid([["Imię i nazwisko", "Anna"], ["E-mail", "a@example.org"]]) is None
    assert rows_from_grid([["Zapis w projekcie", "Nazwa"]]) is None  # no proposal column


def test_a_docx_form_with_a_merged_title_row_text_around_and_details_in_paragraphs():
    data = docx_with(
        [["Lp.", "Część dokumentu, do którego odnosi się uwaga", "Zapis w projekcie", "Propozycja zmiany",
          "Uzasadnienie zmiany"],
         ["1.", "§ 3 ust. 1", "Program obejmuje", "Program obejmuje także sport", "Sport jest ważny"],
         ["2.", "", "", "", ""]],
        before=["Imię i nazwisko: Jan Kowalski", "Nazwa organizacji: Klub Sportowy", "E-mail: jan@example.org",
                "Formularz zgłaszania uwag"],
        after=["Klauzula informacyjna RODO: administratorem danych jest Prezydent Miasta Torunia."],
        title_row="Uwagi do projektu")
    form = read_form("uwagi.docx", DOCX, data)
    assert [(r.section, r.current_text, r.proposal, r.justification) for r in form.rows] == [
        ("§ 3 ust. 1", "Program obejmuje", "Program obejmuje także sport", "Sport jest ważny")]
    assert (form.submitter.name, form.submitter.organization, form.submitter.email) == (
        "Jan Kowalski", "Klub Sportowy", "jan@example.org")


def test_a_header_set_in_two_rows_under_a_merged_cell_names_each_column():
    """"Zapis" merged over "obecny" | "proponowany", "Lp.", the section and "Uzasadnienie" merged down both rows,
    as Word's Merge Cells makes such a header (a layout built here, not from a real form in reach): before, no
    row alone named two columns with the proposal, so the form was not read at all."""
    document = Document()
    document.add_paragraph("Imię i nazwisko: Jan Kowalski")
    table = document.add_table(rows=4, cols=5)
    for column, text in enumerate(["Lp.", "Część dokumentu, do którego odnosi się uwaga", "Zapis", "", "Uzasadnienie"]):
        table.cell(0, column).text = text
    table.cell(1, 2).text, table.cell(1, 3).text = "obecny", "proponowany"
    table.cell(0, 2).merge(table.cell(0, 3))
    for column in (0, 1, 4):
        table.cell(0, column).merge(table.cell(1, column))
    for row, values in enumerate([["1", "§ 5 ust. 2", "Współpraca ma charakter finansowy.",
                                   "Współpraca ma charakter finansowy i pozafinansowy.", "Pełniejszy opis."],
                                  ["2", "§ 7", "", "Dodać pkt 5.", ""]], start=2):
        for column, text in enumerate(values):
            table.cell(row, column).text = text
    data = io.BytesIO()
    document.save(data)
    form = read_form("uwagi.docx", DOCX, data.getvalue())
    assert [(r.section, r.current_text, r.proposal, r.justification) for r in form.rows] == [
        ("§ 5 ust. 2", "Współpraca ma charakter finansowy.", "Współpraca ma charakter finansowy i pozafinansowy.",
         "Pełniejszy opis."), ("§ 7", "", "Dodać pkt 5.", "")]


def test_a_title_row_above_a_one_row_header_is_not_read_as_its_first_half():
    rows = rows_from_grid([["Uwagi do projektu programu", "", "", ""],
                           ["Lp.", "Część dokumentu", "Proponowany zapis", "Uzasadnienie"],
                           ["1", "§ 2", "Dopisać wolontariat.", "Brakuje go."]])
    assert [(r.section, r.proposal, r.justification) for r in rows] == [("§ 2", "Dopisać wolontariat.", "Brakuje go.")]


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W15_NS = "http://schemas.microsoft.com/office/word/2012/wordml"
PLACEHOLDER = "Kliknij lub naciśnij tutaj, aby wprowadzić tekst."  # Word's own, in its Polish interface


def _with_document_xml(data: bytes, change) -> bytes:
    """The DOCX with its word/document.xml passed through `change(root)`."""
    from lxml import etree

    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "word/document.xml":
                root = etree.fromstring(content)
                change(root)
                content = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            target.writestr(item, content)
    return out.getvalue()


def _control(child, *properties: str):
    """`<w:sdt>` around `child`, as Word's Developer tab makes a form field ("w:showingPlcHdr" while unfilled)."""
    from lxml import etree

    control = etree.Element(f"{{{W_NS}}}sdt", nsmap={"w": W_NS, "w15": W15_NS})
    settings = etree.SubElement(control, f"{{{W_NS}}}sdtPr")
    for name in properties:
        namespace = W15_NS if name.startswith("repeatingSection") else W_NS
        etree.SubElement(settings, f"{{{namespace}}}{name}")
    child.addprevious(control)
    etree.SubElement(control, f"{{{W_NS}}}sdtContent").append(child)
    return control


FORM_HEADER = ["Lp.", "Część dokumentu, do którego odnosi się uwaga", "Zapis w projekcie", "Propozycja zmiany",
               "Uzasadnienie zmiany"]


def test_a_form_made_of_content_controls_reads_its_values_and_never_their_placeholders():
    """A city's DOCX form with a content control in every cell and beside every detail label. Unfilled ones still
    show Word's placeholder, which is no value; cells set as cell-level controls keep their columns."""
    data = docx_with([FORM_HEADER, ["1.", "§ 3 ust. 1", PLACEHOLDER, "Program obejmuje także sport",
                                    "Sport jest ważny"], ["2.", PLACEHOLDER, PLACEHOLDER, PLACEHOLDER, PLACEHOLDER]],
                     before=["Imię i nazwisko: Jan Kowalski", f"Nazwa organizacji: {PLACEHOLDER}"])

    def controls(root):
        rows = root.findall(f".//{{{W_NS}}}tr")
        for row in rows[1:]:
            for cell in row.findall(f"{{{W_NS}}}tc"):
                for run in cell.iter(f"{{{W_NS}}}r"):
                    text = "".join(run.itertext())
                    _control(run, *(["showingPlcHdr"] if text == PLACEHOLDER else []))
        _control(rows[1].findall(f"{{{W_NS}}}tc")[0])  # a cell-level control: the cell inside the sdt
        for paragraph in root.findall(f"{{{W_NS}}}body/{{{W_NS}}}p"):
            for run in paragraph.findall(f"{{{W_NS}}}r"):
                if PLACEHOLDER in "".join(run.itertext()):
                    _control(run, "showingPlcHdr")

    form = read_form("uwagi.docx", DOCX, _with_document_xml(data, controls))
    assert [(r.section, r.current_text, r.proposal, r.justification) for r in form.rows] == [
        ("§ 3 ust. 1", "", "Program obejmuje także sport", "Sport jest ważny")]
    assert (form.submitter.name, form.submitter.organization) == ("Jan Kowalski", "")


def test_rows_added_in_a_repeating_section_are_read():
    """Word's repeating section content control (a form's "add another comment" button) wraps the rows it holds."""
    data = docx_with([FORM_HEADER, ["1.", "§ 2", "Stary zapis", "Nowy zapis", "Bo tak."],
                      ["2.", "§ 7 ust. 1", "", "Skreślić.", "Zbędny."]])

    def section(root):
        rows = root.findall(f".//{{{W_NS}}}tr")[1:]
        outer = _control(rows[0], "repeatingSection")
        content = outer.find(f"{{{W_NS}}}sdtContent")
        content.remove(rows[0])
        for row in rows:
            item = _control(row, "repeatingSectionItem", "showingPlcHdr")
            content.append(item)

    form = read_form("uwagi.docx", DOCX, _with_document_xml(data, section))
    assert [(r.section, r.proposal) for r in form.rows] == [("§ 2", "Nowy zapis"), ("§ 7 ust. 1", "Skreślić.")]


def test_text_in_a_text_box_is_read_once_not_again_from_words_fallback_copy():
    """Word writes a text box twice, as a drawing (mc:Choice) and as its VML fallback (mc:Fallback)."""
    from lxml import etree

    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    data = docx_with([FORM_HEADER, ["1.", "§ 4", "", "Dodać sport.", "Bo tak."]])

    def text_box(root):
        cell = root.findall(f".//{{{W_NS}}}tr")[1].findall(f"{{{W_NS}}}tc")[3]
        run = cell.find(f".//{{{W_NS}}}r")
        alternate = etree.SubElement(run, f"{{{mc}}}AlternateContent", nsmap={"mc": mc})
        for branch in ("Choice", "Fallback"):
            holder = etree.SubElement(alternate, f"{{{mc}}}{branch}")
            box = etree.SubElement(holder, f"{{{W_NS}}}txbxContent")
            paragraph = etree.SubElement(box, f"{{{W_NS}}}p")
            etree.SubElement(etree.SubElement(paragraph, f"{{{W_NS}}}r"), f"{{{W_NS}}}t").text = "Także turystykę."

    form = read_form("uwagi.docx", DOCX, _with_document_xml(data, text_box))
    assert [r.proposal for r in form.rows] == ["Dodać sport.\nTakże turystykę."]


def test_multi_paragraph_cells_keep_their_paragraphs():
    document = Document()
    table = document.add_table(rows=2, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Propozycja zmiany", "Uzasadnienie"
    cell = table.rows[1].cells[0]
    cell.text = "Pierwszy akapit."
    cell.add_paragraph("Drugi akapit.")
    table.rows[1].cells[1].text = "Dlatego."
    buffer = io.BytesIO()
    document.save(buffer)
    form = read_form("f.docx", DOCX, buffer.getvalue())
    assert form.rows[0].proposal == "Pierwszy akapit.\nDrugi akapit."


def test_a_docx_without_a_comment_table_is_no_form():
    assert read_form("list.docx", DOCX, docx_with([["Szanowni Państwo", "uwagi w treści"]])) is None


def test_the_odt_saved_by_libreoffice_reads_like_the_docx():
    docx = read_form("a.docx", DOCX, (CORPUS / "form-a-toruń.docx").read_bytes())
    odt = read_form("a.odt", ODT, (CORPUS / "form-a-toruń.odt").read_bytes())
    assert odt == docx and len(odt.rows) == 2


def test_an_odt_built_with_odfpy_with_spanned_and_covered_cells():
    from odf.opendocument import OpenDocumentText
    from odf.table import CoveredTableCell, Table, TableCell, TableColumn, TableRow
    from odf.text import P

    document = OpenDocumentText()
    document.text.addElement(P(text="Imię i nazwisko: Ewa Lis"))
    table = Table(name="Uwagi")
    table.addElement(TableColumn(numbercolumnsrepeated=4))

    def row(*cells):
        element = TableRow()
        for cell in cells:
            element.addElement(cell)
        table.addElement(element)

    def cell(text="", **attributes):
        element = TableCell(**attributes)
        element.addElement(P(text=text))
        return element

    row(cell("Formularz", numbercolumnsspanned=4), CoveredTableCell(), CoveredTableCell(), CoveredTableCell())
    row(cell("Treść uwagi"), cell("Część dokumentu, do którego odnosi się uwaga"), cell("Uzasadnienie zmiany"),
        cell("Inne"))
    row(cell("Dopisać sport"), cell("§ 2"), cell("Bo sport"), cell("x"))
    row(cell(numbercolumnsrepeated=4))
    document.text.addElement(table)
    buffer = io.BytesIO()
    document.write(buffer)
    form = read_form("f.odt", ODT, buffer.getvalue())
    assert [(r.section, r.proposal, r.justification) for r in form.rows] == [("§ 2", "Dopisać sport", "Bo sport")]
    assert form.submitter.name == "Ewa Lis"


def rezip(data: bytes, extra: dict[str, bytes] = {}, replace: dict[str, bytes] = {}) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info)))
        for name, payload in extra.items():
            target.writestr(name, payload)
    return out.getvalue()


@pytest.mark.parametrize("name,media_type,make,code", [
    ("uwagi.docm", DOCX, lambda d: d, "macros"),
    ("uwagi.docx", DOCX, lambda d: rezip(d, extra={"word/vbaProject.bin": b"\0" * 10}), "macros"),
    ("uwagi.docx", DOCX, lambda d: rezip(d, extra={"word/bomb.xml": b"<a>" + b" " * (30 * 1024 * 1024) + b"</a>"}),
     "zip_bomb"),
    ("uwagi.docx", DOCX, lambda d: rezip(d, replace={"word/document.xml": b'<?xml version="1.0"?><!DOCTYPE x '
                                                    b'[<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'}), "dtd"),
    ("uwagi.docx", DOCX, lambda d: rezip(d, extra={"../../evil.xml": b"<a/>"}), "unsafe_name"),
])
def test_hostile_docx_forms_are_refused_with_the_engine_checks(name, media_type, make, code):
    data = make(docx_with([["Propozycja zmiany", "Uzasadnienie"], ["a", "b"]]))
    with pytest.raises(FormUnreadable) as refused:
        read_form(name, media_type, data)
    assert refused.value.code == code


def test_an_odt_with_basic_macros_is_refused():
    data = rezip((CORPUS / "form-a-toruń.odt").read_bytes(), extra={"Basic/Standard/Module1.xml": b"<x/>"})
    with pytest.raises(FormUnreadable) as refused:
        read_form("a.odt", ODT, data)
    assert refused.value.code == "macros"


def test_files_that_are_not_office_forms_are_not_read():
    assert read_form("skan.pdf", "application/pdf", b"%PDF-1.4") is None
    assert read_form("zdjecie.jpg", "image/jpeg", b"\xff\xd8\xff") is None
    assert read_form("udaje.docx", DOCX, b"not a zip at all") is None



@pytest.mark.parametrize("name,media_type", [
    ("formularz", "application/x-zip-compressed"),  # what old Windows clients call a .docx
    ("formularz", "application/msword"),
    ("ATT00012", "application/vnd.ms-word.document.12"),
    ("uwagi.bin", "application/octet-stream"),
])
def test_a_form_is_known_by_its_package_whatever_its_label_and_name(name, media_type):
    docx = (CORPUS / "form-a-toruń.docx").read_bytes()
    odt = (CORPUS / "form-a-toruń.odt").read_bytes()
    assert len(read_form(name, media_type, docx).rows) == 2
    assert len(read_form(name, media_type, odt).rows) == 2


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_comment_table_kept_as_a_spreadsheet_is_read_like_the_docx():
    """The public guide to commenting (polskapv.pl, as in the government's table above) asks for "a filled table,
    best in an editable format (e.g. .docx or .xls)": its table and example rows, in an Excel workbook under a
    title row, named and labelled as mail clients send it."""
    from tests.corpus.mail.make_corpus import GUIDE_TABLE  # the corpus's .xls holds the same table

    data = _workbook(GUIDE_TABLE)
    for name, media_type in (("uwagi.xlsx", XLSX), ("uwagi", "application/octet-stream")):
        form = read_form(name, media_type, data)
        assert [(r.section, r.proposal) for r in form.rows] == [
            ("§ 4 ust. 1", "Zmienić słowo „należy” na „można”"),
            ("Załącznik nr 2, tabela, wiersz 5", "Podnieść limit do 30 kWh")]
    assert read_form("budzet.xlsx", XLSX, _workbook([["Pozycja", "Kwota"], ["Sala", "100"]])) is None


def test_a_hostile_or_macro_workbook_is_refused():
    data = _workbook([["Część dokumentu", "Propozycja zmiany"], ["§ 1", "Nowy zapis"]])
    with pytest.raises(FormUnreadable) as refused:
        read_form("uwagi.xlsm", XLSX, data)
    assert refused.value.code == "macros"
    declared = rezip(data, replace={"[Content_Types].xml": zipfile.ZipFile(io.BytesIO(data)).read(
        "[Content_Types].xml").replace(b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml")})
    with pytest.raises(FormUnreadable) as refused:
        read_form("uwagi.xlsx", XLSX, declared)
    assert refused.value.code == "macros"
    bomb = rezip(data, extra={"xl/media/padding.bin": b"\0" * (64 * 1024 * 1024)})
    with pytest.raises(FormUnreadable) as refused:
        read_form("uwagi.xlsx", XLSX, bomb)
    assert refused.value.code in ("zip_bomb", "too_large")


def _add_rows(table, rows: list[list[str]], **cell_attributes) -> None:
    """odfpy table rows of one-paragraph cells."""
    from odf.table import TableCell, TableRow
    from odf.text import P

    for values in rows:
        row = TableRow()
        for value in values:
            cell = TableCell(**cell_attributes)
            cell.addElement(P(text=value))
            row.addElement(cell)
        table.addElement(row)


def _spreadsheet_ods(rows: list[list[str]]) -> bytes:
    """An ODS as LibreOffice Calc saves one (built with odfpy: one sheet, string cells)."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table

    document = OpenDocumentSpreadsheet()
    sheet = Table(name="Arkusz1")
    _add_rows(sheet, rows, valuetype="string")
    document.spreadsheet.addElement(sheet)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def test_the_comment_table_saved_by_libreoffice_calc_is_read_and_a_calc_macro_is_refused():
    rows = [["Lp.", "Część dokumentu, do którego odnosi się uwaga", "Zapis w projekcie", "Propozycja zmiany",
             "Uzasadnienie zmiany"],
            ["1", "§ 3 ust. 1", "Program obejmuje", "Program obejmuje także sport", "Sport jest ważny"]]
    data = _spreadsheet_ods(rows)
    for name, media_type in (("uwagi.ods", "application/vnd.oasis.opendocument.spreadsheet"),
                             ("uwagi", "application/octet-stream")):
        form = read_form(name, media_type, data)
        assert [(r.section, r.current_text, r.proposal, r.justification) for r in form.rows] == [
            ("§ 3 ust. 1", "Program obejmuje", "Program obejmuje także sport", "Sport jest ważny")]
    with pytest.raises(FormUnreadable) as refused:
        read_form("uwagi.ods", "application/vnd.oasis.opendocument.spreadsheet",
                  rezip(data, extra={"Basic/Standard/Module1.xml": b"<script:module/>"}))
    assert refused.value.code == "macros"


def test_lists_in_the_cells_keep_the_numbers_word_shows_and_numbered_headers_still_name_their_columns():
    """A proposal set out as Word's numbered points ("1. … 2. …" live in numbering.xml, not in the text) reads as
    the submitter sees it, a bulleted one with "•"; a header Word numbers ("1. Rozdział") is still read."""
    document = Document()
    table = document.add_table(rows=2, cols=3)
    for cell, header in zip(table.rows[0].cells, ("Rozdział", "Propozycja treści zapisu w projekcie", "Uzasadnienie")):
        cell.paragraphs[0].text = header
        cell.paragraphs[0].style = document.styles["List Number 2"]
    section, proposal, justification = table.rows[1].cells
    section.text = "§ 5"
    proposal.paragraphs[0].text = "dodać priorytet: seniorzy,"
    proposal.paragraphs[0].style = document.styles["List Number"]
    proposal.add_paragraph("dodać priorytet: młodzież.", style="List Number")
    justification.paragraphs[0].text = "Potrzeby mieszkańców:"
    justification.add_paragraph("ankieta z 2024 r.", style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    form = read_form("uwagi.docx", DOCX, buffer.getvalue())
    assert [(row.section, row.proposal, row.justification) for row in form.rows] == [
        ("§ 5", "1. dodać priorytet: seniorzy,\n2. dodać priorytet: młodzież.",
         "Potrzeby mieszkańców:\n• ankieta z 2024 r.")]
    # the list definitions of a template already read are reused, its counters never: the next form starts at 1
    assert read_form("uwagi.docx", DOCX, buffer.getvalue()) == form


@pytest.mark.parametrize("header, field", [("1. Uwaga", "comment"), ("3) Obecne", "current_text"),
                                           ("2. Rozdział", "section"), ("• Uzasadnienie", "justification"),
                                           ("4. Propozycja treści zapisu w projekcie", "proposal"), ("1. Lp.", "number")])
def test_a_list_label_typed_before_a_header_does_not_hide_its_wording(header, field):
    """Headers whose wording is matched from its start ("Uwaga" alone is the comment, "Propozycja …" the proposal
    whatever it names after)."""
    assert classify_header(header) == field


def test_a_list_label_typed_before_a_detail_does_not_hide_it():
    form = assemble(["1. Imię i nazwisko: Anna Nowak", "2) Organizacja: Fundacja Wspólna Sprawa",
                     "3. E-mail: anna@example.org"], [[["Propozycja zmiany", "Uzasadnienie"], ["Dodać sport.", "Bo."]]])
    assert (form.submitter.name, form.submitter.organization, form.submitter.email) == (
        "Anna Nowak", "Fundacja Wspólna Sprawa", "anna@example.org")


def test_an_odt_forms_lists_in_cells_read_as_libreoffice_shows_them():
    """A form with Word's numbered points saved as ODT by LibreOffice, against LibreOffice's own text of it
    (tests/corpus/mail/odt/SOURCES.md)."""
    folder = CORPUS / "odt"
    shown = [line.strip() for line in (folder / "form-numbered-points.libreoffice.txt").read_text("utf-8-sig")
             .splitlines() if line.strip()]
    form = read_form("uwagi.odt", ODT, (folder / "form-numbered-points.odt").read_bytes())
    assert [(row.section, row.proposal.split("\n"), row.justification.split("\n")) for row in form.rows] == [
        (shown[4], shown[5:7], shown[7:9])]
    assert shown[5:7] == ["1. dodać priorytet: seniorzy,", "2. dodać priorytet: młodzież."]
    assert form.submitter.name == "Anna Nowak"


def test_an_odt_forms_details_typed_as_a_list_are_read():
    """LibreOffice keeps a numbered paragraph in a `text:list`, not among the text's paragraphs."""
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableColumn
    from odf.text import List, ListItem, P

    document = OpenDocumentText()
    details = List()
    for line in ("Imię i nazwisko: Ewa Lis", "Adres e-mail: ewa.lis@example.org"):
        item = ListItem()
        item.addElement(P(text=line))
        details.addElement(item)
    document.text.addElement(details)
    table = Table(name="Uwagi")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    _add_rows(table, [["Propozycja zmiany", "Uzasadnienie"], ["Dopisać sport", "Bo sport"]])
    document.text.addElement(table)
    buffer = io.BytesIO()
    document.write(buffer)
    form = read_form("f.odt", ODT, buffer.getvalue())
    assert (form.submitter.name, form.submitter.email) == ("Ewa Lis", "ewa.lis@example.org")
    assert [(row.proposal, row.justification) for row in form.rows] == [("Dopisać sport", "Bo sport")]


@pytest.mark.parametrize("header,column", [
    ("Nr strony/ punktu/ rozdziału", "section"),
    ("Zapis, którego dotyczy uwaga", "current_text"),
    ("Jest", "current_text"),
    ("Powinno być:", "proposal"),
    ("Uwagi do projektu programu współpracy na 2026 rok", None),  # the form's title, above its header
    ("Strona", None),  # a page, or the party: not a column to guess
    ("Jest to uwaga", None),
])
def test_more_of_the_wordings_offices_give_their_comment_tables_are_known(header, column):
    from services.intake.mail.form import classify_header

    assert classify_header(header) == column


def test_a_lawyers_table_of_what_is_and_what_should_be_gives_rows():
    from services.intake.mail.form import rows_from_grid

    rows = rows_from_grid([["Lp.", "Nr strony/ punktu/ rozdziału", "Jest", "Powinno być", "Uzasadnienie"],
                           ["1", "§ 5 ust. 2", "Program realizowany jest w roku 2025.",
                            "Program realizowany jest w latach 2025–2026.", "Zadania trwają dłużej niż rok."]])
    assert [(row.section, row.current_text, row.proposal, row.justification) for row in rows] == [
        ("§ 5 ust. 2", "Program realizowany jest w roku 2025.", "Program realizowany jest w latach 2025–2026.",
         "Zadania trwają dłużej niż rok.")]
