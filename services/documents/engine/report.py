"""The consultation report: DOCX (title page, summary, chart, comment table), XLSX and CSV.

The comment table is written as strings from one row template, which is what
keeps 10,000+ rows within a few seconds (python-docx objects are ~10× slower).
All three formats share `table_rows`, so they always show the same data, and
all are deterministic: dates come from the consultation, never from the clock.
"""

from __future__ import annotations

import csv
import gc
import io
import re
from contextlib import contextmanager
from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping

from services.common.docx_safety import xml_safe
from services.common.spreadsheets import spreadsheet_safe

from .chart import stacked_bar_chart_png
from .docxwriter import (paragraph_xml, rpr_xml, run_xml, section_xml, settings_xml, simple_paragraph,
                         styles_xml, table_xml, text_xml)
from .errors import ReportInputError
from .numbering import from_roman
from .ooxml import (CT_SETTINGS, CT_STYLES, WML_NS_DECL, XML_DECL, PackageBuilder, app_properties_xml,
                    core_properties_xml, read_package, write_package, xml_escape, zip_date_from_iso)
from .privacy import redact, submitter_display

DECISIONS = ("accepted", "partially_accepted", "rejected", "not_considered")
SUBMITTER_KINDS = ("person", "organization")

TEXTS: dict[str, dict[str, Any]] = {
    "pl": {
        "report": "Raport z konsultacji społecznych",
        "working_draft": "Wersja robocza – przed zakończeniem rozpatrywania uwag", "internal": "Wersja wewnętrzna – zawiera dane osobowe",
        "consultation": "Konsultacje", "document": "Konsultowany dokument", "stage": "Etap",
        "dates": "Termin konsultacji", "channels": "Formy zgłaszania uwag", "duty_days": "Dyżury konsultacyjne",
        "organizer": "Prowadzący konsultacje", "from_to": "od {start} do {end}",
        "legal_basis": "Podstawa prawna", "report_date": "Data sporządzenia raportu",
        "participation": "Udział w konsultacjach",
        "submitters": "Liczba podmiotów, które zgłosiły uwagi: {submitters}; liczba uwag: {comments}.",
        "undecided": "Uwagi jeszcze bez zatwierdzonego rozstrzygnięcia, nieujęte w tej wersji raportu: {count}.",
        "by_channel_line": "Uwagi według formy zgłoszenia: {channels}.",
        "course": "Przebieg konsultacji",
        "course_dates": "Konsultacje trwały od {start} do {end}.",
        "course_channels": "Uwagi można było zgłaszać w następujących formach: {channels}.",
        "course_duty": "Odbyły się dyżury konsultacyjne ({count}): {days}.",
        "summary": "1. Podsumowanie", "total": "Liczba zgłoszonych uwag: {count}.",
        "by_decision": "Uwagi według rozstrzygnięcia", "by_channel": "Uwagi według formy zgłoszenia",
        "by_topic": "Uwagi według tematu", "by_chapter": "Uwagi według części dokumentu",
        "chart_title": "Rozstrzygnięcia uwag według rozdziałów", "count": "Liczba",
        "figure": "Rysunek 1. Rozstrzygnięcia uwag według rozdziałów dokumentu.",
        "table_heading": "2. Zestawienie uwag wraz ze stanowiskiem Miasta",
        "columns": ["Lp.", "Zgłaszający", "Część dokumentu", "Obecny zapis", "Proponowana zmiana",
                    "Uzasadnienie uwagi", "Rozstrzygnięcie", "Stanowisko Miasta wraz z uzasadnieniem",
                    "Przyjęte brzmienie"],
        "export_columns": ["Lp.", "Numer zgłoszenia", "Zgłaszający", "Część dokumentu", "Rozdział",
                           "Obecny zapis", "Proponowana zmiana", "Uzasadnienie uwagi", "Forma zgłoszenia",
                           "Temat", "Rozstrzygnięcie", "Stanowisko Miasta", "Przyjęte brzmienie"],
        "decisions": {"accepted": "Uwzględniona", "partially_accepted": "Uwzględniona częściowo",
                      "rejected": "Nieuwzględniona", "not_considered": "Nierozpatrzona"},
        "channel_names": {"web": "formularz internetowy", "email": "poczta elektroniczna", "letter": "pismo",
                          "duty_hours": "dyżur konsultacyjny"},
        "no_chapter": "(nie wskazano)", "no_topic": "(bez tematu)", "room": "sala",
        "sheet": "Uwagi",
    },
    "en": {
        "report": "Public consultation report",
        "working_draft": "Working draft – built before the review was completed", "internal": "Internal edition – contains personal data",
        "consultation": "Consultation", "document": "Document consulted", "stage": "Stage",
        "dates": "Consultation period", "channels": "Ways to comment", "duty_days": "Consultation duty hours",
        "organizer": "Run by", "from_to": "from {start} to {end}",
        "legal_basis": "Legal basis", "report_date": "Report date",
        "participation": "Participation",
        "submitters": "Submitters: {submitters}; comments: {comments}.",
        "undecided": "Comments without an approved decision yet, not included in this version: {count}.",
        "by_channel_line": "Comments by channel: {channels}.",
        "course": "How the consultation ran",
        "course_dates": "The consultation ran from {start} to {end}.",
        "course_channels": "Comments could be sent by: {channels}.",
        "course_duty": "Consultation duty hours were held ({count}): {days}.",
        "summary": "1. Summary", "total": "Number of comments received: {count}.",
        "by_decision": "Comments by decision", "by_channel": "Comments by channel",
        "by_topic": "Comments by topic", "by_chapter": "Comments by part of the document",
        "chart_title": "Decisions on comments by chapter", "count": "Count",
        "figure": "Figure 1. Decisions on comments by chapter of the document.",
        "table_heading": "2. Comments and the City's position",
        "columns": ["No.", "Submitter", "Part of the document", "Current wording", "Proposed change",
                    "Justification", "Decision", "City's position and reasoning", "Adopted wording"],
        "export_columns": ["No.", "Reference", "Submitter", "Part of the document", "Chapter", "Current wording",
                           "Proposed change", "Justification", "Channel", "Topic", "Decision", "City's position",
                           "Adopted wording"],
        "decisions": {"accepted": "Accepted", "partially_accepted": "Partially accepted",
                      "rejected": "Rejected", "not_considered": "Not considered"},
        "channel_names": {"web": "web form", "email": "e-mail", "letter": "letter",
                          "duty_hours": "duty hours"},
        "no_chapter": "(not specified)", "no_topic": "(no topic)", "room": "room",
        "sheet": "Comments",
    },
}

