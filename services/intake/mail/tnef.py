"""The files inside Outlook's winmail.dat (TNEF, [MS-OXTNEF]). Pure: bytes in, files out.

Outlook sends a mail written in Rich Text as a text part and a `winmail.dat` (application/ms-tnef) that holds
the real attachments; no other client opens it, so a form attached that way was never read. This reads the
attachments' names and bytes and nothing else (the RTF body, recipients and properties are left alone):

- an attachment starts at its rendering data (`attAttachRendData`); its bytes are `attAttachData`, or the
  `PR_ATTACH_DATA_OBJ` binary property where Outlook put them there; its name is the long file name property
  (`PR_ATTACH_LONG_FILENAME`, else `PR_DISPLAY_NAME`) of its property block (`attAttachment`), else the 8.3 title
  (`attAttachTitle`) in the message's OEM code page;
- an object in `PR_ATTACH_DATA_OBJ` starts with its interface's GUID: a mail attached to the mail (IID_IMessage, an
  Outlook item forwarded as an attachment) is a TNEF stream of its own, whose files come out, marked forwarded, a
  few levels deep (its `attAttachData` is only Outlook's stub "This attachment is a MAPI 1.0 embedded message");
  a storage (IID_IStorage) gives the file of an OLE Package, a file inserted into the Rich Text as an object, or
  the BMP of a picture pasted into it (`ole_package`); other objects give nothing;
- a damaged stream gives what was read before the damage. Every length is checked against what is left, so
  a stream cannot claim more than it holds, and at most `MAX_FILES` files come out.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace

from services.intake.mail.bytereader import ByteReader
from services.intake.mail.ole_package import file_in_storage

SIGNATURE = 0x223E9F78
MAX_FILES = 50
MAX_DEPTH = 3  # mails attached to mails attached to the mail
_IID_IMESSAGE = bytes.fromhex("0703020000000000c000000000000046")
_IID_ISTORAGE = bytes.fromhex("0b00000000000000c000000000000046")

_LEVEL_MESSAGE, _LEVEL_ATTACHMENT = 1, 2
_ATT_ATTACH_DATA, _ATT_ATTACH_TITLE, _ATT_RENDDATA, _ATT_ATTACHMENT, _ATT_OEM_CODEPAGE = (
    0x800F, 0x8010, 0x9002, 0x9005, 0x9007)
_PR_ATTACH_DATA_OBJ, _PR_ATTACH_LONG_FILENAME, _PR_ATTACH_FILENAME, _PR_DISPLAY_NAME, _PR_ATTACH_MIME_TAG = (
    0x3701, 0x3707, 0x3704, 0x3001, 0x370E)
_PR_ATTACH_CONTENT_ID = 0x3712
_PT_STRING8, _PT_UNICODE, _PT_BINARY, _PT_OBJECT, _PT_CLSID = 0x001E, 0x001F, 0x0102, 0x000D, 0x0048
_MULTI = 0x1000
_FIXED_SIZES = {0x0001: 0, 0x0002: 4, 0x0003: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8, 0x000A: 4,
                0x000B: 4, 0x0014: 8, 0x0040: 8, _PT_CLSID: 16}


@dataclass(frozen=True)
class ContainedFile:
    filename: str
    data: bytes
    media_type: str = ""
    content_id: str = ""  # set for a picture shown inside the Rich Text body (a signature's logo)
    forwarded: bool = False  # it came from a mail attached to the mail


@dataclass(frozen=True)
class _Object:
    """A `PT_OBJECT` value: the interface's GUID, then the object's bytes."""

    raw: bytes


@dataclass
class _Attachment:
    title: str = ""
    data: bytes | None = None
    properties: dict[int, object] = field(default_factory=dict)

    def file(self, number: int) -> ContainedFile | None:
        data = self.data
        if data is None and isinstance(self.properties.get(_PR_ATTACH_DATA_OBJ), bytes):
            data = self.properties[_PR_ATTACH_DATA_OBJ]
        if data is None:
            return None
        name = next((value for key in (_PR_ATTACH_LONG_FILENAME, _PR_DISPLAY_NAME, _PR_ATTACH_FILENAME)
                     if isinstance(value := self.properties.get(key), str) and value.strip()), "") or self.title
        media_type, content_id = self.properties.get(_PR_ATTACH_MIME_TAG), self.properties.get(_PR_ATTACH_CONTENT_ID)
        return ContainedFile(name.strip() or f"attachment-{number}", data,
                        media_type.strip().lower() if isinstance(media_type, str) else "",
                        content_id.strip() if isinstance(content_id, str) else "")


def is_tnef(data: bytes) -> bool:
    return len(data) >= 6 and struct.unpack_from("<I", data)[0] == SIGNATURE


def tnef_files(data: bytes, *, depth: int = 0) -> list[ContainedFile]:
    """The attached files of a TNEF stream, in order; [] for anything that is not one."""
    if not is_tnef(data):
        return []
    codepage = "cp1252"
    attachments: list[_Attachment] = []
    offset = 6  # signature, legacy key
    while offset + 9 <= len(data) and len(attachments) <= MAX_FILES:
        level, attribute, length = struct.unpack_from("<BII", data, offset)
        start = offset + 9
        if length > len(data) - start:
            break  # cut off, or garbage after the last attribute
        payload = data[start:start + length]
        offset = start + length + 2  # and its checksum, not checked: Outlook's own readers do not either
        identifier = attribute & 0xFFFF
        if level == _LEVEL_MESSAGE and identifier == _ATT_OEM_CODEPAGE and len(payload) >= 4:
            codepage = _codepage(struct.unpack_from("<I", payload)[0])
        elif level == _LEVEL_ATTACHMENT:
            if identifier == _ATT_RENDDATA or not attachments:
                attachments.append(_Attachment())
            current = attachments[-1]
            if identifier == _ATT_ATTACH_TITLE:
                current.title = payload.split(b"\0", 1)[0].decode(codepage, "replace")
            elif identifier == _ATT_ATTACH_DATA:
                current.data = payload
            elif identifier == _ATT_ATTACHMENT:
                current.properties = _properties(payload, codepage)
    files: list[ContainedFile] = []
    for number, attachment in enumerate(attachments[:MAX_FILES], start=1):
        embedded = attachment.properties.get(_PR_ATTACH_DATA_OBJ)
        if isinstance(embedded, _Object):
            files.extend(_object_files(embedded.raw, codepage, depth))
        elif (file := attachment.file(number)) is not None:
            files.append(file)
    return files[:MAX_FILES]


def _object_files(raw: bytes, codepage: str, depth: int) -> list[ContainedFile]:
    interface, body = raw[:16], raw[16:]
    if interface == _IID_IMESSAGE and depth + 1 < MAX_DEPTH:
        return [replace(file, forwarded=True) for file in tnef_files(body, depth=depth + 1)]
    if interface == _IID_ISTORAGE and (found := file_in_storage(body, codepage)) is not None:
        name, data, media_type = found
        # a picture pasted into the text is shown there, as a signature's logo is (the mail reader keeps big ones)
        return [ContainedFile(name, data, media_type, "rendered-in-body" if media_type.startswith("image/") else "")]
    return []


def _codepage(number: int) -> str:
    name = f"cp{number}"
    try:
        "".encode(name)
    except LookupError:
        return "cp1252"
    return name


def _properties(block: bytes, codepage: str) -> dict[int, object]:
    """The properties of an attachment's MAPI block ([MS-OXTNEF] 2.1.3.4) that name and hold its file: strings
    and binaries; other values are skipped by their size. Reading stops at the first inconsistency."""
    found: dict[int, object] = {}
    reader = ByteReader(block)
    try:
        for _ in range(reader.u32()):
            kind, identifier = reader.u16(), reader.u16()
            if identifier >= 0x8000:  # a named property: its GUID and name or number come first
                reader.skip(16)
                if reader.u32() == 0:
                    reader.skip(4)
                else:
                    reader.skip(_padded(reader.u32()))
            base, multi = kind & ~_MULTI, bool(kind & _MULTI)
            if base in (_PT_STRING8, _PT_UNICODE, _PT_BINARY, _PT_OBJECT):
                values = []
                for _ in range(reader.u32()):
                    values.append(reader.take(_padded(length := reader.u32()))[:length])
                if values and not multi:
                    found[identifier] = _value(base, values[0], codepage)
            elif base in _FIXED_SIZES:
                count = reader.u32() if multi else 1
                reader.skip(_FIXED_SIZES[base] * count)
            else:
                break  # a type this reader does not know: its size is unknown, so nothing after it can be read
    except ValueError:
        pass
    return found


def _value(kind: int, raw: bytes, codepage: str) -> object:
    if kind == _PT_UNICODE:
        return raw.decode("utf-16-le", "replace").split("\0", 1)[0]
    if kind == _PT_STRING8:
        return raw.split(b"\0", 1)[0].decode(codepage, "replace")
    if kind == _PT_OBJECT:
        return _Object(raw)
    return raw


def _padded(length: int) -> int:
    return (length + 3) & ~3

