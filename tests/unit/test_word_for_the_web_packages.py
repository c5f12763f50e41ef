"""Word for the web (Office 365 in a browser, SharePoint) saves a .docx whose document is word/document2.xml, named
by the package's relationships; Word and LibreOffice open it. Python libraries that look only for
word/document.xml refuse it (python-docx2txt #16, ruby-docx #83, PHPWord #1253), and so did Uwagi: a resident's
form and a clerk's draft came back as "not a Word document". The shape is pandoc's test file
`test/docx/alternate_document_path.docx` (a byte-order mark before the relationships, an absolute target), here
given to the city's real form and to a public programme."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from services.common.docx_safety import PackageRejected, check_docx, with_usual_main_part
from services.documents.engine.parse import parse_docx
from services.documents.engine.render import render_clean
from services.intake.mail.form import read_form
from services.intake.mail.letter import letter_text

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
CITY_FORM = CORPUS / "mail" / "city-form-filled.docx"
PROGRAMME = CORPUS / "drafting" / "program-gorzow-2015.word-lo.docx"
BOM = b"\xef\xbb\xbf"


def as_word_for_the_web(data: bytes, main: str = "word/document2.xml", keep_old: bool = False) -> bytes:
    """The package as Word for the web writes it: the document and its relationships under `main`'s name, the
    content type override and the package relationship naming it by an absolute path."""
    source = zipfile.ZipFile(io.BytesIO(data))
    renamed = {"word/document.xml": main, "word/_rels/document.xml.rels": f"word/_rels/{Path(main).name}.rels"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "[Content_Types].xml":
                content = content.replace(b'PartName="/word/document.xml"', f'PartName="/{main}"'.encode())
            if info.filename == "_rels/.rels":
                content = BOM + content.replace(b'Target="word/document.xml"', f'Target="/{main}"'.encode())
            if keep_old and info.filename in renamed:
                package.writestr(info.filename, b"<stale/>")
            package.writestr(renamed.get(info.filename, info.filename), content)
    return buffer.getvalue()


def test_the_shape_is_word_for_the_webs():
    package = zipfile.ZipFile(io.BytesIO(as_word_for_the_web(CITY_FORM.read_bytes())))
    assert "word/document.xml" not in package.namelist() and "word/document2.xml" in package.namelist()
    assert b'Target="/word/document2.xml"' in package.read("_rels/.rels")


def test_a_form_saved_by_word_for_the_web_gives_the_same_rows_and_letter_text():
    original = CITY_FORM.read_bytes()
    online = as_word_for_the_web(original)
    check_docx(online)
    form = read_form("uwagi.docx", "application/octet-stream", online)
    assert form is not None and len(form.rows) >= 2
    assert form == read_form("uwagi.docx", "application/octet-stream", original)
    assert letter_text("docx", online) == letter_text("docx", original) != ""


def test_a_draft_saved_by_word_for_the_web_gives_the_same_units_and_a_usual_package():
    original = PROGRAMME.read_bytes()
    online = as_word_for_the_web(original, keep_old=True)  # a stale word/document.xml beside it is not read
    version = parse_docx(online)
    assert version.to_json() == parse_docx(original).to_json()
    clean = zipfile.ZipFile(io.BytesIO(render_clean(version)))
    assert "word/document.xml" in clean.namelist() and "word/document2.xml" not in clean.namelist()
    assert b"document2" not in clean.read("[Content_Types].xml") + clean.read("_rels/.rels")


def test_a_usual_package_comes_back_as_it_is():
    original = CITY_FORM.read_bytes()
    assert with_usual_main_part(original) is original


@pytest.mark.parametrize("main", ["document2.xml", "word/media/document2.xml", "word/missing.xml"])
def test_a_document_outside_word_or_missing_is_still_not_a_word_document(main):
    online = as_word_for_the_web(CITY_FORM.read_bytes(), main=main)
    if main == "word/missing.xml":
        package = zipfile.ZipFile(io.BytesIO(online))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as without:
            for info in package.infolist():
                if info.filename != main:
                    without.writestr(info, package.read(info))
        online = buffer.getvalue()
    with pytest.raises(PackageRejected) as rejected:
        check_docx(online)
    assert rejected.value.code == "not_docx"
