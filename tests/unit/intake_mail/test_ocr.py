"""OCR of scans for the staff who transcribe them, proved on real scans and photos (tests/corpus/mail/scans).

Tesseract is a system program: CI installs it (`.ci/run`); where it is missing the tests that read pictures fail
under CI=true and skip elsewhere, as for the other system servers.
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
from services.intake.mail.letter import scanned_letter
from services.intake.mail.ocr import (MAX_PAGES, _column_numbers, _read_upside_down, _turned_over, _Word, _words,
                                      forget_recent_scans, form_from_pages, ocr_available, page_text, scan_text)
from tests.support.infra import require_tesseract
from tests.unit.intake_mail.conftest import CORPUS, close, spy_on_isolated_child

SCANS = Path(__file__).resolve().parents[2] / "corpus" / "mail" / "scans"
LANGUAGES = "pol+eng"


def scanned_letter_text(data: bytes, languages: str) -> str:
    scanned = scanned_letter(data, languages)
    return scanned.text if scanned is not None else ""


def printed_part(number: int) -> str:
    """The text tesseract-polish printed on the pages it scanned: `sample_pl.txt` split at lines of one "-"."""
    parts = re.split(r"\n-\n", (SCANS / "sample_pl.txt").read_text(encoding="utf-8"))
    return " ".join(parts[number].split())


def accuracy(read: str, printed: str) -> float:
    return 1 - Levenshtein.normalized_distance(" ".join(read.split()), printed)


def test_tesseract_with_polish_is_installed_here():
    require_tesseract()  # fails in CI, where `.ci/run` installs it; skips on a developer's machine without it
    assert ocr_available(LANGUAGES)


@pytest.mark.parametrize(("name", "part"), [
    ("sample_pl-part1-helvetica-digital_cam.tif", 1),
    ("sample_pl-part2-courier-scanner_HP_DeskJet_F4180_300dpi.tif", 2),
    ("sample_pl-part3-times-scanner_Brother_DCP-135C_300dpi.tif", 3),
])
def test_real_scans_and_a_photo_read_as_the_text_that_was_printed(name, part):
    """Two flatbed scanners at 300 dpi and a camera, three typefaces: 98% of the characters or more, "§" kept."""
    require_tesseract()
    read = scanned_letter_text((SCANS / name).read_bytes(), LANGUAGES)
    assert accuracy(read, printed_part(part)) >= 0.98


def test_the_paragraph_sign_is_read_as_such_and_dollars_stay_dollars():
    require_tesseract()
    read = scanned_letter_text((SCANS / "sample_pl-part1-helvetica-digital_cam.tif").read_bytes(), LANGUAGES)
    assert read.startswith("Paragraf § 14")
    assert "(480000/400000 $)" in read


def test_apache_tikas_scanned_pdf_and_picture_read_as_tika_expects():
    require_tesseract()
    assert "Happy New Year 2003!" in scanned_letter_text((SCANS / "testOCR.pdf").read_bytes(), LANGUAGES)
    assert "OCR Testing" in scanned_letter_text((SCANS / "testOCR.jpg").read_bytes(), LANGUAGES)


def test_lines_are_joined_into_the_paragraphs_that_were_printed():
    require_tesseract()
    read = scanned_letter_text((SCANS / "sample_pl-part1-helvetica-digital_cam.tif").read_bytes(), LANGUAGES)
    assert "Tymczasem targ o Orillię trwał. Major odrabiał straty. Kiedy suchy chleb dla koni osiągnął pułap " \
           "skrzyni," in read


def printed_and_scanned(pdf: bytes) -> bytes:
    """The PDF as an office scanner gives it back: each page at 300 dpi in grey, a little askew and soft, as JPEG,
    in a PDF of pictures only (the same every run)."""
    import random

    import pypdfium2
    from PIL import ImageFilter

    tilt = random.Random(7)
    document, pages = pypdfium2.PdfDocument(pdf), []
    for page in document:
        picture = page.render(scale=300 / 72).to_pil().convert("L")
        picture = picture.rotate(tilt.uniform(-0.6, 0.6), resample=Image.BICUBIC, fillcolor=255)
        buffer = io.BytesIO()
        picture.filter(ImageFilter.GaussianBlur(0.6)).save(buffer, "JPEG", quality=60)
        pages.append(Image.open(io.BytesIO(buffer.getvalue())))
    scan = io.BytesIO()
    pages[0].save(scan, "PDF", resolution=300, save_all=True, append_images=pages[1:])
    return scan.getvalue()


def test_a_scanned_letters_running_header_and_page_numbers_are_read_once_and_not_at_all():
    """The four-page PDF of three public programmes with a running header and "Strona N z 4" in the footer
    (pdf/SOURCES.md), printed and scanned: Tesseract reads the header a little differently on each page, and it
    came four times, with the page numbers between the paragraphs. Now once, none, and 45 of the 49 paragraphs
    within 90 % of what was printed (as many as before: one cut by a page break is joined, a title in capitals
    over two lines is not)."""
    from rapidfuzz import fuzz

    text = scanned_letter_text(printed_and_scanned((CORPUS / "pdf" / "programy-wspolpracy-naglowek-stopka.pdf")
                                                   .read_bytes()), LANGUAGES)
    blocks = [" ".join(block.split()) for block in text.split("\n\n")]
    assert sum(fuzz.ratio(block, "Programy współpracy z organizacjami pozarządowymi – wybór") >= 85
               for block in blocks) == 1
    assert not [block for block in blocks if re.fullmatch(r"Strona \d z \d", block)]
    printed = [" ".join(line.split()) for name in ("program-gorzow-2015", "program-katowice-2010",
                                                   "program-czerwionka-2016")
               for line in (CORPUS.parent / "drafting" / f"{name}.txt").read_text("utf-8").splitlines() if line]
    assert len(printed) == 49
    assert sum(any(fuzz.ratio(paragraph, block) >= 90 for block in blocks) for paragraph in printed) >= 45


def test_a_page_scanned_on_its_side_is_turned_before_it_is_read():
    require_tesseract()
    photo = Image.open(SCANS / "sample_pl-part1-helvetica-digital_cam.tif")
    turned = io.BytesIO()
    photo.rotate(90, expand=True).save(turned, "PNG")
    assert accuracy(scanned_letter_text(turned.getvalue(), LANGUAGES), printed_part(1)) >= 0.98


def test_a_phones_turn_me_tag_is_obeyed():
    """A phone keeps the sensor's pixels and says in EXIF how to turn them (Orientation 6: 90° clockwise)."""
    require_tesseract()
    photo = Image.open(SCANS / "sample_pl-part1-helvetica-digital_cam.tif").convert("L")
    stored = photo.rotate(90, expand=True)  # what the sensor saw, held sideways
    exif = Image.Exif()
    exif[0x0112] = 6
    jpeg = io.BytesIO()
    stored.save(jpeg, "JPEG", quality=90, exif=exif)
    assert accuracy(scanned_letter_text(jpeg.getvalue(), LANGUAGES), printed_part(1)) >= 0.97


