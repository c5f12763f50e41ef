"""A draft becomes an ordered tree of labelled units; typed and Word numbering agree."""

from __future__ import annotations

from docx_fixtures import repack
from services.documents.engine.docxwriter import (DocxSpec, ListLevel, build_docx, paragraph_xml, run_xml,
                                                  simple_paragraph)
from services.documents.engine.ooxml import read_package
from services.documents.engine.parse import parse_docx
from services.documents.engine.render import render_clean


def labels(version) -> list[tuple[str, str, str]]:
    return [(unit.kind, unit.label, unit.text) for unit in version.units]


def test_typed_and_word_numbering_give_identical_units(auto_draft, typed_draft):
    auto, typed = parse_docx(auto_draft), parse_docx(typed_draft)
    assert auto.to_json() == typed.to_json()
    assert {unit.numbering for unit in auto.units if unit.number} == {"auto"}
    assert {unit.numbering for unit in typed.units if unit.number} == {"typed"}


def test_units_carry_polish_legal_labels_and_parents(parsed_draft):
    by_label = {unit.label: unit for unit in parsed_draft.units}
    letter = by_label["§ 3 ust. 2 pkt 2 lit. b"]
    assert letter.kind == "letter"
    assert letter.text == "w zakresie kultury i ochrony dziedzictwa narodowego,"
    point = parsed_draft.unit(letter.parent)
    assert point.label == "§ 3 ust. 2 pkt 2" and point.kind == "point"
    section = parsed_draft.unit(point.parent)
    assert section.label == "§ 3 ust. 2"
    paragraph = parsed_draft.unit(section.parent)
    assert (paragraph.kind, paragraph.label) == ("paragraph", "§ 3")
    chapter = parsed_draft.unit(paragraph.parent)
    assert (chapter.kind, chapter.label, chapter.text) == ("chapter", "Rozdział II", "Cele programu")
    assert chapter.heading


def test_paragraph_numbers_run_through_chapters_and_points_restart(parsed_draft):
    paragraph_numbers = [unit.number for unit in parsed_draft.units if unit.kind == "paragraph"]
    assert paragraph_numbers == [str(n) for n in range(1, len(paragraph_numbers) + 1)]
    assert "§ 5 ust. 3 pkt 1" in {unit.label for unit in parsed_draft.units}


def test_ids_are_unique_and_stable_across_parses(auto_draft):
    first, second = parse_docx(auto_draft), parse_docx(auto_draft)
    ids = [unit.id for unit in first.units]
    assert len(ids) == len(set(ids))
    assert ids == [unit.id for unit in second.units]


def test_table_is_a_unit_with_cell_text(parsed_draft):
    table = next(unit for unit in parsed_draft.units if unit.kind == "table")
    assert table.label == "Rozdział VI tabela 1" or table.label.endswith("tabela 1")
    assert "Pomoc społeczna | 4 250 000 | 3 980 000" in table.text


def test_bold_italic_and_footnote_are_kept_in_runs(parsed_draft):
    definition = next(unit for unit in parsed_draft.units if unit.text.startswith("ustawie"))
    assert definition.runs[0].italic and definition.runs[0].text == "ustawie"
    assert any("footnoteReference" in run.opaque for run in definition.runs)
    first_paragraph = next(unit for unit in parsed_draft.units if unit.label == "§ 1")
    assert first_paragraph.runs[0].bold and first_paragraph.runs[0].text == "Program"


def test_parse_render_parse_round_trip_keeps_units_and_formatting(auto_draft, parsed_draft):
    rendered = render_clean(parsed_draft)
    assert parse_docx(rendered).to_json() == parsed_draft.to_json()
    parts = read_package(rendered)
    assert b"footnoteReference" in parts["word/document.xml"]
    assert parts["word/footnotes.xml"] == read_package(auto_draft)["word/footnotes.xml"]
    assert b"<w:tbl>" in parts["word/document.xml"]
    assert b'w:pStyle w:val="Heading1"' in parts["word/document.xml"]


