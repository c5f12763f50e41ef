"""The documents web app factory: `gunicorn "services.documents.app:create_app()"`."""

from __future__ import annotations

from flask import Flask

from services.common.runtime import ServiceContext, build_context
from services.common.settings import Settings, load_settings
from services.common.staff_directory import directory_check, install_identity_check
from services.common.web import create_service_app
from services.documents.models import IdempotencyKey, Inbox, Outbox, ParkedEvent, StaffDirectory

SERVICE = "documents"


def build(settings: Settings) -> ServiceContext:
    return build_context(SERVICE, settings, outbox_model=Outbox, inbox_model=Inbox,
                         parked_model=ParkedEvent, idempotency_model=IdempotencyKey)


def create_app(settings: Settings | None = None, ctx: ServiceContext | None = None) -> Flask:
    from services.documents.api import blp
    from services.documents.closing import blp as closing_blp
    from services.documents.console import blp as console_blp
    from services.documents.public import blp as public_blp
    from services.documents.public import pages as public_pages

    app = create_service_app(ctx or build(settings or load_settings()), [blp], title="Uwagi documents")
    install_identity_check(app, directory_check(app.extensions["uwagi"].db, StaffDirectory))
    app.register_blueprint(public_blp)
    app.register_blueprint(public_pages)  # the published table of comments, for anyone
    app.register_blueprint(console_blp)  # the staff console's drafts and versions pages
    app.register_blueprint(closing_blp)  # the end of a consultation: builds, report, publication
    return app
