"""New versions from approved changes, renumbering, and the unit-level diff.

A version never changes. `apply_changes` validates the whole change set first
(unknown units, bad operations, conflicts) and only then builds the next
version; units keep their ids across versions, which is how the diff knows
which old unit is which even after renumbering.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Iterable, Mapping

from services.common.word_numbering import format_number

from .errors import ChangeError
from .model import KIND_RANK, OPS, Change, Run, Unit, Version
from .numbering import classify_prefix, number_format_of, number_value, typed_prefix
from .structure import descendants, number_tirets, relabel
from .styled import StyledText, restyle, set_run_flag

# §§ and chapters are numbered through the whole act; the rest within their parent.
_GLOBAL_SCOPES = ("division", "chapter", "paragraph", "article")
_DEFAULT_FORMAT = {"chapter": "upperRoman", "letter": "lowerLetter"}


def changes_from_json(items) -> list[Change]:
    """CHANGES.json (a list of objects) as Change values; shape errors raise ChangeError."""
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        raise ChangeError("bad_changes", "CHANGES.json must be a list of objects.",
                          "CHANGES.json musi być listą obiektów.")
    return [Change.from_json(item) for item in items]


def apply_changes(parent: Version, changes: Iterable[Change], *, approved_by: str,
                  approved_at: datetime) -> Version:
    """The next version: `changes` applied to `parent`, renumbered and relabelled."""
    changes = tuple(changes)
    targets = _resolve_targets(parent, changes)
    changes, targets = _merge_identical(changes, targets)
    _check_operations(parent, changes, targets)
    _check_conflicts(parent, changes, targets)
    number = parent.number + 1
    timeline, revision_refs = _build_units(parent, changes, targets, number)
    units, renumber_refs = _renumber(timeline, revision_refs)
    revision_refs.update({unit_id: refs for unit_id, refs in renumber_refs.items() if unit_id not in revision_refs})
    units = relabel(_rehome_shared_lines(number_tirets(units)))
    return Version(number=number, units=tuple(units), template=parent.template, parent=parent,
                   changes=changes, approved_by=approved_by, approved_at=approved_at,
                   revision_refs=MappingProxyType(revision_refs))


def _describe(change: Change) -> dict:
    return change.to_json()


def _resolve_targets(parent: Version, changes: tuple[Change, ...]) -> list[Unit]:
    targets, unknown, ambiguous = [], [], []
    for change in changes:
        matches = parent.find_all(change.unit)
        if len(matches) > 1:
            ambiguous.append((change, matches))
        elif not matches:
            unknown.append(change)
        targets.append(matches[0] if len(matches) == 1 else None)
    if ambiguous:
        names = "; ".join(f"{change.unit!r} could be {', '.join(unit.label for unit in matches)}"
                          for change, matches in ambiguous)
        names_pl = "; ".join(f"{change.unit!r} może oznaczać: {', '.join(unit.label for unit in matches)}"
                             for change, matches in ambiguous)
        raise ChangeError("ambiguous_unit", f"Ambiguous unit in version {parent.number}: {names}.",
                          f"Niejednoznaczna jednostka w wersji {parent.number}: {names_pl}.",
                          [{**_describe(change), "candidates": [{"id": unit.id, "label": unit.label}
                                                                for unit in matches]}
                           for change, matches in ambiguous])
    if unknown:
        names = ", ".join(f"{change.unit!r} ({', '.join(change.comment_refs) or 'no comment ref'})"
                          for change in unknown)
        raise ChangeError("unknown_unit", f"No such unit in version {parent.number}: {names}.",
                          f"Brak takiej jednostki w wersji {parent.number}: {names}.",
                          [_describe(change) for change in unknown])
    return targets


def _check_operations(parent: Version, changes: tuple[Change, ...], targets: list[Unit]) -> None:
    for change, unit in zip(changes, targets):
        problem = None
        if change.op not in OPS:
            problem = f"op must be one of {', '.join(OPS)}"
        elif change.op in ("replace", "insert_after") and not change.text.strip() and not change.format:
            problem = f"{change.op} needs a text"
        elif change.op == "replace" and unit.kind == "table":
            problem = "a table can be deleted, not reworded"
        elif change.op == "replace" and unit.shares_paragraph and not change.format:
            problem = (f"{unit.label} has no wording of its own (its first line is its ust. 1); "
                       "change its ust. instead")
        elif change.old_text is not None and change.old_text not in unit.text:
            problem = f"old_text {change.old_text!r} is not in {unit.label}"
        elif change.old_text is not None and unit.text.count(change.old_text) > 1:
            problem = f"old_text {change.old_text!r} occurs more than once in {unit.label}"
        elif change.kind is not None and change.kind not in KIND_RANK and change.kind not in ("block", "common"):
            problem = f"kind {change.kind!r} cannot be inserted"
        if problem:
            raise ChangeError("bad_change", f"Change to {change.unit!r}: {problem}.",
                              f"Zmiana jednostki {change.unit!r}: {problem}.", [_describe(change)])


def _merge_identical(changes: tuple[Change, ...], targets: list[Unit]) -> tuple[tuple[Change, ...], list[Unit]]:
    """The same change to the same unit from several comments (a campaign decided as one group) is one
    change citing every comment; only changes that differ can conflict."""
    merged: dict[tuple, int] = {}
    kept_changes: list[Change] = []
    kept_targets: list[Unit] = []
    for change, unit in zip(changes, targets):
        key = (unit.id, change.op, change.text, change.old_text, change.kind, tuple(sorted(change.format.items())))
        if key in merged:
            index = merged[key]
            first = kept_changes[index]
            refs = first.comment_refs + tuple(r for r in change.comment_refs if r not in first.comment_refs)
            kept_changes[index] = replace(first, comment_refs=refs)
            continue
        merged[key] = len(kept_changes)
        kept_changes.append(change)
        kept_targets.append(unit)
    return tuple(kept_changes), kept_targets


def _check_conflicts(parent: Version, changes: tuple[Change, ...], targets: list[Unit]) -> None:
    """Two changes to one unit, or a change inside a deleted unit, are a conflict."""
    seen: dict[str, Change] = {}
    for change, unit in zip(changes, targets):
        if unit.id in seen:
            _raise_conflict(seen[unit.id], change, unit)
        seen[unit.id] = change
    for change, unit in zip(changes, targets):
        if change.op != "delete":
            continue
        for inner in descendants(parent.units, unit.id):
            if inner in seen:
                _raise_conflict(change, seen[inner], unit)


def _raise_conflict(first: Change, second: Change, unit: Unit) -> None:
    refs = f"{', '.join(first.comment_refs) or '?'} and {', '.join(second.comment_refs) or '?'}"
    refs_pl = refs.replace(" and ", " i ")
    raise ChangeError("conflict", f"Conflicting changes to {unit.label} from comments {refs}.",
                      f"Sprzeczne zmiany jednostki {unit.label} z uwag {refs_pl}.",
                      [_describe(first), _describe(second)])


def _build_units(parent: Version, changes: tuple[Change, ...], targets: list[Unit],
                 number: int) -> tuple[list[tuple[Unit, bool]], dict[str, tuple[str, ...]]]:
    """The parent's units in order with inserted units, each flagged True when deleted."""
    by_target = {unit.id: change for change, unit in zip(changes, targets)}
    deleted: set[str] = set()
    for change, unit in zip(changes, targets):
        if change.op == "delete":
            deleted |= {unit.id} | descendants(parent.units, unit.id)
    revision_refs: dict[str, tuple[str, ...]] = {}
    for change, unit in zip(changes, targets):
        if change.op == "delete":
            for unit_id in {unit.id} | descendants(parent.units, unit.id):
                revision_refs[unit_id] = change.comment_refs
    inserts_due = _insert_positions(parent, changes, targets)
    timeline: list[tuple[Unit, bool]] = []
    inserted_count = 0
    for unit in parent.units:
        change = by_target.get(unit.id)
        if change is not None and change.op == "replace":
            unit = _replaced(unit, change)
            revision_refs[unit.id] = change.comment_refs
        timeline.append((unit, unit.id in deleted))
        for change, anchor in inserts_due.get(unit.id, ()):
            inserted_count += 1
            new_unit = _inserted(anchor, change, f"v{number}.{inserted_count}")
            revision_refs[new_unit.id] = change.comment_refs
            timeline.append((new_unit, False))
    return timeline, revision_refs


