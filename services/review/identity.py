"""Staff identity use cases: users, passwords, logins with lockout, one-time links, roles and revocation.

Every change that must end a user's tokens and sessions (a role change,
deactivation, a new password) raises the user's generation and emits
`staff.changed` in the same transaction; every service refuses identities of an
older generation (`services.common.staff_directory`). Review checks its own
table directly. E-mails (invitations, resets) go out through notify: review
emits `staff.password_link` and notify sends it once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import ROLES, StaffIdentity
from services.common.db import utcnow
from services.common.runtime import ServiceContext
from services.common.ui import LANGUAGES
from services.common.web import Conflict, DomainError, Invalid, NotFound, Refused
from services.review import accounts, audit
from services.review.models import PasswordLink, StaffUser

log = logging.getLogger(__name__)

_LINK_SALT = "uwagi-password-link-v1"
HASHER_KEY = "review.password_hasher"


class LoginFailed(DomainError):
    """Wrong e-mail or password, an inactive or a locked account: one answer, so none of them can be probed."""

    status = 401
    code = "login_failed"


class LinkInvalid(DomainError):
    """The link is forged, used, expired or for a deactivated user."""

    status = 410
    code = "link_invalid"


class PasswordRejected(Invalid):
    def __init__(self, problems: list[str]):
        super().__init__("the password does not meet the rules: " + ", ".join(problems),
                         details={"password": problems})
        self.problems = problems


def password_hasher(ctx: ServiceContext) -> PasswordHasher:
    """argon2id with the library's defaults (RFC 9106 low-memory); tests may put a cheaper one in ctx.extras."""
    return ctx.extras.setdefault(HASHER_KEY, PasswordHasher())


def _clock(ctx: ServiceContext) -> datetime:
    clock: Callable[[], datetime] | None = ctx.extras.get("review.clock")
    return clock() if clock else utcnow()


# --- what every change does -------------------------------------------------------------


def _snapshot(user: StaffUser) -> dict[str, Any]:
    return {"email": user.email, "name": user.name, "role": user.role, "active": user.active}


def _audit(session: Session, actor: str, action: str, user: StaffUser, before: dict | None, **extra: Any) -> None:
    if before is None:
        audit.record(session, actor, action, user.id, after=_snapshot(user), **extra)
    else:
        changed_before, changed_after = audit.changes(before, _snapshot(user))
        audit.record(session, actor, action, user.id, before=changed_before, after=changed_after, **extra)


def _publish(ctx: ServiceContext, session: Session, user: StaffUser, *, revoke: bool) -> None:
    """Tell every service about the user; with `revoke`, tokens and sessions issued so far stop working."""
    if revoke:
        user.generation += 1
    session.flush()
    ctx.emit(session, "staff.changed", {
        "user_id": user.id, "email": user.email, "name": user.name, "role": user.role, "active": user.active,
        "generation": user.generation,
    })


def _set_password(ctx: ServiceContext, user: StaffUser, password: str) -> None:
    problems = accounts.password_problems(password, email=user.email)
    if problems:
        raise PasswordRejected(problems)
    user.password_hash = password_hasher(ctx).hash(password)
    user.failed_logins, user.locked_until = 0, None


def _user_for_update(ctx: ServiceContext, session: Session, user_id: str) -> StaffUser:
    query = select(StaffUser).where(StaffUser.id == user_id)
    if ctx.db.is_postgres:
        query = query.with_for_update()
    user = session.scalar(query)
    if user is None:
        raise NotFound("no such staff user")
    return user


def issue_token(ctx: ServiceContext, user: StaffUser) -> str:
    return ctx.signer.issue(user.id, user.email, user.role, generation=user.generation)


def identity_of(user: StaffUser) -> StaffIdentity:
    return StaffIdentity(user_id=user.id, email=user.email, role=user.role, name=user.name, generation=user.generation)


# --- users ---------------------------------------------------------------------------------


def create_staff_user(ctx: ServiceContext, email: str, role: str, name: str = "", *, actor: str = "cli",
                      password: str | None = None) -> tuple[StaffUser, str]:
    """Create a user, or bring an existing one to `role` (and `password`), and return a fresh token.

    Run again for an existing user it re-announces them (`staff.changed`), which
    also fills the staff directory of a service that started after the first run.
    """
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}")
    email = accounts.normalize_email(email)
    if "@" not in email:
        raise Invalid("an e-mail address is required")
    with ctx.transaction() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == email))
        revoke = False
        if user is None:
            user = StaffUser(id=str(uuid.uuid4()), email=email, name=name, role=role, active=True, generation=1,
                             failed_logins=0)
            session.add(user)
            before = None
            action = "user.created"
        else:
            before = _snapshot(user)
            revoke = user.role != role or not user.active
            user.role, user.active = role, True
            user.name = name or user.name
            action = "user.updated"
        if password is not None and not (user.password_hash and _verifies(ctx, user.password_hash, password)):
            _set_password(ctx, user, password)
            revoke = revoke or before is not None
        if before is None or before != _snapshot(user) or revoke:
            _audit(session, actor, action, user, before, password_set=password is not None)
        _publish(ctx, session, user, revoke=revoke)
    return user, issue_token(ctx, user)


