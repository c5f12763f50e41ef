"""The consultation mailbox's settings and the pieces of the IMAP adapter that need no server."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from services.common.settings import SettingsError, load_settings
from services.intake.mail.imap import parse_internal_date


def test_no_imap_host_means_no_polling(tmp_path: Path):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path)})
    assert settings.imap is None and settings.max_mail_bytes == 25 * 1024 * 1024


def test_the_mailbox_is_configured_by_uwagi_imap_variables(tmp_path: Path):
    env = {"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_IMAP_HOST": "imap.um.torun.pl", "UWAGI_IMAP_USER": "konsultacje",
           "UWAGI_IMAP_PASSWORD": "sekret", "UWAGI_MAIL_MAX_MB": "10"}
    imap = load_settings(env).imap
    assert (imap.host, imap.port, imap.ssl, imap.mailbox, imap.interval) == ("imap.um.torun.pl", 993, True, "INBOX", 60.0)
    plain = load_settings({**env, "UWAGI_IMAP_SSL": "false", "UWAGI_IMAP_MAILBOX": "Konsultacje/2025",
                           "UWAGI_IMAP_INTERVAL": "15"})
    assert (plain.imap.port, plain.imap.ssl, plain.imap.mailbox, plain.imap.interval) == (143, False, "Konsultacje/2025", 15.0)
    assert load_settings({**env, "UWAGI_IMAP_PORT": "1143"}).imap.port == 1143
    assert load_settings(env).max_mail_bytes == 10 * 1024 * 1024


@pytest.mark.parametrize("changes,message", [
    ({"UWAGI_IMAP_USER": ""}, "UWAGI_IMAP_USER"),
    ({"UWAGI_IMAP_SSL": "maybe"}, "is not a boolean"),
    ({"UWAGI_IMAP_PORT": "imaps"}, "is not a whole number"),
    ({"UWAGI_IMAP_INTERVAL": "0"}, "below the minimum"),
    ({"UWAGI_MAIL_MAX_MB": "0"}, "below the minimum"),
])
def test_a_misconfigured_mailbox_stops_the_start(tmp_path: Path, changes, message):
    env = {"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_IMAP_HOST": "imap.um.torun.pl", "UWAGI_IMAP_USER": "k",
           "UWAGI_IMAP_PASSWORD": "p", **changes}
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_internaldate_is_read_in_utc_whatever_the_servers_zone():
    assert parse_internal_date("21-Oct-2024 23:59:59 +0200") == datetime(2024, 10, 21, 21, 59, 59, tzinfo=timezone.utc)
    assert parse_internal_date(" 1-Nov-2024 00:00:01 -0700") == datetime(2024, 11, 1, 7, 0, 1, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        parse_internal_date("21-Paź-2024 23:59:59 +0200")


class ServerWithoutKeywords:
    """An IMAP connection whose mailbox permits no new keywords (PERMANENTFLAGS without \\*)."""

    def __init__(self):
        self.commands = []

    def response(self, code):
        return code, [b"(\\Answered \\Flagged \\Deleted \\Seen \\Draft)"]

    def uid(self, command, *args):
        self.commands.append((command, *args))
        if command == "SEARCH":
            return "OK", [b""]
        return "OK", [b"1 (FLAGS (\\Seen))"]


def test_a_server_without_keywords_is_polled_by_unseen_and_marked_seen():
    from services.intake.mail.imap import ImapMailbox

    connection = ServerWithoutKeywords()
    mailbox = ImapMailbox(connection, "INBOX")
    assert not mailbox.keywords and mailbox.pending() == []
    mailbox.mark_imported("7")
    assert connection.commands == [("SEARCH", None, "UNSEEN"), ("STORE", "7", "+FLAGS", "(\\Seen)")]
