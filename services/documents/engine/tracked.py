"""Tracked-changes DOCX from version N to N+1, as real Word revisions.

Each revision (w:ins, w:del, w:rPrChange, and the paragraph-mark marks of
inserted and deleted paragraphs) is authored by the deciding body and dated at
approval, and each revised unit carries one Word comment naming the comment
references it comes from. Accepting all revisions gives exactly version N+1;
rejecting all gives exactly version N (the tests prove both on the XML).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from lxml import etree

from .docxwriter import text_xml
from .model import Run, Unit, Version
from .ooxml import CT_COMMENTS, REL_TYPE, W, W_NS, WML_NS_DECL, XML_DECL, parse_xml, xml_escape
from .parse import serialize
from .render import (clean_unit_xml, head_paragraph_xml, head_text, number_prefix, package_with_document,
                     visible_runs)
from .styled import StyledText, token_opcodes
from .versions import merged_units

COMMENT_TEXT = {
    "pl": {"change": "Zmiana wynikająca z uwag: {refs}", "renumber": "Zmiana numeracji wynikająca ze zmian "
           "z uwag: {refs}", "none": "bez wskazanej uwagi"},
    "en": {"change": "Change resulting from comments: {refs}", "renumber": "Renumbering resulting from "
           "changes from comments: {refs}", "none": "no comment reference"},
}


@dataclass
class _Revisions:
    """Revision and comment ids, and the comments to write to comments.xml."""

    author: str
    date: str
    lang: str
    next_revision: int = 1
    first_comment: int = 0
    comments: list[tuple[int, str]] = field(default_factory=list)

    def attributes(self) -> str:
        revision_id = self.next_revision
        self.next_revision += 1
        return f'w:id="{revision_id}" w:author="{xml_escape(self.author)}" w:date="{self.date}"'

    def comment(self, refs: tuple[str, ...], renumbering: bool = False) -> int:
        texts = COMMENT_TEXT[self.lang]
        comment_id = self.first_comment + len(self.comments)
        refs_text = ", ".join(refs) if refs else texts["none"]
        self.comments.append((comment_id, texts["renumber" if renumbering else "change"].format(refs=refs_text)))
        return comment_id


def _iso(moment: datetime | None) -> str:
    """w:date in UTC; a naive datetime is taken as UTC."""
    if moment is None:
        return "1980-01-01T00:00:00Z"
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def render_tracked(old: Version, new: Version, *, lang: str = "pl") -> bytes:
    """DOCX of `new` with every difference from `old` as a tracked revision with a comment."""
    revisions = _Revisions(author=new.approved_by or "Uwagi", date=_iso(new.approved_at), lang=lang,
                           first_comment=_next_comment_id(old))
    refs = new.revision_refs if new.parent is old else {}
    root_nsmap = _root_nsmap(old)
    pieces = []
    for before, after in merged_units(old, new):
        unit_refs = tuple(refs.get((after or before).id, ()))
        if before is None:
            if not after.shares_paragraph:
                pieces.append(_head_revision(after, "ins", revisions)
                              + _title_revision(after, "ins", revisions, root_nsmap)
                              + _inserted_xml(after, revisions, unit_refs))
            pieces.append(after.tail_xml)
        elif after is None:
            if not before.shares_paragraph:
                pieces.append(_head_revision(before, "del", revisions)
                              + _title_revision(before, "del", revisions, root_nsmap)
                              + _deleted_xml(before, revisions, unit_refs, root_nsmap))
            pieces.append(before.tail_xml)
        elif before.shares_paragraph or after.shares_paragraph:
            pieces.append(_shared_change_xml(before, after, revisions, unit_refs) + after.tail_xml)
        elif _drafted_over_elements(before) and _visibly_changed(before, after):
            # A heading drafted over several paragraphs is amended as one: its lines go, the new wording comes.
            pieces.append(_deleted_as_drafted_xml(before, revisions, unit_refs, root_nsmap)
                          + _inserted_xml(after, revisions, unit_refs) + after.tail_xml)
        elif _visibly_changed(before, after):
            renumber_only = before.runs == after.runs
            pieces.append(_changed_head_xml(before, after, revisions) + after.title_xml
                          + _changed_xml(before, after, revisions, unit_refs, renumber_only) + after.tail_xml)
        else:
            pieces.append(clean_unit_xml(after) + after.tail_xml)
    template = new.template
    document = _marks_before_insertions(template.document_head + "".join(pieces) + template.document_tail)
    return package_with_document(new, document, _comment_parts(new, revisions))


def _marks_before_insertions(document: str) -> str:
    """Mark inserted paragraphs the way Word does: the paragraph mark flagged as inserted is the one that
    ends the paragraph before the new text, and the last new paragraph keeps the old properties as a
    w:pPrChange. Rejecting then joins the old paragraph's text with the last new paragraph's mark, restored
    to the old properties; LibreOffice would otherwise keep a new paragraph's numbering when the paragraph
    after it has no text (a Word-numbered "§ 3." line)."""
    root = parse_xml(document.encode("utf-8"))
    body = root.find(W + "body")
    children = list(body)
    index = 0
    while index < len(children):
        if not _mark_inserted(children[index]):
            index += 1
            continue
        end = index
        while end + 1 < len(children) and _mark_inserted(children[end + 1]):
            end += 1
        before = children[index - 1] if index > 0 else None
        if before is not None and before.tag == W + "p" and not _mark_inserted(before) and \
                not _mark_deleted(before) and before.find(f"{W}pPr/{W}sectPr") is None:
            group = children[index:end + 1]
            for earlier, later in zip([before] + group[:-1], group):
                flag = _mark_of(later).find(W + "ins")
                _mark_of(later).remove(flag)
                _ensure_mark(earlier).insert(0, flag)
            last = group[-1]
            _drop_empty_mark(last)
            _record_old_properties(last, before)
        index = end + 1
    return '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + etree.tostring(root, encoding="unicode")


def _mark_of(paragraph):
    properties = paragraph.find(W + "pPr") if paragraph.tag == W + "p" else None
    return properties.find(W + "rPr") if properties is not None else None


def _mark_inserted(element) -> bool:
    mark = _mark_of(element)
    return mark is not None and mark.find(W + "ins") is not None


def _mark_deleted(element) -> bool:
    mark = _mark_of(element)
    return mark is not None and mark.find(W + "del") is not None


def _ensure_mark(paragraph):
    properties = paragraph.find(W + "pPr")
    if properties is None:
        properties = etree.Element(W + "pPr")
        paragraph.insert(0, properties)
    mark = properties.find(W + "rPr")
    if mark is None:
        mark = etree.Element(W + "rPr")
        later = [child for child in properties if child.tag in (W + "sectPr", W + "pPrChange")]
        if later:
            later[0].addprevious(mark)
        else:
            properties.append(mark)
    return mark


def _drop_empty_mark(paragraph) -> None:
    mark = _mark_of(paragraph)
    if mark is not None and len(mark) == 0:
        mark.getparent().remove(mark)


def _record_old_properties(paragraph, old_paragraph) -> None:
    """w:pPrChange on `paragraph` holding the paragraph properties of `old_paragraph` (without its mark)."""
    def plain(element):
        properties = element.find(W + "pPr")
        copy = etree.fromstring(etree.tostring(properties)) if properties is not None else etree.Element(W + "pPr")
        for child in list(copy):
            if child.tag in (W + "rPr", W + "sectPr", W + "pPrChange"):
                copy.remove(child)
        return copy

    new_properties, old_properties = plain(paragraph), plain(old_paragraph)
    if etree.tostring(new_properties) == etree.tostring(old_properties):
        return
    properties = paragraph.find(W + "pPr")
    if properties is None:
        properties = etree.Element(W + "pPr")
        paragraph.insert(0, properties)
    flag = _mark_of(old_paragraph).find(W + "ins")
    change = etree.SubElement(properties, W + "pPrChange")
    for name in ("id", "author", "date"):
        change.set(W + name, flag.get(W + name))
    change.set(W + "id", str(10_000_000 + int(flag.get(W + "id"))))
    old_properties.tag = W + "pPr"
    change.append(old_properties)


def _visibly_changed(before: Unit, after: Unit) -> bool:
    return before.runs != after.runs or number_prefix(before) != number_prefix(after) or \
        head_text(before) != head_text(after)


def _shared_change_xml(before: Unit, after: Unit, revisions: "_Revisions", refs: tuple[str, ...]) -> str:
    """A § that gained or lost a line of its own (its first ust. was deleted, or all of them)."""
    if before.shares_paragraph and after.shares_paragraph:
        return ""
    if after.shares_paragraph:  # its own line goes; the number moves into its first child's line
        return _deleted_xml(before, revisions, refs, {})
    return _inserted_xml(after, revisions, refs)


def _head_revision(unit: Unit, mark: str, revisions: "_Revisions") -> str:
    """The separate number line of an inserted or deleted unit, itself inserted or deleted."""
    if not unit.has_head:
        return ""
    text = head_text(unit)
    content = ""
    if text:
        run = f"<w:r>{unit.number_rpr}{text_xml(text, mark == 'del')}</w:r>"
        content = f"<w:{mark} {revisions.attributes()}>{run}</w:{mark}>"
    return f"<w:p>{mark_paragraph(unit.head_ppr, mark, revisions.attributes())}{content}</w:p>"


def _title_revision(unit: Unit, mark: str, revisions: "_Revisions", root_nsmap: dict) -> str:
    """A §'s title line, as drafted, with every run and its paragraph mark inserted or deleted."""
    if not unit.title_xml:
        return ""
    declarations = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in root_nsmap.items() if prefix)
    paragraph = parse_xml(f"<w:wrapper {declarations}>{unit.title_xml}</w:wrapper>".encode())[0]

    def revision() -> etree._Element:
        element = etree.Element(W + mark)
        for name, value in re.findall(r'(w:\w+)="([^"]*)"', revisions.attributes()):
            element.set(W + name[2:], value)
        return element

    for run in list(paragraph.iter(W + "r")):
        if mark == "del":
            for text in run.iter(W + "t"):
                text.tag = W + "delText"
        wrapper = revision()
        run.addprevious(wrapper)
        wrapper.append(run)
    _mark_paragraph_element(paragraph, revision())
    return serialize(paragraph, root_nsmap)


