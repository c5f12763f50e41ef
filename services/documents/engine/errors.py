"""Domain errors of the document engine.

Every error carries a machine `code` (stable, for APIs and scripts) and a human
message in English and Polish, so that the service can show either one.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class: a request the engine refuses for a reason the caller can fix."""

    code = "engine_error"

    def __init__(self, code: str, message: str, message_pl: str | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.message_pl = message_pl or message

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "message_pl": self.message_pl}


class DocumentRejected(EngineError):
    """The uploaded file is unsafe or not a DOCX; it was not parsed."""


class ChangeError(EngineError):
    """A set of changes cannot be applied (conflict, unknown unit, bad operation).

    `changes` lists the offending changes (as JSON-able dicts) so that the
    caller can name them to the user.
    """

    def __init__(self, code: str, message: str, message_pl: str | None = None,
                 changes: list[dict] | None = None):
        super().__init__(code, message, message_pl)
        self.changes = changes or []

    def to_dict(self) -> dict:
        return {**super().to_dict(), "changes": self.changes}


class ReportInputError(EngineError):
    """The report input (REPORT.json) is malformed."""
