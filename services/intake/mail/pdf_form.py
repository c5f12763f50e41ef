"""A comment form filled in and saved as PDF ("Zapisz jako PDF", "Drukuj do PDF"): its tables read by the lines
Word and LibreOffice draw around the cells (pdfplumber), so the rows are read as a DOCX form's are.

A PDF keeps each printed line, so a cell's text is its lines joined back: with a space, or without one where the
word processor broke a word too long for a narrow column ("pozafinanso" | "wy."), which it does only when the
word alone fills the line (see `_joined`). A row that runs onto the next page continues there in a table of the
same columns whose first cell is empty; the header a form repeats on every page is left out.

pdfminer, under pdfplumber, has no limits of its own on what a hostile file may make it decompress or compute,
so the file is read in a child process with a memory and CPU limit (`python -m services.intake.mail.pdf_form`,
the PDF on its standard input, the text as JSON on its standard output). A PDF that cannot be read in those
limits, or has no comment table, is no form: the mail waits for staff, and the letter reader gives its text.
"""

from __future__ import annotations

import io
import json
import logging
import re
import statistics
import sys
from dataclasses import dataclass, field

from services.intake.mail.isolated import limit_resources, run_isolated
from services.intake.mail.rows import DocumentText

log = logging.getLogger("uwagi.intake.mail")

MAX_PAGES = 40
MAX_CELLS_PER_PAGE = 2_000
MEMORY_LIMIT = 1 << 30  # bytes of address space for the child
CPU_SECONDS = 40  # a 40-page form takes 17–20 s of CPU on a slow 2-core machine; 20 s killed it in CI
WALL_SECONDS = 60


def is_pdf(data: bytes) -> bool:
    """A PDF is known by its bytes, whatever its name or label says."""
    return data[:1024].lstrip().startswith(b"%PDF-")


def read_pdf_document(data: bytes) -> DocumentText | None:
    """The PDF's text outside tables and its tables as rows of cell texts, read in a limited child process; None
    when it cannot be read there (damaged, encrypted, too costly) or has no table."""
    found = run_isolated("services.intake.mail.pdf_form", data, wall_seconds=WALL_SECONDS, what="PDF tables")
    if found is None:
        return None
    if not found["tables"]:
        return None
    return DocumentText(found["paragraphs"], found["tables"])


# --- in the child process -----------------------------------------------------------------


@dataclass
class _Line:
    text: str
    left: float  # where its first glyph starts
    right: float  # where its last glyph ends
    first_width: float  # the width of its first glyph
    top: float = 0.0  # from the top of its page


@dataclass
class _Cell:
    left: float
    right: float
    lines: list[_Line]


@dataclass
class _Table:
    page: int  # the last page it is on
    columns: tuple[float, ...]  # the cells' left edges in the table's widest row
    rows: list[list[_Cell]] = field(default_factory=list)  # a cell merged over is one without lines


# Typographic ligatures some fonts print ("ﬁ"): the letters they stand for.
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st"})
# pdfminer's stand-in for a glyph whose font does not say which character it is: the text cannot be trusted.
_UNMAPPED_GLYPH = "(cid:"


@dataclass(frozen=True)
class _Typed:
    """Text typed onto a page rather than into it: a text box (a FreeText annotation, as macOS Preview's text
    tool and Acrobat's Fill & Sign add to a form that has no fields) or a filled text field (an AcroForm widget)."""

    x0: float
    top: float
    x1: float
    bottom: float
    text: str


def _typed_on(page) -> list[_Typed]:
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    def value(field: dict, depth: int = 0):  # a widget's value may sit on its parent field
        found = resolve1(field.get("V"))
        if found is None and depth < 3 and isinstance(resolve1(field.get("Parent")), dict):
            return value(resolve1(field["Parent"]), depth + 1)
        return found

    def name(obj) -> str:  # a PDF name (/FreeText) as pdfminer gives it: a literal whose name is str or bytes
        found = getattr(resolve1(obj), "name", "")
        return found.decode("latin-1") if isinstance(found, bytes) else str(found)

    typed = []
    for annotation in page.annots[:500]:
        data = annotation.get("data") or {}
        kind = name(data.get("Subtype"))
        if kind == "FreeText":
            # decoded here: pdfplumber's own "contents" reads a PDFDocEncoding string ("\xa7 6") as UTF-16
            found = resolve1(data.get("Contents"))
        elif kind == "Widget" and name(data.get("FT") or (resolve1(data.get("Parent")) or {}).get("FT")) == "Tx":
            found = value(data)
        else:
            continue
        text = decode_text(found) if isinstance(found, bytes) else found if isinstance(found, str) else None
        if isinstance(text, str) and text.strip():
            typed.append(_Typed(annotation["x0"], annotation["top"], annotation["x1"], annotation["bottom"],
                                text.translate(_LIGATURES)))
    return typed


