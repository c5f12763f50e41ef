"""Babel's locale objects, made once per language.

`babel.dates.format_date(…, locale="pl")` parses the identifier into a new `Locale` on every call, which is 47 of
its 50 µs; a page listing fifty dates, or a receipt naming two, paid that each time.
"""

from __future__ import annotations

import functools

from babel import Locale


@functools.lru_cache(maxsize=16)
def babel_locale(language: str) -> Locale:
    return Locale.parse(language)
