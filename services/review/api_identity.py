"""Review's JSON API for identity: a script exchanges an e-mail and password for a bearer token."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import current_app
from services.common.web import ApiBlueprint as Blueprint
from marshmallow import RAISE, Schema, fields, validate

from services.common.auth import public
from services.review import identity

blp = Blueprint("review_identity", __name__, description="Staff tokens for the API")


class TokenRequest(Schema):
    class Meta:
        unknown = RAISE

    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class TokenOut(Schema):
    token = fields.String()
    expires_at = fields.DateTime()
    role = fields.String()


@blp.route("/tokens", methods=["POST"])
@public
# No Idempotency-Key: a second token is harmless, and replaying the answer would keep a bearer token in the
# database for a day.
@blp.arguments(TokenRequest)
@blp.response(201, TokenOut)
def create_token(data: dict) -> Any:
    """Log in with e-mail and password; failures count towards the account's lockout, as on the login page."""
    ctx = current_app.extensions["uwagi"]
    user = identity.authenticate(ctx, data["email"], data["password"])
    token = identity.issue_token(ctx, user)
    expires = ctx.signer.expires_at(token)
    return {"token": token, "role": user.role,
            "expires_at": datetime.fromtimestamp(expires, timezone.utc) if expires else None}
