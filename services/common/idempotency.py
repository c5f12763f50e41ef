"""`Idempotency-Key` for the POSTs that create things: a retried request gets the first answer, never a twin.

How one request with a key goes:
1. Claim: insert (scope, key, sha256 of the request) into the service's `idempotency_keys` table and commit.
   The unique (scope, key) lets only one request own a key; a concurrent second one sees the claim and gets
   409 "in progress" (retry later), so nothing is ever created twice.
2. The view runs. Every `ctx.transaction()` it commits also marks the claim `committed` in the SAME
   transaction as the state change (see `mark_committed`), so we always know whether a state change happened.
3. A 2xx answer is stored with the claim (status, body, a few headers) and replayed to any later request with
   the same key and the same body; another body under the key is a 422. Any other answer (a 4xx, a 5xx, an
   exception) changed nothing, so the claim is released and the client may retry with the same key.
A claim left behind by a crashed process: if nothing was committed it is taken over after `STALE_AFTER`;
if the change was committed but the answer is lost, the key answers 409 until it expires (24 h) rather than
create a second time.

The scope is method + path (+ the staff member, for staff calls), so one key cannot replay another
endpoint's answer. Keys expire after `TTL`; `sweep_expired_keys` deletes them (a worker sweep).
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from flask import current_app, make_response, request
from sqlalchemy import JSON, Boolean, Integer, LargeBinary, String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.db import UTCDateTime, utcnow
from services.common.web import DomainError, Invalid

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
STALE_AFTER = timedelta(minutes=5)  # far longer than any request may run (gunicorn's timeout is shorter)
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII without spaces, like a UUID or a ULID
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")


class KeyInProgress(DomainError):
    status = 409
    code = "idempotency_key_in_progress"

    def __init__(self, message: str):
        super().__init__(message)
        self.headers = {"Retry-After": "1"}


class KeyReused(Invalid):
    code = "idempotency_key_reused"


def idempotency_table(base: type) -> type:
    """The service's `idempotency_keys` model on its own declarative base (one migration per service)."""

    class IdempotencyKey(base):  # type: ignore[valid-type, misc]
        __tablename__ = "idempotency_keys"

        scope: Mapped[str] = mapped_column(String(400), primary_key=True)  # "POST /intake/api/v1/…[ staff]"
        key: Mapped[str] = mapped_column(String(200), primary_key=True)
        request_sha256: Mapped[str] = mapped_column(String(64))
        committed: Mapped[bool] = mapped_column(Boolean, default=False)
        status: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None while in progress
        response_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
        response_headers: Mapped[dict] = mapped_column(JSON, default=dict)
        created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
        expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    return IdempotencyKey


@dataclass(frozen=True)
class Claim:
    model: type
    scope: str
    key: str


_current_claim: contextvars.ContextVar[Claim | None] = contextvars.ContextVar("uwagi_idempotency_claim",
                                                                              default=None)


def mark_committed(session: Session) -> None:
    """Called inside each unit of work before it commits: the claim of this request, if any, records that
    state changed, in the same transaction as the change."""
    claim = _current_claim.get()
    if claim is None:
        return
    session.execute(update(claim.model).where(claim.model.scope == claim.scope, claim.model.key == claim.key)
                    .values(committed=True))


def request_fingerprint() -> str:
    """sha256 of what makes the request this request: method, path, query and the body's bytes."""
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode("latin-1")):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(request.get_data(cache=True))  # cached: the form and JSON parsers read it again
    return digest.hexdigest()


def _scope() -> str:
    from services.common.auth import current_staff

    staff = current_staff()
    return f"{request.method} {request.path}" + (f" {staff.user_id}" if staff else "")


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a POST view that creates something (put it below the access decorator)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not KEY_PATTERN.match(key):
            raise Invalid(f"{HEADER} must be 1 to 200 printable ASCII characters without spaces",
                          details={"header": {HEADER: ["invalid"]}})
        ctx = current_app.extensions["uwagi"]
        model = current_app.extensions["uwagi_idempotency_model"]
        claim = Claim(model, _scope()[:400], key)
        replay = _claim(ctx, claim, request_fingerprint())
        if replay is not None:
            return replay
        token = _current_claim.set(claim)
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            _release(ctx, claim)
            raise
        finally:
            _current_claim.reset(token)
        if 200 <= response.status_code < 300:
            _complete(ctx, claim, response)
        else:
            _release(ctx, claim)
        return response

    return wrapper


def _claim(ctx: Any, claim: Claim, fingerprint: str) -> Any | None:
    """Own the key (None), or the stored first answer to replay; raises for a conflict."""
    model = claim.model
    for _attempt in range(3):
        now = utcnow()
        try:
            with ctx.db.transaction() as session:
                session.add(model(scope=claim.scope, key=claim.key, request_sha256=fingerprint, committed=False,
                                  status=None, response_body=None, response_headers={}, created_at=now,
                                  expires_at=now + TTL))
            return None
        except IntegrityError:
            pass
        with ctx.db.transaction() as session:
            row = session.get(model, (claim.scope, claim.key), with_for_update=True)
            if row is None:  # released meanwhile: claim again
                continue
            if row.expires_at <= now or (row.status is None and not row.committed
                                         and row.created_at <= now - STALE_AFTER):
                session.delete(row)  # expired, or abandoned by a crashed process before any change
                continue
            if row.request_sha256 != fingerprint:
                raise KeyReused(f"this {HEADER} was used with another request; use a new key for a new request")
            if row.status is None:
                if row.committed:
                    raise KeyInProgress(f"the first request with this {HEADER} was recorded but its answer was "
                                        "lost; look the result up instead of retrying")
                raise KeyInProgress(f"a request with this {HEADER} is still in progress; retry shortly")
            response = make_response(row.response_body or b"", row.status)
            for name, value in (row.response_headers or {}).items():
                response.headers[name] = value
            response.headers["Idempotent-Replayed"] = "true"
            return response
    raise KeyInProgress(f"a request with this {HEADER} is contended; retry shortly")


def _complete(ctx: Any, claim: Claim, response: Any) -> None:
    headers = {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers}
    try:
        with ctx.db.transaction() as session:
            session.execute(update(claim.model).where(claim.model.scope == claim.scope, claim.model.key == claim.key)
                            .values(status=response.status_code, response_body=response.get_data(),
                                    response_headers=headers))
    except Exception:  # the change is committed; a retry will get a 409 rather than a twin
        log.exception("could not store the answer for %s %s", HEADER, claim.key)


def _release(ctx: Any, claim: Claim) -> None:
    try:
        with ctx.db.transaction() as session:
            session.execute(delete(claim.model).where(claim.model.scope == claim.scope, claim.model.key == claim.key,
                                                      claim.model.committed.is_(False)))
    except Exception:  # a stale claim is taken over after STALE_AFTER
        log.warning("could not release %s %s", HEADER, claim.key, exc_info=True)


def sweep_expired_keys(ctx: Any, model: type, *, now: datetime | None = None) -> int:
    """Delete keys past their expiry (a worker sweep); returns how many."""
    with ctx.db.transaction() as session:
        result = session.execute(delete(model).where(model.expires_at <= (now or utcnow())))
    return int(result.rowcount or 0)


def install_idempotency(app: Any, model: type) -> None:
    app.extensions["uwagi_idempotency_model"] = model


def stored_keys(ctx: Any, model: type) -> list[Any]:
    """Every stored key (tests and the admin's curiosity)."""
    with ctx.db.transaction() as session:
        return list(session.scalars(select(model)))
