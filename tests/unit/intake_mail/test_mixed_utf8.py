"""A part declared UTF-8 with some bytes that are not keeps its UTF-8 letters: only the stretches that are not
UTF-8 are read in the Polish 8-bit charset they look like (they made the whole part windows-1250 before)."""

from __future__ import annotations

from services.intake.mail.parse import mixed_utf8, parse_mail
from tests.unit.intake_mail.conftest import CORPUS


def test_a_real_forwarded_mail_whose_utf8_breaks_in_its_signature_keeps_its_text():
    body = parse_mail((CORPUS / "flanker" / "enclosed-broken-body.eml").read_bytes()).body_text
    assert "dudes... you're kicking ass.\nчтобы я без вас делал, дорогие мои!!!" in body
    assert "Ń‡Ń‚" not in body


def test_a_utf8_comment_with_a_signature_pasted_in_windows_1250_keeps_its_polish_letters():
    text = "Proszę o zmianę zapisu w § 5: ulica Łąkowa ma być drogą pieszą.\r\n".encode("utf-8")
    signature = "Jan Kowalski, ul. Źródlana 3, Toruń\r\nŻyczę miłego dnia\r\n".encode("windows-1250")
    raw = (b"From: Jan <jan@example.pl>\r\nTo: konsultacje@um.torun.pl\r\nSubject: Uwagi\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text + signature)
    body = parse_mail(raw).body_text
    assert body.startswith("Proszę o zmianę zapisu w § 5: ulica Łąkowa ma być drogą pieszą.")
    assert "Źródlana 3, Toruń" in body and "Życzę miłego dnia" in body


def test_the_stretches_between_well_formed_runs_are_read_in_one_polish_charset():
    data = "zażółć ".encode("utf-8") + "gęślą".encode("iso-8859-2") + " jaźń".encode("utf-8")
    assert mixed_utf8(data) == "zażółć gęślą jaźń"
    assert mixed_utf8(b"") == "" and mixed_utf8("ąę".encode("utf-8")) == "ąę"
