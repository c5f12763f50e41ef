"""The text of a letter attached to an e-mail, for the staff who transcribe it. Pure: bytes in, text out.

NGOs often send their comments as a letter rather than the form: a Word or LibreOffice document with numbered
points ("1. Rozdział VI § 12 ust. 19 … Zmiana na: …"), or the same letter as a PDF. No comment table is read from
it, so the mail waits for staff; the transcription page shows the letter's text beside the form, and the rows
the text names a provision for start filled in (suggest.py), as they do for comments written in the mail.

A file read here has passed the package checks of `form.read_form` (a DOCX or ODT) or is a PDF; a PDF is read by
pypdf with its own limits on decompression, no more than `MAX_PAGES` pages and `MAX_CHARS` characters, and a
PDF that cannot be read (scanned, damaged, encrypted) gives no text, never an error: the file itself stays
attached for staff to open.
"""

from __future__ import annotations

import copy
import email
import email.policy
import io
import logging
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass

from lxml import etree
from rapidfuzz import fuzz

from services.common.docx_safety import with_usual_main_part
from services.common.word_numbering import list_labels, numbering_of, style_lists_of
from services.common.xmltree import parse_untrusted_xml
from services.intake.mail import storable
from services.intake.mail.form import W, _docx_text, _without_what_word_does_not_show, _wrapped_children
from services.intake.mail.odf_text import (ODF_STYLE, ODF_TABLE, ODF_TEXT, OdfLists, odt_inline, odt_list_labels,
                                           odt_text_body, odt_text_boxes)
from services.intake.mail.rows import FilledForm
from services.intake.mail.rtf import read_rtf
from services.intake.mail.word97 import word97_letter_text

log = logging.getLogger("uwagi.intake.mail")

MAX_CHARS = 60_000
MAX_PAGES = 40


def letter_text(kind: str | None, data: bytes) -> str:
    """The readable text of an attached letter (`kind` as `form.form_kind` says, or "pdf"), "" when there is none.

    Paragraphs are separated by a blank line; a paragraph Word or LibreOffice numbers itself starts with the number
    it shows ("1.", "a)"; "• " for a bullet), and a table row gives one line of its cells joined by " | "."""
    try:
        if kind == "docx":
            text = _docx_letter(data)
        elif kind == "odt":
            text = _odt_letter(data)
        elif kind == "pdf":
            text = _pdf_letter(data)
        elif kind == "txt":
            from services.intake.mail.parse import decode_8bit

            text = decode_8bit(data[:MAX_CHARS * 4]).lstrip("\ufeff") if b"\0" not in data[:4096] else ""
        elif kind == "doc":
            text = word97_letter_text(data) or ""
        elif kind == "rtf":
            document = read_rtf(data)
            text = document.text if document is not None else ""
        else:
            return ""
    except (KeyError, zipfile.BadZipFile, zlib.error, EOFError, OSError, etree.XMLSyntaxError, ValueError) as error:
        log.info("letter text not read (%s): %s", kind, error)
        return ""
    return _tidy(text)[:MAX_CHARS]


# --- DOCX -------------------------------------------------------------------------------


_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
MAX_PART_BYTES = 2 << 20  # a header, footer or imported chunk larger than this is not read


