"""The consultation's comment form as a DOCX, generated per consultation after the city's paper form.

Pure: the consultation's details in, bytes out. The same details always give the same bytes (fixed
core properties and zip timestamps), so the file can be cached and its ETag is its sha256.

The comment table's header uses the wording e-mail intake recognises (`services.intake.mail.form`):
a form filled in Word and mailed back is read row by row. The submitter's details are a two-column
table of "label | value" rows, which that reader also understands. No paragraph outside the tables
holds a colon, so none of them is mistaken for a "label: value" detail.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field, replace
from datetime import datetime

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from services.common.docx_safety import xml_safe
from services.common.quotes import quoted

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EMPTY_ROWS = 8
NBSP = "\u00a0"

# The header of the comment table, in the words of the city's form (and of e-mail intake's reader).
COLUMNS = (
    "Lp.",
    "Część dokumentu, do którego odnosi się uwaga (np. § 5 ust. 2)",
    "Zapis w projekcie",
    "Propozycja zmiany",
    "Uzasadnienie zmiany",
)
COLUMN_WIDTHS_CM = (1.2, 4.6, 6.4, 6.4, 6.4)
SUBMITTER_LABELS = (
    "Imię i nazwisko",
    "Nazwa organizacji (jeśli uwagi zgłasza organizacja)",
    "Adres do korespondencji",
    "Adres e-mail",
    "Telefon",
)
DEFAULT_LEGAL_BASIS = ("art. 5 ust. 5 ustawy z dnia 24 kwietnia 2003 r. o działalności pożytku publicznego "
                       "i o wolontariacie")


@dataclass(frozen=True)
class FormUnit:
    label: str
    kind: str = ""
    title: str = ""


@dataclass(frozen=True)
class CommentFormSpec:
    """What the form says about its consultation; built from intake's consultation row by the view."""

    title: str
    stage: str = ""
    organiser: str = ""
    legal_basis: str = ""
    deadline: str = ""  # the last day, as people write it ("21 października 2026 r.")
    contact_email: str = ""
    contact_phone: str = ""
    postal_address: str = ""
    document_title: str = ""
    units: tuple[FormUnit, ...] = field(default_factory=tuple)
    created: datetime | None = None  # a fixed moment (the opening) for the file's metadata


def _nowrap_dates(text: str) -> str:
    """Keep "2026 r." and "§ 5" whole at a line end (Word breaks at ordinary spaces only)."""
    return text.replace(" r.", f"{NBSP}r.").replace("§ ", f"§{NBSP}")


def units_by_chapter(units: tuple[FormUnit, ...]) -> list[tuple[str, list[str]]]:
    """The draft's labels grouped under their chapter heading ("" when the draft has none before them)."""
    groups: list[tuple[str, list[str]]] = []
    for unit in units:
        if unit.kind == "chapter":
            heading = f"{unit.label}. {unit.title}".strip(". ") if unit.title else unit.label
            groups.append((heading, []))
            continue
        if unit.kind in ("block", "table") or not unit.label:
            continue  # title lines and tables have no label people would cite
        if not groups or unit.kind in ("annex", "reasons"):
            groups.append(("", []))  # an annex and the statement of reasons belong to no chapter before them
        groups[-1][1].append(unit.label)
    return [(heading, labels) for heading, labels in groups if labels]


def _without_xml_invalid_characters(spec: CommentFormSpec) -> CommentFormSpec:
    """A title pasted with a vertical tab or a NUL must not make the form a server error (lxml refuses them)."""
    text_fields = {name: xml_safe(value) for name, value in vars(spec).items() if isinstance(value, str)}
    units = tuple(FormUnit(label=xml_safe(u.label), kind=u.kind, title=xml_safe(u.title)) for u in spec.units)
    return replace(spec, units=units, **text_fields)