# Twentieths of a point; landscape A4 with 2 cm margins leaves 14,570. Each column is wide enough for
# the longest word of its header at 9 pt bold (no "Rozstrzygni-ęcie"), the decision column for
# "Nieuwzględniona", and Lp. for the submission's reference ("UW/2026/000123#12") on one line, even in
# DejaVu Serif, the widest font that stands in for Liberation Serif; tests/integration/
# test_report_rendering_libreoffice.py renders the table to PDF to prove it.
_COLUMN_WIDTHS = [1950, 1550, 1300, 1600, 1600, 1600, 1750, 1650, 1570]
# Long words of the free-text columns ("niepełnosprawnościami") cannot fit a column of nine: the report asks
# for automatic hyphenation (Polish rules, a visible hyphen, as Word and LibreOffice with hyphen-pl do), but
# never in the header, Lp. with its reference, or the decision, which must read whole.
_DECISION_COLUMN = 6
_WHOLE_WORD_COLUMNS = frozenset({0, _DECISION_COLUMN})
_REFERENCE_RPR = rpr_xml(size_half_points=16)  # the reference under Lp., 8 pt, fits on one line
_MONTHS_PL = ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września",
              "października", "listopada", "grudnia")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")
_ACCEPTED = ("accepted", "partially_accepted")
_CHAPTER = re.compile(r"^\s*(?:rozdzia[łl]|rozdz\.?)\s*([IVXLCDM]+|\d+)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Submitter:
    name: str
    organization: str
    kind: str
    publish_consent: bool


@dataclass(frozen=True)
class CommentRow:
    ref: str
    submitter: Submitter
    unit_label: str
    comment: str
    proposal: str
    justification: str
    channel: str
    topic: str
    decision: str
    position: str
    chapter: str = ""
    adopted: str = ""


@dataclass(frozen=True)
class DutyDay:
    date: str
    start: str
    end: str
    place: str


@dataclass(frozen=True)
class Consultation:
    title: str
    stage: str = ""
    document: str = ""
    organizer: str = ""
    start: str = ""
    end: str = ""
    channels: tuple[str, ...] = ()
    duty_days: tuple[DutyDay, ...] = ()
    # Built before the review was completed: the positions may still change.
    working_draft: bool = False
    legal_basis: str = ""
    report_date: str = ""
    # Comments a working draft leaves out because they have no approved decision yet.
    undecided: int = 0


@dataclass(frozen=True)
class ReportData:
    consultation: Consultation
    comments: tuple[CommentRow, ...]

    @staticmethod
    def from_json(data: Mapping) -> "ReportData":
        """Validate REPORT.json; raises ReportInputError naming the first bad field."""
        if not isinstance(data, Mapping) or not isinstance(data.get("consultation"), Mapping):
            raise ReportInputError("bad_report", "REPORT.json needs a 'consultation' object.",
                                   "REPORT.json musi zawierać obiekt 'consultation'.")
        comments = data.get("comments")
        if not isinstance(comments, list):
            raise ReportInputError("bad_report", "REPORT.json needs a 'comments' list.",
                                   "REPORT.json musi zawierać listę 'comments'.")
        return ReportData(_consultation(data["consultation"]),
                          tuple(_comment(item, index) for index, item in enumerate(comments)))


def _text(value: Any) -> str:
    return xml_safe(str(value)) if value is not None else ""


def _invalid(field: str, message: str, message_pl: str) -> ReportInputError:
    return ReportInputError("bad_report", f"REPORT.json: {field} {message}", f"REPORT.json: {field} {message_pl}")


def _string(data: Mapping, key: str, path: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _invalid(f"{path}.{key}", "must be text.", "musi być tekstem.")
    return _text(value)


def _consultation(data: Mapping) -> Consultation:
    path = "consultation"
    channels = data.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(channel, str) for channel in channels):
        raise _invalid(f"{path}.channels", "must be a list of texts.", "musi być listą tekstów.")
    days = data.get("duty_days") or []
    if not isinstance(days, list):
        raise _invalid(f"{path}.duty_days", "must be a list of objects with date, from, to and place.",
                       "musi być listą obiektów z polami date, from, to i place.")
    duty_days = []
    for index, day in enumerate(days):
        where = f"{path}.duty_days[{index}]"
        if not isinstance(day, Mapping):
            raise _invalid(where, "must be an object with date, from, to and place (not "
                           f"{type(day).__name__} {str(day)[:40]!r}).",
                           "musi być obiektem z polami date, from, to i place (a nie "
                           f"{str(day)[:40]!r}).")
        duty_days.append(DutyDay(_string(day, "date", where), _string(day, "from", where),
                                 _string(day, "to", where), _string(day, "place", where)))
    working_draft = data.get("working_draft", False)
    if not isinstance(working_draft, bool):
        raise _invalid(f"{path}.working_draft", "must be true or false.", "musi mieć wartość true lub false.")
    undecided = data.get("undecided", 0)
    if isinstance(undecided, bool) or not isinstance(undecided, int) or not 0 <= undecided <= 10_000_000:
        raise _invalid(f"{path}.undecided", "must be a whole number, 0 or more.",
                       "musi być liczbą całkowitą, 0 lub większą.")
    return Consultation(title=_string(data, "title", path), stage=_string(data, "stage", path),
                        document=_string(data, "document", path), organizer=_string(data, "organizer", path),
                        start=_string(data, "start", path), end=_string(data, "end", path),
                        channels=tuple(_text(channel) for channel in channels), duty_days=tuple(duty_days),
                        working_draft=working_draft, legal_basis=_string(data, "legal_basis", path),
                        report_date=_string(data, "report_date", path), undecided=undecided)


def _comment(item: Any, index: int) -> CommentRow:
    path = f"comments[{index}]"

    def bad(message: str) -> ReportInputError:
        return ReportInputError("bad_report", f"REPORT.json: {path}: {message}", f"REPORT.json: {path}: {message}")

    if not isinstance(item, Mapping):
        raise bad("must be an object")
    submitter = item.get("submitter") or {}
    if not isinstance(submitter, Mapping):
        raise bad("'submitter' must be an object")
    kind = submitter.get("kind", "person")
    if kind not in SUBMITTER_KINDS:
        raise bad(f"submitter.kind must be one of {', '.join(SUBMITTER_KINDS)}")
    decision = item.get("decision")
    if decision not in DECISIONS:
        raise bad(f"decision must be one of {', '.join(DECISIONS)}")
    consent = submitter.get("publish_consent", False)
    if not isinstance(consent, bool):
        raise _invalid(f"{path}.submitter.publish_consent", "must be true or false.",
                       "musi mieć wartość true lub false.")
    texts = {key: _string(item, key, path) for key in ("ref", "unit_label", "comment", "proposal", "justification",
                                                      "channel", "topic", "position", "chapter", "adopted")}
    return CommentRow(
        ref=texts["ref"],
        submitter=Submitter(_string(submitter, "name", f"{path}.submitter"),
                            _string(submitter, "organization", f"{path}.submitter"), kind, consent),
        unit_label=texts["unit_label"], comment=texts["comment"], proposal=texts["proposal"],
        justification=texts["justification"], channel=texts["channel"], topic=texts["topic"], decision=decision,
        position=texts["position"], chapter=texts["chapter"], adopted=texts["adopted"])


def polish_date(iso: str, lang: str = "pl") -> str:
    """ "2024-10-21" → "21 października 2024 r." (or "21 October 2024"); other text is kept as given."""
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})", iso or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        return iso
    year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    if lang == "pl":
        return f"{day} {_MONTHS_PL[month - 1]} {year} r."
    return f"{day} {_MONTHS_EN[month - 1]} {year}"