def test_rendering_is_deterministic(parsed_draft):
    assert render_clean(parsed_draft) == render_clean(parsed_draft)


def test_restarted_multilevel_word_list_gives_the_same_labels_as_typed_numbers():
    """GIVEN two §§ whose inner lists are two w:num instances of one abstract list, the second restarted
    WHEN parsed THEN the inner numbers restart, exactly as if typed."""
    levels = {7: [ListLevel("decimal", "%1."), ListLevel("decimal", "%2)"), ListLevel("lowerLetter", "%3)")]}
    nums = {1: (7, {}), 2: (7, {0: 1, 1: 1, 2: 1})}
    auto_body = [simple_paragraph("§ 1. Pierwszy"),
                 paragraph_xml(run_xml("Ustęp"), numbering=(1, 0)),
                 paragraph_xml(run_xml("Punkt"), numbering=(1, 1)),
                 paragraph_xml(run_xml("Litera"), numbering=(1, 2)),
                 paragraph_xml(run_xml("Druga litera"), numbering=(1, 2)),
                 paragraph_xml(run_xml("Drugi ustęp"), numbering=(1, 0)),
                 simple_paragraph("§ 2. Drugi"),
                 paragraph_xml(run_xml("Ustęp po restarcie"), numbering=(2, 0))]
    typed_body = [simple_paragraph(text) for text in (
        "§ 1. Pierwszy", "1. Ustęp", "1) Punkt", "a) Litera", "b) Druga litera", "2. Drugi ustęp",
        "§ 2. Drugi", "1. Ustęp po restarcie")]
    auto = parse_docx(build_docx(DocxSpec(body=auto_body, abstract_lists=levels, nums=nums)))
    typed = parse_docx(build_docx(DocxSpec(body=typed_body)))
    assert auto.to_json() == typed.to_json()
    assert [unit.label for unit in auto.units] == [
        "§ 1", "§ 1 ust. 1", "§ 1 ust. 1 pkt 1", "§ 1 ust. 1 pkt 1 lit. a", "§ 1 ust. 1 pkt 1 lit. b",
        "§ 1 ust. 2", "§ 2", "§ 2 ust. 1"]


def test_typed_number_split_across_runs_is_stripped_from_text_only():
    body = [paragraph_xml(run_xml("§ ") + run_xml("12. ") + run_xml("Tekst ", '<w:rPr><w:b/></w:rPr>')
                          + run_xml("paragrafu"))]
    unit = parse_docx(build_docx(DocxSpec(body=body))).units[0]
    assert (unit.label, unit.text) == ("§ 12", "Tekst paragrafu")
    assert unit.runs[0].bold


def test_pages_follow_page_breaks(parsed_draft):
    chapters = [unit for unit in parsed_draft.units if unit.kind == "chapter"]
    assert [chapter.page for chapter in chapters][:3] == [1, 2, 3]


def test_deleted_revisions_in_the_draft_are_not_text(auto_draft):
    document = read_package(auto_draft)["word/document.xml"]
    deletion = (b'<w:del w:id="1" w:author="x" w:date="2024-01-01T00:00:00Z">'
                b"<w:r><w:delText> USUNIETE</w:delText></w:r></w:del>")
    tracked = document.replace(b"Cele programu</w:t></w:r>", b"Cele programu</w:t></w:r>" + deletion, 1)
    assert tracked != document
    version = parse_docx(repack(auto_draft, replace={"word/document.xml": tracked}))
    assert any(unit.text == "Cele programu" for unit in version.units)


def _labels_of(lines: list[str]) -> list[tuple[str, str]]:
    version = parse_docx(build_docx(DocxSpec(body=[simple_paragraph(line) for line in lines])))
    return [(unit.label, unit.text) for unit in version.units]


