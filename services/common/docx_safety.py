"""Checks an office package (DOCX, ODT) before anything parses it.

Shared by the document engine (uploaded drafts) and intake (mailed comment forms).
The check is cheap first (size, magic bytes, the zip directory's declared sizes)
and only then streams each member through a decompressor with a hard cap on
the bytes actually produced, so a lying zip header cannot exhaust memory. XML
parts are scanned for DTDs while streaming; nothing is parsed here.
"""

from __future__ import annotations

import functools
import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass

from lxml import etree

from services.common.xmltree import parse_untrusted_xml


OLE_COMPOUND_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_CHUNK = 1 << 20
_DTD_MARKERS = (b"<!doctype", b"<!entity")
_DTD_MARKERS_UTF16 = tuple(marker.decode().encode("utf-16-le") for marker in _DTD_MARKERS)
_MACRO_NAME_MARKERS = ("vbaproject", "vbadata", "activex")
_MACRO_CONTENT_TYPE_MARKERS = (b"macroenabled", b"vbaproject", b"ms-office.activex", b"ms-word.vba")
# The one content type registered for an Excel binary workbook (.xlsb) says "macroEnabled" whether it holds macros
# or not; Word embeds one for a chart or a table pasted from Excel. Such a part is looked into instead
# (`_binary_workbooks_without_code`), and refused when it holds a VBA project.
_BINARY_WORKBOOK = re.compile(rb"application/vnd\.ms-excel\.sheet\.binary\.macroenabled\.12", re.IGNORECASE)
# XML 1.0 forbids these characters: text with them must not corrupt (or fail to write) a package we generate.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry (lxml refuses them with a ValueError)."""
    return _XML_INVALID.sub("", text)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 25 * 1024 * 1024
    max_members: int = 500
    max_total_uncompressed: int = 250 * 1024 * 1024
    max_member_ratio: int = 200
    ratio_applies_above: int = 1024 * 1024


