"""Notify use cases: events become notification rows, one notification is delivered, the log is read.

Sending is split in two so that no e-mail goes out for a cause twice:
1. an event handler, inside the consumer's inbox transaction, inserts a
   `pending` row whose `cause_key` is unique (and keeps the read model of
   comments current); its commit wakes the mailer of the process;
2. the mailer loop of each worker process (`services.notify.mailer`) claims
   due rows in batches (`sending`, with its key), sends each over a kept SMTP
   connection, and marks it `sent` together with the `notification.sent`
   event at the moment the message is handed over. Claims of a mailer that
   died are released and sent again, with the same Message-ID.
"""

from __future__ import annotations

import enum
import logging
import random
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping, Sequence

from jinja2 import TemplateError
from sqlalchemy import (JSON, Connection, and_, bindparam, event as sa_event, func, insert, or_, select, text,
                        update)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.common.bus import TransientError, handles_many
from services.common.db import UTCDateTime, add_event, among, insert_missing, utcnow
from services.common.events import Event, new_envelope
from services.common.metrics import EMAILS
from services.common.runtime import ServiceContext
from services.common.web import Conflict, NotFound
from services.notify import domain
from services.notify.domain import Cause, NotificationStatus, Template
from services.notify.models import ConsultationPrefs, KnownComment, Notification, Outbox
from services.notify.rendering import Renderer, build_mail
from services.notify.senders import DeliveryError, EmailSender, MailServerUnavailable, PermanentDeliveryError

log = logging.getLogger(__name__)

# Ids of notifications staged in a session, waiting for its commit to wake the mailer.
STAGED_IDS_KEY = "notify.staged_notification_ids"


def _iso(value: datetime | str) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


# --- staging (inside the consumer's transaction) ---------------------------------


def notification_row(event: Event, *, cause: Cause, template: Template, recipient: str, language: str,
                     context: Mapping[str, Any]) -> dict[str, Any]:
    """The pending `notifications` row for one cause (not stored yet)."""
    recipient = domain.normalize_recipient(recipient)
    cause_key = cause.key(template, recipient)
    return dict(id=str(uuid.uuid4()), cause_key=cause_key, cause_event_id=event.id, cause_event_type=event.type,
                correlation_id=event.correlation_id, template=template.value,
                language=domain.normalize_language(language), recipient=recipient, context=dict(context),
                message_id=domain.message_id_for(cause_key), status=NotificationStatus.PENDING.value, attempts=0,
                created_at=utcnow())


def stage_notification(session: Session, event: Event, *, cause: Cause, template: Template, recipient: str,
                       language: str, context: Mapping[str, Any]) -> Notification | None:
    """Insert the pending row for one cause, or return None if that cause already has one."""
    return stage_row(session, notification_row(event, cause=cause, template=template, recipient=recipient,
                                               language=language, context=context))


def stage_row(session: Session, row: Mapping[str, Any]) -> Notification | None:
    """`stage_notification` for a row `notification_row` has built."""
    cause_key = row["cause_key"]
    if session.scalar(select(Notification.id).where(Notification.cause_key == cause_key)) is not None:
        log.debug("not staging %s again for %s: cause %s already has a notification", row["template"],
                  row["cause_event_id"], cause_key)
        return None
    notification = Notification(**row)
    try:
        # A savepoint, so that losing a race on the unique cause key undoes only this insert.
        with session.begin_nested():
            session.add(notification)
    except IntegrityError:
        log.info("cause %s was staged concurrently; not staging it twice", cause_key)
        return None
    session.info.setdefault(STAGED_IDS_KEY, []).append(notification.id)
    return notification


def stage_notifications(session: Session, rows: list[dict[str, Any]]) -> None:
    """`stage_notification` for many rows (`notification_row`): the causes already staged are left out (one query),
    the others inserted in one statement. A cause staged concurrently fails the insert, and with it the caller's
    batch, which the consumer then applies one event at a time (`stage_notification` settles each race)."""
    if not rows:
        return
    staged = set(session.scalars(select(Notification.cause_key)
                                 .where(among(session, Notification.cause_key, [row["cause_key"] for row in rows]))))
    new = []
    for row in rows:
        if row["cause_key"] not in staged:
            staged.add(row["cause_key"])
            new.append(row)
    if new:
        session.execute(insert(Notification.__table__), new)
        session.info.setdefault(STAGED_IDS_KEY, []).extend(row["id"] for row in new)


