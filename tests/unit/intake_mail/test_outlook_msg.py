"""Outlook items (.msg) dragged into a mail: the files, text and sender of real items from Apache Tika's tests
(tests/corpus/mail/msg/SOURCES.md), and files that are not items give nothing, never an error."""

from __future__ import annotations

import io

import olefile
import pytest

from services.intake.mail.outlook_msg import read_msg
from tests.unit.intake_mail.conftest import CORPUS

MSG = CORPUS / "msg"


@pytest.mark.parametrize("name,files", [
    # what Tika's POIContainerExtractionTest expects of each (the mail inside testMSG_att_msg.msg has no file of
    # its own: Tika lists it as "Test Attachment.msg", we look inside it for a form and find none)
    ("testMSG_att_doc", ["test-unicode.doc", "pj1.txt"]),
    ("testMSG_att_msg", ["smbprn.00009008.KdcPjl.pdf"]),
    ("testMSG", []),
    # what MSGReader's RemoveAttachmentsFromInner expects: two files, then the inner item's two
    ("EmailWithInnerMailAndAttachments", ["OUTER 1.pdf", "OUTER 2.pdf", "INNER 1.pdf", "INNER 2.pdf"]),
])
def test_the_files_of_real_outlook_items(name, files):
    assert [f.filename for f in read_msg((MSG / f"{name}.msg").read_bytes()).files] == files


def test_pictures_outlook_shows_in_the_body_are_marked_as_such():
    """Tika's OutlookParserTest: test-outlook2003.msg has 11 JPEGs, each with PidTagAttachFlags 4."""
    files = read_msg((MSG / "test-outlook2003.msg").read_bytes()).files
    assert len(files) == 11 and all(f.content_id and f.filename.endswith(".jpg") for f in files)


def test_the_sender_and_text_of_an_item():
    item = read_msg((MSG / "testMSG.msg").read_bytes())
    assert (item.sender_name, item.sender_address) == ("Jukka Zitting", "jukka.zitting@gmail.com")
    assert item.body.startswith("Hi,")


def test_an_exchange_sender_without_an_smtp_address_gives_no_address():
    item = read_msg((MSG / "testMSG_forwarded.msg").read_bytes())
    assert item.sender_name == "Paul Allan Hill" and item.sender_address == ""
    assert item.body.startswith("Forwarded Body")


def _word_97() -> bytes:
    """A compound file that is not an Outlook item: the corpus's Word 97 form, as it travels in its mail."""
    from services.intake.mail.parse import parse_mail

    mail = parse_mail((CORPUS / "word-97-doc-legacy.eml").read_bytes())
    return next(a.data for a in mail.attachments if a.filename.endswith(".doc"))


@pytest.mark.parametrize("data", [
    b"", b"PK\x03\x04", olefile.MAGIC, olefile.MAGIC + b"\0" * 500,
    (MSG / "testMSG_att_doc.msg").read_bytes()[:4096],  # cut off
    (MSG / "testMSG_att_doc.msg").read_bytes()[:512] + b"\xff" * 20000,  # its sectors overwritten
], ids=["empty", "zip", "magic-only", "magic-and-zeros", "cut-off", "garbled"])
def test_what_is_not_a_readable_item_gives_none(data):
    assert read_msg(data) is None


def test_a_word_97_document_is_not_an_outlook_item():
    data = _word_97()
    assert olefile.isOleFile(io.BytesIO(data)) and read_msg(data) is None


def test_the_files_of_an_item_dragged_into_a_mail_are_attachments_of_the_mail():
    from services.intake.mail.parse import parse_mail

    mail = parse_mail((CORPUS / "outlook-item-dragged-in.eml").read_bytes())
    assert [(a.filename, a.inside, a.forwarded) for a in mail.attachments] == [
        ("Uwagi mieszkańca.msg", "", False), ("test-unicode.doc", "Uwagi mieszkańca.msg", True),
        ("pj1.txt", "Uwagi mieszkańca.msg", True)]
