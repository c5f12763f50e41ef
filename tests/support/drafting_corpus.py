"""The real-text drafting corpus (tests/corpus/drafting): build its DOCX layouts and score the parser on them.

Each document is a `.txt` file holding a real public Polish legal text, one paragraph a line, as typed in
its publication, and a `.expected.json` file with the unit labels a lawyer reads in it (written by hand,
never by running the engine): a list of [label, start of the unit's text].

Layouts:
- "typed": every line a paragraph, numbers typed by hand ("§ 2. 1. Tekst", "a) tekst", "– tiret");
  a no-break space follows "§", as in Dziennik Ustaw;
- "word": the numbers come from Word list numbering (numbering.xml: "§ %1.", "%2.", "%3)", "%4)", a "–"
  bullet, "Rozdział %1", "DZIAŁ %1", "Art. %1.", an upper-Roman "%1." or "%1" for headings such as
  "II. Cele programu", and "%4." for letters typed "a."), as a drafter would set them up: "§ 2. 1. Tekst"
  becomes a numbered "§ 2." paragraph with no text followed by a numbered "1. Tekst" paragraph; under a
  Roman heading the ust. and pkt are the lower levels of the Roman list, so they restart with each heading;
  an annex restarts its lists with w:startOverride. Numbers Word cannot produce ("Art. 1a.") stay typed, and
  so does the closing wording of a list ("– osoby prawne …" after a point that opens no list: the "część
  wspólna"), which is no list item;
- "soft-breaks": typed, but every line that opens a ust., pkt, lit. or tiret follows the line before it after
  a line break (Shift+Enter) in the same paragraph, as drafters type lists inside a §;
- "typed-lo" and "word-lo": those two files after a LibreOffice round-trip (soffice --convert-to docx),
  kept as files in the corpus folder (`<name>.<layout>.docx`), made by `build_round_trips`.

The generator below decides layout from the typed text with its own small rules; it never calls the
engine's parser.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from services.documents.engine.docxwriter import DocxSpec, ListLevel, build_docx, paragraph_xml, run_xml

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "drafting"
LAYOUTS = ("typed", "word", "soft-breaks", "typed-lo", "word-lo")

_CHAPTER_LIST, _DIVISION_LIST, _PARAGRAPH_LIST, _ARTICLE_LIST, _ROMAN_LIST = 1, 2, 3, 4, 5
_DASH = re.compile(r"^[–-]\s+")
_LOWER_LEVELS = [ListLevel("decimal", "%2.", 360), ListLevel("decimal", "%3)", 720),
                 ListLevel("lowerLetter", "%4)", 1080), ListLevel("bullet", "–", 1440)]


def documents() -> list[str]:
    return sorted(path.name[:-len(".txt")] for path in CORPUS.glob("*.txt"))


def source_lines(name: str) -> list[str]:
    return [line.rstrip("\n") for line in (CORPUS / f"{name}.txt").read_text("utf-8").splitlines() if line.strip()]


def expected_labels(name: str) -> list[tuple[str, str]]:
    return [(label, start) for label, start in json.loads((CORPUS / f"{name}.expected.json").read_text("utf-8"))]


def typed_docx(name: str) -> bytes:
    body = [paragraph_xml(run_xml(re.sub(r"^§ ", "§\u00a0", line))) for line in source_lines(name)]
    return build_docx(DocxSpec(body=body, title=name))


_LOWER_UNIT = re.compile(r"^(?:\d{1,3}[a-z]?[.)]|[a-z]\)|[–-])\s")


def soft_breaks_docx(name: str) -> bytes:
    paragraphs: list[str] = []
    for line in source_lines(name):
        line = re.sub(r"^§ ", "§\u00a0", line)
        if paragraphs and _LOWER_UNIT.match(line):
            paragraphs[-1] += "\n" + line
        else:
            paragraphs.append(line)
    return build_docx(DocxSpec(body=[paragraph_xml(run_xml(text)) for text in paragraphs], title=name))


class _WordLists:
    """numIds of the document's lists; an annex gets fresh instances restarted at 1."""

    def __init__(self) -> None:
        self.nums: dict[int, tuple[int, dict[int, int]]] = {}
        self.current: dict[int, int] = {}
        self.part = 0

    def num(self, abstract: int) -> int:
        if abstract not in self.current:
            num_id = len(self.nums) + 1
            self.nums[num_id] = (abstract, {0: 1} if self.part else {})
            self.current[abstract] = num_id
        return self.current[abstract]

    def new_part(self) -> None:
        self.part += 1
        self.current = {}


