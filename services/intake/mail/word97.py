"""The text and tables of a Word 97-2003 document (.doc, [MS-DOC]). Pure: bytes in, paragraphs and tables out.

Offices still publish their comment forms as .doc and people send them back filled in. The file is an OLE
compound file (read with olefile); its text is in the `WordDocument` stream, in pieces the piece table (`Clx`,
in the `0Table` or `1Table` stream) lists, each 8-bit (windows-1252) or UTF-16. A paragraph ends with a paragraph
mark (13) or, in a table, a cell mark (7); which cell marks end a row is a paragraph property (`sprmPFTtp`),
read from the formatted disk pages (`PlcBtePapx`), and the row's cell boundaries (`sprmTDefTable`) line merged
cells up with the columns they span. Only what a form reader needs is read: the main document's paragraphs and
its tables, nested tables flattened into their cell; fields show their result, not their code; a list paragraph
shows the number Word shows (word97_lists.py).

Whatever the file holds that this reader does not expect ends the reading with None (the mail then waits for
staff with the file kept, as before); an encrypted document is None too. Every offset is checked against its
stream, and at most `MAX_CHARS` characters are read.
"""

from __future__ import annotations

import io
import logging
import struct
from bisect import bisect_right
from dataclasses import dataclass

from services.intake.mail.rows import TABLE_HERE, DocumentText, lined_up
from services.intake.mail.word97_lists import NO_LIST, SPRM_ILFO, SPRM_ILVL, style_lists, word97_numbering

log = logging.getLogger("uwagi.intake.mail")

MAX_CHARS = 2_000_000
_MAX_STORY_CHARS = 100_000  # of a header, the footnotes, the text boxes: a letter's are a few lines
_WORD_IDENT = 0xA5EC
_SPRM_IN_TABLE, _SPRM_TTP, _SPRM_DEF_TABLE = 0x2416, 0x2417, 0xD608
_SPRM_ITAP = 0x6649  # table depth
_CELL, _PARAGRAPH = "\x07", "\r"


class _Unreadable(ValueError):
    pass




def read_word97(data: bytes) -> DocumentText | None:
    """The main text's paragraphs and tables: what a form is."""
    return _read(data, lambda reader: reader.read())


def word97_letter_text(data: bytes) -> str | None:
    """A letter's text as `letter_text` gives a DOCX's: its header's paragraphs (the letterhead), the main text,
    its text boxes, footnotes and endnotes, its footer's; a header repeated per section once."""
    def letter(reader: _Reader) -> str:
        main = reader.read().text
        headers, notes, footers = reader.stories()
        return "\n\n".join(block for block in [*headers, main, *notes, *footers] if block.strip())

    return _read(data, letter)


def _read(data: bytes, read):
    import olefile

    if not data.startswith(olefile.MAGIC):
        return None
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if not ole.exists("WordDocument"):
                return None
            document = ole.openstream("WordDocument").read()
            fib = _Fib(document)
            table_name = "1Table" if fib.which_table else "0Table"
            if not ole.exists(table_name):
                return None
            table = ole.openstream(table_name).read()
        return read(_Reader(document, table, fib))
    except Exception as error:  # noqa: BLE001 - olefile and struct raise whatever a damaged file makes them meet
        log.info("Word 97 document not read: %s: %s", type(error).__name__, error)
        return None


