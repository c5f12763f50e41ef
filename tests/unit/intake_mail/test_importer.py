"""One mail to one submission: refusals with reasons, which consultation, the server's time, the drop folder, the CLI."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
from pathlib import Path
from datetime import timedelta

import pytest
from docx import Document

from services.intake import domain
from services.intake.mail.dropfolder import import_drop_folder
from services.intake.mail.importer import import_mail
from services.intake.worker import import_dropped_mail
from tests.unit.intake_mail.conftest import (CORPUS, mail_row, now, open_consultation, received_events)

FORM = (CORPUS / "form-a-toruń.docx").read_bytes()


def mail_with(attachment: tuple[str, str, bytes] | None = None, *, body: str = "W załączeniu uwagi.",
              message_id: str | None = None, to: str = "konsultacje@um.torun.pl", extra: str = "") -> bytes:
    message_id = message_id or f"{os.urandom(8).hex()}@example.org"
    head = (f"From: Anna Nowak <anna@example.org>\r\nTo: {to}\r\nMessage-ID: <{message_id}>\r\n"
            f"Date: Mon, 1 Jan 2001 00:00:00 +0000\r\nSubject: Uwagi\r\nMIME-Version: 1.0\r\n{extra}")
    if attachment is None:
        return (head + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                + body + "\r\n").encode()
    name, media_type, data = attachment
    return (head + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body + "\r\n--b\r\n"
            f'Content-Type: {media_type}\r\nContent-Disposition: attachment; filename="{name}"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(data).decode() + "--b--\r\n").encode()


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_a_form_becomes_one_comment_per_filled_row_with_a_receipt_to_the_form_address(ctx, consultation):
    result = import_mail(ctx, mail_with(("uwagi.docx", DOCX, FORM)), received_at=now(), source="t",
                         consultation_id=consultation)
    assert (result.status, result.comments) == ("created", 2)
    event = received_events(ctx, result.reference)[0]
    # The receipt (notify, from submission.received) goes to the submitter's address: the form's, else From.
    assert event["submitter"]["email"] == "anna.nowak@example.org"
    assert [c["number"] for c in event["comments"]] == [1, 2]


def test_a_comment_table_sent_as_an_excel_workbook_becomes_comments(ctx, consultation):
    from openpyxl import Workbook

    book = Workbook()
    for row in (["Lp.", "Część dokumentu, do którego odnosi się uwaga", "Zapis w projekcie", "Propozycja zmiany",
                 "Uzasadnienie zmiany"], [1, "§ 3 ust. 1", "Program obejmuje", "Program obejmuje także sport",
                                          "Sport jest ważny"], [2, "§ 7", "", "Skreślić ust. 3.", "Zbędny."]):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    result = import_mail(ctx, mail_with(("uwagi.xlsx", "application/vnd.openxmlformats-officedocument."
                                         "spreadsheetml.sheet", buffer.getvalue())),
                         received_at=now(), source="t", consultation_id=consultation)
    assert (result.status, result.comments) == ("created", 2)
    comments = received_events(ctx, result.reference)[0]["comments"]
    assert [(c["section"], c["proposal"]) for c in comments] == [("§ 3 ust. 1", "Program obejmuje także sport"),
                                                                 ("§ 7", "Skreślić ust. 3.")]
    assert [a["role"] for a in mail_row(ctx, result.message_id).attachments] == ["form"]


@pytest.mark.parametrize("attachment,reason", [
    (("program.exe", "application/octet-stream", b"MZ\x90\x00" + b"\0" * 100), "hostile attachment 'program.exe'"),
    (("faktura.pdf", "application/pdf", b"MZ\x90\x00 a program named pdf"), "hostile attachment 'faktura.pdf'"),
    (("uwagi.docm", DOCX, FORM), "'uwagi.docm'"),
    (("uwagi.docx", DOCX, b"PK\x03\x04broken"), "refused: not_zip"),
])
def test_hostile_attachments_are_refused_with_a_reason_in_the_log(ctx, consultation, caplog, attachment, reason):
    caplog.set_level(logging.WARNING, logger="uwagi.intake.mail")
    result = import_mail(ctx, mail_with(attachment), received_at=now(), source="t", consultation_id=consultation)
    assert result.status == "rejected" and reason in result.reason
    assert reason in caplog.text
    row = mail_row(ctx, result.message_id)
    assert row.status == "rejected" and row.submission_id is None and reason in row.reason


def test_broken_and_oversized_mails_are_refused_and_the_next_mail_still_goes_in(ctx, consultation, caplog):
    caplog.set_level(logging.WARNING, logger="uwagi.intake.mail")
    broken = b"From: a@example.org\r\nMessage-ID: <broken-1@x>\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\n"
    oversized = mail_with(body="x" * (1024 * 1024 + 10))  # this module's limit is 1 MiB
    results = [import_mail(ctx, raw, received_at=now(), source="t", consultation_id=consultation)
               for raw in (broken, oversized, mail_with(("uwagi.docx", DOCX, FORM)))]
    assert [r.status for r in results] == ["rejected", "rejected", "created"]
    assert results[0].reason.startswith("broken_mime") and results[1].reason.startswith("too_large")
    assert mail_row(ctx, "broken-1@x").status == "rejected"
    assert "broken_mime" in caplog.text and "too_large" in caplog.text


def test_auto_replies_are_ignored_and_never_answered(ctx, consultation, caplog):
    caplog.set_level(logging.INFO, logger="uwagi.intake.mail")
    result = import_mail(ctx, mail_with(extra="Auto-Submitted: auto-replied\r\n", body="Jestem na urlopie."),
                         received_at=now(), source="t", consultation_id=consultation)
    assert result.status == "ignored" and result.reference is None
    assert "automatic" in caplog.text
    again = import_mail(ctx, mail_with(extra="Auto-Submitted: auto-replied\r\n", message_id=result.message_id),
                        received_at=now(), source="t", consultation_id=consultation)
    assert again.status == "duplicate"


def test_comments_only_in_the_body_need_review_and_keep_the_words(ctx, consultation):
    result = import_mail(ctx, mail_with(body="Proszę dopisać w § 5 sport.\r\n\r\nPozdrawiam\r\nAnna"),
                         received_at=now(), source="t", consultation_id=consultation)
    assert (result.status, result.comments) == ("needs_review", 0)
    event = received_events(ctx, result.reference)[0]
    assert event["needs_review"] is True and event["comments"][0]["proposal"] == "Proszę dopisać w § 5 sport."


def test_a_scan_without_a_form_needs_review_and_is_kept(ctx, consultation):
    result = import_mail(ctx, mail_with(("skan.pdf", "application/pdf", b"%PDF-1.4 scan"), body=""),
                         received_at=now(), source="t", consultation_id=consultation)
    assert result.status == "needs_review"
    row = mail_row(ctx, result.message_id)
    assert row.attachments[0]["role"] == "scan" and ctx.store.get(row.attachments[0]["key"]) == b"%PDF-1.4 scan"
    assert "skan.pdf" in received_events(ctx, result.reference)[0]["comments"][0]["proposal"]


def test_an_empty_mail_is_refused(ctx, consultation):
    result = import_mail(ctx, mail_with(body=""), received_at=now(), source="t", consultation_id=consultation)
    assert result.status == "rejected" and "no text" in result.reason


def test_the_deadline_counts_from_the_servers_time_not_the_date_header(ctx):
    closes = now() + timedelta(days=1)
    consultation = open_consultation(ctx, closes_at=closes, late_policy=domain.LatePolicy.FLAG)
    on_time = import_mail(ctx, mail_with(("u.docx", DOCX, FORM), extra="X-Note: Date says 2001\r\n"),
                          received_at=closes - timedelta(minutes=1), source="t", consultation_id=consultation)
    late = import_mail(ctx, mail_with(("u.docx", DOCX, FORM)), received_at=closes + timedelta(minutes=1),
                       source="t", consultation_id=consultation)
    assert received_events(ctx, on_time.reference)[0]["late"] is False
    assert received_events(ctx, late.reference)[0]["late"] is True


def test_a_consultation_that_refuses_late_comments_or_email_rejects_the_mail(ctx):
    refusing = open_consultation(ctx, closes_at=now() + timedelta(hours=1), late_policy=domain.LatePolicy.REFUSE)
    late = import_mail(ctx, mail_with(("u.docx", DOCX, FORM)), received_at=now() + timedelta(hours=2), source="t",
                       consultation_id=refusing)
    web_only = open_consultation(ctx, channels=("web",))
    no_email = import_mail(ctx, mail_with(("u.docx", DOCX, FORM)), received_at=now(), source="t",
                           consultation_id=web_only)
    assert (late.status, no_email.status) == ("rejected", "rejected")
    assert "deadline" in late.reason and "email" in no_email.reason


def test_the_consultation_is_the_one_whose_address_the_mail_was_sent_to(fresh_ctx):
    first = open_consultation(fresh_ctx, contact_email="konsultacje@um.torun.pl")
    open_consultation(fresh_ctx, contact_email="inne@um.torun.pl")
    to_first = import_mail(fresh_ctx, mail_with(("u.docx", DOCX, FORM), to="Konsultacje <KONSULTACJE@um.torun.pl>"),
                           received_at=now(), source="t")
    nowhere = import_mail(fresh_ctx, mail_with(("u.docx", DOCX, FORM), to="ktos@example.org"), received_at=now(),
                          source="t")
    assert to_first.status == "created" and received_events(fresh_ctx, to_first.reference)[0]["consultation_id"] == first
    assert nowhere.status == "rejected" and "no open consultation" in nowhere.reason


def test_a_single_open_consultation_takes_mail_sent_to_any_address(fresh_ctx):
    only = open_consultation(fresh_ctx)
    result = import_mail(fresh_ctx, mail_with(("u.docx", DOCX, FORM), to="stary-adres@um.torun.pl"),
                         received_at=now(), source="t")
    assert result.status == "created" and received_events(fresh_ctx, result.reference)[0]["consultation_id"] == only


def test_the_drop_folder_imports_each_file_at_its_mtime_and_files_it_away(fresh_ctx, tmp_path):
    consultation = open_consultation(fresh_ctx)
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "a.eml").write_bytes(mail_with(("u.docx", DOCX, FORM)))
    (folder / "b.eml").write_bytes(b"From: a@example.org\r\nMessage-ID: <b@x>\r\nContent-Type: multipart/mixed\r\n\r\n")
    (folder / "notes.txt").write_text("not a mail")
    (folder / "._a.eml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")  # macOS's AppleDouble
    (folder / ".tmp-copying.eml").write_bytes(b"From: half@example.org\r\n")  # a tool still writing it
    arrived = (now() - timedelta(minutes=5)).replace(microsecond=0)
    os.utime(folder / "a.eml", (arrived.timestamp(), arrived.timestamp()))
    results = {path.name: result for path, result in import_drop_folder(fresh_ctx, folder)}
    assert {name: r.status for name, r in results.items()} == {"a.eml": "created", "b.eml": "rejected"}
    assert (folder / "done" / "a.eml").exists() and (folder / "rejected" / "b.eml").exists()
    assert (folder / "notes.txt").exists() and not (folder / "a.eml").exists()
    assert (folder / "._a.eml").exists() and (folder / ".tmp-copying.eml").exists()  # hidden files are left alone
    event = received_events(fresh_ctx, results["a.eml"].reference)[0]
    assert event["received_at"] == arrived and event["consultation_id"] == consultation


def test_the_worker_sweep_reads_the_inbox_of_the_data_dir_in_make_run(fresh_ctx):
    open_consultation(fresh_ctx)
    inbox = fresh_ctx.settings.data_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "resident.eml").write_bytes((CORPUS / "thunderbird-html-only-odt.eml").read_bytes())
    import_dropped_mail(fresh_ctx)
    assert (inbox / "done" / "resident.eml").exists()
    assert mail_row(fresh_ctx, "1f17fe7f-9587-8dfd-f698-646f536fbf85@example.org").status == "created"


def test_the_cli_prints_one_json_line_per_file(fresh_ctx, tmp_path, monkeypatch, capsys):
    from services.cli import main

    consultation = open_consultation(fresh_ctx)
    files = []
    for name in ("gmail-reply-iso-8859-2-form.eml", "dsn-failure.eml", "gmail-reply-iso-8859-2-form.eml",
                 "ios-outlook-body-only.eml"):
        target = tmp_path / f"{len(files)}-{name}"
        target.write_bytes((CORPUS / name).read_bytes())
        files.append(str(target))
    broken = tmp_path / "broken.eml"
    broken.write_bytes(b"\r\n\r\n")
    files.append(str(broken))
    monkeypatch.setenv("UWAGI_DATA_DIR", str(fresh_ctx.settings.data_dir))
    assert main(["intake", "import-eml", *files, "--consultation", consultation]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["file"], line["status"]) for line in lines] == [
        (files[0], "created"), (files[1], "ignored"), (files[2], "duplicate"), (files[3], "needs_review"),
        (files[4], "rejected")]
    assert set(lines[0]) >= {"file", "message_id", "status", "reference", "comments"}
    assert lines[0]["reference"].startswith("UW/") and lines[0]["comments"] == 1
    assert lines[2]["message_id"] == lines[0]["message_id"] and lines[2]["reference"] is None


def test_mail_from_our_own_addresses_is_never_answered(ctx, consultation):
    own = mail_with(body="Potwierdzamy otrzymanie uwag.").replace(b"From: Anna Nowak <anna@example.org>",
                                                                  b"From: Konsultacje <konsultacje@example.org>")
    result = import_mail(ctx, own, received_at=now(), source="t", consultation_id=consultation)
    assert result.status == "ignored" and "own address" in result.reason


@pytest.mark.parametrize("attachment,note", [
    (("winmail.dat", "application/ms-tnef", b"\x78\x9f\x3e\x22\x01\x00 rich text"), "'winmail.dat' is Outlook's TNEF"),
    (("uwagi.doc", "application/msword", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64),
     "'uwagi.doc' is a Word 97-2003 document"),
    (("uwagi", "application/octet-stream", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64),
     "'uwagi' is a Word 97-2003 document"),
    (("RE Uwagi.msg", "application/vnd.ms-outlook", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64),
     "'RE Uwagi.msg' is an Outlook item"),
    (("uwagi.xls", "application/vnd.ms-excel", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64),
     "'uwagi.xls' is an Excel 97-2003 workbook"),
    # no name to go by: the compound file's directory names its "Workbook" stream (as UTF-16), as an .xls has it
    (("tabela", "application/octet-stream",
      b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64 + "Workbook".encode("utf-16-le") + b"\0" * 16),
     "'tabela' is an Excel 97-2003 workbook"),
])
def test_a_form_in_a_format_not_read_waits_for_staff_with_the_file_kept_and_a_note_why(ctx, consultation, attachment,
                                                                                         note):
    result = import_mail(ctx, mail_with(attachment), received_at=now(), source="t", consultation_id=consultation)
    assert (result.status, result.comments) == ("needs_review", 0)
    row = mail_row(ctx, result.message_id)
    assert note in row.reason
    assert [(a["filename"], a["role"]) for a in row.attachments] == [(attachment[0], "other")]
    assert row.attachments[0]["unread"] == ("tnef" if "TNEF" in note else "outlook_msg" if "Outlook item" in note
                                            else "excel97" if "Excel" in note else "word97")
    assert ctx.store.get(row.attachments[0]["key"]) == attachment[2]


def test_a_docx_labelled_msword_without_a_comment_table_is_not_called_a_word_97_file(ctx, consultation):
    buffer = io.BytesIO()
    Document().save(buffer)
    result = import_mail(ctx, mail_with(("list.docx", "application/msword", buffer.getvalue())), received_at=now(),
                         source="t", consultation_id=consultation)
    row = mail_row(ctx, result.message_id)
    assert result.status == "needs_review" and row.reason == "" and "unread" not in row.attachments[0]


def test_a_pdf_scan_needs_review_without_a_note_about_formats(ctx, consultation):
    result = import_mail(ctx, mail_with(("skan.pdf", "application/pdf", b"%PDF-1.4 scan")), received_at=now(),
                         source="t", consultation_id=consultation)
    row = mail_row(ctx, result.message_id)
    assert result.status == "needs_review" and row.reason == "" and "unread" not in row.attachments[0]


def test_the_same_form_attached_twice_gives_its_comments_once_and_both_files_are_listed(ctx, consultation):
    once = mail_with(("uwagi.docx", DOCX, FORM))
    part = once[once.index(b"--b\r\nContent-Type: " + DOCX.encode()):once.index(b"--b--")]
    twice = once.replace(b"--b--", part.replace(b"uwagi.docx", b"uwagi (kopia).docx") + b"--b--")
    result = import_mail(ctx, twice, received_at=now(), source="t", consultation_id=consultation)
    assert (result.status, result.comments) == ("created", 2)
    row = mail_row(ctx, result.message_id)
    assert [(a["filename"], a["role"]) for a in row.attachments] == [("uwagi.docx", "form"), ("uwagi (kopia).docx", "form")]


def test_the_form_and_the_pdf_made_of_it_attached_together_give_the_comments_once(ctx, consultation):
    """People attach the DOCX and "the same as PDF, in case": one set of comments, both files kept as the form."""
    pdf = (CORPUS / "form-a-toruń.pdf").read_bytes()
    once = mail_with(("uwagi.docx", DOCX, FORM))
    part = mail_with(("uwagi.pdf", "application/pdf", pdf))
    pdf_part = part[part.index(b"--b\r\nContent-Type: application/pdf"):part.index(b"--b--")]
    both = once.replace(b"--b--", pdf_part + b"--b--")
    result = import_mail(ctx, both, received_at=now(), source="t", consultation_id=consultation)
    assert (result.status, result.comments) == ("created", 2)
    assert [c["section"] for c in received_events(ctx, result.reference)[0]["comments"]] == [
        "§ 5 ust. 2", "Rozdział 4 pkt 3"]
    row = mail_row(ctx, result.message_id)
    assert [(a["filename"], a["role"]) for a in row.attachments] == [("uwagi.docx", "form"), ("uwagi.pdf", "form")]


def test_an_empty_form_with_the_comments_written_under_its_table_is_read_as_a_letter(ctx, consultation):
    """The table left empty and the remarks typed below it: the mail waits for staff, who see the document's text."""
    from services.intake.mail.staff import letter_texts

    form = Document(io.BytesIO(FORM))
    for row in form.tables[0].rows[3:]:
        for cell in row.cells[1:]:
            cell.text = ""
    form.add_paragraph("Uwaga do § 7: konkursy na zadania od stycznia należy ogłaszać do końca listopada.")
    out = io.BytesIO()
    form.save(out)
    result = import_mail(ctx, mail_with(("uwagi.docx", DOCX, out.getvalue())), received_at=now(), source="t",
                         consultation_id=consultation)
    assert result.status == "needs_review"
    row = mail_row(ctx, result.message_id)
    assert [a["role"] for a in row.attachments] == ["letter"]
    (letter,) = letter_texts(ctx, row)
    assert "Uwaga do § 7: konkursy na zadania od stycznia należy ogłaszać do końca listopada." in letter.text