def word_docx(name: str) -> bytes:
    lists = _WordLists()
    body: list[str] = []
    chapter_format = "decimal"
    last_level_list = _PARAGRAPH_LIST

    def numbered(text: str, abstract: int, level: int) -> str:
        return paragraph_xml(run_xml(text) if text else "", numbering=(lists.num(abstract), level))

    previous = ""
    seen_provision = False  # footnotes follow an act's §§ or articles; a programme may open with "1) Celem …"
    for line in source_lines(name):
        seen_provision = seen_provision or bool(re.match(r"^(?:§|Art\.)\s?\d", line))
        closing_wording = bool(_DASH.match(line)) and not previous.rstrip().endswith(":") and \
            not _DASH.match(previous)
        before, previous = previous, line
        if closing_wording:
            body.append(paragraph_xml(run_xml(line)))
            continue
        if match := re.match(r"^([IVXLC]+)(\.?)\s+([A-ZĄĆĘŁŃÓŚŹŻ].*)$", line):
            last_level_list = _ROMAN_LIST + (0 if match.group(2) else 10)
            body.append(numbered(match.group(3), last_level_list, 0))
            continue
        if line.startswith("Załącznik"):
            lists.new_part()
            body.append(paragraph_xml(run_xml(line)))
            continue
        if match := re.match(r"^DZIAŁ ([IVXL]+)$", line):
            body.append(numbered("", _DIVISION_LIST, 0))
            continue
        if match := re.match(r"^Rozdział (\d+|[IVXL]+)\.?\s*(.*)$", line):
            chapter_format = "decimal" if match.group(1).isdigit() else "upperRoman"
            body.append(numbered(match.group(2), _CHAPTER_LIST + (10 if chapter_format != "decimal" else 0), 0))
            continue
        # a Dz.U. footnote ("2) Niniejsze rozporządzenie …" after the signature), not the first point of a list
        # whose intro ends with a colon ("… jest mowa o:" / "1) Mieście – …") or of a text without §§
        footnote = re.match(r"^\d+\) [A-ZĄĆĘŁŃÓŚŹŻ]", line) and not re.match(r"^\d+\)\s", before) and \
            not before.rstrip().endswith(":") and seen_provision
        if footnote or re.match(r"^(Art\.|§)\s?\d+[a-z]", line):
            body.append(paragraph_xml(run_xml(line)))  # footnotes and "Art. 1a." stay typed
            continue
        if match := re.match(r"^(§|Art\.)\s?(\d+)\.?(?:\s+(\d+)\.(?=\s))?\s*(.*)$", line):
            last_level_list = _PARAGRAPH_LIST if match.group(1) == "§" else _ARTICLE_LIST
            if match.group(3):
                body.append(numbered("", last_level_list, 0))
                body.append(numbered(match.group(4), last_level_list, 1))
            else:
                body.append(numbered(match.group(4), last_level_list, 0))
            continue
        for pattern, level in ((r"^\d+\.\s+(.*)$", 1), (r"^\d+\)\s+(.*)$", 2), (r"^[a-z][.)]\s+(.*)$", 3),
                               (r"^[–-]\s+(.*)$", 4)):
            if match := re.match(pattern, line):
                body.append(numbered(match.group(1), last_level_list, level))
                break
        else:
            body.append(paragraph_xml(run_xml(line)))
    # Letters typed "a." rather than "a)" get a list level that shows them so.
    lower_levels = list(_LOWER_LEVELS)
    if any(re.match(r"^[a-z]\.\s", line) for line in source_lines(name)):
        lower_levels[2] = ListLevel("lowerLetter", "%4.", lower_levels[2].indent)
    abstract_lists = {
        _CHAPTER_LIST: [ListLevel("decimal", "Rozdział %1")],
        _CHAPTER_LIST + 10: [ListLevel("upperRoman", "Rozdział %1")],
        _DIVISION_LIST: [ListLevel("upperRoman", "DZIAŁ %1")],
        _PARAGRAPH_LIST: [ListLevel("decimal", "§ %1.")] + lower_levels,
        _ARTICLE_LIST: [ListLevel("decimal", "Art. %1.")] + lower_levels,
        _ROMAN_LIST: [ListLevel("upperRoman", "%1.")] + lower_levels,
        _ROMAN_LIST + 10: [ListLevel("upperRoman", "%1")] + lower_levels,
    }
    used = {abstract for abstract, _ in lists.nums.values()}
    return build_docx(DocxSpec(body=body, title=name, nums=lists.nums,
                               abstract_lists={key: value for key, value in abstract_lists.items() if key in used}))