def invite_user(ctx: ServiceContext, email: str, name: str, role: str, *, actor: StaffIdentity,
                language: str = "pl") -> StaffUser:
    """Create a user without a password and e-mail them a link to set one, in `language`, which becomes the
    language of the e-mails to them (they change it on their account page)."""
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}", details={"role": ["invalid"]})
    email = accounts.normalize_email(email)
    with ctx.transaction() as session:
        if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
            raise Conflict("a staff user with this e-mail address already exists", details={"email": ["taken"]})
        user = StaffUser(id=str(uuid.uuid4()), email=email, name=name.strip(), role=role, active=True, generation=1,
                         failed_logins=0, language=language if language in LANGUAGES else "pl")
        session.add(user)
        _audit(session, actor.email, "user.invited", user, None)
        _publish(ctx, session, user, revoke=False)
        _send_link(ctx, session, user, "invite", language)
    return user


def change_role(ctx: ServiceContext, user_id: str, role: str, *, actor: StaffIdentity) -> StaffUser:
    return _admin_change(ctx, user_id, actor, field="role", value=role, action="user.role_changed")


def set_active(ctx: ServiceContext, user_id: str, active: bool, *, actor: StaffIdentity) -> StaffUser:
    return _admin_change(ctx, user_id, actor, field="active", value=active,
                         action="user.activated" if active else "user.deactivated")


def _admin_change(ctx: ServiceContext, user_id: str, actor: StaffIdentity, *, field: str, value: Any,
                  action: str) -> StaffUser:
    """Set the user's role or active flag; a real change is audited and revokes their tokens and sessions."""
    problem = accounts.admin_change_problem(actor.user_id, user_id, **{f"new_{field}": value})
    if problem:
        raise Refused(_REFUSALS[problem], details={field: [problem]})
    with ctx.transaction() as session:
        user = _user_for_update(ctx, session, user_id)
        if getattr(user, field) == value:
            return user
        before = _snapshot(user)
        setattr(user, field, value)
        if field == "active" and value:
            user.failed_logins, user.locked_until = 0, None  # a reactivated user starts without a lock
        _audit(session, actor.email, action, user, before)
        _publish(ctx, session, user, revoke=True)
    return user


_REFUSALS = {
    "self_change": "administrators cannot demote or deactivate themselves; ask another administrator",
    "unknown_role": f"role must be one of {', '.join(ROLES)}",
}


def set_mail_preferences(ctx: ServiceContext, user_id: str, *, digest: bool, language: str) -> StaffUser:
    """The user's own choices: the morning digest (services.review.digests) and the language of the e-mails sent
    to them; no token is revoked by them."""
    if language not in LANGUAGES:
        raise Invalid("language must be pl or en", details={"language": ["invalid"]})
    with ctx.transaction() as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            raise NotFound("no such staff user")
        user.digest, user.language = digest, language
        return user


def list_users(ctx: ServiceContext) -> list[StaffUser]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.email)))


def find_user(ctx: ServiceContext, email: str) -> StaffUser:
    with ctx.db.transaction() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == accounts.normalize_email(email)))
        if user is None:
            raise NotFound("no staff user has this e-mail address")
        return user


def get_user(ctx: ServiceContext, user_id: str) -> StaffUser:
    with ctx.db.transaction() as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            raise NotFound("no such staff user")
        return user


# --- logging in -----------------------------------------------------------------------------


def _verifies(ctx: ServiceContext, password_hash: str, password: str) -> bool:
    try:
        return password_hasher(ctx).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH: dict[int, str] = {}


def _burn_time(ctx: ServiceContext, password: str) -> None:
    """Verify against a dummy hash, so an unknown address takes as long as a wrong password."""
    hasher = password_hasher(ctx)
    dummy = _DUMMY_HASH.setdefault(id(hasher), hasher.hash("uwagi-dummy-password"))
    _verifies(ctx, dummy, password)


