"""LibreOffice itself accepts and rejects all revisions of a tracked-changes DOCX: accept all gives
exactly version N+1, reject all gives exactly version N.

tests/support/lo_revisions.py runs under the system Python with LibreOffice's UNO bridge
(Debian: python3-uno): it opens the engine's tracked DOCX in a private headless soffice, dispatches
`.uno:AcceptAllTrackedChanges` or `.uno:RejectAllTrackedChanges`, and returns the text LibreOffice
then holds, paragraph by paragraph and table by table, in document order.

What is compared, and the only normalisation:
- Each unit of the engine's version is one line: its number as Polish legal drafting writes it
  ("Rozdział II", "§ 5.", "2.", "3)", "b)") and its text; a table is its rows of cells.
- Each LibreOffice paragraph is one line: the number LibreOffice renders from numbering.xml (its
  list label, for Word auto-numbering) followed by the paragraph's text, which holds the number
  itself when it was typed by hand. So renumbering is checked too, with both kinds of numbering.
- Runs of whitespace become one space (a typed number is followed by a space or a tab), and
  paragraphs with no label and only whitespace are dropped (neither side has a unit for them).
- Footnote anchors and comment anchors are not text (the engine's unit text has neither).
A second comparison, label-free, is against the body text of the engine's clean DOCX of the same
version (the same oracle as the XML-level test in tests/unit/documents_engine/test_tracked.py).

In CI (CI=true) a missing soffice or python3-uno fails these tests instead of skipping them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from services.documents.engine import (Change, Version, apply_changes, parse_docx, render_clean,
                                       render_tracked)
from services.documents.engine.demo_draft import make_demo_draft
from services.documents.engine.ooxml import read_package
from tests.support.infra import unavailable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit" / "documents_engine"))

from docx_fixtures import paragraph_texts  # noqa: E402

pytestmark = pytest.mark.libreoffice

UNO_PYTHON = "/usr/bin/python3"  # the interpreter Debian's python3-uno is built for
SCRIPT = Path(__file__).resolve().parent.parent / "support" / "lo_revisions.py"
AUTHOR = "Prezydent Miasta Wzorowo"
APPROVED = datetime(2024, 11, 4, 12, 30, tzinfo=timezone.utc)
BOLD_BEFORE = "Współpraca ma charakter finansowy i pozafinansowy."
BOLD_AFTER = "Współpraca ma charakter finansowy oraz pozafinansowy."
CHANGES = (
    # delete: the points after it are renumbered
    Change("§ 2 pkt 2", "delete", comment_refs=("K-1",)),
    # insert_after: the letters after it are renumbered
    Change("§ 3 ust. 2 pkt 2 lit. a", "insert_after", "w zakresie ochrony zdrowia psychicznego,", ("K-2", "K-3")),
    # an in-unit wording edit, in a unit with a footnote
    Change("§ 2 pkt 1", "replace", "ustawę z dnia 24 kwietnia 2003 r.", ("K-4",), old_text="ustawę"),
    # delete a whole §: every later § is renumbered
    Change("§ 4", "delete", comment_refs=("K-5",)),
    # replace with a formatting change (w:rPrChange)
    Change("§ 5 ust. 1", "replace", BOLD_AFTER, ("K-6",), format={"bold": True}),
    # replace the whole wording of a unit
    Change("§ 5 ust. 3 pkt 3", "replace", "tworzenie wspólnych zespołów doradczych.", ("K-8",)),
    # insert a new section after a section with points
    Change("§ 6 ust. 2", "insert_after", "Gmina co roku ocenia realizację tych zadań.", ("K-9",)),
    # delete a table (its rows, runs and paragraph marks)
    Change("§ 16 tabela 1", "delete", comment_refs=("K-7",)),
)
DISPLAY = {"chapter": "Rozdział {}", "paragraph": "§ {}.", "section": "{}.", "point": "{})", "letter": "{})"}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def uno_python() -> str:
    if shutil.which("soffice") is None:
        unavailable("LibreOffice", "soffice is not on PATH (apt-get install libreoffice-writer-nogui)")
    probe = subprocess.run([UNO_PYTHON, "-c", "import uno"], capture_output=True, text=True, timeout=60, check=False) \
        if Path(UNO_PYTHON).exists() else None
    if probe is None or probe.returncode != 0:
        unavailable("LibreOffice's Python-UNO bridge",
                    f"{UNO_PYTHON} cannot import uno (apt-get install python3-uno)")
    return UNO_PYTHON


@pytest.fixture(scope="module", params=["typed", "auto"])
def case(request, uno_python, tmp_path_factory):
    """Versions N and N+1 of the demo draft (numbers typed by hand, or Word auto-numbering), and
    what LibreOffice makes of the tracked DOCX when it accepts all and when it rejects all."""
    old = parse_docx(make_demo_draft(request.param))
    new = apply_changes(old, CHANGES, approved_by=AUTHOR, approved_at=APPROVED)
    tracked = tmp_path_factory.mktemp(f"tracked-{request.param}") / "tracked.docx"
    tracked.write_bytes(render_tracked(old, new))
    results = {}
    for mode in ("accept", "reject"):
        run = subprocess.run([uno_python, str(SCRIPT), mode, str(tracked)], capture_output=True, timeout=120,
                             check=False)
        assert run.returncode == 0, f"lo_revisions.py {mode} failed: {run.stderr.decode(errors='replace')}"
        results[mode] = json.loads(run.stdout.decode("utf-8"))
    return old, new, results


def engine_lines(version: Version) -> list[str]:
    """One line per unit: the number as drafted and the text; a table as rows of ' | '-joined cells."""
    lines = []
    for unit in version.units:
        if unit.kind == "table":
            lines.append("\n".join(" | ".join(_norm(cell) for cell in row.split(" | "))
                                   for row in unit.text.split("\n")))
        elif unit.number:
            lines.append(_norm(DISPLAY[unit.kind].format(unit.number) + " " + unit.text))
        else:
            lines.append(_norm(unit.text))
    return lines


def libreoffice_lines(result: dict) -> list[str]:
    """One line per paragraph: LibreOffice's list label (auto-numbering) and its text; tables by rows."""
    lines = []
    for block in result["blocks"]:
        if block["kind"] == "table":
            lines.append("\n".join(" | ".join(_norm(cell) for cell in row) for row in block["cells"]))
        else:
            line = _norm(block["label"] + " " + block["text"])
            if line:
                lines.append(line)
    return lines


