"""Bulk import of comments gathered elsewhere (a campaign's spreadsheet, letters typed in): the pure part.

A file is a table with a header row. `read_table` turns CSV or XLSX bytes into text cells (a cell that
looks like a formula stays the text it is: nothing is evaluated). `plan_import` maps the header to the
columns below, checks every row and groups rows into submissions: rows sharing a `submission_key` are one
submission (their submitter, channel, date and language must agree); a row without a key is a submission
of its own. It returns every problem by row and column, so a file is fixed once, not error by error.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import gt, itemgetter
from typing import Iterable, NamedTuple, Sequence

from python_calamine import CalamineError, CalamineWorkbook

from services.common.events import CHANNELS, is_contract_email

MAX_ROWS = 100_000
MAX_COMMENTS_PER_SUBMISSION = 1_000
MAX_ERRORS = 1_000
TEXT = 10_000

# column → (accepted header spellings, longest value); headers are compared folded (case, accents, spaces).
COLUMNS: dict[str, tuple[tuple[str, ...], int]] = {
    "submission_key": (("submission_key", "klucz_zgloszenia", "zgloszenie"), 100),
    "name": (("name", "imie_i_nazwisko", "imie_nazwisko", "nazwisko"), 200),
    "organization": (("organization", "organisation", "organizacja"), 300),
    "email": (("email", "e_mail", "adres_e_mail"), 254),
    "publish_consent": (("publish_consent", "consent", "zgoda", "zgoda_na_publikacje"), 10),
    "section": (("section", "czesc_dokumentu", "zapis", "paragraf"), 500),
    "current_text": (("current_text", "zapis_w_projekcie", "obecny_zapis"), TEXT),
    "proposal": (("proposal", "propozycja", "propozycja_zmiany", "tresc_uwagi"), TEXT),
    "justification": (("justification", "uzasadnienie", "uzasadnienie_zmiany"), TEXT),
    "topic": (("topic", "temat"), 200),
    "channel": (("channel", "kanal", "sposob_zlozenia"), 20),
    "received_on": (("received_on", "received", "data_wplywu", "data_otrzymania"), 30),
    "language": (("language", "jezyk"), 2),
}
# The header a Polish office writes for each column (the page and the template file show these); it folds to
# one of the spellings above.
POLISH_HEADERS = {
    "submission_key": "Klucz zgłoszenia", "name": "Imię i nazwisko", "organization": "Organizacja",
    "email": "Adres e-mail", "publish_consent": "Zgoda na publikację", "section": "Część dokumentu",
    "current_text": "Zapis w projekcie", "proposal": "Propozycja zmiany", "justification": "Uzasadnienie",
    "topic": "Temat", "channel": "Sposób złożenia", "received_on": "Data wpływu", "language": "Język",
}
REQUIRED_HEADERS = ("name", "section", "proposal")
# What a submission's rows must share.
SUBMISSION_FIELDS = ("name", "organization", "email", "publish_consent", "channel", "received_on", "language")
CHANNEL_WORDS = {**{c: c for c in CHANNELS}, "list": "letter", "pismo": "letter", "poczta": "letter",
                 "e_mail": "email", "mail": "email", "dyzur": "duty_hours", "dyzury": "duty_hours",
                 "formularz": "web", "www": "web"}
YES = {"tak", "t", "yes", "y", "true", "1", "x"}
NO = {"", "nie", "n", "no", "false", "0"}


class TableError(ValueError):
    """The file itself cannot be read as a table (not CSV/XLSX, bad encoding, no header)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class RowError:
    row: int  # the line in the file, the header being 1
    column: str  # one of COLUMNS, or "" for the whole row
    code: str
    message: str

    def as_json(self) -> dict:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


class PlannedComment(NamedTuple):  # a tuple: a campaign plans tens of thousands of them
    row: int
    section: str
    current_text: str
    proposal: str
    justification: str
    topic: str | None