def submitter_count(data: "ReportData") -> int:
    """Distinct submitters: an organisation or a named person once, an anonymous submission by its reference."""
    seen = set()
    for comment in data.comments:
        submitter = comment.submitter
        identity = (submitter.kind, submitter.organization.casefold(), submitter.name.casefold())
        if not submitter.name and not submitter.organization:
            identity = ("ref", comment.ref.split("#", 1)[0] or str(id(comment)))
        seen.add(identity)
    return len(seen)


# ---- shared table data ---------------------------------------------------------------

def chapter_of_comment(comment: CommentRow, lang: str) -> str:
    if comment.chapter:
        return comment.chapter
    match = _CHAPTER.match(comment.unit_label)
    if not match:
        return TEXTS[lang]["no_chapter"]
    number = match.group(1).upper()
    return f"{'Rozdział' if lang == 'pl' else 'Chapter'} {number}"


def _chapter_sort_key(label: str) -> tuple:
    number = label.rsplit(" ", 1)[-1]
    value = int(number) if number.isdecimal() else from_roman(number)
    return (0, value, label) if value else (1, 0, label)


def _channel_name(channel: str, lang: str) -> str:
    return TEXTS[lang]["channel_names"].get(channel, channel)


def table_rows(data: ReportData, lang: str = "pl", published: bool = True) -> list[list[str]]:
    """The comment table as text cells (the DOCX columns), in the edition's privacy."""
    texts = TEXTS[lang]
    decisions = texts["decisions"]
    clean = (lambda text: redact(text, lang)) if published else (lambda text: text)
    rows = []
    for number, comment in enumerate(data.comments, start=1):
        submitter = comment.submitter
        rows.append([
            f"{number}\n{comment.ref}" if comment.ref else str(number),
            submitter_display(submitter.name, submitter.organization, submitter.kind,
                              submitter.publish_consent, lang, published),
            comment.unit_label, clean(comment.comment), clean(comment.proposal), clean(comment.justification),
            decisions[comment.decision], clean(comment.position),
            clean(comment.adopted) if comment.decision in _ACCEPTED else ""])
    return rows