def _changed_head_xml(before: Unit, after: Unit, revisions: "_Revisions") -> str:
    """The number line as drafted, or with the old typed number deleted and the new one inserted."""
    if not after.has_head:
        return ""
    old, new = head_text(before), head_text(after)
    if old == new:
        return head_paragraph_xml(after)
    deleted = f"<w:del {revisions.attributes()}><w:r>{before.number_rpr}{text_xml(old, True)}</w:r></w:del>"
    inserted = f"<w:ins {revisions.attributes()}><w:r>{after.number_rpr}{text_xml(new)}</w:r></w:ins>"
    return f"<w:p>{after.head_ppr}{deleted if old else ''}{inserted if new else ''}</w:p>"


# ---- paragraphs ----------------------------------------------------------------------

def _with_comment(ppr: str, content: str, comment_id: int) -> str:
    return (f'<w:p>{ppr}<w:commentRangeStart w:id="{comment_id}"/>{content}'
            f'<w:commentRangeEnd w:id="{comment_id}"/><w:r><w:commentReference w:id="{comment_id}"/></w:r></w:p>')


def mark_paragraph(ppr: str, mark: str, attributes: str) -> str:
    """pPr with the paragraph mark flagged as inserted or deleted (w:pPr/w:rPr/w:ins|w:del)."""
    flag = f"<w:{mark} {attributes}/>"
    if not ppr or ppr == "<w:pPr/>":
        return f"<w:pPr><w:rPr>{flag}</w:rPr></w:pPr>"
    ppr = ppr.replace("<w:rPr/>", "<w:rPr></w:rPr>")
    if "<w:rPr>" in ppr:
        return ppr.replace("<w:rPr>", "<w:rPr>" + flag, 1)
    for later in ("<w:sectPr", "<w:pPrChange"):
        if later in ppr:
            index = ppr.index(later)
            return ppr[:index] + f"<w:rPr>{flag}</w:rPr>" + ppr[index:]
    return ppr.replace("</w:pPr>", f"<w:rPr>{flag}</w:rPr></w:pPr>")


