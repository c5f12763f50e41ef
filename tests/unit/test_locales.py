"""Dates in pages and e-mails are formatted with one Babel locale per language, made once."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from services.common.locales import babel_locale


def test_a_language_has_one_locale_object_that_formats_as_its_identifier_does():
    assert babel_locale("pl") is babel_locale("pl") and babel_locale("en") is not babel_locale("pl")
    day = date(2024, 10, 8)
    for language, expected in (("pl", "8 października 2024"), ("en", "8 October 2024")):
        assert format_date(day, "d MMMM y", locale=babel_locale(language)) == expected
        assert format_date(day, "d MMMM y", locale=language) == expected
