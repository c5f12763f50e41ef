"""The HTML side every service shares: language, catalogs, CSRF, cookies, dates and the staff shell.

`init_ui(app, ctx)` runs in `create_service_app` for every service, so each app
renders its own pages (public or staff) with the same layout, language rules,
CSRF set-up and session cookie. Behind the gateway the four apps are one site:
they share the session cookie (same name, path `/`, same secret), so a staff
member who logs in at `/review/login` is recognised by every service.

Catalogs: every `*.po` file under a service's `translations/<lang>/LC_MESSAGES/`
(and under `services/common/translations`) is merged and compiled at start into
a cache folder keyed by the catalogs' content. Nothing compiled is committed, so
parallel edits of separate `.po` files never conflict, and the package folder
is never written to.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date, format_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, Flask, current_app, g, render_template, request, session, url_for
from flask_babel import Babel, get_locale
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup, escape

from services.common.locales import babel_locale

LANGUAGES = ("pl", "en")
DEFAULT_LANGUAGE = "pl"
COMMON_DIR = Path(__file__).resolve().parent
COMMON_TRANSLATIONS = COMMON_DIR / "translations"
SESSION_COOKIE_NAME = "uwagi_session"
_CATALOG_FORMAT = b"merged-po-v2"  # bump when the merge rules change, so old compiles are not reused

# The staff console's navigation: one site behind the gateway, so plain paths, not url_for across apps.
# (label msgid, path, minimum role)
STAFF_NAV: tuple[tuple[str, str, str], ...] = (
    ("Dashboard", "/review/", "reviewer"),
    ("Comments", "/review/queue", "reviewer"),
    ("Groups", "/review/groups", "reviewer"),
    ("Approvals", "/review/approvals", "reviewer"),
    ("Consultations", "/intake/staff/consultations", "reviewer"),
    ("Documents", "/documents/", "reviewer"),
    ("Deliveries", "/notify/", "coordinator"),  # the log shows citizens' e-mail addresses
    ("Audit log", "/review/audit", "reviewer"),
    ("Users", "/review/admin/users", "admin"),
    ("Events", "/review/admin/events", "admin"),
    ("Accessibility statement", "/intake/staff/accessibility", "admin"),
    ("Personal data", "/intake/staff/privacy", "admin"),
)


def N_(message: str) -> str:
    """Marks a message for the catalog; it is translated where it is shown."""
    return message


# --- language -----------------------------------------------------------------------


def select_language() -> str:
    asked = request.args.get("lang") if request else None
    if asked in LANGUAGES:
        return asked  # type: ignore[return-value]
    remembered = session.get("lang") if request else None
    return remembered if remembered in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


def switch_language(language: str) -> str:
    """The same page in `language` (a GET: a form being filled in is not re-sent)."""
    args = {k: v for k, v in request.args.items() if k != "lang"}
    args["lang"] = language
    return f"{request.path}?{urlencode(args)}"


# --- catalogs -----------------------------------------------------------------------


def catalog_sources(*directories: Path) -> dict[str, list[Path]]:
    """Every `.po` file per language, across `directories`, in a stable order."""
    found: dict[str, list[Path]] = {}
    for directory in directories:
        for po_path in sorted(directory.glob("*/LC_MESSAGES/*.po")):
            found.setdefault(po_path.parent.parent.name, []).append(po_path)
    return found


def merged_catalog(language: str, po_paths: list[Path]) -> Catalog:
    merged = Catalog(locale=language, domain="messages")
    for po_path in po_paths:
        with po_path.open("rb") as source:
            for message in read_po(source, locale=language):
                if message.id and message.string:
                    if message.id in merged:  # a later catalog (the service's own) wins
                        del merged[message.id]
                    merged[message.id] = message
    return merged


def compiled_catalogs(*directories: Path, cache_root: Path | None = None) -> Path:
    """Merge and compile the catalogs of `directories`; return the folder Flask-Babel should read.

    The folder's name is the hash of every source, so a changed `.po` is never
    shadowed by an old compile, and processes that start together write the
    same bytes (each through its own temporary file and an atomic rename).
    """
    sources = catalog_sources(*directories)
    digest = hashlib.sha256(_CATALOG_FORMAT)
    for language in sorted(sources):
        for po_path in sources[language]:
            digest.update(language.encode() + b"\0" + po_path.name.encode() + b"\0" + po_path.read_bytes())
    root = (cache_root or Path(tempfile.gettempdir()) / "uwagi-catalogs") / digest.hexdigest()[:24]
    for language, po_paths in sources.items():
        target = root / language / "LC_MESSAGES" / "messages.mo"
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, merged_catalog(language, po_paths))
        os.replace(temporary, target)
    return root


# --- dates in the local time zone, in the page's language -------------------------------


def _tz() -> Any:
    return current_app.extensions["uwagi"].settings.timezone


def _as_local(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(_tz())


def local_date(value: date | datetime | str) -> str:
    """"21 października 2024 r." / "21 October 2024"."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = _as_local(value).date()
    language = current_language()
    text = format_date(value, "d MMMM y", locale=babel_locale(language))
    return f"{text} r." if language == "pl" else text


