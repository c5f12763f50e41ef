"""Checks an uploaded DOCX before anything parses it.

The checks themselves live in `services.common.docx_safety`, shared with intake (mailed comment
forms); here they answer with the engine's own `DocumentRejected`.
"""

from __future__ import annotations

from services.common.docx_safety import Limits, PackageRejected, is_safe_member_name
from services.common.docx_safety import check_docx as _check_package

from .errors import DocumentRejected

__all__ = ["Limits", "check_docx", "is_safe_member_name"]


def check_docx(data: bytes, *, max_bytes: int = Limits.max_bytes, filename: str | None = None,
               limits: Limits | None = None) -> None:
    """Raise `DocumentRejected` unless `data` is a plain, safe DOCX package (codes: see `docx_safety.check_docx`)."""
    try:
        _check_package(data, max_bytes=max_bytes, filename=filename, limits=limits)
    except PackageRejected as rejected:
        raise DocumentRejected(rejected.code, rejected.message, rejected.message_pl) from None