def test_the_title_of_an_act_reads_tytul_and_its_paragraphs_are_numbered_only_when_there_are_several():
    assert _labels_of(["Program współpracy na 2025 rok", "§ 1. Program określa zasady."]) == [
        ("Tytuł", "Program współpracy na 2025 rok"), ("§ 1", "Program określa zasady.")]
    assert _labels_of(["UCHWAŁA NR …/24", "RADY MIASTA TORUNIA", "§ 1. Przyjmuje się program."]) == [
        ("Tytuł, akapit 1", "UCHWAŁA NR …/24"), ("Tytuł, akapit 2", "RADY MIASTA TORUNIA"),
        ("§ 1", "Przyjmuje się program.")]
    # Without numbered units nothing is a title: the paragraphs are just paragraphs.
    assert _labels_of(["Pierwszy akapit.", "Drugi akapit."]) == [("akapit 1", "Pierwszy akapit."),
                                                                 ("akapit 2", "Drugi akapit.")]


def test_typed_variants_of_paragraph_and_section_numbers():
    assert _labels_of(["§5. Pierwszy.", "§\u00a06. 1.Ustęp bez spacji.", "2.Drugi ustęp:", "1) punkt,",
                       "lit. a) litera z wyrazem,", "b) druga litera;", "2,5 mln zł to nie ustęp."]) == [
        ("§ 5", "Pierwszy."), ("§ 6", ""), ("§ 6 ust. 1", "Ustęp bez spacji."), ("§ 6 ust. 2", "Drugi ustęp:"),
        ("§ 6 ust. 2 pkt 1", "punkt,"), ("§ 6 ust. 2 pkt 1 lit. a", "litera z wyrazem,"),
        ("§ 6 ust. 2 pkt 1 lit. b", "druga litera;"), ("§ 6 akapit 1", "2,5 mln zł to nie ustęp.")]


def test_roman_headings_without_the_word_rozdzial_are_chapters():
    assert _labels_of(["Program współpracy na 2025 rok", "I. Wstęp", "Program określa zasady.",
                       "II. Cele programu", "§ 1. Celem głównym jest partnerstwo."]) == [
        ("Tytuł", "Program współpracy na 2025 rok"), ("Rozdział I", "Wstęp"),
        ("Rozdział I akapit 1", "Program określa zasady."), ("Rozdział II", "Cele programu"),
        ("§ 1", "Celem głównym jest partnerstwo.")]


def test_a_roman_heading_may_end_with_a_colon_but_a_roman_list_item_is_no_heading():
    assert _labels_of(["Ogłoszenie", "I. Rodzaj zadania:", "Wsparcie.", "II. Wysokość środków:", "1. Kwota.",
                       "III. Pierwszy element,"]) == [
        ("Tytuł", "Ogłoszenie"), ("Rozdział I", "Rodzaj zadania:"), ("Rozdział I akapit 1", "Wsparcie."),
        ("Rozdział II", "Wysokość środków:"), ("Rozdział II ust. 1", "Kwota."),
        ("Rozdział II akapit 1", "III. Pierwszy element,")]


def test_a_roman_heading_without_its_dot_needs_capitals_the_next_number_and_a_first_section():
    assert _labels_of(["Ogłoszenie", "I RODZAJ ZADANIA", "1. Edukacja.", "UWAGA! Kwota może się zmienić.",
                       "II TERMINY", "1. Do 31 stycznia."]) == [
        ("Tytuł", "Ogłoszenie"), ("Rozdział I", "RODZAJ ZADANIA"), ("Rozdział I ust. 1", "Edukacja."),
        ("Rozdział I akapit 1", "UWAGA! Kwota może się zmienić."), ("Rozdział II", "TERMINY"),
        ("Rozdział II ust. 1", "Do 31 stycznia.")]
    # A school's name, a heading out of sequence and one followed by no first section stay text.
    for lines in (["I Liceum Ogólnokształcące", "1. Szkoła."], ["II TERMINY", "1. Do 31 stycznia."],
                  ["I RODZAJ ZADANIA", "Edukacja."]):
        first = parse_docx(build_docx(DocxSpec(body=[simple_paragraph(line) for line in lines]))).units[0]
        assert (first.kind, first.text) == ("block", lines[0]), lines


