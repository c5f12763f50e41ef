"""The demo consultation's document is a realistic Toruń programme: an uchwała with its annex, "§ 1. 1."
lines, Word-numbered chapters and points; the parser reads it as a lawyer does in every layout."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from docx_fixtures import accept_all, paragraph_texts, reject_all
from lxml import etree

from services.documents.engine import apply_changes, parse_docx, render_clean, render_tracked
from services.documents.engine.demo_draft import TORUN_TITLE, make_torun_draft
from services.documents.engine.model import Change
from services.documents.engine.ooxml import read_package


def expected_labels() -> list[str]:
    """The labels a reader gives the Toruń draft, in order (written by reading the draft, by hand)."""
    labels = [f"Tytuł, akapit {n}" for n in range(1, 6)] + ["§ 1", "§ 2", "§ 3", "Załącznik", "Załącznik akapit 1"]
    chapters = [  # (§ in the annex, its ust. with their pkt and lit.)
        [(0,), (5,)], [(0,), (4, (3, 3))], [None], [None], [(0,), (3,), (4,)], [(6,), (0,)], [None], [(0,), (0,)],
        [None], [(4,), (0,)], [None], [(0,), (2,), (0,)]]
    for chapter, (paragraph, sections) in enumerate(zip(range(1, 13), chapters), start=1):
        labels.append(f"Załącznik Rozdział {chapter}")
        prefix = f"Załącznik § {paragraph}"
        labels.append(prefix)
        if sections == [None]:
            continue
        for section, points in enumerate(sections, start=1):
            where = f"{prefix} ust. {section}"
            labels.append(where)
            count, letters = points[0], dict([points[1]]) if len(points) > 1 else {}
            for point in range(1, count + 1):
                labels.append(f"{where} pkt {point}")
                for letter in "abcdefgh"[:letters.get(point, 0)]:
                    labels.append(f"{where} pkt {point} lit. {letter}")
    return labels



@pytest.mark.parametrize("numbering", ["auto", "typed"])
def test_the_toruń_draft_reads_as_drafted(numbering):
    version = parse_docx(make_torun_draft(2027, numbering))
    assert [unit.label for unit in version.units] == expected_labels()
    assert version.warnings == ()
    by_label = {unit.label: unit for unit in version.units}
    assert by_label["Załącznik Rozdział 2"].title == "Cele programu"
    assert by_label["Załącznik § 2 ust. 2 pkt 3 lit. b"].text.startswith("w zakresie kultury")
    assert by_label["§ 3"].text.startswith("Uchwała wchodzi w życie z dniem 1 stycznia 2027 r.")


def test_the_toruń_draft_is_for_the_year_it_names():
    text = b"".join(read_package(make_torun_draft(2027))["word/document.xml"].split(b"<"))
    assert "w 2027 r.".encode() in text and b"2025" not in text
    assert TORUN_TITLE.format(year=2027) == "Program współpracy Gminy Miasta Toruń z organizacjami pozarządowymi w 2027 r."


def test_changes_to_the_toruń_draft_land_and_revisions_give_both_versions():
    old = parse_docx(make_torun_draft(2027))
    new = apply_changes(old, [
        Change("Załącznik § 2 ust. 2 pkt 2", "delete", comment_refs=("K-1",)),
        Change("Załącznik § 1 ust. 1", "replace", "Program określa zasady współpracy.", ("K-2",)),
        Change("Załącznik § 5 ust. 3 pkt 4", "insert_after", "prowadzenie wspólnych kampanii informacyjnych.",
               ("K-3",)),
        Change("uchwała § 2", "replace", "Wykonanie uchwały powierza się Prezydentowi Miasta.", ("K-4",))],
        approved_by="Prezydent Miasta Torunia", approved_at=datetime(2026, 11, 30, 12, tzinfo=timezone.utc))
    document = read_package(render_tracked(old, new))["word/document.xml"]

    def texts(docx: bytes) -> list[str]:
        return paragraph_texts(etree.fromstring(read_package(docx)["word/document.xml"]))

    assert paragraph_texts(accept_all(document)) == texts(render_clean(new))
    assert paragraph_texts(reject_all(document)) == texts(render_clean(old))
    assert "Załącznik § 2 ust. 2 pkt 3 lit. a" not in {unit.label for unit in new.units}
