"""The HTTP edge of every service on SQLite: deny by default, clear errors for bad input, never a 500."""

from __future__ import annotations

import importlib
import re
from datetime import datetime, timedelta, timezone

import pytest

from services.common.db import upgrade
from services.common.settings import SERVICES, load_settings


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("var")
    settings = load_settings({"UWAGI_DATA_DIR": str(data_dir), "UWAGI_MAX_UPLOAD_MB": "1"})
    built = {}
    for service in SERVICES:
        upgrade(service, settings.database_url(service))
        module = importlib.import_module(f"services.{service}.app")
        ctx = module.build(settings)
        built[service] = module.create_app(ctx=ctx)
    yield built
    for app in built.values():
        app.extensions["uwagi"].close()


def token(apps, role: str) -> dict:
    signer = apps["intake"].extensions["uwagi"].signer
    return {"Authorization": f"Bearer {signer.issue('u-' + role, role + '@um.example', role)}"}


def concrete(rule: str) -> str:
    rule = re.sub(r"<int:[a-z_]+>", "1", rule)
    return re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "x", rule)


def test_every_endpoint_that_is_not_marked_public_requires_a_staff_identity(apps):
    """API routes answer 401; staff pages send the visitor to the login page and show nothing."""
    checked = 0
    for service, app in apps.items():
        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            if getattr(view, "_uwagi_public", False) or rule.endpoint.startswith("api-docs.") \
                    or rule.endpoint.endswith("static"):
                continue
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = app.test_client().open(concrete(rule.rule), method=method)
                if "/api/" in rule.rule:
                    assert response.status_code == 401, (service, rule.rule, method, response.status_code)
                else:
                    assert response.status_code == 302, (service, rule.rule, method, response.status_code)
                    assert response.headers["Location"].startswith("/review/login?next="), rule.rule
                checked += 1
    assert checked >= 8


def test_public_endpoints_are_exactly_the_intended_ones(apps):
    public = sorted(f"{sorted(r.methods - {'HEAD', 'OPTIONS'})} {r.rule}" for app in apps.values()
                    for r in app.url_map.iter_rules()
                    if getattr(app.view_functions[r.endpoint], "_uwagi_public", False))
    review_identity = {"['POST'] /review/api/v1/tokens", "['GET', 'POST'] /review/login", "['POST'] /review/logout",
                       "['GET', 'POST'] /review/password/forgot", "['GET', 'POST'] /review/password/<token>"}
    assert review_identity <= set(public), public
    # Documents serves the files a publication made public (and only those; see its own tests), and the published
    # table of comments as a page.
    assert all(re.search(r"/(healthz|readyz)$|/intake/|/documents/files/", p) or p in review_identity
               or p == "['GET'] /documents/c/<consultation_id>/comments" for p in public), public


def staff_session(client, role: str) -> None:
    from services.common.auth import SESSION_KEY, StaffIdentity, session_claims

    with client.session_transaction() as session:
        session[SESSION_KEY] = session_claims(StaffIdentity(f"walk-{role}", f"{role}@um.example", role))


RANKS = ("reviewer", "coordinator", "admin")


def test_every_route_refuses_a_session_whose_role_is_too_weak(apps):
    """A reviewer cannot reach coordinator or admin pages (or their API); a coordinator cannot reach admin ones."""
    checked = 0
    for service, app in apps.items():
        for rule in app.url_map.iter_rules():
            needed = getattr(app.view_functions[rule.endpoint], "_uwagi_role", None)
            if needed in (None, "reviewer"):
                continue
            for role in RANKS[:RANKS.index(needed)]:
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    client = app.test_client()
                    staff_session(client, role)
                    response = client.open(concrete(rule.rule), method=method)
                    assert response.status_code == 403, (service, rule.rule, method, role, response.status_code)
                    checked += 1
    assert checked >= 10


def test_every_unsafe_request_on_a_session_needs_the_csrf_token(apps):
    """Staff routes (pages and API alike) refuse a cookie-authenticated POST without its token before any view runs."""
    checked = 0
    for service, app in apps.items():
        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            unsafe = sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"})
            if getattr(view, "_uwagi_public", False) or not unsafe:
                continue
            for method in unsafe:
                client = app.test_client()
                staff_session(client, "admin")
                response = client.open(concrete(rule.rule), method=method, data={"x": "1"})
                assert response.status_code == 400, (service, rule.rule, method, response.status_code)
                checked += 1
    assert checked >= 10


