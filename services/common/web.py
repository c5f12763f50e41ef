"""The Flask side every service shares: app factory skeleton, error mapping and health endpoints."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

import marshmallow as ma
from flask import Blueprint, Flask, abort, g, jsonify, make_response, request
from flask_smorest import Api
from sqlalchemy import exc as sa_exc
from flask_smorest import Blueprint as SmorestBlueprint
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter
from werkzeug.middleware.proxy_fix import ProxyFix

from services.common.auth import init_auth, public
from services.common.jsonguard import SafeArgumentsParser, SafeJSONProvider
from services.common.observability import correlation_id
from services.common.runtime import ServiceContext
from services.common.ui import error_page, init_ui, wants_json

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of the errors handlers raise; the entrypoint maps `status` to HTTP."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Invalid(DomainError):
    status = 422
    code = "invalid"


class Refused(DomainError):
    """A valid request the rules do not allow (e.g. a late submission when the policy refuses them)."""

    status = 403
    code = "refused"


def ascii_filename(name: str) -> str:
    """"raport-łódź.csv" → "raport-lodz.csv", for clients that ignore filename*."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", name.replace("ł", "l").replace("Ł", "L"))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in plain)


def file_response(content: bytes, media_type: str, filename: str, sha256: str, *,
                  cache_control: str | None = None) -> Any:
    """A download: the media type as stored (its charset once), a safe file name, a strong ETag."""
    from urllib.parse import quote

    from flask import Response

    ascii_name = ascii_filename(filename)
    headers = {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
               "ETag": f'"{sha256}"'}
    if cache_control:
        headers["Cache-Control"] = cache_control
    # content_type, not mimetype: werkzeug would append a second charset to "text/csv; charset=utf-8".
    return Response(content, content_type=media_type, headers=headers)


def json_error(status: int, code: str, message: str, details: Any = None) -> Any:
    body: dict[str, Any] = {"code": status, "error": code, "message": message}
    if details is not None:
        body["errors"] = details
    response = jsonify(body)
    response.status_code = status
    return response


# Pages load only their own styles and scripts; no frames, no foreign form targets.
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


class ApiBlueprint(SmorestBlueprint):
    """flask-smorest's Blueprint with the guarded JSON parser (see services.common.jsonguard)."""

    ARGUMENTS_PARSER = SafeArgumentsParser()


class BoundedIntConverter(IntegerConverter):
    """`<int:x>` beyond what an INTEGER column holds is no such resource (a 404), not an error in the database: every
    number in a path (a version, a parked event's or a standard justification's id) is one. SQLite raised
    OverflowError beyond 64 bits; PostgreSQL's INTEGER ends at 2**31 - 1 ("integer out of range")."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class _App(Flask):
    json_provider_class = SafeJSONProvider


# Beyond what any list holds, and within what PostgreSQL's OFFSET takes (a bigint): a larger offset raised
# DataError ("bigint out of range") out of the list views on PostgreSQL; now the field says what it takes.
MAX_OFFSET = 2**31 - 1


def paging_offset() -> ma.fields.Integer:
    """The `offset` of a paged list's query: 0 up to MAX_OFFSET."""
    return ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=MAX_OFFSET))


class ErrorBody(ma.Schema):
    """Every error body the services send (see `json_error`)."""

    code = ma.fields.Integer(metadata={"description": "HTTP status"})
    status = ma.fields.String(metadata={"description": "HTTP status name"})
    error = ma.fields.String(metadata={"description": "stable error code, e.g. not_found, invalid, conflict"})
    message = ma.fields.String(metadata={"description": "what went wrong, for a person"})
    errors = ma.fields.Raw(metadata={"description": "details, e.g. field errors by location and field"})


class _Api(Api):
    ERROR_SCHEMA = ErrorBody


def api_operations(app: Flask, api: Api) -> Iterator[tuple[Any, dict]]:
    """Each documented operation with its view function, for what the decorators add to the document."""
    paths = api.spec._paths  # apispec keeps the registered paths here; flask-smorest adds no hook for this
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        operations = paths.get(path)
        if not operations:
            continue
        view = app.view_functions[rule.endpoint]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = operations.get(method.lower())
            if operation is not None:
                yield view, operation


