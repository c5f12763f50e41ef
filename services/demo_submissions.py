"""Sample comments for `make run`, so that a newcomer finds something to triage, decide and report on.

Each one comes in by its own channel's handler, as it would from a resident: web-form submissions, a letter
entered by staff, a mail carrying the consultation's own DOCX form filled in, and a mail whose comment is in
its text (it waits for staff to transcribe it). Once review has the comments, a reviewer proposes two decisions
and the coordinator approves one of them, so that the approval screens and the dashboard show each state.

The comments quote the demo draft (`services.documents.engine.demo_draft`), so that they anchor to its
provisions. People and organisations are invented; their addresses are at example.org, whose mail goes to
the data folder's outbox like every other e-mail of `make run`.
"""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy import func, select

log = logging.getLogger("uwagi.demo")

# The reviewer's two proposals, found by the text of the comment they answer.
ACCEPTED_SECTION = "§ 12 ust. 2 pkt 2"
REJECTED_SECTION = "§ 9"
BUDGET_COMMENT = {
    "section": REJECTED_SECTION,
    "current_text": "Na realizację programu w {year} r. przeznacza się kwotę nie mniejszą niż 9 000 000 zł.",
    "proposal": "Na realizację programu w {year} r. przeznacza się kwotę nie mniejszą niż 9 500 000 zł.",
    "justification": "Koszty realizacji zadań rosną (płaca minimalna, ceny energii i wynajmu), a kwota "
                     "przeznaczona na program od kilku lat się nie zmienia.",
    "topic": "Zawartość programu współpracy",
}
WEB = (
    {
        "days_ago": 6,
        "submitter": {"name": "Małgorzata Kowalczyk", "organization": "Fundacja Aktywności Lokalnej „Przystań”",
                      "email": "m.kowalczyk@example.org", "publish_consent": True},
        "comments": (
            {"section": "§ 5 ust. 3 pkt 3",
             "current_text": "udostępnianie organizacjom lokali Toruńskiego Centrum Aktywności Lokalnej „2. Piętro”;",
             "proposal": "udostępnianie organizacjom lokali Toruńskiego Centrum Aktywności Lokalnej „2. Piętro” "
                         "oraz innych lokali gminnych na preferencyjnych warunkach;",
             "justification": "Centrum „2. Piętro” nie mieści wszystkich chętnych organizacji, a na osiedlach "
                              "brakuje miejsc na spotkania i zajęcia. Wolne lokale gminne mogłyby służyć "
                              "organizacjom działającym w danej dzielnicy.",
             "topic": "Wzajemne potrzeby i możliwości"},
            BUDGET_COMMENT,
        ),
    },
    {
        "days_ago": 5,
        "submitter": {"name": "Katarzyna Wiśniewska", "organization": None, "email": "k.wisniewska@example.org",
                      "publish_consent": False},
        "comments": (
            {"section": "§ 6 ust. 1",
             "current_text": "",
             "proposal": "Dodać punkt: „wspierania osób z niepełnosprawnościami i ich rodzin;”.",
             "justification": "Zadania na rzecz osób z niepełnosprawnościami są realizowane co roku, a nie ma ich "
                              "wśród priorytetów programu.",
             "topic": "Zawartość programu współpracy"},
        ),
    },
    {
        "days_ago": 3,
        "submitter": {"name": "Tomasz Lewandowski", "organization": "Toruńskie Stowarzyszenie Sportowe „Wisła”",
                      "email": "zarzad.tss@example.org", "publish_consent": True},
        "comments": (
            {"section": ACCEPTED_SECTION,
             "current_text": "osoby wskazane przez organizacje, z wyłączeniem osób reprezentujących organizacje "
                             "biorące udział w konkursie.",
             "proposal": "osoby wskazane przez organizacje, z wyłączeniem osób reprezentujących organizacje "
                         "biorące udział w konkursie, a także, z głosem doradczym, osoby posiadające "
                         "specjalistyczną wiedzę w dziedzinie obejmującej zakres zadań publicznych, których "
                         "konkurs dotyczy.",
             "justification": "Ustawa pozwala powołać do komisji konkursowej ekspertów z głosem doradczym. "
                              "Przy konkursach specjalistycznych ich opinia podnosi jakość oceny ofert.",
             "topic": "Procedury konkursowe"},
            {"section": "§ 9",
             "current_text": "Na realizację programu w {year} r. przeznacza się kwotę nie mniejszą niż 9 000 000 zł.",
             "proposal": "Zwiększyć kwotę przeznaczoną na realizację programu co najmniej o wskaźnik inflacji.",
             "justification": "Bez waloryzacji realna wartość dotacji spada z roku na rok.",
             "topic": "Zawartość programu współpracy"},
        ),
    },
    {
        # A resident backs the foundation's budget comment word for word, as campaigns ask supporters to: review
        # puts the two in one group of repeated comments, to be decided together.
        "days_ago": 2,
        "submitter": {"name": "Ewa Nowicka", "organization": None, "email": "ewa.nowicka@example.org",
                      "publish_consent": False},
        "comments": (BUDGET_COMMENT,),
    },
)
LETTER = {
    "days_ago": 4,
    "submitter": {"name": "Halina Dąbrowska", "organization": "Stowarzyszenie Seniorów „Złota Jesień”",
                  "email": None, "publish_consent": True},
    "postal_address": "ul. Szeroka 12/4\n87-100 Toruń",
    "comments": (
        {"section": "§ 6 ust. 1 pkt 5",
         "current_text": "działalności na rzecz osób w wieku emerytalnym;",
         "proposal": "działalności na rzecz osób w wieku emerytalnym, w tym przeciwdziałania samotności "
                     "i wykluczeniu cyfrowemu seniorów;",
         "justification": "Coraz więcej starszych mieszkańców Torunia żyje samotnie; zajęcia prowadzone przez "
                          "organizacje są dla nich często jedynym kontaktem z innymi.",
         "topic": "Zawartość programu współpracy"},
    ),
}
FORM_MAIL = {
    "days_ago": 2,
    "name": "Jan Kamiński",
    "organization": "Stowarzyszenie Mieszkańców Starego Miasta",
    "email": "jan.kaminski@example.org",
    "rows": (
        ("§ 8 ust. 2",
         "Otwarte konkursy ofert ogłasza się w Biuletynie Informacji Publicznej, na stronie internetowej Gminy "
         "oraz na tablicy ogłoszeń Urzędu Miasta Torunia.",
         "Otwarte konkursy ofert ogłasza się w Biuletynie Informacji Publicznej, na stronie internetowej Gminy, "
         "na tablicy ogłoszeń Urzędu Miasta Torunia oraz w newsletterze dla organizacji pozarządowych.",
         "Wiele małych organizacji nie śledzi BIP; newsletter dociera do nich bezpośrednio."),
        ("§ 10 ust. 1",
         "",
         "Dodać miernik: „liczba organizacji korzystających z lokali udostępnianych przez Gminę”.",
         "Pozwoli ocenić, czy współpraca pozafinansowa rzeczywiście wspiera organizacje."),
    ),
}
TEXT_MAIL = {
    "days_ago": 1,
    "name": "Piotr Zieliński",
    "email": "piotr.zielinski@example.org",
    "subject": "Uwaga do programu współpracy",
    "body": ("Dzień dobry,\n\n"
             "przesyłam uwagę do projektu programu. W § 7 proponuję dopisać, że konkursy na zadania realizowane od "
             "stycznia ogłasza się do końca listopada roku poprzedniego. Organizacje, które dostają dotację "
             "w marcu, muszą przez pierwsze miesiące roku finansować zajęcia z własnych środków.\n\n"
             "Z poważaniem\nPiotr Zieliński\n"),
}


