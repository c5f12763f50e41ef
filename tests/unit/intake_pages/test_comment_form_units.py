"""The comment form's list of the draft's parts, grouped as residents look them up."""

from __future__ import annotations

from services.intake.comment_form import FormUnit, units_by_chapter


def test_parts_are_grouped_by_chapter_and_the_annex_and_the_reasons_start_groups_of_their_own():
    units = (FormUnit("Tytuł, akapit 1", "block"), FormUnit("§ 1", "paragraph"), FormUnit("§ 2", "paragraph"),
             FormUnit("Załącznik", "annex"), FormUnit("Załącznik akapit 1", "block"),
             FormUnit("Załącznik Rozdział 1", "chapter", "Postanowienia ogólne"), FormUnit("Załącznik § 1", "paragraph"),
             FormUnit("Załącznik § 1 pkt 1", "point"),
             FormUnit("Uzasadnienie", "reasons"), FormUnit("Uzasadnienie akapit 1", "block"))
    assert units_by_chapter(units) == [
        ("", ["§ 1", "§ 2"]),
        ("", ["Załącznik"]),
        ("Załącznik Rozdział 1. Postanowienia ogólne", ["Załącznik § 1", "Załącznik § 1 pkt 1"]),
        ("", ["Uzasadnienie"]),
    ]


def test_a_title_with_its_own_quotation_marks_is_quoted_with_the_nested_kind():
    import io

    from docx import Document

    from services.intake.comment_form import CommentFormSpec, build_comment_form

    form = Document(io.BytesIO(build_comment_form(CommentFormSpec(
        title="Konsultacje „Programu współpracy”",
        document_title="Projekt uchwały w sprawie przyjęcia „Programu współpracy na 2027 r.”"))))
    text = "\n".join(paragraph.text for paragraph in form.paragraphs)
    assert "w ramach konsultacji „Konsultacje «Programu współpracy»”" in text
    assert "do projektu „Projekt uchwały w sprawie przyjęcia «Programu współpracy na" in text
    assert "””" not in text
