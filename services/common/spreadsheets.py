"""CSV that Excel opens as people expect: cells a spreadsheet could take for a formula are neutralised."""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """OWASP CSV injection rule: a cell that a spreadsheet could read as a formula gets a leading quote."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def spreadsheet_unsafe(cell: str) -> str:
    """The cell as written before `spreadsheet_safe` (a page showing a published CSV reads it as people wrote it)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_TRIGGERS) else cell