def _insert_positions(parent: Version, changes: tuple[Change, ...],
                      targets: list[Unit]) -> dict[str, list[tuple[Change, Unit]]]:
    """insert_after goes after the anchor's whole subtree (after its last descendant)."""
    order = {unit.id: index for index, unit in enumerate(parent.units)}
    positions: dict[str, list[tuple[Change, Unit]]] = {}
    for change, unit in zip(changes, targets):
        if change.op != "insert_after":
            continue
        subtree = descendants(parent.units, unit.id) | {unit.id}
        last = max(subtree, key=order.__getitem__)
        positions.setdefault(last, []).append((change, unit))
    return positions


def _strip_typed_number(text: str, kind: str) -> str:
    """Submitters often write the number into the new wording ("3) …"); the engine numbers units itself."""
    classified = classify_prefix(text.lstrip())
    if classified and classified[0] == kind:
        return text.lstrip()[classified[2]:]
    return text


def _replaced(unit: Unit, change: Change) -> Unit:
    styled = StyledText.from_runs(unit.runs)
    if change.old_text is not None:
        start = styled.text.index(change.old_text)
        new_text = styled.text[:start] + change.text + styled.text[start + len(change.old_text):]
    elif change.text.strip():
        new_text = _strip_typed_number(change.text.strip(), unit.kind)
    else:
        new_text = styled.text
    runs = restyle(styled, new_text).to_runs()
    runs = _apply_format(runs, change.format)
    return replace(unit, runs=tuple(runs), text=new_text.strip(), source_xml="", folded_xml="")


