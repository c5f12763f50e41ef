"""Raw MIME bytes to the message model intake works with. Pure: no I/O, no database.

What comes out is what a person sent, not what their mail client added: the body without the quoted
history of a reply or the signature, HTML-only bodies as text, and the attachments of a forwarded
message (message/rfc822) next to the outer ones. Auto-replies and bounces are recognised so that
they are never answered (a receipt to an auto-reply is how two robots loop).
"""

from __future__ import annotations

import base64
import bisect
import email
import hashlib
import mimetypes
import quopri
import re
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.errors import (HeaderParseError, InvalidBase64LengthDefect, MultipartInvariantViolationDefect,
                          NoBoundaryInMultipartDefect, StartBoundaryNotFoundDefect)
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from lxml import etree
from lxml import html as lxml_html

from services.intake.mail import Refusal, storable
from services.intake.mail.archive import asic_container, zip_files
from services.intake.mail.bounce import DeliveryReport, read_delivery_report
from services.intake.mail.links import original_links, shared_service
from services.intake.mail.outlook_msg import read_msg
from services.intake.mail.signed import (SignedContent, is_signature_envelope, package_signers, pdf_signers,
                                         signature_signers, signed_content)
from services.intake.mail.tnef import ContainedFile, is_tnef, tnef_files

# A part whose structure cannot be trusted: what we would read from it is a guess. A transfer encoding declared
# on a multipart (quoted-printable on a newsletter's multipart/related) is not among them: the parts are found
# by their boundaries all the same, and mail clients ignore it; a multipart really encoded whole has no boundary
# to find and is refused for that.
_FATAL_DEFECTS = (NoBoundaryInMultipartDefect, StartBoundaryNotFoundDefect, MultipartInvariantViolationDefect)
MAX_PARTS = 200
# Pictures in an HTML body smaller than this are logos and icons; a photographed page is bigger.
INLINE_PICTURE_BYTES = 64 * 1024
# Forwards of forwards sent as attachments nest two levels each (Pine digests three): 32 leaves room for a chain
# of office forwards while a hostile mail still stops far below the interpreter's recursion limit.
MAX_NESTING = 32


class MailRefused(Refusal):
    """The mail cannot be read safely; `code` is stable (broken_mime, too_large, no_sender, too_many_parts)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    media_type: str
    data: bytes
    forwarded: bool = False  # came inside a forwarded message (message/rfc822)
    inside: str = ""  # the name of the file it came out of (Outlook's winmail.dat), "" for a file of the mail
    signed_by: tuple[str, ...] = ()  # who signed the envelope it is or came out of (not verified: `signed`)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def extension(self) -> str:
        return self.filename.rsplit(".", 1)[-1].lower() if "." in self.filename else ""


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    sender_name: str
    sender_address: str
    recipients: tuple[str, ...]
    subject: str
    date_header: str
    body_text: str  # what the sender wrote: no quoted history, no signature
    attachments: tuple[Attachment, ...]
    automatic: str | None = None  # why this is an auto-reply or a bounce, or None
    forwarded_senders: tuple[str, ...] = field(default=())
    body_tables: tuple[list[list[str]], ...] = field(default=())  # tables in the HTML text (html_tables)
    # What a mail server's report says failed (or was delayed): only for automatic mail
    delivery_report: DeliveryReport | None = None


# What the standard library raises on a header it cannot read instead of a parse error: AttributeError from the
# address parser on some groups ("To: undisclosed-recipients:; (comment)", as old MTAs write in bounces),
# UnicodeDecodeError (a ValueError) from an RFC 2231 parameter in UTF-16 with half a character.
_UNREADABLE_HEADER = (ValueError, TypeError, IndexError, LookupError, AttributeError)


def parse_mail(raw: bytes, *, max_bytes: int = 25 * 1024 * 1024, banners: tuple[str, ...] = ()) -> ParsedMail:
    """Read one RFC 5322 message; raise `MailRefused` for what cannot be read safely. `banners`: the texts the
    city's mail gateway writes into mail from outside (`without_gateway_banners`)."""
    if len(raw) > max_bytes:
        raise MailRefused("too_large", f"the mail has {len(raw)} bytes, more than the limit of {max_bytes}")
    if not raw.strip():
        raise MailRefused("broken_mime", "the mail is empty")
    try:
        message = email.message_from_bytes(_header_block_mended(checked_content_types(raw)), policy=policy.default)
    except RecursionError:  # the standard library's parser recurses once per nested part
        raise MailRefused("broken_mime", f"MIME parts nested deeper than {MAX_NESTING}") from None
    if not isinstance(message, EmailMessage) or not message.keys():
        raise MailRefused("broken_mime", "the mail has no headers")
    _refuse_huge_headers(message)
    try:
        sender_name, sender_address = _sender(message)
        recipients = _recipients(_sources(message, _RECIPIENT_HEADERS))
        subject = _header(message, "Subject")
        message_id = _message_id(message, raw)
        date_header = _header(message, "Date")[:200]
    except _UNREADABLE_HEADER as error:
        raise MailRefused("broken_mime", f"unreadable header: {error}") from None
    automatic = automatic_reason(message, sender_address)
    collected = _Collected()
    try:
        _walk(message, collected, depth=0, forwarded=False)
    except _UNREADABLE_HEADER as error:  # a part's header, as for the mail's own above
        raise MailRefused("broken_mime", f"unreadable MIME part: {type(error).__name__}: {error}") from None
    except RecursionError:  # an attached mail in base64 is parsed again, and may nest as deep as it likes
        raise MailRefused("broken_mime", f"MIME parts nested deeper than {MAX_NESTING}") from None
    if collected.parts > MAX_PARTS:
        raise MailRefused("too_many_parts", f"the mail has {collected.parts} MIME parts (limit {MAX_PARTS})")
    forward = bool(_FORWARD_SUBJECT.match(subject))
    reply = bool(_REPLY_SUBJECT.match(subject))
    collected.plain, encrypted = _without_pgp_armour(collected.plain)
    collected.attachments.extend(encrypted)
    tables = html_tables(collected.html, forward=forward) or html_tables(collected.forwarded_html, forward=True)
    own = strip_reply(_without_notices(collected.plain if collected.plain.strip()
                                       else html_to_text(collected.html, forward=forward), banners),
                      forward=forward, reply=reply)
    attached = strip_reply(_without_notices(collected.forwarded_plain if collected.forwarded_plain.strip()
                                            else html_to_text(collected.forwarded_html), banners),
                           forward=forward, reply=reply)
    if automatic is None and not sender_address:
        raise MailRefused("no_sender", "the mail has no usable From address")
    # An attached mail's text (message/rfc822) is the body when the sender wrote nothing of their own around it,
    # a signature alone included (Netscape's "-- \nJuergen Specht" above a forwarded letter), and follows the
    # sender's words when they wrote some ("I send you the association's comments as an attachment")
    body_text = storable(f"{own}\n\n{ATTACHED_MAIL}\n\n{attached}" if own.strip() and attached.strip()
                         else own or attached)
    return ParsedMail(message_id=message_id, sender_name=storable(sender_name),
                      sender_address=sender_address, recipients=recipients, subject=storable(subject),
                      date_header=date_header, body_text=body_text,
                      attachments=(*collected.attachments, *_sent_pictures(collected, body_text)), automatic=automatic,
                      body_tables=tuple(tables),
                      forwarded_senders=tuple(collected.forwarded_senders),
                      delivery_report=read_delivery_report(message) if automatic else None)


def _without_notices(text: str, banners: tuple[str, ...]) -> str:
    """What mail servers wrote into the text on the way, not the sender: Microsoft 365's safety tip, gateways'
    warnings and the links their link protection rewrote."""
    return original_links(without_gateway_banners(without_safety_tips(text), banners))


# Stands between the sender's words and the text of a mail they attached, in the body staff read.
ATTACHED_MAIL = "---------- Załączona wiadomość / Attached message ----------"
_RECIPIENT_HEADERS = frozenset({"to", "cc", "delivered-to", "x-original-to"})
# The headers this reader parses. The standard library's header parser takes time growing with the square of a
# value's length (a 64 KB Content-Type: 1.6 s), so a longer one than any mail client writes is refused before it
# is read; headers it never parses (Received, References, DKIM-Signature) may be as long as they are.
_PARSED_HEADERS = frozenset({
    "from", "sender", "reply-to", "subject", "date", "message-id", "auto-submitted", "precedence", "x-auto-reply",
    "x-autoreply", "x-autorespond", "x-autoresponder", "x-failed-recipients", "content-type", "content-disposition",
    "content-id", "content-transfer-encoding", "content-description"})
MAX_HEADER_CHARS = 8192
MAX_MIME_HEADER_CHARS = 4096  # Content-*: a long Polish file name in RFC 2231 words is under 2,000
_CONTENT_TYPE_FIELD = re.compile(rb"(?im)^content-type:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*")


_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_KNOWN_HEADER = re.compile(rb"(?i)(from|to|cc|subject|date|message-id|mime-version|content-type|reply-to|sender|"
                           rb"return-path|received|delivered-to|x-[!-9;-~]*)[ \t]*:")
_HEADER_LINES_LOOKED_AT = 500


def _header_block_mended(raw: bytes) -> bytes:
    """The mail with a stray line in its header block folded into the header before it.

    A line that is neither a header nor a continuation (a newline a web form let into a Subject, a gateway's
    garbage) ends the header block for the standard library: From, Date and the rest then count as the body, and
    the mail has no sender. Other readers (Thunderbird, Ruby's mail) skip such a line. It is folded only when
    headers every mail has (From, To, Date, Content-Type, X-…) follow it before the blank line, so text of a mail
    that has no blank line after its headers is never taken for headers.
    """
    blank = re.search(rb"\r?\n\r?\n", raw)
    if blank is None:
        return raw
    lines = raw[:blank.start()].split(b"\n")
    if len(lines) > _HEADER_LINES_LOOKED_AT:
        return raw
    stray = [number for number, line in enumerate(lines) if number > 0 and line.strip(b"\r")
             and line[:1] not in b" \t" and not _HEADER_LINE.match(line)]
    if not stray or not any(_KNOWN_HEADER.match(line) for line in lines[stray[-1] + 1:]):
        return raw
    if any(lines[number].startswith(b"--") for number in stray):
        return raw  # a boundary line: the body began without a blank line, and what follows is a part's headers
    for number in stray:
        lines[number] = b" " + lines[number]
    return b"\n".join(lines) + raw[blank.start():]


_BARE_BOUNDARY = re.compile(rb'(?i)(\bboundary[ \t]*=[ \t]*)([^"\s;][^\s;]*)')


