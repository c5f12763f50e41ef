"""Hostile uploads are refused before parsing, each with its own machine code."""

from __future__ import annotations

import email
import email.policy
import io
import struct
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest

from docx_fixtures import raw_zip, repack
from services.documents.engine.errors import DocumentRejected
from services.documents.engine.ooxml import read_package
from services.documents.engine.parse import parse_docx
from services.documents.engine.safety import Limits, check_docx

BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                  b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                  b"<w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>")
XXE_STYLES = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
              b'<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">&xxe;</w:styles>')


def rejection_code(data: bytes, **options) -> str:
    with pytest.raises(DocumentRejected) as raised:
        check_docx(data, **options)
    assert raised.value.message and raised.value.message_pl
    return raised.value.code


def test_the_demo_draft_is_accepted(auto_draft):
    check_docx(auto_draft)


def test_billion_laughs_in_the_main_part_is_refused(auto_draft):
    assert rejection_code(repack(auto_draft, replace={"word/document.xml": BILLION_LAUGHS})) == "dtd"


def test_external_entity_in_any_part_is_refused(auto_draft):
    assert rejection_code(repack(auto_draft, replace={"word/styles.xml": XXE_STYLES})) == "dtd"


def test_doctype_in_utf16_part_is_refused(auto_draft):
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><r/>'.encode("utf-16-le")
    assert rejection_code(repack(auto_draft, add={"customXml/item1.xml": utf16})) == "dtd"


def test_parse_runs_the_check_too(auto_draft):
    with pytest.raises(DocumentRejected) as raised:
        parse_docx(repack(auto_draft, replace={"word/document.xml": BILLION_LAUGHS}))
    assert raised.value.code == "dtd"


