"""Console pages of identity: log in and out, forgotten password, set a password from a link, manage users.

Thin views: parse the form, call one handler in `identity`, then redirect with a
message or show the form again with its errors. Logging in uses Flask-Login for
review's own session state and writes the staff claims (`services.common.auth`)
that every service's gate reads from the shared, signed cookie. Every form
carries its CSRF token; the public forms (login, forgotten password, set
password, logout) check it here, as the gate checks only staff requests.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session
from flask_babel import gettext
from flask_login import LoginManager, UserMixin, login_user, logout_user
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from services.common.auth import (
    ROLES,
    SESSION_KEY,
    current_staff,
    identity_from_session,
    public,
    requires_role,
    session_claims,
)
from services.common.db import utcnow
from services.common.ui import LANGUAGES, N_, current_language, safe_next
from services.common.web import DomainError
from services.review import identity
from services.review.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from services.review.models import StaffUser

blp = Blueprint("review_auth", __name__, url_prefix="/review")
admin = Blueprint("review_admin_users", __name__, url_prefix="/review/admin/users")

# The languages of the e-mails to a staff user, each named in itself.
LANGUAGE_NAMES = (("pl", "polski"), ("en", "English"))
ROLE_LABELS = {"reviewer": N_("reviewer"), "coordinator": N_("coordinator"), "admin": N_("admin")}
LOGIN_FAILED = N_("The e-mail address or password is incorrect, or the account is temporarily locked after "
                  "several failed attempts. Please try again later or set a new password.")
PASSWORD_MESSAGES = {
    "blank": N_("Enter a password."),
    "too_short": N_("The password must have at least %(min)s characters."),
    "too_long": N_("The password may have at most %(max)s characters."),
    "same_as_email": N_("The password must not be the same as the e-mail address."),
    "mismatch": N_("The two passwords are not the same."),
}


def _ctx() -> Any:
    return current_app.extensions["uwagi"]


def _csrf_protect() -> None:
    current_app.extensions["csrf"].protect()


# --- Flask-Login -------------------------------------------------------------------------


class LoginUser(UserMixin):
    """What Flask-Login keeps for review: the user's id and generation (a later generation logs them out)."""

    def __init__(self, user: StaffUser):
        self.id = user.id
        self.generation = user.generation
        self._active = user.active

    @property
    def is_active(self) -> bool:
        return self._active


def init_login(app: Flask) -> None:
    manager = LoginManager()
    manager.login_view = "review_auth.login"
    manager.init_app(app)

    @manager.user_loader
    def load_user(user_id: str) -> LoginUser | None:
        try:
            user = identity.get_user(_ctx(), user_id)
        except DomainError:
            return None
        staff = identity_from_session()
        if not user.active or staff is None or staff.generation < user.generation:
            return None
        return LoginUser(user)


def start_session(user: StaffUser) -> None:
    login_user(LoginUser(user))
    session[SESSION_KEY] = session_claims(identity.identity_of(user), ttl=_ctx().settings.token_ttl)


def end_session() -> None:
    logout_user()
    session.pop(SESSION_KEY, None)


# --- forms --------------------------------------------------------------------------------


class _Text(fields.String):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        return super()._deserialize(value, attr, data, **kwargs).strip()


_REQUIRED = {"required": "required", "null": "required"}


class LoginForm(Schema):
    class Meta:
        unknown = EXCLUDE

    email = _Text(required=True, error_messages=_REQUIRED, validate=validate.Length(min=1, max=254, error="required"))
    password = fields.String(required=True, error_messages=_REQUIRED,
                             validate=validate.Length(min=1, max=1000, error="required"))


class EmailForm(Schema):
    class Meta:
        unknown = EXCLUDE

    email = _Text(required=True, error_messages=_REQUIRED, validate=[
        validate.Length(min=1, error="required"), validate.Length(max=254, error="too_long"),
        validate.Email(error="email")])


class InviteForm(EmailForm):
    name = _Text(load_default="", validate=validate.Length(max=200, error="too_long"))
    role = fields.String(required=True, error_messages=_REQUIRED, validate=validate.OneOf(ROLES, error="invalid"))
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES, error="invalid"))