def layout_docx(name: str, layout: str) -> bytes:
    if layout == "typed":
        return typed_docx(name)
    if layout == "word":
        return word_docx(name)
    if layout == "soft-breaks":
        return soft_breaks_docx(name)
    return (CORPUS / f"{name}.{layout}.docx").read_bytes()


def build_round_trips(names: list[str] | None = None) -> None:
    """Write `<name>.typed-lo.docx` and `<name>.word-lo.docx` with LibreOffice (needs soffice)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RuntimeError("soffice is not on PATH")
    with tempfile.TemporaryDirectory() as work:
        sources, outdir = Path(work) / "in", Path(work) / "out"
        sources.mkdir()
        for name in names or documents():
            for layout in ("typed", "word"):
                (sources / f"{name}.{layout}-lo.docx").write_bytes(layout_docx(name, layout))
        profile = Path(work) / "profile"
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                        "docx:MS Word 2007 XML", "--outdir", str(outdir),
                        *sorted(str(path) for path in sources.iterdir())],
                       check=True, capture_output=True, timeout=300)
        for path in outdir.iterdir():
            shutil.copyfile(path, CORPUS / path.name)


def score(version, expected: list[tuple[str, str]]) -> tuple[int, int, list[str]]:
    """(correct, out of, problems): each expected unit must appear with its label and the start of its text;
    units the reader does not see as units (noise) count against the score."""
    units = [(unit.label, " ".join(unit.text.split())) for unit in version.units]
    used: set[int] = set()
    correct, problems = 0, []
    for label, start in expected:
        start = " ".join(start.split())
        found = next((index for index, (got_label, text) in enumerate(units)
                      if index not in used and got_label == label and (text.startswith(start) if start else not text)),
                     None)
        if found is None:
            near = [f"{got_label!r}: {text[:40]!r}" for got_label, text in units if start and text.startswith(start)]
            problems.append(f"missing {label!r} {start[:40]!r}" + (f" (got {', '.join(near)})" if near else ""))
        else:
            used.add(found)
            correct += 1
    extra = [f"unexpected {units[index][0]!r}: {units[index][1][:40]!r}" for index in range(len(units))
             if index not in used]
    return correct, max(len(expected), len(units)), problems + extra


def measure() -> dict[str, dict[str, float]]:
    from services.documents.engine import parse_docx

    results: dict[str, dict[str, float]] = {}
    for name in documents():
        for layout in LAYOUTS:
            correct, total, _ = score(parse_docx(layout_docx(name, layout)), expected_labels(name))
            results.setdefault(name, {})[layout] = correct / total
    return results


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["round-trips"]:
        build_round_trips()
    else:
        for document, by_layout in measure().items():
            print(f"{document:32s} " + "  ".join(f"{layout} {value:6.1%}" for layout, value in by_layout.items()))
