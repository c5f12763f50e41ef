"""A filled comment form (DOCX or ODT) to comment rows and the submitter's details. Pure: bytes in, data out.

The city's form is a table with one row per comment. People fill it in Word or LibreOffice, and
they move, merge, add and delete things, so the table is found by the wording of its header, not
by its position: any order of the known columns, a merged title row above the header, the
column-number row under it ("1 2 3 4 5"), empty rows, extra columns and text around the table are
all tolerated. The submitter's details come from "label: value" paragraphs or two-cell rows. A DOCX with no
comment table may be the draft itself, returned with Word comments and tracked changes (annotations.py).
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
import zipfile

from lxml import etree

from services.common.docx_safety import (OLE_COMPOUND_MAGIC, PackageRejected, check_docx, check_ods, check_odt,
                                         check_xlsx, compound_file_kind, with_usual_main_part)
from services.common.word_numbering import list_labels, numbering_of, style_lists_of
from services.common.xmltree import parse_untrusted_xml
from services.intake.mail import Refusal
from services.intake.mail.annotations import annotated_rows, odt_annotated_rows
from services.intake.mail.odf_text import ODF_TABLE, ODF_TEXT, OdfLists, odt_inline, odt_list_labels, odt_text_body
from services.intake.mail.pdf_form import is_pdf, read_pdf_document
from services.intake.mail.rows import FilledForm, FormRow, FormSubmitter
from services.intake.mail.rtf import is_rtf, read_rtf
from services.intake.mail.word97 import read_word97

log = logging.getLogger("uwagi.intake.mail")

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# Elements that only wrap rows, cells or runs: content controls (a form's fields, a repeating section of rows)
# and custom XML markup.
_WRAPPERS = (f"{W}sdt", f"{W}sdtContent", f"{W}customXml")


class FormUnreadable(Refusal):
    """The attachment is an office file we refuse (hostile) or cannot read; `code` is stable."""


# --- header recognition -------------------------------------------------------------


def normalise(text: str) -> str:
    """Lower case, no diacritics (ł too), single spaces: what header matching compares."""
    text = text.replace("ł", "l").replace("Ł", "L")
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^\w\s./]", " ", plain).split())


# The names of a document's units as a header lists them to ask where a comment belongs ("rozdział, paragraf,
# ustęp, punkt"; "nr paragrafu, ustępu"), normalised
_UNIT_WORD = r"(?:rozdzial|rozdzialu|paragraf|paragrafu|ustep|ustepu|punkt|punktu|litera|litery|artykul|artykulu)"

# Checked in this order: "część dokumentu, do którego odnosi się uwaga" mentions "uwaga" but is the section.
_COLUMN_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    # Who comments, per row in some tables ("Podmiot wnoszący propozycję", as the government's tables of comments
    # have it): never the proposal, though it names one.
    ("submitter", re.compile(r"^(?:podmiot|nazwa (?:podmiotu|organizacji)|imie i nazwisko|zglaszajac|wnoszac|autor)")),
    ("justification", re.compile(r"\buzasadnienie\b|\buzasadnienia\b|\bjustification\b|\brationale\b")),
    ("section", re.compile(r"czesc dokumentu|czesc projektu|do ktorego odnosi sie|do ktorej odnosi sie|"
                           r"jednostka redakcyjna|miejsce w (?:projekcie|dokumencie)|^(?:rozdzial|paragraf|punkt)\b|"
                           r"^(?:nr )?(?:rozdzialu|paragrafu)|^czesc\b|^fragment|\bsection\b|part of the document|"
                           r"^wskaz(?:anie)? (?:miejsc|zapis|fragment)|^nr (?:str(?:ony)?|punktu|ustepu)\b")),
    # A header that opens with a proposing word is the proposal whatever it names after it ("Proponowana treść
    # zapisu", "Propozycja zmiany zapisu w projekcie" would otherwise be the current text).
    ("proposal", re.compile(r"^(?:propozycj|proponowan|sugerowan|wnioskowan|postulowan)|\bpo zmianie\b")),
    # A header that asks for the units by name is the section whatever it calls them: "Zapis w projekcie, do
    # którego zgłaszane są uwagi (nr paragrafu, ustępu, punktu)".
    ("section", re.compile(rf"\b{_UNIT_WORD}\b.*\b{_UNIT_WORD}\b")),
    ("current_text", re.compile(r"zapisu? w projekcie|obecny zapis|obecne brzmienie|dotychczasowy zapis|aktualny zapis|"
                                r"(?:zapis|brzmienie|tresc)\w* (?:obecn|dotychczasow|aktualn)|"
                                r"^(?:obecn|dotychczasow)\w*$|"
                                r"brzmienie w projekcie|tresc zapisu|zapis projektu|^zapis$|current (?:text|wording)|"
                                r"(?:tekst|tresc|brzmienie) aktualn|aktualn\w* (?:tekst|tresc|brzmienie)|"
                                r"zapis ktorego dotyczy|^jest$")),  # a lawyer's table: "Jest" | "Powinno być"
    ("comment", re.compile(r"tresc (?:uwagi|opinii)|^uwaga$|^uwagi$|opis uwagi|^comment|"
                           r"^(?:opinia|uwagi i opinie|opinie i uwagi|(?:uwaga ?/ ?opinia|opinia ?/ ?uwaga))$")),
    ("proposal", re.compile(r"propozycj|proponowan|sugerowan|wnioskowan|proponuje|nowe brzmienie|nowy zapis|^proposal|"
                            r"proposed (?:change|wording)|^powinno byc$")),
    ("number", re.compile(r"^l\.? ?p\.?$|^lp$|^nr$|^no\.?$")),
)


# A list label before a header or a label ("1. Imię i nazwisko", "a) Uzasadnienie", "• Telefon"), typed or shown by
# Word's numbering: the wording after it is what names the column
_LIST_LABEL = re.compile(r"^\s*(?:(?:\d{1,3}|[a-z]|[IVXL]{1,5})[.)]|[•–-])\s+(?=\S)", re.IGNORECASE)


def _first_match(patterns: tuple[tuple[str, re.Pattern], ...], text: str, longest: int) -> str | None:
    value = normalise(_LIST_LABEL.sub("", text, count=1))
    if not value or len(value) > longest:
        return None
    return next((name for name, pattern in patterns if pattern.search(value)), None)


def classify_header(text: str) -> str | None:
    return _first_match(_COLUMN_PATTERNS, text, 200)


def _header_columns(cells: list[str]) -> dict[int, str] | None:
    """The columns of a header row, or None. A header names the proposal (or comment) and one more known column."""
    columns: dict[int, str] = {}
    for index, text in enumerate(cells):
        name = classify_header(text)
        if name and name not in ("number", "submitter") and name not in columns.values():
            columns[index] = name
    names = set(columns.values())
    if not names & {"proposal", "comment"} or len(names) < 2:
        return None
    return columns


def _two_row_header(top: list[str], bottom: list[str]) -> dict[int, str] | None:
    """The columns of a header set in two rows, a merged cell above the columns it spans ("Zapis" over "obecny" |
    "proponowany"; "Lp.", "Uzasadnienie" merged down both rows): each column named by its two cells together,
    else by its lower or its upper cell."""
    columns: dict[int, str] = {}
    above = ""
    for index in range(max(len(top), len(bottom))):
        upper = top[index].strip() if index < len(top) else ""
        lower = bottom[index].strip() if index < len(bottom) else ""
        above = upper or (above if lower else "")  # a spanning cell's text over each column it spans
        for text in (f"{above} {lower}".strip(), lower, above):
            name = classify_header(text) if text else None
            if name and name not in ("number", "submitter") and name not in columns.values():
                columns[index] = name
                break
    names = set(columns.values())
    if not names & {"proposal", "comment"} or len(names) < 2 or not any(cell.strip() for cell in bottom):
        return None
    return columns


def rows_from_grid(grid: list[list[str]]) -> list[FormRow] | None:
    """Comment rows of a table given as text cells per row, or None when the table is not the comment table."""
    for header_index, cells in enumerate(grid):
        columns, first_row = _header_columns(cells), header_index + 1
        if columns is None and header_index + 1 < len(grid):
            # two rows, unless the next alone names as many columns (a title row above the header)
            both, next_alone = _two_row_header(cells, grid[header_index + 1]), _header_columns(grid[header_index + 1])
            if both is not None and (next_alone is None or len(both) > len(next_alone)):
                columns, first_row = both, header_index + 2
        if columns is None:
            continue
        rows = []
        for cells_of_row in grid[first_row:]:
            values = {name: _cell_value(cells_of_row[index]) for index, name in columns.items()
                      if index < len(cells_of_row)}
            if _header_columns(cells_of_row) is not None or _is_column_number_row(cells_of_row):
                continue
            if any(values.values()):
                rows.append(_form_row(values))
        return rows
    return None


def _cell_value(text: str) -> str:
    """A cell's text, or "" for what residents write in a cell they leave empty."""
    value = _clean(text)
    return "" if _PLACEHOLDER.match(value) else value