def libreoffice_body_texts(result: dict) -> list[str]:
    """The projection of docx_fixtures.paragraph_texts: paragraph texts without list labels, a table
    as its cells joined with '|'."""
    texts = []
    for block in result["blocks"]:
        if block["kind"] == "table":
            texts.append("|".join(cell.replace("\n", "") for row in block["cells"] for cell in row))
        else:
            texts.append(block["text"])
    return [_norm(text) for text in texts if text.strip()]


def clean_body_texts(version: Version) -> list[str]:
    document = read_package(render_clean(version))["word/document.xml"]
    return [_norm(text) for text in paragraph_texts(etree.fromstring(document))]


def test_libreoffice_accept_all_gives_exactly_version_n_plus_1(case):
    old, new, results = case
    assert engine_lines(new) != engine_lines(old)
    assert libreoffice_lines(results["accept"]) == engine_lines(new)


def test_libreoffice_reject_all_gives_exactly_version_n(case):
    old, _, results = case
    assert libreoffice_lines(results["reject"]) == engine_lines(old)


def test_libreoffice_results_equal_the_engines_clean_documents(case):
    old, new, results = case
    assert libreoffice_body_texts(results["accept"]) == clean_body_texts(new)
    assert libreoffice_body_texts(results["reject"]) == clean_body_texts(old)


def test_libreoffice_read_revisions_and_comments_and_applied_every_revision(case):
    _, _, results = case
    for mode, result in results.items():
        assert result["redlines_before"] > 0, mode
        assert result["redlines_after"] == 0, f"{mode} all left revisions behind"
        comments = " / ".join(result["comments"])
        for refs in ("K-1", "K-2, K-3", "K-4", "K-5", "K-6", "K-7", "K-8", "K-9"):
            assert f"uwag: {refs}" in comments, (mode, refs)


