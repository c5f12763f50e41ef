"""The gate on review and on another service refuses a token once its user changed (events applied in-process)."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from services.common.auth import StaffIdentity
from services.common.bus import InboxDispatcher
from services.common.db import upgrade
from services.common.events import parse_envelope
from services.review import identity

from .conftest import outbox_events

ADMIN = StaffIdentity("admin-1", "admin@um.example", "admin")


@pytest.fixture
def review_app(review_ctx: Any) -> Any:
    from services.review.app import create_app

    return create_app(ctx=review_ctx)


@pytest.fixture
def documents(settings: Any) -> Iterator[tuple[Any, InboxDispatcher]]:
    from services.documents.app import build, create_app
    from services.documents.worker import worker_spec

    upgrade("documents", settings.database_url("documents"))
    ctx = build(settings)
    dispatcher = InboxDispatcher(ctx.db, ctx.inbox_model, worker_spec().handlers, parked_model=ctx.parked_model)
    yield create_app(ctx=ctx), dispatcher
    ctx.close()


def deliver_staff_events(review_ctx: Any, dispatcher: InboxDispatcher) -> None:
    for envelope in outbox_events(review_ctx, "staff.changed"):
        assert dispatcher.dispatch(parse_envelope(envelope)) == []


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_role_change_revokes_earlier_tokens_on_review_and_on_other_services(review_ctx, review_app, documents):
    documents_app, dispatcher = documents
    user, token = identity.create_staff_user(review_ctx, "anna@um.example", "coordinator", password="hasło do konsoli")
    deliver_staff_events(review_ctx, dispatcher)
    review, docs = review_app.test_client(), documents_app.test_client()
    assert review.get("/review/api/v1/comments", headers=bearer(token)).status_code == 200
    assert docs.get("/documents/api/v1/documents", headers=bearer(token)).status_code == 200

    changed = identity.change_role(review_ctx, user.id, "reviewer", actor=ADMIN)
    # Review checks its own table at once.
    assert review.get("/review/api/v1/comments", headers=bearer(token)).status_code == 401
    deliver_staff_events(review_ctx, dispatcher)
    assert docs.get("/documents/api/v1/documents", headers=bearer(token)).status_code == 401

    fresh = identity.issue_token(review_ctx, changed)
    assert review.get("/review/api/v1/comments", headers=bearer(fresh)).status_code == 200
    assert docs.get("/documents/api/v1/documents", headers=bearer(fresh)).status_code == 200


def test_deactivation_revokes_every_token_including_fresh_ones(review_ctx, review_app, documents):
    documents_app, dispatcher = documents
    user, token = identity.create_staff_user(review_ctx, "anna@um.example", "reviewer")
    identity.set_active(review_ctx, user.id, False, actor=ADMIN)
    deliver_staff_events(review_ctx, dispatcher)
    after = review_ctx.signer.issue(user.id, user.email, user.role, generation=99)
    for client, path in ((review_app.test_client(), "/review/api/v1/comments"),
                         (documents_app.test_client(), "/documents/api/v1/documents")):
        assert client.get(path, headers=bearer(token)).status_code == 401
        assert client.get(path, headers=bearer(after)).status_code == 401


def test_the_token_endpoint_exchanges_a_password_for_an_expiring_token(review_ctx, review_app):
    identity.create_staff_user(review_ctx, "anna@um.example", "reviewer", password="hasło do konsoli")
    client = review_app.test_client()
    response = client.post("/review/api/v1/tokens", json={"email": "anna@um.example", "password": "hasło do konsoli"})
    assert response.status_code == 201, response.json
    assert response.json["role"] == "reviewer" and response.json["expires_at"]
    assert client.get("/review/api/v1/comments", headers=bearer(response.json["token"])).status_code == 200
    wrong = client.post("/review/api/v1/tokens", json={"email": "anna@um.example", "password": "nie to hasło"})
    assert wrong.status_code == 401 and wrong.json["error"] == "login_failed"
    assert client.post("/review/api/v1/tokens", json={"email": "anna@um.example"}).status_code == 422


def test_an_unreadable_directory_answers_503_not_401_or_500(review_ctx, review_app):
    _, token = identity.create_staff_user(review_ctx, "anna@um.example", "reviewer")
    # The app's outbox relay polls the database: between the unlink and the mkdir its next query would create an
    # empty review.db again (a slow CI machine lost that race), so it stops first.
    review_ctx.relay.stop()
    review_ctx.db.engine.dispose()
    (review_ctx.settings.data_dir / "review.db").unlink()
    (review_ctx.settings.data_dir / "review.db").mkdir()  # the file is gone and cannot be created
    assert review_app.test_client().get("/review/api/v1/comments", headers=bearer(token)).status_code == 503
