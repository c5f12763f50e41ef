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
endpoint's answer. Keys expire after `TTL`; every service worker's sweeps delete them (`sweep_idempotency_keys`).

A service takes part with three lines: `IdempotencyKey = idempotency_table(Base)` in its models, a migration
calling `create_idempotency_keys(op)`, and `build_context(..., idempotency_model=IdempotencyKey)`. The app
factory then documents the header on every `@idempotent` view and the worker sweeps the table.
"""

from __future__ import annotations

import contextvars
import copy
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


FORM_MIMETYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def request_fingerprint() -> str:
    """sha256 of what makes the request this request: method, path, query and the body.

    A JSON or raw body counts by its bytes. A form counts by its parsed fields and files: a multipart
    client draws a new random boundary on every retry, and the CSRF check of a session-authenticated
    call may have parsed the form (consuming the raw stream) before this runs."""
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode("latin-1")):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    if request.mimetype in FORM_MIMETYPES:
        _digest_form(digest)
    else:
        digest.update(request.get_data(cache=True))  # cached: the JSON parser reads it again
    return digest.hexdigest()


def _digest_form(digest: Any) -> None:
    """Fields and files in name order, each value length-prefixed; a file by name, type and content."""

    def feed(*parts: str | bytes | None) -> None:
        for part in parts:
            data = (part or "").encode("utf-8", "surrogateescape") if not isinstance(part, bytes) else part
            digest.update(len(data).to_bytes(8, "big") + data)

    feed(b"form")  # never equal to a raw body's digest
    csrf_field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")  # a fresh one on every page
    by_name = functools.partial(sorted, key=lambda item: (item[0] is None, item[0] or ""))  # a mangled name is None
    for name, values in by_name(request.form.lists()):
        if name != csrf_field:
            feed(b"field", name, *values)
    for name, uploads in by_name(request.files.lists()):
        for upload in uploads:
            upload.stream.seek(0)
            content = hashlib.sha256()
            for chunk in iter(lambda: upload.stream.read(1 << 16), b""):
                content.update(chunk)
            upload.stream.seek(0)  # the view reads the file after us
            feed(b"file", name, upload.filename, upload.content_type, content.digest())


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
        claim = Claim(ctx.idempotency_model, _scope()[:400], key)
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

    wrapper._uwagi_idempotent = True  # type: ignore[attr-defined]  # for document_idempotency
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
    """Delete keys past their expiry; returns how many."""
    with ctx.db.transaction() as session:
        result = session.execute(delete(model).where(model.expires_at <= (now or utcnow())))
    return int(result.rowcount or 0)


def sweep_idempotency_keys(ctx: Any) -> None:
    """The sweep every service worker runs (see `ServiceWorker.run_sweeps`); a service without keys has none."""
    if ctx.idempotency_model is not None:
        sweep_expired_keys(ctx, ctx.idempotency_model)


PARAMETER_DOC = {
    "name": HEADER, "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": KEY_PATTERN.pattern},
    "description": (
        "Optional; a new value (e.g. a UUID) per new request, the same value when retrying it. For 24 hours a "
        "repeat with the same request (method, path, query and body; a form by its fields and files) gets the "
        "first 2xx answer again, with `Idempotent-Replayed: true`, and creates nothing more. The same key with "
        "another request is a 422 `idempotency_key_reused`; while the first is still running, a 409 "
        "`idempotency_key_in_progress` with `Retry-After`. A non-2xx answer keeps no key. Keys are per "
        "endpoint and per staff member."),
}
CONFLICT_DOC = ("`idempotency_key_in_progress`: a request with this Idempotency-Key is still running, or changed "
                "something without its answer being recorded; see Retry-After")


def document_idempotency(app: Any, api: Any) -> None:
    """The Idempotency-Key header and its 409/422 on every `@idempotent` operation of the OpenAPI document;
    refuses to start a service that has such a view but no `idempotency_model` to keep the keys in."""
    from services.common.web import api_operations

    operations = [(view, op) for view, op in api_operations(app, api) if getattr(view, "_uwagi_idempotent", False)]
    if not operations:
        return
    if app.extensions["uwagi"].idempotency_model is None:
        raise RuntimeError(f"{operations[0][0].__name__} takes an Idempotency-Key but the service keeps no keys: "
                           "pass idempotency_model to build_context")
    api.spec.components.parameter("IdempotencyKey", "header", dict(PARAMETER_DOC))
    ref = {"$ref": "#/components/parameters/IdempotencyKey"}
    for _view, operation in operations:
        operation.setdefault("parameters", []).append(ref)
        responses = operation.setdefault("responses", {})
        conflict = responses.setdefault("409", {"description": CONFLICT_DOC, "content": copy.deepcopy(
            api.spec.components.responses["DEFAULT_ERROR"]["content"])})  # the error body every answer uses
        if "$ref" not in conflict and CONFLICT_DOC not in conflict.get("description", ""):
            conflict["description"] = f"{conflict.get('description', '')}; or {CONFLICT_DOC}"  # e.g. a full slot
        responses.setdefault("422", api.spec.components.get_ref("response", "UNPROCESSABLE_ENTITY"))


def create_idempotency_keys(op: Any) -> None:
    """Used by each service's migration, so the table is identical everywhere (see `idempotency_table`)."""
    import sqlalchemy as sa

    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(length=400), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("committed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    op.create_index(op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"], unique=False)


def drop_idempotency_keys(op: Any) -> None:
    op.drop_index(op.f("ix_idempotency_keys_expires_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")


def stored_keys(ctx: Any, model: type) -> list[Any]:
    """Every stored key (tests and the admin's curiosity)."""
    with ctx.db.transaction() as session:
        return list(session.scalars(select(model)))
