"""Booking use cases: slots from duty days, booking, cancelling, reminders and the staff's day schedule.

No double booking, however many requests race for a slot: a booking takes its
place with one conditional UPDATE (`booked = booked + 1 WHERE booked <
capacity`), and a CHECK constraint backs it. The database decides, not Python.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.common.events import utcnow
from services.common.runtime import ServiceContext
from services.common.web import Conflict, Invalid, NotFound
from services.intake import domain as intake_domain
from services.intake.bookings.domain import (
    BookingRefused,
    BookSlot,
    InvalidBooking,
    check_open_for_booking,
    plan_slots,
    validate_booking,
)
from services.intake.contact import email_problem
from services.intake.models import Booking, Consultation, DutySlot, Submission, UndeliveredMail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BookingReceipt:
    booking_id: str
    cancel_url: str
    token: str
    slot: DutySlot


def slot_id_for(consultation_id: str, starts_at: datetime) -> str:
    """Stable ids: re-planning the same day gives the same slots (and their bookings stay put)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"uwagi:slot:{consultation_id}:{starts_at.isoformat()}"))


def sync_slots(session: Session, consultation: Consultation, tz: Any) -> None:
    """Make the slot rows match the consultation's duty days; slots someone ever booked are kept."""
    plans = [plan for raw in consultation.duty_days for plan in plan_slots(intake_domain.DutyDay.from_json(raw), tz)]
    wanted = {slot_id_for(consultation.id, p.starts_at): p for p in plans}
    existing = {s.id: s for s in session.scalars(select(DutySlot).where(DutySlot.consultation_id == consultation.id))}
    for slot_id, plan in wanted.items():
        slot = existing.get(slot_id)
        if slot is None:
            session.add(DutySlot(id=slot_id, consultation_id=consultation.id, starts_at=plan.starts_at,
                                 ends_at=plan.ends_at, booking_deadline=plan.booking_deadline, place=plan.place,
                                 room=plan.room, capacity=plan.capacity, booked=0))
        else:  # the coordinator may move the deadline or the room
            slot.booking_deadline, slot.place, slot.room = plan.booking_deadline, plan.place, plan.room
    stale = [slot_id for slot_id in existing if slot_id not in wanted]
    if stale:
        ever_booked = set(session.scalars(select(Booking.slot_id).where(Booking.slot_id.in_(stale))))
        removable = [slot_id for slot_id in stale if slot_id not in ever_booked]
        if removable:
            session.execute(delete(DutySlot).where(DutySlot.id.in_(removable)))


def list_slots(ctx: ServiceContext, consultation_id: str, *, now: datetime | None = None) -> list[dict]:
    now = now or utcnow()
    with ctx.db.transaction() as session:
        _public_consultation(session, consultation_id)
        slots = list(session.scalars(select(DutySlot).where(DutySlot.consultation_id == consultation_id)
                                     .order_by(DutySlot.starts_at)))
        return [slot_view(slot, now) for slot in slots]


def slot_view(slot: DutySlot, now: datetime) -> dict:
    open_ = now < slot.starts_at and now <= slot.booking_deadline
    return {"id": slot.id, "starts_at": slot.starts_at, "ends_at": slot.ends_at, "capacity": slot.capacity,
            "available": max(slot.capacity - slot.booked, 0) if open_ else 0, "booking_deadline": slot.booking_deadline,
            "place": slot.place, "room": slot.room, "open": open_}


def _public_consultation(session: Session, consultation_id: str) -> Consultation:
    consultation = session.get(Consultation, consultation_id)
    if consultation is None or consultation.state == intake_domain.State.DRAFT.value:
        raise NotFound("no such consultation")
    return consultation


def book_slot(ctx: ServiceContext, cmd: BookSlot, *, now: datetime | None = None) -> BookingReceipt:
    """Book one place. 422 for a bad slot or a passed deadline, 409 when the slot is full."""
    with ctx.transaction() as session:
        return reserve_place(ctx, session, cmd, now=now or utcnow())


