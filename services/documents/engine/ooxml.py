"""Low-level OOXML helpers: namespaces, a hardened XML parser, and a deterministic
zip package writer.

Every XML part the engine reads goes through `parse_xml`, whose parser never
resolves entities, never loads a DTD and never touches the network. Every
package the engine writes goes through `write_package`, which gives
byte-identical output for identical parts: members in a fixed order, one fixed
timestamp, fixed compression settings.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass, field
from xml.sax.saxutils import escape as _sax_escape

from lxml import etree

from services.common.xmltree import parse_untrusted_xml

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
NSMAP = {"w": W_NS, "r": R_NS}
W = "{%s}" % W_NS

WML_NS_DECL = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"'
)
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
CT_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"
CT_SETTINGS = "application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"
CT_NUMBERING = "application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml"
CT_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"
CT_CORE = "application/vnd.openxmlformats-package.core-properties+xml"
CT_APP = "application/vnd.openxmlformats-officedocument.extended-properties+xml"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"

# 1980-01-01 is the earliest date a zip entry can carry; callers may pass a
# date derived from their input instead (e.g. the consultation's end date).
DEFAULT_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_FIRST_MEMBERS = ("[Content_Types].xml", "_rels/.rels")


def parse_xml(data: bytes) -> etree._Element:
    """A part of a draft, which may hold a whole programme: the shared hardened parser without libxml2's size limits
    (the package is through `safety.check_docx`'s size checks before any part is parsed)."""
    return parse_untrusted_xml(data, huge_tree=True)


def xml_escape(text: str) -> str:
    """Escape text for element content and double-quoted attributes."""
    return _sax_escape(text, {'"': "&quot;"})


def read_package(data: bytes) -> dict[str, bytes]:
    """All members of a zip package, by name (call `check_docx` first)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()
                if not info.is_dir()}


def related_parts(parts: dict[str, bytes]) -> dict[str, bytes]:
    """The parts of the package graph: reachable from the package relationships through each part's
    relationships (internal targets that stay inside the package) and given a content type, with
    their .rels files and [Content_Types].xml. Anything else a zip holds is never copied on."""
    try:
        types = parse_xml(parts["[Content_Types].xml"])
    except (KeyError, etree.XMLSyntaxError):
        return dict(parts)
    defaults = {element.get("Extension", "").lower() for element in types.iter("{%s}Default" % CT_NS)}
    overrides = {element.get("PartName", "").lstrip("/") for element in types.iter("{%s}Override" % CT_NS)}

    def typed(name: str) -> bool:
        return name in overrides or name.rsplit(".", 1)[-1].lower() in defaults

    keep = {"[Content_Types].xml"}
    pending = [""]  # "" is the package itself, whose relationships are _rels/.rels
    seen = set()
    while pending:
        source = pending.pop()
        if source in seen:
            continue
        seen.add(source)
        folder, _, base = source.rpartition("/")
        rels_name = f"{folder + '/' if folder else ''}_rels/{base}.rels"
        if rels_name not in parts:
            continue
        keep.add(rels_name)
        try:
            relationships = parse_xml(parts[rels_name])
        except etree.XMLSyntaxError:
            continue
        for relationship in relationships.iter("{%s}Relationship" % REL_NS):
            if relationship.get("TargetMode") == "External":
                continue
            target = relationship.get("Target", "")
            joined = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            name = posixpath.normpath(joined)
            if name.startswith("../") or name == ".." or name not in parts or not typed(name):
                continue
            keep.add(name)
            pending.append(name)
    return {name: data for name, data in parts.items() if name in keep}


def _member_order(name: str) -> tuple:
    if name in _FIRST_MEMBERS:
        return (0, _FIRST_MEMBERS.index(name), "")
    return (1, 0, name)


def write_package(parts: dict[str, bytes], *, date_time: tuple = DEFAULT_ZIP_DATE,
                  compresslevel: int = 6) -> bytes:
    """Zip the parts deterministically: sorted members, one timestamp, fixed flags."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(parts, key=_member_order):
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            archive.writestr(info, parts[name], compresslevel=compresslevel)
    return buffer.getvalue()


@dataclass
class PackageBuilder:
    """Collects parts, relationships and content types of a new WordprocessingML package."""

    parts: dict[str, bytes] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=lambda: {
        "rels": CT_RELS, "xml": "application/xml"})
    document_rels: list[tuple[str, str, str]] = field(default_factory=list)

    def add_part(self, name: str, data: bytes | str, content_type: str | None = None,
                 rel_type: str | None = None) -> str:
        """Add a part under word/ (or the package root) and relate it to the document."""
        self.parts[name] = data.encode("utf-8") if isinstance(data, str) else data
        if content_type:
            self.overrides["/" + name] = content_type
        rel_id = ""
        if rel_type:
            rel_id = f"rId{len(self.document_rels) + 1}"
            target = name[len("word/"):] if name.startswith("word/") else name
            self.document_rels.append((rel_id, REL_TYPE + rel_type, target))
        return rel_id

    def add_default(self, extension: str, content_type: str) -> None:
        self.defaults[extension] = content_type

    def build(self, document_xml: str, core_xml: str, app_xml: str,
              date_time: tuple = DEFAULT_ZIP_DATE) -> bytes:
        parts = dict(self.parts)
        parts["word/document.xml"] = document_xml.encode("utf-8")
        parts["docProps/core.xml"] = core_xml.encode("utf-8")
        parts["docProps/app.xml"] = app_xml.encode("utf-8")
        overrides = {**self.overrides, "/word/document.xml": CT_MAIN,
                     "/docProps/core.xml": CT_CORE, "/docProps/app.xml": CT_APP}
        parts["[Content_Types].xml"] = content_types_xml(self.defaults, overrides).encode()
        parts["_rels/.rels"] = relationships_xml([
            ("rId1", REL_TYPE + "officeDocument", "word/document.xml"),
            ("rId2", "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
             "docProps/core.xml"),
            ("rId3", REL_TYPE + "extended-properties", "docProps/app.xml"),
        ]).encode()
        parts["word/_rels/document.xml.rels"] = relationships_xml(self.document_rels).encode()
        return write_package(parts, date_time=date_time)


