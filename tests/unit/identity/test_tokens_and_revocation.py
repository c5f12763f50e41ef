"""Bearer tokens expire and carry a generation; the staff directory refuses revoked identities."""

from __future__ import annotations

from typing import Any

import pytest

from services.common.auth import StaffIdentity, TokenSigner, make_signer
from services.common.events import new_envelope, parse_envelope
from services.common.settings import SettingsError, load_settings, parse_duration
from services.common.staff_directory import (
    StaffStanding,
    identity_is_current,
    should_apply,
    staff_changed_handler,
    with_staff_directory,
)

SECRET = "unit-test-secret-key-0123456789"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_token_is_valid_until_its_exp_claim():
    clock = Clock()
    signer = TokenSigner(SECRET, ttl=3600, clock=clock)
    token = signer.issue("u-1", "anna@um.example", "reviewer", generation=3)
    assert signer.verify(token) == StaffIdentity("u-1", "anna@um.example", "reviewer", generation=3)
    assert signer.expires_at(token) == int(clock.now) + 3600
    clock.now += 3599
    assert signer.verify(token) is not None
    clock.now += 1
    assert signer.verify(token) is None


def test_a_token_without_expiry_or_with_a_bad_generation_is_refused():
    from itsdangerous import URLSafeSerializer

    legacy = URLSafeSerializer(SECRET, salt="uwagi-staff-token-v1")
    signer = TokenSigner(SECRET)
    assert signer.verify(legacy.dumps({"sub": "u-1", "email": "a@b", "role": "admin", "n": ""})) is None
    far = 4_000_000_000
    assert signer.verify(legacy.dumps({"sub": "u-1", "email": "a@b", "role": "admin", "exp": far, "gen": "1"})) is None
    assert signer.verify(legacy.dumps({"sub": "u-1", "email": "a@b", "role": "admin", "exp": True})) is None
    assert signer.verify(legacy.dumps({"sub": "u-1", "email": "a@b", "role": "admin", "exp": far})) is not None


def test_a_token_signed_with_another_secret_is_refused():
    token = TokenSigner("another-secret-key-0123456789").issue("u-1", "a@b", "admin")
    assert TokenSigner(SECRET).verify(token) is None


def test_the_demo_token_stays_fixed_and_never_expires():
    clock = Clock()
    signer = make_signer(SECRET, "demo-token-for-scripts", ttl=60)
    signer._clock = clock  # type: ignore[attr-defined]
    clock.now += 10 ** 8
    identity = signer.verify("demo-token-for-scripts")
    assert identity is not None and identity.role == "coordinator"


@pytest.mark.parametrize("raw, seconds", [("3600", 3600), ("90m", 5400), ("12h", 43200), ("30d", 2592000)])
def test_token_lifetime_accepts_seconds_and_units(raw, seconds):
    assert parse_duration("UWAGI_TOKEN_TTL", raw) == seconds


@pytest.mark.parametrize("raw", ["12 hours", "-5", "h", "10", "1.5h"])
def test_token_lifetime_rejects_nonsense_and_too_short_values(tmp_path, raw):
    with pytest.raises(SettingsError, match="UWAGI_TOKEN_TTL"):
        load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_TOKEN_TTL": raw})


def test_settings_carry_the_token_lifetime_into_the_signer(tmp_path):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_TOKEN_TTL": "2h"})
    assert settings.token_ttl == 7200
    assert make_signer(settings.secret_key, None, settings.token_ttl).ttl == 7200


def test_a_short_demo_password_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="UWAGI_DEMO_PASSWORD"):
        load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_DEMO_PASSWORD": "short"})


def identity(generation: int) -> StaffIdentity:
    return StaffIdentity("u-1", "anna@um.example", "coordinator", generation=generation)


def test_the_directory_refuses_an_older_generation_and_an_inactive_user():
    assert identity_is_current(identity(2), StaffStanding(active=True, generation=2))
    assert identity_is_current(identity(3), StaffStanding(active=True, generation=2))
    assert not identity_is_current(identity(1), StaffStanding(active=True, generation=2))
    assert not identity_is_current(identity(5), StaffStanding(active=False, generation=2))


def test_the_directory_vetoes_but_does_not_vouch_for_users_it_has_not_heard_of():
    assert identity_is_current(identity(1), None)


def test_staff_events_apply_in_generation_order():
    assert should_apply(None, 1)
    assert should_apply(2, 3)
    assert should_apply(2, 2)  # a re-announcement of the same generation (e.g. a new name)
    assert not should_apply(3, 2)


def staff_event(generation: int, *, role: str = "reviewer", active: bool = True) -> Any:
    return parse_envelope(new_envelope("staff.changed", {
        "user_id": "u-1", "email": "anna@um.example", "name": "Anna", "role": role, "active": active,
        "generation": generation}, producer="review"))


def test_the_staff_changed_handler_keeps_the_newest_generation(tmp_path):
    from services.common.db import Database, service_tables
    from services.common.staff_directory import staff_directory_table

    base, *_ = service_tables()
    model = staff_directory_table(base)
    db = Database(f"sqlite:///{tmp_path / 'dir.db'}")
    base.metadata.create_all(db.engine)
    handler = staff_changed_handler(model)
    try:
        for event in (staff_event(1), staff_event(3, role="coordinator", active=False), staff_event(2, role="admin")):
            with db.transaction() as session:
                handler(event, session)
        with db.transaction() as session:
            row = session.get(model, "u-1")
            assert (row.role, row.active, row.generation) == ("coordinator", False, 3)
    finally:
        db.dispose()


def test_the_handler_has_a_stable_inbox_name_and_joins_a_services_handlers():
    from services.common.bus import handler_name

    combined = with_staff_directory({"comment.decided": [print]}, object)
    assert handler_name(combined["staff.changed"][0]) == "services.common.staff_directory.on_staff_changed"
    assert combined["comment.decided"] == [print]


def test_every_service_but_review_consumes_staff_changes():
    import importlib

    for service in ("intake", "documents", "notify"):
        spec = importlib.import_module(f"services.{service}.worker").worker_spec()
        assert "staff.changed" in spec.handlers, service
