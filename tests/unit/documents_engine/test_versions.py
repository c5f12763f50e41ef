"""Versions apply approved changes immutably, renumber, refuse conflicts and diff by unit."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

from services.documents.engine.errors import ChangeError
from services.documents.engine.model import Change
from services.documents.engine.parse import parse_docx
from services.documents.engine.render import render_clean
from services.documents.engine.versions import apply_changes, changes_from_json, diff_versions

APPROVED = datetime(2024, 11, 4, 12, 0, tzinfo=timezone.utc)


def apply(version, *changes):
    return apply_changes(version, changes, approved_by="Prezydent Miasta Wzorowo", approved_at=APPROVED)


def label_texts(version) -> dict[str, str]:
    return {unit.label: unit.text for unit in version.units}


def test_new_version_records_parent_changes_approver_and_time(parsed_draft):
    change = Change("§ 4", "replace", "Nowe brzmienie zasad współpracy.", ("K-1",))
    version = apply(parsed_draft, change)
    assert (version.number, version.parent, version.changes) == (2, parsed_draft, (change,))
    assert (version.approved_by, version.approved_at) == ("Prezydent Miasta Wzorowo", APPROVED)
    assert label_texts(version)["§ 4"] == "Nowe brzmienie zasad współpracy."
    assert label_texts(parsed_draft)["§ 4"].startswith("Współpraca odbywa się")


def test_versions_are_immutable(parsed_draft):
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed_draft.number = 7
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed_draft.units[0].text = "x"
    with pytest.raises(TypeError):
        parsed_draft.template.parts["word/document.xml"] = b""


def test_insert_renumbers_following_siblings_and_diff_maps_old_to_new(parsed_draft):
    version = apply(parsed_draft, Change("§ 2 pkt 2", "insert_after", "3) fundacjach – rozumie się przez to …;",
                                         ("K-2",)))
    texts = label_texts(version)
    assert texts["§ 2 pkt 3"] == "fundacjach – rozumie się przez to …;"
    assert texts["§ 2 pkt 4"].startswith("Radzie")
    assert texts["§ 2 pkt 5"].startswith("konkursie")
    diff = diff_versions(parsed_draft, version)
    moved = next(entry for entry in diff if entry["old"] and entry["old"]["label"] == "§ 2 pkt 3")
    assert moved["status"] == "renumbered"
    assert moved["new"]["label"] == "§ 2 pkt 4" and moved["new"]["id"] == moved["old"]["id"]
    assert moved["comment_refs"] == ["K-2"]


def test_deleting_a_paragraph_renumbers_all_later_paragraphs_through_chapters(parsed_draft):
    version = apply(parsed_draft, Change("§ 4", "delete", comment_refs=("K-3",)))
    old, new = label_texts(parsed_draft), label_texts(version)
    assert new["§ 4"] == old["§ 5"] and new["§ 4 ust. 2 pkt 1"] == old["§ 5 ust. 2 pkt 1"]
    last_old = max(int(u.number) for u in parsed_draft.units if u.kind == "paragraph")
    assert f"§ {last_old}" not in new and f"§ {last_old - 1}" in new


def test_deleting_a_unit_deletes_its_subtree(parsed_draft):
    version = apply(parsed_draft, Change("§ 3 ust. 2 pkt 2", "delete", comment_refs=("K-4",)))
    removed = {entry["old"]["label"] for entry in diff_versions(parsed_draft, version) if entry["status"] == "deleted"}
    assert removed == {"§ 3 ust. 2 pkt 2", "§ 3 ust. 2 pkt 2 lit. a", "§ 3 ust. 2 pkt 2 lit. b",
                       "§ 3 ust. 2 pkt 2 lit. c"}
    assert label_texts(version)["§ 3 ust. 2 pkt 2"].startswith("poprawę jakości")


def test_wording_edit_inside_a_unit_keeps_formatting_and_footnote(parsed_draft):
    version = apply(parsed_draft, Change("§ 2 pkt 1", "replace", "ustawę z dnia 24 kwietnia 2003 r.", ("K-5",),
                                         old_text="ustawę"))
    unit = version.find("§ 2 pkt 1")
    assert unit.text.startswith("ustawie – rozumie się przez to ustawę z dnia 24 kwietnia 2003 r. o działalności")
    assert unit.runs[0].italic and unit.runs[0].text == "ustawie"
    assert any("footnoteReference" in run.opaque for run in unit.runs)


def test_two_changes_to_one_unit_are_a_conflict_naming_both_comments(parsed_draft):
    with pytest.raises(ChangeError) as raised:
        apply(parsed_draft, Change("§ 4", "replace", "A", ("K-10",)), Change("§ 4", "delete", comment_refs=("K-11",)))
    assert raised.value.code == "conflict"
    assert "K-10" in raised.value.message and "K-11" in raised.value.message
    assert [change["comment_refs"] for change in raised.value.changes] == [["K-10"], ["K-11"]]


def test_change_inside_a_deleted_unit_is_a_conflict(parsed_draft):
    with pytest.raises(ChangeError) as raised:
        apply(parsed_draft, Change("§ 3", "delete", comment_refs=("K-12",)),
              Change("§ 3 ust. 1", "replace", "B", ("K-13",)))
    assert raised.value.code == "conflict" and "K-12" in raised.value.message and "K-13" in raised.value.message


def test_unknown_unit_is_refused_with_the_change(parsed_draft):
    with pytest.raises(ChangeError) as raised:
        apply(parsed_draft, Change("§ 999", "delete", comment_refs=("K-14",)))
    assert raised.value.code == "unknown_unit" and raised.value.changes[0]["unit"] == "§ 999"


def test_units_can_be_addressed_by_id(parsed_draft):
    target = parsed_draft.find("§ 4")
    version = apply(parsed_draft, Change(target.id, "replace", "Po identyfikatorze.", ("K-15",)))
    assert version.find("§ 4").text == "Po identyfikatorze."


def test_changes_json_shape_is_validated():
    with pytest.raises(ChangeError):
        changes_from_json({"unit": "§ 1"})
    changes = changes_from_json([{"unit": "§ 1", "op": "delete", "comment_refs": ["K-1"]}])
    assert changes[0].comment_refs == ("K-1",)


@pytest.mark.parametrize("numbering", ["typed", "auto"])
def test_rendered_new_version_parses_back_to_the_same_labels(numbering, auto_draft, typed_draft):
    draft = parse_docx(auto_draft if numbering == "auto" else typed_draft)
    version = apply(draft, Change("§ 2 pkt 2", "delete", comment_refs=("K-1",)),
                    Change("§ 3 ust. 2 pkt 2 lit. a", "insert_after", "w zakresie zdrowia psychicznego,", ("K-2",)),
                    Change("§ 4", "delete", comment_refs=("K-3",)),
                    Change("§ 5 ust. 1", "replace", "Współpraca ma charakter finansowy.", ("K-4",)))
    reparsed = parse_docx(render_clean(version))
    assert [(u.label, u.text) for u in reparsed.units] == [(u.label, u.text) for u in version.units]


def test_chained_versions_keep_ids_and_lineage(parsed_draft):
    second = apply(parsed_draft, Change("§ 2 pkt 2", "insert_after", "nowy punkt;", ("K-1",)))
    third = apply(second, Change("§ 2 pkt 4", "delete", comment_refs=("K-2",)))
    assert third.parent is second and third.number == 3
    assert third.find("§ 2 pkt 3").text == "nowy punkt;"
    assert [e["status"] for e in diff_versions(second, third)] == ["deleted", "renumbered"]


def test_the_same_change_from_a_campaign_group_is_one_change_citing_every_comment():
    """A group decision gives each member the same wording; that is not a conflict."""
    from datetime import datetime, timezone

    from services.documents.engine import Change, apply_changes, parse_docx
    from services.documents.engine.demo_draft import make_torun_draft

    parent = parse_docx(make_torun_draft(2027))
    wording = "tworzenie wspólnych zespołów o charakterze doradczym i inicjatywnym oraz wskazywanie źródeł finansowania."
    label = "Załącznik § 5 ust. 3 pkt 4"
    unit = next(u for u in parent.units if u.label == label)
    changes = [Change(unit=unit.id, op="replace", text=wording, comment_refs=(f"UW/2026/00000{n}#1",)) for n in (1, 2)]
    version = apply_changes(parent, changes, approved_by="k@um.example", approved_at=datetime.now(timezone.utc))
    assert next(u for u in version.units if u.label == label).text == wording
