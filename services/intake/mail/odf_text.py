"""The text of an OpenDocument text (ODT) as LibreOffice shows it, for the letter and the form readers: a
paragraph's inline text, and the numbers LibreOffice shows before list items, counted in document order. Pure:
parsed XML in, text out; the callers parse the parts with their hardened parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from services.common.word_numbering import format_number
from services.intake.mail.annotations import odf_spaces

ODF_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
ODF_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
ODF_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
ODF_STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
ODF_XML = "http://www.w3.org/XML/1998/namespace"
ODF_LOEXT = "urn:org:documentfoundation:names:experimental:office:xmlns:loext:1.0"
ODF_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"


def odt_text_body(content: etree._Element) -> etree._Element | None:
    """`office:body/office:text` of content.xml: the document's text."""
    return content.find(f"{{{ODF_OFFICE}}}body/{{{ODF_OFFICE}}}text")


def odt_list_labels(root: etree._Element, lists: "OdfLists") -> dict[etree._Element, str]:
    """The label LibreOffice shows before each list paragraph under `root` that has text ("1.", "a)", "•"), counted
    in document order, lists in table cells too. Only an item's first paragraph shows its number. The paragraph
    elements are the keys (the caller keeps `root`)."""
    labels: dict[etree._Element, str] = {}

    def walk(element: etree._Element, place: _ListPlace | None) -> None:
        for child in element:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child)
            if name.namespace == ODF_TEXT and name.localname in ("p", "h"):
                if place is not None and place.numbered_item and odt_inline(child, frames=False).strip():
                    labels[child] = lists.label(place)
                if place is not None:
                    place.numbered_item = False  # the item's next paragraphs continue it, unnumbered
                for holder in _anchored(child):  # a text box's or a note's lists, counted where they stand
                    walk(holder, None)
            elif name.namespace == ODF_TEXT and name.localname == "list":
                walk(child, lists.open_list(child, place))
            elif name.namespace == ODF_TEXT and name.localname == "list-item" and place is not None:
                first = next((grand for grand in child if isinstance(grand.tag, str)), None)
                lists.start_item(child, place, wrapper=first is None or etree.QName(first).localname not in ("p", "h"))
                walk(child, place)
            elif name.namespace == ODF_TEXT and name.localname in ("list-item", "list-header", "section"):
                walk(child, place)
            elif name.namespace == ODF_TABLE:
                walk(child, None if name.localname == "table-cell" else place)  # a cell is no list item's

    walk(root, None)
    return labels


@dataclass
class _ListPlace:
    """Where the paragraphs being read stand in an ODF list: its style, level (1-based), counters, and whether
    the item's number is still to be shown (only its first paragraph shows it)."""

    style: str
    level: int
    counters: dict[int, int]
    numbered_item: bool = False
    item_style: str = ""  # `text:style-override` of the item being read: another list style for its number