def _centre_in(bbox, x0: float, top: float, x1: float, bottom: float) -> bool:
    """A glyph or a text box belongs to the cell its centre is in, as pdfplumber's own extract() says."""
    left, upper, right, lower = bbox
    return left <= (x0 + x1) / 2 <= right and upper <= (top + bottom) / 2 <= lower


def _cell(page, bbox, typed: list[_Typed] = ()) -> _Cell:
    def inside(obj) -> bool:
        return obj.get("object_type") == "char" and _centre_in(bbox, obj["x0"], obj["top"], obj["x1"], obj["bottom"])

    lines = []
    for line in page.filter(inside).extract_text_lines(return_chars=True, keep_blank_chars=False):
        text = " ".join(line["text"].translate(_LIGATURES).split())
        chars = [char for char in line["chars"] if char["text"].strip()]
        if text and chars:
            lines.append(_Line(text, chars[0]["x0"], max(char["x1"] for char in chars),
                               chars[0]["x1"] - chars[0]["x0"], line["top"]))
    for box in typed:  # its own line breaks are the writer's; its edge says nothing of broken words
        if _centre_in(bbox, box.x0, box.top, box.x1, box.bottom):
            lines.extend(_Line(" ".join(part.split()), box.x0, box.x0, 0.0, box.top + offset / 1000)
                         for offset, part in enumerate(box.text.splitlines()) if part.strip())
    return _Cell(bbox[0], bbox[2], sorted(lines, key=lambda line: line.top))


def _tables_of(page, found_tables, number: int, typed: list[_Typed]) -> list[_Table]:
    tables, cells = [], 0
    for found in found_tables:
        widest = max(found.rows, key=lambda row: sum(cell is not None for cell in row.cells))
        table = _Table(number, tuple(round(cell[0], 1) for cell in widest.cells if cell is not None))
        for row in found.rows:
            cells += len(row.cells)
            if cells > MAX_CELLS_PER_PAGE:
                raise ValueError("too many table cells on one page")
            table.rows.append([_cell(page, cell, typed) if cell is not None else _Cell(0.0, 0.0, [])
                               for cell in row.cells])
        tables.append(table)
    return tables


def _continues(table: _Table, earlier: _Table) -> bool:
    """A table at the top of a page with the columns of the one that ended the page before."""
    return table.page == earlier.page + 1 and len(table.columns) == len(earlier.columns) and \
        all(abs(a - b) <= 2 for a, b in zip(table.columns, earlier.columns))


_ROW_NUMBER = re.compile(r"^\d{1,4}[.)]?$")


def _texts(row: list[_Cell]) -> list[str]:
    return [" ".join(line.text for line in cell.lines) for cell in row]


def _merged(tables: list[_Table]) -> list[_Table]:
    """Tables with their continuations on later pages appended: the header a form repeats left out, a row broken
    by the page joined to its start (its first cell, the number, is empty and the row before it, not a header,
    had one)."""
    from services.intake.mail.form import classify_header  # form.py reads PDFs through this module

    def header_like(texts: list[str]) -> bool:
        return sum(classify_header(text) is not None for text in texts) >= 2

    merged: list[_Table] = []
    for table in tables:
        earlier = merged[-1] if merged else None
        if earlier is None or not _continues(table, earlier) or not earlier.rows:
            merged.append(table)
            continue
        header = [_texts(row) for row in earlier.rows[:3]]
        rows = [row for row in table.rows if _texts(row) not in header]
        before, first = _texts(earlier.rows[-1]), _texts(rows[0]) if rows else [""]
        # a numbered row is a comment, whatever its words start with ("Uzasadnienie zmiany …")
        is_header = header_like(before) and not _ROW_NUMBER.match(before[0])
        if not first[0] and any(first) and before[0] and not is_header:
            last = earlier.rows[-1]
            for index, cell in enumerate(rows.pop(0)):
                if index < len(last):
                    last[index].lines.extend(cell.lines)
        earlier.rows.extend(rows)
        earlier.page = table.page  # it may go on over the next page too
    return merged


_ENDS_IN_LETTER = re.compile(r"\w$")
_STARTS_LOWER = re.compile(r"^[a-ząćęłńóśźż]")
_LEADING_LETTERS = re.compile(r"^\w+")


def _joined(lines: list[_Line], usable_right: float, pitch: float | None = None) -> str:
    """A cell's lines as its text: joined by spaces, but without one where a word was broken (`_broken_word`) or
    after a hyphen that follows a letter (hyphenation is off by default in Word and LibreOffice: the hyphen is
    the word's own, "społeczno-gospodarczy"); a new paragraph where the gap to the line before is wider than the
    table's usual distance between lines (`pitch`), as Word leaves after each paragraph."""
    text = ""
    previous: _Line | None = None
    for line in lines:
        if previous is None:
            text = line.text
        elif pitch is not None and line.top - previous.top > 1.4 * pitch:
            text += "\n" + line.text
        elif (previous.text.endswith("-") and previous.text[-2:-1].isalpha()) or \
                _broken_word(previous, line, usable_right):
            text += line.text
        else:
            text += " " + line.text
        previous = line
    return text


