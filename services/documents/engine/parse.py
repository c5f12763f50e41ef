"""Parse a DOCX draft into version 1: an ordered tree of addressable units."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace

from lxml import etree

from services.common.docx_safety import with_usual_main_part
from services.common.word_numbering import WordNumbering
from services.common.xmltree import enclosing, inside

from .errors import DocumentRejected
from .model import KIND_RANK, NEST_RANK, Notice, Run, Template, Unit, Version, evolve
from .numbering import (ANNEX_HEADING, INLINE_SECTION, UNDOTTED_ROMAN_HEADING, classify_prefix, from_letters,
                        number_value, roman_heading, undotted_roman_heading)
from .ooxml import W, parse_xml, read_package, related_parts
from .review_marks import without_review_marks
from .safety import Limits, check_docx
from .structure import assign_parents, number_tirets, relabel

# A "strona znormalizowana" holds 1,800 characters; used when Word left no page marks.
CHARS_PER_PAGE = 1800
_BODY_PLACEHOLDER = "UWAGI-BODY"
_HEADING_NAME = re.compile(r"^(heading|nag[łl][óo]wek|title|tytu[łl])", re.IGNORECASE)


@dataclass
class _StyleInfo:
    heading: bool = False
    num_id: str | None = None
    ilvl: int = 0
    based_on: str | None = None


@dataclass
class _PageCounter:
    """Pages from Word's rendered page marks when present, else estimated from text length."""

    has_rendered_marks: bool
    page: int = 1
    chars_on_page: int = 0

    def add_text(self, length: int) -> None:
        if self.has_rendered_marks:
            return
        self.chars_on_page += length
        while self.chars_on_page > CHARS_PER_PAGE:
            self.chars_on_page -= CHARS_PER_PAGE
            self.page += 1

    def page_break(self, rendered: bool) -> None:
        if rendered != self.has_rendered_marks:
            return
        self.page += 1
        self.chars_on_page = 0


@dataclass
class _ParseState:
    root_nsmap: dict
    styles: dict[str, _StyleInfo]
    numbering: WordNumbering
    pages: _PageCounter
    units: list[Unit] = field(default_factory=list)
    pending_tail: list[str] = field(default_factory=list)
    head_extra: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    closing: bool = False  # after the act's final provision: signatures and footnotes follow


@dataclass
class _Raw:
    """One body paragraph or table, read but not yet interpreted."""

    element: object
    xml: str
    page: int
    is_table: bool = False
    runs: list[Run] = field(default_factory=list)
    text: str = ""
    ppr: str = ""
    heading: bool = False
    auto: tuple[str, str] | None = None  # (rendered number, numFmt) from Word list numbering

    @property
    def first_rpr(self) -> str:
        return next((run.rpr for run in self.runs if run.text.strip()), "")


@dataclass
class _Reading:
    """What a paragraph is: its kind and number, and how much of its text is the number."""

    kind: str = "block"
    number: str = ""
    numbering: str = ""
    prefix_length: int = 0
    inline_section: tuple[str, int] | None = None  # "§ 5. 1.": (section number, prefix length up to its text)


def parse_docx(data: bytes, *, limits: Limits | None = None) -> Version:
    """Check `data` (raises DocumentRejected) and parse it into version 1."""
    check_docx(data, limits=limits)
    parts = related_parts(read_package(with_usual_main_part(data)))
    as_sent = parts["word/document.xml"]
    try:
        parts, review_marks = without_review_marks(parts)
        root = parse_xml(parts["word/document.xml"])
        styles = _read_styles(parts.get("word/styles.xml"))
        numbering = WordNumbering.from_xml(parts.get("word/numbering.xml"))
    except etree.XMLSyntaxError as error:
        raise DocumentRejected("bad_xml", f"A part of the document is not valid XML: {error}",
                               f"Część dokumentu nie jest poprawnym XML: {error}") from None
    body = root.find(W + "body")
    if body is None:
        raise DocumentRejected("not_docx", "The document has no body.", "Dokument nie ma treści.")
    has_marks = next(root.iter(W + "lastRenderedPageBreak"), None) is not None
    state = _ParseState(dict(root.nsmap), styles, numbering, _PageCounter(has_marks))
    section = _walk_body(body, state)
    if not any(char.isalnum() for unit in state.units for char in unit.text):  # an empty table's " | " is no text
        raise _no_text(root, state.units, as_sent)
    units = relabel(number_tirets(assign_parents(state.units)))
    units = [evolve(unit, source_parent_prefix=unit.parent_prefix) if unit.parent_prefix else unit for unit in units]
    head, tail = _document_frame(root, body, section, state.head_extra)
    warnings = ((review_marks.warning(),) if review_marks else ()) + tuple(state.warnings) + numbering_gaps(units)
    return Version(number=1, units=tuple(units), template=Template.of(parts, head, tail), warnings=warnings)


def _no_text(root, units: list[Unit], as_sent: bytes) -> DocumentRejected:
    """Why a draft without a word of text cannot be consulted on, in the terms of what the clerk sent."""
    if next(root.iter(W + "altChunk"), None) is not None:
        return DocumentRejected(
            "no_text", "Word keeps this document's text as an imported web page or file (altChunk), which cannot be "
            "commented on or changed with tracked changes. Open it in Word and save it again as .docx.",
            "Word przechowuje tekst tego dokumentu jako zaimportowaną stronę lub plik (altChunk), których nie można "
            "komentować ani zmieniać w trybie śledzenia zmian. Otwórz go w programie Word i zapisz ponownie jako .docx.")
    if any((text.text or "").strip() for box in root.iter(W + "txbxContent") for text in box.iter(W + "t")):
        return DocumentRejected(
            "no_text", "The document's text is in text boxes or shapes, which cannot be commented on or changed "
            "with tracked changes. In Word, move the text out of the boxes onto the page (cut and paste) and upload "
            "it again.",
            "Tekst dokumentu znajduje się w polach tekstowych lub kształtach, których nie można komentować ani "
            "zmieniać w trybie śledzenia zmian. W programie Word przenieś tekst z pól na stronę (wytnij i wklej) i "
            "prześlij dokument ponownie.")
    if b"delText" in as_sent and any((text.text or "").strip() for text in parse_xml(as_sent).iter(W + "delText")):
        return DocumentRejected(
            "no_text", "All of the document's text is deleted with tracked changes. In Word, reject the deletions "
            "(Review → Reject) or upload the version before them.",
            "Cały tekst dokumentu jest usunięty w trybie śledzenia zmian. W programie Word odrzuć usunięcia "
            "(Recenzja → Odrzuć) albo prześlij wersję sprzed nich.")
    if next(root.iter(W + "drawing", W + "pict", W + "object"), None) is not None:
        return DocumentRejected(
            "no_text", "The document holds only pictures or objects, no text: a scanned draft pasted into Word cannot "
            "be commented on. Upload the draft's text as a Word document.",
            "Dokument zawiera tylko obrazy lub obiekty, bez tekstu: projektu zeskanowanego i wklejonego do programu "
            "Word nie można komentować. Prześlij tekst projektu jako dokument Word.")
    return DocumentRejected("no_text", "The document has no text.", "Dokument nie zawiera tekstu.")


