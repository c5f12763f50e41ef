"""What goes to the City Council with the programme once the consultation's results are published.

The president sends the council the draft resolution with the programme as amended after the consultation, and its
justification (uzasadnienie) says how the consultation went: when it ran, how people could comment, how many
comments came and what became of them, and where the report is. Clerks used to count those figures by hand from
the report and retype them. Here they come from the same data as the published report (`reporting.report_input`),
as paragraphs to paste into the justification, and as a package for the council's office:
an information sheet (DOCX) with the paragraphs and the list of attachments, the document after the consultation
(clean and with tracked changes) and the report, exactly as published.

`council_paragraphs` is pure; `council_package` reads the service's rows and stored files.

The hand-over itself happens in the city's document system. The coordinator records when it happened (with the
covering letter's sign and the council's print number, when known) so that the consultation's way ends in Uwagi
too: `record_handover` keeps it and emits `council.handover_recorded`, which intake shows on the public results
page and as the last step of the consultation's progress.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from docx import Document as WordDocument
from docx.shared import Pt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.common.db import utcnow
from services.common.runtime import ServiceContext
from services.common.web import Conflict, Invalid, NotFound
from services.documents import builds, handlers, publishing
from services.documents.engine.ooxml import write_package, zip_date_from_iso
from services.documents.engine.report import DECISIONS, ReportData, polish_date
from services.documents.models import Artifact, ConsultationView, CouncilHandover, Publication, ReportBuild

WORDS: dict[str, dict[str, Any]] = {
    "pl": {
        "heading": "Informacja o przebiegu i wynikach konsultacji",
        "ran": "Konsultacje „{title}”{stage} przeprowadzono od {start} do {end}{organiser}{basis}.",
        "organiser": "; prowadził je {organiser}",
        "basis": ", na podstawie: {basis}",
        "channels": "Uwagi można było zgłaszać: {channels}.",
        "channel_words": {"web": "przez formularz internetowy", "email": "pocztą elektroniczną",
                          "letter": "listownie", "duty_hours": "osobiście podczas dyżurów konsultacyjnych"},
        "duty_days": " ({days})",
        "and": " oraz ",
        "figures": "Liczba zgłoszeń: {submissions}; liczba uwag: {comments}, w tym: {decisions}.",
        "decisions": {"accepted": "uwzględnione", "partially_accepted": "uwzględnione częściowo",
                      "rejected": "nieuwzględnione", "not_considered": "nierozpatrzone"},
        "none": "W konsultacjach nie zgłoszono uwag.",
        "changed": "Uwzględnienie uwag spowodowało zmiany w projekcie: w załączeniu dokument po konsultacjach "
                   "(wersja {version}) oraz ten sam dokument z zaznaczonymi zmianami.",
        "unchanged": "Wyniki konsultacji nie spowodowały zmian w projekcie.",
        "report": "Sprawozdanie z konsultacji, zawierające wszystkie uwagi wraz ze stanowiskiem Miasta, opublikowano "
                  "{published} pod adresem: {url}",
        "attachments": "Załączniki:",
        "files": {"version_clean": "Dokument po konsultacjach (DOCX)",
                  "version_tracked": "Dokument po konsultacjach z zaznaczonymi zmianami (DOCX)",
                  "report_docx": "Sprawozdanie z konsultacji (DOCX)",
                  "report_xlsx": "Zestawienie uwag (XLSX)"},
        "package": "pakiet-dla-rady-miasta",
        "information": "informacja-o-konsultacjach",
    },
    "en": {
        "heading": "How the consultation ran and what came of it",
        "ran": "The consultation “{title}”{stage} ran from {start} to {end}{organiser}{basis}.",
        "organiser": "; it was run by {organiser}",
        "basis": ", under {basis}",
        "channels": "Comments could be sent {channels}.",
        "channel_words": {"web": "through the web form", "email": "by e-mail", "letter": "by letter",
                          "duty_hours": "in person during consultation duty hours"},
        "duty_days": " ({days})",
        "and": " and ",
        "figures": "Submissions: {submissions}; comments: {comments}, of which: {decisions}.",
        "decisions": {"accepted": "accepted", "partially_accepted": "partially accepted", "rejected": "rejected",
                      "not_considered": "not considered"},
        "none": "No comments were received.",
        "changed": "The comments accepted changed the draft: attached are the document after the consultation "
                   "(version {version}) and the same document with its changes tracked.",
        "unchanged": "The consultation did not change the draft.",
        "report": "The consultation report, with every comment and the City's position on it, was published on "
                  "{published} at: {url}",
        "attachments": "Attachments:",
        "files": {"version_clean": "The document after the consultation (DOCX)",
                  "version_tracked": "The document after the consultation with tracked changes (DOCX)",
                  "report_docx": "The consultation report (DOCX)",
                  "report_xlsx": "The table of comments (XLSX)"},
        "package": "package-for-the-city-council",
        "information": "consultation-information",
    },
}
# The package's files, in the order the information sheet lists them.
PACKAGE_KINDS = ("version_clean", "version_tracked", "report_docx", "report_xlsx")


@dataclass(frozen=True)
class Published:
    """What a publication made public: when, the report's public address, the new version (None: unchanged)."""
    day: str  # ISO date, local
    report_url: str
    version: int | None


