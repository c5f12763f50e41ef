"""The information the GDPR requires when personal data is collected (art. 13): who the controller is, how to reach
the data protection officer, to whom the data goes and how long it is kept. The comment form, the booking form
and the footer of every public page lead to `/intake/privacy`, which gives the rest of the clause (the purposes,
the legal bases, the rights) as part of the product; an admin keeps the city's part on a console page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime

from services.common.events import is_contract_email
from services.common.runtime import ServiceContext
from services.intake import site_records
from services.intake.models import PrivacyNoticeRow

LIMITS = {"controller": 1000, "dpo_email": 254, "dpo_address": 1000, "recipients": 2000, "retention": 2000}
OPTIONAL = {"dpo_address"}

# What the form offers before anything was saved, for the admin to check against the city's own rules.
SUGGESTED = {
    "recipients": "Dostawcy usług informatycznych i poczty elektronicznej, działający na podstawie umów powierzenia "
                  "przetwarzania danych; podmioty uprawnione na podstawie przepisów prawa.",
    "retention": "Przez okres wynikający z przepisów o archiwizacji, zgodnie z instrukcją kancelaryjną i "
                 "jednolitym rzeczowym wykazem akt urzędu. Imię i nazwisko opublikowane w raporcie za zgodą pozostaje "
                 "w nim do jej wycofania.",
}


@dataclass(frozen=True)
class Notice:
    controller: str
    dpo_email: str
    dpo_address: str
    recipients: str
    retention: str


def read_form(values: Mapping[str, str]) -> tuple[Notice | None, dict[str, str]]:
    """Pure: the notice the form holds, or None and every problem by field (a stable code)."""
    text = {f.name: (values.get(f.name) or "").strip() for f in fields(Notice)}
    problems = site_records.text_problems(text, LIMITS, OPTIONAL)
    if "dpo_email" not in problems and not is_contract_email(text["dpo_email"]):
        problems["dpo_email"] = "email"
    return (None, problems) if problems else (Notice(**text), {})


def form_values(notice: Notice | None) -> dict[str, str]:
    if notice is None:
        return {**dict.fromkeys((f.name for f in fields(Notice)), ""), **SUGGESTED}
    return asdict(notice)


def current(ctx: ServiceContext) -> tuple[Notice, str, datetime] | None:
    return site_records.load(ctx, PrivacyNoticeRow, Notice)


def save(ctx: ServiceContext, notice: Notice, *, actor: str) -> None:
    site_records.store(ctx, PrivacyNoticeRow, notice, actor=actor)