def _walk_body(body, state: _ParseState):
    """Turn body elements into units; returns the final w:sectPr (kept in the frame)."""
    section = None
    raws: list[_Raw | None] = []
    pending = None  # a paragraph not read yet: the next may be the rest of its sentence
    # Past the title: a numbered line, or a line that ends a sentence (the date "z dnia … r.", a preamble), was
    # seen; a title's lines are its own, broken where its author broke them.
    in_units = False

    def read_pending() -> None:
        nonlocal pending
        if pending is not None:
            raw = _read_paragraph(pending, state)
            raws.append(raw if raw is not None else _TailOnly(serialize(pending, state.root_nsmap)))
            pending = None

    last_text = ""  # the text of the pending paragraph's last line, as it was in the document
    owned = False  # `pending` is a copy made by joining lines, not an element of the document
    for child in _body_children(body):
        tag = child.tag
        if tag == W + "p":
            for line in _numbered_lines_apart(child, state):
                text = _plain_text(line)
                if in_units and pending is not None and _continues(last_text, text, line, state):
                    if not owned:
                        pending, owned = copy.deepcopy(pending), True
                    _append_continuation(pending, last_text, line)
                else:
                    read_pending()
                    pending, owned = line, False
                last_text = text
                in_units = in_units or bool(classify_prefix(text)) or text.endswith((".", ":")) or \
                    _is_numbered(line, state)
            continue
        read_pending()
        if tag == W + "sectPr":
            section = child
            continue
        if tag == W + "tbl":
            raw = _read_table(child, state)
        else:
            raw = None
        raws.append(raw if raw is not None else _TailOnly(serialize(child, state.root_nsmap)))
    read_pending()
    _interpret(raws, state)
    return section


def _plain_text(paragraph) -> str:
    return "".join(t.text or "" for t in paragraph.iter(W + "t")).strip()


def _continues(before: str, text: str, paragraph, state: _ParseState) -> bool:
    """The paragraph is the rest of the previous line's sentence, broken where a PDF's line ended: text copied
    from a published act brings every line as a paragraph of its own ("a) wspomaganie integracji, kształtowanie
    społeczeństwa obywatelskiego, wspomaganie" / "rozwoju społeczności lokalnych i regionalnych;"), and the
    second would be read as the list's closing words ("część wspólna") or a second paragraph of the unit.

    Used only past the title, whose lines are set apart on purpose. A line that starts with a lower-case letter
    and carries no number ("a.", "b)"), dash, list numbering or heading style continues a full line (50
    characters or more) that ends without a full stop, semicolon, colon or a free-standing dash; a list item
    ending short, as before the closing words of a list, is never continued. `before` is the previous line's
    text and `text` the paragraph's, as written.
    """
    if not text[:1].islower() or len(before) < 50 or before[-1] in ".;:!?" or _is_numbered(paragraph, state):
        return False
    if before[-1] in "-\u00ad" and not before[-2:-1].isalpha():
        return False  # "… –" / "… -": a dash, not a word broken at the line's end
    if classify_prefix(text) or _DOTTED_LETTER.match(text) or _PAGE_FURNITURE.match(before):
        return False
    before_prefix = classify_prefix(before)
    return not (before_prefix and not before[before_prefix[2]:].strip())  # "§ 1." alone is a head, not a line


def _is_numbered(paragraph, state: _ParseState) -> bool:
    ppr = paragraph.find(W + "pPr")
    style = _style_of(ppr, state.styles)
    return paragraph.find(f"{W}pPr/{W}numPr") is not None or style.num_id is not None or style.heading or \
        _outline_level(ppr) is not None


def _append_continuation(joined, previous_line: str, paragraph) -> None:
    """The line's content after the joined paragraph's (whose properties stay), with a space between. A word the
    line's end broke ("społeczno-" / "gospodarczy", "współ\u00ad" / "pracy") is joined without the space; its
    hyphen is kept, as in Polish it more often joins a compound than it hyphenates (a soft hyphen is no text)."""
    if previous_line[-1:] not in ("-", "\u00ad"):
        joined.append(etree.fromstring(f'<w:r xmlns:w="{W[1:-1]}"><w:t xml:space="preserve"> </w:t></w:r>'))
    joined.extend(copy.deepcopy(child) for child in paragraph if child.tag != W + "pPr")


@dataclass
class _TailOnly:
    """Body content that is no unit (empty paragraphs, bookmarks): kept after the preceding unit."""

    xml: str


_HEAD_KINDS = ("division", "chapter", "paragraph", "article")


def _numbered_lines_apart(paragraph, state: _ParseState) -> list:
    """The paragraph, or one paragraph per line where it holds several units broken by Shift+Enter.

    Drafters break "§ 1." from its text, or "2. …" from "1. …", with a line break instead of a new paragraph
    (and text pasted from a PDF brings its lines so). Those units are split into paragraphs of their own, with
    the paragraph's properties, so that each can be commented on and amended; the spacing between them and the
    indent of their first lines stay as the one paragraph showed them. Only line breaks in runs directly in
    the paragraph are split, and none in a paragraph with a field (a field's parts must stay together).
    """
    if paragraph.find(f"{W}r/{W}br") is None or next(paragraph.iter(W + "fldChar", W + "fldSimple"), None) is not None:
        return [paragraph]
    lines: list[list] = [[]]
    for child in paragraph:
        if child.tag == W + "pPr":
            continue
        if child.tag != W + "r" or child.find(W + "br") is None:
            lines[-1].append(child)
            continue
        rpr, piece = child.find(W + "rPr"), _empty_run(child.find(W + "rPr"))
        for content in child:
            if content.tag == W + "rPr":
                continue
            if content.tag in (W + "br", W + "cr") and content.get(W + "type") in (None, "textWrapping"):
                lines[-1].append(piece)
                lines.append([])
                piece = _empty_run(rpr)
            else:
                piece.append(copy.deepcopy(content))
        lines[-1].append(piece)
    texts = ["".join(t.text or "" for element in line for t in element.iter(W + "t")).strip() for line in lines]
    cuts = [index for index in range(1, len(lines)) if texts[index - 1] and texts[index]
            and _opens_a_unit(texts[index], texts[index - 1])]
    if not cuts:
        return [paragraph]
    numbered = _style_of(paragraph.find(W + "pPr"), state.styles).num_id is not None or \
        paragraph.find(f"{W}pPr/{W}numPr") is not None
    pieces = []
    for start, end in zip([0, *cuts], [*cuts, len(lines)]):
        piece = etree.Element(W + "p", nsmap=paragraph.nsmap)
        piece.append(_line_properties(paragraph.find(W + "pPr"), first=start == 0, last=end == len(lines),
                                      numbered=numbered))
        for index in range(start, end):
            if index > start:
                piece.append(etree.fromstring(f'<w:r xmlns:w="{W[1:-1]}"><w:br/></w:r>'))
            piece.extend(copy.deepcopy(element) for element in lines[index])
        pieces.append(piece)
    return pieces


