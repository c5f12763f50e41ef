"""Comments written on the draft itself: Word comments and tracked changes in the returned DOCX. Pure.

People often download the draft, comment on it in Word (Review → New Comment) or edit it with Track Changes
on, and send the file back instead of the form. Each Word comment is a comment on the text it is anchored
to; each paragraph changed with tracked changes is a proposal: its text before the changes is the current
text, its text with them is the proposed wording (a paragraph deleted whole proposes to strike it). A Word
comment anchored in a changed paragraph is that change's justification. Replies to a comment (Word 2013+,
commentsExtended.xml) belong to the comment they answer.

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
            for kind, pattern in (("ust.", _SECTION), ("pkt", _POINT), ("lit.", _LETTER)):
                if match := pattern.match(text):
                    order = ["ust.", "pkt", "lit."]
                    self.levels = [level for level in self.levels if order.index(level[0]) < order.index(kind)]
                    self.levels.append((kind, match.group(1)))
                    break

    def label(self) -> str:
        head = f"§ {self.paragraph}" if self.paragraph else (f"Rozdział {self.chapter}" if self.chapter else "")
        return " ".join([head] + [f"{kind} {number}" for kind, number in self.levels]).strip()


_NUMBER_PREFIX = re.compile(r"^(?:§\s*\d+[a-z]?\.?(?:\s+\d+[a-z]?\.)?|\d+[a-z]?[.)]|[a-z]{1,2}\))\s+")


def _without_number(text: str) -> str:
    """The wording without its typed number ("§ 2. ", "3) "): the section names the provision."""
    return _NUMBER_PREFIX.sub("", " ".join(text.split()), count=1)


def _texts(paragraph) -> tuple[str, str]:
    """(before, after) the tracked changes: deleted text only before, inserted text only after."""
    before: list[str] = []
    after: list[str] = []
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
    return "".join(before).strip(), "".join(after).strip()


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
    for ordinal, paragraph in enumerate(paragraphs):
        before, after = _texts(paragraph)
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
