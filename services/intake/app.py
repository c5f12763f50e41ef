"""The intake web app factory: `gunicorn "services.intake.app:create_app()"`."""

from __future__ import annotations

from flask import Flask

from services.common.ratelimit import rate_limits_from
from services.common.runtime import ServiceContext, build_context
from services.common.settings import Settings, load_settings
from services.common.staff_directory import directory_check, install_identity_check
from services.common.web import create_service_app
from services.intake.models import IdempotencyKey, Inbox, Outbox, ParkedEvent, StaffDirectory

SERVICE = "intake"


def build(settings: Settings) -> ServiceContext:
    return build_context(SERVICE, settings, outbox_model=Outbox, inbox_model=Inbox,
                         parked_model=ParkedEvent, idempotency_model=IdempotencyKey)


def create_app(settings: Settings | None = None, ctx: ServiceContext | None = None) -> Flask:
    from services.intake.accessibility_views import blp as accessibility_console
    from services.intake.accessibility_views import privacy_blp as privacy_console
    from services.intake.api import blp
    from services.intake.console import blp as console_blp
    from services.intake.imports.api import blp as imports_api
    from services.intake.imports.views import blp as imports_pages
    from services.intake.mail.api import blp as mail_blp
    from services.intake.mail.pages import blp as mail_pages
    from services.intake.paper.views import blp as paper_pages
    from services.intake.views import blp as views_blp
    from services.intake.web_ui import init_web_ui

    from services.intake.bookings.api import blp as bookings_api
    from services.intake.bookings.views import blp as bookings_pages

    app = create_service_app(ctx or build(settings or load_settings()), [blp, bookings_api, mail_blp, imports_api], title="Uwagi intake")
    app.register_blueprint(views_blp)  # the public HTML pages under /intake/
    app.register_blueprint(console_blp)  # the staff console's consultation pages
    app.register_blueprint(bookings_pages)  # booking duty hours: public pages and the staff's schedule
    app.register_blueprint(paper_pages)  # letters and duty-hour notes entered by staff
    app.register_blueprint(mail_pages)  # e-mails staff transcribe
    app.register_blueprint(imports_pages)  # the console's bulk import page
    app.register_blueprint(accessibility_console)  # the admin's page that keeps the accessibility statement
    app.register_blueprint(privacy_console)  # and the one that keeps the privacy notice
    init_web_ui(app, app.extensions["uwagi"], views_blp, bookings_pages)
    # The public JSON calls that mail an address the caller chose (receipts, booking confirmations).
    app.extensions["uwagi_rate_limits"] = rate_limits_from(app.extensions["uwagi"].settings, namespace=f"uwagi:{SERVICE}")
    install_identity_check(app, directory_check(app.extensions["uwagi"].db, StaffDirectory))
    return app
