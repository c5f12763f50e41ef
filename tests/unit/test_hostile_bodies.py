"""Every endpoint that takes a body or a number answers hostile input with a 4xx, never a 500.

Inputs from the issue: JSON nested 1,000 deep, a 5,000-digit number, a lone surrogate, an offset
beyond 64 bits, and a path number beyond 64 bits. Each goes to every route of the four apps. Also a NUL character
(U+0000) in a JSON string, the path, the query and a form field: SQLite stores it, PostgreSQL refuses it in any
text value (a DataError out of the view, a 500; tests/integration/test_nul_characters_postgres.py), so here every
route must refuse it before its view runs.
"""

from __future__ import annotations

import importlib
import io
import re

import pytest

from services.common import jsonguard
from services.common.db import upgrade
from services.common.settings import SERVICES, load_settings

DEEP = "[" * 1000 + "]" * 1000
HUGE_NUMBER = '{"limit": ' + "9" * 5000 + "}"
SURROGATE = '{"title": "\\ud800", "name": "\\ud800", "reason": "\\ud800"}'
NUL = '{"title": "a\\u0000b", "name": "a\\u0000b", "reason": "a\\u0000b"}'
HOSTILE_BODIES = {"deep": DEEP, "huge_number": HUGE_NUMBER, "surrogate": SURROGATE, "nul": NUL}
HUGE = "10754705582444396137000000000"


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path_factory.mktemp("var"))})
    built = {}
    for service in SERVICES:
        upgrade(service, settings.database_url(service))
        module = importlib.import_module(f"services.{service}.app")
        built[service] = module.create_app(ctx=module.build(settings))
    yield built
    for app in built.values():
        app.extensions["uwagi"].close()


def admin(app) -> dict:
    token = app.extensions["uwagi"].signer.issue("u-admin", "admin@um.example", "admin")
    return {"Authorization": f"Bearer {token}"}


def api_rules(app, methods):
    for rule in app.url_map.iter_rules():
        if "/api/" in rule.rule and rule.methods & methods and not rule.endpoint.startswith("api-docs."):
            yield rule


def concrete(rule) -> str:
    return re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "x", rule.rule).replace("<int:x>", "1")


@pytest.mark.parametrize("kind", sorted(HOSTILE_BODIES))
def test_hostile_json_bodies_get_400_from_every_endpoint_that_takes_a_body(apps, kind):
    checked = 0
    for service, app in apps.items():
        client = app.test_client()
        for rule in api_rules(app, {"POST", "PUT", "PATCH"}):
            for method in sorted(rule.methods & {"POST", "PUT", "PATCH"}):
                response = client.open(concrete(rule), method=method, data=HOSTILE_BODIES[kind],
                                       content_type="application/json", headers=admin(app))
                assert response.status_code < 500, (service, rule.rule, method, response.status_code)
                checked += 1
    assert checked >= 10


def test_huge_paging_numbers_never_reach_the_database_as_overflows(apps):
    for service, app in apps.items():
        client = app.test_client()
        for rule in api_rules(app, {"GET"}):
            response = client.get(concrete(rule) + f"?offset={HUGE}&limit={HUGE}&page={HUGE}", headers=admin(app))
            assert response.status_code < 500, (service, rule.rule, response.status_code)


def test_huge_path_numbers_are_404(apps):
    checked = 0
    for service, app in apps.items():
        client = app.test_client()
        for rule in app.url_map.iter_rules():
            if "<int:" not in rule.rule:
                continue
            url = re.sub(r"<int:[a-z_]+>", HUGE, rule.rule)
            url = re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "x", url)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(url, method=method, headers=admin(app))
                assert response.status_code in (400, 404, 405, 422), (service, url, method, response.status_code)
                checked += 1
    assert checked >= 1


@pytest.mark.parametrize("body, reason", [
    (DEEP, "nested more than"),
    (HUGE_NUMBER, "more than 30 digits"),
    (SURROGATE, "lone surrogate"),
    (NUL, "NUL character"),
    ('{"a\\u0000": 1}', "NUL character"),
    ("NaN", "NaN is not valid JSON"),
])
def test_the_guard_names_the_reason(body, reason):
    with pytest.raises(jsonguard.UnsafeJson, match=reason):
        jsonguard.safe_loads(body)


def test_the_guard_keeps_ordinary_json_and_brackets_inside_strings():
    assert jsonguard.safe_loads('{"a": "[[[[{{{{", "b": [1, -2, 3.5], "c": "Zażółć"}') == {
        "a": "[[[[{{{{", "b": [1, -2, 3.5], "c": "Zażółć"}


def test_the_error_says_why_in_the_api(apps):
    client = apps["intake"].test_client()
    response = client.post("/intake/api/v1/consultations/x/submissions", data=DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nested more than" in response.get_json()["message"]


def every_route(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, concrete(rule), method


def test_a_nul_in_the_query_or_the_path_is_refused_by_every_route(apps):
    checked = 0
    for service, app in apps.items():
        client = app.test_client()
        for rule, url, method in every_route(app):
            for target in (url + "?q=a%00b", url + "?a%00b=1", re.sub(r"/x(/|$)", r"/x%00y\1", url) + "?lang=pl"):
                if "%00" not in target:
                    continue  # a rule with no parameter: its query was tried
                response = client.open(target, method=method, headers=admin(app))
                assert response.status_code == 400, (service, rule.rule, method, target, response.status_code)
                checked += 1
    assert checked >= 300


def test_a_nul_in_a_form_field_or_a_file_name_is_refused_by_every_route_that_takes_a_form(apps):
    checked = 0
    for service, app in apps.items():
        client = app.test_client()
        for rule, url, method in every_route(app):
            if method not in ("POST", "PUT", "PATCH"):
                continue
            for data in ({"name": "a\x00b"}, {"a\x00b": "1"}, {"file": (io.BytesIO(b"x"), "uwagi\x00.docx")}):
                response = client.open(url, method=method, data=data, headers=admin(app),
                                       content_type="multipart/form-data" if "file" in data else None)
                assert response.status_code == 400, (service, rule.rule, method, data, response.status_code)
                checked += 1
    assert checked >= 60


def test_the_nul_refusal_says_why(apps):
    client = apps["intake"].test_client()
    answer = client.get("/intake/api/v1/submissions/UW%00?token=a")
    assert answer.status_code == 400 and "NUL character" in answer.get_json()["message"]
    page = client.get("/intake/status?reference=UW%00&token=a")
    assert page.status_code == 400 and page.mimetype == "text/html"


def test_a_form_part_without_a_name_is_not_a_500(apps):
    """werkzeug gives a multipart part with no name (or an unreadable one) the key None (schemathesis found it)."""
    body = (b'--b\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n'
            b'--b\r\nContent-Disposition: form-data; name="\x01\\"\r\n\r\nnull\r\n--b--\r\n')
    client = apps["documents"].test_client()
    response = client.post("/documents/api/v1/documents", data=body, headers=admin(apps["documents"]),
                           content_type="multipart/form-data; boundary=b")
    assert 400 <= response.status_code < 500, response.status_code
