"""Real Polish drafting (tests/corpus/drafting): the labels a lawyer reads, in every layout, and changes
that land where they should (accept all gives N+1, reject all gives N, here on the XML; LibreOffice proves
the same in tests/integration/test_engine_corpus_libreoffice.py)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from lxml import etree

from docx_fixtures import accept_all, paragraph_texts, reject_all
from services.documents.engine import ChangeError, apply_changes, parse_docx, render_clean, render_tracked
from services.documents.engine.docxwriter import DocxSpec, build_docx, paragraph_xml, run_xml
from services.documents.engine.model import Change
from services.documents.engine.ooxml import read_package
from tests.support.drafting_corpus import CORPUS, LAYOUTS, documents, expected_labels, layout_docx, score

APPROVED = datetime(2024, 11, 4, 12, 30, tzinfo=timezone.utc)
MIN_ACCURACY = 0.98

# Changes a decision could make on each document, named by the labels a reader uses.
CORPUS_CHANGES = {
    "rozporzadzenie-2021-381": (
        Change("§ 2 ust. 1", "replace", "Zgłoszenie kandydata składa się w miejscu wskazanym w ogłoszeniu.", ("K-1",)),
        Change("§ 3 ust. 2", "delete", comment_refs=("K-2",)),
        Change("§ 1 pkt 2", "insert_after", "tryb uzupełniania braków formalnych zgłoszenia;", ("K-3",)),
        Change("§ 4", "delete", comment_refs=("K-4",)),
        Change("§ 8 ust. 1 pkt 1 lit. b", "delete", comment_refs=("K-5",)),
        Change("§ 6 ust. 1", "delete", comment_refs=("K-6",)),
    ),
    "rozporzadzenie-2015-12": (
        Change("rozporządzenie § 1", "replace", "Rozporządzenie określa wymagania adresowania połączeń.", ("K-1",)),
        Change("Załącznik § 2 pkt 1", "delete", comment_refs=("K-2",)),
        Change("Załącznik § 4 pkt 1 lit. a tiret 1", "insert_after", "XY (2 cyfry) – z łącza testowego,", ("K-3",)),
        Change("Załącznik § 3 pkt 2 lit. b", "replace", "numer sieci", ("K-4",), old_text="numer sieci (X = 0)"),
    ),
    "ustawa-2003-pozytek": (
        Change("art. 1a", "replace", "Komitet do spraw Pożytku Publicznego jest organem administracji rządowej.",
               ("K-1",)),
        Change("art. 1 ust. 1 pkt 3", "delete", comment_refs=("K-2",)),
        Change("art. 2 pkt 4", "insert_after", "wolontariacie – rozumie się przez to świadczenia wolontariuszy.",
               ("K-3",)),
        Change("art. 3 ust. 2 część wspólna", "replace", "osoby prawne, w tym fundacje i stowarzyszenia.", ("K-4",)),
        Change("art. 3 ust. 3 pkt 2", "delete", comment_refs=("K-5",)),
    ),
    "statut-szkoly-muzycznej": (
        Change("§ 2 ust. 2 tiret 2", "delete", comment_refs=("K-1",)),
        Change("Rozdział 1", "replace", "Przepisy ogólne", ("K-2",)),
        Change("§ 1 ust. 7", "insert_after", "Szkoła prowadzi stronę internetową.", ("K-3",)),
    ),
    "statut-stowarzyszenia": (
        Change("art. 2", "delete", comment_refs=("K-1",)),
        Change("art. 5", "replace", "Stowarzyszenie działa na obszarze Rzeczypospolitej Polskiej.", ("K-2",)),
    ),
    "program-nowa-deba": (
        Change("§ 1 pkt 4", "delete", comment_refs=("K-1",)),
        Change("§ 1", "replace", "Ilekroć w niniejszym Programie jest mowa o:", ("K-2",)),
        Change("§ 2", "insert_after", "Program realizuje Burmistrz Miasta i Gminy Nowa Dęba.", ("K-3",)),
    ),
    "ogloszenie-rzeszow-konkurs": (
        Change("Rozdział III ust. 3", "replace", "Tryb zlecenia realizacji zadania publicznego to wspieranie.",
               ("K-1",)),
        Change("Rozdział III ust. 4 pkt 1", "delete", comment_refs=("K-2",)),
        Change("Rozdział II akapit 1", "replace", "80 000 zł (słownie: osiemdziesiąt tysięcy złotych)", ("K-3",)),
        Change("Rozdział I", "replace", "Rodzaj i zakres zadania:", ("K-4",)),
    ),
    "ogloszenie-chojnice-konkurs": (
        Change("Rozdział II ust. 2 pkt 3", "delete", comment_refs=("K-1",)),
        Change("Rozdział I ust. 1", "insert_after", "Zadanie może być realizowane w partnerstwie.", ("K-2",)),
        Change("Rozdział I akapit 1", "delete", comment_refs=("K-3",)),
    ),
    "zasady-dotacji-bydgoszcz": (
        Change("Załącznik Rozdział I ust. 2 lit. b", "delete", comment_refs=("K-1",)),
        Change("Załącznik Rozdział I ust. 2 lit. a", "replace", "organizację zajęć rozwijających zainteresowania,",
               ("K-2",)),
        Change("Załącznik Rozdział I ust. 2 lit. e", "insert_after", "organizowanie wolontariatu młodzieży.",
               ("K-3",)),
    ),
    "uchwala-zywiec-program": (
        Change("uchwała § 2", "delete", comment_refs=("K-1",)),
        Change("Załącznik § 1", "replace", "jest ustawa o działalności pożytku publicznego i o wolontariacie.",
               ("K-2",), old_text="jest ustawa z dnia 24 kwietnia 2003 roku o działalności pożytku publicznego "
                                  "i o wolontariacie."),
        Change("Załącznik Rozdział 1", "replace", "Podstawa prawna", ("K-3",)),
    ),
    "program-czerwionka-2016": (
        Change("Załącznik", "replace", "Załącznik do Uchwały Nr XII/168/15 Rady Miejskiej w Czerwionce-Leszczynach "
               "z dnia 23 października 2015 r.", ("K-1",)),
        Change("Załącznik ust. 3", "delete", comment_refs=("K-2",)),
        Change("Załącznik ust. 7", "insert_after", "Promocja wolontariatu wśród mieszkańców.", ("K-3",)),
    ),
    "program-katowice-2010": (
        Change("Załącznik § 1 ust. 1", "replace", "Współpraca z organizacjami pozarządowymi należy do zadań "
               "własnych gminy i powiatu.", ("K-1",)),
        Change("Załącznik akapit 4", "delete", comment_refs=("K-2",)),
    ),
    "projekt-uchwaly-zielonka-2023": (
        Change("uchwała § 2", "replace", "Burmistrz Miasta Zielonka przedstawi Radzie Miasta Zielonka sprawozdanie "
               "z realizacji Programu do dnia 31 maja 2024 r.", ("K-1",)),
        Change("Załącznik § 1 akapit 1", "delete", comment_refs=("K-2",)),
    ),
    "projekt-zarzadzenia-sosnowiec-bo": (
        Change("§ 1 ust. 3", "delete", comment_refs=("K-1",)),
        Change("Załącznik Rozdział I ust. 2", "replace", "Wzór karty obiegowej projektu stanowi załącznik nr 2.",
               ("K-2",)),
    ),
    "rozstrzygniecie-skierbieszow-program": (
        Change("Uzasadnienie pkt 2", "delete", comment_refs=("K-1",)),
        Change("Uzasadnienie pkt 3", "insert_after", "formy współpracy;", ("K-2",)),
    ),
    "program-gorzow-2015": (
        Change("Załącznik § 1 pkt 2", "replace", "Prezydencie – należy przez to rozumieć Prezydenta Miasta Gorzowa "
               "Wlkp.,", ("K-1",)),
        Change("Załącznik § 2", "delete", comment_refs=("K-2",)),
    ),
    "uchwala-szydlowo-program": (
        Change("Uzasadnienie akapit 1", "replace", "Program uchwala się zgodnie z art. 5a ust. 1 ustawy.", ("K-1",)),
        Change("§ 2", "replace", "Wykonanie uchwały powierza się Wójtowi Gminy.", ("K-2",)),
    ),
    "uchwala-swidwin-program": (
        Change("§ 2 ust. 4", "delete", comment_refs=("K-1",)),
        Change("§ 2 ust. 7", "replace", "konkursie – należy przez to rozumieć otwarty konkurs ofert, o którym mowa "
               "w art. 11 ust. 2 ustawy.", ("K-2",)),
    ),
}


def _paragraphs(lines: list[str]) -> list[str]:
    return [paragraph_xml(run_xml(line)) for line in lines]


def _parse_lines(lines: list[str]):
    """The version of a document whose paragraphs are `lines`, typed."""
    return parse_docx(build_docx(DocxSpec(body=_paragraphs(lines))))


@pytest.fixture(scope="module")
def parsed() -> dict:
    return {(name, layout): parse_docx(layout_docx(name, layout)) for name in documents() for layout in LAYOUTS}


def test_the_corpus_has_every_kind_of_drafting_and_its_sources():
    names = documents()
    assert len(names) >= 6
    for kind in ("rozporzadzenie", "ustawa", "statut", "uchwala"):
        assert any(name.startswith(kind) for name in names), kind
    sources = (CORPUS / "SOURCES.md").read_text("utf-8")
    for name in names:
        assert name in sources, f"{name} has no recorded source"
        labels = [label for label, _ in expected_labels(name)]
        assert len(labels) == len(set(labels)), f"{name}: an expected label is listed twice"
        for layout in ("typed-lo", "word-lo"):
            assert (CORPUS / f"{name}.{layout}.docx").exists(), (name, layout)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", documents())
def test_labels_are_the_ones_a_lawyer_reads(parsed, name, layout):
    correct, total, problems = score(parsed[(name, layout)], expected_labels(name))
    assert correct / total >= MIN_ACCURACY, "\n".join(problems)


@pytest.mark.parametrize("name", documents())
def test_word_numbering_uses_real_list_levels(name):
    numbering = read_package(layout_docx(name, "word")).get("word/numbering.xml", b"").decode()
    top_levels = ('w:lvlText w:val="§ %1."', 'w:lvlText w:val="Art. %1."', 'w:numFmt w:val="upperRoman"')
    assert any(level in numbering for level in top_levels)
    version = parse_docx(layout_docx(name, "word"))
    # a programme may number its ust. with no § above them (program-czerwionka-2016): any numbered kind counts
    numbered = ("paragraph", "article", "chapter", "section", "point")
    assert {unit.numbering for unit in version.units if unit.kind in numbered} >= {"auto"}


def test_the_closing_wording_of_a_list_keeps_its_dash_and_belongs_to_the_section_that_opened_the_list(parsed):
    for layout in LAYOUTS:
        version = parsed[("ustawa-2003-pozytek", layout)]
        common = version.find("art. 3 ust. 2 część wspólna")
        assert (common.kind, version.index()[common.parent].label) == ("common", "art. 3 ust. 2"), layout
        assert common.text.startswith("osoby prawne lub jednostki organizacyjne"), layout
    old = parsed[("ustawa-2003-pozytek", "typed")]
    new = apply_changes(old, CORPUS_CHANGES["ustawa-2003-pozytek"][3:4], approved_by="x", approved_at=APPROVED)
    assert "– osoby prawne, w tym fundacje i stowarzyszenia." in _texts(render_clean(new))


def test_letters_typed_with_a_dot_keep_it_when_renumbered(parsed):
    old = parsed[("zasady-dotacji-bydgoszcz", "typed")]
    new = apply_changes(old, CORPUS_CHANGES["zasady-dotacji-bydgoszcz"][:1], approved_by="x", approved_at=APPROVED)
    texts = _texts(render_clean(new))
    assert any(text.startswith("b. organizację zajęć terapeutyczno-profilaktycznych") for text in texts)
    assert not any(text.startswith("b. organizację zajęć sportowo") for text in texts)


def test_roman_headings_are_chapters_whose_sections_restart(parsed):
    for layout in LAYOUTS:
        version = parsed[("ogloszenie-chojnice-konkurs", layout)]
        chapter = version.find("Rozdział II")
        assert (chapter.kind, chapter.title) == ("chapter", "TERMIN I WARUNKI SKŁADANIA OFERT"), layout
        assert version.find("Rozdział II ust. 1").text.startswith("Do konkursu mogą przystąpić"), layout
        assert parsed[("ogloszenie-rzeszow-konkurs", layout)].find("Rozdział I").title == "Rodzaj zadania:", layout


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", documents())
def test_clean_render_reads_back_to_the_same_units(parsed, name, layout):
    version = parsed[(name, layout)]
    assert parse_docx(render_clean(version)).to_json()["units"] == version.to_json()["units"]


def _texts(docx: bytes) -> list[str]:
    return paragraph_texts(etree.fromstring(read_package(docx)["word/document.xml"]))


def _spaced(texts: list[str]) -> list[str]:
    return [text.replace("\u00a0", " ") for text in texts]


@pytest.mark.parametrize("layout", ("typed", "word", "word-lo"))
@pytest.mark.parametrize("name", sorted(CORPUS_CHANGES))
def test_changes_land_where_the_label_says_and_revisions_give_both_versions(parsed, name, layout):
    old = parsed[(name, layout)]
    new = apply_changes(old, CORPUS_CHANGES[name], approved_by="Rada Miejska", approved_at=APPROVED)
    reread = parse_docx(render_clean(new))
    assert [(unit.label, unit.text) for unit in reread.units] == [(unit.label, unit.text) for unit in new.units]
    tracked = read_package(render_tracked(old, new))["word/document.xml"]
    assert paragraph_texts(accept_all(tracked)) == _texts(render_clean(new))
    assert paragraph_texts(reject_all(tracked)) == _texts(render_clean(old))


def test_replacing_a_paragraph_whose_number_stands_alone_replaces_its_text_not_the_number_line(parsed):
    old = parsed[("rozporzadzenie-2015-12", "typed")]
    new = apply_changes(old, CORPUS_CHANGES["rozporzadzenie-2015-12"][:1], approved_by="x", approved_at=APPROVED)
    texts = _texts(render_clean(new))
    position = texts.index("§\u00a01.")
    assert texts[position + 1] == "Rozporządzenie określa wymagania adresowania połączeń."
    assert not any("szczegółowe wymagania dotyczące zasad adresowania dla właściwego kierowania połączeń, "
                   "stanowiące" in text for text in texts)


def test_deleting_a_paragraph_renumbers_the_lines_that_open_with_its_number(parsed):
    old = parsed[("rozporzadzenie-2021-381", "typed")]
    new = apply_changes(old, (Change("§ 4", "delete"),), approved_by="x", approved_at=APPROVED)
    texts = _spaced(_texts(render_clean(new)))
    assert "§\u00a05. 1. Sprawdzian wiedzy ma formę" not in _texts(render_clean(new))[0]
    assert any(text.startswith("§ 4. 1. Egzamin pisemny składa się") for text in texts)
    assert not any(text.startswith("§ 8.") for text in texts)


def test_deleting_the_first_section_moves_the_paragraph_number_to_the_next(parsed):
    old = parsed[("rozporzadzenie-2021-381", "typed")]
    new = apply_changes(old, (Change("§ 4 ust. 1", "delete"),), approved_by="x", approved_at=APPROVED)
    texts = _texts(render_clean(new))
    assert any(text.startswith("§\u00a04. 1. Wszyscy zgłoszeni kandydaci") for text in texts)
    tracked = read_package(render_tracked(old, new))["word/document.xml"]
    assert paragraph_texts(accept_all(tracked)) == texts
    assert paragraph_texts(reject_all(tracked)) == _texts(render_clean(old))


def test_a_bare_label_that_the_act_and_its_annex_share_is_ambiguous(parsed):
    old = parsed[("uchwala-zywiec-program", "typed")]
    with pytest.raises(ChangeError) as raised:
        apply_changes(old, (Change("§ 1", "replace", "Nowe brzmienie."),), approved_by="x", approved_at=APPROVED)
    assert raised.value.code == "ambiguous_unit"
    candidates = raised.value.changes[0]["candidates"]
    assert [candidate["label"] for candidate in candidates] == ["§ 1", "Załącznik § 1"]


def test_a_paragraph_without_its_own_wording_cannot_be_reworded(parsed):
    old = parsed[("rozporzadzenie-2021-381", "typed")]
    with pytest.raises(ChangeError) as raised:
        apply_changes(old, (Change("§ 2", "replace", "Tekst."),), approved_by="x", approved_at=APPROVED)
    assert raised.value.code == "bad_change" and "ust." in raised.value.message


def test_chapter_titles_are_the_title_and_the_text(parsed):
    version = parsed[("rozporzadzenie-2021-381", "word")]
    chapter = next(unit for unit in version.units if unit.label == "Rozdział 2")
    assert chapter.title == chapter.text == "Zgłoszenie kandydata na członka Krajowej Izby Odwoławczej"
    assert version.to_json()["units"][version.units.index(chapter)]["title"] == chapter.title


def test_expected_labels_are_json_lists_of_label_and_text(tmp_path):
    for name in documents():
        data = json.loads((CORPUS / f"{name}.expected.json").read_text("utf-8"))
        assert all(isinstance(row, list) and len(row) == 2 and all(isinstance(x, str) for x in row) for row in data)


def test_a_paragraph_title_line_stays_the_title_and_goes_with_its_paragraph(parsed):
    old = parsed[("program-nowa-deba", "word")]
    first = old.find("§ 1")
    assert (first.title, first.text) == ("POSTANOWIENIA OGÓLNE", "Ilekroć w Programie jest mowa o:")
    new = apply_changes(old, (Change("§ 1", "delete", comment_refs=("K-9",)),), approved_by="x", approved_at=APPROVED)
    assert "POSTANOWIENIA OGÓLNE" not in _texts(render_clean(new))
    tracked = read_package(render_tracked(old, new))["word/document.xml"]
    assert paragraph_texts(accept_all(tracked)) == _texts(render_clean(new))
    assert paragraph_texts(reject_all(tracked)) == _texts(render_clean(old))


_CORNER_BLOCK = ["Załącznik", "do Uchwały XII/168/15", "Rady Miejskiej w Czerwionce-Leszczynach",
                 "z dnia 23 października 2015 r."]


def test_an_annex_heading_set_one_line_a_paragraph_is_one_unit_kept_as_drafted(parsed):
    for layout in LAYOUTS:
        version = parsed[("program-czerwionka-2016", layout)]
        heading = version.find("Załącznik")
        assert (heading.kind, heading.text) == ("annex", " ".join(_CORNER_BLOCK)), layout
        assert version.find("Załącznik akapit 1").text == "ROCZNY PROGRAM WSPÓŁPRACY", layout
        assert _texts(render_clean(version))[:4] == _CORNER_BLOCK, layout


def test_an_amended_folded_annex_heading_is_one_paragraph_and_rejecting_gives_the_lines_back(parsed):
    old = parsed[("program-czerwionka-2016", "typed")]
    new = apply_changes(old, CORPUS_CHANGES["program-czerwionka-2016"][:1], approved_by="x", approved_at=APPROVED)
    amended = "Załącznik do Uchwały Nr XII/168/15 Rady Miejskiej w Czerwionce-Leszczynach z dnia 23 października 2015 r."
    assert _texts(render_clean(new))[:2] == [amended, "ROCZNY PROGRAM WSPÓŁPRACY"]
    tracked = read_package(render_tracked(old, new))["word/document.xml"]
    assert paragraph_texts(accept_all(tracked))[:2] == [amended, "ROCZNY PROGRAM WSPÓŁPRACY"]
    assert paragraph_texts(reject_all(tracked))[:5] == [*_CORNER_BLOCK, "ROCZNY PROGRAM WSPÓŁPRACY"]
    # A later version amends the one paragraph the earlier amendment left.
    newer = apply_changes(new, (Change("Załącznik", "replace", "Załącznik do uchwały", ("K-9",)),),
                          approved_by="x", approved_at=APPROVED)
    assert paragraph_texts(reject_all(read_package(render_tracked(new, newer))["word/document.xml"]))[:2] == \
        [amended, "ROCZNY PROGRAM WSPÓŁPRACY"]


@pytest.mark.parametrize("lines, folded", [
    (["Załącznik nr 2", "do zarządzenia Nr 15/2024", "Prezydenta Miasta Torunia", "z dnia 5 lipca 2024 r.",
      "Regulamin konsultacji"], 4),
    (["Załącznik do uchwały Nr 12/24", "Rady Miasta Torunia", "z dnia 5 lipca 2024 r.", "Rada Programowa"], 3),
    # complete on its line: the next line is the annex's text even when it opens like a body's name
    (["Załącznik do uchwały Nr 12/24 Rady Miasta Torunia z dnia 5 lipca 2024 r.", "Rada Programowa działa"], 1),
    # a bare heading whose next line is its title, not "do …"
    (["Załącznik", "Regulamin konkursu"], 1),
    (["załącznik do uchwały nr 5/24", "Rady Gminy", "z dnia 1 lutego 2024 r.", "Program"], 3),
])
def test_the_lines_of_an_annex_heading_stop_at_its_date_or_at_the_first_line_that_does_not_continue_it(lines, folded):
    version = _parse_lines(lines)
    heading = version.units[0]
    assert (heading.kind, heading.text) == ("annex", " ".join(lines[:folded]))
    assert [unit.text for unit in version.units[1:]] == lines[folded:]


@pytest.mark.parametrize("following, annex", [
    ("PROJEKT", False), ("Projekt z dnia 11 października 2016 r.", False), ("UCHWAŁA NR XII/168/15", False),
    ("Uchwała Nr / /22", False), ("ZARZĄDZENIE", False),
    # a standalone annex whose title happens to open with such a word
    ("Projekt zadania publicznego", True), ("Uchwały Rady Miasta podejmowane w trybie", True),
])
def test_an_annex_heading_above_an_acts_title_is_a_title_line_of_the_draft(following, annex):
    lines = ["Załącznik nr 1 do ogłoszenia Prezydenta Miasta Torunia z dnia 1 lipca 2024 r.", following, "§ 1. Tekst."]
    version = _parse_lines(lines)
    assert (version.units[0].kind == "annex") is annex
    assert version.units[-1].label == ("Załącznik § 1" if annex else "§ 1")


@pytest.mark.parametrize("lines, heading_lines", [
    # Cybinka's programme for 2014 (program-cybinka-2014): the act it belongs to named in the nominative
    (["Załącznik nr 1", "Uchwała nr Rady Miejskiej w Cybince z dnia.2013 r.", "Roczny Program Współpracy", "1. Tekst."],
     2),
    # a draft put out as annex nr 1 of the announcement, its title on one line, then what it is about
    (["Załącznik nr 1", "UCHWAŁA NR XV/1/2022 RADY GMINY PIĄTNICA z dnia 1 grudnia 2022 r.",
      "w sprawie programu współpracy", "§ 1. Tekst."], 0),
    (["Załącznik nr 1 do ogłoszenia", "Uchwała nr Rady Miejskiej w Cybince z dnia.2013 r.", "Program", "1. Tekst."],
     0),
])
def test_a_bare_annex_heading_over_the_act_it_belongs_to_is_one_heading(lines, heading_lines):
    version = _parse_lines(lines)
    if heading_lines:
        assert (version.units[0].kind, version.units[0].text) == ("annex", " ".join(lines[:heading_lines]))
        assert version.units[-1].label == "Załącznik ust. 1"
    else:
        assert [unit.kind for unit in version.units[:2]] == ["block", "block"]
        assert not any(unit.kind == "annex" for unit in version.units)


@pytest.mark.parametrize("lines, kinds", [
    (["- PROJEKT-", "Zarządzenie", "§ 1. Tekst."], ["block", "block", "paragraph"]),  # a draft mark above the title
    (["– projekt –", "Uchwała Nr", "§ 1. Tekst."], ["block", "block", "paragraph"]),
    (["Cele programu:", "- wspieranie organizacji,", "§ 1. Tekst."], ["block", "tiret", "paragraph"]),  # a list
])
def test_a_dash_above_the_first_numbered_unit_is_a_tiret_only_under_a_colon(lines, kinds):
    assert [unit.kind for unit in _parse_lines(lines).units] == kinds


def test_an_annex_heading_set_with_line_breaks_in_one_paragraph_is_the_annex():
    """The corner block typed with Shift+Enter: one paragraph whose lines are separated by w:br (here the real
    Czerwionka-Leszczyny programme, its other lines one paragraph each)."""
    from services.documents.engine.ooxml import xml_escape

    lines = [line for line in (CORPUS / "program-czerwionka-2016.txt").read_text("utf-8").splitlines() if line]
    corner = "".join(("<w:br/>" if index else "") + f"<w:t xml:space=\"preserve\">{xml_escape(line)}</w:t>"
                     for index, line in enumerate(lines[:4]))
    body = [f'<w:p><w:pPr><w:jc w:val="right"/></w:pPr><w:r>{corner}</w:r></w:p>',
            *_paragraphs(lines[4:])]
    version = parse_docx(build_docx(DocxSpec(body=body)))
    correct, total, problems = score(version, expected_labels("program-czerwionka-2016"))
    assert correct == total, problems
    assert parse_docx(render_clean(version)).to_json()["units"] == version.to_json()["units"]


@pytest.mark.parametrize("lines, label, text", [
    (["II.", "CELE PROGRAMU"], "Rozdział II", "CELE PROGRAMU"),
    (["Art. 1", "Stowarzyszenie nosi nazwę."], "art. 1", "Stowarzyszenie nosi nazwę."),
    (["§ 3", "Program realizuje Burmistrz."], "§ 3", "Program realizuje Burmistrz."),
    (["Rozdział 2", "Cele programu"], "Rozdział 2", "Cele programu"),
])
def test_a_number_and_its_text_on_lines_broken_with_shift_enter_are_one_unit(lines, label, text):
    broken = "".join(("<w:br/>" if index else "") + f'<w:t xml:space="preserve">{line}</w:t>'
                     for index, line in enumerate(lines))
    body = [*_paragraphs(["Program współpracy"]), f"<w:p><w:r>{broken}</w:r></w:p>"]
    version = parse_docx(build_docx(DocxSpec(body=body)))
    assert [(unit.label, unit.text) for unit in version.units] == [("Tytuł", "Program współpracy"), (label, text)]
    renumbered = apply_changes(version, (Change(label, "insert_after", "Nowy tekst.", ("K-1",)),),
                               approved_by="x", approved_at=APPROVED)
    assert parse_docx(render_clean(renumbered)).find(label).text == text


def _corner_table(lines: list[str], mark: str = "") -> str:

    def cell(paragraphs: list[str]) -> str:
        return ('<w:tc><w:tcPr><w:tcW w:w="4500" w:type="dxa"/></w:tcPr>'
                + "".join(_paragraphs(paragraphs or [""])) + "</w:tc>")

    return ('<w:tbl><w:tblPr><w:tblW w:w="9000" w:type="dxa"/></w:tblPr><w:tblGrid><w:gridCol w:w="4500"/>'
            f'<w:gridCol w:w="4500"/></w:tblGrid><w:tr>{cell([mark] if mark else [])}{cell(lines)}</w:tr></w:tbl>')


@pytest.mark.parametrize("mark", ["", "PROJEKT"])
def test_an_annex_heading_in_a_borderless_layout_table_is_the_annex_and_amended_becomes_a_paragraph(mark):
    """Word templates set the corner block in a two-cell table; here the real Czerwionka-Leszczyny programme
    after a resolution's closing provision."""
    lines = [line for line in (CORPUS / "program-czerwionka-2016.txt").read_text("utf-8").splitlines() if line]
    body = [*_paragraphs(["§ 1. Przyjmuje się program stanowiący załącznik do uchwały.",
                          "§ 2. Uchwała wchodzi w życie z dniem podjęcia."]),
            _corner_table(lines[:4], mark), *_paragraphs(lines[4:])]
    old = parse_docx(build_docx(DocxSpec(body=body)))
    heading = old.find("Załącznik")
    assert (heading.kind, heading.text) == ("annex", " ".join(lines[:4]))
    assert [unit.label for unit in old.units][-2:] == ["Załącznik ust. 6", "Załącznik ust. 7"]
    assert parse_docx(render_clean(old)).to_json()["units"] == old.to_json()["units"]
    amended = "Załącznik do Uchwały Nr XII/168/15 Rady Miejskiej w Czerwionce-Leszczynach z dnia 23 października 2015 r."
    new = apply_changes(old, (Change("Załącznik", "replace", amended, ("K-1",)),), approved_by="x", approved_at=APPROVED)
    tracked = read_package(render_tracked(old, new))["word/document.xml"]
    assert paragraph_texts(accept_all(tracked)) == _texts(render_clean(new))
    assert paragraph_texts(reject_all(tracked)) == _texts(render_clean(old))
    assert amended in _texts(render_clean(new))


