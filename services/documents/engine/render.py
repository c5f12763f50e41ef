"""Clean and tracked-changes DOCX of a version, on the draft's own package and styles.

Unchanged units are written back byte for byte from the draft (their original
XML), so formatting, footnotes and tables survive. Changed units are written
from their runs with the original paragraph properties.
"""

from __future__ import annotations

import re
from datetime import datetime

from .docxwriter import run_xml
from .model import Run, Unit, Version
from .numbering import typed_prefix
from .ooxml import DEFAULT_ZIP_DATE, write_package


def needs_synthesis(unit: Unit) -> bool:
    """True when the unit's original paragraph no longer shows what the version says."""
    if not unit.source_xml:
        return True
    if unit.has_head:
        return False  # the number is on the head line
    return (unit.numbering == "typed" and unit.number != unit.source_number) or \
        (unit.opens_parent and unit.parent_prefix != unit.source_parent_prefix)


def runs_xml(runs: tuple[Run, ...] | list[Run]) -> str:
    return "".join(f"<w:r>{run.rpr}{run.opaque}</w:r>" if run.opaque else run_xml(run.text, run.rpr)
                   for run in runs)


def number_prefix(unit: Unit) -> str:
    """The typed number printed at the start of the unit's paragraph ("§ 5. 1. " for an ust. that opens its §),
    in the drafter's own form (spaces, dots) with the current numbers."""
    parent_part = ""
    if unit.opens_parent and unit.parent_prefix:
        parent_part = unit.parent_prefix
        if unit.source_parent_text:
            parent_part = renumber_text(unit.source_parent_text, [_number_in(unit.source_parent_prefix)],
                                        [_number_in(unit.parent_prefix)]) or unit.parent_prefix
    if unit.has_head or unit.numbering != "typed" or not (unit.number or unit.kind == "common"):
        return parent_part  # the closing wording of a list has no number, only its typed dash
    own = typed_prefix(unit.kind, unit.number)
    if unit.source_prefix:
        own = unit.source_prefix if unit.number == unit.source_number or unit.kind == "tiret" else \
            renumber_text(unit.source_prefix, [unit.source_number], [unit.number]) or own
    return parent_part + own


def _number_in(prefix: str) -> str:
    match = re.search(r"(\d+[a-z]*|[IVXLCDM]+)(?=\W*$)", prefix.strip()) or re.search(r"\d+[a-z]*", prefix)
    return match.group(1) if match and match.groups() else (match.group(0) if match else "")


def renumber_text(text: str, old_numbers: list[str], new_numbers: list[str]) -> str | None:
    """`text` (a typed number as drafted, "§\u00a05. 1. ", "Art. 3") with its numbers replaced in order,
    keeping the drafter's spacing and punctuation; None when the old numbers are not found."""
    position, pieces = 0, []
    for old, new in zip(old_numbers, new_numbers):
        match = re.compile(rf"(?<![0-9A-Za-z]){re.escape(old)}(?![0-9A-Za-z])").search(text, position)
        if match is None:
            return None
        pieces.append(text[position:match.start()] + new)
        position = match.end()
    return "".join(pieces) + text[position:]


def number_run(unit: Unit) -> Run | None:
    """The typed number as a run, formatted as it was typed in the draft."""
    prefix = number_prefix(unit)
    return Run(prefix, unit.number_rpr) if prefix else None


def visible_runs(unit: Unit) -> list[Run]:
    prefix = number_run(unit)
    return ([prefix] if prefix else []) + list(unit.runs)


def head_text(unit: Unit) -> str:
    """What the separate number line shows as text ("§ 1.", "Rozdział 2"); "" when Word numbers it."""
    if not unit.has_head or unit.numbering != "typed":
        return ""
    if unit.source_prefix and unit.number == unit.source_number:
        return unit.source_prefix.strip()
    redrawn = renumber_text(unit.source_prefix, [unit.source_number], [unit.number]) if unit.source_prefix else None
    return (redrawn or typed_prefix(unit.kind, unit.number)).strip()


def head_paragraph_xml(unit: Unit) -> str:
    """The unit's separate number line: as drafted, or written anew when its typed number changed."""
    if not unit.has_head:
        return ""
    if unit.head_xml and (unit.numbering != "typed" or unit.number == unit.source_number):
        return unit.head_xml
    text = head_text(unit)
    return f"<w:p>{unit.head_ppr}{run_xml(text, unit.number_rpr) if text else ''}</w:p>"


def paragraph_from_runs(unit: Unit, content: str) -> str:
    return f"<w:p>{unit.ppr}{content}</w:p>"


def clean_unit_xml(unit: Unit) -> str:
    if unit.shares_paragraph:
        return ""  # its number opens its first child's paragraph
    if needs_synthesis(unit):
        body = paragraph_from_runs(unit, runs_xml(visible_runs(unit)))  # an amended folded heading: one paragraph
    else:
        body = unit.source_xml + unit.folded_xml
    return head_paragraph_xml(unit) + unit.title_xml + body


def zip_date(moment: datetime | None) -> tuple:
    if moment is None or moment.year < 1980:
        return DEFAULT_ZIP_DATE
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second // 2 * 2)


def package_with_document(version: Version, document_xml: str, extra_parts: dict[str, bytes] | None = None) -> bytes:
    parts = dict(version.template.parts)
    parts["word/document.xml"] = document_xml.encode("utf-8")
    parts.update(extra_parts or {})
    return write_package(parts, date_time=zip_date(version.approved_at))


def render_clean(version: Version) -> bytes:
    """The version as a clean DOCX with the draft's styles (deterministic bytes)."""
    body = "".join(clean_unit_xml(unit) + unit.tail_xml for unit in version.units)
    template = version.template
    return package_with_document(version, template.document_head + body + template.document_tail)


def render_tracked(old: Version, new: Version) -> bytes:
    """Version `new` as tracked changes against `old` (see tracked.py)."""
    from .tracked import render_tracked as _render

    return _render(old, new)
