"""Mail servers' real reports of failed deliveries (sisimai's public set, `tests/corpus/mail/bounces/SOURCES.md`):
what each one says failed, for whom, with which status code and about which of our messages, against what
`expected.json` says, written by reading each report. Auto-replies and abuse reports are no failures; a warning
that a server is still trying is `delayed`. Every one of them is mail intake never answers."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from services.intake.mail.bounce import read_delivery_report
from services.intake.mail.importer import import_mail
from services.intake.mail.parse import parse_mail
from services.intake.models import Outbox
from tests.unit.intake_mail.conftest import mail_row

BOUNCES = Path(__file__).resolve().parents[2] / "corpus" / "mail" / "bounces"
EXPECTED: dict[str, dict] = json.loads((BOUNCES / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_report_says_what_failed_for_whom(name: str) -> None:
    expected = EXPECTED[name]
    report = read_delivery_report((BOUNCES / name).read_bytes())
    if expected["kind"] == "not_a_bounce":
        assert report is None
        return
    assert report is not None, name
    assert report.kind == expected["kind"]
    assert report.original_message_id == expected["original_message_id"]
    assert sorted((r.address, r.status) for r in report.recipients) == \
        sorted((r["address"], r["status"]) for r in expected["recipients"])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_intake_never_answers_a_report(name: str) -> None:
    parsed = parse_mail((BOUNCES / name).read_bytes())
    assert parsed.automatic, name
    if EXPECTED[name]["kind"] == "failed":
        assert parsed.delivery_report is not None and parsed.delivery_report.permanent


def test_the_corpus_covers_the_servers_a_city_hall_hears_from() -> None:
    kinds = [entry["kind"] for entry in EXPECTED.values()]
    assert len(EXPECTED) >= 50 and kinds.count("failed") >= 40 and kinds.count("delayed") >= 5
    assert sum(1 for entry in EXPECTED.values() if entry["kind"] == "failed" and not entry["original_message_id"]) >= 5
    for family in ("postfix", "exim", "sendmail", "qmail", "gmail", "office365", "exchange", "yahoo", "rfc3834", "arf"):
        assert any(family in name for name in EXPECTED), family


def failures_announced(ctx) -> list[dict]:
    with ctx.db.transaction() as session:
        return [row.envelope["data"] for row in session.scalars(
            select(Outbox).where(Outbox.event_type == "mail.delivery_failed").order_by(Outbox.id))]


def test_a_failure_is_recorded_with_the_mail_and_announced_once_a_delay_and_an_auto_reply_are_not(fresh_ctx) -> None:
    arrived = datetime(2024, 10, 9, 8, 15, tzinfo=timezone.utc)
    results = {name: import_mail(fresh_ctx, (BOUNCES / name).read_bytes(), received_at=arrived, source=f"cli:{name}")
               for name in ("lhost-qmail-25.eml", "lhost-gmail-06.eml", "rfc3834-01.eml")}
    again = import_mail(fresh_ctx, (BOUNCES / "lhost-qmail-25.eml").read_bytes(), received_at=arrived, source="cli:x")
    assert {result.status for result in results.values()} == {"ignored"} and again.status == "duplicate"
    failed = results["lhost-qmail-25.eml"]
    assert "delivery failed for mailboxfull@libsisimai.net (5.2.2), userunknown@libsisimai.net (5.1.1)" in failed.reason
    assert "delivery delayed for kijitora@example.jp (4.2.2)" in results["lhost-gmail-06.eml"].reason
    [announced] = failures_announced(fresh_ctx)
    assert announced["mail_id"] == mail_row(fresh_ctx, failed.message_id).id
    assert announced["original_message_id"] == "<20240626063258.85881.qmail@email.example.jp>"
    assert announced["received_at"] == arrived.isoformat()
    assert [(r["address"], r["status"]) for r in announced["recipients"]] == [
        ("mailboxfull@libsisimai.net", "5.2.2"), ("userunknown@libsisimai.net", "5.1.1")]
    assert "Mailbox full" in announced["recipients"][0]["diagnostic"]


def test_polish_words_of_a_servers_letter_are_read_too() -> None:
    """Not a corpus mail: the wording of Exchange Online's Polish report ("Nie można dostarczyć wiadomości do tych
    adresatów lub grup"), as a city's own server writes it, and a Polish delay notice, in a plain letter."""
    failed = ("From: Administrator systemu <postmaster@um.example.pl>\nTo: konsultacje@um.example.pl\n"
              "Subject: Niedostarczalne: Potwierdzenie złożenia uwag UW/2024/000123\n"
              "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
              "Nie można dostarczyć wiadomości do tych adresatów lub grup:\n\njan.kowalsky@wp.example\n"
              "Adres e-mail, który został wprowadzony, nie istnieje. 550 5.1.1 User unknown\n\n"
              "Oryginalna wiadomość\nMessage-ID: <abc123@notify.uwagi>\n").encode()
    report = read_delivery_report(failed)
    assert report is not None and report.kind == "failed" and report.original_message_id == "<abc123@notify.uwagi>"
    assert [(r.address, r.status) for r in report.recipients] == [("jan.kowalsky@wp.example", "5.1.1")]
    assert parse_mail(failed).automatic
    delayed = ("From: MAILER-DAEMON@poczta.example.pl\nTo: konsultacje@um.example.pl\nSubject: Opóźnienie\n\n"
               "Wiadomość do anna@example.pl jeszcze nie została dostarczona. Serwer ponowi próbę.\n").encode()
    assert read_delivery_report(delayed).kind == "delayed"
