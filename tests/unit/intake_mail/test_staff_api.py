"""Staff read the mails intake looked at, and download the kept mail and attachments to transcribe from."""

from __future__ import annotations

import hashlib

import pytest

from services.intake import app as intake_app
from services.intake.mail.importer import import_mail
from tests.unit.intake_console.support import staff
from tests.unit.intake_mail.conftest import CORPUS, now, open_consultation


@pytest.fixture
def client(fresh_ctx):
    return intake_app.create_app(ctx=fresh_ctx).test_client()


def test_staff_list_what_needs_transcribing_and_download_the_scan(fresh_ctx, client):
    consultation = open_consultation(fresh_ctx)
    scan = import_mail(fresh_ctx, (CORPUS / "netscape-rfc2047-scan.eml").read_bytes(), received_at=now(),
                       source="t", consultation_id=consultation)
    import_mail(fresh_ctx, (CORPUS / "dsn-failure.eml").read_bytes(), received_at=now(), source="t",
                consultation_id=consultation)
    answer = client.get(f"/intake/api/v1/staff/mails?status=needs_review&consultation={consultation}",
                        headers=staff(fresh_ctx, "reviewer"))
    assert answer.status_code == 200
    [mail] = answer.get_json()
    assert (mail["reference"], mail["sender"], mail["status"]) == (scan.reference,
                                                                    "Jerzy Kowalczyk <j.kowalczyk@example.com>",
                                                                    "needs_review")
    assert mail["body_text"] == "W załączeniu skan podpisanego formularza z uwagami."
    [attachment] = mail["attachments"]
    assert (attachment["filename"], attachment["role"]) == ("skan uwag Toruń.pdf", "scan")
    pdf = client.get(f"/intake/api/v1/staff/mails/{mail['id']}/attachments/{attachment['sha256']}",
                     headers=staff(fresh_ctx, "reviewer"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == attachment["sha256"]
    assert "skan%20uwag%20Toru%C5%84.pdf" in pdf.headers["Content-Disposition"]
    eml = client.get(f"/intake/api/v1/staff/mails/{mail['id']}/eml", headers=staff(fresh_ctx, "reviewer"))
    assert eml.data == (CORPUS / "netscape-rfc2047-scan.eml").read_bytes()
    ignored = client.get("/intake/api/v1/staff/mails?status=ignored", headers=staff(fresh_ctx, "reviewer")).get_json()
    assert [m["status"] for m in ignored] == ["ignored"]


def test_mails_are_staff_only_and_unknown_files_are_404(fresh_ctx, client):
    assert client.get("/intake/api/v1/staff/mails").status_code == 401
    assert client.get("/intake/api/v1/staff/mails?status=lost", headers=staff(fresh_ctx, "reviewer")).status_code == 422
    assert client.get("/intake/api/v1/staff/mails/nope/eml", headers=staff(fresh_ctx, "reviewer")).status_code == 404
    assert client.get("/intake/api/v1/staff/mails/nope/attachments/" + "0" * 64,
                      headers=staff(fresh_ctx, "reviewer")).status_code == 404
