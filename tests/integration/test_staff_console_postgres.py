"""The whole staff console on PostgreSQL with the demo's real data: every page renders, no form post is a 5xx.

The embedded system (`make run`'s) on PostgreSQL databases, with the demo consultation, its document and its sample
comments. Then every route of the four services is called with the ids the demo made (a consultation, comments, a
group, the document, mails, notifications, staff), as an admin: each GET, and each page form (POST) once per hostile
value given to every field the forms read (numbers beyond every integer type, 70,000 characters, an impossible date,
nothing, a NUL). A page may refuse (400, 404, 409, 422) or redirect; it may not fail. The API routes are fuzzed by
schemathesis (tests/integration/test_api_fuzzing_postgres.py). Every field gets the same value at once, so a form
that refuses its first bad field never stores the others: one bad field among good ones is not tried here.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import time

import pytest
from sqlalchemy import text

from tests.integration.test_postgres import settings_for

pytestmark = [pytest.mark.postgres]

HOSTILE = ("10754705582444396137000000000", "2147483648", "-1", "ż" * 3000, "x" * 70000, "9999-99-99", "2026-02-30",
           "", "abc", "a\x00b")
FIELDS = (
    "action active assignee back body booking_id chapter comment comment_ids consultation_id group_id internal "
    "language next reason role step title unit email name phone publish slot_id topic current_text justification "
    "organization proposal publish_consent section decision decision_justification standard_justification_id "
    "closes_at opens_at channels late_policy contact_email contact_phone duty_days slot_minutes booking_deadline "
    "place room stage organiser description legal_basis outcome_notice number page per_page date starts ends note "
    "label text new_group_id member_ids ids kind status state").split()
IDS = {  # a route parameter's name: the service and query that give real values for it
    "consultation_id": ("intake", "SELECT id FROM consultations"),
    "comment_id": ("review", "SELECT id FROM comments ORDER BY id LIMIT 3"),
    "group_id": ("review", "SELECT id FROM comment_groups LIMIT 2"),
    "document_id": ("documents", "SELECT id FROM documents"),
    "mail_id": ("intake", "SELECT id FROM inbound_mails LIMIT 2"),
    "submission_id": ("review", "SELECT DISTINCT submission_id FROM comments LIMIT 2"),
    "reference": ("intake", "SELECT reference FROM submissions LIMIT 2"),
    "notification_id": ("notify", "SELECT id FROM notifications LIMIT 2"),
    "user_id": ("review", "SELECT id FROM staff_users LIMIT 2"),
}


def real_ids(system) -> dict[str, list[str]]:
    found = {"number": ["1", "2"], "service": ["intake", "review"]}
    for name, (service, query) in IDS.items():
        with system.contexts[service].db.engine.connect() as conn:
            found[name] = [str(row[0]) for row in conn.execute(text(query))]
    return found


def urls(rule, ids: dict[str, list[str]]):
    """The rule with real values for its parameters (at most three combinations); "x" where none is known."""
    names = re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", rule.rule)
    for combination in itertools.islice(itertools.product(*(ids.get(name) or ["x"] for name in names)), 3):
        url = rule.rule
        for name, value in zip(names, combination):
            url = re.sub(rf"<(?:[a-z]+:)?{name}>", value, url, count=1)
        yield url


@contextlib.contextmanager
def demo_system(tmp_path, postgres):
    """The embedded system on PostgreSQL with the demo's data, and the ids of its records."""
    from services.demo import load_demo
    from services.embedded import start_system

    system = start_system(settings_for(tmp_path, postgres, broker="memory://"))
    try:
        load_demo(system, samples=True)
        deadline = time.monotonic() + 30  # the sample comments reach review through the in-process broker
        while not real_ids(system)["comment_id"] and time.monotonic() < deadline:
            time.sleep(0.2)
        ids = real_ids(system)
        assert all(ids[name] for name in ("consultation_id", "comment_id", "document_id", "mail_id", "user_id")), ids
        yield system, ids
    finally:
        system.stop()


def admin_clients(system):
    """Each service's test client, with an admin's bearer token."""
    for service, app in system.wsgi.apps.items():
        token = system.contexts[service].signer.issue("u-admin", "admin@um.example", "admin")
        yield app, app.test_client(), {"Authorization": f"Bearer {token}"}


def test_every_page_and_page_form_on_postgresql_with_the_demo_data(tmp_path, postgres):
    with demo_system(tmp_path, postgres) as (system, ids):
        rendered = posted = 0
        for app, client, headers in admin_clients(system):
            for rule in app.url_map.iter_rules():
                if rule.endpoint.endswith("static"):
                    continue
                for url in urls(rule, ids):
                    if "GET" in rule.methods:
                        status = client.get(url, headers=headers).status_code
                        assert status < 500, ("GET", url, status)
                        rendered += status == 200
                    if "POST" in rule.methods and "/api/" not in rule.rule and not rule.rule.endswith("/logout"):
                        for value in HOSTILE:
                            status = client.post(url, data=dict.fromkeys(FIELDS, value), headers=headers).status_code
                            assert status < 500, ("POST", url, value[:20], status)
                            posted += 1
        assert rendered >= 80 and posted >= 400, (rendered, posted)
