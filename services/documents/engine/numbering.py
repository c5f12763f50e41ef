"""Numbers and labels of Polish legal drafting, typed or produced by Word lists.

Both sources end in the same place: Word list numbering is rendered to the
string the reader sees ("§ 5.", "2)", "a)"), and that string is classified by
the same rules as numbering typed by hand. That is why typed and automatic
numbering give the same labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .ooxml import W, parse_xml

_ROMAN = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
          (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
ROMAN_RE = re.compile(r"^(M{0,3})(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")

# A line break (Shift+Enter) after a number separates it from its text as a space does ("§ 1\nTekst").
_SPACE = r"[ \t\u00a0\n]"
# A dot ends a number when a space, the end or a letter follows ("2.Tekst"), never a digit ("2.5 mln").
_DOT_END = r"\.(?=[ \t\u00a0\n]|$|[^\W\d_])"
# Typed (or rendered) number prefixes, most specific first.
PREFIX_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    ("division", re.compile(rf"^(?:DZIA[ŁL]|Dzia[łl]){_SPACE}+([IVXLCDM]+|\d{{1,3}})\b\.?{_SPACE}*")),
    ("chapter", re.compile(rf"^(?:rozdzia[łl]){_SPACE}+([IVXLCDM]+|\d{{1,3}})\b\.?{_SPACE}*", re.IGNORECASE)),
    ("paragraph", re.compile(rf"^§{_SPACE}*(\d{{1,4}}[a-z]{{0,2}})(?:\.|(?=[ \t\u00a0\n]|$)){_SPACE}*")),
    ("article", re.compile(rf"^Art\.{_SPACE}*(\d{{1,4}}[a-z]{{0,3}})(?:\.|(?=[ \t\u00a0\n]|$)){_SPACE}*")),
    ("section", re.compile(rf"^(\d{{1,3}}[a-z]?){_DOT_END}{_SPACE}*")),
    ("point", re.compile(rf"^(\d{{1,3}}[a-z]?)\){_SPACE}*")),
    ("letter", re.compile(rf"^(?:lit\.{_SPACE}*)?([a-z]{{1,2}})\){_SPACE}*")),
    # Dashes, and the bullets and minus signs text pasted from a PDF or a web page keeps: "• ", "− ", " ".
    ("tiret", re.compile(rf"^([–—‒−•▪\uf0b7-]){_SPACE}+")),
)
# "I. Wstęp", "II. Cele programu": Roman headings that many programmes use as chapters.
ROMAN_HEADING = re.compile(rf"^([IVXLC]{{1,6}})\.{_SPACE}+(?=\S)")
# "II TERMIN I WARUNKI SKŁADANIA OFERT": the same heading without its dot (open calls for proposals).
UNDOTTED_ROMAN_HEADING = re.compile(rf"^([IVXLC]{{1,6}}){_SPACE}+(?=\S)")
# A paragraph or article that opens with its first ust. on the same line: "§ 5. 1. Tekst", "Art. 5. 1. Tekst".
INLINE_SECTION = re.compile(rf"^(\d{{1,3}}[a-z]?){_DOT_END}{_SPACE}*")
# "Załącznik nr 1 do uchwały …", "ZAŁĄCZNIK", "Załącznik – wzór"; in lower case only when "do" follows, as some
# cities head their annexes ("załącznik do uchwały nr XLVIII/985/09 Rady Miasta Katowice …").
# A line break (Shift+Enter) may end the heading's first line: "Załącznik\ndo Uchwały …\nRady …", one paragraph.
ANNEX_HEADING = re.compile(r"^(?:(?:ZAŁĄCZNIK|Załącznik)(?:[ \t\u00a0]+(?:nr|Nr|NR)\.?[ \t\u00a0]*(\d{1,3}))?"
                           r"(?=[ \t\u00a0]*(?:$|\n)|[ \t\u00a0\n]+(?:do|DO)\b|[ \t\u00a0]*[–:-])"
                           r"|załącznik(?:[ \t\u00a0]+nr\.?[ \t\u00a0]*(\d{1,3}))?(?=[ \t\u00a0\n]+do\b))")
# Kinds a Word list level renders to, from its visible text.
HEADING_KINDS = ("division", "chapter")


def to_roman(value: int) -> str:
    result = []
    for amount, numeral in _ROMAN:
        while value >= amount:
            result.append(numeral)
            value -= amount
    return "".join(result)


def from_roman(text: str) -> int | None:
    text = text.upper()
    if not text or not ROMAN_RE.match(text):
        return None
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    total = 0
    for current, following in zip(text, text[1:] + " "):
        value = values[current]
        total += -value if following != " " and values[following] > value else value
    return total


def to_letters(value: int) -> str:
    """1 → a, 26 → z, 27 → aa (Word's lowerLetter repeats the letter)."""
    letter = "abcdefghijklmnopqrstuvwxyz"[(value - 1) % 26]
    return letter * ((value - 1) // 26 + 1)


def from_letters(text: str) -> int | None:
    if not text or not text.isalpha() or len(set(text)) != 1:
        return None
    return (len(text) - 1) * 26 + ord(text[0].lower()) - ord("a") + 1


def number_format_of(number: str) -> str:
    if number.isdecimal():
        return "decimal"
    if number.isalpha() and number.isupper() and from_roman(number):
        return "upperRoman"
    if number.isalpha() and number.islower() and from_letters(number):
        return "lowerLetter"
    return "other"


def number_value(number: str) -> int | None:
    """The integer behind a displayed number, None for e.g. "5a" (inserted units keep theirs)."""
    fmt = number_format_of(number)
    if fmt == "decimal":
        return int(number)
    if fmt == "upperRoman":
        return from_roman(number)
    if fmt == "lowerLetter":
        return from_letters(number)
    return None


def format_number(value: int, fmt: str) -> str:
    if fmt in ("none", "bullet"):  # a level shown as nothing or a bullet gives no number to the levels below
        return ""
    if fmt == "decimalZero":
        return f"{value:02d}" if 0 <= value < 10 else str(value)
    if fmt in ("upperRoman", "lowerRoman"):
        roman = to_roman(value)
        return roman if fmt == "upperRoman" else roman.lower()
    if fmt in ("lowerLetter", "upperLetter"):
        letters = to_letters(value)
        return letters if fmt == "lowerLetter" else letters.upper()
    return str(value)


def classify_prefix(text: str) -> tuple[str, str, int] | None:
    """(kind, number, length of the prefix) when `text` starts with a legal number."""
    for kind, pattern in PREFIX_PATTERNS:
        match = pattern.match(text)
        if match:
            number = match.group(1)
            if kind in HEADING_KINDS and not number.isdecimal():
                number = number.upper()
            if kind == "tiret":
                number = ""
            return kind, number, match.end()
    return None


def roman_heading(text: str) -> tuple[str, int] | None:
    """(Roman number, length of the prefix) of a short heading such as "II. Cele programu" or, introducing
    its text on the next line, "I. Rodzaj zadania:"; a line ending in a comma or semicolon is a list item."""
    match = ROMAN_HEADING.match(text)
    if not match or not from_roman(match.group(1)):
        return None
    rest = text[match.end():].strip()
    if len(rest) > 150 or rest.endswith((",", ";")) or not rest[:1].isupper():
        return None
    return match.group(1), match.end()


def undotted_roman_heading(text: str, expected: int) -> tuple[str, int] | None:
    """(Roman number, length of the prefix) of a heading such as "II TERMIN I WARUNKI SKŁADANIA OFERT".

    Without the dot a Roman numeral is also a word ("I Liceum"), so only a capitalised title with no
    lower-case letters and no closing punctuation counts, numbered next after the previous chapter.
    """
    match = UNDOTTED_ROMAN_HEADING.match(text)
    if not match or from_roman(match.group(1)) != expected:
        return None
    rest = text[match.end():].strip()
    if len(rest) > 150 or rest[-1:] in ".,;:" or not rest[:1].isupper() or any(char.islower() for char in rest):
        return None
    return match.group(1), match.end()


def typed_prefix(kind: str, number: str) -> str:
    """The text a typed number of this kind starts with, e.g. "§ 5. " or "a) "."""
    return {"division": f"DZIAŁ {number} ", "chapter": f"Rozdział {number} ", "paragraph": f"§ {number}. ",
            "article": f"Art. {number}. ", "section": f"{number}. ", "point": f"{number}) ",
            "letter": f"{number}) ", "tiret": "– ", "common": "– "}.get(kind, "")


def label_part(kind: str, number: str) -> str:
    return {"division": f"Dział {number}", "chapter": f"Rozdział {number}", "paragraph": f"§ {number}",
            "article": f"art. {number}", "section": f"ust. {number}", "point": f"pkt {number}",
            "letter": f"lit. {number}", "tiret": f"tiret {number}", "common": "część wspólna",
            "annex": f"Załącznik nr {number}" if number else "Załącznik", "reasons": "Uzasadnienie",
            "table": f"tabela {number}", "block": f"akapit {number}",
            "title": f"Tytuł, akapit {number}" if number else "Tytuł"}[kind]


def compose_label(chain: list[tuple[str, str]]) -> str:
    """A full label from (kind, number) pairs, root first.

    Paragraphs (§) and articles are numbered through the whole act (or annex),
    so chapters and divisions are left out of a label that already has one.
    """
    if any(kind in ("paragraph", "article") for kind, _ in chain):
        chain = [(kind, number) for kind, number in chain if kind not in ("chapter", "division")]
    return " ".join(label_part(kind, number) for kind, number in chain)


@dataclass
class _Level:
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

    abstract_levels: dict[str, dict[int, _Level]] = field(default_factory=dict)
    num_abstract: dict[str, str] = field(default_factory=dict)
    num_overrides: dict[str, dict[int, int]] = field(default_factory=dict)
    num_levels: dict[str, dict[int, _Level]] = field(default_factory=dict)
    counters: dict[str, dict[int, int]] = field(default_factory=dict)
    started_nums: set[str] = field(default_factory=set)

    @staticmethod
    def from_xml(data: bytes | None) -> "WordNumbering":
        numbering = WordNumbering()
        if not data:
            return numbering
        root = parse_xml(data)
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


def _read_level(level) -> _Level:
    def value(tag: str) -> str | None:
        element = level.find(W + tag)
        return element.get(W + "val") if element is not None else None

    restart = value("lvlRestart")
    return _Level(start=_int(value("start"), 0), fmt=value("numFmt") or "decimal", text=value("lvlText") or "",
                  restart=_int(restart, 0) if restart is not None else None,
                  legal=level.find(W + "isLgl") is not None and value("isLgl") not in ("0", "false", "off"))


def _reset_below(counters: dict[int, int], levels: dict[int, _Level], ilvl: int) -> None:
    """A deeper level restarts after a higher one is used, unless its `w:lvlRestart` names a higher level still
    (its value counts levels from 1) or never (0)."""
    for deeper in [level for level in counters if level > ilvl]:
        restart = levels[deeper].restart if deeper in levels else None
        if restart is None or ilvl < restart:
            del counters[deeper]


def _render_level_text(levels: dict[int, _Level], counters: dict[int, int], ilvl: int) -> str:
    def substitute(match: re.Match) -> str:
        level = int(match.group(1)) - 1
        spec = levels.get(level, _Level())
        fmt = "decimal" if levels[ilvl].legal and spec.fmt not in ("none", "bullet") else spec.fmt
        return format_number(counters.get(level, spec.start), fmt)

    return re.sub(r"%([1-9])", substitute, levels[ilvl].text)
