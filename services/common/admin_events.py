"""Dead letters and parked events of one service, for the admin: look, retry, discard.

Every app registers `admin_events_blueprint(ctx)` at `/<service>/admin/events`.

- Dead letters sit in the broker queue `<service>.events.dead`. A retry puts the
  envelope back on this service's own queue `<service>.events` (through the
  default exchange, so no other service receives it twice) and removes it from
  the dead-letter queue; a discard only removes it. The consumer applies the
  retried event through the inbox, so a handler that had already applied it
  does nothing again.
- Parked events are rows of the service's `parked_events` table. A retry makes
  the row due now (the worker's sweep applies it within its interval); a
  discard deletes the row.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request
from flask_babel import gettext
from kombu import Connection, Exchange, Producer
from sqlalchemy import select

from services.common.auth import current_staff, requires_role
from services.common.bus import REASON_HEADER, dead_queue
from services.common.db import utcnow
from services.common.ui import N_
from services.common.web import Conflict, NotFound

log = logging.getLogger(__name__)

# How many dead letters a page shows and an action looks through to find its message.
DEAD_LETTER_WINDOW = 200
RETRY, DISCARD = "retry", "discard"

# The services as staff know them (the menu's words), for the tabs of this page
SERVICE_WORDS = {"intake": N_("Intake of comments"), "review": N_("Review of comments"), "documents": N_("Documents"),
                 "notify": N_("Deliveries")}


@dataclass
class HeldLetter:
    key: str
    envelope: dict
    reason: str
    retryable: bool
    headers: dict = field(default_factory=dict)


def letter_key(body: bytes | str) -> str:
    """A stable handle on a dead message: its body's digest (unparseable bodies have no event id)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return hashlib.sha256(raw).hexdigest()[:32]


def _describe(message: Any) -> HeldLetter:
    body = message.body
    try:
        envelope = json.loads(body)
        if not isinstance(envelope, dict):
            raise ValueError
    except ValueError:
        envelope = {"unparseable_body": (body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body))[:1000]}
    headers = dict(message.headers or {})
    retryable = "unparseable_body" not in envelope and bool(envelope.get("type"))
    return HeldLetter(key=letter_key(body), envelope=envelope, reason=str(headers.get(REASON_HEADER, "")),
                      retryable=retryable, headers=headers)


def list_dead_letters(broker_url: str, service: str, *, limit: int = DEAD_LETTER_WINDOW) -> list[HeldLetter]:
    """The first `limit` dead letters, left in their queue."""
    return _walk_dead_letters(broker_url, service, limit=limit)


def settle_dead_letter(broker_url: str, service: str, key: str, action: str) -> HeldLetter:
    """Retry or discard the dead letter with `key`; every other message stays in the queue."""
    if action not in (RETRY, DISCARD):
        raise ValueError(action)
    found = _walk_dead_letters(broker_url, service, limit=DEAD_LETTER_WINDOW, settle=(key, action))
    if not found:
        raise NotFound("no such dead letter (it may have been retried or discarded already)")
    return found[0]


def _walk_dead_letters(broker_url: str, service: str, *, limit: int,
                       settle: tuple[str, str] | None = None) -> list[HeldLetter]:
    """Hold up to `limit` messages unacked, act on the one `settle` names, give the rest back."""
    found: list[HeldLetter] = []
    with Connection(broker_url) as conn:
        channel = conn.default_channel
        queue = dead_queue(service).bind(channel)
        queue.declare()
        held: list[Any] = []
        try:
            for _ in range(limit):
                message = queue.get(no_ack=False, accept=None)
                if message is None:
                    break
                letter = _describe(message)
                if settle is None:
                    found.append(letter)
                    held.append(message)
                    continue
                key, action = settle
                if letter.key != key:
                    held.append(message)
                    continue
                if action == RETRY:
                    if not letter.retryable:
                        held.append(message)
                        raise Conflict("this message cannot be read as an event; it can only be discarded")
                    # The default exchange routes by queue name: only this service gets it back.
                    Producer(channel, exchange=Exchange(""), auto_declare=False).publish(
                        json.dumps(letter.envelope, ensure_ascii=False), routing_key=f"{service}.events",
                        content_type="application/json", content_encoding="utf-8", delivery_mode=2,
                        message_id=str(letter.envelope.get("id", "")), retry=False)
                message.ack()
                found.append(letter)
                break
        finally:
            for message in held:
                message.requeue()
    return found


