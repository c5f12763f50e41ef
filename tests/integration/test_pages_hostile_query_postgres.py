"""Every GET route of the four services, pages included, answers hostile query strings on PostgreSQL without a 5xx.

schemathesis fuzzes the APIs (tests/integration/test_api_fuzzing_postgres.py); the pages have no OpenAPI document,
so here each GET route gets the query keys the views and schemas read, all at once with one hostile value, and one
key at a time with a number beyond every integer type. PostgreSQL refuses what SQLite stores (numbers beyond its
integers, impossible dates), so only the real server can show a 500 there. Staff routes are reached with an admin's
token; a route's own 404 or 422 for a made-up id is fine, a 5xx is not.
"""

from __future__ import annotations

import importlib
import re

import pytest

from services.common.db import upgrade
from services.common.settings import SERVICES
from tests.integration.test_postgres import settings_for

pytestmark = [pytest.mark.postgres]

HUGE = "10754705582444396137000000000"
VALUES = (HUGE, "2147483648", "-1", "abc", "ż" * 3000, "9999-99-99", "2026-02-30", "", "a\x00b",
          "'; DROP TABLE comments; --")
KEYS = ("consultation", "consultation_id", "page", "per_page", "limit", "offset", "reference", "token", "lang", "unit",
        "template", "status", "state", "decision", "q", "search", "sort", "order", "pos", "next", "new", "layout",
        "filename", "done", "booking", "topic", "reviewer", "group", "date", "from", "to", "day")


@pytest.mark.parametrize("service", SERVICES)
def test_every_get_route_survives_hostile_query_strings(tmp_path, postgres, service):
    settings = settings_for(tmp_path, postgres, broker="memory://")
    upgrade(service, settings.database_url(service))
    module = importlib.import_module(f"services.{service}.app")
    context = module.build(settings)
    try:
        client = module.create_app(ctx=context).test_client()
        headers = {"Authorization": f"Bearer {context.signer.issue('u-admin', 'admin@um.example', 'admin')}"}
        routes = [re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "x", rule.rule) for rule in client.application.url_map.iter_rules()
                  if "GET" in rule.methods and not rule.endpoint.endswith("static")]
        queries = [dict.fromkeys(KEYS, value) for value in VALUES] + [{key: HUGE} for key in KEYS]
        answered = 0
        for route in routes:
            for query in queries:
                status = client.get(route, query_string=query, headers=headers).status_code
                assert status < 500, (route, query if len(query) == 1 else next(iter(query.values()))[:30], status)
                answered += status == 200
        assert len(routes) >= 5 and answered >= len(routes)  # pages rendered, not only refused
    finally:
        context.close()
