"""`uwagi users …` (services/review/cli.py): the operator's way to create, deactivate and reactivate staff,
checked by what the printed token can still do on review's API."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from sqlalchemy import select

from services.common.db import upgrade
from services.common.settings import load_settings
from services.review import cli
from services.review.app import build, create_app
from services.review.models import AuditEntry, Outbox, StaffUser


@pytest.fixture
def settings(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The CLI reads its settings from the environment, as on a server."""
    for name in ("UWAGI_BROKER_URL", "REVIEW_DATABASE_URL", "UWAGI_S3_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("UWAGI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("UWAGI_SECRET_KEY", "unit-test-secret-key-0123456789")
    loaded = load_settings()
    upgrade("review", loaded.database_url("review"))
    return loaded


@pytest.fixture
def api(settings: Any) -> Iterator[Any]:
    ctx = build(settings)
    client = create_app(ctx=ctx).test_client()

    def status(token: str) -> int:
        return client.get("/review/api/v1/comments", headers={"Authorization": f"Bearer {token}"}).status_code

    yield status
    ctx.close()


def users(settings: Any, *args: str) -> int:
    return cli.main(["uwagi users", *args])


def stored_user(settings: Any, email: str) -> StaffUser:
    ctx = build(settings)
    try:
        with ctx.db.transaction() as session:
            return session.scalar(select(StaffUser).where(StaffUser.email == email))
    finally:
        ctx.close()


def test_create_prints_a_working_token_and_deactivate_ends_it_at_once(settings, api, capsys):
    assert users(settings, "create", "--email", " Ewa.Nowak@UM.example.pl ", "--role", "reviewer",
                 "--name", "Ewa Nowak") == 0
    printed = capsys.readouterr()
    token = printed.out.strip()
    assert "user ewa.nowak@um.example.pl (reviewer)" in printed.err  # stored normalised
    assert api(token) == 200

    assert users(settings, "deactivate", "--email", "ewa.nowak@um.example.pl") == 0
    assert "is deactivated" in capsys.readouterr().err
    assert api(token) == 401
    assert stored_user(settings, "ewa.nowak@um.example.pl").active is False

    # Reactivation does not bring back the tokens issued before: that generation is revoked for good.
    assert users(settings, "activate", "--email", "ewa.nowak@um.example.pl") == 0
    assert "is active" in capsys.readouterr().err
    assert api(token) == 401
    assert users(settings, "create", "--email", "ewa.nowak@um.example.pl", "--role", "reviewer") == 0
    assert api(capsys.readouterr().out.strip()) == 200


def test_every_change_is_audited_as_the_cli_and_announced_to_the_other_services(settings, capsys):
    users(settings, "create", "--email", "k@um.example.pl", "--role", "coordinator")
    users(settings, "deactivate", "--email", "k@um.example.pl")
    users(settings, "create", "--email", "k@um.example.pl", "--role", "admin")  # back, with another role
    ctx = build(settings)
    try:
        with ctx.db.transaction() as session:
            actions = [(e.actor, e.action) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
            announced = [(o.envelope["data"]["role"], o.envelope["data"]["active"], o.envelope["data"]["generation"])
                         for o in session.scalars(select(Outbox).where(Outbox.event_type == "staff.changed")
                                                  .order_by(Outbox.id))]
    finally:
        ctx.close()
    assert actions == [("cli", "user.created"), ("cli", "user.deactivated"), ("cli", "user.updated")]
    # Each revoking change raises the generation every service checks tokens against.
    assert announced == [("coordinator", True, 1), ("coordinator", False, 2), ("admin", True, 3)]


def test_an_unknown_user_a_weak_password_and_a_bad_role_are_refused_with_a_message(settings, capsys):
    assert users(settings, "deactivate", "--email", "nikt@um.example.pl") == 1
    assert "uwagi users deactivate: no staff user has this e-mail address" in capsys.readouterr().err
    assert users(settings, "create", "--email", "a@um.example.pl", "--role", "reviewer", "--password", "krótkie") == 1
    assert "the password does not meet the rules" in capsys.readouterr().err
    assert stored_user(settings, "a@um.example.pl") is None  # nothing half-created
    with pytest.raises(SystemExit) as usage:
        users(settings, "create", "--email", "a@um.example.pl", "--role", "superuser")
    assert usage.value.code == 2 and "invalid choice: 'superuser'" in capsys.readouterr().err


def test_a_broken_environment_is_reported_not_raised(settings, monkeypatch, capsys):
    monkeypatch.setenv("UWAGI_RELAY_INTERVAL", "often")
    assert users(settings, "create", "--email", "a@um.example.pl", "--role", "reviewer") == 2
    assert "UWAGI_RELAY_INTERVAL" in capsys.readouterr().err
