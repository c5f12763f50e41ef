"""`make run`'s way in: a resident's filled form mailed as an .eml into the inbox folder gets a receipt e-mail,
and review sees the comments with their sections. The whole embedded system, as `uwagi run` starts it."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.embedded import embedded_system
from tests.support.infra import wait_until

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "mail"

pytestmark = pytest.mark.slow


@pytest.fixture
def system(tmp_path: Path) -> Iterator[object]:
    from services.demo import load_demo

    with embedded_system(tmp_path / "var") as running:
        load_demo(running)
        yield running


def receipts(folder: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in sorted(folder.glob("*.eml"))]


def test_a_form_dropped_into_the_inbox_gets_a_receipt_and_reaches_review(system):
    from services.review.models import ReviewComment

    inbox = system.settings.data_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / ".resident.eml.part").write_bytes((CORPUS / "zimbra-forward-rfc822-form.eml").read_bytes())
    (inbox / ".resident.eml.part").rename(inbox / "resident.eml")
    system.workers["intake"].run_sweeps()  # the sweep runs every 15 s; do not wait for it
    assert (inbox / "done" / "resident.eml").exists()

    mail_folder = system.settings.data_dir / "mail"
    receipt = wait_until(lambda: [m for m in receipts(mail_folder) if "anna.nowak@example.org" in str(m["To"])],
                         timeout=30, what="the receipt e-mail")[0]
    text = receipt.get_body(("plain",)).get_content()
    assert "UW/" in text and "§ 5 ust. 2" in text

    review = system.contexts["review"]

    def sections() -> list[str]:
        with review.db.transaction() as session:
            return sorted(c.section for c in session.scalars(select(ReviewComment)) if c.section)

    assert wait_until(lambda: {"§ 5 ust. 2", "Rozdział 4 pkt 3"} <= set(sections()), timeout=30,
                      what="the comments in review")
