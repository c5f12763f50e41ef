"""The readers of Outlook's and Office's binary files never raise on damaged input: each real file of the corpus,
its bytes flipped at random (seeded) and cut short, gives a result or nothing."""

from __future__ import annotations

import random
import zlib

import pytest

from services.intake.mail.form import read_form
from services.intake.mail.letter import letter_text
from services.intake.mail.outlook_msg import read_msg
from services.intake.mail.rtf import read_rtf
from services.intake.mail.tnef import tnef_files
from services.intake.mail.word97 import read_word97
from tests.unit.intake_mail.conftest import CORPUS

FILES = [CORPUS / "tnef" / "two-files.tnef", CORPUS / "tnef" / "unicode-mapi-attr-name.tnef",
         CORPUS / "msg" / "testMSG_att_doc.msg", CORPUS / "doc" / "testWORD_various.doc",
         CORPUS / "uwagi-tabela.xls", CORPUS / "form-a-toruń.rtf", CORPUS / "rtf" / "testRTFVarious.rtf",
         CORPUS / "letter-federacja-torun.pdf", CORPUS / "letter-federacja-torun.doc", CORPUS / "form-a-toruń.docx",
         CORPUS / "form-a-toruń.odt", CORPUS / "draft-piatnica-tracked.docx", CORPUS / "draft-piatnica-annotated.odt",
         CORPUS / "letter-federacja-torun.odt", CORPUS / "form-a-toruń.pdf", CORPUS / "city-form-filled.pdf"]


def _damaged(data: bytes, seed: int) -> list[bytes]:
    chance = random.Random(seed)
    out = []
    for _ in range(12):
        mutated = bytearray(data)
        for _flip in range(chance.randint(1, 40)):
            mutated[chance.randrange(len(mutated))] = chance.randrange(256)
        out.append(bytes(mutated[:chance.randint(len(mutated) // 2, len(mutated))]))
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_damaged_files_give_a_result_or_nothing_never_an_error(path):
    # seeded by the name's CRC, not hash(): str hashes differ between processes, and a run must be repeatable
    for number, data in enumerate(_damaged(path.read_bytes(), seed=zlib.crc32(path.name.encode()))):
        tnef_files(data)
        read_msg(data)
        read_word97(data)
        read_rtf(data)
        for kind in ("pdf", "doc", "rtf", "txt", "docx", "odt"):
            assert isinstance(letter_text(kind, data), str)
        try:
            read_form(path.name, "", data)
        except Exception as error:  # only the refusal of a hostile or damaged office package is expected
            from services.intake.mail.form import FormUnreadable

            assert isinstance(error, FormUnreadable), (number, repr(error))


def test_a_damaged_workbook_is_refused_or_read_never_a_panic():
    """calamine panics (pyo3's PanicException, a BaseException) on some damaged records; the reader turns that into
    "cannot be read". The guide's table as openpyxl's XLSX and LibreOffice's .xls."""
    import io

    from openpyxl import Workbook

    from services.intake.mail.form import FormUnreadable
    from tests.corpus.mail.make_corpus import GUIDE_TABLE

    workbook = Workbook()
    for row in GUIDE_TABLE:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    for name, data in (("uwagi.xlsx", out.getvalue()), ("uwagi.xls", (CORPUS / "uwagi-tabela.xls").read_bytes())):
        for damaged in _damaged(data, seed=7) + _damaged(data, seed=8):
            try:
                read_form(name, "", damaged)
            except FormUnreadable:
                pass


SIGNED = sorted(path for path in (CORPUS.parent / "signed").iterdir() if path.suffix != ".md")


@pytest.mark.parametrize("path", SIGNED, ids=lambda path: path.name)
def test_damaged_signatures_open_to_a_file_or_to_nothing_never_an_error(path):
    """Each real CAdES, XAdES, PAdES, ASiC and S/MIME file of tests/corpus/signed, flipped and cut short: the envelope
    gives its content or nothing, its signers or none, and the mail carrying it is read."""
    from services.intake.mail.archive import asic_container
    from services.intake.mail.parse import MailRefused, parse_mail
    from services.intake.mail.signed import package_signers, pdf_signers, signature_signers, signed_content

    for data in _damaged(path.read_bytes(), seed=zlib.crc32(path.name.encode())):
        opened = signed_content(path.name, data)
        assert opened is None or isinstance(opened.data, bytes) and opened.filename
        assert all(isinstance(read(data), tuple) for read in (signature_signers, pdf_signers, package_signers))
        asic_container(data)
        if path.suffix == ".eml":
            try:
                assert parse_mail(data).attachments is not None
            except MailRefused:  # a header the flips broke is a refusal with a reason, as for any mail
                pass
