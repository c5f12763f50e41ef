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
import hashlib
import io
import json
import logging
import math
import re
import shutil
import subprocess
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

from services.intake.mail.isolated import limit_resources, run_isolated
from services.intake.mail.rows import FilledForm

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
RECENT_SCANS = 16


@dataclass(frozen=True)
class ScanText:
    pages: tuple[str, ...]  # the text of each page read with confidence, a line for each printed line
    skipped: int  # pages read but left out: too unsure (handwriting, a blurred photo)
    form: FilledForm | None = None  # a printed comment form's rows, read from its ruled table


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
    answer = _read(data, languages, wall_seconds)
    try:
        pages = answer["pages"] if answer else []
        sure = [page for page in pages if float(page["confidence"]) >= MIN_CONFIDENCE and str(page["text"]).strip()]
    except (KeyError, TypeError, ValueError):
        return None
    if not sure:
        return None
    return ScanText(tuple(page["text"] for page in sure), len(pages) - len(sure), form_from_pages(sure))


_recent: OrderedDict[tuple[str, str], dict] = OrderedDict()  # the child's answers, by the scan's sha256
_recent_lock = threading.Lock()


def _read(data: bytes, languages: str, wall_seconds: float) -> dict | None:
    """The child's answer for this scan. The last `RECENT_SCANS` answers are kept in the process: the same scan
    comes again (a mail imported again after the object store failed, a letter forwarded by two people, the
    letter form posted back), and a page costs seconds. A failure is not kept: a timeout may pass."""
    key = (hashlib.sha256(data).hexdigest(), languages)
    with _recent_lock:
        if key in _recent:
            _recent.move_to_end(key)
            return _recent[key]
    # One thread for Tesseract: its OpenMP threads cost more than they give on a small machine
    answer = run_isolated("services.intake.mail.ocr", data, args=(languages,), wall_seconds=wall_seconds,
                          what="scan", extra_env={"OMP_THREAD_LIMIT": "1"})
    if answer is not None:
        with _recent_lock:
            _recent[key] = answer
            while len(_recent) > RECENT_SCANS:
                _recent.popitem(last=False)
    return answer


def forget_recent_scans() -> None:
    with _recent_lock:
        _recent.clear()


def form_from_pages(pages: list[dict]) -> FilledForm | None:
    """The comment form printed on the scanned pages, from their ruled tables, as a DOCX form's is read
    (`form.assemble`). A table that goes on over a page is one table: the header a form repeats at a page's top
    is left out, and a row that starts with an empty first cell at a page's top continues the row before it.
    The row of column numbers under the header ("1 2 3 4 5") is left out however OCR read its digits. Pure."""
    from services.intake.mail.form import assemble

    paragraphs: list[str] = []
    grids: list[list[list[str]]] = []
    for page in pages:
        paragraphs.extend(line for line in page.get("outside", []) if isinstance(line, str))
        for index, table in enumerate(page.get("tables", [])):
            grid = [[str(cell) for cell in row] for row in table if isinstance(row, list)]
            grid = [row for position, row in enumerate(grid) if not (position < 3 and _column_numbers(row))]
            previous = grids[-1] if grids and index == 0 else None
            if previous and grid and len(grid[0]) == len(previous[-1]):
                while grid and any(_same_row(grid[0], header) for header in previous[:3]):
                    grid = grid[1:]
                if grid and not grid[0][0].strip() and any(cell.strip() for cell in grid[0]):
                    previous[-1] = [f"{a} {b}".strip() if b.strip() else a for a, b in zip(previous[-1], grid[0])]
                    grid = grid[1:]
                previous.extend(grid)
            elif grid:
                grids.append(grid)
    form = assemble(paragraphs, grids) if grids else None
    if form is None:
        return None
    return replace(form, rows=tuple(replace(row, section=_SECTION_SIGN.sub("§ ", row.section)) for row in form.rows))


# In the column that names the provision, "§ 7" read as "8 7": no provision is called that.
_SECTION_SIGN = re.compile(r"^[8S]\s+(?=\d)")


def _column_numbers(row: list[str]) -> bool:
    """The row numbering the header's columns: three or more short cells, numbers counting up by one at least
    twice (OCR may misread a digit or two: a 5 as 3, "1 2" as "Zz")."""
    values = [cell.strip().rstrip(".,") for cell in row if cell.strip()]
    numbers = [int(value) if value.isdecimal() else None for value in values]
    counting = sum(1 for earlier, later in zip(numbers, numbers[1:])
                   if earlier is not None and later is not None and later == earlier + 1)
    return len(values) >= 3 and all(len(value) <= 2 for value in values) and counting >= 2