def _form_row(values: dict[str, str]) -> FormRow:
    """A comment from the fields read; a "Treść uwagi" column comes before the proposal. Without a section, one
    written at the start of the current text ("§ 5 ust. 2 – „Program realizowany jest …”") is the section."""
    proposal = "\n\n".join(v for v in (values.get("comment", ""), values.get("proposal", "")) if v)
    section, current_text = values.get("section", ""), values.get("current_text", "")
    if not section and current_text:
        section, current_text = _split_citation(current_text)
    justification = values.get("justification", "")
    labelled = None if justification else _JUSTIFICATION_LABEL.search(proposal)
    if labelled is not None and proposal[:labelled.start()].strip():
        # "Treść uwagi (wraz z uzasadnieniem)": the justification written after its label in the same cell
        proposal, justification = proposal[:labelled.start()].strip(), proposal[labelled.end():].strip()
    return FormRow(section, current_text, proposal, justification)


# "Uzasadnienie:" opening a line or a sentence inside a cell: where a resident starts the reasons
_JUSTIFICATION_LABEL = re.compile(r"(?:^|(?<=\n)|(?<=[.;!?)”\"]\s))\s*uzasadnienie\s*:\s*", re.IGNORECASE)


# A unit of the draft as people cite it at the start of a cell: "§ 5 ust. 2", "Rozdział III pkt 4 lit. b)",
# "Załącznik nr 1, rozdz. 2", "art. 3 ust. 1a". A unit word always comes with its number.
_CITED_NUMBER = r"(?:\d{1,3}[a-z]?|(?-i:[IVXLC]{1,6}))(?!\w)\)?\.?"
_CITED_UNIT = (r"(?:§{1,2}\s*" + _CITED_NUMBER + r"|(?:art\.|artyku[łl]\w*|rozdzia[łl]\w*|rozdz\.|dzia[łl]\w*|ust\.|"
               r"ust[ęe]p\w*|pkt\.?|punkt\w*|cz[ęe][śs][ćc]\w*|za[łl][ąa]cznik\w*|za[łl]\.)\s*(?:nr\.?\s*)?"
               + _CITED_NUMBER + r"|(?:lit\.|liter[ay]?)\s*[a-z]\b\)?)")