class OdfLists:
    """The numbers LibreOffice shows before list items, from the list styles (`text:list-level-style-number`:
    `style:num-format`, prefix, suffix, `text:start-value`, `text:display-levels`): a list restarts unless it
    continues the one before it (`text:continue-numbering`) or a named one (`text:continue-list`)."""

    def __init__(self, *roots: etree._Element | None):
        self.levels: dict[str, dict[int, etree._Element]] = {}
        for root in roots:
            if root is None:
                continue
            for list_style in root.iter(f"{{{ODF_TEXT}}}list-style"):
                levels = {}
                for level in list_style:
                    if isinstance(level.tag, str) and etree.QName(level).namespace == ODF_TEXT:
                        levels[_odf_int(level.get(f"{{{ODF_TEXT}}}level"), 1)] = level
                self.levels[list_style.get(f"{{{ODF_STYLE}}}name") or ""] = levels
        self.by_id: dict[str, dict[int, int]] = {}
        self.last: dict[int, int] | None = None

    def open_list(self, element: etree._Element, outer: _ListPlace | None) -> _ListPlace:
        style = element.get(f"{{{ODF_TEXT}}}style-name") or (outer.style if outer else "")
        if outer is not None:
            return _ListPlace(style, outer.level + 1, outer.counters)
        continued = element.get(f"{{{ODF_TEXT}}}continue-list")
        if continued in self.by_id:
            counters = self.by_id[continued]
        elif element.get(f"{{{ODF_TEXT}}}continue-numbering") == "true" and self.last is not None:
            counters = self.last
        else:
            counters = {}
        self.last = counters
        identifier = element.get(f"{{{ODF_XML}}}id")
        if identifier:
            self.by_id[identifier] = counters
        return _ListPlace(style, 1, counters)

    def start_item(self, item: etree._Element, place: _ListPlace, *, wrapper: bool = False) -> None:
        """Count an item. One holding only a deeper list (how ODF reaches a deeper level) counts its level as
        started if it was not, as Word and LibreOffice do, and moves no counter that already runs."""
        level = self.levels.get(place.style, {}).get(place.level)
        start = _odf_int(level.get(f"{{{ODF_TEXT}}}start-value"), 1) if level is not None else 1
        if wrapper:
            place.counters.setdefault(place.level, start)
            return
        override = item.get(f"{{{ODF_TEXT}}}start-value")
        if override is not None:
            place.counters[place.level] = _odf_int(override, 1) - 1
        place.counters[place.level] = place.counters.get(place.level, start - 1) + 1
        for deeper in [number for number in place.counters if number > place.level]:
            del place.counters[deeper]
        place.numbered_item = True
        place.item_style = item.get(f"{{{ODF_TEXT}}}style-override") or ""

    def label(self, place: _ListPlace) -> str:
        """"1.", "a)", "1.2." as LibreOffice shows it; "•" for a bullet or a level this reader cannot number."""
        levels = self.levels.get(place.item_style or place.style, {})
        level = levels.get(place.level)
        if level is None or etree.QName(level).localname != "list-level-style-number":
            return "•"
        def number_of(number: int) -> str:
            spec = levels.get(number)
            fmt = spec.get(f"{{{ODF_STYLE}}}num-format") if spec is not None else "1"
            start = _odf_int(spec.get(f"{{{ODF_TEXT}}}start-value"), 1) if spec is not None else 1
            return _odf_number(place.counters.get(number, start), fmt or "")

        composed = level.get(f"{{{ODF_LOEXT}}}num-list-format")
        if composed:  # LibreOffice's own "%1%.%2%." for the whole label
            label = re.sub(r"%(\d)%", lambda match: number_of(int(match.group(1))), composed).strip()
            return label if any(character.isalnum() for character in label) else "•"
        shown = min(_odf_int(level.get(f"{{{ODF_TEXT}}}display-levels"), 1), place.level)
        numbers = [number_of(number) for number in range(place.level - shown + 1, place.level + 1)]
        body = ".".join(number for number in numbers if number)
        if not body:
            return "•"
        return f"{level.get(f'{{{ODF_STYLE}}}num-prefix') or ''}{body}{level.get(f'{{{ODF_STYLE}}}num-suffix') or ''}"


def _odf_int(value: str | None, default: int) -> int:
    return int(value) if value is not None and value.isdigit() else default


def _odf_number(value: int, fmt: str) -> str:
    """A counter in an ODF `style:num-format`: none for "", Arabic digits for a format this reader does not know
    (an ordinal, a script's own digits)."""
    formats = {"1": "decimal", "a": "lowerLetter", "A": "upperLetter", "i": "lowerRoman", "I": "upperRoman",
               "01, 02, 03, ...": "decimalZero"}
    return format_number(value, formats.get(fmt, "decimal")) if fmt else ""


def odt_inline(paragraph: etree._Element, *, frames: bool = True) -> str:
    """A paragraph's text with its spaces, tabs and line breaks; not the text of its comments, notes or deleted
    changes, nor with `frames=False` that of the text boxes and drawings anchored in it."""
    parts: list[str] = [paragraph.text or ""]
    for child in paragraph:
        if isinstance(child.tag, str):
            name = etree.QName(child)
            if name.localname == "s":
                parts.append(odf_spaces(child))
            elif name.localname == "tab":
                parts.append(" ")
            elif name.localname == "line-break":
                parts.append("\n")
            elif name.localname not in ("annotation", "annotation-end", "tracked-changes", "note") and (
                    frames or name.namespace != ODF_DRAW):
                parts.append(odt_inline(child, frames=frames))
        parts.append(child.tail or "")
    return "".join(parts)


def odt_text_boxes(paragraph: etree._Element) -> list[etree._Element]:
    """The text boxes and shapes holding text anchored in the paragraph itself (not those inside them, which their
    own paragraphs hold)."""
    return [element for element in _anchored(paragraph) if etree.QName(element).namespace == ODF_DRAW]


_BLOCKS = (f"{{{ODF_TEXT}}}p", f"{{{ODF_TEXT}}}h", f"{{{ODF_TEXT}}}list")


def _anchored(paragraph: etree._Element) -> list[etree._Element]:
    """The elements holding paragraphs of their own (a drawing's, a note's) whose nearest paragraph is this one."""
    found = []
    for element in paragraph.iter():
        if element is paragraph or not isinstance(element.tag, str) or not any(
                child.tag in _BLOCKS for child in element):
            continue
        holder = next((ancestor for ancestor in element.iterancestors() if ancestor.tag in _BLOCKS[:2]), None)
        if holder is paragraph and (etree.QName(element).namespace == ODF_DRAW
                                    or element.tag == f"{{{ODF_TEXT}}}note-body"):
            found.append(element)
    return found