@dataclass(frozen=True)
class Loaded:
    submissions: int
    comments: int
    transcription: int


def load_demo_submissions(system: Any, consultation_id: str, year: int, *, decide: bool = True) -> Loaded | None:
    """Submit the samples to the demo consultation unless it has submissions already; None if it had.

    The decisions follow in a thread of their own (review learns of the comments from the bus); `decide=False`
    leaves them out."""
    from services.intake.models import Submission

    ctx = system.contexts["intake"]
    with ctx.db.transaction() as session:
        if session.scalar(select(func.count()).select_from(Submission)
                          .where(Submission.consultation_id == consultation_id)):
            return None
    now = datetime.now(ctx.settings.timezone)
    comments = _submit_web(ctx, consultation_id, now, year) + _enter_letter(ctx, consultation_id, now, year)
    comments += _mail_form(ctx, consultation_id, now) + _mail_text(ctx, consultation_id, now)
    if decide:
        threading.Thread(target=_decide_when_review_has_them, args=(system, consultation_id, comments, year),
                         name="demo-decisions", daemon=True).start()
    # the web forms, the letter and the two mails; the mail with its comment in the text waits for transcription
    return Loaded(submissions=len(WEB) + 1 + 2, comments=comments, transcription=1)


def _drafts(comments: tuple[dict, ...], year: int) -> tuple:
    from services.intake import domain

    return tuple(domain.CommentDraft(**{name: _in_year(value, year) for name, value in comment.items()})
                 for comment in comments)


