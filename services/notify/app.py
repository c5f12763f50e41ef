"""The notify web app factory: `gunicorn "services.notify.app:create_app()"`."""

from __future__ import annotations

from flask import Flask

from services.common.runtime import ServiceContext, build_context
from services.common.settings import Settings, load_settings
from services.common.staff_directory import directory_check, install_identity_check
from services.common.web import create_service_app
from services.notify.models import Inbox, Outbox, ParkedEvent, StaffDirectory
from services.notify.rendering import Renderer
from services.notify.senders import make_sender

SERVICE = "notify"
# Keys of the adapters `build` adds to `ServiceContext.extras`; tests put fakes there.
SENDER = "notify.sender"
RENDERER = "notify.renderer"


def build(settings: Settings) -> ServiceContext:
    ctx = build_context(SERVICE, settings, outbox_model=Outbox, inbox_model=Inbox,
                        parked_model=ParkedEvent)
    ctx.extras[SENDER] = make_sender(settings)
    ctx.extras[RENDERER] = Renderer(timezone=settings.timezone)
    return ctx


def create_app(settings: Settings | None = None, ctx: ServiceContext | None = None) -> Flask:
    from services.notify.api import blp
    from services.notify.pages import blp as pages_blp

    app = create_service_app(ctx or build(settings or load_settings()), [blp], title="Uwagi notify")
    app.register_blueprint(pages_blp)
    install_identity_check(app, directory_check(app.extensions["uwagi"].db, StaffDirectory))
    return app