def _listed(items: list[str], conjunction: str) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + conjunction + items[-1]


def council_paragraphs(data: ReportData, published: Published, lang: str = "pl") -> list[str]:
    """The paragraphs on the consultation for the justification of the resolution, from the report's data."""
    words, consultation = WORDS[lang], data.consultation
    paragraphs = [words["ran"].format(
        title=consultation.title, stage=f" ({consultation.stage})" if consultation.stage else "",
        start=polish_date(consultation.start, lang), end=polish_date(consultation.end, lang),
        organiser=words["organiser"].format(organiser=consultation.organizer) if consultation.organizer else "",
        basis=words["basis"].format(basis=consultation.legal_basis) if consultation.legal_basis else "")]
    channels = []
    for channel in consultation.channels:
        phrase = words["channel_words"].get(channel, channel)
        if channel == "duty_hours" and consultation.duty_days:
            phrase += words["duty_days"].format(days=", ".join(polish_date(d.date, lang)
                                                               for d in consultation.duty_days))
        channels.append(phrase)
    if channels:
        paragraphs.append(words["channels"].format(channels=_listed(channels, words["and"])))
    if data.comments:
        counts = Counter(comment.decision for comment in data.comments)
        figures = words["figures"].format(
            submissions=len({comment.ref.split("#", 1)[0] for comment in data.comments}),
            comments=len(data.comments),
            decisions="; ".join(f"{words['decisions'][code]} – {counts[code]}" for code in DECISIONS))
        paragraphs.append(figures)
    else:
        paragraphs.append(words["none"])
    paragraphs.append(words["changed"].format(version=published.version) if published.version
                      else words["unchanged"])
    paragraphs.append(words["report"].format(published=polish_date(published.day, lang), url=published.report_url))
    # "… 2024 r." at the end of a sentence takes no second full stop, nor does a legal basis that ends in one.
    return [re.sub(r"\.\.$", ".", paragraph) for paragraph in paragraphs]


