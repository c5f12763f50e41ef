"""Word's list numbering as Word shows it, proved on Word's own files against the numbers Apache Tika's tests
expect for them (tests/corpus/drafting/word/SOURCES.md), and on the list-style link Word writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.word_numbering import WordNumbering
from services.documents.engine import parse_docx
from services.documents.engine.docxwriter import DocxSpec, ListLevel, build_docx, paragraph_xml, run_xml
from services.documents.engine.ooxml import W, parse_xml, read_package, related_parts, write_package
from services.documents.engine.parse import _auto_number, _read_styles, _style_of

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "drafting" / "word"

# OOXMLDocxSAXTest.testDOCXParagraphNumbering (Apache Tika), "number text" of a paragraph.
NUMBERED_LIST = [
    "1) This", "a) Is", "i) A multi", "ii) Level", "1. Within cell 1", "b. Cell b", "iii) List", "2) foo",
    "ii) baz", "ii) foo", "II. bar", "6. six", "7. seven", "a. seven a", "e. seven e", "2. A ii 2",
    "3. page break list 3", "1.1.1. 1.1.1", "1.1. 1.2->1.1  //set the value",
]
# OOXMLDocxSAXTest.testDOCXOverrideParagraphNumbering, its paragraphs' text being their number; the
# ordinal format's ("1st.2.3someText", "5th") left out (SOURCES.md).
OVERRIDE_LIST = [
    "1.1.1.1...1 1.1.1.1...1", "1.a.I 1.a.I", "1.b.III 1.b.III", "2.a.I 2.a.I", "2.b 2.b", "(1)) (1))",
    "2.17 2.17", "2.18.2.1 2.18.2.1", "2 2", "1 1", "A A", "B B", "C C", "4 4", "00 00", "01 01", "01. 01.",
    "01..1 01..1", "02 02",
]


def shown(data: bytes) -> list[str]:
    """Each paragraph as Word shows it: its list number, a space, its text (the number alone when empty)."""
    parts = related_parts(read_package(data))
    styles = _read_styles(parts.get("word/styles.xml"))

    class State:
        numbering = WordNumbering.from_xml(parts.get("word/numbering.xml"))

    lines = []
    for paragraph in parse_xml(parts["word/document.xml"]).iter(W + "p"):
        ppr = paragraph.find(W + "pPr")
        number = _auto_number(ppr, _style_of(ppr, styles), State)
        text = "".join(t.text or "" for t in paragraph.iter(W + "t"))
        lines.append(f"{number[0]} {text}" if number else text)
    return lines


@pytest.mark.parametrize("name, expected", [("testWORD_numbered_list.docx", NUMBERED_LIST),
                                            ("testWORD_override_list_numbering.docx", OVERRIDE_LIST)])
def test_words_own_lists_are_numbered_as_tika_expects(name, expected):
    lines = shown((CORPUS / name).read_bytes())
    missing = [want for want in expected if not any(line.startswith(want) for line in lines)]
    assert not missing, (missing, lines)


def test_a_list_inside_a_table_cell_shows_its_numbers_in_the_tables_text():
    """Tika expects "1. Within cell 1" and "b. Cell b" in the table of `testWORD_numbered_list.docx`; the engine
    read the cell as "Within cell 1 Cell a Cell b", and a reviewer quoting "pkt 1" of a table could not find it."""
    table = next(unit for unit in parse_docx((CORPUS / "testWORD_numbered_list.docx").read_bytes()).units
                 if unit.kind == "table")
    assert "1. Within cell 1 a. Cell a b. Cell b" in table.text


NUMBERING_WITH_A_LIST_STYLE = f"""<w:numbering xmlns:w="{W[1:-1]}">
  <w:abstractNum w:abstractNumId="0"><w:styleLink w:val="Paragrafy"/>
    <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="§ %1."/></w:lvl>
    <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%2."/></w:lvl>
    <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%3)"/></w:lvl>
  </w:abstractNum>
  <w:abstractNum w:abstractNumId="1"><w:numStyleLink w:val="Paragrafy"/></w:abstractNum>
  <w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
  <w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>