def authenticate(ctx: ServiceContext, email: str, password: str) -> StaffUser:
    """The user with this e-mail and password, or LoginFailed. Failures count towards a lockout."""
    now = _clock(ctx)
    email = accounts.normalize_email(email)
    with ctx.transaction() as session:
        query = select(StaffUser).where(StaffUser.email == email)
        if ctx.db.is_postgres:
            query = query.with_for_update()
        user = session.scalar(query)
        if user is None or not user.active or not user.password_hash:
            _burn_time(ctx, password)
            raise LoginFailed("the e-mail address or password is wrong, or the account is locked")
        state = accounts.LoginState(user.failed_logins, user.locked_until)
        if accounts.is_locked(state, now):
            _burn_time(ctx, password)  # a locked account answers no faster than a wrong password
            raise LoginFailed("the e-mail address or password is wrong, or the account is locked")
        if not _verifies(ctx, user.password_hash, password):
            state = accounts.after_failed_login(state, now)
            user.failed_logins, user.locked_until = state.failed_logins, state.locked_until
            if accounts.is_locked(state, now):
                audit.record(session, user.email, "user.locked_out", user.id, until=state.locked_until)
            failed = True
        else:
            failed = False
            user.failed_logins, user.locked_until = 0, None
            user.last_login_at = now
            if password_hasher(ctx).check_needs_rehash(user.password_hash):
                user.password_hash = password_hasher(ctx).hash(password)
    # The failure is committed above (the count must survive); only then is it reported.
    if failed:
        raise LoginFailed("the e-mail address or password is wrong, or the account is locked")
    return user


# --- one-time links to set a password --------------------------------------------------------


def _link_serializer(ctx: ServiceContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.settings.secret_key, salt=_LINK_SALT)


def password_link_url(ctx: ServiceContext, token: str) -> str:
    return f"{ctx.settings.public_url}/review/password/{token}"


def _send_link(ctx: ServiceContext, session: Session, user: StaffUser, purpose: str, language: str) -> None:
    now = _clock(ctx)
    link = PasswordLink(id=str(uuid.uuid4()), user_id=user.id, purpose=purpose, created_at=now,
                        expires_at=now + accounts.LINK_LIFETIME[purpose])
    session.add(link)
    token = _link_serializer(ctx).dumps({"link": link.id, "purpose": purpose})
    ctx.emit(session, "staff.password_link", {
        "link_id": link.id, "user_id": user.id, "email": user.email, "name": user.name, "purpose": purpose,
        "url": password_link_url(ctx, token), "expires_at": link.expires_at,
        "language": language if language in ("pl", "en") else "pl",
    })


def request_password_reset(ctx: ServiceContext, email: str, *, language: str = "pl") -> None:
    """E-mail a reset link if an active user has this address. Says nothing either way, to the caller or the page."""
    email = accounts.normalize_email(email)
    with ctx.transaction() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == email))
        if user is None or not user.active:
            log.info("password reset asked for an address that has no active staff user")
            return
        _send_link(ctx, session, user, "reset", language)
        audit.record(session, user.email, "user.password_reset_requested", user.id)


@dataclass(frozen=True)
class LinkInfo:
    purpose: str
    email: str
    name: str


def _load_link(ctx: ServiceContext, session: Session, token: str) -> tuple[PasswordLink, StaffUser]:
    try:
        claims = _link_serializer(ctx).loads(token, max_age=int(max(accounts.LINK_LIFETIME.values()).total_seconds()))
    except BadSignature:  # also SignatureExpired
        raise LinkInvalid("this link is not valid") from None
    link = session.get(PasswordLink, claims.get("link") if isinstance(claims, dict) else None)
    user = session.get(StaffUser, link.user_id) if link is not None else None
    if link is None or user is None or not accounts.link_is_usable(
            used_at=link.used_at, expires_at=link.expires_at, now=_clock(ctx), user_active=user.active):
        raise LinkInvalid("this link has been used, has expired or is not valid")
    return link, user


def check_password_link(ctx: ServiceContext, token: str) -> LinkInfo:
    with ctx.db.transaction() as session:
        link, user = _load_link(ctx, session, token)
        return LinkInfo(purpose=link.purpose, email=user.email, name=user.name)


def set_password_with_link(ctx: ServiceContext, token: str, password: str) -> StaffUser:
    """Set the password once; the link, every other open link, and all earlier sessions and tokens end."""
    now = _clock(ctx)
    with ctx.transaction() as session:
        link, user = _load_link(ctx, session, token)
        _set_password(ctx, user, password)
        for open_link in session.scalars(select(PasswordLink).where(PasswordLink.user_id == user.id,
                                                                   PasswordLink.used_at.is_(None))):
            open_link.used_at = now
        audit.record(session, user.email, "user.password_set", user.id, purpose=link.purpose)
        _publish(ctx, session, user, revoke=True)
    return user