def information_docx(paragraphs: list[str], attachments: list[str], lang: str = "pl",
                     created: datetime | None = None) -> bytes:
    """The information sheet for the council's office: the paragraphs and the list of attachments."""
    words = WORDS[lang]
    document = WordDocument()
    document.styles["Normal"].font.name = "Calibri"
    document.styles["Normal"].font.size = Pt(11)
    document.core_properties.language = "pl-PL" if lang == "pl" else "en-GB"
    document.core_properties.title = words["heading"]
    document.core_properties.author = ""
    if created is not None:
        document.core_properties.created = document.core_properties.modified = created.replace(tzinfo=None)
    document.add_heading(words["heading"], level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if attachments:
        document.add_paragraph(words["attachments"])
        for number, name in enumerate(attachments, start=1):
            document.add_paragraph(f"{number}. {name}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def council_text(ctx: ServiceContext, publication: Publication) -> tuple[str, list[str]]:
    """The language of the publication's report (the council reads what the city published) and the paragraphs."""
    with ctx.db.transaction() as session:
        build = session.get(ReportBuild, publication.report_build_id)
        lang = build.language if build is not None and build.language in WORDS else "pl"
    return lang, council_paragraphs(_data(ctx, publication.consultation_id), _published(ctx, publication), lang)


def _data(ctx: ServiceContext, consultation_id: str) -> ReportData:
    data, _undecided = handlers.report_data(ctx, consultation_id, placed=False)
    return ReportData.from_json(data)


def _published(ctx: ServiceContext, publication: Publication) -> Published:
    report = next(f for f in publication.files if f.kind == "report_docx")
    day = publication.published_at.astimezone(ctx.settings.timezone).date().isoformat()
    return Published(day, publishing.public_url(ctx, report.artifact_id, report.kind), publication.document_version)


def council_package(ctx: ServiceContext, consultation_id: str) -> tuple[str, bytes]:
    """(file name, ZIP) for the council's office: the information sheet and the published files it lists."""
    publications = publishing.list_publications(ctx, consultation_id)
    if not publications:
        raise NotFound("the consultation's results are not published yet")
    publication = publications[0]
    lang, paragraphs = council_text(ctx, publication)
    words = WORDS[lang]
    with ctx.db.transaction() as session:
        consultation = session.get(ConsultationView, consultation_id)
        kinds = {f.kind: f.artifact_id for f in publication.files}
        artifacts = {kind: session.get(Artifact, kinds[kind]) for kind in PACKAGE_KINDS if kind in kinds}
    if consultation is None:
        raise NotFound("no such consultation")
    files: dict[str, bytes] = {}
    names = []
    for number, (kind, artifact) in enumerate(artifacts.items(), start=2):
        label = words["files"][kind]  # "… (DOCX)": the file is named by the words before the format
        extension = "xlsx" if kind.endswith("xlsx") else "docx"
        stem = handlers.slug(label.rsplit(" (", 1)[0])
        files[f"{number}-{stem}.{extension}"] = builds.artifact_content(ctx, artifact)
        names.append(label)
    files[f"1-{words['information']}.docx"] = information_docx(paragraphs, names, lang, publication.published_at)
    stamp = zip_date_from_iso(publication.published_at.astimezone(ctx.settings.timezone).isoformat())
    return f"{words['package']}-{handlers.slug(consultation.title)}.zip", write_package(files, date_time=stamp)


# --- the hand-over -------------------------------------------------------------------

HANDOVER_LIMITS = {"letter_reference": 200, "print_number": 100, "note": 2000, "resolution_number": 100}


@dataclass(frozen=True)
class HandoverEntry:
    """What the coordinator records of the hand-over to the City Council."""
    handed_over_on: date
    letter_reference: str = ""  # the covering letter's sign, as the city's document system gave it
    print_number: str = ""  # the council's print number ("druk nr") of the draft resolution, once known
    note: str = ""  # for staff only
    adopted_on: date | None = None  # the council's resolution adopting the document, once passed
    resolution_number: str = ""  # its number, "XII/123/24"

    @property
    def public(self) -> tuple[date, str, str, date | None, str]:
        """What the other services are told of (the note never leaves documents)."""
        return self.handed_over_on, self.letter_reference, self.print_number, self.adopted_on, self.resolution_number


def handover_problems(entry: HandoverEntry, *, today: date, closed_on: date) -> dict[str, list[str]]:
    """Pure: stable codes per field of what is wrong with the entry; empty when it can be recorded.

    The draft goes to the council after the consultation ended and no later than today: a date outside that is a
    typo (a wrong year, most often)."""
    problems: dict[str, list[str]] = {}
    if entry.handed_over_on > today:
        problems["handed_over_on"] = ["future"]
    elif entry.handed_over_on < closed_on:
        problems["handed_over_on"] = ["before_closing"]
    if entry.adopted_on is not None:
        if entry.adopted_on > today:
            problems["adopted_on"] = ["future"]
        elif entry.adopted_on < entry.handed_over_on:
            problems["adopted_on"] = ["before_handover"]
        if not entry.resolution_number:
            problems["resolution_number"] = ["required_with_date"]
    elif entry.resolution_number:
        problems["adopted_on"] = ["required_with_number"]
    for field, limit in HANDOVER_LIMITS.items():
        if len(getattr(entry, field)) > limit:
            problems[field] = ["too_long"]
    return problems


def _entry_of(handover: CouncilHandover) -> HandoverEntry:
    return HandoverEntry(handover.handed_over_on, handover.letter_reference, handover.print_number, handover.note,
                         handover.adopted_on, handover.resolution_number)


def record_handover(ctx: ServiceContext, consultation_id: str, entry: HandoverEntry, *,
                    actor: str) -> tuple[CouncilHandover, bool]:
    """Record (or correct) the hand-over and emit `council.handover_recorded` in the same transaction.

    Returns the record and whether it changed: the same entry sent again (a reload, a double click) changes
    nothing and emits nothing, and a change of the staff note alone emits nothing either. Raises NotFound,
    Conflict (results not published yet; or recorded by a colleague at the same moment) or Invalid (`details`:
    field -> codes of `handover_problems`)."""
    now = utcnow()
    tz = ctx.settings.timezone
    try:
        with ctx.transaction() as session:
            consultation = session.get(ConsultationView, consultation_id)
            if consultation is None:
                raise NotFound("nie ma takich konsultacji (no such consultation)")
            published = session.scalar(select(Publication.id).where(Publication.consultation_id == consultation_id)
                                       .limit(1))
            if published is None:
                raise Conflict("wyniki konsultacji nie są jeszcze opublikowane (the results are not published yet)",
                               details={"reasons": ["not_published"]})
            problems = handover_problems(entry, today=now.astimezone(tz).date(),
                                         closed_on=consultation.closes_at.astimezone(tz).date())
            if problems:
                raise Invalid("tego przekazania nie można tak zapisać (the hand-over cannot be recorded so)",
                              details=problems)
            handover = session.get(CouncilHandover, consultation_id, with_for_update=True)
            stored = _entry_of(handover) if handover is not None else None
            if stored == entry:
                return handover, False
            told = stored is not None and stored.public == entry.public
            if handover is None:
                handover = CouncilHandover(consultation_id=consultation_id, revision=1)
                session.add(handover)
            else:
                handover.revision += 1
            handover.handed_over_on, handover.letter_reference = entry.handed_over_on, entry.letter_reference
            handover.print_number, handover.note = entry.print_number, entry.note
            handover.adopted_on, handover.resolution_number = entry.adopted_on, entry.resolution_number
            handover.recorded_by, handover.recorded_at = actor, now
            session.flush()
            if told:  # only the staff note changed: the others have nothing new to show
                return handover, True
            ctx.emit(session, "council.handover_recorded", {
                "consultation_id": consultation_id, "handed_over_on": entry.handed_over_on.isoformat(),
                "letter_reference": entry.letter_reference, "print_number": entry.print_number,
                "adopted_on": entry.adopted_on.isoformat() if entry.adopted_on else None,
                "resolution_number": entry.resolution_number, "revision": handover.revision, "recorded_by": actor,
                "recorded_at": now,
            }, correlation_id=consultation_id)
    except IntegrityError:  # a colleague recorded the first hand-over in the same instant
        raise Conflict("przekazanie zapisano w międzyczasie (the hand-over was recorded meanwhile)",
                       details={"reasons": ["recorded_meanwhile"]}) from None
    return handover, True


def recorded_handover(ctx: ServiceContext, consultation_id: str) -> CouncilHandover | None:
    with ctx.db.transaction() as session:
        return session.get(CouncilHandover, consultation_id)
