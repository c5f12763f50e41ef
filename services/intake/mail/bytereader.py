"""Little-endian fields read from bytes that may lie about their lengths (winmail.dat, OLE objects)."""

from __future__ import annotations

import struct


class ByteReader:
    """Reads forward through `data`; any read past its end raises ValueError, never returns short."""

    def __init__(self, data: bytes):
        self.data, self.offset = data, 0

    def take(self, count: int) -> bytes:
        if count < 0 or self.offset + count > len(self.data):
            raise ValueError("past the end of the data")
        chunk = self.data[self.offset:self.offset + count]
        self.offset += count
        return chunk

    def skip(self, count: int) -> None:
        self.take(count)

    def u16(self) -> int:
        return struct.unpack("<H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def cstring(self, limit: int = 4096) -> bytes:
        """Bytes up to a NUL (dropped) within `limit` bytes."""
        end = self.data.find(b"\0", self.offset, self.offset + limit)
        if end < 0:
            raise ValueError("unterminated string")
        text = self.data[self.offset:end]
        self.offset = end + 1
        return text
