"""The floor for P1: the least work that accepts a submission durably, under the same gunicorn settings.

A bare WSGI callable, no Flask, no schema library, no ORM and no relay: it parses the JSON body, checks it just
enough, reads the consultation and the next reference number in one round trip, and writes the submission, its
comments and the `submission.received` outbox row in a second one (a single statement of data-modifying CTEs,
atomic under autocommit), then answers 201. It writes the same rows as intake, in intake's schema.

It is not a design for intake; it answers how far the ratio "submissions / trivial JSON" can go at all on this
machine when every submission must reach PostgreSQL's WAL before the answer. `bench/intake_wrk.py --floor` runs
it, and `create_flask_app()` below, as contenders in the same rounds.

    gunicorn --config deploy/gunicorn.conf.py "bench.floor_app:create_app()"   # FLOOR_DATABASE_URL=postgresql://...

`create_flask_app()` runs the same work in one route of a bare Flask app (the trivial app's framework and
nothing else: no schema library, no ORM, no relay, no extensions): the ceiling for any Flask service that must
reach the WAL before answering.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import uuid
from datetime import datetime, timezone

import psycopg
from psycopg.types.json import Json, Jsonb

_RULES = ("SELECT id, title, state, channels, opens_at, closes_at, nextval(%s) FROM consultations "
          "WHERE id = %s")
_WRITE = """
WITH submission AS (
    INSERT INTO submissions (id, reference, consultation_id, channel, submitter_name, email, publish_consent, kind,
                             language, received_at, late, status_token_hash)
    VALUES (%(id)s, %(reference)s, %(consultation_id)s, 'web', %(name)s, %(email)s, %(consent)s, 'person', 'pl',
            %(received_at)s, false, %(token_hash)s)),
comment AS (
    INSERT INTO comments (id, submission_id, number, section, current_text, proposal, justification, topic, status,
                          decision_justification, decision_revision)
    SELECT c.id, %(id)s, c.number, c.section, c.current_text, c.proposal, c.justification, NULL, 'received', '', 0
    FROM jsonb_to_recordset(%(comments)s) AS c(id text, number int, section text, current_text text, proposal text,
                                               justification text)),
event AS (
    INSERT INTO outbox (event_id, event_type, envelope, created_at, attempts)
    VALUES (%(event_id)s, 'submission.received', %(envelope)s, %(received_at)s, 0))
SELECT 1
"""


def _writer():
    """The floor's work, `(consultation_id, body) -> (HTTP status, JSON answer)`, on one connection per thread."""
    url = os.environ["FLOOR_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    local = threading.local()
    with psycopg.connect(url, autocommit=True) as conn:  # intake creates a year's sequence on its first submission
        conn.execute(f"CREATE SEQUENCE IF NOT EXISTS intake_reference_{datetime.now(timezone.utc).year}")

    def connection() -> psycopg.Connection:
        conn = getattr(local, "conn", None)
        if conn is None or conn.closed:
            conn = local.conn = psycopg.connect(url, autocommit=True, prepare_threshold=0)
        return conn

    def accept(consultation_id: str, body: bytes) -> tuple[int, dict]:
        try:
            data = json.loads(body)
            submitter, drafts = data["submitter"], data["comments"]
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "bad request"}
        now = datetime.now(timezone.utc)
        conn = connection()
        row = conn.execute(_RULES, (f"intake_reference_{now.year}", consultation_id)).fetchone()
        if row is None or row[2] == "draft" or not row[4] <= now <= row[5]:
            return 404, {"error": "no such consultation"}
        reference = f"UW/{now.year}/{row[6]:06d}"
        submission_id, token = str(uuid.uuid4()), secrets.token_urlsafe(24)
        comments = [{"id": str(uuid.uuid4()), "number": number, "section": c["section"],
                     "current_text": c.get("current_text", ""), "proposal": c["proposal"],
                     "justification": c.get("justification", "")} for number, c in enumerate(drafts, start=1)]
        envelope = {"id": str(uuid.uuid4()), "type": "submission.received", "producer": "floor",
                    "occurred_at": now.isoformat(), "correlation_id": reference,
                    "data": {"submission_id": submission_id, "consultation_id": row[0], "reference": reference,
                             "submitter": submitter, "comments": comments}}
        conn.execute(_WRITE, {
            "id": submission_id, "reference": reference, "consultation_id": row[0], "name": submitter["name"],
            "email": submitter.get("email"), "consent": bool(submitter.get("publish_consent")),
            "received_at": now, "token_hash": hashlib.sha256(token.encode()).hexdigest(),
            "comments": Jsonb(comments), "event_id": envelope["id"], "envelope": Json(envelope)})
        return 201, {"reference": reference, "status_token": token}

    return accept


_REASONS = {201: "201 Created", 400: "400 Bad Request", 404: "404 Not Found"}


def create_app():
    """The floor as a bare WSGI callable."""
    accept = _writer()

    def app(environ, start_response):
        try:
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            consultation_id = environ["PATH_INFO"].rsplit("/", 2)[-2]
        except (ValueError, IndexError):
            status, answer = 400, {"error": "bad request"}
        else:
            status, answer = accept(consultation_id, body)
        payload = json.dumps(answer).encode()
        start_response(_REASONS[status], [("Content-Type", "application/json"),
                                          ("Content-Length", str(len(payload)))])
        return [payload]

    return app


def create_flask_app():
    """The same work in one route of a bare Flask app, like bench/trivial_app.py's: what Flask alone adds."""
    from flask import Flask, request

    accept = _writer()
    app = Flask("uwagi_floor")

    @app.post("/consultations/<consultation_id>/submissions")
    def submit(consultation_id: str):
        status, answer = accept(consultation_id, request.get_data())
        return answer, status

    return app
