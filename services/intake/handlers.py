"""Intake use cases. Each takes a command and its dependencies, and commits one unit of work."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from services.common.db import add_event
from services.common.events import Event, new_envelope, utcnow
from services.common.runtime import ServiceContext
from services.common.web import Conflict, Invalid, NotFound, Refused
from services.intake import domain, references, submission_store
from services.intake.bookings.handlers import sync_slots
from services.intake.models import (Comment, Consultation, ConsultationLogEntry, CouncilHandoverView, InboundMail,
                                    Outbox, PublishedResults, Submission, UndeliveredMail)

SERVICE = "intake"


@dataclass(frozen=True)
class Receipt:
    submission_id: str
    reference: str
    status_token: str
    status_url: str
    comment_ids: list[str]
    late: bool
    received_at: datetime


class LifecycleConflict(Conflict):
    """A lifecycle step refused now; `code` is the domain's reason (not_allowed, reason_required …)."""

    def __init__(self, refused: domain.LifecycleRefused):
        super().__init__(refused.message, details={"step": [refused.code]})
        self.code = refused.code


class DetailsInvalid(Invalid):
    """Inconsistent details or changes the state does not allow; `details` maps fields to codes."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("the consultation's details are not valid: " + ", ".join(
            f"{name} ({code})" for name, code in sorted(problems.items())), details=problems)


def details_of(consultation: Consultation) -> domain.ConsultationDetails:
    return domain.ConsultationDetails(
        title=consultation.title, stage=consultation.stage, description=consultation.description,
        organiser=consultation.organiser, legal_basis=consultation.legal_basis, resolution=consultation.resolution,
        opens_at=consultation.opens_at, closes_at=consultation.closes_at, channels=tuple(consultation.channels),
        topics=tuple(consultation.topics), duty_days=tuple(domain.DutyDay.from_json(d) for d in consultation.duty_days),
        contact_email=consultation.contact_email, contact_phone=consultation.contact_phone,
        postal_address=consultation.postal_address, late_policy=domain.LatePolicy(consultation.late_policy),
        decisions_need_approval=consultation.decisions_need_approval,
        outcome_notice=domain.OutcomeNotice(consultation.outcome_notice),
    )


def _write_details(consultation: Consultation, details: domain.ConsultationDetails) -> None:
    data = details.as_json()
    for name in domain.EDITABLE_FIELDS:
        if name not in ("opens_at", "closes_at"):
            setattr(consultation, name, data[name])
    consultation.opens_at, consultation.closes_at = details.opens_at, details.closes_at


def _log(session: Session, consultation: Consultation, action: str, *, actor: str, now: datetime,
         from_state: str | None = None, to_state: str | None = None, reason: str = "",
         changes: dict | None = None) -> None:
    session.add(ConsultationLogEntry(consultation_id=consultation.id, at=now, actor=actor or "system", action=action,
                                     from_state=from_state, to_state=to_state, reason=reason, changes=changes or {}))


def _announce(session: Session, consultation: Consultation) -> None:
    """Emit the consultation's current announcement; consumers keep the highest revision."""
    consultation.revision = (consultation.revision or 0) + 1
    data = details_of(consultation).as_json()
    data.pop("description")
    add_event(session, Outbox, new_envelope("consultation.published", {
        **data, "consultation_id": consultation.id, "opens_at": consultation.opens_at,
        "closes_at": consultation.closes_at, "state": consultation.state, "revision": consultation.revision,
    }, producer=SERVICE))


def create_consultation(ctx: ServiceContext, cmd: domain.OpenConsultation, *, actor: str,
                        now: datetime | None = None) -> Consultation:
    """A new consultation: a draft to finish in the console, or opened (announced) at once."""
    now = now or utcnow()
    problems = domain.validate_details(cmd, ctx.settings.timezone)
    if problems:
        raise DetailsInvalid(problems)
    consultation = Consultation(id=str(uuid.uuid4()), state=domain.State.DRAFT.value, revision=0,
                                document_sections=[], created_by=actor, created_at=now)
    _write_details(consultation, cmd)
    with ctx.transaction() as session:
        session.add(consultation)
        session.flush()
        sync_slots(session, consultation, ctx.settings.timezone)
        _log(session, consultation, "created", actor=actor, now=now, to_state=domain.State.DRAFT.value,
             changes={name: {"before": None, "after": value} for name, value in cmd.as_json().items()})
        if not cmd.draft:
            # An API caller may record a consultation that has already run, so no check of the dates here.
            _apply(session, consultation, domain.Transition(
                domain.Step.OPEN, domain.State.DRAFT, domain.State.OPEN, "", consultation.closes_at),
                actor=actor, now=now)
    return consultation


