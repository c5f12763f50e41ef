"""Input that only PostgreSQL refuses gets a 4xx there, never a 500.

A NUL character (U+0000), which PostgreSQL refuses in any text value, is a 400: before the guard
(services.common.web, services.common.jsonguard) each of these answered 500, the NUL reached an INSERT or a query
as a parameter and psycopg raised DataError out of the view. A number in a path beyond an INTEGER column is no
such resource, a 404. SQLite stores both, so only the real server shows them. The last line of defence, a
DataError that some other value causes, is a 422.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from services.common.auth import public
from services.common.db import upgrade
from services.intake import domain, handlers
from services.intake.app import create_app
from services.intake.models import Submission
from tests.integration.test_postgres import settings_for

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def consultation(intake_pg):
    now = datetime.now(timezone.utc)
    return handlers.open_consultation(intake_pg, domain.OpenConsultation(
        title="Program współpracy", opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=10)),
        actor="k@um.example")


def a_body(**submitter) -> dict:
    return {"submitter": {"name": "Jan Kowalski", "email": "jan@example.org", "publish_consent": False, **submitter},
            "comments": [{"section": "§ 3", "proposal": "Dopisać organizacje seniorów."}]}


@pytest.mark.parametrize("where", ["name", "organization", "section", "proposal", "justification", "current_text"])
def test_a_nul_in_a_submission_is_a_400_and_nothing_is_stored(intake_pg, consultation, where):
    client = create_app(ctx=intake_pg).test_client()
    body = a_body()
    if where in body["submitter"] or where == "organization":
        body["submitter"][where] = "Stowarzyszenie\u0000 Razem"
    else:
        body["comments"][0][where] = "Zmiana\u0000 zapisu"
    answer = client.post(f"/intake/api/v1/consultations/{consultation.id}/submissions", data=json.dumps(body),
                         content_type="application/json")
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert "NUL character" in answer.get_json()["message"]
    assert client.post(f"/intake/api/v1/consultations/{consultation.id}/submissions", data=json.dumps(a_body()),
                       content_type="application/json").status_code == 201
    with intake_pg.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 1


@pytest.mark.parametrize("target", [
    "/intake/status?reference=UW%2F2026%2F000001%00&token=abc",
    "/intake/api/v1/submissions/UW%00x?token=abc",
    "/intake/api/v1/consultations/a%00b",
    "/intake/api/v1/consultations/a%00b/comment-form",
])
def test_a_nul_in_a_lookup_is_a_400(intake_pg, consultation, target):
    assert create_app(ctx=intake_pg).test_client().get(target).status_code == 400


@pytest.mark.parametrize("statement, parameters, status, code", [
    # the safety nets under the checks, with PostgreSQL's own errors raised by real statements
    ("SELECT CAST(:value AS integer)", {"value": "dwanaście"}, 422, "invalid"),
    ("INSERT INTO reference_counters (year, last) VALUES (:year, 1), (:year, 2)", {"year": 2031}, 409, "conflict"),
])
def test_a_value_or_a_race_the_database_refuses_is_a_4xx_not_a_500(intake_pg, statement, parameters, status, code):
    app = create_app(ctx=intake_pg)

    @app.get("/intake/test-refused")
    @public
    def refused():
        with intake_pg.db.transaction() as session:
            session.execute(text(statement), parameters)

    for accept in ("application/json", "text/html"):
        answer = app.test_client().get("/intake/test-refused", headers={"Accept": accept})
        assert answer.status_code == status and answer.mimetype == accept
        if accept == "application/json":
            assert answer.get_json()["error"] == code


def test_a_path_number_beyond_an_integer_column_is_a_404(tmp_path, postgres):
    """Review's standard justifications and documents' versions are looked up by a number in the path."""
    from services.documents.app import build as build_documents, create_app as documents_app
    from services.review.app import build as build_review, create_app as review_app

    settings = settings_for(tmp_path, postgres, broker="memory://")
    checked = 0
    for service, build_app, make_app, target, method in (
            ("review", build_review, review_app, "/review/api/v1/standard-justifications/2147483648", "PATCH"),
            ("documents", build_documents, documents_app, "/documents/versions/d-1/2147483648", "GET")):
        upgrade(service, settings.database_url(service))
        context = build_app(settings)
        try:
            app = make_app(ctx=context)
            token = context.signer.issue("u-admin", "admin@um.example", "admin")
            answer = app.test_client().open(target, method=method, json={"title": "T"},
                                            headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 404, (target, answer.status_code)
            checked += 1
        finally:
            context.close()
    assert checked == 2


def test_a_paging_offset_beyond_what_a_list_holds_is_refused_by_its_field(tmp_path, postgres):
    """schemathesis' find on PostgreSQL: `offset=922276876755265126400` raised "bigint out of range" (a 500)."""
    from services.notify.app import build as build_notify, create_app as notify_app
    from services.review.app import build as build_review, create_app as review_app

    settings = settings_for(tmp_path, postgres, broker="memory://")
    for service, build_app, make_app, path in (
            ("notify", build_notify, notify_app, "/notify/api/v1/notifications"),
            ("review", build_review, review_app, "/review/api/v1/comments")):
        upgrade(service, settings.database_url(service))
        context = build_app(settings)
        try:
            client = make_app(ctx=context).test_client()
            token = context.signer.issue("u-admin", "admin@um.example", "admin")
            headers = {"Authorization": f"Bearer {token}"}
            answer = client.get(f"{path}?offset=922276876755265126400", headers=headers)
            assert answer.status_code == 422 and "offset" in json.dumps(answer.get_json()), answer.get_data()
            assert client.get(f"{path}?offset=2147483647", headers=headers).status_code == 200
        finally:
            context.close()