def test_an_announcements_annex_mark_in_a_layout_table_above_a_drafts_title_is_no_annex():
    body = [_corner_table(["Załącznik nr 1 do ogłoszenia Burmistrza Miasta Zielonka z dnia 20 września 2022 r."]),
            *_paragraphs(["PROJEKT", "§ 1. Tekst."])]
    version = parse_docx(build_docx(DocxSpec(body=body)))
    assert [unit.kind for unit in version.units] == ["table", "block", "paragraph"]
    assert version.units[-1].label == "§ 1"


@pytest.mark.parametrize("where", ["after the annex", "between the act and its annex"])
def test_a_drafts_statement_of_reasons_is_a_part_of_its_own_wherever_it_stands(where):
    act = ["UCHWAŁA NR …/24", "RADY MIASTA TORUNIA", "§ 1. Przyjmuje się program.",
           "§ 2. Uchwała wchodzi w życie z dniem podjęcia.", "Przewodniczący Rady Miasta", "Marcin Czyżniewski"]
    annex = ["Załącznik do uchwały nr …/24", "PROGRAM", "§ 1. Program określa cele."]
    reasons = ["UZASADNIENIE", "Obowiązek uchwalenia programu wynika z art. 5a ustawy.", "Projekt konsultowano."]
    lines = act + annex + reasons if where == "after the annex" else act + reasons + annex
    version = _parse_lines(lines)
    labels = {unit.label: unit.text for unit in version.units}
    assert labels["Uzasadnienie"] == "UZASADNIENIE"
    assert labels["Uzasadnienie akapit 2"] == "Projekt konsultowano."
    assert labels["§ 2"] == "Uchwała wchodzi w życie z dniem podjęcia." and labels["Załącznik § 1"] == "Program określa cele."
    assert not any(label.startswith(("§ 2 akapit", "Załącznik § 1 akapit")) for label in labels)


