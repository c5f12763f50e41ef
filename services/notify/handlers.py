"""Notify use cases: events become notification rows, one notification is delivered, the log is read.

Sending is split in two so that no e-mail goes out for a cause twice:
1. an event handler, inside the consumer's inbox transaction, inserts a
   `pending` row whose `cause_key` is unique (and keeps the read model of
   comments current);
2. after that transaction commits, the row's id is enqueued to the Celery task
   `notify.send_notification`, which locks the row, sends, and marks it `sent`
   together with the `notification.sent` event. A sweep re-enqueues rows whose
   task was lost.
"""

from __future__ import annotations

import enum
import logging
import uuid
from datetime import datetime
from typing import Any, Callable, Mapping

from jinja2 import TemplateError
from sqlalchemy import and_, event as sa_event, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.common.bus import TransientError
from services.common.db import utcnow
from services.common.events import Event
from services.common.metrics import EMAILS
from services.common.runtime import ServiceContext
from services.common.web import Conflict, NotFound
from services.notify import domain
from services.notify.domain import Cause, NotificationStatus, Template
from services.notify.models import ConsultationPrefs, KnownComment, Notification
from services.notify.rendering import Renderer, build_message
from services.notify.senders import EmailSender, PermanentDeliveryError, TransientDeliveryError

log = logging.getLogger(__name__)

# The Celery task that sends one notification (`notify.send_notification`).
SEND_TASK = "send_notification"
# Ids of notifications staged in a session, waiting for its commit to be enqueued.
STAGED_IDS_KEY = "notify.staged_notification_ids"


def _iso(value: datetime | str) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


# --- staging (inside the consumer's transaction) ---------------------------------


def stage_notification(session: Session, event: Event, *, cause: Cause, template: Template, recipient: str,
                       language: str, context: Mapping[str, Any]) -> Notification | None:
    """Insert the pending row for one cause, or return None if that cause already has one."""
    recipient = domain.normalize_recipient(recipient)
    cause_key = cause.key(template, recipient)
    if session.scalar(select(Notification.id).where(Notification.cause_key == cause_key)) is not None:
        log.info("not staging %s again for %s: cause %s already has a notification", template.value, event.id, cause_key)
        return None
    notification = Notification(
        id=str(uuid.uuid4()), cause_key=cause_key, cause_event_id=event.id, cause_event_type=event.type,
        correlation_id=event.correlation_id, template=template.value, language=domain.normalize_language(language),
        recipient=recipient, context=dict(context), message_id=domain.message_id_for(cause_key),
        status=NotificationStatus.PENDING.value, attempts=0, created_at=utcnow(),
    )
    try:
        # A savepoint, so that losing a race on the unique cause key undoes only this insert.
        with session.begin_nested():
            session.add(notification)
    except IntegrityError:
        log.info("cause %s was staged concurrently; not staging it twice", cause_key)
        return None
    session.info.setdefault(STAGED_IDS_KEY, []).append(notification.id)
    return notification


def install_enqueue_after_commit(sessions: sessionmaker, enqueue: Callable[[str], None]) -> None:
    """Enqueue the notifications staged in a session once, and only once, it has committed.

    Enqueueing inside the transaction would be a dual write: a task could run
    before the row is visible, or run for a row that was rolled back.
    """
    if getattr(sessions, "_notify_enqueue_installed", False):
        return

    def _after_commit(session: Session) -> None:
        for notification_id in session.info.pop(STAGED_IDS_KEY, ()):
            enqueue(notification_id)

    def _after_rollback(session: Session) -> None:
        session.info.pop(STAGED_IDS_KEY, None)

    sa_event.listen(sessions, "after_commit", _after_commit)
    sa_event.listen(sessions, "after_rollback", _after_rollback)
    sessions._notify_enqueue_installed = True  # type: ignore[attr-defined]


# --- event handlers ------------------------------------------------------------------


