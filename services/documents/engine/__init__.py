"""Uwagi document engine: a pure library (no database, web framework or task queue).

Everything takes bytes or immutable objects and returns bytes or dataclasses;
storing artifacts, computing their sha256 and emitting events is the caller's
job. Formats and commands: docs/document-engine.md.

    check_docx(data, *, max_bytes=…, filename=None) -> None        raises DocumentRejected
    parse_docx(data) -> Version                                      version 1 of a draft
    resolve_anchor(version, hint, quote=None) -> AnchorResult
    reanchor(old, new, anchors) -> list[Reanchored]
    apply_changes(parent, changes, *, approved_by, approved_at) -> Version   raises ChangeError
    diff_versions(old, new, *, include_unchanged=False) -> list[dict]
    render_clean(version) -> bytes
    render_tracked(old, new, *, lang="pl") -> bytes
    ReportData.from_json(data) -> ReportData                         raises ReportInputError
    build_report_docx / build_report_xlsx / build_report_csv(data, *, lang="pl", published=True) -> bytes
"""

from .anchor import Anchor, AnchorResult, Candidate, Reanchored, reanchor, resolve_anchor
from .errors import ChangeError, DocumentRejected, EngineError, ReportInputError
from .model import Change, Run, Template, Unit, Version
from .parse import parse_docx
from .render import render_clean
from .report import (ReportData, build_report_csv, build_report_docx, build_report_xlsx, summary,
                     table_rows)
from .safety import Limits, check_docx
from .tracked import render_tracked
from .versions import apply_changes, changes_from_json, diff_versions

__all__ = [
    "Anchor", "AnchorResult", "Candidate", "Change", "ChangeError", "DocumentRejected", "EngineError", "Limits",
    "Reanchored", "ReportData", "ReportInputError", "Run", "Template", "Unit", "Version", "apply_changes",
    "build_report_csv", "build_report_docx", "build_report_xlsx", "changes_from_json", "check_docx",
    "diff_versions", "parse_docx", "reanchor", "render_clean", "render_tracked", "resolve_anchor", "summary",
    "table_rows",
]