def _opens_a_unit(line: str, previous: str) -> bool:
    prefix = classify_prefix(line)
    if prefix is not None or roman_heading(line) is not None:
        return True
    head = classify_prefix(previous)
    return head is not None and head[0] in _HEAD_KINDS and not previous[head[2]:].strip()


def _empty_run(rpr):
    run = etree.Element(W + "r")
    if rpr is not None:
        run.append(copy.deepcopy(rpr))
    return run


def _line_properties(ppr, *, first: bool, last: bool, numbered: bool):
    """Properties of one line made a paragraph: no space between the lines of what was one paragraph, the first
    line's indent and automatic number only on the first."""
    ppr = copy.deepcopy(ppr) if ppr is not None else etree.Element(W + "pPr")
    spacing = ppr.find(W + "spacing")
    if spacing is None:
        spacing = etree.SubElement(ppr, W + "spacing")
    if not first:
        spacing.set(W + "before", "0")
        spacing.attrib.pop(W + "beforeAutospacing", None)
        indent = ppr.find(W + "ind")
        if indent is None:
            indent = etree.SubElement(ppr, W + "ind")
        for name in ("hanging", "hangingChars", "firstLineChars"):
            indent.attrib.pop(W + name, None)
        indent.set(W + "firstLine", "0")
        if numbered:
            for old in ppr.findall(W + "numPr"):
                ppr.remove(old)
            ppr.append(etree.fromstring(f'<w:numPr xmlns:w="{W[1:-1]}"><w:numId w:val="0"/></w:numPr>'))
    if not last:
        spacing.set(W + "after", "0")
        spacing.attrib.pop(W + "afterAutospacing", None)
        for section in ppr.findall(W + "sectPr"):  # the section ends with the paragraph's last line
            ppr.remove(section)
    _order_properties(ppr)
    return ppr


# CT_PPrBase's sequence (ISO/IEC 29500-1 §17.3.1.26) for the elements a line's properties add; Word refuses a
# document whose pPr children are out of order.
_PPR_ORDER = ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
              "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
              "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid",
              "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc", "textDirection",
              "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange")


def _order_properties(ppr) -> None:
    rank = {W + name: index for index, name in enumerate(_PPR_ORDER)}
    children = sorted(ppr, key=lambda element: rank.get(element.tag, len(rank)))
    for child in children:
        ppr.append(child)


def _body_children(body):
    for child in body:
        if child.tag == W + "sdt":
            content = child.find(W + "sdtContent")
            if content is not None:
                yield from _body_children(content)
            continue
        if child.tag == W + "customXml":  # Word 2007's custom XML around paragraphs and tables
            yield from (grandchild for grandchild in _body_children(child) if grandchild.tag != W + "customXmlPr")
            continue
        yield child


def _keep_as_tail(xml: str, state: _ParseState) -> None:
    if state.units:
        last = state.units[-1]
        state.units[-1] = evolve(last, tail_xml=last.tail_xml + xml)
    else:
        state.head_extra.append(xml)


def _next_id(state: _ParseState) -> str:
    return f"u{len(state.units) + 1:04d}"


def _read_paragraph(paragraph, state: _ParseState) -> _Raw | None:
    ppr = paragraph.find(W + "pPr")
    style = _style_of(ppr, state.styles)
    if ppr is not None and _on(ppr.find(W + "pageBreakBefore")):
        state.pages.page_break(rendered=False)
    page = state.pages.page
    runs = _runs(paragraph, state)
    text = "".join(run.text for run in runs)
    mark = ppr.find(W + "rPr") if ppr is not None else None
    if mark is not None and mark.find(W + "del") is not None and not text.strip():
        return None  # a deleted paragraph of a tracked file, read as if the deletion were accepted
    auto = _auto_number(ppr, style, state)
    if not text.strip() and not any(run.opaque for run in runs) and auto is None:
        return None
    state.pages.add_text(len(text))
    return _Raw(paragraph, serialize(paragraph, state.root_nsmap), page, runs=runs, text=text,
                ppr=serialize(ppr, state.root_nsmap) if ppr is not None else "",
                heading=style.heading or _outline_level(ppr) is not None, auto=auto)


def _read_table(table, state: _ParseState) -> _Raw:
    page = state.pages.page
    text = _table_text(table, state)
    state.pages.add_text(len(text))
    return _Raw(table, serialize(table, state.root_nsmap), page, is_table=True, text=text)


def _table_text(table, state: _ParseState, *, rows_joined: str = "\n") -> str:
    """A table's text, its cells joined by " | " and its rows by `rows_joined`. Each paragraph is read once, as
    the body's are (a line break or tab in a cell is a space, not nothing); a table nested in a cell is read in
    its place, its rows joined by " / "."""
    rows = []
    for row in _body_children(table):
        if row.tag == W + "tr":
            rows.append(" | ".join(_cell_text(cell, state) for cell in _body_children(row) if cell.tag == W + "tc"))
    return rows_joined.join(rows)


def _cell_text(cell, state: _ParseState) -> str:
    """A cell's paragraphs in one line, each numbered as Word shows it ("1. Szkolenia 2. Doradztwo"): a list in a
    cell counts in the document's lists, so the body's numbers after the table go on from it, as in Word."""
    parts = []
    for child in _body_children(cell):
        if child.tag == W + "p":
            ppr = child.find(W + "pPr")
            text = " ".join("".join(run.text for run in _runs(child, state)).split())
            auto = _auto_number(ppr, _style_of(ppr, state.styles), state)
            parts.append(f"{auto[0].strip()} {text}" if auto is not None and text else text)
        elif child.tag == W + "tbl":
            parts.append(_table_text(child, state, rows_joined=" / "))
    return " ".join(part for part in parts if part)