def reserve_place(ctx: ServiceContext, session: Session, cmd: BookSlot, *, now: datetime) -> BookingReceipt:
    """`book_slot`'s work inside the caller's transaction, for a booking that goes with another change (a mail
    closed as the request it answers). `cmd` is validated here."""
    try:
        cmd = validate_booking(cmd)
    except InvalidBooking as exc:
        raise Invalid(str(exc), details={"json": exc.errors}) from None
    token = intake_domain.new_status_token()
    consultation = _public_consultation(session, cmd.consultation_id)
    if "duty_hours" not in (consultation.channels or []):
        raise Invalid("this consultation has no duty hours", details={"json": {"slot_id": ["no_duty_hours"]}})
    slot = session.get(DutySlot, cmd.slot_id)
    if slot is None or slot.consultation_id != consultation.id:
        raise Invalid("no such slot in this consultation", details={"json": {"slot_id": ["unknown_slot"]}})
    try:
        check_open_for_booking(booking_deadline=slot.booking_deadline, starts_at=slot.starts_at, now=now)
    except BookingRefused as exc:
        raise Invalid(exc.message, details={"json": {"slot_id": [exc.code]}}) from None
    taken = session.execute(update(DutySlot).where(DutySlot.id == slot.id, DutySlot.booked < DutySlot.capacity)
                            .values(booked=DutySlot.booked + 1).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise Conflict("this slot is fully booked; please choose another", details={"slot_id": ["full"]})
    booking = Booking(id=str(uuid.uuid4()), slot_id=slot.id, consultation_id=consultation.id, name=cmd.name,
                      email=cmd.email, phone=cmd.phone, topic=cmd.topic, language=cmd.language,
                      status="confirmed", cancel_token_hash=intake_domain.hash_token(token),
                      booked_by=cmd.booked_by, mail_id=cmd.mail_id, created_at=now)
    session.add(booking)
    cancel_url = _cancel_url(ctx, booking.id, token)
    _emit(ctx, session, "booking.confirmed", booking, slot, consultation, cancel_url=cancel_url)
    return BookingReceipt(booking.id, cancel_url, token, slot)


def _cancel_url(ctx: ServiceContext, booking_id: str, token: str) -> str:
    return f"{ctx.settings.public_url}/intake/bookings/{booking_id}/cancel?{urlencode({'token': token})}"


def _emit(ctx: ServiceContext, session: Session, event_type: str, booking: Booking, slot: DutySlot,
          consultation: Consultation, *, cancel_url: str = "") -> None:
    if not booking.email:
        return  # booked by phone for someone without e-mail: nobody to write to
    ctx.emit(session, event_type, {
        "booking_id": booking.id, "consultation_id": consultation.id, "slot_starts_at": slot.starts_at,
        "slot_ends_at": slot.ends_at, "place": slot.place, "room": slot.room, "name": booking.name,
        "email": booking.email, "language": booking.language, "topic": booking.topic or "",
        "consultation_title": consultation.title, "organiser": consultation.organiser or "",
        "contact_email": consultation.contact_email or "", "cancel_url": cancel_url,
    }, correlation_id=booking.id)


def get_booking(ctx: ServiceContext, booking_id: str, token: str) -> tuple[Booking, DutySlot]:
    with ctx.db.transaction() as session:
        booking = session.get(Booking, booking_id)
        if booking is None or not intake_domain.token_matches(token, booking.cancel_token_hash):
            raise NotFound("no booking with this link")
        return booking, session.get(DutySlot, booking.slot_id)


def cancel_booking(ctx: ServiceContext, booking_id: str, *, token: str | None = None, staff: str | None = None,
                   now: datetime | None = None) -> Booking:
    """Free the place. Cancelling twice changes nothing and sends nothing twice."""
    now = now or utcnow()
    with ctx.transaction() as session:
        booking = session.get(Booking, booking_id)
        if booking is None or (staff is None and not intake_domain.token_matches(token or "", booking.cancel_token_hash)):
            raise NotFound("no booking with this link")
        changed = session.execute(update(Booking).where(Booking.id == booking.id, Booking.status == "confirmed")
                                  .values(status="cancelled", cancelled_at=now)
                                  .execution_options(synchronize_session=False))
        if changed.rowcount == 1:
            session.execute(update(DutySlot).where(DutySlot.id == booking.slot_id, DutySlot.booked > 0)
                            .values(booked=DutySlot.booked - 1).execution_options(synchronize_session=False))
            session.refresh(booking)
            slot = session.get(DutySlot, booking.slot_id)
            consultation = session.get(Consultation, booking.consultation_id)
            _emit(ctx, session, "booking.cancelled", booking, slot, consultation)
        return booking


def correct_booking_email(ctx: ServiceContext, consultation_id: str, booking_id: str, email: str, *,
                          actor: str) -> tuple[Booking, bool]:
    """Staff record the address a booker gave on the phone after their confirmation came back undelivered: the
    confirmation, with the invitation and a new cancellation link (the old one never arrived), goes to the new
    address, and so will the reminder. "" removes the address (nothing more is sent). Returns the booking and
    whether anything changed."""
    email = email.strip()
    if email_problem(email) is not None:
        raise Invalid("not an e-mail address", details={"email": ["invalid"]})
    with ctx.transaction() as session:
        booking = session.scalar(select(Booking).where(Booking.id == booking_id,
                                                       Booking.consultation_id == consultation_id).with_for_update())
        if booking is None or booking.status != "confirmed":
            raise NotFound("no such confirmed booking in this consultation")
        if booking.email == (email or None):
            return booking, False
        log.info("%s corrected the address of booking %s", actor, booking.id)
        booking.email = email or None
        token = intake_domain.new_status_token()
        booking.cancel_token_hash = intake_domain.hash_token(token)
        slot = session.get(DutySlot, booking.slot_id)
        _emit(ctx, session, "booking.confirmed", booking, slot, session.get(Consultation, booking.consultation_id),
              cancel_url=_cancel_url(ctx, booking.id, token))
        return booking, True


def send_due_reminders(ctx: ServiceContext, *, now: datetime | None = None) -> int:
    """Sweep: the day before a booked slot (local time), one `booking.reminder` per booking, once."""
    now = now or utcnow()
    tz = ctx.settings.timezone
    tomorrow = (now.astimezone(tz) + timedelta(days=1)).date()
    window_start = datetime.combine(tomorrow, datetime.min.time(), tzinfo=tz)
    window_end = window_start + timedelta(days=1)
    sent = 0
    with ctx.transaction() as session:
        rows = session.execute(
            select(Booking, DutySlot).join(DutySlot, DutySlot.id == Booking.slot_id)
            .where(Booking.status == "confirmed", Booking.reminder_sent_at.is_(None), Booking.email.is_not(None),
                   DutySlot.starts_at >= window_start, DutySlot.starts_at < window_end)
            .limit(500)).all()
        for booking, slot in rows:
            marked = session.execute(update(Booking).where(Booking.id == booking.id, Booking.reminder_sent_at.is_(None))
                                     .values(reminder_sent_at=now).execution_options(synchronize_session=False))
            if marked.rowcount == 1:  # another worker's sweep did not take it first
                _emit(ctx, session, "booking.reminder", booking, slot, session.get(Consultation, booking.consultation_id))
                sent += 1
    return sent


def day_schedule(ctx: ServiceContext, consultation_id: str, day: date) -> tuple[Consultation, list[dict]]:
    """The staff's printable list for one duty day: every slot with its confirmed bookings, and for each booking
    the notes already entered from its conversation (submission id and reference)."""
    tz = ctx.settings.timezone
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    with ctx.db.transaction() as session:
        consultation = session.get(Consultation, consultation_id)
        if consultation is None:
            raise NotFound("no such consultation")
        slots = list(session.scalars(select(DutySlot).where(
            DutySlot.consultation_id == consultation_id, DutySlot.starts_at >= start,
            DutySlot.starts_at < start + timedelta(days=1)).order_by(DutySlot.starts_at)))
        bookings = list(session.scalars(select(Booking).where(
            Booking.slot_id.in_([s.id for s in slots]), Booking.status == "confirmed").order_by(Booking.created_at)))
        by_slot: dict[str, list[Booking]] = {}
        for booking in bookings:
            by_slot.setdefault(booking.slot_id, []).append(booking)
        # Notes already entered from a conversation, so that staff open them rather than enter them twice.
        notes: dict[str, list[tuple[str, str]]] = {}
        for booking_id, submission_id, reference in session.execute(
                select(Submission.booking_id, Submission.id, Submission.reference)
                .where(Submission.booking_id.in_([b.id for b in bookings])).order_by(Submission.reference)):
            notes.setdefault(booking_id, []).append((submission_id, reference))
        # A confirmation or reminder that came back: the caller did not get it, so staff phone them
        # (from the address the booking still has: a corrected one answers it)
        returned: dict[str, list[UndeliveredMail]] = {}
        addresses = {b.id: (b.email or "").lower() for b in bookings}
        for mail in session.scalars(select(UndeliveredMail).where(
                UndeliveredMail.booking_id.in_([b.id for b in bookings])).order_by(UndeliveredMail.bounced_at)):
            if mail.recipient.lower() == addresses.get(mail.booking_id):
                returned.setdefault(mail.booking_id, []).append(mail)
        return consultation, [{"slot": s, "bookings": by_slot.get(s.id, []),
                               "notes": {b.id: notes.get(b.id, []) for b in by_slot.get(s.id, [])},
                               "undelivered": {b.id: returned.get(b.id, []) for b in by_slot.get(s.id, [])}}
                              for s in slots]


def duty_dates(consultation: Consultation) -> list[date]:
    return sorted({date.fromisoformat(d["date"]) for d in consultation.duty_days})
