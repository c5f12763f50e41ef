"""Letter reading benchmark: the text of a letter attached to a mail, per format, against the floor of its format.

`python bench/letter_reading_bench.py [--rounds 30]` prints one JSON line. For each format it reads the same real
files (the Federacja letter of `tests/corpus/mail/` as LibreOffice writes it, Tika's list and header files, the
four-page PDF with a running header) `rounds` times and gives the median milliseconds per file of:
- `floor_ms`: what any reader of the format must do, measured in the same run on the same files: unzip and parse
  the main XML part with lxml (DOCX, ODT), open the OLE file and read its two streams (Word 97), pypdf's
  `extract_text` of every page (PDF);
- `ours_ms`: `letter_text` (numbers of lists, headers and footers, notes, text boxes, page furniture);
- `ratio`: ours / floor.

The process is pinned to one CPU.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MAIL = ROOT / "tests" / "corpus" / "mail"
FILES = {
    "docx": [MAIL / "letter-federacja-torun.docx", ROOT / "tests/corpus/drafting/word/testWORD_numbered_list.docx"],
    "odt": [MAIL / "letter-federacja-torun.odt", MAIL / "odt/testWORD_numbered_list.odt",
            MAIL / "odt/testWORD_various.odt"],
    "doc": [MAIL / "letter-federacja-torun.doc", MAIL / "doc/testWORD_numbered_list.doc",
            MAIL / "doc/testWORD_various.doc"],
    "pdf": [MAIL / "letter-federacja-torun.pdf", MAIL / "pdf/programy-wspolpracy-naglowek-stopka.pdf",
            MAIL / "pdf/testPDFVarious.pdf"],
}


def floor(kind: str, data: bytes) -> None:
    from lxml import etree

    if kind in ("docx", "odt"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            etree.fromstring(archive.read("word/document.xml" if kind == "docx" else "content.xml"))
    elif kind == "doc":
        import olefile

        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            ole.openstream("WordDocument").read()
            ole.openstream("1Table" if ole.exists("1Table") else "0Table").read()
    else:
        from pypdf import PdfReader

        for page in PdfReader(io.BytesIO(data)).pages:
            page.extract_text()


def median_ms(function, files: list[bytes], rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        for data in files:
            function(data)
        timings.append((time.perf_counter() - started) * 1000 / len(files))
    return statistics.median(timings)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    arguments = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from services.intake.mail.letter import letter_text

    results = {}
    for kind, paths in FILES.items():
        files = [path.read_bytes() for path in paths]
        for data in files:  # warm: imports, caches
            floor(kind, data)
            assert letter_text(kind, data), (kind, "no text")
        floor_ms = median_ms(lambda data: floor(kind, data), files, arguments.rounds)
        ours_ms = median_ms(lambda data: letter_text(kind, data), files, arguments.rounds)
        results[kind] = {"files": len(files), "floor_ms": round(floor_ms, 3), "ours_ms": round(ours_ms, 3),
                         "ratio": round(ours_ms / floor_ms, 2)}
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