_CITATION = re.compile(r"\s*(" + _CITED_UNIT + r"(?:[\s,]*" + _CITED_UNIT + r")*)(?=[\s:–—-]|$)", re.IGNORECASE)
_QUOTED = re.compile(r"[„\"“”'‘’«»]+(?P<inner>[^„\"“”«»]*)[„\"“”'‘’«»]+\.?")


def _split_citation(text: str) -> tuple[str, str]:
    """(the units cited at the start of `text`, the rest without its separator and quotation marks), or ("",
    `text`) when it does not start with one."""
    match = _CITATION.match(text)
    if match is None:
        return "", text
    rest = text[match.end():].lstrip(" \t\n:–—-").strip()
    quoted = _QUOTED.fullmatch(rest)
    return " ".join(match.group(1).split()).rstrip(",."), (quoted.group("inner").strip() if quoted else rest)


def rows_from_vertical_grid(grid: list[list[str]]) -> list[FormRow] | None:
    """A form laid out down its first column ("1. Część dokumentu … | §", "2. Dotychczasowy zapis | …",
    "3. Proponowany zmieniony zapis | …", "4. Uzasadnienie uwagi | …"): one comment per run of labels, a label
    seen again opening the next. None unless the labels name the proposal (or comment) and one more field."""
    groups: list[dict[str, str]] = []
    current: dict[str, str] = {}
    named: set[str] = set()
    for cells in grid:
        if len(cells) < 2:
            continue
        name = classify_header(cells[0])
        if name is None or name in ("number", "submitter"):
            continue
        named.add(name)
        if name in current:
            groups.append(current)
            current = {}
        current[name] = _cell_value(next((cell for cell in cells[1:] if cell.strip()), ""))
    groups.append(current)
    if not named & {"proposal", "comment"} or len(named) < 2:
        return None
    return [_form_row(values) for values in groups if any(values.values())]