def _plain_runs_xml(runs: list[Run], deleted: bool = False) -> str:
    return "".join(f"<w:r>{run.rpr}{run.opaque}</w:r>" if run.opaque
                   else f"<w:r>{run.rpr}{text_xml(run.text, deleted)}</w:r>" for run in runs)


def _inserted_xml(unit: Unit, revisions: _Revisions, refs: tuple[str, ...]) -> str:
    content = f"<w:ins {revisions.attributes()}>{_plain_runs_xml(visible_runs(unit))}</w:ins>"
    ppr = mark_paragraph(unit.ppr, "ins", revisions.attributes())
    return _with_comment(ppr, content, revisions.comment(refs))


def _deleted_xml(unit: Unit, revisions: _Revisions, refs: tuple[str, ...], root_nsmap: dict) -> str:
    if unit.kind == "table" or _drafted_over_elements(unit):
        return _deleted_as_drafted_xml(unit, revisions, refs, root_nsmap)
    content = f"<w:del {revisions.attributes()}>{_plain_runs_xml(visible_runs(unit), deleted=True)}</w:del>"
    ppr = mark_paragraph(unit.ppr, "del", revisions.attributes())
    return _with_comment(ppr, content, revisions.comment(refs))


def _changed_xml(before: Unit, after: Unit, revisions: _Revisions, refs: tuple[str, ...],
                 renumber_only: bool) -> str:
    old, new = StyledText.from_runs(visible_runs(before)), StyledText.from_runs(visible_runs(after))
    content: list[str] = []
    objects = sorted(new.objects, key=lambda item: item[0])
    for tag, i1, i2, j1, j2 in token_opcodes(old.text, new.text):
        if tag in ("delete", "replace"):
            content.append(_deleted_span(old, i1, i2, revisions))
        if tag == "equal":
            content.append(_equal_span(old, new, i1, j1, j2, objects, revisions))
        elif tag in ("insert", "replace"):
            content.append(_inserted_span(new, j1, j2, objects, revisions))
    content.extend(f"<w:r>{run.rpr}{run.opaque}</w:r>" for _, run in objects)  # objects at the very end
    return _with_comment(after.ppr, "".join(content), revisions.comment(refs, renumbering=renumber_only))


