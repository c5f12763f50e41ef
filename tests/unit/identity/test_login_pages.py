"""The identity pages through Flask: log in and out, lockout, forgotten password, one-time links, user admin."""

from __future__ import annotations

import re
from typing import Any

import pytest

from services.common.auth import SESSION_KEY
from services.common.db import upgrade
from services.review import identity
from services.review.accounts import LOCKOUT_THRESHOLD

from .conftest import outbox_events

PASSWORD = "hasło do konsoli 2026"


@pytest.fixture
def app(review_ctx: Any) -> Any:
    from services.review.app import create_app

    return create_app(ctx=review_ctx)


@pytest.fixture
def users(review_ctx: Any) -> dict[str, Any]:
    return {role: identity.create_staff_user(review_ctx, f"{role}@um.example", role, f"{role.title()} Testowy",
                                             password=PASSWORD)[0]
            for role in ("reviewer", "coordinator", "admin")}


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client: Any, email: str, password: str = PASSWORD, next_path: str = "/review/admin/users") -> Any:
    token = csrf_from(client.get("/review/login").get_data(as_text=True))
    return client.post("/review/login", data={"email": email, "password": password, "csrf_token": token,
                                              "next": next_path})


def post_form(client: Any, path: str, data: dict, page: str | None = None) -> Any:
    token = csrf_from(client.get(page or path).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def test_the_login_page_is_polish_first_with_labelled_fields_and_a_csrf_token(app):
    html = app.test_client().get("/review/login").get_data(as_text=True)
    assert '<html lang="pl">' in html and "Logowanie do panelu pracowników" in html
    assert '<label for="f-email">Adres e-mail' in html and '<label for="f-password">Hasło' in html
    assert 'autocomplete="current-password"' in html and 'name="csrf_token"' in html
    english = app.test_client().get("/review/login?lang=en").get_data(as_text=True)
    assert "Log in to the staff console" in english


def test_logging_in_sets_the_session_and_returns_to_the_page_asked_for(app, users):
    client = app.test_client()
    response = log_in(client, "ADMIN@um.example ", next_path="/review/admin/users?x=1")
    assert response.status_code == 302 and response.headers["Location"] == "/review/admin/users?x=1"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("uwagi_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie and "Secure" in cookie  # UWAGI_PUBLIC_URL is https in these tests
    with client.session_transaction() as session:
        assert session[SESSION_KEY]["gen"] == users["admin"].generation and session["_user_id"] == users["admin"].id
    assert client.get("/review/admin/users").status_code == 200


def test_the_login_form_needs_its_csrf_token(app, users):
    response = app.test_client().post("/review/login", data={"email": "admin@um.example", "password": PASSWORD})
    assert response.status_code == 400


def test_login_never_redirects_to_another_site(app, users):
    response = log_in(app.test_client(), "reviewer@um.example", next_path="//evil.example/")
    assert response.headers["Location"] == "/review/"


def test_a_wrong_password_shows_the_error_summary_and_locks_after_repeated_failures(app, users):
    client = app.test_client()
    response = log_in(client, "reviewer@um.example", "nie to hasło")
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert 'class="error-summary"' in html and 'href="#f-email"' in html and "czasowo zablokowane" in html
    assert 'value="reviewer@um.example"' in html and "nie to hasło" not in html
    for _ in range(LOCKOUT_THRESHOLD - 1):
        log_in(client, "reviewer@um.example", "nie to hasło")
    assert log_in(client, "reviewer@um.example").status_code == 401  # locked, even with the right password


def test_missing_fields_are_named_in_the_summary(app):
    response = post_form(app.test_client(), "/review/login", {"email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Prosimy podać adres e-mail." in html and "Prosimy podać hasło." in html
    assert 'aria-invalid="true"' in html


def test_logging_out_ends_the_session(app, users):
    client = app.test_client()
    log_in(client, "admin@um.example")
    token = csrf_from(client.get("/review/admin/users").get_data(as_text=True))
    response = client.post("/review/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/review/login"
    with client.session_transaction() as session:
        assert SESSION_KEY not in session and "_user_id" not in session
    assert client.get("/review/admin/users").status_code == 302
    assert client.post("/review/logout", data={}).status_code == 400  # logout needs its CSRF token too


def test_the_session_works_on_another_service_behind_the_gateway(app, users, settings):
    from services.documents.app import build, create_app

    client = app.test_client()
    log_in(client, "coordinator@um.example")
    upgrade("documents", settings.database_url("documents"))
    documents_ctx = build(settings)
    try:
        other = create_app(ctx=documents_ctx).test_client()
        other.set_cookie("uwagi_session", client.get_cookie("uwagi_session").value)
        assert other.get("/documents/api/v1/documents").status_code == 200
    finally:
        documents_ctx.close()


def test_forgotten_password_answers_the_same_whether_or_not_the_address_exists(app, users):
    client = app.test_client()
    known = post_form(client, "/review/password/forgot", {"email": "reviewer@um.example"}).get_data(as_text=True)
    unknown = post_form(client, "/review/password/forgot", {"email": "nobody@um.example"}).get_data(as_text=True)
    assert "Jeżeli ten adres należy do aktywnego konta" in known
    strip = lambda html: re.sub(r'value="[^"]+"', "", html)  # noqa: E731 - the CSRF token differs
    assert strip(known) == strip(unknown)
    [event] = outbox_events(app.extensions["uwagi"], "staff.password_link")
    assert event["data"]["email"] == "reviewer@um.example" and event["data"]["language"] == "pl"


def reset_link_path(app: Any, client: Any, email: str) -> str:
    post_form(client, "/review/password/forgot", {"email": email})
    url = outbox_events(app.extensions["uwagi"], "staff.password_link")[-1]["data"]["url"]
    return url.removeprefix(app.extensions["uwagi"].settings.public_url)


def test_a_reset_link_sets_a_new_password_once(app, users):
    client = app.test_client()
    path = reset_link_path(app, client, "reviewer@um.example")
    page = client.get(path)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert "Konto: reviewer@um.example" in page.get_data(as_text=True)

    forged = client.post(path, data={"password": "nowe hasło do konsoli", "password_again": "nowe hasło do konsoli"})
    assert forged.status_code == 400  # no CSRF token: refused, and the link stays usable
    mismatch = post_form(client, path, {"password": "nowe hasło do konsoli", "password_again": "inne"})
    assert mismatch.status_code == 422 and "Podane hasła różnią się." in mismatch.get_data(as_text=True)
    short = post_form(client, path, {"password": "krótkie", "password_again": "krótkie"})
    assert short.status_code == 422 and "co najmniej 10 znaków" in short.get_data(as_text=True)

    done = post_form(client, path, {"password": "nowe hasło do konsoli", "password_again": "nowe hasło do konsoli"})
    assert done.status_code == 302 and done.headers["Location"] == "/review/login"
    again = client.get(path)
    assert again.status_code == 410 and "Ten link już nie działa" in again.get_data(as_text=True)
    assert log_in(app.test_client(), "reviewer@um.example", PASSWORD).status_code == 401
    assert log_in(app.test_client(), "reviewer@um.example", "nowe hasło do konsoli").status_code == 302


def test_an_expired_reset_link_is_refused(app, users, clock):
    client = app.test_client()
    path = reset_link_path(app, client, "reviewer@um.example")
    clock.advance(hours=1, seconds=1)
    assert client.get(path).status_code == 410


def test_a_new_password_ends_sessions_opened_before_it(app, users):
    old_session = app.test_client()
    log_in(old_session, "reviewer@um.example")
    assert old_session.get("/review/api/v1/comments").status_code == 200
    client = app.test_client()
    path = reset_link_path(app, client, "reviewer@um.example")
    post_form(client, path, {"password": "nowe hasło do konsoli", "password_again": "nowe hasło do konsoli"})
    assert old_session.get("/review/api/v1/comments").status_code == 401


def test_a_reviewer_and_a_coordinator_cannot_reach_the_user_admin(app, users):
    for role in ("reviewer", "coordinator"):
        client = app.test_client()
        log_in(client, f"{role}@um.example")
        refused = client.get("/review/admin/users")
        assert refused.status_code == 403
        assert client.get("/review/admin/users/invite").status_code == 403
        token = csrf_from(client.get("/review/").get_data(as_text=True))
        for path, data in ((f"/review/admin/users/{users[role].id}/role", {"role": "admin"}),
                           (f"/review/admin/users/{users[role].id}/active", {"active": "no"}),
                           ("/review/admin/users/invite", {"email": "x@um.example", "role": "admin"})):
            assert client.post(path, data={**data, "csrf_token": token}).status_code == 403
        assert identity.get_user(app.extensions["uwagi"], users[role].id).role == role


def test_an_admin_lists_users_and_invites_one(app, users):
    client = app.test_client()
    log_in(client, "admin@um.example")
    html = client.get("/review/admin/users").get_data(as_text=True)
    assert "reviewer@um.example" in html and '<th scope="col">Rola</th>' in html
    assert "(Państwa konto)" in html  # no controls against oneself
    invite = post_form(client, "/review/admin/users/invite",
                       {"email": "nowy@um.example", "name": "Nowy Recenzent", "role": "reviewer"})
    assert invite.status_code == 302
    [link] = outbox_events(app.extensions["uwagi"], "staff.password_link")
    assert link["data"]["purpose"] == "invite" and link["data"]["email"] == "nowy@um.example"
    assert "nowy@um.example" in client.get("/review/admin/users").get_data(as_text=True)
    taken = post_form(client, "/review/admin/users/invite", {"email": "nowy@um.example", "role": "reviewer"})
    assert taken.status_code == 409 and "już istnieje" in taken.get_data(as_text=True)
    invalid = post_form(client, "/review/admin/users/invite", {"email": "nie-adres", "role": "owner"})
    body = invalid.get_data(as_text=True)
    assert invalid.status_code == 422 and "poprawny adres e-mail" in body and "wybrać rolę" in body
    # The language chosen for the person: the invitation comes in it, and so will their digest.
    assert link["data"]["language"] == "pl"
    post_form(client, "/review/admin/users/invite", {"email": "new@um.example", "role": "reviewer", "language": "en"})
    english = [e for e in outbox_events(app.extensions["uwagi"], "staff.password_link")
               if e["data"]["email"] == "new@um.example"]
    assert english[0]["data"]["language"] == "en"
    from services.review import identity
    assert identity.find_user(app.extensions["uwagi"], "new@um.example").language == "en"
    forged = post_form(client, "/review/admin/users/invite", {"email": "x@um.example", "role": "reviewer",
                                                              "language": "de"})
    assert forged.status_code == 422 and "Wybierz polski lub angielski." in forged.get_data(as_text=True)


def test_a_role_change_in_the_console_ends_that_users_session_at_once(app, users):
    admin, reviewer = app.test_client(), app.test_client()
    log_in(admin, "admin@um.example")
    log_in(reviewer, "coordinator@um.example")
    assert reviewer.get("/review/api/v1/comments").status_code == 200
    response = post_form(admin, f"/review/admin/users/{users['coordinator'].id}/role", {"role": "reviewer"},
                         page="/review/admin/users")
    assert response.status_code == 303
    assert "to teraz: recenzent" in admin.get("/review/admin/users").get_data(as_text=True)
    assert reviewer.get("/review/api/v1/comments").status_code == 401
    assert reviewer.get("/review/admin/users").status_code == 302  # a page: back to the login form


def test_deactivation_in_the_console_and_the_self_change_guard(app, users):
    admin = app.test_client()
    log_in(admin, "admin@um.example")
    post_form(admin, f"/review/admin/users/{users['reviewer'].id}/active", {"active": "no"}, page="/review/admin/users")
    assert log_in(app.test_client(), "reviewer@um.example").status_code == 401
    refused = post_form(admin, f"/review/admin/users/{users['admin'].id}/active", {"active": "no"},
                        page="/review/admin/users")
    assert refused.status_code == 303
    assert "nie może odebrać sobie uprawnień" in admin.get("/review/admin/users").get_data(as_text=True)
    assert admin.get("/review/admin/users").status_code == 200
    assert admin.post("/review/admin/users/nope/role", data={"role": "admin", "csrf_token": csrf_from(
        admin.get("/review/admin/users").get_data(as_text=True))}).status_code == 404
