"""Text with per-character formatting, and word-level diffs over it.

A changed unit keeps the formatting of every character that survives the edit
(bold stays bold), and inline objects such as footnote references stay at the
same place in the text. The same word-level diff drives the tracked-changes
renderer, so revisions mark whole words, as a person would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from .model import Run

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class StyledText:
    text: str
    rprs: tuple[str, ...]  # one rPr per character of `text`
    objects: tuple[tuple[int, Run], ...] = ()  # (character offset, opaque run)

    @staticmethod
    def from_runs(runs: list[Run] | tuple[Run, ...]) -> "StyledText":
        chars, rprs, objects = [], [], []
        offset = 0
        for run in runs:
            if run.opaque:
                objects.append((offset, run))
                continue
            chars.append(run.text)
            rprs.extend([run.rpr] * len(run.text))
            offset += len(run.text)
        return StyledText("".join(chars), tuple(rprs), tuple(objects))

    def to_runs(self) -> list[Run]:
        return segments_to_runs(self.text, self.rprs, 0, len(self.text), self.objects)


def segments_to_runs(text: str, rprs: tuple[str, ...] | list[str], start: int, end: int,
                     objects: tuple[tuple[int, Run], ...] = ()) -> list[Run]:
    """Runs for text[start:end], split where formatting changes; objects placed at their offsets."""
    runs: list[Run] = []
    # By offset alone, in document order: two objects at one offset (a picture beside a field) keep their order.
    pending = sorted(((offset, run) for offset, run in objects if start <= offset <= end), key=lambda item: item[0])
    position = start
    while position < end or pending:
        while pending and pending[0][0] <= position:
            runs.append(pending.pop(0)[1])
        if position >= end:
            break
        stop = position + 1
        limit = min([end] + [offset for offset, _ in pending if offset > position])
        while stop < limit and rprs[stop] == rprs[position]:
            stop += 1
        runs.append(Run(text[position:stop], rprs[position]))
        position = stop
    return runs


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def token_opcodes(old: str, new: str) -> list[tuple[str, int, int, int, int]]:
    """Opcodes of a word-level diff, in character offsets of `old` and `new`."""
    old_tokens, new_tokens = tokens(old), tokens(new)
    old_offsets, new_offsets = _offsets(old_tokens), _offsets(new_tokens)
    matcher = SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    return [(tag, old_offsets[i1], old_offsets[i2], new_offsets[j1], new_offsets[j2])
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()]


def _offsets(token_list: list[str]) -> list[int]:
    offsets = [0]
    for token in token_list:
        offsets.append(offsets[-1] + len(token))
    return offsets


def restyle(old: StyledText, new_text: str) -> StyledText:
    """`new_text` with the formatting and inline objects of `old` carried over where the text survived."""
    rprs: list[str] = []
    offset_map: list[tuple[int, int, int, int]] = []
    default = old.rprs[0] if old.rprs else ""
    for tag, i1, i2, j1, j2 in token_opcodes(old.text, new_text):
        if tag == "equal":
            rprs.extend(old.rprs[i1:i2])
        else:
            inherited = old.rprs[i1] if i1 < len(old.rprs) else (rprs[-1] if rprs else default)
            rprs.extend([inherited] * (j2 - j1))
        offset_map.append((i1, i2, j1, j2 if tag == "equal" else j2))
    objects = tuple((_map_offset(offset, offset_map), run) for offset, run in old.objects)
    return StyledText(new_text, tuple(rprs), objects)


def _map_offset(offset: int, offset_map: list[tuple[int, int, int, int]]) -> int:
    """Where an old character offset lands in the new text (end of a replaced stretch)."""
    for i1, i2, j1, j2 in offset_map:
        if i1 <= offset < i2 or (offset == i2 and i1 == i2):
            if (i2 - i1) == (j2 - j1):
                return j1 + (offset - i1)
            return j2
    return offset_map[-1][3] if offset_map else 0


def set_run_flag(rpr: str, name: str, on: bool) -> str:
    """Switch <w:b/> or <w:i/> in a serialized rPr (adding the rPr when missing)."""
    without = re.sub(rf"<w:{name}(\s[^>]*)?/>", "", rpr)
    if not on:
        return "" if without == "<w:rPr></w:rPr>" else without
    if not without:
        return f"<w:rPr><w:{name}/></w:rPr>"
    # Schema order: rStyle, rFonts, b, bCs, i, …
    match = re.match(r"(<w:rPr>(?:<w:rStyle[^>]*/>)?(?:<w:rFonts[^>]*/>)?(?:<w:b(?:\s[^>]*)?/>)?"
                     r"(?:<w:bCs(?:\s[^>]*)?/>)?)", without)
    head = match.group(1) if match else "<w:rPr>"
    return head + f"<w:{name}/>" + without[len(head):]
