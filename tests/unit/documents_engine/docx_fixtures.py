"""Helpers that craft (hostile) packages for the engine tests."""

from __future__ import annotations

import io
import zipfile

from services.documents.engine.ooxml import read_package, write_package


def repack(data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None,
           drop: tuple[str, ...] = ()) -> bytes:
    """A copy of the package `data` with parts replaced, added or dropped."""
    parts = read_package(data)
    for name in drop:
        parts.pop(name, None)
    parts.update(replace or {})
    parts.update(add or {})
    return write_package(parts)


def raw_zip(members: dict[str, bytes], compresslevel: int = 9) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# ---- applying tracked revisions to WordprocessingML, as Word's "Accept all" / "Reject all" do ----

from lxml import etree  # noqa: E402

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _unwrap(element) -> None:
    parent = element.getparent()
    index = parent.index(element)
    for offset, child in enumerate(list(element)):
        parent.insert(index + offset, child)
    parent.remove(element)


def _merge_marked_paragraphs(body, mark: str) -> None:
    """A paragraph whose mark is removed joins the next one (its leftover runs move there)."""
    for paragraph in list(body.iter(W + "p")):
        properties = paragraph.find(W + "pPr")
        marks = properties.find(W + "rPr") if properties is not None else None
        if marks is None or marks.find(W + mark) is None:
            continue
        following = paragraph.getnext()
        leftovers = [child for child in paragraph if child.tag != W + "pPr"]
        if following is not None and following.tag == W + "p":
            anchor = following.find(W + "pPr")
            position = 1 if anchor is not None else 0
            for offset, child in enumerate(leftovers):
                following.insert(position + offset, child)
        paragraph.getparent().remove(paragraph)


def _drop_marked_rows(root, mark: str) -> None:
    for row in list(root.iter(W + "tr")):
        properties = row.find(W + "trPr")
        if properties is not None and properties.find(W + mark) is not None:
            row.getparent().remove(row)
    for table in list(root.iter(W + "tbl")):
        if table.find(W + "tr") is None:
            table.getparent().remove(table)


def accept_all(document_xml: bytes) -> etree._Element:
    root = etree.fromstring(document_xml)
    for deletion in list(root.iter(W + "del")):
        if deletion.getparent().tag not in (W + "rPr", W + "trPr"):
            deletion.getparent().remove(deletion)
    for insertion in list(root.iter(W + "ins")):
        if insertion.getparent().tag not in (W + "rPr", W + "trPr"):
            _unwrap(insertion)
    for change in list(root.iter(W + "rPrChange")):
        change.getparent().remove(change)
    _drop_marked_rows(root, "del")
    _merge_marked_paragraphs(root, "del")
    return root


def reject_all(document_xml: bytes) -> etree._Element:
    root = etree.fromstring(document_xml)
    for insertion in list(root.iter(W + "ins")):
        if insertion.getparent().tag not in (W + "rPr", W + "trPr"):
            insertion.getparent().remove(insertion)
    for deletion in list(root.iter(W + "del")):
        if deletion.getparent().tag not in (W + "rPr", W + "trPr"):
            for text in deletion.iter(W + "delText"):
                text.tag = W + "t"
            _unwrap(deletion)
    for change in list(root.iter(W + "rPrChange")):
        properties = change.getparent()
        old = change.find(W + "rPr")
        for child in list(properties):
            properties.remove(child)
        for child in list(old) if old is not None else []:
            properties.append(child)
    _drop_marked_rows(root, "ins")
    _merge_marked_paragraphs(root, "ins")
    return root


def paragraph_texts(root) -> list[str]:
    """Visible text of each body-level paragraph and table, in order (auto numbers are not text)."""
    body = root.find(W + "body")
    texts = []
    for block in body:
        if block.tag == W + "p":
            texts.append("".join(node.text or "" for node in block.iter(W + "t")))
        elif block.tag == W + "tbl":
            texts.append("|".join("".join(t.text or "" for t in cell.iter(W + "t")) for cell in block.iter(W + "tc")))
    return [text for text in texts if text.strip()]


def formatting_of(root) -> list[tuple[str, str]]:
    """(text, bold/italic flags) of every run, to compare formatting after accept/reject."""
    result = []
    for run in root.iter(W + "r"):
        text = "".join(node.text or "" for node in run.iter(W + "t"))
        if not text:
            continue
        properties = run.find(W + "rPr")
        flags = "".join(flag for flag, tag in (("b", "b"), ("i", "i"))
                        if properties is not None and properties.find(W + tag) is not None
                        and properties.find(W + tag).get(W + "val", "true") not in ("0", "false"))
        result.extend((char, flags) for char in text)
    return result
