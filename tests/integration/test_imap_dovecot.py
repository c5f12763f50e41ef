"""E-mail intake against a real IMAP server (dovecot on 127.0.0.1): poll, import, mark, never twice, never blocked."""

from __future__ import annotations

import imaplib
import logging
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.common.storage import FilesystemObjectStore
from services.intake.mail.imap import IMPORTED_KEYWORD, ImapMailbox, MailboxUnavailable, poll_mailbox
from services.intake.worker import POLL_TASK, register_tasks
from tests.support.dovecot import DovecotServer, start_dovecot
from tests.unit.intake_mail.conftest import CORPUS, mail_row, make_ctx, open_consultation, received_events

pytestmark = pytest.mark.imap


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    # Not under pytest's tmp folder: its parents are private (0700), and dovecot's own users must read the config.
    root = Path(tempfile.mkdtemp(prefix="uwagi-dovecot-"))
    server = start_dovecot(root)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mailbox_name(dovecot: DovecotServer, request: pytest.FixtureRequest) -> str:
    """A folder of its own per test, so tests never see each other's mail."""
    name = f"Konsultacje-{request.node.name[-30:].replace('[', '-').replace(']', '')}"
    with client(dovecot) as connection:
        connection.create(name)
    return name


def client(dovecot: DovecotServer) -> imaplib.IMAP4:
    connection = imaplib.IMAP4("127.0.0.1", dovecot.port)
    connection.login(dovecot.user, dovecot.password)
    return connection


def deliver(dovecot: DovecotServer, mailbox: str, raw: bytes, arrived: datetime) -> None:
    """What the mail server does on delivery: the message lands with the server's arrival time (INTERNALDATE)."""
    with client(dovecot) as connection:
        status, data = connection.append(mailbox, None, imaplib.Time2Internaldate(arrived.timestamp()), raw)
        assert status == "OK", data


def flagged(dovecot: DovecotServer, mailbox: str) -> list[bytes]:
    with client(dovecot) as connection:
        connection.select(mailbox)
        return connection.uid("SEARCH", None, "KEYWORD", IMPORTED_KEYWORD)[1][0].split()


def context(tmp_path: Path, dovecot: DovecotServer, mailbox: str, **env: str):
    return make_ctx(tmp_path / "var", **{
        "UWAGI_IMAP_HOST": "127.0.0.1", "UWAGI_IMAP_PORT": str(dovecot.port), "UWAGI_IMAP_USER": dovecot.user,
        "UWAGI_IMAP_PASSWORD": dovecot.password, "UWAGI_IMAP_MAILBOX": mailbox, "UWAGI_IMAP_SSL": "false",
        "UWAGI_MAIL_MAX_MB": "1", **env})


def test_a_poll_imports_each_mail_once_at_its_arrival_time_and_one_bad_mail_blocks_nothing(
        dovecot, mailbox_name, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="uwagi.intake")
    ctx = context(tmp_path, dovecot, mailbox_name)
    try:
        open_consultation(ctx, contact_email="konsultacje@um.torun.pl")
        arrived = (datetime.now(timezone.utc) - timedelta(minutes=30)).replace(microsecond=0)
        mails = ["dsn-failure.eml", "zimbra-forward-rfc822-form.eml", "outlook-reply-cp1250-qp.eml"]
        deliver(dovecot, mailbox_name, b"From: a@example.org\r\nMessage-ID: <broken@x>\r\n"
                b"Content-Type: multipart/mixed\r\n\r\n--x\r\n", arrived)
        for index, name in enumerate(mails):
            deliver(dovecot, mailbox_name, (CORPUS / name).read_bytes(), arrived + timedelta(minutes=index))
        oversized = b"From: a@example.org\r\nMessage-ID: <big@x>\r\nSubject: big\r\n\r\n" + b"x" * (1024 * 1024 + 100)
        deliver(dovecot, mailbox_name, oversized, arrived)

        with ImapMailbox.open(ctx.settings.imap) as mailbox:
            assert mailbox.keywords  # dovecot takes our keyword, so read mail is imported too

        results = poll_mailbox(ctx, ctx.settings.imap)

        assert [r.status for r in results] == ["rejected", "ignored", "created", "needs_review", "rejected"]
        assert results[0].reason.startswith("broken_mime") and results[4].reason.startswith("too_large")
        created = received_events(ctx, results[2].reference)[0]
        assert created["received_at"] == arrived + timedelta(minutes=1)  # INTERNALDATE, not "Date: … 2017"
        assert mail_row(ctx, results[2].message_id).source == f"imap:{mailbox_name}/3"
        assert len(flagged(dovecot, mailbox_name)) == 5
        assert "too_large" in caplog.text and "broken_mime" in caplog.text
        assert poll_mailbox(ctx, ctx.settings.imap) == []  # marked: the next poll finds nothing new
    finally:
        ctx.close()


