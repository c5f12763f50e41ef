"""The text of a scan: a letter printed, signed and scanned, or a page photographed, read by OCR (Tesseract) for
the staff who transcribe it.

Comments reach the city hall on paper and come back as scans: a PDF of page images from the office's copier, a
TIFF from a flatbed scanner, a phone's JPEG. Nothing in them is text, so without OCR staff retype every word. What
Tesseract reads is a help beside the picture, never the comment itself: a page whose words Tesseract is not sure
of (handwriting, a blurred photo, a drawing) gives no text rather than a page of guesses.

A scan is decoded and read in a child process (`python -I -m services.intake.mail.ocr LANGUAGES`, the file on its
standard input, the pages as JSON on its standard output) with limits on memory, CPU and time: image decoders and
PDF renderers are where hostile files aim, and Tesseract itself runs under the same limits. At most `MAX_PAGES`
pages are read; a page is rendered or scaled to about 300 dpi and never more than `MAX_SIDE` pixels a side.

Tesseract is a system program (`apt-get install tesseract-ocr tesseract-ocr-pol`). Where it is missing, or
`UWAGI_OCR_LANGUAGES=off`, scans are shown as pictures only, as before.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import logging
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

from services.intake.mail.isolated import limit_resources, run_isolated

log = logging.getLogger("uwagi.intake.mail")

MAX_PAGES = 5
MAX_SIDE = 4_200  # pixels of a page's longer side: an A4 page at 360 dpi
PHOTO_SIDE = 2_400  # pixels of the longer side a photo of unknown resolution is enlarged to (at most 3 ×)
MAX_PIXELS = 60_000_000  # of one decoded image, before scaling; more is a decompression bomb
RENDER_DPI = 300
MIN_CONFIDENCE = 60.0  # Tesseract's mean word confidence below which a page's text is guesses
MEMORY_LIMIT = 1536 << 20  # bytes of address space, for the child and Tesseract each
CPU_SECONDS = 60  # for the child and for each Tesseract run
WALL_SECONDS = 150
PAGE_SECONDS = 40


@dataclass(frozen=True)
class ScanText:
    pages: tuple[str, ...]  # the text of each page read with confidence, a line for each printed line
    skipped: int  # pages read but left out: too unsure (handwriting, a blurred photo)


def ocr_available(languages: str) -> bool:
    """Tesseract is installed with the data of every language asked for."""
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        return False
    try:
        listed = subprocess.run([tesseract, "--list-langs"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    installed = set(listed.stdout.decode("utf-8", "replace").split())
    return all(language in installed for language in languages.split("+"))


@functools.lru_cache(maxsize=4)
def ocr_ready(languages: str) -> bool:
    """`ocr_available`, asked once a process; its absence is logged once, for the operator."""
    ready = ocr_available(languages)
    if not ready:
        log.warning("scans are not read: tesseract with the languages %s is not installed "
                    "(apt-get install tesseract-ocr tesseract-ocr-pol; UWAGI_OCR_LANGUAGES=off hides this)", languages)
    return ready


def scan_text(data: bytes, languages: str, *, wall_seconds: float = WALL_SECONDS) -> ScanText | None:
    """The text of a scanned PDF or a picture, read in a limited child process; None when it gave none (no
    Tesseract, not a picture or PDF, damaged, too costly, or nothing read with confidence)."""
    # One thread for Tesseract: its OpenMP threads cost more than they give on a small machine
    answer = run_isolated("services.intake.mail.ocr", data, args=(languages,), wall_seconds=wall_seconds,
                          what="scan", extra_env={"OMP_THREAD_LIMIT": "1"})
    try:
        pages = [page for page in answer["pages"] if isinstance(page["text"], str)] if answer else []
    except (KeyError, TypeError):
        return None
    sure = [page["text"] for page in pages if page["confidence"] >= MIN_CONFIDENCE and page["text"].strip()]
    if not sure:
        return None
    return ScanText(tuple(sure), len(pages) - len(sure))


# --- what Tesseract says, made text (pure) ------------------------------------------------------------------


# Tesseract's Polish model reads "§" as "$" more often than not; a "$" before a number that no number precedes
# is a paragraph sign in a Polish letter ("$ 6 ust. 2"), while "400 $" stays dollars.
_PARAGRAPH_SIGN = re.compile(r"(?<![\d\s])(\s*)\$(?=\s?\d)|^\$(?=\s?\d)", re.MULTILINE)
_LONE_MARK = re.compile(r"^[^\w§$]{1,2}$")  # "$" is kept: it is a "§" read unsure
# A hyphen with a space on each side is a dash in Polish typography, which Tesseract reads as a hyphen.
_SPACED_HYPHEN = re.compile(r"(?<=\S) - (?=\S)")


def page_text(tsv: str) -> tuple[str, float]:
    """A page's text from Tesseract's TSV output, and its mean word confidence weighted by length.

    One line of text per printed line; a blank line where the gap above a line is wider than most lines are tall
    (a paragraph's end, a letter's address block) or where the text goes back up (the next column). Tesseract's
    own paragraphs are not used: it starts one at every indented line. A speck read as one unsure mark ("|",
    "—") is dropped."""
    lines: dict[tuple[str, ...], dict] = {}
    weighted = letters = 0.0
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        key = (row.get("page_num"), row.get("block_num"), row.get("par_num"), row.get("line_num"))
        try:
            confidence = float(row.get("conf") or -1)
            top, height = int(row.get("top") or 0), int(row.get("height") or 0)
        except ValueError:
            continue
        if row.get("level") == "4":
            lines[key] = {"top": top, "bottom": top + height, "words": []}
            continue
        word = (row.get("text") or "").strip()
        if row.get("level") != "5" or not word or confidence < 0 or key not in lines:
            continue
        if _LONE_MARK.match(word) and confidence < 50:
            continue
        weighted += confidence * len(word)
        letters += len(word)
        lines[key]["words"].append(word)
    printed = [line for line in lines.values() if line["words"]]
    heights = sorted(line["bottom"] - line["top"] for line in printed)
    usual = heights[len(heights) // 2] if heights else 0
    out: list[str] = []
    for previous, line in zip([None, *printed], printed):
        if previous is not None and (line["top"] - previous["bottom"] > 0.75 * usual or line["top"] < previous["top"]):
            out.append("")
        out.append(" ".join(line["words"]))
    text = _PARAGRAPH_SIGN.sub(lambda m: (m.group(1) or "") + "§", "\n".join(out))
    text = _SPACED_HYPHEN.sub(" – ", text)
    return text, (weighted / letters if letters else 0.0)


# --- in the child process -----------------------------------------------------------------


def _pictures(data: bytes):
    """Each page of the scan as a greyscale picture of about 300 dpi, at most MAX_PAGES of them."""
    import warnings

    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    warnings.simplefilter("error", Image.DecompressionBombWarning)  # Pillow only warns up to twice the limit
    if data[:1024].lstrip().startswith(b"%PDF-"):
        import pypdfium2

        document = pypdfium2.PdfDocument(data)
        for index in range(min(len(document), MAX_PAGES)):
            page = document[index]
            width, height = page.get_size()  # in points, 1/72 in
            scale = min(RENDER_DPI / 72, MAX_SIDE / max(width, height, 1))
            yield page.render(scale=scale, grayscale=True).to_pil().convert("L")
        return
    image = Image.open(io.BytesIO(data))
    if image.format not in ("PNG", "JPEG", "TIFF", "GIF", "WEBP", "BMP"):
        raise ValueError(f"not a scan: {image.format}")
    for index in range(min(getattr(image, "n_frames", 1), MAX_PAGES)):  # a scanner's multi-page TIFF
        image.seek(index)
        page = ImageOps.exif_transpose(image).convert("L")  # a phone stores "turn me" beside the pixels
        dpi = float((image.info.get("dpi") or (0, 0))[0] or 0)
        # A scanner says its resolution. A camera's "72 dpi" says nothing: a small photo is enlarged, as Tesseract
        # misses letters, and which way up the page is, when they are only a few pixels tall
        scale = RENDER_DPI / dpi if dpi >= 100 else min(3.0, max(1.0, PHOTO_SIDE / max(page.size)))
        scale = min(scale, MAX_SIDE / max(page.size))
        if abs(scale - 1.0) > 0.1:
            page = page.resize((max(1, round(page.width * scale)), max(1, round(page.height * scale))))
        yield page


def read_in_child(data: bytes, languages: str) -> dict:
    pages = []
    for picture in _pictures(data):
        png = io.BytesIO()
        picture.save(png, "PNG", dpi=(RENDER_DPI, RENDER_DPI))
        # --psm 1: find the blocks and lines, and turn the page first when it was scanned on its side
        done = subprocess.run(["tesseract", "stdin", "stdout", "-l", languages, "--psm", "1", "tsv"],
                              input=png.getvalue(), capture_output=True, timeout=PAGE_SECONDS, check=False,
                              preexec_fn=lambda: limit_resources(MEMORY_LIMIT, CPU_SECONDS))
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"tesseract: {said[-1] if said else done.returncode}")
        text, confidence = page_text(done.stdout.decode("utf-8", "replace"))
        pages.append({"text": text, "confidence": round(confidence, 1)})
    return {"pages": pages}


if __name__ == "__main__":
    limit_resources(MEMORY_LIMIT, CPU_SECONDS)
    from services.common.settings import valid_ocr_languages

    if len(sys.argv) != 2 or not valid_ocr_languages(sys.argv[1]):
        sys.exit("usage: python -m services.intake.mail.ocr LANGUAGES < scan")
    json.dump(read_in_child(sys.stdin.buffer.read(), sys.argv[1]), sys.stdout, ensure_ascii=False)
