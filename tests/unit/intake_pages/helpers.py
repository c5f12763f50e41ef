"""Helpers to drive the public pages like a browser: data, CSRF token, direct looks at the database."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient

from services.intake import domain, handlers
from services.intake.models import Comment, Consultation, Submission

WARSAW = ZoneInfo("Europe/Warsaw")


def open_consultation(app: Flask, **overrides: Any) -> Consultation:
    """A consultation shaped like Toruń's 2024 stage II one, open until 21 October 2099 unless overridden."""
    fields: dict[str, Any] = {
        "title": f"Program współpracy z NGO na 2025 r. {uuid.uuid4().hex[:6]}", "stage": "II etap",
        "description": "Rozpoczynamy II etap konsultacji.\n\nNa uwagi czekamy do 21 października.",
        "opens_at": datetime.now(UTC) - timedelta(days=1),
        "closes_at": domain.end_of_day(date(2099, 10, 21), WARSAW),
        "topics": ("Formy współpracy", "Priorytetowe zadania publiczne"),
        "duty_days": (
            domain.DutyDay(date(2024, 10, 8), time(9), time(17), "Urząd Miasta, ul. Wały gen. Sikorskiego 8, sala 34",
                           datetime(2024, 10, 7, 15, 30, tzinfo=WARSAW)),
            domain.DutyDay(date(2099, 10, 14), time(9), time(17), "Urząd Miasta, sala 34",
                           datetime(2099, 10, 13, 15, 0, tzinfo=WARSAW)),
        ),
        "contact_email": "konsultacje@um.example.pl",
    }
    fields.update(overrides)
    return handlers.open_consultation(app.extensions["uwagi"], domain.OpenConsultation(**fields), actor="test")


def set_sections(app: Flask, consultation_id: str, labels: list[str]) -> None:
    with app.extensions["uwagi"].db.transaction() as session:
        consultation = session.get(Consultation, consultation_id)
        consultation.document_sections = [{"id": f"u{i}", "label": label, "kind": "paragraph"}
                                          for i, label in enumerate(labels)]


def decide(app: Flask, reference: str, number: int, decision: str, justification: str) -> None:
    with app.extensions["uwagi"].db.transaction() as session:
        submission = session.query(Submission).filter_by(reference=reference).one()
        comment = session.query(Comment).filter_by(submission_id=submission.id, number=number).one()
        comment.status, comment.decision_justification, comment.decision_revision = decision, justification, 1


def submissions_of(app: Flask, consultation_id: str) -> list[Submission]:
    with app.extensions["uwagi"].db.transaction() as session:
        return list(session.query(Submission).filter_by(consultation_id=consultation_id))


def csrf_token(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the form has no CSRF token"
    return match.group(1)


def form_data(token: str | None, **overrides: str) -> dict[str, str]:
    data = {
        "name": "Anna Nowak", "organization": "Stowarzyszenie Przykładowe", "email": "anna.nowak@example.pl",
        "publish_consent": "yes", "rows": "1",
        "c-0-section": "§ 5 ust. 2", "c-0-current_text": "Konkursy ogłasza się raz w roku.",
        "c-0-proposal": "Konkursy ogłasza się dwa razy w roku.", "c-0-justification": "Więcej organizacji zdąży.",
        "c-0-topic": "", "website": "", "action": "send",
    }
    if token is not None:
        data["csrf_token"] = token
    data.update(overrides)
    return data


def text(response: Any) -> str:
    """The page as a reader sees its words: no-break spaces (dates, hours) read as spaces."""
    return response.get_data(as_text=True).replace("&nbsp;", " ")