def _docx_letter(data: bytes) -> str:
    """The letter's paragraphs in order: its header's (the NGO's letterhead, where its name often is), the body's,
    with text boxes and tables once each, what Word imported whole (`w:altChunk`: an HTML or MHT part, as mail
    merge and web editors write), its footnotes and endnotes (where a letter often cites its sources), and its
    footer's."""
    with zipfile.ZipFile(io.BytesIO(with_usual_main_part(data))) as archive:
        body = parse_untrusted_xml(archive.read("word/document.xml")).find(f"{W}body")
        if body is None:
            return ""
        parts, kinds = _relations(archive, "word/_rels/document.xml.rels")
        # Through the forms' caches: letters on an NGO's template share its styles and lists. A damaged part loses
        # the numbers, not the letter (its points keep a bullet).
        lists_of_styles = style_lists_of(_part_bytes(archive, "word/styles.xml"))
        list_data = _part_bytes(archive, next((parts[identifier] for identifier, kind in kinds.items()
                                               if kind == "numbering"), None))

        def blocks_of(part: str | None) -> list[str]:
            root = _part(archive, part)
            if root is None:
                return []
            _without_what_word_does_not_show(root)
            return _docx_blocks(root, list_labels(root, lists_of_styles, numbering_of(list_data)), {})

        references = {kind: [parts.get(reference.get(_R_ID) or "") for reference in body.iter(f"{W}{kind}Reference")]
                      for kind in ("header", "footer")}
        header = [block for part in dict.fromkeys(references["header"]) for block in blocks_of(part)]
        footer = [block for part in dict.fromkeys(references["footer"]) for block in blocks_of(part)]
        notes = [block for identifier, kind in kinds.items() if kind in ("footnotes", "endnotes")
                 for block in _notes(blocks_of, parts[identifier])]
        chunks = {identifier: _chunk_text(archive, part) for identifier, part in parts.items()
                  if kinds[identifier] == "aFChunk"}
    _without_what_word_does_not_show(body)
    labels = list_labels(body, lists_of_styles, numbering_of(list_data))
    blocks = [*dict.fromkeys(header), *_docx_blocks(body, labels, chunks), *notes, *dict.fromkeys(footer)]
    return "\n\n".join(block for block in blocks if block.strip())


def _docx_blocks(root: etree._Element, labels: dict[etree._Element, str], chunks: dict[str, str]) -> list[str]:
    """Each paragraph (its own text: a text box or table inside it is a block of its own) after the number Word
    shows before it (`labels`), each table row as its cells joined by " | " (a table nested in a cell is that
    cell's text, a list in a cell keeps its numbers), each imported chunk's text."""
    blocks: list[str] = []
    for element in root.iter(f"{W}p", f"{W}tr", f"{W}altChunk"):
        if any(ancestor.tag == f"{W}tc" for ancestor in element.iterancestors()):
            continue  # read with its cell
        if element.tag == f"{W}tr":
            cells = [" ".join(_docx_text(cell, labels).split()) for cell in _wrapped_children(element, f"{W}tc")]
            blocks.append(" | ".join(cell for cell in cells if cell))
        elif element.tag == f"{W}altChunk":
            blocks.append(chunks.get(element.get(_R_ID) or "", ""))
        else:
            text = _docx_text(_without_nested(element)).strip()
            blocks.append(f"{labels[element]} {text}" if element in labels and text else text)
    return blocks


def _without_nested(paragraph: etree._Element) -> etree._Element:
    """The paragraph without the text boxes and tables anchored in it, which are read as blocks of their own."""
    if next(paragraph.iter(f"{W}txbxContent", f"{W}tbl"), None) is None:
        return paragraph
    own = copy.deepcopy(paragraph)
    for nested in list(own.iter(f"{W}txbxContent", f"{W}tbl")):
        if nested.getparent() is not None:
            nested.getparent().remove(nested)
    return own