def _broken_word(previous: _Line, line: _Line, usable_right: float) -> bool:
    """A word processor breaks a word inside only when the word alone does not fit on a line: the line before is
    that one word's start, it reaches the edge (the next glyph would not have fitted) and lower case follows.
    A whole word may end there too ("działającymi" | "w ich"): then the Polish word list decides. The joined word
    is a word ("organizacjam" | "i"); else the line's word is one, so the break was a space; else neither is known,
    as long words seldom are ("międzysektor" | "owych"), and the word is joined."""
    if " " in previous.text or not _ENDS_IN_LETTER.search(previous.text) or not _STARTS_LOWER.match(line.text):
        return False
    if previous.right + line.first_width <= usable_right:
        return False
    continuation = _LEADING_LETTERS.match(line.text)
    joined = previous.text + (continuation.group(0) if continuation else "")
    return _known_word(joined) or not _known_word(previous.text)


def _known_word(word: str) -> bool:
    from wordfreq import zipf_frequency

    return zipf_frequency(word.lower(), "pl", wordlist="large") > 0


def _grid(table: _Table) -> list[list[str]]:
    """The cells' texts. A line may reach as far right from its cell's right edge as the column's text starts from
    the cell's left edge (the cell's padding, the same on both sides)."""
    width = max(len(row) for row in table.rows)
    padding = [min((line.left - row[index].left for row in table.rows if index < len(row)
                    for line in row[index].lines), default=0.0) for index in range(width)]
    pitch = _usual_pitch(table)
    return [[_joined(cell.lines, cell.right - padding[index] + 0.2, pitch) for index, cell in enumerate(row)]
            for row in table.rows]


def _usual_pitch(table: _Table) -> float | None:
    """The most common distance from one line's top to the next within a cell (a cell that goes on over a page
    starts again at the top, and a text box's lines are a thousandth of a point apart: not distances), None when
    no cell has two printed lines."""
    distances = sorted(round(line.top - before.top, 1) for row in table.rows for cell in row
                       for before, line in zip(cell.lines, cell.lines[1:]) if line.top - before.top >= 1.0)
    return statistics.mode(distances) if distances else None


def _outside(page, tables, typed: list[_Typed]) -> list[str]:
    """The page's lines outside its tables, top to bottom. A text box typed onto the page outside a table goes to
    the end of the printed line it stands beside ("Imię i nazwisko:" | "Anna Nowak"), else on a line of its own."""
    boxes = [table.bbox for table in tables]

    def outside(obj) -> bool:
        return not any(x0 - 1 <= obj.get("x0", 0) and obj.get("x1", 0) <= x1 + 1 and top - 1 <= obj.get("top", 0)
                       and obj.get("bottom", 0) <= bottom + 1 for x0, top, x1, bottom in boxes)

    lines = [{"text": " ".join(line["text"].translate(_LIGATURES).split()), "top": line["top"],
              "bottom": line["bottom"], "x1": line["x1"]}
             for line in page.filter(outside).extract_text_lines(keep_blank_chars=False) if line["text"].strip()]
    for box in typed:
        if not outside({"x0": box.x0, "x1": box.x1, "top": box.top, "bottom": box.bottom}):
            continue
        middle, text = (box.top + box.bottom) / 2, " ".join(box.text.split())
        beside = next((line for line in lines if line["top"] - 2 <= middle <= line["bottom"] + 2
                       and line["x1"] <= box.x0 + 2), None)
        if beside is not None:
            beside["text"] += " " + text
        else:
            lines.append({"text": text, "top": box.top, "bottom": box.bottom, "x1": box.x1})
    return [line["text"] for line in sorted(lines, key=lambda line: line["top"]) if line["text"]]


def read_in_child(data: bytes) -> dict:
    import pdfplumber

    paragraphs: list[str] = []  # the lines outside tables: "Imię i nazwisko: …" and the like
    tables: list[_Table] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for number, page in enumerate(pdf.pages[:MAX_PAGES]):
            found, typed = page.find_tables(), _typed_on(page)
            paragraphs.extend(_outside(page, found, typed))
            tables.extend(_tables_of(page, found, number, typed))
    grids = [_grid(table) for table in _merged(tables) if table.rows]
    if any(_UNMAPPED_GLYPH in cell for grid in grids for row in grid for cell in row):
        return {"paragraphs": paragraphs, "tables": []}  # glyphs without characters: staff read the file themselves
    return {"paragraphs": paragraphs, "tables": grids}


if __name__ == "__main__":
    limit_resources(MEMORY_LIMIT, CPU_SECONDS)
    logging.disable(logging.WARNING)  # pdfminer warns about every odd object; the parent logs the outcome
    json.dump(read_in_child(sys.stdin.buffer.read()), sys.stdout, ensure_ascii=False)