def test_libreoffice_accept_and_reject_apply_the_formatting_change(case):
    _, _, results = case

    def paragraph(result: dict, text: str) -> dict:
        return next(b for b in result["blocks"] if b["kind"] == "paragraph" and b["text"].endswith(text))

    assert paragraph(results["accept"], BOLD_AFTER)["bold"].endswith(BOLD_AFTER)
    assert paragraph(results["reject"], BOLD_BEFORE)["bold"] == ""


CORPUS = Path(__file__).resolve().parents[1] / "corpus"
REVIEWED_DRAFTS = [
    CORPUS / "drafting" / "word" / "testWORD_features.docx",  # Word: insertions, deletions, comments
    CORPUS / "drafting" / "word" / "testComment.docx",  # Word: a comment
    CORPUS / "mail" / "draft-piatnica-tracked.docx",  # a Polish resolution edited in LibreOffice, § 4 deleted whole
]


@pytest.fixture(scope="module")
def reviewed(uno_python, tmp_path_factory):
    """For each draft uploaded with its review's tracked changes and comments still in it: what LibreOffice
    holds after accepting all of them in the file as uploaded, and what it reads in the engine's clean
    DOCX of version 1 (one soffice for all)."""
    folder = tmp_path_factory.mktemp("reviewed")
    jobs = []
    for source in REVIEWED_DRAFTS:
        clean = folder / f"clean-{source.name}"
        clean.write_bytes(render_clean(parse_docx(source.read_bytes())))
        jobs += [{"mode": "accept", "path": str(source)}, {"mode": "none", "path": str(clean)}]
    (folder / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    run = subprocess.run([uno_python, str(SCRIPT), "batch", str(folder / "jobs.json")], capture_output=True,
                         timeout=240, check=False)
    assert run.returncode == 0, f"lo_revisions.py batch failed: {run.stderr.decode(errors='replace')}"
    results = json.loads(run.stdout.decode("utf-8"))
    return {source.name: (results[2 * index], results[2 * index + 1])
            for index, source in enumerate(REVIEWED_DRAFTS)}


@pytest.mark.parametrize("name", [source.name for source in REVIEWED_DRAFTS])
def test_a_draft_with_its_reviews_marks_is_published_as_libreoffice_accepts_it_without_comments(reviewed, name):
    """The oracle is LibreOffice's own "Accept All" on the file as uploaded: the copy residents download has
    that text, and neither a tracked change nor a comment."""
    accepted, published = reviewed[name]
    assert accepted["redlines_before"] > 0 or accepted["comments"], "the file has nothing to accept or delete"
    assert libreoffice_lines(published) == libreoffice_lines(accepted)
    assert published["redlines_before"] == 0 and published["comments"] == []


def test_a_batch_goes_on_in_a_fresh_soffice_when_soffice_dies_under_it(uno_python, tmp_path):
    """LibreOffice crashes now and then on a loaded machine ("Binary URP bridge disposed"); the batch starts a fresh
    soffice and goes on from the document it was at, so every result is there and equals an undisturbed run's."""
    jobs = [{"mode": "accept", "path": str(source)} for source in REVIEWED_DRAFTS]
    (tmp_path / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")

    def batch(**environment) -> subprocess.CompletedProcess:
        return subprocess.run([uno_python, str(SCRIPT), "batch", str(tmp_path / "jobs.json")], capture_output=True,
                              timeout=240, check=False, env={**os.environ, **environment})

    undisturbed, killed = batch(), batch(UWAGI_LO_KILL_AFTER="1")  # soffice is killed after the first document
    assert undisturbed.returncode == 0 and killed.returncode == 0, killed.stderr.decode(errors="replace")
    assert b"a fresh one goes on" in killed.stderr and b"a fresh one goes on" not in undisturbed.stderr
    assert [libreoffice_lines(result) for result in json.loads(killed.stdout)] == [
        libreoffice_lines(result) for result in json.loads(undisturbed.stdout)]