def test_highly_compressed_member_is_refused_as_zip_bomb(auto_draft):
    bomb = repack(auto_draft, add={"word/media/image1.png": b"\0" * (40 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    assert rejection_code(bomb) == "zip_bomb"


def test_declared_total_size_over_the_cap_is_refused(auto_draft):
    members = read_package(auto_draft)
    members["word/media/noise.bin"] = bytes(range(256)) * 8192  # 2 MB, not very compressible
    limits = Limits(max_total_uncompressed=1024 * 1024)
    assert rejection_code(raw_zip(members), limits=limits) == "zip_bomb"


def _lie_about_sizes(data: bytes, member: str, declared: int) -> bytes:
    """Rewrite the uncompressed size of `member` in both zip headers (a lying archive)."""
    patched = bytearray(data)
    name = member.encode()
    local = patched.find(b"PK\x03\x04")
    while local != -1:
        name_length = struct.unpack_from("<H", patched, local + 26)[0]
        if patched[local + 30: local + 30 + name_length] == name:
            struct.pack_into("<I", patched, local + 22, declared)
        local = patched.find(b"PK\x03\x04", local + 4)
    central = patched.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", patched, central + 28)[0]
        if patched[central + 46: central + 46 + name_length] == name:
            struct.pack_into("<I", patched, central + 24, declared)
        central = patched.find(b"PK\x01\x02", central + 4)
    return bytes(patched)


def test_member_that_decompresses_beyond_its_declared_size_is_refused(auto_draft):
    honest = repack(auto_draft, add={"word/media/image1.png": b"\0" * (3 * 1024 * 1024)})
    lying = _lie_about_sizes(honest, "word/media/image1.png", 1000)
    assert rejection_code(lying) in {"zip_bomb", "damaged"}


def test_too_many_members_is_refused(auto_draft):
    extra = {f"word/media/tiny{index}.png": b"x" for index in range(600)}
    assert rejection_code(repack(auto_draft, add=extra)) == "too_many_members"


def test_vba_project_is_refused(auto_draft):
    assert rejection_code(repack(auto_draft, add={"word/vbaProject.bin": b"\x01\x02macro"})) == "macros"


def test_macro_enabled_content_type_is_refused(auto_draft):
    types = zipfile.ZipFile(io.BytesIO(auto_draft)).read("[Content_Types].xml").replace(
        b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml")
    assert rejection_code(repack(auto_draft, replace={"[Content_Types].xml": types})) == "macros"


def test_docm_file_name_is_refused(auto_draft):
    assert rejection_code(auto_draft, filename="Projekt.docm") == "macros"


@pytest.mark.parametrize("data", [b"", b"hello, this is plain text", b"%PDF-1.7\n" + b"0" * 100])
def test_non_zip_input_is_refused(data):
    assert rejection_code(data) == "not_zip"


def test_zip_without_a_word_document_is_refused():
    assert rejection_code(raw_zip({"[Content_Types].xml": b"<Types/>", "hello.txt": b"hi"})) == "not_docx"


def test_oversize_file_is_refused(auto_draft):
    assert rejection_code(auto_draft, max_bytes=len(auto_draft) - 1) == "too_large"


def test_ole_compound_file_is_refused_as_encrypted():
    encrypted_ooxml = bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 4096
    assert rejection_code(encrypted_ooxml) == "encrypted"


MAIL_CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "mail"


def _rejection(data: bytes) -> DocumentRejected:
    with pytest.raises(DocumentRejected) as raised:
        check_docx(data)
    return raised.value


def _attachment_of(mail: str, content_type: str) -> bytes:
    message = email.message_from_bytes((MAIL_CORPUS / mail).read_bytes(), policy=email.policy.default)
    return next(part.get_payload(decode=True) for part in message.walk() if part.get_content_type() == content_type)


@pytest.mark.parametrize(("data", "code", "named", "advice"), [
    # LibreOffice's Word 97-2003 save of the corpus form, as a resident mailed it
    (lambda: _attachment_of("word-97-doc-legacy.eml", "application/msword"), "legacy_format",
     "dokument Word 97–2003 (.doc)", "zapisz jako dokument Word (.docx)"),
    (lambda: (MAIL_CORPUS / "form-a-toruń.odt").read_bytes(), "not_docx", "dokument OpenDocument (.odt)",
     "zapisz jako dokument Word (.docx)"),
    (lambda: (MAIL_CORPUS / "scan.pdf").read_bytes(), "not_zip", "PDF", "prześlij dokument Word (.docx)"),
    (lambda: b"{\\rtf1\\ansi\\ansicpg1250 Projekt programu}", "not_zip", "dokument RTF", "zapisz jako"),
    (lambda: b"\xef\xbb\xbf<!DOCTYPE html><html><body>Projekt</body></html>", "not_zip", "strona internetowa",
     "zapisz jako"),
    (lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF", "not_zip", "obraz (skan lub zdjęcie)", "prześlij dokument Word"),
    (lambda: raw_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}),
     "not_docx", "arkusz OpenDocument (.ods)", "zapisz jako dokument Word (.docx)"),
])
def test_a_file_of_another_format_is_named_in_the_answer_with_what_to_do(data, code, named, advice):
    """A clerk who uploads the draft as .doc, .odt or PDF is told what the file is and how to make a .docx of
    it, in Polish and in English; before, a .doc was called encrypted and an .odt "a zip package"."""
    rejected = _rejection(data())
    assert rejected.code == code
    assert named in rejected.message_pl and advice in rejected.message_pl
    assert "Word document (.docx)" in rejected.message


def test_a_document_saved_as_strict_open_xml_is_refused_with_how_to_save_it(auto_draft):
    """Word's "Strict Open XML Document" keeps the parts in ISO 29500 strict namespaces (here the package
    relationship rewritten as Word writes it), where nothing would be found: the clerk learned "no body"."""
    rels = read_package(auto_draft)["_rels/.rels"].replace(
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
        b"http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument")
    rejected = _rejection(repack(auto_draft, replace={"_rels/.rels": rels}))
    assert rejected.code == "strict_ooxml" and "Strict Open XML" in rejected.message_pl


def test_an_unknown_file_is_refused_as_not_a_docx_without_guessing_what_it_is():
    rejected = _rejection(b"hello, this is plain text")
    assert (rejected.code, rejected.message_pl) == ("not_zip", "Plik nie jest paczką zip, więc nie jest to dokument "
                                                               "Word (.docx).")


def test_zip_with_encrypted_members_is_refused(auto_draft):
    patched = bytearray(auto_draft)
    central = patched.find(b"PK\x01\x02")
    struct.pack_into("<H", patched, central + 8, struct.unpack_from("<H", patched, central + 8)[0] | 1)
    assert rejection_code(bytes(patched)) == "encrypted"


# ---- macros hidden behind renamed parts, UTF-16 declarations and relationships; parts outside the package ----

VBA_RELATIONSHIP = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
ACTIVEX_RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/control"
MACRO_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


def utf16(xml: bytes) -> bytes:
    text = xml.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    return text.encode("utf-16")  # with a byte order mark, as Word writes it


def with_relationship(draft: bytes, rel_type: str, target: str) -> bytes:
    rels = read_package(draft)["word/_rels/document.xml.rels"]
    rel = f'<Relationship Id="rIdEvil" Type="{rel_type}" Target="{target}"/>'.encode()
    return rels.replace(b"</Relationships>", rel + b"</Relationships>")


def content_types(draft: bytes, extra: str = "", main: str | None = None) -> bytes:
    types = read_package(draft)["[Content_Types].xml"]
    if main:
        types = types.replace(b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
                              main.encode())
    return types.replace(b"</Types>", extra.encode() + b"</Types>")


def test_renamed_vba_part_with_relationship_and_utf16_override_is_refused(auto_draft):
    override = '<Override PartName="/word/data1.bin" ContentType="application/vnd.ms-office.vbaProject"/>'
    package = repack(auto_draft, replace={
        "[Content_Types].xml": utf16(content_types(auto_draft, override)),
        "word/_rels/document.xml.rels": with_relationship(auto_draft, VBA_RELATIONSHIP, "data1.bin")},
        add={"word/data1.bin": b"\xd0\xcf\x11\xe0 VBA project"})
    assert rejection_code(package) == "macros"


def test_renamed_vba_part_with_only_the_relationship_is_refused(auto_draft):
    package = repack(auto_draft, replace={
        "word/_rels/document.xml.rels": with_relationship(auto_draft, VBA_RELATIONSHIP, "data1.bin")},
        add={"word/data1.bin": b"\xd0\xcf\x11\xe0 VBA project"})
    assert rejection_code(package) == "macros"


def test_macro_enabled_main_part_declared_in_utf16_is_refused(auto_draft):
    package = repack(auto_draft, replace={"[Content_Types].xml": utf16(content_types(auto_draft, main=MACRO_MAIN))})
    assert rejection_code(package) == "macros"


def test_activex_relationship_is_refused(auto_draft):
    package = repack(auto_draft, replace={
        "word/_rels/document.xml.rels": with_relationship(
            auto_draft, "http://schemas.microsoft.com/office/2006/relationships/activeXControlBinary", "x.bin")})
    assert rejection_code(package) == "macros"
    package = repack(auto_draft, replace={
        "word/_rels/document.xml.rels": with_relationship(auto_draft, ACTIVEX_RELATIONSHIP, "activeX/a1.xml")})
    assert rejection_code(package) == "macros"


@pytest.mark.parametrize("name", ["../../evil.xml", "/abs/evil.xml", "word/../../evil.xml", "C:evil.xml",
                                  "word\\..\\evil.xml"])
def test_member_names_outside_the_package_are_refused(auto_draft, name):
    assert rejection_code(raw_zip({**read_package(auto_draft), name: b"<x/>"})) == "unsafe_name"


def _package_with(parts: dict[str, bytes], extra: tuple[str, str, bytes] | None = None) -> bytes:
    """A zip of `parts` in order (a name may repeat), and `extra` = (name, unicode_name, data): a member named
    `name` whose Info-ZIP Unicode Path field says `unicode_name`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": the point of the package
        for name, data in parts:
            archive.writestr(name, data)
        if extra is not None:
            name, unicode_name, data = extra
            info = zipfile.ZipInfo(name)
            field = b"\x01" + struct.pack("<I", zlib.crc32(name.encode())) + unicode_name.encode()
            info.extra = struct.pack("<HH", 0x7075, len(field)) + field
            archive.writestr(info, data)
    return buffer.getvalue()


def test_a_package_that_zip_readers_would_read_as_different_documents_is_refused(auto_draft):
    """Python's zipfile reads the last of two members with one name, Word and 7-Zip the first; and 7-Zip and
    unzip obey an Info-ZIP Unicode Path field that Python ignores (Apache POI's unicode-path.docx): what the
    clerk sees in Word would not be what was read."""
    parts = list(read_package(auto_draft).items())
    other = b"<w:document xmlns:w='http://schemas.openxmlformats.org/wordprocessingml/2006/main'/>"
    assert rejection_code(_package_with([*parts, ("word/document.xml", other)])) == "unsafe_name"
    assert rejection_code(_package_with([*parts, ("WORD/Document.xml", other)])) == "unsafe_name"
    hidden = _package_with(parts, extra=("zip-test-additional-file", "word/document.xml", other))
    with pytest.raises(DocumentRejected) as rejected:
        check_docx(hidden)
    assert rejected.value.code == "unsafe_name" and "word/document.xml" in rejected.value.message
    assert "różne programy" in rejected.value.message_pl
    check_docx(_package_with(parts, extra=("word/extra.xml", "word/extra.xml", b"<x/>")))  # a field that agrees


def test_a_plain_utf16_package_is_still_accepted(auto_draft):
    check_docx(repack(auto_draft, replace={"[Content_Types].xml": utf16(content_types(auto_draft))}))


def test_parts_outside_the_content_types_and_relationships_graph_are_never_copied(auto_draft):
    override = '<Override PartName="/word/typed-but-unrelated.xml" ContentType="application/xml"/>'
    package = repack(auto_draft, replace={"[Content_Types].xml": content_types(auto_draft, override)},
                     add={"word/typed-but-unrelated.xml": b"<x/>", "stray/payload.dat": b"payload",
                          "word/_rels/stray.xml.rels": b"<Relationships/>"})
    version = parse_docx(package)
    from services.documents.engine.render import render_clean
    written = read_package(render_clean(version))
    assert "word/typed-but-unrelated.xml" not in written and "stray/payload.dat" not in written
    assert "word/_rels/stray.xml.rels" not in written
    assert {"word/document.xml", "word/styles.xml", "word/numbering.xml", "word/footnotes.xml"} <= set(written)