def test_letters_typed_with_a_dot_open_after_a_colon_and_follow_each_other():
    assert _labels_of(["§ 1. Zadanie obejmuje:", "a. zajęcia,", "b. konkursy.", "c. to już nie litera."]) == [
        ("§ 1", "Zadanie obejmuje:"), ("§ 1 lit. a", "zajęcia,"), ("§ 1 lit. b", "konkursy."),
        ("§ 1 lit. c", "to już nie litera.")]
    assert _labels_of(["§ 1. Zadanie obejmuje zajęcia.", "a. nie otwiera wyliczenia.", "c. nie następuje po a."])[1:] \
        == [("§ 1 akapit 1", "a. nie otwiera wyliczenia."), ("§ 1 akapit 2", "c. nie następuje po a.")]


def test_soft_hyphens_and_page_number_fields_are_not_text():
    field = ('<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>'
             '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>7</w:t></w:r>'
             '<w:r><w:fldChar w:fldCharType="end"/></w:r>')
    body = [paragraph_xml(run_xml("§ 1. Kon\u00adsul\u00adta\u00adcje trwają") + field + run_xml(" dni."))]
    unit = parse_docx(build_docx(DocxSpec(body=body))).units[0]
    assert (unit.label, unit.text) == ("§ 1", "Konsultacje trwają dni.")


def test_automatic_and_typed_numbers_on_one_paragraph_give_a_warning():
    levels = {1: [ListLevel("decimal", "§ %1.")]}
    body = [paragraph_xml(run_xml("§ 1. Tekst z numerem wpisanym ręcznie."), numbering=(1, 0))]
    version = parse_docx(build_docx(DocxSpec(body=body, abstract_lists=levels, nums={1: (1, {})})))
    assert version.units[0].label == "§ 1"
    assert version.warnings and "automatic" in version.warnings[0]
    assert version.to_json()["warnings"] == list(version.warnings)


def test_a_numbering_gap_is_reported_as_a_warning():
    version = parse_docx(build_docx(DocxSpec(body=[simple_paragraph(line) for line in (
        "§ 1. Pierwszy.", "§ 3. Trzeci, bo drugi zginął.")])))
    assert any("§ 3 follows § 1" in warning for warning in version.warnings)


def test_after_the_final_provision_only_signatures_and_footnotes_are_left_out():
    assert _labels_of(["§ 1. Uchwała wchodzi w życie z dniem podjęcia.", "Przewodniczący Rady Miasta Torunia",
                       "Marcin Czyżniewski", "1) Niniejsza uchwała była poprzedzona uchwałą Nr 1/2023.",
                       "Informacja o przebiegu konsultacji znajduje się w Biuletynie Informacji Publicznej."]) == [
        ("§ 1", "Uchwała wchodzi w życie z dniem podjęcia."),
        ("§ 1 akapit 1", "Informacja o przebiegu konsultacji znajduje się w Biuletynie Informacji Publicznej.")]


_DRAWING_NS = ('xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
               'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
               'xmlns:v="urn:schemas-microsoft-com:vml"')


def _text_box(text: str) -> str:
    """A text box as Word 2010 and later write it: DrawingML, then a VML copy of the same text as fallback."""
    inner = f"<w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent>"
    return (f'<w:r><mc:AlternateContent {_DRAWING_NS}><mc:Choice Requires="wps"><w:drawing><wp:anchor '
            'distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="1" behindDoc="0" locked="0" '
            'layoutInCell="1" allowOverlap="1"><wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="column">'
            '<wp:posOffset>0</wp:posOffset></wp:positionH><wp:positionV relativeFrom="paragraph"><wp:posOffset>0'
            '</wp:posOffset></wp:positionV><wp:extent cx="914400" cy="300000"/><wp:wrapNone/>'
            '<wp:docPr id="1" name="Pole tekstowe 1"/><a:graphic><a:graphicData '
            'uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp><wps:txbx>'
            f"{inner}</wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>"
            f"</mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>{inner}</v:textbox></v:shape></w:pict>"
            "</mc:Fallback></mc:AlternateContent></w:r>")