def _same_row(row: list[str], other: list[str]) -> bool:
    from rapidfuzz import fuzz

    return len(row) == len(other) and fuzz.ratio(" | ".join(row), " | ".join(other)) >= 90


# --- what Tesseract says, made text (pure) ------------------------------------------------------------------


# Tesseract's Polish model reads "§" as "$" more often than not; a "$" before a number that no number precedes
# is a paragraph sign in a Polish letter ("$ 6 ust. 2"), while "400 $" stays dollars.
_PARAGRAPH_SIGN = re.compile(r"(?<![\d\s])(\s*)\$(?=\s?\d)|^\$(?=\s?\d)", re.MULTILINE)
_LONE_MARK = re.compile(r"^[^\w§$]{1,2}$")  # "$" is kept: it is a "§" read unsure
# A hyphen with a space on each side is a dash in Polish typography, which Tesseract reads as a hyphen.
_SPACED_HYPHEN = re.compile(r"(?<=\S) - (?=\S)")
_AT_SIGN = re.compile(r"(?<=[\w.])©(?=\w)")


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
    return _repaired("\n".join(out)), (weighted / letters if letters else 0.0)


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
        picture = _deskewed(_upright(picture, languages))
        png = io.BytesIO()
        picture.save(png, "PNG", dpi=(RENDER_DPI, RENDER_DPI))
        # --psm 1: find the blocks and lines, and turn the page first when it was scanned on its side
        done = subprocess.run(["tesseract", "stdin", "stdout", "-l", languages, "--psm", "1", "tsv"],
                              input=png.getvalue(), capture_output=True, timeout=PAGE_SECONDS, check=False,
                              preexec_fn=lambda: limit_resources(MEMORY_LIMIT, CPU_SECONDS))
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"tesseract: {said[-1] if said else done.returncode}")
        tsv = done.stdout.decode("utf-8", "replace")
        text, confidence = page_text(tsv)
        words = _words(tsv)
        if _read_upside_down(words):
            # Tesseract read the page turned over (a sheet fed into the copier the wrong way round) and gives its
            # words' boxes on the picture as it is: turn both, so the table is looked for the right way up.
            picture, words = picture.rotate(180), _turned_over(words, picture.width, picture.height)
        tables, outside = page_tables(_ruled_cells(picture), words)
        pages.append({"text": text, "confidence": round(confidence, 1), "tables": tables, "outside": outside})
    return {"pages": pages}


# --- a form's table in a scan -------------------------------------------------------------


@dataclass(frozen=True)
class _Word:
    text: str
    left: int
    top: int
    right: int
    bottom: int
    line: tuple[str, str, str] = ("", "", "")  # Tesseract's block, paragraph and line numbers


def _words(tsv: str) -> list[_Word]:
    """Tesseract's words with their boxes; the cell borders it reads as "|" and other unsure specks left out."""
    words = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        word = (row.get("text") or "").strip()
        try:
            confidence = float(row.get("conf") or -1)
            left, top = int(row.get("left") or 0), int(row.get("top") or 0)
            width, height = int(row.get("width") or 0), int(row.get("height") or 0)
        except ValueError:
            continue
        if row.get("level") != "5" or not word or confidence < 0 or set(word) <= set("|[]!/\\_—-") or (
                _LONE_MARK.match(word) and confidence < 50):
            continue
        line = (row.get("block_num") or "", row.get("par_num") or "", row.get("line_num") or "")
        words.append(_Word(word, left, top, left + width, top + height, line))
    return words


def _read_upside_down(words: list[_Word]) -> bool:
    """Tesseract turned the page over before reading it: on the picture, most of its lines' words follow one
    another from right to left. Pure."""
    pairs = [(earlier.left, later.left) for earlier, later in zip(words, words[1:]) if earlier.line == later.line]
    backward = sum(1 for earlier, later in pairs if later <= earlier)
    return backward >= 3 and backward > 3 * (len(pairs) - backward)


def _turned_over(words: list[_Word], width: int, height: int) -> list[_Word]:
    """The words' boxes on the page turned by 180°. Pure."""
    return [replace(word, left=width - word.right, top=height - word.bottom, right=width - word.left,
                    bottom=height - word.top) for word in words]


