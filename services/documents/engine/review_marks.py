"""What a draft's internal review left in the file: tracked changes not yet accepted, and comments.

A programme's draft goes round the city hall before it is consulted on: lawyers and heads of department edit
it with Word's tracked changes on and write comments in its margin ("Czy ta kwota jest uzgodniona ze
Skarbnikiem?"). When the file is uploaded with those still in it, the copy residents download would carry them:
deleted wording readable again in Word's markup view, colleagues' remarks in the margin, and the consultation's
own tracked changes mixed with theirs. So the draft is read as Word shows it after "Accept all changes" and
"Delete all comments", and the clerk is told how many there were (a warning on the draft's page).

Pure: parts in, parts out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from .model import Notice
from .ooxml import CT_NS, REL_NS, W, parse_xml

# The parts that hold text a resident reads: the body, headers and footers, footnotes and endnotes.
_STORY_PART = re.compile(r"^word/(?:document|header\d*|footer\d*|footnotes|endnotes)\.xml$")
# A cheap look before parsing: a part without any of these has nothing to accept or delete.
_MARKERS = (b":ins", b":del", b":moveFrom", b":moveTo", b"Change", b":comment")

_REMOVED_CONTENT = (W + "del", W + "moveFrom")
_KEPT_CONTENT = (W + "ins", W + "moveTo")
_PROPERTY_CHANGES = tuple(W + name for name in (
    "pPrChange", "rPrChange", "sectPrChange", "tblPrChange", "tblPrExChange", "trPrChange", "tcPrChange",
    "tblGridChange", "numberingChange"))
_RANGE_MARKS = tuple(W + name for name in (
    "moveFromRangeStart", "moveFromRangeEnd", "moveToRangeStart", "moveToRangeEnd", "customXmlInsRangeStart",
    "customXmlInsRangeEnd", "customXmlDelRangeStart", "customXmlDelRangeEnd", "customXmlMoveFromRangeStart",
    "customXmlMoveFromRangeEnd", "customXmlMoveToRangeStart", "customXmlMoveToRangeEnd"))
_MARK_HOLDERS = (W + "rPr", W + "trPr", W + "tcPr", W + "numPr")  # where ins/del mark a paragraph mark, row or cell
_COMMENT_MARKS = (W + "commentRangeStart", W + "commentRangeEnd")
_COMMENT_RELATIONSHIPS = ("/comments", "/commentsExtended", "/commentsIds", "/commentsExtensible", "/people")


@dataclass(frozen=True)
class ReviewMarks:
    revisions: int = 0  # tracked changes accepted
    comments: int = 0  # comments deleted

    def __bool__(self) -> bool:
        return bool(self.revisions or self.comments)

    def warning(self) -> Notice:
        found = [f"{count} {one if count == 1 else many}" for count, one, many in (
            (self.revisions, "tracked change not yet accepted", "tracked changes not yet accepted"),
            (self.comments, "comment", "comments")) if count]
        found_pl = [f"{count} {_polish_plural(count, *forms)}" for count, forms in (
            (self.revisions, ("niezaakceptowaną zmianę", "niezaakceptowane zmiany", "niezaakceptowanych zmian")),
            (self.comments, ("komentarz", "komentarze", "komentarzy"))) if count]
        return Notice(
            f"The file still had {' and '.join(found)} from its review: the draft is read, and residents get it, "
            "with every change accepted and without comments (as Word's “Accept All Changes” and “Delete All "
            "Comments” leave it). Check that this is the text to consult on.",
            f"Plik zawierał jeszcze {' i '.join(found_pl)} z wewnętrznych uzgodnień projektu: projekt odczytano, i tak "
            "otrzymają go mieszkańcy, ze wszystkimi zmianami zaakceptowanymi i bez komentarzy (tak jak po „Zaakceptuj "
            "wszystkie zmiany” i „Usuń wszystkie komentarze” w programie Word). Sprawdź, czy to właściwy tekst "
            "do konsultacji.")


def _polish_plural(count: int, one: str, few: str, many: str) -> str:
    """"1 komentarz", "2 komentarze", "5 komentarzy", "22 komentarze", "12 komentarzy"."""
    if count == 1:
        return one
    return few if count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14) else many


def without_review_marks(parts: dict[str, bytes]) -> tuple[dict[str, bytes], ReviewMarks]:
    """The package with every tracked change accepted and every comment deleted, and how many there were."""
    revisions = 0
    comment_ids: set[str] = set()
    cleaned = dict(parts)
    for name, data in parts.items():
        if not _STORY_PART.match(name) or not any(marker in data for marker in _MARKERS):
            continue
        root = parse_xml(data)
        changed = _accept_revisions(root)
        ids = _delete_comment_marks(root)
        if changed or ids:
            revisions += changed
            comment_ids |= ids
            cleaned[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    removed = _drop_comment_parts(cleaned)
    return cleaned, ReviewMarks(revisions, len(comment_ids) or removed)


def _accept_revisions(root) -> int:
    """Word's "Accept all changes" on one part; the number of revisions accepted."""
    count = 0
    for row in list(root.iter(W + "tr")):
        properties = row.find(W + "trPr")
        if properties is not None and properties.find(W + "del") is not None and row.getparent() is not None:
            row.getparent().remove(row)
            count += 1
    for element in list(root.iter(*_REMOVED_CONTENT)):
        parent = element.getparent()
        if parent is None or parent.tag in _MARK_HOLDERS:
            continue
        parent.remove(element)
        count += 1
    for element in list(root.iter(*_KEPT_CONTENT)):
        parent = element.getparent()
        if parent is None or parent.tag in _MARK_HOLDERS:
            continue
        _unwrap(element)
        count += 1
    for element in list(root.iter(*_PROPERTY_CHANGES)):
        element.getparent().remove(element)
        count += 1
    for element in list(root.iter(*_RANGE_MARKS)):
        element.getparent().remove(element)
    for paragraph in list(root.iter(W + "p")):
        mark = paragraph.find(f"{W}pPr/{W}rPr")
        if mark is None:
            continue
        for inserted in mark.findall(W + "ins") + mark.findall(W + "moveTo"):
            mark.remove(inserted)
            count += 1
        deleted = mark.findall(W + "del") + mark.findall(W + "moveFrom")
        for marker in deleted:
            mark.remove(marker)
        if deleted:
            count += 1
            _join_with_next(paragraph)
    for holder in list(root.iter(W + "trPr", W + "tcPr", W + "numPr")):
        for marker in holder.findall(W + "ins") + holder.findall(W + "cellIns") + holder.findall(W + "cellDel"):
            holder.remove(marker)
            count += 1
    return count


