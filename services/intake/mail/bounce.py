"""What a delivery report says: which of our messages did not reach whom, and why. Pure: no I/O.

Notify sends receipts and decisions from the consultation's contact address, the mailbox intake reads, so the
mail servers' reports of failed deliveries come back here. They are never answered (they are `ignored` mail), but
what they report must reach the clerk: a resident whose receipt bounced has not been told anything, and the
decision on their comments will bounce too unless someone writes to them by post.

Reports come in two families. Most servers (Postfix, Sendmail, Exchange and Office 365, Gmail, Exim with DSN)
send RFC 3464: a `multipart/report` with a `message/delivery-status` part listing each recipient's `Action` and
`Status`, and the original message or its headers. The others (qmail, Exim's default, old Sendmail, Lotus Notes
and webmail services) write a letter for people and usually quote the original below a marker line; for them the
failed addresses are read from `X-Failed-Recipients` or from the letter's words. Only a report that a server has
given up counts as a failure; a warning that it is still trying is `delayed` and changes nothing.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.utils import getaddresses

FAILED, DELAYED = "failed", "delayed"
MAX_DIAGNOSTIC_CHARS = 500
MAX_RECIPIENTS = 50

_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
_ADDRESS_LINE = re.compile(r"^[ \t]*<?(" + _ADDRESS.pattern + r")>?(?:<mailto:[^>]*>)?:?[ \t]*$", re.MULTILINE)
_ADDRESS_LEADS = re.compile(r"^[ \t]*<(" + _ADDRESS.pattern + r")>:", re.MULTILINE)  # "<user@host>: host … said"
_STATUS_CODE = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_MESSAGE_ID_LINE = re.compile(r"^\s{0,8}Message-Id:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]+>|[^\s<>]+@[^\s<>]+)",
                              re.IGNORECASE | re.MULTILINE)
# Where a report stops speaking to people and quotes what was sent (Exim, qmail, Sendmail, Notes, Exchange 2003,
# Courier, webmail services); the failed addresses are looked for above it, the Message-ID below it.
_COPY_MARKER = re.compile(
    r"^[ \t]*(?:-{2,}[ \t]*)?(?:This is a copy of the message|Below this line is a copy of the message"
    r"|Original message follows|Original message headers|Original message"
    r"|Returned message|Unsent message below|Headers of the original message"
    r"|The header of the original message|Here is a copy of the first part of the message"
    r"|Message header follows|Enclosed is a copy|Your message reads|Kopia oryginalnej wiadomości"
    r"|Oryginalna wiadomość|Nagłówki oryginalnej wiadomości)",
    re.IGNORECASE | re.MULTILINE)
_FAILURE_WORDS = re.compile(
    r"permanent(?:ly)? (?:error|fatal|failure)|fail(?:ed|ure) permanently|could ?n[o']t be delivered|"
    r"could not deliver|was ?n[o']t able to deliver|unable to deliver|undeliverable|undelivered mail|"
    r"delivery (?:has )?failed|delivery to the following recipients? failed|message not delivered|"
    r"mail delivery failed|returned mail|not be delivered|user unknown|unknown user|no such user|"
    r"does not exist|mailbox (?:unavailable|not found|is full)|address rejected|gave up|giving up|"
    r"nie (?:można|udało się) dostarczyć|niedostarczon|niedostarczaln|nie został[ao]? dostarczon|"
    r"nie (?:mogła|może) zostać dostarczon|nie istnieje|skrzynka (?:odbiorcza )?(?:jest )?(?:pełna|przepełniona)|"
    r"nieznany (?:adresat|odbiorca|użytkownik)",
    re.IGNORECASE)
_DELAY_WORDS = re.compile(
    r"\(delay\)|delayed mail|delivery (?:is )?delayed|has not (?:yet )?been delivered|not yet been delivered|"
    r"(?:will|to) (?:continue|keep) (?:to )?try|still (?:be )?trying|still undelivered|"
    r"warning: (?:message|could not send)|will be retried|no action is required on your part|"
    r"dostarczenie (?:jest )?opóźnione|opóźnienie (?:w )?dostarcz|jeszcze nie (?:została|zostało) dostarczon|"
    r"(?:będzie|zostanie) ponowi|ponowi(?:my)? próbę|kolejne próby",
    re.IGNORECASE)
_SERVER_ACCOUNTS = re.compile(r"^(?:mailer-daemon|postmaster|double-bounce|root|noreply|no-reply|bounce[s]?)@",
                              re.IGNORECASE)


@dataclass(frozen=True)
class FailedRecipient:
    address: str  # lower case
    status: str | None  # the enhanced status code ("5.1.1"), or None when the report gives none
    diagnostic: str  # the server's words, one line, at most MAX_DIAGNOSTIC_CHARS


@dataclass(frozen=True)
class DeliveryReport:
    kind: str  # FAILED or DELAYED
    original_message_id: str | None  # with its angle brackets, as the returned copy writes it
    recipients: tuple[FailedRecipient, ...]

    @property
    def permanent(self) -> bool:
        return self.kind == FAILED


def delivery_summary(report: DeliveryReport) -> str:
    """One line for the mail's record: what failed (or is delayed) for whom."""
    words = "delivery failed" if report.permanent else "delivery delayed"
    who = ", ".join(f"{r.address} ({r.status})" if r.status else r.address for r in report.recipients[:5])
    more = f" and {len(report.recipients) - 5} more" if len(report.recipients) > 5 else ""
    return f"{words} for {who}{more}" + (f" of {report.original_message_id}" if report.original_message_id else "")


