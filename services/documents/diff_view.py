"""What the versions screen shows of a unit-level diff: counts, and a changed text word by word. Pure."""

from __future__ import annotations

import re
from collections import Counter
from difflib import SequenceMatcher
from typing import Iterable, Mapping

DIFF_STATUSES = ("inserted", "deleted", "changed", "renumbered")
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


def inline_diff(old: str, new: str) -> list[tuple[str, str]]:
    """`old` turned into `new` as (op, text) pieces, op being equal, delete or insert; whole words only.

    A space between two changed words belongs to the change, so "ich dofinansowanie" → "wkład własny"
    reads as one replacement, not two.
    """
    before, after = _TOKEN.findall(old or ""), _TOKEN.findall(new or "")
    groups: list[list] = []
    opcodes = SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        only_space = not "".join(before[i1:i2]).strip()
        changed = op != "equal" or (only_space and 0 < index < len(opcodes) - 1)
        if changed and groups and groups[-1][0] == "change":
            groups[-1][2], groups[-1][4] = i2, j2
        else:
            groups.append(["change" if changed else "equal", i1, i2, j1, j2])
    pieces: list[tuple[str, str]] = []
    for kind, i1, i2, j1, j2 in groups:
        if kind == "equal":
            pieces.append(("equal", "".join(before[i1:i2])))
        else:
            pieces += [("delete", "".join(before[i1:i2])), ("insert", "".join(after[j1:j2]))]
    return _merged([piece for piece in pieces if piece[1]])


def _merged(pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    for op, text in pieces:
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    return merged


def diff_counts(entries: Iterable[Mapping]) -> dict[str, int]:
    """How many units were inserted, deleted, changed and renumbered (every status present, zero or not)."""
    counted = Counter(entry["status"] for entry in entries)
    return {status: counted.get(status, 0) for status in DIFF_STATUSES}


def unit_depths(units: Iterable[Mapping]) -> dict[str, int]:
    """Each unit's depth below the top, from its `parent` chain, for indenting the parsed-units view."""
    parents = {unit["id"]: unit.get("parent") for unit in units}
    depths: dict[str, int] = {}
    for unit_id in parents:
        depth, parent, seen = 0, parents[unit_id], {unit_id}
        while parent and parent in parents and parent not in seen:
            seen.add(parent)
            depth, parent = depth + 1, parents[parent]
        depths[unit_id] = depth
    return depths
