"""The files of a ZIP archive attached to a mail ("uwagi.zip" holding the form and a letter). Pure.

Only a plain archive is opened: an office package (DOCX, XLSX, ODT …) is a zip too and is read as what it is.
Windows' "Send to > Compressed folder" writes names in the OEM code page (CP852 for Polish) without the UTF-8
flag, where the ZIP specification says IBM437: a name read as IBM437 that gives box-drawing characters is read
again as CP852 ("Formularz uwag ‚ó..." → "Formularz uwag ...ó..."). Limits: `MAX_FILES` members, `MAX_TOTAL`
bytes unpacked, each member's compression ratio at most `MAX_RATIO` (a zip bomb gives nothing), no archive
inside an archive; folders, hidden system files (macOS' `__MACOSX/`, `.DS_Store`, `Thumbs.db`) are skipped.
An encrypted or damaged archive gives nothing: it stays an attachment for staff to open.
"""

from __future__ import annotations

import io
import zipfile

from services.intake.mail.tnef import ContainedFile

MAX_FILES = 50
MAX_TOTAL = 50 * 1024 * 1024
MAX_RATIO = 200
_PACKAGE_MARKERS = ("[Content_Types].xml", "mimetype", "META-INF/manifest.xml")
_JUNK = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")


def is_plain_zip(data: bytes) -> bool:
    """A zip archive that is not an office package."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return not any(marker in names for marker in _PACKAGE_MARKERS)


def zip_files(data: bytes) -> list[ContainedFile]:
    return _members(data, keep_paths=False) if is_plain_zip(data) else []


def asic_container(data: bytes) -> list[ContainedFile] | None:
    """The signed files of an ASiC container (`.asice`, `.sce`, `.asics`: a zip whose `mimetype` says so, the
    documents beside their signatures in META-INF/, whose signers `signed.package_signers` reads); None for any
    other file."""
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("mimetype")
            if info.file_size > 100 or archive.read(info).strip() not in _ASIC_TYPES:
                return None
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        return None
    return [ContainedFile(m.filename.rsplit("/", 1)[-1], m.data) for m in _members(data, keep_paths=True)
            if not m.filename.startswith("META-INF/") and m.filename != "mimetype"]


_ASIC_TYPES = {b"application/vnd.etsi.asic-e+zip", b"application/vnd.etsi.asic-s+zip"}


def _members(data: bytes, *, keep_paths: bool) -> list[ContainedFile]:
    files: list[ContainedFile] = []
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist()[:MAX_FILES * 4]:
                name = _name(info)
                if info.is_dir() or any(junk in name for junk in _JUNK) or info.flag_bits & 0x1:
                    continue  # a folder, system clutter, or an encrypted member
                if info.file_size > MAX_TOTAL - total or info.file_size > MAX_RATIO * max(info.compress_size, 1):
                    return []  # a zip bomb, or more than a mail's files: nothing is taken from it
                content = archive.read(info)
                if len(content) != info.file_size or content.startswith(b"PK\x03\x04") and is_plain_zip(content):
                    continue  # a size that lied; an archive inside the archive is not opened
                total += len(content)
                files.append(ContainedFile(name if keep_paths else name.rsplit("/", 1)[-1], content))
                if len(files) >= MAX_FILES:
                    break
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        return []
    return files


def _name(info: zipfile.ZipInfo) -> str:
    """The member's name; one Windows wrote in CP852 (no UTF-8 flag, so read as IBM437) read again as CP852 when
    that gives Polish letters ("Formularz uwag ToruΣ.docx" → "Formularz uwag Toruń.docx")."""
    name = info.filename
    if info.flag_bits & 0x800 or name.isascii():  # the UTF-8 flag; or nothing to misread
        return name
    try:
        polish = name.encode("cp437").decode("cp852")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name
    return polish if any(char in _POLISH for char in polish) else name


_POLISH = frozenset("ąćęłńśźżĄĆĘŁŃŚŹŻ")