class _Fib:
    """The file information block's fields this reader needs ([MS-DOC] 2.5.1)."""

    def __init__(self, document: bytes):
        if len(document) < 34 or struct.unpack_from("<H", document, 0)[0] != _WORD_IDENT:
            raise _Unreadable("not a Word 97 document")
        flags = struct.unpack_from("<H", document, 0x0A)[0]
        if flags & 0x0100:  # fEncrypted
            raise _Unreadable("encrypted")
        self.which_table = bool(flags & 0x0200)
        offset = 32
        csw = struct.unpack_from("<H", document, offset)[0]
        offset += 2 + csw * 2
        cslw = struct.unpack_from("<H", document, offset)[0]
        lw_offset = offset + 2
        # ccpText, then the other stories' lengths, in the order their text follows the main text's ([MS-DOC]
        # 2.5.10 FibRgLw97): footnotes, headers and footers, (macros, always 0), comments, endnotes, text boxes
        self.ccp_text, *self.story_lengths = struct.unpack_from("<8i", document, lw_offset + 3 * 4)
        offset = lw_offset + cslw * 4
        cb_rg_fc_lcb = struct.unpack_from("<H", document, offset)[0]
        self._document, self._pairs_offset, self._pairs = document, offset + 2, cb_rg_fc_lcb
        self.clx = self._pair(33)
        self.plcf_bte_papx = self._pair(13)
        self.plcf_hdd = self._pair(11)  # where each header and footer starts in the header story
        # the style sheet, the lists and their instances: the paragraphs' numbers, which a FIB without them lacks
        self.stshf, self.plf_lst, self.plf_lfo = (self._pair(index) if index < self._pairs else (0, 0)
                                                  for index in (1, 73, 74))
        if not 0 <= self.ccp_text <= MAX_CHARS:
            raise _Unreadable("text length out of range")
        if not all(0 <= length <= MAX_CHARS for length in self.story_lengths):
            self.story_lengths = [0] * 7  # the stories beside the main text are not read

    def _pair(self, index: int) -> tuple[int, int]:
        """The (fc, lcb) pair `index` of FibRgFcLcb97: 1 is Stshf, 11 PlcfHdd, 13 PlcfBtePapx, 33 Clx, 73 PlfLst,
        74 PlfLfo."""
        if index >= self._pairs:
            raise _Unreadable("the FIB has no such field")
        return struct.unpack_from("<II", self._document, self._pairs_offset + index * 8)


