"""A small SMTP server (aiosmtpd) that keeps what it receives: for tests, and a mail catcher for development.

    with CollectingSmtpServer() as server:      # 127.0.0.1, a free port
        ...send to server.host:server.port...
        messages = server.wait_for(1)            # parsed EmailMessage objects

`refuse` maps recipient addresses to the reply their RCPT TO gets (for
example "550 5.1.1 No such user"), and `refuse_data` to the reply the end of
their message's data gets, to exercise a sender's error handling.

`python -m services.common.smtp_server --port 1025 --folder var/caught` runs
it in the foreground and writes each message to the folder as an `.eml` file.
"""

from __future__ import annotations

import argparse
import email
import socket
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Mapping

from aiosmtpd.controller import Controller


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (aiosmtpd's Controller cannot bind port 0 itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


@dataclass
class CollectingHandler:
    refuse: Mapping[str, str] = field(default_factory=dict)
    folder: Path | None = None
    refuse_data: dict[str, str] = field(default_factory=dict)
    received: list[ReceivedMail] = field(default_factory=list)
    sessions: int = 0
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list) -> str:
        reply = self.refuse.get(address.lower()) or self.refuse.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list) -> list:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        refused = [self.refuse_data[a.lower()] for a in envelope.rcpt_tos if a.lower() in self.refuse_data]
        if refused:
            return refused[0]
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        message = email.message_from_bytes(raw, policy=policy.default)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / f"{time.time_ns()}.eml").write_bytes(raw)
        with self._arrived:
            self.received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), raw, message))  # type: ignore[arg-type]
            self._arrived.notify_all()
        return "250 Message accepted for delivery"


class CollectingSmtpServer:
    """An aiosmtpd server in a background thread that collects every accepted message."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, *, refuse: Mapping[str, str] | None = None,
                 folder: Path | None = None, refuse_data: Mapping[str, str] | None = None):
        self.host = host
        self.port = port or free_port(host)
        self.handler = CollectingHandler(refuse={k.lower(): v for k, v in (refuse or {}).items()}, folder=folder,
                                         refuse_data={k.lower(): v for k, v in (refuse_data or {}).items()})
        # SMTPUTF8 lets senders use non-ASCII addresses, as real servers increasingly allow.
        self._controller = Controller(self.handler, hostname=host, port=self.port, enable_SMTPUTF8=True)

    @property
    def messages(self) -> list[EmailMessage]:
        return [mail.message for mail in self.handler.received]

    @property
    def received(self) -> list[ReceivedMail]:
        return list(self.handler.received)

    @property
    def sessions(self) -> int:
        """How many SMTP sessions (EHLO greetings) the server has had."""
        return self.handler.sessions

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Block until at least `count` messages have arrived; raise TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self.handler._arrived:
            while len(self.handler.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {count} messages, got {len(self.handler.received)}")
                self.handler._arrived.wait(remaining)
        return self.messages

    def start(self) -> "CollectingSmtpServer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> "CollectingSmtpServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A development SMTP server that keeps every message.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--folder", type=Path, default=None, help="write each message here as an .eml file")
    args = parser.parse_args(argv)
    server = CollectingSmtpServer(args.host, args.port, folder=args.folder).start()
    print(f"SMTP server listening on {args.host}:{args.port}" + (f", writing to {args.folder}" if args.folder else ""))
    try:
        seen = 0
        while True:
            time.sleep(0.5)
            for mail in server.received[seen:]:
                print(f"{mail.mail_from} -> {', '.join(mail.rcpt_tos)}: {mail.message.get('Subject', '')}")
            seen = len(server.received)
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
