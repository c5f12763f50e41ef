"""The e-mail sender port and its adapters: SMTP, and a folder of `.eml` files for the embedded mode.

Adapters translate every failure into one of two exceptions, so the use case
decides retry-or-record without knowing smtplib: `TransientDeliveryError`
(try again later) and `PermanentDeliveryError` (this message will never go).
"""

from __future__ import annotations

import abc
import email.generator
import email.policy
import email.utils
import hashlib
import io
import logging
import os
import re
import smtplib
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Callable

from services.common.settings import Settings, SmtpSettings

log = logging.getLogger(__name__)


class DeliveryError(RuntimeError):
    pass


class TransientDeliveryError(DeliveryError):
    """The server or the network is not able to take the message now; a retry may succeed."""


class MailServerUnavailable(TransientDeliveryError):
    """Not this message's fault: the server (or the mail folder) cannot be reached or refuses the session."""


class PermanentDeliveryError(DeliveryError):
    """The server refused this message for good (5xx, recipient refused); retrying changes nothing."""


@dataclass(frozen=True)
class OutgoingMail:
    """A message ready for the wire: its bytes (CRLF line ends) and its SMTP envelope.

    The mailer writes these bytes directly (`rendering.build_mail`): building and flattening an
    `EmailMessage` cost about ten times the rest of sending one.
    """

    envelope_from: str
    recipient: str
    data: bytes
    smtputf8: bool = False

    @classmethod
    def from_message(cls, message: EmailMessage) -> "OutgoingMail":
        """What `smtplib.SMTP.send_message` would send for this message (one recipient, in To)."""
        sender = message["Sender"] or message["From"]
        envelope_from = email.utils.getaddresses([str(sender)])[0][1]
        recipient = email.utils.getaddresses([str(message["To"])])[0][1]
        international = not (envelope_from.isascii() and recipient.isascii())
        policy = message.policy.clone(utf8=True) if international else message.policy
        buffer = io.BytesIO()
        email.generator.BytesGenerator(buffer, policy=policy).flatten(message, linesep="\r\n")
        return cls(envelope_from, recipient, buffer.getvalue(), smtputf8=international)

    def parsed(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]


def as_outgoing(message: "OutgoingMail | EmailMessage") -> OutgoingMail:
    return message if isinstance(message, OutgoingMail) else OutgoingMail.from_message(message)


# Called by a sender at the moment the message can no longer be taken back: the last byte is written (SMTP:
# the final dot, before the server's verdict is read; the file outbox: the file is in place). The mailer
# commits `sent` there, so that a process killed at any other moment leaves no doubt about the message.
Handover = Callable[[], None]


class EmailSender(abc.ABC):
    @abc.abstractmethod
    def send(self, message: OutgoingMail | EmailMessage, *, on_handover: Handover | None = None) -> None:
        """Hand the message over for delivery or raise a `DeliveryError`.

        `on_handover` runs at most once, as late as the adapter can (see `Handover`); when it has run and a
        `DeliveryError` follows, the server refused the message after all (or its reply never came).
        What `on_handover` raises is passed on unchanged.
        """

    def close(self) -> None:
        """Let go of any connection kept open between messages."""


def _is_permanent_code(code: int) -> bool:
    return 500 <= code < 600


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {text}".strip()


_LEADING_DOT = re.compile(rb"(?m)^\.")
_MESSAGE_ID = re.compile(rb"(?im)^Message-ID:[ \t]*(<[^>\r\n]*>)")


class _HandoverSmtp(smtplib.SMTP):
    """smtplib's client with a hook between the final dot of DATA and the reading of the server's verdict."""

    on_handover: Handover | None = None

    def data(self, msg: bytes | str) -> tuple[int, bytes]:  # type: ignore[override]
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        if isinstance(msg, str):
            msg = msg.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n").encode("ascii")
        quoted = _LEADING_DOT.sub(b"..", msg)
        if not quoted.endswith(b"\r\n"):
            quoted += b"\r\n"
        self.send(quoted + b".\r\n")
        hook, self.on_handover = self.on_handover, None
        if hook is not None:
            hook()
        return self.getreply()


