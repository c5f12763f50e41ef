"""Staff identity use cases on review's real tables (SQLite): logins with lockout, links, roles, revocation."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from services.common.auth import StaffIdentity
from services.common.web import Conflict, NotFound, Refused
from services.review import identity
from services.review.accounts import LOCKOUT_THRESHOLD
from services.review.identity import LinkInvalid, LoginFailed, PasswordRejected
from services.review.models import AuditEntry, StaffUser

from .conftest import outbox_events

PASSWORD = "hasło do konsoli 2026"
ADMIN = StaffIdentity("admin-1", "admin@um.example", "admin")


def make_user(ctx: Any, email: str = "anna@um.example", role: str = "reviewer", password: str | None = PASSWORD):
    user, _ = identity.create_staff_user(ctx, email, role, "Anna Nowak", password=password)
    return user


def audit(ctx: Any, action: str) -> list[AuditEntry]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def link_token(ctx: Any) -> str:
    url = outbox_events(ctx, "staff.password_link")[-1]["data"]["url"]
    return url.rsplit("/", 1)[1]


def test_a_user_logs_in_with_email_and_password(review_ctx):
    make_user(review_ctx)
    user = identity.authenticate(review_ctx, " Anna@UM.example ", PASSWORD)
    assert user.email == "anna@um.example" and user.last_login_at is not None
    assert user.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize("email, password", [("anna@um.example", "wrong password!"), ("nobody@um.example", PASSWORD)])
def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(review_ctx, email, password):
    make_user(review_ctx)
    with pytest.raises(LoginFailed) as failure:
        identity.authenticate(review_ctx, email, password)
    assert failure.value.status == 401


def test_repeated_failures_lock_the_account_for_a_while(review_ctx, clock):
    make_user(review_ctx)
    for _ in range(LOCKOUT_THRESHOLD):
        with pytest.raises(LoginFailed):
            identity.authenticate(review_ctx, "anna@um.example", "wrong password!")
    with pytest.raises(LoginFailed):  # even the right password, while locked
        identity.authenticate(review_ctx, "anna@um.example", PASSWORD)
    assert len(audit(review_ctx, "user.locked_out")) == 1
    clock.advance(minutes=14)
    with pytest.raises(LoginFailed):
        identity.authenticate(review_ctx, "anna@um.example", PASSWORD)
    clock.advance(minutes=1)
    assert identity.authenticate(review_ctx, "anna@um.example", PASSWORD).failed_logins == 0


def test_a_deactivated_user_cannot_log_in(review_ctx):
    user = make_user(review_ctx)
    identity.set_active(review_ctx, user.id, False, actor=ADMIN)
    with pytest.raises(LoginFailed):
        identity.authenticate(review_ctx, "anna@um.example", PASSWORD)


def test_creating_a_user_announces_them_and_a_weak_password_is_refused(review_ctx):
    user = make_user(review_ctx)
    [event] = outbox_events(review_ctx, "staff.changed")
    assert event["data"] == {"user_id": user.id, "email": "anna@um.example", "name": "Anna Nowak",
                             "role": "reviewer", "active": True, "generation": 1}
    with pytest.raises(PasswordRejected) as refused:
        identity.create_staff_user(review_ctx, "jan@um.example", "reviewer", password="krótkie")
    assert refused.value.problems == ["too_short"]


def test_running_create_again_changes_nothing_but_re_announces_the_user(review_ctx):
    make_user(review_ctx)
    user = make_user(review_ctx)
    assert user.generation == 1
    assert [e["data"]["generation"] for e in outbox_events(review_ctx, "staff.changed")] == [1, 1]
    assert len(audit(review_ctx, "user.created")) == 1 and audit(review_ctx, "user.updated") == []


def test_a_reset_link_is_emailed_through_notify_and_works_once(review_ctx):
    user = make_user(review_ctx)
    old_token = identity.issue_token(review_ctx, user)
    identity.request_password_reset(review_ctx, "ANNA@um.example", language="en")
    [link] = outbox_events(review_ctx, "staff.password_link")
    assert link["data"]["purpose"] == "reset" and link["data"]["language"] == "en"
    assert link["data"]["url"].startswith("https://konsultacje.example.org/review/password/")
    token = link_token(review_ctx)
    assert identity.check_password_link(review_ctx, token).email == "anna@um.example"

    changed = identity.set_password_with_link(review_ctx, token, "zupełnie nowe hasło")
    assert changed.generation == 2
    with pytest.raises(LinkInvalid):
        identity.set_password_with_link(review_ctx, token, "jeszcze inne hasło")
    with pytest.raises(LinkInvalid):
        identity.check_password_link(review_ctx, token)
    with pytest.raises(LoginFailed):
        identity.authenticate(review_ctx, "anna@um.example", PASSWORD)
    assert identity.authenticate(review_ctx, "anna@um.example", "zupełnie nowe hasło")
    # A new password ends earlier tokens and sessions everywhere.
    assert review_ctx.signer.verify(old_token).generation < changed.generation
    assert outbox_events(review_ctx, "staff.changed")[-1]["data"]["generation"] == 2


def test_setting_a_password_ends_every_other_open_link(review_ctx):
    make_user(review_ctx)
    identity.request_password_reset(review_ctx, "anna@um.example")
    first = link_token(review_ctx)
    identity.request_password_reset(review_ctx, "anna@um.example")
    second = link_token(review_ctx)
    identity.set_password_with_link(review_ctx, second, "zupełnie nowe hasło")
    with pytest.raises(LinkInvalid):
        identity.set_password_with_link(review_ctx, first, "jeszcze inne hasło")


def test_a_reset_link_expires(review_ctx, clock):
    make_user(review_ctx)
    identity.request_password_reset(review_ctx, "anna@um.example")
    token = link_token(review_ctx)
    clock.advance(minutes=61)
    with pytest.raises(LinkInvalid):
        identity.set_password_with_link(review_ctx, token, "zupełnie nowe hasło")


def test_a_forged_or_tampered_link_is_refused(review_ctx):
    make_user(review_ctx)
    identity.request_password_reset(review_ctx, "anna@um.example")
    token = link_token(review_ctx)
    for bad in ("not-a-token", token[:-2] + ("AA" if not token.endswith("AA") else "BB")):
        with pytest.raises(LinkInvalid):
            identity.check_password_link(review_ctx, bad)


def test_a_weak_new_password_keeps_the_link_usable(review_ctx):
    make_user(review_ctx)
    identity.request_password_reset(review_ctx, "anna@um.example")
    token = link_token(review_ctx)
    with pytest.raises(PasswordRejected):
        identity.set_password_with_link(review_ctx, token, "anna@um.example")
    assert identity.set_password_with_link(review_ctx, token, "zupełnie nowe hasło")


def test_a_reset_for_an_unknown_or_inactive_address_sends_nothing(review_ctx):
    user = make_user(review_ctx)
    identity.set_active(review_ctx, user.id, False, actor=ADMIN)
    identity.request_password_reset(review_ctx, "anna@um.example")
    identity.request_password_reset(review_ctx, "nobody@um.example")
    assert outbox_events(review_ctx, "staff.password_link") == []


def test_an_invitation_creates_the_user_and_emails_a_set_password_link(review_ctx):
    user = identity.invite_user(review_ctx, "Jan@UM.example", "Jan Kowalski", "coordinator", actor=ADMIN)
    assert user.password_hash is None
    [link] = outbox_events(review_ctx, "staff.password_link")
    assert link["data"]["purpose"] == "invite" and link["data"]["email"] == "jan@um.example"
    [entry] = audit(review_ctx, "user.invited")
    assert entry.actor == "admin@um.example" and entry.before is None
    assert entry.after["role"] == "coordinator"
    with pytest.raises(LoginFailed):  # no password yet
        identity.authenticate(review_ctx, "jan@um.example", "")
    identity.set_password_with_link(review_ctx, link_token(review_ctx), "hasło Jana Kowalskiego")
    assert identity.authenticate(review_ctx, "jan@um.example", "hasło Jana Kowalskiego").role == "coordinator"
    with pytest.raises(Conflict):
        identity.invite_user(review_ctx, "jan@um.example", "Jan", "reviewer", actor=ADMIN)


def test_a_role_change_is_audited_with_before_and_after_and_raises_the_generation(review_ctx):
    user = make_user(review_ctx)
    changed = identity.change_role(review_ctx, user.id, "coordinator", actor=ADMIN)
    assert changed.generation == 2
    [entry] = audit(review_ctx, "user.role_changed")
    assert entry.before == {"role": "reviewer"} and entry.after == {"role": "coordinator"}
    assert outbox_events(review_ctx, "staff.changed")[-1]["data"]["role"] == "coordinator"
    # The same role again is no change: no audit entry, no revocation.
    assert identity.change_role(review_ctx, user.id, "coordinator", actor=ADMIN).generation == 2


def test_deactivation_and_reactivation_are_audited_and_each_revokes(review_ctx):
    user = make_user(review_ctx)
    identity.set_active(review_ctx, user.id, False, actor=ADMIN)
    again = identity.set_active(review_ctx, user.id, True, actor=ADMIN)
    assert again.generation == 3
    entries = audit(review_ctx, "user.deactivated") + audit(review_ctx, "user.activated")
    assert [(a.before, a.after) for a in entries] == [({"active": True}, {"active": False}),
                                                      ({"active": False}, {"active": True})]


def test_an_admin_cannot_demote_or_deactivate_themselves(review_ctx):
    admin = make_user(review_ctx, "admin@um.example", "admin")
    me = StaffIdentity(admin.id, admin.email, "admin")
    with pytest.raises(Refused):
        identity.change_role(review_ctx, admin.id, "reviewer", actor=me)
    with pytest.raises(Refused):
        identity.set_active(review_ctx, admin.id, False, actor=me)
    with pytest.raises(NotFound):
        identity.change_role(review_ctx, "nobody", "reviewer", actor=me)


def test_users_are_listed_active_first(review_ctx):
    anna = make_user(review_ctx)
    make_user(review_ctx, "zenon@um.example")
    identity.set_active(review_ctx, anna.id, False, actor=ADMIN)
    assert [u.email for u in identity.list_users(review_ctx)] == ["zenon@um.example", "anna@um.example"]
    assert isinstance(identity.get_user(review_ctx, anna.id), StaffUser)
