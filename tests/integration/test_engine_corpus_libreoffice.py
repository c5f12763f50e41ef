"""LibreOffice proves tracked changes on real Polish drafting (tests/corpus/drafting): accept all gives
exactly version N+1, reject all exactly version N, in the typed and the Word-numbered layouts and in the
Word-numbered layout after a LibreOffice round trip.

Each unit is compared as the reader sees it, line by line: a number on a line of its own ("§ 1.",
"Rozdział 2", from Word numbering or typed) is one line and the text the next; "§ 2. 1. Tekst" is one
line; a § whose number opens its first ust. has no line of its own. Only whitespace runs are normalised
(a no-break space after "§" counts as a space), and a tiret's dash, which LibreOffice renders as a bullet
glyph for Word lists and keeps as text when typed, is dropped on both sides.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from services.documents.engine import Version, apply_changes, parse_docx, render_tracked
from services.documents.engine.ooxml import read_package
from services.documents.engine.render import head_text, number_prefix
from tests.integration.test_tracked_changes_libreoffice import SCRIPT, uno_python  # noqa: F401  (fixture)
from tests.support.drafting_corpus import layout_docx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "documents_engine"))

from test_drafting_corpus import APPROVED, CORPUS_CHANGES  # noqa: E402

pytestmark = pytest.mark.libreoffice

DISPLAY = {"division": "DZIAŁ {}", "chapter": "Rozdział {}", "paragraph": "§ {}.", "article": "Art. {}.",
           "section": "{}.", "point": "{})", "letter": "{})", "tiret": ""}


def _norm(text: str) -> str:
    text = re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()
    return re.sub(r"^[–—-] ", "", text)


def _tail_lines(xml: str) -> list[str]:
    """Text of the paragraphs kept after a unit without being units (signatures, footnotes, page headers)."""
    lines = []
    for paragraph in re.findall(r"<w:p[ >].*?</w:p>", xml, re.S):
        text = _norm("".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", paragraph)))
        if text:
            lines.append(text)
    return lines


def list_level_texts(docx: bytes) -> dict[tuple[str, str], str]:
    """(numId, ilvl) → the level's lvlText ("Rozdział %1", "%1." for "II. Cele programu") from numbering.xml."""
    numbering = read_package(docx).get("word/numbering.xml", b"").decode()
    abstract = {match.group(1): dict(re.findall(r'<w:lvl w:ilvl="(\d+)"[^>]*>.*?<w:lvlText w:val="([^"]*)"',
                                                 match.group(2), re.S))
                for match in re.finditer(r'<w:abstractNum [^>]*w:abstractNumId="(\d+)"[^>]*>(.*?)</w:abstractNum>',
                                         numbering, re.S)}
    levels = {}
    for num_id, abstract_id in re.findall(r'<w:num w:numId="(\d+)"[^>]*>\s*<w:abstractNumId w:val="(\d+)"',
                                          numbering):
        for ilvl, text in abstract.get(abstract_id, {}).items():
            levels[(num_id, ilvl)] = text
    return levels


def _shown_number(unit, levels: dict[tuple[str, str], str]) -> str:
    """The number Word renders for an automatically numbered unit: its list level's text."""
    num_id = re.search(r'<w:numId w:val="(\d+)"', unit.ppr)
    ilvl = re.search(r'<w:ilvl w:val="(\d+)"', unit.ppr)
    text = levels.get((num_id.group(1), ilvl.group(1) if ilvl else "0")) if num_id else None
    if text is None:
        return DISPLAY.get(unit.kind, "").format(unit.number)
    return re.sub(r"%\d", unit.number, text) if unit.kind != "tiret" else ""


