"""The engine's immutable data model: runs, units, package templates, versions, changes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Mapping

UNIT_KINDS = ("annex", "reasons", "division", "chapter", "paragraph", "article", "section", "point", "letter",
              "tiret", "common", "table", "block")
# Depth of each numbered kind in Polish legal drafting (an article sits where a § does); blocks, tables and
# the closing wording of a list ("część wspólna") are not nested into. An annex holds everything after it, and
# so does the statement of reasons of a draft ("Uzasadnienie"), which is no part of the act or of its annex.
KIND_RANK = {"division": 0, "chapter": 1, "paragraph": 2, "article": 2, "section": 3, "point": 4, "letter": 5,
             "tiret": 6}
NEST_RANK = {"annex": -1, "reasons": -1, **KIND_RANK}
OPS = ("replace", "insert_after", "delete")


@dataclass(frozen=True)
class Run:
    """A stretch of text with one formatting, or an inline object without text.

    `rpr` is the serialized `<w:rPr>` ("" for none). `opaque` holds the raw XML
    of an inline object such as a footnote reference; its `text` is "".
    """

    text: str
    rpr: str = ""
    opaque: str = ""

    @property
    def bold(self) -> bool:
        return _flag_on(self.rpr, "b")

    @property
    def italic(self) -> bool:
        return _flag_on(self.rpr, "i")


def _flag_on(rpr: str, name: str) -> bool:
    match = re.search(rf"<w:{name}(\s[^>]*)?/>", rpr)
    if not match:
        return False
    value = re.search(r'w:val="([^"]*)"', match.group(0))
    return not value or value.group(1) not in ("0", "false", "off")


@dataclass(frozen=True)
class Unit:
    """An addressable part of a document.

    `number` is the unit's own number as displayed ("5", "III", "a"); `label`
    the full Polish legal label ("§ 5 ust. 2 pkt 3 lit. a"). `title` is the
    heading of a chapter or division (it is also its `text`). `numbering` tells
    whether the number was typed in the text ("typed"), produced by Word list
    numbering ("auto"), or absent (""). `source_xml` is the original element,
    reused verbatim when the unit is unchanged; `tail_xml` keeps what follows it
    in the body without being a unit of its own (empty paragraphs, bookmarks);
    `number_rpr` is the formatting of a typed number.

    Two layouts spread a unit over paragraphs differently:
    - `has_head`: the number stands alone on the line before the unit's text
      ("§ 1." then the text, "Rozdział 1" then its title); `head_xml` is that
      line as drafted and `head_ppr` its paragraph properties; a § of a
      programme may have a title line between its number and its text
      ("§ 1." / "Postanowienia ogólne" / "Ilekroć…"), kept as `title_xml`;
    - `shares_paragraph` / `opens_parent`: "§ 5. 1. Tekst" is § 5 and its
      ust. 1 on one line. § 5 then has no paragraph of its own
      (`shares_paragraph`), and ust. 1 (`opens_parent`) prints its parent's
      number before its own: `parent_prefix` now, `source_parent_prefix` as
      drafted.
    `source_prefix` is the typed number exactly as drafted (with its spaces,
    e.g. a no-break space after "§"), written back while the number stands.
    `folded_xml`: an annex heading set one line a paragraph ("Załącznik" / "do
    Uchwały …" / "Rady Miejskiej …" / "z dnia …") is one unit; `source_xml` is
    its first paragraph and `folded_xml` the others, written back as drafted
    while the heading is unchanged.
    """

    id: str
    kind: str
    label: str
    text: str
    parent: str | None = None
    number: str = ""
    numbering: str = ""
    runs: tuple[Run, ...] = ()
    ppr: str = ""
    heading: bool = False
    page: int = 1
    source_xml: str = ""
    source_number: str = ""
    tail_xml: str = ""
    number_rpr: str = ""
    title: str = ""
    has_head: bool = False
    head_xml: str = ""
    head_ppr: str = ""
    title_xml: str = ""
    shares_paragraph: bool = False
    opens_parent: bool = False
    parent_prefix: str = ""
    source_parent_prefix: str = ""
    source_prefix: str = ""
    source_parent_text: str = ""
    folded_xml: str = ""

    def to_json(self) -> dict:
        data = {"id": self.id, "label": self.label, "kind": self.kind,
                "parent": self.parent, "text": self.text}
        if self.title:
            data["title"] = self.title
        return data

    @property
    def renumbered(self) -> bool:
        return self.number != self.source_number or self.parent_prefix != self.source_parent_prefix


def evolve(unit: Unit, **changes) -> Unit:
    """`dataclasses.replace` for the hot paths: a copy with some fields changed, without re-running
    __init__ over the unit's thirty fields (a 100-page draft makes thousands of these)."""
    copy = object.__new__(Unit)
    copy.__dict__.update(unit.__dict__)
    copy.__dict__.update(changes)
    return copy


@dataclass(frozen=True)
class Template:
    """The package a document came from: its parts and the frame of its body.

    `document_head` is document.xml up to and including `<w:body>`;
    `document_tail` is the final section properties and the closing tags.
    """

    parts: Mapping[str, bytes]
    document_head: str
    document_tail: str

    @staticmethod
    def of(parts: dict[str, bytes], head: str, tail: str) -> "Template":
        return Template(MappingProxyType(dict(parts)), head, tail)


@dataclass(frozen=True)
class Change:
    """One approved change to one unit.

    `text` is the new wording (replace) or the new unit's text (insert_after).
    With `old_text`, a replace edits only that wording inside the unit. `format`
    may switch bold/italic of the whole unit ({"bold": true}).
    """

    unit: str
    op: str
    text: str = ""
    comment_refs: tuple[str, ...] = ()
    old_text: str | None = None
    kind: str | None = None
    format: Mapping[str, bool] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> dict:
        data = {"unit": self.unit, "op": self.op, "text": self.text,
                "comment_refs": list(self.comment_refs)}
        if self.old_text is not None:
            data["old_text"] = self.old_text
        if self.kind:
            data["kind"] = self.kind
        if self.format:
            data["format"] = dict(self.format)
        return data

    @staticmethod
    def from_json(data: Mapping) -> "Change":
        return Change(unit=str(data.get("unit", "")), op=str(data.get("op", "")),
                      text=str(data.get("text") or ""),
                      comment_refs=tuple(str(ref) for ref in data.get("comment_refs") or ()),
                      old_text=data.get("old_text"), kind=data.get("kind"),
                      format=MappingProxyType(dict(data.get("format") or {})))


class Notice(str):
    """A warning for the clerk: the English text (the string itself, as the CLI and API have always given it)
    and its Polish wording in `pl`, for the staff pages."""

    pl: str

    def __new__(cls, english: str, polish: str) -> "Notice":
        notice = super().__new__(cls, english)
        notice.pl = polish
        return notice

    def __reduce__(self):
        return Notice, (str(self), self.pl)


@dataclass(frozen=True)
class Version:
    """An immutable version of a document.

    Version 1 is the parsed draft; later versions record their parent number,
    the changes applied, who approved them and when. `revision_refs` maps the id
    of every unit that differs from the parent (changed, inserted, deleted or
    renumbered) to the comment references behind it.
    """

    number: int
    units: tuple[Unit, ...]
    template: Template
    parent: "Version | None" = None
    changes: tuple[Change, ...] = ()
    approved_by: str | None = None
    approved_at: datetime | None = None
    revision_refs: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    warnings: tuple[str, ...] = ()

    def unit(self, unit_id: str) -> Unit:
        return self.index()[unit_id]

    def index(self) -> dict[str, Unit]:
        return {unit.id: unit for unit in self.units}

    def find(self, label_or_id: str) -> Unit | None:
        """A unit by id, or by exact label (whitespace-insensitive); None when unknown or ambiguous."""
        matches = self.find_all(label_or_id)
        return matches[0] if len(matches) == 1 else None

    def find_all(self, label_or_id: str) -> list[Unit]:
        """Every unit a label names: one, none, or several when the label is ambiguous.

        A bare label also names a unit of an annex ("§ 1" is the act's § 1 and
        "Załącznik § 1"), so it is ambiguous when both exist.
        """
        wanted = " ".join(label_or_id.replace("\u00a0", " ").split())
        for unit in self.units:
            if unit.id == wanted:
                return [unit]
        act = _ACT_QUALIFIER.match(wanted)
        if act:  # "uchwała § 1": the act's own § 1, not its annex's
            bare = wanted[act.end():]
            return [unit for unit in self.units if unit.label == bare]
        exact = [unit for unit in self.units if unit.label == wanted]
        qualified = [unit for unit in self.units if unit.label != wanted and _unqualified(unit.label) == wanted]
        return exact + qualified

    def to_json(self) -> dict:
        data: dict = {"units": [unit.to_json() for unit in self.units]}
        if self.warnings:
            data["warnings"] = list(self.warnings)
        return data


_ACT_QUALIFIER = re.compile(r"^(?:uchwał[aay]|ustaw[aay]|rozporządzeni[ae]|zarządzeni[ae]|akt[u]?|statut[u]?)\s+",
                            re.IGNORECASE)


def _unqualified(label: str) -> str:
    """The label without its annex qualifier ("Załącznik nr 2 § 1" → "§ 1")."""
    return re.sub(r"^Załącznik(?: nr \d+)? ", "", label)
