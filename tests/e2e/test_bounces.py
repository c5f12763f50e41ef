"""A receipt that bounces reaches the clerk: the real services as processes on PostgreSQL and RabbitMQ, the receipt
at a real SMTP server, and the mail server's report of its failure (a real Postfix report from the public corpus,
addressed to the receipt's Message-ID) imported into intake's mailbox. Notify marks the message returned, intake
shows it beside the submission, and nobody is answered or mailed twice."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from tests.e2e.test_slice import open_consultation, submit
from tests.support.infra import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.smtp]

POSTFIX_REPORT = Path(__file__).resolve().parents[1] / "corpus" / "mail" / "bounces" / "lhost-postfix-05.eml"


def test_a_bounced_receipt_is_marked_in_notify_and_shown_to_the_clerk(cluster, e2e_smtp, tmp_path):
    consultation_id = open_consultation(cluster, title="Konsultacje: zwrócone potwierdzenia")
    address = f"nie-ma-takiej-{uuid.uuid4().hex[:6]}@example.org"
    receipt = submit(cluster, consultation_id, address, "Konkursy dwa razy w roku.")
    wait_until(lambda: e2e_smtp.to(address), timeout=45, what="the receipt e-mail")
    [sent] = e2e_smtp.to(address)

    # What the resident's mail server sends back: Postfix's report, about the receipt we sent
    report = POSTFIX_REPORT.read_bytes().replace(b"<FFFFFFFF.0000000@example.co.jp>", sent["Message-ID"].encode())
    report = report.replace(b"kijitora@example.org", address.encode()).replace(b"450 4.1.1", b"550 5.1.1") \
        .replace(b"Status: 4.1.1", b"Status: 5.1.1") \
        .replace(b"<00000000000000.FFFFFFFFFFF@v1.example.com>", f"<{uuid.uuid4().hex}@v1.example.com>".encode())
    path = tmp_path / "bounce.eml"
    path.write_bytes(report)
    imported = cluster.run("intake", "import-eml", str(path), service="intake")
    assert '"status": "ignored"' in imported and "delivery failed for" in imported

    def returned():
        rows = requests.get(cluster.api("notify", "/notifications"), params={"status": "bounced", "search": address},
                            headers=cluster.staff, timeout=10).json()
        return rows or None

    [row] = wait_until(returned, timeout=45, what="notify to mark the receipt returned")
    assert row["template"] == "submission_receipt" and row["bounced_at"]
    assert row["error"].startswith("5.1.1 550 5.1.1") and "User unknown" in row["error"]

    register = f"/staff/consultations/{consultation_id}/submissions"

    def shown():
        page = requests.get(cluster.url("intake", register), params={"undelivered": "1"}, headers=cluster.staff,
                            timeout=10).text
        return page if receipt["reference"] in page else None

    page = wait_until(shown, timeout=45, what="intake to show the returned receipt in the register")
    assert "e-mail niedoręczony" in page
    # The report itself was never answered, and the receipt was not sent again
    assert len(e2e_smtp.to(address)) == 1
    assert not e2e_smtp.to("shironeko@example.co.jp")