def build_comment_form(spec: CommentFormSpec) -> bytes:
    spec = _without_xml_invalid_characters(spec)
    document = Document()
    _page_setup(document)
    _base_style(document)

    _paragraph(document, "FORMULARZ ZGŁASZANIA UWAG", bold=True, size=14, center=True)
    subject = f"w ramach konsultacji {quoted(spec.title)}" + (f" – {spec.stage}" if spec.stage else "")
    _paragraph(document, _nowrap_dates(subject), center=True)
    if spec.document_title:
        _paragraph(document, _nowrap_dates(f"do projektu {quoted(spec.document_title)}"), center=True)
    if spec.organiser:
        _paragraph(document, f"Konsultacje prowadzi {spec.organiser}.", center=True, size=10)
    _paragraph(document, _nowrap_dates(_how_to_send(spec)), size=10)

    _heading(document, "1. Dane zgłaszającego")
    details = document.add_table(rows=len(SUBMITTER_LABELS), cols=2)
    details.style = "Table Grid"
    for row, label in zip(details.rows, SUBMITTER_LABELS):
        _cell(row.cells[0], label, bold=True)
        _cell(row.cells[1], "")
        _width(row.cells[0], 8.0)
        _width(row.cells[1], 17.0)
    _paragraph(document, "☐ Wyrażam zgodę na opublikowanie mojego imienia i nazwiska w raporcie z konsultacji "
                         "obok zgłoszonych przeze mnie uwag. Bez tej zgody raport podaje „osoba prywatna”.", size=10)

    _heading(document, "2. Zgłaszane uwagi")
    table = document.add_table(rows=1 + EMPTY_ROWS, cols=len(COLUMNS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _repeat_header(table.rows[0])
    for cell, text, width in zip(table.rows[0].cells, COLUMNS, COLUMN_WIDTHS_CM):
        _cell(cell, _nowrap_dates(text), bold=True)
        _shade(cell)
        _width(cell, width)
    for number, row in enumerate(table.rows[1:], start=1):
        for index, (cell, width) in enumerate(zip(row.cells, COLUMN_WIDTHS_CM)):
            _cell(cell, f"{number}." if index == 0 else "")
            _width(cell, width)
    _paragraph(document, "W razie potrzeby prosimy dodać kolejne wiersze tabeli. Każda uwaga w osobnym wierszu "
                         "ułatwia jej rozpatrzenie.", size=10)

    groups = units_by_chapter(spec.units)
    if groups:
        _heading(document, "3. Jednostki redakcyjne projektu")
        _paragraph(document, "W kolumnie „Część dokumentu” prosimy podać oznaczenie zapisu tak, jak w poniższym "
                             "wykazie, np. „§ 5 ust. 2 pkt 1”.".replace("§ ", f"§{NBSP}"), size=10)
        for heading, labels in groups:
            text = "; ".join(label.replace(" ", NBSP) for label in labels)
            paragraph = document.add_paragraph()
            if heading:
                run = paragraph.add_run(f"{heading} – ")
                run.bold = True
            paragraph.add_run(text)
            _size(paragraph, 9)

    _heading(document, f"{4 if groups else 3}. Klauzula informacyjna (RODO)")
    for number, text in enumerate(gdpr_clause(spec), start=1):
        _paragraph(document, f"{number}. {text}", size=9)

    return _stable_package(_save(document, spec))


def _how_to_send(spec: CommentFormSpec) -> str:
    ways = []
    if spec.contact_email:
        ways.append(f"pocztą elektroniczną na adres {spec.contact_email}")
    if spec.postal_address:
        ways.append(f"pocztą lub osobiście na adres {' '.join(spec.postal_address.split())}")
    until = f" do {spec.deadline}" if spec.deadline else ""
    how = f" {' albo '.join(ways)}" if ways else ""
    return f"Wypełniony formularz prosimy przesłać{until}{how}. Uwagi można też zgłosić przez formularz na stronie konsultacji."


def gdpr_clause(spec: CommentFormSpec) -> list[str]:
    """The information clause (art. 13 GDPR) for a city hall as administrator; no colons (see the module note)."""
    office = spec.organiser or "urząd miasta prowadzący konsultacje"
    seat = f", z siedzibą {' '.join(spec.postal_address.split())}" if spec.postal_address else ""
    contact = f" lub pod adresem e-mail {spec.contact_email}" if spec.contact_email else ""
    basis = spec.legal_basis or DEFAULT_LEGAL_BASIS
    return [
        f"Administratorem danych osobowych zgłaszającego uwagi jest Prezydent Miasta, w imieniu którego "
        f"konsultacje prowadzi {office}{seat}.",
        f"Z inspektorem ochrony danych można się skontaktować pisemnie na adres siedziby administratora z "
        f"dopiskiem „Inspektor Ochrony Danych”{contact}.",
        f"Dane są przetwarzane w celu przeprowadzenia konsultacji społecznych, w tym zarejestrowania uwag, "
        f"potwierdzenia ich przyjęcia i poinformowania o sposobie ich rozpatrzenia, na podstawie art. 6 ust. 1 "
        f"lit. e RODO w związku z {basis}. Imię i nazwisko są publikowane w raporcie z konsultacji wyłącznie na "
        f"podstawie zgody (art. 6 ust. 1 lit. a RODO).",
        "Raport z konsultacji, zawierający treść wszystkich uwag i stanowisko wobec nich, jest publikowany. Nazwa "
        "organizacji jest publikowana zawsze, adres e-mail, adres do korespondencji i numer telefonu nigdy. Dane "
        "mogą być przekazane podmiotom obsługującym systemy informatyczne urzędu na podstawie umów powierzenia "
        "przetwarzania danych.",
        "Dane są przechowywane przez okres wynikający z przepisów o archiwizacji dokumentacji (instrukcji "
        "kancelaryjnej i jednolitego rzeczowego wykazu akt).",
        "Zgłaszającemu przysługuje prawo dostępu do danych, ich sprostowania, ograniczenia przetwarzania oraz "
        "wniesienia sprzeciwu, a także prawo cofnięcia zgody na publikację imienia i nazwiska w dowolnym momencie, "
        "bez wpływu na zgodność z prawem przetwarzania przed jej cofnięciem.",
        "Zgłaszającemu przysługuje prawo wniesienia skargi do Prezesa Urzędu Ochrony Danych Osobowych "
        "(ul. Stawki 2, 00-193 Warszawa).",
        "Podanie danych jest dobrowolne. Uwagi zgłoszone anonimowo mogą pozostać nierozpatrzone. Dane nie są "
        "wykorzystywane do zautomatyzowanego podejmowania decyzji ani do profilowania.",
    ]


# --- python-docx details ----------------------------------------------------------------------


def _page_setup(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.0))
    section.top_margin = section.bottom_margin = Cm(1.8)


def _base_style(document) -> None:
    style = document.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)
    style.paragraph_format.space_after = Pt(4)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), "Calibri")
    document.core_properties.language = "pl-PL"