def _in_year(text: str | None, year: int) -> str | None:
    # The draft names the programme's year, which follows today's date; the samples quote it.
    return text.replace("{year}", str(year)) if text else text


def _submitter(data: dict) -> Any:
    from services.intake import domain

    return domain.Submitter(name=data["name"], email=data["email"], publish_consent=data["publish_consent"],
                            organization=data["organization"])


def _at_office_hours(now: datetime, days_ago: int, hour: int = 10) -> datetime:
    return (now - timedelta(days=days_ago)).replace(hour=hour, minute=17, second=0, microsecond=0)


def _submit_web(ctx: Any, consultation_id: str, now: datetime, year: int) -> int:
    from services.intake import domain, handlers

    for sample in WEB:
        handlers.submit_comments(ctx, domain.SubmitComments(
            consultation_id=consultation_id, submitter=_submitter(sample["submitter"]),
            comments=_drafts(sample["comments"], year)), now=_at_office_hours(now, sample["days_ago"]))
    return sum(len(sample["comments"]) for sample in WEB)


def _enter_letter(ctx: Any, consultation_id: str, now: datetime, year: int) -> int:
    from services.common.auth import DEMO_COORDINATOR_EMAIL
    from services.intake.paper.handlers import EnterPaperSubmission, enter_paper_submission

    postmarked: date = (now - timedelta(days=LETTER["days_ago"])).date()
    enter_paper_submission(ctx, EnterPaperSubmission(
        consultation_id=consultation_id, channel="letter", submitter=_submitter(LETTER["submitter"]),
        comments=_drafts(LETTER["comments"], year), received_on=postmarked, postal_address=LETTER["postal_address"]),
        actor=DEMO_COORDINATOR_EMAIL)
    return len(LETTER["comments"])


def _mail(ctx: Any, consultation_id: str, sender: str, address: str, subject: str, sent_at: datetime) -> EmailMessage:
    """A mail to the consultation's contact address, as its announcement asks."""
    from services.intake.models import Consultation

    with ctx.db.transaction() as session:
        contact = session.scalar(select(Consultation.contact_email).where(Consultation.id == consultation_id))
    message = EmailMessage()
    message["From"] = f"{sender} <{address}>"
    message["To"] = contact or "konsultacje@example.org"
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = make_msgid(domain="example.org")
    return message