# Page furniture pasted with text copied from a published PDF, never part of the act: the running head of
# Dziennik Ustaw or a voivodeship's journal ("Dziennik Ustaw – 8 – Poz. 381"); the foot that the e-signature
# systems of local acts put on every page ("Id: 4A207E30-AE24-45A0-93F6-151EE77E33E0. Podpisany", then
# "Strona 1", or both on one line); a page number alone ("Strona 2 z 5", "str. 3", "– 3 –", "2/5", or a bare "2",
# which PDF text copies carry at every page's end).
_PAGE_FURNITURE = re.compile(
    r"^(?:Dziennik\s+(?:Ustaw|Urz[ęe]dowy\b.{0,80}?)\s*[–—-]\s*\d+\s*[–—-]\s*Poz\.\s*\d+"
    r"|Id:\s*[0-9A-Fa-f][0-9A-Fa-f\- ]{10,}\.?\s*Podpisany(?:\s+Strona\s+\d+(?:\s*(?:z|/)\s*\d+)?)?"
    r"|(?:Strona|str\.|s\.)\s*\d+(?:\s*(?:z|/)\s*\d+)?"
    r"|\d{1,3}(?:\s*(?:z|/)\s*\d{1,3})?"
    r"|[–—-]\s*\d+\s*[–—-])\s*$", re.IGNORECASE)
_FINAL_PROVISION = re.compile(r"\bwchodzi\s+w\s+życie\b", re.IGNORECASE)
_SIGNATURE_MAX = 150


def _interpret(raws: list, state: _ParseState) -> None:
    """Units from the read paragraphs and tables, looking one paragraph ahead where the layout needs it."""
    index = 0
    while index < len(raws):
        raw = raws[index]
        index += 1
        following, after = _raw_at(raws, index), _raw_at(raws, index + 1)
        if isinstance(raw, _TailOnly):
            _keep_as_tail(raw.xml, state)
            continue
        if raw.is_table:
            heading = None if _marks_an_announcement(state, raw, following, after) else _annex_heading_in_table(raw)
            if heading is not None:  # the corner block set in a borderless layout table
                number, text = heading
                state.closing = False
                _add(Unit(id=_next_id(state), kind="annex", label="", text=text, number=number, source_number=number,
                          runs=(Run(text),), page=raw.page, source_xml=raw.xml), state)
                continue
            _add(Unit(id=_next_id(state), kind="table", label="", text=raw.text, page=raw.page,
                      source_xml=raw.xml), state)
            continue
        stripped = raw.text.strip()
        if raw.auto is None and _PAGE_FURNITURE.match(stripped):
            _keep_as_tail(raw.xml, state)
            continue
        reading = _read_number(raw, state)
        if state.closing:
            if reading.kind in ("annex", "reasons") or (reading.kind in NEST_RANK and reading.kind != "point"):
                state.closing = False
            elif (reading.kind == "point" and reading.numbering == "typed" and _starts_upper(raw, reading)) or \
                    (reading.kind == "block" and _is_signature_line(stripped)):
                _keep_as_tail(raw.xml, state)  # signature, "Id: …", Dz.U. footnote
                continue
        reading = _list_context(raw, reading, state)
        if reading.kind == "block" and raw.auto is None:
            reading = _undotted_heading(raw, following, state) or reading
        elif reading.kind == "section" and reading.numbering == "typed":
            reading = _numbered_heading(raw, reading, following, state) or reading
        if reading.inline_section is not None:
            _add_inline(raw, reading, state)
            continue
        if _is_head(raw, reading) and _can_follow_head(following, reading, state):
            if reading.kind in ("paragraph", "article") and _is_title_line(following.text) and \
                    _can_follow_head(after, reading, state):  # "§ 1." / "Postanowienia ogólne" / "Ilekroć…"
                _add_with_head(raw, after, reading, state, title=following)
                index += 2
                continue
            _add_with_head(raw, following, reading, state)
            index += 1
            continue
        if reading.kind == "annex" and _marks_an_announcement(state, raw, following, after):
            reading = _Reading()  # a title line of the draft
        if reading.kind == "annex":
            continued = _annex_heading_lines(raw, raws, index)
            if continued:
                _add_annex_heading(raw, continued, reading, state)
                index += len(continued)
                continue
        _add(_unit_from(raw, reading, state), state)


# The corner block of an annex set one line a paragraph: "Załącznik" / "do Uchwały XII/168/15" / "Rady Miejskiej
# w Czerwionce-Leszczynach" / "z dnia 23 października 2015 r.". A reader sees one heading, not three paragraphs
# of the annex's text (which would also shift the numbers of the annex's real paragraphs).
_ANNEX_REFERENCE_OPENING = re.compile(r"^do\b", re.IGNORECASE)
# Under a bare "Załącznik nr 1", the act it belongs to named in the nominative on one line, date included:
# "Uchwała nr Rady Miejskiej w Cybince z dnia.2013 r." (an act's own title line is followed by "w sprawie").
_ANNEX_REFERENCE_NOMINATIVE = re.compile(r"^(?:uchwała|zarządzenie)\s+nr\b.{0,120}\bz\s+dnia\b", re.IGNORECASE)
_ABOUT = re.compile(r"^w\s+sprawie\b", re.IGNORECASE)
_REFERS = re.compile(r"\bdo\b", re.IGNORECASE)  # "Załącznik nr 1 do uchwały …": the heading names its act
_ANNEX_REFERENCE_LINE = re.compile(r"^(?:do|rady|prezydenta|burmistrza|wójta|zarządu|starosty|marszałka|sejmiku|"
                                   r"ministra|uchwały|zarządzenia|nr|z\s+dnia)\b", re.IGNORECASE)
_ANNEX_REFERENCE_DATE = re.compile(r"\bz\s+dnia\b", re.IGNORECASE)
_ANNEX_REFERENCE_MAX = 160


# The first line of an act's title: a draft put out for consultation is often itself an annex of the
# announcement ("Załącznik nr 1 do ogłoszenia Burmistrza …" / "PROJEKT" / "Uchwała Nr …/…/22 …").
_ACT_TITLE = re.compile(r"^(?:projekt(?=\s*$|\s+(?:z\s+dnia|uchwały|zarządzenia)\b)|"
                        r"(?:uchwała|zarządzenie|rozporządzenie|ustawa|obwieszczenie)(?=\s*$|\s+(?:nr|z\s+dnia)\b))",
                        re.IGNORECASE)


