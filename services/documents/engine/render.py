"""Clean and tracked-changes DOCX of a version, on the draft's own package and styles.

Unchanged units are written back byte for byte from the draft (their original
XML), so formatting, footnotes and tables survive. Changed units are written
from their runs with the original paragraph properties.
"""

from __future__ import annotations

from datetime import datetime

from .docxwriter import run_xml
from .model import Run, Unit, Version
from .numbering import typed_prefix
from .ooxml import DEFAULT_ZIP_DATE, write_package


def needs_synthesis(unit: Unit) -> bool:
    """True when the unit's original XML no longer shows what the version says."""
    return not unit.source_xml or (unit.numbering == "typed" and unit.renumbered)


def runs_xml(runs: tuple[Run, ...] | list[Run]) -> str:
    return "".join(f"<w:r>{run.rpr}{run.opaque}</w:r>" if run.opaque else run_xml(run.text, run.rpr)
                   for run in runs)


def number_run(unit: Unit) -> Run | None:
    """The typed number as a run, formatted as it was typed in the draft."""
    if unit.numbering != "typed" or not unit.number:
        return None
    return Run(typed_prefix(unit.kind, unit.number), unit.number_rpr)


def visible_runs(unit: Unit) -> list[Run]:
    prefix = number_run(unit)
    return ([prefix] if prefix else []) + list(unit.runs)


def paragraph_from_runs(unit: Unit, content: str) -> str:
    return f"<w:p>{unit.ppr}{content}</w:p>"


def clean_unit_xml(unit: Unit) -> str:
    if needs_synthesis(unit):
        return paragraph_from_runs(unit, runs_xml(visible_runs(unit)))
    return unit.source_xml


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
