"""OCR of scans for the staff who transcribe them, proved on real scans and photos (tests/corpus/mail/scans).

Tesseract is a system program: CI installs it (`.ci/run`), and these tests fail, never skip, where it is missing.
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from PIL import Image
from rapidfuzz.distance import Levenshtein

from services.common.settings import SettingsError, load_settings
from services.intake.mail import isolated
from services.intake.mail.letter import scanned_letter_text
from services.intake.mail.ocr import MAX_PAGES, ocr_available, page_text, scan_text
from tests.unit.intake_mail.conftest import spy_on_isolated_child

SCANS = Path(__file__).resolve().parents[2] / "corpus" / "mail" / "scans"
LANGUAGES = "pol+eng"


def printed_part(number: int) -> str:
    """The text tesseract-polish printed on the pages it scanned: `sample_pl.txt` split at lines of one "-"."""
    parts = re.split(r"\n-\n", (SCANS / "sample_pl.txt").read_text(encoding="utf-8"))
    return " ".join(parts[number].split())


def accuracy(read: str, printed: str) -> float:
    return 1 - Levenshtein.normalized_distance(" ".join(read.split()), printed)


def test_tesseract_with_polish_is_installed_here():
    assert ocr_available(LANGUAGES), "apt-get install tesseract-ocr tesseract-ocr-pol"


@pytest.mark.parametrize(("name", "part"), [
    ("sample_pl-part1-helvetica-digital_cam.tif", 1),
    ("sample_pl-part2-courier-scanner_HP_DeskJet_F4180_300dpi.tif", 2),
    ("sample_pl-part3-times-scanner_Brother_DCP-135C_300dpi.tif", 3),
])
def test_real_scans_and_a_photo_read_as_the_text_that_was_printed(name, part):
    """Two flatbed scanners at 300 dpi and a camera, three typefaces: 98% of the characters or more, "§" kept."""
    read = scanned_letter_text((SCANS / name).read_bytes(), LANGUAGES)
    assert accuracy(read, printed_part(part)) >= 0.98


def test_the_paragraph_sign_is_read_as_such_and_dollars_stay_dollars():
    read = scanned_letter_text((SCANS / "sample_pl-part1-helvetica-digital_cam.tif").read_bytes(), LANGUAGES)
    assert read.startswith("Paragraf § 14")
    assert "(480000/400000 $)" in read


def test_apache_tikas_scanned_pdf_and_picture_read_as_tika_expects():
    assert "Happy New Year 2003!" in scanned_letter_text((SCANS / "testOCR.pdf").read_bytes(), LANGUAGES)
    assert "OCR Testing" in scanned_letter_text((SCANS / "testOCR.jpg").read_bytes(), LANGUAGES)


def test_lines_are_joined_into_the_paragraphs_that_were_printed():
    read = scanned_letter_text((SCANS / "sample_pl-part1-helvetica-digital_cam.tif").read_bytes(), LANGUAGES)
    assert "Tymczasem targ o Orillię trwał. Major odrabiał straty. Kiedy suchy chleb dla koni osiągnął pułap " \
           "skrzyni," in read


def test_a_page_scanned_on_its_side_is_turned_before_it_is_read():
    photo = Image.open(SCANS / "sample_pl-part1-helvetica-digital_cam.tif")
    turned = io.BytesIO()
    photo.rotate(90, expand=True).save(turned, "PNG")
    assert accuracy(scanned_letter_text(turned.getvalue(), LANGUAGES), printed_part(1)) >= 0.98


def test_a_phones_turn_me_tag_is_obeyed():
    """A phone keeps the sensor's pixels and says in EXIF how to turn them (Orientation 6: 90° clockwise)."""
    photo = Image.open(SCANS / "sample_pl-part1-helvetica-digital_cam.tif").convert("L")
    stored = photo.rotate(90, expand=True)  # what the sensor saw, held sideways
    exif = Image.Exif()
    exif[0x0112] = 6
    jpeg = io.BytesIO()
    stored.save(jpeg, "JPEG", quality=90, exif=exif)
    assert accuracy(scanned_letter_text(jpeg.getvalue(), LANGUAGES), printed_part(1)) >= 0.97


def test_a_picture_with_no_printed_words_gives_no_text():
    """The corpus's photo of a form filled in by hand: lines and strokes, nothing Tesseract is sure of."""
    from tests.corpus.mail.make_corpus import photo_of_form

    assert scan_text(photo_of_form(), LANGUAGES) is None
    assert scanned_letter_text(photo_of_form(), LANGUAGES) == ""


def test_no_more_than_max_pages_pages_are_read():
    page = Image.open(SCANS / "testOCR.jpg").convert("L")
    pdf = io.BytesIO()
    page.save(pdf, "PDF", save_all=True, append_images=[page] * (MAX_PAGES + 3), resolution=72)
    scanned = scan_text(pdf.getvalue(), LANGUAGES)
    assert scanned is not None and len(scanned.pages) == MAX_PAGES


