"""Word files from other projects' test data (tests/corpus/word/SOURCES.md): tables read once, with their line
breaks, and a lower-case Roman list level read as a level under letters, not as a chapter."""

from __future__ import annotations

from pathlib import Path

from services.documents.engine import parse_docx

WORD = Path(__file__).resolve().parents[2] / "corpus" / "word"


def units(name: str):
    return parse_docx((WORD / name).read_bytes()).units


def test_a_table_nested_in_a_cell_is_read_once_in_its_place():
    [outer] = [u for u in units("python-docx-blk-paras-and-tables.docx") if "Text before" in u.text]
    assert outer.text == "Text before Table / Between Text after"
    text = "\n".join(u.text for u in units("poi-bug65738-nested-table.docx"))
    assert text.count("Nested table") == 1 and text.count("More of our nested table") == 1


def test_figures_a_cell_puts_on_lines_of_their_own_stay_apart():
    text = "\n".join(u.text for u in units("poi-IllustrativeCases.docx"))
    assert "17,542 32,000 3,508" in text and "17,54232,000" not in text


def test_a_lower_case_roman_level_is_under_its_letter_and_no_chapter():
    read = units("poi-Numbering.docx")
    assert not [u for u in read if u.kind == "chapter"]
    by_id = {u.id: u for u in read}
    # the list "1." / "a." / "i.": Level3 belongs to the letter above it, and the next list is no part of it
    level3 = next(u for u in read if u.text == "Level3")
    assert by_id[level3.parent].label == "ust. 1 lit. a" and level3.kind == "tiret"
    one = next(u for u in read if u.text == "One")
    assert one.parent is None and one.label == "ust. 1"
    # "NEW-1-FORMAT" / "a)" / "i)": "i)" is the third level's first item, not a letter "i" after "a"
    assert [u.label for u in read if u.text.strip() == "Level3"][-1].endswith("lit. a tiret 1")
