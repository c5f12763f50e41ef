"""Operations: Prometheus metrics, JSON logs with the correlation id, and no secrets in request logs."""

from __future__ import annotations

import io
import json
import logging
import sys
import urllib.request
from datetime import timedelta
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY

from services.common import metrics
from services.common.bus import EventConsumer, InboxDispatcher, TransientError
from services.common.db import Database, upgrade
from services.common.events import new_envelope, parse_envelope, utcnow
from services.common.observability import (
    CorrelationFilter,
    JsonFormatter,
    correlated,
    correlation_id,
    logging_handler,
    redact_query,
    redact_request_line,
)
from services.common.settings import SettingsError, load_settings

METRICS_TOKEN = "prometheus-scrape-token-0123"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- request logs ------------------------------------------------------------------


@pytest.mark.parametrize("line, expected", [
    ("GET /intake/status?reference=UW/2026/000001&token=s3cr3t HTTP/1.1",
     "GET /intake/status?reference=UW/2026/000001&token=[redacted] HTTP/1.1"),
    ("GET /intake/bookings/b1/cancel?token=abc&lang=en HTTP/1.1",
     "GET /intake/bookings/b1/cancel?token=[redacted]&lang=en HTTP/1.1"),
    ("GET /intake/api/v1/submissions/UW%2F1?Token=x HTTP/1.1", "GET /intake/api/v1/submissions/UW%2F1?Token=[redacted] HTTP/1.1"),
    ("GET /intake/c/1?lang=pl HTTP/1.1", "GET /intake/c/1?lang=pl HTTP/1.1"),
    ("garbage", "garbage"),
])
def test_request_lines_lose_their_secret_query_values(line, expected):
    assert redact_request_line(line) == expected
    assert redact_query("") == ""


def test_the_embedded_server_logs_status_requests_without_the_token(caplog):
    from services.embedded import RedactingRequestHandler

    handler = RedactingRequestHandler.__new__(RedactingRequestHandler)
    handler.requestline = "GET /intake/status?reference=UW/2026/000001&token=s3cr3t HTTP/1.1"
    handler.client_address = ("127.0.0.1", 5000)
    handler.request_version = "HTTP/1.1"
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        handler.log_request(200, 512)
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "token=[redacted]" in logged and "s3cr3t" not in logged
    assert handler.requestline.endswith("token=s3cr3t HTTP/1.1")  # only the log line changes


def test_gunicorns_access_log_uses_the_redacting_logger():
    import runpy
    from datetime import timedelta as td

    from gunicorn.config import Config

    from services.common.gunicorn_logging import RedactingLogger

    conf = runpy.run_path("deploy/gunicorn.conf.py")
    assert conf["logger_class"] == "services.common.gunicorn_logging.RedactingLogger"
    assert callable(conf["child_exit"])
    logger = RedactingLogger(Config())
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/intake/status?reference=UW/1&token=s3cr3t",
               "SERVER_PROTOCOL": "HTTP/1.1", "QUERY_STRING": "reference=UW/1&token=s3cr3t", "PATH_INFO": "/intake/status",
               "HTTP_REFERER": "http://x/intake/status?token=s3cr3t"}
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    atoms = logger.atoms(response, SimpleNamespace(headers=[("Referer", "http://x/intake/status?token=s3cr3t")]),
                         environ, td(milliseconds=5))
    rendered = conf["access_log_format"] % logger.atoms_wrapper_class(atoms)
    assert "s3cr3t" not in rendered and "s3cr3t" not in atoms["q"] and "s3cr3t" not in atoms["f"]
    assert "token=[redacted]" in rendered and "/intake/status?reference=UW/1" in rendered


# --- structured logs and the correlation id ----------------------------------------------


