"""Demo data for `make run`: the 2024 Toruń consultation, shifted so that it is open today.

It goes through the services' own handlers, so it emits the same events a
coordinator's clicks would. Loading it twice changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from services.common.workdays import is_working_day

DEMO_TITLE = "Wspólnie o programie współpracy z NGO na {year} r. – II etap"
DEMO_TOPICS = (
    "Zawartość programu współpracy",
    "Procedury konkursowe",
    "Wzajemne potrzeby i możliwości",
    "Toruńskie Forum Organizacji Pozarządowych",
    "Najwięksi beneficjenci miejskich środków dotacyjnych",
)
DEMO_PLACE = "Urząd Miasta Torunia, ul. Wały gen. Sikorskiego 8, II piętro"
DEMO_ROOM = "sala nr 34"
DEMO_ORGANISER = "Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia"
# The announcement names no legal basis; these are the provisions under which a municipality consults
# its annual programme of cooperation with NGOs. The resolution is named without its number, which the
# announcement does not give.
DEMO_LEGAL_BASIS = ("art. 5a ust. 1 w związku z art. 5 ust. 5 ustawy z dnia 24 kwietnia 2003 r. o działalności "
                    "pożytku publicznego i o wolontariacie")
DEMO_RESOLUTION = ("uchwała Rady Miasta Torunia w sprawie określenia szczegółowego sposobu konsultowania "
                   "z organizacjami pozarządowymi projektów aktów prawa miejscowego")
DEMO_POSTAL_ADDRESS = ("Urząd Miasta Torunia – Wydział Komunikacji Społecznej i Informacji\n"
                       "ul. Wały gen. Sikorskiego 8\n87-100 Toruń")
DEMO_DESCRIPTION = (
    "Rozpoczynamy II etap konsultacji społecznych Programu współpracy Gminy Miasta Toruń z organizacjami "
    "pozarządowymi w {year} r. Zbieramy uwagi i opinie do projektu Programu, który został wypracowany "
    "w procedurze partycypacyjnej z udziałem środowiska pozarządowego i mieszkańców.\n\n"
    "Uwagi można zgłaszać przez formularz na tej stronie, pocztą elektroniczną (formularz uwag w pliku DOCX), "
    "listownie albo osobiście podczas dyżurów konsultacyjnych, na które obowiązują zapisy.\n\n"
    "Konsultacje prowadzi Wydział Komunikacji Społecznej i Informacji Urzędu Miasta Torunia we współpracy "
    "z Radą Działalności Pożytku Publicznego Miasta Torunia. Kontakt: wksii@um.torun.pl."
)


def programme_year(today: date) -> int:
    """The year of the programme consulted: autumn consultations prepare next year's programme."""
    return today.year + 1 if today.month >= 7 else today.year


def demo_title(today: date) -> str:
    return DEMO_TITLE.format(year=programme_year(today))


def _weekday_on_or_after(day: date) -> date:
    while not is_working_day(day):  # the office is closed at weekends and on public holidays
        day += timedelta(days=1)
    return day


def _working_day_before(day: date) -> date:
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def demo_consultation(today: date, tz: Any) -> Any:
    from services.intake import domain

    def at(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=tz)

    first_duty = _weekday_on_or_after(today + timedelta(days=3))
    # Bookings for it must stay open all of today: on a Friday afternoon a deadline "the working day before" a
    # Monday duty day would already have passed.
    while _working_day_before(first_duty) <= today:
        first_duty = _weekday_on_or_after(first_duty + timedelta(days=1))
    second_duty = _weekday_on_or_after(first_duty + timedelta(days=6))
    # Bookings close at the end of the office day before each duty day, never on a weekend or holiday.
    first_deadline, second_deadline = _working_day_before(first_duty), _working_day_before(second_duty)
    return domain.OpenConsultation(
        title=demo_title(today),
        stage="II etap",
        description=DEMO_DESCRIPTION.format(year=programme_year(today)),
        opens_at=at(today - timedelta(days=7), 0),
        closes_at=domain.end_of_day(_weekday_on_or_after(today + timedelta(days=14)), tz),  # the office is open
        topics=DEMO_TOPICS,
        duty_days=(
            domain.DutyDay(first_duty, time(9), time(17), DEMO_PLACE, at(first_deadline, 15, 30), room=DEMO_ROOM),
            domain.DutyDay(second_duty, time(9), time(17), DEMO_PLACE, at(second_deadline, 15, 0), room=DEMO_ROOM),
        ),
        contact_email="konsultacje@um.torun.pl",
        contact_phone="56 611 87 24",
        postal_address=DEMO_POSTAL_ADDRESS,
        organiser=DEMO_ORGANISER,
        legal_basis=DEMO_LEGAL_BASIS,
        resolution=DEMO_RESOLUTION,
        late_policy=domain.LatePolicy.FLAG,
        decisions_need_approval=True,
        outcome_notice=domain.OutcomeNotice.AT_PUBLICATION,
    )