def _apply_format(runs: list[Run], formatting: Mapping[str, bool]) -> list[Run]:
    flags = {"bold": "b", "italic": "i"}
    for key, value in formatting.items():
        if key in flags:
            runs = [run if run.opaque else Run(run.text, set_run_flag(run.rpr, flags[key], bool(value)))
                    for run in runs]
    return runs


def _inserted(anchor: Unit, change: Change, unit_id: str) -> Unit:
    kind = change.kind or anchor.kind
    text = _strip_typed_number(change.text.strip(), kind)
    first_rpr = next((run.rpr for run in anchor.runs if not run.opaque), "")
    runs = _apply_format([Run(text, first_rpr)], change.format)
    parent_id = anchor.parent if kind == anchor.kind else anchor.id
    same = kind == anchor.kind
    return Unit(id=unit_id, kind=kind, label="", text=text, parent=parent_id, number="",
                numbering=anchor.numbering if same else "", runs=tuple(runs),
                ppr=anchor.ppr if same else "", heading=anchor.heading and same,
                page=anchor.page, number_rpr=anchor.number_rpr,
                has_head=anchor.has_head and same, head_ppr=anchor.head_ppr if same else "",
                head_xml=anchor.head_xml if same and anchor.has_head and anchor.numbering == "auto" else "",
                title=text if kind in ("chapter", "division") else "")


def _rehome_shared_lines(units: list[Unit]) -> list[Unit]:
    """Keep "§ 5. 1. Tekst" whole: the first remaining child of a § without a line of its own opens it.

    When that child was deleted, the next one takes the § number; when none is left, the § gets its
    own line again.
    """
    result = list(units)
    for index, unit in enumerate(result):
        if not unit.shares_paragraph:
            continue
        children = [position for position in range(index + 1, len(result)) if result[position].parent == unit.id]
        if not children:
            result[index] = replace(unit, shares_paragraph=False, source_xml="")
            continue
        for order, position in enumerate(children):
            child = result[position]
            should_open = order == 0
            if child.opens_parent != should_open:
                # the number line as the drafter typed it travels with the § number
                borrowed = {"source_parent_text": unit.source_prefix,
                            "source_parent_prefix": typed_prefix(unit.kind, unit.source_number)
                            if unit.numbering == "typed" else ""} if should_open else {}
                result[position] = replace(child, opens_parent=should_open, source_xml="", **borrowed)
    return result


@dataclass
class _Scope:
    delta: int = 0
    last_value: int = 0
    fmt: str = "decimal"
    causes: tuple[str, ...] = ()


