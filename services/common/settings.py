"""Typed settings, read once from the environment by `load_settings`.

Every variable the system understands is declared in `VARIABLES`; the README's
configuration table and the docker-compose test are checked against it. Parsers
raise `SettingsError` on nonsense instead of guessing ("yes please" is not a
boolean), so a misconfigured deployment fails at start-up with a clear message.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SERVICES = ("intake", "review", "documents", "notify")


class SettingsError(ValueError):
    """A variable is present but its value cannot be used."""


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean (use true/false, yes/no, on/off or 1/0)")


def parse_int(name: str, raw: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name}={value} is above the maximum {maximum}")
    return value


def parse_float(name: str, raw: str, *, minimum: float = 0.0, maximum: float | None = None) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not math.isfinite(value):
        raise SettingsError(f"{name}={raw!r} is not a finite number")
    if value < minimum:
        raise SettingsError(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name}={value} is above the maximum {maximum}")
    return value


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(name: str, raw: str, *, minimum: int = 1) -> int:
    """Seconds from `3600`, `90m`, `12h` or `30d`."""
    value = raw.strip().lower()
    unit = value[-1:] if value[-1:] in _DURATION_UNITS else "s"
    number = value[:-1] if value[-1:] in _DURATION_UNITS else value
    if not number.isdecimal():
        raise SettingsError(f"{name}={raw!r} is not a duration (use seconds, or a number with s, m, h or d: 12h)")
    seconds = int(number) * _DURATION_UNITS[unit]
    if seconds < minimum:
        raise SettingsError(f"{name}={raw!r} is shorter than the minimum of {minimum} seconds")
    return seconds


def parse_url(name: str, raw: str, *, schemes: tuple[str, ...]) -> str:
    value = raw.strip()
    scheme = urlsplit(value).scheme
    if scheme not in schemes:
        raise SettingsError(f"{name}={raw!r} must start with one of: {', '.join(s + '://' for s in schemes)}")
    return value


def parse_timezone(name: str, raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"{name}={raw!r} is not an IANA time zone such as Europe/Warsaw") from None


def parse_host_port(name: str, raw: str) -> str:
    value = raw.strip()
    if "://" in value:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise SettingsError(f"{name}={raw!r} must be host:port or an http(s) URL")
        return value
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdecimal():
        raise SettingsError(f"{name}={raw!r} must be host:port, for example 127.0.0.1:9000")
    return value


MIN_BANNER_CHARS = 20


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    default: str


# The single list of every environment variable Uwagi reads.
VARIABLES: tuple[Variable, ...] = (
    Variable("UWAGI_BROKER_URL", "Message broker; `memory://` runs in-process, `amqp://user:pass@host:5672//` uses RabbitMQ.", "memory://"),
    *(
        Variable(
            f"{svc.upper()}_DATABASE_URL",
            f"SQLAlchemy URL of the {svc} service's own database (`postgresql+psycopg://…` or `sqlite:///…`).",
            f"sqlite:///$UWAGI_DATA_DIR/{svc}.db",
        )
        for svc in SERVICES
    ),
    Variable("UWAGI_S3_ENDPOINT", "S3 endpoint `host:port` (or http(s) URL); unset keeps objects in `$UWAGI_DATA_DIR/objects`.", ""),
    Variable("UWAGI_S3_ACCESS_KEY", "S3 access key.", ""),
    Variable("UWAGI_S3_SECRET_KEY", "S3 secret key.", ""),
    Variable("UWAGI_S3_BUCKET", "S3 bucket; created with versioning on if missing.", "uwagi"),
    Variable("UWAGI_S3_SECURE", "Use HTTPS for S3.", "false"),
    Variable("UWAGI_SMTP_HOST", "SMTP server; unset writes mail as `.eml` files to `$UWAGI_DATA_DIR/mail`.", ""),
    Variable("UWAGI_SMTP_PORT", "SMTP port.", "25"),
    Variable("UWAGI_SMTP_USER", "SMTP user (optional).", ""),
    Variable("UWAGI_SMTP_PASSWORD", "SMTP password (optional).", ""),
    Variable("UWAGI_SMTP_STARTTLS", "Upgrade the SMTP connection with STARTTLS.", "false"),
    Variable("UWAGI_MAIL_FROM", "Sender address of outgoing mail.", "konsultacje@example.org"),
    Variable("UWAGI_IMAP_HOST", "IMAP server of the consultation mailbox; unset: no polling (in `make run`, drop `.eml` files into `$UWAGI_DATA_DIR/inbox`).", ""),
    Variable("UWAGI_IMAP_PORT", "IMAP port.", "993 with SSL, else 143"),
    Variable("UWAGI_IMAP_USER", "IMAP user (required with a host).", ""),
    Variable("UWAGI_IMAP_PASSWORD", "IMAP password (required with a host).", ""),
    Variable("UWAGI_IMAP_MAILBOX", "Mailbox (folder) to poll.", "INBOX"),
    Variable("UWAGI_IMAP_SSL", "Connect with implicit TLS (IMAPS).", "true"),
    Variable("UWAGI_IMAP_INTERVAL", "Seconds between polls of the mailbox.", "60"),
    Variable("UWAGI_OCR_LANGUAGES", "Tesseract languages that read scanned letters and photographed pages in mail for staff (`pol+eng`); `off` reads none. Needs `tesseract-ocr` with those languages' data.", "pol+eng"),
    Variable("UWAGI_MAIL_MAX_MB", "Largest accepted incoming e-mail, in MiB; a larger one is refused unread.", "25"),
    Variable("UWAGI_MAIL_BANNERS", "The warning(s) the city's mail gateway writes into mail from outside, word for word (`UWAGA: Wiadomość pochodzi spoza Urzędu…`), several joined by `||`: taken out of residents' text wherever they stand. English warnings of the usual shape (\"CAUTION: This email originated from outside… do not click links or open attachments…\") go without it.", ""),
    Variable("UWAGI_SECRET_KEY", "Signs staff tokens, status links and sessions. Required outside the embedded mode.", "(random per data dir)"),
    Variable("UWAGI_TIMEZONE", "Local time zone of deadlines and duty hours.", "Europe/Warsaw"),
    Variable("UWAGI_DATA_DIR", "Folder for SQLite files, objects and the mail outbox in the embedded mode.", "./var"),
    Variable("UWAGI_PORT", "Port of `make run`.", "8000"),
    Variable("UWAGI_PUBLIC_URL", "Base URL people use to reach the system (links in e-mails).", "http://127.0.0.1:$UWAGI_PORT"),
    Variable("UWAGI_DEMO_TOKEN", "Fixed staff token of the demo coordinator in `make run`.", ""),
    Variable("UWAGI_DEMO_PASSWORD", "Fixed password of the demo staff users in `make run`.", "(random, kept in `$UWAGI_DATA_DIR/demo_password`)"),
    Variable("UWAGI_TOKEN_TTL", "Lifetime of a staff bearer token: seconds, or a number with s, m, h or d.", "12h"),
    Variable("UWAGI_RELAY_INTERVAL", "Seconds between outbox sweeps.", "2"),
    Variable("UWAGI_BATCH_WINDOW", "Seconds a busy relay or consumer gathers events into one batch (0 turns batching by time off); an idle one acts at once.", "0.15"),
    Variable("UWAGI_MAX_UPLOAD_MB", "Largest accepted request body, in MiB.", "20"),
    Variable("UWAGI_LOG_LEVEL", "Logging level.", "INFO"),
    Variable("UWAGI_REDIS_URL", "Redis shared by the processes for rate-limit counts (`redis://127.0.0.1:6379/0`); unset: each process counts in memory.", ""),
    Variable("UWAGI_RATE_LIMIT_CLIENT", "Public submissions and bookings per client address (`N/second|minute|hour|day`, several joined by `;`, or `off`).", "20/minute;200/hour"),
    Variable("UWAGI_RATE_LIMIT_RECIPIENT", "Public submissions and bookings per receipt e-mail address (same syntax).", "5/hour;20/day"),
    Variable("UWAGI_LOG_FORMAT", "`json`: one JSON object a log line, with the correlation id; `text`: plain lines.", "text"),
    Variable("UWAGI_METRICS_TOKEN", "Bearer token Prometheus sends for `/<service>/metrics` and the workers' metrics port (at least 16 characters); unset: only admins read the web metrics.", ""),
    Variable("UWAGI_METRICS_PORT", "Port on which a worker serves `/metrics`; unset: no metrics port.", ""),
    Variable("UWAGI_METRICS_HOST", "Address the worker's metrics port binds to.", "127.0.0.1"),
    Variable("UWAGI_STAFF_DIGEST_HOUR", "Local hour (0–23) from which review e-mails each staff user, on working days, the work waiting for them; unset or `off`: no digest.", ""),
    Variable("UWAGI_TRUSTED_PROXIES", "How many reverse proxies in front of the web processes to trust for X-Forwarded-* (client address, scheme, host).", "0"),
)
KNOWN_VARIABLES = frozenset(v.name for v in VARIABLES)


@dataclass(frozen=True)
class S3Settings:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    secure: bool


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str
    password: str
    starttls: bool


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    user: str
    password: str
    mailbox: str
    ssl: bool
    interval: float


@dataclass(frozen=True)
class Settings:
    broker_url: str
    database_urls: Mapping[str, str]
    data_dir: Path
    secret_key: str
    timezone: ZoneInfo
    port: int
    public_url: str
    mail_from: str
    relay_interval: float
    max_upload_bytes: int
    log_level: str
    trusted_proxies: int = 0
    batch_window: float = 0.15
    demo_token: str | None = None
    demo_password: str | None = None
    token_ttl: int = 12 * 3600
    s3: S3Settings | None = None
    smtp: SmtpSettings | None = None
    imap: ImapSettings | None = None
    max_mail_bytes: int = 25 * 1024 * 1024
    mail_banners: tuple[str, ...] = ()  # a mail gateway's warnings, taken out of residents' text
    ocr_languages: str | None = "pol+eng"  # None: scans are not read
    redis_url: str | None = None
    rate_limit_client: str = "20/minute;200/hour"
    rate_limit_recipient: str = "5/hour;20/day"
    log_format: str = "text"
    metrics_token: str | None = None
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    staff_digest_hour: int | None = None  # local hour of review's morning digest to staff; None: not sent

    @property
    def embedded_broker(self) -> bool:
        return self.broker_url.startswith("memory://")

    def database_url(self, service: str) -> str:
        return self.database_urls[service]


def _secret_for(data_dir: Path) -> str:
    """A random key kept in the data dir, so embedded tokens survive restarts."""
    import secrets

    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


_OCR_LANGUAGES = re.compile(r"^[a-z_]{3,20}(?:\+[a-z_]{3,20}){0,4}$")


def valid_ocr_languages(raw: str) -> bool:
    """Tesseract's language list: "pol", "pol+eng" (at most five, names of its data files)."""
    return bool(_OCR_LANGUAGES.match(raw))


