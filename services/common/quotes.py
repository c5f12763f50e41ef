"""Quotation marks as Polish and English typography nest them."""

from __future__ import annotations

import re

# Polish „…«…»…”, English “…‘…’…”.
_QUOTES = {"pl": ("„", "”", "«", "»"), "en": ("“", "”", "‘", "’")}
_INNER_QUOTED = re.compile(r'[„“"«]([^„“"”«»]*)[”"»]')


def quoted(text: str, language: str = "pl") -> str:
    """`text` in the language's quotation marks; quotes already inside it become the nested kind, so an
    organisation's own name in quotes reads „Fundacja «Przystań»”, not „Fundacja „Przystań””."""
    opening, closing, inner_opening, inner_closing = _QUOTES.get((language or "pl")[:2].lower(), _QUOTES["pl"])
    inner = _INNER_QUOTED.sub(lambda match: f"{inner_opening}{match.group(1)}{inner_closing}", str(text))
    return f"{opening}{inner}{closing}"