def _marks_an_announcement(state: _ParseState, raw: _Raw, following, after) -> bool:
    """An annex heading that is the document's first line and stands above an act's title ("Załącznik nr 1 do
    ogłoszenia …" / "PROJEKT" / "Uchwała Nr …"): the announcement's mark on the draft, no annex of the draft.

    Not a bare "Załącznik nr 1" over "Uchwała nr … z dnia …" with no "w sprawie …" after it: that line names
    the act the annex belongs to (Cybinka's programme for 2014)."""
    if state.units or not isinstance(following, _Raw) or following.is_table or following.auto is not None:
        return False
    line = following.text.strip()
    if not _ACT_TITLE.match(line):
        return False
    return not _names_the_act_annexed_to(raw, line, after)


def _raw_at(raws: list, index: int):
    return raws[index] if index < len(raws) else None


def _names_the_act_annexed_to(heading: _Raw, line: str, after) -> bool:
    """`line`, under a heading with no "do …", is the annexed-to act in the nominative, not an act's title."""
    if _REFERS.search(heading.text) or not _ANNEX_REFERENCE_NOMINATIVE.match(line):
        return False
    return not (isinstance(after, _Raw) and _ABOUT.match(after.text.strip()))


_LAYOUT_TABLE_MAX = 400


def _annex_heading_in_table(raw: _Raw) -> tuple[str, str] | None:
    """(number, text) when a small table holds an annex heading in one cell, the others empty or a short mark
    ("PROJEKT"): Word templates set the corner block so, in a borderless table."""
    if len(raw.text) > _LAYOUT_TABLE_MAX:
        return None
    cells = [cell.strip() for row in raw.text.split("\n") for cell in row.split(" | ") if cell.strip()]
    headings = [(cell, match) for cell in cells if (match := ANNEX_HEADING.match(cell))]
    if len(headings) != 1 or any(len(cell) > 30 for cell in cells if cell is not headings[0][0]):
        return None
    cell, match = headings[0]
    return match.group(1) or match.group(2) or "", cell


def _annex_heading_lines(raw: _Raw, raws: list, index: int) -> list[_Raw]:
    """The paragraphs after an annex heading that continue it: "do …" after a bare "Załącznik (nr N)", then the
    body and date of the act it is annexed to, up to the line with the date."""
    text = raw.text.strip()
    if _ANNEX_REFERENCE_DATE.search(text):
        return []  # the heading is complete on its line
    continued: list[_Raw] = []
    referenced = bool(_REFERS.search(text))
    while index < len(raws):
        candidate = raws[index]
        if not isinstance(candidate, _Raw) or candidate.is_table or candidate.auto is not None:
            break
        line = candidate.text.strip()
        if not line or len(line) > _ANNEX_REFERENCE_MAX or classify_prefix(line) or ANNEX_HEADING.match(line):
            break
        continues = (_ANNEX_REFERENCE_LINE if referenced else _ANNEX_REFERENCE_OPENING).match(line) or (
            not continued and _names_the_act_annexed_to(raw, line, _raw_at(raws, index + 1)))
        if not continues:
            break
        continued.append(candidate)
        referenced = True
        index += 1
        if _ANNEX_REFERENCE_DATE.search(line):
            break
    return continued


def _add_annex_heading(raw: _Raw, continued: list[_Raw], reading: _Reading, state: _ParseState) -> None:
    """One annex unit over its heading's paragraphs: kept as drafted while unchanged, one paragraph if amended."""
    unit = _unit_from(raw, reading, state)
    runs = list(unit.runs)
    for line in continued:
        runs.append(Run(" ", raw.first_rpr))
        runs.extend(line.runs)
    _add(replace(unit, runs=tuple(runs), text="".join(run.text for run in runs).strip(),
                 folded_xml="".join(line.xml for line in continued)), state)


_SIGNATURE_ROLE = re.compile(r"^(?:\(-\)\s*)?(?:Przewodnicząc|Wiceprzewodnicząc|Prezydent|Zastępc|Burmistrz|Wójt|"
                             r"Minister|Prezes|Marszałek|Starost|Wojewod|Sekretarz|Id:|z up\.)", re.IGNORECASE)
_NAME = re.compile(r"^(?:\(-\)\s*)?(?:[A-ZĄĆĘŁŃÓŚŹŻ][\w.'-]*\s*){1,5}$|^[.…\s]+$")


def _is_signature_line(text: str) -> bool:
    """After the final provision: a signatory's office ("Przewodniczący Rady Miasta", "Minister …: A. Nowak")
    or a name ("Krzysztof Greń", "…"); not a heading or text that happens to follow it."""
    return len(text) <= _SIGNATURE_MAX and bool(_SIGNATURE_ROLE.match(text) or _NAME.match(text))


def _starts_upper(raw: _Raw, reading: _Reading) -> bool:
    rest = raw.text.lstrip()[reading.prefix_length:].lstrip()
    return rest[:1].isupper()


def _read_number(raw: _Raw, state: _ParseState) -> _Reading:
    text = raw.text.lstrip()
    typed = classify_prefix(text)
    if raw.auto is not None:
        rendered, fmt = raw.auto
        if fmt == "bullet":
            reading = _Reading("tiret", "", "auto")
        elif fmt == "upperRoman" and re.fullmatch(r"[IVXLC]+\.?", rendered.strip()):
            reading = _Reading("chapter", rendered.strip().rstrip("."), "auto")
        elif fmt == "lowerRoman":
            # "i.", "ii)": a list's level under its letters (1. → a. → i.), never a chapter, which Polish acts number
            # in capitals; the units it holds are the letter's, as a tiret's are
            reading = _Reading("tiret", "", "auto")
        elif fmt == "lowerLetter" and (letter := _LETTER_NUMBER.fullmatch(rendered.strip())):
            reading = _Reading("letter", letter.group(1), "auto")  # "a)", and "a." as some drafters set it
        else:
            classified = classify_prefix(rendered.strip() + " ")
            reading = _Reading(classified[0], classified[1], "auto") if classified else _Reading()
        if reading.kind in ("paragraph", "article") and typed and typed[0] == "section":
            reading.inline_section = (typed[1], typed[2])
        elif reading.kind != "block" and typed and typed[0] == reading.kind:
            state.warnings.append(Notice(
                f"The paragraph “{_excerpt(raw.text)}” has an automatic number “{rendered.strip()}” and a "
                f"typed one “{text[:typed[2]].strip()}”; the automatic one is used.",
                f"Akapit „{_excerpt(raw.text)}” ma numer automatyczny „{rendered.strip()}” i wpisany "
                f"„{text[:typed[2]].strip()}”; przyjęto numer automatyczny."))
        if reading.kind != "block":
            return reading
    if typed:
        kind, number, length = typed
        reading = _Reading(kind, number, "typed", length)
        if kind in ("paragraph", "article"):
            inline = INLINE_SECTION.match(text[length:])
            if inline:
                reading.inline_section = (inline.group(1), length + inline.end())
        return reading
    roman = roman_heading(text)
    if roman:
        return _Reading("chapter", roman[0], "typed", roman[1])
    annex = ANNEX_HEADING.match(text)
    if annex:
        return _Reading("annex", annex.group(1) or annex.group(2) or "", "")
    if state.units and _REASONS_HEADING.match(text.strip()):
        return _Reading("reasons")
    return _Reading()