def _renumber(timeline: list[tuple[Unit, bool]], revision_refs: dict[str, tuple[str, ...]]
              ) -> tuple[list[Unit], dict[str, tuple[str, ...]]]:
    """Shift numbers after inserted and deleted units, scope by scope; drop deleted units.

    A unit keeps its original offset from its neighbours (gaps and "5a" numbers
    stay as drafted); an inserted unit takes the next number; units after a
    deletion move up. `causes` remembers which comments made a unit move.
    """
    scopes: dict[tuple, _Scope] = {}
    renumbered: dict[str, tuple[str, ...]] = {}
    result = []
    by_id: dict[str, Unit] = {}
    for unit, is_deleted in timeline:
        by_id[unit.id] = unit
        if unit.kind not in KIND_RANK or unit.kind == "tiret":
            if not is_deleted:
                result.append(unit)
            continue
        scope = scopes.setdefault(_scope_key(unit, by_id), _Scope(fmt=_DEFAULT_FORMAT.get(unit.kind, "decimal")))
        if is_deleted:
            if number_value(unit.number) is not None:
                scope.delta -= 1
                scope.causes += revision_refs.get(unit.id, ())
            continue
        value = number_value(unit.number) if unit.number else None
        if not unit.number:  # inserted
            value = scope.last_value + 1
            scope.delta += 1
            scope.causes += revision_refs.get(unit.id, ())
            unit = replace(unit, number=format_number(value, scope.fmt))
        elif value is not None:
            scope.fmt = number_format_of(unit.number)
            value += scope.delta
            new_number = format_number(value, scope.fmt)
            if new_number != unit.number:
                renumbered[unit.id] = tuple(dict.fromkeys(scope.causes))
                unit = replace(unit, number=new_number)
        scope.last_value = value if value is not None else scope.last_value
        result.append(unit)
    return result, renumbered


def _scope_key(unit: Unit, by_id: dict[str, Unit]) -> tuple:
    """§§, articles, chapters and divisions count through the act, or through their annex."""
    if unit.kind not in _GLOBAL_SCOPES:
        return (unit.parent, unit.kind)
    current: Unit | None = unit
    while current is not None and current.kind != "annex":
        current = by_id.get(current.parent) if current.parent else None
    return (current.id if current is not None else "document", unit.kind)


def diff_versions(old: Version, new: Version, *, include_unchanged: bool = False) -> list[dict]:
    """A unit-level diff as JSON-able dicts, in document order.

    Each entry: {"status": "inserted"|"deleted"|"changed"|"renumbered"|"unchanged",
    "old": {"id", "label", "text"} | null, "new": {…} | null, "comment_refs": […]}.
    """
    refs = new.revision_refs if new.parent is old else {}
    entries = []
    for before, after in merged_units(old, new):
        status = _status(before, after)
        if status == "unchanged" and not include_unchanged:
            continue
        unit_id = (after or before).id
        entries.append({"status": status, "old": _brief(before), "new": _brief(after),
                        "comment_refs": list(refs.get(unit_id, ()))})
    return entries


def _brief(unit: Unit | None) -> dict | None:
    return None if unit is None else {"id": unit.id, "label": unit.label, "text": unit.text}


def _status(before: Unit | None, after: Unit | None) -> str:
    if before is None:
        return "inserted"
    if after is None:
        return "deleted"
    if before.runs != after.runs or before.text != after.text:
        return "changed"
    if before.number != after.number or before.parent_prefix != after.parent_prefix:
        return "renumbered"
    return "unchanged"


def merged_units(old: Version, new: Version) -> list[tuple[Unit | None, Unit | None]]:
    """Old and new units side by side in document order; (old, None) deleted, (None, new) inserted."""
    old_ids = {unit.id for unit in old.units}
    new_ids = {unit.id for unit in new.units}
    pairs: list[tuple[Unit | None, Unit | None]] = []
    old_units = list(old.units)
    position = 0
    for unit in new.units:
        if unit.id not in old_ids:
            pairs.append((None, unit))
            continue
        while old_units[position].id != unit.id:
            if old_units[position].id not in new_ids:
                pairs.append((old_units[position], None))
            position += 1
        pairs.append((old_units[position], unit))
        position += 1
    pairs.extend((unit, None) for unit in old_units[position:] if unit.id not in new_ids)
    return pairs