# --- parked events ------------------------------------------------------------------------------


def list_parked(ctx: Any, limit: int = DEAD_LETTER_WINDOW) -> list[Any]:
    model = ctx.parked_model
    if model is None:
        return []
    with ctx.db.transaction() as session:
        return list(session.scalars(select(model).order_by(model.next_attempt_at, model.id).limit(limit)))


def settle_parked(ctx: Any, row_id: int, action: str) -> Any:
    model = ctx.parked_model
    with ctx.db.transaction() as session:
        row = session.get(model, row_id) if model is not None else None
        if row is None:
            raise NotFound("no such parked event (it may have been applied or discarded already)")
        if action == RETRY:
            row.next_attempt_at = utcnow()
        elif action == DISCARD:
            session.delete(row)
        else:
            raise ValueError(action)
        return row


# --- the page -------------------------------------------------------------------------------------

ACTION_DONE = {
    ("dead", RETRY): N_("The message was put back in the queue of this service."),
    ("dead", DISCARD): N_("The message was discarded."),
    ("parked", RETRY): N_("The event will be tried again within a few seconds."),
    ("parked", DISCARD): N_("The parked event was discarded."),
}


GONE = N_("This message is no longer there: it may have been retried or discarded already.")
NOT_AN_EVENT = N_("This message cannot be read as an event; it can only be discarded.")
SERVICES = ("intake", "review", "documents", "notify")


def admin_events_blueprint(ctx: Any) -> Blueprint:
    service = ctx.service
    blp = Blueprint("uwagi_admin_events", __name__, url_prefix=f"/{service}/admin/events")

    def _ctx() -> Any:
        return current_app.extensions["uwagi"]

    @blp.get("/")
    @requires_role("admin")
    def page() -> Any:
        broker_error = False
        try:
            letters = list_dead_letters(_ctx().settings.broker_url, service)
        except Exception:  # the broker being down must not hide the parked events
            log.warning("cannot read %s.events.dead", service, exc_info=True)
            letters, broker_error = [], True
        return render_template("staff/admin_events.html", service=service, letters=letters,
                               parked=list_parked(_ctx()), broker_error=broker_error,
                               window=DEAD_LETTER_WINDOW, services=SERVICES,
                               service_words={name: gettext(SERVICE_WORDS[name]) for name in SERVICES})

    @blp.post("/dead/<key>")
    @requires_role("admin")
    def dead(key: str) -> Any:
        action = request.form.get("action", "")
        if action not in (RETRY, DISCARD):
            flash(gettext("Choose to retry or to discard."), "error")
            return redirect(f"/{service}/admin/events/", code=303)
        try:
            letter = settle_dead_letter(_ctx().settings.broker_url, service, key, action)
        except NotFound:
            flash(gettext(GONE), "error")
            return redirect(f"/{service}/admin/events/", code=303)
        except Conflict:
            flash(gettext(NOT_AN_EVENT), "error")
            return redirect(f"/{service}/admin/events/", code=303)
        log.warning("%s %s dead letter %s (%s) of %s", current_staff().email, action, letter.envelope.get("id"),
                    letter.envelope.get("type"), service)
        flash(gettext(ACTION_DONE[("dead", action)]), "success")
        return redirect(f"/{service}/admin/events/", code=303)

    @blp.post("/parked/<int:row_id>")
    @requires_role("admin")
    def parked(row_id: int) -> Any:
        action = request.form.get("action", "")
        if action not in (RETRY, DISCARD):
            flash(gettext("Choose to retry or to discard."), "error")
            return redirect(f"/{service}/admin/events/", code=303)
        try:
            row = settle_parked(_ctx(), row_id, action)
        except NotFound:
            flash(gettext(GONE), "error")
            return redirect(f"/{service}/admin/events/", code=303)
        log.warning("%s %s parked event %s for %s of %s", current_staff().email, action, row.event_id, row.handler,
                    service)
        flash(gettext(ACTION_DONE[("parked", action)]), "success")
        return redirect(f"/{service}/admin/events/", code=303)

    return blp