def export_rows(data: ReportData, lang: str = "pl", published: bool = True) -> list[list]:
    """The same table for spreadsheets: one value per cell (Lp. a number), with reference, channel and topic."""
    rows = []
    for number, (comment, cells) in enumerate(zip(data.comments, table_rows(data, lang, published)), start=1):
        rows.append([number, comment.ref, cells[1], cells[2], chapter_of_comment(comment, lang), cells[3],
                     cells[4], cells[5], _channel_name(comment.channel, lang), comment.topic, cells[6], cells[7],
                     cells[8]])
    return rows


def summary(data: ReportData, lang: str = "pl") -> dict[str, list[tuple[str, int]]]:
    """Counts by decision, channel, topic and chapter, as (display name, count) in a stable order."""
    texts = TEXTS[lang]
    decisions = Counter(comment.decision for comment in data.comments)
    channels = Counter(_channel_name(comment.channel, lang) for comment in data.comments)
    topics = Counter(comment.topic or texts["no_topic"] for comment in data.comments)
    chapters = Counter(chapter_of_comment(comment, lang) for comment in data.comments)
    return {
        "decision": [(texts["decisions"][code], decisions[code]) for code in DECISIONS],
        "channel": sorted(channels.items(), key=lambda item: (-item[1], item[0])),
        "topic": sorted(topics.items(), key=lambda item: (-item[1], item[0])),
        "chapter": sorted(chapters.items(), key=lambda item: _chapter_sort_key(item[0])),
    }


