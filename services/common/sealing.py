"""Sealed values: encrypted and authenticated with the app's secret key, for what a browser may carry but not read.

Flask's session cookie is signed, not encrypted: anyone holding it can read it. A value sealed here
(AES-256-GCM, pycryptodome) can ride in that cookie; only the server opens it, and a changed byte
makes it unreadable rather than wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from Crypto.Cipher import AES

_NONCE_BYTES = 12
_TAG_BYTES = 16


class Sealer:
    def __init__(self, secret_key: str, purpose: str):
        # One key per purpose, derived from the app's secret: a value sealed for one use opens for no other.
        self._key = hmac.new(secret_key.encode(), f"uwagi.sealed.{purpose}".encode(), hashlib.sha256).digest()

    def seal(self, value: Any) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        cipher = AES.new(self._key, AES.MODE_GCM, nonce=nonce)
        ciphertext, tag = cipher.encrypt_and_digest(json.dumps(value, separators=(",", ":")).encode())
        return base64.urlsafe_b64encode(nonce + tag + ciphertext).decode()

    def open(self, sealed: Any) -> Any | None:
        """The value, or None if `sealed` is missing, altered or sealed with another key."""
        if not isinstance(sealed, str):
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
            nonce, tag, ciphertext = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:_NONCE_BYTES + _TAG_BYTES], \
                raw[_NONCE_BYTES + _TAG_BYTES:]
            cipher = AES.new(self._key, AES.MODE_GCM, nonce=nonce)
            return json.loads(cipher.decrypt_and_verify(ciphertext, tag))
        except (ValueError, KeyError, TypeError):
            return None