@pytest.mark.parametrize("path", ["/review/login", "/review/logout", "/review/password/forgot"])
def test_the_public_identity_forms_need_the_csrf_token_too(apps, path):
    """(The set-password form is checked with a real link in tests/unit/identity.)"""
    response = apps["review"].test_client().post(path, data={"email": "a@um.example", "password": "x" * 12})
    assert response.status_code == 400 and "Formularz wygasł" in response.get_data(as_text=True)


def test_a_forged_token_is_refused_and_a_weaker_role_is_forbidden(apps):
    client = apps["intake"].test_client()
    assert client.post("/intake/api/v1/consultations", json={}, headers={"Authorization": "Bearer abc.def"}).status_code == 401
    assert client.post("/intake/api/v1/consultations", json={}, headers=token(apps, "reviewer")).status_code == 403
    notify = apps["notify"].test_client()
    assert notify.get("/notify/api/v1/notifications", headers=token(apps, "reviewer")).status_code == 403


@pytest.fixture(scope="module")
def consultation_id(apps):
    now = datetime.now(timezone.utc)
    response = apps["intake"].test_client().post("/intake/api/v1/consultations", headers=token(apps, "coordinator"), json={
        "title": "Program współpracy", "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=1)).isoformat()})
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.mark.parametrize("body, content_type, status, needle", [
    ("{\"submitter\": ", "application/json", 400, "not valid JSON"),
    ("[1, 2, 3]", "application/json", 422, ""),
    ("\x00\xff\xfe", "application/json", 400, "not valid JSON"),
    ("submitter=x", "application/x-www-form-urlencoded", 422, ""),
])
def test_malformed_bodies_get_a_clear_client_error(apps, consultation_id, body, content_type, status, needle):
    response = apps["intake"].test_client().post(
        f"/intake/api/v1/consultations/{consultation_id}/submissions", data=body, content_type=content_type)
    assert response.status_code == status, response.json
    assert needle in response.json["message"]


def test_field_errors_name_the_fields(apps, consultation_id):
    response = apps["intake"].test_client().post(f"/intake/api/v1/consultations/{consultation_id}/submissions", json={
        "submitter": {"name": "", "email": "not-an-email", "publish_consent": "maybe"},
        "comments": [{"section": "§ 1"}], "unexpected": True})
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert set(errors["submitter"]) == {"name", "email", "publish_consent"}
    assert "proposal" in errors["comments"]["0"]
    assert "unexpected" in errors


def test_a_huge_body_is_refused_with_413(apps, consultation_id):
    response = apps["intake"].test_client().post(
        f"/intake/api/v1/consultations/{consultation_id}/submissions", data="x" * (2 * 1024 * 1024),
        content_type="application/json")
    assert response.status_code == 413
    assert "too large" in response.json["message"]


def test_unknown_consultations_and_references_are_404_not_500(apps):
    client = apps["intake"].test_client()
    assert client.get("/intake/api/v1/consultations/nope").status_code == 404
    assert client.post("/intake/api/v1/consultations/nope/submissions", json={
        "submitter": {"name": "A", "email": "a@b.pl", "publish_consent": True},
        "comments": [{"section": "§ 1", "proposal": "x"}]}).status_code == 404
    assert client.get("/intake/api/v1/submissions/UW/2026/000001?token=x").status_code == 404
    assert client.get("/intake/api/v1/submissions/UW/2026/000001").status_code == 422


def test_a_decision_without_justification_is_a_422_with_the_field(apps):
    response = apps["review"].test_client().post("/review/api/v1/comments/nope/decision", headers=token(apps, "reviewer"),
                                                  json={"decision": "rejected"})
    assert response.status_code == 422
    assert "justification" in response.json["errors"]["json"]


def test_openapi_documents_are_public_and_describe_the_fixed_paths(apps):
    spec = apps["intake"].test_client().get("/intake/api/v1/openapi.json").json
    assert "/intake/api/v1/consultations/{consultation_id}/submissions" in spec["paths"]
    spec = apps["review"].test_client().get("/review/api/v1/openapi.json").json
    assert "/review/api/v1/comments/{comment_id}/decision" in spec["paths"]


def test_health_and_readiness(apps):
    for service, app in apps.items():
        client = app.test_client()
        assert client.get(f"/{service}/healthz").json == {"status": "ok", "service": service}
        ready = client.get(f"/{service}/readyz")
        assert ready.status_code == 200 and set(ready.json["checks"]) == {"database", "broker", "storage"}


def test_forwarded_headers_are_trusted_only_when_configured(tmp_path):
    from flask import request

    from services.intake.app import build, create_app

    def client_address(trusted: str) -> str:
        settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path / trusted), "UWAGI_TRUSTED_PROXIES": trusted})
        upgrade("intake", settings.database_url("intake"))
        ctx = build(settings)
        app = create_app(ctx=ctx)
        seen = {}

        @app.before_request
        def remember() -> None:
            seen["addr"] = request.remote_addr

        try:
            app.test_client().get("/intake/healthz",
                                  environ_base={"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9"})
            return seen["addr"]
        finally:
            ctx.close()

    assert client_address("0") == "10.0.0.2"
    assert client_address("1") == "203.0.113.9"


