"""Files a mail links to instead of attaching them: OneDrive or SharePoint (Outlook in Microsoft 365 offers to
"share a link" for a file kept there, and the new Outlook does it by default), Google Drive, Dropbox, WeTransfer.

Uwagi never opens such a link: the file is on someone else's server, may need the sender's permission to open,
and may change or vanish after the deadline, so it is not what was submitted. Staff are told the mail carries
one, so that they open it themselves and transcribe it, or ask the sender to attach the file instead.
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
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:  # a malformed port or bracket: no address a browser would open
            continue
        service = next((name for domain, name in _SERVICES if host == domain or host.endswith("." + domain)), None)
        if service is None or url in found:
            continue
        last = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
        found[url] = SharedFile(service, url, last if _FILE_NAME.fullmatch(last) else "")
        if len(found) == MAX_LINKS:
            break
    return tuple(found.values())
