"""Outlook's winmail.dat: the files inside, read from real TNEF streams (tests/corpus/mail/tnef/SOURCES.md), and
streams that lie about their lengths give what was read before the lie, never an error."""

from __future__ import annotations

import hashlib
import struct

import pytest

from services.intake.mail.parse import parse_mail
from services.intake.mail.tnef import MAX_FILES, SIGNATURE, is_tnef, tnef_files
from tests.unit.intake_mail.conftest import CORPUS

TNEF = CORPUS / "tnef"


@pytest.mark.parametrize("name,files", [
    # the names verdammelt/tnef's tests expect (tests/files/datafiles/<name>.list), the bodies left out
    ("one-file", ["AUTHORS"]),
    ("two-files", ["AUTHORS", "README"]),
    ("data-before-name", ["AUTOEXEC.BAT", "CONFIG.SYS", "boot.ini"]),
    ("unicode-mapi-attr-name", ["spaconsole2.cfg", "image001.png", "image002.png", "image003.png"]),
    ("unicode-mapi-attr", ["example.dat"]),
    ("multi-value-attribute", ["208225__5_seconds__Voice_Mail.mp3"]),
    ("MAPI_ATTACH_DATA_OBJ", ["VIA_Nytt_1402.doc", "VIA_Nytt_1402.pdf", "VIA_Nytt_14021.htm"]),
    ("garbage-at-end", []),
    # the names Apache Tika's TNEFParserTest asserts for its testWINMAIL.dat, the RTF body left out
    ("testWINMAIL", ["quick.doc", "quick.html", "quick.pdf", "quick.txt", "quick.xml"]),
])
def test_the_files_of_real_outlook_streams_are_the_ones_their_project_expects(name, files):
    assert [file.filename for file in tnef_files((TNEF / f"{name}.tnef").read_bytes())] == files


@pytest.mark.parametrize("name,filename,sha256", [
    # the contents verdammelt/tnef keeps as baselines (tests/files/baselines/<file>.baseline)
    ("data-before-name", "boot.ini", "a815374e31481bbb939d99e73ecfe1de7914363ecd5c670c60a9022474251bce"),
    ("unicode-mapi-attr-name", "spaconsole2.cfg", "4d9639506fa4bf42ede43ffbaa8ed5a8f8fe2338bc2562f9b9aef7970bc4a25e"),
    ("MAPI_ATTACH_DATA_OBJ", "VIA_Nytt_1402.pdf", "968c9c4a8a6a02ff9a6c4e2621d5f5d512593a30d57379f704c4274ead48d72e"),
    ("MAPI_ATTACH_DATA_OBJ", "VIA_Nytt_14021.htm", "c2ee04f99e59079afa8661913dbd8b9002ea005c7540aaec85a67ed113e9a7b8"),
])
def test_the_bytes_of_a_file_are_the_ones_outlook_attached(name, filename, sha256):
    found = {file.filename: file for file in tnef_files((TNEF / f"{name}.tnef").read_bytes())}
    assert hashlib.sha256(found[filename].data).hexdigest() == sha256


def test_pictures_shown_inside_the_rich_text_say_so():
    files = tnef_files((TNEF / "unicode-mapi-attr-name.tnef").read_bytes())
    assert [(f.media_type, bool(f.content_id)) for f in files] == [("", False)] + [("image/png", True)] * 3


def test_mails_attached_to_the_mail_give_their_files_and_not_outlooks_stub():
    """MimeKit's christmas.tnef: a picture, and a task and an appointment attached as Outlook items; the
    appointment carries the picture too. Neither item is a file: their attAttachData is Outlook's stub text."""
    files = tnef_files((TNEF / "christmas.tnef").read_bytes())
    assert [(f.filename, f.forwarded) for f in files] == [
        ("kitten-playing-with-a-christmas-tree.jpg", False), ("kitten-playing-with-a-christmas-tree.jpg", True)]
    assert {hashlib.sha256(f.data).hexdigest() for f in files} == {
        "f79d79bf20d19d17f4bbc92bc59485be362df93deaa92b71cc0d490d3b7ac935"}  # MimeKit's extracted copy
    assert not any(b"MAPI 1.0 embedded message" in f.data for f in files)


def test_a_file_inserted_into_the_rich_text_as_an_object_comes_out_whole():
    [file] = tnef_files((TNEF / "MAPI_OBJECT.tnef").read_bytes())
    assert file.filename == "AsNew Staff pricelist Oct 02.pdf"
    assert len(file.data) == 615_889 and file.data.startswith(b"%PDF-1.2") and file.data.rstrip().endswith(b"%%EOF")


def test_pictures_pasted_into_the_rich_text_are_pictures_shown_in_it():
    files = tnef_files((TNEF / "winmail.tnef").read_bytes())
    assert [(f.media_type, len(f.data), bool(f.content_id)) for f in files] == [
        ("image/bmp", 26_458, True), ("image/bmp", 65_174, True)]
    assert [struct.unpack_from("<ii", f.data, 18) for f in files] == [(161, 41), (220, 74)]


