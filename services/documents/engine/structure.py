"""The tree of units: who is whose parent, and the labels that follow from it."""

from __future__ import annotations

from .model import NEST_RANK, Unit, evolve
from .numbering import compose_label, typed_prefix

# Blocks and tables belong to the nearest §, article, chapter or annex, not to the last point.
_CONTAINER_RANK = NEST_RANK["paragraph"]
_LIST_ITEMS = ("point", "letter", "tiret")


def assign_parents(units: list[Unit]) -> list[Unit]:
    """Nest units by rank (annex > dział > rozdział > § / art. > ust. > pkt > lit. > tiret), in document order.

    The closing wording of a list ("część wspólna") belongs to the unit that opened the list, and closes it.
    """
    stack: list[Unit] = []
    result = []
    for unit in units:
        rank = NEST_RANK.get(unit.kind)
        if unit.kind == "common":
            if stack and stack[-1].kind in _LIST_ITEMS:
                stack.pop()
            parent = stack[-1].id if stack else None
        elif rank is None:
            containers = [open_unit for open_unit in stack if NEST_RANK[open_unit.kind] <= _CONTAINER_RANK]
            parent = containers[-1].id if containers else None
        else:
            while stack and NEST_RANK[stack[-1].kind] >= rank:
                stack.pop()
            parent = stack[-1].id if stack else None
            stack.append(unit)
        result.append(unit if unit.parent == parent else evolve(unit, parent=parent))
    return result


def number_tirets(units: list[Unit]) -> list[Unit]:
    """A tiret's number is its place among its parent's tirets (tirets carry no number of their own)."""
    count: dict[str | None, int] = {}
    result = []
    for unit in units:
        if unit.kind == "tiret":
            count[unit.parent] = count.get(unit.parent, 0) + 1
            number = str(count[unit.parent])
            unit = evolve(unit, number=number, source_number=number if not unit.source_number else unit.source_number)
        result.append(unit)
    return result


def relabel(units: list[Unit] | tuple[Unit, ...]) -> list[Unit]:
    """Compute every label from the parent chain; blocks and tables count within their parent.

    Blocks of the act outside its numbered units are its title: "Tytuł" when it is one paragraph, else
    "Tytuł, akapit 1", "Tytuł, akapit 2"…; an annex is "Załącznik" when it is the only one, else "Załącznik nr N".
    """
    annexes = [unit for unit in units if unit.kind == "annex"]
    annex_numbers = {unit.id: ("" if len(annexes) == 1 else (unit.number or str(index)))
                     for index, unit in enumerate(annexes, 1)}
    structured = any(NEST_RANK.get(unit.kind) is not None for unit in units)
    one_title = structured and sum(1 for unit in units if unit.kind == "block" and unit.parent is None) == 1
    by_id: dict[str, Unit] = {}
    ordinal: dict[tuple[str | None, str], int] = {}
    result = []
    for unit in units:
        number, kind = unit.number, unit.kind
        if kind == "annex":
            number = annex_numbers[unit.id]
        if kind in ("block", "table"):
            if kind == "block" and unit.parent is None and structured:
                kind = "title"
            key = (unit.parent, kind)
            ordinal[key] = ordinal.get(key, 0) + 1
            number = "" if kind == "title" and one_title else str(ordinal[key])
        chain = [(kind, number)]
        parent_id = unit.parent
        while parent_id is not None and parent_id in by_id:
            parent = by_id[parent_id]
            chain.append((parent.kind, annex_numbers.get(parent.id, parent.number)))
            parent_id = parent.parent
        parent_prefix = ""
        if unit.opens_parent and unit.parent in by_id:
            parent = by_id[unit.parent]
            parent_prefix = typed_prefix(parent.kind, parent.number) if parent.numbering == "typed" else ""
        label = compose_label(list(reversed(chain)))
        labelled = unit if (unit.label, unit.parent_prefix) == (label, parent_prefix) else \
            evolve(unit, label=label, parent_prefix=parent_prefix)
        by_id[unit.id] = labelled
        result.append(labelled)
    return result


def descendants(units: list[Unit] | tuple[Unit, ...], unit_id: str) -> set[str]:
    """Ids of all units below `unit_id` (units are in document order, children after parents)."""
    found = {unit_id}
    for unit in units:
        if unit.parent in found:
            found.add(unit.id)
    found.discard(unit_id)
    return found


def chapter_of(units: list[Unit] | tuple[Unit, ...], unit_id: str) -> Unit | None:
    by_id = {unit.id: unit for unit in units}
    current = by_id.get(unit_id)
    while current is not None and current.kind != "chapter":
        current = by_id.get(current.parent) if current.parent else None
    if current is not None:
        return current
    preceding = None
    for unit in units:
        if unit.kind == "chapter":
            preceding = unit
        if unit.id == unit_id:
            return preceding
    return None