@pytest.mark.parametrize("data", [
    b"", b"not a picture at all", b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
    (SCANS / "testOCR.jpg").read_bytes()[:1500],  # cut off in transfer
    b"GIF89a" + bytes(40),
], ids=["empty", "text", "broken-pdf", "truncated-jpeg", "broken-gif"])
def test_what_is_no_readable_scan_gives_no_text_and_no_error(data):
    assert scan_text(data, LANGUAGES) is None


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    """A PNG of 40,000 × 40,000 white pixels is a few hundred kilobytes: 1.6 gigapixels once decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    side = 40_000
    rows = zlib.compress((b"\0" + b"\xff" * (side // 8)) * side, 9)
    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    started = time.monotonic()
    assert scan_text(bomb, LANGUAGES) is None
    assert time.monotonic() - started < 20


def test_without_tesseract_on_the_path_ocr_is_unavailable(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert not ocr_available(LANGUAGES)


def test_a_language_without_its_data_is_unavailable():
    assert not ocr_available("pol+xyz")


def test_the_languages_come_from_the_environment_and_off_turns_ocr_off():
    assert load_settings({}).ocr_languages == "pol+eng"
    assert load_settings({"UWAGI_OCR_LANGUAGES": "pol"}).ocr_languages == "pol"
    assert load_settings({"UWAGI_OCR_LANGUAGES": "off"}).ocr_languages is None
    with pytest.raises(SettingsError, match="UWAGI_OCR_LANGUAGES"):
        load_settings({"UWAGI_OCR_LANGUAGES": "pol; rm -rf /"})


# --- Tesseract's TSV made text (pure) -----------------------------------------------------------------


def tsv(*lines: tuple[int, int, list[tuple[str, float]]]) -> str:
    """Tesseract's TSV of lines given as (top, height, [(word, confidence)])."""
    out = ["level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"]
    for number, (top, height, words) in enumerate(lines, 1):
        out.append(f"4\t1\t1\t1\t{number}\t0\t10\t{top}\t500\t{height}\t-1\t")
        for index, (word, confidence) in enumerate(words, 1):
            out.append(f"5\t1\t1\t1\t{number}\t{index}\t{10 + 50 * index}\t{top}\t40\t{height}\t{confidence}\t{word}")
    return "\n".join(out) + "\n"


def test_a_dollar_before_a_number_is_a_paragraph_sign_unless_a_number_comes_first():
    text, _ = page_text(tsv((0, 30, [("$", 40), ("6", 90), ("ust.", 95), ("2", 95)]),
                            (40, 30, [("kosztuje", 90), ("400", 90), ("$", 90), ("i", 90), ("$5", 90)])))
    assert text == "§ 6 ust. 2\nkosztuje 400 $ i §5"


def test_a_spaced_hyphen_is_a_dash_and_a_hyphenated_word_is_not():
    text, _ = page_text(tsv((0, 30, [("społeczno-gospodarczy", 90), ("-", 90), ("uwaga", 90)])))
    assert text == "społeczno-gospodarczy – uwaga"


def test_an_unsure_speck_is_dropped_and_a_sure_mark_kept():
    text, _ = page_text(tsv((0, 30, [("|", 20), ("Uwaga", 90), ("—", 30), ("„tak”", 90), ("—", 90)])))
    assert text == "Uwaga „tak” —"


def test_a_wide_gap_or_a_new_column_starts_a_paragraph():
    text, _ = page_text(tsv((100, 30, [("pierwszy", 90)]), (135, 30, [("ciąg", 90)]),
                            (220, 30, [("drugi", 90)]), (50, 30, [("kolumna", 90)])))
    assert text == "pierwszy\nciąg\n\ndrugi\n\nkolumna"


def test_confidence_is_the_mean_over_letters():
    _, confidence = page_text(tsv((0, 30, [("abcd", 90), ("ef", 30)])))
    assert confidence == pytest.approx((4 * 90 + 2 * 30) / 6)
    assert page_text("") == ("", 0.0)


def test_a_page_read_unsure_is_left_out_and_counted(monkeypatch):
    """Handwriting gives Tesseract's words confidences in the 20s and 30s: the page is skipped, not guessed."""
    def child(*_args, **_kwargs):
        import subprocess

        pages = '{"pages": [{"text": "Uwaga do § 6", "confidence": 91.0}, {"text": "Uw4ga d0 ~6", "confidence": 31.0}]}'
        return subprocess.CompletedProcess([], 0, pages.encode(), b"")

    monkeypatch.setattr(isolated.subprocess, "run", child)
    scanned = scan_text(b"%PDF-", LANGUAGES)
    assert scanned is not None and scanned.pages == ("Uwaga do § 6",) and scanned.skipped == 1


def test_the_scan_is_read_isolated_without_the_services_secrets_and_with_one_thread(monkeypatch):
    seen = spy_on_isolated_child(monkeypatch)
    assert scan_text((SCANS / "testOCR.jpg").read_bytes(), LANGUAGES) is not None
    assert seen["args"][1:4] == ["-I", "-m", "services.intake.mail.ocr"]
    assert {name for name in seen["env"] if not name.startswith("COVERAGE_")} == {"PATH", "LC_ALL", "OMP_THREAD_LIMIT"}
