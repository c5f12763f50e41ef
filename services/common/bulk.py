"""Mechanics of bulk jobs (a staff import of tens of thousands of comments): ids by the thousand, and the
cyclic garbage collector kept out of the way."""

from __future__ import annotations

import gc
import os
import threading
from contextlib import contextmanager
from itertools import chain, repeat
from typing import Iterator

# The variant's hex digit: its two top bits are 10 (RFC 4122), the two others stay random.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def new_ids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as text, as `str(uuid.uuid4())` writes them, from one read of the OS's
    randomness: uuid4() costs a system call and a UUID object per id, four times the time of this in bulk."""
    digits = os.urandom(16 * count).hex()
    return [f"{digits[i:i + 8]}-{digits[i + 8:i + 12]}-4{digits[i + 13:i + 16]}-{_VARIANT[digits[i + 16]]}"
            f"{digits[i + 17:i + 20]}-{digits[i + 20:i + 32]}" for i in range(0, 32 * count, 32)]


def id_stream(block: int = 256) -> Iterator[str]:
    """Endless new ids, drawn `block` at a time (for a producer that does not know its count in advance)."""
    return chain.from_iterable(map(new_ids, repeat(block)))


_paused = 0
_paused_lock = threading.Lock()
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: a bulk job allocates hundreds of thousands of containers (rows,
    payloads), and each allocation threshold crossed starts a collection that walks them, a full one walking
    the whole process (measured: a third of the wall time of a 20,000-comment import). Cycles made meanwhile
    are collected after. Nested and concurrent uses are counted: the last to leave turns it back on, and only
    if it was on."""
    global _paused, _was_enabled
    with _paused_lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()