# The statement of reasons that drafts carry after the act or its annex: "UZASADNIENIE", "Uzasadnienie do
# projektu uchwały …". Its paragraphs are its own ("Uzasadnienie akapit 2"), not the last §'s.
_REASONS_HEADING = re.compile(r"^(?:UZASADNIENIE|Uzasadnienie)(?:[ \t\u00a0]+(?:do|DO)\b.{0,200})?[ \t\u00a0]*:?$",
                              re.DOTALL)


def _undotted_heading(raw: _Raw, following, state: _ParseState) -> _Reading | None:
    """ "II TERMIN I WARUNKI SKŁADANIA OFERT" followed by "1. …" or "1) …": the next chapter, its dot left out."""
    if not UNDOTTED_ROMAN_HEADING.match(raw.text.lstrip()) or not _opens_with_one(following, ("section", "point")):
        return None
    last = next((unit for unit in reversed(state.units) if unit.kind in ("chapter", "annex")), None)
    previous = number_value(last.number) if last is not None and last.kind == "chapter" else 0
    heading = undotted_roman_heading(raw.text.lstrip(), (previous or 0) + 1)
    return _Reading("chapter", heading[0], "typed", heading[1]) if heading else None


def _numbered_heading(raw: _Raw, reading: _Reading, following, state: _ParseState) -> _Reading | None:
    """ "1. WPROWADZENIE" in capitals, followed by its own "1. …" or "1) …" (or a § 1): a chapter numbered like a
    ust., as some programmes head their parts; read as one, it would give two units the label "ust. 1". Not
    inside a § or an article, where "1. KULTURA" over "1) …" is the §'s ust. 1 with its points."""
    container = next((unit for unit in reversed(state.units)
                      if unit.kind in ("paragraph", "article", "chapter", "division", "annex", "reasons")), None)
    if container is not None and container.kind in ("paragraph", "article"):
        return None
    title = raw.text.strip()[reading.prefix_length:].strip()
    if not title or len(title) > 80 or any(char.islower() for char in title) or not any(c.isalpha() for c in title) \
            or title[-1:] in ".,;:" or not _opens_with_one(following, ("section", "point", "paragraph")):
        return None
    return _Reading("chapter", reading.number, "typed", reading.prefix_length)


def _opens_with_one(following, kinds: tuple[str, ...]) -> bool:
    """The next paragraph opens a list of one of `kinds` at 1 ("1. …", "1) …", "§ 1."), typed or Word-numbered."""
    if not isinstance(following, _Raw) or following.is_table:
        return False
    first = following.auto[0].strip() + " " if following.auto is not None else following.text.lstrip()
    opening = classify_prefix(first)
    return bool(opening) and opening[0] in kinds and opening[1] == "1"


_LETTER_NUMBER = re.compile(r"\(?([a-z]{1,2})[.)]")
_DOTTED_LETTER = re.compile(r"^([a-z])\.[ \t\u00a0]+(?=\S)")


def _list_context(raw: _Raw, reading: _Reading, state: _ParseState) -> _Reading:
    """A dash or a lower-case line after a list item that does not open a sub-list closes the list
    ("część wspólna"); after a line ending with a colon, a dash opens tirets, and "a." opens letters typed
    with a dot ("a. organizację zajęć", then "b.", …), which elsewhere would be no number at all."""
    previous = next((unit for unit in reversed(state.units) if unit.kind not in ("table",)), None)
    opens_list = previous is not None and previous.text.rstrip().endswith(":")
    if reading.kind == "tiret" and reading.numbering == "typed" and not opens_list and \
            not any(unit.kind in KIND_RANK for unit in state.units):
        return _Reading()  # "- PROJEKT -" above the title: a dash with no list to belong to
    if previous is None:
        return reading
    dotted = _DOTTED_LETTER.match(raw.text.lstrip()) if reading.kind == "block" else None
    if dotted:
        letter = dotted.group(1)
        follows = previous.kind == "letter" and previous.source_prefix.strip().endswith(".") and \
            from_letters(previous.number) is not None and from_letters(previous.number) + 1 == from_letters(letter)
        if (letter == "a" and opens_list) or follows:
            return _Reading("letter", letter, "typed", dotted.end())
    after_item = previous.kind in ("point", "letter") or (previous.kind == "tiret" and reading.kind != "tiret")
    if reading.kind == "tiret" and reading.numbering == "typed" and not opens_list and \
            previous.kind in ("point", "letter"):
        return _Reading("common", "", "typed", reading.prefix_length)  # the dash is no part of the wording
    if reading.kind == "block" and after_item and not opens_list and raw.text.strip()[:1].islower():
        return _Reading("common")
    return reading


def _is_head(raw: _Raw, reading: _Reading) -> bool:
    """A line holding only a number ("§ 1.", "Art. 1", "Rozdział 2", or an automatic "§ 3." with no text)."""
    if reading.kind not in ("division", "chapter", "paragraph", "article"):
        return False
    return not raw.text.strip()[reading.prefix_length:].strip() and not any(run.opaque for run in raw.runs)


def _can_follow_head(following, reading: _Reading, state: _ParseState) -> bool:
    """The next paragraph is the unit's own text (or a chapter's title) when it carries no number itself."""
    if not isinstance(following, _Raw) or following.is_table or following.auto is not None:
        return False
    text = following.text.strip()
    if not text or _PAGE_FURNITURE.match(text) or classify_prefix(text) or roman_heading(text) or \
            ANNEX_HEADING.match(text):
        return False
    return reading.kind not in ("division", "chapter") or len(text) <= 250


