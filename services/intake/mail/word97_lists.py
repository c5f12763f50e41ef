"""The list numbers of a Word 97-2003 document (.doc, [MS-DOC]), in the model of numbering.xml, so that
services/common/word_numbering.py counts and shows them as it does for a DOCX. Pure: table stream bytes in.

Word 97 keeps lists in its table stream: the lists (`PlfLst`, [MS-DOC] 2.9.183: one `LSTF` each, with one level
for a simple list and nine for the others, each an `LVL` stored after the `PlfLst`), and the list instances
paragraphs name (`PlfLfo`, 2.9.184: one `LFO` each, with the levels it restarts or reformats in its `LFOData`).
A list is an abstract list of numbering.xml (its `lsid`), an instance a `w:num` (its 1-based index, which a
paragraph's `sprmPIlfo` names). A paragraph style may number its paragraphs too (its `sprmPIlfo` in the style
sheet, `STSH`, 2.9.271), through the styles it is based on. Every length is checked; what does not fit gives no
numbers (the paragraphs keep a bullet), never an error.
"""

from __future__ import annotations

import struct

from services.common.word_numbering import ListLevel, WordNumbering, inherited_lists

SPRM_ILFO, SPRM_ILVL = 0x460B, 0x260A  # the list instance (LFO) a paragraph is numbered by; its level
NO_LIST = (0, 0xF801)  # sprmPIlfo: not numbered (0xF801: "not numbered, whatever the style says")
# [MS-DOC] 2.9.150 LVLF.nfc, MS-OI29500's table of number formats: those a Polish document uses; the rest as digits
_FORMATS = {0: "decimal", 1: "upperRoman", 2: "lowerRoman", 3: "upperLetter", 4: "lowerLetter", 5: "ordinal",
            22: "decimalZero", 23: "bullet", 255: "none"}
_MAX_LISTS = 4096
_LVLF = 28


class ListsUnreadable(ValueError):
    pass


def word97_numbering(table: bytes, lists_at: tuple[int, int], instances_at: tuple[int, int]) -> WordNumbering:
    """The document's lists and their instances; an empty numbering (every list a bullet) when they cannot be read."""
    numbering = WordNumbering()
    try:
        _read_lists(numbering, table, *lists_at)
        _read_instances(numbering, table, *instances_at)
    except (ListsUnreadable, struct.error):
        return WordNumbering()
    return numbering


def _read_lists(numbering: WordNumbering, table: bytes, offset: int, size: int) -> None:
    if size < 2 or offset + size > len(table):
        raise ListsUnreadable("no list table")
    count = struct.unpack_from("<h", table, offset)[0]
    if not 0 <= count <= _MAX_LISTS or 2 + count * 28 > size:
        raise ListsUnreadable("a list table of the wrong size")
    position = offset + 2 + count * 28  # the levels follow the PlfLst, list after list
    for index in range(count):
        lstf = offset + 2 + index * 28
        lsid = struct.unpack_from("<i", table, lstf)[0]
        simple = table[lstf + 26] & 0x01
        levels = {}
        for ilvl in range(1 if simple else 9):
            levels[ilvl], position = _read_level(table, position)
        numbering.abstract_levels[str(lsid)] = levels


def _read_instances(numbering: WordNumbering, table: bytes, offset: int, size: int) -> None:
    if size < 4 or offset + size > len(table):
        raise ListsUnreadable("no list instances")
    count = struct.unpack_from("<I", table, offset)[0]
    if count > _MAX_LISTS or 4 + count * 16 > size:
        raise ListsUnreadable("list instances of the wrong size")
    data = offset + 4 + count * 16  # each LFO's LFOData, in the same order
    for index in range(count):
        lfo = offset + 4 + index * 16
        lsid, changed_levels = struct.unpack_from("<i", table, lfo)[0], table[lfo + 12]
        num_id = str(index + 1)
        numbering.num_abstract[num_id] = str(lsid)
        overrides, levels = {}, {}
        data += 4  # LFOData.cp
        for _ in range(min(changed_levels, 9)):
            start, flags = struct.unpack_from("<iI", table, data)
            data += 8
            ilvl = flags & 0x0F
            if flags & 0x10:  # fStartAt: this instance restarts the level at `start`
                overrides[ilvl] = start
            if flags & 0x20:  # fFormatting: a level of its own follows
                levels[ilvl], data = _read_level(table, data)
        numbering.num_overrides[num_id] = overrides
        numbering.num_levels[num_id] = levels