def engine_lines(version: Version, levels: dict[tuple[str, str], str] | None = None) -> list[str]:
    """Each unit as the reader sees it, then what follows it in the body without being a unit."""
    by_id = version.index()
    levels = levels or {}
    lines = []
    for unit in version.units:
        if unit.kind != "table" and not unit.shares_paragraph:
            if unit.numbering == "auto":  # Word renders the number from the list level
                number = _shown_number(unit, levels) if unit.number else ""
                if unit.opens_parent:
                    parent = by_id[unit.parent]
                    number = _shown_number(parent, levels) + " " + number
            else:  # typed: the engine writes it, keeping the drafter's form ("Art. 1", "§1")
                number = head_text(unit) if unit.has_head else number_prefix(unit)
            if unit.has_head:
                lines.append(_norm(number))
                lines.extend(_tail_lines(unit.title_xml))  # a §'s title line ("POSTANOWIENIA OGÓLNE")
                lines.append(_norm(unit.text))
            elif unit.folded_xml:  # an annex heading drafted one line a paragraph: its lines as drafted
                lines.extend(_tail_lines(unit.source_xml + unit.folded_xml))
            else:
                lines.append(_norm(number + " " + unit.text))
        lines.extend(_tail_lines(unit.tail_xml))
    return [line for line in lines if line]


def libreoffice_lines(result: dict) -> list[str]:
    lines = []
    for block in result["blocks"]:
        if block["kind"] == "paragraph":
            label = block["label"] if re.search(r"[0-9IVXa-z]", block["label"]) else ""
            line = _norm(label + " " + block["text"])
            if line:
                lines.append(line)
    return lines


CASES = [(name, layout) for name in sorted(CORPUS_CHANGES) for layout in ("typed", "word", "word-lo")]


@pytest.fixture(scope="module")
def libreoffice_results(uno_python, tmp_path_factory) -> dict:  # noqa: F811
    """Every case's tracked document accepted and rejected by LibreOffice, all in one soffice (`batch`): a soffice
    start costs more than a document, and starting one per document made this module a fifth of `make test`."""
    built, jobs = {}, []
    for name, layout in CASES:
        source = layout_docx(name, layout)
        old = parse_docx(source)
        new = apply_changes(old, CORPUS_CHANGES[name], approved_by="Rada Miejska", approved_at=APPROVED)
        tracked = tmp_path_factory.mktemp(f"{name}-{layout}") / "tracked.docx"
        tracked.write_bytes(render_tracked(old, new))
        built[(name, layout)] = (old, new, list_level_texts(source))
        jobs += [{"mode": mode, "path": str(tracked)} for mode in ("accept", "reject")]
    job_file = tmp_path_factory.mktemp("lo-jobs") / "jobs.json"
    job_file.write_text(json.dumps(jobs), "utf-8")
    run = subprocess.run([uno_python, str(SCRIPT), "batch", str(job_file)], capture_output=True,
                         timeout=150 + 20 * len(jobs), check=False)
    assert run.returncode == 0, f"lo_revisions.py batch failed: {run.stderr.decode(errors='replace')}"
    results = iter(json.loads(run.stdout.decode("utf-8")))
    return {case: (*built[case][:2], {"accept": next(results), "reject": next(results)}, built[case][2])
            for case in CASES}


@pytest.fixture(params=CASES, ids=lambda p: f"{p[0]}-{p[1]}")
def case(request, libreoffice_results):
    return libreoffice_results[request.param]


def test_libreoffice_accept_all_gives_exactly_version_n_plus_1(case):
    old, new, results, levels = case
    assert engine_lines(new, levels) != engine_lines(old, levels)
    assert libreoffice_lines(results["accept"]) == engine_lines(new, levels)
    assert results["accept"]["redlines_after"] == 0 and results["accept"]["redlines_before"] > 0


def test_libreoffice_reject_all_gives_exactly_version_n(case):
    old, _, results, levels = case
    assert libreoffice_lines(results["reject"]) == engine_lines(old, levels)
    assert results["reject"]["redlines_after"] == 0


def test_the_toruń_demo_draft_keeps_its_labels_after_a_libreoffice_round_trip(uno_python, tmp_path):  # noqa: F811
    import shutil as _shutil

    from services.documents.engine.demo_draft import make_torun_draft
    from test_demo_draft import expected_labels

    source = tmp_path / "torun.docx"
    source.write_bytes(make_torun_draft(2027))
    soffice = _shutil.which("soffice") or _shutil.which("libreoffice")
    out = tmp_path / "out"
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to",
                    "docx:MS Word 2007 XML", "--outdir", str(out), str(source)], check=True, capture_output=True,
                   timeout=180)
    version = parse_docx((out / "torun.docx").read_bytes())
    assert [unit.label for unit in version.units] == expected_labels()
