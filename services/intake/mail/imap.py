"""The consultation mailbox over IMAP (imaplib).

A poll looks at every message not yet marked with the keyword `$UwagiImported`, imports it and then
marks it; the mail stays in the mailbox for the office. The unique Message-ID row makes a message
that was imported but not marked (a crash in between) a harmless duplicate on the next poll.
Each message is handled on its own: a broken, hostile or oversized one is recorded as rejected
and marked like any other, so it never blocks the ones after it. Only a transient failure (the
database or object store down) leaves a message unmarked, to be tried again.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterator

from sqlalchemy.exc import InterfaceError, OperationalError

from services.common.runtime import ServiceContext
from services.common.settings import ImapSettings
from services.intake.mail.importer import REJECTED, ImportResult, MailTransientError, import_mail, refuse_mail

log = logging.getLogger("uwagi.intake.imap")

IMPORTED_KEYWORD = "$UwagiImported"
_FETCH_ITEMS = re.compile(rb"UID (\d+)|RFC822\.SIZE (\d+)|INTERNALDATE \"([^\"]+)\"")
MAX_ATTEMPTS = 3


class MailboxUnavailable(RuntimeError):
    """The IMAP server cannot be reached or refuses us; the next poll tries again."""


@dataclass(frozen=True)
class MailboxMessage:
    uid: str
    size: int
    internal_date: datetime


class ImapMailbox:
    """One IMAP session on the consultation mailbox."""

    def __init__(self, connection: imaplib.IMAP4, mailbox: str):
        self.connection = connection
        self.mailbox = mailbox
        # A server that takes no new keywords (PERMANENTFLAGS without \*) gets \Seen alone: then only unseen
        # mail is looked at, and a message someone opened first is left to the staff.
        _status, flags = connection.response("PERMANENTFLAGS")
        self.keywords = any(b"\\*" in (item or b"") for item in flags or [])

    @classmethod
    @contextmanager
    def open(cls, settings: ImapSettings, *, timeout: float = 30.0) -> Iterator["ImapMailbox"]:
        try:
            if settings.ssl:
                connection: imaplib.IMAP4 = imaplib.IMAP4_SSL(settings.host, settings.port,
                                                              ssl_context=ssl.create_default_context(), timeout=timeout)
            else:
                connection = imaplib.IMAP4(settings.host, settings.port, timeout=timeout)
            connection.login(settings.user, settings.password)
            status, _data = connection.select(_quote(settings.mailbox))
            if status != "OK":
                raise MailboxUnavailable(f"cannot select the mailbox {settings.mailbox!r}")
        except (OSError, imaplib.IMAP4.error) as error:
            raise MailboxUnavailable(f"IMAP {settings.host}:{settings.port}: {error}") from error
        try:
            yield cls(connection, settings.mailbox)
        finally:
            try:
                connection.close()
                connection.logout()
            except (OSError, imaplib.IMAP4.error):
                pass

    def pending(self) -> list[MailboxMessage]:
        """Messages not yet imported, oldest first, with their size and the server's arrival time."""
        criteria = ("NOT", "KEYWORD", IMPORTED_KEYWORD) if self.keywords else ("UNSEEN",)
        status, data = self.connection.uid("SEARCH", None, *criteria)
        if status != "OK":
            raise MailboxUnavailable(f"SEARCH failed: {data!r}")
        uids = (data[0] or b"").split()
        if not uids:
            return []
        messages = []
        for start in range(0, len(uids), 200):
            chunk = b",".join(uids[start:start + 200]).decode()
            status, data = self.connection.uid("FETCH", chunk, "(UID RFC822.SIZE INTERNALDATE)")
            if status != "OK":
                raise MailboxUnavailable(f"FETCH failed: {data!r}")
            for item in data:
                line = item[0] if isinstance(item, tuple) else item
                if not isinstance(line, bytes):
                    continue
                found = {"uid": None, "size": None, "date": None}
                for uid, size, date in _FETCH_ITEMS.findall(line):
                    found["uid"] = uid or found["uid"]
                    found["size"] = size or found["size"]
                    found["date"] = date or found["date"]
                if found["uid"] and found["size"] and found["date"]:
                    messages.append(MailboxMessage(found["uid"].decode(), int(found["size"]),
                                                   parse_internal_date(found["date"].decode())))
        return sorted(messages, key=lambda m: int(m.uid))

    def fetch(self, uid: str, *, limit: int | None = None) -> bytes:
        """The raw message (without setting \\Seen), or its first `limit` bytes."""
        section = f"BODY.PEEK[]<0.{limit}>" if limit else "BODY.PEEK[]"
        status, data = self.connection.uid("FETCH", uid, f"({section})")
        if status != "OK":
            raise MailboxUnavailable(f"FETCH {uid} failed: {data!r}")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                return item[1]
        raise MailboxUnavailable(f"FETCH {uid} returned no body")

    def mark_imported(self, uid: str) -> None:
        flags = f"({IMPORTED_KEYWORD} \\Seen)" if self.keywords else "(\\Seen)"
        status, data = self.connection.uid("STORE", uid, "+FLAGS", flags)
        if status != "OK":
            raise MailboxUnavailable(f"STORE {uid} failed: {data!r}")


