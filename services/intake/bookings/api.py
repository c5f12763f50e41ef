"""The booking API: public slots and bookings, staff cancellation. Thin views over bookings.handlers."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import RAISE, Schema, fields, validate

from services.common.auth import current_staff, public, requires_role
from services.common.idempotency import idempotent
from services.common.ratelimit import limit_public_call
from services.common.web import ApiBlueprint
from services.intake.bookings import handlers
from services.intake.bookings.domain import BookSlot

blp = ApiBlueprint("intake_bookings", __name__, description="Duty hours: slots and bookings")


class SlotOut(Schema):
    id = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    capacity = fields.Integer()
    available = fields.Integer(metadata={"description": "places left while booking is open; 0 after the deadline"})
    booking_deadline = fields.AwareDateTime()
    place = fields.String()
    room = fields.String()


class BookingIn(Schema):
    class Meta:
        unknown = RAISE

    slot_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))
    topic = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    language = fields.String(load_default="pl", validate=validate.OneOf(["pl", "en"]))


class BookingOut(Schema):
    booking_id = fields.String()
    cancel_url = fields.String()


class CancelledOut(Schema):
    booking_id = fields.String(attribute="id")
    status = fields.String()


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


@blp.route("/consultations/<consultation_id>/slots", methods=["GET"])
@public
@blp.response(200, SlotOut(many=True))
def list_slots(consultation_id: str) -> Any:
    return handlers.list_slots(_ctx(), consultation_id)


@blp.route("/consultations/<consultation_id>/bookings", methods=["POST"])
@public
@idempotent
@blp.arguments(BookingIn)
@blp.response(201, BookingOut)
@blp.alt_response(409, description="the slot is fully booked")
@blp.alt_response(429, description="too many bookings from this client or to this e-mail address; see Retry-After")
def book(data: dict, consultation_id: str) -> Any:
    limit_public_call("booking", recipient=data.get("email"))
    receipt = handlers.book_slot(_ctx(), BookSlot(consultation_id=consultation_id, **data))
    return {"booking_id": receipt.booking_id, "cancel_url": receipt.cancel_url}


@blp.route("/bookings/<booking_id>/cancel", methods=["POST"])
@requires_role("reviewer")
@blp.response(200, CancelledOut)
def cancel(booking_id: str) -> Any:
    return handlers.cancel_booking(_ctx(), booking_id, staff=current_staff().email)