def _is_column_number_row(cells: list[str]) -> bool:
    """The "1 | 2 | 3 | 4 | 5" row many Polish forms put under the header."""
    values = [c.strip().rstrip(".") for c in cells if c.strip()]
    return len(values) >= 2 and all(v.isdecimal() and int(v) <= 20 for v in values) and \
        [int(v) for v in values] == sorted(int(v) for v in values) and len(set(values)) == len(values) and \
        int(values[0]) <= 1


# What residents write in a cell they leave empty: a dash, "brak", "nie dotyczy", "n/d", "x", "bez zmian".
_PLACEHOLDER = re.compile(r"^(?:[-–—_.x/\\]+|brak|nie dotyczy|n/?d|nd|b/?z|bez zmian)[.!]?$", re.IGNORECASE)


def _clean(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.replace("\r", "\n").split("\n")]
    text = "\n".join(lines).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


# --- submitter details ----------------------------------------------------------------

_SUBMITTER_LABELS: tuple[tuple[str, re.Pattern], ...] = (
    ("email", re.compile(r"e ?-? ?mail|poczty elektronicznej|adres mailowy")),
    ("phone", re.compile(r"telefon|\btel\b|phone")),
    ("organization", re.compile(r"nazwa (?:organizacji|podmiotu|instytucji)|^organizacja|^podmiot|organi[sz]ation")),
    ("name", re.compile(r"imie i nazwisko|^imie|^nazwisko|zglaszajac|osoba zglaszajaca|^(?:your |full )?name\b|"
                        r"^autor")),
    ("address", re.compile(r"adres(?: do korespondencji| siedziby)?$|^adres\b(?!.*mail)|address")),
)


def classify_label(label: str) -> str | None:
    return _first_match(_SUBMITTER_LABELS, label, 120)


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def submitter_from(pairs: list[tuple[str, str]]) -> FormSubmitter:
    found: dict[str, str] = {}
    for label, value in pairs:
        name = classify_label(label)
        value = " ".join(value.split()).strip(" .:_…")
        if not name or not value or set(value) <= set("._…- "):
            continue
        if name == "email":
            match = _EMAIL.search(value)
            if not match:
                continue
            value = match.group(0)
        found.setdefault(name, value[:300])
    return FormSubmitter(**found)


def _pairs_from_paragraphs(paragraphs: list[str]) -> list[tuple[str, str]]:  # "Label: value"
    pairs = []
    for text in paragraphs:
        label, sep, value = text.partition(":")
        if sep and value.strip():
            pairs.append((label, value))
    return pairs


def _pairs_from_grid(grid: list[list[str]]) -> list[tuple[str, str]]:
    pairs = []
    for cells in grid:
        filled = [c for c in cells if c.strip()]
        if len(filled) == 2 and classify_label(filled[0]):
            pairs.append((filled[0], filled[1]))
        elif len(filled) == 1 and ":" in filled[0]:
            pairs.extend(_pairs_from_paragraphs([filled[0]]))
    return pairs


# --- DOCX -----------------------------------------------------------------------------


def _checked(check, data: bytes, **options) -> None:
    """The package checks drafts pass too (services/common/docx_safety.py), refusals as `FormUnreadable`."""
    try:
        check(data, **options)
    except PackageRejected as rejected:
        raise FormUnreadable(rejected.code, rejected.message) from None


