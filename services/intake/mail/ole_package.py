"""A file wrapped as an OLE Package object: what Windows makes of a file inserted into a Rich Text mail. Pure.

In Outlook's Rich Text editor (and in WordPad or an old Word), "Insert > Object > Create from file" does not attach
the file: it wraps it in an OLE object of the Packager, shown as an icon in the text, and the mail carries that
object (inside winmail.dat as a storage object, inside a .msg as an attachment storage). The file itself is in
the object's `\\x01Ole10Native` stream, in the Packager's format (read as oletools' `OleNativeStream` reads it):

    u32 size, u16 type (2), label\\0, source path\\0, u32, u32 n, temp path (n bytes), u32 data size, data,
    then, from newer Packagers, the temp path, label and source path again as u32 length + UTF-16.

The label is the file's name (in the Windows code page: Polish Windows writes cp1250, Outlook says which in the
TNEF stream). A linked file (no data) or a damaged stream gives None.
"""

from __future__ import annotations

import io
import logging
import ntpath

from services.intake.mail.bytereader import ByteReader

log = logging.getLogger("uwagi.intake.mail")

NATIVE_STREAM = "\x01Ole10Native"
_PACKAGE = 2


def file_in_storage(storage: bytes, codepage: str = "cp1252") -> tuple[str, bytes, str] | None:
    """The file in an OLE object given as a compound file (the object's storage): (name, bytes, media type).

    A Package gives the file it wraps; a picture pasted into the Rich Text (the static picture object Outlook
    makes of it, its `CONTENTS` a whole BMP file) gives `picture.bmp`, so a photographed form pasted into the
    text is read as a scan; anything else (a chart, a linked file, a damaged storage) gives None.
    """
    import olefile

    if not storage.startswith(olefile.MAGIC):
        return None
    try:
        with olefile.OleFileIO(io.BytesIO(storage)) as ole:
            native = _stream(ole, NATIVE_STREAM)
            if native is not None:
                package = package_file(native, codepage)
                return (*package, "") if package is not None else None
            contents = _stream(ole, "CONTENTS")
            if contents is not None and contents.startswith(b"BM"):
                return "picture.bmp", contents, "image/bmp"
            return None
    except Exception as error:  # noqa: BLE001 - olefile raises whatever a damaged file makes it meet
        log.info("OLE object not read: %s: %s", type(error).__name__, error)
        return None


def _stream(ole, name: str) -> bytes | None:
    import olefile

    if not ole.exists(name) or ole.get_type(name) != olefile.STGTY_STREAM:
        return None
    with ole.openstream(name) as stream:
        return stream.read()


def package_file(native: bytes, codepage: str = "cp1252") -> tuple[str, bytes] | None:
    """The name and bytes of the file in a Packager's `\\x01Ole10Native` stream; None if it holds none."""
    reader = ByteReader(native)
    try:
        declared = reader.u32()
        if declared + 4 < len(native):
            reader = ByteReader(native[:declared + 4])
            reader.u32()
        if reader.u16() != _PACKAGE:
            return None
        label, source = reader.cstring(), reader.cstring()
        reader.u32()
        reader.take(reader.u32())  # the temp path the Packager copied the file to
        data = reader.take(reader.u32())
    except ValueError:
        return None
    names = [label.decode(codepage, "replace"), source.decode(codepage, "replace")]
    try:  # the newer Packager's UTF-16 copies: temp path, label, source path
        reader.take(2 * reader.u32())
        names.insert(0, reader.take(2 * reader.u32()).decode("utf-16-le", "replace"))
    except ValueError:
        pass
    name = next((base for candidate in names if (base := ntpath.basename(candidate.strip("\0 ")).strip())), "")
    if not data or not name:
        return None
    return name, data

