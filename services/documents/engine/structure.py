"""The tree of units: who is whose parent, and the labels that follow from it."""

from __future__ import annotations

from dataclasses import replace

from .model import KIND_RANK, Unit
from .numbering import compose_label

# Blocks and tables belong to the nearest chapter or §, not to the last point.
_CONTAINER_RANK = KIND_RANK["paragraph"]


def assign_parents(units: list[Unit]) -> list[Unit]:
    """Nest numbered units by rank (chapter > § > ust. > pkt > lit.), in document order."""
    stack: list[Unit] = []
    result = []
    for unit in units:
        rank = KIND_RANK.get(unit.kind)
        if rank is None:
            containers = [open_unit for open_unit in stack if KIND_RANK[open_unit.kind] <= _CONTAINER_RANK]
            parent = containers[-1].id if containers else None
        else:
            while stack and KIND_RANK[stack[-1].kind] >= rank:
                stack.pop()
            parent = stack[-1].id if stack else None
            stack.append(unit)
        result.append(replace(unit, parent=parent))
    return result


def relabel(units: list[Unit] | tuple[Unit, ...]) -> list[Unit]:
    """Compute every label from the parent chain; blocks and tables count within their parent."""
    by_id: dict[str, Unit] = {}
    ordinal: dict[tuple[str | None, str], int] = {}
    result = []
    for unit in units:
        number = unit.number
        if unit.kind in ("block", "table"):
            key = (unit.parent, unit.kind)
            ordinal[key] = ordinal.get(key, 0) + 1
            number = str(ordinal[key])
        chain = [(unit.kind, number)]
        parent_id = unit.parent
        while parent_id is not None and parent_id in by_id:
            parent = by_id[parent_id]
            chain.append((parent.kind, parent.number))
            parent_id = parent.parent
        labelled = replace(unit, label=compose_label(list(reversed(chain))))
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