class StoreDownOnce(FilesystemObjectStore):
    """The object store is down for the first mail: a transient failure."""

    def __init__(self, root: Path):
        super().__init__(root)
        self.failures_left = 1

    def put(self, key, data, content_type):
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("object store unreachable")
        return super().put(key, data, content_type)


def test_a_transient_failure_leaves_the_mail_for_the_next_poll_and_the_others_go_in(dovecot, mailbox_name, tmp_path):
    ctx = context(tmp_path, dovecot, mailbox_name)
    ctx.store = StoreDownOnce(tmp_path / "objects")
    try:
        open_consultation(ctx)
        now = datetime.now(timezone.utc)
        deliver(dovecot, mailbox_name, (CORPUS / "gmail-reply-iso-8859-2-form.eml").read_bytes(), now)
        deliver(dovecot, mailbox_name, (CORPUS / "ios-outlook-body-only.eml").read_bytes(), now)
        first = poll_mailbox(ctx, ctx.settings.imap)
        assert [r.status for r in first] == ["needs_review"] and flagged(dovecot, mailbox_name) == [b"2"]
        second = poll_mailbox(ctx, ctx.settings.imap)
        assert [r.status for r in second] == ["created"] and len(flagged(dovecot, mailbox_name)) == 2
    finally:
        ctx.close()


def test_the_celery_task_polls_and_a_wrong_password_is_logged_not_raised(dovecot, mailbox_name, tmp_path, caplog):
    ctx = context(tmp_path, dovecot, mailbox_name)
    wrong = context(tmp_path / "other", dovecot, mailbox_name, UWAGI_IMAP_PASSWORD="wrong-password")
    try:
        open_consultation(ctx)
        deliver(dovecot, mailbox_name, (CORPUS / "thunderbird-html-only-odt.eml").read_bytes(), datetime.now(timezone.utc))
        register_tasks(ctx)
        assert ctx.celery.tasks[f"intake.{POLL_TASK}"]() == 1
        assert mail_row(ctx, "1f17fe7f-9587-8dfd-f698-646f536fbf85@example.org").status == "created"
        register_tasks(wrong)
        caplog.set_level(logging.WARNING)
        assert wrong.celery.tasks[f"intake.{POLL_TASK}"]() == 0
        assert "mailbox not polled" in caplog.text
        with pytest.raises(MailboxUnavailable):
            with ImapMailbox.open(wrong.settings.imap):
                pass
    finally:
        ctx.close()
        wrong.close()


def test_a_database_outage_stops_the_poll_and_marks_nothing(dovecot, mailbox_name, tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError

    import services.intake.mail.imap as imap_adapter

    ctx = context(tmp_path, dovecot, mailbox_name)
    try:
        open_consultation(ctx)
        for name in ("ios-outlook-body-only.eml", "gmail-reply-iso-8859-2-form.eml"):
            deliver(dovecot, mailbox_name, (CORPUS / name).read_bytes(), datetime.now(timezone.utc))
        real_import = imap_adapter.import_mail

        def database_down(*args, **kwargs):
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

        monkeypatch.setattr(imap_adapter, "import_mail", database_down)
        for _ in range(imap_adapter.MAX_ATTEMPTS + 1):  # more polls than the give-up count of a failing mail
            assert poll_mailbox(ctx, ctx.settings.imap) == []
        assert flagged(dovecot, mailbox_name) == []
        monkeypatch.setattr(imap_adapter, "import_mail", real_import)
        assert [r.status for r in poll_mailbox(ctx, ctx.settings.imap)] == ["needs_review", "created"]
    finally:
        ctx.close()