def _mail_form(ctx: Any, consultation_id: str, now: datetime) -> int:
    """The consultation's own form, downloaded, filled in and attached, as a resident would."""
    from services.intake import handlers
    from services.intake.mail.importer import import_mail

    sent_at = _at_office_hours(now, FORM_MAIL["days_ago"], hour=21)
    message = _mail(ctx, consultation_id, FORM_MAIL["name"], FORM_MAIL["email"],
                    "Uwagi do projektu programu współpracy", sent_at)
    message.set_content("Dzień dobry,\n\nw załączeniu przesyłam formularz z uwagami naszego stowarzyszenia.\n\n"
                        f"Pozdrawiam\n{FORM_MAIL['name']}\n{FORM_MAIL['organization']}\n")
    form = _filled_form(handlers.comment_form(ctx, consultation_id))
    message.add_attachment(form, maintype="application",
                           subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                           filename="formularz-uwag.docx")
    import_mail(ctx, message.as_bytes(), received_at=sent_at, source="demo", consultation_id=consultation_id)
    return len(FORM_MAIL["rows"])


def _filled_form(blank: bytes) -> bytes:
    import docx

    document = docx.Document(io.BytesIO(blank))
    details, comments = document.tables[0], document.tables[1]
    values = (FORM_MAIL["name"], FORM_MAIL["organization"], "", FORM_MAIL["email"], "")
    for row, value in zip(details.rows, values):
        row.cells[1].paragraphs[0].text = value
    for row, values in zip(comments.rows[1:], FORM_MAIL["rows"]):
        for cell, value in zip(row.cells[1:], values):
            cell.paragraphs[0].text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _mail_text(ctx: Any, consultation_id: str, now: datetime) -> int:
    """A comment written in the mail itself: staff transcribe it (it counts once transcribed)."""
    from services.intake.mail.importer import import_mail

    sent_at = _at_office_hours(now, TEXT_MAIL["days_ago"], hour=8)
    message = _mail(ctx, consultation_id, TEXT_MAIL["name"], TEXT_MAIL["email"], TEXT_MAIL["subject"], sent_at)
    message.set_content(TEXT_MAIL["body"])
    import_mail(ctx, message.as_bytes(), received_at=sent_at, source="demo", consultation_id=consultation_id)
    return 0


def _decide_when_review_has_them(system: Any, consultation_id: str, expected: int, year: int) -> None:
    try:
        decide_samples(system, consultation_id, expected, year)
    except Exception:  # the demo must not stop the system; the log says what went wrong
        log.exception("demo decisions not made")


def decide_samples(system: Any, consultation_id: str, expected: int, year: int, *, timeout: float = 120) -> bool:
    """Once review holds the `expected` comments: the reviewer proposes acceptance of the expert-member comment
    and rejection of the first budget comment; the coordinator approves the acceptance. False if review did not
    get the comments in time."""
    import time

    from services.common.auth import DEMO_COORDINATOR_EMAIL
    from services.review import decisions, identity
    from services.review.domain import Decide
    from services.review.models import ReviewComment

    ctx = system.contexts["review"]
    deadline = time.monotonic() + timeout
    while True:
        with ctx.db.transaction() as session:
            stored = session.scalars(select(ReviewComment).where(ReviewComment.consultation_id == consultation_id)
                                     .order_by(ReviewComment.received_at, ReviewComment.number)).all()
            by_section = {}
            for comment in stored:
                by_section.setdefault(comment.section, comment.id)
        if len(stored) >= expected:
            break
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    reviewer = identity.identity_of(identity.find_user(ctx, "recenzent@example.org"))
    coordinator = identity.identity_of(identity.find_user(ctx, DEMO_COORDINATOR_EMAIL))
    accepted = by_section[ACCEPTED_SECTION]
    # Accepted as proposed: the proposal is the wording the next version takes (the report's "Przyjęte brzmienie").
    wording = next(c["proposal"] for c in WEB[2]["comments"] if c["section"] == ACCEPTED_SECTION)
    decisions.decide(ctx, Decide(accepted, "accepted", "Uwaga zgodna z art. 15 ust. 2d ustawy; zapis "
                                 "uzupełniono.", final_text=wording), reviewer)
    decisions.decide(ctx, Decide(by_section[REJECTED_SECTION], "rejected",
                                 f"Wysokość środków na realizację programu wynika z projektu budżetu Gminy na "
                                 f"{year} r. i zostanie ustalona w uchwale budżetowej."), reviewer)
    decisions.approve(ctx, accepted, coordinator, "Zgoda.")
    return True
