"""The text and tables of an RTF document. Pure: bytes in, paragraphs and tables out.

Offices publish forms as .rtf too (it opens in any word processor), and WordPad saves letters as RTF. This
reader knows what a form reader needs of the RTF 1.9.1 specification: groups and control words; text in the
document's code page (`\\ansicpgN`) or its font's (`\\fcharsetN` in the font table, 238 being Central European),
`\\'hh` bytes, `\\uN` with its `\\ucN` replacement characters skipped, `\\binN` data skipped; paragraphs (`\\par`),
line breaks and tabs; tables (`\\trowd`, `\\cellxN`, `\\intbl`, `\\cell`, `\\row`), merged cells lined up by their
cell edges and nested cells flattened into their outer cell; fields by their result (`\\fldrslt`). Destinations
that are not the document's text (font, colour and style tables, document information, pictures, objects,
headers, footers, footnotes, comments, field codes, any `{\\*\\…}`) are skipped.

Whatever breaks the reading (groups nested past `MAX_DEPTH`, no `{\\rtf`, more than `MAX_BYTES`) gives None.
"""

from __future__ import annotations

import codecs
import re

from services.intake.mail import storable
from services.intake.mail.rows import TABLE_HERE, DocumentText, lined_up

# Groups are kept on a list, not the call stack, so depth costs a few bytes a group. Outlook's RTF of an HTML mail
# (`\fromhtml1`) opens a group for each HTML tag and leaves those of unclosed <div>s open: 2,714 deep in RtfPipe's
# Issue52, which Word and LibreOffice read.
MAX_DEPTH = 5000
MAX_BYTES = 5 * 1024 * 1024  # a form or letter is far smaller; dense control words read at about 1.4 MB/s
_TOKEN = re.compile(rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|([\r\n]+)|([^\\{}\r\n]+)",
                    re.DOTALL)
_SKIPPED = frozenset({
    "fonttbl", "colortbl", "stylesheet", "info", "pict", "object", "header", "headerl", "headerr", "headerf",
    "footer", "footerl", "footerr", "footerf", "footnote", "annotation", "atnid", "atnauthor", "atndate", "fldinst",
    "themedata", "colorschememapping", "latentstyles", "datastore", "xmlnstbl", "listtable", "listoverridetable",
    "rsidtbl", "generator", "pgdsctbl", "filetbl", "revtbl", "xe", "tc", "userprops", "docvar", "nonshppict",
    "shpinst", "mmathPr", "pntxta", "pntxtb", "bkmkstart", "bkmkend", "template", "operator",
    "company", "title", "subject", "author", "keywords", "comment", "doccomm"})
# \fcharset numbers (RTF 1.9.1) to Python codecs
_CHARSETS = {0: "cp1252", 1: "cp1252", 2: "cp1252", 77: "mac_roman", 128: "cp932", 129: "cp949", 134: "cp936",
             136: "cp950", 161: "cp1253", 162: "cp1254", 163: "cp1258", 177: "cp1255", 178: "cp1256",
             186: "cp1257", 204: "cp1251", 222: "cp874", 238: "cp1250", 255: "cp437"}


class _Group:
    __slots__ = ("skip", "uc", "font", "fonttbl", "label")

    def __init__(self, skip: bool = False, uc: int = 1, font: int | None = None, fonttbl: bool = False):
        self.skip, self.uc, self.font, self.fonttbl = skip, uc, font, fonttbl
        self.label = False  # this group is a list item's number as the writer rendered it (`\listtext`)


def read_rtf(data: bytes) -> DocumentText | None:
    if not is_rtf(data) or len(data) > MAX_BYTES:
        return None
    try:
        return _Reader(data).read()
    except (ValueError, IndexError, LookupError, RecursionError):
        return None