EMAIL_TAKEN = N_("A user with this e-mail address already exists.")
CHECK_FIELD = N_("Check this field.")
FIELD_MESSAGES = {
    "email": {"required": N_("Enter your e-mail address."), "email": N_("Enter a valid e-mail address."),
              "too_long": N_("The e-mail address is too long."), "taken": EMAIL_TAKEN},
    "password": {"required": N_("Enter your password.")},
    "name": {"too_long": N_("The name is too long.")},
    "role": {"required": N_("Choose a role."), "invalid": N_("Choose a role.")},
    "language": {"invalid": N_("Choose Polish or English.")},
}


def _form_errors(exc: ValidationError) -> dict[str, str]:
    messages = exc.normalized_messages()
    return {name: gettext(FIELD_MESSAGES.get(name, {}).get(codes[0], CHECK_FIELD))
            for name, codes in messages.items() if isinstance(codes, list)}


def _password_errors(problems: list[str]) -> dict[str, str]:
    text = " ".join(gettext(PASSWORD_MESSAGES[p], min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH) for p in problems)
    return {"password": text}


# --- logging in and out -------------------------------------------------------------------


@blp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    next_path = safe_next(request.values.get("next"))
    if request.method == "GET":
        if identity_from_session() is not None:
            return redirect(next_path)
        return render_template("review/auth/login.html", form={}, errors={}, next=next_path)
    _csrf_protect()
    try:
        data = LoginForm().load(request.form)
    except ValidationError as exc:
        return render_template("review/auth/login.html", form=request.form, errors=_form_errors(exc),
                               next=next_path), 422
    try:
        user = identity.authenticate(_ctx(), data["email"], data["password"])
    except identity.LoginFailed:
        return render_template("review/auth/login.html", form={"email": data["email"]},
                               errors={"email": gettext(LOGIN_FAILED)}, next=next_path), 401
    start_session(user)
    return redirect(next_path)


@blp.route("/logout", methods=["POST"])
@public  # an expired session must still be able to log out
def logout() -> Any:
    _csrf_protect()
    end_session()
    flash(gettext("You have been logged out."), "success")
    return redirect("/review/login")


@blp.route("/password/forgot", methods=["GET", "POST"])
@public
def forgot_password() -> Any:
    if request.method == "GET":
        return render_template("review/auth/forgot.html", form={}, errors={}, sent=False)
    _csrf_protect()
    try:
        data = EmailForm().load(request.form)
    except ValidationError as exc:
        return render_template("review/auth/forgot.html", form=request.form, errors=_form_errors(exc),
                               sent=False), 422
    identity.request_password_reset(_ctx(), data["email"], language=current_language())
    # The same answer whether or not the address has an account, so the page cannot be used to probe for one.
    return render_template("review/auth/forgot.html", form={}, errors={}, sent=True)


@blp.route("/password/<token>", methods=["GET", "POST"])
@public
def set_password(token: str) -> Any:
    try:
        link = identity.check_password_link(_ctx(), token)
    except identity.LinkInvalid:
        return _no_referrer(render_template("review/auth/link_invalid.html"), 410)
    if request.method == "GET":
        return _no_referrer(render_template("review/auth/set_password.html", link=link, errors={},
                                            min_length=MIN_PASSWORD_LENGTH))
    _csrf_protect()
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        errors = _password_errors(["mismatch"])
    else:
        try:
            identity.set_password_with_link(_ctx(), token, password)
        except identity.PasswordRejected as exc:
            errors = _password_errors(exc.problems)
        except identity.LinkInvalid:
            return _no_referrer(render_template("review/auth/link_invalid.html"), 410)
        else:
            end_session()  # whoever was logged in in this browser, the new password starts afresh
            flash(gettext("Your password has been set. You can now log in."), "success")
            return redirect("/review/login")
    return _no_referrer(render_template("review/auth/set_password.html", link=link, errors=errors,
                                        min_length=MIN_PASSWORD_LENGTH), 422)


