"""Comments written on the draft itself: Word comments and tracked changes in a returned DOCX, LibreOffice's
comments and recorded changes in a returned ODT. Pure.

People often download the draft, comment on it in Word (Review → New Comment) or edit it with Track Changes
on, and send the file back instead of the form. Each Word comment is a comment on the text it is anchored
to; each paragraph changed with tracked changes is a proposal: its text before the changes is the current
text, its text with them is the proposed wording (a paragraph deleted whole proposes to strike it). A Word
comment anchored in a changed paragraph is that change's justification. Replies to a comment (Word 2013+,
commentsExtended.xml) belong to the comment they answer; a reply's own anchor is not a second comment.

The provision is taken from the typed numbers of the paragraphs above ("§ 5", "2.", "3)", "a)"); for a draft
numbered by Word's lists the section may stay empty, and the quoted current text is what review anchors by.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.common.xmltree import inside
from services.intake.mail.rows import FormRow

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
W14 = "{http://schemas.microsoft.com/office/word/2010/wordml}"
W15 = "{http://schemas.microsoft.com/office/word/2012/wordml}"
_INSERTED = (f"{W}ins", f"{W}moveTo")
_DELETED = (f"{W}del", f"{W}moveFrom")
STRUCK = "Skreślić ten zapis."  # the proposal of a paragraph deleted whole

_PARAGRAPH = re.compile(r"^§\s*(\d+[a-z]?)\.?")
_CHAPTER = re.compile(r"^(?:Rozdział|ROZDZIAŁ|DZIAŁ|Dział)\s+([IVXLC]+|\d+)\b")
_SECTION = re.compile(r"^(\d+[a-z]?)\.\s")
_POINT = re.compile(r"^(\d+[a-z]?)\)\s")
_LETTER = re.compile(r"^([a-z]{1,2})\)\s")
_LEVELS = (("ust.", _SECTION), ("pkt", _POINT), ("lit.", _LETTER))  # below a §, outermost first
_LEVEL_DEPTH = {kind: depth for depth, (kind, _pattern) in enumerate(_LEVELS)}


@dataclass
class _Provision:
    """The provision a paragraph belongs to, from the typed numbers of the paragraphs so far."""

    chapter: str = ""
    paragraph: str = ""
    levels: list[tuple[str, str]] = field(default_factory=list)  # (kind, number) below the §

    def read(self, text: str) -> None:
        text = text.strip()
        if match := _CHAPTER.match(text):
            self.chapter, self.paragraph, self.levels = match.group(1), "", []
        elif match := _PARAGRAPH.match(text):
            self.paragraph, self.levels = match.group(1), []
            rest = text[match.end():].strip()
            if inline := _SECTION.match(rest + " "):  # "§ 5. 1. Tekst"
                self.levels = [("ust.", inline.group(1))]
        else:
            for depth, (kind, pattern) in enumerate(_LEVELS):
                if match := pattern.match(text):  # a unit of this level closes those at its level and below
                    self.levels = [level for level in self.levels if _LEVEL_DEPTH[level[0]] < depth]
                    self.levels.append((kind, match.group(1)))
                    break

    def label(self) -> str:
        head = f"§ {self.paragraph}" if self.paragraph else (f"Rozdział {self.chapter}" if self.chapter else "")
        return " ".join([head] + [f"{kind} {number}" for kind, number in self.levels]).strip()


_NUMBER_PREFIX = re.compile(r"^(?:§\s*\d+[a-z]?\.?(?:\s+\d+[a-z]?\.)?|\d+[a-z]?[.)]|[a-z]{1,2}\))\s+")


def _without_number(text: str) -> str:
    """The wording without its typed number ("§ 2. ", "3) "): the section names the provision."""
    return _NUMBER_PREFIX.sub("", " ".join(text.split()), count=1)


def _texts(paragraph) -> tuple[str, str, int]:
    """(before, after) the tracked changes, and how many characters no change touched: deleted text only
    before, inserted text only after."""
    before: list[str] = []
    after: list[str] = []
    kept = 0
    for node in paragraph.iter(f"{W}t", f"{W}delText", f"{W}tab", f"{W}br"):
        if inside(node, (f"{W}txbxContent",), paragraph):
            continue
        text = node.text or "" if node.tag in (f"{W}t", f"{W}delText") else ("\t" if node.tag == f"{W}tab" else "\n")
        if node.tag == f"{W}delText" or inside(node, _DELETED, paragraph):
            before.append(text)
        elif inside(node, _INSERTED, paragraph):
            after.append(text)
        else:
            before.append(text)
            after.append(text)
            kept += len(text.strip())
    return "".join(before).strip(), "".join(after).strip(), kept


def _written_with_tracking_on(kept: int, changed: int) -> bool:
    """More changed than untouched text: not a draft with proposals but a text typed with Track Changes left on
    (a letter whose every word is an insertion); its changes are no comments, its Word comments still are."""
    return changed > kept


def _mark_changed(paragraph) -> str | None:
    """"inserted" or "deleted" when the paragraph itself (its mark) was added or removed with tracking on."""
    mark = paragraph.find(f"{W}pPr/{W}rPr")
    if mark is None:
        return None
    if mark.find(f"{W}ins") is not None:
        return "inserted"
    if mark.find(f"{W}del") is not None:
        return "deleted"
    return None


def _comment_texts(comments_xml: bytes | None, extended_xml: bytes | None, parse) -> dict[str, str]:
    """Comment id -> its text, replies folded into the comment they answer."""
    if not comments_xml:
        return {}
    root = parse(comments_xml)
    texts: dict[str, str] = {}
    para_of: dict[str, str] = {}  # w14:paraId of a comment's last paragraph -> comment id
    for comment in root.iter(f"{W}comment"):
        identifier = comment.get(f"{W}id")
        paragraphs = comment.findall(f"{W}p")
        texts[identifier] = "\n".join("".join(t.text or "" for t in p.iter(f"{W}t")) for p in paragraphs).strip()
        if paragraphs and paragraphs[-1].get(f"{W14}paraId"):
            para_of[paragraphs[-1].get(f"{W14}paraId")] = identifier
    if extended_xml:
        for extended in parse(extended_xml).iter(f"{W15}commentEx"):
            parent = para_of.get(extended.get(f"{W15}paraIdParent") or "")
            reply = para_of.get(extended.get(f"{W15}paraId") or "")
            if parent and reply and reply != parent and reply in texts:
                texts[parent] = f"{texts[parent]}\n\n{texts.pop(reply)}".strip()
    return texts


def annotated_rows(body, comments_xml: bytes | None, extended_xml: bytes | None, parse) -> list[FormRow]:
    """The comments and proposals written on a draft (`body`: its w:body), in document order."""
    comment_texts = _comment_texts(comments_xml, extended_xml, parse)
    provision = _Provision()
    changes: dict[int, FormRow] = {}  # paragraph ordinal -> the change made in it
    open_ranges: dict[str, list[str]] = {}
    anchored: dict[str, tuple[int, str, str, str]] = {}  # comment id -> (ordinal, section, quote, paragraph text)
    paragraphs = [p for p in body.iter(f"{W}p") if not inside(p, (f"{W}txbxContent", f"{W}comment"), body)]
    kept_in_all = changed_in_all = 0
    for ordinal, paragraph in enumerate(paragraphs):
        before, after, kept = _texts(paragraph)
        kept_in_all += kept
        changed_in_all += len(before) + len(after) - 2 * kept
        provision.read(after or before)
        section = provision.label()
        if _mark_changed(paragraph) == "deleted" or (before and not after):
            if before:
                changes[ordinal] = FormRow(section, _without_number(before), STRUCK)
        elif before != after:
            changes[ordinal] = FormRow(section, _without_number(before), _without_number(after))
        for node in paragraph.iter(f"{W}commentRangeStart", f"{W}commentRangeEnd", f"{W}commentReference",
                                   f"{W}t"):
            identifier = node.get(f"{W}id")
            if node.tag == f"{W}t":
                for words in open_ranges.values():
                    words.append(node.text or "")
            elif node.tag == f"{W}commentRangeStart":
                open_ranges[identifier] = []
            elif node.tag == f"{W}commentRangeEnd" and identifier in open_ranges:
                anchored[identifier] = (ordinal, section, "".join(open_ranges.pop(identifier)).strip(),
                                        after or before)
            elif node.tag == f"{W}commentReference" and identifier not in anchored:
                anchored[identifier] = (ordinal, section, "", after or before)  # a comment at a point
        for words in open_ranges.values():
            words.append("\n")
    if _written_with_tracking_on(kept_in_all, changed_in_all):
        changes = {}
    placed: list[tuple[int, int, FormRow]] = []
    for identifier, (ordinal, section, quote, paragraph_text) in anchored.items():
        text = comment_texts.get(identifier, "").strip()
        if not text:
            continue
        change = changes.get(ordinal)
        if change is not None and not change.justification:  # the comment explains the change made there
            changes[ordinal] = FormRow(change.section, change.current_text, change.proposal, text)
            continue
        placed.append((ordinal, 1, FormRow(section, _without_number(quote or paragraph_text), text)))
    placed.extend((ordinal, 0, row) for ordinal, row in changes.items())
    return [row for _ordinal, _order, row in sorted(placed, key=lambda item: (item[0], item[1]))]


# --- OpenDocument (LibreOffice): office:annotation and text:tracked-changes -------------------------------

TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_ODF_PARAGRAPHS = (f"{TEXT}p", f"{TEXT}h")
_ODF_SKIPPED = (f"{OFFICE}annotation", f"{TEXT}tracked-changes", f"{TEXT}note", f"{TEXT}deletion")


def odf_spaces(element) -> str:
    """The spaces an ODF `<text:s text:c="n"/>` stands for, at most 100 (a file may claim a billion)."""
    count = element.get(f"{TEXT}c") or "1"
    return " " * min(int(count) if count.isdecimal() else 1, 100)


def _odf_text(element) -> str:
    return " ".join("".join(element.itertext()).split())


def _odf_changes(text_root) -> dict[str, tuple[str, list[str]]]:
    """Change id -> ("insertion" | "deletion", the deleted paragraphs' texts)."""
    changes: dict[str, tuple[str, list[str]]] = {}
    for region in text_root.iter(f"{TEXT}changed-region"):
        identifier = region.get(f"{TEXT}id") or ""
        for kind in ("insertion", "deletion", "format-change"):
            change = region.find(f"{TEXT}{kind}")
            if change is not None:
                changes[identifier] = (kind, [_odf_text(p) for p in change.iter(*_ODF_PARAGRAPHS)])
    return changes


class _OdfParagraph:
    """One paragraph read twice over: as it was (deletions in, insertions out) and as proposed."""

    def __init__(self, changes: dict[str, tuple[str, list[str]]]):
        self.changes = changes
        self.before: list[str] = []
        self.after: list[str] = []
        self.inserting: set[str] = set()
        self.open_ranges: dict[str, list[str]] = {}
        self.comments: list[list[str]] = []  # [comment text, quote]
        self.changed = False
        self.struck: list[str] = []  # paragraphs deleted whole just before this one
        self.kept = 0  # characters no change touched

    def add(self, text: str | None) -> None:
        if not text:
            return
        self.after.append(text)
        if not self.inserting:
            self.before.append(text)
            self.kept += len(text.strip())
        for words in self.open_ranges.values():
            words.append(text)

    def walk(self, element) -> None:
        for child in element:
            tag = child.tag
            if tag == f"{OFFICE}annotation":
                body = " ".join(_odf_text(p) for p in child.iter(*_ODF_PARAGRAPHS))
                name = child.get(f"{OFFICE}name") or ""
                self.comments.append([body, ""])
                if name:
                    self.open_ranges[name] = []
                    self.comments[-1].append(name)
            elif tag == f"{OFFICE}annotation-end":
                name = child.get(f"{OFFICE}name") or ""
                quote = "".join(self.open_ranges.pop(name, []))
                for comment in self.comments:
                    if comment[2:] == [name]:
                        comment[1] = quote
            elif tag in (f"{TEXT}change-start", f"{TEXT}change-end", f"{TEXT}change"):
                self._change(tag, child.get(f"{TEXT}change-id") or "")
            elif tag == f"{TEXT}s":
                self.add(odf_spaces(child))
            elif tag in (f"{TEXT}tab", f"{TEXT}line-break"):
                self.add(" ")
            elif tag not in (f"{TEXT}note", f"{TEXT}tracked-changes"):
                self.add(child.text)
                self.walk(child)
            self.add(child.tail)

    def _change(self, tag: str, identifier: str) -> None:
        kind, deleted = self.changes.get(identifier, ("", []))
        if tag == f"{TEXT}change-end":
            self.inserting.discard(identifier)
        elif tag == f"{TEXT}change-start" and kind == "insertion":
            self.inserting.add(identifier)
            self.changed = True
        elif tag == f"{TEXT}change" and kind == "deletion" and deleted:
            self.changed = True
            if not "".join(self.after).strip() and len(deleted) > 1 and not deleted[-1]:
                self.struck.extend(text for text in deleted[:-1] if text)  # whole paragraphs, marks and all
            else:
                self.before.append(" ".join(deleted))

    def texts(self) -> tuple[str, str]:
        return " ".join("".join(self.before).split()), " ".join("".join(self.after).split())


def odt_annotated_rows(content) -> list[FormRow]:
    """As `annotated_rows`, for an OpenDocument text's content.xml root: LibreOffice's comments
    (office:annotation, a range closed by office:annotation-end) and recorded changes (text:change-start/end
    around an insertion, text:change where text was deleted, the deleted text kept in text:tracked-changes)."""
    text_root = content.find(f"{OFFICE}body/{OFFICE}text")
    if text_root is None:
        return []
    changes = _odf_changes(text_root)
    paragraphs = []
    for element in text_root.iter(*_ODF_PARAGRAPHS):
        if not inside(element, _ODF_SKIPPED, text_root):
            paragraph = _OdfParagraph(changes)
            paragraph.add(element.text)
            paragraph.walk(element)
            paragraphs.append(paragraph)
    kept = sum(p.kept for p in paragraphs)
    changed = sum(len("".join(p.before)) + len("".join(p.after)) - 2 * p.kept for p in paragraphs)
    proposals = not _written_with_tracking_on(kept, changed)
    provision = _Provision()
    rows: list[FormRow] = []
    for paragraph in paragraphs:
        for whole in paragraph.struck:
            provision.read(whole)
            if proposals:
                rows.append(FormRow(provision.label(), _without_number(whole), STRUCK))
        before, after = paragraph.texts()
        provision.read(after or before)
        section = provision.label()
        comments = [(body, quote) for body, quote, *_name in paragraph.comments if body]
        if proposals and paragraph.changed and before != after:
            justification = comments.pop(0)[0] if comments else ""  # a comment on a changed paragraph explains it
            rows.append(FormRow(section, _without_number(before), _without_number(after) if after else STRUCK,
                                justification))
        rows.extend(FormRow(section, _without_number(quote or after), body) for body, quote in comments)
    return rows
