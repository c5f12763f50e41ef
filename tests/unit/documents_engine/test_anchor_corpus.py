"""Anchoring on real drafting (tests/corpus/drafting): exact labels win, ranges give their parent or no
unit, ambiguous labels give no unit but their candidates, and nothing is ever confidently wrong."""

from __future__ import annotations

import pytest

from services.documents.engine import parse_docx, resolve_anchor
from services.documents.engine.docxwriter import DocxSpec, build_docx, simple_paragraph
from tests.support.drafting_corpus import layout_docx

CONFIDENT = 0.8

# (document, hint, quote, the unit a lawyer means, or None when the reference does not settle it)
CASES = [
    ("rozporzadzenie-2021-381", "§ 2 ust. 1", None, "§ 2 ust. 1"),
    ("rozporzadzenie-2021-381", "§ 2", None, "§ 2"),
    ("rozporzadzenie-2021-381", "§ 2 ust. 4 pkt 1–3", None, "§ 2 ust. 4"),
    ("rozporzadzenie-2021-381", "§ 2 ust. 4 pkt 1, 3 i 5", None, "§ 2 ust. 4"),
    ("rozporzadzenie-2021-381", "§ 2–4", None, None),
    ("rozporzadzenie-2021-381", "§ 2 ust. 1 zd. 2", None, "§ 2 ust. 1"),
    ("rozporzadzenie-2021-381", "§ 8 ust. 1 pkt 1 a)", None, "§ 8 ust. 1 pkt 1 lit. a"),
    ("rozporzadzenie-2021-381", "§ 8 ust. 1 pkt 1 lit. c", "przekazuje komisji do depozytu", "§ 8 ust. 1 pkt 1 lit. c"),
    ("rozporzadzenie-2021-381", "Rozdział 2", None, "Rozdział 2"),
    ("rozporzadzenie-2021-381", "§ 3 ust. 5", "pouczając o prawie do wniesienia odwołania", "§ 3 ust. 5"),
    ("rozporzadzenie-2021-381", "§ 3 ust. 9", None, None),
    ("rozporzadzenie-2021-381", "§ 5 ust. 2", "Sprawdzian wiedzy trwa 60 minut.", "§ 5 ust. 2"),
    ("rozporzadzenie-2015-12", "§ 1", None, None),
    ("rozporzadzenie-2015-12", "Załącznik § 1", None, "Załącznik § 1"),
    ("rozporzadzenie-2015-12", "zał. § 2 pkt 1", None, "Załącznik § 2 pkt 1"),
    ("rozporzadzenie-2015-12", "§ 1", "Informacja adresowa o numerze abonenta wywołującego", "Załącznik § 1"),
    ("rozporzadzenie-2015-12", "rozporządzenie § 1", None, "§ 1"),
    ("rozporzadzenie-2015-12", "Załącznik § 4 pkt 1 lit. a tiret 2", None, "Załącznik § 4 pkt 1 lit. a tiret 2"),
    ("rozporzadzenie-2015-12", "załącznik § 3 pkt 1 lit. a–c", None, "Załącznik § 3 pkt 1"),
    ("ustawa-2003-pozytek", "art. 1 ust. 1 pkt 2", None, "art. 1 ust. 1 pkt 2"),
    ("ustawa-2003-pozytek", "art. 1a", None, "art. 1a"),
    ("ustawa-2003-pozytek", "artykuł 2 punkt 3", None, "art. 2 pkt 3"),
    ("ustawa-2003-pozytek", "Dział I", None, "Dział I"),
    ("statut-szkoly-muzycznej", "§ 2 ust. 2 tiret 3", None, "§ 2 ust. 2 tiret 3"),
    ("statut-szkoly-muzycznej", "rozdział 1", None, "Rozdział 1"),
    ("statut-stowarzyszenia", "Art. 7", None, "art. 7"),
    ("statut-stowarzyszenia", "art. 3–5", None, None),
    ("uchwala-zywiec-program", "§ 1", None, None),
    ("uchwala-zywiec-program", "uchwała § 2", None, "§ 2"),
    ("uchwala-zywiec-program", "Załącznik Rozdział 1", None, "Załącznik Rozdział 1"),
    ("uchwala-zywiec-program", "§ 1", "Podstawowym aktem prawnym określającym ramy współpracy", "Załącznik § 1"),
    ("ustawa-2003-pozytek", "art. 3 ust. 2 część wspólna", None, "art. 3 ust. 2 część wspólna"),
    ("ustawa-2003-pozytek", "art. 3 ust. 2 cz. wsp.", None, "art. 3 ust. 2 część wspólna"),
    ("ustawa-2003-pozytek", "część wspólna art. 3 ust. 2", None, "art. 3 ust. 2 część wspólna"),
    ("ustawa-2003-pozytek", "art. 3 ust. 2", "z zastrzeżeniem ust. 4", "art. 3 ust. 2 część wspólna"),
    ("ustawa-2003-pozytek", "art. 3 ust. 2 pkt 2", None, "art. 3 ust. 2 pkt 2"),
    ("ustawa-2003-pozytek", "art. 3 ust. 3 część wspólna", None, None),
    ("ogloszenie-rzeszow-konkurs", "Rozdział III ust. 4 pkt 2", None, "Rozdział III ust. 4 pkt 2"),
    ("ogloszenie-rzeszow-konkurs", "rozdz. III ust. 4 pkt 1-2", None, "Rozdział III ust. 4"),
    ("ogloszenie-rzeszow-konkurs", "rozdział II", None, "Rozdział II"),
    ("ogloszenie-chojnice-konkurs", "ust. 2", None, None),
    ("ogloszenie-chojnice-konkurs", "pkt I", None, "Rozdział I"),
    ("ogloszenie-chojnice-konkurs", "pkt II ust. 2 pkt 3", None, "Rozdział II ust. 2 pkt 3"),
    ("ogloszenie-chojnice-konkurs", "", "UWAGA! Zastrzega się możliwość zmiany wysokości", "Rozdział I akapit 1"),
    ("zasady-dotacji-bydgoszcz", "zał. pkt I ust. 2 lit. c", None, "Załącznik Rozdział I ust. 2 lit. c"),
    ("zasady-dotacji-bydgoszcz", "Załącznik Rozdział I ust. 2 lit. a–e", None, "Załącznik Rozdział I ust. 2"),
]