def parse_internal_date(value: str) -> datetime:
    """IMAP INTERNALDATE ("17-Jul-1996 02:44:25 -0700"), month names always English (RFC 3501)."""
    months = {name: index for index, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
    match = re.fullmatch(r"\s*(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\s*", value)
    if not match or match.group(2).title() not in months:
        raise ValueError(f"not an IMAP date: {value!r}")
    day, month, year, hour, minute, second, sign, tz_hours, tz_minutes = match.groups()
    offset = (int(tz_hours) * 60 + int(tz_minutes)) * (1 if sign == "+" else -1)
    from datetime import timedelta
    local = datetime(int(year), months[month.title()], int(day), int(hour), int(minute), int(second),
                     tzinfo=timezone(timedelta(minutes=offset)))
    return local.astimezone(timezone.utc)


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def poll_mailbox(ctx: ServiceContext, settings: ImapSettings, *,
                 opener: Callable[[ImapSettings], object] = ImapMailbox.open) -> list[ImportResult]:
    """Import every pending message of the mailbox; one message's trouble never stops the others."""
    results = []
    attempts: dict[str, int] = ctx.extras.setdefault("imap_attempts", {})
    with opener(settings) as mailbox:
        for message in mailbox.pending():
            source = f"imap:{settings.mailbox}/{message.uid}"
            try:
                if message.size > ctx.settings.max_mail_bytes:
                    # Not downloaded: only the headers, for the record of what was refused.
                    head = mailbox.fetch(message.uid, limit=65536)
                    result = refuse_mail(ctx, head, "too_large", f"the mail has {message.size} bytes, more than the "
                                         f"limit of {ctx.settings.max_mail_bytes}", received_at=message.internal_date,
                                         source=source)
                else:
                    raw = mailbox.fetch(message.uid)
                    result = import_mail(ctx, raw, received_at=message.internal_date, source=source)
            except MailTransientError as error:
                log.warning("%s: not imported now, kept for the next poll: %s", source, error)
                continue
            except (OperationalError, InterfaceError) as error:  # the database is down: every mail would fail
                log.warning("%s: database unavailable, the poll stops here and the mail stays: %s", source, error)
                break
            except MailboxUnavailable:
                raise
            except Exception:  # a bug on one strange mail must not block the mailbox forever
                attempts[message.uid] = attempts.get(message.uid, 0) + 1
                log.exception("%s: import failed (attempt %d of %d)", source, attempts[message.uid], MAX_ATTEMPTS)
                if attempts[message.uid] < MAX_ATTEMPTS:
                    continue
                result = ImportResult("", REJECTED, reason="import failed repeatedly; see the log")
            mailbox.mark_imported(message.uid)
            attempts.pop(message.uid, None)
            results.append(result)
    return results