DEMO_STAFF = (
    # (e-mail, role, name)
    ("koordynator@example.org", "coordinator", "Koordynatorka (demo)"),
    ("recenzent@example.org", "reviewer", "Recenzent (demo)"),
    ("administrator@example.org", "admin", "Administrator (demo)"),
)


def demo_password(settings: Any) -> str:
    """UWAGI_DEMO_PASSWORD, or a random one kept in the data dir so restarts keep it (and its sessions)."""
    import secrets

    if settings.demo_password:
        return settings.demo_password
    path = settings.data_dir / "demo_password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


def load_demo(system: Any, *, samples: bool = False) -> list[str]:
    """Create the demo staff and consultation if missing; return lines for the start-up banner.

    `samples`: also the sample comments of `services.demo_submissions` (what `uwagi run` shows a newcomer),
    if the consultation has none yet."""
    from services.common.auth import DEMO_COORDINATOR_EMAIL
    from services.intake import handlers as intake
    from services.intake.models import Consultation
    from services.review.identity import create_staff_user

    settings = system.settings
    intake_ctx, review_ctx = system.contexts["intake"], system.contexts["review"]
    password = demo_password(settings)
    tokens = {email: create_staff_user(review_ctx, email, role, name, actor="demo", password=password)[1]
              for email, role, name in DEMO_STAFF}
    token = settings.demo_token or tokens[DEMO_COORDINATOR_EMAIL]
    today = datetime.now(settings.timezone).date()
    with intake_ctx.db.transaction() as session:
        existing = session.scalar(select(Consultation).where(Consultation.title == demo_title(today)))
    if existing is None:
        existing = intake.open_consultation(intake_ctx, demo_consultation(today, settings.timezone), actor="demo")
    document = load_demo_document(system, existing.id, programme_year(today))
    load_demo_notices(intake_ctx, today)
    loaded = None
    if samples:
        from services.demo_submissions import load_demo_submissions

        loaded = load_demo_submissions(system, existing.id, programme_year(today))
    return [
        f"  Consultation: {existing.title} (id {existing.id})",
        f"  Document:     {document.title} (id {document.id}, version {document.current_version})",
        *([f"  Samples:      {loaded.comments} comments in {loaded.submissions} submissions (web form, letter, "
           f"e-mail with the form); {loaded.transcription} e-mail waits for transcription"] if loaded else []),
        f"  Staff login:  http://127.0.0.1:{settings.port}/review/login",
        *(f"                {email} ({role}), password: {password}" for email, role, _ in DEMO_STAFF),
        f"  Staff token:  {token}",
        f"                (coordinator {DEMO_COORDINATOR_EMAIL}; send as 'Authorization: Bearer <token>')",
    ]


def load_demo_notices(ctx: Any, today: date) -> None:
    """The accessibility statement and the information on personal data as an admin would have filled them in,
    unless they were saved."""
    from services.intake import accessibility, privacy

    if privacy.current(ctx) is None:
        privacy.save(ctx, privacy.Notice(**{
            **privacy.SUGGESTED, "controller": "Prezydent Miasta Torunia, ul. Wały gen. Sikorskiego 8, 87-100 Toruń",
            "dpo_email": "iod@example.org", "dpo_address": ""}), actor="demo")
    if accessibility.current(ctx) is not None:
        return
    week_ago = today - timedelta(days=7)
    accessibility.save(ctx, accessibility.Statement(**{
        **accessibility.SUGGESTED, "site_owner": "Urząd Miasta Torunia", "published_on": week_ago,
        "updated_on": week_ago, "exclusions": "", "prepared_on": week_ago, "reviewed_on": week_ago,
        "contact_person": "Koordynator do spraw dostępności (demo)", "contact_email": "dostepnosc@example.org",
        "contact_phone": "56 611 87 24"}), actor="demo")


def load_demo_document(system: Any, consultation_id: str, year: int | None = None) -> Any:
    """Upload the draft Toruń programme (the resolution with its annex) as the demo consultation's document, once."""
    from services.common.auth import DEMO_COORDINATOR_EMAIL
    from services.documents import drafts
    from services.documents.engine.demo_draft import TORUN_TITLE, make_torun_draft

    ctx = system.contexts["documents"]
    existing = drafts.list_documents(ctx, consultation_id)
    if existing:
        return existing[0]
    year = year or programme_year(datetime.now(ctx.settings.timezone).date())
    return drafts.upload_document(ctx, make_torun_draft(year), title=TORUN_TITLE.format(year=year),
                                  filename=f"projekt-programu-wspolpracy-{year}.docx",
                                  consultation_id=consultation_id, actor=DEMO_COORDINATOR_EMAIL)