def is_rtf(data: bytes) -> bool:
    return data.lstrip()[:5] == b"{\\rtf"


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.codepage = "cp1252"
        self.fonts: dict[int, str] = {}
        self.paragraphs: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.rows: list[list[str]] = []
        self.boundaries: list[tuple[int, ...]] = []
        self.row_edges: list[int] = []
        self.left = 0
        self.cells: list[str] = []
        self.buffer: list[str] = []  # the paragraph being read
        self.pending = bytearray()  # \'hh bytes waiting to be decoded together (a multi-byte character)
        self.in_table = False
        self.numbered = False
        self.font_being_defined: int | None = None
        self.default_font: int | None = None
        self.cell_lines: list[str] = []  # the paragraphs of the cell being read
        self.label = ""  # the list number of the paragraph being read ("1.", "a)"), from its `\listtext`
        self.text_before_label: list[str] = []

    def read(self) -> DocumentText:
        stack = [_Group()]
        skip_chars = 0
        position = 0
        group_opened_at = -1  # where the text after the last "{" starts
        length = len(self.data)
        while position < length:
            match = _TOKEN.match(self.data, position)
            if match is None:
                raise ValueError("unreadable RTF")
            position = match.end()
            word, argument, hex_byte, symbol, brace, newline, text = match.groups()
            group = stack[-1]
            if brace == b"{":
                self._flush_bytes(group)
                if len(stack) > MAX_DEPTH:
                    raise ValueError("groups nested too deep")
                stack.append(_Group(group.skip, group.uc, group.font, group.fonttbl))
                group_opened_at = position
                continue
            if brace == b"}":
                self._flush_bytes(group)
                if group.label:
                    self.label, self.buffer = _clean("".join(self.buffer)), self.text_before_label
                if len(stack) > 1:
                    stack.pop()
                if len(stack) == 1:
                    break  # the document's group is closed: what follows (a mailer's garbage) is not its text
                continue
            if newline:
                continue
            if word is not None:
                name = word.decode("ascii")
                value = int(argument) if argument else None
                if name == "bin" and value:
                    position += max(value, 0)  # binary data, skipped whole
                    continue
                if skip_chars and name not in ("u",):
                    skip_chars -= 1  # a control word standing in for a \uN's replacement
                    continue
                self._control(name, value, group, stack)
                if name == "u" and value is not None:
                    skip_chars = group.uc
                continue
            if hex_byte is not None:
                if skip_chars:
                    skip_chars -= 1
                    continue
                if not group.skip:
                    self.pending.append(int(hex_byte, 16))
                continue
            if symbol is not None:
                self._flush_bytes(group)
                if symbol == b"*":
                    # `{\*\dest …}`: an optional destination this reader does not know. Elsewhere in a group (as
                    # StarWriter writes `\b0\*\cs7` inside a run) it marks nothing and the text is read
                    if not self.data[group_opened_at:match.start()].strip():
                        group.skip = True
                elif symbol == b"~" and not group.skip:
                    self.buffer.append(" ")
                elif symbol in (b"-", b"_") and not group.skip:
                    self.buffer.append("" if symbol == b"-" else "-")
                elif symbol in (b"\\", b"{", b"}") and not group.skip:
                    self.buffer.append(symbol.decode("ascii"))
                elif symbol in (b"\n", b"\r") and not group.skip:
                    self._end_paragraph()
                continue
            if text is not None:
                self._flush_bytes(group)
                if skip_chars:
                    drop = min(skip_chars, len(text))
                    skip_chars -= drop
                    text = text[drop:]
                if not group.skip and text:  # the font table's names are skipped too
                    self.buffer.append(text.decode(self._codepage(group), "replace"))
        self._end_paragraph()
        self._end_table()
        return DocumentText(self.paragraphs, self.tables)

    def _codepage(self, group: _Group) -> str:
        font = group.font if group.font is not None else self.default_font
        return self.fonts.get(font, self.codepage) if font is not None else self.codepage

    def _flush_bytes(self, group: _Group) -> None:
        if self.pending:
            if not group.skip:
                self.buffer.append(bytes(self.pending).decode(self._codepage(group), "replace"))
            self.pending.clear()

    def _control(self, name: str, value: int | None, group: _Group, stack: list[_Group]) -> None:
        self._flush_bytes(group)
        if name in _SKIPPED:
            group.skip = True
            group.fonttbl = name == "fonttbl"
            return
        if name == "nesttableprops" and len(stack) > 1:
            # A nested table's row properties, which RTF puts after the row's cells; some writers (a Ukrainian
            # court register's, RtfPipe's Issue34) put the cells' text inside it, and Word and LibreOffice show it
            group.skip = stack[-2].skip
            return
        if name in ("listtext", "pntext") and not group.skip and not group.label:
            # the number Word or LibreOffice shows before the item, written out for readers without lists
            group.label, self.text_before_label, self.buffer = True, self.buffer, []
            return
        if name == "ansicpg" and value:
            self.codepage = _codec(f"cp{value}", self.codepage)
        elif name == "deff" and value is not None:
            self.default_font = value
        elif name == "f" and value is not None:
            if group.fonttbl:
                self.font_being_defined = value
            else:
                group.font = value
        elif name == "fcharset" and value is not None and group.fonttbl and self.font_being_defined is not None:
            self.fonts[self.font_being_defined] = _codec(_CHARSETS.get(value, ""), self.codepage)
        elif name == "uc" and value is not None:
            group.uc = max(0, min(value, 10))
        elif group.skip:
            return
        elif name == "u" and value is not None:
            self.buffer.append(chr(value % 65536))  # signed 16 bits; a surrogate pair is joined in _clean
        elif name == "par" or name == "sect":
            self._end_paragraph()
        elif name == "line":
            self.buffer.append("\n")
        elif name == "tab":
            self.buffer.append("\t")
        elif name in ("emdash", "endash"):
            self.buffer.append("—" if name == "emdash" else "–")
        elif name in ("lquote", "rquote", "ldblquote", "rdblquote"):
            self.buffer.append({"lquote": "‘", "rquote": "’", "ldblquote": "“", "rdblquote": "”"}[name])
        elif name == "bullet":
            self.buffer.append("•")
        elif name == "pard" and not group.label:  # LibreOffice resets inside the number: `{\listtext\pard 1.\tab}`
            self.in_table = False
            self.numbered = False
        elif name == "intbl":
            self.in_table = True
        elif name in ("ls", "ilvl") or name.startswith("pn"):
            self.numbered = self.numbered or name == "ls"
        elif name == "trowd":
            self.row_edges = []
            self.left = 0
        elif name == "trleft" and value is not None:
            self.left = value
        elif name == "cellx" and value is not None:
            self.row_edges.append(value)
        elif name == "cell":
            self.cells.append(self._take_cell_text())
        elif name in ("nestcell",):
            self.buffer.append("\n")
        elif name == "row":
            self._end_row()

    def _take_cell_text(self) -> str:
        self.cell_lines.append(self._labelled(_clean("".join(self.buffer))))
        self.buffer = []
        lines = [line for line in self.cell_lines if line]
        self.cell_lines = []
        return "\n".join(lines)

    def _end_row(self) -> None:
        if self.buffer and "".join(self.buffer).strip():
            self.cells.append(_clean("".join(self.buffer)))
        self.buffer = []
        if self.cells:
            self.rows.append(self.cells)
            edges = [self.left] + self.row_edges
            self.boundaries.append(tuple(edges) if len(edges) == len(self.cells) + 1 else ())
        self.cells = []

    def _end_paragraph(self) -> None:
        text = self._labelled(_clean("".join(self.buffer)))
        self.buffer = []
        if self.in_table:
            self.cell_lines = [*self.cell_lines, text]
            return
        self._end_table()
        if text or self.paragraphs:
            self.paragraphs.append(text)

    def _labelled(self, text: str) -> str:
        """The paragraph's text after its list number (its `\\listtext`; "•" for a bullet in whatever font's glyph,
        or for a numbered paragraph whose writer wrote no number out)."""
        label, self.label = self.label, ""
        if label and not any(character.isalnum() for character in label):
            label = "•"
        return f"{label or '•'} {text}" if (label or self.numbered) and text else text

    def _end_table(self) -> None:
        if self.cells:
            self._end_row()
        if self.rows:
            self.tables.append(lined_up(self.rows, self.boundaries))
            self.paragraphs.append(TABLE_HERE)
            self.rows, self.boundaries = [], []


def _codec(name: str, fallback: str) -> str:
    try:
        codecs.lookup(name)
    except LookupError:
        return fallback
    return name


def _clean(text: str) -> str:
    text = storable(text).replace("\xa0", " ")  # \u pairs beyond the BMP
    return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()