def on_submission_received(event: Event, session: Session) -> None:
    """Remember who sent each comment, and stage the receipt if the submitter gave an address."""
    data = event.data
    submitter = data["submitter"]
    language = domain.normalize_language(data.get("language"))
    recipient = submitter.get("email") or None
    for comment in data["comments"]:
        if session.get(KnownComment, comment["comment_id"]) is None:
            session.add(KnownComment(
                comment_id=comment["comment_id"], submission_id=data["submission_id"],
                consultation_id=data["consultation_id"], reference=data["reference"], number=comment["number"],
                recipient=recipient, recipient_name=submitter["name"], language=language,
                consultation_title=data["consultation_title"], section=comment["section"],
                proposal=comment["proposal"], last_notified_revision=0, created_at=utcnow(),
                status_url=data["status_url"],
            ))
    if recipient is None:
        log.info("no receipt for %s: the submitter gave no e-mail address", data["reference"])
        return
    stage_notification(
        session, event, cause=Cause(event.type, data["submission_id"]), template=Template.SUBMISSION_RECEIPT,
        recipient=recipient, language=language, context={
            "recipient_name": submitter["name"],
            "organization": submitter.get("organization") or "",
            "reference": data["reference"],
            "consultation_title": data["consultation_title"],
            "status_url": data["status_url"],
            "late": bool(data["late"]),
            "received_at": _iso(data["received_at"]),
            "comments": [
                {"number": c["number"], "section": c["section"], "current_text": c.get("current_text") or "",
                 "proposal": c["proposal"], "justification": c.get("justification") or "",
                 "topic": c.get("topic") or ""}
                for c in data["comments"]
            ],
            "office": _office(session, data["consultation_id"]),
        },
    )


