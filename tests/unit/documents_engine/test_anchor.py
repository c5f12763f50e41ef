"""Free-text references and quotes resolve to units, or to nothing when unsure."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.documents.engine.anchor import Anchor, reanchor, resolve_anchor
from services.documents.engine.demo_draft import make_demo_draft
from services.documents.engine.model import Change
from services.documents.engine.parse import parse_docx
from services.documents.engine.versions import apply_changes


@pytest.mark.parametrize("hint, label", [
    ("§ 5 ust. 2 pkt 3", "§ 5 ust. 2 pkt 3"),
    ("par. 5 ust 2", "§ 5 ust. 2"),
    ("§5.2.3", "§ 5 ust. 2 pkt 3"),
    ("paragraf 5 ustęp 2 punkt 3", "§ 5 ust. 2 pkt 3"),
    ("rozdz. III", "Rozdział III"),
    ("Rozdział 3", "Rozdział III"),
    ("cele szczegółowe", "§ 3"),
    ("§ 3 ust. 2 pkt 2 lit. b", "§ 3 ust. 2 pkt 2 lit. b"),
])
def test_hint_forms_resolve_to_the_unit(parsed_draft, hint, label):
    result = resolve_anchor(parsed_draft, hint)
    assert result.unit is not None and result.unit.label == label
    assert result.confidence >= 0.6


def test_quote_with_typos_confirms_the_hint(parsed_draft):
    result = resolve_anchor(parsed_draft, "§ 5 ust. 2 pkt 3", quote="zlecanie realizacji zadn w trybie art 19a ustawy")
    assert result.unit.label == "§ 5 ust. 2 pkt 3" and result.confidence > 0.9


def test_an_exact_label_wins_over_a_quote_found_elsewhere_but_not_confidently(parsed_draft):
    result = resolve_anchor(parsed_draft, "§ 9 ust. 2", quote="zlecanie realizacji zadań w trybie art. 19a ustawy")
    assert result.unit.label == "§ 9 ust. 2" and result.confidence < 0.8
    assert "§ 5 ust. 2 pkt 3" in [candidate.unit.label for candidate in result.candidates]


def test_quote_wins_when_the_hint_names_no_existing_unit(parsed_draft):
    result = resolve_anchor(parsed_draft, "§ 5 ust. 9", quote="zlecanie realizacji zadań w trybie art. 19a ustawy")
    assert result.unit.label == "§ 5 ust. 2 pkt 3"


def test_quote_inside_the_hinted_paragraph_breaks_a_tie(parsed_draft):
    result = resolve_anchor(parsed_draft, "§ 6", quote="wspieranie wolontariatu i inicjatyw sąsiedzkich")
    assert result.unit.label == "§ 6 ust. 2 pkt 3"


def test_page_alone_gives_candidates_but_no_unit(parsed_draft):
    result = resolve_anchor(parsed_draft, "str. 4")
    assert result.unit is None and result.candidates
    assert {candidate.unit.page for candidate in result.candidates} == {4}


@pytest.mark.parametrize("hint, quote", [
    ("§ 99", None), ("zupełnie coś innego", None), ("", None),
    ("str. 4", "Zadania będą realizowane w szczególności przez"),  # the same sentence in several §§
])
def test_unsure_gives_no_unit(parsed_draft, hint, quote):
    result = resolve_anchor(parsed_draft, hint, quote)
    assert result.unit is None
    assert result.to_json()["unit"] is None and result.to_json()["label"] is None


def test_paraphrased_quote_found_nowhere_leaves_the_hint_with_lower_confidence(parsed_draft):
    result = resolve_anchor(parsed_draft, "§ 1", "tekst, którego w projekcie nie ma wcale, zupełnie inny")
    assert result.unit.label == "§ 1"
    assert result.confidence < resolve_anchor(parsed_draft, "§ 1").confidence


def test_json_shape(parsed_draft):
    data = resolve_anchor(parsed_draft, "§ 4").to_json()
    assert set(data) == {"unit", "label", "confidence", "candidates"}
    assert set(data["candidates"][0]) == {"unit", "label", "confidence"}


def test_reanchoring_follows_renumbered_units_and_orphans_deleted_ones(parsed_draft):
    new = apply_changes(parsed_draft, [Change("§ 2 pkt 1", "insert_after", "nowy punkt;", ("K-1",)),
                                       Change("§ 4", "delete", comment_refs=("K-2",))],
                        approved_by="Prezydent", approved_at=datetime(2024, 11, 4, tzinfo=timezone.utc))
    radzie, zasady = parsed_draft.find("§ 2 pkt 3"), parsed_draft.find("§ 4")
    results = reanchor(parsed_draft, new, [Anchor("K-7", radzie.id, "Gminną Radę Działalności"),
                                           Anchor("K-8", zasady.id, "na zasadach pomocniczości")])
    assert (results[0].status, results[0].new_label) == ("kept", "§ 2 pkt 4")
    assert (results[1].status, results[1].new_unit) == ("orphaned", None)


def test_reanchoring_to_a_separately_parsed_new_draft_uses_quote_and_position(parsed_draft):
    longer = parse_docx(make_demo_draft("auto", scale=2))  # a new file: ids do not carry over
    radzie = parsed_draft.find("§ 2 pkt 3")
    results = reanchor(parsed_draft, longer, [
        Anchor("K-9", radzie.id, "Gminną Radę Działalności Pożytku Publicznego"),
        Anchor("K-10", parsed_draft.find("§ 17").id, "tekst, którego nigdzie nie ma"),
    ])
    assert results[0].status == "moved" and results[0].new_label == "§ 2 pkt 3"
    assert results[1].status == "orphaned"


def test_an_exact_table_label_wins_even_with_the_current_text_given(parsed_draft):
    table = parsed_draft.find("§ 16 tabela 1")
    result = resolve_anchor(parsed_draft, "§ 16 tabela 1", quote="Na realizację programu planuje się przeznaczyć środki")
    assert result.unit is not None and result.unit.id == table.id