def install_wake_after_commit(sessions: sessionmaker, wake: Callable[[list[str]], None]) -> None:
    """Tell the mailer about the notifications staged in a session once, and only once, it has committed.

    Waking it inside the transaction would be a dual write: it could look before the row is visible.
    """
    if getattr(sessions, "_notify_wake_installed", False):
        return

    def _after_commit(session: Session) -> None:
        staged = session.info.pop(STAGED_IDS_KEY, None)
        if staged:
            wake(staged)

    def _after_rollback(session: Session) -> None:
        session.info.pop(STAGED_IDS_KEY, None)

    sa_event.listen(sessions, "after_commit", _after_commit)
    sa_event.listen(sessions, "after_rollback", _after_rollback)
    sessions._notify_wake_installed = True  # type: ignore[attr-defined]


# --- event handlers ------------------------------------------------------------------


def receive_submissions(events: Sequence[Event], session: Session) -> None:
    """`on_submission_received` for many events: who sent each comment in one INSERT, the receipts in another."""
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        for row in _known_comments(event):
            rows.setdefault(row["comment_id"], row)
    insert_missing(session, KnownComment, rows, key="comment_id")
    offices: dict[str, dict[str, str]] = {}
    for event in events:
        consultation_id = event.data["consultation_id"]
        if consultation_id not in offices:
            offices[consultation_id] = _office(session, consultation_id)
    stage_notifications(session, [row for row in (_receipt(event, session, offices) for event in events)
                                  if row is not None])


@handles_many(receive_submissions)
def on_submission_received(event: Event, session: Session) -> None:
    """Remember who sent each comment, and stage the receipt if the submitter gave an address.

    One event at a time (a redelivery, or a batch that failed) settles a concurrent staging of the same receipt
    in a savepoint (`stage_row`), which the batch form leaves to this path."""
    insert_missing(session, KnownComment, {row["comment_id"]: row for row in _known_comments(event)}, key="comment_id")
    receipt = _receipt(event, session)
    if receipt is not None:
        stage_row(session, receipt)


def _known_comments(event: Event) -> list[dict[str, Any]]:
    data = event.data
    submitter = data["submitter"]
    now = utcnow()
    return [dict(comment_id=comment["comment_id"], submission_id=data["submission_id"],
                 consultation_id=data["consultation_id"], reference=data["reference"], number=comment["number"],
                 recipient=submitter.get("email") or None, recipient_name=submitter["name"],
                 language=domain.normalize_language(data.get("language")),
                 consultation_title=data["consultation_title"], section=comment["section"],
                 proposal=comment["proposal"], last_notified_revision=0, created_at=now,
                 status_url=data["status_url"])
            for comment in data["comments"]]


def _receipt(event: Event, session: Session, offices: Mapping[str, dict[str, str]] | None = None
             ) -> dict[str, Any] | None:
    """The receipt's notification row, or None when the submitter gave no address. `offices`: each
    consultation's office, when the caller has read them already."""
    data = event.data
    submitter = data["submitter"]
    recipient = submitter.get("email") or None
    if recipient is None:
        log.info("no receipt for %s: the submitter gave no e-mail address", data["reference"])
        return None
    return notification_row(
        event, cause=Cause(event.type, data["submission_id"]), template=Template.SUBMISSION_RECEIPT,
        recipient=recipient, language=domain.normalize_language(data.get("language")), context={
            "recipient_name": submitter["name"],
            "organization": submitter.get("organization") or "",
            "reference": data["reference"],
            "consultation_title": data["consultation_title"],
            "status_url": data["status_url"],
            "late": bool(data["late"]),
            "received_at": _iso(data["received_at"]),
            # An e-mail staff must transcribe: its one comment is the mail's own text, not a comment to echo
            "needs_review": bool(data.get("needs_review")),
            "comments": _comment_copies(data["comments"]),
            "office": (dict(offices[data["consultation_id"]]) if offices
                       else _office(session, data["consultation_id"])),
        },
    )