def test_a_picture_with_no_printed_words_gives_no_text():
    """The corpus's photo of a form filled in by hand: lines and strokes, nothing Tesseract is sure of."""
    require_tesseract()
    from tests.corpus.mail.make_corpus import photo_of_form

    assert scan_text(photo_of_form(), LANGUAGES) is None
    assert scanned_letter_text(photo_of_form(), LANGUAGES) == ""


def test_no_more_than_max_pages_pages_are_read():
    require_tesseract()
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


def test_a_decompression_bomb_is_refused_before_it_is_decoded(caplog):
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
    with caplog.at_level("INFO", logger="uwagi.intake.mail"):
        assert scan_text(bomb, LANGUAGES) is None
    assert "DecompressionBomb" in caplog.text  # Pillow's limit refused it, not some other failure
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
    scanned = scan_text(b"%PDF- unsure handwriting", LANGUAGES)
    assert scanned is not None and scanned.pages == ("Uwaga do § 6",) and scanned.skipped == 1


def test_the_scan_is_read_isolated_without_the_services_secrets_and_with_one_thread(monkeypatch):
    require_tesseract()
    forget_recent_scans()  # read again, not answered from what an earlier test read
    seen = spy_on_isolated_child(monkeypatch)
    assert scan_text((SCANS / "testOCR.jpg").read_bytes(), LANGUAGES) is not None
    assert seen["args"][1:4] == ["-I", "-m", "services.intake.mail.ocr"]
    assert {name for name in seen["env"] if not name.startswith("COVERAGE_")} == {"PATH", "LC_ALL", "OMP_THREAD_LIMIT"}