def _take_objects(objects: list[tuple[int, Run]], up_to: int) -> str:
    """Inline objects (footnote references) placed before character `up_to`, removed from `objects`.

    They are the same in both versions, so they are written outside any revision.
    """
    taken = []
    while objects and objects[0][0] <= up_to:
        taken.append(f"<w:r>{objects[0][1].rpr}{objects[0][1].opaque}</w:r>")
        objects.pop(0)
    return "".join(taken)


def _groups(rprs_a: tuple[str, ...], rprs_b: tuple[str, ...] | None, start: int, end: int, shift: int = 0,
            breaks: frozenset[int] = frozenset()):
    """Stretches [s, e) of one formatting (and one old formatting when `rprs_b` is given),
    also split where an inline object sits."""
    position = start
    while position < end:
        stop = position + 1
        while stop < end and stop not in breaks and rprs_a[stop] == rprs_a[position] and (
                rprs_b is None or rprs_b[stop - shift] == rprs_b[position - shift]):
            stop += 1
        yield position, stop
        position = stop


def _equal_span(old: StyledText, new: StyledText, i1: int, j1: int, j2: int,
                objects: list[tuple[int, Run]], revisions: _Revisions) -> str:
    pieces = []
    shift = j1 - i1
    breaks = frozenset(offset for offset, _ in objects)
    for start, stop in _groups(new.rprs, old.rprs, j1, j2, shift, breaks):
        pieces.append(_take_objects(objects, start))
        new_rpr, old_rpr = new.rprs[start], old.rprs[start - shift]
        rpr = new_rpr if new_rpr == old_rpr else _rpr_with_change(new_rpr, old_rpr, revisions)
        pieces.append(f"<w:r>{rpr}{text_xml(new.text[start:stop])}</w:r>")
    return "".join(pieces)


