"""The staff shell shared by every service: session or token, login redirect, roles, CSRF, cookie flags."""

from __future__ import annotations

import re

import pytest
from flask import Blueprint, render_template_string

from services.common.auth import SESSION_KEY, StaffIdentity, requires_role, session_claims
from services.common.db import upgrade
from services.common.settings import load_settings
from services.common.ui import safe_next
from services.review import app as review_app

PAGE = '{% extends "staff/base.html" %}{% block title %}Probe{% endblock %}{% block content %}<h1>Probe</h1>{% endblock %}'


def probe_blueprint() -> Blueprint:
    blp = Blueprint("probe", __name__, url_prefix="/review/probe")

    @blp.route("/", methods=["GET", "POST"])
    def page():
        return render_template_string(PAGE)

    @blp.route("/coordinators")
    @requires_role("coordinator")
    def coordinators_only():
        return render_template_string(PAGE)

    return blp


def make_app(tmp_path, **env):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), **env})
    upgrade("review", settings.database_url("review"))
    app = review_app.create_app(ctx=review_app.build(settings))
    app.register_blueprint(probe_blueprint())
    return app


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    built = make_app(tmp_path_factory.mktemp("var"))
    yield built
    built.extensions["uwagi"].close()


def log_in(client, role="reviewer", name="Anna Nowak"):
    with client.session_transaction() as session:
        session[SESSION_KEY] = session_claims(StaffIdentity("u-1", f"{role}@um.example", role, name))


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_a_page_without_a_session_redirects_to_the_login_page_and_remembers_where_it_was(app):
    response = app.test_client().get("/review/probe/?x=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/review/login?next=%2Freview%2Fprobe%2F%3Fx%3D1"


def test_the_api_without_identity_answers_json_401_not_a_redirect(app):
    response = app.test_client().get("/review/api/v1/comments")
    assert response.status_code == 401 and response.is_json


def test_a_session_shows_the_page_in_polish_with_the_navigation_and_a_logout_form(app):
    client = app.test_client()
    log_in(client)
    html = client.get("/review/probe/").get_data(as_text=True)
    assert '<html lang="pl">' in html
    assert "Uwagi – panel pracowników" in html and "Anna Nowak" in html and "(recenzent)" in html
    assert 'action="/review/logout"' in html and 'name="csrf_token"' in html
    assert 'href="/review/queue">Uwagi</a>' in html
    assert "/review/admin/users" not in html  # admin pages are not offered to a reviewer


def test_english_is_one_click_away(app):
    client = app.test_client()
    log_in(client)
    html = client.get("/review/probe/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and ">Log out<" in html


def test_a_weaker_role_gets_an_html_403_page(app):
    client = app.test_client()
    log_in(client, "reviewer")
    response = client.get("/review/probe/coordinators")
    assert response.status_code == 403 and "Brak dostępu" in response.get_data(as_text=True)
    log_in(client, "coordinator")
    assert client.get("/review/probe/coordinators").status_code == 200


def test_a_session_post_needs_the_csrf_token(app):
    client = app.test_client()
    log_in(client)
    refused = client.post("/review/probe/", data={})
    assert refused.status_code == 400 and "Formularz wygasł" in refused.get_data(as_text=True)
    token = csrf_from(client.get("/review/probe/").get_data(as_text=True))
    assert client.post("/review/probe/", data={"csrf_token": token}).status_code == 200


def test_a_bearer_post_needs_no_csrf_token(app):
    signer = app.extensions["uwagi"].signer
    headers = {"Authorization": f"Bearer {signer.issue('u-2', 'r@um.example', 'reviewer')}"}
    assert app.test_client().post("/review/probe/", headers=headers).status_code == 200


def test_a_revoked_identity_is_refused_and_its_session_dropped(app):
    app.extensions["uwagi_identity_check"] = lambda identity, via: identity.user_id != "u-1"
    try:
        client = app.test_client()
        log_in(client)
        assert client.get("/review/probe/").status_code == 302
        with client.session_transaction() as session:
            assert SESSION_KEY not in session
    finally:
        del app.extensions["uwagi_identity_check"]


@pytest.mark.parametrize("public_url, secure", [("http://127.0.0.1:8000", False), ("https://konsultacje.example", True)])
def test_the_session_cookie_is_httponly_lax_site_wide_and_secure_over_https(tmp_path, public_url, secure):
    app = make_app(tmp_path, UWAGI_PUBLIC_URL=public_url)
    try:
        client = app.test_client()
        log_in(client)
        cookie = client.get("/review/probe/?lang=en").headers.get("Set-Cookie", "")
        assert cookie.startswith("uwagi_session=")
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert ("Secure" in cookie) is secure
    finally:
        app.extensions["uwagi"].close()


@pytest.mark.parametrize("target, expected", [
    ("/review/queue?status=new", "/review/queue?status=new"),
    ("https://evil.example/", "/review/"),
    ("//evil.example/", "/review/"),
    ("/\\evil.example", "/review/"),
    (None, "/review/"),
])
def test_after_login_only_local_paths_are_followed(target, expected):
    assert safe_next(target) == expected


@pytest.mark.parametrize(("text", "label", "expected"), [
    ("Załącznik do uchwały nr …/24 Rady Miasta Torunia", "Załącznik", True),
    ("ZAŁĄCZNIK NR 2 do uchwały", "Załącznik nr 2", True),
    ("Załącznik", "Załącznik", True),
    ("Załącznikiem do programu jest wykaz.", "Załącznik", False),  # a word that merely begins the same
    ("Program określa cele współpracy.", "§ 1", False),
    ("Tekst", "", False),
])
def test_a_unit_opening_with_its_own_label_is_told_apart(text, label, expected):
    from services.common.ui import opening_with

    assert opening_with(text, label) is expected
