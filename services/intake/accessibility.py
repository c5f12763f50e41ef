"""The accessibility statement (deklaracja dostępności) of the public consultation pages.

A public body's website must publish one (ustawa z dnia 4 kwietnia 2019 r. o dostępności cyfrowej stron
internetowych i aplikacji mobilnych podmiotów publicznych, art. 10), linked from every page, in the structure the
Minister's technical conditions give, its parts under fixed HTML ids (`a11y-podmiot`, `a11y-status`,
`a11y-osoba` …) that the state's monitoring reads. What only the city knows (who answers requests, the building
where duty hours take place, what it found inaccessible) an admin keeps on a console page; the product's own
facts and the legal procedure are part of the page. Reviewed at least once a year: the console says when that
is due.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta

from services.common.events import is_contract_email
from services.common.runtime import ServiceContext
from services.intake import site_records
from services.intake.models import AccessibilityStatementRow

STATUSES = ("full", "partial", "none")  # zgodna, częściowo zgodna, niezgodna
DATE_FIELDS = ("published_on", "updated_on", "prepared_on", "reviewed_on")
LIMITS = {"site_owner": 300, "assessment": 300, "contact_person": 200, "contact_email": 254, "contact_phone": 50,
          "inaccessible": 5000, "exclusions": 5000, "buildings": 5000}
OPTIONAL = {"exclusions"}
REVIEW_EVERY = timedelta(days=365)
_PHONE = re.compile(r"^\+?[\d ()-]{9,}$")

# What the form offers before anything was saved: the parts Uwagi itself knows, for the admin to check.
SUGGESTED = {
    "assessment": "samooceny przeprowadzonej przez podmiot publiczny",
    "status": "partial",
    "inaccessible": (
        "Projekt dokumentu do pobrania (DOCX) przygotowano poza serwisem i może nie być w pełni dostępny cyfrowo; "
        "jego treść jest dostępna na stronie projektu, jednostka po jednostce.\n"
        "Raport z konsultacji w formatach DOCX i XLSX może nie być w pełni dostępny cyfrowo; wszystkie uwagi i "
        "stanowiska są dostępne także w tabeli na stronie internetowej."),
    "buildings": (
        "Dyżury konsultacyjne odbywają się w miejscu podanym w ogłoszeniu konsultacji. Przy zapisie na dyżur "
        "można poprosić o spotkanie w miejscu dostępnym dla osób poruszających się na wózku, o rozmowę "
        "telefoniczną albo o tłumacza języka migowego (co najmniej 3 dni robocze wcześniej)."),
}


@dataclass(frozen=True)
class Statement:
    site_owner: str
    published_on: date
    updated_on: date
    status: str
    inaccessible: str
    exclusions: str
    prepared_on: date
    reviewed_on: date
    assessment: str
    contact_person: str
    contact_email: str
    contact_phone: str
    buildings: str

    @property
    def inaccessible_items(self) -> list[str]:
        return _items(self.inaccessible)

    @property
    def exclusion_items(self) -> list[str]:
        return _items(self.exclusions)

    @property
    def phone_link(self) -> str:
        return "tel:" + re.sub(r"[^\d+]", "", self.contact_phone)

    def review_due(self, today: date) -> bool:
        return today - self.reviewed_on > REVIEW_EVERY


def _items(text: str) -> list[str]:
    """One item a line; the bullets and dashes people type in front of them dropped."""
    return [item for line in text.splitlines() if (item := line.strip().lstrip("-–•*").strip())]


def read_form(values: Mapping[str, str], today: date) -> tuple[Statement | None, dict[str, str]]:
    """Pure: the statement the form holds, or None and every problem by field (a stable code)."""
    text = {f.name: (values.get(f.name) or "").strip() for f in fields(Statement)}
    # what is not accessible is said unless the site is compliant
    problems = site_records.text_problems(text, LIMITS, OPTIONAL | ({"inaccessible"} if text["status"] == "full"
                                                                     else set()))
    if text["status"] not in STATUSES:
        problems["status"] = "unknown"
    if "contact_email" not in problems and not is_contract_email(text["contact_email"]):
        problems["contact_email"] = "email"
    if "contact_phone" not in problems and not _PHONE.match(text["contact_phone"]):
        problems["contact_phone"] = "phone"
    dates: dict[str, date] = {}
    for name in DATE_FIELDS:
        try:
            dates[name] = date.fromisoformat(text[name])
        except ValueError:
            problems[name] = "required" if not text[name] else "date"
            continue
        if dates[name] > today:
            problems[name] = "in_future"
    if {"published_on", "updated_on"} <= set(dates) and dates["updated_on"] < dates["published_on"]:
        problems.setdefault("updated_on", "before_publication")
    if {"prepared_on", "reviewed_on"} <= set(dates) and dates["reviewed_on"] < dates["prepared_on"]:
        problems.setdefault("reviewed_on", "before_preparation")
    if problems:
        return None, problems
    return Statement(**{**text, **dates}), {}


def form_values(statement: Statement | None) -> dict[str, str]:
    """The form filled from the saved statement, or with the suggestions when there is none yet."""
    if statement is None:
        return {**dict.fromkeys((f.name for f in fields(Statement)), ""), **SUGGESTED}
    return {name: value.isoformat() if isinstance(value, date) else value for name, value in asdict(statement).items()}


def current(ctx: ServiceContext) -> tuple[Statement, str, datetime] | None:
    """The saved statement, who saved it and when; None before an admin has."""
    return site_records.load(ctx, AccessibilityStatementRow, Statement)


def save(ctx: ServiceContext, statement: Statement, *, actor: str, now: datetime | None = None) -> None:
    site_records.store(ctx, AccessibilityStatementRow, statement, actor=actor, now=now)
