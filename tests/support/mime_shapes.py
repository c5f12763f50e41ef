"""MIME shapes the mail tests build: parts nested as deep as a hostile sender likes."""

from __future__ import annotations


def nested_multiparts(depth: int) -> bytes:
    """A Content-Type header and body: `depth` multipart/mixed parts, each inside the last, around "hello"."""
    body = b"Content-Type: text/plain\r\n\r\nhello\r\n"
    for level in range(depth):
        body = (b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level) + body
                + b"\r\n--b%d--\r\n" % level)
    return body