def test_json_log_lines_carry_the_correlation_id_and_the_exception():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("uwagi.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with correlated("UW/2026/000042"):
            logger.warning("receipt for %s", "anna")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "receipt for anna" and first["correlation_id"] == "UW/2026/000042"
    assert first["level"] == "WARNING" and first["logger"] == "uwagi.test.json" and first["time"].endswith("+00:00")
    assert "correlation_id" not in second and "ValueError: boom" in second["exception"]
    assert correlation_id.get() is None


def test_the_log_format_is_a_setting_checked_at_start():
    assert load_settings({}).log_format == "text"
    assert load_settings({"UWAGI_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(SettingsError, match="UWAGI_LOG_FORMAT"):
        load_settings({"UWAGI_LOG_FORMAT": "xml"})
    with pytest.raises(SettingsError, match="UWAGI_METRICS_TOKEN"):
        load_settings({"UWAGI_METRICS_TOKEN": "short"})
    with pytest.raises(SettingsError, match="UWAGI_METRICS_PORT"):
        load_settings({"UWAGI_METRICS_PORT": "70000"})
    assert isinstance(logging_handler("text").formatter, logging.Formatter)
    assert isinstance(logging_handler("json").formatter, JsonFormatter)


def test_configure_logging_installs_one_handler_of_the_chosen_format():
    from services.common.runtime import configure_logging

    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    try:
        configure_logging(load_settings({"UWAGI_LOG_FORMAT": "json", "UWAGI_LOG_LEVEL": "WARNING"}))
        [handler] = root.handlers
        assert isinstance(handler.formatter, JsonFormatter) and root.level == logging.WARNING
    finally:
        root.handlers[:] = saved
        root.setLevel(level)


@pytest.fixture
def review_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'review.db'}"
    upgrade("review", url)
    db = Database(url)
    yield db
    db.dispose()


def test_an_event_is_handled_under_its_correlation_id_and_passes_it_on(review_db):
    from services.review.models import Inbox, Outbox

    seen = []

    def handler(event, session):
        seen.append(correlation_id.get())
        ctx = SimpleNamespace(service="review", outbox_model=Outbox)
        from services.common.runtime import ServiceContext

        ServiceContext.emit(ctx, session, "consultation.review_completed",
                            {"consultation_id": "c1", "completed_at": utcnow(), "completed_by": "u1"})

    dispatcher = InboxDispatcher(review_db, Inbox, {"submission.received": [handler]}, service="review")
    envelope = new_envelope("consultation.review_completed", {"consultation_id": "c0", "completed_at": utcnow(),
                                                                "completed_by": "u"}, producer="review",
                            correlation_id="UW/2026/000007")
    event = parse_envelope(envelope)
    dispatcher.handlers = {event.type: [handler]}
    assert dispatcher.dispatch(event) == []
    assert seen == ["UW/2026/000007"] and correlation_id.get() is None
    with review_db.transaction() as session:
        [row] = session.query(Outbox).all()
        assert row.envelope["correlation_id"] == "UW/2026/000007"


def test_tasks_are_sent_with_the_correlation_id_and_run_under_it():
    from celery import Celery

    from services.common.runtime import ServiceContext

    metrics.hook_celery_metrics()
    sent = []
    ctx = SimpleNamespace(service="notify", celery=SimpleNamespace(
        send_task=lambda name, **kwargs: sent.append((name, kwargs))))
    with correlated("UW/2026/000008"):
        ServiceContext.enqueue(ctx, "send_notification", "n1")
    assert sent[0][1]["headers"] == {"correlation_id": "UW/2026/000008"}

    app = Celery("uwagi.notify", set_as_current=False)
    app.conf.task_always_eager = True
    seen = []

    # shared=False: a shared task joins every Celery app made later in this process, and each service's
    # worker would then think it has tasks of its own.
    @app.task(name="notify.observed", bind=True, shared=False)
    def observed(self):
        seen.append(correlation_id.get())
        logging.getLogger("uwagi.test").info("sending")

    @app.task(name="notify.broken", shared=False)
    def broken():
        raise RuntimeError("smtp down")

    before = sample("uwagi_celery_tasks_total", service="notify", task="notify.observed", state="succeeded")
    observed.apply(headers={"correlation_id": "UW/2026/000008"})
    assert seen == ["UW/2026/000008"] and correlation_id.get() is None
    assert sample("uwagi_celery_tasks_total", service="notify", task="notify.observed", state="succeeded") == before + 1
    failed = sample("uwagi_celery_tasks_total", service="notify", task="notify.broken", state="failed")
    broken.apply()
    assert sample("uwagi_celery_tasks_total", service="notify", task="notify.broken", state="failed") == failed + 1


# --- metrics ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def intake_app(tmp_path_factory):
    from services.intake import app as intake_app

    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path_factory.mktemp("var")),
                              "UWAGI_METRICS_TOKEN": METRICS_TOKEN})
    upgrade("intake", settings.database_url("intake"))
    built = intake_app.create_app(ctx=intake_app.build(settings))
    yield built
    built.extensions["uwagi"].close()