# --- a printed form's table read from its scan ---------------------------------------------------------------


def test_the_citys_form_filled_printed_and_scanned_gives_its_rows_over_four_pages():
    """The consultation's own form filled in, printed and scanned by a copier (four image-only pages, the header
    repeated on each, the second comment running over three): the rows typed into it, and the sender's details
    from its first table, read from the pictures."""
    require_tesseract()
    from tests.corpus.mail.make_corpus import CITY_FORM_ROWS

    scanned = scan_text((CORPUS / "city-form-filled-scan.pdf").read_bytes(), LANGUAGES)
    assert scanned is not None and scanned.form is not None
    assert [row.section for row in scanned.form.rows] == [typed[0] for typed in CITY_FORM_ROWS]
    for row, typed in zip(scanned.form.rows, CITY_FORM_ROWS, strict=True):
        for read, text in zip((row.current_text, row.proposal, row.justification), typed[1:]):
            assert close(read, text), (read, text)
    submitter = scanned.form.submitter
    assert (submitter.name, submitter.organization, submitter.email) == (
        "Jan Kamiński", "Stowarzyszenie Mieszkańców Starego Miasta", "jan.kaminski@example.org")
    assert close(submitter.address, "ul. Szeroka 1, 87-100 Toruń")


@pytest.mark.parametrize("turned", [90, 180, 270])
def test_a_form_scanned_on_its_side_or_upside_down_is_turned_upright_before_its_table_is_looked_for(turned):
    """Form A's first page laid sideways on the scanner's glass, or fed into the copier upside down: the rows on
    it are still read from its table (upside down, OCR read "1 2" of the column numbers as "Zz")."""
    from services.intake.mail.ocr import _pictures

    require_tesseract()
    page = next(_pictures((CORPUS / "form-a-toruń-scan.pdf").read_bytes()))
    sideways = io.BytesIO()
    page.rotate(turned, expand=True, fillcolor=255).save(sideways, "PNG", dpi=(300, 300))
    scanned = scan_text(sideways.getvalue(), LANGUAGES)
    assert scanned is not None and scanned.form is not None
    assert [row.section for row in scanned.form.rows] == ["§ 5 ust. 2", "Rozdział 4 pkt 3"]


def test_a_scanned_letter_has_no_form():
    require_tesseract()
    scanned = scan_text((CORPUS / "letter-federacja-torun-scan.pdf").read_bytes(), LANGUAGES)
    assert scanned is not None and scanned.form is None


def test_a_page_lying_askew_is_turned_straight_before_it_is_read():
    """Ruled lines run along the pixel rows only on a straight page; a sheet 1.5° askew on the glass is turned."""
    import numpy as np

    from services.intake.mail.ocr import _deskewed, _pictures

    page = next(_pictures((CORPUS / "form-a-toruń.pdf").read_bytes()))
    askew = page.rotate(1.5, fillcolor=255)

    def longest_rule(picture) -> float:  # the darkest pixel row: a ruled line, when it runs straight
        return float((np.asarray(picture) < 150).sum(axis=1).max() / picture.width)

    assert longest_rule(askew) < 0.2 < 0.6 < longest_rule(_deskewed(askew))