def local_time(value: datetime | str) -> str:
    if isinstance(value, str) and len(value) <= 8:  # "09:00" from a duty day: already local
        return format_time(time.fromisoformat(value), "H:mm", locale=babel_locale(current_language()))
    return format_time(_as_local(value), "H:mm", locale=babel_locale(current_language()))


def local_datetime(value: datetime | str) -> str:
    """"21 października 2024 r., godz. 15:30" / "21 October 2024, 15:30"."""
    moment = _as_local(value)
    hour = local_time(moment)
    return f"{local_date(moment)}, godz. {hour}" if current_language() == "pl" else f"{local_date(moment)}, {hour}"


def weekday(value: date | str) -> str:
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(day, "EEEE", locale=babel_locale(current_language()))


def nobreak(text: object) -> Markup:
    """A date, a time or a time range that must not break across lines ("21 października 2026 r.",
    "9:00–17:00"): no-break spaces inside, a nowrap span around a range (browsers break after a dash).
    A date with its hour ("…, godz. 15:30") may still break after the comma."""
    parts = [escape(part).replace(" ", Markup("&nbsp;")) for part in str(text).split(", ")]
    joined = Markup(", ").join(parts)
    return Markup('<span class="nowrap">{}</span>').format(joined) if "–" in str(text) else joined


