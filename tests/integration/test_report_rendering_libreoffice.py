"""The report table as LibreOffice lays it out (DOCX → PDF): no word of the header or of the decision column, and no
submission reference under Lp., is broken across lines ("Rozstrzygnięci-e"). The column widths are estimates; this
renders them. Checked with whatever serif font stands in for Liberation Serif (DejaVu Serif, the widest common
fallback, on CI), so the widths hold on a machine without the document's font too.

In CI (CI=true) a missing `soffice` fails these tests instead of skipping them.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from pypdf import PdfReader

from services.documents.engine import ReportData, build_report_docx
from services.documents.engine.report import TEXTS
from tests.integration.test_engine_libreoffice import convert, soffice  # noqa: F401  (the fixture)

pytestmark = pytest.mark.libreoffice

DECISIONS = ("accepted", "partially_accepted", "rejected", "not_considered")
LONG_TEXT = ("Przeciwdziałanie uzależnieniom i patologiom społecznym oraz wspieranie osób z niepełnosprawnościami "
             "poprzez współfinansowanie przedsięwzięć organizacji pozarządowych.")


def report(count: int = 12) -> ReportData:
    comments = [{
        "ref": f"UW/2026/{100000 + 7919 * number:06d}#{number + 10}",
        "submitter": {"name": "Katarzyna Zielińska-Wiśniewska", "organization": "Stowarzyszenie Przyjaciół Parku",
                      "kind": "organization", "publish_consent": True},
        "unit_label": "Załącznik § 12 ust. 3 pkt 14 lit. b tiret 2", "chapter": "Rozdział IV",
        "comment": LONG_TEXT, "proposal": LONG_TEXT, "justification": LONG_TEXT,
        "channel": "web", "topic": "finansowanie", "decision": DECISIONS[number % len(DECISIONS)],
        "position": "Uwaga nieuwzględniona, ponieważ wykracza poza zakres przedmiotowy programu.",
        "adopted": LONG_TEXT,
    } for number in range(count)]
    return ReportData.from_json({"consultation": {"title": "Konsultacje programu współpracy", "start": "2026-09-30",
                                                  "end": "2026-10-21"}, "comments": comments})


def table_pages(pdf: Path, first_header: str) -> list[list[str]]:
    """The words of each page that carries the comment table (its header row repeats on every such page)."""
    pages = [page.extract_text(extraction_mode="layout") for page in PdfReader(pdf).pages]
    return [text.split() for text in pages if any(line.split()[:1] == [first_header] for line in text.splitlines())]


@pytest.mark.parametrize("lang", ["pl", "en"])
def test_no_word_of_the_header_the_decisions_or_the_references_breaks_across_lines(soffice, tmp_path, lang):
    data = report()
    source = tmp_path / f"raport-{lang}.docx"
    source.write_bytes(build_report_docx(data, lang=lang))
    columns = TEXTS[lang]["columns"]
    pages = table_pages(convert(soffice, source, "pdf", tmp_path), columns[0])
    assert len(pages) >= 2  # long enough for the header to repeat

    words = Counter(word for page in pages for word in page)
    for word in (word for header in columns for word in header.split()):
        assert words[word] >= len(pages), f"header word {word!r} broken across lines: {words[word]}/{len(pages)}"
    wanted = Counter(word for comment in data.comments for word in TEXTS[lang]["decisions"][comment.decision].split())
    for word, count in wanted.items():
        assert words[word] >= count, f"decision word {word!r} broken across lines: {words[word]}/{count}"
    for comment in data.comments:
        assert words[comment.ref] == 1, f"reference {comment.ref!r} broken across lines"


def test_long_words_of_the_free_text_columns_break_only_with_a_hyphen(soffice, tmp_path):
    """"niepełnosprawnościami" cannot fit a column of nine. The report asks for automatic hyphenation (Polish
    rules, from Debian's hyphen-pl here, Word's own dictionary on a clerk's PC): a long word breaks with a
    visible hyphen ("niepełnospraw-nościami"), never bare ("niepełnospraw / nościami")."""
    data = report()
    source = tmp_path / "raport-pl.docx"
    source.write_bytes(build_report_docx(data, lang="pl"))
    pages = table_pages(convert(soffice, source, "pdf", tmp_path), TEXTS["pl"]["columns"][0])
    texts = [LONG_TEXT, "Uwaga nieuwzględniona, ponieważ wykracza poza zakres przedmiotowy programu.",
             "Stowarzyszenie Przyjaciół Parku (Katarzyna Zielińska-Wiśniewska)"]
    whole = {word.strip(",.()") for text in texts for word in text.replace("-", " ").split()}
    tokens = [token.strip(",.()") for page in pages for token in page]
    hyphenated = [token for token in tokens if token.endswith("-") and token[:-1] not in whole]
    # A bare break leaves the head of a word at a line end; the tail of a hyphenated word ("nie" of
    # "Przeciwdziała-nie") may look like the head of another, so what ends a word is not counted.
    bare = [token for token in tokens if not token.endswith("-") and token not in whole
            and any(word.startswith(token) for word in whole) and not any(word.endswith(token) for word in whole)]
    assert hyphenated, "no long word was hyphenated: is hyphen-pl installed?"
    assert bare == [], f"words broken without a hyphen: {sorted(set(bare))}"
