"""What is inside an electronic signature: the document an NGO signed before mailing it, the mail Outlook signed.

In Poland a form is often signed before it is sent: with a qualified signature (Szafir, proCertum, SimplySign…)
or with the free "podpis zaufany" of gov.pl. Both can wrap the document in the signature:
- CAdES, a CMS SignedData with the file inside (`formularz.docx.p7m`, `.sig`, sometimes `.p7s`);
- XAdES "enveloping" (`formularz.docx.xades`, `.XAdES`), an XML signature whose `ds:Object` holds the file in
  base64; gov.pl's signer puts a file other than a PDF in ePUAP's `podpisanyPlik` XML instead;
- either in an ASiC container (`.asice`, `.sce`), beside its signature (`services.intake.mail.archive`).
A signed PDF (PAdES) is a PDF as any other; only who signed it is read here (`pdf_signers`).
Outlook's opaque-signed S/MIME mail (`smime.p7m`, smime-type=signed-data) is a CMS SignedData too, with the mail's
MIME text inside. Until the envelope is opened, the comments in it cannot be read.

This module takes the content out and names who signed it, as the signature says (the certificate's common name
and organisation, the person a "podpis zaufany" was made for; never the PESEL a Polish qualified certificate
carries as its serial number, nor any other personal number). It does **not** verify the signature: that needs
the national trust lists, and staff check it, where it matters, with the office's own tool. The envelope itself
is kept as it came.
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import mimetypes
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

from asn1crypto import cms, core, x509
from lxml import etree

from services.common.xmltree import parse_untrusted_xml
from services.intake.mail.form import form_kind

# A document signed in turn by several people comes wrapped once per signature (formularz.docx.p7m.p7m).
MAX_WRAPPINGS = 4
_SIGNED_DATA = "1.2.840.113549.1.7.2"
_SIGNED_DATA_DER = bytes.fromhex("06092a864886f70d010702")  # the OID as DER, near the start of a SignedData
_DS = "{http://www.w3.org/2000/09/xmldsig#}"
_EPUAP_SIGNED_FILE = "http://epuap.gov.pl/fe-model-web/wzor_lokalny/EPUAP-----/podpisanyPlik/"
_CRD_STRUCTURE = "http://crd.gov.pl/xml/schematy/struktura/2009/11/16/"
_BASE64_TRANSFORM = "http://www.w3.org/2000/09/xmldsig#base64"
# What a signing program adds to the signed file's name (a gov.pl signer's `.xml` included)
_ENVELOPE_EXTENSIONS = ("p7m", "p7s", "sig", "xades", "xml", "p7", "pkcs7", "cms")
_MAGIC = ((b"%PDF", ".pdf"), (b"\x89PNG", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"II*\x00", ".tif"),
          (b"MM\x00*", ".tif"))
# A personal number in a name: Estonia's ID card writes "SURNAME,GIVEN,37310170248", Brazil's "NAME:30773760830"
_PERSONAL_NUMBER = re.compile(r"\d{6}")


@dataclass(frozen=True)
class SignedContent:
    filename: str  # the signed file's name: as the signature records it, else the envelope's without its extension
    media_type: str  # "" when neither the signature nor the name says
    data: bytes
    signers: tuple[str, ...]  # who signed, as their certificates name them, outermost signature first


class _Encapsulated(core.Sequence):
    """EncapsulatedContentInfo read as plain octets whatever its eContentType claims (asn1crypto would parse the
    content again by its type, and fails on a signer that labels a text as SignedData)."""
    _fields = [("content_type", cms.ContentType), ("content", core.OctetString, {"explicit": 0, "optional": True})]


class _SignedData(core.Sequence):
    _fields = [("version", cms.CMSVersion), ("digest_algorithms", cms.DigestAlgorithms),
               ("encap_content_info", _Encapsulated),
               ("certificates", cms.CertificateSet, {"implicit": 0, "optional": True}),
               ("crls", cms.RevocationInfoChoices, {"implicit": 1, "optional": True}),
               ("signer_infos", cms.SignerInfos)]


class _ContentInfo(core.Sequence):
    _fields = [("content_type", cms.ContentType), ("content", core.Any, {"explicit": 0, "optional": True})]


# What asn1crypto and lxml raise on bytes that are not what they claim to be; a hostile envelope is no envelope.
_UNREADABLE = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError,
               binascii.Error, etree.LxmlError)


def signed_content(filename: str, data: bytes, media_type: str = "") -> SignedContent | None:
    """The file a signature envelope holds, unwrapped however many times it was signed; None for anything else
    (a detached signature, an encrypted envelope, a file that is no signature)."""
    found: SignedContent | None = None
    name, signers = filename, ()
    for _ in range(MAX_WRAPPINGS):
        opened = _open(data)
        if opened is None or opened[0] is None:
            break
        data, recorded, inner_type, new_signers = opened
        signers += tuple(s for s in new_signers if s not in signers)
        name = _signed_name(recorded, name, data, inner_type)
        found = SignedContent(name, inner_type or mimetypes.guess_type(name)[0] or "", data, signers)
    return found


def everyone_named(signers: Iterable[Iterable[str]]) -> tuple[str, ...]:
    """Each name of the files' signers once, in the order the files name them: who signed what a submission
    came in (several files signed by one NGO name it once)."""
    return tuple(dict.fromkeys(name for names in signers for name in names))


def signature_signers(data: bytes) -> tuple[str, ...]:
    """Who made a signature, with or without the file inside: a detached one (`smime.p7s` of a signed mail,
    `formularz.docx.xades` beside the form) names its signers too; () for anything else."""
    opened = _open(data)
    return opened[3] if opened is not None else ()


def is_signature_envelope(data: bytes) -> bool:
    """Whether `data` looks like a CMS SignedData or an XML signature at all (read or not)."""
    return _cms_bytes(data) is not None or _looks_like_xml_signature(data)


# -- Office's own signatures ---------------------------------------------------------------------------------------

def package_signers(data: bytes) -> tuple[str, ...]:
    """Who signed the files of a package: a Word, Excel or LibreOffice document signed with the program's own
    "sign" command (OOXML's `_xmlsignatures/sig*.xml`, ODF's `META-INF/documentsignatures.xml`) or an ASiC
    container (`META-INF/signature*.xml` or `.p7s`); () for a package no one signed, or for anything else."""
    if not data.startswith(b"PK\x03\x04"):
        return ()
    names: list[str] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            parts = [info for info in package.infolist() if _PACKAGE_SIGNATURE.fullmatch(info.filename)]
            for info in parts[:MAX_PACKAGE_SIGNATURES]:
                if info.file_size > MAX_PACKAGE_SIGNATURE_BYTES:
                    continue
                names.extend(name for name in signature_signers(package.read(info)) if name not in names)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        return tuple(names)
    return tuple(names)


MAX_PACKAGE_SIGNATURES = 10
MAX_PACKAGE_SIGNATURE_BYTES = 2 * 1024 * 1024
_PACKAGE_SIGNATURE = re.compile(r"_xmlsignatures/[^/]+\.xml|META-INF/[^/]*signatures?[^/]*\.(?:xml|p7s)", re.I)


# -- PAdES --------------------------------------------------------------------------------------------------------

def pdf_signers(data: bytes) -> tuple[str, ...]:
    """Who signed a PDF (PAdES, as gov.pl's "podpis zaufany" and qualified signers sign a PDF): the signature
    dictionary's /Name, else its certificate's; a document timestamp signs nothing. () for an unsigned PDF.

    A signature's /Contents cannot sit in a compressed object stream (its /ByteRange gives the bytes around it), so
    the gap /ByteRange leaves is exactly the CMS in hex, and its dictionary is the text around it."""
    if not data[:1024].lstrip().startswith(b"%PDF-") or b"/ByteRange" not in data:
        return ()
    names: list[str] = []
    encrypted = b"/Encrypt" in data
    for found in itertools.islice(_BYTE_RANGE.finditer(data), MAX_PDF_SIGNATURES):  # a hostile PDF may claim more
        start, end = int(found.group(2)), int(found.group(3))
        if not 0 < start < end <= len(data) or end - start > MAX_PDF_SIGNATURE_BYTES:
            continue
        before, after = data[max(0, start - 4096):start], data[end:end + 4096]
        before = before[before.rfind(b" obj") + 1:]  # the signature's own object, not the one before it
        after = after[:after.find(b"endobj")] if b"endobj" in after else after
        dictionary = before + after
        if b"/DocTimeStamp" in dictionary or b"ETSI.RFC3161" in dictionary:
            continue
        hexadecimal = re.sub(rb"[^0-9A-Fa-f]", b"", data[start:end])
        opened = _open_cms(bytes.fromhex(hexadecimal[:len(hexadecimal) // 2 * 2].decode()))
        if opened is None:
            continue  # no signature where the byte range says: nothing signed, whatever /Name claims
        name = "" if encrypted else _pdf_string_after(dictionary, b"/Name")  # an encrypted PDF's strings are too
        if not name or _PERSONAL_NUMBER.search(name):  # none, or an ID card's personal code in it
            name = opened[3][0] if opened[3] else ""
        if name and name not in names:
            names.append(name)
    return tuple(names)


MAX_PDF_SIGNATURES = 20
MAX_PDF_SIGNATURE_BYTES = 2 * 1024 * 1024  # a CMS with its chain, revocation data and timestamps, in hex
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s*\]")


def _pdf_string_after(dictionary: bytes, key: bytes) -> str:
    """A PDF text string: a literal one "(…)" with its escapes, or a hex one "<…>", in PDFDocEncoding or UTF-16."""
    found = re.search(re.escape(key) + rb"\s*(\((?:\\.|[^\\)]){0,400}\)|<[0-9A-Fa-f\s]{0,1600}>)", dictionary, re.S)
    if found is None:
        return ""
    token = found.group(1)
    if token.startswith(b"<"):
        digits = re.sub(rb"\s", b"", token[1:-1]).decode()
        raw = bytes.fromhex(digits + "0" * (len(digits) % 2))  # an odd last digit is followed by a 0
    else:
        raw = re.sub(rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m.group(1), 8) & 0xFF]) if m.group(1)[:1].isdigit()
                     else _PDF_ESCAPES.get(m.group(1), m.group(1)), token[1:-1], flags=re.S)
    if raw.startswith(b"\xfe\xff"):
        text = raw[2:].decode("utf-16-be", "replace")
    else:
        try:  # some producers write UTF-8 bytes where PDFDocEncoding belongs
            text = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")  # PDFDocEncoding agrees with Latin-1 on letters
    try:  # UTF-8 read as Windows-1250 and written again as UTF-8 ("RybĂˇr"): a Central European producer's slip
        text = text.encode("cp1250").decode("utf-8") if not text.isascii() else text
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass  # a name as it should be: in Windows-1250 its letters are never valid UTF-8
    text = _text(text)
    letters = sum(char.isalpha() for char in text)
    return text if text.isprintable() and letters * 2 >= len(text) else ""  # not a string of an encrypted PDF


_PDF_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"\n": b"", b"\r": b""}


# -- CAdES and S/MIME ---------------------------------------------------------------------------------------------

# What a signature holds: the signed file (None when detached), its name and type as the signature records them
# ("" when it does not), and who signed. None for what is no signature.
_Opened = tuple[bytes | None, str, str, tuple[str, ...]]


def _open(data: bytes) -> _Opened | None:
    return _open_cms(data) or _open_xades(data)


def _open_cms(data: bytes) -> _Opened | None:
    der = _cms_bytes(data)
    if der is None:
        return None
    try:
        info = _ContentInfo.load(der)
        if info["content_type"].dotted != _SIGNED_DATA:
            return None
        signed = info["content"].parse(_SignedData)
        content = signed["encap_content_info"]["content"]
        detached = not isinstance(content, core.OctetString) or content.native is None  # a .p7s beside the file
        return (None if detached else bytes(content.native)), "", "", _cms_signers(signed)
    except _UNREADABLE:
        return None


def _cms_bytes(data: bytes) -> bytes | None:
    """DER of a SignedData given as DER/BER, as PEM ("-----BEGIN PKCS7-----", "-----BEGIN CMS-----") or as bare
    base64 (some signers and mail gateways save it so), or None."""
    if data[:1] == b"\x30" and _SIGNED_DATA_DER in data[:32]:
        return data
    head = data[:200].lstrip()
    if head.startswith(b"-----BEGIN"):
        body = re.sub(rb"-----[A-Z0-9 ]+-----", b"", data)
    elif re.fullmatch(rb"[A-Za-z0-9+/=\r\n]+", head) and head.startswith(b"MI"):
        body = data
    else:
        return None
    try:
        decoded = base64.b64decode(re.sub(rb"\s+", b"", body), validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if decoded[:1] == b"\x30" and _SIGNED_DATA_DER in decoded[:32] else None


def _cms_signers(signed: _SignedData) -> tuple[str, ...]:
    certificates = [c.chosen for c in signed["certificates"] or [] if isinstance(c.chosen, x509.Certificate)]
    names: list[str] = []
    for signer in signed["signer_infos"]:
        sid = signer["sid"].chosen
        for certificate in certificates:
            if isinstance(sid, cms.IssuerAndSerialNumber):
                match = certificate.serial_number == sid["serial_number"].native and \
                    certificate.issuer == sid["issuer"]
            else:  # a subject key identifier
                match = certificate.key_identifier == sid.native
            if match:
                name = _person(certificate)
                if name and name not in names:
                    names.append(name)
                break
    return tuple(names)


# -- XAdES ----------------------------------------------------------------------------------------------------------

def _looks_like_xml_signature(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return False
    if _EPUAP_SIGNED_FILE.encode() in head:  # its signature follows the file, which may be megabytes long
        return True
    return b"http://www.w3.org/2000/09/xmldsig#" in data[:1 << 16] and b"Signature" in head


def _open_xades(data: bytes) -> _Opened | None:
    if not _looks_like_xml_signature(data):
        return None
    try:
        # a mail is bounded in size before it is read; a signed 10 MB form is a 13 MB text node, over libxml2's
        # default limit
        root = parse_untrusted_xml(data, huge_tree=True)
    except _UNREADABLE:
        return None
    try:
        signatures = [root] if root.tag == f"{_DS}Signature" else list(root.iter(f"{_DS}Signature"))
        if root.tag == f"{{{_EPUAP_SIGNED_FILE}}}Dokument":
            return _epuap_signed_file(root, signatures)
        for signature in signatures:
            found = _enveloped_object(signature)
            if found is not None:
                content, name, media_type = found
                return content, name, media_type, _xml_signers(signatures)
        return (None, "", "", _xml_signers(signatures)) if signatures else None  # detached, or XML signed whole
    except _UNREADABLE:
        return None


def _epuap_signed_file(root: etree._Element, signatures: list[etree._Element]) -> _Opened | None:
    """gov.pl's signer ("podpis zaufany") wraps a file other than a PDF in ePUAP's `podpisanyPlik` document: the
    file in base64 in `str:Zalacznik/str:DaneZalacznika` (its name, often itself in base64, in `nazwaPliku`, its
    type in `format`), the enveloped signature after it. The seal's certificate is the ministry's; the person it
    was applied for is named inside the signature (`Imie`, `Nazwisko`; their PESEL beside them is never read)."""
    attachment = next(root.iter(f"{{{_CRD_STRUCTURE}}}Zalacznik"), None)
    if attachment is None or (attachment.get("kodowanie") or "base64").lower() != "base64":
        return None
    payload = attachment.find(f"{{{_CRD_STRUCTURE}}}DaneZalacznika")
    content = base64.b64decode(re.sub(r"\s+", "", payload.text or "")) if payload is not None else b""
    if not content:
        return None
    name = attachment.get("nazwaPliku") or ""
    try:
        decoded = base64.b64decode(name, validate=True).decode("utf-8")
        name = decoded if _looks_like_file_name(decoded) else name
    except (binascii.Error, ValueError):
        pass
    person = [" ".join(filter(None, (_local_text(signature, "Imie"), _local_text(signature, "Nazwisko"))))
              for signature in signatures]
    signers = tuple(dict.fromkeys(p for p in person if p)) or _xml_signers(signatures)
    return (content, name if _looks_like_file_name(name) else "",
            _meaningful_type(attachment.get("format") or ""), signers)


def _local_text(element: etree._Element, local_name: str) -> str:
    found = next((e for e in element.iter() if isinstance(e.tag, str) and etree.QName(e).localname == local_name),
                 None)
    return _text(found.text) if found is not None else ""


def _enveloped_object(signature: etree._Element) -> tuple[bytes, str, str] | None:
    """The base64 file in one of the signature's `ds:Object`s that a reference signs, with the name and type its
    XAdES `DataObjectFormat` gives."""
    references = {ref.get("URI", "")[1:]: ref for ref in signature.iter(f"{_DS}Reference")
                  if ref.get("URI", "").startswith("#")}
    for obj in signature.findall(f"{_DS}Object"):
        if len(obj) or not (obj.text or "").strip():
            continue  # XML inside (QualifyingProperties, a signed XML document): no file to take out
        reference = references.get(obj.get("Id", ""))
        base64_declared = obj.get("Encoding") == _BASE64_TRANSFORM or reference is not None and any(
            t.get("Algorithm") == _BASE64_TRANSFORM for t in reference.iter(f"{_DS}Transform"))
        if not base64_declared and reference is None:
            continue
        try:
            content = base64.b64decode(re.sub(r"\s+", "", obj.text), validate=True)
        except (binascii.Error, ValueError):
            continue
        name, media_type = _data_object_format(signature, reference)
        return content, name, media_type or (obj.get("MimeType") or "")
    return None


def _data_object_format(signature: etree._Element, reference: etree._Element | None) -> tuple[str, str]:
    """The signed file's name and type from XAdES' DataObjectFormat for `reference`: a bare file name, or MIME
    headers with `filename=` (as Szafir writes them) in its Description."""
    if reference is None or not reference.get("Id"):
        return "", ""
    wanted = "#" + reference.get("Id")
    for element in signature.iter():
        if isinstance(element.tag, str) and element.tag.endswith("}DataObjectFormat") \
                and element.get("ObjectReference") == wanted:
            description = mime_type = ""
            for child in element:
                if not isinstance(child.tag, str):
                    continue
                if child.tag.endswith("}Description"):
                    description = (child.text or "").strip()
                elif child.tag.endswith("}MimeType"):
                    mime_type = (child.text or "").strip()
            quoted = re.search(r'filename\*?="?([^";\r\n]+)', description)
            name = quoted.group(1).strip() if quoted else description
            return (name if _looks_like_file_name(name) else ""), _meaningful_type(mime_type)
    return "", ""


def _xml_signers(signatures: list[etree._Element]) -> tuple[str, ...]:
    names: list[str] = []
    for signature in signatures:
        for data in signature.iter(f"{_DS}X509Certificate"):
            try:
                certificate = x509.Certificate.load(base64.b64decode(re.sub(r"\s+", "", data.text or "")))
                name = _person(certificate)
            except _UNREADABLE:
                continue
            if name and name not in names:
                names.append(name)
            break  # the signing certificate comes first; the rest is its chain
    return tuple(names)


# -- names --------------------------------------------------------------------------------------------------------

def _person(certificate: x509.Certificate) -> str:
    """"Jan Kowalski" or "Jan Kowalski (Stowarzyszenie X)": common name, else given name and surname, and the
    organisation; never the serial number (a Polish certificate's PESEL) or a personal code."""
    subject = certificate.subject.native
    common = _text(subject.get("common_name"))
    given_and_surname = " ".join(filter(None, (_text(subject.get("given_name")), _text(subject.get("surname")))))
    # Estonia's ID card names its holder "SURNAME,GIVEN,personal code": a common name with an identifier in it
    # gives way to the given name and surname
    name = given_and_surname if given_and_surname and (not common or _PERSONAL_NUMBER.search(common)) else common
    name = _without_identifiers(name)
    organisation = _text(subject.get("organization_name"))
    if organisation and organisation != name:
        return f"{name} ({organisation})" if name else organisation
    return name or _text(subject.get("email_address"))


def _without_identifiers(name: str) -> str:
    """A name with no personal number in it: Brazil's certificates end their common name in ":<CPF>"."""
    return " ".join(re.sub(r"[\s:,;/-]*\b[A-Z]{0,6}-?\d{6,}\b", " ", name).split()).strip(" ,:")


def _text(value: object) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return " ".join(str(value or "").split())[:200]


def _signed_name(recorded: str, envelope: str, content: bytes, media_type: str) -> str:
    """The file's name: as the signature recorded it, else the envelope's without what the signer added
    ("formularz.docx.p7m" → "formularz.docx"), with an extension from the content when none is left."""
    if recorded:
        return recorded.replace("\\", "/").rsplit("/", 1)[-1]
    stem, _dot, extension = envelope.rpartition(".")
    name = stem if stem and extension.lower() in _ENVELOPE_EXTENSIONS else envelope
    if _looks_like_file_name(name) and (name.rsplit(".", 1)[-1].lower() not in _ENVELOPE_EXTENSIONS
                                        or is_signature_envelope(content)):  # signed again: the next turn strips
        return name
    base = name.rsplit(".", 1)[0] if "." in name else name
    return (base or "podpisany") + _extension_for(content, media_type)


def _extension_for(content: bytes, media_type: str) -> str:
    for magic, extension in _MAGIC:
        if content.startswith(magic):
            return extension
    if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<?xml"):
        return ".xml"
    office = form_kind("", "", content)  # an office file by its own parts, as the form reader will know it
    if office is not None:
        return f".{office}"
    if content.startswith(b"PK\x03\x04"):
        return ".zip"
    guessed = mimetypes.guess_extension(media_type) if media_type else None
    if guessed:
        return guessed
    return ".eml" if re.match(rb"(?i)(content-type|mime-version|from|subject):", content[:200]) else ".bin"


def _looks_like_file_name(name: str) -> bool:
    return bool(re.fullmatch(r"[^\x00-\x1f<>|]{1,200}\.[A-Za-z0-9]{1,8}", name))


def _meaningful_type(media_type: str) -> str:
    return "" if media_type in {"", "application/octet-stream", "application/binary"} else media_type