class PackageRejected(Exception):
    """The package is unsafe or not of the expected kind; `code` is stable, messages in English and Polish."""

    def __init__(self, code: str, message: str, message_pl: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.message_pl = message_pl


def _reject(code: str, message: str, message_pl: str) -> PackageRejected:
    return PackageRejected(code, message, message_pl)


def check_docx(data: bytes, *, max_bytes: int = Limits.max_bytes, filename: str | None = None,
               limits: Limits | None = None) -> None:
    """Raise `PackageRejected` unless `data` is a plain, safe DOCX package.

    Codes: too_large, encrypted, legacy_format (Word or Excel 97–2003), strict_ooxml, not_zip (its message names a PDF, scan,
    RTF or web page), not_docx (names the package it is, e.g. an .odt), too_many_members, unsafe_name (a member
    outside the package: "../x", "/x", "C:x"), zip_bomb, damaged (e.g. a CRC mismatch after a
    lying size header), macros (by name, content type or relationship, whatever the XML
    encoding), dtd.
    """
    if filename and filename.lower().endswith((".docm", ".dotm")):
        raise _reject("macros", "Macro-enabled documents (.docm) are not accepted.",
                      "Dokumenty z makrami (.docm) nie są przyjmowane.")
    _check_package(data, DOCX, limits or Limits(max_bytes=max_bytes))


def check_odt(data: bytes, *, max_bytes: int = Limits.max_bytes, limits: Limits | None = None) -> None:
    """Raise `PackageRejected` unless `data` is a plain, safe OpenDocument text (ODT): the same codes as
    `check_docx`, with `not_odt`; Basic or script libraries and event listeners count as macros."""
    _check_package(data, ODT, limits or Limits(max_bytes=max_bytes))


def check_xlsx(data: bytes, *, max_bytes: int = Limits.max_bytes, filename: str | None = None,
               limits: Limits | None = None) -> None:
    """Raise `PackageRejected` unless `data` is a plain, safe Excel workbook (XLSX): the same codes as
    `check_docx`, with `not_xlsx`; .xlsm and a workbook declaring VBA count as macros."""
    if filename and filename.lower().endswith((".xlsm", ".xltm")):
        raise _reject("macros", "Macro-enabled workbooks (.xlsm) are not accepted.",
                      "Skoroszyty z makrami (.xlsm) nie są przyjmowane.")
    _check_package(data, XLSX, limits or Limits(max_bytes=max_bytes))


def check_ods(data: bytes, *, max_bytes: int = Limits.max_bytes, limits: Limits | None = None) -> None:
    """Raise `PackageRejected` unless `data` is a plain, safe OpenDocument spreadsheet (ODS): as `check_odt`,
    with `not_ods`."""
    _check_package(data, ODS, limits or Limits(max_bytes=max_bytes))


@dataclass(frozen=True)
class _Kind:
    name: str
    required: tuple[str, ...]
    not_kind_code: str
    not_kind_message: str
    not_kind_message_pl: str
    macro_name_markers: tuple[str, ...]
    macro_content_markers: tuple[bytes, ...]
    title: str  # what the user is asked for, in a sentence
    title_pl: str


DOCX = _Kind("docx", ("[Content_Types].xml",), "not_docx",  # and a main document part: `main_document_part`
             "The zip package is not a Word document (no word/document.xml).",
             "Paczka zip nie jest dokumentem Word (brak word/document.xml).",
             _MACRO_NAME_MARKERS, (), "a Word document (.docx)", "dokument Word (.docx)")
XLSX = _Kind("xlsx", ("[Content_Types].xml", "xl/workbook.xml"), "not_xlsx",
             "The zip package is not an Excel workbook (no xl/workbook.xml).",
             "Paczka zip nie jest skoroszytem Excel (brak xl/workbook.xml).",
             _MACRO_NAME_MARKERS, (), "an Excel workbook (.xlsx)", "skoroszyt Excel (.xlsx)")
ODT = _Kind("odt", ("mimetype", "content.xml"), "not_odt",
            "The zip package is not an OpenDocument text (no content.xml).",
            "Paczka zip nie jest dokumentem OpenDocument (brak content.xml).",
            ("basic/", "scripts/", "vbaproject", "activex"), (b"<script:event-listener", b"<office:script "),
            "an OpenDocument text (.odt)", "dokument OpenDocument (.odt)")
ODS = _Kind("ods", ODT.required, "not_ods",
            "The zip package is not an OpenDocument spreadsheet (no content.xml).",
            "Paczka zip nie jest arkuszem OpenDocument (brak content.xml).",
            ODT.macro_name_markers, ODT.macro_content_markers,
            "an OpenDocument spreadsheet (.ods)", "arkusz OpenDocument (.ods)")

# What people send instead of the package asked for, recognised by their first bytes so that the answer can say
# what to do: (test, what it is in English and in Polish, whether an editor saves it as the package asked for).
_OTHER_FORMATS = (
    (lambda head: head.startswith(b"%PDF"), "a PDF", "PDF", False),
    (lambda head: head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")),
     "an image (a scan or a photograph)", "obraz (skan lub zdjęcie)", False),
    (lambda head: head.startswith(b"{\\rtf"), "an RTF document", "dokument RTF", True),
    (lambda head: head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith((b"<!doctype html", b"<html")),
     "a web page (HTML)", "strona internetowa (HTML)", True),
)
# Streams of a compound (OLE) file that tell what it holds, as their UTF-16 names in its directory, checked in
# this order (a password-protected OOXML file has no Word stream; a .doc may embed a workbook).
_OLE_STREAMS = (("EncryptedPackage", "encrypted"), ("WordDocument", "word"), ("Workbook", "excel"))
_OLE_TITLES = {"word": ("a Word 97–2003 document (.doc)", "dokument Word 97–2003 (.doc)"),
               "excel": ("an Excel 97–2003 workbook (.xls)", "skoroszyt Excel 97–2003 (.xls)")}
# The office packages, by the member that only each of them has (the mimetype member names the ODF kind).
_PACKAGE_MARKERS = (
    ("word/document.xml", DOCX), ("xl/workbook.xml", XLSX), ("ppt/presentation.xml", None),
)
_ODF_MIMETYPES = {b"application/vnd.oasis.opendocument.text": ODT,
                  b"application/vnd.oasis.opendocument.spreadsheet": ODS}


def _save_as(kind: _Kind, what: str, what_pl: str, convertible: bool = True) -> tuple[str, str]:
    if not convertible:
        return (f"The file is {what}, from which no document structure can be read; send {kind.title}, "
                "the file it was made from.",
                f"Plik to {what_pl}, z którego nie da się odczytać struktury dokumentu; prześlij {kind.title_pl}, "
                "z którego powstał.")
    return (f"The file is {what}; open it, save it as {kind.title} with File → Save as, and send that.",
            f"Plik to {what_pl}; otwórz go, zapisz jako {kind.title_pl} poleceniem Plik → Zapisz jako i prześlij.")


def _check_package(data: bytes, kind: _Kind, limits: Limits) -> None:
    if len(data) > limits.max_bytes:
        raise _reject("too_large", f"The file is larger than {limits.max_bytes // (1024 * 1024)} MB.",
                      f"Plik jest większy niż {limits.max_bytes // (1024 * 1024)} MB.")
    if data[:8] == OLE_COMPOUND_MAGIC:
        raise _compound_file(data, kind)
    if not data.startswith(b"PK"):
        raise _not_zip(data, kind)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise _not_zip(data, kind) from None
    with archive:
        infos = archive.infolist()
        _check_directory(infos, limits, kind, archive)
        _check_members(archive, infos, limits, kind)
        if kind in (DOCX, XLSX):
            _check_declarations(archive, infos)


def compound_file_kind(data: bytes) -> str | None:
    """What an OLE compound file holds: "word" (Word 97–2003), "excel" (Excel 97–2003), "encrypted" (a
    password-protected OOXML file), "other" (an Outlook item, PowerPoint …); None for no compound file."""
    if not data.startswith(OLE_COMPOUND_MAGIC):
        return None
    return next((kind for stream, kind in _OLE_STREAMS if stream.encode("utf-16-le") in data), "other")


def _compound_file(data: bytes, kind: _Kind) -> PackageRejected:
    """An OLE compound file: Office's older binary formats, and the wrapper of a password-protected OOXML."""
    legacy = _OLE_TITLES.get(compound_file_kind(data) or "")
    if legacy is not None:
        return _reject("legacy_format", *_save_as(kind, *legacy))
    return _reject("encrypted", f"The file is encrypted or password-protected; remove the password and save it as "
                   f"{kind.title}.", f"Plik jest zaszyfrowany lub chroniony hasłem; usuń hasło i zapisz go jako "
                   f"{kind.title_pl}.")


def _not_zip(data: bytes, kind: _Kind) -> PackageRejected:
    head = data[:512]
    for matches, what, what_pl, convertible in _OTHER_FORMATS:
        if matches(head):
            return _reject("not_zip", *_save_as(kind, what, what_pl, convertible))
    return _reject("not_zip", f"The file is not a zip package, so it is not {kind.title}.",
                   f"Plik nie jest paczką zip, więc nie jest to {kind.title_pl}.")


def _another_package(archive: zipfile.ZipFile, names: set[str], kind: _Kind) -> PackageRejected:
    """A zip package of another kind than asked for (an .odt sent for a .docx, a workbook for a document)."""
    other: _Kind | None = None
    if "mimetype" in names:
        with archive.open("mimetype") as member:
            other = _ODF_MIMETYPES.get(member.read(100).strip())
    for marker, package in _PACKAGE_MARKERS:
        if other is None and marker in names:
            if package is None:
                return _reject(kind.not_kind_code, *_save_as(kind, "a PowerPoint presentation",
                                                             "prezentacja PowerPoint"))
            other = package
    if other is None or other is kind:
        return _reject(kind.not_kind_code, kind.not_kind_message, kind.not_kind_message_pl)
    return _reject(kind.not_kind_code, *_save_as(kind, other.title, other.title_pl))


def _zip_bomb(detail: str) -> PackageRejected:
    return _reject("zip_bomb", f"The package looks like a zip bomb: {detail}.",
                   f"Paczka wygląda na bombę zip: {detail}.")


def _check_directory(infos: list[zipfile.ZipInfo], limits: Limits, kind: _Kind,
                     archive: zipfile.ZipFile) -> None:
    if len(infos) > limits.max_members:
        raise _reject("too_many_members", f"The package has {len(infos)} parts (limit {limits.max_members}).",
                      f"Paczka ma {len(infos)} części (limit {limits.max_members}).")
    names = {info.filename for info in infos}
    for name in sorted(names):
        if not is_safe_member_name(name):
            raise _reject("unsafe_name", f"The package has a part outside the document ({name!r}).",
                          f"Paczka zawiera część spoza dokumentu ({name!r}).")
    ambiguous = _ambiguous_name(infos)
    if ambiguous is not None:
        raise _reject("unsafe_name", f"The package names a part twice or in two ways ({ambiguous!r}), so programs "
                      "would read different documents from it.", f"Paczka nazywa część dwa razy lub na dwa "
                      f"sposoby ({ambiguous!r}), więc różne programy odczytałyby z niej różne dokumenty.")
    if any(info.flag_bits & 0x1 for info in infos):
        raise _reject("encrypted", "The package is encrypted.", "Paczka jest zaszyfrowana.")
    if any(required not in names for required in kind.required) or \
            kind is DOCX and main_document_part(archive, names) is None:
        raise _another_package(archive, names, kind)
    for name in names:
        lowered = name.lower()
        if any(marker in lowered for marker in kind.macro_name_markers):
            raise _reject("macros", f"The document contains macros or embedded code ({name}).",
                          f"Dokument zawiera makra lub osadzony kod ({name}).")
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_uncompressed:
        raise _zip_bomb(f"declared uncompressed size {total} bytes")
    for info in infos:
        if info.file_size > limits.ratio_applies_above and \
                info.file_size > limits.max_member_ratio * max(info.compress_size, 1):
            raise _zip_bomb(f"{info.filename} expands {info.file_size // max(info.compress_size, 1)}×")


def _ambiguous_name(infos: list[zipfile.ZipInfo]) -> str | None:
    """A part name that zip readers would resolve differently: two members with one name (part names are
    case-insensitive in a package; Python reads the last, other readers the first), or a member whose Info-ZIP
    Unicode Path field names another part than its name does (Python ignores the field, 7-Zip and unzip obey it:
    Apache POI's unicode-path.docx hides a second word/document.xml so)."""
    seen: set[str] = set()
    for info in infos:
        if info.filename.lower() in seen:
            return info.filename
        seen.add(info.filename.lower())
        unicode_name = _unicode_path(info)
        if unicode_name is not None and unicode_name != info.filename:
            return unicode_name
    return None


_UNICODE_PATH_FIELD = 0x7075


def _unicode_path(info: zipfile.ZipInfo) -> str | None:
    """The name in a member's Info-ZIP Unicode Path extra field, when the field belongs to the member's name (its
    CRC-32 is the name's, as readers check before they obey it) and that name is plain ASCII (a legacy-encoded
    name is what the field exists to correct); None otherwise."""
    if not info.filename.isascii():
        return None
    extra, position = info.extra, 0
    while position + 4 <= len(extra):
        field = int.from_bytes(extra[position:position + 2], "little")
        size = int.from_bytes(extra[position + 2:position + 4], "little")
        body = extra[position + 4:position + 4 + size]
        if field == _UNICODE_PATH_FIELD and len(body) > 5 and body[0] == 1 and \
                int.from_bytes(body[1:5], "little") == zlib.crc32(info.filename.encode("ascii")):
            return body[5:].decode("utf-8", "replace")
        position += 4 + size
    return None


MAIN_DOCUMENT = "word/document.xml"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_MAX_PACKAGE_RELATIONSHIPS = 64 * 1024


def main_document_part(archive: zipfile.ZipFile, names: set[str]) -> str | None:
    """The part a Word package keeps its document in: the one its `_rels/.rels` names (Word for the web saves it as
    word/document2.xml), if that is a part in word/ (whose relationships' relative targets a rename keeps), or else
    word/document.xml; None when there is neither."""
    try:
        with archive.open("_rels/.rels") as member:
            declared = member.read(_MAX_PACKAGE_RELATIONSHIPS + 1)
        relationships = parse_untrusted_xml(declared) if len(declared) <= _MAX_PACKAGE_RELATIONSHIPS else None
    except (KeyError, zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError,
            etree.XMLSyntaxError):
        relationships = None
    for relationship in relationships.iter() if relationships is not None else ():
        if relationship.get("Type") == _OFFICE_DOCUMENT and relationship.get("TargetMode") != "External":
            target = posixpath.normpath((relationship.get("Target") or "").lstrip("/"))
            if target in names and posixpath.dirname(target) == "word" and target.endswith(".xml"):
                return target
    return MAIN_DOCUMENT if MAIN_DOCUMENT in names else None


def with_usual_main_part(data: bytes) -> bytes:
    """A DOCX package, already through `check_docx`, with its document at word/document.xml, where every reader
    here and the engine's writer look for it. A package from Word for the web keeps it as word/document2.xml: it
    is repacked with that part and its relationships renamed, and the content type and package relationship that
    name it rewritten (a stale word/document.xml beside it, which Word ignores, is left out). Any other package
    comes back as it is."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        main = main_document_part(archive, set(archive.namelist()))
        if main is None or main == MAIN_DOCUMENT:
            return data
        renamed = {main: MAIN_DOCUMENT, f"word/_rels/{posixpath.basename(main)}.rels": "word/_rels/document.xml.rels"}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
            for info in archive.infolist():
                if info.filename in renamed.values():
                    continue
                content = archive.read(info)
                if info.filename in ("[Content_Types].xml", "_rels/.rels"):
                    content = _renaming_the_main_part(content, main)
                package.writestr(renamed.get(info.filename, info.filename), content)
    return buffer.getvalue()


def _renaming_the_main_part(declarations: bytes, main: str) -> bytes:
    """[Content_Types].xml or _rels/.rels with `main` called word/document.xml."""
    root = parse_untrusted_xml(declarations)
    for element in root.iter():
        if (element.get("PartName") or "").lower() == f"/{main}".lower():
            element.set("PartName", f"/{MAIN_DOCUMENT}")
        if element.get("Type") == _OFFICE_DOCUMENT:
            element.set("Target", MAIN_DOCUMENT)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def is_safe_member_name(name: str) -> bool:
    """A zip member that stays inside the package: relative, forward slashes, no "..", no drive, no NUL."""
    if not name or name.startswith("/") or "\\" in name or "\0" in name or re.match(r"^[A-Za-z]:", name):
        return False
    return all(segment not in ("..", ".") for segment in name.split("/"))


# Not "keyMapCustomizations": Word's customizations.xml holds the document's keyboard shortcuts (a key that types
# "§"), which may name a macro but hold no code; the code would be a vbaProject, refused by its own name and type.
_MACRO_RELATIONSHIPS = ("vbaproject", "vbadata", "activex", "vbaprojectsignature")


# Word's "Strict Open XML Document" (ISO/IEC 29500 strict): the same parts in other namespaces.
_STRICT_RELATIONSHIPS = "http://purl.oclc.org/ooxml/"


def _check_declarations(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """Content types and relationships, parsed by their declared encoding (UTF-8, UTF-16, …): no macro
    content type and no relationship to VBA or ActiveX, whatever the part holding it is called."""
    workbooks: list[str] = []  # embedded binary workbooks, by part name or extension, looked into below
    for info in infos:
        name = info.filename
        if name != "[Content_Types].xml" and not name.lower().endswith(".rels"):
            continue
        try:
            root = parse_untrusted_xml(archive.read(info))
        except etree.XMLSyntaxError:
            raise _reject("damaged", f"The package is damaged ({name}).",
                          f"Paczka jest uszkodzona ({name}).") from None
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            content_type = (element.get("ContentType") or "").lower()
            if (element.get("Type") or "").startswith(_STRICT_RELATIONSHIPS):
                raise _reject("strict_ooxml", "The document was saved as Strict Open XML, which is not read here; "
                              "save it as a plain Word document (.docx) with File → Save as.",
                              "Dokument zapisano w formacie „Strict Open XML”, którego nie odczytujemy; zapisz go "
                              "jako zwykły dokument Word (.docx) poleceniem Plik → Zapisz jako.")
            relationship = (element.get("Type") or "").lower().rsplit("/", 1)[-1]
            if name == "[Content_Types].xml" and _BINARY_WORKBOOK.fullmatch(content_type.encode()):
                workbooks.append(element.get("PartName") or f".{element.get('Extension') or ''}")
                continue
            if any(marker.decode() in content_type for marker in _MACRO_CONTENT_TYPE_MARKERS) or \
                    any(marker in relationship for marker in _MACRO_RELATIONSHIPS) or relationship == "control":
                raise _reject("macros", f"The document contains macros or embedded code (declared in {name}).",
                              f"Dokument zawiera makra lub osadzony kod (zadeklarowane w {name}).")
    _binary_workbooks_without_code(archive, infos, workbooks)


def _binary_workbooks_without_code(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], declared: list[str]) -> None:
    """Refuse an embedded binary workbook (declared by part name or by extension) that holds a VBA project or is
    no package at all; its members were already read within the package's limits."""
    names = {"/" + info.filename.lower(): info for info in infos}
    for declaration in (entry.lower() for entry in declared):
        members = [info for key, info in names.items() if key == declaration
                   or (declaration.startswith(".") and key.endswith(declaration))]
        for info in members:
            try:
                with zipfile.ZipFile(io.BytesIO(archive.read(info))) as workbook:
                    code = any(marker in member.lower() for member in workbook.namelist()
                               for marker in _MACRO_NAME_MARKERS)
            except (zipfile.BadZipFile, ValueError, EOFError, OSError):
                code = True  # what calls itself a workbook and is none may be anything
            if code:
                raise _reject("macros", f"The document contains macros or embedded code ({info.filename}).",
                              f"Dokument zawiera makra lub osadzony kod ({info.filename}).")


def _check_members(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits, kind: _Kind) -> None:
    produced = 0
    for info in infos:
        is_xml = info.filename.lower().endswith((".xml", ".rels"))
        budget = min(info.file_size, limits.max_total_uncompressed - produced)
        try:
            produced += _stream_member(archive, info, budget, is_xml, kind)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                NotImplementedError, RuntimeError) as error:
            if isinstance(error, PackageRejected):
                raise
            raise _reject("damaged", f"The package is damaged ({info.filename}).",
                          f"Paczka jest uszkodzona ({info.filename}).") from None