def open_consultation(ctx: ServiceContext, cmd: domain.OpenConsultation, *, actor: str) -> Consultation:
    """Create and open at once (the JSON API's and the demo's way)."""
    return create_consultation(ctx, replace(cmd, draft=False), actor=actor)


def edit_consultation(ctx: ServiceContext, consultation_id: str, changes: dict, *, actor: str,
                      now: datetime | None = None) -> Consultation:
    """Change some of a consultation's details, as far as its state allows; audited with before and after."""
    now = now or utcnow()
    unknown = set(changes) - set(domain.EDITABLE_FIELDS)
    if unknown:
        raise DetailsInvalid({name: "unknown" for name in unknown})
    with ctx.transaction() as session:
        consultation = _locked(session, consultation_id)
        current = details_of(consultation)
        try:
            proposed = replace(current, **changes)
        except (TypeError, ValueError) as exc:
            raise Invalid(f"invalid change: {exc}") from None
        state = domain.effective_state(consultation.state, consultation.closes_at, now)
        problems = {**domain.validate_details(proposed, ctx.settings.timezone),
                    **domain.edit_violations(state, current, proposed, now=now, tz=ctx.settings.timezone)}
        if problems:
            raise DetailsInvalid(problems)
        diff = domain.changed_fields(current, proposed)
        if not diff:
            return consultation
        _write_details(consultation, proposed)
        consultation.updated_at = now
        if "duty_days" in diff:
            sync_slots(session, consultation, ctx.settings.timezone)
        _log(session, consultation, "edited", actor=actor, now=now, changes=diff)
        if consultation.state != domain.State.DRAFT.value:
            _announce(session, consultation)
    return consultation


def take_step(ctx: ServiceContext, consultation_id: str, step: domain.Step | str, *, actor: str, reason: str = "",
              now: datetime | None = None) -> Consultation:
    """A coordinator's step along the lifecycle (open, close, start the review)."""
    now = now or utcnow()
    with ctx.transaction() as session:
        consultation = _locked(session, consultation_id)
        _record_passed_deadline(session, consultation, domain.Step(step), now)
        try:
            transition = domain.plan_step(consultation.state, step, closes_at=consultation.closes_at,
                                          channels=consultation.channels, now=now, reason=reason)
        except domain.LifecycleRefused as refused:
            raise LifecycleConflict(refused) from None
        _apply(session, consultation, transition, actor=actor, now=now)
    return consultation


def advance_lifecycle(session: Session, consultation_id: str, step: domain.Step | str, *, actor: str,
                      reason: str = "", now: datetime | None = None) -> bool:
    """Take `step` inside the caller's transaction (event handlers, sweeps) if the lifecycle allows it now.

    Idempotent: a step already taken, or not possible from the current state, changes nothing and
    returns False. `publish_report` from `closed` passes through `in_review`, recording both steps.
    """
    now = now or utcnow()
    consultation = session.get(Consultation, consultation_id)
    if consultation is None:
        return False
    step = domain.Step(step)
    _record_passed_deadline(session, consultation, step, now)
    if step is domain.Step.PUBLISH_REPORT and consultation.state == domain.State.CLOSED.value:
        advance_lifecycle(session, consultation_id, domain.Step.START_REVIEW, actor=actor, reason=reason, now=now)
    try:
        transition = domain.plan_step(consultation.state, step, closes_at=consultation.closes_at,
                                      channels=consultation.channels, now=now, reason=reason)
    except domain.LifecycleRefused:
        return False
    _apply(session, consultation, transition, actor=actor, now=now)
    return True


def _record_passed_deadline(session: Session, consultation: Consultation, step: domain.Step, now: datetime) -> None:
    """Before any later step, write down the close that the deadline made (if the sweep has not yet)."""
    if step is domain.Step.CLOSE or consultation.state != domain.State.OPEN.value or now <= consultation.closes_at:
        return
    _apply(session, consultation, domain.plan_step(consultation.state, domain.Step.CLOSE, now=now,
                                                   closes_at=consultation.closes_at, channels=consultation.channels,
                                                   reason="deadline passed"),
           actor="system", now=now)


