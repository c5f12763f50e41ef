"""How a consultation's office is named in an address: shared by the public page (intake) and the e-mails (notify)."""

from __future__ import annotations


def names_organiser(organiser: str | None, address: str | None) -> bool:
    """Whether the postal address already names the organiser. Announcements often word the unit differently
    ("Urząd Miasta Torunia – Wydział X" for the organiser "Wydział X Urzędu Miasta Torunia"), so the
    organiser's first three words, in any case and spacing, are enough to count."""
    if not organiser or not organiser.strip() or not address:
        return False
    leading = " ".join(organiser.split()[:3]).casefold()
    return leading in " ".join(address.split()).casefold()