def test_a_text_box_anchored_in_a_paragraph_is_an_object_of_it_not_its_text():
    """Drafts carry a "PROJEKT" stamp or a note in a text box; its text was read twice (both of Word's copies)
    into the title, and the box itself was lost when the version was written."""
    vml_box = (f'<w:r><w:pict {_DRAWING_NS}><v:shape><v:textbox><w:txbxContent><w:p><w:r><w:t>Wersja 2'
               "</w:t></w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict></w:r>")
    body = [paragraph_xml(_text_box("PROJEKT") + run_xml("Program współpracy na 2025 rok")),
            paragraph_xml(run_xml("§ 1. Program określa zasady.") + vml_box),
            simple_paragraph("§ 2. Uchwała wchodzi w życie z dniem podjęcia.")]
    version = parse_docx(build_docx(DocxSpec(body=body)))
    assert labels(version) == [("block", "Tytuł", "Program współpracy na 2025 rok"),
                               ("paragraph", "§ 1", "Program określa zasady."),
                               ("paragraph", "§ 2", "Uchwała wchodzi w życie z dniem podjęcia.")]
    document = read_package(render_clean(version))["word/document.xml"].decode()
    assert document.count("<mc:AlternateContent") == 1 and document.count(">PROJEKT<") == 2
    assert document.count("<w:pict") == 2 and document.count(">Wersja 2<") == 1  # the fallback's and the VML box
    assert parse_docx(render_clean(version)).to_json() == version.to_json()


def test_units_typed_after_line_breaks_in_one_paragraph_are_split_into_paragraphs_of_their_own():
    """Drafters type a §'s list with Shift+Enter; each line that opens a unit becomes a paragraph with the
    paragraph's properties, without space between them, the first line's indent or a second automatic number."""
    levels = {1: [ListLevel("decimal", "§ %1.")]}
    ppr_extra = ('<w:spacing w:before="120" w:after="240"/><w:ind w:left="0" w:firstLine="708"/>'
                 '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr>')  # a section ends with this paragraph
    numbered = paragraph_xml(run_xml("Celami programu są:\n1) wzmacnianie organizacji,\n2) rozwój"), numbering=(1, 0))
    numbered = numbered.replace("</w:numPr>", "</w:numPr>" + ppr_extra, 1)
    body = [simple_paragraph("Program współpracy"), numbered,
            simple_paragraph("§ 2. Uchwała wchodzi w życie.\nUzasadnienie nie jest tu potrzebne.")]
    version = parse_docx(build_docx(DocxSpec(body=body, abstract_lists=levels, nums={1: (1, {})})))
    assert labels(version) == [("block", "Tytuł", "Program współpracy"), ("paragraph", "§ 1", "Celami programu są:"),
                               ("point", "§ 1 pkt 1", "wzmacnianie organizacji,"), ("point", "§ 1 pkt 2", "rozwój"),
                               ("paragraph", "§ 2", "Uchwała wchodzi w życie.\nUzasadnienie nie jest tu potrzebne.")]
    paragraphs = read_package(render_clean(version))["word/document.xml"].decode().split("<w:p>")[1:]
    first, middle, last = paragraphs[1:4]
    assert '<w:numId w:val="1"/>' in first and 'w:before="120"' in first and 'w:after="0"' in first
    assert '<w:numId w:val="0"/>' in middle and 'w:before="0"' in middle and 'w:after="0"' in middle
    assert 'w:firstLine="0"' in middle and 'w:before="0"' in last and 'w:after="240"' in last
    assert all(part.index("<w:numPr>") < part.index("<w:spacing") < part.index("<w:ind") for part in (middle, last))
    assert [part.count("<w:sectPr") for part in (first, middle, last)] == [0, 0, 1]
    assert parse_docx(render_clean(version)).to_json() == version.to_json()


