"""LibreOffice (headless) opens every DOCX the engine writes, and reads its revisions as revisions.

In CI (CI=true) a missing `soffice` fails these tests instead of skipping them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "documents_engine"))

from services.documents.engine import (Change, ReportData, apply_changes, build_report_docx, parse_docx,  # noqa: E402
                                       render_clean, render_tracked)
from services.documents.engine.demo_draft import make_demo_draft  # noqa: E402
from services.documents.engine.ooxml import read_package  # noqa: E402
from tests.support.infra import unavailable  # noqa: E402

pytestmark = pytest.mark.libreoffice

AUTHOR = "Prezydent Miasta Wzorowo"


@pytest.fixture(scope="module")
def soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        unavailable("LibreOffice (soffice)", "apt-get install libreoffice-writer-nogui libreoffice-calc-nogui")
    return path


def convert(soffice: str, source: Path, target_format: str, out_dir: Path) -> Path:
    """Convert with a private profile so parallel runs never share LibreOffice's lock."""
    profile = out_dir / "lo-profile"
    result = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
         "--convert-to", target_format, "--outdir", str(out_dir), str(source)],
        capture_output=True, text=True, timeout=180)
    converted = out_dir / f"{source.stem}.{target_format.split(':')[0]}"
    assert result.returncode == 0 and converted.exists(), result.stdout + result.stderr
    return converted


@pytest.fixture(scope="module")
def versions():
    draft = parse_docx(make_demo_draft("typed"))
    changes = [Change("§ 2 pkt 2", "delete", comment_refs=("K-1",)),
               Change("§ 3 ust. 2 pkt 2 lit. a", "insert_after", "w zakresie zdrowia psychicznego,", ("K-2",)),
               Change("§ 5 ust. 1", "replace", "Współpraca ma charakter finansowy oraz pozafinansowy.", ("K-3",),
                      format={"bold": True}),
               Change("§ 16 tabela 1", "delete", comment_refs=("K-4",))]
    new = apply_changes(draft, changes, approved_by=AUTHOR,
                        approved_at=datetime(2024, 11, 4, 12, 0, tzinfo=timezone.utc))
    return draft, new


def test_libreoffice_reads_tracked_revisions_and_comments(soffice, versions, tmp_path):
    old, new = versions
    source = tmp_path / "tracked.docx"
    source.write_bytes(render_tracked(old, new))
    out_dir = tmp_path / "out"
    resaved = read_package(convert(soffice, source, "docx", out_dir).read_bytes())
    document = resaved["word/document.xml"].decode()
    authors = set(re.findall(r'<w:(?:ins|del) [^>]*w:author="([^"]*)"', document))
    assert authors == {AUTHOR}, "LibreOffice must keep the revisions as revisions"
    assert "<w:delText" in document and "zdrowia psychicznego" in document
    comments = resaved["word/comments.xml"].decode()
    for ref in ("K-1", "K-2", "K-3", "K-4"):
        assert ref in comments


def test_libreoffice_opens_the_clean_new_version(soffice, versions, tmp_path):
    _, new = versions
    source = tmp_path / "clean.docx"
    source.write_bytes(render_clean(new))
    text = convert(soffice, source, "txt:Text", tmp_path / "out").read_text(encoding="utf-8-sig")
    assert "b) w zakresie zdrowia psychicznego," in text
    assert "c) w zakresie kultury" in text
    assert "organizacjach – rozumie się" not in text


def test_libreoffice_opens_the_word_numbered_demo_draft_with_our_labels(soffice, tmp_path):
    source = tmp_path / "draft.docx"
    source.write_bytes(make_demo_draft("auto"))
    text = convert(soffice, source, "txt:Text", tmp_path / "out").read_text(encoding="utf-8-sig")
    assert "Rozdział II" in text and "§ 5." in text
    assert re.search(r"b\)\s+w zakresie kultury", text)


def test_libreoffice_opens_the_report(soffice, tmp_path):
    from test_report import report_json

    source = tmp_path / "report.docx"
    source.write_bytes(build_report_docx(ReportData.from_json(report_json())))
    text = convert(soffice, source, "txt:Text", tmp_path / "out").read_text(encoding="utf-8-sig")
    assert "Raport z konsultacji społecznych" in text and "Osoba prywatna" in text
    assert "Stanowisko Miasta wraz z uzasadnieniem" in text


def test_libreoffice_calc_opens_the_xlsx_export(soffice, tmp_path):
    """Needs LibreOffice Calc (libreoffice-calc-nogui), which CI installs next to Writer."""
    from test_report import report_json

    from services.documents.engine import build_report_xlsx

    source = tmp_path / "report.xlsx"
    source.write_bytes(build_report_xlsx(ReportData.from_json(report_json())))
    text = convert(soffice, source, "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path / "out").read_text(
        encoding="utf-8")
    header = text.splitlines()[0]
    assert header.startswith("Lp.,Numer zgłoszenia,Zgłaszający,Część dokumentu")
    assert "Osoba prywatna" in text and "[dane usunięte]" in text


def test_libreoffice_calc_shows_a_formula_like_comment_as_text_not_as_its_result(soffice, tmp_path):
    from test_report import _poisoned

    from services.documents.engine import build_report_xlsx

    source = tmp_path / "poisoned.xlsx"
    source.write_bytes(build_report_xlsx(ReportData.from_json(_poisoned('=HYPERLINK("http://evil.example","klik")'))))
    text = convert(soffice, source, "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path / "out").read_text(
        encoding="utf-8")
    assert 'HYPERLINK(""http://evil.example"",""klik"")' in text  # the text itself, CSV-quoted
    assert ",klik," not in text and '"klik"\n' not in text