def read_delivery_report(message: Message | bytes) -> DeliveryReport | None:
    """The delivery failure (or delay) `message` reports, or None when it reports none: an auto-reply, a read
    receipt, an abuse report, a person's mail. Never raises for a malformed report: what cannot be read is None."""
    if isinstance(message, (bytes, bytearray)):
        message = email.message_from_bytes(bytes(message), policy=policy.default)
    try:
        return _read(message)
    except (LookupError, ValueError, TypeError, AttributeError, RecursionError, email.errors.MessageError):
        return None


def _read(message: Message) -> DeliveryReport | None:
    report_type = (message.get_param("report-type", header="content-type") or "") \
        if message.get_content_type() == "multipart/report" else ""
    if isinstance(report_type, tuple):  # an RFC 2231 value
        report_type = report_type[2] or ""
    report_type = str(report_type).lower()
    if report_type and report_type != "delivery-status":  # feedback-report (ARF), disposition-notification (MDN)
        return None
    statuses = [part for part in _parts(message) if part.get_content_type() in
                ("message/delivery-status", "message/global-delivery-status")]
    original_id = _original_message_id(message)
    own_id = str(message.get("Message-ID", "")).strip()
    if original_id and own_id and original_id == own_id:
        original_id = None
    people_text = _people_text(message)
    texts = [_part_text(part) for part in statuses]
    if not texts:
        # A boundary the parser missed (an indented one, a report stored without its MIME headers) leaves the
        # report's fields in the text, where they still say exactly what failed
        whole = "\n".join(_part_text(part) for part in _parts(message) if part.get_content_maintype() == "text")
        if re.search(r"^Final-Recipient:", whole, re.IGNORECASE | re.MULTILINE):
            texts = [whole]
    if texts:
        failed, delayed = _from_delivery_status(texts)
        if failed:
            return DeliveryReport(FAILED, original_id, tuple(_with_text_status(failed, people_text))[:MAX_RECIPIENTS])
        if delayed:
            return DeliveryReport(DELAYED, original_id, tuple(delayed)[:MAX_RECIPIENTS])
        # A report whose fields say nothing usable (no Action, no Status) is read as the letter it comes with
    return _from_letter(message, people_text, original_id)