def _inserted_span(new: StyledText, j1: int, j2: int, objects: list[tuple[int, Run]],
                   revisions: _Revisions) -> str:
    pieces = []
    breaks = frozenset(offset for offset, _ in objects)
    for start, stop in _groups(new.rprs, None, j1, j2, breaks=breaks):
        pieces.append(_take_objects(objects, start))
        pieces.append(f"<w:ins {revisions.attributes()}><w:r>{new.rprs[start]}"
                      f"{text_xml(new.text[start:stop])}</w:r></w:ins>")
    return "".join(pieces)


def _deleted_span(old: StyledText, i1: int, i2: int, revisions: _Revisions) -> str:
    runs = "".join(f"<w:r>{old.rprs[start]}{text_xml(old.text[start:stop], deleted=True)}</w:r>"
                   for start, stop in _groups(old.rprs, None, i1, i2))
    return f"<w:del {revisions.attributes()}>{runs}</w:del>"


def _rpr_with_change(new_rpr: str, old_rpr: str, revisions: _Revisions) -> str:
    old_inner = old_rpr[len("<w:rPr>"):-len("</w:rPr>")] if old_rpr else ""
    change = f"<w:rPrChange {revisions.attributes()}><w:rPr>{old_inner}</w:rPr></w:rPrChange>"
    if not new_rpr:
        return f"<w:rPr>{change}</w:rPr>"
    return new_rpr[: -len("</w:rPr>")] + change + "</w:rPr>"


# ---- tables --------------------------------------------------------------------------

def _root_nsmap(version: Version) -> dict:
    start_tag = re.search(r"<w:document\b[^>]*>", version.template.document_head)
    root = parse_xml((start_tag.group(0) + "</w:document>").encode()) if start_tag else None
    return dict(root.nsmap) if root is not None else {"w": W_NS}


def _drafted_over_elements(unit: Unit) -> bool:
    """A heading drafted over several paragraphs, or in a layout table: amended, it becomes one paragraph."""
    return bool(unit.folded_xml) or (unit.kind != "table" and unit.source_xml.startswith("<w:tbl"))


