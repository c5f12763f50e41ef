"""Tracked changes are real Word revisions: accept all gives N+1, reject all gives N."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from lxml import etree

from docx_fixtures import accept_all, formatting_of, paragraph_texts, reject_all
from services.documents.engine.model import Change
from services.documents.engine.ooxml import read_package
from services.documents.engine.parse import parse_docx
from services.documents.engine.render import render_clean, render_tracked
from services.documents.engine.versions import apply_changes

APPROVED = datetime(2024, 11, 4, 12, 30, tzinfo=timezone.utc)
AUTHOR = "Prezydent Miasta Wzorowo"
CHANGES = (
    Change("§ 2 pkt 2", "delete", comment_refs=("K-1",)),
    Change("§ 3 ust. 2 pkt 2 lit. a", "insert_after", "w zakresie ochrony zdrowia psychicznego,", ("K-2", "K-3")),
    Change("§ 2 pkt 1", "replace", "ustawę z dnia 24 kwietnia 2003 r.", ("K-4",), old_text="ustawę"),
    Change("§ 4", "delete", comment_refs=("K-5",)),
    Change("§ 5 ust. 1", "replace", "Współpraca ma charakter finansowy oraz pozafinansowy.", ("K-6",),
           format={"bold": True}),
    Change("§ 16 tabela 1", "delete", comment_refs=("K-7",)),
)


@pytest.fixture(scope="module", params=["typed", "auto"])
def versions(request, auto_draft, typed_draft):
    draft = parse_docx(auto_draft if request.param == "auto" else typed_draft)
    return draft, apply_changes(draft, CHANGES, approved_by=AUTHOR, approved_at=APPROVED)


def document_of(docx: bytes) -> bytes:
    return read_package(docx)["word/document.xml"]


def test_accept_all_gives_exactly_the_new_version(versions):
    old, new = versions
    accepted = accept_all(document_of(render_tracked(old, new)))
    assert paragraph_texts(accepted) == paragraph_texts(etree.fromstring(document_of(render_clean(new))))


def test_reject_all_gives_exactly_the_old_version(versions):
    old, new = versions
    rejected = reject_all(document_of(render_tracked(old, new)))
    assert paragraph_texts(rejected) == paragraph_texts(etree.fromstring(document_of(render_clean(old))))


def test_accept_and_reject_restore_formatting(versions):
    old, new = versions
    tracked = document_of(render_tracked(old, new))
    assert formatting_of(accept_all(tracked)) == formatting_of(etree.fromstring(document_of(render_clean(new))))
    assert formatting_of(reject_all(tracked)) == formatting_of(etree.fromstring(document_of(render_clean(old))))


def test_revisions_are_real_word_revisions_by_the_deciding_body(versions):
    old, new = versions
    xml = document_of(render_tracked(old, new)).decode()
    for tag in ("w:ins", "w:del", "w:rPrChange", "w:delText"):
        assert f"<{tag} " in xml or f"<{tag}>" in xml, tag
    authors = set(re.findall(r'<w:(?:ins|del|rPrChange) [^>]*w:author="([^"]*)"', xml))
    dates = set(re.findall(r'<w:(?:ins|del|rPrChange) [^>]*w:date="([^"]*)"', xml))
    assert authors == {AUTHOR} and dates == {"2024-11-04T12:30:00Z"}
    ids = re.findall(r'<w:(?:ins|del|rPrChange) w:id="(\d+)"', xml)
    assert len(ids) == len(set(ids))


def test_each_revision_carries_a_comment_naming_its_comment_references(versions):
    old, new = versions
    parts = read_package(render_tracked(old, new))
    comments = parts["word/comments.xml"].decode()
    for refs in ("K-1", "K-2, K-3", "K-4", "K-5", "K-6", "K-7"):
        assert f"uwag: {refs}<" in comments
    document = parts["word/document.xml"].decode()
    comment_ids = set(re.findall(r'<w:comment w:id="(\d+)"', comments))
    assert comment_ids == set(re.findall(r'<w:commentReference w:id="(\d+)"', document))
    assert b"comments+xml" in parts["[Content_Types].xml"]
    assert b"relationships/comments" in parts["word/_rels/document.xml.rels"]


def test_tracked_build_is_deterministic(versions):
    old, new = versions
    assert render_tracked(old, new) == render_tracked(old, new)
    assert render_clean(new) == render_clean(new)


def test_tracked_document_is_well_formed_and_parses(versions):
    old, new = versions
    tracked = render_tracked(old, new)
    reparsed = parse_docx(tracked)  # the parser reads tracked files as if accepted
    assert [unit.text for unit in reparsed.units if unit.kind != "table"] == \
        [unit.text for unit in new.units if unit.kind != "table"]
