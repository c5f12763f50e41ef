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

`create_group_commit_app()` asks whether committing many submissions at once lifts that ceiling: the same route
hands its submission to one writer thread per process, which writes every submission waiting in one transaction
and then wakes their requests. Measured on this machine, it does not: the hand-over between threads costs more of
Python's time than the commits it saves (the note of stop 28 gives the figures).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
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
    return _flask_route("uwagi_floor", _writer())


def _flask_route(name: str, accept):
    from flask import Flask, request

    app = Flask(name)

    @app.post("/consultations/<consultation_id>/submissions")
    def submit(consultation_id: str):
        status, answer = accept(consultation_id, request.get_data())
        return answer, status

    return app


# The group-commit floor: one writer thread per process takes every submission queued by the request threads and
# writes them all in one transaction (their rules and numbers in one query, their rows in one statement), then
# wakes each request to answer; an answer still comes only after its rows reached the WAL.
_RULES_OF_MANY = ("SELECT r.n, c.id, c.state, c.opens_at, c.closes_at, nextval(%s) "
                  "FROM unnest(%s::text[]) WITH ORDINALITY AS r(cid, n) LEFT JOIN consultations c ON c.id = r.cid "
                  "ORDER BY r.n")
_WRITE_MANY = """
WITH submission AS (
    INSERT INTO submissions (id, reference, consultation_id, channel, submitter_name, email, publish_consent, kind,
                             language, received_at, late, status_token_hash)
    SELECT s.id, s.reference, s.consultation_id, 'web', s.name, s.email, s.consent, 'person', 'pl', s.received_at,
           false, s.token_hash
    FROM jsonb_to_recordset(%(submissions)s) AS s(id text, reference text, consultation_id text, name text,
                                                  email text, consent boolean, received_at timestamptz,
                                                  token_hash text)),
comment AS (
    INSERT INTO comments (id, submission_id, number, section, current_text, proposal, justification, topic, status,
                          decision_justification, decision_revision)
    SELECT c.id, c.submission_id, c.number, c.section, c.current_text, c.proposal, c.justification, NULL,
           'received', '', 0
    FROM jsonb_to_recordset(%(comments)s) AS c(id text, submission_id text, number int, section text,
                                               current_text text, proposal text, justification text)),
event AS (
    INSERT INTO outbox (event_id, event_type, envelope, created_at, attempts)
    SELECT e.event_id, 'submission.received', e.envelope, e.created_at, 0
    FROM jsonb_to_recordset(%(events)s) AS e(event_id text, envelope json, created_at timestamptz))
SELECT 1
"""
_MOST_AT_ONCE = 64


class _Pending:
    __slots__ = ("consultation_id", "submitter", "drafts", "answer", "done")

    def __init__(self, consultation_id: str, submitter: dict, drafts: list):
        self.consultation_id, self.submitter, self.drafts = consultation_id, submitter, drafts
        self.answer: tuple[int, dict] = (503, {"error": "not written"})
        self.done = threading.Event()


def _group_writer():
    url = os.environ["FLOOR_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    waiting: queue.SimpleQueue[_Pending] = queue.SimpleQueue()

    def write(conn: psycopg.Connection, batch: list[_Pending]) -> None:
        now = datetime.now(timezone.utc)
        with conn.transaction():
            rows = conn.execute(_RULES_OF_MANY, (f"intake_reference_{now.year}",
                                                 [p.consultation_id for p in batch])).fetchall()
            submissions, comments, events, answers = [], [], [], []
            for pending, (_, consultation_id, state, opens_at, closes_at, number) in zip(batch, rows):
                if consultation_id is None or state == "draft" or not opens_at <= now <= closes_at:
                    answers.append((404, {"error": "no such consultation"}))
                    continue
                reference = f"UW/{now.year}/{number:06d}"
                submission_id, token = str(uuid.uuid4()), secrets.token_urlsafe(24)
                own = [{"id": str(uuid.uuid4()), "submission_id": submission_id, "number": n,
                        "section": c["section"], "current_text": c.get("current_text", ""),
                        "proposal": c["proposal"], "justification": c.get("justification", "")}
                       for n, c in enumerate(pending.drafts, start=1)]
                comments.extend(own)
                envelope = {"id": str(uuid.uuid4()), "type": "submission.received", "producer": "floor",
                            "occurred_at": now.isoformat(), "correlation_id": reference,
                            "data": {"submission_id": submission_id, "consultation_id": consultation_id,
                                     "reference": reference, "submitter": pending.submitter, "comments": own}}
                submissions.append({"id": submission_id, "reference": reference, "consultation_id": consultation_id,
                                    "name": pending.submitter["name"], "email": pending.submitter.get("email"),
                                    "consent": bool(pending.submitter.get("publish_consent")),
                                    "received_at": now.isoformat(),
                                    "token_hash": hashlib.sha256(token.encode()).hexdigest()})
                events.append({"event_id": envelope["id"], "envelope": envelope, "created_at": now.isoformat()})
                answers.append((201, {"reference": reference, "status_token": token}))
            if submissions:
                conn.execute(_WRITE_MANY, {"submissions": Jsonb(submissions), "comments": Jsonb(comments),
                                           "events": Jsonb(events)})
        for pending, answer in zip(batch, answers):
            pending.answer = answer

    def run() -> None:
        conn = None
        while True:
            batch = [waiting.get()]
            while len(batch) < _MOST_AT_ONCE:
                try:
                    batch.append(waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(url, prepare_threshold=0)
                write(conn, batch)
            except psycopg.Error:
                pass  # every request of the batch answers 503: none of its rows was committed
            finally:
                for pending in batch:
                    pending.done.set()

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SEQUENCE IF NOT EXISTS intake_reference_{datetime.now(timezone.utc).year}")
    threading.Thread(target=run, name="group-commit", daemon=True).start()

    def accept(consultation_id: str, body: bytes) -> tuple[int, dict]:
        try:
            data = json.loads(body)
            pending = _Pending(consultation_id, data["submitter"], data["comments"])
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "bad request"}
        waiting.put(pending)
        pending.done.wait()
        return pending.answer

    return accept


def create_group_commit_app():
    """The Flask floor's work, its rows written by one writer thread per process for every request waiting."""
    return _flask_route("uwagi_floor_group", _group_writer())