def checked_content_types(raw: bytes) -> bytes:
    """The mail to parse, its Content-Type headers checked before the parser reads them while it splits the parts.

    One too long for any client refuses the mail. A boundary with "=" in it left unquoted (`boundary=----=_Next
    Part_000_…`, as old Outlook Express mail reaches us through some relays) is quoted: the standard library reads
    it up to the "=" and finds no part, where other readers (Thunderbird, Ruby's mail) take the whole token.
    """
    repairs: list[tuple[int, int, bytes]] = []
    for found in _CONTENT_TYPE_FIELD.finditer(raw):
        field = found.group()
        if len(field) > MAX_MIME_HEADER_CHARS:
            raise MailRefused("broken_mime", f"a Content-Type header of {len(field)} characters (no mail "
                                             f"client writes more than {MAX_MIME_HEADER_CHARS})")
        bare = _BARE_BOUNDARY.search(field)
        if bare is not None and b"=" in bare.group(2):
            repairs.append((found.start() + bare.start(2), found.start() + bare.end(2), b'"' + bare.group(2) + b'"'))
    if not repairs:
        return raw
    pieces, last = [], 0
    for start, end, quoted in repairs:
        pieces += [raw[last:start], quoted]
        last = end
    return b"".join([*pieces, raw[last:]])


def _refuse_huge_headers(message: EmailMessage) -> None:
    for number, part in enumerate(message.walk()):
        if number > MAX_PARTS:
            return  # _walk refuses the mail for its parts
        for name, value in part.raw_items():
            key = name.lower()
            limit = MAX_MIME_HEADER_CHARS if key.startswith("content-") else MAX_HEADER_CHARS
            if len(value) > limit and key in _PARSED_HEADERS:
                raise MailRefused("broken_mime", f"a {name} header of {len(value)} characters (no mail client "
                                                 f"writes more than {limit})")


def _sources(message: EmailMessage, names: frozenset[str]) -> list[str]:
    """The headers' values as sent, not parsed: parsing them into objects is where the standard library trips on a
    group with a comment after it. An address in raw UTF-8 (RFC 6532, "urząd@…" as SMTPUTF8 mail carries it) is
    decoded, not kept as the parser's surrogates, which no UTF-8 store takes."""
    values = [str(value) for key, value in message.raw_items() if key.lower() in names]
    return [decode_8bit(value.encode("utf-8", "surrogateescape")) if _has_raw_bytes(value) else value
            for value in values]


def _recipients(values: list[str]) -> tuple[str, ...]:
    """The addresses in To, Cc and the delivery headers, lower case. The standard library's parser recurses once
    for every colon outside quotes (a group's start), so a header of a thousand is read for its addr-specs alone."""
    found: list[str] = []
    for value in values:
        try:
            found.extend(address for _name, address in getaddresses([value]) if address)
        except RecursionError:
            found.extend(_ADDR_SPEC.findall(value))
    return tuple(address.lower() for address in found)


_ADDR_SPEC = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def _header(message: EmailMessage, name: str) -> str:
    value = message.get(name)
    if value is None:
        return ""
    text = str(value)
    if _has_raw_bytes(text) or "\ufffd" in text:
        source, _eight_bit = _header_as_sent(message, name)
        text = str(policy.default.header_factory(name, " ".join(source.split()))) if source is not None else text
    else:
        text = _repaired_encoded_words(message, name, text)
    return " ".join(text.split())


