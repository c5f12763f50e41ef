"""Staff account rules, free of I/O: lockout after failed logins, passwords, one-time links, who may change whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.auth import ROLES

# Five wrong passwords in a row lock the account for fifteen minutes; a correct one resets the count.
LOCKOUT_THRESHOLD = 5
LOCKOUT_DURATION = timedelta(minutes=15)

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200

# How long an e-mailed link to set a password stays valid.
LINK_LIFETIME = {"reset": timedelta(hours=1), "invite": timedelta(days=3)}
LINK_PURPOSES = tuple(LINK_LIFETIME)


@dataclass(frozen=True)
class LoginState:
    failed_logins: int = 0
    locked_until: datetime | None = None


def is_locked(state: LoginState, now: datetime) -> bool:
    return state.locked_until is not None and now < state.locked_until


def after_failed_login(state: LoginState, now: datetime) -> LoginState:
    """Count one more failure; the one that reaches the threshold locks the account and starts a new count."""
    failed = state.failed_logins
    if state.locked_until is not None and now >= state.locked_until:
        failed = 0  # a lock that ran out gives a fresh set of attempts
    failed += 1
    if failed >= LOCKOUT_THRESHOLD:
        return LoginState(failed_logins=0, locked_until=now + LOCKOUT_DURATION)
    return LoginState(failed_logins=failed, locked_until=state.locked_until if is_locked(state, now) else None)


def after_successful_login() -> LoginState:
    return LoginState()


def password_problems(password: str, *, email: str = "") -> list[str]:
    """Stable codes the pages put into words: `too_short`, `too_long`, `same_as_email`, `blank`."""
    problems = []
    if not password.strip():
        return ["blank"]
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append("too_short")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append("too_long")
    if email and password.strip().lower() == email.strip().lower():
        problems.append("same_as_email")
    return problems


def normalize_email(email: str) -> str:
    return email.strip().lower()


def link_is_usable(*, used_at: datetime | None, expires_at: datetime, now: datetime, user_active: bool) -> bool:
    return used_at is None and now < expires_at and user_active


def admin_change_problem(actor_id: str, target_id: str, *, new_role: str | None = None,
                         new_active: bool | None = None) -> str | None:
    """Why an admin may not make this change, or None. Admins cannot demote or deactivate themselves,
    so the console can never lose its last way in by a slip of the mouse."""
    if new_role is not None and new_role not in ROLES:
        return "unknown_role"
    if actor_id == target_id and (new_active is False or (new_role is not None and new_role != "admin")):
        return "self_change"
    return None
