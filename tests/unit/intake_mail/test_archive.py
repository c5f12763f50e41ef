"""ZIP archives attached to a mail: their files are attachments of the mail, within limits; Windows' names in the
OEM code page are read as such."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage

import pytest

from services.intake.mail.archive import MAX_FILES, is_plain_zip, zip_files
from services.intake.mail.importer import CREATED, REJECTED, import_mail
from services.intake.mail.parse import parse_mail
from tests.unit.intake_mail.conftest import CORPUS, now

FORM = (CORPUS / "form-a-toruń.docx").read_bytes()
LETTER = (CORPUS / "letter-federacja-torun.pdf").read_bytes()


def _archive(*members: tuple[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


def windows_archive(name: str, data: bytes) -> bytes:
    """What Windows' "Send to > Compressed (zipped) folder" writes for a Polish name: the name's bytes in CP852
    with no UTF-8 flag (APPNOTE 4.4.4, bit 11 clear). Python's zipfile always flags non-ASCII names as UTF-8, so
    the archive is written with an ASCII stand-in of the same length and the name's bytes put in its place."""
    oem = name.encode("cp852")
    stand_in = b"x" * len(oem)
    archive = _archive((stand_in.decode(), data))
    assert archive.count(stand_in) == 2  # the local header and the central directory
    return archive.replace(stand_in, oem)


def test_a_windows_archive_gives_its_file_with_its_polish_name():
    name = "Formularz uwag Toruń - Stowarzyszenie Przyjaciół Żółwi.docx"  # CP852 has no en dash: Windows gives "-"
    files = zip_files(windows_archive(name, FORM))
    assert [(f.filename, f.data == FORM) for f in files] == [(name, True)]


def test_utf8_names_folders_and_system_clutter():
    archive = _archive(("uwagi/pismo przewodnie.pdf", LETTER), ("uwagi/", b""), ("__MACOSX/uwagi/._pismo.pdf", b"x"),
                       ("uwagi/.DS_Store", b"x"), ("uwagi/Formularz – Toruń.docx", FORM))
    assert [f.filename for f in zip_files(archive)] == ["pismo przewodnie.pdf", "Formularz – Toruń.docx"]


def test_an_office_package_is_not_an_archive_to_open():
    assert not is_plain_zip(FORM) and zip_files(FORM) == []


@pytest.mark.parametrize("archive", [
    _archive(("bomb.txt", b"\0" * 30_000_000)),  # 30 MB in some 30 KB: a ratio past the limit
    _archive(*((f"plik{n}.txt", b"x") for n in range(MAX_FILES * 5)))[: 5000],  # cut short
    b"PK\x03\x04" + b"\0" * 100,
], ids=["bomb", "cut-short", "garbage"])
def test_a_bomb_or_a_broken_archive_gives_nothing(archive):
    assert zip_files(archive) == []


def test_at_most_max_files_and_no_archive_inside_an_archive():
    inner = _archive(("a.txt", b"a"))
    many = _archive(("wewnatrz.zip", inner), *((f"plik{n}.txt", b"x") for n in range(MAX_FILES + 10)))
    files = zip_files(many)
    assert len(files) == MAX_FILES and "wewnatrz.zip" not in [f.filename for f in files]


def _mail(archive: bytes, subject: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Anna <anna@example.org>", "konsultacje@um.torun.pl", subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}-{now().timestamp()}@example.org>"
    message.set_content("W załączeniu spakowane uwagi.")
    message.add_attachment(archive, maintype="application", subtype="x-zip-compressed", filename="uwagi.zip")
    return message.as_bytes()


def test_the_form_inside_an_archive_is_read_and_a_program_inside_is_refused(ctx, consultation):
    result = import_mail(ctx, _mail(windows_archive("Formularz uwag Toruń.docx", FORM), "spakowane"),
                         received_at=now(), source="t", consultation_id=consultation)
    assert (result.status, result.comments) == (CREATED, 2)
    parsed = parse_mail(_mail(windows_archive("Formularz uwag Toruń.docx", FORM), "jeszcze raz"))
    assert [(a.filename, a.inside) for a in parsed.attachments] == [
        ("uwagi.zip", ""), ("Formularz uwag Toruń.docx", "uwagi.zip")]
    refused = import_mail(ctx, _mail(_archive(("uwagi.exe", b"MZ\x90\0" + b"\0" * 60)), "program"),
                          received_at=now(), source="t", consultation_id=consultation)
    assert refused.status == REJECTED


def test_what_one_mail_takes_out_of_its_containers_is_bounded(monkeypatch):
    from services.intake.mail import parse

    monkeypatch.setattr(parse, "MAX_UNPACKED", 2500)  # three files of 1,000 bytes: two come out
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Anna <anna@example.org>", "konsultacje@um.torun.pl", "x"
    message.set_content("Trzy archiwa.")
    for number in range(3):
        message.add_attachment(_archive((f"plik{number}.txt", bytes([65 + number]) * 1000)), maintype="application",
                               subtype="zip", filename=f"czesc{number}.zip")
    names = [a.filename for a in parse_mail(message.as_bytes()).attachments]
    assert names == ["czesc0.zip", "plik0.txt", "czesc1.zip", "plik1.txt", "czesc2.zip"]


def test_an_archive_that_stores_the_form_uncompressed_is_opened_not_taken_for_the_form(ctx, consultation):
    """Stored without compression, the archive's bytes hold the DOCX's own part names ("word/document.xml"):
    read as a DOCX by those bytes, the archive was refused as a broken Word document and the mail rejected."""
    stored = _archive(("Formularz uwag.docx", FORM), compression=zipfile.ZIP_STORED)
    result = import_mail(ctx, _mail(stored, "bez kompresji"), received_at=now(), source="t",
                         consultation_id=consultation)
    assert (result.status, result.comments) == (CREATED, 2)
