"""Prometheus metrics of every web process and worker (prometheus-client).

Web apps answer `/<service>/metrics` (admin staff, or `Authorization: Bearer $UWAGI_METRICS_TOKEN` for
Prometheus). Workers serve the same text on `UWAGI_METRICS_HOST:UWAGI_METRICS_PORT` (127.0.0.1 unless
told otherwise). Under gunicorn, `PROMETHEUS_MULTIPROC_DIR` makes every worker process write its
counters to files that a scrape of any one of them adds up.

The outbox gauges are not kept in memory: a collector asks the service's database at scrape time.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from typing import Any, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# A `<name>_created` timestamp per label set doubles the series and no dashboard reads it.
disable_created_metrics()

HTTP_REQUESTS = Counter("uwagi_http_requests_total", "HTTP requests answered, by route and status",
                        ["service", "route", "method", "status"])
HTTP_LATENCY = Histogram("uwagi_http_request_duration_seconds", "Time to answer an HTTP request, by route",
                         ["service", "route", "method"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
EVENTS = Counter("uwagi_events_total", "Events taken from the bus, by outcome (consumed, parked, dead_lettered)",
                 ["service", "event_type", "outcome"])
CELERY_TASKS = Counter("uwagi_celery_tasks_total", "Celery tasks by final state (succeeded, retried, failed)",
                       ["service", "task", "state"])
EMAILS = Counter("uwagi_emails_total", "E-mails handed to the SMTP server or mail folder, by outcome (sent, failed, "
                 "bounced: reported undeliverable later)",
                 ["template", "outcome"])
BUILD_DURATION = Histogram("uwagi_document_build_duration_seconds", "Time to build a document or report, by kind",
                           ["kind", "outcome"], buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600))

METRIC_NAMES = frozenset({
    "uwagi_http_requests_total", "uwagi_http_request_duration_seconds", "uwagi_events_total",
    "uwagi_celery_tasks_total", "uwagi_emails_total", "uwagi_document_build_duration_seconds",
    "uwagi_outbox_pending", "uwagi_outbox_oldest_age_seconds",
})


class OutboxCollector(Collector):
    """The service's outbox at scrape time: rows not yet published, and how long the oldest has waited."""

    def __init__(self, service: str, db: Any, outbox_model: type):
        self.service, self.db, self.outbox_model = service, db, outbox_model

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from sqlalchemy import func, select

        from services.common.events import utcnow

        pending = GaugeMetricFamily("uwagi_outbox_pending", "Outbox rows not yet published", labels=["service"])
        age = GaugeMetricFamily("uwagi_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row",
                                labels=["service"])
        model = self.outbox_model
        try:
            with self.db.transaction() as session:
                count, oldest = session.execute(select(func.count(model.id), func.min(model.created_at))
                                                .where(model.published_at.is_(None))).one()
        except Exception:  # a scrape reports what it can; the database being down shows in /readyz
            log.warning("outbox metrics unavailable for %s", self.service, exc_info=True)
            return
        if oldest is not None and oldest.tzinfo is None:
            from datetime import timezone

            oldest = oldest.replace(tzinfo=timezone.utc)
        pending.add_metric([self.service], count or 0)
        age.add_metric([self.service], max(0.0, (utcnow() - oldest).total_seconds()) if oldest else 0.0)
        yield pending
        yield age


