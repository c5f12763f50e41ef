"""GDPR rules for the published report: who is named, and which contact data is hidden.

Private individuals are named only with their consent; organisations are always
named. E-mail addresses, phone numbers and PESEL numbers in free text are
replaced by a marker in the published edition and kept in the internal one.
"""

from __future__ import annotations

import re

PRIVATE_INDIVIDUAL = {"pl": "Osoba prywatna", "en": "Private individual"}
REDACTION_MARKER = {"pl": "[dane usunięte]", "en": "[data removed]"}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# PESEL: exactly 11 digits, not part of a longer number (e.g. an account number).
_PESEL = re.compile(r"(?<![\d])\d{11}(?![\d])")
# Polish phone numbers: optional +48/0048, then 9 digits in common groupings, or a
# landline with an area code in parentheses: "(56) 611 88 88".
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)48[ -]?)?(?:\d{3}[ -]?\d{3}[ -]?\d{3}|\d{2}[ -]\d{3}[ -]\d{2}[ -]\d{2}"
    r"|\(\d{2}\)[ -]?\d{3}[ -]?\d{2}[ -]?\d{2})(?![\w])")


def redact(text: str, lang: str = "pl") -> str:
    marker = REDACTION_MARKER[lang]
    if not text or not any(char.isdigit() or char == "@" for char in text):
        return text
    text = _EMAIL.sub(marker, text)
    text = _PESEL.sub(marker, text)
    return _PHONE.sub(marker, text)


def submitter_display(name: str, organization: str, kind: str, publish_consent: bool,
                      lang: str, published: bool) -> str:
    """The submitter as shown in the report edition.

    An organisation is always named; the person behind it, and a private individual, only with
    their consent (or in the internal edition).
    """
    person_named = bool(name) and (publish_consent or not published)
    if kind == "organization":
        if organization and person_named and name != organization:
            return f"{organization} ({name})"
        return organization or (name if person_named else PRIVATE_INDIVIDUAL[lang])
    if not person_named:
        return PRIVATE_INDIVIDUAL[lang]
    return f"{name} ({organization})" if organization else name