class _Reader:
    def __init__(self, document: bytes, table: bytes, fib: _Fib):
        self.document, self.table, self.fib = document, table, fib
        self.pieces = self._pieces()
        self.pap = _ParagraphProperties(self.document, self.table, self.fib.plcf_bte_papx)
        self.numbering = word97_numbering(self.table, self.fib.plf_lst, self.fib.plf_lfo)
        self.numbered_styles = style_lists(self.table, self.fib.stshf, _list_of)

    def read(self) -> DocumentText:
        text, fcs = self._text(0, self.fib.ccp_text)
        pap, numbering, numbered_styles = self.pap, self.numbering.fresh(), self.numbered_styles
        paragraphs: list[str] = []
        tables: list[list[list[str]]] = []
        rows: list[list[str]] = []  # of the table being read
        boundaries: list[list[int]] = []  # each row's cell boundaries, from its row-end mark
        cells: list[str] = []
        cell_text: list[str] = []
        start = 0
        for position, char in enumerate(text):
            if char not in (_PARAGRAPH, _CELL):
                continue
            paragraph = _clean(text[start:position])
            start = position + 1
            properties = pap.at(fcs[position])
            if char == _CELL and properties.ttp:  # the end of a row
                rows.append(cells)
                boundaries.append(properties.boundaries)
                cells = []
                continue
            label = _label(properties, numbered_styles, numbering)  # Word counts an empty numbered paragraph too
            if label and paragraph:
                paragraph = f"{label} {paragraph}"
            if char == _CELL or properties.in_table:
                cell_text.append(paragraph)
                if char == _CELL:
                    cells.append("\n".join(line for line in cell_text if line))
                    cell_text = []
                continue
            if rows:  # the paragraph after a table: the table is done
                tables.append(lined_up(rows, boundaries))
                paragraphs.append(TABLE_HERE)
                rows, boundaries = [], []
            paragraphs.append(paragraph)
        if rows:
            tables.append(lined_up(rows, boundaries))
            paragraphs.append(TABLE_HERE)
        return DocumentText(paragraphs, tables)

    def _pieces(self) -> list[tuple[int, int, int, bool]]:
        """(first CP, last CP, FC, compressed) of each piece of text ([MS-DOC] 2.9.38 Clx, 2.9.177 PlcPcd)."""
        offset, size = self.fib.clx
        clx = self.table[offset:offset + size]
        if len(clx) != size or not size:
            raise _Unreadable("no piece table")
        position = 0
        while position < len(clx) and clx[position] == 0x01:  # Prc: property modifiers of fast-saved files
            position += 3 + struct.unpack_from("<h", clx, position + 1)[0]
        if position >= len(clx) or clx[position] != 0x02:
            raise _Unreadable("no piece table in the Clx")
        lcb = struct.unpack_from("<I", clx, position + 1)[0]
        plc = clx[position + 5:position + 5 + lcb]
        if len(plc) != lcb or (lcb - 4) % 12:
            raise _Unreadable("a piece table of the wrong size")
        count = (lcb - 4) // 12
        cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
        pieces = []
        for index in range(count):
            fc_value = struct.unpack_from("<I", plc, (count + 1) * 4 + index * 8 + 2)[0]
            compressed = bool(fc_value & 0x40000000)
            fc = fc_value & 0x3FFFFFFF
            pieces.append((cps[index], cps[index + 1], fc // 2 if compressed else fc, compressed))
        return pieces

    def stories(self) -> tuple[list[str], list[str], list[str]]:
        """The paragraphs of the stories beside the main text, after it in the CP space: (headers, text boxes and
        footnotes and endnotes, footers). A header or footer Word repeats per section is given once."""
        starts = [self.fib.ccp_text]  # of the footnotes, headers, macros, comments, endnotes, text boxes, …
        for length in self.fib.story_lengths:
            starts.append(starts[-1] + length)
        footnotes, headers, endnotes, text_boxes = ((starts[index], starts[index + 1]) for index in (0, 1, 4, 5))
        header_story, footer_story = self._headers_and_footers(headers[0], headers[1] - headers[0])
        notes = [*self._paragraphs(*text_boxes), *self._paragraphs(*footnotes), *self._paragraphs(*endnotes)]
        return list(dict.fromkeys(header_story)), notes, list(dict.fromkeys(footer_story))

    def _headers_and_footers(self, start: int, length: int) -> tuple[list[str], list[str]]:
        """The header story's headers and footers, by `PlcfHdd` ([MS-DOC] 2.9.170): six separator stories, then
        per section its even and odd header, even and odd footer, first page's header and footer."""
        offset, size = self.fib.plcf_hdd
        plc = self.table[offset:offset + size]
        if not length or len(plc) != size or size < 8 or size % 4:
            return [], []
        bounds = struct.unpack_from(f"<{size // 4}I", plc, 0)
        headers: list[str] = []
        footers: list[str] = []
        for index in range(6, len(bounds) - 1):
            first, last = bounds[index], bounds[index + 1]
            if first < last <= length:
                (footers if (index - 6) % 6 in (2, 3, 5) else headers).extend(
                    self._paragraphs(start + first, start + last))
        return headers, footers

    def _paragraphs(self, first: int, last: int) -> list[str]:
        """A story's paragraphs (a table's cells as paragraphs), each after its list number, counted within the
        story as a DOCX's are within its part; at most `_MAX_STORY_CHARS` characters of it."""
        if last <= first:
            return []
        text, fcs = self._text(first, min(last, first + _MAX_STORY_CHARS))
        numbering = self.numbering.fresh()  # the lists counted within the story, from the definitions read once
        found, start = [], 0
        for position, char in enumerate(text):
            if char in (_PARAGRAPH, _CELL):
                paragraph = _clean(text[start:position])
                start = position + 1
                properties = self.pap.at(fcs[position])
                if char == _CELL and properties.ttp:
                    continue
                label = _label(properties, self.numbered_styles, numbering)
                if paragraph:
                    found.append(f"{label} {paragraph}" if label else paragraph)
        return found

    def _text(self, story_first: int, story_last: int) -> tuple[str, list[int]]:
        """The text of the CPs from `story_first` to `story_last` and, for each character, its FC (file offset)."""
        chars: list[str] = []
        fcs: list[int] = []
        for first, last, fc, compressed in self.pieces:
            begin_cp, first, last = first, max(first, story_first), min(last, story_last)
            if last <= first:
                continue
            count = last - first
            width = 1 if compressed else 2
            begin = fc + (first - begin_cp) * width
            raw = self.document[begin:begin + count * width]
            if len(raw) != count * width:
                raise _Unreadable("a piece of text past the end of the stream")
            chars.append(raw.decode("cp1252", "replace") if compressed else raw.decode("utf-16-le", "replace"))
            fcs.extend(range(begin, begin + count * width, width))
            if len(fcs) > MAX_CHARS:
                raise _Unreadable("too much text")
        return "".join(chars), fcs


@dataclass(frozen=True)
class _Properties:
    in_table: bool = False
    ttp: bool = False
    boundaries: tuple[int, ...] = ()
    style: int = 0  # istd: the paragraph's style in the style sheet
    list_instance: int | None = None  # sprmPIlfo, None when the paragraph does not set it (its style may)
    list_level: int | None = None  # sprmPIlvl


def _list_of(grpprl: bytes) -> tuple[int, int] | None:
    """A style's own list instance and level, None when it names none."""
    properties = _sprms(grpprl)
    if properties.list_instance is None:
        return None
    return properties.list_instance, properties.list_level or 0


def _label(properties: _Properties, numbered_styles: dict[int, tuple[int, int]], numbering) -> str | None:
    """What Word shows before the paragraph (`WordNumbering.label`), advancing its list; None for a paragraph no
    list numbers. A level of its own overrides its style's, as in a DOCX."""
    from_style = numbered_styles.get(properties.style)
    if properties.list_instance is not None:
        if properties.list_instance in NO_LIST:
            return None
        instance = properties.list_instance
        level = properties.list_level if properties.list_level is not None else (from_style[1] if from_style else 0)
    elif from_style is not None:
        instance = from_style[0]
        level = properties.list_level if properties.list_level is not None else from_style[1]
    else:
        return None
    return numbering.label(str(instance), min(level, 8))


class _ParagraphProperties:
    """Paragraph properties by the FC of a paragraph's mark: the formatted disk pages ([MS-DOC] 2.9.172 PlcBtePapx,
    2.9.174 PapxFkp) and their sprms ([MS-DOC] 2.6.2)."""

    def __init__(self, document: bytes, table: bytes, where: tuple[int, int]):
        offset, size = where
        plc = table[offset:offset + size]
        if len(plc) != size or (size - 4) % 8:
            raise _Unreadable("no paragraph properties")
        count = (size - 4) // 8
        self.document = document
        self.pages = [struct.unpack_from("<I", plc, (count + 1) * 4 + index * 4)[0] & 0x3FFFFF for index in range(count)]
        self.page_starts = list(struct.unpack_from(f"<{count}I", plc, 0))
        self._cache: dict[int, tuple[list[int], list[_Properties]]] = {}

    def at(self, fc: int) -> _Properties:
        index = bisect_right(self.page_starts, fc) - 1
        if index < 0:
            return _Properties()
        starts, properties = self._page(self.pages[index])
        run = bisect_right(starts, fc) - 1
        return properties[run] if 0 <= run < len(properties) else _Properties()

    def _page(self, number: int) -> tuple[list[int], list[_Properties]]:
        if number in self._cache:
            return self._cache[number]
        page = self.document[number * 512:(number + 1) * 512]
        if len(page) != 512:
            raise _Unreadable("a formatted disk page past the end of the stream")
        runs = page[511]
        starts = list(struct.unpack_from(f"<{runs + 1}I", page, 0))
        properties = []
        for run in range(runs):
            b_offset = page[(runs + 1) * 4 + run * 13] * 2
            properties.append(_papx(page, b_offset) if b_offset else _Properties())
        self._cache[number] = (starts[:runs], properties)
        return self._cache[number]


def _papx(page: bytes, offset: int) -> _Properties:
    cb = page[offset]
    if cb:
        grpprl = page[offset + 1:offset + 2 * cb]
    else:
        size = page[offset + 1] * 2
        grpprl = page[offset + 2:offset + 2 + size]
    style = struct.unpack_from("<H", grpprl, 0)[0] if len(grpprl) >= 2 else 0
    return _sprms(grpprl[2:], style)  # after the style index


def _sprms(grpprl: bytes, style: int = 0) -> _Properties:
    in_table = ttp = False
    list_instance = list_level = None
    boundaries: tuple[int, ...] = ()
    depth = 1
    position = 0
    while position + 2 <= len(grpprl):
        sprm = struct.unpack_from("<H", grpprl, position)[0]
        position += 2
        spra = sprm >> 13
        if spra == 6:  # variable: a size byte (two for sprmTDefTable)
            if sprm == _SPRM_DEF_TABLE:  # TDefTableOperand: cb (the rest's size + 1), then the rest
                if position + 2 > len(grpprl):
                    break
                rest = max(struct.unpack_from("<H", grpprl, position)[0] - 1, 0)
                boundaries = _cell_boundaries(grpprl[position + 2:position + 2 + rest])
                position += 2 + rest
                continue
            if position >= len(grpprl):
                break
            size = grpprl[position]
            position += 1 + size
            continue
        size = {0: 1, 1: 1, 2: 2, 3: 4, 4: 2, 5: 2, 7: 3}[spra]
        operand = grpprl[position:position + size]
        position += size
        if sprm == _SPRM_IN_TABLE:
            in_table = bool(operand and operand[0])
        elif sprm == _SPRM_TTP:
            ttp = bool(operand and operand[0])
        elif sprm == _SPRM_ITAP and len(operand) == 4:
            depth = struct.unpack("<i", operand)[0]
        elif sprm == SPRM_ILFO and len(operand) == 2:
            list_instance = struct.unpack("<H", operand)[0]
        elif sprm == SPRM_ILVL and len(operand) == 1:
            list_level = operand[0]
    if depth > 1:  # a nested table's marks are text of the outer cell
        return _Properties(in_table=True, style=style, list_instance=list_instance, list_level=list_level)
    return _Properties(in_table or ttp, ttp, boundaries, style, list_instance, list_level)


def _cell_boundaries(operand: bytes) -> tuple[int, ...]:
    """The x positions of a row's cell edges (TDefTableOperand: itcMac, then itcMac+1 signed twips)."""
    if not operand:
        return ()
    cells = operand[0]
    if 1 + (cells + 1) * 2 > len(operand) or cells > 63:
        return ()
    return struct.unpack_from(f"<{cells + 1}h", operand, 1)


_FIELD_BEGIN, _FIELD_SEPARATOR, _FIELD_END = "\x13", "\x14", "\x15"


def _clean(text: str) -> str:
    """A paragraph's text: a field shows its result (the text between its separator and end), not its code;
    Word's special characters (pictures, footnote marks, page breaks) are left out; a line break is a new line."""
    out: list[str] = []
    hiding = 0  # inside a field's code
    stack: list[bool] = []
    for char in text:
        if char == _FIELD_BEGIN:
            stack.append(True)
            hiding += 1
        elif char == _FIELD_SEPARATOR:
            if stack and stack[-1]:
                stack[-1] = False
                hiding -= 1
        elif char == _FIELD_END:
            if stack and stack.pop():
                hiding -= 1
        elif hiding:
            continue
        elif char == "\x0b":
            out.append("\n")
        elif char == "\t":
            out.append("\t")
        elif char in "\x1e\x1f":  # a non-breaking hyphen; an optional one
            out.append("-" if char == "\x1e" else "")
        elif ord(char) < 32 or char == "\uf0b7":
            continue
        else:
            out.append(char.replace("\xa0", " "))
    return "\n".join(" ".join(line.split()) for line in "".join(out).split("\n")).strip()
