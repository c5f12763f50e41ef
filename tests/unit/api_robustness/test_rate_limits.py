"""Rate limits of the public calls that mail an address the caller chose: per client, per recipient, 429."""

from __future__ import annotations

import pytest

from services.common.db import upgrade
from services.common.ratelimit import RateLimited, RateLimits, normalise_address, parse_limits
from services.common.settings import SettingsError, load_settings
from services.intake import app as intake_app
from tests.unit.intake_pages.helpers import open_consultation


def test_addresses_are_counted_per_mailbox_whatever_the_case_or_tag():
    assert normalise_address(" Anna.K+uwagi@Example.ORG ") == "anna.k@example.org"
    assert normalise_address("anna.k@example.org") == "anna.k@example.org"
    assert normalise_address("not-an-address") == "not-an-address"


def test_limits_read_like_flask_limiter_and_off_disables_them():
    assert [str(item) for item in parse_limits("2/minute;10/hour")] == ["2 per 1 minute", "10 per 1 hour"]
    assert parse_limits("off") == [] and parse_limits("") == []


def test_a_typo_in_a_limit_stops_the_start(tmp_path):
    with pytest.raises(SettingsError, match="UWAGI_RATE_LIMIT_CLIENT"):
        load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_RATE_LIMIT_CLIENT": "twenty a minute"})
    with pytest.raises(SettingsError, match="UWAGI_REDIS_URL"):
        load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_REDIS_URL": "127.0.0.1:6379"})
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_RATE_LIMIT_RECIPIENT": "off",
                              "UWAGI_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert settings.rate_limit_recipient == "off" and settings.redis_url == "redis://127.0.0.1:6379/0"
    assert load_settings({"UWAGI_DATA_DIR": str(tmp_path)}).rate_limit_client == "20/minute;200/hour"


def test_the_client_limit_counts_one_client_and_says_when_to_come_back():
    limits = RateLimits("memory://", client="2/minute", recipient="off")
    limits.check("submission", client="10.0.0.1", recipient="a@example.org")
    limits.check("submission", client="10.0.0.1", recipient="b@example.org")
    limits.check("submission", client="10.0.0.2", recipient="c@example.org")  # another client has its own count
    with pytest.raises(RateLimited) as refused:
        limits.check("submission", client="10.0.0.1", recipient="d@example.org")
    assert refused.value.status == 429
    assert refused.value.details["scope"] == "client"
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60


def test_the_recipient_limit_follows_the_address_across_clients_and_actions_count_apart():
    limits = RateLimits("memory://", client="off", recipient="1/hour")
    limits.check("submission", client="10.0.0.1", recipient="ewa@example.org")
    limits.check("booking", client="10.0.0.1", recipient="ewa@example.org")  # bookings have their own count
    with pytest.raises(RateLimited) as refused:
        limits.check("submission", client="10.0.0.9", recipient="EWA+second@example.org")
    assert refused.value.details["scope"] == "recipient"
    limits.check("submission", client="10.0.0.9", recipient=None)  # no address, no recipient count


def test_an_unreachable_shared_storage_lets_calls_through(caplog):
    limits = RateLimits("redis://127.0.0.1:1/0", client="1/minute", recipient="1/minute")
    for _ in range(3):
        limits.check("submission", client="10.0.0.1", recipient="a@example.org")
    assert "unavailable" in caplog.text


@pytest.fixture
def limited_app(tmp_path):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_RATE_LIMIT_CLIENT": "3/minute",
                              "UWAGI_RATE_LIMIT_RECIPIENT": "2/hour", "UWAGI_TRUSTED_PROXIES": "1"})
    upgrade("intake", settings.database_url("intake"))
    app = intake_app.create_app(ctx=intake_app.build(settings))
    yield app
    app.extensions["uwagi"].close()


def submission(email: str) -> dict:
    return {"submitter": {"name": "Anna Kowalska", "email": email, "publish_consent": False},
            "comments": [{"section": "§ 1", "proposal": "Dodać słowniczek."}]}


def test_the_api_answers_429_with_retry_after_per_client_and_per_recipient(limited_app):
    consultation = open_consultation(limited_app)
    client = limited_app.test_client()
    url = f"/intake/api/v1/consultations/{consultation.id}/submissions"
    # Behind one trusted proxy the client is the last X-Forwarded-For address.
    ok = [client.post(url, json=submission(f"o{n}@example.org"), headers={"X-Forwarded-For": "203.0.113.7"})
          for n in range(3)]
    assert [r.status_code for r in ok] == [201, 201, 201]
    over = client.post(url, json=submission("o9@example.org"), headers={"X-Forwarded-For": "203.0.113.7"})
    assert over.status_code == 429
    assert int(over.headers["Retry-After"]) >= 1
    body = over.get_json()
    assert body["error"] == "too_many_requests" and body["errors"]["scope"] == "client"
    assert "try again" in body["message"]

    # One stranger's mailbox, from many addresses: the third receipt to it is refused.
    statuses = [client.post(url, json=submission("Victim+x@example.org"),
                            headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(3)]
    assert statuses == [201, 201, 429]


def test_bookings_are_limited_by_the_same_rules(limited_app):
    from tests.unit.intake_bookings.test_bookings import future_day

    consultation = open_consultation(limited_app, duty_days=(future_day(),))
    client = limited_app.test_client()
    slots = client.get(f"/intake/api/v1/consultations/{consultation.id}/slots").get_json()
    url = f"/intake/api/v1/consultations/{consultation.id}/bookings"
    statuses = [client.post(url, json={"slot_id": slot["id"], "name": "Jan Nowak", "email": "jan@example.org"},
                            headers={"X-Forwarded-For": f"192.0.2.{n}"}).status_code for n, slot in enumerate(slots[:3])]
    assert statuses == [201, 201, 429]