def decisions_by_chapter(data: ReportData, lang: str) -> tuple[list[str], list[tuple[str, list[int]]]]:
    counts = Counter((chapter_of_comment(comment, lang), comment.decision) for comment in data.comments)
    chapters = sorted({chapter for chapter, _ in counts}, key=_chapter_sort_key)
    series = [(TEXTS[lang]["decisions"][code], [counts[(chapter, code)] for chapter in chapters])
              for code in DECISIONS]
    return chapters, series


# ---- DOCX ----------------------------------------------------------------------------

def _comment_table_xml(rows: list[list[str]], header: list[str]) -> str:
    """The big table, from string templates: the fast path measured by bench/run_bench.py."""
    def opening(width: int, whole_words: bool) -> str:
        no_hyphens = "<w:suppressAutoHyphens/>" if whole_words else ""
        return (f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>'
                f'<w:p><w:pPr><w:pStyle w:val="TableText"/>{no_hyphens}</w:pPr><w:r>')

    cell_open = [opening(width, index in _WHOLE_WORD_COLUMNS) for index, width in enumerate(_COLUMN_WIDTHS)]
    head_open = [opening(width, True) for width in _COLUMN_WIDTHS]
    cell_close = "</w:r></w:p></w:tc>"
    bold = rpr_xml(bold=True)
    head = "".join(opening + bold + text_xml(text) + cell_close for opening, text in zip(head_open, header))
    parts = [f"<w:tr><w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>{head}</w:tr>"]
    append = parts.append
    for row in rows:
        append("<w:tr>")
        number, _, reference = row[0].partition("\n")
        append(cell_open[0])
        append(text_xml(number))
        if reference:
            append(f"</w:r><w:r>{_REFERENCE_RPR}<w:br/>{text_xml(reference)}")
        append(cell_close)
        for opening, text in zip(cell_open[1:], row[1:]):
            append(opening)
            append(text_xml(text))
            append(cell_close)
        append("</w:tr>")
    return table_xml(parts, _COLUMN_WIDTHS)


def _counts_table(title: str, counts: list[tuple[str, int]], count_label: str) -> str:
    widths = [5200, 1600]
    rows = [f'<w:tr><w:trPr><w:tblHeader/></w:trPr>'
            f'<w:tc><w:tcPr><w:tcW w:w="{widths[0]}" w:type="dxa"/></w:tcPr><w:p>{run_xml(title, rpr_xml(True))}</w:p></w:tc>'
            f'<w:tc><w:tcPr><w:tcW w:w="{widths[1]}" w:type="dxa"/></w:tcPr><w:p>{run_xml(count_label, rpr_xml(True))}</w:p></w:tc></w:tr>']
    for name, count in counts:
        rows.append(f'<w:tr><w:tc><w:tcPr><w:tcW w:w="{widths[0]}" w:type="dxa"/></w:tcPr><w:p>{run_xml(name)}</w:p></w:tc>'
                    f'<w:tc><w:tcPr><w:tcW w:w="{widths[1]}" w:type="dxa"/></w:tcPr>'
                    f'<w:p><w:pPr><w:jc w:val="right"/></w:pPr>{run_xml(str(count))}</w:p></w:tc></w:tr>')
    return table_xml(rows, widths) + simple_paragraph("")