def _deleted_as_drafted_xml(unit: Unit, revisions: _Revisions, refs: tuple[str, ...], root_nsmap: dict) -> str:
    """The unit's original elements (a table, or the paragraphs of a heading set over several lines) with every
    table row, run and paragraph mark marked deleted, so that rejecting the change gives them back as drafted."""
    declarations = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in root_nsmap.items() if prefix)
    wrapper = parse_xml(f"<w:wrapper {declarations}>{unit.source_xml}{unit.folded_xml}</w:wrapper>".encode())

    def revision(tag: str) -> etree._Element:
        element = etree.Element(W + tag)
        for name, value in re.findall(r'(w:\w+)="([^"]*)"', revisions.attributes()):
            element.set(W + name[2:], value)
        return element

    for row in wrapper.iter(W + "tr"):
        row_properties = row.find(W + "trPr")
        if row_properties is None:
            row_properties = etree.Element(W + "trPr")
            row.insert(1 if row.find(W + "tblPrEx") is not None else 0, row_properties)
        row_properties.append(revision("del"))
    for run in list(wrapper.iter(W + "r")):
        for text in run.iter(W + "t"):
            text.tag = W + "delText"
        wrapper_del = revision("del")
        run.addprevious(wrapper_del)
        wrapper_del.append(run)
    for paragraph in wrapper.iter(W + "p"):
        _mark_paragraph_element(paragraph, revision("del"))
    comment_id = revisions.comment(refs)
    first_paragraph = next(wrapper.iter(W + "p"))
    first_paragraph.insert(1 if first_paragraph.find(W + "pPr") is not None else 0,
                           etree.Element(W + "commentRangeStart", {W + "id": str(comment_id)}))
    first_paragraph.append(etree.Element(W + "commentRangeEnd", {W + "id": str(comment_id)}))
    reference_run = etree.SubElement(first_paragraph, W + "r")
    etree.SubElement(reference_run, W + "commentReference", {W + "id": str(comment_id)})
    return "".join(serialize(element, root_nsmap) for element in wrapper)


def _mark_paragraph_element(paragraph, flag) -> None:
    properties = paragraph.find(W + "pPr")
    if properties is None:
        properties = etree.Element(W + "pPr")
        paragraph.insert(0, properties)
    mark = properties.find(W + "rPr")
    if mark is None:
        mark = etree.Element(W + "rPr")
        later = [child for child in properties if child.tag in (W + "sectPr", W + "pPrChange")]
        if later:
            later[0].addprevious(mark)
        else:
            properties.append(mark)
    mark.insert(0, flag)


# ---- comments part -------------------------------------------------------------------

def _next_comment_id(version: Version) -> int:
    existing = version.template.parts.get("word/comments.xml")
    if not existing:
        return 0
    ids = [int(value) for value in re.findall(rb'w:id="(-?\d+)"', existing)]
    return max(ids, default=-1) + 1


def _comment_parts(version: Version, revisions: _Revisions) -> dict[str, bytes]:
    if not revisions.comments:
        return {}
    parts = version.template.parts
    initials = "".join(word[0] for word in revisions.author.split()[:3]).upper() or "U"
    comments = "".join(
        f'<w:comment w:id="{comment_id}" w:author="{xml_escape(revisions.author)}" w:date="{revisions.date}" '
        f'w:initials="{xml_escape(initials)}"><w:p><w:r><w:t xml:space="preserve">{xml_escape(text)}</w:t></w:r>'
        "</w:p></w:comment>" for comment_id, text in revisions.comments)
    existing = parts.get("word/comments.xml")
    if existing:
        closing = existing.rstrip().rfind(b"</w:comments>")
        comments_xml = existing[:closing] + comments.encode("utf-8") + b"</w:comments>"
    else:
        comments_xml = f"{XML_DECL}<w:comments {WML_NS_DECL}>{comments}</w:comments>".encode("utf-8")
    updated = {"word/comments.xml": comments_xml}
    rels = parts.get("word/_rels/document.xml.rels", b"")
    if (REL_TYPE + "comments").encode() not in rels:
        relation = (f'<Relationship Id="rIdUwagiComments" Type="{REL_TYPE}comments" '
                    'Target="comments.xml"/>').encode()
        updated["word/_rels/document.xml.rels"] = rels.replace(b"</Relationships>", relation + b"</Relationships>")
    types = parts["[Content_Types].xml"]
    if b'PartName="/word/comments.xml"' not in types:
        override = f'<Override PartName="/word/comments.xml" ContentType="{CT_COMMENTS}"/>'.encode()
        updated["[Content_Types].xml"] = types.replace(b"</Types>", override + b"</Types>")
    return updated