def _apply(session: Session, consultation: Consultation, transition: domain.Transition, *, actor: str,
           now: datetime) -> None:
    changes = {}
    if transition.closes_at != consultation.closes_at:
        changes["closes_at"] = {"before": consultation.closes_at.isoformat(), "after": transition.closes_at.isoformat()}
        consultation.closes_at = transition.closes_at
    consultation.state = transition.to_state.value
    consultation.updated_at = now
    _log(session, consultation, transition.step.value, actor=actor, now=now, from_state=transition.from_state.value,
         to_state=transition.to_state.value, reason=transition.reason, changes=changes)
    _announce(session, consultation)


def _locked(session: Session, consultation_id: str) -> Consultation:
    consultation = session.get(Consultation, consultation_id, with_for_update=True)
    if consultation is None:
        raise NotFound("no such consultation")
    return consultation


def close_expired_consultations(ctx: ServiceContext, *, now: datetime | None = None) -> int:
    """The sweep: record the close of every open consultation whose deadline has passed."""
    now = now or utcnow()
    with ctx.db.transaction() as session:
        expired = list(session.scalars(select(Consultation.id).where(
            Consultation.state == domain.State.OPEN.value, Consultation.closes_at < now)))
    closed = 0
    for consultation_id in expired:
        with ctx.transaction() as session:
            closed += advance_lifecycle(session, consultation_id, domain.Step.CLOSE, actor="system",
                                        reason="deadline passed", now=now)
    return closed


def list_open_consultations(ctx: ServiceContext, *, now: datetime | None = None) -> list[Consultation]:
    now = now or utcnow()
    with ctx.db.transaction() as session:
        query = (select(Consultation).where(Consultation.state != domain.State.DRAFT.value,
                                            Consultation.opens_at <= now, Consultation.closes_at >= now)
                 .order_by(Consultation.closes_at))
        return list(session.scalars(query))


@dataclass(frozen=True)
class PastConsultation:
    consultation: Consultation
    state: str  # the effective state: closed, in_review or report_published
    results_published_at: datetime | None  # when its results were last published, if ever


def list_past_consultations(ctx: ServiceContext, *, now: datetime | None = None,
                            limit: int = 50) -> list[PastConsultation]:
    """Announced consultations whose deadline has passed, the latest deadline first, with whether their results
    are out: residents come back for last year's report, or to see how far this year's review has got."""
    now = now or utcnow()
    with ctx.db.transaction() as session:
        published = (select(PublishedResults.consultation_id, func.max(PublishedResults.published_at).label("at"))
                     .group_by(PublishedResults.consultation_id).subquery())
        rows = session.execute(
            select(Consultation, published.c.at).outerjoin(published, published.c.consultation_id == Consultation.id)
            .where(Consultation.state != domain.State.DRAFT.value, Consultation.closes_at < now)
            .order_by(Consultation.closes_at.desc()).limit(limit))
        return [PastConsultation(consultation, domain.effective_state(consultation.state, consultation.closes_at,
                                                                      now).value, published_at)
                for consultation, published_at in rows]


def progress_facts(ctx: ServiceContext, consultation: Consultation, *, state: domain.State,
                   warnings: int) -> domain.ProgressFacts:
    """What intake knows of the consultation's progress, for `domain.progress_steps`: the caller's `state` (the
    effective one) and count of readiness warnings, and the counts from the database."""
    from services.intake.mail.importer import NEEDS_REVIEW  # the importer records submissions through this module

    with ctx.db.transaction() as session:
        of_consultation = Submission.consultation_id == consultation.id
        submissions = session.scalar(select(func.count()).select_from(Submission).where(of_consultation))
        counted = (select(func.count()).select_from(Comment).join(Submission, Comment.submission_id == Submission.id)
                   .where(of_consultation, Comment.status != "dismissed"))
        comments = session.scalar(counted)
        decided = session.scalar(counted.where(Comment.status.not_in(("received", "dismissed"))))
        mails_waiting = session.scalar(select(func.count()).select_from(InboundMail).where(
            InboundMail.consultation_id == consultation.id, InboundMail.status == NEEDS_REVIEW))
        results = session.scalar(select(func.count()).select_from(PublishedResults)
                                 .where(PublishedResults.consultation_id == consultation.id))
        handover = session.get(CouncilHandoverView, consultation.id)
        not_told = session.scalar(select(func.count()).select_from(Submission).where(of_consultation, not_reached()))
    return domain.ProgressFacts(
        state=state, warnings=warnings, document_published=bool(consultation.document_id),
        submissions=submissions or 0, comments=comments or 0, decided=decided or 0,
        mails_waiting=mails_waiting or 0, results_published=bool(results),
        handed_to_council_on=handover.handed_over_on if handover is not None else None,
        adopted_by_resolution=handover.resolution_number if handover is not None and handover.adopted_on else "",
        not_told=not_told or 0)