def _read_level(table: bytes, position: int):
    """One LVL ([MS-DOC] 2.9.150): LVLF, its paragraph and character sprms, and its number text (`xst`), whose
    placeholders (the characters `rgbxchNums` points at, each a level's index) become numbering.xml's "%1"."""
    if position + _LVLF + 2 > len(table):
        raise ListsUnreadable("a list level past the end of the table stream")
    start, fmt_code, flags = struct.unpack_from("<iBB", table, position)
    placeholders = set()
    for place in table[position + 6:position + 15]:
        if not place:
            break
        placeholders.add(place)
    chpx_size, papx_size, restart_limit = table[position + 24], table[position + 25], table[position + 26]
    text_at = position + _LVLF + papx_size + chpx_size
    if text_at + 2 > len(table):
        raise ListsUnreadable("a list level past the end of the table stream")
    length = struct.unpack_from("<H", table, text_at)[0]
    raw = table[text_at + 2:text_at + 2 + length * 2]
    if len(raw) != length * 2:
        raise ListsUnreadable("a list level's text past the end of the table stream")
    text = "".join(f"%{ord(character) + 1}" if index in placeholders and ord(character) < 9 else character
                   for index, character in enumerate(raw.decode("utf-16-le", "replace"), start=1))
    level = ListLevel(start=start, fmt=_FORMATS.get(fmt_code, "decimal"), text=text,
                     restart=restart_limit if flags & 0x08 else None, legal=bool(flags & 0x04))
    return level, text_at + 2 + length * 2


def style_lists(table: bytes, sheet_at: tuple[int, int], read_sprms) -> dict[int, tuple[int, int]]:
    """Paragraph styles that number their paragraphs, also through the styles they are based on: style index ->
    (list instance, level). `read_sprms(grpprl)` gives a grpprl's (ilfo, ilvl), None where it says nothing."""
    try:
        own, based_on = _styles(table, *sheet_at, read_sprms)
    except (ListsUnreadable, struct.error):
        return {}
    return inherited_lists(own, based_on, off=NO_LIST)


def _styles(table: bytes, offset: int, size: int, read_sprms):
    """Each paragraph style's own (ilfo, ilvl), None when it sets none, and the style it is based on ([MS-DOC]
    2.9.271 STSH: STSHI, then each STD after its size; an STD is its Stdf, its name, then its UPXs)."""
    if size < 4 or offset + size > len(table):
        raise ListsUnreadable("no style sheet")
    sheet = table[offset:offset + size]
    header_size = struct.unpack_from("<H", sheet, 0)[0]
    count, base_size = struct.unpack_from("<HH", sheet, 2)
    position = 2 + header_size
    own: dict[int, tuple[int, int] | None] = {}
    based_on: dict[int, int] = {}
    for istd in range(count):
        if position + 2 > len(sheet):
            break
        std_size = struct.unpack_from("<H", sheet, position)[0]
        std = sheet[position + 2:position + 2 + std_size]
        position += 2 + std_size
        if len(std) < base_size + 2 or base_size < 10:
            continue
        kind_and_base = struct.unpack_from("<H", std, 2)[0]
        if kind_and_base & 0x0F != 1:  # only paragraph styles number paragraphs
            continue
        if kind_and_base >> 4 != 0x0FFF:
            based_on[istd] = kind_and_base >> 4
        name_length = struct.unpack_from("<H", std, base_size)[0]
        upx = base_size + 2 + name_length * 2 + 2
        upx += upx % 2
        if upx + 4 > len(std):
            own[istd] = None
            continue
        upx_size = struct.unpack_from("<H", std, upx)[0]
        own[istd] = read_sprms(std[upx + 4:upx + 2 + upx_size])  # after the UpxPapx's own style index
    return own, based_on
