"""Logs an operator can follow: JSON lines with the correlation id, and no secrets in request lines.

The correlation id is the submission's reference (or whatever the first producer chose). It lives in a
context variable: set for an HTTP request, for an event being consumed (its envelope's
`correlation_id`), and for a Celery task (a message header), so every log line on the way from the
form to the e-mail carries it, and `ctx.emit` / `ctx.enqueue` pass it on.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlencode

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("uwagi_correlation_id", default=None)

CORRELATION_HEADER = "correlation_id"  # the Celery message header

# Query parameters whose values are secrets (status tokens, signed links, passwords) in any URL we log.
SECRET_QUERY_NAMES = frozenset({"token", "status_token", "signature", "sig", "password", "secret", "access_token",
                                "key"})
REDACTED = "[redacted]"


def current_correlation_id() -> str | None:
    return correlation_id.get()


@contextmanager
def correlated(value: str | None) -> Iterator[None]:
    """Log lines inside carry `value` (nothing changes when it is None)."""
    if not value:
        yield
        return
    reset = correlation_id.set(str(value)[:100])
    try:
        yield
    finally:
        correlation_id.reset(reset)


def redact_query(query: str) -> str:
    """`reference=UW/1&token=abc` → `reference=UW/1&token=[redacted]`; the rest is kept as it came."""
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(name.lower() in SECRET_QUERY_NAMES for name, _ in pairs):
        return query
    return urlencode([(name, REDACTED if name.lower() in SECRET_QUERY_NAMES else value) for name, value in pairs],
                     safe="/[]")


def redact_target(target: str) -> str:
    """A request target (path?query) with its secret query values replaced."""
    path, sep, query = target.partition("?")
    return path + sep + redact_query(query) if sep else target


_REQUEST_LINE = re.compile(r"^(?P<method>\S+) (?P<target>\S+)(?P<rest> .*)?$")


def redact_request_line(line: str) -> str:
    """`GET /intake/status?token=abc HTTP/1.1` with its secret query values replaced."""
    match = _REQUEST_LINE.match(line)
    if not match:
        return line
    return f"{match['method']} {redact_target(match['target'])}{match['rest'] or ''}"


class CorrelationFilter(logging.Filter):
    """Adds `correlation_id` to every record, so any format may use it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "correlation_id"):
            record.correlation_id = correlation_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, thread, message, correlation_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "thread": record.threadName,
            "message": record.getMessage(),
        }
        correlation = getattr(record, "correlation_id", None) or correlation_id.get()
        if correlation and correlation != "-":
            entry["correlation_id"] = correlation
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] [%(correlation_id)s] %(message)s"


class CurrentStderrHandler(logging.StreamHandler):
    """A stream handler that writes to whatever `sys.stderr` is when a record is emitted, not to the stream it
    was when the handler was made: a thread started under a redirected stderr (a test's captured output, closed
    when the test ends) keeps logging after the redirection is gone."""

    @property
    def stream(self):  # noqa: ANN201 - logging.StreamHandler's own attribute
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # noqa: ANN001 - StreamHandler.__init__ assigns it
        pass


def logging_handler(log_format: str) -> logging.Handler:
    handler = CurrentStderrHandler()
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return handler
