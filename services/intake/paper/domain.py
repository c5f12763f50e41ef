"""Rules for what staff enter by hand (letters, duty-hour notes), free of I/O: the scan's type and safety,
and the instant a letter counts as received."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from services.intake.domain import end_of_day

PAPER_CHANNELS = ("letter", "duty_hours")

# Sniffed from the first bytes, never from the name or the browser's Content-Type.
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"II*\x00", "image/tiff", "tif"),
    (b"MM\x00*", "image/tiff", "tif"),
)
# PDF features that run or carry something: a scan of a letter needs none of them.
_ACTIVE_PDF = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA|SubmitForm|ImportData)\b")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


class ScanRefused(Exception):
    """A scan we do not keep; `code` is stable (empty, too_large, unknown_type, active_content)."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def sniff_scan(data: bytes, *, max_bytes: int) -> tuple[str, str]:
    """The scan's media type and extension, or ScanRefused: only PDF and PNG, JPEG or TIFF images."""
    if not data:
        raise ScanRefused("empty", "the file is empty")
    if len(data) > max_bytes:
        raise ScanRefused("too_large", f"the file has {len(data)} bytes; at most {max_bytes} are accepted")
    found = next(((media_type, ext) for magic, media_type, ext in _MAGIC if data.startswith(magic)), None)
    if found is None:
        raise ScanRefused("unknown_type", "the file is neither a PDF nor a PNG, JPEG or TIFF image")
    if found[0] == "application/pdf":
        # Names may hide behind #xx escapes (/J#61vaScript); undo them before looking.
        plain = _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)
        active = _ACTIVE_PDF.search(plain)
        if active:
            raise ScanRefused("active_content", f"the PDF carries active content ({active.group(1).decode()})")
    return found


def letter_received_at(day: date, *, opens_at: datetime, closes_at: datetime, tz: ZoneInfo) -> datetime:
    """The instant a letter stamped on local `day` counts as received: within the day, as close to the
    consultation's window as the day allows, so a stamp on the opening or closing day is on time, one after
    the closing day is late and one before the opening day is too early, whatever the hour of opening."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    return min(max(start, opens_at), end_of_day(day, tz))


def stamp_in_future(day: date, now: datetime, tz: ZoneInfo) -> bool:
    return day > now.astimezone(tz).date()