def list_all_consultations(ctx: ServiceContext) -> list[Consultation]:
    """Every consultation, drafts included, newest first (staff only)."""
    with ctx.db.transaction() as session:
        return list(session.scalars(select(Consultation).order_by(Consultation.created_at.desc())))


def get_consultation(ctx: ServiceContext, consultation_id: str, *, include_drafts: bool = False) -> Consultation:
    """A consultation; drafts exist only for staff, so the public gets a 404 for them."""
    with ctx.db.transaction() as session:
        consultation = session.get(Consultation, consultation_id)
        if consultation is None or (consultation.state == domain.State.DRAFT.value and not include_drafts):
            raise NotFound("no such consultation")
        return consultation


def comment_form(ctx: ServiceContext, consultation_id: str) -> bytes:
    """The consultation's downloadable comment form (DOCX), generated from its announcement and draft."""
    from babel.dates import format_date

    from services.common.locales import babel_locale
    from services.intake.comment_form import CommentFormSpec, FormUnit, build_comment_form

    consultation = get_consultation(ctx, consultation_id)
    local_deadline = consultation.closes_at.astimezone(ctx.settings.timezone)
    return build_comment_form(CommentFormSpec(
        title=consultation.title, stage=consultation.stage or "", organiser=consultation.organiser or "",
        legal_basis=consultation.legal_basis or "",
        deadline=format_date(local_deadline.date(), "d MMMM y", locale=babel_locale("pl")) + " r.",
        contact_email=consultation.contact_email or "", contact_phone=consultation.contact_phone or "",
        postal_address=consultation.postal_address or "",
        units=tuple(FormUnit(label=u.get("label") or "", kind=u.get("kind") or "", title=u.get("title") or "")
                    for u in consultation.document_sections or []),
        created=consultation.opens_at.astimezone(ctx.settings.timezone),
    ))


def consultation_log(ctx: ServiceContext, consultation_id: str) -> list[ConsultationLogEntry]:
    get_consultation(ctx, consultation_id, include_drafts=True)
    with ctx.db.transaction() as session:
        return list(session.scalars(select(ConsultationLogEntry).where(
            ConsultationLogEntry.consultation_id == consultation_id).order_by(ConsultationLogEntry.id)))


def submit_comments(ctx: ServiceContext, cmd: domain.SubmitComments, *, now: datetime | None = None) -> Receipt:
    with ctx.transaction() as session:
        return record_submission(ctx, session, cmd, received_at=now or utcnow())