def _upright(picture, languages: str):
    """A page wider than tall may be a portrait page scanned on its side: Tesseract's orientation detection
    (`--psm 0`) says by how much to turn it, so that the table is looked for the right way up (Tesseract turns
    the text it reads itself, but not the picture the table is found in). A page it cannot judge stays as it is."""
    if picture.width <= picture.height:
        return picture
    png = io.BytesIO()
    picture.save(png, "PNG", dpi=(RENDER_DPI, RENDER_DPI))
    done = subprocess.run(["tesseract", "stdin", "stdout", "--psm", "0", "-l", "osd"], input=png.getvalue(),
                          capture_output=True, timeout=PAGE_SECONDS, check=False,
                          preexec_fn=lambda: limit_resources(MEMORY_LIMIT, CPU_SECONDS))
    said = dict(line.split(":", 1) for line in done.stdout.decode("utf-8", "replace").splitlines() if ":" in line)
    try:
        turn, sure = int(said.get("Rotate", "0").strip()), float(said.get("Orientation confidence", "0").strip())
    except ValueError:
        return picture
    return picture.rotate(-turn, expand=True, fillcolor=255) if turn in (90, 270) and sure >= 2 else picture


def _deskewed(picture):
    """The page turned straight: a sheet lies a little askew on the glass, and a table's ruled lines must run
    along the pixel rows to be found. The angle (within ±2°) is the one at which the dark pixels' rows line up
    best (the projection profile's sum of squares is largest)."""
    import numpy as np
    from PIL import Image

    small = picture.resize((max(1, picture.width // 3), max(1, picture.height // 3)))
    ys, xs = np.nonzero(np.asarray(small) < 128)
    if len(ys) < 500:
        return picture
    if len(ys) > 400_000:
        keep = np.random.default_rng(0).choice(len(ys), 400_000, replace=False)
        ys, xs = ys[keep], xs[keep]

    def sharpness(tenths: int) -> float:
        rows = np.round(ys - xs * math.tan(math.radians(tenths / 10))).astype(np.int64)
        counts = np.bincount(rows - rows.min())
        return float((counts.astype(np.float64) ** 2).sum())

    best = max(range(-20, 21), key=sharpness)
    if best == 0:
        return picture
    return picture.rotate(best / 10, resample=Image.BICUBIC, fillcolor=255)


@dataclass(frozen=True)
class _Band:
    top: int
    bottom: int
    edges: tuple[int, ...]  # the ruled lines between its cells, left to right (the outer borders included)


def _ruled_cells(picture) -> list[list[_Band]]:
    """The page's ruled tables, each as its rows (bands between two ruled lines across it) with the ruled lines
    that part each row into cells: a rule across is a pixel row dark along most of the table, a rule down is a
    pixel column dark along nearly the whole row."""
    import numpy as np

    dark = np.asarray(picture) < 150
    height, width = dark.shape
    across = _runs(np.nonzero(dark.sum(axis=1) >= 0.4 * width)[0], gap=3)
    tables: list[list[_Band]] = []
    current: list[_Band] = []
    for (_top0, above), (below, _bottom1) in zip(across, across[1:]):
        top, bottom = above + 1, below
        if bottom - top < 10:  # a double line, or a rule drawn thick
            continue
        inner = dark[top + 2:bottom - 2]
        edges = tuple((start + end) // 2 for start, end in
                      _runs(np.nonzero(inner.sum(axis=0) >= 0.9 * inner.shape[0])[0], gap=3))
        if len(edges) >= 2 and current and current[-1].bottom >= above - 6:
            current.append(_Band(top, bottom, edges))
        elif len(edges) >= 2:
            if current:
                tables.append(current)
            current = [_Band(top, bottom, edges)]
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def _runs(indexes, *, gap: int) -> list[tuple[int, int]]:
    """Consecutive indexes (allowing `gap` missing ones) as (first, last) pairs."""
    runs: list[tuple[int, int]] = []
    for index in (int(i) for i in indexes):
        if runs and index - runs[-1][1] <= gap:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return runs


def page_tables(tables: list[list[_Band]], words: list[_Word]) -> tuple[list[list[list[str]]], list[str]]:
    """Each ruled table as rows of cell texts (a cell spanning k columns of the table given as its text and k-1
    empty cells, as a DOCX form's grid is), and the page's lines outside its tables. Pure."""
    placed: dict[tuple[int, int, int], list[_Word]] = {}
    outside: list[_Word] = []
    columns_of = [_columns(bands) for bands in tables]
    for word in words:
        x, y = (word.left + word.right) / 2, (word.top + word.bottom) / 2
        spot = next(((t, b, c) for t, bands in enumerate(tables) for b, band in enumerate(bands)
                     if band.top <= y < band.bottom for c in range(len(band.edges) - 1)
                     if band.edges[c] <= x < band.edges[c + 1]), None)
        if spot is None:
            outside.append(word)
        else:
            placed.setdefault(spot, []).append(word)
    grids = []
    for t, bands in enumerate(tables):
        grid = []
        for b, band in enumerate(bands):
            row: list[str] = []
            for c in range(len(band.edges) - 1):
                span = sum(1 for x in columns_of[t] if band.edges[c] <= x < band.edges[c + 1] - 6) or 1
                text = _cell_text(_lines(placed.get((t, b, c), [])), band.edges[c], band.edges[c + 1])
                row.extend([text] + [""] * (span - 1))
            grid.append(row)
        grids.append(grid)
    return grids, [_repaired(" ".join(w.text for w in line)) for line in _lines(outside)]


def _columns(bands: list[_Band]) -> list[int]:
    """The table's column starts: every row's cell edges but the last, those a few pixels apart taken as one."""
    starts = sorted(edge for band in bands for edge in band.edges[:-1])
    return [first for first, _last in _runs(starts, gap=12)]


def _lines(words: list[_Word]) -> list[list[_Word]]:
    """Words as printed lines, top to bottom, each left to right."""
    if not words:
        return []
    usual = sorted(w.bottom - w.top for w in words)[len(words) // 2] or 1
    lines: list[list[_Word]] = []
    for word in sorted(words, key=lambda w: (w.top + w.bottom) / 2):
        middle = (word.top + word.bottom) / 2
        if lines and abs(middle - sum((w.top + w.bottom) / 2 for w in lines[-1]) / len(lines[-1])) < 0.6 * usual:
            lines[-1].append(word)
        else:
            lines.append([word])
    return [sorted(line, key=lambda w: w.left) for line in lines]


def _cell_text(lines: list[list[_Word]], left: int, right: int) -> str:
    """A cell's printed lines joined back with spaces, but without one after a hyphen that follows a letter (the
    word's own: "społeczno-gospodarczy") or where the form's narrow column broke a word (`_broken`). A line may
    reach as far from the cell's right edge as its text starts from the left one."""
    if not lines:
        return ""
    start = min(line[0].left for line in lines)
    usable = (start, right - max(0, start - left))
    text = " ".join(w.text for w in lines[0])
    for previous, line in zip(lines, lines[1:]):
        joined_without_space = re.search(r"[^\W\d_]-$", text) or _broken(previous, line, usable)
        text += ("" if joined_without_space else " ") + " ".join(w.text for w in line)
    return _repaired(text)


def _broken(previous: list[_Word], line: list[_Word], usable: tuple[int, int]) -> bool:
    """A word processor breaks inside a word only when the word alone is wider than the column: the line before is
    that one word's start, it reaches the edge (within two of its letters: OCR's boxes hug the ink), the whole
    word would not have fitted (by more than a letter: ink is narrower than the glyphs' advance), and lower case
    follows. The Polish word list then decides, as for a PDF (`pdf_form._broken_word`): the joined word is a word,
    or the line's word is not one ("pozafinanso" | "wy.")."""
    from services.intake.mail.pdf_form import _known_word

    word, after = previous[0], line[0]
    if len(previous) != 1 or not word.text[-1:].isalpha() or not after.text[:1].islower():
        return False
    letter = (word.right - word.left) / max(1, len(word.text))
    whole = (word.right - word.left) + (after.right - after.left)  # the ink of the word joined, spaces apart
    if word.right < usable[1] - 2 * letter or whole + letter <= usable[1] - usable[0]:
        return False
    continuation = re.match(r"\w+", after.text)
    return _known_word(word.text + (continuation.group(0) if continuation else "")) or not _known_word(word.text)


def _repaired(text: str) -> str:
    """Tesseract's usual slips in Polish text (see `page_text`), and "@" read as "©" inside an e-mail address."""
    text = _PARAGRAPH_SIGN.sub(lambda m: (m.group(1) or "") + "§", text)
    return _AT_SIGN.sub("@", _SPACED_HYPHEN.sub(" – ", text))


if __name__ == "__main__":
    limit_resources(MEMORY_LIMIT, CPU_SECONDS)
    from services.common.settings import valid_ocr_languages

    if len(sys.argv) != 2 or not valid_ocr_languages(sys.argv[1]):
        sys.exit("usage: python -m services.intake.mail.ocr LANGUAGES < scan")
    json.dump(read_in_child(sys.stdin.buffer.read(), sys.argv[1]), sys.stdout, ensure_ascii=False)
