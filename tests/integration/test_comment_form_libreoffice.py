"""LibreOffice (headless) opens the generated comment form; a form filled in and saved by LibreOffice as ODT or DOCX
is still read by e-mail intake. In CI (CI=true) a missing `soffice` fails these tests instead of skipping them."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import docx
import pytest

from services.intake.comment_form import COLUMNS, CommentFormSpec, FormUnit, build_comment_form
from services.intake.mail.form import read_form
from tests.integration.test_engine_libreoffice import convert, soffice  # noqa: F401  (the fixture)

pytestmark = pytest.mark.libreoffice

SPEC = CommentFormSpec(
    title="Wspólnie o programie współpracy z NGO na 2026 r.", stage="II etap",
    organiser="Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia",
    deadline="21 października 2025 r.", contact_email="konsultacje@um.torun.pl",
    postal_address="ul. Wały gen. Sikorskiego 8, 87-100 Toruń",
    units=(FormUnit("Rozdział I", "chapter", "Postanowienia ogólne"), FormUnit("§ 1", "paragraph"),
           FormUnit("§ 5 ust. 2", "section"), FormUnit("§ 5 ust. 2 pkt 1", "point")),
    created=datetime(2025, 10, 8, 8, 0, tzinfo=timezone.utc))


def filled_form() -> bytes:
    document = docx.Document(io.BytesIO(build_comment_form(SPEC)))
    details, comments = document.tables
    details.rows[0].cells[1].paragraphs[0].add_run("Zofia Żółkiewska")
    details.rows[3].cells[1].paragraphs[0].add_run("zofia@example.org")
    for cell, value in zip(comments.rows[1].cells[1:], ("§ 5 ust. 2 pkt 1", "powierzanie zadań;",
                                                        "powierzanie i wspieranie zadań;", "Zgodnie z ustawą.")):
        cell.paragraphs[0].add_run(value)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_libreoffice_reads_the_generated_form_with_its_table_and_provisions(soffice, tmp_path):  # noqa: F811
    source = tmp_path / "formularz.docx"
    source.write_bytes(build_comment_form(SPEC))
    text = convert(soffice, source, "txt:Text (encoded):UTF8", tmp_path).read_text(encoding="utf-8-sig")
    text = text.replace("\u00a0", " ")
    assert "FORMULARZ ZGŁASZANIA UWAG" in text and "Wspólnie o programie współpracy z NGO na 2026 r." in text
    assert all(column.replace("\u00a0", " ") in text for column in COLUMNS[1:])
    assert "Rozdział I. Postanowienia ogólne – § 1; § 5 ust. 2; § 5 ust. 2 pkt 1" in text
    assert "Klauzula informacyjna (RODO)" in text


@pytest.mark.parametrize("target", ["odt", "docx:MS Word 2007 XML"])
def test_a_form_filled_and_saved_by_libreoffice_is_read_by_e_mail_intake(soffice, tmp_path, target):  # noqa: F811
    source = tmp_path / "wypelniony.docx"
    source.write_bytes(filled_form())
    out = tmp_path / "out"
    out.mkdir()
    saved = convert(soffice, source, target, out)
    filled = read_form(saved.name, "", saved.read_bytes())
    assert filled is not None and len(filled.rows) == 1
    row = filled.rows[0]
    assert (row.section, row.current_text, row.proposal, row.justification) == (
        "§ 5 ust. 2 pkt 1", "powierzanie zadań;", "powierzanie i wspieranie zadań;", "Zgodnie z ustawą.")
    assert filled.submitter.name == "Zofia Żółkiewska" and filled.submitter.email == "zofia@example.org"
