"""Parse a DOCX draft into version 1: an ordered tree of addressable units."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from .errors import DocumentRejected
from .model import Run, Template, Unit, Version
from .numbering import WordNumbering, classify_prefix
from .ooxml import W, parse_xml, read_package
from .safety import Limits, check_docx
from .structure import assign_parents, relabel

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


def parse_docx(data: bytes, *, limits: Limits | None = None) -> Version:
    """Check `data` (raises DocumentRejected) and parse it into version 1."""
    check_docx(data, limits=limits)
    parts = read_package(data)
    try:
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
    units = relabel(assign_parents(state.units))
    head, tail = _document_frame(root, body, section, state.head_extra)
    return Version(number=1, units=tuple(units), template=Template.of(parts, head, tail))


def _walk_body(body, state: _ParseState):
    """Turn body elements into units; returns the final w:sectPr (kept in the frame)."""
    section = None
    for child in _body_children(body):
        tag = child.tag
        if tag == W + "sectPr":
            section = child
        elif tag == W + "p":
            unit = _paragraph_unit(child, state)
            if unit is None:
                _keep_as_tail(child, state)
            else:
                _add_unit(unit, state)
        elif tag == W + "tbl":
            _add_unit(_table_unit(child, state), state)
        else:
            _keep_as_tail(child, state)
    return section


def _body_children(body):
    for child in body:
        if child.tag == W + "sdt":
            content = child.find(W + "sdtContent")
            if content is not None:
                yield from _body_children(content)
            continue
        yield child


def _keep_as_tail(element, state: _ParseState) -> None:
    xml = serialize(element, state.root_nsmap)
    if state.units:
        last = state.units[-1]
        state.units[-1] = Unit(**{**last.__dict__, "tail_xml": last.tail_xml + xml})
    else:
        state.head_extra.append(xml)


def _add_unit(unit: Unit, state: _ParseState) -> None:
    state.units.append(unit)


def _next_id(state: _ParseState) -> str:
    return f"u{len(state.units) + 1:04d}"


def _paragraph_unit(paragraph, state: _ParseState) -> Unit | None:
    ppr = paragraph.find(W + "pPr")
    style = _style_of(ppr, state.styles)
    if ppr is not None and _on(ppr.find(W + "pageBreakBefore")):
        state.pages.page_break(rendered=False)
    page = state.pages.page
    runs = _runs(paragraph, state)
    text = "".join(run.text for run in runs)
    if not text.strip() and not any(run.opaque for run in runs):
        return None
    state.pages.add_text(len(text))
    auto_text = _auto_number_text(ppr, style, state)
    kind, number, numbering, number_rpr = "block", "", "", ""
    classified = classify_prefix(auto_text + " ") if auto_text else None
    if classified:
        kind, number, _ = classified
        numbering = "auto"
    else:
        typed = classify_prefix(text.lstrip())
        if typed:
            kind, number, length = typed
            numbering = "typed"
            number_rpr = next((run.rpr for run in runs if run.text.strip()), "")
            runs = strip_leading_chars(runs, len(text) - len(text.lstrip()) + length)
            text = "".join(run.text for run in runs)
    heading = style.heading or _outline_level(ppr) is not None
    return Unit(id=_next_id(state), kind=kind, label="", text=text.strip(), number=number,
                source_number=number, numbering=numbering, runs=tuple(runs),
                ppr=serialize(ppr, state.root_nsmap) if ppr is not None else "",
                heading=heading, page=page, source_xml=serialize(paragraph, state.root_nsmap),
                number_rpr=number_rpr)


def _table_unit(table, state: _ParseState) -> Unit:
    page = state.pages.page
    rows = []
    for row in table.iter(W + "tr"):
        cells = []
        for cell in row.iter(W + "tc"):
            cells.append(" ".join("".join(t.text or "" for t in p.iter(W + "t")) for p in cell.iter(W + "p")).strip())
        rows.append(" | ".join(cells))
    text = "\n".join(rows)
    for mark in table.iter(W + "lastRenderedPageBreak"):
        state.pages.page_break(rendered=True)
    state.pages.add_text(len(text))
    return Unit(id=_next_id(state), kind="table", label="", text=text, page=page,
                source_xml=serialize(table, state.root_nsmap))


def _runs(paragraph, state: _ParseState) -> list[Run]:
    """Visible runs of a paragraph; deleted revisions are dropped, insertions kept (as if accepted)."""
    runs: list[Run] = []
    for run in paragraph.iter(W + "r"):
        if _inside_deletion(run, paragraph):
            continue
        rpr_element = run.find(W + "rPr")
        rpr = serialize(_without_revision_marks(rpr_element), state.root_nsmap) if rpr_element is not None else ""
        for child in run:
            _append_run_content(child, rpr, runs, state)
    return merge_runs(runs)


def _append_run_content(child, rpr: str, runs: list[Run], state: _ParseState) -> None:
    tag = child.tag
    if tag == W + "t":
        runs.append(Run(child.text or "", rpr))
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
    elif tag in (W + "footnoteReference", W + "endnoteReference", W + "drawing", W + "object",
                 W + "fldChar", W + "instrText", W + "sym"):
        runs.append(Run("", rpr, serialize(child, state.root_nsmap)))


def _inside_deletion(run, paragraph) -> bool:
    parent = run.getparent()
    while parent is not None and parent is not paragraph:
        if parent.tag in (W + "del", W + "moveFrom"):
            return True
        parent = parent.getparent()
    return False


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


def _auto_number_text(ppr, style: _StyleInfo, state: _ParseState) -> str | None:
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
    return state.numbering.next_number_text(num_id, ilvl)


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
    """document.xml split around the units: (head incl. <w:body>, tail with sectPr)."""
    frame = etree.fromstring(etree.tostring(root))
    frame_body = frame.find(W + "body")
    for child in list(frame_body):
        frame_body.remove(child)
    frame_body.append(etree.Comment(_BODY_PLACEHOLDER))
    xml = etree.tostring(frame, encoding="unicode")
    head, tail = xml.split(f"<!--{_BODY_PLACEHOLDER}-->")
    section_xml = serialize(section, dict(root.nsmap)) if section is not None else ""
    declaration = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    return declaration + head + "".join(head_extra), section_xml + tail