def paragraphs(text: str | None) -> Markup:
    """Plain text as HTML paragraphs (blank line = new paragraph, newline = line break), escaped."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n")) if b.strip()]
    return Markup("\n".join(f"<p>{Markup('<br>').join(escape(line) for line in block.split(chr(10)))}</p>"
                             for block in blocks))


def opening_with(text: str | None, label: str | None) -> bool:
    """Whether a unit of the draft opens with its own label, as an annex's heading does ("Załącznik do uchwały nr …"
    under the label "Załącznik"): a list showing the label before the text would read it twice. A Jinja test:
    `{% if unit.text is opening_with(unit.label) %}`."""
    words = " ".join((label or "").split()).casefold()
    opening = " ".join((text or "").split()).casefold()
    return bool(words) and (opening == words or opening.startswith(words + " "))


# --- the app set-up ---------------------------------------------------------------------


def init_ui(app: Flask, ctx: Any, *, translations: Path | None = None) -> None:
    """Babel, CSRF, the shared session cookie, date filters and the staff shell for one service app."""
    settings = ctx.settings
    # Flask predefines these keys, so setdefault would keep Flask's defaults: assign them.
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE_NAME,
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
    )
    # Forms may stay open for hours; the token lives as long as the session.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # CSRF is checked where a cookie authenticates the request: the public forms call
    # `protect()` themselves, and the gate checks session-authenticated staff requests.
    # Bearer-token API calls carry no cookie and need no CSRF token.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    directories = [COMMON_TRANSLATIONS] + ([translations] if translations else [])
    catalogs = compiled_catalogs(*directories)
    Babel(app, locale_selector=select_language, default_locale=DEFAULT_LANGUAGE,
          default_timezone=settings.timezone.key, default_translation_directories=str(catalogs))
    csrf = CSRFProtect(app)
    app.extensions["csrf"] = csrf
    app.register_blueprint(staff_shell_blueprint(ctx.service))
    app.jinja_env.filters.update(
        paragraphs=paragraphs, local_date=local_date, local_datetime=local_datetime, local_time=local_time,
        weekday=weekday, nobreak=nobreak,
    )
    app.jinja_env.tests["opening_with"] = opening_with

    @app.before_request
    def _remember_language() -> None:
        asked = request.args.get("lang")
        if asked in LANGUAGES and session.get("lang") != asked:
            session["lang"] = asked

    @app.context_processor
    def _shell_context() -> dict[str, Any]:
        return {"lang": current_language(), "switch_language": switch_language, "staff_nav": staff_nav,
                "current_staff": g.get("staff")}

    @app.errorhandler(CSRFError)
    def _csrf_failed(exc: CSRFError) -> Any:
        if wants_json():
            from services.common.web import json_error

            return json_error(400, "csrf_failed", "the CSRF token is missing or invalid; reload the page")
        return error_page(400, title=N_("The form has expired"),
                          description=N_("The form could not be accepted because its security token is missing or "
                                         "out of date. Go back, reload the page and try again."))


def staff_shell_blueprint(service: str) -> Blueprint:
    """Templates (`staff/base.html`) and the shared stylesheet, served at `/<service>/static/common/`."""
    return Blueprint("uwagi_ui", __name__, template_folder="templates", static_folder="static",
                     static_url_path=f"/{service}/static/common")


def staff_nav() -> list[dict[str, Any]]:
    staff = g.get("staff")
    if staff is None:
        return []
    path = request.path
    items = []
    for label, href, role in STAFF_NAV:
        if not staff.has_role(role):
            continue
        active = path == href if href.endswith("/") else path == href or path.startswith(href + "/")
        items.append({"label": label, "href": href, "active": active})
    return items


def wants_json() -> bool:
    """API paths and clients that ask for JSON get JSON errors; people get pages."""
    parts = request.path.strip("/").split("/")
    if len(parts) >= 2 and parts[1] == "api":
        return True
    return request.accept_mimetypes.best == "application/json"


def login_url(next_path: str | None = None) -> str:
    return "/review/login?" + urlencode({"next": next_path or request.full_path.rstrip("?")})


def safe_next(target: str | None, default: str = "/review/") -> str:
    """Only local paths: an open redirect after login would hand a phishing page a trusted link."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def url_for_static(filename: str) -> str:
    return url_for("uwagi_ui.static", filename=filename)


ERROR_TITLES = {
    400: N_("The request could not be understood"),
    403: N_("Access denied"),
    404: N_("Page not found"),
    405: N_("This action is not available here"),
    409: N_("This cannot be done now"),
    413: N_("The file is too large"),
    422: N_("The data could not be accepted"),
    429: N_("Too many requests"),
    500: N_("Something went wrong on our side"),
    503: N_("The service is temporarily unavailable"),
}


def error_page(status: int, detail: str | None = None, *, title: str | None = None,
               description: str | None = None) -> Any:
    """An HTML error page in the staff layout. `title`/`description` are msgids; `detail` is shown as is."""
    from flask_babel import gettext

    heading = gettext(title or ERROR_TITLES.get(status, ERROR_TITLES[400 if status < 500 else 500]))
    return render_template("staff/error.html", status=status, title=heading,
                           description=gettext(description) if description else "", detail=detail or ""), status