def form_page(tables, outside=()):
    return {"text": "x", "confidence": 90.0, "tables": tables, "outside": list(outside)}


HEADER = ["Lp.", "Część dokumentu", "Zapis w projekcie", "Propozycja zmiany", "Uzasadnienie"]


def test_a_table_over_pages_is_one_table_without_its_repeated_header_and_column_numbers():
    first = [HEADER, ["1", "2", "3", "4", "3"],  # the column numbers, a 5 read as 3
             ["1.", "§ 5 ust. 2", "Jest tak.", "Ma być", "Bo"]]
    second = [["Lp,", "Część dokumentu", "Zapis w projekcie", "Propozycja zmlany", "Uzasadnienie"],  # repeated
              ["", "", "", "inaczej.", "lepiej."],  # the row before, continued
              ["2.", "8 7", "", "Dodać punkt.", ""]]  # "§ 7" read as "8 7"
    form = form_from_pages([form_page([first], ["Imię i nazwisko: Ewa Lis"]), form_page([second])])
    assert form is not None
    assert [(r.section, r.current_text, r.proposal, r.justification) for r in form.rows] == [
        ("§ 5 ust. 2", "Jest tak.", "Ma być inaczej.", "Bo lepiej."), ("§ 7", "", "Dodać punkt.", "")]
    assert form.submitter.name == "Ewa Lis"


def test_column_numbers_misread_are_still_column_numbers_and_a_comment_row_is_not():
    assert _column_numbers(["", "Zz", "3", "4", "5"]) and _column_numbers(["1", "2", "3", "4", "3"])
    assert not _column_numbers(["1.", "§ 2", "", "Skreślić.", ""]) and not _column_numbers(["1", "2"])
    assert not _column_numbers(["1", "7", "3", "9", "5"])


def tsv_of(lines):
    """Tesseract's TSV for words at the given (left, top) on the picture, a line of them per list."""
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [f"5\t1\t1\t1\t{line}\t{n}\t{left}\t{top}\t40\t20\t95\tword"
            for line, words in enumerate(lines, 1) for n, (left, top) in enumerate(words, 1)]
    return "\n".join([header, *rows]) + "\n"


def test_a_page_tesseract_turned_over_is_known_by_its_words_running_right_to_left():
    upright = tsv_of([[(100, 50), (200, 50), (300, 50)], [(100, 90), (200, 90)]])
    turned = tsv_of([[(900, 950), (800, 950), (700, 950)], [(900, 910), (800, 910)]])
    assert not _read_upside_down(_words(upright)) and _read_upside_down(_words(turned))
    assert not _read_upside_down(_words(tsv_of([[(100, 50)], [(100, 90)]])))  # one word a line says nothing
    assert _turned_over([_Word("a", 10, 20, 50, 40)], 1000, 2000) == [_Word("a", 950, 1960, 990, 1980)]


def test_pages_without_a_comment_table_give_no_form():
    assert form_from_pages([form_page([[["a", "b"], ["c", "d"]]])]) is None
    assert form_from_pages([form_page([])]) is None


def test_the_same_scan_again_is_answered_from_what_was_read_and_a_failure_is_not_kept(monkeypatch):
    require_tesseract()
    import subprocess

    calls = []
    real = subprocess.run

    def counting(args, **kwargs):
        calls.append(args)
        return real(args, **kwargs)

    forget_recent_scans()
    monkeypatch.setattr(isolated.subprocess, "run", counting)
    picture = (SCANS / "testOCR.jpg").read_bytes()
    assert scan_text(picture, LANGUAGES) == scan_text(picture, LANGUAGES) is not None
    assert len(calls) == 1
    assert scan_text(b"not a picture", LANGUAGES) is None and scan_text(b"not a picture", LANGUAGES) is None
    assert len(calls) == 3