def _has_raw_bytes(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _header_as_sent(part: EmailMessage, name: str) -> tuple[str | None, bool]:
    """A header's value as sent, and whether it had raw 8-bit bytes.

    RFC 5322 allows none, but Eudora, scripts and some webmails write Polish letters raw; the parser keeps them
    as surrogates (or replacement characters). They are read as UTF-8, else as the Polish charset they look like."""
    source = next((value for key, value in part.raw_items() if key.lower() == name.lower()), None)
    if not isinstance(source, str) or not _has_raw_bytes(source):
        return source if isinstance(source, str) else None, False
    return decode_8bit(source.encode("utf-8", "surrogateescape")), True


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")


def _encoded_words_with_raw_bytes(text: str) -> str:
    """Eudora writes 8-bit letters inside Q encoded-words ("=?iso-8859-2?Q?Stanis\xb3aw?="), which the address
    parser then leaves undecoded; decode such words here, the raw letters standing for themselves."""
    def decode(match: re.Match) -> str:
        charset, encoding, encoded = match.groups()
        if encoded.isascii() or encoding.upper() != "Q":
            return match.group(0)
        try:
            data = encoded.replace("_", " ").encode(charset, errors="replace")
            return quopri.decodestring(data).decode(charset, errors="replace")
        except LookupError:
            return match.group(0)
    return _ENCODED_WORD.sub(decode, text)


def _declared_western(message: EmailMessage, name: str) -> str | None:
    """The Western charset a header's encoded-words declare, if any ("=?iso-8859-1?Q?…?=")."""
    source = next((value for key, value in message.raw_items() if key.lower() == name.lower()), None)
    if not isinstance(source, str):
        return None
    return next((charset.lower() for charset, _encoding, _text in _ENCODED_WORD.findall(source)
                 if charset.lower() in _WESTERN_CHARSETS), None)


def _repaired_encoded_words(message: EmailMessage, name: str, text: str) -> str:
    """A header whose encoded-words say Latin-1 but carry Polish bytes ("=?iso-8859-1?Q?Stanis=B3aw?=")."""
    declared = _declared_western(message, name)
    if declared is None or _misread_polish_signs(text) < 1:
        return text
    try:
        data = text.encode(declared)
    except (UnicodeEncodeError, LookupError):
        return text
    return data.decode(guess_polish_8bit(data), errors="replace")


def decode_8bit(data: bytes) -> str:
    """Bytes in an unknown charset: UTF-8 when they are UTF-8, else the Polish 8-bit charset they look like.

    UTF-8 with a byte or two broken (a letter cut in half where a script truncated the text, a stray Latin-1
    byte pasted in) is still UTF-8: its letters are many well-formed sequences, and reading the whole of it as
    windows-1250 for one bad byte would garble every Polish letter ("zmieniÄ‡"). Text in windows-1250 or
    ISO-8859-2 almost never holds a well-formed UTF-8 sequence, so it is told apart by their count."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    as_utf8 = data.decode("utf-8", errors="replace")
    broken = as_utf8.count("\ufffd") - data.decode("utf-8", errors="ignore").count("\ufffd")
    letters = sum(1 for char in as_utf8 if ord(char) > 0x7F and char != "\ufffd")
    if letters >= _UTF8_LETTERS_PER_BROKEN * broken:
        return mixed_utf8(data)
    return data.decode(guess_polish_8bit(data), errors="replace")


_UTF8_LETTERS_PER_BROKEN = 4  # well-formed UTF-8 letters for each broken byte, in text taken to be UTF-8
_WELL_FORMED_UTF8 = re.compile(
    rb"(?:[\x00-\x7f]|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2})+")


def mixed_utf8(data: bytes) -> str:
    """UTF-8 with stretches that are not: each well-formed run read as UTF-8, the bytes between them in the Polish
    8-bit charset they look like. A resident's UTF-8 text with a signature or disclaimer pasted in windows-1250
    keeps its own letters ("Proszę o zmianę"), where reading the whole part as windows-1250 garbled them."""
    pieces, gaps, end = [], [], 0
    for run in _WELL_FORMED_UTF8.finditer(data):
        if run.start() > end:
            gaps.append(len(pieces))
            pieces.append(data[end:run.start()])
        pieces.append(run.group().decode("utf-8"))
        end = run.end()
    if end < len(data):
        gaps.append(len(pieces))
        pieces.append(data[end:])
    if gaps:
        charset = guess_polish_8bit(b" ".join(pieces[index] for index in gaps))
        for index in gaps:
            pieces[index] = pieces[index].decode(charset, errors="replace")
    return "".join(pieces)


def _sender(message: EmailMessage) -> tuple[str, str]:
    raw = message.get("From")
    if raw is None:
        return "", ""
    source, eight_bit = _header_as_sent(message, "From")
    if eight_bit:
        raw = policy.default.header_factory("from", " ".join(_encoded_words_with_raw_bytes(source).split()))
    addresses = getattr(raw, "addresses", None)
    if addresses:
        first = addresses[0]
        address = first.addr_spec if first.username and first.domain else ""
        name = _display_name_as_sent(message) if len(addresses) == 1 else None
        name = _repaired_encoded_words(message, "From", name if name is not None else first.display_name)
        if not name.strip() and len(addresses) == 1:
            name = _name_in_comment(source if source is not None else str(raw))
        return name.strip(), address.lower()
    name, address = parseaddr(str(raw))
    return name.strip(), address.lower() if "@" in address else ""


def _name_in_comment(source: str) -> str:
    """The name in the older form of an address, "jan@example.org (Jan Kowalski)" (RFC 5322, 3.4).

    Old mailers, Usenet-era clients and some list servers still write it; the standard library's header parser
    treats the parenthesised comment as noise and drops it, so the sender had no name at all.
    """
    if "(" not in source or len(source) > 1000:
        return ""
    name, _ = parseaddr(" ".join(source.split()))
    if not name or "=?" not in name:
        return name
    try:
        return " ".join(str(make_header(decode_header(name))).split())
    except (HeaderParseError, LookupError, UnicodeDecodeError, ValueError):
        return name


def _display_name_as_sent(message: EmailMessage) -> str | None:
    """The From display name decoded as RFC 2047 says, or None to keep the parser's.

    Thunderbird and Python split a long name into encoded-words, even inside a word ("…Urz?= =?utf-8?q?=C4=99du?=");
    the whitespace between adjacent encoded-words is not part of the text (RFC 2047, 6.2), but the standard
    library's address parser keeps it, giving "Urz ędu". The legacy decoder joins them right.
    """
    source, eight_bit = _header_as_sent(message, "From")
    if source is None or eight_bit or "=?" not in source or "<" not in source:
        return None
    phrase = source[:source.rfind("<")]
    try:
        decoded = str(make_header(decode_header(" ".join(phrase.split()))))
    except (HeaderParseError, LookupError, UnicodeDecodeError, ValueError):
        return None
    decoded = " ".join(decoded.split())
    if len(decoded) >= 2 and decoded[0] == decoded[-1] == '"':
        decoded = decoded[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return decoded


def _message_id(message: EmailMessage, raw: bytes) -> str:
    value = _header(message, "Message-ID").strip()
    match = re.search(r"<([^<>\s]+)>", value)
    if match:
        return match.group(1)[:990]
    if value and " " not in value:
        return value.strip("<>")[:990]
    # No Message-ID: the same bytes are the same mail (a file dropped twice is a duplicate).
    return f"sha256-{hashlib.sha256(raw).hexdigest()}@uwagi.invalid"


_PRECEDENCE_AUTOMATIC = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_AUTOMATIC_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|noreply-dmarc-support)@", re.I)


def automatic_reason(message: EmailMessage, sender_address: str = "") -> str | None:
    """Why this mail was sent by a machine (RFC 3834, RFC 3464 and the vendors' headers), or None."""
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return f"Auto-Submitted: {auto_submitted}"
    precedence = _header(message, "Precedence").lower()
    if precedence in _PRECEDENCE_AUTOMATIC:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply"):
        if message.get(name) is not None:
            return f"{name}: {_header(message, name)}"
    if message.get("X-Failed-Recipients") is not None:
        return "X-Failed-Recipients (a bounce)"
    content_type = message.get_content_type()
    if content_type == "multipart/report":
        return f"delivery or read report ({message.get_param('report-type') or 'multipart/report'})"
    if _AUTOMATIC_SENDERS.match(sender_address or ""):
        return f"sent by {sender_address}"
    subject = _header(message, "Subject")
    if _AUTOMATIC_SUBJECT.match(subject):
        return f"Subject: {subject[:80]}"
    return None


# Clients that set no header at all (Outlook's out-of-office through some gateways) still say so in the subject.
_AUTOMATIC_SUBJECT = re.compile(
    r"^\s*(?:Automatic reply|Auto(?:matic)?[- ]?reply|Autoreply|Automatyczna odpowied[źz]|Odpowied[źz] automatyczna"
    r"|Out of (?:the )?office|Poza biurem|Nieobecno[śs][ćc] w biurze|Undeliverable|Undelivered Mail Returned to Sender"
    r"|Niedostarczon[ae]|Niedostarczalne|Nie mo[żz]na dostarczy[ćc]|Delivery Status Notification|Mail delivery failed"
    r"|Delivery has failed|Undelivered Mail|Failure notice|Mail System Error"
    r"|Returned mail|Read:|Przeczytano:|Przeczytane:)", re.IGNORECASE)


@dataclass
class _Collected:
    plain: str = ""
    html: str = ""
    forwarded_plain: str = ""
    forwarded_html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    forwarded_senders: list[str] = field(default_factory=list)
    small_pictures: list[Attachment] = field(default_factory=list)
    parts: int = 0
    unpacked: int = 0  # bytes taken out of containers so far


def _walk(part: EmailMessage, out: _Collected, *, depth: int, forwarded: bool, in_sequence: bool = False) -> None:
    """Collect the texts and attachments; `in_sequence` says the part's siblings follow one another
    (multipart/mixed), not stand for one another (multipart/alternative)."""
    out.parts += 1
    if depth > MAX_NESTING:
        raise MailRefused("broken_mime", f"MIME parts nested deeper than {MAX_NESTING}")
    if out.parts > MAX_PARTS:
        return
    fatal = [d for d in part.defects if isinstance(d, _FATAL_DEFECTS)]
    if fatal:
        text = _unsplit_text(part)
        if text is None:
            raise MailRefused("broken_mime", f"{type(fatal[0]).__name__} in a {part.get_content_type()} part")
        if text.strip():
            _collect_text(out, text, html=False, forwarded=forwarded, in_sequence=in_sequence)
        return
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        inner = part.get_payload()
        inner = _with_mime_headers_rejoined(_encoded_message(part, inner[0] if isinstance(inner, list) and inner
                                                             else inner))
        if isinstance(inner, EmailMessage) and _broken(inner):
            # a forwarded mail cut short or broken is the sender's attachment, kept for staff; the mail around it
            # is still read (its text, its other files)
            out.attachments.append(Attachment(_filename(part) or "wiadomosc.eml", "message/rfc822",
                                              _source_of(inner), forwarded=True))
            return
        if isinstance(inner, EmailMessage):
            _name, address = _sender(inner)
            if address:
                out.forwarded_senders.append(address)
            _walk(inner, out, depth=depth + 1, forwarded=True)
        return
    if part.is_multipart():
        if content_type in {"multipart/report"}:
            return
        children = list(part.iter_parts()) + _parts_after_the_end(part)
        sequence = content_type != "multipart/alternative"
        for child in children:
            _walk(child, out, depth=depth + 1, forwarded=forwarded, in_sequence=sequence)
        return
    filename = _filename(part)
    disposition = part.get_content_disposition()
    if content_type in {"text/plain", "text/html"} and not filename and disposition != "attachment":
        _collect_text(out, _text_of(part), html=content_type == "text/html", forwarded=forwarded,
                      in_sequence=in_sequence)
        return
    data = _bytes_of(part)
    small_picture = content_type.startswith("image/") and disposition != "attachment" and \
        (not filename or part.get("Content-ID")) and len(data) < INLINE_PICTURE_BYTES
    if not filename:
        number = len(out.attachments) + len(out.small_pictures) + 1  # a picture held back may be kept after all
        filename = f"attachment-{number}{mimetypes.guess_extension(content_type) or ''}"
    if small_picture:  # a logo in a signature (cid:image001.png) or the picture sent: `_sent_pictures` decides
        out.small_pictures.append(Attachment(filename, content_type, data, forwarded=forwarded))
        return
    # (a bigger one is a photo or screenshot of the form pasted into the text, and is kept as a scan)
    signature = is_signature_envelope(data)
    opened = signed_content(filename, data, content_type) if signature else None
    signers = _signers(data, opened, signature)
    out.attachments.append(Attachment(filename, content_type, data, forwarded=forwarded, signed_by=signers))
    container = None if opened is not None else asic_container(data)
    if container is not None:  # an ASiC container: the signed documents beside their signatures
        _add_contained(out, filename, container, forwarded=forwarded, signed_by=signers, open_signed=False)
    elif opened is not None:
        _add_signed(out, filename, opened, depth=depth, forwarded=forwarded, in_sequence=in_sequence)
    elif content_type in _TNEF_TYPES or filename.lower() == "winmail.dat" or is_tnef(data):
        _add_contained(out, filename, tnef_files(data), forwarded=forwarded)  # Outlook's Rich Text mail
    elif content_type in _OUTLOOK_ITEM_TYPES or filename.lower().endswith(".msg") or data.startswith(OLE_MAGIC):
        _add_outlook_item(out, filename, data)
    elif data.startswith(b"PK\x03\x04"):
        _add_contained(out, filename, zip_files(data), forwarded=forwarded)  # "uwagi.zip": the form and a letter


def _encoded_message(part: EmailMessage, inner: object) -> object:
    """An attached mail as its sender's client wrote it. RFC 2046 allows a message/rfc822 part only 7bit, 8bit or
    binary, but webmails (Yandex) and mailers send it in base64; the standard library then reads the base64 text
    as a mail with no headers, and the attached mail was lost. Such a part is decoded and read again."""
    encoding = str(part.get("Content-Transfer-Encoding") or "").strip().lower()
    if encoding != "base64" or not isinstance(inner, EmailMessage) or inner.keys():
        return inner
    encoded = inner.get_payload()
    if not isinstance(encoded, str):
        return inner
    decoded = _as_far_as_it_decodes(encoded)
    return email.message_from_bytes(decoded, policy=policy.default) if decoded.strip() else inner


def _with_mime_headers_rejoined(message: object) -> object:
    """Exchange writes a blank line inside the header of a mail attached to a mail, before its Content-Type and
    MIME-Version (request-tracker's `outlook-rfc822`): the standard library ends the header there, and the
    attached mail's text came out as its raw MIME source. When what follows the blank line starts with such
    header lines and a blank line of its own, the two header parts are read as one."""
    if not isinstance(message, EmailMessage) or not message.keys() or "Content-Type" in message:
        return message
    body = message.get_payload()
    if not isinstance(body, str) or not _MIME_HEADER_LINES.match(body):
        return message
    head = "".join(f"{name}: {value}\n" for name, value in message.raw_items())
    return email.message_from_bytes((head + body).encode("utf-8", "surrogateescape"), policy=policy.default)


# Content-Type, MIME-Version and Content-Transfer-Encoding lines (with their continuations), then a blank line.
_MIME_HEADER_LINES = re.compile(r"(?:(?:Content-Type|MIME-Version|Content-Transfer-Encoding)[ \t]*:[^\n]*\n"
                                r"(?:[ \t][^\n]*\n)*)+\r?\n", re.IGNORECASE)


_NOT_BASE64_SHARE = 0.05  # characters outside base64's alphabet, in what is still read as base64 gone wrong


def _as_far_as_it_decodes(encoded: str) -> bytes:
    """Base64 as mail clients read it: what is not of its alphabet skipped, a broken last group left out."""
    letters = re.sub(r"[^A-Za-z0-9+/]", "", encoded)
    return base64.b64decode(letters[:len(letters) // 4 * 4])


def _sent_pictures(collected: _Collected, text: str) -> list[Attachment]:
    """The small inline pictures, when they were sent rather than shown in the HTML around them: when the mail
    has no text (a picture mailed alone, an HTML body that is only that picture) or no HTML to show them in
    (Apple Mail's plain text with a photo). Else they are a signature's logos and icons."""
    if text.strip() and (collected.html + collected.forwarded_html).strip():
        return []
    return collected.small_pictures


def _parts_after_the_end(part: EmailMessage) -> list[EmailMessage]:
    """The parts a multipart holds after its closing boundary. A nested multipart that reuses its parent's
    boundary (Outlook Express 5 for Mac, Zimbra) closes the parent with its own closing line, and the parts
    after it (the form, a picture) land in the parent's epilogue, each after the boundary's line: they are read
    as the parent's, not lost. An epilogue without the boundary (a list's footer, the next mail of a mailbox
    file) is no part of the mail, as before."""
    boundary, epilogue = part.get_boundary(), part.epilogue or ""
    first = re.search(rf"^--{re.escape(boundary)}[ \t]*\r?$", epilogue, re.MULTILINE) if boundary else None
    if first is None or not _PART_HEADER.search(epilogue, first.end()):  # two scans: linear in any epilogue
        return []
    rest = email.message_from_bytes(f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'.encode()
                                    + epilogue.encode("utf-8", "surrogateescape"), policy=policy.default)
    return list(rest.iter_parts())


def _without_pgp_armour(text: str) -> tuple[str, list[Attachment]]:
    """Plain text signed or encrypted inline with OpenPGP (Enigmail, GPG): a signed text is read without its
    armour ("-----BEGIN PGP SIGNED MESSAGE-----", "Hash:", the signature block) and its dash-escaping ("- --"),
    as the sender's client shows it; an encrypted block cannot be read here and becomes a file of the mail, so
    that staff are told what it is instead of reading its base64 as a comment. Line by line, each marker's end
    found by bisection: linear in the text whatever markers a hostile mail repeats."""
    if "-----BEGIN PGP " not in text:
        return text, []
    encrypted: list[Attachment] = []
    for _level in range(3):  # a signed text signed again (its armour dash-escaped inside) takes two rounds
        lines = text.split("\n")
        marks = {marker: [n for n, line in enumerate(lines) if line.rstrip("\r") == marker] for marker in _PGP_MARKERS}
        kept: list[str] = []
        index = 0
        while index < len(lines):
            line = lines[index].rstrip("\r")
            if line == "-----BEGIN PGP MESSAGE-----" and (end := _next_mark(marks, "-----END PGP MESSAGE-----", index)):
                block = "\n".join(lines[index:end + 1]).encode("utf-8", "surrogateescape")
                encrypted.append(Attachment(f"wiadomosc-zaszyfrowana-{len(encrypted) + 1}.asc",
                                            "application/pgp-encrypted", block))
                index = end + 1
                continue
            signature = end = None
            if line == "-----BEGIN PGP SIGNED MESSAGE-----":
                signature = _next_mark(marks, "-----BEGIN PGP SIGNATURE-----", index)
                end = signature and _next_mark(marks, "-----END PGP SIGNATURE-----", signature)
            if signature and end:
                body = index + 1
                while body < signature and lines[body].strip():  # the armour's headers ("Hash: SHA256")
                    body += 1
                kept.extend(line[2:] if line.startswith("- ") else line for line in lines[body + 1:signature])
                index = end + 1
                continue
            kept.append(lines[index])
            index += 1
        unwrapped = "\n".join(kept)
        if unwrapped == text:
            break
        text = unwrapped
    return text, encrypted


_PGP_MARKERS = ("-----END PGP MESSAGE-----", "-----BEGIN PGP SIGNATURE-----", "-----END PGP SIGNATURE-----")


def _next_mark(marks: dict[str, list[int]], marker: str, after: int) -> int | None:
    """The first line after `after` that is `marker`, or None."""
    found = marks[marker]
    position = bisect.bisect_right(found, after)
    return found[position] if position < len(found) else None


def _collect_text(out: _Collected, text: str, *, html: bool, forwarded: bool, in_sequence: bool) -> None:
    field_name = ("forwarded_" if forwarded else "") + ("html" if html else "plain")
    before = getattr(out, field_name)
    if not before:
        setattr(out, field_name, text)
    elif in_sequence and not html:
        # Apple Mail splits the body around a file put inside it: the text after it is a second part
        setattr(out, field_name, before.rstrip("\r\n") + "\n\n" + text.lstrip("\r\n"))


_PART_HEADER = re.compile(r"^content-type\s*:", re.IGNORECASE | re.MULTILINE)
_SPLITTING_DEFECTS = (NoBoundaryInMultipartDefect, StartBoundaryNotFoundDefect, MultipartInvariantViolationDefect)
_PARTS_LIKE_LINE = re.compile(r"^(?:content-(?:type|transfer-encoding|disposition)\s*:|--\S+\s*$)",
                              re.IGNORECASE | re.MULTILINE)  # a part's header, or a boundary line


def _unsplit_text(part: EmailMessage) -> str | None:
    """The text of a multipart that could not be split into its parts, when it is plain text: a multipart
    without a boundary parameter, or whose boundary never comes (a list that stripped the attachments left the
    text alone; Outlook Express for Mac 5 gave a nested multipart its parent's boundary, leaving it empty). None
    when what is left looks like parts (MIME headers or boundary lines), which cannot be told apart safely."""
    if part.get_content_maintype() != "multipart" or part.is_multipart():
        return None
    if not all(isinstance(defect, _SPLITTING_DEFECTS) for defect in part.defects
               if isinstance(defect, _FATAL_DEFECTS)):
        return None
    text = _text_of(part)
    return None if _PARTS_LIKE_LINE.search(text) else text


def _broken(message: EmailMessage) -> bool:
    return any(isinstance(defect, _FATAL_DEFECTS) for part in message.walk() for defect in part.defects)


def _source_of(message: EmailMessage) -> bytes:
    try:
        return message.as_bytes()
    except Exception:  # noqa: BLE001 - the generator meets whatever the broken parts hold
        return b""


_OUTLOOK_ITEM_TYPES = {"application/vnd.ms-outlook", "application/x-msg"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_UNPACKED = 100 * 1024 * 1024  # bytes taken out of containers (winmail.dat, .msg, .zip) in one mail


def _add_contained(out: _Collected, container: str, files: list[ContainedFile], *, forwarded: bool,
                   signed_by: tuple[str, ...] = (), open_signed: bool = True) -> None:
    """The files a container held, as attachments of the mail: `container` names where they came from. A picture
    the container shows inside its body (a signature's logo) is not one; past `MAX_UNPACKED` bytes taken out of
    one mail's containers, the rest stay inside (many small archives must not inflate a mail without bound)."""
    for inner in files:
        inner_type = inner.media_type or mimetypes.guess_type(inner.filename)[0] or "application/octet-stream"
        if inner.content_id and inner_type.startswith("image/") and len(inner.data) < INLINE_PICTURE_BYTES:
            continue
        if out.unpacked + len(inner.data) > MAX_UNPACKED:
            return
        out.unpacked += len(inner.data)
        opened = signed_content(inner.filename, inner.data, inner_type) if open_signed and \
            is_signature_envelope(inner.data) else None  # a signed form zipped, or in a mail dragged in as .msg
        out.attachments.append(Attachment(inner.filename, inner_type, inner.data,
                                          forwarded=forwarded or inner.forwarded, inside=container,
                                          signed_by=opened.signers if opened else signed_by))
        if opened is not None and not _MIME_ENTITY.match(opened.data):
            _add_contained(out, inner.filename, [ContainedFile(opened.filename, opened.data, opened.media_type,
                                                               forwarded=inner.forwarded)],
                           forwarded=forwarded, signed_by=opened.signers, open_signed=False)


def _signers(data: bytes, opened: SignedContent | None, signature: bool) -> tuple[str, ...]:
    """Who signed an attachment: an envelope's signers (opened or detached), a signed PDF's, an ASiC container's
    or a Word or LibreOffice document's own; () for a file no one signed."""
    if opened is not None:
        return opened.signers
    if signature:
        return signature_signers(data)
    return pdf_signers(data) or package_signers(data)


def _add_signed(out: _Collected, envelope: str, opened: SignedContent, *, depth: int, forwarded: bool,
                in_sequence: bool) -> None:
    """What an electronic signature wrapped: a signed document is an attachment of the mail, taken out of its
    envelope; a MIME entity (the mail Outlook signed opaquely, S/MIME signed-data) is read as the mail itself,
    its text and files."""
    if _MIME_ENTITY.match(opened.data):
        inner = email.message_from_bytes(opened.data, policy=policy.default)
        if isinstance(inner, EmailMessage) and inner.keys():
            _walk(inner, out, depth=depth + 1, forwarded=forwarded, in_sequence=in_sequence)
            return
    _add_contained(out, envelope, [ContainedFile(opened.filename, opened.data, opened.media_type)],
                   forwarded=forwarded, signed_by=opened.signers, open_signed=False)


_MIME_ENTITY = re.compile(rb"(?i)\s*(content-[a-z-]+|mime-version)[ \t]*:")


def _add_outlook_item(out: _Collected, filename: str, data: bytes) -> None:
    """A mail dragged from Outlook into this one (.msg): its files are attachments of the mail, as a forwarded
    message's are; its text stands in for a body the outer mail does not have."""
    item = read_msg(data)
    if item is None:
        return
    _add_contained(out, filename, item.files, forwarded=True)
    if item.sender_address:
        out.forwarded_senders.append(item.sender_address.lower())
    if item.body.strip() and not out.forwarded_plain:
        out.forwarded_plain = item.body


_TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}


def _filename(part: EmailMessage) -> str:
    """The attachment's name, whichever way the client encoded it (RFC 2231, RFC 2047, raw 8-bit)."""
    try:
        name = part.get_filename()
    except (ValueError, LookupError, TypeError):
        name = None
    if name is None:
        name = part.get_param("name", header="content-type")
        if isinstance(name, tuple):
            name = email.utils.collapse_rfc2231_value(name)
    if not name or _has_raw_bytes(str(name)) or "\ufffd" in str(name):
        name = _name_as_sent(part) or name
    if not name:
        return ""
    name = str(name)
    if "=?" in name:  # RFC 2047 inside a quoted parameter, as Outlook and Thunderbird write it
        try:
            name = str(make_header(decode_header(name)))
        except (ValueError, LookupError):
            pass
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # macOS gives names decomposed ("n" + U+0301 for "ń"); what people read and search is the composed form
    name = unicodedata.normalize("NFC", name)
    return "".join(ch for ch in name if ch.isprintable()).strip()[:200]


def _name_as_sent(part: EmailMessage) -> str | None:
    """The file name read from the raw header, for what the parser cannot read: raw 8-bit names (Eudora), or an
    RFC 2047 encoded-word left unquoted (`name==?iso-8859-2?Q?uwagi_Toru=F1.docx?=`, which its '?' and '=' make
    an invalid parameter)."""
    for header, parameter in (("Content-Disposition", "filename"), ("Content-Type", "name")):
        source, _eight_bit = _header_as_sent(part, header)
        match = re.search(rf'(?:^|;)\s*{parameter}\s*=\s*(?:"([^"]*)"|([^\s;"]+))', source or "", re.IGNORECASE)
        if match and (match.group(1) or match.group(2)):
            return match.group(1) or match.group(2)
    return None


def _bytes_of(part: EmailMessage) -> bytes:
    declared = part.get("Content-Transfer-Encoding")
    if declared is not None and str(declared) != str(declared).strip():
        # "quoted-printable" with spaces after it: the standard library compares the value as written and leaves
        # the part encoded (a PDF stored as its base64 text); mail clients decode it
        part.replace_header("Content-Transfer-Encoding", str(declared).strip())
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError) as error:
        raise MailRefused("broken_mime", f"an attachment cannot be decoded: {error}") from None
    if any(isinstance(defect, InvalidBase64LengthDefect) for defect in part.defects):
        # the standard library gave the part as sent: base64 with a stray group is decoded as far as it goes, but
        # text only labelled base64 (words and spaces: enmime's mime-bad-content-transfer-encoding) stays text
        sent = str(part.get_payload(decode=False))
        if len(re.findall(r"[^A-Za-z0-9+/=\r\n]", sent)) <= _NOT_BASE64_SHARE * len(sent):
            data = _as_far_as_it_decodes(sent)
    return data or b""


def _text_of(part: EmailMessage) -> str:
    """A text part in its declared charset; an unknown or lying charset falls back without failing."""
    data = _bytes_of(part)
    charset = (part.get_content_charset() or "us-ascii").lower()
    # GB2312 and GBK as labelled mail is GBK (browsers read both labels so, WHATWG), which GB18030 holds
    aliases = {"cp-1250": "windows-1250", "x-cp1250": "windows-1250", "iso8859-2": "iso-8859-2",
               "latin2": "iso-8859-2", "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030"}
    charset = aliases.get(charset, charset)
    try:
        text = data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        # declared UTF-8 with some bytes that are not (a signature pasted in windows-1250): its well-formed letters
        # are UTF-8 as it says; an undeclared or unknown charset is told by its bytes
        utf8_letters = charset in ("utf-8", "utf8") and any(
            not run.group().isascii() for run in _WELL_FORMED_UTF8.finditer(data))
        text = mixed_utf8(data) if utf8_letters else decode_8bit(data)
    else:
        if charset in _WESTERN_CHARSETS and _misread_polish_signs(text) >= 2:
            text = data.decode(guess_polish_8bit(data), errors="replace")
    text = text.removeprefix("\ufeff")  # a byte order mark (Notepad's UTF-8, UTF-16) is not the first letter
    if part.get_content_type() == "text/plain" and (part.get_param("format") or "").lower() == "flowed":
        return unflow(text, delete_space=(part.get_param("delsp") or "").lower() == "yes")
    return text


def unflow(text: str, *, delete_space: bool = False) -> str:
    """The paragraphs of a format=flowed text (RFC 3676), as Thunderbird and Apple Mail send plain text: a line
    ending in a space goes on in the next line of the same quote depth ("-- " is the signature mark, not a soft
    break), a leading space was added to protect the line ("space-stuffing"), and with DelSp=yes the space
    before a soft break was added too. Without this the comment came with a line break every 72 characters,
    and a quotation from the draft split in two did not match the draft's text."""
    paragraphs: list[tuple[int, str]] = []
    open_paragraph = False
    for line in text.replace("\r\n", "\n").split("\n"):
        stripped = line.lstrip(">")
        depth = len(line) - len(stripped)
        if stripped.startswith(" "):
            stripped = stripped[1:]
        soft = stripped.endswith(" ") and stripped != "-- "
        if open_paragraph and paragraphs and paragraphs[-1][0] == depth:
            paragraphs[-1] = (depth, paragraphs[-1][1] + stripped)
        else:
            paragraphs.append((depth, stripped))
        if soft and delete_space:
            paragraphs[-1] = (depth, paragraphs[-1][1][:-1])
        open_paragraph = soft
    return "\n".join((">" * depth + " " + content) if depth else content for depth, content in paragraphs)


# Charsets a client declares by default (PHP's mail() example, old webmails and KMail set ISO-8859-1) while the
# text in it is whatever the sender's system wrote: in Poland windows-1250 or ISO-8859-2.
_WESTERN_CHARSETS = frozenset({"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "windows-1252", "cp1252",
                               "iso-8859-15", "latin-9"})
# Polish letters of windows-1250 and ISO-8859-2 read as Latin-1 or windows-1252. ł ż ą ź Ł Ż Ą Ź (and ś Ś Ź as
# Latin-1's control codes) become symbols no word contains: "Stanis³aw", "mo¿na", "stanowi± warstwê". ę ć ń and
# windows-1250's ś Ś become letters of other languages (ê æ ñ œ Œ): they only add weight to the symbols.
_MISREAD_POLISH = frozenset("¹³¿Ÿ£¯¥±¶¼¡¦¬\x8c\x8f\x9c\x9f")
_MISREAD_POLISH_OR_FOREIGN = frozenset("êæñÊÆÑœŒ")


def _misread_polish_signs(text: str) -> float:
    """How strongly a text read in a Western charset looks like misread Polish: 0 without a single symbol.

    A symbol counts 1 after a letter ("by³", "Micha³") or before a small one ("¿e"), so the Spanish "¿Qué" and
    "± 5", "£5", "¼ etatu" do not count; a foreign letter beside a letter counts ½. A Latin-1 "1000 m³" alone
    (1) or a French "sœur, fête" (no symbol) never flips a body, which needs 2."""
    symbols = foreign = 0
    for index, char in enumerate(text):
        if char not in _MISREAD_POLISH and char not in _MISREAD_POLISH_OR_FOREIGN:
            continue
        before = text[index - 1] if index else " "
        after = text[index + 1] if index + 1 < len(text) else " "
        if char in _MISREAD_POLISH_OR_FOREIGN:
            foreign += before.isalpha() or after.isalpha()
        elif before.isalpha() or (after.isalpha() and after.islower()):
            symbols += 1
    return symbols + foreign / 2 if symbols else 0


def repaired_polish(text: str) -> str:
    """Text whose Polish letters came out as Western symbols, repaired word by word ("wspó³pracy z organizacjami
    pozarz¹dowymi" → "współpracy z organizacjami pozarządowymi").

    A PDF made with a font that maps windows-1250 codes to Western glyph names gives such a text layer; so does
    a program that decoded Polish bytes as windows-1252. Only words holding a misread sign change, and only when
    the whole text looks misread (two signs or more, as for a mail body), so "1000 m³" or "¿Qué?" stay."""
    if _misread_polish_signs(text) < 2:
        return text
    tokens = re.split(r"(\s+)", text)
    misread: dict[int, bytes] = {}
    for index, token in enumerate(tokens):
        if any(char in _MISREAD_POLISH or char in _MISREAD_POLISH_OR_FOREIGN for char in token):
            for western in ("windows-1252", "latin-1"):
                try:
                    misread[index] = token.encode(western)
                    break
                except UnicodeEncodeError:
                    continue
    charset = guess_polish_8bit(b"".join(misread.values()))
    for index, data in misread.items():
        tokens[index] = data.decode(charset, errors="replace")
    return "".join(tokens)


# The Polish letters on which ISO-8859-2 and windows-1250 disagree: ą ś ź Ą Ś Ź.
_ISO_8859_2_ONLY = frozenset(b"\xb1\xb6\xbc\xa1\xa6\xac")
_WINDOWS_1250_ONLY = frozenset(b"\xb9\x9c\x9f\xa5\x8c\x8f")


def guess_polish_8bit(data: bytes) -> str:
    """The charset of Polish 8-bit text that does not say (or lies about) its charset.

    Windows clients write windows-1250 and Unix ones ISO-8859-2; the two differ only in a few letters, so
    count which set of them the text uses. Bytes 0x80-0x9F are control codes in ISO-8859-2, never text."""
    iso = sum(1 for byte in data if byte in _ISO_8859_2_ONLY)
    windows = sum(1 for byte in data if byte in _WINDOWS_1250_ONLY)
    controls = any(0x80 <= byte <= 0x9F for byte in data)
    return "iso-8859-2" if iso > windows and not controls else "windows-1250"


# --- HTML to text -----------------------------------------------------------------

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_HTML_SPACE = re.compile(r"[ \t\r\n\f]+")
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote",
               "pre", "hr"}
# The quoted history in the clients' HTML: Gmail, Thunderbird, Outlook (desktop and web), Apple Mail.
_QUOTE_XPATH = ("//div[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]"
                " | //blockquote[@type='cite'] | //div[contains(@class, 'moz-cite-prefix')]"
                " | //div[@id='divRplyFwdMsg'] | //div[@id='appendonsend'] | //div[@id='mail-editor-reference-message-container']"
                " | //div[contains(@class, 'yahoo_quoted')] | //blockquote[contains(@class, 'gmail_quote')]")
_SIGNATURE_XPATH = ("//div[contains(@class, 'gmail_signature')] | //div[contains(@class, 'moz-signature')]"
                    " | //*[@id='Signature'] | //*[@id='ms-outlook-mobile-signature']")


def _own_words(markup: str, *, keep_history: bool = False) -> etree._Element | None:
    """The HTML body's tree without scripts, styles, the quoted history (unless kept) and the signature: what the
    sender wrote."""
    if not markup or not markup.strip():
        return None
    # An XHTML body's own declaration (Hotmail writes `<?xml version="1.0" encoding="UTF-8"?>`): the text is decoded
    # already, and lxml refuses a decoded string that names an encoding, which lost the whole body.
    markup = _XML_DECLARATION.sub("", markup, count=1)
    try:
        # libxml2 stops at 256 levels without `huge_tree`, and drops the rest of the document: a long thread
        # of replies, each quoted inside the last, nests that deep and took the text after it. A new parser per
        # call, as an lxml parser must not be shared between threads; the mail's size is bounded already.
        root = lxml_html.document_fromstring(markup, parser=lxml_html.HTMLParser(huge_tree=True))
    except (etree.ParserError, ValueError):
        return None
    for element in root.xpath("//script | //style | //head | //title"):
        element.drop_tree()
    if keep_history:
        for element in root.xpath(_SIGNATURE_XPATH):
            element.drop_tree()
        return root
    _drop_outlook_history(root)
    _drop_after_rule(root)
    for element in root.xpath(_QUOTE_XPATH + " | " + _SIGNATURE_XPATH):
        if element.getparent() is not None:
            _drop_from(element)
    return root


def html_tables(markup: str, *, forward: bool = False) -> list[list[list[str]]]:
    """The tables the sender put in an HTML body (a comment form's table pasted from Word into Outlook), each as
    rows of cell texts lined up by column: a cell spanning n columns is followed by n-1 empty ones, and a cell
    spanning rows leaves an empty one in the rows below. The quoted history of a reply is not the sender's (it
    is the city's own mail, its form empty); that of a forward is what is forwarded, and is read."""
    if "<table" not in markup.lower():
        return []  # most mails: no second parse of the body
    root = _own_words(markup, keep_history=forward)
    if root is None:
        return []
    tables = []
    for table in root.iter("table"):
        if table.xpath(".//table"):
            continue  # a layout table around the real one: the inner table is read on its own
        tables.append(_table_grid(table))
    return [grid for grid in tables if grid][:20]


def _table_grid(table: etree._Element) -> list[list[str]]:
    grid: list[list[str]] = []
    spanning: dict[int, int] = {}  # column -> rows still covered by a cell above
    for row in table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")[:500]:
        cells: list[str] = []
        column = 0
        for cell in row.xpath("./td | ./th"):
            while spanning.get(column, 0) > 0:
                spanning[column] -= 1
                cells.append("")
                column += 1
            width, height = _span(cell.get("colspan")), _span(cell.get("rowspan"))
            cells.extend([_cell_text(cell)] + [""] * (width - 1))
            if height > 1:
                spanning.update(dict.fromkeys(range(column, column + width), height - 1))
            column += width
        last = max((c for c, left in spanning.items() if left > 0 and c >= column), default=column - 1)
        for covered in range(column, last + 1):  # cells from above at the row's end
            spanning[covered] = max(spanning.get(covered, 0) - 1, 0)
            cells.append("")
        grid.append(cells)
    return grid


def _span(value: str | None) -> int:
    return max(1, min(int(value), 50)) if value and value.strip().isdecimal() else 1


def _cell_text(cell: etree._Element) -> str:
    """A cell's text, its paragraphs and line breaks as new lines (Word puts each line in a <p class=MsoNormal>)."""
    parts: list[str] = []
    for node in cell.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag in ("p", "div", "li", "br") and parts:
            parts.append("\n")
        if node.text and node.tag not in ("script", "style"):
            parts.append(node.text)
        if node is not cell and node.tail:
            parts.append(node.tail)
    lines = [" ".join(line.replace("\xa0", " ").split()) for line in "".join(parts).split("\n")]
    return "\n".join(line for line in lines if line)


def html_to_text(markup: str, *, forward: bool = False) -> str:
    """Readable text of an HTML body, without scripts, styles, the quoted history or the signature. A forward's
    quoted text is what was sent on, and is kept (`strip_reply` drops its header block)."""
    root = _own_words(markup, keep_history=forward)
    if root is None:
        return ""
    _mark_safety_tips(root)
    preformatted = set(root.iter("pre"))
    for pre in list(preformatted):
        preformatted.update(pre.iterdescendants())
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element not in preformatted:
            # A browser shows a line break in the source as a space: Word's HTML (Outlook) wraps its paragraphs
            # at 76 columns, which cut sentences, and "From:" from its value, into lines of their own.
            element.text = _HTML_SPACE.sub(" ", element.text) if element.text else element.text
        if element.tail and (element.getparent() is None or element.getparent() not in preformatted):
            element.tail = _HTML_SPACE.sub(" ", element.tail)
        if element.tag == "li":  # a list item keeps its mark, as a plain-text mail writes it: "1. …", "- …"
            parent = element.getparent()
            if parent is not None and parent.tag == "ol":
                number = len([e for e in element.itersiblings(preceding=True) if e.tag == "li"]) + 1
                element.text = f"{number}. " + (element.text or "")
            else:
                element.text = "- " + (element.text or "")
        if element.tag in _BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
            if element.tag in {"p", "div", "ul", "ol", "tr", "h1", "h2", "h3", "table", "blockquote"}:
                element.text = "\n" + (element.text or "")
        elif element.tag == "td":
            element.tail = "\t" + (element.tail or "")
        elif element.tag == "a":
            _show_shared_file_address(element)
    text = root.text_content().replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = re.sub(r"(?m)^(\d{1,3}\.|-)\n+(?=\S)", r"\1 ", "\n".join(lines))  # a mark whose item is a <p>
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _show_shared_file_address(link: lxml_html.HtmlElement) -> None:
    """A link to a shared file keeps its address after its words, as a plain-text mail shows it ("formularz
    <https://…sharepoint.com/…>"): the new Outlook shares a file as a link named by the file, and staff are told
    of shared files by their address (links.shared_files)."""
    href = original_links((link.get("href") or "").strip())
    if shared_service(href) and href not in link.text_content():
        link.tail = f" <{href}>" + (link.tail or "")


# Microsoft 365's "first contact safety tip": Exchange Online puts it at the top of a mail from a sender new to the
# recipient ("You don't often get email from jan@example.org. Learn why this is important", "Vous n'obtenez pas
# souvent d'e-mail à partir de …", in the recipient's language), and Outlook quotes it in replies and forwards.
# Its link is the same in every language. A city's mailbox in Microsoft 365 gets it on most residents' mail.
_SAFETY_TIP_LINK = "aka.ms/learnaboutsenderidentification"
_SAFETY_TIP_URL = "https://aka.ms/LearnAboutSenderIdentification"
_SAFETY_TIP_LINES = 4  # the tip wrapped by a client ("[Some people who received this message don't often get …")
_SAFETY_TIP_CHARS = 500
_HEADER_FIELD_LINE = re.compile(r"[\w-]{2,40}:\s")  # "Subject: …", "Temat: …": a quoted header block's line


def without_safety_tips(text: str) -> str:
    """The text without Microsoft 365's first contact safety tip (above), wherever it stands: at the top of the
    sender's text, or of the original a reply quotes or a forward sends on. Only the tip's own lines go: the
    header block above it (which tells a quoted original) and the text below stay."""
    if _SAFETY_TIP_LINK not in text.lower():
        return text
    lines = text.split("\n")
    dropped: set[int] = set()
    for end, line in enumerate(lines):
        if _SAFETY_TIP_LINK not in line.lower():
            continue
        start = end
        while start > max(0, end - _SAFETY_TIP_LINES + 1) and _tip_line(lines[start - 1]) and \
                sum(len(lines[index]) for index in range(start - 1, end + 1)) <= _SAFETY_TIP_CHARS:
            start -= 1
        start = next((index for index in range(start, end + 1) if _tip_opening(lines[index])), None)
        if start is None:  # the link without the tip's words: someone's own text quoting it stays
            continue
        dropped.update(range(start, end + 1))
        if end + 1 < len(lines) and _bare(lines[end + 1]) == "]":
            dropped.add(end + 1)
    kept = [line for index, line in enumerate(lines) if index not in dropped]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")


def _tip_line(line: str) -> bool:
    """A line that can belong to the tip: not blank, not a header field of the quoted mail above it."""
    unquoted = _bare(line)
    return bool(unquoted) and not _HEADER_FIELD_LINE.match(unquoted)


def _tip_opening(line: str) -> bool:
    """The tip's first line: in brackets as Outlook's plain text quotes it, or naming the new sender's address."""
    unquoted = _bare(line)
    return unquoted.startswith("[") or "@" in unquoted


_QUOTE_MARKS = re.compile(r"^(?:\s*>)+")


def _bare(line: str) -> str:
    """A line's words, without its quote marks and the space around them."""
    return _QUOTE_MARKS.sub("", line).strip()


def without_gateway_banners(text: str, banners: tuple[str, ...] = ()) -> str:
    """The text without the warning a mail gateway writes into every mail from outside ("CAUTION: This email
    originated from outside of the organization. Do not click links or open attachments unless…"), wherever it
    stands: on top of the resident's text when the city's own gateway adds it, or under the header block of a
    forwarded or quoted original. Found in English by its shape: a paragraph that opens as a warning, up to the
    sentence that tells the reader not to click links or open attachments. A city's own wording (in Polish, say)
    is given in UWAGI_MAIL_BANNERS (`banners`) and goes wherever it stands, whatever its line breaks and quote
    marks."""
    removed = 0
    for banner in banners:
        words = banner.split()
        if words and len(text) <= _BANNER_TEXT_LIMIT:
            text, found = re.subn(r"(?i)" + r"[\s>]+".join(map(re.escape, words)), "", text)
            removed += found
    lines = text.split("\n")
    dropped: list[range] = []
    start = 0
    while start < len(lines):
        if not _bare(lines[start]):
            start += 1
            continue
        end = start
        while end + 1 < len(lines) and _bare(lines[end + 1]) and \
                _quote_depth(lines[end + 1]) == _quote_depth(lines[start]):  # an attribution above a quote
            end += 1
        last = _banner_end(lines, start, end)
        if last is not None:
            dropped.append(range(start, last + 1))
        start = end + 1
    if not dropped and not removed:
        return text
    gone = {index for span in dropped for index in span}
    kept = [line for index, line in enumerate(lines) if index not in gone]
    return re.sub(r"\n(?:[ \t>]*\n){2,}", "\n\n", "\n".join(kept)).strip("\n")


def _quote_depth(line: str) -> int:
    marks = _QUOTE_MARKS.match(line)
    return marks.group().count(">") if marks else 0


def _banner_end(lines: list[str], start: int, end: int) -> int | None:
    """The last line of a gateway's warning opening the paragraph `start`..`end`, or None if it opens with none.

    The warning ends with the sentence that tells the reader not to click links or open attachments; the lines
    after it stay, as when an HTML banner and the resident's first words are one paragraph apart by a `<br>`."""
    opening = _bare(lines[start])
    if not (_BANNER_OPENING.match(opening) or _BANNER_FROM_OUTSIDE.match(opening)):
        return None
    text = ""
    warned = False
    from_outside_end = None  # "This email came from outside the organization.", advice or not after it
    for index in range(start, end + 1):
        text = f"{text} {_bare(lines[index])}".strip()
        if len(text) > _BANNER_CHARS:
            break
        warned = warned or bool(_BANNER_LINKS.search(text))
        if warned and (text.endswith((".", "!")) or index == end):
            return index
        if from_outside_end is None and _BANNER_ONLY_FROM_OUTSIDE.fullmatch(text):
            from_outside_end = index
    return from_outside_end


# The shapes of the public mails in tests/corpus/mail/banners (Amazon's, Microsoft 365 tenants', universities').
_BANNER_OPENING = re.compile(
    r"(?:\[?external\]?\s*)?(?:caution|warning|attention|external(?:\s+(?:e-?mail|message|sender))?)\s*[:!–-]",
    re.IGNORECASE)
_BANNER_FROM_OUTSIDE = re.compile(
    r"(?:\[?external\]?\s*[:!–-]?\s*)?this (?:e-?mail|message) (?:is |was |has )?(?:originated|came|come|sent|"
    r"arrived)\b.{0,40}\boutside\b", re.IGNORECASE)
_BANNER_LINKS = re.compile(
    r"\b(?:(?:do not|don['’]t|never)\s+(?:\w+\s+){0,2}?(?:click|open)|(?:cautious|careful)\s+(?:when\s+)?(?:opening|"
    r"clicking))\b.{0,60}?\b(?:links?|attachments?)\b", re.IGNORECASE)
# "[EXTERNAL] This email came from outside the organization." alone, the warning without advice
_BANNER_ONLY_FROM_OUTSIDE = re.compile(
    r"(?:\[?external\]?\s*[:!–-]?\s*|(?:caution|warning|attention)\s*[:!–-]\s*)?this (?:e-?mail|message) "
    r"(?:is |was |has )?(?:originated|came|come|sent|arrived)\b[^.!]{0,60}\boutside\b[^.!]{0,60}[.!]", re.IGNORECASE)
_BANNER_CHARS = 600
_BANNER_TEXT_LIMIT = 2_000_000  # the configured texts are looked for in a body up to this size


def _mark_safety_tips(root: etree._Element) -> None:
    """Microsoft 365's safety tip in HTML: the grey table Exchange puts at the top of the body goes whole; a tip in
    running text (Outlook's plain text as HTML, a client's link) keeps its words with the link's address written
    out, for `without_safety_tips` to find."""
    for link in list(root.iter("a")):  # a list: a tip's table leaves the tree while the loop goes on
        if _SAFETY_TIP_LINK not in (link.get("href") or "").lower() or link.getparent() is None:
            continue
        table = next((ancestor for ancestor in link.iterancestors("table")), None)
        if table is not None and table.getparent() is not None and \
                len(table.text_content()) <= _SAFETY_TIP_CHARS:
            table.drop_tree()
        elif _SAFETY_TIP_LINK not in link.text_content().lower():
            link.tail = f" {_SAFETY_TIP_URL}" + (link.tail or "")


def _drop_from(element: etree._Element) -> None:
    """Drop the element; a Gmail/Outlook quote container also ends the message, so drop what follows it too."""
    parent = element.getparent()
    for sibling in list(element.itersiblings()):
        if sibling.tag == "blockquote" or "quote" in (sibling.get("class") or ""):
            parent.remove(sibling)
    element.drop_tree()


def _drop_after_rule(root: etree._Element) -> None:
    """Outlook.com and Hotmail put the quoted original after `<hr id="stopSpelling">`, with no container: the
    rule, its tail and everything after it in the document are history."""
    for rule in root.xpath("//hr[@id='stopSpelling']"):
        if rule.getparent() is None:
            continue
        rule.tail = None
        node = rule
        while node is not None and node.tag != "body":
            parent = node.getparent()
            for sibling in list(node.itersiblings()):
                parent.remove(sibling)
            node.tail = None
            node = parent
        rule.drop_tree()


def _drop_outlook_history(root: etree._Element) -> None:
    """Outlook desktop marks the reply's start with a border-top div holding "From:/Od:"; all after it is history."""
    for div in root.xpath("//div[contains(translate(@style, 'BORDERTOP', 'bordertop'), 'border-top:solid')]"):
        text = div.text_content()
        if re.search(r"\b(From|Od|Von|De):", text):
            container = div.getparent()
            # Outlook wraps it as <div style="border:none;border-top:…"><p><b>From:</b>…</p></div> in a WordSection.
            for sibling in list(div.itersiblings()):
                container.remove(sibling)
            div.drop_tree()
            return


# --- replies and signatures in plain text ------------------------------------------

# The line that opens the quoted original in Outlook ("-----Oryginalna wiadomość-----"), Thunderbird (pl: "---
# Treść oryginalnej wiadomości ---") and others, or Outlook Web's and mobile's rule of underscores before "From:".
_ORIGINAL_MESSAGE = (r"-{2,}\s*(?:Original Message|Reply Message|Oryginalna wiadomość|Wiadomość oryginalna"
                     r"|Treść oryginalnej wiadomości|Ursprüngliche Nachricht|Antwort Nachricht"
                     r"|Oprindelig meddelelse|Oprindelig besked"
                     r"|Ursprungligt meddelande|Opprinnelig melding|Oorspronkelijk bericht|Message d'origine"
                     r"|Mensaje original|Messaggio originale|Mensagem original|Původní zpráva|Pôvodná správa"
                     r"|Eredeti üzenet|Исходное сообщение|Вихідне повідомлення)\s*-{2,}"
                     r"|_{10,}\s*$"
                     # Android's and Zoho's "---- Jan wrote ----"
                     r"|-{3,}\s*\S.{0,80}\s(?:wrote|napisał(?:\(a\)|a)?|pisze)\s*-{3,}\s*$")
# "wrote" in the languages of the clients residents use: a line that ends so, with a time and a date or an
# address in it, is the attribution above a quoted original (Gmail: "pt., 18 paź 2024 o 10:12 Jan <jan@…>
# napisał(a):", in Ukrainian "… пише:", German "Am … schrieb …:", French "Le … a écrit :").
_WROTE_FORMS = ("wrote", "writes", "sent", "pisze", "napisał(a)", "napisała", "napisał", "schrieb", "a écrit", "skrev",
                "schreef", "geschreven", "escribió", "ha scritto", "scrisse", "napsal(a)", "napsala", "napsal",
                "napísal(a)", "napísala", "napísal", "írta", "написал(а)", "написала", "написал", "написав(ла)",
                "написав", "пишет", "пише", "đã viết")
_WROTE = "(?:" + "|".join(re.escape(form).replace(r"\ ", r"\s+") for form in _WROTE_FORMS) + ")"
# The forms' last words, tested as substrings (in C) before any regular expression runs on a line.
_WROTE_STEMS = tuple({form.split()[-1].split("(")[0].lower() for form in _WROTE_FORMS})
_WROTE_AT_END = re.compile(rf"\b{_WROTE}\s*:\s*$", re.IGNORECASE)
_WROTE_THEN_SENDER = re.compile(rf"\b{_WROTE}\s(?P<sender>[^\n]{{1,150}}):\s*$", re.IGNORECASE)
# Gmail's attribution with no verb, when the quote follows it: "2014-10-17 11:28 GMT+02:00 Jan <jan@…>:" (Gmail
# until 2016), "пн, 18 окт. 2024 г. в 10:12, Jan <jan@…>:" (Gmail in Russian).
_ADDRESS_ATTRIBUTION = re.compile(r"^\s*\S.{0,300}@[^\s@]+?>?\s*:\s*$")
# Gmail's attribution of about 2011: "2011/4/7 Jan Kowalski <jan@example.org>", no time, no colon (a quote follows)
_GMAIL_2011_ATTRIBUTION = re.compile(r"^\s*\d{4}/\d{1,2}/\d{1,2}\s[^<>]{1,200}<[^\s<>@]+@[^\s<>@]+>\s*$")
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
_DATE_OR_ADDRESS = re.compile(r"\d{4}|\b\d{1,2}[./-]\d{1,2}\b|@|\b\d{1,2}\.?\s+\w{3}")
_REPLY_HEADER = re.compile(
    r"^\s*(?:"
    r"On\b.{0,200}\bwrote:\s*$"  # Gmail, Apple Mail, Thunderbird (en)
    r"|W dniu\b.{0,200}\bpisze:\s*$"  # Thunderbird (pl)
    r"|(?:Dnia|W dniu)\b.{0,200}\bnapisał(?:\(a\)|a)?:?\s*$"  # Gmail, Thunderbird (pl)
    r"|(?:pon|wt|śr|czw|pt|sob|niedz)\.?,?\s.{0,120}\bnapisał(?:\(a\)|a)?:\s*$"  # Gmail (pl): "pt., 18 paź 2024 …"
    r"|Wiadomość napisana przez\b.{0,200}\bw dniu\b.{0,80}:\s*$"  # Apple Mail (pl): "… w dniu 7 paź 2024, o godz. 10:00:"
    rf"|{_ORIGINAL_MESSAGE}"
    r")", re.IGNORECASE)
# Thunderbird's reply header when it has no date: "#1 pisze:" ("Jan Kowalski pisze:"), a reply header only
# when quoted lines follow it.
_AUTHOR_WRITES = re.compile(r"^\s*\S.{0,150}\b(?:pisze|napisał(?:\(a\)|a)?|wrote):\s*$", re.IGNORECASE)
_HISTORY_SEPARATOR = re.compile(rf"^\s*(?:{_ORIGINAL_MESSAGE})", re.IGNORECASE)
# Subjects of forwards: Gmail and Thunderbird "Fwd:", Outlook "FW:" and in Polish "PD:" (przesłane dalej).
# Subjects of forwards: Outlook's "FW:" (Polish "PD:", German "WG:", French "TR:", Spanish "RV:"), "Fwd:"; after a tag a
# mail gateway put in front of mail from outside the office ("[EXTERNAL] FW: …", "[ZEWNĘTRZNA] PD: …"), as for replies.
_FORWARD_SUBJECT = re.compile(r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:fwd?|pd|przek(?:azane)?\.?|wg|tr|rv)\s*:", re.IGNORECASE)
# Subjects of replies: "Re:", Outlook's Polish "ODP:", German "AW:", Nordic "SV:"/"VS:", Dutch "Antw:", Italian "R:".
_REPLY_SUBJECT = re.compile(r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:re|odp\.?|aw|sv|vs|antw|r|res)\s*(?:\[\d+\])?\s*:",
                            re.IGNORECASE)
# Outlook's header block in the languages of its users (French puts a space before the colon: "De : …").
_OUTLOOK_HEADER_BLOCK = re.compile(r"^\s*\*?(From|Od|Von|De|Fra|Från|Van|Da|От|От кого|Від)\*? ?:\*?\s.+$",
                                   re.IGNORECASE)
_OUTLOOK_DATE_FIRST = re.compile(r"^\s*\*?(Sent|Wysłano|Wysłane|Date|Data|Datum|Gesendet|Envoyé|Дата)\*? ?:\*?\s.+$",
                                 re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(
    r"^\s*\*?(Sent|Wysłano|Wysłane|Date|Data|Datum|Dato|Gesendet|Envoyé|Sendt|Skickat|Verzonden|Inviato|Enviado"
    r"|Отправлено|Надіслано|Дата|To|Do|An|À|Til|Till|Aan|Para|Pour|Кому"
    r"|Subject|Temat|Betreff|Objet|Sujet|Emne|Ämne|Onderwerp|Oggetto"
    r"|Asunto|Assunto|Тема)\*? ?:\*?(?:\s|(?=<))", re.IGNORECASE)
# The other fields of a forwarded mail's header block: Thunderbird's Polish ones (its mime.properties: "Nadawca",
# "Adresat", "Kopia", "Ukryta kopia", "Odpowiedź-Do", "Wysyłane przez", "Firma/Organizacja"; its "Temat" and "Data"
# are Outlook's too), copies and reply addresses in English and German, the importance line some clients add.
_OTHER_HEADER_FIELD = re.compile(
    r"^\s*\*?(?:Cc|Bcc|DW|UDW|Reply-To|Sender|Organization|Importance|Nadawca|Adresat|Kopia|Ukryta kopia"
    r"|Odpowied[źz][ -]do|Wysyłane przez|(?:Firma/)?Organizacja|Ważność|Priorytet|An|Kopie|Betreff"
    r"|Répondre à)\*? ?:\s",
    re.IGNORECASE)
_FORWARD_MARKER = re.compile(
    r"^\s*(?:-{3,}\s*(?:Forwarded message|Wiadomość przekazana dalej|Przekazana wiadomość|Treść przekazanej wiadomości)\s*-{3,}"
    r"|Begin forwarded message:|Początek przekazywanej wiadomości:|-{5,}\s*Forwarded Message\s*-{5,}"
    r"|-{5,}\s*Wiadomość przekazana\s*-{5,}|-{3,}\s*(?:Пересылаемое сообщение|Переслане повідомлення"
    r"|Weitergeleitete Nachricht|Message transféré|Vidarebefordrat meddelande|Videresendt melding"
    r"|Doorgestuurd bericht|Messaggio inoltrato|Mensaje reenviado)\s*-{3,}"
    r"|Forwarded message:|Anfang der weitergeleiteten Nachricht:|Début du message réexpédié\s?:)\s*$",
    re.IGNORECASE)
_SIGNATURE_START = re.compile(
    r"^\s*(?:--\s*$|—\s*$"
    r"|(?:Z\s+)?(?:serdecznymi\s+)?pozdrowieniami\b.*$|Pozdrawiam(?:\s+serdecznie|\s+ciepło)?\b[ ,.!]*.{0,60}$"
    r"|(?:Serdecznie|Ciepło|Dziękuję\s+i|Dziękujemy\s+i)\s+pozdrawiam(?:y)?\b[ ,.!]*.{0,60}$|Pozdrawiamy\b[ ,.!]*.{0,60}$"
    r"|(?:Serdeczne\s+)?pozdrowienia[ ,.!]*$"
    r"|Z\s+powa[żz]aniem\b[ ,.]*.{0,60}$|Z\s+wyrazami\s+szacunku\b[ ,.]*$"
    r"|Łączę\s+(?:wyrazy\s+szacunku|pozdrowienia)\b.*$"
    r"|(?:Best|Kind)\s+regards\b[ ,.]*.{0,60}$|Regards\b[ ,]*$|Thanks,?$"
    r"|Sent from my \w+.*$|Wysłan[eo] z (?:mojego|mojej|aplikacji|urządzenia)\b.*$"
    r"|Wysłan[eo] z (?:iPhone|iPada?|telefonu|smartfona|tabletu)\S*\s*$"
    r"|Get Outlook for \w+.*$|Pobierz aplikację Outlook\b.*$)",
    re.IGNORECASE)


def strip_reply(text: str, *, forward: bool = False, reply: bool = True) -> str:
    """What the sender wrote: quoted lines, reply headers and what follows them, and the signature removed.

    A forward's header block ("---------- Forwarded message ---------" with From/Date/Subject/To) is
    dropped but the forwarded text kept: the person forwarded it to us so that we read it. Outlook marks
    a forward only by its subject ("PD:", "FW:"), its header block looking like a reply's: with `forward`,
    the first such block is the forwarded mail's, and the forwarder's signature before it is skipped.
    Unless the subject says the mail is a reply (`reply`), a header block on the body's first line heads a text
    sent on with nothing written above it (a forward whose subject was retyped, a mail pasted in): the block is
    dropped and the text kept, where a reply's would be the quoted original and end the sender's words.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    index = 0
    forward_header_expected = forward
    first = next((position for position, line in enumerate(lines) if line.strip()), 0)
    if not reply and (_HISTORY_SEPARATOR.match(lines[first]) or _is_outlook_reply_header(lines, first)):
        index = _after_header_block(lines, first + 1 if _HISTORY_SEPARATOR.match(lines[first]) else first)
        forward_header_expected = False
    while index < len(lines):
        line = lines[index]
        embedded = _embedded_attribution(line)
        if embedded and _next_is_quoted(lines, index + 1):
            # "Thanks On Wed, 4 Apr 2012 … wrote:" (a phone joined the answer to the attribution): the answer is kept
            kept.append(embedded[0])
            lines[index] = line = embedded[1]
        if _FORWARD_MARKER.match(_unquoted(line)) or (
                forward_header_expected and line.lstrip().startswith(">")
                and _is_outlook_reply_header([_unquoted(nearby) for nearby in lines[index:index + 8]], 0)):
            # The text sent on is what the sender wants read, also when the client quoted it (Apple Mail's "Begin
            # forwarded message:" over "> From: …" lines, or the marker itself quoted): its lines lose one ">".
            if line.lstrip().startswith(">"):
                _unquote_run(lines, index)
            elif _next_is_quoted(lines, index + 1):
                _unquote_run(lines, index + 1)
            start = index if _is_outlook_reply_header(lines, index) else index + 1
            index = _after_header_block(lines, start)
            forward_header_expected = False
            continue
        if forward_header_expected and (_HISTORY_SEPARATOR.match(line) or _is_outlook_reply_header(lines, index)):
            index = _after_header_block(lines, index + 1 if _HISTORY_SEPARATOR.match(line) else index)
            forward_header_expected = False
            continue
        if _attribution_span(lines, index) or _is_outlook_reply_header(lines, index) or _introduces_quote(lines, index):
            answered = _answer_below_quote(lines, index)
            if answered is None:
                break
            index = answered  # written below the quote (bottom-posted) or between its lines: the quote is skipped
            continue
        if line.lstrip().startswith(">") or _is_wrapped_quote_line(lines, index):
            index += 1
            continue
        if _SIGNATURE_START.match(line) and _looks_like_signature_tail(lines, index):
            following = _forward_header_after(lines, index + 1, forward_header_expected)
            if following is None:
                break
            index = following  # the forwarder's signature, then the forwarded mail
            continue
        kept.append(line.rstrip())
        index += 1
    while kept and not kept[-1].strip(" \t-_=*"):  # blank, or the rule Outlook draws above the original
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept))


def _unquoted(line: str) -> str:
    return re.sub(r"^\s*> ?", "", line, count=1)


def _unquote_run(lines: list[str], start: int) -> None:
    """Take one level of quoting off the quoted run that starts at `start`, in place: its lines, and its blank
    lines while quoted lines follow them. Each line is looked at once."""
    position = start
    while position < len(lines):
        if lines[position].lstrip().startswith(">"):
            lines[position] = _unquoted(lines[position])
            position += 1
            continue
        if lines[position].strip():
            return
        following = next((n for n in range(position + 1, len(lines)) if lines[n].strip()), len(lines))
        if following == len(lines) or not lines[following].lstrip().startswith(">"):
            return
        position = following


def _after_header_block(lines: list[str], index: int) -> int:
    """The first line after a forwarded mail's header block (blank lines before it, as Apple Mail leaves, too).
    A field's value may go on in the next line (a long subject wrapped) when another field follows it."""
    while index < len(lines) and not lines[index].strip():
        index += 1
    fields = 0
    while index < len(lines):
        if _is_header_field(lines[index]):
            fields += 1
        elif fields and not lines[index].strip() and _is_header_field(
                next((line for line in lines[index + 1:index + 3] if line.strip()), "")):
            pass  # Thunderbird's HTML forward sets its fields as table rows, blank lines between them as text
        elif not (fields and lines[index].strip() and index + 1 < len(lines) and _is_header_field(lines[index + 1])):
            break
        index += 1
    return index


def _is_header_field(line: str) -> bool:
    return bool(_OUTLOOK_HEADER_BLOCK.match(line) or _OUTLOOK_NEXT.match(line) or _OTHER_HEADER_FIELD.match(line))


def _forward_header_after(lines: list[str], index: int, outlook_forward: bool) -> int | None:
    """Where a forwarded mail starts after a signature (a forward marker, or Outlook's block in a forward)."""
    for position in range(index, min(len(lines), index + 12)):
        line = lines[position]
        if _FORWARD_MARKER.match(line):
            return position
        if outlook_forward and (_HISTORY_SEPARATOR.match(line) or _is_outlook_reply_header(lines, position)):
            return position
        if _attribution_span(lines, position) or _is_outlook_reply_header(lines, position):
            return None
    return None


def _is_outlook_reply_header(lines: list[str], index: int) -> bool:
    """Outlook's "From: … / Sent: … / To: … / Subject: …" block (Polish "Od: / Wysłano: / Do: / Temat:"), also
    with a long sender wrapped onto a line of its own, each field a paragraph (Outlook 2003's HTML), or the date
    first (Hotmail: "Date: / Subject: / From: / To:")."""
    line = lines[index]
    from_first = bool(_OUTLOOK_HEADER_BLOCK.match(line))
    if not from_first and not _OUTLOOK_DATE_FIRST.match(line):
        return False
    following = [line for line in lines[index + 1:index + 8] if line.strip()][:3]
    fields = [bool(_OUTLOOK_NEXT.match(line) or _OUTLOOK_HEADER_BLOCK.match(line)) for line in following]
    if from_first:
        return sum(fields) >= 2 and (fields[0] or fields[1]) or fields == [True]
    return len(fields) == 3 and all(fields) and any(_OUTLOOK_HEADER_BLOCK.match(line) for line in following)


def _introduces_quote(lines: list[str], index: int) -> bool:
    return bool(_AUTHOR_WRITES.match(lines[index])) and _next_is_quoted(lines, index + 1)


def _answer_below_quote(lines: list[str], index: int) -> int | None:
    """Where to read on after an attribution ("On … wrote:", "W dniu … pisze:") when the sender wrote below the
    text they quote or between its lines, as people who answer point by point and some phones do: the quoted
    lines ("> …") follow the attribution, and unquoted text follows them before the mail's end or another
    attribution. None when the quote ends the mail (the answer was above it) or the original is not quoted
    ("-----Original Message-----", Outlook's header block: what follows is the original's text)."""
    if _HISTORY_SEPARATOR.match(lines[index]) or _is_outlook_reply_header(lines, index):
        return None
    after = index + max(1, _attribution_span(lines, index))
    quoted = False
    for position in range(after, len(lines)):
        line = lines[position]
        if not line.strip():
            continue
        if line.lstrip().startswith(">") or (quoted and _is_wrapped_quote_line(lines, position)):
            quoted = True
            continue
        if not quoted or _attribution_span(lines, position) or _is_outlook_reply_header(lines, position):
            return None
        return after
    return None


def _is_wrapped_quote_line(lines: list[str], index: int) -> bool:
    """A line of the quote that lost its ">" when a client wrapped it: between two quoted lines, going on with
    a small letter from a quoted line that ends mid-sentence. An answer written between quoted lines starts a
    sentence of its own."""
    if not 0 < index < len(lines) - 1:
        return False
    line, before, after = lines[index].strip(), lines[index - 1].strip(), lines[index + 1].lstrip()
    return bool(line) and line[0].islower() and before.startswith(">") and after.startswith(">") \
        and not before.rstrip(" >").endswith((".", "!", "?", ":", ";")) and before.strip("> ") != ""


def _attribution_span(lines: list[str], index: int) -> int:
    """How many lines (1 to 3) the reply attribution at `index` takes, 0 if none starts there.

    Gmail wraps a long "On … <address>\\nwrote:" over two lines or three ("<\\naddress>\\nwrote:"), and quoting
    clients Apple Mail's "Wiadomość napisana przez … w dniu 21 lis\\n2025, o godz. 03:55:". In the other languages
    the line must carry a time and a date or an address; without a verb ("… Jan <jan@…>:") a quote must follow."""
    chunk: list[str] = []
    for span in (1, 2, 3):
        if index + span > len(lines) or not lines[index + span - 1].strip():
            return 0
        chunk.append(lines[index + span - 1].strip())
        if sum(map(len, chunk)) > 400:
            return 0
        if span == 2 and not (_ATTRIBUTION_START.match(chunk[0]) or _TIME.search(chunk[0])
                              or _DATE_OR_ADDRESS.search(chunk[0])):
            return 0  # the answer's last line is not the start of the attribution below it
        joined = " ".join(chunk)
        if _REPLY_HEADER.match(joined) and (span == 1 or _ATTRIBUTION_START.match(lines[index]) or _dated(joined)):
            return span
        if _dated(joined) and (_ends_like_attribution(joined) or (
                (_ADDRESS_ATTRIBUTION.match(joined) or _GMAIL_2011_ATTRIBUTION.match(joined))
                and _next_is_quoted(lines, index + span))):
            return span
        if joined.endswith(":"):
            return 0
    return 0


_ATTRIBUTION_START = re.compile(r"^\s*(?:On|W dniu|Dnia|Wiadomość napisana przez)\b", re.IGNORECASE)
_ATTRIBUTION_OPENING = re.compile(r"(?:\s+|\s*-{2,}\s*)(?=(?:On|W dniu|Dnia)\s)", re.IGNORECASE)


def _embedded_attribution(line: str) -> tuple[str, str] | None:
    """(the answer, the attribution) of a line a phone joined ("Thanks On Wed, 4 Apr 2012 … wrote:"), or None.
    The attribution is the end of the line from an "On"/"W dniu"/"Dnia" that starts a word, at most 250
    characters, ending in "wrote:" in one of `_WROTE`'s languages; found with a linear scan of the openings."""
    text = line.rstrip()
    if len(text) > 400 or not text.endswith(":") or text.lstrip().startswith(">") or _ATTRIBUTION_START.match(text) \
            or not _WROTE_AT_END.search(text[-60:]):
        return None
    for opening in _ATTRIBUTION_OPENING.finditer(text):
        own, attribution = text[:opening.start()].rstrip(" -"), text[opening.end():]
        if own.strip() and len(attribution) <= 250:
            return own, attribution
    return None


def _ends_like_attribution(text: str) -> bool:
    """Ends in "wrote:" (in any of `_WROTE`'s languages), or in "wrote" and a sender with an address ("… schrieb
    John <john@…>:"). Searched from each "wrote" with bounded patterns, no nested repeats: a hostile mail of
    such lines costs linear time."""
    text = text.rstrip()
    if len(text) > 400 or not text.endswith(":"):
        return False
    tail = text[-200:].lower()
    if not any(stem in tail for stem in _WROTE_STEMS):  # substring tests in C, before the regular expressions
        return False
    if _WROTE_AT_END.search(text[-60:]):
        return True
    found = _WROTE_THEN_SENDER.search(text[-200:])
    return found is not None and ("@" in found["sender"] or "<" in found["sender"])


def _dated(text: str) -> bool:
    """A time and a date or an address, or a year and an address ("Il giovedì 8 dicembre 2016, … <…> ha scritto:")."""
    return bool(_TIME.search(text) and _DATE_OR_ADDRESS.search(text)) or (
        "@" in text and bool(re.search(r"\b(?:19|20)\d{2}\b", text)))


def _next_is_quoted(lines: list[str], index: int) -> bool:
    following = next((lines[n] for n in range(index, len(lines)) if lines[n].strip()), "")  # no copy of the tail
    return following.lstrip().startswith(">")


def _looks_like_signature_tail(lines: list[str], index: int) -> bool:
    """A closing formula starts the signature only near the end: a few short lines may follow, not paragraphs."""
    if lines[index].strip() in {"--", "-- "} or lines[index].rstrip() == "--":
        return True
    before_quote = 0
    for position in range(index + 1, len(lines)):  # stops at the ninth line: a signature is short
        line = lines[position]
        if not line.strip():
            continue
        if _REPLY_HEADER.match(line) or (_ends_like_attribution(line) and _dated(line)) \
                or line.lstrip().startswith(">") or _OUTLOOK_HEADER_BLOCK.match(line) or _FORWARD_MARKER.match(line):
            break
        before_quote += 1
        if before_quote > 8 or len(line) > 120:
            return False
    return True