def test_the_openapi_documents_say_which_operations_need_a_staff_token(apps):
    """Staff operations carry the bearer scheme and their 401/403; public ones say they need nothing."""
    for service, app in apps.items():
        spec = app.test_client().get(f"/{service}/api/v1/openapi.json").get_json()
        assert "error" in spec["components"]["schemas"]["ErrorBody"]["properties"]
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                if method not in {"get", "post", "put", "patch", "delete"}:
                    continue
                adapter = app.url_map.bind("localhost")
                endpoint, _ = adapter.match(re.sub(r"\{[^}]+\}", "1", path), method=method.upper())
                public = getattr(app.view_functions[endpoint], "_uwagi_public", False)
                if public:
                    assert operation["security"] == [], (service, path, method)
                else:
                    assert operation["security"] == [{"staffToken": []}], (service, path, method)
                    assert {"401", "403"} <= set(operation["responses"]), (service, path, method)


@pytest.mark.parametrize("path, method", [
    ("/intake/nope/deeper", "GET"),
    ("/intake/api/v1/consultations", "DELETE"),
    ("/intake/static/common/uwagi.css", "GET"),
    ("/review/healthz", "GET"),
    ("/review/login", "GET"),
])
def test_every_answer_carries_nosniff_and_pages_a_content_security_policy(apps, path, method):
    service = path.split("/")[1]
    response = apps[service].test_client().open(path, method=method)
    assert response.headers["X-Content-Type-Options"] == "nosniff", (path, response.status_code)
    if response.mimetype == "text/html":
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_api_answers_are_not_stored_in_caches(apps):
    response = apps["intake"].test_client().get("/intake/api/v1/consultations")
    assert response.headers["Cache-Control"] == "no-store"


def test_a_download_names_its_charset_once_and_its_file_in_both_forms(apps):
    from services.common.web import file_response

    with apps["documents"].test_request_context():
        response = file_response(b"a;b\n", "text/csv; charset=utf-8", "raport-z-konsultacji-łódź.csv", "abc")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["ETag"] == '"abc"'
    disposition = response.headers["Content-Disposition"]
    assert 'filename="raport-z-konsultacji-lodz.csv"' in disposition
    assert "filename*=UTF-8''raport-z-konsultacji-%C5%82%C3%B3d%C5%BA.csv" in disposition


def test_a_method_the_route_does_not_take_is_a_405_that_names_the_allowed_ones(apps):
    response = apps["review"].test_client().open("/review/api/v1/comments", method="TRACE", headers=token(apps, "admin"))
    assert response.status_code == 405
    assert {"GET", "HEAD"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    assert response.get_json()["error"] == "method_not_allowed"
    page = apps["intake"].test_client().open("/intake/api/v1/consultations", method="DELETE")
    assert page.status_code == 405 and "Allow" in page.headers
