"""The form's table pasted into the mail's HTML: read as a form's table is, only from the sender's own words."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from services.intake.mail.importer import CREATED, IN_TEXT_NOTE, NEEDS_REVIEW, import_mail
from services.intake.mail.parse import html_tables, parse_mail
from tests.unit.intake_mail.conftest import CORPUS, mail_row, now

FORM_TABLE = ("<table><tr><td>Lp.</td><td>Część dokumentu</td><td>Proponowany zapis</td><td>Uzasadnienie</td></tr>"
              "<tr><td>1.</td><td>§ 9</td><td>Dodać sprawozdanie z konsultacji.</td><td>Jawność.</td></tr></table>")


def test_spanned_cells_line_up_with_their_columns():
    grid = html_tables("<table><tr><td rowspan=3>A</td><td colspan=2>B</td><td>C</td></tr>"
                       "<tr><td>b1</td><td rowspan=2>b2</td><td>c</td></tr><tr><td>x</td><td>y</td></tr></table>")[0]
    assert grid == [["A", "B", "", "C"], ["", "b1", "b2", "c"], ["", "x", "", "y"]]


def test_word_paragraphs_in_a_cell_are_its_lines():
    grid = html_tables("<table><tr><td><p class=MsoNormal>jeden<o:p></o:p></p><p class=MsoNormal>dwa&nbsp;i "
                       "<b>trzy</b><br>cztery</p></td></tr></table>")[0]
    assert grid == [["jeden\ndwa i trzy\ncztery"]]


def test_a_layout_table_around_the_form_is_not_read_but_the_form_is():
    tables = html_tables(f"<table><tr><td>{FORM_TABLE}</td></tr></table>")
    assert len(tables) == 1 and tables[0][1][2] == "Dodać sprawozdanie z konsultacji."


def test_the_tables_of_a_replys_history_are_the_citys_not_the_senders_but_a_forwards_are_read():
    markup = f"<div>Moje uwagi poniżej.</div><div class=gmail_quote>{FORM_TABLE}</div>"
    assert html_tables(markup) == []
    assert len(html_tables(markup, forward=True)) == 1


def test_spans_and_rows_are_bounded():
    grid = html_tables("<table>" + "<tr><td colspan=100000>x</td></tr>" * 2000 + "</table>")[0]
    assert len(grid) == 500 and all(len(row) == 50 for row in grid)


def _mail(html: str, subject: str = "Uwagi") -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Ewa <ewa@example.org>", "konsultacje@um.torun.pl", subject
    message["Message-ID"] = f"<{now().timestamp()}-{subject}@example.org>"
    message.set_content("Uwagi w tabeli.")
    message.add_alternative(html, subtype="html")
    return message.as_bytes()


def test_the_corpus_mail_with_the_form_pasted_is_created_and_says_where_its_comments_came_from(ctx, consultation):
    raw = (CORPUS / "outlook-form-table-pasted-in-text.eml").read_bytes()
    result = import_mail(ctx, raw, received_at=now(), source="t", consultation_id=consultation)
    assert (result.status, result.comments) == (CREATED, 2)
    assert mail_row(ctx, result.message_id).reason == IN_TEXT_NOTE


@pytest.mark.parametrize("html", [
    "<table><tr><td>Godziny dyżuru</td><td>9-17</td></tr></table>",  # a table, not of comments
    "<table><tr><td>Część dokumentu</td><td>Proponowany zapis</td></tr></table>",  # the header, nothing filled
], ids=["other-table", "empty-form"])
def test_a_table_that_is_not_a_filled_form_leaves_the_mail_to_staff(ctx, consultation, html):
    result = import_mail(ctx, _mail(html, subject=html[:20]), received_at=now(), source="t",
                         consultation_id=consultation)
    assert result.status == NEEDS_REVIEW


def test_a_form_attached_wins_over_a_table_in_the_text(ctx, consultation):
    from email import message_from_bytes, policy

    from services.intake.mail.form import read_form

    docx = (CORPUS / "form-a-toruń.docx").read_bytes()
    message = message_from_bytes(_mail(FORM_TABLE, subject="z formularzem"), policy=policy.default)
    message.add_attachment(docx, maintype="application", subtype="vnd.openxmlformats-officedocument."
                           "wordprocessingml.document", filename="formularz.docx")
    result = import_mail(ctx, message.as_bytes(), received_at=now(), source="t", consultation_id=consultation)
    assert result.status == CREATED and result.comments == len(read_form("formularz.docx", "", docx).rows) == 2
    assert mail_row(ctx, result.message_id).reason == ""


def test_superscript_digits_in_a_span_or_a_cell_are_text_not_numbers():
    """"²" and "³" are digits to str.isdigit() but int() refuses them: a colspan of "²" is no span, and a row of
    "¹ ² ³" is not the column-number row (a fuzzed RTF form found the second)."""
    from services.intake.mail.form import rows_from_grid

    assert html_tables('<table><tr><td colspan="²">a</td><td>b</td></tr></table>') == [[["a", "b"]]]
    rows = rows_from_grid([["Część dokumentu", "Propozycja zmiany"], ["¹", "³33"], ["§ 1", "Nowy zapis"]])
    assert [(r.section, r.proposal) for r in rows] == [("¹", "³33"), ("§ 1", "Nowy zapis")]