</w:numbering>""".encode()


def test_a_list_made_from_a_list_style_takes_that_styles_levels_and_count():
    """Word writes a list applied from a multilevel list style as an abstract list holding only
    `w:numStyleLink`; its numbers are those of the list that defines the style, counted with it."""
    numbering = WordNumbering.from_xml(NUMBERING_WITH_A_LIST_STYLE)
    assert [numbering.next_number_text(num, level) for num, level in
            [("2", 0), ("2", 1), ("2", 2), ("2", 2), ("2", 1), ("1", 0), ("2", 0)]] == [
        "§ 1.", "1.", "1)", "2)", "2.", "§ 2.", "§ 3."]


def test_a_draft_numbered_by_a_list_style_is_read_as_its_sections():
    body = [paragraph_xml(run_xml(text), numbering=(2, level)) for level, text in
            [(0, "Program określa zasady współpracy."), (1, "Współpraca ma charakter finansowy."),
             (1, "Współpraca ma charakter pozafinansowy."), (0, "Program wchodzi w życie z dniem podjęcia.")]]
    spec = DocxSpec(body=body, abstract_lists={0: [ListLevel("decimal", "§ %1.", 0), ListLevel("decimal", "%2.", 1)]},
                    nums={2: (0, {})})
    data = build_docx(spec)
    package = read_package(data)
    package["word/numbering.xml"] = NUMBERING_WITH_A_LIST_STYLE
    version = parse_docx(write_package(package))
    assert [unit.label for unit in version.units] == ["§ 1", "§ 1 ust. 1", "§ 1 ust. 2", "§ 2"]


@pytest.mark.parametrize("name", ["testExternalRefs.docx", "testWORD_EMFAndAttachments.docx"])
def test_a_paragraph_with_objects_side_by_side_is_reworded_and_rendered_with_its_objects(name):
    """Word's fields and embedded objects may sit at one place in a paragraph; rewording it keeps them, in order."""
    from datetime import datetime, timezone
    from io import BytesIO
    from zipfile import ZipFile

    from services.documents.engine import apply_changes, changes_from_json, render_clean, render_tracked

    draft = parse_docx((CORPUS / name).read_bytes())
    crowded = next(unit for unit in draft.units if sum(1 for run in unit.runs if run.opaque) >= 2)
    objects = [run for run in crowded.runs if run.opaque]
    changed = apply_changes(draft, changes_from_json([{"unit": crowded.id, "op": "replace",
                                                       "text": crowded.text + " (zmienione)"}]),
                            approved_by="test", approved_at=datetime(2024, 10, 1, tzinfo=timezone.utc))
    assert [run for run in changed.find(crowded.id).runs if run.opaque] == objects
    for rendered in (render_clean(changed), render_tracked(draft, changed)):
        document = ZipFile(BytesIO(rendered)).read("word/document.xml")
        assert b"(zmienione)" in document and parse_xml(document) is not None


def test_a_draft_whose_text_is_all_in_text_boxes_is_refused_saying_so():
    """Tika's testWORD_text_box.docx without its one paragraph on the page: what is left is in text boxes (and
    the header and footer), which the engine does not make units of. It was refused as "only pictures"."""
    from services.documents.engine import DocumentRejected
    from tests.unit.documents_engine.docx_fixtures import repack  # this module is imported by intake's tests too

    data = (CORPUS.parents[1] / "mail" / "docx" / "testWORD_text_box.docx").read_bytes()
    document = read_package(data)["word/document.xml"].decode("utf-8")
    on_the_page = "This text is directly in the body of the document."
    assert document.count(on_the_page) == 1
    with pytest.raises(DocumentRejected) as refused:
        parse_docx(repack(data, {"word/document.xml": document.replace(on_the_page, "").encode("utf-8")}))
    assert refused.value.code == "no_text" and "polach tekstowych" in refused.value.message_pl
    assert "text boxes" in refused.value.message