def document_security(app: Flask, api: Api) -> None:
    """Mark every staff operation with the bearer scheme and its 401/403 answers; public ones stay open."""
    for view, operation in api_operations(app, api):
        if getattr(view, "_uwagi_public", False):
            operation["security"] = []
            continue
        operation["security"] = [{"staffToken": []}]
        responses = operation.setdefault("responses", {})
        responses.setdefault("401", api.spec.components.get_ref("response", "UNAUTHORIZED"))
        responses.setdefault("403", api.spec.components.get_ref("response", "FORBIDDEN"))


def create_service_app(ctx: ServiceContext, blueprints: Iterable[Any], *, title: str) -> Flask:
    service = ctx.service
    app = _App(f"services.{service}", static_url_path=f"/{service}/static")
    app.url_map.converters["int"] = BoundedIntConverter
    app.config.update(
        SECRET_KEY=ctx.settings.secret_key,
        MAX_CONTENT_LENGTH=ctx.settings.max_upload_bytes,
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=f"/{service}/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["uwagi"] = ctx
    api = _Api(app, spec_kwargs={"components": {"securitySchemes": {
        "staffToken": {"type": "http", "scheme": "bearer"}}}})
    for blueprint in blueprints:
        api.register_blueprint(blueprint, url_prefix=f"/{service}/api/v1")
    app.register_blueprint(health_blueprint(ctx))
    document_security(app, api)
    from services.common.idempotency import document_idempotency  # imports this module

    document_idempotency(app, api)
    app.before_request(_refuse_nul_characters)  # first: before anything reads the request
    # The OpenAPI document is public, like any published API description.
    init_auth(app, ctx.signer, public_prefixes=("api-docs.",))
    # Each service's pages and e-mails keep their catalogs in services/<service>/translations.
    init_ui(app, ctx, translations=Path(__file__).resolve().parent.parent / service / "translations")
    from services.common.admin_events import admin_events_blueprint

    app.register_blueprint(admin_events_blueprint(ctx))
    from services.common.metrics import init_web_metrics

    init_web_metrics(app, ctx)

    @app.before_request
    def _bind_correlation_id() -> None:
        # The submission's reference when the request names one; handlers bind it once they make one.
        value = request.headers.get("X-Correlation-ID") or request.args.get("reference") or \
            (request.view_args or {}).get("reference")
        g.uwagi_correlation = correlation_id.set(str(value)[:100] if value else None)

    @app.teardown_request
    def _unbind_correlation_id(_exc: BaseException | None) -> None:
        token = g.pop("uwagi_correlation", None)
        if token is not None:
            try:
                correlation_id.reset(token)
            except ValueError:  # bound in another context; nothing to undo here
                pass

    @app.after_request
    def _security_headers(response: Any) -> Any:
        # On every answer, errors and static files included: nothing is sniffed into another type.
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        elif response.mimetype == "application/json" and "/api/" in request.path:
            # Staff data and status answers must not linger in shared caches.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Any:
        response = (error_page(exc.status, exc.message) if not wants_json()
                    else json_error(exc.status, exc.code, exc.message, exc.details))
        extra_headers = getattr(exc, "headers", None)  # e.g. Retry-After of a 429
        if extra_headers:
            response = make_response(response)
            response.headers.update(extra_headers)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        if exc.code == 413:
            message = f"request body too large (limit {ctx.settings.max_upload_bytes // (1024 * 1024)} MiB)"
        elif exc.code == 400 and messages:
            message = _json_error_message(messages) or "invalid request"
        else:
            message = exc.description or exc.name
        if not wants_json():
            response = error_page(exc.code or 500)
        else:
            response = json_error(exc.code or 500, exc.name.lower().replace(" ", "_"), message, messages)
        return _with_exception_headers(response, exc)

    @app.errorhandler(OverflowError)
    def _number_out_of_range(exc: OverflowError) -> Any:
        # A number the schema let through but the database cannot hold: the client's error, not ours.
        log.warning("number out of range: %s", exc)
        if not wants_json():
            return error_page(422, "a number is out of range")
        return json_error(422, "invalid", "a number in the request is out of range")

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(sa_exc.TimeoutError)
    def _database_unavailable(exc: Exception) -> Any:
        # The database is down, restarting or out of connections: nothing was accepted, and the client
        # may simply try again, so this is a 503 with a hint when, not a 500.
        log.warning("database unavailable: %s", str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__)
        from flask import make_response

        if not wants_json():
            response = make_response(error_page(503))
        else:
            response = make_response(json_error(503, "unavailable",
                                                "the service is temporarily unavailable; please try again shortly"))
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(sa_exc.DataError)
    def _not_storable(exc: sa_exc.DataError) -> Any:
        # A value the request's checks let through but the database refuses (a number beyond its integer type, a
        # text too long for its column): the client's error, not ours. Nothing was stored; the transaction rolled back.
        log.warning("value refused by the database: %s", _refusal(exc))
        if not wants_json():
            return error_page(422, "a value in the request is out of range or not valid for its field")
        return json_error(422, "invalid", "a value in the request is out of range or not valid for its field")

    @app.errorhandler(sa_exc.IntegrityError)
    def _raced(exc: sa_exc.IntegrityError) -> Any:
        # A constraint the handler did not expect to meet: another request stored the same key, or removed a row
        # this one refers to, between its checks and its write. Nothing was stored; reloading shows the other change.
        log.warning("refused by a database constraint: %s", _refusal(exc))
        message = "the request conflicts with a change stored at the same time; reload and try again"
        if not wants_json():
            return error_page(409, message)
        return json_error(409, "conflict", message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.exception("unhandled error")
        if not wants_json():
            return error_page(500)
        return json_error(500, "internal_error", "internal error; it has been logged")

    if ctx.settings.trusted_proxies:
        # Behind the gateway the client's address (rate limits, logs) and scheme come in X-Forwarded-*;
        # trusting them without a proxy would let any client choose its own address.
        n = ctx.settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    ctx.relay.start()
    return app


DATABASE_RETRY_AFTER_SECONDS = 5


def _refusal(exc: sa_exc.DBAPIError) -> str:
    """The database's reason and the start of the statement, for a log line (no parameters: they may be personal)."""
    reason = (str(exc.orig).splitlines() or [type(exc.orig).__name__])[0][:300]
    return f"{reason} (in {' '.join(str(exc.statement or '').split())[:160]})"


NUL_REFUSED = "the request contains a NUL character (U+0000), which no field takes"


def _refuse_nul_characters() -> None:
    """A NUL in the path, the query or a form field (or a JSON string: services.common.jsonguard) is a 400.

    No text of Uwagi's takes one, and PostgreSQL refuses it in any text value: a NUL that reached a query or an
    INSERT raised a DataError out of the view (a 500), on a status lookup, a reference in a path, a comment."""
    if "\x00" in request.path or _has_nul(request.args):
        abort(400, description=NUL_REFUSED)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") and (
            _has_nul(request.form) or any("\x00" in (f.filename or "") for f in request.files.values())):
        abort(400, description=NUL_REFUSED)


def _has_nul(values: Any) -> bool:
    # a multipart part may come without a name: its key is None
    return any(isinstance(text, str) and "\x00" in text for pair in values.items(multi=True) for text in pair)


def _with_exception_headers(response: Any, exc: HTTPException) -> Any:
    """Keep what the exception says in headers (a 405's `Allow`, a 429's `Retry-After`, a 401's challenge)."""
    from flask import make_response

    response = make_response(response)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _json_error_message(messages: Any) -> str | None:
    """A body that failed to parse has a list of reasons under "json" (field errors are a dict there)."""
    reasons = messages.get("json") if isinstance(messages, dict) else None
    if not isinstance(reasons, list) or not reasons or not isinstance(reasons[0], str):
        return None
    if reasons[0] == "Invalid JSON body.":
        return "the request body is not valid JSON"
    return f"the request body is not acceptable JSON: {reasons[0]}"


def health_blueprint(ctx: ServiceContext) -> Blueprint:
    blp = Blueprint(f"{ctx.service}_health", __name__, url_prefix=f"/{ctx.service}")

    @blp.get("/healthz")
    @public
    def healthz() -> Any:
        return jsonify({"status": "ok", "service": ctx.service})

    @blp.get("/readyz")
    @public
    def readyz() -> Any:
        checks: dict[str, str] = {}
        for name, probe in (("database", ctx.db.ping), ("broker", ctx.publisher.ping), ("storage", ctx.store.ping)):
            try:
                probe()
                checks[name] = "ok"
            except Exception as exc:  # readiness reports, it does not fail
                checks[name] = f"error: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        response = jsonify({"status": "ready" if ready else "not ready", "service": ctx.service, "checks": checks})
        response.status_code = 200 if ready else 503
        return response

    return blp
