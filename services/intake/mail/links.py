"""Files a mail links to instead of attaching them: OneDrive or SharePoint (Outlook in Microsoft 365 offers to
"share a link" for a file kept there, and the new Outlook does it by default), Google Drive, Dropbox, WeTransfer.

Uwagi never opens such a link: the file is on someone else's server, may need the sender's permission to open,
and may change or vanish after the deadline, so it is not what was submitted. Staff are told the mail carries
one, so that they open it themselves and transcribe it, or ask the sender to attach the file instead.

`original_links` gives back the addresses a gateway's link protection rewrote (Safe Links, Proofpoint), so that
the text holds what the sender wrote and a shared file behind such an address is still known for one.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

MAX_LINKS = 20  # a mail listing more shared files than this names the first ones
MAX_ADDRESSES = 1000  # addresses looked at: a page of the same link repeated is not read to its end
_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]{4,2000}", re.IGNORECASE)
# host (itself or a subdomain) -> the service as staff know it
_SERVICES = (
    ("sharepoint.com", "OneDrive / SharePoint"),
    ("1drv.ms", "OneDrive"),
    ("onedrive.live.com", "OneDrive"),
    ("docs.google.com", "Google Docs"),
    ("drive.google.com", "Google Drive"),
    ("dropbox.com", "Dropbox"),
    ("wetransfer.com", "WeTransfer"),
    ("we.tl", "WeTransfer"),
    ("icloud.com", "iCloud"),
    ("mega.nz", "MEGA"),
    ("box.com", "Box"),
    ("drive.proton.me", "Proton Drive"),
    ("swisstransfer.com", "SwissTransfer"),
)
_FILE_NAME = re.compile(r"[^/]+\.(?:docx?|odt|rtf|pdf|xlsx?|ods|pptx?|txt|zip)$", re.IGNORECASE)
# The file's name as the link's words before its address: "Formularz_uwag.docx <https://…>" (an HTML link's text
# and address, as html_to_text writes them; a plain-text mail from Outlook writes a shared file so too).
_NAMED_BEFORE = re.compile(r"([^\s/<>]{1,200}\.(?:docx?|odt|rtf|pdf|xlsx?|ods|pptx?|txt|zip))\s*<$", re.IGNORECASE)


@dataclass(frozen=True)
class SharedFile:
    service: str
    url: str
    name: str = ""  # the file's name when the address shows it (SharePoint's /:w:/r/…/Formularz.docx)


def shared_files(text: str) -> tuple[SharedFile, ...]:
    """The links to shared files in a mail's text, each once, in the order the text gives them."""
    found: dict[str, SharedFile] = {}
    for match in itertools.islice(_URL.finditer(text), MAX_ADDRESSES):
        url = match.group().rstrip(".,;:!?")
        service = shared_service(url)
        if service is None or url in found:
            continue
        last = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
        named = _NAMED_BEFORE.search(text, max(0, match.start() - 300), match.start())
        name = last if _FILE_NAME.fullmatch(last) else named.group(1) if named else ""
        found[url] = SharedFile(service, url, name)
        if len(found) == MAX_LINKS:
            break
    return tuple(found.values())


def shared_service(url: str) -> str | None:
    """The file-sharing service an address leads to (its host or a subdomain of it), None for any other."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # a malformed port or bracket: no address a browser would open
        return None
    return next((name for domain, name in _SERVICES if host == domain or host.endswith("." + domain)), None)


def original_links(text: str) -> str:
    """The text with the links a mail gateway rewrote given back as the sender wrote them.

    A mailbox behind Microsoft Defender's Safe Links or Proofpoint's URL Defense gets every address in a mail
    rewritten to a long one on the gateway's server ("https://eur02.safelinks.protection.outlook.com/?url=
    https%3A%2F%2Fisap.sejm.gov.pl…&data=…&sdata=…&reserved=0"). In a resident's comment, as staff read it and
    the report publishes it, that is a line of noise carrying the recipient's address and tenant id, and a
    OneDrive link inside it is not known for one. The address the sender wrote is in the rewritten one; an
    address that cannot be recovered exactly (Proofpoint v3 with replaced characters) stays as it came.
    """
    if "safelinks.protection." not in text and "urldefense." not in text:
        return text
    for pattern, original in _REWRITTEN:
        text = pattern.sub(lambda match, original=original: original(match) or match.group(), text)
    return text


def _safe_links_target(match: re.Match) -> str | None:
    return _web_address(unquote(match.group(1)))


def _proofpoint_v2_target(match: re.Match) -> str | None:
    return _web_address(unquote(match.group(1).replace("-", "%").replace("_", "/")))


def _proofpoint_v3_target(match: re.Match) -> str | None:
    address = match.group(1)
    return None if "*" in address else _web_address(address)  # "*" stands for characters kept encoded apart


def _web_address(address: str) -> str | None:
    return address if _WEB_ADDRESS.fullmatch(address) else None


_WEB_ADDRESS = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)


_REWRITTEN = (
    # Outlook's plain text keeps the HTML's "&amp;" between the parameters
    (re.compile(r"https?://[\w.-]{1,60}\.safelinks\.protection\.(?:outlook\.com|office365\.us)/?"
                r"\?url=([^&\s<>\"]{1,4000})(?:&[^\s<>\"]{0,4000})?", re.IGNORECASE), _safe_links_target),
    (re.compile(r"https?://urldefense\.proofpoint\.com/v2/url\?u=([\w.~-]{1,4000})(?:&[^\s<>\"]{0,4000})?",
                re.IGNORECASE), _proofpoint_v2_target),
    # the address ends at the first "__" (Proofpoint encodes any in it), which keeps the search linear
    (re.compile(r"https?://urldefense\.com/v3/__((?:(?!__)[^\s<>\"]){1,4000})__;[\w*-]{0,4000}!![^\s<>\"$]{0,4000}\$",
                re.IGNORECASE), _proofpoint_v3_target),
)