class SmtpSender(EmailSender):
    """Keeps one SMTP connection open across messages, within bounds, and opens a new one after any failure.

    A connection serves at most `max_messages` messages and lives at most `max_age` seconds, so a server's
    limits per session and a slowly leaking session state never matter; the mailer closes it when it has
    nothing more to send. A reused connection the server has meanwhile dropped is replaced once, before
    anything of the message was accepted.
    """

    timeout_seconds = 10.0
    max_messages = 500
    max_age = 120.0

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._smtp: _HandoverSmtp | None = None
        self._opened_at = 0.0
        self._messages = 0
        self._lock = threading.Lock()

    def _connect(self) -> _HandoverSmtp:
        smtp = _HandoverSmtp(self.settings.host, self.settings.port, timeout=self.timeout_seconds)
        try:
            if self.settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.settings.user:
                smtp.login(self.settings.user, self.settings.password)
        except BaseException:
            _quietly_close(smtp)
            raise
        self._opened_at, self._messages = time.monotonic(), 0
        return smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            _quietly_close(self._smtp)
            self._smtp = None

    def close(self) -> None:
        with self._lock:
            if self._smtp is not None:
                try:
                    self._smtp.quit()
                except (smtplib.SMTPException, OSError):
                    pass
                self._drop()

    def send(self, message: OutgoingMail | EmailMessage, *, on_handover: Handover | None = None) -> None:
        mail = as_outgoing(message)
        with self._lock:
            expired = self._smtp is not None and (
                self._messages >= self.max_messages or time.monotonic() - self._opened_at > self.max_age)
            if expired:
                self._drop()
            reused = self._smtp is not None
            handed_over = False

            def handover() -> None:
                nonlocal handed_over
                handed_over = True
                if on_handover is not None:
                    on_handover()

            try:
                try:
                    self._send_once(mail, handover)
                except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
                    self._drop()
                    if not reused or handed_over:
                        raise
                    # The server closed an idle connection we kept: nothing of this message reached it.
                    log.debug("reconnecting to SMTP after a kept connection was dropped: %s", exc)
                    self._send_once(mail, handover)
            except smtplib.SMTPRecipientsRefused as exc:
                replies = [_reply_text(code, reply) for code, reply in exc.recipients.values()]
                if all(_is_permanent_code(code) for code, _ in exc.recipients.values()):
                    raise PermanentDeliveryError("recipient refused: " + "; ".join(replies)) from exc
                raise TransientDeliveryError("recipient deferred: " + "; ".join(replies)) from exc
            except (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError, smtplib.SMTPConnectError,
                    smtplib.SMTPHeloError) as exc:
                self._drop()
                # A wrong password, a server without STARTTLS or one refusing the whole
                # session is the operator's to fix, not this message's fault: even with a
                # 5xx code it stays retryable within the bound.
                raise MailServerUnavailable(f"SMTP session problem: {exc}") from exc
            except smtplib.SMTPResponseException as exc:
                # Covers SMTPSenderRefused and SMTPDataError: the reply code decides.
                reason = _reply_text(exc.smtp_code, exc.smtp_error)
                if _is_permanent_code(exc.smtp_code):
                    raise PermanentDeliveryError(f"SMTP refused the message: {reason}") from exc
                raise TransientDeliveryError(f"SMTP deferred the message: {reason}") from exc
            except (smtplib.SMTPException, OSError, socket.timeout) as exc:
                # Connection refused, reset, timed out, server disconnected, TLS failure.
                self._drop()
                raise MailServerUnavailable(f"SMTP unavailable: {type(exc).__name__}: {exc}") from exc
            except BaseException:
                # The handover hook failed (the database), or the process is stopping: the session's
                # state is unknown, so it is not used again.
                self._drop()
                raise

    def _send_once(self, mail: OutgoingMail, handover: Handover) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        options: tuple[str, ...] = ()
        if mail.smtputf8:
            self._smtp.ehlo_or_helo_if_needed()
            if not self._smtp.has_extn("smtputf8"):
                raise smtplib.SMTPNotSupportedError("the recipient's address needs SMTPUTF8, which the server lacks")
            options = ("SMTPUTF8", "BODY=8BITMIME")
        self._smtp.on_handover = handover
        try:
            refused = self._smtp.sendmail(mail.envelope_from, [mail.recipient], mail.data, options)
        finally:
            self._smtp.on_handover = None
        self._messages += 1
        if refused:
            # Only reached when some of several recipients were refused; each notification has one.
            raise PermanentDeliveryError("recipient refused: " + "; ".join(
                _reply_text(code, reply) for code, reply in refused.values()))


def _quietly_close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.close()
    except OSError:
        pass


class FileOutboxSender(EmailSender):
    """Writes each message to `<folder>/<timestamp>-<message-id-hash>.eml` (the embedded mode's mail)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def send(self, message: OutgoingMail | EmailMessage, *, on_handover: Handover | None = None) -> None:
        mail = as_outgoing(message)
        found = _MESSAGE_ID.search(mail.data)
        message_id = found.group(1).decode("ascii", "replace") if found else ""
        digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:16]
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # Not "*.eml" until complete: a reader globbing the folder must not open a message being written
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(mail.data)
                    handle.flush()
                    os.fsync(handle.fileno())
                # A reader (or a mail catcher watching the folder) never sees half a message.
                os.replace(tmp, self.folder / f"{stamp}-{digest}.eml")
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise MailServerUnavailable(f"cannot write to the mail folder {self.folder}: {exc}") from exc
        if on_handover is not None:
            on_handover()


def make_sender(settings: Settings) -> EmailSender:
    """SMTP when configured, otherwise the file outbox under the data dir."""
    if settings.smtp is not None:
        return SmtpSender(settings.smtp)
    return FileOutboxSender(settings.data_dir / "mail")