def _title_page(data: ReportData, lang: str, published: bool) -> list[str]:
    """The report as the city publishes it: what was consulted, by whom, on what basis, when and how."""
    consultation = data.consultation
    texts = TEXTS[lang]
    body = [simple_paragraph(texts["report"], style="Title"),
            simple_paragraph(consultation.title, bold=True, align="center")]
    if consultation.working_draft:
        body.append(simple_paragraph(texts["working_draft"], bold=True, align="center"))
    if not published:
        body.append(simple_paragraph(texts["internal"], italic=True, align="center"))

    def fact(label: str, value: str) -> None:
        if value:
            body.append(paragraph_xml(run_xml(f"{label}: ", rpr_xml(bold=True)) + run_xml(value)))

    start, end = polish_date(consultation.start, lang), polish_date(consultation.end, lang)
    fact(texts["organizer"], consultation.organizer)
    fact(texts["legal_basis"], consultation.legal_basis)
    fact(texts["document"], consultation.document)
    fact(texts["stage"], consultation.stage)
    if consultation.start or consultation.end:
        fact(texts["dates"], texts["from_to"].format(start=start, end=end))
    channels = ", ".join(_channel_name(channel, lang) for channel in consultation.channels)
    by_channel = Counter(_channel_name(comment.channel, lang) for comment in data.comments)
    body.append(simple_paragraph(texts["participation"], style="Heading2"))
    body.append(simple_paragraph(texts["submitters"].format(submitters=submitter_count(data),
                                                            comments=len(data.comments))))
    if by_channel:
        body.append(simple_paragraph(texts["by_channel_line"].format(channels="; ".join(
            f"{name} – {count}" for name, count in sorted(by_channel.items(), key=lambda item: (-item[1], item[0]))))))
    if consultation.working_draft and consultation.undecided:
        body.append(simple_paragraph(texts["undecided"].format(count=consultation.undecided), bold=True))
    body.append(simple_paragraph(texts["course"], style="Heading2"))
    if consultation.start and consultation.end:
        body.append(simple_paragraph(texts["course_dates"].format(start=start, end=end)))
    if channels:
        body.append(simple_paragraph(texts["course_channels"].format(channels=channels)))
    if consultation.duty_days:
        days = "; ".join(f"{polish_date(day.date, lang)}, {day.start}–{day.end}" + (f", {day.place}" if day.place else "")
                         for day in consultation.duty_days)
        body.append(simple_paragraph(texts["course_duty"].format(count=len(consultation.duty_days), days=days)))
    fact(texts["report_date"], polish_date(consultation.report_date or consultation.end, lang))
    return body


def chart_description(title: str, chapters: list[str], series: list[tuple[str, list[int]]]) -> str:
    """The chart's alternative text, its data in words: a screen reader's user gets what the picture shows
    (WCAG 1.1.1; Polish public bodies publish accessible documents under the 2019 act on digital accessibility)."""
    lines = []
    for index, chapter in enumerate(chapters):
        counts = ", ".join(f"{name} {values[index]}" for name, values in series if values[index])
        lines.append(f"{chapter}: {counts}" if counts else chapter)
    return f"{title}. " + "; ".join(lines) + "." if lines else f"{title}."


def _drawing_xml(rel_id: str, width_emu: int, height_emu: int, name: str, description: str = "") -> str:
    descr = f' descr="{xml_escape(description)}"' if description else ""
    return (f'<w:r><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0">'
            f'<wp:extent cx="{width_emu}" cy="{height_emu}"/><wp:docPr id="1" name="{xml_escape(name)}"{descr}/>'
            '<wp:cNvGraphicFramePr><a:graphicFrameLocks noChangeAspect="1"/></wp:cNvGraphicFramePr>'
            '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
            f'<pic:pic><pic:nvPicPr><pic:cNvPr id="1" name="{xml_escape(name)}"{descr}/><pic:cNvPicPr/></pic:nvPicPr>'
            f'<pic:blipFill><a:blip r:embed="{rel_id}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
            f'<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{width_emu}" cy="{height_emu}"/></a:xfrm>'
            '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic>'
            "</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>")


def _build_date(consultation: Consultation) -> str:
    """The report's dates derive from the consultation, so rebuilding gives the same bytes."""
    day = consultation.end or consultation.start
    if re.match(r"^\d{4}-\d{2}-\d{2}", day or ""):
        return f"{day[:10]}T00:00:00Z"
    return "1980-01-01T00:00:00Z"