def _no_referrer(body: str, status: int = 200) -> Any:
    """The link's token is in the address: never send it on to another site in a Referer header."""
    response = current_app.make_response((body, status))
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


# --- one's own account ---------------------------------------------------------------------


@blp.route("/account", methods=["GET", "POST"])
@requires_role("reviewer")
def account() -> Any:
    """What the signed-in user may set for themselves: the morning digest of the work waiting for them."""
    me = current_staff()
    try:
        user = identity.get_user(_ctx(), me.user_id)
    except DomainError:  # a token issued to a service, not to a person with an account
        return render_template("review/auth/account.html", user=None), 404
    if request.method == "POST":
        language = request.form.get("language", user.language)
        user = identity.set_mail_preferences(_ctx(), user.id, digest=request.form.get("digest") == "yes",
                                             language=language if language in LANGUAGES else user.language)
        flash(gettext("You will get the morning summary on working days when work waits for you.") if user.digest
              else gettext("You will not get the morning summary."), "success")
        return redirect("/review/account", 303)
    return render_template("review/auth/account.html", user=user, role=gettext(ROLE_LABELS[user.role]),
                           languages=LANGUAGE_NAMES)


# --- managing users (admin) ------------------------------------------------------------------


@admin.route("", methods=["GET"])
@requires_role("admin")
def users() -> Any:
    return render_template("review/admin/users.html", users=identity.list_users(_ctx()), roles=ROLE_LABELS,
                           me=current_staff(), now=utcnow())


@admin.route("/invite", methods=["GET", "POST"])
@requires_role("admin")
def invite() -> Any:
    if request.method == "GET":
        return _invite_page(form={"role": "reviewer"}, errors={})
    try:
        data = InviteForm().load(request.form)
        user = identity.invite_user(_ctx(), data["email"], data["name"], data["role"], actor=current_staff(),
                                    language=data["language"] or current_language())
    except ValidationError as exc:
        return _invite_page(form=request.form, errors=_form_errors(exc)), 422
    except DomainError as exc:
        if exc.status != 409:
            raise
        errors = {"email": gettext(EMAIL_TAKEN)}
        return _invite_page(form=request.form, errors=errors), 409
    flash(gettext("%(email)s has been invited; an e-mail with a link to set a password is on its way.",
                  email=user.email), "success")
    return redirect("/review/admin/users")


def _invite_page(form: Any, errors: dict[str, str]) -> str:
    options = [(value, gettext(label)) for value, label in ROLE_LABELS.items()]
    return render_template("review/admin/invite.html", form=form, errors=errors, roles_options=options,
                           languages=LANGUAGE_NAMES, language=current_language())


@admin.route("/<user_id>/role", methods=["POST"])
@requires_role("admin")
def change_role(user_id: str) -> Any:
    role = request.form.get("role", "")
    if role not in ROLES:
        flash(gettext("Choose a role."), "error")
        return redirect("/review/admin/users", 303)
    return _admin_step(lambda: identity.change_role(_ctx(), user_id, role, actor=current_staff()),
                       N_("The role of %(email)s is now: %(role)s. Their earlier sessions and tokens have ended."))


@admin.route("/<user_id>/active", methods=["POST"])
@requires_role("admin")
def set_active(user_id: str) -> Any:
    active = request.form.get("active") == "yes"
    return _admin_step(lambda: identity.set_active(_ctx(), user_id, active, actor=current_staff()),
                       N_("%(email)s can log in again.") if active else
                       N_("%(email)s has been deactivated; their sessions and tokens have ended."))


def _admin_step(step: Any, message: str) -> Any:
    try:
        user = step()
    except DomainError as exc:
        if exc.status == 404:
            raise
        flash(gettext("Administrators cannot demote or deactivate themselves; please ask another administrator."),
              "error")
        return redirect("/review/admin/users", 303)
    flash(gettext(message, email=user.email, role=gettext(ROLE_LABELS[user.role])), "success")
    return redirect("/review/admin/users", 303)