def _unit_from(raw: _Raw, reading: _Reading, state: _ParseState) -> Unit:
    runs = raw.runs
    number_rpr = source_prefix = ""
    if reading.numbering == "typed" and reading.prefix_length:
        number_rpr = raw.first_rpr
        leading = len(raw.text) - len(raw.text.lstrip())
        runs = strip_leading_chars(runs, leading + reading.prefix_length)
        source_prefix = raw.text[:len(raw.text) - len("".join(run.text for run in runs))]
    text = "".join(run.text for run in runs).strip()
    return Unit(id=_next_id(state), kind=reading.kind, label="", text=text, number=reading.number,
                source_number=reading.number, numbering=reading.numbering, runs=tuple(runs), ppr=raw.ppr,
                heading=raw.heading, page=raw.page, source_xml=raw.xml, number_rpr=number_rpr,
                source_prefix=source_prefix, title=text if reading.kind in ("chapter", "division") else "")


def _is_title_line(text: str) -> bool:
    """A short heading such as "Postanowienia ogólne" or "CELE": no closing punctuation, capitalised."""
    text = text.strip()
    return 0 < len(text) <= 80 and len(text.split()) <= 10 and text[:1].isupper() and \
        not text.endswith((".", ":", ";", ","))


def _add_with_head(head: _Raw, body: _Raw, reading: _Reading, state: _ParseState, title: _Raw | None = None) -> None:
    unit = _unit_from(body, _Reading(), state)
    number_rpr = head.first_rpr if reading.numbering == "typed" else ""
    if title is not None:
        heading_text = title.text.strip()
    else:
        heading_text = unit.text if reading.kind in ("chapter", "division") or _is_title_line(unit.text) else ""
    _add(replace(unit, kind=reading.kind, number=reading.number, source_number=reading.number,
                 numbering=reading.numbering, heading=head.heading or body.heading, page=head.page,
                 number_rpr=number_rpr, has_head=True, head_xml=head.xml, head_ppr=head.ppr,
                 title_xml=title.xml if title is not None else "",
                 source_prefix=head.text if reading.numbering == "typed" else "", title=heading_text), state)


def _add_inline(raw: _Raw, reading: _Reading, state: _ParseState) -> None:
    """ "§ 5. 1. Tekst": § 5 without a paragraph of its own, and its ust. 1 holding the line."""
    section_number, length = reading.inline_section
    parent = Unit(id=_next_id(state), kind=reading.kind, label="", text="", number=reading.number,
                  source_number=reading.number, numbering=reading.numbering, ppr=raw.ppr, heading=raw.heading,
                  page=raw.page, shares_paragraph=True,
                  number_rpr=raw.first_rpr if reading.numbering == "typed" else "")
    parent_text = ""
    if reading.numbering == "typed":
        parent_text = raw.text[:len(raw.text) - len(raw.text.lstrip()) + reading.prefix_length]
    _add(replace(parent, source_prefix=parent_text), state)
    child = _unit_from(raw, _Reading("section", section_number, "typed", length), state)
    _add(replace(child, opens_parent=True, source_parent_text=parent_text,
                 source_prefix=child.source_prefix[len(parent_text):]), state)


def _add(unit: Unit, state: _ParseState) -> None:
    if unit.kind in ("paragraph", "article", "section") and _FINAL_PROVISION.search(unit.text):
        state.closing = True
    state.units.append(unit)