@pytest.fixture(scope="module")
def versions() -> dict:
    return {}


def _version(versions: dict, name: str, layout: str):
    if (name, layout) not in versions:
        versions[(name, layout)] = parse_docx(layout_docx(name, layout))
    return versions[(name, layout)]


@pytest.mark.parametrize("layout", ("typed", "word-lo"))
@pytest.mark.parametrize("name, hint, quote, expected", CASES)
def test_references_resolve_as_a_lawyer_reads_them(versions, layout, name, hint, quote, expected):
    result = resolve_anchor(_version(versions, name, layout), hint, quote)
    got = result.unit.label if result.unit else None
    assert got == expected, (result.reason, [candidate.unit.label for candidate in result.candidates])
    if expected is None:
        assert result.confidence < CONFIDENT


def test_an_ambiguous_label_lists_both_units(versions):
    result = resolve_anchor(_version(versions, "uchwala-zywiec-program", "typed"), "§ 1")
    assert {candidate.unit.label for candidate in result.candidates} == {"§ 1", "Załącznik § 1"}


def test_a_range_never_gives_its_first_item(versions):
    version = _version(versions, "rozporzadzenie-2021-381", "typed")
    result = resolve_anchor(version, "§ 1 pkt 1–3")
    assert result.unit.label == "§ 1" and result.confidence < CONFIDENT
    assert [candidate.unit.label for candidate in result.candidates][1:] == ["§ 1 pkt 1", "§ 1 pkt 2", "§ 1 pkt 3"]


def test_the_closing_wording_of_a_list_is_its_own_unit():
    lines = ["§ 1. 1. Wniosek zawiera:", "1) imię i nazwisko;", "2) adres", "– w terminie 7 dni od dnia wezwania.",
             "2. Wniosek składa się w urzędzie."]
    version = parse_docx(build_docx(DocxSpec(body=[simple_paragraph(line) for line in lines])))
    assert [unit.label for unit in version.units] == [
        "§ 1", "§ 1 ust. 1", "§ 1 ust. 1 pkt 1", "§ 1 ust. 1 pkt 2", "§ 1 ust. 1 część wspólna", "§ 1 ust. 2"]
    result = resolve_anchor(version, "§ 1 ust. 1 część wspólna")
    assert result.unit.label == "§ 1 ust. 1 część wspólna"


def test_no_reference_in_the_corpus_is_confidently_wrong(versions):
    wrong = []
    for layout in ("typed", "word", "typed-lo", "word-lo"):
        for name, hint, quote, expected in CASES:
            result = resolve_anchor(_version(versions, name, layout), hint, quote)
            if result.unit is not None and result.unit.label != expected and result.confidence >= CONFIDENT:
                wrong.append((layout, name, hint, result.unit.label))
    assert wrong == []