def _paragraph(document, text: str, *, bold: bool = False, size: int | None = None, center: bool = False):
    paragraph = document.add_paragraph()
    run = paragraph.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if center:
        paragraph.alignment = 1
    return paragraph


def _heading(document, text: str) -> None:
    paragraph = _paragraph(document, text, bold=True, size=12)
    paragraph.paragraph_format.space_before = Pt(10)
    paragraph.paragraph_format.keep_with_next = True


def _size(paragraph, size: int) -> None:
    for run in paragraph.runs:
        run.font.size = Pt(size)


def _cell(cell, text: str, *, bold: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(text)
    run.bold = bold
    run.font.size = Pt(10)


def _width(cell, centimetres: float) -> None:
    cell.width = Cm(centimetres)


def _shade(cell) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), "E7E6E6")
    cell._tc.get_or_add_tcPr().append(shading)


def _repeat_header(row) -> None:
    """The header row is repeated on every page of a long table."""
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


def _save(document, spec: CommentFormSpec) -> bytes:
    created = spec.created or datetime(2000, 1, 1)
    properties = document.core_properties
    properties.title = f"Formularz zgłaszania uwag – {spec.title}"[:250]
    properties.author = properties.last_modified_by = spec.organiser[:250] or "Urząd Miasta"
    properties.created = properties.modified = created.replace(tzinfo=None, microsecond=0)
    properties.revision = 1
    properties.comments = properties.keywords = properties.subject = ""
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


_ZIP_DATE = (2000, 1, 1, 0, 0, 0)


def _stable_package(data: bytes) -> bytes:
    """The same parts in the same order with fixed timestamps: python-docx stamps each member with the clock."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o600 << 16
            target.writestr(member, source.read(info.filename))
    return out.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