def parse_rate_limits(name: str, raw: str) -> str:
    """"20/minute;200/hour" or "off", checked now so that a typo stops the start, not the first request."""
    from limits import parse_many

    if raw.strip().lower() == "off":
        return "off"
    try:
        parse_many(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a list of limits like 20/minute;200/hour (or off)") from None
    return raw


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Parse the environment into `Settings`. Raises `SettingsError` listing every problem."""
    env = dict(os.environ if environ is None else environ)
    problems: list[str] = []

    def get(name: str) -> str | None:
        value = env.get(name)
        return value if value not in (None, "") else None

    def parsed(name: str, parser: Callable[[str, str], object], default: object) -> object:
        raw = get(name)
        if raw is None:
            return default
        try:
            return parser(name, raw)
        except SettingsError as exc:
            problems.append(str(exc))
            return default

    data_dir = Path(get("UWAGI_DATA_DIR") or "./var").resolve()
    broker_url = parsed(
        "UWAGI_BROKER_URL", lambda n, r: parse_url(n, r, schemes=("memory", "amqp", "pyamqp", "amqps")), "memory://"
    )
    database_urls = {}
    for svc in SERVICES:
        default = f"sqlite:///{data_dir / (svc + '.db')}"
        database_urls[svc] = parsed(
            f"{svc.upper()}_DATABASE_URL",
            lambda n, r: parse_url(n, r, schemes=("sqlite", "postgresql", "postgresql+psycopg")),
            default,
        )
    port = parsed("UWAGI_PORT", lambda n, r: parse_int(n, r, minimum=1, maximum=65535), 8000)
    timezone = parsed("UWAGI_TIMEZONE", parse_timezone, ZoneInfo("Europe/Warsaw"))
    relay_interval = parsed("UWAGI_RELAY_INTERVAL", lambda n, r: parse_float(n, r, minimum=0.05), 2.0)
    batch_window = parsed("UWAGI_BATCH_WINDOW", lambda n, r: parse_float(n, r, minimum=0.0, maximum=5.0), 0.15)
    max_upload_mb = parsed("UWAGI_MAX_UPLOAD_MB", lambda n, r: parse_int(n, r, minimum=1, maximum=1024), 20)
    trusted_proxies = parsed("UWAGI_TRUSTED_PROXIES", lambda n, r: parse_int(n, r, minimum=0, maximum=5), 0)
    token_ttl = parsed("UWAGI_TOKEN_TTL", lambda n, r: parse_duration(n, r, minimum=60), 12 * 3600)
    demo_password = get("UWAGI_DEMO_PASSWORD")
    if demo_password is not None and len(demo_password) < 10:
        problems.append("UWAGI_DEMO_PASSWORD must be at least 10 characters long")
    log_level = (get("UWAGI_LOG_LEVEL") or "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        problems.append(f"UWAGI_LOG_LEVEL={log_level!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        log_level = "INFO"

    s3 = None
    if get("UWAGI_S3_ENDPOINT"):
        endpoint = parsed("UWAGI_S3_ENDPOINT", parse_host_port, "")
        missing = [n for n in ("UWAGI_S3_ACCESS_KEY", "UWAGI_S3_SECRET_KEY") if not get(n)]
        if missing:
            problems.append(f"UWAGI_S3_ENDPOINT is set but {', '.join(missing)} is not")
        s3 = S3Settings(
            endpoint=str(endpoint),
            access_key=get("UWAGI_S3_ACCESS_KEY") or "",
            secret_key=get("UWAGI_S3_SECRET_KEY") or "",
            bucket=get("UWAGI_S3_BUCKET") or "uwagi",
            secure=bool(parsed("UWAGI_S3_SECURE", parse_bool, False)),
        )

    smtp = None
    if get("UWAGI_SMTP_HOST"):
        smtp = SmtpSettings(
            host=get("UWAGI_SMTP_HOST") or "",
            port=int(parsed("UWAGI_SMTP_PORT", lambda n, r: parse_int(n, r, minimum=1, maximum=65535), 25)),
            user=get("UWAGI_SMTP_USER") or "",
            password=get("UWAGI_SMTP_PASSWORD") or "",
            starttls=bool(parsed("UWAGI_SMTP_STARTTLS", parse_bool, False)),
        )

    imap = None
    if get("UWAGI_IMAP_HOST"):
        missing = [n for n in ("UWAGI_IMAP_USER", "UWAGI_IMAP_PASSWORD") if not get(n)]
        if missing:
            problems.append(f"UWAGI_IMAP_HOST is set but {', '.join(missing)} is not")
        imap_ssl = bool(parsed("UWAGI_IMAP_SSL", parse_bool, True))
        imap = ImapSettings(
            host=get("UWAGI_IMAP_HOST") or "",
            port=int(parsed("UWAGI_IMAP_PORT", lambda n, r: parse_int(n, r, minimum=1, maximum=65535),
                            993 if imap_ssl else 143)),
            user=get("UWAGI_IMAP_USER") or "",
            password=get("UWAGI_IMAP_PASSWORD") or "",
            mailbox=get("UWAGI_IMAP_MAILBOX") or "INBOX",
            ssl=imap_ssl,
            interval=float(parsed("UWAGI_IMAP_INTERVAL", lambda n, r: parse_float(n, r, minimum=1.0), 60.0)),
        )
    ocr_languages: str | None = (get("UWAGI_OCR_LANGUAGES") or "pol+eng").strip()
    if ocr_languages == "off":
        ocr_languages = None
    elif not valid_ocr_languages(str(ocr_languages)):
        problems.append(f"UWAGI_OCR_LANGUAGES={ocr_languages!r} must be `off` or Tesseract languages such as pol+eng")
    max_mail_mb = parsed("UWAGI_MAIL_MAX_MB", lambda n, r: parse_int(n, r, minimum=1, maximum=1024), 25)
    mail_banners = tuple(" ".join(text.split()) for text in (get("UWAGI_MAIL_BANNERS") or "").split("||")
                         if text.strip())
    for text in mail_banners:
        if len(text) < MIN_BANNER_CHARS or len(text.split()) < 3:  # "UWAGA" alone would cut residents' words
            problems.append(f"UWAGI_MAIL_BANNERS holds {text!r}: give the gateway's whole warning, at least "
                            f"{MIN_BANNER_CHARS} characters and three words")

    redis_url = parsed("UWAGI_REDIS_URL", lambda n, r: parse_url(n, r, schemes=("redis", "rediss", "unix")), None)
    rate_limits = {}
    for name, default in (("UWAGI_RATE_LIMIT_CLIENT", "20/minute;200/hour"),
                          ("UWAGI_RATE_LIMIT_RECIPIENT", "5/hour;20/day")):
        rate_limits[name] = parsed(name, parse_rate_limits, default)
    log_format = (get("UWAGI_LOG_FORMAT") or "text").lower()
    if log_format not in {"json", "text"}:
        problems.append(f"UWAGI_LOG_FORMAT={log_format!r} is not json or text")
        log_format = "text"
    metrics_token = get("UWAGI_METRICS_TOKEN")
    if metrics_token is not None and len(metrics_token) < 16:
        problems.append("UWAGI_METRICS_TOKEN must be at least 16 characters long")
    metrics_port = parsed("UWAGI_METRICS_PORT", lambda n, r: parse_int(n, r, minimum=1, maximum=65535), None)
    digest_raw = get("UWAGI_STAFF_DIGEST_HOUR")
    staff_digest_hour = None if digest_raw is None or digest_raw.strip().lower() == "off" else parsed(
        "UWAGI_STAFF_DIGEST_HOUR", lambda n, r: parse_int(n, r, minimum=0, maximum=23), None)

    secret_key = get("UWAGI_SECRET_KEY")
    if secret_key is not None and len(secret_key) < 16:
        problems.append("UWAGI_SECRET_KEY must be at least 16 characters long")
    if secret_key is None and not str(broker_url).startswith("memory://"):
        problems.append("UWAGI_SECRET_KEY is required when the services run apart (UWAGI_BROKER_URL is not memory://)")

    if problems:
        raise SettingsError("Invalid configuration:\n  - " + "\n  - ".join(problems))

    settings = Settings(
        broker_url=str(broker_url),
        database_urls=database_urls,
        data_dir=data_dir,
        secret_key=secret_key or _secret_for(data_dir),
        timezone=timezone,  # type: ignore[arg-type]
        port=int(port),  # type: ignore[arg-type]
        public_url=(get("UWAGI_PUBLIC_URL") or f"http://127.0.0.1:{port}").rstrip("/"),
        mail_from=get("UWAGI_MAIL_FROM") or "konsultacje@example.org",
        relay_interval=float(relay_interval),  # type: ignore[arg-type]
        batch_window=float(batch_window),  # type: ignore[arg-type]
        max_upload_bytes=int(max_upload_mb) * 1024 * 1024,  # type: ignore[arg-type]
        log_level=log_level,
        log_format=log_format,
        metrics_token=metrics_token,
        metrics_port=int(metrics_port) if metrics_port is not None else None,  # type: ignore[arg-type]
        metrics_host=get("UWAGI_METRICS_HOST") or "127.0.0.1",
        staff_digest_hour=int(staff_digest_hour) if staff_digest_hour is not None else None,  # type: ignore[arg-type]
        trusted_proxies=int(trusted_proxies),  # type: ignore[arg-type]
        demo_token=get("UWAGI_DEMO_TOKEN"),
        demo_password=demo_password,
        token_ttl=int(token_ttl),  # type: ignore[arg-type]
        s3=s3,
        smtp=smtp,
        imap=imap,
        max_mail_bytes=int(max_mail_mb) * 1024 * 1024,  # type: ignore[arg-type]
        mail_banners=mail_banners,
        ocr_languages=ocr_languages,
        redis_url=str(redis_url) if redis_url else None,
        rate_limit_client=str(rate_limits["UWAGI_RATE_LIMIT_CLIENT"]),
        rate_limit_recipient=str(rate_limits["UWAGI_RATE_LIMIT_RECIPIENT"]),
    )
    if overrides:
        from dataclasses import replace

        settings = replace(settings, **overrides)  # type: ignore[arg-type]
    return settings


def load_settings_for_cli() -> Settings | None:
    """`load_settings()` for command lines: prints the problems and returns None instead of raising."""
    import sys

    try:
        return load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return None