def _docx_text(element: etree._Element, labels: dict[etree._Element, str] | None = None) -> str:
    """Text of a paragraph or cell as Word shows it: tabs, breaks and paragraphs as whitespace and newlines, a
    list paragraph after the number Word shows before it (`labels`, from `list_labels`)."""
    parts: list[str] = []
    for node in element.iter(f"{W}p", f"{W}t", f"{W}tab", f"{W}br", f"{W}cr", f"{W}delText"):
        if node.tag == f"{W}p":
            if parts:
                parts.append("\n")
            if labels and node in labels:
                parts.append(f"{labels[node]} ")
        elif node.tag == f"{W}t":
            parts.append(node.text or "")
        elif node.tag in (f"{W}tab",):
            parts.append("\t")
        elif node.tag in (f"{W}br", f"{W}cr"):
            parts.append("\n")
        # deleted text (w:delText) of tracked changes is not what the person proposes
    return "".join(parts)


def _wrapped_children(element: etree._Element, tag: str) -> list[etree._Element]:
    """`element`'s children with `tag`, also those inside content controls and custom XML around them: Word's
    repeating section (a form's "add a row") wraps rows, and a field set as a cell-level control wraps a cell."""
    found = []
    for child in element:
        if child.tag == tag:
            found.append(child)
        elif child.tag in _WRAPPERS:
            found.extend(_wrapped_children(child, tag))
    return found


def _without_what_word_does_not_show(root: etree._Element) -> None:
    """Blank what a reader of the form does not see as its text: a content control still showing its
    placeholder ("Kliknij lub naciśnij tutaj, aby wprowadzić tekst.", ISO/IEC 29500-1 §17.5.2.39
    `w:showingPlcHdr`), and the fallback copy of a drawing or text box that Word keeps beside the original."""
    for flag in root.iter(f"{W}showingPlcHdr"):
        properties = flag.getparent()
        if (flag.get(f"{W}val") or "true").lower() in ("0", "false", "off") or any(
                etree.QName(child).localname.startswith("repeatingSection") for child in properties
                if isinstance(child.tag, str)):
            continue  # the flag means nothing on a repeating section, which holds the filled rows
        control = properties.getparent()
        for content in control.findall(f"{W}sdtContent"):
            for text in content.iter(f"{W}t"):
                text.text = ""
    for fallback in list(root.iter(f"{MC}Fallback")):
        fallback.getparent().remove(fallback)


def _docx_grid(table: etree._Element, labels: dict[etree._Element, str] | None = None) -> list[list[str]]:
    """Rows of cells, a cell spanning n grid columns repeated n times so columns line up with the header;
    a vertically merged continuation cell repeats nothing (it is empty in the row below)."""
    grid = []
    for row in _wrapped_children(table, f"{W}tr"):
        cells: list[str] = []
        for cell in _wrapped_children(row, f"{W}tc"):
            properties = cell.find(f"{W}tcPr")
            span = 1
            continuation = False
            if properties is not None:
                grid_span = properties.find(f"{W}gridSpan")
                if grid_span is not None and (grid_span.get(f"{W}val") or "1").isdecimal():
                    span = max(1, min(int(grid_span.get(f"{W}val")), 50))
                merge = properties.find(f"{W}vMerge")
                continuation = merge is not None and merge.get(f"{W}val") in (None, "continue")
            text = "" if continuation else _docx_text(cell, labels)
            cells.extend([text] + [""] * (span - 1))
        grid.append(cells)
    return grid


_RELATED_PARTS = {"comments": "word/comments.xml", "commentsExtended": "word/commentsExtended.xml",
                  "numbering": "word/numbering.xml", "styles": "word/styles.xml"}


def _related_parts(archive: zipfile.ZipFile) -> dict[str, bytes | None]:
    """The comments and their reply threads, the list numbering and the styles, found through the document's
    relationships (by their usual names when the relationships do not say)."""
    targets = dict(_RELATED_PARTS)
    try:
        relationships = parse_untrusted_xml(archive.read("word/_rels/document.xml.rels"))
        for relationship in relationships:
            kind = (relationship.get("Type") or "").rsplit("/", 1)[-1]
            target = (relationship.get("Target") or "").lstrip("/")
            if kind in targets and target:
                targets[kind] = target if target.startswith("word/") else f"word/{target}"
    except (KeyError, etree.XMLSyntaxError):
        pass
    names = set(archive.namelist())
    return {kind: archive.read(name) if name in names else None for kind, name in targets.items()}