def _relations(archive: zipfile.ZipFile, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """A part's relationships: id -> the target part's name in the package ("word/header1.xml"), and id -> the
    relationship's kind (the last word of its type: "header", "footnotes", "aFChunk")."""
    if name not in archive.namelist():
        return {}, {}
    parts, kinds = {}, {}
    for relation in parse_untrusted_xml(archive.read(name)).iter(_RELATIONSHIPS):
        target, mode = relation.get("Target") or "", relation.get("TargetMode") or ""
        if mode == "External" or not target:
            continue
        identifier = relation.get("Id") or ""
        parts[identifier] = posixpath.normpath(target.lstrip("/") if target.startswith("/")
                                               else posixpath.join("word", target))
        kinds[identifier] = (relation.get("Type") or "").rsplit("/", 1)[-1]
    return parts, kinds


def _notes(blocks_of, part: str) -> list[str]:
    """The text of the footnotes or endnotes part, without the separator lines Word keeps as notes of their own."""
    return [block for block in blocks_of(part) if block.strip() not in ("", "\u2003")]


def _part_bytes(archive: zipfile.ZipFile, name: str | None) -> bytes | None:
    if not name or name not in archive.namelist() or archive.getinfo(name).file_size > MAX_PART_BYTES:
        return None
    return archive.read(name)


def _part(archive: zipfile.ZipFile, name: str | None) -> etree._Element | None:
    data = _part_bytes(archive, name)
    return None if data is None else parse_untrusted_xml(data)


def _chunk_text(archive: zipfile.ZipFile, name: str) -> str:
    """The text of a part Word imports whole into the document (`w:altChunk`): HTML, or MHT (a web archive, the
    HTML in a MIME message)."""
    from services.intake.mail.parse import MailRefused, checked_content_types, decode_8bit, html_to_text

    if name not in archive.namelist() or archive.getinfo(name).file_size > MAX_PART_BYTES:
        return ""
    data = archive.read(name)
    if name.endswith((".rtf", ".txt", ".xml", ".docx")):
        return ""  # an imported RTF, text or Word part: rare, and read by nothing here
    if name.endswith((".mht", ".mhtml")) or data[:200].lstrip().lower().startswith(b"mime-version"):
        try:
            data = checked_content_types(data)  # a Content-Type longer than any writer's costs seconds to parse
        except MailRefused:
            return ""
        try:
            message = email.message_from_bytes(data, policy=email.policy.default)
            html = next((part for part in message.walk() if part.get_content_type() == "text/html"), None)
        except RecursionError:  # parts nested thousands deep: no letter to read
            return ""
        if html is None:
            return ""
        data = html.get_payload(decode=True) or b""
    return html_to_text(decode_8bit(data))


# --- ODT --------------------------------------------------------------------------------


def _odt_letter(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        content = parse_untrusted_xml(archive.read("content.xml"))
        try:
            styles = _part(archive, "styles.xml")
        except etree.XMLSyntaxError:  # the list numbers are lost, not the letter: its points keep a bullet
            styles = None
    text_body = odt_text_body(content)
    if text_body is None:
        return ""
    lists = OdfLists(content, styles)
    labels = odt_list_labels(text_body, lists)
    blocks: list[str] = []
    _odt_blocks(text_body, blocks, labels)
    notes: list[str] = []  # footnotes and endnotes, after the text as a DOCX letter's
    for note in text_body.iter(f"{{{ODF_TEXT}}}note-body"):
        _odt_blocks(note, notes, labels)
    headers, footers = _odt_headers_and_footers(styles, lists)
    return "\n\n".join(block for block in [*headers, *blocks, *notes, *footers] if block.strip())


def _odt_headers_and_footers(styles: etree._Element | None, lists: OdfLists) -> tuple[list[str], list[str]]:
    """The page styles' headers (a letterhead) and footers (styles.xml's `style:master-page`), each once."""
    headers: list[str] = []
    footers: list[str] = []
    if styles is None:
        return headers, footers
    for page in styles.iter(f"{{{ODF_STYLE}}}master-page"):
        for part in page:
            if not isinstance(part.tag, str) or etree.QName(part).namespace != ODF_STYLE:
                continue
            name = etree.QName(part).localname  # header, header-left, header-first; footer, …
            if name.startswith(("header", "footer")):
                _odt_blocks(part, headers if name.startswith("header") else footers, odt_list_labels(part, lists))
    return list(dict.fromkeys(headers)), list(dict.fromkeys(footers))


def _odt_blocks(element: etree._Element, blocks: list[str], labels: dict[etree._Element, str]) -> None:
    """Each paragraph after the number LibreOffice shows before it, each table row as its cells joined by " | "
    (a cell's paragraphs and lists, numbered, on one line)."""
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child)
        if name.namespace == ODF_TEXT and name.localname in ("p", "h"):
            text = _lines(odt_inline(child, frames=False))
            blocks.append(f"{labels[child]} {text}" if child in labels and text else text)
            for box in odt_text_boxes(child):  # a text box anchored in it is a block of its own, after it
                _odt_blocks(box, blocks, labels)
        elif name.namespace == ODF_TABLE and name.localname == "table-row":
            cells = []
            for cell in child:
                if isinstance(cell.tag, str) and etree.QName(cell).localname == "table-cell":
                    inside: list[str] = []
                    _odt_blocks(cell, inside, labels)
                    cells.append(" ".join(" ".join(block.split()) for block in inside if block.strip()))
            blocks.append(" | ".join(cell for cell in cells if cell))
        elif name.namespace == ODF_TABLE or (name.namespace == ODF_TEXT and name.localname in (
                "list", "list-item", "list-header", "section")):
            _odt_blocks(child, blocks, labels)


# --- scans ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScannedLetter:
    text: str  # as paragraphs
    form: FilledForm | None  # the comment form's rows, when the scan is of a printed form with its ruled table


def scanned_letter(data: bytes, languages: str, *, wall_seconds: float | None = None) -> ScannedLetter | None:
    """What OCR reads from a scanned PDF or a picture of a page, or None (see `ocr.scan_text`)."""
    from services.intake.mail.ocr import scan_text

    scanned = scan_text(data, languages, **({"wall_seconds": wall_seconds} if wall_seconds else {}))
    if scanned is None:
        return None
    parts = _without_page_furniture([page.splitlines() for page in scanned.pages], read_by_ocr=True)
    text = _tidy("\n\n".join(_laid_out(*parts)))[:MAX_CHARS]
    return ScannedLetter(text, scanned.form if scanned.form is not None and scanned.form.rows else None)



# --- PDF --------------------------------------------------------------------------------


def _pdf_letter(data: bytes) -> str:
    """The text layer of a PDF, page by page; a scan has none. pypdf raises many kinds of errors on what
    people's tools write, and any of them means only that there is no text to show."""
    from pypdf import PdfReader

    from services.intake.mail.parse import repaired_polish

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return ""
        pages, read = [], 0
        for page in reader.pages[:MAX_PAGES]:
            pages.append(_page_lines(page))
            read += sum(len(line) for line in pages[-1])
            if read > MAX_CHARS:
                break
        fields = _pdf_form_fields(reader)
    except Exception as error:  # noqa: BLE001 - a PDF we cannot read is a PDF without text, for staff to open
        log.info("PDF text not read: %s: %s", type(error).__name__, error)
        return ""
    blocks = _laid_out(*_without_page_furniture(pages)) + [fields]
    return repaired_polish("\n\n".join(block for block in blocks if block.strip()))


def _page_lines(page) -> list[str]:
    """A page's lines of text, with a blank line before a line that opens a paragraph by the space above it.

    Word and LibreOffice set a paragraph's own lines at its line pitch and leave more space after a paragraph
    (Word's Normal style: 8 pt, LibreOffice's body text: 0.25 cm): where the space above a line is wider than the
    space above the line before it or below it by such a step, a paragraph ends there. The comparison is local, as
    a page's paragraphs may each have their own pitch (a title single-spaced, the body at 1.5 lines), and it needs
    lines of one font size, unturned. Lines as far apart as their neighbours (a paragraph's lines, a run of
    one-line paragraphs, a page with no space after paragraphs) say nothing by their geometry, and their
    paragraphs are told by the lines' lengths (`_pdf_paragraphs`). The text is pypdf's; its visitor tells where on
    the page each piece of it stands."""
    lines: list[str] = [""]
    places: list[tuple[float, float] | None] = [None]  # (baseline's height on the page, font size)

    def visit(text: str, matrix, text_matrix, _font, size) -> None:
        for index, part in enumerate(text.split("\n")):
            if index:
                lines.append("")
                places.append(None)
            turned = matrix[1] or matrix[2] or text_matrix[1] or text_matrix[2]
            if part.strip() and places[-1] is None and not turned:
                places[-1] = (text_matrix[4] * matrix[1] + text_matrix[5] * matrix[3] + matrix[5],
                              round(abs(size * text_matrix[3] * matrix[3]), 1))
            lines[-1] += part

    text = page.extract_text(visitor_text=visit) or ""
    if "\n".join(lines) != text:  # pypdf wrote what it did not show its visitor: no places to trust
        return [" ".join(line.split()) for line in text.split("\n") if line.strip()]
    read = [(" ".join(line.split()), place) for line, place in zip(lines, places, strict=True) if line.strip()]
    gaps: list[float | None] = [None]  # the space above each line, where it compares with the line above
    for (_, above), (_, below) in zip(read, read[1:]):
        comparable = above is not None and below is not None and above[1] == below[1] and above[0] > below[0]
        gaps.append(above[0] - below[0] if comparable else None)
    gaps.append(None)
    spaced: list[str] = []
    for index, (line, _) in enumerate(read):
        gap = gaps[index]
        pitch = min((near for near in (gaps[index - 1] if index else None, gaps[index + 1]) if near is not None),
                    default=None)
        broken_word = index and re.search(r"\w-$", read[index - 1][0]) and line[:1].islower()
        if (gap is not None and pitch is not None and not broken_word
                and gap >= max(pitch * _PARAGRAPH_PITCH, pitch + _PARAGRAPH_SPACE)):
            spaced.append("")
        spaced.append(line)
    return spaced


# A paragraph's space after, against its lines' pitch: Word's 8 pt after 11 pt lines at 1.08 is 12.9 + 8 = 1.6
# times the pitch; LibreOffice's 0.25 cm after 12 pt lines is 1.5 times. A superscript moves a line by less.
_PARAGRAPH_PITCH = 1.25
_PARAGRAPH_SPACE = 3.0  # points


def _laid_out(header: list[str], body: list[str], footer: list[str]) -> list[str]:
    """The paragraphs of a document's header, body and footer lines. The body is read as one run of lines, so a
    paragraph a page break cut in two is whole again, and the header's lines are measured against its width."""
    width = max((len(line) for line in body), default=0)
    return [_pdf_paragraphs("\n".join(part), width) for part in (header, body, footer)]


# A page's number as word processors print it: "2", "- 2 -", "Strona 2 z 5", "str. 2", "2/5", "Page 2 of 5"
_PAGE_NUMBER = re.compile(r"^(?:(?:strona|str\.?|s\.|page)\s*)?[-–—]?\s*(\d{1,3})\s*[-–—]?"
                          r"(?:\s*(?:z|ze|/|of)\s*\d{1,3})?$", re.IGNORECASE)
_EDGE = 3  # how many lines at a page's top or bottom may be its header or footer


_OCR_ALIKE = 85  # rapidfuzz's ratio of two readings of one printed line, in per cent


def _without_page_furniture(pages: list[list[str]], *, read_by_ocr: bool = False
                            ) -> tuple[list[str], list[str], list[str]]:
    """(header, body lines, footer) of a PDF of several pages. A page's furniture is what stands at its top or
    bottom on most pages alike but for its numbers (a running header, the letterhead's footer), and its number
    ("Strona 2 z 5", counting with the pages); the header and footer are given once (the first page's), the page
    numbers not at all, and the body's lines run on from page to page. One page: nothing is furniture.
    `read_by_ocr`: the same line reads a little differently on each scanned page ("wspólpracy", "współpracy"),
    so lines alike within `_OCR_ALIKE` are one, and the blank lines between its paragraphs stay in the body."""
    as_read, pages = pages, [[line for line in lines if line] for lines in pages]
    if len(pages) < 2:
        return [], [line for lines in as_read for line in lines], []
    needed = max(2, (len(pages) + 1) // 2)
    seen_shapes: list[str] = []

    def shape(line: str) -> str:
        exact = re.sub(r"\d+", "#", line.lower())
        if not read_by_ocr:
            return exact
        alike = next((seen for seen in seen_shapes if fuzz.ratio(exact, seen) >= _OCR_ALIKE), None)
        if alike is None:
            seen_shapes.append(exact)
        return alike or exact

    def repeated(edge) -> set[tuple[int, str]]:
        """(place from the edge, shape) of the lines most pages have there: words, not only numbers (an equation's
        "(3)" at the foot of many pages is the text's), and no line that opens a point ("Uzasadnienie:", "§ 5")."""
        counts: dict[tuple[int, str], int] = {}
        for lines in pages:
            for found in {(place, shape(line)) for place, line in enumerate(edge(lines))
                          if re.search(r"[^\W\d_]{3}", line) and not _OPENS_PARAGRAPH.match(line)}:
                counts[found] = counts.get(found, 0) + 1
        return {found for found, count in counts.items() if count >= needed}

    numbered: dict[int, int] = {}  # the pages' numbering: printed number - page index -> pages agreeing
    for index, lines in enumerate(pages):
        for offset in {int(match.group(1)) - index for line in lines[:_EDGE] + lines[-_EDGE:]
                       if (match := _PAGE_NUMBER.match(line))}:
            numbered[offset] = numbered.get(offset, 0) + 1
    offset = max(numbered, key=numbered.get, default=None)
    if offset is not None and numbered[offset] < needed:
        offset = None

    def page_number(line: str, index: int) -> bool:
        match = _PAGE_NUMBER.match(line)
        return match is not None and offset is not None and int(match.group(1)) - index == offset

    tops, bottoms = repeated(lambda lines: lines[:_EDGE]), repeated(lambda lines: lines[::-1][:_EDGE])
    header: list[str] = []
    footer: list[str] = []
    body: list[str] = []
    for index, lines in enumerate(pages):
        first, last = 0, len(lines)
        while first < min(_EDGE, last) and ((first, shape(lines[first])) in tops or page_number(lines[first], index)):
            first += 1
        while last > max(first, len(lines) - _EDGE) and ((len(lines) - last, shape(lines[last - 1])) in bottoms
                                                         or page_number(lines[last - 1], index)):
            last -= 1
        if index == 0:
            header = [line for line in lines[:first] if not page_number(line, index)]
            footer = [line for line in lines[last:] if not page_number(line, index)]
        printed = [place for place, line in enumerate(as_read[index]) if line]
        body.extend(as_read[index][printed[first]:printed[last - 1] + 1] if first < last else [])
    return header, body, footer


def _pdf_form_fields(reader) -> str:
    """What was typed into a fillable PDF form (AcroForm): the values live in the form's fields, not in the pages'
    text, so a filled form read as text alone is the empty form. One "label: value" line per filled field (its
    tooltip, else its name); a ticked box says its state, signature fields and untouched boxes say nothing."""
    lines = []
    for name, field in list((reader.get_fields() or {}).items())[:500]:
        kind, value = field.get("/FT"), field.get("/V")
        if kind == "/Sig" or value is None:
            continue
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        value = " ".join(str(value).split())
        if kind == "/Btn":
            if value in ("/Off", "Off", ""):
                continue
            value = value.lstrip("/")
        if value:
            label = " ".join(str(field.get("/TU") or name).split())
            lines.append(f"{label}: {value}")
    return "\n".join(lines)


# A line that opens a new paragraph in a letter's PDF: a numbered or lettered point, a bullet, "Uzasadnienie:", a
# provision ("Art. 7" with its capital: "art. 3 ustawy" goes on a sentence wrapped before it).
_OPENS_PARAGRAPH = re.compile(r"^(?:\d{1,2}[.)]\s|[a-zżźćńółęąś]\)\s|(?-i:Art\.)\s*\d|[-–•*]\s|"
                              r"uwaga\s+(?:nr\s*)?\d|uzasadnienie\b|§\s*\d|rozdzia[łl]\s|"
                              r"(?:zmiana na|proponowany zapis|propozycja zmiany|jest|powinno być)\s*:)",
                              re.IGNORECASE)


_NUMBER_RUN_ON = re.compile(r"^(\d{1,2}[.)])(?=[^\d\s.,)])")


def _pdf_paragraphs(page: str, width: int = 0) -> str:
    """A page's lines as paragraphs. A PDF keeps each printed line; a line is joined to the one before unless it
    opens a point (`_opens_paragraph`: a number, a bullet, "Uzasadnienie:", a provision; `_next_lettered_point`:
    "c." after "b.") or the one before ended its paragraph by its length (`_ended_early`: short of `width`, the
    widest line, or short enough for this line's first word). A word broken at its hyphen is joined without the
    space. A blank line (where the space between lines showed a paragraph's end, `_page_lines`) ends a paragraph."""
    # A list's number and its text are apart by a tab, which the text layer often drops ("1.Rozdział VI …")
    lines = [_NUMBER_RUN_ON.sub(r"\1 ", " ".join(line.split()), count=1) for line in page.splitlines()]
    full = max([width] + [len(line) for line in lines])
    paragraphs: list[str] = []
    previous = ""
    for line in lines:
        if not line:
            previous = ""
            continue
        if (not previous or _opens_paragraph(previous, line) or _ended_early(previous, line, full)
                or _next_lettered_point(previous, paragraphs[-1], line)):
            paragraphs.append(line)
        elif re.search(r"\w-$", previous) and line[:1].islower():
            paragraphs[-1] += line
        else:
            paragraphs[-1] += f" {line}"
        previous = line
    return "\n\n".join(paragraphs)


def _opens_paragraph(previous: str, line: str) -> bool:
    """Whether `line` opens a point. A provision cited in a sentence often wraps to a line's start ("… proponuję
    zmienić zapis w" / "§ 5 ust. 2 …"): a "§" after a line that ends in a small letter or a comma goes on with it,
    unless that line ended short (a title such as "Postanowienia ogólne", see `_ended_early`), and so does a number
    after a line ending in the word that takes it ("ust." / "2. …")."""
    if not _OPENS_PARAGRAPH.match(line):
        return False
    if _TAKES_A_NUMBER.search(previous):  # "… w § 5 ust." / "2. pkt 3 …": the number is the citation's
        return False
    return not line.startswith("§") or not (previous[-1:].islower() or previous.endswith(","))


def _next_lettered_point(previous: str, paragraph: str, line: str) -> bool:
    """Whether `line` opens a point lettered with a dot ("c. organizację …") that follows the paragraph's ("b. …"),
    or the first of them ("a. …") after a line ending in a colon. A letter and a dot alone do not open a point:
    "r. o samorządzie gminnym" and "ul. Wały gen. Sikorskiego" wrap to a line's start too often."""
    letter = _LETTERED_POINT.match(line)
    if letter is None:
        return False
    if letter[1] == "a":
        return previous.endswith(":")
    before = _LETTERED_POINT.match(paragraph)
    return before is not None and ord(before[1]) + 1 == ord(letter[1])


_LETTERED_POINT = re.compile(r"([a-z])\.\s")
_TAKES_A_NUMBER = re.compile(r"(?:\b(?:ust|pkt|art|lit|poz|nr|par)\.?|§)$", re.IGNORECASE)


def _ended_early(previous: str, line: str, full: int) -> bool:
    """Whether `previous` is the last line of its paragraph by its length: it ends well short of the text's widest
    line (a short last line, a heading, an address), or the next line's first word would have fitted after it, so
    the line was broken by hand, not by the margin. The text layer gives characters, not widths, and full lines
    of a proportional font differ in their count of characters, so "would have fitted" keeps a margin: 0.9 of
    the widest line, 0.95 after a sentence's end when a capital follows; not at all after a line in capitals.
    Measured on public texts set as PDF (tests/corpus/mail/pdf/SOURCES.md); estimating widths from a font's letter
    widths (Helvetica's) and measuring against the median full line did worse."""
    if len(previous) < 0.7 * full:
        return True
    if not any(char.islower() for char in previous):
        return False  # capitals are wide: a heading's count of characters says nothing of its width
    room = 0.95 if previous[-1:] in ".!?:" and line[:1].isupper() else 0.9
    return len(previous) + 1 + len(_first_unbreakable(line)) < room * full


def _first_unbreakable(line: str) -> str:
    """The words a line must start with as one: "§" with its number, and a one-letter word ("w", "z", "i") with
    the word after it, which Polish typesetting (and Word's no-break spaces) keep from ending a line."""
    words = line.split(" ")
    end = 0
    while end + 1 < len(words) and (len(words[end]) == 1 or words[end] == "§"):
        end += 1
    return " ".join(words[:end + 1])


def _lines(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()


def _tidy(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", storable(text.replace("\r\n", "\n"))).strip()
