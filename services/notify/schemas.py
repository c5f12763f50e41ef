"""Marshmallow schemas at the HTTP edge of notify."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.common.web import paging_offset
from services.notify.domain import STATUSES, TEMPLATES


class NotificationQuery(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    template = fields.String(load_default=None, validate=validate.OneOf(TEMPLATES))
    search = fields.String(load_default=None, validate=validate.Length(max=200),
                           metadata={"description": "Part of the address, the reference or the subject."})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    offset = paging_offset()


class NotificationOut(Schema):
    id = fields.String()
    template = fields.String()
    recipient = fields.String()
    subject = fields.String(allow_none=True, metadata={"description": "Set when the message is first rendered for delivery."})
    status = fields.String(metadata={"description": "pending, sending (claimed by a worker), sent, failed, or bounced "
                                                    "(sent, then reported undeliverable by a mail server)"})
    attempts = fields.Integer()
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    bounced_at = fields.DateTime(allow_none=True)
    error = fields.String(allow_none=True)
    cause_event_id = fields.String()
    correlation_id = fields.String(allow_none=True)
    resent_by = fields.String(allow_none=True)
    resent_at = fields.DateTime(allow_none=True)
