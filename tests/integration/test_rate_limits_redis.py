"""Rate-limit counts shared through the real Redis: two app instances (two processes' worth) count together."""

from __future__ import annotations

import pytest

from services.common.db import upgrade
from services.common.ratelimit import RateLimits
from services.common.settings import load_settings
from services.intake import app as intake_app
from tests.unit.intake_pages.helpers import open_consultation

pytestmark = pytest.mark.redis


def test_two_limiters_on_one_redis_share_the_count(redis):
    namespace = redis.namespace()
    first = RateLimits(redis.url, client="3/minute", recipient="off", namespace=namespace)
    second = RateLimits(redis.url, client="3/minute", recipient="off", namespace=namespace)
    first.check("submission", client="203.0.113.1", recipient=None)
    second.check("submission", client="203.0.113.1", recipient=None)
    first.check("submission", client="203.0.113.1", recipient=None)
    from services.common.ratelimit import RateLimited

    with pytest.raises(RateLimited):
        second.check("submission", client="203.0.113.1", recipient=None)
    assert redis.keys(namespace), "the counts live in Redis"


def test_two_intake_apps_with_uwagi_redis_url_refuse_the_recipients_third_receipt(redis, tmp_path):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_REDIS_URL": redis.url,
                              "UWAGI_RATE_LIMIT_CLIENT": "off", "UWAGI_RATE_LIMIT_RECIPIENT": "2/hour"})
    upgrade("intake", settings.database_url("intake"))
    apps = [intake_app.create_app(ctx=intake_app.build(settings)) for _ in range(2)]
    try:
        namespace = redis.namespace()
        for app in apps:
            limits = app.extensions["uwagi_rate_limits"]
            assert limits.storage_uri == redis.url
            limits.namespace = namespace  # this test's own keys in the shared Redis
        consultation = open_consultation(apps[0])
        url = f"/intake/api/v1/consultations/{consultation.id}/submissions"
        body = {"submitter": {"name": "Anna Kowalska", "email": "anna@example.org", "publish_consent": False},
                "comments": [{"section": "§ 1", "proposal": "Dodać słowniczek."}]}
        statuses = [apps[n % 2].test_client().post(url, json=body).status_code for n in range(3)]
        assert statuses == [201, 201, 429]
        refused = apps[0].test_client().post(url, json=body)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    finally:
        for app in apps:
            app.extensions["uwagi"].close()
