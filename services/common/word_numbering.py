"""Word's list numbers (`word/numbering.xml`), rendered as Word shows them: the drafts the documents service reads
and the letters intake reads are numbered by Word itself ("§ 1.", "1)", "a)" live in numbering.xml, not in the
text), and both must see the numbers a reader of the document sees.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace

from lxml import etree

from services.common.xmltree import parse_untrusted_xml

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

_ROMAN = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
          (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]


def to_roman(value: int) -> str:
    result = []
    for amount, numeral in _ROMAN:
        while value >= amount:
            result.append(numeral)
            value -= amount
    return "".join(result)


def to_letters(value: int) -> str:
    """1 → a, 26 → z, 27 → aa (Word's lowerLetter repeats the letter)."""
    letter = "abcdefghijklmnopqrstuvwxyz"[(value - 1) % 26]
    return letter * ((value - 1) // 26 + 1)


_MAX_SPELLED = 32767  # the highest start Word's dialog accepts; a letter or Roman number above it is shown as digits


def format_number(value: int, fmt: str) -> str:
    if fmt in ("none", "bullet"):  # a level shown as nothing or a bullet gives no number to the levels below
        return ""
    if fmt == "decimalZero":
        return f"{value:02d}" if 0 <= value < 10 else str(value)
    if value > _MAX_SPELLED:  # a file may start a list at two billion: "M" or "a" that many times
        return str(value)
    if fmt in ("upperRoman", "lowerRoman"):
        roman = to_roman(value)
        return roman if fmt == "upperRoman" else roman.lower()
    if fmt in ("lowerLetter", "upperLetter"):
        letters = to_letters(value)
        return letters if fmt == "lowerLetter" else letters.upper()
    return str(value)


@dataclass
class ListLevel:
    start: int = 0  # Word starts a level with no w:start at zero
    fmt: str = "decimal"
    text: str = ""
    restart: int | None = None  # w:lvlRestart: restart after this (1-based) level or a higher one; 0 never
    legal: bool = False  # w:isLgl: every number in this level's text shown as Arabic numerals


@dataclass
class WordNumbering:
    """Renders Word list numbers (numbering.xml) in document order, as Word shows them.

    Counters belong to the abstract list, as in Word: several `w:num` sharing
    one abstract list continue each other unless a `w:lvlOverride/w:startOverride`
    restarts them at the first paragraph of that `w:num`; a `w:lvlOverride/w:lvl` changes how one `w:num`
    shows a level, not its count. An abstract list that only names a list style (`w:numStyleLink`, as Word
    writes lists made from a multilevel list style) takes the levels and counters of the list defining that
    style (`w:styleLink`). A level used below a level not yet used counts that level as started, and a level
    restarts after the level its `w:lvlRestart` names. Proved on Word's own files against the numbers Apache
    Tika's tests expect (tests/unit/documents_engine/test_word_files.py).
    """

    abstract_levels: dict[str, dict[int, ListLevel]] = field(default_factory=dict)
    num_abstract: dict[str, str] = field(default_factory=dict)
    num_overrides: dict[str, dict[int, int]] = field(default_factory=dict)
    num_levels: dict[str, dict[int, ListLevel]] = field(default_factory=dict)
    counters: dict[str, dict[int, int]] = field(default_factory=dict)
    started_nums: set[str] = field(default_factory=set)

    @staticmethod
    def from_xml(data: bytes | None) -> "WordNumbering":
        if not data:
            return WordNumbering()
        return WordNumbering.from_root(parse_untrusted_xml(data))

    @staticmethod
    def from_root(root: etree._Element | None) -> "WordNumbering":
        """From numbering.xml already parsed (by the caller's hardened parser); None gives no lists."""
        numbering = WordNumbering()
        if root is None:
            return numbering
        style_links: dict[str, str] = {}
        defined_by: dict[str, str] = {}
        for abstract in root.iter(W + "abstractNum"):
            abstract_id = abstract.get(W + "abstractNumId")
            levels = {_int(level.get(W + "ilvl"), 0): _read_level(level) for level in abstract.iter(W + "lvl")}
            numbering.abstract_levels[abstract_id] = levels
            link, defines = abstract.find(W + "numStyleLink"), abstract.find(W + "styleLink")
            if link is not None and not levels:
                style_links[abstract_id] = link.get(W + "val", "")
            if defines is not None and levels:
                defined_by.setdefault(defines.get(W + "val", ""), abstract_id)
        for num in root.iter(W + "num"):
            num_id = num.get(W + "numId")
            abstract_ref = num.find(W + "abstractNumId")
            abstract_id = abstract_ref.get(W + "val", "") if abstract_ref is not None else ""
            numbering.num_abstract[num_id] = defined_by.get(style_links.get(abstract_id, ""), abstract_id)
            overrides, levels = {}, {}
            for override in num.iter(W + "lvlOverride"):
                ilvl = _int(override.get(W + "ilvl"), 0)
                start = override.find(W + "startOverride")
                if start is not None:
                    overrides[ilvl] = _int(start.get(W + "val"), 0)
                level = override.find(W + "lvl")
                if level is not None:
                    levels[ilvl] = _read_level(level)
            numbering.num_overrides[num_id] = overrides
            numbering.num_levels[num_id] = levels
        return numbering

    def fresh(self) -> "WordNumbering":
        """The same list definitions (shared: they are only read) with counters not yet moved."""
        return replace(self, counters={}, started_nums=set())

    def has_level(self, num_id: str, ilvl: int) -> bool:
        """Whether the list and its level are defined (a level may be defined to show nothing)."""
        levels = self.abstract_levels.get(self.num_abstract.get(num_id) or "")
        return bool(levels) and ilvl in {**levels, **self.num_levels.get(num_id, {})}

    def label(self, num_id: str, ilvl: int) -> str | None:
        """Advance the list and return what Word shows before the paragraph: its number, "•" for a bullet or a
        list that is not defined, None for a level defined to show nothing (a heading style's outline level)."""
        shown = self.next_number(num_id, ilvl)
        if shown is None:
            return None if self.has_level(num_id, ilvl) else "•"
        return "•" if shown[1] == "bullet" else shown[0]

    def next_number_text(self, num_id: str, ilvl: int) -> str | None:
        """Advance the list and return the visible number text, None if not a numbered list."""
        rendered = self.next_number(num_id, ilvl)
        return rendered[0] if rendered and rendered[1] != "bullet" else None

    def next_number(self, num_id: str, ilvl: int) -> tuple[str, str] | None:
        """(visible text, numFmt) of the next item; a bullet gives ("–", "bullet"), no list or a level that
        shows nothing gives None."""
        abstract_id = self.num_abstract.get(num_id)
        levels = self.abstract_levels.get(abstract_id or "")
        if not levels:
            return None
        levels = {**levels, **self.num_levels.get(num_id, {})}
        if ilvl not in levels:
            return None
        if levels[ilvl].fmt == "bullet":
            return "–", "bullet"
        counters = self.counters.setdefault(abstract_id, {})
        if num_id not in self.started_nums:
            self.started_nums.add(num_id)
            for level, start in self.num_overrides.get(num_id, {}).items():
                counters[level] = start - 1
                _reset_below(counters, levels, level)
        for skipped in range(ilvl):
            if skipped not in counters and skipped in levels:
                counters[skipped] = levels[skipped].start
        counters[ilvl] = counters.get(ilvl, levels[ilvl].start - 1) + 1
        _reset_below(counters, levels, ilvl)
        text = _render_level_text(levels, counters, ilvl)
        return (text, levels[ilvl].fmt) if text.strip() else None


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _read_level(level) -> ListLevel:
    def value(tag: str) -> str | None:
        element = level.find(W + tag)
        return element.get(W + "val") if element is not None else None

    restart = value("lvlRestart")
    return ListLevel(start=_int(value("start"), 0), fmt=value("numFmt") or "decimal", text=value("lvlText") or "",
                  restart=_int(restart, 0) if restart is not None else None,
                  legal=level.find(W + "isLgl") is not None and value("isLgl") not in ("0", "false", "off"))


def _reset_below(counters: dict[int, int], levels: dict[int, ListLevel], ilvl: int) -> None:
    """A deeper level restarts after a higher one is used, unless its `w:lvlRestart` names a higher level still
    (its value counts levels from 1) or never (0)."""
    for deeper in [level for level in counters if level > ilvl]:
        restart = levels[deeper].restart if deeper in levels else None
        if restart is None or ilvl < restart:
            del counters[deeper]


def _render_level_text(levels: dict[int, ListLevel], counters: dict[int, int], ilvl: int) -> str:
    def substitute(match: re.Match) -> str:
        level = int(match.group(1)) - 1
        spec = levels.get(level, ListLevel())
        fmt = "decimal" if levels[ilvl].legal and spec.fmt not in ("none", "bullet") else spec.fmt
        return format_number(counters.get(level, spec.start), fmt)

    return re.sub(r"%([1-9])", substitute, levels[ilvl].text)


def paragraph_list(paragraph: etree._Element, lists_of_styles: dict[str, tuple[str, int]]) -> tuple[str, int] | None:
    """(numId, level) of the Word list numbering the paragraph: its own `w:numPr` (numId 0 switches it off), else
    its style's, a level of its own overriding the style's."""
    properties = paragraph.find(f"{W}pPr/{W}numPr")
    style = paragraph.find(f"{W}pPr/{W}pStyle")
    from_style = lists_of_styles.get(style.get(f"{W}val") or "") if style is not None else None
    own = properties.find(f"{W}numId") if properties is not None else None
    level = properties.find(f"{W}ilvl") if properties is not None else None
    if own is not None:
        num_id = own.get(f"{W}val") or "0"
        if num_id == "0":
            return None
        return num_id, _level(level) if level is not None else (from_style[1] if from_style else 0)
    if from_style is None:
        return None
    return from_style[0], _level(level) if level is not None else from_style[1]


def _level(element: etree._Element) -> int:
    value = element.get(f"{W}val") or "0"
    return min(int(value), 8) if value.isdigit() else 0


def style_lists(styles: etree._Element | None) -> dict[str, tuple[str, int]]:
    """Paragraph styles that number their paragraphs ("List Number", a heading style with outline numbers), also
    through the styles they are based on: style id -> (numId, level)."""
    if styles is None:
        return {}
    own: dict[str, tuple[str, int] | None] = {}  # None: the style says nothing of lists
    based_on: dict[str, str] = {}
    for style in styles.iter(f"{W}style"):
        identifier = style.get(f"{W}styleId")
        if not identifier or style.get(f"{W}type") not in (None, "paragraph"):
            continue
        number = style.find(f"{W}pPr/{W}numPr/{W}numId")
        level = style.find(f"{W}pPr/{W}numPr/{W}ilvl")
        own[identifier] = None if number is None else (number.get(f"{W}val") or "0",
                                                       _level(level) if level is not None else 0)
        parent = style.find(f"{W}basedOn")
        if parent is not None and parent.get(f"{W}val"):
            based_on[identifier] = parent.get(f"{W}val")
    return inherited_lists(own, based_on, off=("0",))


def inherited_lists(own: dict, based_on: dict, off: tuple) -> dict:
    """Each style's list, its own or that of the nearest style it is based on that names one (`own`: style ->
    (list, level), None where the style names none); a list in `off` switches numbering off."""
    found = {}
    for identifier in own:
        current, seen = identifier, set()
        while own.get(current) is None and current in based_on and current not in seen:
            seen.add(current)
            current = based_on[current]
        value = own.get(current)
        if value is not None and value[0] not in off:
            found[identifier] = value
    return found


def list_labels(root: etree._Element, lists_of_styles: dict[str, tuple[str, int]],
                numbering: WordNumbering) -> dict[etree._Element, str]:
    """The label Word shows before each list paragraph under `root` that has text (`WordNumbering.label`), counted
    in document order, paragraphs in table cells and text boxes included: Word counts them with the rest, and an
    empty numbered paragraph too. The paragraph elements are the keys, so the caller must keep `root` (lxml keeps
    an element's proxy while it is referenced)."""
    labels: dict[etree._Element, str] = {}
    for paragraph in root.iter(f"{W}p"):
        item = paragraph_list(paragraph, lists_of_styles)
        if item is None:
            continue
        label = numbering.label(*item)
        if label and any((text.text or "").strip() for text in paragraph.iter(f"{W}t")):
            labels[paragraph] = label
    return labels


# The same form template arrives again and again, and its styles.xml and numbering.xml are most of what reading its
# numbers costs (python-docx's template: 1.5 ms each to parse): the definitions of a part already read are reused.
_definitions = functools.lru_cache(maxsize=32)(WordNumbering.from_xml)


def numbering_of(data: bytes | None) -> WordNumbering:
    """Fresh counters over the list definitions of a numbering.xml (bytes as in the package, already through its
    safety checks); a damaged part defines no lists."""
    if not data:
        return WordNumbering()
    try:
        definitions = _definitions(data)
    except etree.XMLSyntaxError:
        return WordNumbering()
    return definitions.fresh()


@functools.lru_cache(maxsize=32)
def style_lists_of(data: bytes | None) -> dict[str, tuple[str, int]]:
    """`style_lists` of a styles.xml's bytes (read-only: shared by every document with the same styles); a damaged
    part numbers no style."""
    if not data:
        return {}
    try:
        return style_lists(parse_untrusted_xml(data))
    except etree.XMLSyntaxError:
        return {}
