"""Numbers and labels of Polish legal drafting, typed or produced by Word lists.

Both sources end in the same place: Word list numbering is rendered to the
string the reader sees ("§ 5.", "2)", "a)"), and that string is classified by
the same rules as numbering typed by hand. That is why typed and automatic
numbering give the same labels.
"""

from __future__ import annotations

import re

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