@pytest.mark.parametrize("mark", ["–", "-", "−", "•", "\uf0b7", "▪"])
def test_tirets_typed_with_the_bullets_and_minus_signs_pasted_text_keeps(mark):
    """"− za pośrednictwem formularza" (a minus sign, U+2212, as a ministry's consultation page sets its list),
    "• …" and Symbol-font bullets (U+F0B7) as text copied from a PDF keeps them."""

    lines = ["Program", "§ 4. Uwagi można składać:", f"{mark}\tza pośrednictwem formularza,", f"{mark} pocztą."]
    version = _parse_lines(lines)
    assert [(unit.label, unit.text) for unit in version.units][2:] == [
        ("§ 4 tiret 1", "za pośrednictwem formularza,"), ("§ 4 tiret 2", "pocztą.")]
    new = apply_changes(version, (Change("§ 4 tiret 1", "delete", comment_refs=("K-1",)),),
                        approved_by="x", approved_at=APPROVED)
    assert [unit.text for unit in parse_docx(render_clean(new)).units][2:] == ["pocztą."]


def test_a_part_numbered_like_a_ust_in_capitals_over_its_own_1_is_a_chapter_but_not_inside_a_paragraph():
    """Szydłowo's 2012 programme goes on, after the annex's title (uchwala-szydlowo-program), with "1. WPROWADZENIE"
    and "1. Rolą władz samorządowych jest …" (the page cuts the sentence there): two units labelled "ust. 1"
    unless the first is read as the chapter it is. Inside a §, "1. KULTURA" over "1) …" stays the §'s ust. 1."""

    lines = [line for line in (CORPUS / "uchwala-szydlowo-program.txt").read_text("utf-8").splitlines() if line]
    lines += ["1. WPROWADZENIE", "1. Rolą władz samorządowych jest"]
    version = _parse_lines(lines)
    assert [(unit.label, unit.kind, unit.text) for unit in version.units[-2:]] == [
        ("Załącznik Rozdział 1", "chapter", "WPROWADZENIE"),
        ("Załącznik Rozdział 1 ust. 1", "section", "Rolą władz samorządowych jest")]
    inside = ["Program", "§ 8. Priorytetowe zadania publiczne:", "1. KULTURA I SZTUKA", "1) organizacja festiwali,"]
    version = _parse_lines(inside)
    assert [unit.label for unit in version.units] == ["Tytuł", "§ 8", "§ 8 ust. 1", "§ 8 ust. 1 pkt 1"]