def bearer(app, role: str) -> dict:
    token = app.extensions["uwagi"].signer.issue("u-" + role, role + "@um.example", role)
    return {"Authorization": f"Bearer {token}"}


def test_the_metrics_endpoint_is_for_admins_and_prometheus_only(intake_app):
    client = intake_app.test_client()
    assert client.get("/intake/metrics").status_code in (302, 401)
    assert client.get("/intake/metrics", headers={"Accept": "application/json"}).status_code == 401
    assert client.get("/intake/metrics", headers=bearer(intake_app, "coordinator")).status_code == 403
    assert client.get("/intake/metrics", headers={"Authorization": "Bearer not-the-metrics-token"}).status_code == 401
    for headers in (bearer(intake_app, "admin"), {"Authorization": f"Bearer {METRICS_TOKEN}"}):
        response = client.get("/intake/metrics", headers=headers)
        assert response.status_code == 200, headers
        assert response.mimetype == "text/plain" and response.headers["Cache-Control"] == "no-store"
    # The metrics token opens nothing else.
    assert client.get("/intake/api/v1/staff/consultations",
                      headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 401


def test_requests_are_counted_by_route_and_status_with_their_latency(intake_app):
    client = intake_app.test_client()
    route = "/intake/api/v1/consultations/<consultation_id>"
    labels = {"service": "intake", "route": route, "method": "GET"}
    before = sample("uwagi_http_requests_total", **labels, status="404")
    client.get("/intake/api/v1/consultations/nope-1")
    client.get("/intake/api/v1/consultations/nope-2")
    assert sample("uwagi_http_requests_total", **labels, status="404") == before + 2
    assert sample("uwagi_http_request_duration_seconds_count", **labels) >= 2
    text = client.get("/intake/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).get_data(as_text=True)
    assert 'route="/intake/api/v1/consultations/<consultation_id>"' in text
    assert "nope-1" not in text  # routes, never raw paths: the label set stays bounded


def test_the_outbox_backlog_and_age_are_read_at_scrape_time(intake_app):
    from services.intake.models import Outbox

    ctx = intake_app.extensions["uwagi"]
    ctx.relay.stop()
    with ctx.db.transaction() as session:
        session.query(Outbox).delete()
        for age in (5, 90):
            envelope = new_envelope("consultation.review_completed", {"consultation_id": "c", "completed_at": utcnow(),
                                                                       "completed_by": "u"}, producer="intake")
            session.add(Outbox(event_id=envelope["id"], event_type=envelope["type"], envelope=json.loads(
                json.dumps(envelope, default=str)), created_at=utcnow() - timedelta(seconds=age)))
    text = intake_app.test_client().get(
        "/intake/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).get_data(as_text=True)
    assert 'uwagi_outbox_pending{service="intake"} 2.0' in text
    age = float(next(line for line in text.splitlines()
                     if line.startswith('uwagi_outbox_oldest_age_seconds{service="intake"}')).split()[-1])
    assert 89 <= age < 150


def test_events_are_counted_consumed_parked_and_dead_lettered(review_db):
    from services.review.models import Inbox, ParkedEvent

    envelope = new_envelope("consultation.review_completed", {"consultation_id": "c9", "completed_at": utcnow(),
                                                              "completed_by": "u"}, producer="review")
    labels = {"service": "review", "event_type": "consultation.review_completed"}

    def too_early(event, session):
        raise TransientError("the consultation has not arrived")

    dispatcher = InboxDispatcher(review_db, Inbox, {"consultation.review_completed": [too_early]},
                                 parked_model=ParkedEvent, service="review")
    dispatcher.retry = SimpleNamespace(attempts=1, delay=lambda attempt: 0)
    parked = sample("uwagi_events_total", **labels, outcome="parked")
    assert dispatcher.dispatch(parse_envelope(envelope)) == []
    assert sample("uwagi_events_total", **labels, outcome="parked") == parked + 1

    published = []
    consumer = EventConsumer.__new__(EventConsumer)
    consumer.service, consumer.dispatcher, consumer.processed, consumer.dead_lettered = "review", None, 0, 0
    consumer._pending, consumer._consumer, consumer._prefetch_now, consumer.prefetch = [], None, 1, 1
    consumer.dead_publisher = SimpleNamespace(publish_batch=lambda *a, **k: published.append(a))
    consumer.dispatcher = SimpleNamespace(dispatch=lambda event: [])
    message = SimpleNamespace(body=json.dumps(envelope, default=str), ack=lambda multiple=False: None,
                              delivery_info={"routing_key": "consultation.review_completed"})
    consumed = sample("uwagi_events_total", **labels, outcome="consumed")
    consumer.on_message(message)  # a delivery waits for its batch
    consumer.apply_pending()
    assert sample("uwagi_events_total", **labels, outcome="consumed") == consumed + 1
    consumer.dispatcher = SimpleNamespace(dispatch=lambda event: ["handler: permanent error"])
    dead = sample("uwagi_events_total", **labels, outcome="dead_lettered")
    consumer.on_message(message)
    consumer.apply_pending()
    assert sample("uwagi_events_total", **labels, outcome="dead_lettered") == dead + 1 and len(published) == 1


def test_build_durations_and_mails_are_measured():
    from datetime import datetime, timezone

    from services.documents import builds
    from services.documents.models import ReportBuild

    row = ReportBuild(id="b1", state="running", started_at=datetime(2026, 1, 1, 10, 0, 0, tzinfo=timezone.utc))
    count = sample("uwagi_document_build_duration_seconds_count", kind="report_builds", outcome="done")
    total = sample("uwagi_document_build_duration_seconds_sum", kind="report_builds", outcome="done")
    builds.mark_done(row)
    assert sample("uwagi_document_build_duration_seconds_count", kind="report_builds", outcome="done") == count + 1
    assert sample("uwagi_document_build_duration_seconds_sum", kind="report_builds", outcome="done") > total


def test_a_worker_serves_its_metrics_on_its_own_local_port(review_db):
    from services.review.models import Outbox

    settings = load_settings({"UWAGI_METRICS_PORT": "1"})
    ctx = SimpleNamespace(service="review", db=review_db, outbox_model=Outbox,
                          settings=SimpleNamespace(metrics_port=0, metrics_host=settings.metrics_host,
                                                   metrics_token=None))
    assert settings.metrics_host == "127.0.0.1" and settings.metrics_port == 1
    assert metrics.start_metrics_server(SimpleNamespace(settings=SimpleNamespace(metrics_port=None))) is None
    server = metrics.start_metrics_server(ctx)
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
        assert 'uwagi_outbox_pending{service="review"} 0.0' in text and "uwagi_events_total" in text
        ctx.settings.metrics_token = METRICS_TOKEN
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert refused.value.code == 401
    finally:
        server.shutdown()
        server.server_close()


def test_gunicorns_worker_processes_add_up_through_the_multiprocess_directory(tmp_path):
    import subprocess
    import sys

    script = (
        "from services.common import metrics\n"
        "metrics.EMAILS.labels('submission_receipt', 'sent').inc(3)\n"
        "print(metrics.exposition().decode())\n"
    )
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, cwd=".")
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True,
                         cwd=".").stdout
    assert 'uwagi_emails_total{outcome="sent",template="submission_receipt"} 9.0' in out


def test_the_listed_metric_names_are_exactly_what_a_scrape_shows(review_db):
    from services.review.models import Outbox

    text = metrics.exposition(metrics.OutboxCollector("review", review_db, Outbox)).decode()
    typed = set()
    for line in text.splitlines():
        if line.startswith("# TYPE uwagi_"):
            _, _, name, kind = line.split()
            typed.add(name if kind != "counter" or name.endswith("_total") else name + "_total")
    assert typed == metrics.METRIC_NAMES


def test_the_log_handler_writes_to_the_stderr_of_the_moment_not_a_closed_one(monkeypatch, capsys):
    """A daemon thread started while a test's output was captured keeps logging after that capture is closed."""
    import io

    captured = io.StringIO()
    monkeypatch.setattr(sys, "stderr", captured)
    handler = logging_handler("text")
    captured.close()
    monkeypatch.undo()
    logger = logging.getLogger("uwagi.test.current-stderr")
    logger.addHandler(handler)
    try:
        logger.error("after the capture")
    finally:
        logger.removeHandler(handler)
    err = capsys.readouterr().err
    assert "after the capture" in err and "Logging error" not in err