def test_a_pdf_letter_with_characters_beyond_the_basic_plane_is_kept_as_text(ctx, consultation):
    """Word's PDF of Tika's testWORD_various (pdf/SOURCES.md) has a line in Gothic letters, which pypdf gives as
    lone UTF-16 halves: storing the letter's text as UTF-8 raised UnicodeEncodeError and the import crashed."""
    from services.intake.mail.staff import letter_texts

    various = (CORPUS / "pdf" / "testPDFVarious.pdf").read_bytes()
    result = import_mail(ctx, mail_with(("pismo.pdf", "application/pdf", various)), received_at=now(), source="t",
                         consultation_id=consultation)
    assert result.status == "needs_review"
    (letter,) = letter_texts(ctx, mail_row(ctx, result.message_id))
    assert "And then some Gothic text:" in letter.text and "\ufffd" in letter.text
    assert not any(0xD800 <= ord(char) <= 0xDFFF for char in letter.text)


def test_only_the_first_pdfs_of_a_mail_are_read_as_forms(ctx, consultation, monkeypatch):
    """Each PDF costs a child process: past MAX_PDF_FORMS the mail's PDFs are files for staff, not forms."""
    import services.intake.mail.importer as importer

    read: list[str] = []
    real = importer.read_form
    monkeypatch.setattr(importer, "read_form", lambda name, kind, data: read.append(name) or real(name, kind, data))
    pdf = (CORPUS / "form-a-toruń.pdf").read_bytes()
    mail = mail_with(("uwagi-0.pdf", "application/pdf", pdf))
    part = mail[mail.index(b"--b\r\nContent-Type: application/pdf"):mail.index(b"--b--")]
    # the same form seven times, each copy a file of its own (a byte added after %%EOF, as an editor may)
    copies = b"".join(part.replace(b"uwagi-0.pdf", f"uwagi-{n}.pdf".encode()).replace(
        base64.encodebytes(pdf), base64.encodebytes(pdf + b"\n" * n)) for n in range(1, 7))
    result = import_mail(ctx, mail.replace(b"--b--", copies + b"--b--"), received_at=now(), source="t",
                         consultation_id=consultation)
    assert read == [f"uwagi-{n}.pdf" for n in range(importer.MAX_PDF_FORMS)]
    assert (result.status, result.comments) == ("created", 2)  # the copies read say the same: once
    roles = [a["role"] for a in mail_row(ctx, result.message_id).attachments]
    assert roles == ["form"] * importer.MAX_PDF_FORMS + ["scan"] * 2  # kept, as any PDF staff may open