def _office(session: Session, consultation_id: str, event_data: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The office that signs and sends the consultation's e-mails, as `consultation.published` announced it.

    Until that announcement arrives, what the triggering event itself says about the office (a booking
    carries the organiser and the contact address), else nothing: a generic signature and UWAGI_MAIL_FROM.
    """
    prefs = session.get(ConsultationPrefs, consultation_id)
    if prefs is not None and prefs.office:
        return dict(prefs.office)
    return domain.office_from(event_data) if event_data is not None else {}


def _prefs(session: Session, consultation_id: str) -> ConsultationPrefs:
    """The consultation's choices; one not announced (yet) gets the default, telling the outcome at publication."""
    prefs = session.get(ConsultationPrefs, consultation_id)
    if prefs is None:
        prefs = ConsultationPrefs(id=consultation_id, title="", outcome_notice=domain.AT_PUBLICATION, revision=0)
        session.add(prefs)
    return prefs


def on_consultation_published(event: Event, session: Session) -> None:
    data = event.data
    prefs = _prefs(session, data["consultation_id"])
    revision = int(data.get("revision") or 1)
    if revision < (prefs.revision or 0):
        return
    prefs.title, prefs.revision = data["title"], revision
    prefs.outcome_notice = data.get("outcome_notice") or domain.AT_PUBLICATION
    prefs.office = domain.office_from(data)


def _comment_context(comment: KnownComment) -> dict[str, Any]:
    return {
        "comment_number": comment.number, "section": comment.section, "proposal": comment.proposal,
        "decision": comment.decision,
        "decision_label": domain.decision_in_words(comment.decision, comment.language) if comment.decision else "",
        "justification": comment.decision_justification or "", "final_text": comment.final_text or "",
        "revision": comment.decision_revision,
    }


def on_comment_decided(event: Event, session: Session) -> None:
    """Remember the decision; mail it now, at publication or as a correction, as the consultation chose."""
    data = event.data
    # The row lock (PostgreSQL) serialises two revisions of one comment decided at once.
    comment = session.get(KnownComment, data["comment_id"], with_for_update=True)
    if comment is None:
        # Events may arrive out of order; the dispatcher retries, then parks the event until the comment is known.
        raise TransientError(f"comment {data['comment_id']} is not known yet (its submission.received has not arrived)")
    revision = int(data["revision"])
    if revision > comment.decision_revision:
        comment.decision, comment.decision_revision = data["decision"], revision
        comment.decision_justification = data.get("justification") or ""
        comment.final_text = data.get("final_text") or None
    if comment.recipient is None:
        log.info("no decision e-mail for %s: the submitter gave no e-mail address", comment.reference)
        return
    prefs = _prefs(session, comment.consultation_id)
    plan = domain.decision_mail(outcome_notice=prefs.outcome_notice, published=prefs.published_at is not None,
                                revision=revision, last_notified_revision=comment.last_notified_revision)
    if plan in (domain.DecisionMail.NONE, domain.DecisionMail.WAIT):
        log.info("no e-mail now for revision %d of the decision on %s (%s)", revision, comment.comment_id, plan.value)
        return
    told_before = comment.last_notified_revision > 0
    comment.last_notified_revision = revision
    context = {
        "recipient_name": comment.recipient_name, "reference": comment.reference,
        "consultation_title": comment.consultation_title, "comment_number": comment.number,
        "section": comment.section, "proposal": comment.proposal, "decision": data["decision"],
        "decision_label": domain.decision_in_words(data["decision"], comment.language),
        "justification": data.get("justification") or "", "final_text": data.get("final_text") or "",
        "revision": revision, "office": dict(prefs.office or {}),
    }
    if plan is domain.DecisionMail.CORRECTION:
        template = Template.OUTCOME_CORRECTION
        context.update(status_url=comment.status_url, report_url=prefs.report_url or "", changed=told_before)
    else:
        template = Template.COMMENT_DECISION
    stage_notification(session, event, cause=Cause(event.type, comment.comment_id, revision), template=template,
                       recipient=comment.recipient, language=comment.language, context=context)


def on_report_published(event: Event, session: Session) -> None:
    """At publication, one e-mail per submission with every comment's outcome (when the consultation chose so)."""
    data = event.data
    prefs = session.get(ConsultationPrefs, data["consultation_id"], with_for_update=True) \
        or _prefs(session, data["consultation_id"])
    first_publication = prefs.published_at is None
    if first_publication:
        prefs.published_at = data.get("published_at") or event.occurred_at
    prefs.report_url = data["download_url"]
    if prefs.outcome_notice != domain.AT_PUBLICATION:
        return
    comments = list(session.scalars(select(KnownComment).where(
        KnownComment.consultation_id == data["consultation_id"], KnownComment.recipient.is_not(None))
        .order_by(KnownComment.submission_id, KnownComment.number)))
    by_submission: dict[str, list[KnownComment]] = {}
    for comment in comments:
        by_submission.setdefault(comment.submission_id, []).append(comment)
    for submission_id, rows in by_submission.items():
        decided = [row for row in rows if row.decision]
        if not decided:
            continue
        first = rows[0]
        for row in decided:
            row.last_notified_revision = max(row.last_notified_revision, row.decision_revision)
        told, pending = domain.summary_comments([_comment_context(row) for row in rows])
        # Keyed by the submission alone: a second publication (a corrected report) does not mail it again.
        stage_notification(
            session, event, cause=Cause(event.type, submission_id), template=Template.OUTCOME_SUMMARY,
            recipient=first.recipient, language=first.language, context={
                "recipient_name": first.recipient_name, "reference": first.reference,
                "consultation_title": first.consultation_title, "status_url": first.status_url,
                "report_url": data["download_url"], "comments": told, "pending_count": len(pending),
                "office": dict(prefs.office or {}),
            })


def _stage_booking_mail(event: Event, session: Session, template: Template) -> None:
    data = event.data
    stage_notification(
        session, event, cause=Cause(event.type, data["booking_id"]), template=template, recipient=data["email"],
        language=data.get("language"), context={
            "name": data["name"],
            "recipient": data["email"],
            "booking_id": data["booking_id"],
            "slot_starts_at": _iso(data["slot_starts_at"]),
            "slot_ends_at": _iso(data["slot_ends_at"]),
            "place": data.get("place") or "",
            "room": data.get("room") or "",
            "topic": data.get("topic") or "",
            "consultation_title": data.get("consultation_title") or "",
            "cancel_url": data.get("cancel_url") or "",
            # Signs the e-mail, names its From and the invitation's organiser, as for the receipt.
            "office": _office(session, data["consultation_id"], data),
        },
    )


def on_booking_confirmed(event: Event, session: Session) -> None:
    _stage_booking_mail(event, session, Template.BOOKING_CONFIRMED)


def on_booking_cancelled(event: Event, session: Session) -> None:
    _stage_booking_mail(event, session, Template.BOOKING_CANCELLED)


def on_booking_reminder(event: Event, session: Session) -> None:
    _stage_booking_mail(event, session, Template.BOOKING_REMINDER)


def on_staff_password_link(event: Event, session: Session) -> None:
    """E-mail a staff user the one-time link review made for them (an invitation or a password reset)."""
    data = event.data
    stage_notification(
        session, event, cause=Cause(event.type, data["link_id"]), template=Template.STAFF_PASSWORD_LINK,
        recipient=data["email"], language=data.get("language"), context={
            "name": data.get("name") or "", "email": data["email"], "purpose": data["purpose"], "url": data["url"],
            "expires_at": _iso(data["expires_at"]),
        },
    )


def on_submission_transcribed(event: Event, session: Session) -> None:
    """Staff transcribed a scanned or mailed submission: know its comments as transcribed (no e-mail: the
    receipt went out when it arrived). New comments share the status link the receipt gave (it holds the
    secret token, which only the original event carried)."""
    data = event.data
    known = {c.comment_id: c for c in session.scalars(
        select(KnownComment).where(KnownComment.submission_id == data["submission_id"]))}
    if not known:
        raise TransientError(f"submission {data['reference']} is not known yet (its submission.received has not arrived)")
    sibling = next(iter(known.values()))
    for item in data["comments"]:
        comment = known.get(item["comment_id"])
        if comment is None:
            comment = KnownComment(
                comment_id=item["comment_id"], submission_id=data["submission_id"], consultation_id=sibling.consultation_id,
                reference=sibling.reference, number=item["number"], recipient=sibling.recipient,
                recipient_name=sibling.recipient_name, language=sibling.language,
                consultation_title=sibling.consultation_title, last_notified_revision=0, created_at=utcnow(),
                status_url=sibling.status_url)
            session.add(comment)
        comment.section, comment.proposal = item["section"], item["proposal"]


EVENT_HANDLERS = {
    "consultation.published": [on_consultation_published],
    "submission.received": [on_submission_received],
    "submission.transcribed": [on_submission_transcribed],
    "comment.decided": [on_comment_decided],
    "report.published": [on_report_published],
    "booking.confirmed": [on_booking_confirmed],
    "booking.cancelled": [on_booking_cancelled],
    "booking.reminder": [on_booking_reminder],
    "staff.password_link": [on_staff_password_link],
}


# --- delivery (the Celery task's body) ------------------------------------------------


class Delivery(str, enum.Enum):
    SENT = "sent"
    FAILED = "failed"
    ALREADY_DONE = "already_done"
    MISSING = "missing"


def _outcome(notification: Notification) -> dict[str, Any]:
    return {"notification_id": notification.id, "cause_event_id": notification.cause_event_id,
            "template": notification.template, "error": notification.error}


def _mark_failed(ctx: ServiceContext, session: Session, notification: Notification, reason: str) -> Delivery:
    notification.status = NotificationStatus.FAILED.value
    notification.error = reason[:2000]
    notification.context = domain.without_secrets(notification.template, notification.context)
    ctx.emit(session, "notification.failed", _outcome(notification), correlation_id=notification.correlation_id)
    log.warning("notification %s (%s) failed: %s", notification.id, notification.template, reason)
    EMAILS.labels(notification.template, "failed").inc()
    return Delivery.FAILED


def deliver_notification(ctx: ServiceContext, notification_id: str, *, sender: EmailSender, renderer: Renderer,
                         retries_exhausted: bool = False) -> Delivery:
    """Send one notification unless it is already settled.

    The row stays locked while the message is handed to the server, so two
    tasks for one notification (a redelivered task, a sweep) send it once: the
    second waits, then finds it `sent`. Raises `TransientDeliveryError`, after
    recording the attempt, when a retry may succeed.
    """
    deferred: TransientDeliveryError | None = None
    with ctx.transaction() as session:
        query = select(Notification).where(Notification.id == notification_id)
        if ctx.db.is_postgres:
            query = query.with_for_update()
        # On SQLite every transaction already holds the database's write lock (BEGIN IMMEDIATE).
        notification = session.scalar(query)
        if notification is None:
            log.warning("notification %s does not exist; nothing to send", notification_id)
            return Delivery.MISSING
        if notification.status != NotificationStatus.PENDING.value:
            return Delivery.ALREADY_DONE
        notification.attempts += 1
        notification.last_attempt_at = utcnow()
        try:
            rendered = renderer.render(notification.template, notification.language, notification.context)
        except (TemplateError, ValueError) as exc:
            return _mark_failed(ctx, session, notification, f"cannot render the message: {type(exc).__name__}: {exc}")
        notification.subject = rendered.subject[:500]
        message = build_message(rendered, sender=domain.sender_for(notification.context, ctx.settings.mail_from),
                                recipient=notification.recipient,
                                message_id=notification.message_id)
        try:
            sender.send(message)
        except PermanentDeliveryError as exc:
            return _mark_failed(ctx, session, notification, str(exc))
        except TransientDeliveryError as exc:
            if domain.is_last_attempt(notification.attempts - notification.attempts_before_resend,
                                      retries_exhausted=retries_exhausted):
                return _mark_failed(ctx, session, notification,
                                    f"gave up after {notification.attempts} attempts: {exc}")
            notification.error = str(exc)[:2000]
            deferred = exc
        else:
            notification.status = NotificationStatus.SENT.value
            notification.sent_at = utcnow()
            notification.context = domain.without_secrets(notification.template, notification.context)
            notification.error = None
            ctx.emit(session, "notification.sent", _outcome(notification), correlation_id=notification.correlation_id)
            EMAILS.labels(notification.template, "sent").inc()
            return Delivery.SENT
    # The attempt and its error are committed; the caller's retry policy takes it from here.
    assert deferred is not None
    raise deferred


def claim_notifications_to_enqueue(ctx: ServiceContext, *, now: datetime | None = None, limit: int = 500) -> list[str]:
    """Pending notifications whose task seems lost, marked as enqueued now (see `domain` for the delays)."""
    now = now or utcnow()
    cutoffs = domain.sweep_cutoffs(now)
    with ctx.db.transaction() as session:
        query = (
            select(Notification)
            .where(
                Notification.status == NotificationStatus.PENDING.value,
                or_(Notification.enqueued_at.is_(None), Notification.enqueued_at < cutoffs["enqueued_before"]),
                or_(
                    and_(Notification.attempts == 0, Notification.created_at < cutoffs["lost_before"]),
                    and_(Notification.attempts > 0, Notification.last_attempt_at < cutoffs["stalled_before"]),
                ),
            )
            .order_by(Notification.created_at)
            .limit(limit)
        )
        if ctx.db.is_postgres:
            # A row being sent right now is locked by its task; it is not lost.
            query = query.with_for_update(skip_locked=True)
        notifications = list(session.scalars(query))
        for notification in notifications:
            notification.enqueued_at = now
        return [n.id for n in notifications]


# --- queries ---------------------------------------------------------------------------


def list_notifications(ctx: ServiceContext, *, status: str | None = None, template: str | None = None,
                       search: str | None = None, limit: int = 50, offset: int = 0) -> list[Notification]:
    with ctx.db.transaction() as session:
        query = _log_query(status=status, template=template, search=search)
        query = query.order_by(Notification.created_at.desc(), Notification.id).limit(limit).offset(offset)
        return list(session.scalars(query))


def count_notifications(ctx: ServiceContext, *, status: str | None = None, template: str | None = None,
                        search: str | None = None) -> int:
    with ctx.db.transaction() as session:
        query = _log_query(status=status, template=template, search=search)
        return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _log_query(*, status: str | None, template: str | None, search: str | None) -> Any:
    query = select(Notification)
    if status:
        query = query.where(Notification.status == status)
    if template:
        query = query.where(Notification.template == template)
    if search and search.strip():
        # Addresses, references (the correlation id) and subjects; case-insensitive on both databases.
        needle = f"%{search.strip().lower()}%"
        query = query.where(or_(func.lower(Notification.recipient).like(needle),
                                func.lower(func.coalesce(Notification.correlation_id, "")).like(needle),
                                func.lower(func.coalesce(Notification.subject, "")).like(needle)))
    return query


def get_notification(ctx: ServiceContext, notification_id: str) -> Notification:
    with ctx.db.transaction() as session:
        notification = session.get(Notification, notification_id)
    if notification is None:
        raise NotFound("no such notification")
    return notification


def resend_notification(ctx: ServiceContext, notification_id: str, *, actor: str) -> Notification:
    """Put a failed message back in the queue as a new attempt of the same row (same cause, same Message-ID)."""
    with ctx.transaction() as session:
        query = select(Notification).where(Notification.id == notification_id)
        if ctx.db.is_postgres:
            query = query.with_for_update()
        notification = session.scalar(query)
        if notification is None:
            raise NotFound("no such notification")
        try:
            domain.check_resend(notification.status)
        except domain.ResendRefused as exc:
            raise Conflict(str(exc)) from None
        notification.status = NotificationStatus.PENDING.value
        notification.attempts_before_resend = notification.attempts
        notification.resent_by, notification.resent_at = actor, utcnow()
        notification.enqueued_at = utcnow()
    ctx.enqueue(SEND_TASK, notification.id)
    return notification