def _comment_copies(comments: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The comments as an e-mail copies them back to their sender (the receipt, the registered copy)."""
    return [{"number": c["number"], "section": c["section"], "current_text": c.get("current_text") or "",
             "proposal": c["proposal"], "justification": c.get("justification") or "", "topic": c.get("topic") or ""}
            for c in comments]


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
    if comment.dismissed:
        log.info("no decision e-mail for %s: staff closed it as holding no comments", comment.reference)
        return
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
        KnownComment.consultation_id == data["consultation_id"], KnownComment.recipient.is_not(None),
        KnownComment.dismissed.is_(False))
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


def on_staff_digest(event: Event, session: Session) -> None:
    """E-mail a staff user review's morning summary of the work waiting for them: once per user and day."""
    data = event.data
    consultations: dict[str, dict[str, Any]] = {}  # in the order review listed them
    for line in data["lines"]:
        entry = consultations.setdefault(line["consultation_id"], {"title": line["title"], "lines": []})
        entry["lines"].append({"kind": line["kind"], "count": line["count"], "url": line["url"]})
    stage_notification(
        session, event, cause=Cause(event.type, f"{data['user_id']}@{data['day'].isoformat()}"),
        template=Template.STAFF_DIGEST, recipient=data["email"], language=data.get("language"), context={
            "name": data.get("name") or "", "day": data["day"].isoformat(),
            "consultations": list(consultations.values()),
            "console_url": data["console_url"], "settings_url": data["settings_url"],
        },
    )


def on_submission_transcribed(event: Event, session: Session) -> None:
    """Staff transcribed a scanned or mailed submission: know its comments as transcribed (no e-mail: the
    receipt went out when it arrived). New comments share the status link the receipt gave (it holds the
    secret token, which only the original event carried). Also `submission.corrected` (removed comments are
    marked as a dismissed placeholder is, never told of) and `submission.reopened` (its new placeholder). A
    revision older than the one held changes nothing (the events may come in any order)."""
    data = event.data
    known = {c.comment_id: c for c in session.scalars(
        select(KnownComment).where(KnownComment.submission_id == data["submission_id"]))}
    if not known:
        raise TransientError(f"submission {data['reference']} is not known yet (its submission.received has not arrived)")
    revision = data.get("revision")  # none in `submission.reopened`, which only adds
    if revision is not None and max(c.text_revision for c in known.values()) >= revision:
        return
    sibling = next(iter(known.values()))
    for item in data["comments"]:
        comment = known.get(item["comment_id"])
        if comment is None:
            comment = KnownComment(
                comment_id=item["comment_id"], submission_id=data["submission_id"], consultation_id=sibling.consultation_id,
                reference=sibling.reference, number=item["number"], recipient=sibling.recipient,
                recipient_name=data["submitter"]["name"], language=sibling.language,
                consultation_title=sibling.consultation_title, last_notified_revision=0, created_at=utcnow(),
                status_url=sibling.status_url)
            session.add(comment)
        comment.section, comment.proposal = item["section"], item["proposal"]
        if revision is not None:
            comment.text_revision = revision
    for comment_id in data.get("removed_comment_ids", ()):
        if comment_id in known:
            known[comment_id].dismissed = True
    for comment in known.values():  # the outcome e-mail greets the sender by the name staff confirmed
        comment.recipient_name = data["submitter"]["name"]
    if data.get("tell_sender") and sibling.recipient:
        _stage_registered_copy(event, session, sibling, revision)


def _stage_registered_copy(event: Event, session: Session, sibling: KnownComment, revision: int | None) -> None:
    """The sender's comments as staff transcribed or corrected them, when staff asked to send them: once per
    revision of the submission's comments (a redelivery sends nothing more)."""
    data = event.data
    stage_notification(
        session, event, cause=Cause(event.type, data["submission_id"], revision), template=Template.COMMENTS_REGISTERED,
        recipient=sibling.recipient, language=sibling.language, context={
            "recipient_name": data["submitter"]["name"],
            "organization": data["submitter"].get("organization") or "",
            "reference": data["reference"],
            "consultation_title": sibling.consultation_title,
            "status_url": sibling.status_url,
            "corrected": event.type == "submission.corrected",
            "comments": _comment_copies(sorted(data["comments"], key=lambda c: c["number"])),
            "office": _office(session, sibling.consultation_id),
        })


def on_submission_dismissed(event: Event, session: Session) -> None:
    """Intake staff found no comments in a mail: its placeholder comments are marked, so no outcome e-mail is ever
    sent about them (kept for the status link, should the mail be reopened). One that comes before the
    submission is retried until it has landed."""
    ids = event.data["comment_ids"]
    if not session.scalars(select(KnownComment.comment_id).where(KnownComment.comment_id.in_(ids))).first():
        raise TransientError(f"submission {event.data['reference']} is not known yet")
    session.execute(update(KnownComment).where(KnownComment.comment_id.in_(ids)).values(dismissed=True))


def on_submission_consent_changed(event: Event, session: Session) -> None:
    """The submitter's consent to publish their name changed: they are told at the address the receipt went to,
    once per change (a redelivery, or the same change under a new event id, sends nothing more). Also where they
    made the change themselves: the e-mail is how they learn of a change someone else made with their link."""
    data = event.data
    sibling = session.scalar(select(KnownComment).where(KnownComment.submission_id == data["submission_id"]).limit(1))
    if sibling is None:
        raise TransientError(f"submission {data['reference']} is not known yet")
    if not sibling.recipient:
        return
    stage_notification(
        session, event, cause=Cause(event.type, data["submission_id"], data["revision"]),
        template=Template.CONSENT_CHANGED, recipient=sibling.recipient, language=sibling.language, context={
            "reference": data["reference"], "consultation_title": sibling.consultation_title, "status_url": sibling.status_url,
            "publish_consent": data["publish_consent"], "by_staff": data["via"] == "staff",
            "office": _office(session, sibling.consultation_id),
        })


def on_submission_email_corrected(event: Event, session: Session) -> None:
    """Staff corrected the submitter's address: every later e-mail about the submission goes to the new one, and
    each message about it that came back from the old one is sent there, once (a new cause key: the same cause
    for another address). Removed (None): nothing more is sent. An older correction arriving late changes
    nothing; one that overtakes its submission waits for it."""
    data = event.data
    known = list(session.scalars(select(KnownComment).where(KnownComment.submission_id == data["submission_id"])))
    if not known:
        raise TransientError(f"submission {data['reference']} is not known yet")
    if all(comment.email_revision >= data["revision"] for comment in known):
        return
    old = next((comment.recipient for comment in known if comment.recipient), None)
    new = domain.normalize_recipient(data["email"]) if data.get("email") else None
    session.execute(update(KnownComment).where(KnownComment.submission_id == data["submission_id"])
                    .values(recipient=new, email_revision=data["revision"]))
    if new is None or old is None or new.lower() == old.lower():
        return
    returned = session.scalars(select(Notification).where(
        Notification.status == NotificationStatus.BOUNCED.value, func.lower(Notification.recipient) == old.lower()))
    for row in returned:
        if (row.context or {}).get("reference") != data["reference"]:
            continue
        cause_key = domain.readdressed(row.cause_key, new)
        stage_row(session, dict(
            id=str(uuid.uuid4()), cause_key=cause_key, cause_event_id=row.cause_event_id,
            cause_event_type=row.cause_event_type, correlation_id=row.correlation_id, template=row.template,
            language=row.language, recipient=new, context=dict(row.context or {}),
            message_id=domain.message_id_for(cause_key), status=NotificationStatus.PENDING.value, attempts=0,
            created_at=utcnow()))
        log.info("notification %s came back from %s: sent again to the corrected address", row.id, old)


# A report that lost the Message-ID is matched by the address, to a message sent this long before it at most:
# servers give up on a delivery after five days and send their report at once.
BOUNCE_MATCH_DAYS = 10


def on_mail_delivery_failed(event: Event, session: Session) -> None:
    """A mail server reported a message undeliverable: the message notify sent is marked `bounced` with the
    server's words, and `notification.bounced` tells intake, which shows it to the clerk beside the submission or
    booking. Matched by the Message-ID the report returned; a report without one, by the newest message sent to
    one of its addresses in the days before it. A report about a message notify did not send (a clerk's own
    reply from the mailbox), or one already marked, changes nothing."""
    data = event.data
    addresses = [domain.normalize_recipient(r["address"]).lower() for r in data["recipients"]]
    received_at = data["received_at"]
    notification = None
    if data.get("original_message_id"):
        wanted = data["original_message_id"].strip()
        wanted = wanted if wanted.startswith("<") else f"<{wanted}>"
        notification = session.scalar(select(Notification).where(Notification.message_id == wanted))
    elif addresses:
        since = received_at - timedelta(days=BOUNCE_MATCH_DAYS)
        notification = session.scalar(
            select(Notification).where(func.lower(Notification.recipient).in_(addresses),
                                       Notification.sent_at.is_not(None), Notification.sent_at >= since,
                                       Notification.sent_at <= received_at + timedelta(minutes=5))
            .order_by(Notification.sent_at.desc(), Notification.id).limit(1))
    if notification is None:
        log.info("delivery failure reported in mail %s: no message of ours matches", data["mail_id"])
        return
    if notification.status != NotificationStatus.SENT.value:
        log.info("delivery failure of notification %s reported, which is %s: left as it is", notification.id,
                 notification.status)
        return
    recipient = notification.recipient.lower()
    reported = next((r for r in data["recipients"] if r["address"].lower() == recipient), data["recipients"][0])
    error = " ".join(part for part in (reported.get("status") or "", reported.get("diagnostic") or "") if part)
    if reported["address"].lower() != recipient:
        error = f"{reported['address']}: {error}".strip(": ")
    notification.status = NotificationStatus.BOUNCED.value
    notification.bounced_at = received_at
    notification.error = error or "reported undeliverable"
    context = notification.context or {}
    add_event(session, Outbox, new_envelope("notification.bounced", {
        **_outcome(notification, notification.error), "recipient": notification.recipient,
        "subject": notification.subject or "", "bounced_at": received_at,
        "reference": context.get("reference"), "booking_id": context.get("booking_id"),
    }, producer="notify", correlation_id=notification.correlation_id))
    EMAILS.labels(notification.template, "bounced").inc()
    log.warning("notification %s (%s to %s) reported undeliverable: %s", notification.id, notification.template,
                notification.recipient, notification.error)


EVENT_HANDLERS = {
    "consultation.published": [on_consultation_published],
    "submission.received": [on_submission_received],
    "submission.transcribed": [on_submission_transcribed],
    "submission.corrected": [on_submission_transcribed],
    "submission.dismissed": [on_submission_dismissed],
    "submission.consent_changed": [on_submission_consent_changed],
    # A reopened mail's new placeholder is known as a transcribed comment is: the receipt's link, no e-mail.
    "submission.reopened": [on_submission_transcribed],
    "comment.decided": [on_comment_decided],
    "report.published": [on_report_published],
    "booking.confirmed": [on_booking_confirmed],
    "booking.cancelled": [on_booking_cancelled],
    "booking.reminder": [on_booking_reminder],
    "staff.password_link": [on_staff_password_link],
    "staff.digest": [on_staff_digest],
    "mail.delivery_failed": [on_mail_delivery_failed],
    "submission.email_corrected": [on_submission_email_corrected],
}


# --- delivery (the mailer loop's steps, see `services.notify.mailer`) -------------------------------------


class Delivery(str, enum.Enum):
    SENT = "sent"
    FAILED = "failed"
    DEFERRED = "deferred"  # a transient failure: pending again, due after its backoff
    UNREACHABLE = "unreachable"  # deferred because the mail server could not be reached at all
    ALREADY_DONE = "already_done"  # settled, or claimed by another live mailer
    MISSING = "missing"


_N = Notification.__table__
# What sending needs of a row; read once at claim time.
_CLAIMED_COLUMNS = (_N.c.id, _N.c.created_at, _N.c.template, _N.c.language, _N.c.recipient, _N.c.context,
                    _N.c.message_id, _N.c.attempts, _N.c.attempts_before_resend, _N.c.correlation_id,
                    _N.c.cause_event_id)


def _outcome(row: Any, error: str | None) -> dict[str, Any]:
    return {"notification_id": row.id, "cause_event_id": row.cause_event_id, "template": row.template, "error": error}


def _announce(ctx: ServiceContext, conn: Connection, event_type: str, row: Any, error: str | None = None) -> None:
    # Built from our own row, whose fields the contract already describes: not validated again per mail.
    add_event(conn, ctx.outbox_model, new_envelope(event_type, _outcome(row, error), producer=ctx.service,
                                                   correlation_id=row.correlation_id, validate=False))


def _mine(notification_id: str, key: int, *statuses: str) -> Any:
    return and_(_N.c.id == notification_id, _N.c.claim_key == key, _N.c.status.in_(statuses))


def _due_now(conn: Connection, is_postgres: bool) -> None:
    if is_postgres:
        # A lost claim only makes a row pending again, and what it claims has not been sent yet.
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def claim_due(ctx: ServiceContext, conn: Connection, *, key: int, limit: int, now: datetime | None = None) -> list[Any]:
    """Claim up to `limit` pending notifications that are due, oldest first, for the mailer holding `key`."""
    now = now or utcnow()
    with conn.begin():
        _due_now(conn, ctx.db.is_postgres)
        query = (select(_N.c.id).where(_N.c.status == NotificationStatus.PENDING.value,
                                       or_(_N.c.next_attempt_at.is_(None), _N.c.next_attempt_at <= now))
                 .order_by(_N.c.created_at).limit(limit))
        if ctx.db.is_postgres:
            # Several mailers (one per worker process) claim at once; each takes rows no one else holds.
            query = query.with_for_update(skip_locked=True)
        ids = list(conn.scalars(query))
        if not ids:
            return []
        rows = conn.execute(update(_N).where(among(conn, _N.c.id, ids))
                            .values(status=NotificationStatus.SENDING.value, claim_key=key, claimed_at=now)
                            .returning(*_CLAIMED_COLUMNS)).all()
    # The order `release_dead_claims` assumes when it picks the row a dead mailer was sending.
    return sorted(rows, key=lambda row: (row.created_at, row.id))


def claim_one(ctx: ServiceContext, conn: Connection, notification_id: str, *, key: int) -> Any | Delivery:
    """Claim one notification, due or not (a direct send); waits for a mailer sending it right now."""
    with conn.begin():
        query = select(_N.c.status).where(_N.c.id == notification_id)
        if ctx.db.is_postgres:
            query = query.with_for_update()
        status = conn.scalar(query)
        if status is None:
            log.warning("notification %s does not exist; nothing to send", notification_id)
            return Delivery.MISSING
        if status != NotificationStatus.PENDING.value:
            return Delivery.ALREADY_DONE
        return conn.execute(update(_N).where(_N.c.id == notification_id)
                            .values(status=NotificationStatus.SENDING.value, claim_key=key, claimed_at=utcnow())
                            .returning(*_CLAIMED_COLUMNS)).one()


def release_claims(conn: Connection, *, key: int) -> int:
    """Give back what this mailer claimed and has not started (it is stopping): pending again, no attempt spent."""
    with conn.begin():
        return conn.execute(update(_N).where(_N.c.claim_key == key, _N.c.status == NotificationStatus.SENDING.value)
                            .values(status=NotificationStatus.PENDING.value, claim_key=None, claimed_at=None)).rowcount


def deliver_claimed(ctx: ServiceContext, conn: Connection, row: Any, *, key: int, sender: EmailSender,
                    renderer: Renderer) -> Delivery:
    """Send one claimed notification and settle it.

    `sent` (with its `notification.sent` event) is written before the message goes and committed by the
    sender's handover, right after the final byte is written and before the server's verdict is read (see
    `senders.Handover`). A process killed before that moment leaves the row `sending`, and the message was not
    accepted: a dead mailer's claims are released and sent again. Killed after it, the row is `sent`. The only
    moment left where a kill means a second copy is between writing the last byte and writing the COMMIT,
    two consecutive system calls; that copy carries the same Message-ID.
    """
    now = utcnow()
    made = row.attempts + 1
    try:
        rendered = renderer.render(row.template, row.language, row.context)
        message = build_mail(rendered, sender=domain.sender_for(row.context, ctx.settings.mail_from),
                             recipient=row.recipient, message_id=row.message_id)
    except (TemplateError, ValueError) as exc:
        return _settle_failure(ctx, conn, row, key=key, made=made, permanent=True,
                               reason=f"cannot render the message: {type(exc).__name__}: {exc}")
    secret = row.template in domain.SECRET_CONTEXT_KEYS
    params = {"nid": row.id, "key_": key, "now_": now, "made_": made, "subj_": rendered.subject[:500],
              "ctx_": domain.without_secrets(row.template, row.context) if secret else None}
    transaction = conn.begin()
    try:
        if not _mark_sent(ctx, conn, row, params, secret=secret):
            # Our claim was released (we were taken for dead): whoever holds it now sends it.
            transaction.rollback()
            return Delivery.ALREADY_DONE
        sender.send(message, on_handover=transaction.commit)
        if transaction.is_active:  # a sender that does not know the hook: committed once it returned
            transaction.commit()
    except DeliveryError as exc:
        handed_over = not transaction.is_active
        if not handed_over:
            transaction.rollback()
        outcome = _settle_failure(ctx, conn, row, key=key, made=made, reason=str(exc), handed_over=handed_over,
                                  permanent=isinstance(exc, PermanentDeliveryError))
        return Delivery.UNREACHABLE if outcome is Delivery.DEFERRED and isinstance(exc, MailServerUnavailable) \
            else outcome
    except BaseException:
        if transaction.is_active:
            transaction.rollback()
        raise
    log.debug("sent notification %s (%s) to the mail server", row.id, row.template)
    EMAILS.labels(row.template, "sent").inc()
    return Delivery.SENT


# `sent`, as one statement prepared once: per message, building SQLAlchemy statements cost more CPU than running them.
_MARK_SENT = (update(_N).where(_N.c.id == bindparam("nid"), _N.c.claim_key == bindparam("key_"),
                               _N.c.status == NotificationStatus.SENDING.value)
              .values(status=NotificationStatus.SENT.value, sent_at=bindparam("now_"), attempts=bindparam("made_"),
                      last_attempt_at=bindparam("now_"), subject=bindparam("subj_"), error=None, next_attempt_at=None))
_MARK_SENT_REDACTED = _MARK_SENT.values(context=bindparam("ctx_"))
_ANNOUNCE_SQL = """
WITH marked AS (
    UPDATE notifications SET status = 'sent', sent_at = :now_, attempts = :made_, last_attempt_at = :now_,
        subject = :subj_, error = NULL, next_attempt_at = NULL{context}
    WHERE id = :nid AND claim_key = :key_ AND status = 'sending' RETURNING id)
INSERT INTO {outbox} (event_id, event_type, envelope, created_at, attempts)
SELECT :event_id, 'notification.sent', CAST(:envelope AS JSON), :now_, 0 FROM marked"""
_announce_statements: dict[tuple[str, bool], Any] = {}


def _mark_sent(ctx: ServiceContext, conn: Connection, row: Any, params: dict[str, Any], *, secret: bool) -> bool:
    """Mark the claimed row `sent` and stage `notification.sent`, in the open transaction; False if not ours."""
    if not ctx.db.is_postgres:
        if conn.execute(_MARK_SENT_REDACTED if secret else _MARK_SENT, params).rowcount != 1:
            return False
        _announce(ctx, conn, "notification.sent", row)
        return True
    # On PostgreSQL both in one round trip: the INSERT takes its row from the UPDATE's RETURNING.
    outbox = ctx.outbox_model.__tablename__
    statement = _announce_statements.get((outbox, secret))
    if statement is None:
        statement = text(_ANNOUNCE_SQL.format(outbox=outbox, context=", context = CAST(:ctx_ AS JSON)" if secret else ""))
        statement = statement.bindparams(bindparam("envelope", type_=JSON), bindparam("now_", type_=UTCDateTime()),
                                         *([bindparam("ctx_", type_=JSON)] if secret else []))
        _announce_statements[(outbox, secret)] = statement
    envelope = new_envelope("notification.sent", _outcome(row, None), producer=ctx.service,
                            correlation_id=row.correlation_id, validate=False)
    if not secret:
        params = {key: value for key, value in params.items() if key != "ctx_"}
    return conn.execute(statement, {**params, "event_id": envelope["id"], "envelope": envelope}).rowcount == 1


def _settle_failure(ctx: ServiceContext, conn: Connection, row: Any, *, key: int, made: int, reason: str,
                    permanent: bool, handed_over: bool = False) -> Delivery:
    """Record a refused or deferred attempt: failed for good, or pending again after its backoff.

    `handed_over`: `sent` was already committed and the server refused the message at the end of its data
    (or its reply never came); the row goes back from `sent`, and what follows is announced as usual.
    """
    now = utcnow()
    last = domain.is_last_attempt(made - row.attempts_before_resend)
    mine = _mine(row.id, key, NotificationStatus.SENT.value if handed_over else NotificationStatus.SENDING.value)
    with conn.begin():
        if permanent or last:
            error = reason if permanent else f"gave up after {made} attempts: {reason}"
            changed = conn.execute(update(_N).where(mine).values(
                status=NotificationStatus.FAILED.value, error=error[:2000], attempts=made, last_attempt_at=now,
                sent_at=None, next_attempt_at=None, context=domain.without_secrets(row.template, row.context))).rowcount
            if changed:
                _announce(ctx, conn, "notification.failed", row, error[:2000])
                log.warning("notification %s (%s) failed: %s", row.id, row.template, error)
                EMAILS.labels(row.template, "failed").inc()
            return Delivery.FAILED if changed else Delivery.ALREADY_DONE
        changed = conn.execute(update(_N).where(mine).values(
            status=NotificationStatus.PENDING.value, error=reason[:2000], attempts=made, last_attempt_at=now,
            sent_at=None, claim_key=None, claimed_at=None,
            next_attempt_at=now + domain.retry_delay(made, random.random()))).rowcount
    log.info("notification %s (%s) deferred after attempt %d: %s", row.id, row.template, made, reason)
    return Delivery.DEFERRED if changed else Delivery.ALREADY_DONE


def release_dead_claims(ctx: ServiceContext, conn: Connection, *, alive: Callable[[Connection], set[int]]) -> int:
    """Make the rows of dead mailers pending again; returns how many.

    A dead mailer's row may have been half sent (the process died before the handover), so it goes out again
    with the same Message-ID. The first of its rows still `sending`, in the order it worked through them, is
    the one it was sending when it died: that counts as an attempt, so a message that kills every process
    that renders or sends it ends as `failed` instead of killing workers for ever.
    """
    now = utcnow()
    columns = (_N.c.id, _N.c.claim_key, _N.c.created_at, _N.c.attempts, _N.c.attempts_before_resend, _N.c.template,
               _N.c.context, _N.c.cause_event_id, _N.c.correlation_id)
    with conn.begin():
        # The rows first, the live keys second: a mailer takes its key before it claims, so the key of any row
        # seen here is already held if its mailer lives. (The other order would take the rows of a mailer that
        # started in between for dead ones.)
        sending = conn.execute(select(_N.c.id, _N.c.claim_key)
                               .where(_N.c.status == NotificationStatus.SENDING.value)).all()
        if not sending:
            return 0
        live = alive(conn)
        candidates = [(row.id, row.claim_key) for row in sending if row.claim_key not in live]
        if not candidates:
            return 0
        query = select(*columns).where(_N.c.id.in_([nid for nid, _ in candidates]),
                                       _N.c.status == NotificationStatus.SENDING.value)
        if ctx.db.is_postgres:
            # Locked, and checked again under the lock: another mailer may have released and reclaimed one.
            query = query.with_for_update(skip_locked=True)
        keys = dict(candidates)
        dead = [row for row in conn.execute(query) if row.claim_key == keys[row.id]]
        if not dead:
            return 0
        suspects = {}
        for row in sorted(dead, key=lambda row: (row.created_at, row.id)):
            suspects.setdefault(row.claim_key, row)
        conn.execute(update(_N).where(_N.c.id.in_([row.id for row in dead]))
                     .values(status=NotificationStatus.PENDING.value, claim_key=None, claimed_at=None))
        for row in suspects.values():
            made = row.attempts + 1
            if domain.is_last_attempt(made - row.attempts_before_resend):
                error = f"gave up after {made} attempts: the worker died while sending it"
                conn.execute(update(_N).where(_N.c.id == row.id).values(
                    status=NotificationStatus.FAILED.value, error=error, attempts=made, last_attempt_at=now,
                    context=domain.without_secrets(row.template, row.context)))
                _announce(ctx, conn, "notification.failed", row, error)
                EMAILS.labels(row.template, "failed").inc()
            else:
                conn.execute(update(_N).where(_N.c.id == row.id).values(attempts=made, last_attempt_at=now))
    log.warning("released %d notifications claimed by %d dead mailers; they are sent again with the same "
                "Message-ID", len(dead), len(suspects))
    return len(dead)


def deliver_notification(ctx: ServiceContext, notification_id: str, *, sender: EmailSender,
                         renderer: Renderer) -> Delivery:
    """Send one notification now unless it is settled or being sent (staff tools and tests; the mailer batches)."""
    from services.notify.mailer import claim_holder

    with claim_holder(ctx.db) as (conn, key):
        claimed = claim_one(ctx, conn, notification_id, key=key)
        if isinstance(claimed, Delivery):
            return claimed
        try:
            return deliver_claimed(ctx, conn, claimed, key=key, sender=sender, renderer=renderer)
        finally:
            release_claims(conn, key=key)


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
    """Put a failed message back in the queue as a new attempt of the same row (same cause, same Message-ID).

    It is due at once; a mailer finds it within its poll interval."""
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
        notification.next_attempt_at = None
        notification.claim_key = notification.claimed_at = None
    return notification