def content_types_xml(defaults: dict[str, str], overrides: dict[str, str]) -> str:
    items = [f'<Default Extension="{ext}" ContentType="{ct}"/>' for ext, ct in sorted(defaults.items())]
    items += [f'<Override PartName="{name}" ContentType="{ct}"/>' for name, ct in sorted(overrides.items())]
    return f'{XML_DECL}<Types xmlns="{CT_NS}">{"".join(items)}</Types>'


def relationships_xml(relationships: list[tuple[str, str, str]]) -> str:
    items = [f'<Relationship Id="{rid}" Type="{rtype}" Target="{xml_escape(target)}"/>'
             for rid, rtype, target in relationships]
    return f'{XML_DECL}<Relationships xmlns="{REL_NS}">{"".join(items)}</Relationships>'


def core_properties_xml(title: str, creator: str, iso_datetime: str, language: str) -> str:
    """docProps/core.xml with caller-supplied dates, so builds stay reproducible."""
    return (
        f'{XML_DECL}<cp:coreProperties '
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<dc:title>{xml_escape(title)}</dc:title><dc:creator>{xml_escape(creator)}</dc:creator>'
        f'<cp:lastModifiedBy>{xml_escape(creator)}</cp:lastModifiedBy>'
        f'<dc:language>{language}</dc:language>'
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{iso_datetime}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{iso_datetime}</dcterms:modified>'
        '</cp:coreProperties>'
    )


def app_properties_xml() -> str:
    return (f'{XML_DECL}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            '<Application>Uwagi</Application></Properties>')


def zip_date_from_iso(iso: str | None) -> tuple:
    """A zip timestamp from an ISO date/datetime string; the default if absent or invalid."""
    if not iso:
        return DEFAULT_ZIP_DATE
    try:
        year, month, day = int(iso[0:4]), int(iso[5:7]), int(iso[8:10])
        hour = int(iso[11:13]) if len(iso) >= 13 else 0
        minute = int(iso[14:16]) if len(iso) >= 16 else 0
    except ValueError:
        return DEFAULT_ZIP_DATE
    if year < 1980:
        return DEFAULT_ZIP_DATE
    return (year, month, day, hour, minute, 0)