def test_a_mail_attached_to_a_mail_attached_to_the_mail_is_read_only_a_few_levels_deep():
    christmas = (TNEF / "christmas.tnef").read_bytes()
    item = _stream(_attribute(2, 0x00069002, b"\0" * 14),
                   _attribute(2, 0x00069005, _object_block(bytes.fromhex("0703020000000000c000000000000046")
                                                            + christmas)))
    nested = item
    for _ in range(3):
        nested = _stream(_attribute(2, 0x00069002, b"\0" * 14),
                         _attribute(2, 0x00069005, _object_block(bytes.fromhex("0703020000000000c000000000000046")
                                                                  + nested)))
    assert [f.forwarded for f in tnef_files(item)] == [True, True]
    assert tnef_files(nested) == []


def _object_block(value: bytes) -> bytes:
    """An attachment's property block with one PT_OBJECT PR_ATTACH_DATA_OBJ ([MS-OXTNEF] 2.1.3.4)."""
    padding = b"\0" * ((4 - len(value) % 4) % 4)
    return struct.pack("<IHHII", 1, 0x000D, 0x3701, 1, len(value)) + value + padding


def test_a_cut_off_stream_gives_the_files_read_before_the_cut():
    data = (TNEF / "two-files.tnef").read_bytes()
    whole = tnef_files(data)
    for cut in range(6, len(data), 37):
        files = tnef_files(data[:cut])
        assert [f.filename for f in files] == [f.filename for f in whole[:len(files)]]
        assert all(f.data == w.data for f, w in zip(files, whole))


def _attribute(level: int, identifier: int, payload: bytes, *, claimed: int | None = None) -> bytes:
    length = len(payload) if claimed is None else claimed
    return struct.pack("<BII", level, identifier, length) + payload + struct.pack("<H", sum(payload) & 0xFFFF)


def _stream(*attributes: bytes) -> bytes:
    return struct.pack("<IH", SIGNATURE, 1) + b"".join(attributes)


def test_a_length_past_the_end_stops_the_reading():
    stream = _stream(_attribute(2, 0x00069002, b"\0" * 14), _attribute(2, 0x00018010, b"a.txt\0"),
                     _attribute(2, 0x0006800F, b"tekst"), _attribute(2, 0x0006800F, b"x", claimed=2**31))
    assert [(f.filename, f.data) for f in tnef_files(stream)] == [("a.txt", b"tekst")]


@pytest.mark.parametrize("block", [
    struct.pack("<I", 0xFFFFFFFF),  # four billion properties in four bytes
    struct.pack("<IHHII", 1, 0x001F, 0x3707, 1, 0x7FFFFFFF),  # a name longer than the block
    struct.pack("<IHH", 1, 0x001F, 0x9000) + b"\0" * 16 + struct.pack("<II", 1, 0xFFFFFFF0),  # a named one, too
    struct.pack("<IHH", 2, 0x0999, 0x3707) + b"\0" * 8,  # a type no one knows
])
def test_a_property_block_that_lies_leaves_the_title_as_the_name(block):
    stream = _stream(_attribute(2, 0x00069002, b"\0" * 14), _attribute(2, 0x00018010, b"FORMUL~1.DOC\0"),
                     _attribute(2, 0x0006800F, b"PK"), _attribute(2, 0x00069005, block))
    assert [(f.filename, f.data) for f in tnef_files(stream)] == [("FORMUL~1.DOC", b"PK")]


def test_at_most_max_files_come_out():
    stream = _stream(*(_attribute(2, 0x00069002, b"\0" * 14) + _attribute(2, 0x0006800F, b"x")
                       for _ in range(MAX_FILES * 3)))
    files = tnef_files(stream)
    assert len(files) == MAX_FILES and files[0].filename == "attachment-1"


@pytest.mark.parametrize("data", [b"", b"\x78\x9f\x3e", b"PK\x03\x04", b"\0" * 100])
def test_what_is_not_a_stream_gives_nothing(data):
    assert not is_tnef(data) and tnef_files(data) == []


def test_the_form_inside_a_winmail_dat_is_an_attachment_of_the_mail():
    """The corpus's Outlook Rich Text mail: winmail.dat stays (the evidence), the form inside comes out with the long
    name Outlook keeps in the property block, not the 8.3 title."""
    parsed = parse_mail((CORPUS / "outlook-rich-text-winmail-dat.eml").read_bytes())
    assert [(a.filename, a.inside) for a in parsed.attachments] == [
        ("winmail.dat", ""), ("formularz uwag – Toruń.docx", "winmail.dat")]
    assert parsed.attachments[1].data == (CORPUS / "form-a-toruń.docx").read_bytes()


def test_a_program_inside_a_winmail_dat_is_refused_as_if_it_were_attached(ctx, consultation):
    from services.intake.mail.importer import REJECTED, import_mail
    from tests.unit.intake_mail.conftest import now
    from tests.unit.intake_mail.test_transcription import mail_with_ole_file

    inside = _stream(_attribute(2, 0x00069002, b"\0" * 14), _attribute(2, 0x00018010, b"UWAGI.EXE\0"),
                     _attribute(2, 0x0006800F, b"MZ\x90\0" + b"\0" * 60))
    raw = mail_with_ole_file("application/ms-tnef", "winmail.dat", inside)
    result = import_mail(ctx, raw, received_at=now(), source="t", consultation_id=consultation)
    assert result.status == REJECTED and result.reference is None