def test_a_line_broken_where_a_pdf_line_ended_is_the_rest_of_its_unit_not_the_lists_closing_words():
    """Text copied from a published PDF brings each line as a paragraph; a line starting in lower case after a
    full line that ends mid-sentence continues it, a word broken at the hyphen without a space. A short item
    before a list's closing words, the title's lines and a numbered line stay as they were."""
    lines = ["Program współpracy Gminy z organizacjami pozarządowymi oraz innymi podmiotami prowadzącymi",
             "działalność pożytku publicznego",
             "§ 1. Cele szczegółowe współpracy obejmują:",
             "1) wspomaganie integracji, kształtowanie społeczeństwa obywatelskiego, wspomaganie",
             "rozwoju społeczności lokalnych i regionalnych;",
             "2) osoby prawne",
             "zwane dalej podmiotami.",
             "§ 2. Program przygotowano we współpracy z Radą Działalności Pożytku Publicznego i współ-",
             "pracującymi organizacjami.",
             "§ 3. Uchwała wchodzi w życie z dniem podjęcia."]
    version = parse_docx(build_docx(DocxSpec(body=[simple_paragraph(line) for line in lines])))
    assert labels(version) == [
        ("block", "Tytuł, akapit 1", lines[0]), ("block", "Tytuł, akapit 2", lines[1]),
        ("paragraph", "§ 1", "Cele szczegółowe współpracy obejmują:"),
        ("point", "§ 1 pkt 1", "wspomaganie integracji, kształtowanie społeczeństwa obywatelskiego, wspomaganie "
                                "rozwoju społeczności lokalnych i regionalnych;"),
        ("point", "§ 1 pkt 2", "osoby prawne"), ("common", "§ 1 część wspólna", "zwane dalej podmiotami."),
        ("paragraph", "§ 2", lines[7][len("§ 2. "):] + lines[8]),
        ("paragraph", "§ 3", "Uchwała wchodzi w życie z dniem podjęcia.")]
    document = read_package(render_clean(version))["word/document.xml"].decode()
    assert document.count("<w:p>") + document.count("<w:p ") == len(version.units)
    assert parse_docx(render_clean(version)).to_json() == version.to_json()


def test_paragraphs_inside_content_controls_and_custom_xml_are_read_as_units():
    """Templates from document systems wrap the act's paragraphs in content controls (w:sdt), and Word 2007 in
    custom XML (w:customXml): the paragraphs inside are the draft's units all the same."""
    wrapped = (f'<w:sdt><w:sdtPr/><w:sdtContent>{simple_paragraph("§ 1. Program określa zasady współpracy.")}'
               "</w:sdtContent></w:sdt>"
               f'<w:customXml w:element="tresc"><w:customXmlPr/>{simple_paragraph("§ 2. Uchwała wchodzi w życie.")}'
               "</w:customXml>")
    version = parse_docx(build_docx(DocxSpec(body=[wrapped])))
    assert [(unit.label, unit.text) for unit in version.units] == [
        ("§ 1", "Program określa zasady współpracy."), ("§ 2", "Uchwała wchodzi w życie.")]
    assert "Uchwała wchodzi w życie." in read_package(render_clean(version))["word/document.xml"].decode()


def test_the_document_frame_keeps_what_stands_beside_the_body_and_none_of_its_content(auto_draft):
    """The head and tail around the units come from the document itself: its namespaces, a page background before
    the body, the body's own attributes and the last section's properties; the units' text is in neither."""
    document = read_package(auto_draft)["word/document.xml"].decode("utf-8")
    background = '<w:background w:color="FFFFF0"/>'
    document = document.replace("<w:body>", f'{background}<w:body w14:paraId="00000001" '
                                'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml">', 1)
    version = parse_docx(repack(auto_draft, {"word/document.xml": document.encode("utf-8")}))
    head, tail = version.template.document_head, version.template.document_tail
    assert head.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document ')
    assert 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"' in head
    assert background in head and head.endswith('w14:paraId="00000001">')
    assert tail.startswith("<w:sectPr") and tail.endswith("</w:body></w:document>")
    assert not any(unit.text and unit.text in head + tail for unit in version.units)