@contextmanager
def _collector_paused():
    """The build makes millions of short strings and no reference cycles; pausing the cyclic
    collector keeps its full-heap passes from making the build time grow faster than the rows."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_report_docx(data: ReportData, *, lang: str = "pl", published: bool = True) -> bytes:
    """The consultation report as DOCX. `published=False` gives the internal edition."""
    with _collector_paused():
        return _build_report_docx(data, lang, published)


def _build_report_docx(data: ReportData, lang: str, published: bool) -> bytes:
    texts = TEXTS[lang]
    builder = PackageBuilder()
    builder.add_part("word/styles.xml", styles_xml("pl-PL" if lang == "pl" else "en-GB"), CT_STYLES, "styles")
    builder.add_part("word/settings.xml", settings_xml(auto_hyphenation=True), CT_SETTINGS, "settings")
    chapters, series = decisions_by_chapter(data, lang)
    builder.add_default("png", "image/png")
    chart_rel = builder.add_part("word/media/chart1.png",
                                 stacked_bar_chart_png(texts["chart_title"], chapters, series), None, "image")
    counts = summary(data, lang)
    body = _title_page(data, lang, published)
    body.append(simple_paragraph(texts["summary"], style="Heading1", page_break_before=True))
    body.append(simple_paragraph(texts["total"].format(count=len(data.comments))))
    for key in ("decision", "channel", "topic", "chapter"):
        body.append(_counts_table(texts[f"by_{key}"], counts[key], texts["count"]))
    body.append(paragraph_xml(_drawing_xml(chart_rel, 6120000, 3060000, "chart1.png",
                                           chart_description(texts["chart_title"], chapters, series)), align="center"))
    body.append(simple_paragraph(texts["figure"], italic=True, align="center"))
    body.append(f"<w:p><w:pPr>{section_xml(landscape=False)}</w:pPr></w:p>")
    body.append(simple_paragraph(texts["table_heading"], style="Heading1"))
    body.append(_comment_table_xml(table_rows(data, lang, published), texts["columns"]))
    document = (f"{XML_DECL}<w:document {WML_NS_DECL}><w:body>{''.join(body)}"
                f"{section_xml(landscape=True)}</w:body></w:document>")
    created = _build_date(data.consultation)
    core = core_properties_xml(f"{texts['report']}: {data.consultation.title}", "Uwagi", created,
                               "pl-PL" if lang == "pl" else "en-GB")
    return builder.build(document, core, app_properties_xml(), date_time=zip_date_from_iso(created))


# ---- XLSX and CSV --------------------------------------------------------------------

def build_report_xlsx(data: ReportData, *, lang: str = "pl", published: bool = True) -> bytes:
    """The comment table as XLSX (openpyxl write-only), repacked for deterministic bytes.

    Lp. is a number; every text is a string cell, never a formula (a comment starting with "=" stays
    text); the header row is frozen and filterable.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    texts = TEXTS[lang]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(texts["sheet"])
    columns = texts["export_columns"]
    sheet.freeze_panes = "A2"
    rows = export_rows(data, lang, published)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"

    def cell(value) -> WriteOnlyCell:
        written = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            written.data_type = "s"  # openpyxl would store "=…" as a formula
        return written

    sheet.append([cell(title) for title in columns])
    for row in rows:
        sheet.append([cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    parts = read_package(buffer.getvalue())
    created = _build_date(data.consultation)
    parts["docProps/core.xml"] = core_properties_xml(
        f"{texts['report']}: {data.consultation.title}", "Uwagi", created,
        "pl-PL" if lang == "pl" else "en-GB").encode("utf-8")
    return write_package(parts, date_time=zip_date_from_iso(created))


def build_report_csv(data: ReportData, *, lang: str = "pl", published: bool = True) -> bytes:
    """The comment table as CSV: UTF-8 with BOM (Excel opens Polish text correctly), comma-separated.

    A cell a spreadsheet could take for a formula (=, +, -, @, tab, CR first) gets a leading quote (OWASP).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(TEXTS[lang]["export_columns"])
    writer.writerows([[value if isinstance(value, int) else spreadsheet_safe(value) for value in row]
                      for row in export_rows(data, lang, published)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