def _list_labels(body: etree._Element, parts: dict[str, bytes | None]) -> dict[etree._Element, str]:
    """The numbers Word shows before the list paragraphs of the body ("1)" in a proposal's cell); a damaged
    numbering or styles part loses the numbers, not the form. No numbering part, no lists: nothing to read."""
    if not parts["numbering"]:
        return {}
    return list_labels(body, style_lists_of(parts["styles"]), numbering_of(parts["numbering"]))


def read_docx(data: bytes, filename: str = "") -> FilledForm | None:
    """The form's comment table, or else the comments and tracked changes written on a returned draft."""
    _checked(check_docx, data, filename=filename)
    try:
        with zipfile.ZipFile(io.BytesIO(with_usual_main_part(data))) as archive:
            document = archive.read("word/document.xml")
            parts = _related_parts(archive)
        body = parse_untrusted_xml(document).find(f"{W}body")
    except (KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as error:
        raise FormUnreadable("damaged", f"the document cannot be read: {error}") from None
    if body is None:
        return None
    _without_what_word_does_not_show(body)  # blanks placeholders in place: the annotations read a fresh copy
    labels = _list_labels(body, parts)
    paragraphs = [_docx_text(p, labels) for p in body.iter(f"{W}p")
                  if not any(ancestor.tag == f"{W}tc" for ancestor in p.iterancestors())]
    form = assemble(paragraphs, [_docx_grid(table, labels) for table in body.iter(f"{W}tbl")])
    if form is not None:
        return form
    try:
        rows = annotated_rows(parse_untrusted_xml(document).find(f"{W}body"), parts["comments"],
                              parts["commentsExtended"], parse_untrusted_xml)
    except etree.XMLSyntaxError as error:
        raise FormUnreadable("damaged", f"the document's comments cannot be read: {error}") from None
    return FilledForm(tuple(rows), annotated=True) if rows else None


def assemble(paragraphs: list[str], grids: list[list[list[str]]]) -> FilledForm | None:
    """The form from its text outside tables and its tables: the first comment table gives the rows, the
    rest (paragraphs, detail tables) the submitter's details. None without a comment table."""
    rows: list[FormRow] | None = None
    pairs = _pairs_from_paragraphs(paragraphs)
    for grid in grids:
        found = rows_from_grid(grid) if rows is None else None
        if found is not None:
            rows = found
        else:
            pairs.extend(_pairs_from_grid(grid))
    if rows is None:  # no table of comments: a form laid out down its first column, one table or one per comment
        for grid in grids:
            found = rows_from_vertical_grid(grid)
            if found is not None:
                rows = (rows or []) + found
    if rows is None:
        return None
    return FilledForm(tuple(rows), submitter_from(pairs))


# --- ODT ---------------------------------------------------------------------------------

_TABLE_OF_ODF = f"{{{ODF_TABLE}}}"


def read_odt(data: bytes) -> FilledForm | None:
    """As `read_docx`, for a form saved by LibreOffice: the comment table, else the comments and recorded changes
    written on a returned draft."""
    _checked(check_odt, data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            content_data = archive.read("content.xml")
            styles_data = archive.read("styles.xml") if "styles.xml" in archive.namelist() else None
        content = parse_untrusted_xml(content_data)
    except (KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as error:
        raise FormUnreadable("damaged", f"the document cannot be read: {error}") from None
    try:
        styles = parse_untrusted_xml(styles_data) if styles_data else None
    except etree.XMLSyntaxError:  # the list numbers are lost, not the form: its points keep a bullet
        styles = None
    text_body = odt_text_body(content)
    if text_body is None:
        return None
    labels = odt_list_labels(text_body, OdfLists(content, styles))
    outside_tables = _odt_paragraphs(text_body, labels)  # the details, also when typed as a list
    form = assemble(outside_tables, [_odt_grid(table, labels) for table in text_body.iter(f"{_TABLE_OF_ODF}table")])
    if form is not None:
        return form
    try:  # no comment table: the draft itself, returned with LibreOffice's comments and recorded changes
        rows = odt_annotated_rows(parse_untrusted_xml(content_data))
    except etree.XMLSyntaxError as error:
        raise FormUnreadable("damaged", f"the document cannot be read: {error}") from None
    return FilledForm(tuple(rows), annotated=True) if rows else None


def _odt_grid(table: etree._Element, labels: dict[etree._Element, str]) -> list[list[str]]:
    """Rows of cells as `_docx_grid` gives them: a cell repeated or spanning n columns fills n, a covered cell
    (under a span) none, a repeated row at most 5 times (LibreOffice repeats empty rows by the thousand)."""
    grid = []
    for row in _odt_rows(table):
        cells: list[str] = []
        for cell in row:
            if cell.tag == f"{_TABLE_OF_ODF}table-cell":
                repeat = _odf_int(cell.get(f"{_TABLE_OF_ODF}number-columns-repeated"), 1, 50)
                span = _odf_int(cell.get(f"{_TABLE_OF_ODF}number-columns-spanned"), 1, 50)
                text = _odt_cell_text(cell, labels)
                for _ in range(repeat):
                    cells.extend([text] + [""] * (span - 1))
        grid.extend([cells] * _odf_int(row.get(f"{_TABLE_OF_ODF}number-rows-repeated"), 1, 5))
    return grid


def _odt_rows(table: etree._Element):
    """Rows of a table, also inside header-rows and row-groups; not those of nested tables."""
    for child in table:
        if child.tag == f"{_TABLE_OF_ODF}table-row":
            yield child
        elif child.tag in (f"{_TABLE_OF_ODF}table-header-rows", f"{_TABLE_OF_ODF}table-rows",
                           f"{_TABLE_OF_ODF}table-row-group"):
            yield from _odt_rows(child)


def _odt_cell_text(cell: etree._Element, labels: dict[etree._Element, str]) -> str:
    """A cell's paragraphs, one a line, a list item's after its number; not a nested table's (a grid of its own)."""
    return "\n".join(_odt_paragraphs(cell, labels))


def _odt_paragraphs(element: etree._Element, labels: dict[etree._Element, str]) -> list[str]:
    """The paragraphs of the text or a cell, in lists and sections too, a list item's after its number; not a
    table's (its grid is read on its own) nor a frame's."""
    paragraphs: list[str] = []

    def collect(parent: etree._Element) -> None:
        for child in parent:
            if child.tag in (f"{{{ODF_TEXT}}}p", f"{{{ODF_TEXT}}}h"):
                text = odt_inline(child)
                paragraphs.append(f"{labels[child]} {text}" if child in labels else text)
            elif child.tag in (f"{{{ODF_TEXT}}}list", f"{{{ODF_TEXT}}}list-item", f"{{{ODF_TEXT}}}list-header",
                               f"{{{ODF_TEXT}}}section"):
                collect(child)

    collect(element)
    return paragraphs


def _odf_int(value, default: int, maximum: int) -> int:
    try:
        return max(1, min(int(value), maximum)) if value else default
    except (TypeError, ValueError):
        return default


# --- dispatch ----------------------------------------------------------------------------

DOCX_TYPES = {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
ODT_TYPES = {"application/vnd.oasis.opendocument.text"}
XLSX_TYPES = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
ODS_TYPES = {"application/vnd.oasis.opendocument.spreadsheet"}


def form_kind(filename: str, media_type: str, data: bytes) -> str | None:
    """docx, odt, xlsx, ods, doc (Word 97-2003) or None; by name or declared type, confirmed by the bytes (a zip,
    or an OLE compound file whose streams are Word's)."""
    name = filename.lower()
    if data.startswith(OLE_COMPOUND_MAGIC):
        return {"word": "doc", "excel": "xls"}.get(compound_file_kind(data) or "")
    if is_rtf(data):
        return "rtf"
    if not data.startswith(b"PK"):
        return "docx" if name.endswith((".docm", ".dotm")) else None
    if name.endswith((".docx", ".docm", ".dotx", ".dotm")) or media_type in DOCX_TYPES:
        return "docx"
    if name.endswith((".odt", ".ott")) or media_type in ODT_TYPES:
        return "odt"
    if name.endswith((".xlsx", ".xlsm")) or media_type in XLSX_TYPES:
        return "xlsx"
    if name.endswith((".ods", ".ots")) or media_type in ODS_TYPES:
        return "ods"
    # Whatever the label (octet-stream, zip, x-zip-compressed, msword, vnd.ms-word.document.12 …) and however
    # the file is named, the package's own parts say what it is: their names in its directory, not strings in its
    # bytes (an archive that stores a DOCX, or a signed DOCX, uncompressed holds the DOCX's part names too).
    names = _part_names(data)
    if names is None:  # no directory to read: what its first bytes show, and the reader says why it cannot
        names = {match.decode() for match in _MAIN_PARTS_BYTES.findall(data[:65536])}
    if any(_MAIN_PARTS.fullmatch(name) for name in names if name.startswith("word/")):
        return "docx"
    if b"application/vnd.oasis.opendocument.text" in data[:200]:
        return "odt"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if b"application/vnd.oasis.opendocument.spreadsheet" in data[:200]:
        return "ods"
    return None


# A Word document's main part (Word for the web's is word/document2.xml), an Excel workbook's
_MAIN_PARTS = re.compile(r"word/document\d*\.xml|xl/workbook\.xml")
_MAIN_PARTS_BYTES = re.compile(_MAIN_PARTS.pattern.encode())


def _part_names(data: bytes) -> set[str] | None:
    """The package's part names from its zip directory; None when there is none to read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            return set(package.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        return None


def read_form(filename: str, media_type: str, data: bytes) -> FilledForm | None:
    """The comment rows of a filled form, None if the file is not an office form or has no comment table.

    Raises `FormUnreadable` for a hostile or damaged office file (macros, zip bomb, DTD, encrypted …).
    """
    if is_pdf(data):
        document = read_pdf_document(data)
        return assemble(document.outside_tables, document.tables) if document is not None else None
    kind = form_kind(filename, media_type, data)
    if kind == "docx":
        return read_docx(data, filename)
    if kind == "odt":
        return read_odt(data)
    if kind == "xlsx":
        return read_xlsx(data, filename)
    if kind == "ods":
        return read_ods(data)
    if kind == "doc":
        return read_doc(data)
    if kind == "xls":
        return read_xls(data)
    if kind == "rtf":
        document = read_rtf(data)
        return assemble(document.outside_tables, document.tables) if document is not None else None
    return None


def workbook_grid(data: bytes) -> list[list[str]] | None:
    """The first sheet of a workbook calamine reads (XLS, ODS) as text cells, at most 5,000 rows of 50 cells;
    None when it cannot be read (encrypted, damaged)."""
    from python_calamine import CalamineError

    from services.intake.imports.plan import first_sheet_values

    try:
        grid = first_sheet_values(data)
    except (CalamineError, IndexError, ValueError, OverflowError) as error:
        log.info("workbook not read: %s", type(error).__name__)
        return None
    return [row[:50] for row in grid[:5000]]


def read_xls(data: bytes) -> FilledForm | None:
    """The comment table kept as an Excel 97-2003 workbook, read as an XLSX's is. None when it cannot be read (the
    mail waits for staff, the file kept and noted) or holds no comment table."""
    grid = workbook_grid(data)
    return assemble([], [grid]) if grid is not None else None


def read_doc(data: bytes) -> FilledForm | None:
    """The comment table of a form filled in and saved as Word 97-2003 (offices still publish their forms as
    .doc): read as a DOCX form's is. None when the document cannot be read (the mail waits for staff, the file
    kept and noted) or has no comment table."""
    document = read_word97(data)
    if document is None:
        return None
    return assemble(document.outside_tables, document.tables)


def read_xlsx(data: bytes, filename: str = "") -> FilledForm | None:
    """The comment table kept as a spreadsheet (public guides to commenting ask for "a filled table, .docx or
    .xls"): its first sheet is the table, read as the import of spreadsheets reads it (a formula is its text)."""
    from services.intake.imports.plan import TableError, read_table

    _checked(check_xlsx, data, filename=filename)
    try:
        grid = read_table("form.xlsx", data)
    except TableError as error:
        raise FormUnreadable("damaged", f"the workbook cannot be read: {error}") from None
    return assemble([], [grid])  # cells come as text


def read_ods(data: bytes) -> FilledForm | None:
    """The comment table saved by LibreOffice Calc: its first sheet, read as the spreadsheet import reads one."""
    _checked(check_ods, data)
    grid = workbook_grid(data)
    if grid is None:  # it passed the package checks: a damaged spreadsheet, refused as such
        raise FormUnreadable("damaged", "the spreadsheet cannot be read")
    return assemble([], [grid])
