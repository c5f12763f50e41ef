"""The e-mail sender port and its adapters: SMTP, and a folder of `.eml` files for the embedded mode.

Adapters translate every failure into one of two exceptions, so the use case
decides retry-or-record without knowing smtplib: `TransientDeliveryError`
(try again later) and `PermanentDeliveryError` (this message will never go).
"""

from __future__ import annotations

import abc
import hashlib
import os
import smtplib
import socket
import ssl
import tempfile
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

from services.common.settings import Settings, SmtpSettings


class DeliveryError(RuntimeError):
    pass


class TransientDeliveryError(DeliveryError):
    """The server or the network is not able to take the message now; a retry may succeed."""


class PermanentDeliveryError(DeliveryError):
    """The server refused this message for good (5xx, recipient refused); retrying changes nothing."""


class EmailSender(abc.ABC):
    @abc.abstractmethod
    def send(self, message: EmailMessage) -> None:
        """Hand the message over for delivery or raise a `DeliveryError`."""


def _is_permanent_code(code: int) -> bool:
    return 500 <= code < 600


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {text}".strip()


class SmtpSender(EmailSender):
    """One connection per message: notifications trickle, and a fresh connection never carries a stale state."""

    timeout_seconds = 10.0

    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.settings.host, self.settings.port, timeout=self.timeout_seconds) as smtp:
                if self.settings.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.settings.user:
                    smtp.login(self.settings.user, self.settings.password)
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            replies = [_reply_text(code, reply) for code, reply in exc.recipients.values()]
            if all(_is_permanent_code(code) for code, _ in exc.recipients.values()):
                raise PermanentDeliveryError("recipient refused: " + "; ".join(replies)) from exc
            raise TransientDeliveryError("recipient deferred: " + "; ".join(replies)) from exc
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError, smtplib.SMTPConnectError,
                smtplib.SMTPHeloError) as exc:
            # A wrong password, a server without STARTTLS or one refusing the whole
            # session is the operator's to fix, not this message's fault: even with a
            # 5xx code it stays retryable within the bound.
            raise TransientDeliveryError(f"SMTP session problem: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            # Covers SMTPSenderRefused and SMTPDataError: the reply code decides.
            reason = _reply_text(exc.smtp_code, exc.smtp_error)
            if _is_permanent_code(exc.smtp_code):
                raise PermanentDeliveryError(f"SMTP refused the message: {reason}") from exc
            raise TransientDeliveryError(f"SMTP deferred the message: {reason}") from exc
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            # Connection refused, reset, timed out, server disconnected, TLS failure.
            raise TransientDeliveryError(f"SMTP unavailable: {type(exc).__name__}: {exc}") from exc
        if refused:
            # Only reached when some of several recipients were refused; each notification has one.
            raise PermanentDeliveryError("recipient refused: " + "; ".join(
                _reply_text(code, reply) for code, reply in refused.values()))


class FileOutboxSender(EmailSender):
    """Writes each message to `<folder>/<timestamp>-<message-id-hash>.eml` (the embedded mode's mail)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        message_id = str(message.get("Message-ID", ""))
        digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:16]
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(message.as_bytes())
                    handle.flush()
                    os.fsync(handle.fileno())
                # A reader (or a mail catcher watching the folder) never sees half a message.
                os.replace(tmp, self.folder / f"{stamp}-{digest}.eml")
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise TransientDeliveryError(f"cannot write to the mail folder {self.folder}: {exc}") from exc


def make_sender(settings: Settings) -> EmailSender:
    """SMTP when configured, otherwise the file outbox under the data dir."""
    if settings.smtp is not None:
        return SmtpSender(settings.smtp)
    return FileOutboxSender(settings.data_dir / "mail")