def _parts(message: Message) -> list[Message]:
    found: list[Message] = []
    stack = [message]
    while stack and len(found) < 500:
        part = stack.pop()
        found.append(part)
        content_type = part.get_content_type()
        if part.is_multipart() and not content_type.startswith("message/"):
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(reversed(payload))
    return found


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        inner = part.get_payload()
        if isinstance(inner, list):  # message/delivery-status parsed into blocks of fields
            return "\n\n".join(_block_text(block) for block in inner if isinstance(block, Message))
        return str(inner or "")
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("latin-1")


def _block_text(block: Message) -> str:
    return "\n".join(f"{name}: {value}" for name, value in block.items())


def _fields(block: str) -> dict[str, str]:
    """One block of a delivery-status part ("Name: value" lines, folded lines joined), lower-cased names."""
    fields: dict[str, str] = {}
    last = None
    for line in block.splitlines():
        if line[:1] in (" ", "\t") and last is not None:
            fields[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if colon and name.strip() and " " not in name.strip():
            last = name.strip().lower()
            fields.setdefault(last, value.strip())
    return fields


def _from_delivery_status(texts: list[str]) -> tuple[list[FailedRecipient], list[FailedRecipient]]:
    failed: list[FailedRecipient] = []
    delayed: list[FailedRecipient] = []
    for text in texts:
        for block in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")):
            fields = _fields(block)
            if "action" not in fields and "status" not in fields:
                continue
            recipient = fields.get("final-recipient") or fields.get("original-recipient") or ""
            address = _address_in(recipient.partition(";")[2] or recipient)
            if not address:
                continue
            action = fields.get("action", "").lower().split()[0] if fields.get("action") else ""
            code = fields.get("diagnostic-code", "")
            diagnostic = code.partition(";")[2].strip() or code
            status = _status_code(fields.get("status", "")) or _status_code(diagnostic)
            entry = FailedRecipient(address, status, _one_line(diagnostic))
            if action == "failed" or (not action and status and status[0] == "5"):
                failed.append(entry)
            elif action == "delayed" or (not action and status and status[0] == "4"):
                delayed.append(entry)
    return _distinct(failed), _distinct(delayed)


def _with_text_status(recipients: list[FailedRecipient], text: str) -> list[FailedRecipient]:
    """A status the report's fields left out, read from what the letter says of the same address."""
    mended = []
    for recipient in recipients:
        if recipient.status is None:
            said = _said_of(recipient.address, text)
            recipient = FailedRecipient(recipient.address, _status_code(said),
                                        recipient.diagnostic or _one_line(said))
        mended.append(recipient)
    return mended


def _from_letter(message: Message, text: str, original_id: str | None) -> DeliveryReport | None:
    subject = str(message.get("Subject", ""))
    words = f"{subject}\n{text}"
    failed_header = ", ".join(str(value) for value in message.get_all("X-Failed-Recipients") or [])
    addresses = [address for address in (_address_in(value) for value in failed_header.split(",")) if address]
    if not addresses:
        if not _FAILURE_WORDS.search(words) and not _DELAY_WORDS.search(words):
            return None
        sender = _address_in(str(message.get("From", "")))
        ours = {address for _name, address in getaddresses([str(value) for value in message.get_all("To") or []])}
        ours = {address.lower() for address in ours}
        # The failed addresses stand on lines of their own ("<user@host>:" in qmail's and Postfix's letters, an
        # indented address in Exim's and Gmail's); other addresses in the words are the server's help desk
        named = [address for address in _distinct_addresses(
            _ADDRESS_LEADS.findall(text) + _ADDRESS_LINE.findall(text) or _ADDRESS.findall(text))
                 if address not in ours and address != sender and not _SERVER_ACCOUNTS.match(address)]
        addresses = named
        if not addresses:
            return None
    if _DELAY_WORDS.search(words) and not failed_header:
        kind = DELAYED
    elif failed_header or _FAILURE_WORDS.search(words):
        kind = FAILED
    else:
        return None
    recipients = []
    for address in addresses[:MAX_RECIPIENTS]:
        said = _said_of(address, text, tuple(other for other in addresses if other != address))
        status = _status_code(said)
        if status is None and len(addresses) == 1:  # the one failure: the code the letter gives is its own
            status = _status_code(text)
        recipients.append(FailedRecipient(address, status, _one_line(said)))
    return DeliveryReport(kind, original_id, tuple(recipients))


def _people_text(message: Message) -> str:
    """The report's words for people: its text parts outside the returned message, up to the quoted copy."""
    texts = []
    for part in _parts(message):
        if part.get_content_type() == "text/plain" and not part.get_filename():
            texts.append(_part_text(part))
        if sum(len(t) for t in texts) > 200_000:
            break
    if not texts:
        for part in _parts(message):
            if part.get_content_type() == "text/html":
                texts.append(re.sub(r"<[^>]+>", " ", _part_text(part)))
                break
    text = "\n".join(texts).replace("\r\n", "\n")
    marker = _COPY_MARKER.search(text)
    if marker:
        text = text[:marker.start()]
    headers = re.search(r"^(?:Return-Path|Received|DKIM-Signature|X-Received|Message-Id):", text,
                        re.IGNORECASE | re.MULTILINE)
    if headers and headers.start() > 0:
        text = text[:headers.start()]
    return text[:100_000]


def _original_message_id(message: Message) -> str | None:
    for part in _parts(message):
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                value = _message_id_value(str(inner.get("Message-ID", "") or ""))
                if value:
                    return value
                # Headers whose folding a mail store broke end early: the Message-ID is then in the "body"
                found = _MESSAGE_ID_LINE.search(str(inner.get_payload() if not inner.is_multipart() else ""))
                if found:
                    return _message_id_value(found.group(1))
        elif content_type in ("text/rfc822-headers", "message/rfc822-headers", "message/global-headers"):
            found = _MESSAGE_ID_LINE.search(_part_text(part))
            if found:
                return _message_id_value(found.group(1))
    # A report without a returned part quotes the original in its text, after a marker line
    for part in _parts(message):
        if part.get_content_type() != "text/plain":
            continue
        text = _part_text(part).replace("\r\n", "\n")
        marker = _COPY_MARKER.search(text)
        start = marker.start() if marker else 0
        found = _MESSAGE_ID_LINE.search(text, start)
        if found:
            return _message_id_value(found.group(1))
    return None


def _message_id_value(value: str) -> str | None:
    value = value.strip()
    bracketed = re.search(r"<[^<>\s]+>", value)
    if bracketed:
        return bracketed.group(0)[:990]
    if "@" in value and " " not in value:
        return f"<{value}>"[:990]
    return None


def _address_in(value: str) -> str | None:
    found = _ADDRESS.search(value or "")
    return found.group(0).lower().strip(".") if found else None


def _distinct_addresses(addresses: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for address in addresses:
        seen.setdefault(address.lower().strip("."), None)
    return list(seen)


def _distinct(recipients: list[FailedRecipient]) -> list[FailedRecipient]:
    seen: dict[str, FailedRecipient] = {}
    for recipient in recipients:
        seen.setdefault(recipient.address, recipient)
    return list(seen.values())


def _said_of(address: str, text: str, others: tuple[str, ...] = ()) -> str:
    """What a letter writes about one address: from the line naming it to the next line naming another failed
    address, at most a dozen lines; the part that gives a status code if one does."""
    lines = text.splitlines()
    said = ""
    for index, line in enumerate(lines):
        if address not in line.lower():
            continue
        chunk = [line.strip()]
        for following in lines[index + 1:index + 12]:
            if any(other in following.lower() for other in others):
                break
            chunk.append(following.strip())
        words = " ".join(part for part in chunk if part)
        if _status_code(words):
            return words
        said = said or words
    return said


def _status_code(text: str) -> str | None:
    found = _STATUS_CODE.search(text or "")
    return ".".join(found.groups()) if found else None


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:MAX_DIAGNOSTIC_CHARS]
