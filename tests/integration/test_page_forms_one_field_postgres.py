"""Every staff page form on PostgreSQL, filled as the page renders it (blank fields given plausible values), then
one field at a time given a value PostgreSQL refuses where SQLite stores it: the other fields are good, so the
form gets past its first check and the bad value reaches as deep as it can. Never a 5xx."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from lxml import html
from werkzeug.datastructures import MultiDict

from tests.integration.test_staff_console_postgres import admin_clients, demo_system, urls

pytestmark = [pytest.mark.postgres]

BAD = ("x" * 70000, "2147483648", "10754705582444396137000000000", "9999-12-31", "0001-01-01", "ż" * 3000)
GOOD_BY_TYPE = {"date": "2026-12-01", "datetime-local": "2026-12-01T10:00", "time": "10:00",
                "email": "anna@example.org", "number": "1", "tel": "+48 56 611 88 88", "url": "https://torun.pl",
                "hidden": ""}


def form_fields(page: str, url: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each POST form of the page: where it posts, and its (name, value) pairs as a browser would send them
    untouched, blank text fields filled in."""
    forms = []
    for form in html.fromstring(page).forms:
        if (form.method or "GET").upper() != "POST":
            continue
        pairs: list[tuple[str, str]] = []
        for element in form.inputs:
            name = element.get("name")
            if not name:
                continue
            tag = element.tag
            kind = (element.get("type") or "text").lower()
            if tag == "select":
                options = [o.get("value", o.text or "") for o in element.iter("option")]
                chosen = [o.get("value", o.text or "") for o in element.iter("option") if o.get("selected") is not None]
                value = (chosen or [o for o in options if o] or [""])[0]
            elif tag == "textarea":
                value = element.text or "Uwaga do § 5."
            elif kind in {"checkbox", "radio"}:
                if kind == "radio" and any(n == name for n, _v in pairs):
                    continue
                value = element.get("value", "on")
            elif kind in {"submit", "button", "file", "image", "reset"}:
                continue
            else:
                value = element.get("value") or GOOD_BY_TYPE.get(kind, "Tekst")
            pairs.append((name, value))
        forms.append((urljoin(url, form.get("action") or url), pairs))
    return forms


def test_every_page_form_with_one_bad_field_among_good_ones_on_postgresql(tmp_path, postgres):
    with demo_system(tmp_path, postgres) as (system, ids):
        forms = posted = 0
        for app, client, headers in admin_clients(system):
            for rule in app.url_map.iter_rules():
                if rule.endpoint.endswith("static") or "GET" not in rule.methods or "/api/" in rule.rule:
                    continue
                for url in list(urls(rule, ids))[:1]:
                    page = client.get(url, headers=headers)
                    if page.status_code != 200 or "html" not in page.content_type:
                        continue
                    for action, pairs in form_fields(page.get_data(as_text=True), url):
                        forms += 1
                        for index, (name, _value) in enumerate(pairs):
                            if name in {"csrf_token", "action"}:
                                continue
                            for bad in BAD:
                                data = MultiDict([(n, bad if i == index else v) for i, (n, v) in enumerate(pairs)])
                                status = client.post(action, data=data, headers=headers).status_code
                                assert status < 500, (url, name, bad[:20], status)
                                posted += 1
        assert forms >= 20 and posted >= 500, (forms, posted)