def record_submission(ctx: ServiceContext, session: Session, cmd: domain.SubmitComments, *, received_at: datetime,
                      needs_review: bool = False, provenance: domain.Provenance | None = None,
                      submission_id: str | None = None, signed_by: Sequence[str] = ()) -> Receipt:
    """Record a submission and its `submission.received` in the caller's transaction (the web form's own, or
    e-mail intake's together with the mail's row). `needs_review`: staff must transcribe it from the source;
    `signed_by`: who signed the files it came in, as their signatures say (not verified)."""
    token = domain.new_status_token()
    year = received_at.astimezone(ctx.settings.timezone).year
    consultation, number = submission_store.read_rules(ctx.db, session, cmd.consultation_id, year)
    if consultation is None or consultation.state == domain.State.DRAFT.value:
        raise NotFound("no such consultation")
    if cmd.channel not in consultation.channels:
        raise Refused(f"this consultation does not accept comments by {cmd.channel}")
    timing = domain.classify_timing(received_at, consultation.opens_at, consultation.closes_at)
    if timing is domain.Timing.NOT_YET_OPEN:
        raise Conflict("the consultation has not opened yet")
    if timing is domain.Timing.LATE and consultation.late_policy == domain.LatePolicy.REFUSE.value:
        raise Refused("the deadline for comments has passed", details={"closes_at": consultation.closes_at.isoformat()})
    if number is None:
        if year not in references.NUMBERED_YEARS:  # a consultation open in such a year: no reference can say it
            raise Invalid(f"the date of receipt is out of range (year {year})")
        number = references.allocate(ctx.db, session, year)
    reference = domain.format_reference(year, number)
    submission_id, late = submission_id or str(uuid.uuid4()), timing is domain.Timing.LATE
    comments = [{"id": str(uuid.uuid4()), "submission_id": submission_id, "number": position, "section": c.section,
                 "current_text": c.current_text, "proposal": c.proposal, "justification": c.justification,
                 "topic": c.topic, "status": "received", "decision_justification": "", "decision_revision": 0}
                for position, c in enumerate(cmd.comments, start=1)]
    status_url = f"{ctx.settings.public_url}/intake/status?{urlencode({'reference': reference, 'token': token})}"
    # The payload is built from a command the request schema (or the form, or the mail reader) has checked;
    # consumers validate it again on receipt, and tests validate every produced payload.
    envelope = ctx.new_event("submission.received", {
        "submission_id": submission_id, "consultation_id": consultation.id,
        "consultation_title": consultation.title, "reference": reference, "channel": cmd.channel,
        "received_at": received_at, "late": late, "language": cmd.language, "status_url": status_url,
        "submitter": {"name": cmd.submitter.name, "organization": cmd.submitter.organization,
                      "email": cmd.submitter.email, "publish_consent": cmd.submitter.publish_consent,
                      "kind": cmd.submitter.kind},
        "comments": [{"comment_id": c["id"], "number": c["number"], "section": c["section"],
                      "current_text": c["current_text"], "proposal": c["proposal"],
                      "justification": c["justification"], "topic": c["topic"]} for c in comments],
        **({"needs_review": True} if needs_review else {}),
        **({"provenance": provenance.as_event()} if provenance is not None else {}),
        **({"signed_by": list(signed_by)} if signed_by else {}),
    }, correlation_id=reference, validate=False)
    submission_store.write_submission(ctx.db, session, {
        "id": submission_id, "reference": reference, "consultation_id": consultation.id, "channel": cmd.channel,
        "submitter_name": cmd.submitter.name, "organization": cmd.submitter.organization,
        "email": cmd.submitter.email, "publish_consent": cmd.submitter.publish_consent, "kind": cmd.submitter.kind,
        "language": cmd.language, "received_at": received_at, "late": late,
        "status_token_hash": domain.hash_token(token),
        **(provenance.columns() if provenance is not None else {}),
    }, comments, envelope)
    return Receipt(submission_id, reference, token, status_url, [c["id"] for c in comments], late, received_at)


def submission_status(ctx: ServiceContext, reference: str, token: str) -> Submission:
    with ctx.db.transaction() as session:
        submission = session.scalar(
            select(Submission).where(Submission.reference == reference).options(selectinload(Submission.comments))
        )
        # One answer for "no such reference" and "wrong token": references are guessable.
        if submission is None or not domain.token_matches(token, submission.status_token_hash):
            raise NotFound("no submission with this reference and token")
        return submission


# --- event handlers -------------------------------------------------------------


def on_comment_decided(event: Event, session: Session) -> None:
    """Keep each comment's public status current; older revisions never overwrite newer ones."""
    data = event.data
    comment = session.get(Comment, data["comment_id"])
    if comment is None or comment.decision_revision >= data["revision"]:
        return
    comment.status = data["decision"]
    comment.decision_justification = data["justification"] or ""
    comment.final_text = data.get("final_text") or ""
    comment.decision_revision = data["revision"]


def on_document_version_created(event: Event, session: Session) -> None:
    """Keep the consultation's announced draft: its units (for the public draft page, the comment form's list of
    parts and the downloadable form) and the public link of its clean DOCX.

    Only the draft put out for consultation is public: later versions, built from decisions, are announced
    without a `clean_url` and stay private until the results are published, so their texts are not kept here.
    """
    data = event.data
    if not data.get("consultation_id"):
        return
    consultation = session.get(Consultation, data["consultation_id"])
    if consultation is None or (consultation.document_version or 0) >= data["version"]:
        return
    if consultation.document_version and not data.get("clean_url"):
        return  # a later, unpublished version: the public keeps seeing the draft they comment on
    consultation.document_id = data["document_id"]
    consultation.document_version = data["version"]
    consultation.document_url = data.get("clean_url") or ""
    consultation.document_sections = [domain.public_unit(u) for u in data.get("units", [])]


def on_review_completed(event: Event, session: Session) -> None:
    """A review completed in the review service starts the review here if nobody started it by hand."""
    data = event.data
    advance_lifecycle(session, data["consultation_id"], domain.Step.START_REVIEW, actor=data["completed_by"],
                      reason="review completed", now=data["completed_at"])


def on_report_published(event: Event, session: Session) -> None:
    """The published report ends the lifecycle (idempotent: a redelivery or a second report changes nothing)."""
    advance_lifecycle(session, event.data["consultation_id"], domain.Step.PUBLISH_REPORT, actor="documents",
                      now=event.occurred_at)


