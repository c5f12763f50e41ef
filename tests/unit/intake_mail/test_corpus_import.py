"""The real mail shapes of tests/corpus/mail become what expected.json (written by reading them) says."""

from __future__ import annotations

import hashlib

import pytest

from services.intake.mail import staff
from services.intake.mail.importer import import_mail
from services.intake.mail.suggest import suggested_rows
from tests.support.infra import require_tesseract
from tests.unit.intake_mail.conftest import CORPUS, close, expected, mail_row, now, received_events

CASES = expected()


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_corpus_mail_becomes_what_a_reader_expects(ctx, consultation, name):
    want = CASES[name]
    if any(role == "scan" for _name, role in want.get("attachments", [])) and (
            {"letter_contains", "suggested", "ocr_form"} & set(want)):
        require_tesseract()  # what is expected of the scan is what OCR reads in it
    raw = (CORPUS / name).read_bytes()
    arrived = now()
    result = import_mail(ctx, raw, received_at=arrived, source=f"test:{name}", consultation_id=consultation)
    assert result.status == want["status"], result.reason
    row = mail_row(ctx, result.message_id)
    assert row is not None and row.status == want["status"]
    if want["status"] == "ignored":
        assert result.reference is None and row.submission_id is None and row.reason.startswith("automatic")
        return
    if want["status"] == "rejected":  # refused with its reason kept, nothing made, the mail not answered
        assert result.reference is None and row.submission_id is None and row.reason.startswith(want["reason_starts"])
        return
    assert result.comments == want["comments"]
    assert row.received_at == arrived  # the server's time, never the Date: header (these say 2000, 2017, 2024)
    events = received_events(ctx, result.reference)
    assert len(events) == 1
    event = events[0]
    assert event["channel"] == "email" and event["received_at"] == arrived
    assert {k: event["submitter"][k] for k in ("name", "organization", "email")} == want["submitter"]
    assert event.get("needs_review", False) is (want["status"] == "needs_review")
    comments = event["comments"]
    if want["status"] == "created":
        assert [c["section"] for c in comments] == want["sections"]
        assert [c["current_text"] for c in comments] == want["current_texts"]
        assert all(c["proposal"].startswith(p) for c, p in zip(comments, want["proposal_starts"], strict=True))
        assert [c["justification"] for c in comments] == want["justifications"]
    else:
        assert len(comments) == 1  # the placeholder staff transcribe from
    if "subject" in want:
        assert row.subject == want["subject"]
    for text in want.get("body_contains", []):
        assert text in row.body_text
    for text in want.get("body_lacks", []):
        assert text not in row.body_text
    for text in want.get("reason_contains", []):  # what staff are told about a file no form was read from
        assert text in row.reason
    assert [(a["filename"], a["role"]) for a in row.attachments] == [tuple(a) for a in want["attachments"]]
    letters = staff.letter_texts(ctx, row)  # what the transcription page shows beside the form
    for text in want.get("letter_contains", []):
        assert any(text in letter.text for letter in letters), text
    if "suggested" in want:  # the rows the transcription page starts from: the mail's text, then its letters
        rows = suggested_rows(staff.text_to_transcribe(row, letters))
        assert [[r.section, r.current_text, r.proposal, r.justification] for r in rows] == \
            want["suggested"]
    if "ocr_form" in want:  # a printed form's scan: its rows as OCR read them, for staff to check (close, not exact)
        scanned, form = staff.scanned_form(row), want["ocr_form"]
        assert scanned is not None and [r.section for r in scanned.rows] == form["sections"]
        assert scanned.organization == form["organization"]
        for read, expected_rows in ((lambda r: r.current_text, form["current_texts"]),
                                    (lambda r: r.justification, form["justifications"])):
            for row_read, text in zip(scanned.rows, expected_rows, strict=True):
                assert close(read(row_read), text), (read(row_read), text)
        for row_read, start in zip(scanned.rows, form["proposal_starts"], strict=True):
            assert close(row_read.proposal[:len(start)], start), (row_read.proposal, start)
    stored = ctx.store.get(row.eml_key)
    assert stored == raw and row.eml_sha256 == hashlib.sha256(raw).hexdigest()
    for attachment in row.attachments:
        assert hashlib.sha256(ctx.store.get(attachment["key"])).hexdigest() == attachment["sha256"]


def test_a_mail_seen_before_is_a_duplicate_and_makes_nothing(ctx, consultation):
    raw = (CORPUS / "gmail-reply-iso-8859-2-form.eml").read_bytes().replace(
        b"CAJ8n3Vq+5d0xR2cQk7bH0sZyP0n4u6Lwq2m", b"duplicate-test-gmail")
    first = import_mail(ctx, raw, received_at=now(), source="test", consultation_id=consultation)
    second = import_mail(ctx, raw, received_at=now(), source="test", consultation_id=consultation)
    assert (first.status, second.status) == ("created", "duplicate")
    assert second.reference is None
    assert len(received_events(ctx, first.reference)) == 1
