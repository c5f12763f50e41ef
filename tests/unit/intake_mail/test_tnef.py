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