@dataclass(slots=True)
class PlannedSubmission:
    first_row: int
    name: str
    organization: str | None
    email: str | None
    publish_consent: bool
    channel: str
    received_on: date | None
    language: str
    comments: list[PlannedComment] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "organization" if self.organization else "person"


@dataclass
class ImportPlan:
    submissions: list[PlannedSubmission]
    errors: list[RowError]
    rows: int

    @property
    def comments(self) -> int:
        return sum(len(s.comments) for s in self.submissions)


@functools.lru_cache(maxsize=4096)  # the same few words (tak, list, headers) fill whole columns
def fold(text: str) -> str:
    """"Część dokumentu" → "czesc_dokumentu"."""
    plain = unicodedata.normalize("NFKD", text.strip().lower().replace("ł", "l"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


_HEADER_NAMES = {spelling: column for column, (spellings, _) in COLUMNS.items() for spelling in spellings}


def read_table(filename: str, content: bytes) -> list[list[str]]:
    """CSV (UTF-8, with or without BOM; `,` or `;`) or XLSX bytes → rows of text cells, header first."""
    name = filename.lower()
    if name.endswith(".xlsx") or content[:4] == b"PK\x03\x04":
        return _read_xlsx(content)
    if name.endswith(".csv") or name.endswith(".txt") or not name:
        return _read_csv(content)
    raise TableError("format", "only CSV and XLSX files can be imported")


def _read_csv(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TableError("encoding", "the CSV file is not UTF-8; save it as 'CSV UTF-8'") from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)]
    except csv.Error as exc:
        raise TableError("csv", f"the CSV file is malformed: {exc}") from None


def _read_xlsx(content: bytes) -> list[list[str]]:
    """The first sheet's cells as text. calamine (Rust) reads values ten times as fast as openpyxl, but a
    formula cell gives it the value someone's Excel last computed; so a workbook with any formula goes to
    openpyxl, which gives the formula's own text ("=1+1"), never a computed value."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            sheets = [info for info in archive.infolist()
                      if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")]
            if sum(info.file_size for info in sheets) > MAX_XLSX_SHEETS_BYTES:
                raise TableError("xlsx", "the XLSX file's sheets are too large to import")
            with_formulas = any(_has_formula(archive, info) for info in sheets)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise TableError("xlsx", f"the XLSX file cannot be read: {type(exc).__name__}") from None
    if not sheets or with_formulas:
        return _read_xlsx_with_openpyxl(content)
    try:
        return first_sheet_values(content)
    except CalamineError as exc:
        raise TableError("xlsx", f"the XLSX file cannot be read: {type(exc).__name__}") from None


def first_sheet_values(content: bytes) -> list[list[str]]:
    """The first sheet of a workbook calamine reads (XLSX, ODS) as text cells, from A1 as openpyxl reads it (the
    header is the first row). Raises `CalamineError` for what it cannot read, also where calamine panics."""
    try:
        rows = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python(
            skip_empty_area=False)
    except CalamineError:
        raise
    except BaseException as error:
        # A Rust panic inside calamine on a damaged file (an index out of range in a truncated .xls record) reaches
        # Python as pyo3's PanicException, a BaseException: it is a file we cannot read, not a reason to stop.
        if type(error).__name__ != "PanicException":
            raise
        raise CalamineError(f"the workbook cannot be read: {error}") from None
    return [[value if type(value) is str else _cell_text(value) for value in row] for row in rows]  # mostly text


# A formula element (<f>, or <x:f> under a prefix) in a sheet's XML; <formula…> of data validation is not one.
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
MAX_XLSX_SHEETS_BYTES = 512 * 1024 * 1024  # unpacked; a sheet of 100,000 campaign rows takes some 75 MB


def _has_formula(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether a sheet holds a formula, read in chunks (a tag may straddle two)."""
    tail = b""
    with archive.open(info) as part:
        while chunk := part.read(1 << 20):
            if _FORMULA.search(tail + chunk):
                return True
            tail = chunk[-64:]
    return False


def _read_xlsx_with_openpyxl(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # seconds to read a campaign: only for workbooks with formulas

    try:
        # data_only=False: a formula cell gives its text ("=1+1"), never a value computed by someone's Excel.
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise TableError("xlsx", f"the XLSX file cannot be read: {type(exc).__name__}") from None
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_email(text: str) -> bool:
    return is_contract_email(text)


def _channel(word: str, accepted: set[str]) -> tuple[str | None, tuple[str, str] | None]:
    """The channel a cell names (blank: a letter, the usual paper campaign), and the problem's code and message."""
    channel = CHANNEL_WORDS.get(fold(word) or "letter")
    if channel is None:
        return None, ("channel", f"channel must be one of {', '.join(CHANNELS)}")
    if channel not in accepted:
        return channel, ("channel_not_accepted", f"this consultation does not accept comments by {channel}")
    return channel, None


def parse_date(text: str) -> date | None:
    """2024-10-15, 2024-10-15T…, 15.10.2024 or 15-10-2024; None if it is none of those."""
    text = text.strip()
    for pattern, order in ((r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?", "ymd"), (r"(\d{1,2})[.\-/](\d{1,2})[.\-/](\d{4})", "dmy")):
        match = re.fullmatch(pattern, text)
        if match:
            a, b, c = (int(g) for g in match.groups())
            try:
                return date(a, b, c) if order == "ymd" else date(c, b, a)
            except ValueError:
                return None
    return None


def plan_import(table: Sequence[Sequence[str]], *, topics: Iterable[str] = (), channels: Iterable[str] = CHANNELS,
                today: date | None = None) -> ImportPlan:
    """Check every row and group the rows into submissions. `channels`: those the consultation accepts."""
    if not table or not any(cell.strip() for cell in table[0]):
        raise TableError("header", "the file has no header row")
    header_errors: list[RowError] = []
    positions: dict[str, int] = {}
    for index, cell in enumerate(table[0]):
        column = _HEADER_NAMES.get(fold(cell))
        if column is None:
            if cell.strip():
                header_errors.append(RowError(1, cell.strip()[:100], "unknown_column",
                                              f"unknown column {cell.strip()[:100]!r}"))
            continue
        if column in positions:
            header_errors.append(RowError(1, column, "duplicate_column", f"column {column} appears twice"))
        positions[column] = index
    for column in REQUIRED_HEADERS:
        if column not in positions:
            header_errors.append(RowError(1, column, "missing_column", f"the required column {column} is missing"))
    if header_errors:
        return ImportPlan([], header_errors, 0)
    if len(table) - 1 > MAX_ROWS:
        return ImportPlan([], [RowError(MAX_ROWS + 2, "", "too_many_rows", f"at most {MAX_ROWS} rows per file")], 0)

    return _plan_rows(table, positions, topics=set(topics), channels=set(channels), today=today)


# The order in which a row's cells are unpacked in _plan_rows.
_ROW = ("submission_key", "name", "organization", "email", "publish_consent", "section", "current_text", "proposal",
        "justification", "topic", "channel", "received_on", "language")
assert sorted(_ROW) == sorted(COLUMNS)
_LIMITS = tuple(COLUMNS[column][1] for column in _ROW)


def _plan_rows(table: Sequence[Sequence[str]], positions: dict[str, int], *, topics: set[str], channels: set[str],
               today: date | None) -> ImportPlan:
    """The row loop of plan_import, kept tight: a campaign has up to MAX_ROWS rows, and the values that fill
    whole columns (the same e-mail on every row of a submission, tak/nie, a channel word, a date) are checked
    once per distinct value."""
    pad = max(positions.values()) + 1  # a missing column reads the blank cell appended at this index
    blanks = [""] * (pad + 1)
    cells_of = itemgetter(*(positions.get(column, pad) for column in _ROW))
    order = [(column, _ROW.index(column)) for column in positions]  # the file's column order, for messages
    email_ok: dict[str, bool] = {}
    channel_of: dict[str, tuple[str | None, tuple[str, str] | None]] = {}
    date_of: dict[str, date | None] = {}
    errors: list[RowError] = []
    by_key: dict[str, PlannedSubmission] = {}
    first_values: dict[str, tuple] = {}
    submissions: list[PlannedSubmission] = []
    rows = 0
    for line, raw in enumerate(table[1:], start=2):
        cells = tuple(map(str.strip, cells_of([*raw[:pad], *blanks[min(len(raw), pad):]])))
        if not any(cells):
            continue  # blank lines between groups are harmless
        rows += 1
        (key, name, organization, email, consent, section, current_text, proposal, justification, topic, channel_word,
         received_text, language) = cells
        row_errors: list[RowError] = []
        if any(map(gt, map(len, cells), _LIMITS)):
            row_errors += [RowError(line, column, "too_long", f"{column} is longer than {_LIMITS[index]} characters")
                           for column, index in order if len(cells[index]) > _LIMITS[index]]
        if not (name and section and proposal):
            row_errors += [RowError(line, column, "required", f"{column} is empty")
                           for column, value in (("name", name), ("section", section), ("proposal", proposal))
                           if not value]
        if email:
            if email not in email_ok:
                email_ok[email] = _is_email(email)
            if not email_ok[email]:
                row_errors.append(RowError(line, "email", "email", f"{email[:60]!r} is not an e-mail address"))
        consent_word = fold(consent)
        if consent_word not in YES and consent_word not in NO:
            row_errors.append(RowError(line, "publish_consent", "yes_no", "publish_consent must be tak/nie (yes/no)"))
        if channel_word not in channel_of:
            channel_of[channel_word] = _channel(channel_word, channels)
        channel, channel_problem = channel_of[channel_word]
        if channel_problem is not None:
            row_errors.append(RowError(line, "channel", *channel_problem))
        received_on = None
        if received_text:
            if received_text not in date_of:
                date_of[received_text] = parse_date(received_text)
            received_on = date_of[received_text]
            if received_on is None:
                row_errors.append(RowError(line, "received_on", "date",
                                           "received_on must be a date like 2024-10-15 or 15.10.2024"))
            elif today is not None and received_on > today:
                row_errors.append(RowError(line, "received_on", "future", "received_on lies in the future"))
        language = language.lower() or "pl"
        if language != "pl" and language != "en":
            row_errors.append(RowError(line, "language", "language", "language must be pl or en"))
        if topic and topics and topic not in topics:
            row_errors.append(RowError(line, "topic", "topic", "topic is not one of the consultation's topics"))
        # SUBMISSION_FIELDS, in that order
        values = (name, organization or None, email or None, consent_word in YES, channel, received_on, language)
        if key:
            first = first_values.get(key)
            if first is None:
                first_values[key] = values  # the rows after it are compared with it, even if it has errors
            else:
                if values != first:
                    row_errors += [RowError(line, column, "differs_in_submission",
                                            f"{column} differs from the first row of submission {key[:40]!r}")
                                   for column, mine, theirs in zip(SUBMISSION_FIELDS, values, first) if mine != theirs]
                if key in by_key and len(by_key[key].comments) >= MAX_COMMENTS_PER_SUBMISSION:
                    row_errors.append(RowError(line, "submission_key", "too_many_comments",
                                               f"at most {MAX_COMMENTS_PER_SUBMISSION} comments per submission"))
        if row_errors:
            errors += row_errors
            if len(errors) >= MAX_ERRORS:
                errors.append(RowError(line, "", "too_many_errors", "stopped after too many errors"))
                break
            continue
        comment = PlannedComment(line, section, current_text, proposal, justification, topic or None)
        if key and key in by_key:
            by_key[key].comments.append(comment)
            continue
        submission = PlannedSubmission(line, *values, [comment])  # type: ignore[arg-type]
        submissions.append(submission)
        if key:
            by_key[key] = submission
    if rows == 0 and not errors:
        errors.append(RowError(2, "", "empty", "the file has no rows below its header"))
    return ImportPlan(submissions if not errors else [], errors, rows)
