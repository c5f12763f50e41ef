"""The pure rules of staff accounts: lockout, passwords, links, and which admin changes are allowed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.review import accounts
from services.review.accounts import LOCKOUT_DURATION, LOCKOUT_THRESHOLD, LoginState

NOW = datetime(2026, 10, 14, 9, 0, tzinfo=timezone.utc)


def fail(times: int, state: LoginState = LoginState(), now: datetime = NOW) -> LoginState:
    for _ in range(times):
        state = accounts.after_failed_login(state, now)
    return state


def test_failures_below_the_threshold_only_count():
    state = fail(LOCKOUT_THRESHOLD - 1)
    assert state == LoginState(failed_logins=LOCKOUT_THRESHOLD - 1, locked_until=None)
    assert not accounts.is_locked(state, NOW)


def test_the_failure_that_reaches_the_threshold_locks_for_the_lockout_duration():
    state = fail(LOCKOUT_THRESHOLD)
    assert state.locked_until == NOW + LOCKOUT_DURATION
    assert accounts.is_locked(state, NOW + LOCKOUT_DURATION - timedelta(seconds=1))
    assert not accounts.is_locked(state, NOW + LOCKOUT_DURATION)


def test_an_expired_lock_gives_a_fresh_set_of_attempts():
    later = NOW + LOCKOUT_DURATION + timedelta(minutes=1)
    state = fail(1, fail(LOCKOUT_THRESHOLD), now=later)
    assert state == LoginState(failed_logins=1, locked_until=None)
    assert accounts.is_locked(fail(LOCKOUT_THRESHOLD, now=later), later)


def test_a_failure_during_a_lock_keeps_the_lock():
    locked = fail(LOCKOUT_THRESHOLD)
    state = accounts.after_failed_login(locked, NOW + timedelta(minutes=1))
    assert state.locked_until == locked.locked_until


def test_a_successful_login_clears_the_count():
    assert accounts.after_successful_login() == LoginState(0, None)


def test_password_rules_give_stable_codes():
    assert accounts.password_problems("") == ["blank"]
    assert accounts.password_problems("krótkie") == ["too_short"]
    assert accounts.password_problems("x" * 201) == ["too_long"]
    assert accounts.password_problems("Anna@Example.org", email="anna@example.org") == ["same_as_email"]
    assert accounts.password_problems("dobre hasło do konsoli", email="anna@example.org") == []


def test_a_link_is_usable_once_before_it_expires_and_only_for_an_active_user():
    expires = NOW + timedelta(hours=1)
    assert accounts.link_is_usable(used_at=None, expires_at=expires, now=NOW, user_active=True)
    assert not accounts.link_is_usable(used_at=NOW, expires_at=expires, now=NOW, user_active=True)
    assert not accounts.link_is_usable(used_at=None, expires_at=expires, now=expires, user_active=True)
    assert not accounts.link_is_usable(used_at=None, expires_at=expires, now=NOW, user_active=False)


def test_reset_links_live_shorter_than_invitations():
    assert accounts.LINK_LIFETIME["reset"] < accounts.LINK_LIFETIME["invite"]


def test_an_admin_cannot_demote_or_deactivate_themselves_but_may_change_others():
    assert accounts.admin_change_problem("a", "a", new_role="coordinator") == "self_change"
    assert accounts.admin_change_problem("a", "a", new_active=False) == "self_change"
    assert accounts.admin_change_problem("a", "a", new_role="admin") is None
    assert accounts.admin_change_problem("a", "b", new_role="reviewer") is None
    assert accounts.admin_change_problem("a", "b", new_active=False) is None
    assert accounts.admin_change_problem("a", "b", new_role="owner") == "unknown_role"