@pytest.mark.parametrize("path, because", [
    (CORPUS / "testWORD_charts.docx", "tylko obrazy lub obiekty"),
    (CORPUS / "headerPic.docx", "nie zawiera tekstu"),
    (CORPUS.parents[1] / "mail" / "docx" / "testAltChunkHTML.docx", "altChunk"),
    (CORPUS.parents[1] / "mail" / "docx" / "testAltChunkMHT.docx", "altChunk"),
    (CORPUS.parents[1] / "mail" / "docx" / "python-docx-tbl-2x2-table.docx", "nie zawiera tekstu"),
    (CORPUS.parents[1] / "mail" / "docx" / "docx2python-checked_drop1.docx", "nie zawiera tekstu"),
    (CORPUS.parents[1] / "mail" / "docx" / "openxmlsdk-Comment020.docx", "usunięty w trybie śledzenia zmian"),
])
def test_a_draft_without_text_is_refused_saying_why(path, because):
    """Nothing in it could be commented on: a chart alone, a picture in the header, text Word keeps as an
    imported web page (a web editor's export, opened and saved again in Word it becomes text), an empty table
    (python-docx's: accepted before, its cells' separators taken for text), a check box and a drop-down list
    alone (docx2python's; they were called "pictures or objects"), text all deleted with tracked changes
    (Open XML SDK's Comment020: "pictures" too)."""
    from services.documents.engine import DocumentRejected

    with pytest.raises(DocumentRejected) as refused:
        parse_docx(path.read_bytes())
    assert refused.value.code == "no_text" and because in refused.value.message_pl


def test_a_draft_with_its_own_keyboard_shortcuts_is_no_macro():
    """Open XML SDK's bookmark.docx (the C# 3.0 specification) keeps Word's keyboard shortcuts in
    customizations.xml (a key that types "§"), with no code in the package; it was refused as holding macros."""
    data = (CORPUS.parents[1] / "mail" / "docx" / "openxmlsdk-bookmark.docx").read_bytes()
    draft = parse_docx(data)
    assert "Version 3.0 Specification" in [unit.text for unit in draft.units[:4]] and len(draft.units) > 400
    from services.intake.mail.letter import letter_text  # a letter attached to a mail: read, not refused

    assert "26.1 Implicitly typed local variables" in letter_text("docx", data)


def test_an_embedded_excel_binary_workbook_is_no_macro_unless_it_holds_code():
    """Open XML SDK's object-chart.docx embeds an .xlsb, whose only registered content type says "macroEnabled";
    it was refused as macros. The workbook is looked into: with a VBA project inside, it still is."""
    import io
    import zipfile

    from services.documents.engine import DocumentRejected
    from tests.unit.documents_engine.docx_fixtures import repack  # this module is imported by intake's tests too

    data = (CORPUS.parents[1] / "mail" / "docx" / "openxmlsdk-object-chart.docx").read_bytes()
    assert parse_docx(data).units[0].text.startswith("On the Insert tab, the galleries include items")
    name = "word/embeddings/Microsoft_Office_Excel_Binary_Worksheet1.xlsb"
    workbook = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(read_package(data)[name])) as source, zipfile.ZipFile(workbook, "w") as target:
        for member in source.namelist():
            target.writestr(member, source.read(member))
        target.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 VBA")
    with pytest.raises(DocumentRejected) as refused:
        parse_docx(repack(data, {name: workbook.getvalue()}))
    assert refused.value.code == "macros" and name in refused.value.message
    with pytest.raises(DocumentRejected) as refused:
        parse_docx(repack(data, {name: b"not a workbook"}))
    assert refused.value.code == "macros"