def _excerpt(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def numbering_gaps(units) -> tuple[str, ...]:
    """Warnings where numbers of one list do not follow each other: a sign the layout was misread."""
    by_id = {unit.id: unit for unit in units}
    last: dict[tuple, tuple[int, str]] = {}
    warnings = []
    for unit in units:
        if unit.kind not in KIND_RANK or unit.kind == "tiret":
            continue
        value = number_value(unit.number) if unit.number else None
        if value is None:
            continue
        if unit.kind in ("division", "chapter", "paragraph", "article"):
            scope = (_annex_of(unit, by_id), unit.kind)
        else:
            scope = (unit.parent, unit.kind)
        previous = last.get(scope)
        if previous is not None and value not in (previous[0] + 1, previous[0]):
            warnings.append(Notice(f"{unit.label} follows {previous[1]}: the numbering jumps; check that the layout "
                                   "was read as drafted.",
                                   f"{unit.label} następuje po {previous[1]}: numeracja przeskakuje; sprawdź, czy "
                                   "układ dokumentu odczytano tak, jak go zredagowano."))
        last[scope] = (value, unit.label)
    return tuple(warnings)


def _annex_of(unit: Unit, by_id: dict) -> str | None:
    current = unit
    while current is not None:
        if current.kind == "annex":
            return current.id
        current = by_id.get(current.parent) if current.parent else None
    return None


_PAGE_FIELDS = ("PAGE", "NUMPAGES", "SECTIONPAGES")


_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# Objects drawn in a run: DrawingML (pictures, text boxes, shapes), VML (w:pict, Word 2003 and LibreOffice's
# fallback), embedded OLE objects, and Word 2010's choice between the first two.
_DRAWN_OBJECTS = (W + "drawing", W + "pict", W + "object", _MC + "AlternateContent")


def _runs(paragraph, state: _ParseState) -> list[Run]:
    """Visible runs of a paragraph; deleted revisions are dropped, insertions kept (as if accepted).

    Soft hyphens and the shown value of page-number fields are not text: they change with the layout.
    """
    runs: list[Run] = []
    field = {"instr": "", "page_result": False}
    for run in paragraph.iter(W + "r"):
        if _inside_deletion(run, paragraph) or _inside_drawn_object(run, paragraph):
            continue
        rpr_element = run.find(W + "rPr")
        rpr = serialize(_without_revision_marks(rpr_element), state.root_nsmap) if rpr_element is not None else ""
        in_simple_page_field = _inside_page_field(run, paragraph)
        for child in run:
            if child.tag == W + "fldChar":
                kind = child.get(W + "fldCharType")
                if kind == "begin":
                    field["instr"] = ""
                elif kind == "separate":
                    field["page_result"] = field["instr"].split()[:1] in ([name] for name in _PAGE_FIELDS)
                elif kind == "end":
                    field["page_result"] = False
            elif child.tag == W + "instrText":
                field["instr"] += child.text or ""
            if child.tag == W + "t" and (field["page_result"] or in_simple_page_field):
                continue
            _append_run_content(child, rpr, runs, state)
    return merge_runs(runs)


def _inside_page_field(run, paragraph) -> bool:
    field = enclosing(run, (W + "fldSimple",), paragraph)
    return field is not None and (field.get(W + "instr") or "").split()[:1] in ([name] for name in _PAGE_FIELDS)


def _append_run_content(child, rpr: str, runs: list[Run], state: _ParseState) -> None:
    tag = child.tag
    if tag == W + "t":
        runs.append(Run((child.text or "").replace("\u00ad", ""), rpr))
    elif tag == W + "tab":
        runs.append(Run("\t", rpr))
    elif tag in (W + "br", W + "cr"):
        if child.get(W + "type") == "page":
            state.pages.page_break(rendered=False)
        else:
            runs.append(Run("\n", rpr))
    elif tag == W + "noBreakHyphen":
        runs.append(Run("-", rpr))
    elif tag == W + "lastRenderedPageBreak":
        state.pages.page_break(rendered=True)
    elif tag in _DRAWN_OBJECTS or tag in (W + "footnoteReference", W + "endnoteReference", W + "fldChar",
                                          W + "instrText", W + "sym"):
        runs.append(Run("", rpr, serialize(child, state.root_nsmap)))


def _inside_drawn_object(run, paragraph) -> bool:
    """A run of a text box or shape anchored in the paragraph (a "PROJEKT" stamp, a logo's caption): it belongs to
    the object, which travels whole as one opaque run; Word writes its text twice (DrawingML and VML fallback)."""
    return inside(run, _DRAWN_OBJECTS, paragraph)


def _inside_deletion(run, paragraph) -> bool:
    return inside(run, (W + "del", W + "moveFrom"), paragraph)


def _without_revision_marks(rpr):
    change = rpr.find(W + "rPrChange")
    if change is None:
        return rpr
    copy = etree.fromstring(etree.tostring(rpr))
    copy.remove(copy.find(W + "rPrChange"))
    return copy


def merge_runs(runs: list[Run]) -> list[Run]:
    merged: list[Run] = []
    for run in runs:
        if merged and not run.opaque and not merged[-1].opaque and merged[-1].rpr == run.rpr:
            merged[-1] = Run(merged[-1].text + run.text, run.rpr)
        elif run.text or run.opaque:
            merged.append(run)
    return merged


def strip_leading_chars(runs: list[Run], count: int) -> list[Run]:
    """Drop the first `count` characters of text (a typed number), keeping formatting of the rest."""
    result = []
    for run in runs:
        if count > 0 and not run.opaque:
            taken = min(count, len(run.text))
            count -= taken
            run = Run(run.text[taken:], run.rpr)
            if not run.text:
                continue
        result.append(run)
    if result and not result[0].opaque:
        result[0] = Run(result[0].text.lstrip(" \t\u00a0"), result[0].rpr)
    return result


def _auto_number(ppr, style: _StyleInfo, state: _ParseState) -> tuple[str, str] | None:
    num_id, ilvl = style.num_id, style.ilvl
    num_pr = ppr.find(W + "numPr") if ppr is not None else None
    if num_pr is not None:
        num_element, ilvl_element = num_pr.find(W + "numId"), num_pr.find(W + "ilvl")
        if num_element is not None:
            num_id = num_element.get(W + "val")
        if ilvl_element is not None:
            ilvl = int(ilvl_element.get(W + "val", "0"))
    if not num_id or num_id == "0":
        return None
    return state.numbering.next_number(num_id, ilvl)


def _style_of(ppr, styles: dict[str, _StyleInfo]) -> _StyleInfo:
    style_element = ppr.find(W + "pStyle") if ppr is not None else None
    style_id = style_element.get(W + "val") if style_element is not None else "Normal"
    return styles.get(style_id, _StyleInfo())


def _outline_level(ppr) -> int | None:
    level = ppr.find(W + "outlineLvl") if ppr is not None else None
    if level is None:
        return None
    value = int(level.get(W + "val", "9"))
    return value if value < 9 else None


def _on(element) -> bool:
    return element is not None and element.get(W + "val", "true") not in ("0", "false", "off")


def _read_styles(data: bytes | None) -> dict[str, _StyleInfo]:
    if not data:
        return {}
    styles: dict[str, _StyleInfo] = {}
    for style in parse_xml(data).iter(W + "style"):
        if style.get(W + "type") != "paragraph":
            continue
        name = style.find(W + "name")
        name_text = name.get(W + "val", "") if name is not None else ""
        ppr = style.find(W + "pPr")
        info = _StyleInfo(heading=bool(_HEADING_NAME.match(name_text)) or _outline_level(ppr) is not None)
        num_pr = ppr.find(W + "numPr") if ppr is not None else None
        if num_pr is not None and num_pr.find(W + "numId") is not None:
            info.num_id = num_pr.find(W + "numId").get(W + "val")
            ilvl = num_pr.find(W + "ilvl")
            info.ilvl = int(ilvl.get(W + "val", "0")) if ilvl is not None else 0
        based_on = style.find(W + "basedOn")
        info.based_on = based_on.get(W + "val") if based_on is not None else None
        styles[style.get(W + "styleId")] = info
    for info in styles.values():
        base = styles.get(info.based_on or "")
        if base is not None:
            info.heading = info.heading or base.heading
            if info.num_id is None and base.num_id is not None:
                info.num_id, info.ilvl = base.num_id, base.ilvl
    return styles


def serialize(element, root_nsmap: dict) -> str:
    """XML of one element without the namespace declarations the document root already makes."""
    xml = etree.tostring(element, encoding="unicode")

    def drop_known(match: re.Match) -> str:
        prefix, uri = match.group(1), match.group(2)
        return "" if root_nsmap.get(prefix) == uri else match.group(0)

    return re.sub(r' xmlns:(\w+)="([^"]*)"', drop_known, xml)


def _document_frame(root, body, section, head_extra: list[str]) -> tuple[str, str]:
    """document.xml split around the units: (head incl. <w:body>, tail with sectPr).

    The frame is built beside the body, not copied whole and emptied: lxml unlinks a removed subtree node by node,
    and emptying a copy of a 12 MB body of nested tables took 47 s (Apache POI's bug65649.docx)."""
    frame = etree.Element(root.tag, attrib=dict(root.attrib), nsmap=root.nsmap)
    frame.text = root.text
    for child in root:
        if child is body:
            frame_body = etree.SubElement(frame, body.tag, attrib=dict(body.attrib), nsmap=body.nsmap)
            frame_body.text = body.text
            frame_body.append(etree.Comment(_BODY_PLACEHOLDER))
            frame_body.tail = body.tail
        else:
            frame.append(copy.deepcopy(child))
    xml = etree.tostring(frame, encoding="unicode")
    head, tail = xml.split(f"<!--{_BODY_PLACEHOLDER}-->")
    section_xml = serialize(section, dict(root.nsmap)) if section is not None else ""
    declaration = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    return declaration + head + "".join(head_extra), section_xml + tail