def test_a_mail_to_an_address_in_raw_utf8_that_no_consultation_takes_is_rejected_with_its_address(fresh_ctx):
    """SpamScope's mail_test_12 (corpus/mail/libraries): the reason names the address it was sent to, which held
    the parser's surrogates, and storing it raised UnicodeEncodeError out of import_mail (the mail retried on
    every poll, a drop folder's import aborted)."""
    raw = (CORPUS / "libraries" / "spamscope-mail_test_12.eml").read_bytes()
    result = import_mail(fresh_ctx, raw, received_at=now(), source="test:utf8-address")
    assert result.status == "rejected" and "danglüe@email.com" in result.reason
    assert "danglüe@email.com" in mail_row(fresh_ctx, result.message_id).reason


@pytest.mark.parametrize("name", ["smime-4-encrypted-plain.eml", "gnupg-7-encrypted-MIME-plain.eml",
                                  "gnupg-10-encrypted-inline-plain.eml"])
def test_an_encrypted_mail_waits_for_staff_with_a_note_that_says_so(ctx, consultation, name):
    """Request Tracker's encrypted test mails (corpus/mail/rt): S/MIME, PGP/MIME and inline OpenPGP. Staff were
    left with an unnamed placeholder (or the inline block's base64 as the comment) and no word why."""
    raw = (Path(__file__).resolve().parents[2] / "corpus" / "mail" / "rt" / name).read_bytes()
    raw = raw.replace(b"\nTo: ", b"\nX-Original-To: ", 1)  # the consultation's own address, as the mailbox gets it
    result = import_mail(ctx, b"To: konsultacje@um.torun.pl\n" + raw, received_at=now(), source="t",
                         consultation_id=consultation)
    assert (result.status, result.comments) == ("needs_review", 0)
    row = mail_row(ctx, result.message_id)
    assert "S/MIME or OpenPGP envelope" in row.reason and "without encryption" in row.reason
    assert "encrypted" in {a.get("unread") for a in row.attachments}
