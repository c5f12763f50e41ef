"""Refused e-mails are listed for staff with what the refusal means and the sender to write back to: intake never
answers a refused mail itself (that would answer the senders of viruses and spam too)."""

from __future__ import annotations

from html import unescape

import pytest

from services.intake.mail.importer import import_mail
from services.intake.mail.staff import refusal_kind
from tests.unit.intake_mail.conftest import now, open_consultation
from tests.unit.intake_mail.test_importer import DOCX, FORM, mail_with
from tests.unit.intake_mail.test_transcription import reviewer_client


@pytest.mark.parametrize("reason,kind", [
    ("hostile attachment 'program.exe' (application/octet-stream)", "hostile"),
    ("attachment 'uwagi.docx' refused: not_zip (the file is not a ZIP package)", "unreadable_attachment"),
    ("no open consultation takes comments at the addresses konsultacje@um.torun.pl", "no_consultation"),
    ("refused by the consultation: the deadline has passed", "refused_by_consultation"),
    ("the mail has no text, no form and no attachment", "empty"),
    ("too_large: the mail has 30000000 bytes, more than the limit of 26214400", "too_large"),
    ("broken_mime: the mail has no headers", "broken"), ("too_many_parts: 300", "broken"),
    ("no_sender: no From", "no_sender"), ("something new", "other"),
])
def test_each_recorded_reason_has_a_kind(reason: str, kind: str) -> None:
    assert refusal_kind(reason) == kind


def test_the_mails_page_lists_refused_mails_with_their_sender_and_reason(fresh_ctx) -> None:
    consultation = open_consultation(fresh_ctx)
    hostile = import_mail(fresh_ctx, mail_with(("uwagi.docm", DOCX, FORM)), received_at=now(), source="t",
                          consultation_id=consultation)
    broken = (b"From: Jan Nowak <jan@example.org>\r\nMessage-ID: <broken-2@x>\r\nSubject: Uwagi\r\n"
              b"Content-Type: multipart/mixed\r\n\r\n--x\r\n")
    damaged = import_mail(fresh_ctx, broken, received_at=now(), source="t")
    assert (hostile.status, damaged.status) == ("rejected", "rejected")
    page = unescape(reviewer_client(fresh_ctx).get(f"/intake/staff/mails?consultation={consultation}")
                    .get_data(as_text=True))
    assert "<h2 id=\"refused-heading\">E-maile odrzucone</h2>" in page
    assert "nadawcy nie dostali odpowiedzi" in page
    assert "Anna Nowak <anna@example.org>" in page and "Jan Nowak <jan@example.org>" in page
    assert "załącznik, którego system nie otwiera (program albo dokument z makrami)" in page
    assert "uszkodzony: nie da się rozdzielić jego części" in page
