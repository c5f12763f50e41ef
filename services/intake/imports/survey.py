"""An online survey's export (Google Forms, Microsoft Forms) as the import's own table. Pure.

Some offices collect comments with an online form and download its answers: one row per answer, the first
column the moment it was sent ("Sygnatura czasowa" in Polish Google Forms, "Timestamp" in English; Microsoft
Forms has "Godzina ukończenia" / "Completion time"), the other headers the questions as the office worded them
("Część dokumentu, do której odnosi się uwaga", "Proponowana zmiana zapisu", "Uzasadnienie", "Imię i nazwisko").
Such a table does not use the import's column names, so it is recognised by that first column and translated:
each question is matched by the words a comment form's header uses (the e-mail form reader's rules), the
moment becomes the date of receipt, a consent question's ticked answer becomes "tak", and the channel is the
web. Questions that match nothing are left out, and named in the result so the page can say which.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from services.intake.imports.plan import POLISH_HEADERS, _HEADER_NAMES, fold

# The survey's own first columns: when the answer was sent (the last one wins: completion after start)
_MOMENT = {"sygnatura_czasowa", "znacznik_czasu", "timestamp", "godzina_ukonczenia", "completion_time",
           "czas_ukonczenia"}
_SURVEY_ONLY = {"godzina_rozpoczecia", "start_time", "id", "identyfikator", "czas_ostatniej_modyfikacji",
                "last_modified_time", "punkty", "points", "total_points", "lacznie_punktow", "wynik", "score"}
_CONSENT = re.compile(r"zgod|zgadzam|consent|agree", re.IGNORECASE)
_PUBLICATION = re.compile(r"publik|upubl|publish|ujawn", re.IGNORECASE)
_YES_ANSWERS = re.compile(r"^(?:tak|yes|wyrazam_zgode|zgadzam_sie|agree|i_agree|x)", re.IGNORECASE)
# "2024/11/29 1:22:09 AM CET" (Google Forms' CSV), "29.11.2024 01:22:09" (a Polish sheet), "2024-11-29 13:22:09",
# "11/29/2024 1:22:09" (an American sheet: month first)
_MOMENT_VALUE = re.compile(r"(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})\b.*|(\d{1,2})([/.-])(\d{1,2})[/.-](\d{4})\b.*")


@dataclass(frozen=True)
class SurveyTable:
    table: list[list[str]]  # the import's columns (POLISH_HEADERS), one row per answer
    left_out: tuple[str, ...]  # the survey's questions no column took


def survey_table(table: Sequence[Sequence[str]]) -> SurveyTable | None:
    """The import's table for a survey export, or None when `table` is not one (its header has no answer time,
    or already uses the import's column names)."""
    if not table:
        return None
    header = [str(cell) for cell in table[0]]
    folded = [fold(cell) for cell in header]
    if not any(name in _MOMENT for name in folded) or all(name in _HEADER_NAMES for name in folded if name):
        return None
    sources: dict[str, list[int]] = {}  # column -> the survey's columns that may fill it, the first filled wins
    left_out: list[str] = []
    for index, (cell, name) in enumerate(zip(header, folded)):
        column = _column(cell, name)
        if column == "received_on":
            sources[column] = [index]  # the last answer-time column is the completion
        elif column in _IDENTITY:
            sources.setdefault(column, []).append(index)
        elif column and column not in sources:
            sources[column] = [index]
        elif name and name not in _SURVEY_ONLY:
            left_out.append(cell.strip())  # matches nothing, or a column an earlier question already fills
    for column in _IDENTITY:  # what people typed first, the survey's signed-in account after it
        sources.get(column, []).sort(key=lambda index: folded[index] in _ACCOUNT)
    columns = [column for column in POLISH_HEADERS if column in sources or column == "channel"]
    rows = [[POLISH_HEADERS[column] for column in columns]]
    for raw in table[1:]:
        cells = [_first_filled(raw, sources.get(column, ())) for column in columns]
        if not any(cells):
            continue
        values = dict(zip(columns, cells))
        values["channel"] = "www"
        if "received_on" in values:
            values["received_on"] = _day(values["received_on"])
        if "publish_consent" in values:
            values["publish_consent"] = "tak" if _YES_ANSWERS.match(fold(values["publish_consent"])) else "nie"
        rows.append([values[column] for column in columns])
    return SurveyTable(rows, tuple(left_out))


_IDENTITY = ("name", "email")
_ACCOUNT = {"name", "email", "nazwa", "adres_e_mail_konta"}  # Microsoft Forms' signed-in account
_NOBODY = {"anonymous", "anonimowy", "anonimowa"}  # what Microsoft Forms writes for an answer without an account


def _first_filled(raw: Sequence[object], indexes: Sequence[int]) -> str:
    for index in indexes:
        value = str(raw[index]).strip() if index < len(raw) and raw[index] is not None else ""
        if value and value.lower() not in _NOBODY:
            return value
    return ""


def _column(cell: str, name: str) -> str | None:
    """The import's column a survey question fills, or None."""
    from services.intake.mail.form import classify_header, classify_label

    if name in _MOMENT:
        return "received_on"
    if name in _SURVEY_ONLY:
        return None
    if name in _HEADER_NAMES:
        return _HEADER_NAMES[name]
    if _CONSENT.search(cell) and _PUBLICATION.search(cell):
        return "publish_consent"
    label = classify_label(cell)
    if label in ("email", "name", "organization"):
        return label
    header = classify_header(cell)
    return {"section": "section", "current_text": "current_text", "proposal": "proposal", "comment": "proposal",
            "justification": "justification", "submitter": "name"}.get(header or "")


def _day(moment: str) -> str:
    """The date of an answer time as the import reads dates (2024-11-29), or the text as it was (then refused)."""
    match = _MOMENT_VALUE.fullmatch(moment.strip())
    if match is None:
        return moment
    if match.group(1):
        year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    else:
        first, separator, second, year = int(match.group(4)), match.group(5), int(match.group(6)), int(match.group(7))
        # "29.11.2024" is day first (Poland); "11/29/2024" month first (an American sheet), unless it cannot be
        month, day = (first, second) if separator == "/" and first <= 12 else (second, first)
    return f"{year:04d}-{month:02d}-{day:02d}"
