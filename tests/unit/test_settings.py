from pathlib import Path

import pytest

from services.common.settings import KNOWN_VARIABLES, SettingsError, load_settings


def test_defaults_give_the_embedded_mode(tmp_path: Path):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path)})
    assert settings.broker_url == "memory://"
    assert settings.database_url("intake") == f"sqlite:///{tmp_path / 'intake.db'}"
    assert settings.s3 is None and settings.smtp is None
    assert str(settings.timezone) == "Europe/Warsaw"
    assert settings.port == 8000
    # The embedded secret is generated once and kept, so tokens survive restarts.
    assert load_settings({"UWAGI_DATA_DIR": str(tmp_path)}).secret_key == settings.secret_key


def test_real_servers_are_chosen_by_environment(tmp_path: Path):
    settings = load_settings({
        "UWAGI_DATA_DIR": str(tmp_path), "UWAGI_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
        "REVIEW_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1/review", "UWAGI_SECRET_KEY": "x" * 32,
        "UWAGI_S3_ENDPOINT": "127.0.0.1:9000", "UWAGI_S3_ACCESS_KEY": "a", "UWAGI_S3_SECRET_KEY": "b",
        "UWAGI_SMTP_HOST": "127.0.0.1", "UWAGI_SMTP_PORT": "1025", "UWAGI_SMTP_STARTTLS": "yes",
    })
    assert settings.database_url("review").startswith("postgresql+psycopg://")
    assert settings.s3.endpoint == "127.0.0.1:9000" and settings.s3.bucket == "uwagi"
    assert settings.smtp.port == 1025 and settings.smtp.starttls is True


@pytest.mark.parametrize("name, value, expected", [
    ("UWAGI_SMTP_STARTTLS", "yes please", "is not a boolean"),
    ("UWAGI_PORT", "eighty", "is not a whole number"),
    ("UWAGI_PORT", "70000", "above the maximum"),
    ("UWAGI_TIMEZONE", "Europe/Torun", "is not an IANA time zone"),
    ("UWAGI_BROKER_URL", "redis://localhost", "must start with one of"),
    ("INTAKE_DATABASE_URL", "mysql://x", "must start with one of"),
    ("UWAGI_S3_ENDPOINT", "no-port-here", "must be host:port"),
    ("UWAGI_LOG_LEVEL", "LOUD", "UWAGI_LOG_LEVEL"),
    ("UWAGI_MAIL_BANNERS", "UWAGA", "the gateway's whole warning"),
    ("UWAGI_MAIL_BANNERS", "UWAGA: Wiadomość pochodzi spoza Urzędu.||Uwaga!", "'Uwaga!'"),
    ("UWAGI_STAFF_DIGEST_HOUR", "24", "above the maximum"),
    ("UWAGI_STAFF_DIGEST_HOUR", "7:00", "is not a whole number"),
])
def test_nonsense_is_rejected_with_a_clear_message(tmp_path: Path, name, value, expected):
    env = {"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_SMTP_HOST": "127.0.0.1", name: value}
    with pytest.raises(SettingsError, match=expected):
        load_settings(env)


def test_the_mail_gateways_warnings_are_read_one_by_one(tmp_path: Path):
    settings = load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_MAIL_BANNERS":
                              "UWAGA: Wiadomość pochodzi\n spoza Urzędu. || ||CAUTION: external sender, take care."})
    assert settings.mail_banners == ("UWAGA: Wiadomość pochodzi spoza Urzędu.", "CAUTION: external sender, take care.")
    assert load_settings({"UWAGI_DATA_DIR": str(tmp_path)}).mail_banners == ()


def test_all_problems_are_reported_at_once(tmp_path: Path):
    with pytest.raises(SettingsError) as error:
        load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_PORT": "x", "UWAGI_TIMEZONE": "Mars/Olympus"})
    assert "UWAGI_PORT" in str(error.value) and "UWAGI_TIMEZONE" in str(error.value)


def test_a_secret_key_is_required_when_services_run_apart(tmp_path: Path):
    with pytest.raises(SettingsError, match="UWAGI_SECRET_KEY is required"):
        load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_BROKER_URL": "amqp://127.0.0.1//"})


def test_every_documented_variable_is_in_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = sorted(name for name in KNOWN_VARIABLES if f"`{name}`" not in readme)
    assert not missing, f"README configuration table lacks: {missing}"


def test_the_staff_digest_is_sent_only_when_an_hour_is_set(tmp_path: Path):
    assert load_settings({"UWAGI_DATA_DIR": str(tmp_path)}).staff_digest_hour is None
    assert load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_STAFF_DIGEST_HOUR": "off"}).staff_digest_hour is None
    assert load_settings({"UWAGI_DATA_DIR": str(tmp_path), "UWAGI_STAFF_DIGEST_HOUR": "7"}).staff_digest_hour == 7
