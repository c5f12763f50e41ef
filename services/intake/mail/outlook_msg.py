"""An Outlook item (.msg, [MS-OXMSG]) attached to a mail: the mail dragged from Outlook into another one. Pure.

An official forwarding a resident's mail by dragging it into a new one sends a .msg, and the resident's form is
an attachment inside it. The file is an OLE compound file (read with olefile): each attachment is a storage
`__attach_version1.0_#XXXXXXXX` whose streams hold its long name (`PR_ATTACH_LONG_FILENAME`, else the display
or 8.3 name) and bytes (`PR_ATTACH_DATA_BIN`); a mail inside the mail (`PR_ATTACH_DATA_OBJ` as a storage) gives
its own attachments, a few levels deep. Pictures Outlook marks as shown in the body (`ATT_RENDERED_IN_BODY`) are
left out, as are those of an HTML body. The item's own text (`PR_BODY`) and sender are read too, for a mail
that says nothing but carries the item. Whatever cannot be read gives nothing, never an error.
"""

from __future__ import annotations

import io
import logging
import struct
from dataclasses import dataclass, field

from services.intake.mail.tnef import MAX_FILES, ContainedFile

log = logging.getLogger("uwagi.intake.mail")

MAX_DEPTH = 3
_ATTACH = "__attach_version1.0_#"
_EMBEDDED = "__substg1.0_3701000D"
_ATT_RENDERED_IN_BODY = 0x4
_ATTACH_FLAGS, _ATTACH_METHOD = 0x3714, 0x3705


@dataclass
class OutlookItem:
    body: str = ""
    sender_name: str = ""
    sender_address: str = ""
    files: list[ContainedFile] = field(default_factory=list)


def read_msg(data: bytes) -> OutlookItem | None:
    """The text, sender and attached files of an Outlook item; None when `data` is not one."""
    import olefile

    if not data.startswith(olefile.MAGIC):
        return None
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if not ole.exists("__properties_version1.0"):
                return None  # another compound file (a .doc, an .xls), not an Outlook item
            # PR_SENDER_SMTP_ADDRESS, else PR_SENDER_EMAIL_ADDRESS unless it is an Exchange name ("/O=…/CN=…")
            address = next((text for tag in (0x5D01, 0x0C1F) if "@" in (text := _text(ole, [], tag).strip())), "")
            item = OutlookItem(body=_text(ole, [], 0x1000), sender_name=_text(ole, [], 0x0C1A).strip(),
                               sender_address=address)
            _collect(ole, [], item.files, depth=0)
            return item
    except Exception as error:  # noqa: BLE001 - olefile raises whatever a damaged file makes it meet
        log.info("Outlook item not read: %s: %s", type(error).__name__, error)
        return None


def _collect(ole, path: list[str], files: list[ContainedFile], *, depth: int) -> None:
    storages = sorted({entry[len(path)] for entry in ole.listdir(streams=False, storages=True)
                       if len(entry) > len(path) and entry[:len(path)] == path
                       and entry[len(path)].startswith(_ATTACH)})
    for storage in storages:
        if len(files) >= MAX_FILES:
            return
        here = [*path, storage]
        flags, method = _attachment_properties(ole, here)
        if ole.exists("/".join([*here, _EMBEDDED])):
            if depth + 1 < MAX_DEPTH:
                _collect(ole, [*here, _EMBEDDED], files, depth=depth + 1)
            continue
        data = _stream(ole, [*here, "__substg1.0_37010102"])
        if data is None or method == 5:
            continue
        name = next((text for tag in (0x3707, 0x3001, 0x3704) if (text := _text(ole, here, tag).strip())),
                    f"attachment-{len(files) + 1}")
        media_type = _text(ole, here, 0x370E).strip().lower()
        content_id = _text(ole, here, 0x3712).strip()
        if flags & _ATT_RENDERED_IN_BODY and not content_id:
            content_id = "rendered-in-body"
        files.append(ContainedFile(name, data, media_type, content_id))


def _attachment_properties(ole, path: list[str]) -> tuple[int, int]:
    """PR_ATTACH_FLAGS and PR_ATTACH_METHOD from the attachment's fixed-size property stream ([MS-OXMSG] 2.4.2:
    an 8-byte header, then 16-byte entries of type, id, flags and value)."""
    raw = _stream(ole, [*path, "__properties_version1.0"]) or b""
    flags = method = 0
    for offset in range(8, len(raw) - 15, 16):
        kind, identifier, _flags, value = struct.unpack_from("<HHII", raw, offset)
        if kind == 0x0003 and identifier == _ATTACH_FLAGS:
            flags = value
        elif kind == 0x0003 and identifier == _ATTACH_METHOD:
            method = value
    return flags, method


def _stream(ole, path: list[str]) -> bytes | None:
    name = "/".join(path)
    if not ole.exists(name) or ole.get_type(name) != 2:  # 2: a stream
        return None
    with ole.openstream(name) as stream:
        return stream.read()


def _text(ole, path: list[str], tag: int) -> str:
    """A string property: UTF-16 (`…001F`) or 8-bit (`…001E`, windows-1250 being what Polish Outlook writes)."""
    unicode = _stream(ole, [*path, f"__substg1.0_{tag:04X}001F"])
    if unicode is not None:
        return unicode.decode("utf-16-le", "replace").split("\0", 1)[0]
    eight_bit = _stream(ole, [*path, f"__substg1.0_{tag:04X}001E"])
    if eight_bit is not None:
        return eight_bit.split(b"\0", 1)[0].decode("cp1250", "replace")
    return ""