def _unwrap(element) -> None:
    parent = element.getparent()
    index = parent.index(element)
    for child in reversed(list(element)):
        parent.insert(index, child)
    parent.remove(element)


def _join_with_next(paragraph) -> None:
    """A deleted paragraph mark: what is left of the paragraph runs on into the next one, as Word shows it."""
    parent = paragraph.getparent()
    content = [child for child in paragraph if child.tag != W + "pPr"]
    following = paragraph.getnext()
    if not any(node.text for node in paragraph.iter(W + "t")) and \
            next(paragraph.iter(W + "drawing", W + "pict", W + "object"), None) is None:
        parent.remove(paragraph)
        return
    if following is None or following.tag != W + "p" or paragraph.find(f"{W}pPr/{W}sectPr") is not None:
        return  # the last paragraph of a cell, or one that ends a section, which stays
    properties = following.find(W + "pPr")
    index = following.index(properties) + 1 if properties is not None else 0
    for child in reversed(content):
        following.insert(index, child)
    parent.remove(paragraph)


def _delete_comment_marks(root) -> set[str]:
    """Word's "Delete all comments" on one part: the ids of the comments it marked."""
    ids: set[str] = set()
    for element in list(root.iter(*_COMMENT_MARKS)):
        ids.add(element.get(W + "id", ""))
        element.getparent().remove(element)
    for reference in list(root.iter(W + "commentReference")):
        ids.add(reference.get(W + "id", ""))
        run = reference.getparent()
        if run.tag == W + "r" and all(child.tag in (W + "rPr", W + "commentReference") for child in run):
            run.getparent().remove(run)
        else:
            run.remove(reference)
    return ids


def _drop_comment_parts(parts: dict[str, bytes]) -> int:
    """The comments part and its companions left out, with their relationships and content types; the number of
    comments the comments part held."""
    rels_name = "word/_rels/document.xml.rels"
    if rels_name not in parts:
        return 0
    relationships = parse_xml(parts[rels_name])
    dropped = []
    for relationship in list(relationships.iter("{%s}Relationship" % REL_NS)):
        if relationship.get("Type", "").endswith(_COMMENT_RELATIONSHIPS) and \
                relationship.get("TargetMode") != "External":
            dropped.append("word/" + relationship.get("Target", "").lstrip("/").removeprefix("word/"))
            relationships.remove(relationship)
    if not dropped:
        return 0
    held = 0
    if "word/comments.xml" in dropped and "word/comments.xml" in parts:
        try:
            held = sum(1 for _ in parse_xml(parts["word/comments.xml"]).iter(W + "comment"))
        except etree.XMLSyntaxError:
            held = 0
    parts[rels_name] = etree.tostring(relationships, xml_declaration=True, encoding="UTF-8", standalone=True)
    for name in dropped:
        parts.pop(name, None)
        parts.pop(name.replace("word/", "word/_rels/", 1) + ".rels", None)
    if "[Content_Types].xml" in parts:
        types = parse_xml(parts["[Content_Types].xml"])
        for override in list(types.iter("{%s}Override" % CT_NS)):
            if override.get("PartName", "").lstrip("/") in dropped:
                types.remove(override)
        parts["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8",
                                                      standalone=True)
    return held