def exposition(*collectors: Collector) -> bytes:
    """The text a scrape gets: this process's (or, under gunicorn, every worker's) metrics plus `collectors`."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    if collectors:
        extra = CollectorRegistry()
        for collector in collectors:
            extra.register(collector)
        text += generate_latest(extra)
    return text


def metrics_token_matches(expected: str | None, authorization: str | None) -> bool:
    if not expected or not authorization or not authorization.startswith("Bearer "):
        return False
    return hmac.compare_digest(authorization[len("Bearer "):].strip().encode(), expected.encode())


# --- web ---------------------------------------------------------------------------


def init_web_metrics(app: Any, ctx: Any) -> None:
    """Request counters and latency by route (the URL rule, never the raw path), and `/<service>/metrics`."""
    from flask import Blueprint, Response, g, request

    from services.common.auth import requires_role

    service = ctx.service
    outbox = OutboxCollector(service, ctx.db, ctx.outbox_model)

    @app.before_request
    def _start_timer() -> None:
        g.uwagi_started = time.perf_counter()

    @app.after_request
    def _count(response: Any) -> Any:
        started = g.pop("uwagi_started", None)
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        HTTP_REQUESTS.labels(service, route, request.method, str(response.status_code)).inc()
        if started is not None:
            HTTP_LATENCY.labels(service, route, request.method).observe(time.perf_counter() - started)
        return response

    blp = Blueprint(f"{service}_metrics", __name__, url_prefix=f"/{service}")

    @blp.get("/metrics")
    @requires_role("admin")
    def metrics() -> Any:
        response = Response(exposition(outbox), content_type=CONTENT_TYPE_LATEST)
        response.headers["Cache-Control"] = "no-store"
        return response

    # Prometheus scrapes with UWAGI_METRICS_TOKEN instead of a staff token (see services.common.auth).
    metrics._uwagi_machine_bearer = lambda token: metrics_token_matches(  # type: ignore[attr-defined]
        ctx.settings.metrics_token, f"Bearer {token}")
    app.register_blueprint(blp)


# --- workers -----------------------------------------------------------------------


_celery_hooked = False
_hook_lock = threading.Lock()


def hook_celery_metrics() -> None:
    """Count tasks by state and carry the correlation id into them (once per process, every app)."""
    global _celery_hooked
    with _hook_lock:
        if _celery_hooked:
            return
        _celery_hooked = True
    from celery import signals

    from services.common.observability import CORRELATION_HEADER, correlation_id

    tokens: dict[str, Any] = {}

    def _service_of(task: Any) -> str:
        return (getattr(task, "name", "") or "").split(".", 1)[0] or "unknown"

    @signals.task_prerun.connect(weak=False)
    def _prerun(task_id: str = "", task: Any = None, **_: Any) -> None:
        request = getattr(task, "request", None)
        value = getattr(request, CORRELATION_HEADER, None) or (getattr(request, "headers", None) or {}).get(
            CORRELATION_HEADER)
        if value:
            tokens[task_id] = correlation_id.set(str(value))

    @signals.task_postrun.connect(weak=False)
    def _postrun(task_id: str = "", task: Any = None, state: str | None = None, **_: Any) -> None:
        token = tokens.pop(task_id, None)
        if token is not None:
            try:
                correlation_id.reset(token)
            except ValueError:  # set in another context (a thread pool); drop it there
                correlation_id.set(None)
        if state == "SUCCESS":
            CELERY_TASKS.labels(_service_of(task), getattr(task, "name", "?"), "succeeded").inc()

    @signals.task_retry.connect(weak=False)
    def _retry(sender: Any = None, **_: Any) -> None:
        CELERY_TASKS.labels(_service_of(sender), getattr(sender, "name", "?"), "retried").inc()

    @signals.task_failure.connect(weak=False)
    def _failure(sender: Any = None, **_: Any) -> None:
        CELERY_TASKS.labels(_service_of(sender), getattr(sender, "name", "?"), "failed").inc()


def start_metrics_server(ctx: Any) -> Any:
    """The worker's scrape port (`UWAGI_METRICS_PORT`, on `UWAGI_METRICS_HOST`, 127.0.0.1 by default)."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    port = ctx.settings.metrics_port
    if port is None:
        return None
    outbox = OutboxCollector(ctx.service, ctx.db, ctx.outbox_model)

    def app(environ: dict, start_response: Any) -> list[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if ctx.settings.metrics_token and not metrics_token_matches(ctx.settings.metrics_token,
                                                                    environ.get("HTTP_AUTHORIZATION")):
            start_response("401 Unauthorized", [("Content-Type", "text/plain")])
            return [b"the metrics token is required\n"]
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [exposition(outbox)]

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
            log.debug("metrics scrape: " + format, *args)

    server = make_server(ctx.settings.metrics_host, port, app, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"{ctx.service}-metrics", daemon=True)
    thread.start()
    log.info("%s metrics on http://%s:%d/metrics", ctx.service, ctx.settings.metrics_host, server.server_port)
    return server
