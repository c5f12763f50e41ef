"""A draft uploaded with its internal review's tracked changes and comments: read as Word's "Accept All Changes"
and "Delete All Comments" leave it, and the clerk told. LibreOffice proves the text on real files in
tests/integration/test_tracked_changes_libreoffice.py; these tests prove the package and the rules."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from services.documents.engine import parse_docx, render_clean
from services.documents.engine.ooxml import W, W_NS, read_package
from services.documents.engine.review_marks import _accept_revisions, _delete_comment_marks

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def test_words_tracked_changes_and_comments_are_gone_from_the_published_draft_and_the_clerk_is_told():
    """testWORD_features.docx: Tika's tests say it has tracked changes and comments (by Kyle Reese)."""
    draft = parse_docx((CORPUS / "drafting" / "word" / "testWORD_features.docx").read_bytes())
    package = read_package(render_clean(draft))
    document = package["word/document.xml"]
    assert not any(name.startswith(("word/comments", "word/people")) for name in package)
    for mark in (b"<w:ins ", b"<w:del ", b"commentReference", b"commentRangeStart", b"rPrChange", b"Kyle Reese"):
        assert mark not in document, mark
    assert b"comments" not in package["word/_rels/document.xml.rels"]
    assert b"comments" not in package["[Content_Types].xml"]
    assert "2 comments" in draft.warnings[0] and "tracked changes not yet accepted" in draft.warnings[0]


def test_a_draft_without_review_marks_has_no_such_warning():
    draft = parse_docx((CORPUS / "drafting" / "uchwala-piatnica-program.typed-lo.docx").read_bytes())
    assert not any("review" in warning for warning in draft.warnings)


def body(xml: str):
    return etree.fromstring(f'<w:body xmlns:w="{W_NS}">{xml}</w:body>')


def texts(root) -> list[str]:
    return ["".join(t.text or "" for t in p.iter(W + "t", W + "delText")) for p in root.iter(W + "p")]


def test_accepting_keeps_insertions_drops_deletions_and_joins_a_paragraph_whose_mark_was_deleted():
    root = body(
        '<w:p><w:r><w:t>Jest </w:t></w:r><w:ins w:id="1"><w:r><w:t>nowe</w:t></w:r></w:ins>'
        '<w:del w:id="2"><w:r><w:delText>stare</w:delText></w:r></w:del></w:p>'
        '<w:p><w:pPr><w:rPr><w:del w:id="3"/></w:rPr></w:pPr><w:r><w:t>Początek </w:t></w:r></w:p>'
        '<w:p><w:pPr><w:jc w:val="both"/></w:pPr><w:r><w:t>i koniec.</w:t></w:r></w:p>'
        '<w:p><w:pPr><w:rPr><w:del w:id="4"/></w:rPr></w:pPr><w:del w:id="5"><w:r><w:delText>Cały</w:delText>'
        '</w:r></w:del></w:p>'
        '<w:tbl><w:tr><w:trPr><w:del w:id="6"/></w:trPr><w:tc><w:p><w:r><w:t>wiersz usunięty</w:t></w:r></w:p>'
        '</w:tc></w:tr><w:tr><w:tc><w:p><w:r><w:t>wiersz</w:t></w:r></w:p></w:tc></w:tr></w:tbl>'
        '<w:p><w:r><w:rPr><w:b/><w:rPrChange w:id="7"><w:rPr/></w:rPrChange></w:rPr><w:t>pogrubione</w:t></w:r>'
        '</w:p>')
    assert _accept_revisions(root) == 7
    assert texts(root) == ["Jest nowe", "Początek i koniec.", "wiersz", "pogrubione"]
    joined = root.findall(W + "p")[1]
    assert joined.find(f"{W}pPr/{W}jc") is not None  # the paragraph it ran into keeps its own properties
    assert not list(root.iter(W + "ins", W + "del", W + "rPrChange"))


def test_deleting_comments_removes_their_ranges_and_references_and_counts_them():
    root = body(
        '<w:p><w:commentRangeStart w:id="0"/><w:r><w:t>Tekst</w:t></w:r><w:commentRangeEnd w:id="0"/>'
        '<w:r><w:rPr><w:rStyle w:val="CommentReference"/></w:rPr><w:commentReference w:id="0"/></w:r>'
        '<w:r><w:t xml:space="preserve"> dalej</w:t><w:commentReference w:id="1"/></w:r></w:p>')
    assert _delete_comment_marks(root) == {"0", "1"}
    assert texts(root) == ["Tekst dalej"]
    assert len(root.findall(f"{W}p/{W}r")) == 2 and not list(root.iter(W + "commentReference"))


def test_the_warning_counts_in_polish_as_polish_counts():
    from services.documents.engine.review_marks import ReviewMarks

    assert ReviewMarks(1, 0).warning().pl.startswith("Plik zawierał jeszcze 1 niezaakceptowaną zmianę z ")
    assert "3 niezaakceptowane zmiany i 5 komentarzy" in ReviewMarks(3, 5).warning().pl
    assert "12 niezaakceptowanych zmian i 22 komentarze" in ReviewMarks(12, 22).warning().pl
    assert "1 comment from" in ReviewMarks(0, 1).warning() and "tracked" not in ReviewMarks(0, 1).warning()