@pytest.mark.parametrize("foot", [
    ["Id: AD6ED1A E72-93BC-ACA0EB319AF6. Podpisany Strona 1"],  # as Piątnica's published text has it
    ["Id: AD6ED1A E72-93BC-ACA0EB319AF6. Podpisany", "Strona 1"],  # the same, each corner a line
    ["Strona 1 z 2"],
    ["– 1 –"],
    ["1"], ["1/2"], ["str. 1"],  # a bare page number, as a PDF's text copy leaves it at each page's end
])
def test_a_page_foot_pasted_from_a_published_act_between_its_paragraphs_is_no_unit(foot):
    """Text copied from a published local act brings the foot its e-signature system puts on every page. Here
    Piątnica's 2016 resolution (uchwala-piatnica-program) as if its first page ended after § 4: the foot was
    "§ 4 akapit 1" and "§ 4 akapit 2", and a "Strona 2" after the chairman's signature "§ 5 akapit 1". It is kept
    where it stands and written back as it was."""

    name = "uchwala-piatnica-program"
    lines = [line for line in (CORPUS / f"{name}.txt").read_text("utf-8").splitlines() if line]
    at = next(index for index, line in enumerate(lines) if line.startswith("§ 5."))
    lines = lines[:at] + foot + lines[at:]
    signed = next(index for index, line in enumerate(lines) if line.startswith("Id:") and index > at + len(foot))
    lines[signed:signed + 1] = ["Id: AD6ED1A E72-93BC-ACA0EB319AF6. Podpisany", "Strona 2"]
    version = _parse_lines(lines)
    assert score(version, expected_labels(name))[0] == len(expected_labels(name))
    assert len(version.units) == len(expected_labels(name))
    new = apply_changes(version, (Change("§ 4", "replace", "Traci moc uchwała Nr 58/XI/2015.",
                                         comment_refs=("K-1",)),), approved_by="x", approved_at=APPROVED)
    texts = _texts(render_clean(new))
    assert all(line in texts for line in foot) and "§ 4. Traci moc uchwała Nr 58/XI/2015." in texts
