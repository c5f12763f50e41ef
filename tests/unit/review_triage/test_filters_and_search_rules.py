"""The queue's filter object, its schema, search normalisation and anchoring rules: pure, no database."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from services.review.drafts import anchor_unit, chapters_of
from services.review.models import DraftUnit
from services.review.search import fold, query_words
from services.review.triage import QueueFilters, QueuePage
from services.review.triage_schemas import QueueArgs, QueueFilterArgs
from tests.unit.review_triage.support import UNITS


def test_folding_removes_case_and_polish_diacritics_including_l_with_stroke():
    assert fold("Źródła FINANSOWANIA") == "zrodla finansowania"
    assert fold("Łódź, żółć, gęślą jaźń") == "lodz, zolc, gesla jazn"


def test_query_words_are_folded_deduplicated_stripped_of_syntax_and_capped():
    assert query_words('  "Źródła" finansowania* OR źródła -NEAR(x) ') == ["zrodla", "finansowania", "or", "near", "x"]
    assert query_words("") == query_words(None) == []
    assert len(query_words(" ".join(f"w{i}" for i in range(40)))) == 12


def test_filters_keep_only_what_differs_from_the_defaults():
    filters = QueueFilters(consultation="c1", topic="zdrowie", late=False, mine=True, q="dotacje")
    assert filters.to_dict() == {"consultation": "c1", "topic": "zdrowie", "late": False, "mine": True, "q": "dotacje"}
    assert filters.query_args() == {"consultation": "c1", "topic": "zdrowie", "late": "0", "mine": "1", "q": "dotacje"}
    assert filters.active_count == 4  # the consultation and the sort are the view, not filters
    assert QueueFilters().to_dict() == {}
    assert filters.without("q", "mine") == QueueFilters(consultation="c1", topic="zdrowie", late=False)


def test_the_schema_reads_a_plain_html_form_where_blank_means_any():
    loaded = QueueFilterArgs().load({"status": "", "topic": "zdrowie", "late": "1", "mine": "", "sort": "-received",
                                     "apply": "Filtruj"})
    filters = QueueFilters.from_loaded(loaded)
    assert filters == QueueFilters(topic="zdrowie", late=True, sort="-received")
    assert QueueFilters.from_loaded(QueueFilterArgs().load(filters.query_args())) == filters


@pytest.mark.parametrize("args, field", [
    ({"channel": "pigeon"}, "channel"), ({"sort": "random()"}, "sort"), ({"status": "DROP TABLE"}, "status"),
    ({"late": "perhaps"}, "late"), ({"q": "x" * 201}, "q"), ({"unit": "u" * 65}, "unit"),
])
def test_the_schema_refuses_nonsense_by_field(args, field):
    with pytest.raises(ValidationError) as raised:
        QueueFilterArgs().load(args)
    assert field in raised.value.messages


@pytest.mark.parametrize("args", [{"page": "0"}, {"page": str(10**30)}, {"page": "10001"}, {"per_page": "7"},
                                  {"per_page": "100000"}, {"page": "-1"}])
def test_paging_is_bounded(args):
    with pytest.raises(ValidationError):
        QueueArgs().load(args)


def test_a_page_knows_its_page_count_and_offset():
    page = QueuePage(items=[], total=101, page=3, per_page=50)
    assert (page.pages, page.offset) == (3, 100)
    assert QueuePage(items=[], total=0, page=1, per_page=50).pages == 1


def _units() -> list[DraftUnit]:
    chapter = chapters_of(UNITS)
    return [DraftUnit(unit_id=u["id"], label=u["label"], kind=u["kind"], parent_id=u["parent"],
                      chapter_id=chapter[u["id"]], text=u["text"]) for u in UNITS]


ACT_WITH_ANNEX = [
    {"id": "a1", "kind": "paragraph", "label": "§ 1", "parent": None, "text": "Przyjmuje się Program."},
    {"id": "a2", "kind": "annex", "label": "Załącznik", "parent": None, "text": "Program współpracy"},
    {"id": "a3", "kind": "chapter", "label": "Załącznik Rozdział 1", "parent": "a2", "text": "Postanowienia ogólne"},
    {"id": "a4", "kind": "paragraph", "label": "Załącznik § 1", "parent": "a3", "text": "Program określa cele."},
    {"id": "a5", "kind": "section", "label": "Załącznik § 1 ust. 2", "parent": "a4", "text": "Celem jest partnerstwo."},
    {"id": "a6", "kind": "block", "label": "Załącznik akapit 1", "parent": "a2", "text": "Wstęp."},
]


def _as_units(raw: list[dict]) -> list[DraftUnit]:
    chapter = chapters_of(raw)
    return [DraftUnit(unit_id=u["id"], label=u["label"], kind=u["kind"], parent_id=u["parent"],
                      chapter_id=chapter[u["id"]], text=u["text"]) for u in raw]


def test_an_annex_unit_belongs_to_its_chapter_not_to_the_whole_annex():
    assert chapters_of(ACT_WITH_ANNEX) == {"a1": "a1", "a2": "a2", "a3": "a3", "a4": "a3", "a5": "a3", "a6": "a2"}


@pytest.mark.parametrize("section, quote, unit", [
    ("§ 1 ust. 2", "", "a5"),  # only the annex has it: cited without "Załącznik"
    ("Załącznik § 1", "", "a4"),
    ("§ 1", "", None),  # the act and the annex share "§ 1": no quote, no guess
    ("§ 1", "Program  OKREŚLA cele", "a4"),  # the quote settles it
    ("§ 1", "przyjmuje sie program", "a1"),
])
def test_labels_shared_by_the_act_and_its_annex_need_the_quote(section, quote, unit):
    found = anchor_unit(section, _as_units(ACT_WITH_ANNEX), quote)
    assert (found.unit_id if found else None) == unit


def test_each_unit_belongs_to_its_topmost_ancestor():
    assert chapters_of(UNITS) == {"u1": "u1", "u2": "u1", "u3": "u3", "u4": "u3", "u5": "u3", "u6": "u3", "u7": "u3"}
    assert chapters_of([{"id": "a", "parent": "b"}, {"id": "b", "parent": "a"}])  # a cycle does not hang


@pytest.mark.parametrize("section, unit", [
    ("§ 5 ust. 2 pkt 2", "u6"), ("§5 ust.2 pkt 2 – dotacje", "u6"), ("§ 5 ust. 2", "u5"), ("§ 5", "u4"),
    ("§ 10", "u7"), ("§ 1.", "u2"), ("rozdział ii", "u3"), ("§ 17", None), ("Cały program", None), ("", None),
])
def test_a_comment_is_anchored_to_the_longest_label_its_section_starts_with(section, unit):
    found = anchor_unit(section, _units())
    assert (found.unit_id if found else None) == unit
