"""Helpers that craft (hostile) packages for the engine tests."""

from __future__ import annotations

import io
import zipfile

from services.documents.engine.ooxml import read_package, write_package


def repack(data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None,
           drop: tuple[str, ...] = ()) -> bytes:
    """A copy of the package `data` with parts replaced, added or dropped."""
    parts = read_package(data)
    for name in drop:
        parts.pop(name, None)
    parts.update(replace or {})
    parts.update(add or {})
    return write_package(parts)


def raw_zip(members: dict[str, bytes], compresslevel: int = 9) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
