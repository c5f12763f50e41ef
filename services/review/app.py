"""The review web app factory: `gunicorn "services.review.app:create_app()"`."""

from __future__ import annotations

from flask import Flask

from services.common.runtime import ServiceContext, build_context
from services.common.settings import Settings, load_settings
from services.common.staff_directory import directory_check, install_identity_check
from services.common.web import create_service_app
from services.review.models import IdempotencyKey, Inbox, Outbox, ParkedEvent, StaffUser

SERVICE = "review"


def build(settings: Settings) -> ServiceContext:
    return build_context(SERVICE, settings, outbox_model=Outbox, inbox_model=Inbox,
                         parked_model=ParkedEvent, idempotency_model=IdempotencyKey)


def create_app(settings: Settings | None = None, ctx: ServiceContext | None = None) -> Flask:
    from services.review import views_auth
    from services.review.api import blp
    from services.review.api_identity import blp as identity_blp
    from services.review.completion_pages import blp as completion_pages
    from services.review.decision_pages import blp as decision_pages
    from services.review.decisions_api import blp as decisions_blp
    from services.review.groups_api import blp as groups_blp
    from services.review.groups_pages import blp as group_pages
    from services.review.triage_api import blp as triage_blp
    from services.review.triage_pages import blp as triage_pages

    app = create_service_app(ctx or build(settings or load_settings()),
                             [blp, decisions_blp, identity_blp, groups_blp, triage_blp], title="Uwagi review")
    app.register_blueprint(decision_pages)  # /review/ dashboard, approvals, decision form, audit log
    app.register_blueprint(group_pages)  # /review/groups: duplicate and campaign comments
    app.register_blueprint(triage_pages)  # /review/queue, /review/comments/<id>
    app.register_blueprint(views_auth.blp)  # /review/login, /review/logout, /review/password/…
    app.register_blueprint(views_auth.admin)  # /review/admin/users
    views_auth.init_login(app)
    app.register_blueprint(completion_pages)  # complete or reopen a review, from the dashboard
    # Review owns the users, so it checks identities against its own table rather than a directory copy.
    install_identity_check(app, directory_check(app.extensions["uwagi"].db, StaffUser))
    return app