def _stream_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, is_xml: bool, kind: _Kind) -> int:
    """Decompress one member in chunks; count real bytes and scan XML for DTDs."""
    produced = 0
    tail = b""
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                return produced
            produced += len(chunk)
            if produced > budget:
                raise _zip_bomb(f"{info.filename} decompresses beyond its declared size")
            if is_xml:
                window = tail + chunk
                _scan_xml_window(info.filename, window, kind)
                tail = window[-32:]


@functools.lru_cache(maxsize=None)
def _any_of(markers: tuple[bytes, ...]) -> re.Pattern[bytes] | None:
    """One case-insensitive pass for all markers (ASCII letters fold, UTF-16 NULs stay): no lowered copy."""
    return re.compile(b"|".join(re.escape(marker) for marker in markers), re.IGNORECASE) if markers else None


def _found(markers: tuple[bytes, ...], window: bytes) -> bool:
    pattern = _any_of(markers)
    return pattern is not None and pattern.search(window) is not None


def _scan_xml_window(name: str, window: bytes, kind: _Kind) -> None:
    if _found(_DTD_MARKERS + _DTD_MARKERS_UTF16, window):
        raise _reject("dtd", f"The part {name} declares a DOCTYPE or entities, which are not allowed.",
                      f"Część {name} zawiera deklarację DOCTYPE lub encji, co jest niedozwolone.")
    if name == "[Content_Types].xml" and _found(_MACRO_CONTENT_TYPE_MARKERS, _BINARY_WORKBOOK.sub(b"", window)):
        raise _reject("macros", "The document declares macro-enabled content.",
                      "Dokument deklaruje zawartość z makrami.")
    if _found(kind.macro_content_markers, window):
        raise _reject("macros", f"The document contains macros or scripts ({name}).",
                      f"Dokument zawiera makra lub skrypty ({name}).")