def on_review_reopened(event: Event, session: Session) -> None:
    """A review reopened after publication (to correct a decision) takes the consultation back to "in review"."""
    data = event.data
    advance_lifecycle(session, data["consultation_id"], domain.Step.REOPEN_REVIEW, actor=data["reopened_by"],
                      reason=data["reason"], now=data["reopened_at"])


def keep_undelivered_mail(event: Event, session: Session) -> None:
    """Remember an e-mail to a submitter or booker that came back undelivered, for the clerk's pages (a
    redelivery, or the same message reported twice, keeps one row)."""
    data = event.data
    if session.get(UndeliveredMail, data["notification_id"]) is not None:
        return
    session.add(UndeliveredMail(
        notification_id=data["notification_id"], reference=(data.get("reference") or None),
        booking_id=(data.get("booking_id") or None), template=data["template"][:60], recipient=data["recipient"][:254],
        subject=data.get("subject") or "", error=data.get("error") or "", bounced_at=data["bounced_at"]))


def not_reached() -> Any:
    """Of submissions: an e-mail came back from the address it still has (a corrected address answers it)."""
    return exists().where(UndeliveredMail.reference == Submission.reference,
                          func.lower(UndeliveredMail.recipient) == func.lower(Submission.email))


def undelivered_mails(session: Session, reference: str) -> list[UndeliveredMail]:
    """The returned e-mails about one submission, oldest first."""
    return list(session.scalars(select(UndeliveredMail).where(UndeliveredMail.reference == reference)
                                .order_by(UndeliveredMail.bounced_at, UndeliveredMail.notification_id)))


def keep_published_results(event: Event, session: Session) -> None:
    """Keep the published files for the consultation's public results page."""
    data = event.data
    publication_id = data.get("publication_id") or data["build_id"]
    if session.get(PublishedResults, publication_id) is not None:
        return
    files = list(data.get("files") or [])
    if not files:  # an older producer: only the report and its exports, at their download URLs
        files = [{"kind": f"report_{item.get('format', 'docx')}", "media_type": item.get("media_type", ""),
                  "sha256": item.get("sha256", ""), "size": item.get("size", 0), "public_url": item.get("download_url", "")}
                 for item in data.get("exports") or []]
    session.add(PublishedResults(publication_id=publication_id, consultation_id=data["consultation_id"],
                                 published_at=data.get("published_at") or event.occurred_at,
                                 document_version=data.get("document_version"), files=files))


def latest_results(ctx: ServiceContext, consultation_id: str) -> PublishedResults | None:
    with ctx.db.transaction() as session:
        return session.scalar(select(PublishedResults).where(PublishedResults.consultation_id == consultation_id)
                              .order_by(PublishedResults.published_at.desc()).limit(1))


def keep_council_handover(event: Event, session: Session) -> None:
    """Keep when the draft went to the City Council; a correction carries a higher revision, a late older one is
    ignored."""
    data = event.data
    handover = session.get(CouncilHandoverView, data["consultation_id"], with_for_update=True)
    if handover is not None and handover.revision >= data["revision"]:
        return
    if handover is None:
        handover = CouncilHandoverView(consultation_id=data["consultation_id"])
        session.add(handover)
    handover.handed_over_on, handover.letter_reference = data["handed_over_on"], data["letter_reference"]
    handover.print_number, handover.revision = data["print_number"], data["revision"]
    handover.adopted_on, handover.resolution_number = data["adopted_on"], data["resolution_number"]


def council_handover(ctx: ServiceContext, consultation_id: str) -> CouncilHandoverView | None:
    with ctx.db.transaction() as session:
        return session.get(CouncilHandoverView, consultation_id)


def council_handovers(ctx: ServiceContext) -> dict[str, CouncilHandoverView]:
    """Every recorded hand-over, by consultation (one row a consultation: a city's handful a year)."""
    with ctx.db.transaction() as session:
        return {h.consultation_id: h for h in session.scalars(select(CouncilHandoverView))}


EVENT_HANDLERS = {
    "comment.decided": [on_comment_decided],
    "document.version_created": [on_document_version_created],
    "consultation.review_completed": [on_review_completed],
    "consultation.review_reopened": [on_review_reopened],
    "report.published": [on_report_published, keep_published_results],
    "council.handover_recorded": [keep_council_handover],
    "notification.bounced": [keep_undelivered_mail],
}
